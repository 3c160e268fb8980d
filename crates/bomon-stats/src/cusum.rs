//! Early warning: one-sided Bernoulli CUSUM (Steiner, Cook, Farewell, Treasure
//! 2000, Biostatistics 1:441) for grouped binomial data, and an EWMA chart for
//! proportions with varying denominators.

/// One step of a CUSUM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CusumPoint {
    /// The CUSUM statistic after this period.
    pub s: f64,
    /// True when it exceeds the decision threshold h.
    pub signal: bool,
}

/// Upward Bernoulli CUSUM testing in-control p0 against an odds ratio
/// `odds_ratio` (> 1 detects increases): for y events among n,
/// W = y ln(p1/p0) + (n - y) ln((1 - p1)/(1 - p0)), S_t = max(0, S_{t-1} + W).
/// After a signal the statistic restarts at 0.
pub fn bernoulli_cusum(y: &[f64], n: &[f64], p0: f64, odds_ratio: f64, h: f64) -> Vec<CusumPoint> {
    let p1 = odds_ratio * p0 / (1.0 - p0 + odds_ratio * p0);
    let (a, b) = ((p1 / p0).ln(), ((1.0 - p1) / (1.0 - p0)).ln());
    let mut s = 0.0;
    y.iter()
        .zip(n)
        .map(|(&yi, &ni)| {
            if ni > 0.0 && yi.is_finite() {
                s = (s + yi * a + (ni - yi) * b).max(0.0);
            }
            let signal = s > h;
            let out = CusumPoint { s, signal };
            if signal {
                s = 0.0;
            }
            out
        })
        .collect()
}

/// One step of an EWMA chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EwmaPoint {
    /// The smoothed proportion.
    pub z: f64,
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
}

/// EWMA of proportions y/n around p0 with weight `lambda` and limits at `l`
/// standard deviations, using the exact variance for varying n:
/// Var(z_t) = sum_i lambda^2 (1 - lambda)^(2(t - i)) p0(1 - p0)/n_i.
pub fn ewma_proportion(y: &[f64], n: &[f64], p0: f64, lambda: f64, l: f64) -> Vec<EwmaPoint> {
    let mut z = p0;
    let mut var = 0.0;
    y.iter()
        .zip(n)
        .map(|(&yi, &ni)| {
            if ni > 0.0 && yi.is_finite() {
                z = lambda * (yi / ni) + (1.0 - lambda) * z;
                var = (1.0 - lambda).powi(2) * var + lambda * lambda * p0 * (1.0 - p0) / ni;
            }
            let sd = var.sqrt();
            EwmaPoint {
                z,
                lower: (p0 - l * sd).max(0.0),
                upper: (p0 + l * sd).min(1.0),
            }
        })
        .collect()
}

/// Upward tabular CUSUM (Page 1954) on standardised values:
/// S_t = max(0, S_{t-1} + z_t - k), a signal while S_t > h. Missing values
/// leave S unchanged. Unlike [`bernoulli_cusum`] it does not restart after a
/// signal: the statistic says whether a sustained shift is present now.
/// With z standardised by an overdispersion-aware sigma (Laney) it stays
/// honest on overdispersed counts, where a likelihood CUSUM cries wolf.
pub fn standardised_cusum(z: &[f64], k: f64, h: f64) -> Vec<CusumPoint> {
    let mut s = 0.0_f64;
    z.iter()
        .map(|&zi| {
            if zi.is_finite() {
                s = (s + zi - k).max(0.0);
            }
            CusumPoint { s, signal: s > h }
        })
        .collect()
}

/// Siegmund's (1985) approximation of a one-sided CUSUM's average run length
/// for a standardised mean shift `delta`, reference value `k` and decision
/// interval `h`: with D = delta - k and b = h + 1.166,
/// ARL = (exp(-2Db) + 2Db - 1) / (2D^2), and b^2 when D = 0.
pub fn siegmund_arl(delta: f64, k: f64, h: f64) -> f64 {
    let d = delta - k;
    let b = h + 1.166;
    if d.abs() < 1e-9 {
        b * b
    } else {
        ((-2.0 * d * b).exp() + 2.0 * d * b - 1.0) / (2.0 * d * d)
    }
}

