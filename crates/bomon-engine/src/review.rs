//! The annual review: level and development comparisons of every department
//! in scope against its peers, national public housing and its municipality;
//! false-discovery control across the review; triage.

use std::collections::HashMap;

use bomon_stats::funnel::{
    funnel, z_against, FunnelOptions, LimitMethod, Measure, Overdispersion, Trim, Worse, Z95, Z998,
};
use bomon_stats::multiple::{
    bh_qvalues, expected_false_alarms_unadjusted, expected_false_discoveries,
};
use bomon_stats::overdispersion::tau2_dersimonian_laird;
use bomon_stats::trend::{compare, log_rate_ratio, logistic_slope, wls_slope, Estimate};
use bomon_stats::Severity;
use bomon_store::{Catalogue, Direction, Kind};
use rayon::prelude::*;

use crate::config::{ReviewConfig, Trigger};
use crate::data::Panel;
use crate::peers::PeerGroup;

/// Which test a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Test {
    /// The level against a comparator (funnel).
    Level,
    /// The change over the last year(s) against the comparator's.
    Development,
    /// The slope over the last years against the comparator's.
    Trend,
    /// A quarterly chart signal.
    Spc,
    /// A quarterly early warning of a sustained shift (the moving sums of
    /// quarters, or the counts' CUSUM).
    EarlyWarning,
}

impl Test {
    /// The name in outputs (`flags.csv`'s `test`).
    pub fn name(self) -> &'static str {
        match self {
            Test::Level => "level",
            Test::Development => "development",
            Test::Trend => "trend",
            Test::Spc => "spc",
            Test::EarlyWarning => "early_warning",
        }
    }

    /// The name a reader sees (the glossary's for level, development, trend).
    pub fn words(self, da: bool) -> String {
        match self {
            Test::Spc => "SPC".into(),
            Test::EarlyWarning => if da {
                "tidligt varsel"
            } else {
                "early warning"
            }
            .into(),
            t => bomon_vocab::glossary::term(t.name())
                .map_or(t.name().to_string(), |g| g.name(da).to_lowercase()),
        }
    }
}

impl std::fmt::Display for Test {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for Comparator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a finding compares the department with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Comparator {
    /// Its peer group ("twins").
    Peers,
    /// Public housing nationally (same housing type).
    National,
    /// The municipality's other departments of the same type.
    Municipality,
    /// Its own history (quarterly charts).
    OwnHistory,
}

impl Comparator {
    /// The name in outputs (`flags.csv`'s `comparator`).
    pub fn name(self) -> &'static str {
        match self {
            Comparator::Peers => "peers",
            Comparator::National => "national",
            Comparator::Municipality => "municipality",
            Comparator::OwnHistory => "own_history",
        }
    }

    /// What a reader calls it.
    pub fn words(self, da: bool) -> &'static str {
        match (self, da) {
            (Comparator::Peers, true) => "tvillinger",
            (Comparator::National, true) => "landsplan",
            (Comparator::Municipality, true) => "kommunen",
            (Comparator::OwnHistory, true) => "egen historik",
            (Comparator::Peers, false) => "twins",
            (Comparator::National, false) => "national",
            (Comparator::Municipality, false) => "municipality",
            (Comparator::OwnHistory, false) => "own history",
        }
    }
}

/// One test's result: the evidence behind a possible flag.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Department index in the panel.
    pub dept: usize,
    /// Indicator index in the panel.
    pub indicator: usize,
    /// Which test.
    pub test: Test,
    /// Against what.
    pub comparator: Comparator,
    /// The department's value (rate, change or slope).
    pub value: f64,
    /// The comparator's value.
    pub reference: f64,
    /// Value a year (level) or the start (development) before, for the prompt.
    pub previous: f64,
    /// Comparator's previous value.
    pub reference_previous: f64,
    /// z-score (positive = worse).
    pub z: f64,
    /// One-sided p-value in the worse direction.
    pub p: f64,
    /// Benjamini-Hochberg q-value across the review.
    pub q: f64,
    /// The flag, if any.
    pub severity: Option<Severity>,
    /// Numerator and denominator in the review year.
    pub numerator: f64,
    /// Numerator the year before (for the confidentiality of prompts).
    pub previous_numerator: f64,
    /// Denominator.
    pub denominator: f64,
    /// The SPC rule behind a quarterly signal (`outside_limits`, `longest_run`,
    /// `shift`, `trend`, `two_of_three`, `cusum`).
    pub rule: Option<&'static str>,
    /// Quarterly signals: `own` (the department's own) or `shared` (its peers
    /// moved the same way - a city-wide shift).
    pub attribution: Option<&'static str>,
    /// A level test's overdispersion (phi, tau^2) - the national funnel's of
    /// the department's housing type; (1, 0) for other tests. A chart of the
    /// comparison draws its limits with it ([`level_limit`]).
    pub dispersion: (f64, f64),
}

/// The z beyond which a test was flagged in this review: the one-sided 95 %
/// (99.8 %) limit or the false-discovery threshold, whichever is further.
/// Benjamini-Hochberg rejects exactly the p-values at or below k x alpha / m
/// (k rejected of m tests), so a test is an alert iff z > `alert` and an
/// alarm iff z > `alarm`: a chart drawn at these lines agrees with the flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// z of an alert.
    pub alert: f64,
    /// z of an alarm.
    pub alarm: f64,
}

