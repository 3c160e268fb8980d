//! Statistical process control for quarterly series: run charts, XmR (I)
//! charts, P/U charts and Laney's P'/U' charts, with the Anhøj run rules
//! (qicharts2) or the NHS "Making Data Count" rules (NHSRplotthedots).

use crate::dist::qbinom;
use crate::funnel::Worse;

/// Chart types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Run chart: median centre line, no limits.
    Run,
    /// Individuals and moving range chart for plain values.
    Xmr,
    /// P chart for proportions with varying denominators.
    P,
    /// Laney's P' chart: P chart with between-subgroup variation.
    PPrime,
    /// U chart for rates (events per unit of exposure).
    U,
    /// Laney's U' chart.
    UPrime,
}

/// Rule sets for special-cause variation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// Shewhart 3-sigma limits plus the Anhøj runs analysis.
    Anhoej,
    /// NHS Making Data Count: outside limits, 2 of 3 beyond 2 sigma, 7 on one side, 7-point trend.
    Nhs,
}

/// The rule that marked a point (highest precedence first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// A point beyond the 3-sigma limits.
    OutsideLimits,
    /// Two of three consecutive points beyond 2 sigma on the same side (NHS).
    TwoOfThree,
    /// Seven or more consecutive points on one side of the centre (NHS).
    Shift,
    /// Seven or more consecutive increasing or decreasing points (NHS).
    Trend,
    /// An unusually long run on one side of the centre (Anhøj).
    LongestRun,
    /// Unusually few crossings of the centre (Anhøj).
    FewCrossings,
}

impl Rule {
    /// Short name for outputs.
    pub fn name(self) -> &'static str {
        match self {
            Rule::OutsideLimits => "outside_limits",
            Rule::TwoOfThree => "two_of_three",
            Rule::Shift => "shift",
            Rule::Trend => "trend",
            Rule::LongestRun => "longest_run",
            Rule::FewCrossings => "few_crossings",
        }
    }
}

/// Options of an SPC chart.
#[derive(Debug, Clone)]
pub struct SpcOptions {
    /// Chart type.
    pub chart: Chart,
    /// Rule set.
    pub rules: Rules,
    /// Freeze centre and limits after this many points of each phase (None: use all).
    pub freeze: Option<usize>,
    /// Indices at which a new phase (rebased limits) starts.
    pub rebase: Vec<usize>,
    /// Which way is worse, to tell concern from improvement.
    pub worse: Option<Worse>,
    /// Guard against autocorrelation (XmR, P', U'): sigma is at least the
    /// standard deviation of the baseline's (standardised) values. Moving
    /// ranges see only quarter-to-quarter variation; when whole years run high
    /// or low together they understate the spread, and the limits then cry
    /// wolf. Off by default (the textbook charts).
    pub sd_floor: bool,
    /// P, P', U, U': a between-period variance known from elsewhere (e.g.
    /// pooled over many comparable units), on the relative scale: sigma_i^2 =
    /// se_i^2 + tau^2 * centre^2, instead of Laney's moving-range scaling. The
    /// additive random-effects form of Spiegelhalter's funnel (2005), over
    /// time; a unit's own 12 baseline points estimate Laney's sigma_z poorly.
    pub between_variance: Option<f64>,
}

impl Default for SpcOptions {
    fn default() -> Self {
        SpcOptions {
            chart: Chart::Xmr,
            rules: Rules::Anhoej,
            freeze: None,
            rebase: vec![],
            worse: None,
            sd_floor: false,
            between_variance: None,
        }
    }
}

/// One point of a chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpcPoint {
    /// The plotted value (value, or numerator / denominator).
    pub value: f64,
    /// Centre line.
    pub centre: f64,
    /// Lower 3-sigma limit (NaN for run charts).
    pub lower: f64,
    /// Upper 3-sigma limit.
    pub upper: f64,
    /// The rule that marked this point, if any.
    pub rule: Option<Rule>,
    /// +1 when the signal lies above the centre, -1 below, 0 none.
    pub side: i8,
    /// Some(true) for a signal in the worse direction, Some(false) for an
    /// improvement, None without a signal or without a direction.
    pub concern: Option<bool>,
}

