//! The quarterly follow-up of at-risk departments: per department and
//! quarterly indicator three SPC charts over a rolling window of quarters,
//! a one-sided CUSUM early warning, and the department against its peers'
//! pooled rate for the same quarter.
//!
//! The charts, for the quarter reviewed `t`:
//! - **relative to peers** (the deciding chart): the department's observed
//!   count O against the count expected at its peers' pooled rate for the
//!   same quarter, E = denominator x peer rate, drawn as a Laney U' chart of
//!   O/E. Its centre is the department's usual ratio to its peers in the frozen
//!   baseline, so a department that is always somewhat above its peers is not
//!   a signal (the annual review judges levels); a shift in that ratio is.
//!   Each quarter is judged by the exact gamma-Poisson (mid-p) tail of O
//!   around centre x E with the nationally pooled between-quarter variance
//!   tau^2 (a probit z beyond 3 is an alarm), and a one-sided CUSUM of that z
//!   gives the early-warning alert.
//!   Seasonality and shifts that all peers share (a city-wide change, a new
//!   national rule) cancel in O/E by construction.
//! - **own history**: the department's rate, deseasonalised (below), as a
//!   Laney P' chart (shares) or U' chart (rates), or XmR for plain values.
//! - **peers' pooled series**, charted the same way.
//!
//! A signal on the relative chart in the concerning direction is the
//! department's own (attribution `own`); a signal on its own history that the
//! relative chart does not show while the peers' series signals too is
//! reported as `shared`. Improvements never raise a flag.
//!
//! Seasonality: the own-history and peer charts divide each quarter's
//! denominator by a national seasonal factor (pooled rate of that quarter of
//! the year over the pooled rate of the window, across all departments in the
//! store). A department's own 12 baseline quarters hold only three of each
//! quarter of the year - too few to estimate its own pattern - while the
//! national pattern is estimated from thousands of departments. The deciding
//! relative chart needs no adjustment: the peers share the season.

use std::collections::HashMap;

use bomon_stats::cusum::{window_flag_probability, CountCusum};
use bomon_stats::dist::{nb_lower_midp, nb_midp_beyond, nb_upper_midp, pnorm, qnorm};
use bomon_stats::funnel::Worse;
use bomon_stats::overdispersion::{phi, winsorise};
use bomon_stats::scan::{scan_flag_probability, scan_windows, ScanSeries};
use bomon_stats::spc::{anhoej_limits, spc, Chart, Rule, Rules, Spc, SpcOptions};
use bomon_stats::Severity;
use bomon_store::{Catalogue, Direction, Kind};
use rayon::prelude::*;

use crate::config::{QuarterlyConfig, ReviewConfig};
use crate::data::{parse_quarter, quarter_label, InForce, Panel};
use crate::peers::PeerGroup;
use crate::review::{Comparator, Finding, Review, Test};

/// A department selected for the follow-up, and why.
#[derive(Debug, Clone)]
pub struct Selected {
    /// Department index in the panel.
    pub dept: usize,
    /// Category in force, if any.
    pub category: Option<String>,
    /// Reasons, in words (`area A0001 orange (2025)`, `added by hand: ...`).
    pub reasons: Vec<String>,
}

/// Departments whose category in force (their own or their area's) is one of
/// `cfg.categories`, plus those added by hand. An unknown department added by
/// hand is an error naming it.
pub fn select(
    panel: &Panel,
    in_force: &[Option<InForce>],
    cfg: &QuarterlyConfig,
) -> Result<Vec<Selected>, String> {
    let mut out: Vec<Selected> = Vec::new();
    for (d, c) in in_force.iter().enumerate() {
        if let Some(c) = c {
            if cfg.categories.iter().any(|x| x == &c.category) {
                let why = match &c.area {
                    Some(a) => format!("area {a} {} ({})", c.category, c.period),
                    None => format!("department {} ({})", c.category, c.period),
                };
                out.push(Selected {
                    dept: d,
                    category: Some(c.category.clone()),
                    reasons: vec![why],
                });
            }
        }
    }
    for inc in &cfg.include {
        let Some(d) = panel.depts.iter().position(|x| x.id == inc.department) else {
            return Err(format!(
                "quarterly.include: department \"{}\" is not in the store",
                inc.department
            ));
        };
        let why = format!("added by hand: {}", inc.reason);
        match out.iter_mut().find(|s| s.dept == d) {
            Some(s) => s.reasons.push(why),
            None => out.push(Selected {
                dept: d,
                category: in_force[d].as_ref().map(|c| c.category.clone()),
                reasons: vec![why],
            }),
        }
    }
    out.sort_by(|a, b| panel.depts[a.dept].id.cmp(&panel.depts[b.dept].id));
    Ok(out)
}

/// One point of a chart, for reports.
#[derive(Debug, Clone)]
pub struct ChartRow {
    /// Department index.
    pub dept: usize,
    /// Indicator index.
    pub indicator: usize,
    /// `own` (deseasonalised rate), `deciding` (the department against its
    /// peers on the rate scale: rate, expected rate, alarm line),
    /// `peers_rate` (the peers' pooled rate of the quarter), or `relative`
    /// (O/E against peers, normal-theory limits) when its run rules decide.
    /// A series without a peer rate has its own chart only.
    pub chart: &'static str,
    /// Quarter index.
    pub quarter: i32,
    /// Plotted value.
    pub value: f64,
    /// Centre line.
    pub centre: f64,
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
    /// True for baseline quarters.
    pub baseline: bool,
    /// The rule marking the point, if any.
    pub rule: Option<&'static str>,
    /// Whether the rule's signal lies in the worse direction.
    pub concern: bool,
    /// Numerator (for disclosure control).
    pub numerator: f64,
}

/// A followed department's state this quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// A signal of its own, not there last quarter.
    New,
    /// A signal of its own, there last quarter too.
    Persisting,
    /// Flagged last quarter, not now.
    Resolved,
    /// A development it shares with its peers (their series signals too).
    Shared,
    /// Nothing.
    None,
    /// No indicator could be judged (series too short, too rare or missing).
    TooShort,
}

impl Status {
    /// Every status, in the report's order.
    pub const ALL: [Status; 6] = [
        Status::New,
        Status::Persisting,
        Status::Resolved,
        Status::Shared,
        Status::None,
        Status::TooShort,
    ];

    /// The code in selection.csv and the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Persisting => "persisting",
            Status::Resolved => "resolved",
            Status::Shared => "shared",
            Status::None => "none",
            Status::TooShort => "too_short",
        }
    }
}

/// Why a chart could not be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotJudged {
    /// Fewer baseline quarters than the minimum.
    TooShort,
    /// Too few events per quarter (only with `quarterly.min_events` set:
    /// by default every series with figures is followed).
    TooRare,
    /// No figure for the quarter reviewed.
    Missing,
    /// A configured rebase left fewer baseline quarters than the minimum.
    Rebased,
}

