//! The one place a run's results become tables: flags.csv/.parquet and
//! tests.parquet (published by bomon-report) and the store's `review_flags`
//! (recorded by [`crate::record`]) are all cut from [`findings`]; the
//! quarterly run's selection.csv and spc.parquet from [`selection`] and
//! [`spc_points`].

use std::collections::HashMap;

use bomon_store::{Catalogue, Direction, Table, TableColumn};
use bomon_vocab::Disclosure;
use polars::prelude::*;
use rayon::prelude::*;

use crate::data::Panel;
use crate::quarterly::{ChartRow, Quarterly};
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
    findings_table(rows, panel, catalogue, period, disclosure)?.to_frame()
}

/// [`findings`] with its string columns held as codes (for Parquet, written
/// as dictionary pages from the codes: tests.parquet).
pub fn findings_table(
    rows: &[&Finding],
    panel: &Panel,
    catalogue: &Catalogue,
    period: &str,
    disclosure: Option<&Disclosure>,
) -> PolarsResult<Table> {
    // Each indicator's direction looked up once, not once a row.
    let directions: Vec<&str> = panel
        .indicators
        .iter()
        .map(|id| {
            catalogue.get(id).map_or("", |x| match x.direction {
                Direction::LowerIsWorse => "lower_is_worse",
                Direction::HigherIsWorse => "higher_is_worse",
                Direction::Context => "context",
            })
        })
        .collect();
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
    // A column with the hidden rows null: the values and a validity mask
    // (no vector of options).
    let shown = |name: &str, v: &dyn Fn(&Finding) -> f64, hide: &[bool]| -> Column {
        let values: Vec<f64> = rows
            .iter()
            .zip(hide)
            .map(|(x, &h)| if h { 0.0 } else { v(x) })
            .collect();
        let validity = hide
            .iter()
            .any(|&h| h)
            .then(|| hide.iter().map(|&h| !h).collect());
        Float64Chunked::from_vec_validity(name.into(), values, validity).into_column()
    };
    let ids: Vec<&str> = panel.depts.iter().map(|d| d.id.as_str()).collect();
    let names: Vec<&str> = panel.depts.iter().map(|d| d.name.as_str()).collect();
    let inds: Vec<&str> = panel.indicators.iter().map(String::as_str).collect();
    // Eighteen columns of up to half a million rows: each a pass over the
    // findings, built in parallel.
    let f64s = |name: &'static str, get: fn(&Finding) -> f64| -> Build<'_> {
        Box::new(move || {
            Ok(TableColumn::Plain(Column::new(
                name.into(),
                rows.iter().map(|x| get(x)).collect::<Vec<_>>(),
            )))
        })
    };
    let hidden_f64s =
        |name: &'static str, get: fn(&Finding) -> f64, hide: &'static str| -> Build<'_> {
            let mask = if hide == "value" {
                &value_hidden
            } else {
                &hidden
            };
            Box::new(move || Ok(TableColumn::Plain(shown(name, &|x| get(x), mask))))
        };
    let builders: Vec<Build<'_>> = vec![
        Box::new(|| coded("department_id", &ids, rows.iter().map(|x| Some(x.dept)))),
        Box::new(|| coded("department_name", &names, rows.iter().map(|x| Some(x.dept)))),
        Box::new(|| coded("period", &[period], rows.iter().map(|_| Some(0)))),
        Box::new(|| coded("indicator", &inds, rows.iter().map(|x| Some(x.indicator)))),
        Box::new(|| interned("test", rows.iter().map(|x| Some(x.test.name())))),
        Box::new(|| interned("comparator", rows.iter().map(|x| Some(x.comparator.name())))),
        hidden_f64s("value", |x| x.value, "value"),
        f64s("reference", |x| x.reference),
        hidden_f64s("z", |x| x.z, "count"),
        hidden_f64s("p", |x| x.p, "count"),
        hidden_f64s("q", |x| x.q, "count"),
        Box::new(|| {
            interned(
                "severity",
                rows.iter().map(|x| x.severity.map(|s| s.name())),
            )
        }),
        Box::new(|| {
            coded(
                "direction",
                &directions,
                rows.iter().map(|x| Some(x.indicator)),
            )
        }),
        hidden_f64s("numerator", |x| x.numerator, "count"),
        f64s("denominator", |x| x.denominator),
        Box::new(|| {
            Ok(TableColumn::Plain(Column::new(
                "suppressed".into(),
                hidden.clone(),
            )))
        }),
        Box::new(|| interned("rule", rows.iter().map(|x| x.rule))),
        Box::new(|| interned("attribution", rows.iter().map(|x| x.attribution))),
    ];
    in_parallel(&builders)
}

