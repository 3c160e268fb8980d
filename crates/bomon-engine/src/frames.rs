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
use crate::review::{Comparator, Finding, Test};
use bomon_stats::Severity;

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
    // Every field the columns need, from one pass over the findings (each
    // some 150 bytes: a pass per column read them all eighteen times), the
    // rows split between the threads; the columns are then built from
    // these compact arrays.
    let mut x = Extracted::new(rows.len());
    x.parts().fill(rows, disclosure);
    let [value, reference, z, p, q, numerator, denominator] = x.f;
    let (dept, indicator, hidden, value_hidden) = (x.dept, x.indicator, x.hidden, x.value_hidden);
    // A column with the hidden rows null: the values and a validity mask
    // (no vector of options).
    let shown = |name: &str, mut values: Vec<f64>, hide: &[bool]| -> TableColumn {
        let validity = hide.iter().any(|&h| h).then(|| {
            for (v, &h) in values.iter_mut().zip(hide) {
                if h {
                    *v = 0.0;
                }
            }
            hide.iter().map(|&h| !h).collect()
        });
        TableColumn::Plain(
            Float64Chunked::from_vec_validity(name.into(), values, validity).into_column(),
        )
    };
    let ids: Vec<&str> = panel.depts.iter().map(|d| d.id.as_str()).collect();
    let names: Vec<&str> = panel.depts.iter().map(|d| d.name.as_str()).collect();
    let inds: Vec<&str> = panel.indicators.iter().map(String::as_str).collect();
    fn of(v: &[u32]) -> impl Iterator<Item = Option<usize>> + '_ {
        v.iter().map(|&c| Some(c as usize))
    }
    let plain = |name: &str, v: Vec<f64>| TableColumn::Plain(Column::new(name.into(), v));
    // Eighteen columns, built in parallel, each from its compact array.
    type Once<'a> = Box<dyn FnOnce() -> TableColumn + Send + 'a>;
    let builders: Vec<Once<'_>> = vec![
        Box::new(|| TableColumn::coded("department_id", &ids, of(&dept))),
        Box::new(|| TableColumn::coded("department_name", &names, of(&dept))),
        Box::new(|| TableColumn::coded("period", &[period], dept.iter().map(|_| Some(0)))),
        Box::new(|| TableColumn::coded("indicator", &inds, of(&indicator))),
        Box::new(|| TableColumn::interned("test", x.test.iter().map(|t| Some(t.name())))),
        Box::new(|| {
            TableColumn::interned("comparator", x.comparator.iter().map(|c| Some(c.name())))
        }),
        Box::new(|| shown("value", value, &value_hidden)),
        Box::new(|| plain("reference", reference)),
        Box::new(|| shown("z", z, &hidden)),
        Box::new(|| shown("p", p, &hidden)),
        Box::new(|| shown("q", q, &hidden)),
        Box::new(|| {
            TableColumn::interned("severity", x.severity.iter().map(|s| s.map(|s| s.name())))
        }),
        Box::new(|| TableColumn::coded("direction", &directions, of(&indicator))),
        Box::new(|| shown("numerator", numerator, &hidden)),
        Box::new(|| plain("denominator", denominator)),
        Box::new(|| TableColumn::Plain(Column::new("suppressed".into(), hidden.clone()))),
        Box::new(|| TableColumn::interned("rule", x.rule.iter().copied())),
        Box::new(|| TableColumn::interned("attribution", x.attribution.iter().copied())),
    ];
    Ok(Table {
        columns: builders.into_par_iter().map(|b| b()).collect(),
    })
}

/// The fields of findings that [`findings_table`] publishes, one array per
/// field.
struct Extracted {
    dept: Vec<u32>,
    indicator: Vec<u32>,
    test: Vec<Test>,
    comparator: Vec<Comparator>,
    severity: Vec<Option<Severity>>,
    rule: Vec<Option<&'static str>>,
    attribution: Vec<Option<&'static str>>,
    /// value, reference, z, p, q, numerator, denominator.
    f: [Vec<f64>; 7],
    /// Built on a suppressed count (numerator).
    hidden: Vec<bool>,
    /// Hidden, or a change or slope from a suppressed count.
    value_hidden: Vec<bool>,
}

/// Mutable windows into an [`Extracted`]'s arrays, all over the same rows.
struct Parts<'a> {
    dept: &'a mut [u32],
    indicator: &'a mut [u32],
    test: &'a mut [Test],
    comparator: &'a mut [Comparator],
    severity: &'a mut [Option<Severity>],
    rule: &'a mut [Option<&'static str>],
    attribution: &'a mut [Option<&'static str>],
    f: [&'a mut [f64]; 7],
    hidden: &'a mut [bool],
    value_hidden: &'a mut [bool],
}