/// The review's result.
#[derive(Debug, Clone)]
pub struct Review {
    /// The year reviewed (for a quarterly run: the quarter's year).
    pub year: i32,
    /// The period reviewed as written in outputs (`2025`, `2025Q3`).
    pub period: String,
    /// Departments in scope (panel indices).
    pub scope: Vec<usize>,
    /// Peer groups of the departments in scope (same order).
    pub peers: Vec<PeerGroup>,
    /// Covariates used for peers.
    pub peer_covariates: Vec<String>,
    /// All tests run (flags are those with a severity).
    pub findings: Vec<Finding>,
    /// Per department in scope: indicators too small to judge.
    pub too_small: HashMap<usize, Vec<usize>>,
    /// Departments too small to judge at all.
    pub too_small_departments: Vec<usize>,
    /// Departments flagged at the peer level the year before (persistence).
    pub flagged_last_year: HashMap<(usize, usize), bool>,
    /// Number of tests.
    pub tests: usize,
    /// Expected false alarms among the flags (FDR x flags).
    pub expected_false_alarms: f64,
    /// Expected false alarms had every test run unadjusted at 95 % one-sided.
    pub expected_false_alarms_unadjusted: f64,
    /// Per kind of test, the z beyond which it was flagged.
    pub thresholds: HashMap<Test, Thresholds>,
}

/// One indicator's findings, too-small cells and last year's peer flags.
type IndicatorResult = (
    Vec<Finding>,
    Vec<(usize, usize)>,
    Vec<((usize, usize), bool)>,
);
/// A change or slope: the estimate that is tested (on the logit scale for
/// shares) and the one shown to readers (log rate ratio, printed as a
/// percentage change; slope relative to the level, per year).
#[derive(Debug, Clone, Copy)]
struct Dev {
    test: Estimate,
    shown: f64,
}

/// One change window of an indicator: every department's change with its
/// pooled counts (recent numerator and denominator, base numerator and
/// denominator), the between-department variance of changes, and the
/// national change per housing type.
struct ChangeWindow<'a> {
    rule: &'static str,
    recent: std::ops::RangeInclusive<i32>,
    base: std::ops::RangeInclusive<i32>,
    own: Vec<Option<(Dev, [f64; 4])>>,
    tau2: f64,
    national: HashMap<&'a str, Option<Dev>>,
}

/// How level comparisons are made, from the configuration.
#[derive(Debug, Clone, Copy)]
struct LevelScale {
    od: Overdispersion,
    logit: bool,
    winsorise: f64,
}

impl LevelScale {
    fn of(cfg: &ReviewConfig) -> LevelScale {
        LevelScale {
            od: if cfg.overdispersion == "additive" {
                Overdispersion::Additive
            } else {
                Overdispersion::Multiplicative
            },
            logit: cfg.share_scale != "arcsine",
            winsorise: cfg.winsorise,
        }
    }

    fn measure(self, kind: Kind) -> Measure {
        match kind {
            Kind::Share if self.logit => Measure::ProportionLogit,
            Kind::Share => Measure::Proportion,
            _ => Measure::RatioLog,
        }
    }
}

/// The arguments of a level test on the funnel's scale. A rate (events per
/// 1,000) is tested as observed against expected events - O = events,
/// E = denominator x target, target 1 - so its log-scale standard error is
/// 1 / sqrt(E), the Poisson one; shares and ratios are passed unchanged.
fn on_scale(kind: Kind, num: f64, den: f64, target: f64) -> (f64, f64, f64) {
    if kind == Kind::RatePer1000 {
        (num, den * target, 1.0)
    } else {
        (num, den, target)
    }
}

/// How an indicator's level is tested: its scale, its kind, the worse side.
#[derive(Clone, Copy)]
struct LevelTest {
    scale: LevelScale,
    kind: Kind,
    worse: Worse,
}

/// `z_against` on the scale of `kind` (see [`on_scale`]): the count
/// `num` of `den` against `target`, with overdispersion (phi, tau^2).
fn level_z(
    t: LevelTest,
    (num, den): (f64, f64),
    target: f64,
    (phi, tau2): (f64, f64),
) -> (f64, f64) {
    let (a, b, x) = on_scale(t.kind, num, den, target);
    z_against(t.scale.measure(t.kind), a, b, x, phi, tau2, t.worse)
}

/// The z beyond which each kind of test was flagged (see [`Thresholds`]):
/// within the family the false-discovery rate was controlled over (every
/// test, or each kind with `fdr_per_test`), k of m tests at q <= alpha means
/// BH's p-threshold k x alpha / m (alpha / m when none).
fn flag_thresholds(findings: &[Finding], cfg: &ReviewConfig) -> HashMap<Test, Thresholds> {
    const KINDS: [Test; 3] = [Test::Level, Test::Development, Test::Trend];
    // Per kind and over all: the tests, those at q <= fdr and those at
    // q <= fdr_alarm - one pass over the findings.
    let mut per_kind = [[0usize; 3]; 3];
    let mut all = [0usize; 3];
    for f in findings {
        let hit = [
            1,
            usize::from(f.q <= cfg.fdr),
            usize::from(f.q <= cfg.fdr_alarm),
        ];
        if let Some(t) = KINDS.iter().position(|&t| t == f.test) {
            for c in 0..3 {
                per_kind[t][c] += hit[c];
            }
        }
        for c in 0..3 {
            all[c] += hit[c];
        }
    }
    KINDS
        .iter()
        .enumerate()
        .map(|(t, &test)| {
            let [m, alerts, alarms] = if cfg.fdr_per_test { per_kind[t] } else { all };
            let z = |k: usize, alpha: f64, floor: f64| {
                let (k, m) = (k.max(1) as f64, m.max(1) as f64);
                floor.max(bomon_stats::dist::qnorm(1.0 - k * alpha / m))
            };
            (
                test,
                Thresholds {
                    alert: z(alerts, cfg.fdr, Z95),
                    alarm: z(alarms, cfg.fdr_alarm, Z998),
                },
            )
        })
        .collect()
}