impl NotJudged {
    /// Name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            NotJudged::TooShort => "too_short",
            NotJudged::TooRare => "too_rare",
            NotJudged::Missing => "missing",
            NotJudged::Rebased => "rebased",
        }
    }
}

/// Which chart judged a followed series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JudgedBy {
    /// The deciding chart against the peers' rate (with the CUSUM).
    Deciding,
    /// The department's own history (plain values, or no peers).
    OwnHistory,
}

impl JudgedBy {
    /// Name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            JudgedBy::Deciding => "deciding",
            JudgedBy::OwnHistory => "own_history",
        }
    }
}

/// The follow-up's result.
#[derive(Debug, Clone)]
pub struct Quarterly {
    /// Findings etc., as in the annual review (`flagged_last_year` holds last
    /// quarter's own flags).
    pub review: Review,
    /// The selection.
    pub selection: Vec<Selected>,
    /// Per selected department: `new`, `persisting`, `resolved`, `shared`,
    /// `none` or `too_short` (same order as `selection`).
    pub status: Vec<Status>,
    /// Charts of the departments evaluated, per selected department (same
    /// order as `selection`), each indicator's points together - kept as
    /// each department's evaluation wrote them (a national run's million
    /// points are not copied into one vector).
    pub charts: Vec<Vec<ChartRow>>,
    /// Where each (department, indicator)'s points lie: which of `charts`,
    /// and where in it.
    pub chart_ranges: HashMap<(usize, usize), (usize, std::ops::Range<usize>)>,
    /// Charts not judged: (dept, indicator, why, baseline quarters found).
    pub not_judged: Vec<(usize, usize, NotJudged, usize)>,
    /// Series judged: (dept, indicator, by which chart).
    pub judged: Vec<(usize, usize, JudgedBy)>,
    /// National seasonal factors per indicator (quarters 1-4).
    pub seasonal: Vec<[f64; 4]>,
    /// Pooled dispersion per indicator.
    pub dispersion: Vec<Dispersion>,
}

impl Quarterly {
    /// The chart points of one department and indicator.
    pub fn charts_of(&self, dept: usize, indicator: usize) -> &[ChartRow] {
        self.chart_ranges
            .get(&(dept, indicator))
            .map_or(&[], |(k, r)| &self.charts[*k][r.clone()])
    }

    /// Every chart point, department by department.
    pub fn chart_points(&self) -> impl Iterator<Item = &ChartRow> + Clone {
        self.charts.iter().flatten()
    }
}

/// National multiplicative seasonal factors per indicator over the quarters
/// `from..=to`: the pooled rate of each quarter of the year over the pooled
/// rate of all quarters, normalised to mean 1. Plain values get 1.
pub fn seasonal_factors(panel: &Panel, i: usize, from: i32, to: i32) -> [f64; 4] {
    let mut n = [0.0; 4];
    let mut d = [0.0; 4];
    for dep in 0..panel.depts.len() {
        for q in from..=to {
            let (a, b) = panel.get(i, dep, q);
            if a.is_finite() && b > 0.0 {
                n[q.rem_euclid(4) as usize] += a;
                d[q.rem_euclid(4) as usize] += b;
            }
        }
    }
    let r: Vec<f64> = (0..4).map(|k| n[k] / d[k]).collect();
    if r.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
        return [1.0; 4];
    }
    let m = r.iter().sum::<f64>() / 4.0;
    [r[0] / m, r[1] / m, r[2] / m, r[3] / m]
}

/// The between-quarter variance of indicator `i` beyond Poisson noise, on
/// the relative scale, pooled over every department in the panel: the
/// variance with which a department's later quarters deviate from what its
/// own baseline predicts. Each department's ratio R to the national rate of
/// the same quarter is estimated on the `base` quarters (first..=last); on
/// the `check` quarters its counts O_q are compared with mu_q = R E_q, and
/// tau^2 = sum ((O_q - mu_q)^2 - mu_q) / sum mu_q^2
/// (the additive random-effects moment estimator of DerSimonian and Laird,
/// over quarters instead of units). Measured out of sample, it holds
/// everything that makes a later quarter differ from the baseline besides
/// Poisson noise - year-to-year swings, slow drift, the baseline mean's own
/// error - so the deciding chart's limits are calibrated on what is normal
/// nationally (an empirical null). Without check quarters the baseline
/// itself is used, with the m/(m-1) correction. Large departments dominate
/// the estimate, as they should.
pub fn between_variance(
    panel: &Panel,
    i: usize,
    base: (i32, i32),
    check: (i32, i32),
) -> Dispersion {
    let (from, to) = (base.0.min(check.0), base.1.max(check.1));
    let nq = (to - from + 1).max(0) as usize;
    let mut rn = vec![0.0; nq];
    let mut rd = vec![0.0; nq];
    let ok = |a: f64, b: f64| a.is_finite() && b > 0.0;
    for d in 0..panel.depts.len() {
        for (k, q) in (from..=to).enumerate() {
            let (a, b) = panel.get(i, d, q);
            if ok(a, b) {
                rn[k] += a;
                rd[k] += b;
            }
        }
    }
    let rate: Vec<f64> = rn.iter().zip(&rd).map(|(a, b)| a / b).collect();
    let in_sample = check.1 < check.0;
    let (mut num, mut den) = (0.0, 0.0);
    let point = |d: usize, q: i32| -> Option<(f64, f64)> {
        let (a, b) = panel.get(i, d, q);
        let r = rate[(q - from) as usize];
        (ok(a, b) && r > 0.0).then_some((a, b * r))
    };
    // Each department's baseline: its points and its ratio of observed to
    // expected (None with fewer than 4 points or no event), found once for
    // the three pooled estimates below.
    let fits: Vec<Option<(usize, f64)>> = (0..panel.depts.len())
        .map(|d| {
            let (mut so, mut se, mut m) = (0.0, 0.0, 0usize);
            for (o, e) in (base.0..=base.1).filter_map(|q| point(d, q)) {
                so += o;
                se += e;
                m += 1;
            }
            (m >= 4 && so > 0.0).then(|| (m, so / se))
        })
        .collect();
    for (d, fit) in fits.iter().enumerate() {
        let Some((m, r)) = *fit else { continue };
        if in_sample {
            let m = m as f64;
            for (o, e) in (base.0..=base.1).filter_map(|q| point(d, q)) {
                let mu = r * e;
                num += (o - mu).powi(2) * m / (m - 1.0) - mu;
                den += mu * mu;
            }
        } else {
            for (o, e) in (check.0..=check.1).filter_map(|q| point(d, q)) {
                let mu = r * e;
                num += (o - mu).powi(2) - mu;
                den += mu * mu;
            }
        }
    }
    let tau2 = if den > 0.0 { (num / den).max(0.0) } else { 0.0 };
    // Lag-1 autocorrelation of the standardised out-of-sample residuals,
    // pooled: quarters of the same year tend to run high or low together.
    let (mut sxy, mut sxx) = (0.0, 0.0);
    if !in_sample {
        let mut z = Vec::new();
        for (d, fit) in fits.iter().enumerate() {
            let Some((_, r)) = *fit else { continue };
            z.clear();
            z.extend((check.0..=check.1).map(|q| {
                point(d, q).map_or(f64::NAN, |(o, e)| {
                    let mu = r * e;
                    (o - mu) / (mu + tau2 * mu * mu).sqrt()
                })
            }));
            for w in z.windows(2) {
                if w[0].is_finite() && w[1].is_finite() {
                    sxy += w[0] * w[1];
                    sxx += 0.5 * (w[0] * w[0] + w[1] * w[1]);
                }
            }
        }
    }
    Dispersion {
        tau2,
        rho: if sxx > 0.0 {
            (sxy / sxx).clamp(0.0, 0.9)
        } else {
            0.0
        },
        lag_cov: if in_sample {
            [tau2, 0.0, 0.0, 0.0]
        } else {
            lag_covariance(&point, &fits, check, tau2).unwrap_or([tau2, 0.0, 0.0, 0.0])
        },
    }
}