/// Runs analysis of one phase (Anhøj, Olesen 2014, PLoS ONE 9:e113825).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunsAnalysis {
    /// Points not on the centre line.
    pub n_useful: usize,
    /// Longest run on one side.
    pub longest_run: usize,
    /// Its upper limit: round(log2(n)) + 3.
    pub longest_run_max: usize,
    /// Crossings of the centre line.
    pub crossings: usize,
    /// Its lower limit: qbinom(0.05, n - 1, 0.5).
    pub crossings_min: usize,
    /// True when either limit is broken.
    pub signal: bool,
}

/// The Anhøj critical values for `n` useful observations:
/// (longest run max, crossings min).
pub fn anhoej_limits(n: usize) -> (usize, usize) {
    if n == 0 {
        return (0, 0);
    }
    let longest = (n as f64).log2().round() as usize + 3;
    (longest, min_crossings(n))
}

/// qbinom(0.05, n - 1, 0.5): a bisection over binomial distribution
/// functions, each an incomplete beta function - and quarterly charts ask
/// it for the same few lengths thousands of times, so each length below
/// 256 is computed once and kept.
fn min_crossings(n: usize) -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const TABLE: usize = 256;
    const UNKNOWN: usize = usize::MAX;
    static CROSSINGS: [AtomicUsize; TABLE] = [const { AtomicUsize::new(UNKNOWN) }; TABLE];
    let at = |n: usize| qbinom(0.05, (n - 1) as u64, 0.5) as usize;
    let Some(slot) = CROSSINGS.get(n) else {
        return at(n);
    };
    match slot.load(Ordering::Relaxed) {
        UNKNOWN => {
            let c = at(n);
            slot.store(c, Ordering::Relaxed);
            c
        }
        c => c,
    }
}

/// Runs analysis of `values` around `centre` (points on the centre are skipped).
pub fn runs_analysis(values: &[f64], centre: &[f64]) -> RunsAnalysis {
    let signs: Vec<i8> = values
        .iter()
        .zip(centre)
        .filter(|(v, c)| v.is_finite() && c.is_finite() && v != c)
        .map(|(v, c)| if v > c { 1 } else { -1 })
        .collect();
    let n = signs.len();
    let (mut longest, mut run, mut crossings) = (0usize, 0usize, 0usize);
    for i in 0..n {
        if i > 0 && signs[i] == signs[i - 1] {
            run += 1;
        } else {
            if i > 0 {
                crossings += 1;
            }
            run = 1;
        }
        longest = longest.max(run);
    }
    let (lmax, cmin) = anhoej_limits(n);
    RunsAnalysis {
        n_useful: n,
        longest_run: longest,
        longest_run_max: lmax,
        crossings,
        crossings_min: cmin,
        signal: n > 0 && (longest > lmax || crossings < cmin),
    }
}

/// The result of an SPC chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Spc {
    /// Per point.
    pub points: Vec<SpcPoint>,
    /// Per phase (Anhøj rules only; empty for NHS).
    pub runs: Vec<RunsAnalysis>,
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v
        .filter(|x| x.is_finite())
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

/// Average moving range with screening: moving ranges above 3.267 x the
/// average are dropped and the average recomputed (Nelson 1982; as qicharts2
/// and NHSRplotthedots do).
pub fn screened_amr(x: &[f64]) -> f64 {
    let mr: Vec<f64> = x
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .filter(|v| v.is_finite())
        .collect();
    let amr = mean(mr.iter().copied());
    let ul = 3.267 * amr;
    mean(
        mr.iter()
            .copied()
            .filter(|&m| m < ul || (amr == 0.0 && m == 0.0)),
    )
}