/// The `parts` one after the other, without the items `keep` refuses, in
/// one vector sized once: each part is filtered and copied into its place
/// by a thread of its own (a national review's findings are 70 MB).
pub fn concat_parallel<T: Send>(parts: Vec<Vec<T>>, keep: impl Fn(&T) -> bool + Sync) -> Vec<T> {
    let parts: Vec<Vec<T>> = parts
        .into_par_iter()
        .map(|mut p| {
            p.retain(&keep);
            p
        })
        .collect();
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut out: Vec<T> = Vec::with_capacity(total);
    let mut spare = &mut out.spare_capacity_mut()[..total];
    let mut slots = Vec::with_capacity(parts.len());
    for p in &parts {
        let (head, rest) = spare.split_at_mut(p.len());
        slots.push(head);
        spare = rest;
    }
    slots
        .into_par_iter()
        .zip(parts.into_par_iter())
        .for_each(|(slot, part)| {
            for (s, x) in slot.iter_mut().zip(part) {
                s.write(x);
            }
        });
    // SAFETY: the slots cover the first `total` places of `out`, each slot
    // as long as its part, and every item of every part was written into
    // its slot above.
    unsafe { out.set_len(total) };
    out
}

/// The inverse of a level test: the rate a department of size `den` has
/// when its test gives exactly `z` on the worse side of `target` (on the
/// review's scale, with the test's overdispersion (phi, tau^2)) - the funnel
/// limit a chart draws so that it agrees with the test. Solved for the count
/// by bisection on the test itself, so that the continuity corrections of
/// the scale are the test's own; NaN where no count reaches `z`.
pub fn level_limit(
    cfg: &ReviewConfig,
    kind: Kind,
    direction: Direction,
    target: f64,
    den: f64,
    z: f64,
    dispersion: (f64, f64),
) -> f64 {
    let w = worse(direction);
    let t = LevelTest {
        scale: LevelScale::of(cfg),
        kind,
        worse: w,
    };
    // The test's z grows with the count; the worse side's z is +z or -z.
    let want = if w == Worse::Lower { -z } else { z };
    let raw = |n: f64| {
        let (zz, _) = level_z(t, (n, den), target, dispersion);
        zz
    };
    let hi = if kind == Kind::Share {
        den
    } else {
        (den * target.max(1e-9) * 100.0).max(100.0)
    };
    let (mut a, mut b) = (0.0, hi);
    let (za, zb) = (raw(a), raw(b));
    if !(za.is_finite() && zb.is_finite()) || want < za || want > zb {
        return f64::NAN;
    }
    for _ in 0..60 {
        let m = 0.5 * (a + b);
        if raw(m) < want {
            a = m;
        } else {
            b = m;
        }
    }
    0.5 * (a + b) / den
}

fn worse(d: Direction) -> Worse {
    if d == Direction::LowerIsWorse {
        Worse::Lower
    } else {
        Worse::Higher
    }
}

/// Per indicator and year: the national funnel of public housing of the same
/// housing type (youth dwellings are compared with youth dwellings), per department.
struct National {
    target: Vec<f64>,
    phi: Vec<f64>,
    tau2: Vec<f64>,
    z: Vec<f64>,
    p: Vec<f64>,
}

fn national(
    panel: &Panel,
    i: usize,
    year: i32,
    kind: Kind,
    dir: Direction,
    min_den: f64,
    ls: LevelScale,
) -> National {
    let n = panel.depts.len();
    let mut out = National {
        target: vec![f64::NAN; n],
        phi: vec![1.0; n],
        tau2: vec![0.0; n],
        z: vec![f64::NAN; n],
        p: vec![f64::NAN; n],
    };
    let mut types: Vec<&str> = panel
        .depts
        .iter()
        .map(|d| d.housing_type.as_str())
        .collect();
    types.sort_unstable();
    types.dedup();
    // Each department's type as its position among the types: compared
    // once, not once per type.
    let type_of: Vec<usize> = panel
        .depts
        .iter()
        .map(|d| {
            types
                .binary_search(&d.housing_type.as_str())
                .unwrap_or(usize::MAX)
        })
        .collect();
    for t in 0..types.len() {
        let (mut num, mut den) = (vec![f64::NAN; n], vec![0.0; n]);
        for d in (0..n).filter(|&d| type_of[d] == t) {
            let (a, b) = panel.get(i, d, year);
            if a.is_finite() && b >= min_den && b > 0.0 {
                num[d] = a;
                den[d] = b;
            }
        }
        let (sn, sd) = (0..n)
            .filter(|&d| den[d] > 0.0)
            .fold((0.0, 0.0), |(a, b), d| (a + num[d], b + den[d]));
        if sd <= 0.0 {
            continue;
        }
        let pooled = sn / sd;
        // Ratios (income against the region) are compared on the log scale with
        // the pooled ratio as target; rates as observed against expected events.
        let (num, den, target) = if kind == Kind::RatePer1000 {
            let e: Vec<f64> = den.iter().map(|b| b * pooled).collect();
            (num, e, 1.0)
        } else {
            (num, den, pooled)
        };
        let f = funnel(
            &num,
            &den,
            &FunnelOptions {
                measure: ls.measure(kind),
                overdispersion: ls.od,
                winsorise: ls.winsorise,
                trim: Trim::Winsorise,
                limits: LimitMethod::Normal,
                target: Some(target),
                worse: worse(dir),
            },
        );
        let phi = if ls.od == Overdispersion::Multiplicative {
            f.phi.max(1.0)
        } else {
            1.0
        };
        for d in (0..n).filter(|&d| type_of[d] == t) {
            out.target[d] = pooled;
            out.phi[d] = phi;
            out.tau2[d] = f.tau2;
            out.z[d] = f.points[d].z_adjusted;
            out.p[d] = f.points[d].p;
        }
    }
    out
}