/// The beyond-Poisson covariance of a department's relative departures
/// x_q = O_q / mu_q - 1 at lags 0..=3, from the check quarters, by the
/// variogram: for two quarters l apart,
/// E[(x_j - x_k)^2] = 1/mu_j + 1/mu_k + 2 (c(0) - c(l)),
/// which neither the department's level nor the baseline's error enters.
/// c(0) is the semivariogram's level at lags 4 and more (quarters of
/// different years; a department's slow drift adds a little to it), and
/// c(l) = c(0) - gamma(l) for l = 1..3, floored at 0. Each pair is weighted
/// by the inverse of its squared difference's variance,
/// 1 / (1/mu_j + 1/mu_k + 2 pilot)^2 with the pooled tau^2 as pilot: large
/// departments count more than small ones, but no handful of the largest
/// (or of those with a real shift) carries the estimate, and a pair's
/// squared difference is capped at 10 times its expected size. None with fewer
/// than 5 check quarters (no long lags).
fn lag_covariance(
    point: &dyn Fn(usize, i32) -> Option<(f64, f64)>,
    fits: &[Option<(usize, f64)>],
    check: (i32, i32),
    pilot: f64,
) -> Option<[f64; 4]> {
    // A squared difference beyond 10 times its expected size (chi-square
    // with 1 degree of freedom: 0.16 % beyond) is capped there, so that
    // the few departments with a real shift in the check quarters do not
    // widen everyone's limits (the cap's bias on in-control data is 0.3 %).
    const CAP: f64 = 10.0;
    let span = (check.1 - check.0 + 1).max(0) as usize;
    let mut num = vec![0.0; span];
    let mut den = vec![0.0; span];
    let mut xs: Vec<Option<(f64, f64)>> = Vec::with_capacity(span);
    for (d, fit) in fits.iter().enumerate() {
        let Some((_, r)) = *fit else { continue };
        xs.clear();
        xs.extend(
            (check.0..=check.1).map(|q| point(d, q).map(|(o, e)| (o / (r * e) - 1.0, r * e))),
        );
        for j in 0..span {
            let Some((xj, mj)) = xs[j] else { continue };
            for (l, xk) in xs.iter().enumerate().skip(j + 1) {
                let Some((xk, mk)) = *xk else { continue };
                let v = 1.0 / mj + 1.0 / mk + 2.0 * pilot;
                let w = 1.0 / (v * v);
                let d2 = (xj - xk).powi(2).min(CAP * v);
                num[l - j] += w * (d2 - 1.0 / mj - 1.0 / mk) / 2.0;
                den[l - j] += w;
            }
        }
    }
    let gamma = |l: usize| (den[l] > 0.0).then(|| num[l] / den[l]);
    let (ln, ld) = (4..span).fold((0.0, 0.0), |(a, b), l| (a + num[l], b + den[l]));
    let c0 = (ld > 0.0).then(|| (ln / ld).max(0.0))?;
    let mut c = [c0, 0.0, 0.0, 0.0];
    for (l, v) in c.iter_mut().enumerate().skip(1) {
        *v = gamma(l).map_or(0.0, |g| (c0 - g).clamp(0.0, c0));
    }
    Some(c)
}

/// The nationally pooled dispersion of an indicator's quarterly counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Dispersion {
    /// Between-quarter variance beyond Poisson, relative scale.
    pub tau2: f64,
    /// Lag-1 autocorrelation of the standardised residuals (0 to 0.9).
    pub rho: f64,
    /// Beyond-Poisson covariance of a department's relative departures at
    /// lags 0..=3 quarters (out of sample, without the baseline's error):
    /// the early warning's variance model.
    pub lag_cov: [f64; 4],
}

/// The deciding chart's pooled variance for a run at quarter `t`: baseline
/// as a chart's default window has it, checked on the quarters after it up
/// to the one before `t` (the quarter reviewed never calibrates itself).
fn pooled_variance(panel: &Panel, i: usize, t: i32, qc: &QuarterlyConfig) -> Dispersion {
    let span = (qc.baseline_quarters + qc.monitor_quarters) as i32;
    let from = (t - span + 1).max(panel.first_year);
    let base_end = (from + qc.baseline_quarters as i32 - 1).min(t - 1);
    between_variance(panel, i, (from, base_end), (base_end + 1, t - 1))
}

/// The signal of a chart at its last point, in the concerning direction:
/// a point beyond the 3-sigma limits (alarm), or a run-rule signal that
/// includes the last point (alert).
fn last_signal(
    c: &Spc,
    baseline_end: usize,
    worse: Worse,
    rules: Rules,
    run_rules: bool,
) -> Option<(&'static str, Severity)> {
    let n = c.points.len();
    let p = c.points.last()?;
    let up = worse == Worse::Higher;
    let concern_side = |v: f64, centre: f64| if up { v > centre } else { v < centre };
    if p.value.is_finite()
        && (if up {
            p.value > p.upper
        } else {
            p.value < p.lower
        })
    {
        return Some((Rule::OutsideLimits.name(), Severity::Alarm));
    }
    if !run_rules || n <= baseline_end || !p.value.is_finite() {
        return None;
    }
    match rules {
        Rules::Anhoej => {
            // The current run on the concerning side, ending with the last
            // point, longer than Anhøj's limit for the chart's useful points.
            let useful = c
                .points
                .iter()
                .filter(|q| q.value.is_finite() && q.value != q.centre)
                .count();
            let (longest_max, _) = anhoej_limits(useful);
            let mut run = 0;
            for q in c.points.iter().rev() {
                if !q.value.is_finite() || q.value == q.centre {
                    continue;
                }
                if concern_side(q.value, q.centre) {
                    run += 1;
                } else {
                    break;
                }
            }
            (run > longest_max).then_some((Rule::LongestRun.name(), Severity::Alert))
        }
        Rules::Nhs => match (p.rule, p.concern) {
            (Some(r), Some(true)) if r != Rule::OutsideLimits => Some((r.name(), Severity::Alert)),
            _ => None,
        },
    }
}

