//! The assessment log as the reviews and `bomon assess list` use it: every
//! entry per department, open prompts with their age, the letting
//! department's view of resident-composition findings, and what a new review
//! does with an earlier no-concern assessment.

use std::collections::HashMap;

use bomon_store::assess::{iso, parse_date, today};
use bomon_store::{Snapshot, StoredTable};
use polars::prelude::*;

use crate::Error;

/// Indicators of the resident composition (beboersammensætning), which the
/// letting department follows with the coordinator.
pub const RESIDENT_COMPOSITION: [&str; 7] = [
    "outside_labour_18_64",
    "basic_education_30_59",
    "income_ratio_15_64",
    "non_western",
    "convicted_18plus",
    "public_support",
    "single_provider_children",
];

/// One assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The reviewed period it answers.
    pub period: String,
    /// ISO date.
    pub assessed_on: String,
    /// Role of who assessed.
    pub role: String,
    /// Outcome.
    pub outcome: String,
    /// Note.
    pub note: String,
}

fn strs(df: &DataFrame, c: &str) -> Result<Vec<Option<String>>, Error> {
    Ok(bomon_store::frame::strings(df, c)?)
}

/// Every assessment per department id, oldest first (by date, then by the
/// snapshot that stored it: a later correction supersedes).
pub fn by_department(snap: &Snapshot<'_>) -> Result<HashMap<String, Vec<Assessment>>, Error> {
    let df = snap
        .table(StoredTable::Assessments)?
        .sort(["assessed_on", "snapshot"], Default::default())
        .collect()
        .map_err(|e| Error::polars("reading assessments", e))?;
    let (d, p, a, r, o, n) = (
        strs(&df, "department_id")?,
        strs(&df, "period")?,
        strs(&df, "assessed_on")?,
        strs(&df, "assessed_by_role")?,
        strs(&df, "outcome")?,
        strs(&df, "note")?,
    );
    let mut out: HashMap<String, Vec<Assessment>> = HashMap::new();
    for k in 0..df.height() {
        let Some(dep) = d[k].clone() else { continue };
        out.entry(dep).or_default().push(Assessment {
            period: p[k].clone().unwrap_or_default(),
            assessed_on: a[k].clone().unwrap_or_default(),
            role: r[k].clone().unwrap_or_default(),
            outcome: o[k].clone().unwrap_or_default(),
            note: n[k].clone().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// `bomon assess list`: the log (optionally one department), or with `open`
/// the prompts of recorded reviews that have no assessment yet, oldest first
/// with their age in days, or with `theme` the findings on a theme's
/// indicators with their assessment status.
pub fn list(
    snap: &Snapshot<'_>,
    department: Option<&str>,
    open: bool,
    theme: Option<&str>,
    overdue_days: i64,
) -> Result<DataFrame, Error> {
    let err = |e| Error::polars("assessment list", e);
    let log = by_department(snap)?;
    let done = |d: &str, p: &str| log.get(d).is_some_and(|v| v.iter().any(|a| a.period == p));
    let keep_dep = |d: &str| department.is_none_or(|x| x == d);
    let reviews = snap
        .table(StoredTable::Reviews)?
        .collect()
        .map_err(|e| Error::polars("reviews", e))?;
    let created: HashMap<String, String> = strs(&reviews, "review_id")?
        .into_iter()
        .zip(strs(&reviews, "created")?)
        .filter_map(|(a, b)| Some((a?, b?)))
        .collect();
    let age = |review: &str| -> Option<i64> {
        let c = created.get(review)?;
        parse_date(c.get(..10)?).map(|d| today() - d)
    };
    if let Some(t) = theme {
        if t != "resident_composition" {
            return Err(Error::Input(format!(
                "unknown theme \"{t}\": expected resident_composition"
            )));
        }
        let f = snap
            .table(StoredTable::ReviewFlags)?
            .collect()
            .map_err(|e| Error::polars("review flags", e))?;
        let (rid, dep, per, ind, test, sev) = (
            strs(&f, "review_id")?,
            strs(&f, "department_id")?,
            strs(&f, "period")?,
            strs(&f, "indicator")?,
            strs(&f, "test")?,
            strs(&f, "severity")?,
        );
        let mut rows: Vec<[String; 7]> = Vec::new();
        for k in 0..f.height() {
            let (Some(d), Some(i)) = (&dep[k], &ind[k]) else {
                continue;
            };
            if !RESIDENT_COMPOSITION.contains(&i.as_str()) || !keep_dep(d) {
                continue;
            }
            let p = per[k].clone().unwrap_or_default();
            let status = log
                .get(d)
                .and_then(|v| v.iter().rev().find(|a| a.period == p))
                .map_or("open".to_string(), |a| {
                    format!("{} ({})", a.outcome, a.assessed_on)
                });
            rows.push([
                rid[k].clone().unwrap_or_default(),
                p,
                d.clone(),
                i.clone(),
                test[k].clone().unwrap_or_default(),
                sev[k].clone().unwrap_or_default(),
                status,
            ]);
        }
        rows.sort();
        rows.dedup();
        let c = |k: usize, name: &str| {
            Column::new(
                name.into(),
                rows.iter().map(|r| r[k].clone()).collect::<Vec<_>>(),
            )
        };
        return DataFrame::new(vec![
            c(0, "review_id"),
            c(1, "period"),
            c(2, "department_id"),
            c(3, "indicator"),
            c(4, "test"),
            c(5, "severity"),
            c(6, "assessment"),
        ])
        .map_err(err);
    }
    if open {
        // A review is recorded whole in one snapshot (its reviews,
        // review_flags and review_departments rows), and a re-run of the same
        // review replaces it whole: the prompts are the rows asking for an
        // assessment written by the latest run of each review. Read so, only
        // those rows are read (the flag filters the files as they are
        // scanned) - not every department of every review ever recorded.
        let latest: HashMap<String, i64> = strs(&reviews, "review_id")?
            .into_iter()
            .zip(bomon_store::frame::floats(&reviews, "snapshot")?)
            .filter_map(|(r, s)| Some((r?, s as i64)))
            .collect();
        let rd = snap
            .history(StoredTable::ReviewDepartments)?
            .filter(col("needs_assessment"))
            .collect()
            .map_err(|e| Error::polars("review departments", e))?;
        let (rid, dep, per, reason) = (
            strs(&rd, "review_id")?,
            strs(&rd, "department_id")?,
            strs(&rd, "period")?,
            strs(&rd, "reason")?,
        );
        let written = bomon_store::frame::floats(&rd, "snapshot")?;
        let mut rows: Vec<(i64, String, String, String, String)> = Vec::new();
        for k in 0..rd.height() {
            let (Some(r), Some(d), Some(p)) = (&rid[k], &dep[k], &per[k]) else {
                continue;
            };
            if latest.get(r) != Some(&(written[k] as i64)) {
                continue;
            }
            if done(d, p) || !keep_dep(d) {
                continue;
            }
            rows.push((
                age(r).unwrap_or(0),
                r.clone(),
                p.clone(),
                d.clone(),
                reason[k].clone().unwrap_or_default(),
            ));
        }
        rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.3.cmp(&b.3)));
        return DataFrame::new(vec![
            Column::new(
                "age_days".into(),
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
            Column::new(
                "overdue".into(),
                rows.iter().map(|r| r.0 > overdue_days).collect::<Vec<_>>(),
            ),
            Column::new(
                "department_id".into(),
                rows.iter().map(|r| r.3.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "period".into(),
                rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "review_id".into(),
                rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "reason".into(),
                rows.iter().map(|r| r.4.clone()).collect::<Vec<_>>(),
            ),
        ])
        .map_err(err);
    }
    let mut rows: Vec<(String, Assessment, bool)> = Vec::new();
    for (d, v) in &log {
        if !keep_dep(d) {
            continue;
        }
        for (k, a) in v.iter().enumerate() {
            let superseded = v[k + 1..].iter().any(|b| b.period == a.period);
            rows.push((d.clone(), a.clone(), superseded));
        }
    }
    rows.sort_by(|a, b| {
        b.1.assessed_on
            .cmp(&a.1.assessed_on)
            .then_with(|| a.0.cmp(&b.0))
    });
    DataFrame::new(vec![
        Column::new(
            "department_id".into(),
            rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "period".into(),
            rows.iter().map(|r| r.1.period.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "assessed_on".into(),
            rows.iter()
                .map(|r| r.1.assessed_on.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "assessed_by_role".into(),
            rows.iter().map(|r| r.1.role.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "outcome".into(),
            rows.iter().map(|r| r.1.outcome.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "superseded".into(),
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        ),
        Column::new(
            "note".into(),
            rows.iter().map(|r| r.1.note.clone()).collect::<Vec<_>>(),
        ),
    ])
    .map_err(err)
}

/// Counts of the log for a report's front page: assessments done, prompts
/// open, and open ones older than `overdue_days`.
pub fn counts(snap: &Snapshot<'_>, overdue_days: i64) -> Result<(usize, usize, usize), Error> {
    let open = list(snap, None, true, None, overdue_days)?;
    let overdue = open
        .column("overdue")
        .ok()
        .and_then(|c| c.bool().ok().map(|b| b.sum().unwrap_or(0) as usize))
        .unwrap_or(0);
    let done: usize = by_department(snap)?.values().map(Vec::len).sum();
    Ok((done, open.height(), overdue))
}

/// The values of a department's flags in an earlier recorded review of
/// `period` (kind from the review id), per indicator: the worst value flagged.
pub fn flagged_then(
    snap: &Snapshot<'_>,
    department: &str,
    period: &str,
) -> Result<HashMap<String, f64>, Error> {
    let f = snap
        .table(StoredTable::ReviewFlags)?
        .filter(
            col("department_id")
                .eq(lit(department))
                .and(col("period").eq(lit(period)))
                .and(col("test").eq(lit("level")).or(col("test").eq(lit("spc")))),
        )
        .collect()
        .map_err(|e| Error::polars("review flags", e))?;
    let ind = strs(&f, "indicator")?;
    let val = bomon_store::frame::floats(&f, "value")?;
    let mut out: HashMap<String, f64> = HashMap::new();
    for (i, v) in ind.into_iter().zip(val) {
        if let Some(i) = i {
            let e = out.entry(i).or_insert(v);
            *e = e.max(v);
        }
    }
    Ok(out)
}

/// Today's date, ISO.
pub fn today_iso() -> String {
    iso(today())
}

/// What a new review does with the log: every department shows its latest
/// assessment; a prompt for the period already assessed is answered; a
/// department whose latest assessment found no concern is not prompted again
/// unless a flagged value has worsened by more than the configured margin
/// since that review (or a new indicator is flagged) - and then the reason
/// says so.
pub fn apply(
    snap: &Snapshot<'_>,
    review: &crate::review::Review,
    triage: &mut [crate::triage::Triage],
    panel: &crate::data::Panel,
    catalogue: &bomon_store::Catalogue,
    cfg: &crate::ReviewConfig,
    danish: bool,
) -> Result<HashMap<usize, Vec<Assessment>>, Error> {
    let log = by_department(snap)?;
    let mut out = HashMap::new();
    for t in triage.iter_mut() {
        let id = &panel.depts[t.dept].id;
        let Some(entries) = log.get(id) else { continue };
        out.insert(t.dept, entries.clone());
        let Some(last) = entries.last() else { continue };
        t.assessment = Some(format!(
            "{} ({}, {}, {} {})",
            last.outcome,
            last.assessed_on,
            last.role,
            if danish {
                "vurdering af"
            } else {
                "assessment of"
            },
            last.period
        ));
        if !t.needs_assessment {
            continue;
        }
        if last.period == review.period {
            t.needs_assessment = false;
            t.reason = format!(
                "{} {}: {}",
                if danish {
                    "Allerede vurderet"
                } else {
                    "Already assessed"
                },
                last.assessed_on,
                t.reason
            );
            continue;
        }
        if last.outcome != bomon_vocab::form::Outcome::NoConcern.code() {
            continue;
        }
        let then = flagged_then(snap, id, &last.period)?;
        let mut worse: Vec<String> = Vec::new();
        for f in review.findings.iter().filter(|f| {
            f.dept == t.dept
                && f.severity.is_some()
                && (f.test == crate::review::Test::Level || f.test == crate::review::Test::Spc)
        }) {
            let ind = &panel.indicators[f.indicator];
            let lower = catalogue
                .get(ind)
                .is_some_and(|x| x.direction == bomon_store::Direction::LowerIsWorse);
            let worsened = match then.get(ind) {
                None => true,
                Some(&v) if lower => f.value < v * (1.0 - cfg.assessment_margin),
                Some(&v) => f.value > v * (1.0 + cfg.assessment_margin),
            };
            if worsened && !worse.contains(ind) {
                worse.push(ind.clone());
            }
        }
        if worse.is_empty() {
            t.needs_assessment = false;
            t.reason = format!(
                "{} {} ({}); {}: {}",
                if danish {
                    "Vurderet uden bekymring"
                } else {
                    "Assessed as no concern"
                },
                last.assessed_on,
                last.role,
                if danish {
                    "ikke forværret siden"
                } else {
                    "not worse since"
                },
                t.reason
            );
        } else {
            t.reason = format!(
                "{} {} ({}): {}",
                if danish {
                    "Forværret siden vurderingen uden bekymring"
                } else {
                    "Worse since the no-concern assessment of"
                },
                last.assessed_on,
                worse.join(", "),
                t.reason
            );
        }
    }
    Ok(out)
}