fn pooled(
    panel: &Panel,
    i: usize,
    members: impl Iterator<Item = usize>,
    years: impl Into<Years>,
    min_den: f64,
) -> (f64, f64) {
    let years = years.into().0;
    members.fold((0.0, 0.0), |acc, d| {
        years.clone().fold(acc, |(a, b), yy| {
            let (x, y) = panel.get(i, d, yy);
            if x.is_finite() && y >= min_den && y > 0.0 {
                (a + x, b + y)
            } else {
                (a, b)
            }
        })
    })
}

/// A year or an inclusive range of years.
struct Years(std::ops::RangeInclusive<i32>);

impl From<i32> for Years {
    fn from(y: i32) -> Self {
        Years(y..=y)
    }
}

impl From<std::ops::RangeInclusive<i32>> for Years {
    fn from(r: std::ops::RangeInclusive<i32>) -> Self {
        Years(r)
    }
}

/// The empirical logit ln((x + 0.5) / (n - x + 0.5)) of x events among n.
fn elogit(x: f64, n: f64) -> f64 {
    let x = x.clamp(0.0, n);
    ((x + 0.5) / (n - x + 0.5)).ln()
}

/// The slope of a share over the years `t`, from counts. Tested on the logit
/// scale - the slope of a binomial GLM (maximum likelihood, so years with few
/// or no events weigh what they tell; the slope of empirical logits let a
/// zero count's ln(0.5 / n) pull the line) - and shown relative to the level
/// (the proportion slope divided by p, ~ d log p / dt, per year).
///
/// On the logit scale a development every department shares moves high and
/// low shares alike, and year-to-year noise beyond binomial is of one size
/// for all departments, so one between-department variance tau^2 of slopes
/// (DerSimonian-Laird over all departments, added in the comparison) carries
/// it. It is not estimated per department: five points leave three degrees
/// of freedom, and dividing by so rough an estimate gives z heavy tails.
fn share_slope(t: &[f64], y: &[f64], n: &[f64]) -> Option<Dev> {
    let (sy, sn) = y
        .iter()
        .zip(n)
        .filter(|(a, b)| a.is_finite() && **b > 0.0)
        .fold((0.0, 0.0), |(a, b), (x, m)| (a + x, b + m));
    if sn <= 0.0 {
        return None;
    }
    let p = sy / sn;
    if !(p > 0.0 && p < 1.0) {
        return None;
    }
    let test = logistic_slope(t, y, n)?;
    let w: Vec<f64> = n.iter().map(|b| b * p * (1.0 - p)).collect();
    let rate: Vec<f64> = y.iter().zip(n).map(|(a, b)| a / b).collect();
    let shown = wls_slope(t, &rate, &w)?.estimate / p;
    Some(Dev { test, shown })
}

/// The change between two periods: a share's on the logit scale (shown as the
/// log rate ratio), a rate's as the log rate ratio.
fn change(n1: f64, d1: f64, n0: f64, d0: f64, kind: Kind) -> Option<Dev> {
    if !(d1 > 0.0 && d0 > 0.0 && n1.is_finite() && n0.is_finite()) {
        return None;
    }
    if kind == Kind::Ratio {
        // Income against the region: no sampling error of its own; the
        // between-department heterogeneity carries the uncertainty.
        let e = ((n1 / d1) / (n0 / d0)).ln();
        return Some(Dev {
            test: Estimate {
                estimate: e,
                se: 0.0,
            },
            shown: e,
        });
    }
    let lrr = log_rate_ratio(n1, d1, n0, d0);
    if kind == Kind::Share {
        let v = |x: f64, n: f64| {
            let x = x.clamp(0.0, n);
            1.0 / (x + 0.5) + 1.0 / (n - x + 0.5)
        };
        return Some(Dev {
            test: Estimate {
                estimate: elogit(n1, d1) - elogit(n0, d0),
                se: (v(n1, d1) + v(n0, d0)).sqrt(),
            },
            shown: lrr.estimate,
        });
    }
    Some(Dev {
        test: lrr,
        shown: lrr.estimate,
    })
}