/// Standardised distance of a chart's last point from its centre (sigma
/// units), positive in the worse direction.
fn z_last(c: &Spc, worse: Worse) -> f64 {
    c.points
        .last()
        .map_or(f64::NAN, |p| z_point(p.value, p.centre, p.upper, worse))
}

fn z_point(v: f64, centre: f64, upper: f64, worse: Worse) -> f64 {
    let sigma = (upper - centre) / 3.0;
    let z = (v - centre) / sigma;
    if worse == Worse::Higher {
        z
    } else {
        -z
    }
}

/// What one department and indicator gave at one quarter.
#[derive(Debug, Default)]
struct Eval {
    findings: Vec<Finding>,
    charts: Vec<ChartRow>,
    not_judged: Option<(NotJudged, usize)>,
    judged_by: Option<JudgedBy>,
    own_flag: bool,
    shared_flag: bool,
    charts_run: usize,
    /// The deciding chart's standard error at the last quarter, in events.
    se_events: f64,
}

struct Ctx<'a> {
    panel: &'a Panel,
    qc: &'a QuarterlyConfig,
    rules: Rules,
}

/// One department and indicator followed up: who, against whom, and how.
#[derive(Clone, Copy)]
struct Case<'a> {
    /// Indicator index.
    i: usize,
    /// Department index.
    d: usize,
    /// Its peers.
    peers: &'a [usize],
    /// National seasonal factors of the indicator.
    season: &'a [f64; 4],
    /// A rebased baseline's first quarter, if configured.
    rebase: Option<i32>,
    kind: Kind,
    worse: Worse,
    /// The national between-department dispersion.
    disp: Dispersion,
}

/// The quarters a case is judged on: its own series from the first usable
/// quarter (after a rebase) to `t`, the first `baseline_quarters` of them
/// the frozen baseline.
struct Window {
    /// The quarters, first to `t`.
    qs: Vec<i32>,
    /// End of the baseline (exclusive): baseline is qs[..base_len].
    be: i32,
    base_len: usize,
    /// Numerators and denominators per quarter.
    o: Vec<f64>,
    dn: Vec<f64>,
}

impl Window {
    fn last(&self) -> usize {
        self.qs.len() - 1
    }
}

impl Case<'_> {
    /// Whether department `dep` has a usable figure at quarter `q`.
    fn has(&self, panel: &Panel, dep: usize, q: i32) -> bool {
        let (a, b) = panel.get(self.i, dep, q);
        a.is_finite() && (b > 0.0 || (b.is_nan() && self.kind.is_value()))
    }

    /// The window to judge at `t`, or why the case is not judged.
    fn window(&self, ctx: &Ctx<'_>, t: i32) -> Result<Window, (NotJudged, usize)> {
        let (panel, qc, d) = (ctx.panel, ctx.qc, self.d);
        if !self.has(panel, d, t) {
            return Err((NotJudged::Missing, 0));
        }
        let span = (qc.baseline_quarters + qc.monitor_quarters) as i32;
        let mut s = (t - span + 1).max(panel.first_year);
        let mut rebased = false;
        if let Some(r) = self.rebase.filter(|&r| r <= t) {
            rebased = r > s;
            s = s.max(r);
        }
        while s < t && !self.has(panel, d, s) {
            s += 1;
        }
        let be = (s + qc.baseline_quarters as i32).min(t);
        let nb = (s..be).filter(|&q| self.has(panel, d, q)).count();
        if nb < qc.min_baseline_quarters {
            let why = if rebased {
                NotJudged::Rebased
            } else {
                NotJudged::TooShort
            };
            return Err((why, nb));
        }
        let qs: Vec<i32> = (s..=t).collect();
        let o: Vec<f64> = qs.iter().map(|&q| panel.get(self.i, d, q).0).collect();
        let dn: Vec<f64> = qs.iter().map(|&q| panel.get(self.i, d, q).1).collect();
        let base_len = (be - s) as usize;
        let base_events: f64 =
            o[..base_len].iter().filter(|x| x.is_finite()).sum::<f64>() / nb as f64;
        if !self.kind.is_value() && qc.min_events > 0.0 && base_events < qc.min_events {
            return Err((NotJudged::TooRare, nb));
        }
        Ok(Window {
            qs,
            be,
            base_len,
            o,
            dn,
        })
    }

    /// The peers' pooled numerators and denominators per quarter of `w`:
    /// each quarter's summed over the peers in order, peer by peer along
    /// each one's row of quarters (not quarter by quarter across the rows).
    fn peer_series(&self, panel: &Panel, w: &Window) -> (Vec<f64>, Vec<f64>) {
        let n = w.qs.len();
        let (mut sa, mut sb) = (vec![0.0; n], vec![0.0; n]);
        // Each quarter's offset in a department's row (None: not held).
        let at: Vec<Option<usize>> = w.qs.iter().map(|&q| panel.at(0, q)).collect();
        let (num, den) = (&panel.num[self.i], &panel.den[self.i]);
        let value = self.kind.is_value();
        for &p in self.peers.iter() {
            let row = p * panel.years;
            for ((a, b), k) in sa.iter_mut().zip(sb.iter_mut()).zip(&at) {
                let Some(k) = *k else { continue };
                let (x, y) = (num[row + k], den[row + k]);
                // As `has`: a count with a positive denominator (a plain
                // value without one).
                if x.is_finite() && (y > 0.0 || (y.is_nan() && value)) {
                    *a += x;
                    *b += y;
                }
            }
        }
        (sa, sb)
    }

    /// The department against its peers' pooled rate at `t`: Poisson z with
    /// multiplicative overdispersion from the peers' own z (worse > 0).
    fn peer_level_z(&self, panel: &Panel, t: i32, rate: f64, n_t: f64, expected: f64) -> f64 {
        let zp: Vec<f64> = self
            .peers
            .iter()
            .filter(|&&p| self.has(panel, p, t))
            .map(|&p| {
                let (x, y) = panel.get(self.i, p, t);
                let ex = y * rate;
                (x - ex) / ex.sqrt()
            })
            .filter(|z| z.is_finite())
            .collect();
        let ph = if zp.len() >= 5 {
            phi(&winsorise(&zp, 0.1)).max(1.0)
        } else {
            1.0
        };
        let zl = (n_t - expected) / (expected * ph).sqrt();
        if self.worse == Worse::Higher {
            zl
        } else {
            -zl
        }
    }
}