/// Sample standard deviation of the finite values (NaN for fewer than two).
pub fn sample_sd(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if v.len() < 2 {
        return f64::NAN;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// d2 for subgroups of two: sigma = AMR / 1.128.
pub const D2: f64 = 1.128;

/// Draws an SPC chart. `denominators` is required for P, P', U and U'.
pub fn spc(values: &[f64], denominators: Option<&[f64]>, opts: &SpcOptions) -> Spc {
    let n = values.len();
    let den = |i: usize| denominators.map_or(1.0, |d| d[i]);
    let y: Vec<f64> = (0..n)
        .map(|i| match opts.chart {
            Chart::Run | Chart::Xmr => values[i],
            _ => {
                let d = den(i);
                if d > 0.0 {
                    values[i] / d
                } else {
                    f64::NAN
                }
            }
        })
        .collect();
    let mut starts: Vec<usize> = std::iter::once(0)
        .chain(opts.rebase.iter().copied().filter(|&r| r > 0 && r < n))
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let mut centre = vec![f64::NAN; n];
    let mut sigma = vec![f64::NAN; n];
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(n);
        let base_end = opts.freeze.map_or(e, |f| (s + f).min(e));
        let base = s..base_end;
        match opts.chart {
            Chart::Run => {
                let mut v: Vec<f64> = y[base].iter().copied().filter(|x| x.is_finite()).collect();
                v.sort_by(f64::total_cmp);
                let m = if v.is_empty() {
                    f64::NAN
                } else if v.len() % 2 == 1 {
                    v[v.len() / 2]
                } else {
                    (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
                };
                centre[s..e].fill(m);
            }
            Chart::Xmr => {
                let m = mean(y[base.clone()].iter().copied());
                let mut sd = screened_amr(&y[base.clone()]) / D2;
                if opts.sd_floor {
                    sd = sd.max(sample_sd(&y[base]));
                }
                centre[s..e].fill(m);
                sigma[s..e].fill(sd);
            }
            Chart::P | Chart::PPrime | Chart::U | Chart::UPrime => {
                let (sn, sd) = base
                    .clone()
                    .filter(|&i| den(i) > 0.0 && values[i].is_finite())
                    .fold((0.0, 0.0), |(a, b), i| (a + values[i], b + den(i)));
                let cl = sn / sd;
                let se = |i: usize| -> f64 {
                    let d = den(i);
                    match opts.chart {
                        Chart::P | Chart::PPrime => (cl * (1.0 - cl) / d).sqrt(),
                        _ => (cl / d).sqrt(),
                    }
                };
                // Laney (2002): scale by the spread of the standardised values.
                let sigma_z = if matches!(opts.chart, Chart::PPrime | Chart::UPrime) {
                    let z: Vec<f64> = base.clone().map(|i| (y[i] - cl) / se(i)).collect();
                    let s = screened_amr(&z) / D2;
                    if opts.sd_floor {
                        s.max(sample_sd(&z))
                    } else {
                        s
                    }
                } else {
                    1.0
                };
                for i in s..e {
                    centre[i] = cl;
                    sigma[i] = match opts.between_variance {
                        Some(t2) => (se(i).powi(2) + t2.max(0.0) * cl * cl).sqrt(),
                        None => se(i) * sigma_z,
                    };
                }
            }
        }
    }
    let bounded = matches!(opts.chart, Chart::P | Chart::PPrime);
    let nonneg = matches!(
        opts.chart,
        Chart::P | Chart::PPrime | Chart::U | Chart::UPrime
    );
    let mut points: Vec<SpcPoint> = (0..n)
        .map(|i| {
            let (mut lo, mut hi) = if opts.chart == Chart::Run {
                (f64::NAN, f64::NAN)
            } else {
                (centre[i] - 3.0 * sigma[i], centre[i] + 3.0 * sigma[i])
            };
            if nonneg {
                lo = lo.max(0.0);
            }
            if bounded {
                hi = hi.min(1.0);
            }
            SpcPoint {
                value: y[i],
                centre: centre[i],
                lower: lo,
                upper: hi,
                rule: None,
                side: 0,
                concern: None,
            }
        })
        .collect();

    let mut mark = |p: &mut SpcPoint, rule: Rule, side: i8| {
        if p.rule.is_none_or(|r| rule < r) {
            p.rule = Some(rule);
            p.side = side;
        }
    };
    // Shewhart: a point beyond the limits.
    for p in points.iter_mut() {
        if p.value > p.upper {
            mark(p, Rule::OutsideLimits, 1);
        } else if p.value < p.lower {
            mark(p, Rule::OutsideLimits, -1);
        }
    }
    let mut runs = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(n);
        match opts.rules {
            Rules::Anhoej => {
                let ra = runs_analysis(&y[s..e], &centre[s..e]);
                if ra.signal {
                    let rule = if ra.longest_run > ra.longest_run_max {
                        Rule::LongestRun
                    } else {
                        Rule::FewCrossings
                    };
                    // Direction: the side of the last longest run.
                    let side = longest_run_side(&y[s..e], &centre[s..e]);
                    for p in &mut points[s..e] {
                        mark(p, rule, side);
                    }
                }
                runs.push(ra);
            }
            Rules::Nhs => nhs_rules(&mut points[s..e], &mut mark),
        }
    }
    if let Some(w) = opts.worse {
        for p in points
            .iter_mut()
            .filter(|p| p.rule.is_some() && p.side != 0)
        {
            p.concern = Some(match w {
                Worse::Higher => p.side > 0,
                Worse::Lower => p.side < 0,
            });
        }
    }
    Spc { points, runs }
}

fn longest_run_side(y: &[f64], c: &[f64]) -> i8 {
    let mut best = (0usize, 0i8);
    let (mut run, mut side) = (0usize, 0i8);
    for (v, m) in y.iter().zip(c) {
        if !(v.is_finite() && m.is_finite()) || v == m {
            continue;
        }
        let s = if v > m { 1 } else { -1 };
        if s == side {
            run += 1
        } else {
            side = s;
            run = 1
        }
        if run >= best.0 {
            best = (run, side);
        }
    }
    best.1
}

/// The NHS Making Data Count rules within one phase (NHSRplotthedots).
fn nhs_rules(points: &mut [SpcPoint], mark: &mut impl FnMut(&mut SpcPoint, Rule, i8)) {
    let n = points.len();
    let rel: Vec<i8> = points
        .iter()
        .map(|p| {
            if !(p.value.is_finite() && p.centre.is_finite()) || p.value == p.centre {
                0
            } else if p.value > p.centre {
                1
            } else {
                -1
            }
        })
        .collect();
    // Two of three beyond 2 sigma on the same side.
    let near: Vec<bool> = points
        .iter()
        .map(|p| (p.value - p.centre).abs() > 2.0 / 3.0 * (p.upper - p.centre).abs())
        .collect();
    for i in 0..n.saturating_sub(2) {
        for side in [1i8, -1] {
            let hits: Vec<usize> = (i..i + 3).filter(|&j| near[j] && rel[j] == side).collect();
            if hits.len() >= 2 {
                for j in hits {
                    mark(&mut points[j], Rule::TwoOfThree, side);
                }
            }
        }
    }
    // Shift: 7 or more on one side of the mean.
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && rel[j + 1] == rel[i] && rel[i] != 0 {
            j += 1;
        }
        if rel[i] != 0 && j - i + 1 >= 7 {
            for p in &mut points[i..=j] {
                mark(p, Rule::Shift, rel[i]);
            }
        }
        i = j + 1;
    }
    // Trend: 7 or more points each higher (lower) than the one before.
    let dir: Vec<i8> = points
        .windows(2)
        .map(|w| {
            if w[1].value > w[0].value {
                1
            } else if w[1].value < w[0].value {
                -1
            } else {
                0
            }
        })
        .collect();
    let mut i = 0;
    while i < dir.len() {
        let mut j = i;
        while j + 1 < dir.len() && dir[j + 1] == dir[i] && dir[i] != 0 {
            j += 1;
        }
        if dir[i] != 0 && j - i + 1 >= 6 {
            for p in &mut points[i..=j + 1] {
                mark(p, Rule::Trend, dir[i]);
            }
        }
        i = j + 1;
    }
}