/// One-sided log-likelihood-ratio CUSUM on counts (Lucas 1985, "Counted
/// data CUSUM's", Technometrics 27:129; Hawkins & Olwell 1998, ch. 5, for
/// the negative binomial): each period's count x_t is judged exactly, as a
/// gamma-Poisson (negative binomial) count with in-control mean mu0_t and
/// variance mu0 + tau2 mu0^2, against the same count shifted by `delta`
/// standard errors, mu1 = mu0 + delta sqrt(mu0 + tau2_design mu0^2)
/// (downwards when `upper` is false, floored at 1 % of mu0). The increment
/// is the log-likelihood ratio
/// W = x ln(mu1 (r + mu0) / (mu0 (r + mu1))) + r ln((r + mu0) / (r + mu1)),
/// r = 1 / tau2 (Poisson: x ln(mu1 / mu0) - (mu1 - mu0)), and
/// S_t = max(0, S_{t-1} + W_t), a signal while S_t > h.
///
/// No normal approximation: for one or two events a quarter the increments
/// are the exact likelihood ratio, where a CUSUM of z-scores is blunt. For
/// large counts W tends to delta (z - delta / 2), so with h = delta x h_z
/// the chart is the standardised CUSUM of [`standardised_cusum`] with
/// k = delta / 2 and decision interval h_z, scaled by delta.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountCusum {
    /// The counts' overdispersion in the likelihood (0: Poisson).
    pub tau2: f64,
    /// The overdispersion of the standard error the shift is measured in.
    pub tau2_design: f64,
    /// The shift to detect, in standard errors.
    pub delta: f64,
    /// The decision interval, on the log-likelihood scale.
    pub h: f64,
    /// Whether increases are of concern (else decreases).
    pub upper: bool,
    /// Shrinks each increment's departure from its in-control mean,
    /// (x - mu0) c, by this factor (0 < f <= 1; for autocorrelated series);
    /// 1 leaves the likelihood ratio exact.
    pub shrink: f64,
}

impl CountCusum {
    /// The chart of counts `x` against in-control means `mu0`. Missing
    /// counts or means leave S unchanged; like [`standardised_cusum`] it does
    /// not restart after a signal.
    pub fn run(&self, x: &[f64], mu0: &[f64]) -> Vec<CusumPoint> {
        let mut s = 0.0_f64;
        x.iter()
            .zip(mu0)
            .map(|(&xi, &m0)| {
                if let Some((c, drift)) = self.weights(m0).filter(|_| xi.is_finite()) {
                    s = (s + self.shrink * c * (xi - m0) + c * m0 + drift).max(0.0);
                }
                CusumPoint {
                    s,
                    signal: s > self.h,
                }
            })
            .collect()
    }

    /// The increment's slope c and constant for in-control mean `m0`:
    /// W = c x + constant.
    fn weights(&self, m0: f64) -> Option<(f64, f64)> {
        if !(m0.is_finite() && m0 > 0.0) {
            return None;
        }
        let sd = (m0 + self.tau2_design * m0 * m0).sqrt();
        let m1 = if self.upper {
            m0 + self.delta * sd
        } else {
            (m0 - self.delta * sd).max(0.01 * m0)
        };
        Some(if self.tau2 * m0 < 1e-9 {
            ((m1 / m0).ln(), -(m1 - m0))
        } else {
            let r = 1.0 / self.tau2;
            (
                (m1 * (r + m0) / (m0 * (r + m1))).ln(),
                r * ((r + m0) / (r + m1)).ln(),
            )
        })
    }
}

/// The probability that the standardised CUSUM of [`standardised_cusum`]
/// (reference `k`, interval `h`), started at 0 and run over `w` independent
/// standard normal values, ends above `h`: the chance that an in-control
/// series is flagged at the last point of a `w`-point window (signals
/// persist, so this is the expected share of flagged series in a quarter,
/// not one onset per average run length). Computed by carrying the
/// statistic's distribution from point to point on a grid of 0.02 (an atom
/// at 0 and a density above it, up to h + 8).
pub fn window_flag_probability(k: f64, h: f64, w: usize) -> f64 {
    use crate::dist::pnorm;
    let step = 0.02;
    let top = h.max(0.0) + 8.0;
    let n = (top / step).ceil() as usize + 1;
    let phi = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    // mass[0]: the atom at 0; mass[j], j >= 1: the cell ((j - 1/2) step, (j + 1/2) step].
    let mut mass = vec![0.0; n];
    mass[0] = 1.0;
    for _ in 0..w {
        let mut next = vec![0.0; n];
        for (i, &m) in mass.iter().enumerate() {
            if m < 1e-15 {
                continue;
            }
            let s = i as f64 * step;
            // S' = max(0, s + z - k): at 0 with P(z <= k - s).
            next[0] += m * pnorm(k - s);
            for (j, v) in next.iter_mut().enumerate().skip(1) {
                *v += m * phi(j as f64 * step - s + k) * step;
            }
        }
        mass = next;
    }
    mass.iter()
        .enumerate()
        .skip(1)
        .filter(|(j, _)| *j as f64 * step > h)
        .map(|(_, m)| m)
        .sum()
}