/// Each quarter's count against mu_q = centre x E_q as a probit z from the
/// exact gamma-Poisson (mid-p) tail, variance mu + tau^2 mu^2: small counts
/// have long upper tails the normal limits ignore.
fn gamma_poisson_z(o: &[f64], e: &[f64], centre: f64, tau2: f64, worse: Worse) -> Vec<f64> {
    o.iter()
        .zip(e)
        .map(|(&x, &ek)| {
            let mu = centre * ek;
            if !(x.is_finite() && mu > 0.0) {
                return f64::NAN;
            }
            let p = if worse == Worse::Higher {
                nb_upper_midp(x, mu, tau2)
            } else {
                nb_lower_midp(x, mu, tau2)
            };
            -qnorm(p.clamp(1e-300, 1.0 - 1e-16))
        })
        .collect()
}

/// The deciding chart's series of one case, for [`push_deciding`].
struct Deciding<'a> {
    /// The department's counts and denominators per quarter.
    counts: (&'a [f64], &'a [f64]),
    /// E per quarter (denominator x the peers' pooled rate).
    expected: &'a [f64],
    /// The peers' pooled rate and count per quarter.
    peers: (&'a [f64], &'a [f64]),
    /// The gamma-Poisson probit z per quarter (the last one at least).
    z: &'a [f64],
    /// The baseline ratio to the peers.
    centre: f64,
    /// The between-quarter variance used.
    tau2: f64,
    /// The probit z beyond which a quarter is an alarm.
    alarm_z: f64,
    worse: Worse,
}

/// The deciding chart on the rate scale, as the report's text quotes it:
/// the department's rate, the expected rate (the peers' pooled rate of the
/// same quarter x the baseline ratio) and the rate beyond which the
/// gamma-Poisson tail gives an alarm - drawn between the last count that
/// does not and the first that does; and the peers' pooled rate.
fn push_deciding(out: &mut Vec<ChartRow>, of: &SeriesOf<'_>, s: &Deciding<'_>) {
    let ((o, dn), (pr, pn)) = (s.counts, s.peers);
    for (k, &q) in of.quarters.iter().enumerate() {
        let mu = s.centre * s.expected[k];
        let limit = alarm_count(mu, s.tau2, s.alarm_z, s.worse);
        let beyond = if s.worse == Worse::Higher {
            o[k] > limit
        } else {
            o[k] < limit
        };
        // The quarter reviewed by its tail, which decided.
        let alarm = if k + 1 == of.quarters.len() {
            s.z[k] > s.alarm_z
        } else {
            beyond
        };
        let row = |chart, value, numerator| ChartRow {
            dept: of.dept,
            indicator: of.indicator,
            chart,
            quarter: q,
            value,
            centre: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
            baseline: q < of.baseline_end,
            rule: None,
            concern: false,
            numerator,
        };
        out.push(ChartRow {
            centre: mu / dn[k],
            lower: if s.worse == Worse::Lower {
                limit / dn[k]
            } else {
                f64::NAN
            },
            upper: if s.worse == Worse::Higher {
                limit / dn[k]
            } else {
                f64::NAN
            },
            rule: alarm.then_some(Rule::OutsideLimits.name()),
            concern: alarm,
            ..row("deciding", o[k] / dn[k], o[k])
        });
        out.push(row("peers_rate", pr[k], pn[k]));
    }
}

/// The alarm line of the deciding chart in events: half-way between the
/// last count whose gamma-Poisson mid-p tail around `mu` stays within the
/// 3-sigma-equivalent and the first beyond it (on the worse side); NaN when
/// there is none.
fn alarm_count(mu: f64, tau2: f64, alarm_z: f64, worse: Worse) -> f64 {
    let upper = worse == Worse::Higher;
    match nb_midp_beyond(mu, tau2, alarm_z, upper) {
        Some(c) if upper => c - 0.5,
        Some(c) => c + 0.5,
        None => f64::NAN,
    }
}

