//! Funnel-plot comparison of units (Spiegelhalter 2005, "Funnel plots for
//! comparing institutional performance", Stat Med 24:1185), with the
//! overdispersion adjustments of FunnelPlotR and PHE's indicator methods.
//!
//! A unit is judged against a target (by default the pooled comparator rate
//! sum(numerator) / sum(denominator)) on a variance-stabilising scale:
//! arcsine-square-root for proportions, log or square root for indirectly
//! standardised ratios (observed / expected).

use crate::dist::{pbinom, pnorm, ppois, qbinom, qchisq, qnorm, qpois};
use crate::overdispersion::{phi as phi_of, tau2_moment, truncate, winsorise};
use crate::Severity;

/// What is being compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// numerator / denominator, a share of persons (binomial), on the
    /// arcsine-square-root scale (Spiegelhalter 2005; FunnelPlotR).
    Proportion,
    /// A share on the logit scale: the empirical logit
    /// ln((x + 0.5) / (n - x + 0.5)) against logit(target), standard error
    /// 1 / sqrt(n target (1 - target)). With additive overdispersion the
    /// between-unit differences are normal on the logit scale, as in a
    /// random-effects logistic model: for rare shares (a few per cent) the
    /// arcsine scale stretches the upper tail of that spread, and a normal
    /// tau^2 there underestimates it.
    ProportionLogit,
    /// observed / expected (numerator / denominator), an indirectly
    /// standardised ratio (Poisson), on the log scale (SHMI).
    RatioLog,
    /// observed / expected on the square-root scale (Spiegelhalter; CQC).
    RatioSqrt,
}

/// How excess between-unit variation is allowed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overdispersion {
    /// Plain binomial/Poisson limits.
    None,
    /// Multiplicative: variances scaled by phi (never below 1).
    Multiplicative,
    /// Additive random effect: tau^2 added to each unit's variance.
    Additive,
}

/// How limits are drawn when there is no overdispersion adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitMethod {
    /// Exact binomial/Poisson quantiles with interpolation (Spiegelhalter 2005, appendix).
    Exact,
    /// Normal approximation on the transformed scale.
    Normal,
    /// Wilson-score control limits for proportions, as PHE Fingertips and
    /// PHEindicatormethods::calculate_funnel_limits draw them (ratios fall
    /// back to exact Poisson limits).
    Wilson,
    /// Exact Poisson limits in the chi-square form (Garwood 1936), continuous
    /// in the expected count E: lower qchisq(a, 2E) / 2E, upper
    /// qchisq(1 - a, 2(E + 1)) / 2E, times the target - as FunnelPlotR draws
    /// unadjusted limits for standardised ratios. Slightly wider than `Exact`
    /// at the upper limit. Proportions fall back to `Exact`.
    Garwood,
}

/// How extreme z-scores are kept from inflating the overdispersion estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    /// Winsorise: z beyond the `winsorise` quantiles are set to them
    /// (Spiegelhalter 2005; FunnelPlotR's default outside SHMI).
    Winsorise,
    /// Truncate: the units in the lowest and highest `winsorise` rank groups
    /// are left out of phi and tau^2 (NHS Digital's SHMI; FunnelPlotR with
    /// `sr_method = "SHMI"`).
    Truncate,
}

/// Which way is worse, for one-sided flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worse {
    /// Higher values are worse.
    Higher,
    /// Lower values are worse.
    Lower,
}

/// Options of a funnel comparison.
#[derive(Debug, Clone, Copy)]
pub struct FunnelOptions {
    /// Proportion or ratio.
    pub measure: Measure,
    /// Overdispersion adjustment.
    pub overdispersion: Overdispersion,
    /// Share of z-scores in each tail that are Winsorised (or, with
    /// `trim = Truncate`, left out) before estimating phi (0.1 = 10 %); must
    /// lie in [0, 0.5) - at 0.5 nothing is left and phi is NaN (then no
    /// adjustment is made).
    pub winsorise: f64,
    /// Winsorise or truncate the tails.
    pub trim: Trim,
    /// Limits without overdispersion.
    pub limits: LimitMethod,
    /// Target; `None` = pooled sum(numerator) / sum(denominator) (1 for ratios).
    pub target: Option<f64>,
    /// Which way is worse.
    pub worse: Worse,
}