/// Runs the annual review of `year` for departments in `scope`.
pub fn annual(
    panel: &Panel,
    catalogue: &Catalogue,
    year: i32,
    scope: &[usize],
    peers: &[PeerGroup],
    peer_covariates: Vec<String>,
    cfg: &ReviewConfig,
) -> Review {
    let ls = LevelScale::of(cfg);
    let n_ind = panel.indicators.len();
    let res = panel.indicator("residents");
    let hh = panel.indicator("households");
    let too_small_departments: Vec<usize> = scope
        .iter()
        .copied()
        .filter(|&d| {
            let r = res.map_or(f64::NAN, |i| panel.get(i, d, year).0);
            let h = hh.map_or(f64::NAN, |i| panel.get(i, d, year).0);
            (r.is_finite() && r < cfg.min_residents) || (h.is_finite() && h < cfg.min_households)
        })
        .collect();
    let small: std::collections::HashSet<usize> = too_small_departments.iter().copied().collect();
    let judged: Vec<(usize, &PeerGroup)> = scope
        .iter()
        .copied()
        .zip(peers)
        .filter(|(d, _)| !small.contains(d))
        .collect();

    let ctx = AnnualCtx {
        panel,
        catalogue,
        year,
        judged: &judged,
        cfg,
        ls,
    };
    let per_indicator: Vec<IndicatorResult> = (0..n_ind)
        .into_par_iter()
        .map(|i| test_indicator(&ctx, i))
        .collect();

    let mut too_small: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut flagged_last_year = HashMap::new();
    let mut parts = Vec::with_capacity(per_indicator.len());
    for (f, s, l) in per_indicator {
        parts.push(f);
        for (d, i) in s {
            too_small.entry(d).or_default().push(i);
        }
        flagged_last_year.extend(l);
    }
    // Half a million findings nationally (70 MB): gathered into one vector
    // sized once, both threads copying. Tests without a usable comparator
    // (e.g. a rate against a zero target) are dropped.
    let mut findings = concat_parallel(parts, |f| f.p.is_finite() && f.z.is_finite());
    // False-discovery control across every test of the review, or within
    // each kind of test (level, development, trend) when so configured.
    let q: Vec<f64> = if cfg.fdr_per_test {
        let mut q = vec![f64::NAN; findings.len()];
        for test in [Test::Level, Test::Development, Test::Trend] {
            let idx: Vec<usize> = (0..findings.len())
                .filter(|&k| findings[k].test == test)
                .collect();
            let p: Vec<f64> = idx.iter().map(|&k| findings[k].p).collect();
            for (k, v) in idx.into_iter().zip(bh_qvalues(&p)) {
                q[k] = v;
            }
        }
        q
    } else {
        let p: Vec<f64> = findings.iter().map(|f| f.p).collect();
        bh_qvalues(&p)
    };
    for (f, q) in findings.iter_mut().zip(&q) {
        f.q = *q;
        // Both the FDR and the one-sided limit must be passed: alert at
        // q <= fdr beyond the 95 % limit, alarm at q <= fdr_alarm beyond 99.8 %.
        f.severity = if *q <= cfg.fdr_alarm && f.z > Z998 {
            Some(Severity::Alarm)
        } else if *q <= cfg.fdr && f.z > Z95 {
            Some(Severity::Alert)
        } else {
            None
        };
    }
    let thresholds = flag_thresholds(&findings, cfg);
    // The strategy's trigger: a development worse than peers AND national
    // (`all`), or either (`any`).
    if cfg.trigger == Trigger::All {
        type Key<'k> = (usize, usize, Test, Option<&'k str>);
        let mut both: HashMap<Key<'_>, (bool, bool)> = HashMap::new();
        for f in findings
            .iter()
            .filter(|f| f.test != Test::Level && f.severity.is_some())
        {
            let e = both
                .entry((f.dept, f.indicator, f.test, f.rule))
                .or_default();
            if f.comparator == Comparator::Peers {
                e.0 = true
            } else {
                e.1 = true
            }
        }
        for f in findings.iter_mut().filter(|f| f.test != Test::Level) {
            if both
                .get(&(f.dept, f.indicator, f.test, f.rule))
                .is_none_or(|e| !(e.0 && e.1))
            {
                f.severity = None;
            }
        }
    }
    let flags = findings.iter().filter(|f| f.severity.is_some()).count();
    let tests = findings.len();
    Review {
        year,
        period: year.to_string(),
        scope: scope.to_vec(),
        peers: peers.to_vec(),
        peer_covariates,
        expected_false_alarms: expected_false_discoveries(&q, cfg.fdr).min(cfg.fdr * flags as f64),
        expected_false_alarms_unadjusted: expected_false_alarms_unadjusted(tests, 0.025),
        findings,
        too_small,
        too_small_departments,
        flagged_last_year,
        tests,
        thresholds,
    }
}

/// What every indicator's tests of an annual review share.
#[derive(Clone, Copy)]
struct AnnualCtx<'a> {
    panel: &'a Panel,
    catalogue: &'a Catalogue,
    year: i32,
    /// The departments judged (not too small), with their peers.
    judged: &'a [(usize, &'a PeerGroup)],
    cfg: &'a ReviewConfig,
    ls: LevelScale,
}

/// What is computed once per indicator, before its departments are tested:
/// the national funnels, the change windows, every department's slope and
/// the municipal totals.
struct Prepared<'a> {
    i: usize,
    kind: Kind,
    min_den: f64,
    worse: Worse,
    /// +1 when higher is worse, -1 when lower is: z > 0 always means worse.
    sign: f64,
    nat: National,
    nat_prev: National,
    windows: Vec<ChangeWindow<'a>>,
    /// First year of the slope window.
    t0: i32,
    slopes: Vec<Option<Dev>>,
    tau2_slope: f64,
    national_slope: HashMap<&'a str, Option<Dev>>,
    /// (municipality, housing type) -> pooled counts of the year.
    muni_totals: HashMap<(&'a str, &'a str), (f64, f64)>,
    /// The counts a pooled sum adds, per department and year (indexed as
    /// the panel's arrays): numerator and denominator where the numerator is
    /// finite and the denominator at least `min_den`, zero elsewhere.
    va: Vec<f64>,
    vb: Vec<f64>,
    /// The first year any test of the review pools (the earliest change
    /// window's base, the slope window, last year).
    ymin: i32,
}