impl Extracted {
    fn new(n: usize) -> Self {
        Extracted {
            dept: vec![0; n],
            indicator: vec![0; n],
            test: vec![Test::Level; n],
            comparator: vec![Comparator::Peers; n],
            severity: vec![None; n],
            rule: vec![None; n],
            attribution: vec![None; n],
            f: std::array::from_fn(|_| vec![0.0; n]),
            hidden: vec![false; n],
            value_hidden: vec![false; n],
        }
    }

    fn parts(&mut self) -> Parts<'_> {
        let mut f = self.f.iter_mut();
        Parts {
            dept: &mut self.dept,
            indicator: &mut self.indicator,
            test: &mut self.test,
            comparator: &mut self.comparator,
            severity: &mut self.severity,
            rule: &mut self.rule,
            attribution: &mut self.attribution,
            f: std::array::from_fn(|_| f.next().expect("seven").as_mut_slice()),
            hidden: &mut self.hidden,
            value_hidden: &mut self.value_hidden,
        }
    }
}

impl<'a> Parts<'a> {
    /// The first `mid` rows and the rest.
    fn split_at(self, mid: usize) -> (Parts<'a>, Parts<'a>) {
        let (d0, d1) = self.dept.split_at_mut(mid);
        let (i0, i1) = self.indicator.split_at_mut(mid);
        let (t0, t1) = self.test.split_at_mut(mid);
        let (c0, c1) = self.comparator.split_at_mut(mid);
        let (s0, s1) = self.severity.split_at_mut(mid);
        let (r0, r1) = self.rule.split_at_mut(mid);
        let (a0, a1) = self.attribution.split_at_mut(mid);
        let (h0, h1) = self.hidden.split_at_mut(mid);
        let (v0, v1) = self.value_hidden.split_at_mut(mid);
        let mut lo: Vec<&'a mut [f64]> = Vec::with_capacity(7);
        let mut hi: Vec<&'a mut [f64]> = Vec::with_capacity(7);
        for col in self.f {
            let (x, y) = col.split_at_mut(mid);
            lo.push(x);
            hi.push(y);
        }
        let (mut lo, mut hi) = (lo.into_iter(), hi.into_iter());
        (
            Parts {
                dept: d0,
                indicator: i0,
                test: t0,
                comparator: c0,
                severity: s0,
                rule: r0,
                attribution: a0,
                f: std::array::from_fn(|_| lo.next().expect("seven")),
                hidden: h0,
                value_hidden: v0,
            },
            Parts {
                dept: d1,
                indicator: i1,
                test: t1,
                comparator: c1,
                severity: s1,
                rule: r1,
                attribution: a1,
                f: std::array::from_fn(|_| hi.next().expect("seven")),
                hidden: h1,
                value_hidden: v1,
            },
        )
    }

    /// Row k of every array from `rows[k]`, halves of many rows in parallel.
    fn fill(self, rows: &[&Finding], disclosure: Option<&Disclosure>) {
        const ALONE: usize = 1 << 16;
        if rows.len() > ALONE {
            let mid = rows.len() / 2;
            let (a, b) = self.split_at(mid);
            rayon::join(
                || a.fill(&rows[..mid], disclosure),
                || b.fill(&rows[mid..], disclosure),
            );
            return;
        }
        let Parts {
            dept,
            indicator,
            test,
            comparator,
            severity,
            rule,
            attribution,
            f,
            hidden,
            value_hidden,
        } = self;
        let [value, reference, z, p, q, numerator, denominator] = f;
        for (k, x) in rows.iter().enumerate() {
            dept[k] = x.dept as u32;
            indicator[k] = x.indicator as u32;
            test[k] = x.test;
            comparator[k] = x.comparator;
            severity[k] = x.severity;
            rule[k] = x.rule;
            attribution[k] = x.attribution;
            value[k] = x.value;
            reference[k] = x.reference;
            z[k] = x.z;
            p[k] = x.p;
            q[k] = x.q;
            numerator[k] = x.numerator;
            denominator[k] = x.denominator;
            let h = disclosure.is_some_and(|d| d.hides(x.numerator));
            hidden[k] = h;
            // A change or slope built on a suppressed count can reveal it
            // too (4 of 59 against 1 of 59 is a ratio of 4): its value is
            // not shown either.
            value_hidden[k] = h || disclosure.is_some_and(|d| d.hides(x.previous_numerator));
        }
    }
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