impl Default for FunnelOptions {
    fn default() -> Self {
        FunnelOptions {
            measure: Measure::Proportion,
            overdispersion: Overdispersion::Multiplicative,
            winsorise: 0.1,
            trim: Trim::Winsorise,
            limits: LimitMethod::Exact,
            target: None,
            worse: Worse::Higher,
        }
    }
}

/// Two-sided 95 % limit multiplier (alert).
pub const Z95: f64 = 1.959_963_984_540_054;
/// Two-sided 99.8 % limit multiplier (alarm).
pub const Z998: f64 = 3.090_232_306_167_813;

/// One unit's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FunnelPoint {
    /// numerator / denominator.
    pub value: f64,
    /// z-score on the transformed scale, unadjusted.
    pub z: f64,
    /// z-score adjusted for overdispersion (= z without adjustment).
    pub z_adjusted: f64,
    /// One-sided p-value in the worse direction, from `z_adjusted`.
    pub p: f64,
    /// 95 % limits on the original scale.
    pub lower95: f64,
    /// 95 % upper limit.
    pub upper95: f64,
    /// 99.8 % lower limit.
    pub lower998: f64,
    /// 99.8 % upper limit.
    pub upper998: f64,
    /// Alert beyond 95 %, alarm beyond 99.8 %, on the worse side only.
    pub flag: Option<Severity>,
}

/// The result of a funnel comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Funnel {
    /// The target (pooled rate, or 1 for ratios).
    pub target: f64,
    /// Overdispersion factor from Winsorised z-scores (reported even when unused).
    pub phi: f64,
    /// Between-unit variance on the transformed scale (0 unless additive).
    pub tau2: f64,
    /// Per unit, in input order. Units with a zero denominator get NaN.
    pub points: Vec<FunnelPoint>,
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    (p / (1.0 - p)).ln()
}

struct Scale {
    measure: Measure,
    /// The target on the original scale (the logit's standard error needs it).
    target: f64,
}

impl Scale {
    fn y(&self, num: f64, den: f64) -> f64 {
        match self.measure {
            Measure::Proportion => (num / den).clamp(0.0, 1.0).sqrt().asin(),
            Measure::ProportionLogit => {
                let x = num.clamp(0.0, den);
                ((x + 0.5) / (den - x + 0.5)).ln()
            }
            // log(0) has no value; half an event keeps zero counts on the plot.
            Measure::RatioLog => (num.max(0.5) / den).ln(),
            Measure::RatioSqrt => (num / den).sqrt(),
        }
    }
    fn t(&self, target: f64) -> f64 {
        match self.measure {
            Measure::Proportion => target.clamp(0.0, 1.0).sqrt().asin(),
            Measure::ProportionLogit => logit(target),
            Measure::RatioLog => target.ln(),
            Measure::RatioSqrt => target.sqrt(),
        }
    }
    fn s(&self, den: f64) -> f64 {
        match self.measure {
            Measure::Proportion | Measure::RatioSqrt => 1.0 / (2.0 * den.sqrt()),
            Measure::ProportionLogit => {
                let p = self.target.clamp(1e-9, 1.0 - 1e-9);
                1.0 / (den * p * (1.0 - p)).sqrt()
            }
            Measure::RatioLog => 1.0 / den.sqrt(),
        }
    }
    fn back(&self, x: f64) -> f64 {
        match self.measure {
            Measure::Proportion => x.clamp(0.0, std::f64::consts::FRAC_PI_2).sin().powi(2),
            Measure::ProportionLogit => 1.0 / (1.0 + (-x).exp()),
            Measure::RatioLog => x.exp(),
            Measure::RatioSqrt => x.max(0.0).powi(2),
        }
    }
}

/// Exact limit with interpolation (Spiegelhalter 2005, appendix A.1): the
/// `prob` quantile of the count distribution at the target, divided by the
/// denominator, interpolated so that limits are smooth in the denominator.
pub fn exact_limit(measure: Measure, target: f64, den: f64, prob: f64) -> f64 {
    match measure {
        Measure::Proportion | Measure::ProportionLogit => {
            let n = den.round().max(1.0) as u64;
            let r = qbinom(prob, n, target) as f64;
            let fr = pbinom(r, n, target);
            let fr1 = pbinom(r - 1.0, n, target);
            let alpha = if fr > fr1 {
                (fr - prob) / (fr - fr1)
            } else {
                0.0
            };
            ((r - alpha) / n as f64).clamp(0.0, 1.0)
        }
        Measure::RatioLog | Measure::RatioSqrt => {
            let lambda = den * target;
            let r = qpois(prob, lambda) as f64;
            let fr = ppois(r, lambda);
            let fr1 = ppois(r - 1.0, lambda);
            let alpha = if fr > fr1 {
                (fr - prob) / (fr - fr1)
            } else {
                0.0
            };
            ((r - alpha) / den).max(0.0)
        }
    }
}