/// A group's pooled counts per year, `ymin` to the review year: what every
/// comparison with the peers slices its windows from.
struct Yearly {
    ymin: i32,
    sums: Vec<(f64, f64)>,
}

impl Yearly {
    /// The pooled counts of year `y`.
    fn year(&self, y: i32) -> (f64, f64) {
        let k = y - self.ymin;
        if k < 0 {
            return (0.0, 0.0);
        }
        self.sums.get(k as usize).copied().unwrap_or((0.0, 0.0))
    }

    /// The pooled counts of the years `r`, added year by year.
    fn range(&self, r: &std::ops::RangeInclusive<i32>) -> (f64, f64) {
        r.clone().fold((0.0, 0.0), |(a, b), y| {
            let (x, n) = self.year(y);
            (a + x, b + n)
        })
    }
}

/// DerSimonian-Laird tau^2 of departments' developments (0 below 3).
fn tau2_of(devs: &mut dyn Iterator<Item = Dev>) -> f64 {
    let (ys, vs): (Vec<f64>, Vec<f64>) = devs
        .map(|x| x.test)
        .filter(|e| e.estimate.is_finite())
        .map(|e| (e.estimate, e.se.powi(2).max(1e-12)))
        .unzip();
    if ys.len() < 3 {
        0.0
    } else {
        tau2_dersimonian_laird(&ys, &vs)
    }
}

impl<'a> Prepared<'a> {
    fn new(ctx: &AnnualCtx<'a>, i: usize) -> Option<Prepared<'a>> {
        let (panel, year, cfg, ls) = (ctx.panel, ctx.year, ctx.cfg, ctx.ls);
        let ind = ctx.catalogue.get(&panel.indicators[i])?;
        if ind.direction == Direction::Context || ind.kind.is_value() || !ind.is_annual() {
            return None;
        }
        let (kind, dir, min_den) = (ind.kind, ind.direction, ind.min_denominator);
        let w = worse(dir);
        let mut by_type: HashMap<&'a str, Vec<usize>> = HashMap::new();
        for (x, dept) in panel.depts.iter().enumerate() {
            by_type
                .entry(dept.housing_type.as_str())
                .or_default()
                .push(x);
        }
        let mut p = Prepared {
            i,
            kind,
            min_den,
            worse: w,
            sign: if w == Worse::Lower { -1.0 } else { 1.0 },
            nat: national(panel, i, year, kind, dir, min_den, ls),
            nat_prev: national(panel, i, year - 1, kind, dir, min_den, ls),
            windows: Vec::new(),
            t0: year - cfg.slope_years as i32 + 1,
            slopes: Vec::new(),
            tau2_slope: 0.0,
            national_slope: HashMap::new(),
            muni_totals: HashMap::new(),
            va: Vec::new(),
            vb: Vec::new(),
            ymin: year - 1,
        };
        (p.va, p.vb) = panel.num[i]
            .iter()
            .zip(&panel.den[i])
            .map(|(&x, &y)| {
                if x.is_finite() && y >= min_den && y > 0.0 {
                    (x, y)
                } else {
                    (0.0, 0.0)
                }
            })
            .unzip();
        p.windows = cfg
            .change_years
            .iter()
            .map(|&w| p.window(panel, year, w as i32, &by_type))
            .collect();
        p.slopes = (0..panel.depts.len())
            .map(|d| p.slope(panel, year, &[d], false))
            .collect();
        p.tau2_slope = tau2_of(&mut p.slopes.iter().flatten().copied());
        p.ymin = p
            .windows
            .iter()
            .map(|w| *w.base.start())
            .chain([p.t0, year - 1])
            .min()
            .unwrap_or(year - 1);
        p.national_slope = by_type
            .iter()
            .map(|(t, m)| (*t, p.slope(panel, year, m, true)))
            .collect();
        for (x, dept) in panel.depts.iter().enumerate() {
            let (a, b) = panel.get(i, x, year);
            if a.is_finite() && b >= min_den && b > 0.0 {
                let e = p
                    .muni_totals
                    .entry((dept.municipality.as_str(), dept.housing_type.as_str()))
                    .or_insert((0.0, 0.0));
                e.0 += a;
                e.1 += b;
            }
        }
        Some(p)
    }

    /// A change window of `w` years: the last year against the one before
    /// (`last_year`), or the last two pooled against the three before them
    /// (`two_years`) - per department, its tau^2, and nationally per type.
    fn window(
        &self,
        panel: &Panel,
        year: i32,
        w: i32,
        by_type: &HashMap<&'a str, Vec<usize>>,
    ) -> ChangeWindow<'a> {
        let recent = (year - w + 1)..=year;
        let base = if w == 1 {
            (year - 1)..=(year - 1)
        } else {
            (year - w - 2)..=(year - w)
        };
        let mut win = ChangeWindow {
            rule: if w == 1 { "last_year" } else { "two_years" },
            recent,
            base,
            own: Vec::new(),
            tau2: 0.0,
            national: HashMap::new(),
        };
        win.own = (0..panel.depts.len())
            .map(|d| {
                let c = self.counts(panel, &win, &[d]);
                if c[1] >= self.min_den && c[3] >= self.min_den {
                    change(c[0], c[1], c[2], c[3], self.kind).map(|x| (x, c))
                } else {
                    None
                }
            })
            .collect();
        win.tau2 = tau2_of(&mut win.own.iter().flatten().map(|x| x.0));
        win.national = by_type
            .iter()
            .map(|(t, m)| (*t, self.change_of(panel, &win, m)))
            .collect();
        win
    }

