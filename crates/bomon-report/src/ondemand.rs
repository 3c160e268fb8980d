//! `bomon chart funnel|trend|spc|categories`: one chart on demand for a
//! briefing, computed from the store as a review would.

use bomon_engine::data::{self, parse_quarter};
use bomon_engine::peers::peer_groups;
use bomon_engine::quarterly::{quarterly, Selected};
use bomon_engine::review::{Comparator, Test, Thresholds};
use bomon_engine::ReviewConfig;
use bomon_stats::funnel::{Z95, Z998};
use bomon_store::{Catalogue, Store};

use crate::charts::Chart;
use crate::spec::{self, caption, Labels};
use crate::{tr, Disclosure};

/// Which chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The department among its peers in a year.
    Funnel,
    /// The department's years against the peer band and national public housing.
    Trend,
    /// The quarterly SPC chart.
    Spc,
    /// Category history.
    Categories,
}

/// What to draw.
pub struct Request<'a> {
    /// Chart kind.
    pub kind: Kind,
    /// Department id.
    pub department: &'a str,
    /// Indicator id (not for categories).
    pub indicator: Option<&'a str>,
    /// Year (funnel, trend) or quarter such as 2025Q3 (spc); default: the latest with data.
    pub period: Option<&'a str>,
    /// Snapshot (None = latest).
    pub snapshot: Option<u32>,
    /// Method.
    pub config: &'a ReviewConfig,
    /// Danish?
    pub danish: bool,
}

/// Builds the chart.
pub fn chart(store: &Store, catalogue: &Catalogue, r: &Request<'_>) -> Result<Chart, String> {
    let da = r.danish;
    let snap = store.snapshot(r.snapshot).map_err(|e| e.to_string())?;
    let disc = Disclosure {
        max_suppressed: r.config.max_suppressed_numerator,
    };
    let depts = data::load_departments(&snap).map_err(|e| e.to_string())?;
    let d = depts
        .iter()
        .position(|x| x.id == r.department)
        .ok_or_else(|| format!("unknown department \"{}\" (not in the store)", r.department))?;
    let synthetic = depts[d]
        .covariates
        .get("synthetic")
        .is_some_and(|v| *v >= 1.0);
    let cap = caption(
        &format!(
            "{}: bomon, snapshot {}",
            tr(da, "Kilde", "Source"),
            snap.id()
        ),
        synthetic,
        da,
    );
    let name = depts[d].name.clone();
    if r.kind == Kind::Categories {
        let h = data::category_history(&snap, &depts, &[d]).map_err(|e| e.to_string())?;
        let h = h.get(&d).cloned().unwrap_or_default();
        if h.is_empty() {
            return Err(format!(
                "no categories for department \"{}\" or its area",
                r.department
            ));
        }
        let l = Labels {
            indicator: "",
            department: &name,
            caption: cap,
            da,
        };
        return Ok(spec::categories(&h, &l));
    }
    let ind_id = r
        .indicator
        .ok_or("--indicator is required for this chart")?;
    let ind = catalogue.get(ind_id).ok_or_else(|| {
        format!("unknown indicator \"{ind_id}\": expected an id of the catalogue")
    })?;
    let label = if da {
        ind.label_da.clone()
    } else {
        ind.label_en.clone()
    };
    let l = Labels {
        indicator: &label,
        department: &name,
        caption: cap,
        da,
    };
    match r.kind {
        Kind::Funnel | Kind::Trend => {
            let year: i32 = match r.period {
                Some(p) => p.parse().map_err(|_| {
                    format!("--period: expected a year such as 2025, found \"{p}\"")
                })?,
                None => latest_year(&snap)?,
            };
            let first = year - r.config.slope_years.max(2) as i32 + 1;
            let panel = data::load(&snap, first, year, std::slice::from_ref(&ind.id))
                .map_err(|e| e.to_string())?;
            let (peers, covs) = peer_groups(&panel.depts, &[d], &r.config.peers);
            let members: Vec<usize> = peers[0].iter().map(|p| p.0).collect();
            let subject = spec::Subject {
                panel: &panel,
                kind: ind.kind,
                indicator: 0,
                dept: d,
                disc: &disc,
            };
            Ok(if r.kind == Kind::Funnel {
                // The level test against the peers, as a review of this one
                // department runs it (its overdispersion); the limits are the
                // plain 95 % / 99.8 % ones - no review, no correction for
                // the number of tests.
                let review = bomon_engine::review::annual(
                    &panel,
                    catalogue,
                    year,
                    &[d],
                    &peers,
                    covs,
                    r.config,
                );
                let f = review
                    .findings
                    .iter()
                    .find(|f| f.test == Test::Level && f.comparator == Comparator::Peers);
                let c = spec::Comparison {
                    comparator: Comparator::Peers,
                    units: members,
                    target: f.map_or(f64::NAN, |f| f.reference),
                    dispersion: f.map_or((1.0, 0.0), |f| f.dispersion),
                    thresholds: Thresholds {
                        alert: Z95,
                        alarm: Z998,
                    },
                    corrected: false,
                    direction: ind.direction,
                    config: r.config,
                };
                spec::funnel(&subject, &c, year, ind.denominator.as_deref(), &l)
            } else {
                spec::trend(&subject, &members, first..=year, None, &l)
            })
        }
        _ => {
            let p = r
                .period
                .ok_or("--period is required for spc (a quarter such as 2025Q3)")?;
            let t = parse_quarter(p).ok_or_else(|| {
                format!("--period: expected a quarter such as 2025Q3, found \"{p}\"")
            })?;
            let qc = &r.config.quarterly;
            let span = (qc.baseline_quarters + qc.monitor_quarters) as i32;
            let panel = data::load_quarterly(&snap, t - span, t, std::slice::from_ref(&ind.id))
                .map_err(|e| e.to_string())?;
            let sel = vec![Selected {
                dept: d,
                category: None,
                reasons: vec![],
            }];
            let (peers, covs) = peer_groups(&panel.depts, &[d], &r.config.peers);
            let q = quarterly(&panel, catalogue, t, sel, &peers, covs, r.config);
            if let Some(nj) = q.not_judged.first() {
                return Err(format!(
                    "no SPC chart of {ind_id} for {} at {p}: {} ({} baseline quarters)",
                    r.department,
                    nj.2.name(),
                    nj.3
                ));
            }
            let now = q
                .review
                .findings
                .iter()
                .any(|f| f.attribution == Some("own"));
            let subject = spec::Subject {
                panel: &panel,
                kind: ind.kind,
                indicator: 0,
                dept: d,
                disc: &disc,
            };
            spec::spc(&subject, &q, now, &l)
                .ok_or_else(|| format!("no quarterly figures of {ind_id} for {}", r.department))
        }
    }
}

fn latest_year(snap: &bomon_store::Snapshot<'_>) -> Result<i32, String> {
    snap.annual_years()
        .last()
        .copied()
        .ok_or_else(|| "the store holds no annual observations".to_string())
}