/// The quarterly selection with each department's status, and per indicator
/// which chart judged it (`judged`: `move_out_rate:deciding ...`) or why it
/// was not judged (`not_judged`: `vacancy:missing ...`) (selection.csv).
pub fn selection(q: &Quarterly, panel: &Panel) -> PolarsResult<DataFrame> {
    // "indicator:code ..." per department from (dept, indicator, code), in
    // one pass over each list.
    let by_dept = |all: &mut dyn Iterator<Item = (usize, usize, &str)>| {
        let mut out: HashMap<usize, String> = HashMap::new();
        for (d, i, code) in all {
            let s = out.entry(d).or_default();
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&panel.indicators[i]);
            s.push(':');
            s.push_str(code);
        }
        out
    };
    let not_judged = by_dept(&mut q.not_judged.iter().map(|x| (x.0, x.1, x.2.name())));
    let judged = by_dept(&mut q.judged.iter().map(|x| (x.0, x.1, x.2.name())));
    let of = |m: &HashMap<usize, String>, d: usize| m.get(&d).cloned().unwrap_or_default();
    let sel = &q.selection;
    DataFrame::new(vec![
        Column::new(
            "department_id".into(),
            sel.iter()
                .map(|s| panel.depts[s.dept].id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "name".into(),
            sel.iter()
                .map(|s| panel.depts[s.dept].name.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "organisation".into(),
            sel.iter()
                .map(|s| panel.depts[s.dept].organisation.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "category".into(),
            sel.iter()
                .map(|s| s.category.as_deref())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "selected_because".into(),
            sel.iter().map(|s| s.reasons.join("; ")).collect::<Vec<_>>(),
        ),
        Column::new(
            "status".into(),
            q.status.iter().map(|s| s.name()).collect::<Vec<_>>(),
        ),
        Column::new(
            "judged".into(),
            sel.iter().map(|s| of(&judged, s.dept)).collect::<Vec<_>>(),
        ),
        Column::new(
            "not_judged".into(),
            sel.iter()
                .map(|s| of(&not_judged, s.dept))
                .collect::<Vec<_>>(),
        ),
    ])
}

/// A column to build.
type Build<'a> = Box<dyn Fn() -> PolarsResult<TableColumn> + Sync + 'a>;

/// A table of the columns `builders` build, built in parallel (each
/// column is a pass over up to a million rows).
fn in_parallel(builders: &[Build<'_>]) -> PolarsResult<Table> {
    Ok(Table {
        columns: builders
            .par_iter()
            .map(|b| b())
            .collect::<PolarsResult<Vec<_>>>()?,
    })
}

/// A string column from its distinct values and a code per row.
fn coded(
    name: &str,
    uniques: &[&str],
    codes: impl Iterator<Item = Option<usize>>,
) -> PolarsResult<TableColumn> {
    Ok(TableColumn::coded(name, uniques, codes))
}

/// A string column of few distinct values given row by row.
fn interned<'a>(
    name: &str,
    values: impl Iterator<Item = Option<&'a str>>,
) -> PolarsResult<TableColumn> {
    Ok(TableColumn::interned(name, values))
}

/// An iterator of `left` items, saying so: collected into one allocation
/// where a flattening iterator's hint would grow a vector by doubling.
#[derive(Clone)]
struct Exact<I> {
    it: I,
    left: usize,
}

impl<I: Iterator> Iterator for Exact<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let x = self.it.next()?;
        self.left = self.left.saturating_sub(1);
        Some(x)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// The quarterly charts' points (spc.parquet), for reports and notebooks;
/// a point built on a suppressed count carries no value.
pub fn spc_points(q: &Quarterly, panel: &Panel, disc: &Disclosure) -> PolarsResult<Table> {
    // Chart points, for reports and notebooks; suppressed numerators hidden.
    let hide = |n: f64| disc.hides(n);
    // The points as the departments' evaluations left them, read in
    // order with their number known (each column allocated once).
    let points = Exact {
        it: q.chart_points(),
        left: q.charts.iter().map(Vec::len).sum(),
    };
    let c = &points;
    // The quarters' labels once each (a national run has a million points
    // over some twenty quarters).
    let lo = c.clone().map(|r| r.quarter).min().unwrap_or(0);
    let hi = c.clone().map(|r| r.quarter).max().unwrap_or(-1);
    let labels: Vec<String> = (lo..=hi).map(crate::data::quarter_label).collect();
    // Ten columns of a million rows each: the strings gathered from their
    // few distinct values, all built in parallel.
    let ids: Vec<&str> = panel.depts.iter().map(|d| d.id.as_str()).collect();
    let inds: Vec<&str> = panel.indicators.iter().map(String::as_str).collect();
    let periods: Vec<&str> = labels.iter().map(String::as_str).collect();
    let f64s = |name: &'static str, get: fn(&ChartRow) -> f64| -> Build<'_> {
        Box::new(move || {
            Ok(TableColumn::Plain(Column::new(
                name.into(),
                c.clone().map(get).collect::<Vec<_>>(),
            )))
        })
    };
    let builders: Vec<Build<'_>> = vec![
        Box::new(|| coded("department_id", &ids, c.clone().map(|r| Some(r.dept)))),
        Box::new(|| coded("indicator", &inds, c.clone().map(|r| Some(r.indicator)))),
        Box::new(|| interned("chart", c.clone().map(|r| Some(r.chart)))),
        Box::new(|| {
            coded(
                "period",
                &periods,
                c.clone().map(|r| Some((r.quarter - lo) as usize)),
            )
        }),
        Box::new(|| {
            Ok(TableColumn::Plain(Column::new(
                "value".into(),
                c.clone()
                    .map(|r| (!(r.chart != "peers" && hide(r.numerator))).then_some(r.value))
                    .collect::<Vec<_>>(),
            )))
        }),
        f64s("centre", |r| r.centre),
        f64s("lower", |r| r.lower),
        f64s("upper", |r| r.upper),
        Box::new(|| {
            Ok(TableColumn::Plain(Column::new(
                "baseline".into(),
                c.clone().map(|r| r.baseline).collect::<Vec<_>>(),
            )))
        }),
        Box::new(|| interned("rule", c.clone().map(|r| r.rule))),
    ];
    in_parallel(&builders)
}