/// Evaluates `case` at quarter `t`.
fn evaluate(ctx: &Ctx<'_>, case: &Case<'_>, t: i32, keep_charts: bool) -> Eval {
    let Case {
        i,
        d,
        peers,
        season,
        kind,
        worse,
        disp,
        ..
    } = *case;
    let (panel, qc) = (ctx.panel, ctx.qc);
    let mut ev = Eval::default();
    let w = match case.window(ctx, t) {
        Ok(w) => w,
        Err(why) => {
            ev.not_judged = Some(why);
            return ev;
        }
    };
    let Window {
        qs,
        be,
        base_len,
        o,
        dn,
        ..
    } = &w;
    if keep_charts {
        // own, deciding and peers_rate (and relative with run rules): three
        // or four points a quarter.
        ev.charts.reserve(4 * qs.len());
    }
    let (be, base_len, last) = (*be, *base_len, w.last());
    let value_kind = kind.is_value();
    let (n_t, d_t) = (o[last], dn[last]);
    let sf = |q: i32| season[q.rem_euclid(4) as usize];
    let own_chart = match kind {
        Kind::Share => Chart::PPrime,
        Kind::Count | Kind::Mean => Chart::Xmr,
        _ => Chart::UPrime,
    };
    let opts = |chart: Chart| SpcOptions {
        chart,
        rules: ctx.rules,
        freeze: Some(base_len),
        rebase: vec![],
        worse: Some(worse),
        sd_floor: qc.sd_floor,
        between_variance: None,
    };
    let signal =
        |c: &bomon_stats::spc::Spc| last_signal(c, base_len, worse, ctx.rules, qc.run_rules);
    let of = SeriesOf {
        dept: d,
        indicator: i,
        quarters: qs,
        baseline_end: be,
    };
    // Own history, deseasonalised.
    let own = if value_kind {
        spc(o, None, &opts(Chart::Xmr))
    } else {
        let dadj: Vec<f64> = qs.iter().zip(dn).map(|(&q, &x)| x * sf(q)).collect();
        spc(o, Some(&dadj), &opts(own_chart))
    };
    ev.charts_run += 1;
    let own_sig = signal(&own);
    let base_rate = if value_kind {
        own.points[0].centre
    } else {
        let (a, b) = (0..base_len)
            .filter(|&k| o[k].is_finite() && dn[k] > 0.0)
            .fold((0.0, 0.0), |(a, b), k| (a + o[k], b + dn[k]));
        a / b
    };
    let value = if value_kind {
        o[last]
    } else {
        o[last] / dn[last]
    };
    let mk =
        |test: Test, comparator: Comparator, reference: f64, reference_previous: f64, z: f64| {
            Finding {
                dept: d,
                indicator: i,
                test,
                comparator,
                value,
                reference,
                previous: base_rate,
                reference_previous,
                z,
                p: if z.is_finite() {
                    1.0 - pnorm(z)
                } else {
                    f64::NAN
                },
                q: f64::NAN,
                severity: None,
                numerator: n_t,
                previous_numerator: f64::NAN,
                denominator: d_t,
                rule: None,
                attribution: None,
                dispersion: (1.0, 0.0),
            }
        };
    let mut own_f = mk(
        Test::Spc,
        Comparator::OwnHistory,
        own.points[last].centre * if value_kind { 1.0 } else { sf(t) },
        f64::NAN,
        z_last(&own, worse),
    );
    if keep_charts {
        push_chart(&mut ev.charts, &own, "own", &of, o);
    }
    let (pn, pd) = if value_kind || peers.is_empty() {
        (vec![], vec![])
    } else {
        case.peer_series(panel, &w)
    };
    let pr: Vec<f64> = pn
        .iter()
        .zip(&pd)
        .map(|(a, b)| if *b > 0.0 { a / b } else { f64::NAN })
        .collect();
    let e: Vec<f64> = dn.iter().zip(&pr).map(|(x, r)| x * r).collect();
    // The department's usual ratio to its peers: its baseline events over
    // those expected at the peers' rates, plus half an event (the posterior
    // mean under Jeffreys' prior), so that a series without a baseline event
    // is judged too.
    let (ob, eb) = (0..base_len.min(e.len()))
        .filter(|&k| o[k].is_finite() && e[k] > 0.0)
        .fold((0.0, 0.0), |(a, b), k| (a + o[k], b + e[k]));
    if !(eb > 0.0) {
        // No peer rate (plain values, no peers, or peers without a single
        // event in the baseline): the own chart decides.
        if let Some((rule, sev)) = own_sig {
            own_f.severity = Some(sev);
            own_f.rule = Some(rule);
            own_f.attribution = Some("own");
            ev.own_flag = true;
        }
        ev.judged_by = Some(JudgedBy::OwnHistory);
        ev.findings.push(own_f);
        return ev;
    }
    ev.judged_by = Some(JudgedBy::Deciding);
    // The deciding chart's spread: Poisson noise plus the nationally pooled
    // between-quarter variance (for the department and, averaged, its peers).
    let n_peers = peers
        .iter()
        .filter(|&&p| case.has(panel, p, t))
        .count()
        .max(1) as f64;
    let tau2_eff = disp.tau2 * (1.0 + 1.0 / n_peers);
    let ratio_centre = (ob + 0.5) / eb;
    // The ratio's own uncertainty from a baseline of ob events, 1/(ob + 1/2)
    // on the relative scale: with it a later count's distribution is the
    // gamma-Poisson predictive one. Negligible for hundreds of events, it
    // keeps a series of one or two events a quarter from crying wolf.
    let tau2_case = tau2_eff + 1.0 / (ob + 0.5);
    // The relative chart (O/E, normal-theory limits) decides only through
    // run rules, and only then is it drawn and kept; the peers' chart only
    // says whether the own chart's signal is shared, so it is run only when
    // there is one to share (and for the quarter reviewed: last quarter's
    // status needs only the department's own signals). The peers' series is
    // kept as the pooled rate beside the deciding chart.
    let rel = qc.run_rules.then(|| {
        spc(
            o,
            Some(&e),
            &SpcOptions {
                between_variance: Some(tau2_eff),
                ..opts(Chart::UPrime)
            },
        )
    });
    let peer_chart = (keep_charts && own_sig.is_some()).then(|| {
        let pdadj: Vec<f64> = qs.iter().zip(&pd).map(|(&q, &x)| x * sf(q)).collect();
        spc(&pn, Some(&pdadj), &opts(own_chart))
    });
    ev.charts_run += usize::from(rel.is_some()) + usize::from(peer_chart.is_some());
    // The last quarter's tail decides; the chart marks earlier quarters by
    // the alarm line itself (a count beyond it is exactly one whose tail is
    // beyond the threshold).
    // The window early warning's sums (w = 1 is the quarter itself). The
    // peers' pooled rate is itself a count: its Poisson noise is part of
    // every quarter's comparison, and the peers' own between-quarter
    // variation adds, averaged, 1/n_peers of the department's.
    let window = (qc.cusum && qc.early_warning == "window").then(|| {
        let extra: Vec<f64> = pn
            .iter()
            .map(|&p| if p > 0.0 { 1.0 / p } else { 0.0 })
            .collect();
        let mu: Vec<f64> = e.iter().map(|x| x * ratio_centre).collect();
        scan_windows(&ScanSeries {
            x: o,
            mu: &mu,
            extra: &extra,
            lag_cov: {
                // A quarter's own beyond-Poisson variance: at least the
                // out-of-sample tau^2 (`quarterly.level_variance`).
                let mut lc = disp.lag_cov;
                if qc.level_variance == "out_of_sample" {
                    lc[0] = lc[0].max(disp.tau2);
                }
                lc.map(|c| c * (1.0 + 1.0 / n_peers))
            },
            base_len,
            upper: worse == Worse::Higher,
        })
    });
    // With it, the quarter's alarm uses the same variance model as the sums
    // (the window of one quarter); else the ratio's Poisson error alone.
    let tau2_alarm = window
        .as_ref()
        .and_then(|w| w.first())
        .map(|w| w.tau2)
        .filter(|t| t.is_finite())
        .unwrap_or(tau2_case);
    let window_z: Option<Vec<f64>> = window.map(|w| w.iter().map(|x| x.z).collect());
    let mut zq = vec![f64::NAN; o.len()];
    zq[last] = gamma_poisson_z(&o[last..], &e[last..], ratio_centre, tau2_alarm, worse)[0];
    let rel_sig = if zq[last] > qc.alarm_z {
        Some((Rule::OutsideLimits.name(), Severity::Alarm))
    } else {
        rel.as_ref()
            .and_then(|c| signal(c))
            .filter(|x| x.0 != Rule::OutsideLimits.name())
    };
    let peer_sig = peer_chart.as_ref().and_then(|c| signal(c));
    let mu_t = ratio_centre * e[last];
    ev.se_events = (mu_t + tau2_eff * mu_t * mu_t).sqrt();
    let expected = pr[last] * ratio_centre;
    if keep_charts {
        if let Some(rel) = &rel {
            push_chart(&mut ev.charts, rel, "relative", &of, o);
        }
        push_deciding(
            &mut ev.charts,
            &of,
            &Deciding {
                counts: (o, dn),
                expected: &e,
                peers: (&pr, &pn),
                z: &zq,
                centre: ratio_centre,
                tau2: tau2_alarm,
                alarm_z: qc.alarm_z,
                worse,
            },
        );
    }

    // Context: the department against its peers' pooled rate this quarter.
    let zl = case.peer_level_z(panel, t, pr[last], n_t, e[last]);
    ev.findings
        .push(mk(Test::Level, Comparator::Peers, pr[last], f64::NAN, zl));

    // The deciding chart.
    let mut rel_f = mk(Test::Spc, Comparator::Peers, expected, pr[last], zq[last]);
    if let Some((rule, sev)) = rel_sig {
        rel_f.severity = Some(sev);
        rel_f.rule = Some(rule);
        rel_f.attribution = Some("own");
        ev.own_flag = true;
    }
    ev.findings.push(rel_f);

    // Early warning: the largest z of the sums of the last 2.. quarters
    // (window), or the counts' likelihood-ratio CUSUM over the monitored
    // quarters, designed for a shift of 2k standard errors (cusum; for
    // large counts the standardised CUSUM with reference k and interval h,
    // its statistic reported in those units).
    if let Some(z) = window_z {
        let best = z
            .iter()
            .skip(1)
            .copied()
            .filter(|x| x.is_finite())
            .fold(f64::NAN, f64::max);
        let mut cf = mk(
            Test::EarlyWarning,
            Comparator::Peers,
            expected,
            pr[last],
            best,
        );
        cf.p = f64::NAN;
        if best > qc.window_z {
            cf.severity = Some(Severity::Alert);
            cf.rule = Some("window");
            cf.attribution = Some("own");
            ev.own_flag = true;
        }
        ev.findings.push(cf);
    } else if qc.cusum {
        // Autocorrelated quarters make sums vary more than the CUSUM
        // assumes; scaling the departures by sqrt((1 - rho) / (1 + rho))
        // restores the long-run variance of an AR(1) series.
        let f = if qc.cusum_autocorrelation {
            ((1.0 - disp.rho) / (1.0 + disp.rho)).sqrt()
        } else {
            1.0
        };
        let delta = 2.0 * qc.cusum_k;
        let mu0: Vec<f64> = e[base_len..].iter().map(|x| x * ratio_centre).collect();
        let c = CountCusum {
            tau2: tau2_case,
            tau2_design: tau2_eff,
            delta,
            h: delta * qc.cusum_h,
            upper: worse == Worse::Higher,
            shrink: f,
        }
        .run(&o[base_len..], &mu0);
        let st = c.last().map_or(0.0, |x| x.s / delta);
        let mut cf = mk(
            Test::EarlyWarning,
            Comparator::Peers,
            expected,
            pr[last],
            st,
        );
        cf.p = f64::NAN;
        if c.last().is_some_and(|x| x.signal) {
            cf.severity = Some(Severity::Alert);
            cf.rule = Some("cusum");
            cf.attribution = Some("own");
            ev.own_flag = true;
        }
        ev.findings.push(cf);
    }

    // Shared: the own history signals, the relative chart does not, and the
    // peers' series signals the same way.
    if !ev.own_flag && own_sig.is_some() && peer_sig.is_some() {
        own_f.severity = Some(Severity::Alert);
        own_f.rule = own_sig.map(|x| x.0);
        own_f.attribution = Some("shared");
        own_f.reference_previous = pr[last];
        ev.shared_flag = true;
    }
    ev.findings.push(own_f);
    ev
}