/// Exact Poisson control limit in the chi-square form (Garwood 1936) for a
/// ratio with expected count `den` (> 0): the `prob` limit is
/// qchisq(prob, 2E) / 2E below the target (prob < 0.5) and
/// qchisq(prob, 2(E + 1)) / 2E above it, times `target`.
pub fn garwood_limit(target: f64, den: f64, prob: f64) -> f64 {
    let df = if prob > 0.5 {
        2.0 * (den + 1.0)
    } else {
        2.0 * den
    };
    target * qchisq(prob, df) / (2.0 * den)
}

/// Wilson-score control limit for a proportion `target` at denominator `n`:
/// the solution of the Wilson score interval for the observed proportion, at
/// `z = qnorm(prob)` (upper limit for prob > 0.5, lower otherwise). The closed
/// form of PHE's Fingertips funnel limits (PHEindicatormethods, R/Funnels.R).
pub fn wilson_limit(target: f64, n: f64, prob: f64) -> f64 {
    let upper = prob > 0.5;
    let z = qnorm(if upper { prob } else { 1.0 - prob });
    let z2 = z * z;
    let av = target;
    let a = av * (n / z2 + 1.0);
    let disc = (-8.0 * av * (n / z2 + 1.0)).powi(2)
        - 64.0 * (1.0 / z2 + 1.0 / n) * av * (n * (av * (n / z2 + 2.0) - 1.0) + z2 * (av - 1.0));
    let root = disc.max(0.0).sqrt() / 8.0;
    let v = (if upper { a + root } else { a - root }) / (1.0 / z2 + 1.0 / n) / n;
    v.clamp(0.0, 1.0)
}

