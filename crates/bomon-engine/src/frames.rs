//! The one place findings become a table: flags.csv/.parquet and
//! tests.parquet (published by bomon-report) and the store's `review_flags`
//! (recorded by [`crate::record`]) are all cut from [`findings`].

use bomon_store::{Catalogue, Direction};
use bomon_vocab::Disclosure;
use polars::prelude::*;

use crate::data::Panel;
use crate::review::Finding;

/// The findings `rows` of a review of `period` as a table: department,
/// indicator, test, comparator, value and reference, z/p/q, severity,
/// direction, counts, rule and attribution.
///
/// With `disclosure` (every published file), a finding built on a
/// suppressed count shows no figure that could give the count away: value,
/// numerator, z, p and q are null (z and p invert to the count given the
/// denominator and the reference), and `suppressed` is true; the flag itself
/// and its severity stay. Without it (the store, which holds the counts
/// anyway), everything is kept.
pub fn findings(
    rows: &[&Finding],
    panel: &Panel,
    catalogue: &Catalogue,
    period: &str,
    disclosure: Option<&Disclosure>,
) -> PolarsResult<DataFrame> {
    let direction = |i: usize| {
        catalogue
            .get(&panel.indicators[i])
            .map_or("", |x| match x.direction {
                Direction::LowerIsWorse => "lower_is_worse",
                Direction::HigherIsWorse => "higher_is_worse",
                Direction::Context => "context",
            })
    };
    let hidden: Vec<bool> = rows
        .iter()
        .map(|x| disclosure.is_some_and(|d| d.hides(x.numerator)))
        .collect();
    // A change or slope built on a suppressed count can reveal it too (4 of
    // 59 against 1 of 59 is a ratio of 4): its value is not shown either.
    let value_hidden: Vec<bool> = rows
        .iter()
        .zip(&hidden)
        .map(|(x, &h)| h || disclosure.is_some_and(|d| d.hides(x.previous_numerator)))
        .collect();
    let shown = |v: &dyn Fn(&Finding) -> f64, hide: &[bool]| -> Vec<Option<f64>> {
        rows.iter()
            .zip(hide)
            .map(|(x, &h)| (!h).then(|| v(x)))
            .collect()
    };
    DataFrame::new(vec![
        Column::new(
            "department_id".into(),
            rows.iter()
                .map(|x| panel.depts[x.dept].id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "department_name".into(),
            rows.iter()
                .map(|x| panel.depts[x.dept].name.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new("period".into(), vec![period; rows.len()]),
        Column::new(
            "indicator".into(),
            rows.iter()
                .map(|x| panel.indicators[x.indicator].as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "test".into(),
            rows.iter().map(|x| x.test.name()).collect::<Vec<_>>(),
        ),
        Column::new(
            "comparator".into(),
            rows.iter().map(|x| x.comparator.name()).collect::<Vec<_>>(),
        ),
        Column::new("value".into(), shown(&|x| x.value, &value_hidden)),
        Column::new(
            "reference".into(),
            rows.iter().map(|x| x.reference).collect::<Vec<_>>(),
        ),
        Column::new("z".into(), shown(&|x| x.z, &hidden)),
        Column::new("p".into(), shown(&|x| x.p, &hidden)),
        Column::new("q".into(), shown(&|x| x.q, &hidden)),
        Column::new(
            "severity".into(),
            rows.iter()
                .map(|x| x.severity.map(|s| s.name()))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "direction".into(),
            rows.iter()
                .map(|x| direction(x.indicator))
                .collect::<Vec<_>>(),
        ),
        Column::new("numerator".into(), shown(&|x| x.numerator, &hidden)),
        Column::new(
            "denominator".into(),
            rows.iter().map(|x| x.denominator).collect::<Vec<_>>(),
        ),
        Column::new("suppressed".into(), hidden.clone()),
        Column::new(
            "rule".into(),
            rows.iter().map(|x| x.rule).collect::<Vec<_>>(),
        ),
        Column::new(
            "attribution".into(),
            rows.iter().map(|x| x.attribution).collect::<Vec<_>>(),
        ),
    ])
}