    /// Pooled counts of `members` in a window: [recent num, recent den, base num, base den].
    fn counts(&self, panel: &Panel, w: &ChangeWindow<'_>, members: &[usize]) -> [f64; 4] {
        let (a1, b1) = pooled(
            panel,
            self.i,
            members.iter().copied(),
            w.recent.clone(),
            self.min_den,
        );
        let (a0, b0) = pooled(
            panel,
            self.i,
            members.iter().copied(),
            w.base.clone(),
            self.min_den,
        );
        [a1, b1, a0, b0]
    }

    /// The pooled counts of `members` per year from `ymin` to `year`, each
    /// year's summed over the members in order (as [`pooled`] sums them).
    fn yearly(&self, panel: &Panel, year: i32, members: &[usize]) -> Yearly {
        let n = (year - self.ymin + 1).max(0) as usize;
        let mut sums = vec![(0.0, 0.0); n];
        // The years held by the panel, as offsets into a department's row.
        let lo = (self.ymin - panel.first_year).max(0);
        let hi = (year - panel.first_year).min(panel.years as i32 - 1);
        if lo <= hi {
            let skip = (lo - (self.ymin - panel.first_year)) as usize;
            let (lo, hi) = (lo as usize, hi as usize);
            for &m in members {
                let row = m * panel.years;
                let (xa, xb) = (&self.va[row + lo..=row + hi], &self.vb[row + lo..=row + hi]);
                for ((o, a), b) in sums[skip..].iter_mut().zip(xa).zip(xb) {
                    o.0 += a;
                    o.1 += b;
                }
            }
        }
        Yearly {
            ymin: self.ymin,
            sums,
        }
    }

    /// The pooled change of a group in a window, from its yearly counts.
    fn change_of_yearly(&self, w: &ChangeWindow<'_>, y: &Yearly) -> Option<Dev> {
        let (a1, b1) = y.range(&w.recent);
        let (a0, b0) = y.range(&w.base);
        change(a1, b1, a0, b0, self.kind)
    }

    /// The slope of a group's pooled share over the slope window, from its
    /// yearly counts (as [`Prepared::slope`] of the group).
    fn slope_yearly(&self, year: i32, y: &Yearly) -> Option<Dev> {
        self.slope_of(year, |k| Some(y.year(k)))
    }

    /// The pooled change of a group in a window.
    fn change_of(&self, panel: &Panel, w: &ChangeWindow<'_>, members: &[usize]) -> Option<Dev> {
        let c = self.counts(panel, w, members);
        change(c[0], c[1], c[2], c[3], self.kind)
    }

    /// The slope of a share over the slope window: one department's own
    /// series, or a group's pooled one (`pooled`, missing years left out).
    fn slope(
        &self,
        panel: &Panel,
        year: i32,
        members: &[usize],
        pooled_group: bool,
    ) -> Option<Dev> {
        self.slope_of(year, |yy| {
            if pooled_group {
                Some(pooled(
                    panel,
                    self.i,
                    members.iter().copied(),
                    yy,
                    self.min_den,
                ))
            } else {
                let (a, b) = panel.get(self.i, members[0], yy);
                (a.is_finite() && b >= self.min_den).then_some((a, b))
            }
        })
    }

    /// The slope over the slope window of the counts `counts` gives per
    /// year (None: the year is left out).
    fn slope_of(&self, year: i32, counts: impl Fn(i32) -> Option<(f64, f64)>) -> Option<Dev> {
        if self.kind != Kind::Share {
            return None;
        }
        let (mut t, mut y, mut nn) = (vec![], vec![], vec![]);
        for yy in self.t0..=year {
            let Some((a, b)) = counts(yy) else { continue };
            if b > 0.0 {
                t.push(f64::from(yy - self.t0));
                y.push(a);
                nn.push(b);
            }
        }
        if t.len() >= 3 {
            share_slope(&t, &y, &nn)
        } else {
            None
        }
    }
}

/// One judged department's figures for an indicator, and how findings about
/// it are made.
struct Subjected {
    d: usize,
    i: usize,
    /// The year's counts.
    n1: f64,
    d1: f64,
    /// Last year's counts.
    pn0: f64,
    pd0: f64,
    /// The peers' pooled counts per year.
    peers: Yearly,
}

impl Subjected {
    /// A finding about this department: value and reference, their previous
    /// values, and the one-sided z (worse > 0) and p.
    fn finding(
        &self,
        test: Test,
        comparator: Comparator,
        now: (f64, f64),
        before: (f64, f64),
        zp: (f64, f64),
    ) -> Finding {
        Finding {
            dept: self.d,
            indicator: self.i,
            test,
            comparator,
            value: now.0,
            reference: now.1,
            previous: before.0,
            reference_previous: before.1,
            z: zp.0,
            p: zp.1,
            q: f64::NAN,
            severity: None,
            numerator: self.n1,
            previous_numerator: self.pn0,
            denominator: self.d1,
            rule: None,
            attribution: None,
            dispersion: (1.0, 0.0),
        }
    }

    fn previous(&self) -> f64 {
        if self.pd0 > 0.0 {
            self.pn0 / self.pd0
        } else {
            f64::NAN
        }
    }
}

