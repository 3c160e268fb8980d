//! A review written into the store: its run, flags and triage as tables
//! (`reviews`, `review_flags`, `review_departments`), so analysts can query
//! past reviews and the assessment log can tell which prompts are open.

use bomon_store::StoredTable;
use polars::prelude::*;

use crate::data::Panel;
use crate::review::Review;
use crate::triage::Triage;
use crate::Error;

/// The id of a review: kind, period and scope (a re-run supersedes).
pub fn review_id(kind: &str, period: &str, scope: &str) -> String {
    format!("{kind}:{period}:{scope}")
}

/// What identifies a recorded review.
#[derive(Debug, Clone, Copy)]
pub struct ReviewRecord<'a> {
    /// Its id ([`review_id`]).
    pub id: &'a str,
    /// `annual` or `quarterly`.
    pub kind: &'a str,
    /// The scope's name.
    pub scope: &'a str,
    /// The snapshot reviewed.
    pub reviewed_snapshot: u32,
    /// The configuration's hash.
    pub config_sha256: &'a str,
}

/// The frames to commit for a finished review.
pub fn frames(
    rec: &ReviewRecord<'_>,
    review: &Review,
    triage: &[Triage],
    panel: &Panel,
    catalogue: &bomon_store::Catalogue,
) -> Result<Vec<(StoredTable, DataFrame)>, Error> {
    let ReviewRecord {
        id,
        kind,
        scope,
        reviewed_snapshot,
        config_sha256,
    } = *rec;
    let err = |e| Error::polars("recording the review", e);
    let flags: Vec<_> = review
        .findings
        .iter()
        .filter(|f| f.severity.is_some())
        .collect();
    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let reviews = DataFrame::new(vec![
        Column::new("review_id".into(), [id]),
        Column::new("kind".into(), [kind]),
        Column::new("period".into(), [review.period.as_str()]),
        Column::new("scope".into(), [scope]),
        Column::new("reviewed_snapshot".into(), [reviewed_snapshot as i32]),
        Column::new("created".into(), [created.as_str()]),
        Column::new("config_sha256".into(), [config_sha256]),
        Column::new("departments".into(), [review.scope.len() as i64]),
        Column::new("flags".into(), [flags.len() as i64]),
        Column::new(
            "expected_false_alarms".into(),
            [review.expected_false_alarms],
        ),
    ])
    .map_err(err)?;
    // The flags as published (frames::findings), without disclosure control
    // (the store holds the counts), in the columns of `review_flags`.
    let review_flags = crate::frames::findings(&flags, panel, catalogue, &review.period, None)
        .and_then(|df| {
            df.lazy()
                .select([
                    lit(id).alias("review_id"),
                    col("department_id"),
                    col("period"),
                    col("indicator"),
                    col("test"),
                    col("comparator"),
                    col("value"),
                    col("reference"),
                    col("z"),
                    col("q"),
                    col("severity"),
                    col("rule"),
                    col("attribution"),
                ])
                .collect()
        })
        .map_err(err)?;
    let m = triage.len();
    let departments = DataFrame::new(vec![
        Column::new("review_id".into(), vec![id; m]),
        Column::new(
            "department_id".into(),
            triage
                .iter()
                .map(|t| panel.depts[t.dept].id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new("period".into(), vec![review.period.as_str(); m]),
        Column::new(
            "rank".into(),
            triage.iter().map(|t| t.rank as i64).collect::<Vec<_>>(),
        ),
        Column::new(
            "score".into(),
            triage.iter().map(|t| t.score).collect::<Vec<_>>(),
        ),
        Column::new(
            "category".into(),
            triage
                .iter()
                .map(|t| t.category.as_deref())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "needs_assessment".into(),
            triage
                .iter()
                .map(|t| t.needs_assessment)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "reason".into(),
            triage.iter().map(|t| t.reason.as_str()).collect::<Vec<_>>(),
        ),
    ])
    .map_err(err)?;
    Ok(vec![
        (StoredTable::Reviews, reviews),
        (StoredTable::ReviewFlags, review_flags),
        (StoredTable::ReviewDepartments, departments),
    ])
}