/// Compares units (numerator, denominator) in a funnel plot.
pub fn funnel(numerators: &[f64], denominators: &[f64], opts: &FunnelOptions) -> Funnel {
    assert_eq!(
        numerators.len(),
        denominators.len(),
        "one denominator per numerator"
    );
    let valid =
        |i: usize| denominators[i] > 0.0 && numerators[i].is_finite() && numerators[i] >= 0.0;
    let target = opts.target.unwrap_or_else(|| match opts.measure {
        Measure::Proportion | Measure::ProportionLogit => {
            let (n, d) = (0..numerators.len())
                .filter(|&i| valid(i))
                .fold((0.0, 0.0), |(a, b), i| {
                    (a + numerators[i], b + denominators[i])
                });
            n / d
        }
        _ => 1.0,
    });
    let scale = Scale {
        measure: opts.measure,
        target,
    };
    let t = scale.t(target);
    let z: Vec<f64> = (0..numerators.len())
        .map(|i| {
            if valid(i) {
                (scale.y(numerators[i], denominators[i]) - t) / scale.s(denominators[i])
            } else {
                f64::NAN
            }
        })
        .collect();
    // The units and z-scores phi and tau^2 are estimated from.
    let (phi, s_used) = match opts.trim {
        Trim::Winsorise => {
            let zf: Vec<f64> = z.iter().copied().filter(|v| v.is_finite()).collect();
            let s: Vec<f64> = (0..numerators.len())
                .filter(|&i| valid(i))
                .map(|i| scale.s(denominators[i]))
                .collect();
            (phi_of(&winsorise(&zf, opts.winsorise)), s)
        }
        Trim::Truncate => {
            let kept = truncate(&z, opts.winsorise);
            let zk: Vec<f64> = kept.iter().map(|&i| z[i]).collect();
            let s = kept.iter().map(|&i| scale.s(denominators[i])).collect();
            (phi_of(&zk), s)
        }
    };
    let tau2 = match opts.overdispersion {
        Overdispersion::Additive => tau2_moment(s_used.len() as f64 * phi, &s_used),
        _ => 0.0,
    };
    // Never narrower than the within-unit variation.
    let phi_used = if opts.overdispersion == Overdispersion::Multiplicative {
        phi.max(1.0)
    } else {
        1.0
    };

    let points = (0..numerators.len())
        .map(|i| {
            if !valid(i) {
                return FunnelPoint {
                    value: f64::NAN,
                    z: f64::NAN,
                    z_adjusted: f64::NAN,
                    p: f64::NAN,
                    lower95: f64::NAN,
                    upper95: f64::NAN,
                    lower998: f64::NAN,
                    upper998: f64::NAN,
                    flag: None,
                };
            }
            let (num, den) = (numerators[i], denominators[i]);
            let s = scale.s(den);
            let sd = (s * s * phi_used + tau2).sqrt();
            let y = scale.y(num, den);
            let z_adj = (y - t) / sd;
            let exact =
                opts.overdispersion == Overdispersion::None && opts.limits != LimitMethod::Normal;
            let lim = |zq: f64, p: f64| {
                if exact
                    && opts.limits == LimitMethod::Wilson
                    && matches!(opts.measure, Measure::Proportion | Measure::ProportionLogit)
                {
                    wilson_limit(target, den, p)
                } else if exact
                    && opts.limits == LimitMethod::Garwood
                    && matches!(opts.measure, Measure::RatioLog | Measure::RatioSqrt)
                {
                    garwood_limit(target, den, p)
                } else if exact {
                    exact_limit(opts.measure, target, den, p)
                } else {
                    scale.back(t + zq * sd)
                }
            };
            let (l95, u95) = (lim(-Z95, 0.025), lim(Z95, 0.975));
            let (l998, u998) = (lim(-Z998, 0.001), lim(Z998, 0.999));
            let value = num / den;
            let worse_z = match opts.worse {
                Worse::Higher => z_adj,
                Worse::Lower => -z_adj,
            };
            let flag = if exact {
                let (beyond998, beyond95) = match opts.worse {
                    Worse::Higher => (value > u998, value > u95),
                    Worse::Lower => (value < l998, value < l95),
                };
                if beyond998 {
                    Some(Severity::Alarm)
                } else if beyond95 {
                    Some(Severity::Alert)
                } else {
                    None
                }
            } else if worse_z > Z998 {
                Some(Severity::Alarm)
            } else if worse_z > Z95 {
                Some(Severity::Alert)
            } else {
                None
            };
            FunnelPoint {
                value,
                z: z[i],
                z_adjusted: z_adj,
                p: 1.0 - pnorm(worse_z),
                lower95: l95,
                upper95: u95,
                lower998: l998,
                upper998: u998,
                flag,
            }
        })
        .collect();
    Funnel {
        target,
        phi,
        tau2,
        points,
    }
}

/// The normal-approximation limit for a unit of size `den`, `z` standard
/// errors from the target (for drawing the funnel's curves).
pub fn normal_limit(measure: Measure, target: f64, den: f64, z: f64, phi: f64, tau2: f64) -> f64 {
    let scale = Scale { measure, target };
    let s = scale.s(den);
    scale.back(scale.t(target) + z * (s * s * phi.max(1.0) + tau2).sqrt())
}

/// The z-value for a two-sided coverage (0.95 -> 1.96).
pub fn z_for_coverage(coverage: f64) -> f64 {
    qnorm(0.5 + coverage / 2.0)
}

/// A unit's z-score against a given target on the transformed scale, with the
/// overdispersion (phi, never below 1; tau^2) estimated elsewhere - e.g. from
/// all departments nationally - and the one-sided p-value in the worse
/// direction. NaN when the unit has no denominator.
pub fn z_against(
    measure: Measure,
    num: f64,
    den: f64,
    target: f64,
    phi: f64,
    tau2: f64,
    worse: Worse,
) -> (f64, f64) {
    // A ratio against a zero target has no finite log scale: no test.
    let ratio = matches!(measure, Measure::RatioLog | Measure::RatioSqrt);
    if !(den > 0.0 && num >= 0.0 && target.is_finite()) || (ratio && target <= 0.0) {
        return (f64::NAN, f64::NAN);
    }
    let scale = Scale { measure, target };
    let s = scale.s(den);
    let z = (scale.y(num, den) - scale.t(target)) / (s * s * phi.max(1.0) + tau2.max(0.0)).sqrt();
    let wz = match worse {
        Worse::Higher => z,
        Worse::Lower => -z,
    };
    (z, 1.0 - pnorm(wz))
}