/// The tests of indicator `i` (level, development, trend against peers,
/// nationally and in the municipality) for the judged departments.
fn test_indicator(ctx: &AnnualCtx<'_>, i: usize) -> IndicatorResult {
    let (mut out, mut small, mut last) = (Vec::new(), Vec::new(), Vec::new());
    let Some(prep) = Prepared::new(ctx, i) else {
        return (out, small, last);
    };
    let (panel, year) = (ctx.panel, ctx.year);
    let mut members = Vec::new();
    for &(d, group) in ctx.judged {
        let (n1, d1) = panel.get(i, d, year);
        if !(d1 >= prep.min_den && d1 > 0.0 && n1.is_finite()) {
            if n1.is_finite() || d1.is_finite() {
                small.push((d, i));
            }
            continue;
        }
        let (pn0, pd0) = panel.get(i, d, year - 1);
        members.clear();
        members.extend(group.iter().map(|p| p.0));
        let s = Subjected {
            d,
            i,
            n1,
            d1,
            pn0,
            pd0,
            peers: prep.yearly(panel, year, &members),
        };
        levels(ctx, &prep, &s, &mut out, &mut last);
        developments(ctx, &prep, &s, &mut out);
    }
    (out, small, last)
}

/// Level: against peers, nationally and in the municipality (and, for the
/// peers, whether the same comparison flagged a year earlier).
fn levels(
    ctx: &AnnualCtx<'_>,
    prep: &Prepared<'_>,
    s: &Subjected,
    out: &mut Vec<Finding>,
    last: &mut Vec<((usize, usize), bool)>,
) {
    let (panel, year, i, d) = (ctx.panel, ctx.year, prep.i, s.d);
    let (nat, nat_prev, sign) = (&prep.nat, &prep.nat_prev, prep.sign);
    let lt = LevelTest {
        scale: ctx.ls,
        kind: prep.kind,
        worse: prep.worse,
    };
    let value = s.n1 / s.d1;
    let prev = s.previous();
    let with_dispersion = |mut f: Finding| {
        f.dispersion = (nat.phi[d], nat.tau2[d]);
        f
    };
    let (pa, pb) = s.peers.year(year);
    let (qa, qb) = s.peers.year(year - 1);
    if pb > 0.0 {
        let target = pa / pb;
        let (z, p) = level_z(lt, (s.n1, s.d1), target, (nat.phi[d], nat.tau2[d]));
        let ref_prev = if qb > 0.0 { qa / qb } else { f64::NAN };
        out.push(with_dispersion(s.finding(
            Test::Level,
            Comparator::Peers,
            (value, target),
            (prev, ref_prev),
            (z * sign, p),
        )));
        // Persistence: the same comparison a year earlier.
        if s.pd0 >= prep.min_den && qb > 0.0 {
            let (z0, _) = level_z(
                lt,
                (s.pn0, s.pd0),
                qa / qb,
                (nat_prev.phi[d], nat_prev.tau2[d]),
            );
            last.push(((d, i), z0 * sign > Z95));
        }
    }
    if nat.z[d].is_finite() {
        out.push(with_dispersion(s.finding(
            Test::Level,
            Comparator::National,
            (value, nat.target[d]),
            (prev, nat_prev.target[d]),
            (nat.z[d] * sign, nat.p[d]),
        )));
    }
    // The municipality's other departments of the same housing type: totals less this one.
    let dept = &panel.depts[d];
    let (ta, tb) = prep
        .muni_totals
        .get(&(dept.municipality.as_str(), dept.housing_type.as_str()))
        .copied()
        .unwrap_or((0.0, 0.0));
    let (ma, mb) = (ta - s.n1, tb - s.d1);
    if mb > 0.0 {
        let (z, p) = level_z(lt, (s.n1, s.d1), ma / mb, (nat.phi[d], nat.tau2[d]));
        out.push(with_dispersion(s.finding(
            Test::Level,
            Comparator::Municipality,
            (value, ma / mb),
            (prev, f64::NAN),
            (z * sign, p),
        )));
    }
}

/// Development: the changes of every window and the slope, against peers
/// and nationally.
fn developments(ctx: &AnnualCtx<'_>, prep: &Prepared<'_>, s: &Subjected, out: &mut Vec<Finding>) {
    let (panel, year, d, sign) = (ctx.panel, ctx.year, s.d, prep.sign);
    let ty = panel.depts[d].housing_type.as_str();
    let one_sided = |z: f64| (z, 1.0 - bomon_stats::dist::pnorm(z));
    for w in &prep.windows {
        let Some((u, [a1, b1, a0, b0])) = w.own[d] else {
            continue;
        };
        for (comparator, c) in [
            (Comparator::Peers, prep.change_of_yearly(w, &s.peers)),
            (Comparator::National, w.national.get(ty).copied().flatten()),
        ] {
            let Some(c) = c else { continue };
            let z = compare(u.test, c.test, w.tau2) * sign;
            let mut f = s.finding(
                Test::Development,
                comparator,
                (u.shown, c.shown),
                (a0 / b0, f64::NAN),
                one_sided(z),
            );
            // The window's pooled counts: the prompt's "from ... to".
            f.numerator = a1;
            f.denominator = b1;
            f.previous_numerator = a0;
            f.rule = Some(w.rule);
            out.push(f);
        }
    }
    if let Some(u) = prep.slopes[d] {
        for (comparator, c) in [
            (Comparator::Peers, prep.slope_yearly(year, &s.peers)),
            (
                Comparator::National,
                prep.national_slope.get(ty).copied().flatten(),
            ),
        ] {
            let Some(c) = c else { continue };
            let z = compare(u.test, c.test, prep.tau2_slope) * sign;
            out.push(s.finding(
                Test::Trend,
                comparator,
                (u.shown, c.shown),
                (s.previous(), f64::NAN),
                one_sided(z),
            ));
        }
    }
}