/// The stated chance, per deciding chart, that an in-control series is
/// flagged in the quarter: the window scan's (normal theory), or the
/// alarm tail plus the CUSUM's chance of ending above h.
fn nominal_flag_chance(qc: &QuarterlyConfig) -> f64 {
    if qc.cusum && qc.early_warning == "window" {
        scan_flag_probability(
            qc.baseline_quarters,
            qc.monitor_quarters,
            qc.alarm_z,
            qc.window_z,
        )
    } else {
        (1.0 - pnorm(qc.alarm_z))
            + if qc.cusum {
                window_flag_probability(qc.cusum_k, qc.cusum_h, qc.monitor_quarters)
            } else {
                0.0
            }
    }
}

/// Which series a chart's points belong to.
struct SeriesOf<'a> {
    dept: usize,
    indicator: usize,
    /// The quarter of each point.
    quarters: &'a [i32],
    /// Quarters before this are the frozen baseline.
    baseline_end: i32,
}

fn push_chart(
    out: &mut Vec<ChartRow>,
    c: &Spc,
    chart: &'static str,
    of: &SeriesOf<'_>,
    num: &[f64],
) {
    let SeriesOf {
        dept,
        indicator,
        quarters: qs,
        baseline_end,
    } = *of;
    for (k, p) in c.points.iter().enumerate() {
        out.push(ChartRow {
            dept,
            indicator,
            chart,
            quarter: qs[k],
            value: p.value,
            centre: p.centre,
            lower: p.lower,
            upper: p.upper,
            baseline: qs[k] < baseline_end,
            rule: p.rule.map(|r| r.name()),
            concern: p.concern == Some(true),
            numerator: num[k],
        });
    }
}

/// The standard error, in events, of department `d`'s deciding chart for
/// indicator `i` at quarter `t` (the unit in which shifts are measured), or
/// None when the chart cannot be judged.
pub fn standard_error_events(
    panel: &Panel,
    catalogue: &Catalogue,
    t: i32,
    d: usize,
    i: usize,
    peers: &[usize],
    cfg: &ReviewConfig,
) -> Option<f64> {
    let qc = &cfg.quarterly;
    let ctx = Ctx {
        panel,
        qc,
        rules: Rules::Anhoej,
    };
    let ind = catalogue.get(&panel.indicators[i])?;
    let worse = if ind.direction == Direction::LowerIsWorse {
        Worse::Lower
    } else {
        Worse::Higher
    };
    let span = (qc.baseline_quarters + qc.monitor_quarters) as i32;
    let from = (t - span + 1).max(panel.first_year);
    let season = seasonal_factors(panel, i, from, t);
    let tau2 = pooled_variance(panel, i, t, qc);
    let case = Case {
        i,
        d,
        peers,
        season: &season,
        rebase: None,
        kind: ind.kind,
        worse,
        disp: tau2,
    };
    let ev = evaluate(&ctx, &case, t, false);
    (ev.not_judged.is_none() && ev.se_events.is_finite() && ev.se_events > 0.0)
        .then_some(ev.se_events)
}

/// Runs the follow-up of `selection` at quarter `t` (a quarter index). The
/// panel must hold the quarters from `t - baseline - monitor` (one more than a
/// chart needs, for last quarter's status) to `t`.
pub fn quarterly(
    panel: &Panel,
    catalogue: &Catalogue,
    t: i32,
    selection: Vec<Selected>,
    peers: &[PeerGroup],
    peer_covariates: Vec<String>,
    cfg: &ReviewConfig,
) -> Quarterly {
    let qc = &cfg.quarterly;
    let ctx = Ctx {
        panel,
        qc,
        rules: if qc.rules == "nhs" {
            Rules::Nhs
        } else {
            Rules::Anhoej
        },
    };
    let span = (qc.baseline_quarters + qc.monitor_quarters) as i32;
    // Per indicator, each over every department in the store: in parallel.
    let (seasonal, tau2): (Vec<[f64; 4]>, Vec<Dispersion>) = (0..panel.indicators.len())
        .into_par_iter()
        .map(|i| {
            (
                seasonal_factors(panel, i, (t - span + 1).max(panel.first_year), t),
                pooled_variance(panel, i, t, qc),
            )
        })
        .unzip();
    let rebase: HashMap<(&str, Option<&str>), i32> = qc
        .rebase
        .iter()
        .filter_map(|r| {
            Some((
                (r.department.as_str(), r.indicator.as_deref()),
                parse_quarter(&r.period)?,
            ))
        })
        .collect();
    let meta: Vec<(Kind, Worse)> = panel
        .indicators
        .iter()
        .map(|id| {
            let ind = catalogue.get(id);
            (
                ind.map_or(Kind::Share, |x| x.kind),
                if ind.is_some_and(|x| x.direction == Direction::LowerIsWorse) {
                    Worse::Lower
                } else {
                    Worse::Higher
                },
            )
        })
        .collect();
    let judged: Vec<usize> = (0..panel.indicators.len())
        .filter(|&i| {
            catalogue
                .get(&panel.indicators[i])
                .is_some_and(|x| x.direction != Direction::Context)
        })
        .collect();
    // Per selected department: every indicator now and a quarter ago.
    type DeptResult = (
        Vec<Finding>,
        (Vec<ChartRow>, Vec<(usize, std::ops::Range<usize>)>),
        Vec<(usize, usize, NotJudged, usize)>,
        Vec<(usize, usize, JudgedBy)>,
        bool,
        bool,
        bool,
        usize,
        Vec<usize>,
    );
    // The stated chance of a false flag (a Monte Carlo of its own) is
    // computed beside the charts.
    let (per_chart, results): (f64, Vec<DeptResult>) = rayon::join(
        || nominal_flag_chance(qc),
        || {
            selection
                .par_iter()
                .enumerate()
                .map(|(k, sel)| {
                    let d = sel.dept;
                    let members: Vec<usize> = peers[k].iter().map(|p| p.0).collect();
                    let id = panel.depts[d].id.as_str();
                    let mut findings = Vec::new();
                    // Three points a quarter per indicator (four with run
                    // rules), reserved at once rather than grown.
                    let mut charts = Vec::with_capacity(
                        judged.len() * if qc.run_rules { 4 } else { 3 } * (span as usize + 1),
                    );
                    let mut nj = Vec::new();
                    let mut by = Vec::new();
                    let mut ranges = Vec::new();
                    let (mut own, mut shared, mut prev_own, mut runs) = (false, false, false, 0);
                    let mut prev_flagged = Vec::new();
                    for &i in &judged {
                        let rb = rebase
                            .get(&(id, Some(panel.indicators[i].as_str())))
                            .or_else(|| rebase.get(&(id, None)))
                            .copied();
                        let (kind, worse) = meta[i];
                        let case = Case {
                            i,
                            d,
                            peers: &members,
                            season: &seasonal[i],
                            rebase: rb,
                            kind,
                            worse,
                            disp: tau2[i],
                        };
                        let now = evaluate(&ctx, &case, t, true);
                        if let Some((why, nb)) = now.not_judged {
                            nj.push((d, i, why, nb));
                        }
                        if let Some(j) = now.judged_by {
                            by.push((d, i, j));
                        }
                        own |= now.own_flag;
                        shared |= now.shared_flag;
                        runs += now.charts_run;
                        findings.extend(now.findings);
                        if !now.charts.is_empty() {
                            ranges.push((i, charts.len()..charts.len() + now.charts.len()));
                        }
                        charts.extend(now.charts);
                        let before = evaluate(&ctx, &case, t - 1, false);
                        if before.own_flag {
                            prev_own = true;
                            prev_flagged.push(i);
                        }
                    }
                    (
                        findings,
                        (charts, ranges),
                        nj,
                        by,
                        own,
                        shared,
                        prev_own,
                        runs,
                        prev_flagged,
                    )
                })
                .collect()
        },
    );
    let mut findings = Vec::with_capacity(results.iter().map(|r| r.0.len()).sum());
    let mut charts = Vec::with_capacity(results.len());
    let mut chart_ranges = HashMap::new();
    let mut not_judged = Vec::new();
    let mut judged_series = Vec::new();
    let mut status = Vec::new();
    let mut too_small = HashMap::new();
    let mut too_small_departments = Vec::new();
    let mut flagged_last_year = HashMap::new();
    let mut charts_run = 0usize;
    for (k, (f, c, nj, by, own, shared, prev, runs, pf)) in results.into_iter().enumerate() {
        let d = selection[k].dept;
        let all_unjudged = nj.len() == judged.len();
        status.push(if all_unjudged {
            Status::TooShort
        } else if own && prev {
            Status::Persisting
        } else if own {
            Status::New
        } else if prev {
            Status::Resolved
        } else if shared {
            Status::Shared
        } else {
            Status::None
        });
        if !nj.is_empty() {
            too_small.insert(d, nj.iter().map(|x| x.1).collect());
        }
        if all_unjudged {
            too_small_departments.push(d);
        }
        for i in pf {
            flagged_last_year.insert((d, i), true);
        }
        charts_run += runs;
        findings.extend(f);
        let (c, ranges) = c;
        for (i, r) in ranges {
            chart_ranges.insert((d, i), (k, r));
        }
        charts.push(c);
        not_judged.extend(nj);
        judged_series.extend(by);
    }
    // Nominal false alarms: per chart a point beyond the alarm line and,
    // with the CUSUM, the chance that an in-control series' CUSUM is above
    // h at the end of the monitored quarters (signals persist, so this is
    // the share of series flagged in a quarter, not one onset per ARL).
    let deciding = findings
        .iter()
        .filter(|f| f.test == Test::Spc && f.comparator == Comparator::Peers)
        .count();
    let tests = findings.len();
    let scope: Vec<usize> = selection.iter().map(|s| s.dept).collect();
    let _ = charts_run;

    Quarterly {
        review: Review {
            year: t.div_euclid(4),
            period: quarter_label(t),
            scope,
            peers: peers.to_vec(),
            peer_covariates,
            findings,
            too_small,
            too_small_departments,
            flagged_last_year,
            tests,
            expected_false_alarms: deciding as f64 * per_chart,
            expected_false_alarms_unadjusted: deciding as f64 * per_chart,
            // Quarterly signals come from chart rules, not from thresholds on z.
            thresholds: HashMap::new(),
        },
        selection,
        status,
        charts,
        chart_ranges,
        not_judged,
        judged: judged_series,
        seasonal,
        dispersion: tau2,
    }
}
