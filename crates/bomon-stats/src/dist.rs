//! Distribution helpers: normal quantiles, exact binomial and Poisson
//! quantiles and cumulative probabilities (thin wrappers over statrs).

use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF, Normal, Poisson};

/// The standard normal quantile function (qnorm).
pub fn qnorm(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// The standard normal distribution function (pnorm).
pub fn pnorm(x: f64) -> f64 {
    Normal::standard().cdf(x)
}

/// The chi-square quantile function (qchisq) with `df` degrees of freedom
/// (any positive real); NaN for df <= 0.
pub fn qchisq(p: f64, df: f64) -> f64 {
    ChiSquared::new(df)
        .map(|d| d.inverse_cdf(p))
        .unwrap_or(f64::NAN)
}

/// P(X <= k) for X ~ Binomial(n, p) (pbinom); 0 for k < 0.
pub fn pbinom(k: f64, n: u64, p: f64) -> f64 {
    if k < 0.0 {
        return 0.0;
    }
    Binomial::new(p.clamp(0.0, 1.0), n)
        .map(|b| b.cdf(k.floor() as u64))
        .unwrap_or(f64::NAN)
}

/// The smallest k with P(X <= k) >= q for X ~ Binomial(n, p) (qbinom).
pub fn qbinom(q: f64, n: u64, p: f64) -> u64 {
    if p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    let b = Binomial::new(p, n).expect("valid binomial");
    // Bisection on the CDF: robust where generic inverse_cdf is slow for large n.
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if b.cdf(mid) >= q * (1.0 - 64.0 * f64::EPSILON) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// P(X <= k) for X ~ Poisson(lambda) (ppois); 0 for k < 0.
pub fn ppois(k: f64, lambda: f64) -> f64 {
    if k < 0.0 {
        return 0.0;
    }
    if lambda <= 0.0 {
        return 1.0;
    }
    Poisson::new(lambda)
        .map(|d| d.cdf(k.floor() as u64))
        .unwrap_or(f64::NAN)
}

/// The smallest k with P(X <= k) >= q for X ~ Poisson(lambda) (qpois).
pub fn qpois(q: f64, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    let d = Poisson::new(lambda).expect("valid Poisson");
    let mut hi = (lambda + 10.0 * lambda.sqrt() + 10.0).ceil() as u64;
    while d.cdf(hi) < q {
        hi *= 2;
    }
    let mut lo = 0u64;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if d.cdf(mid) >= q * (1.0 - 64.0 * f64::EPSILON) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Below this relative overdispersion (tau^2 mu: the share the variance
/// exceeds mu by) a gamma-Poisson count is taken as Poisson. The tails
/// differ by less than that share, and the incomplete beta function loses
/// accuracy as its shape r = 1/tau^2 grows beyond some 10^9.
pub const POISSON_BELOW: f64 = 1e-6;

/// P(X >= x) for a gamma-Poisson (negative binomial) count with mean `mu`
/// and variance mu + tau2 * mu^2, continuous in x (for integer x it is the
/// exact tail): I_{1-p}(x, r) with size r = 1 / tau2 and p = r / (r + mu);
/// with tau2 = 0 the Poisson tail P(x, mu) (regularised lower gamma). 1 for
/// x <= 0.
pub fn nb_upper(x: f64, mu: f64, tau2: f64) -> f64 {
    use statrs::function::beta::beta_reg;
    use statrs::function::gamma::gamma_lr;
    if x <= 0.0 {
        return 1.0;
    }
    if mu <= 0.0 {
        return 0.0;
    }
    if tau2 * mu < POISSON_BELOW {
        return gamma_lr(x, mu);
    }
    let r = 1.0 / tau2;
    let p = r / (r + mu);
    beta_reg(x, r, 1.0 - p)
}

/// Mid-p upper tail of a gamma-Poisson count at x: 0.5 (P(X >= x) + P(X >= x + 1)).
/// Its probit, qnorm(1 - midp), is a calibrated z for small counts, where the
/// normal approximation's upper tail is far too thin.
pub fn nb_upper_midp(x: f64, mu: f64, tau2: f64) -> f64 {
    if let Some((ge, pm)) = summed_tail(x, mu, tau2) {
        return ge - 0.5 * pm;
    }
    if x <= 0.0 || mu <= 0.0 {
        return 0.5 * (nb_upper(x, mu, tau2) + nb_upper(x + 1.0, mu, tau2));
    }
    // P(X >= x + 1) = P(X >= x) - P(X = x): one incomplete beta (or gamma)
    // function instead of two.
    nb_upper(x, mu, tau2) - 0.5 * nb_pmf(x, mu, tau2)
}

/// Mid-p lower tail: 0.5 (P(X <= x) + P(X <= x - 1)).
pub fn nb_lower_midp(x: f64, mu: f64, tau2: f64) -> f64 {
    if x < 0.0 || mu <= 0.0 {
        return 0.5 * ((1.0 - nb_upper(x + 1.0, mu, tau2)) + (1.0 - nb_upper(x, mu, tau2)));
    }
    if let Some((ge, pm)) = summed_tail(x, mu, tau2) {
        // P(X <= x) - P(X = x) / 2, from the side that holds it exactly.
        return (1.0 - ge + 0.5 * pm).max(0.0);
    }
    // P(X <= x) = 1 - P(X >= x + 1) = 1 - P(X >= x) + P(X = x).
    let pm = nb_pmf(x, mu, tau2);
    let ge = if x <= 0.0 { 1.0 } else { nb_upper(x, mu, tau2) };
    (1.0 - ge + 0.5 * pm).max(0.0)
}

/// The probability masses of [`nb_upper`]'s gamma-Poisson count, walked
/// count by count: P(X = 0) and the ratio P(X = c + 1) / P(X = c).
struct Masses {
    mu: f64,
    tau2: f64,
    /// Taken as Poisson (as in nb_upper; a NaN tau2 gives NaN masses).
    poisson: bool,
    r: f64,
    q: f64,
}

impl Masses {
    fn new(mu: f64, tau2: f64) -> Masses {
        let poisson = tau2 * mu < POISSON_BELOW;
        let (r, q) = if poisson {
            (f64::INFINITY, 0.0)
        } else {
            (1.0 / tau2, mu / (1.0 / tau2 + mu))
        };
        Masses {
            mu,
            tau2,
            poisson,
            r,
            q,
        }
    }

    /// P(X = 0): (1 - q)^r, or e^-mu for the Poisson.
    fn at_zero(&self) -> f64 {
        if self.poisson {
            (-self.mu).exp()
        } else {
            (-self.r * (self.mu * self.tau2).ln_1p()).exp()
        }
    }

    /// P(X = c + 1) / P(X = c): (c + r) / (c + 1) q, or mu / (c + 1).
    #[inline]
    fn up(&self, c: f64) -> f64 {
        if self.poisson {
            self.mu / (c + 1.0)
        } else {
            (c + self.r) / (c + 1.0) * self.q
        }
    }
}

/// Below this many events (the count and its mean) [`nb_upper_midp`] and
/// [`nb_lower_midp`] of an integer count sum probability masses instead of
/// evaluating an incomplete beta (or gamma) function.
pub const SUM_BELOW: f64 = 100.0;

/// (P(X >= x), P(X = x)) for a whole count 1 <= x < [`SUM_BELOW`] of
/// [`nb_upper`]'s gamma-Poisson, mean below [`SUM_BELOW`]: the masses from
/// P(X = 0) = (1 - q)^r (e^-mu for the Poisson), exact, carried count to
/// count by the ratio of successive masses ((c + r) / (c + 1) q, or
/// mu / (c + 1)) - a few dozen multiplications where most quarterly
/// series have a handful of events. The tail is 1 - P(X < x) while that is
/// at least a half; beyond, it is the sum of the masses from x up, so a
/// small tail keeps its relative accuracy (about 1e-15 x). None where the
/// functions apply instead.
fn summed_tail(x: f64, mu: f64, tau2: f64) -> Option<(f64, f64)> {
    if !((1.0..SUM_BELOW).contains(&x) && x.fract() == 0.0 && mu > 0.0 && mu < SUM_BELOW) {
        return None;
    }
    let masses = Masses::new(mu, tau2);
    let up = |c: f64| masses.up(c);
    let mut pm = masses.at_zero();
    let (mut below, mut c) = (0.0, 0.0);
    while c < x {
        below += pm;
        pm *= up(c);
        c += 1.0;
    }
    if below <= 0.5 {
        return Some((1.0 - below, pm));
    }
    // Past the median the masses fall, ever faster: sum them until the
    // next adds nothing.
    let (mut ge, mut term) = (0.0, pm);
    for _ in 0..100_000 {
        ge += term;
        term *= up(c);
        c += 1.0;
        if term.is_nan() || term <= ge * 1e-17 {
            break;
        }
    }
    Some((ge, pm))
}

/// P(X = x) for the gamma-Poisson count of [`nb_upper`], continuous in x
/// as that tail is: nb_upper(x) - nb_upper(x + 1), which is
/// Gamma(x + r) / (Gamma(x + 1) Gamma(r)) q^x (1 - q)^r with q = mu / (r + mu)
/// (the incomplete beta function's recurrence, DLMF 8.17.20), and the
/// Poisson mu^x e^-mu / Gamma(x + 1) (DLMF 8.8.11) below [`POISSON_BELOW`].
/// From log-gamma functions, relative error about 1e-16 x ln Gamma(x + r).
pub fn nb_pmf(x: f64, mu: f64, tau2: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    if x < 0.0 || mu <= 0.0 {
        return if x == 0.0 { 1.0 } else { 0.0 };
    }
    if tau2 * mu < POISSON_BELOW {
        return (x * mu.ln() - mu - ln_gamma(x + 1.0)).exp();
    }
    let r = 1.0 / tau2;
    // ln q = ln mu - ln(r + mu); r ln(1 - q) = -r ln(1 + mu tau2).
    let ln_q = mu.ln() - (r + mu).ln();
    (ln_gamma(x + r) - ln_gamma(r) - ln_gamma(x + 1.0) + x * ln_q - r * (mu * tau2).ln_1p()).exp()
}

/// The first count beyond `mu` (upwards when `upper`, else downwards) whose
/// gamma-Poisson mid-p tail, as a probit z (`-qnorm(midp)`), exceeds `z`:
/// the alarm line of a count chart. None when there is none (downwards: not
/// even at 0; upwards: not within mu + 60 sd + 60).
///
/// The same answer as evaluating [`nb_upper_midp`] / [`nb_lower_midp`] at
/// every count in turn, at the cost of a few tails: the tail at the start
/// is computed once, then carried from count to count by the probability
/// mass, itself carried by the ratio of successive probabilities
/// ((c + r) / (c + 1) (1 - p) for the negative binomial, mu / (c + 1) for
/// the Poisson); the count found is confirmed by the exact tails.
pub fn nb_midp_beyond(mu: f64, tau2: f64, z: f64, upper: bool) -> Option<f64> {
    if !(mu.is_finite() && mu > 0.0) {
        return None;
    }
    let zat = |c: f64| {
        let p = if upper {
            nb_upper_midp(c, mu, tau2)
        } else {
            nb_lower_midp(c, mu, tau2)
        };
        -qnorm(p.clamp(1e-300, 1.0 - 1e-16))
    };
    let masses = Masses::new(mu, tau2);
    let up = |c: f64| masses.up(c);
    let target = pnorm(-z);
    let sd = (mu + tau2 * mu * mu).sqrt();
    // Below WALK_BELOW events the walk starts at 0, where P(X >= 0) = 1 and
    // P(X = 0) = (1 - q)^r (e^-mu for the Poisson) are exact, and carries
    // the mass up to the mean: a few dozen multiplications instead of an
    // incomplete beta function (most quarterly series have a handful of
    // events a quarter, and every quarter of every chart has a line).
    const WALK_BELOW: f64 = 100.0;
    // (P(X >= c), P(X = c)) at c = `to`, carried up from 0.
    let carried = |to: f64| {
        let mut pm = masses.at_zero();
        let (mut ge, mut c) = (1.0, 0.0);
        while c < to {
            ge -= pm;
            pm *= up(c);
            c += 1.0;
        }
        (ge, pm)
    };
    let found = if upper {
        let top = (mu + 60.0 * sd + 60.0).ceil();
        let mut c = mu.floor();
        // ge = P(X >= c), pm = P(X = c).
        let (mut ge, mut pm) = if mu < WALK_BELOW {
            carried(c)
        } else {
            (nb_upper(c, mu, tau2), nb_pmf(c, mu, tau2))
        };
        let mut before = f64::INFINITY;
        loop {
            if c > top {
                break None;
            }
            // mid-p at c: P(X >= c) - P(X = c) / 2.
            let mid = ge - 0.5 * pm;
            if mid < target {
                break Some((c, mid, before));
            }
            before = mid;
            ge -= pm;
            pm *= up(c);
            c += 1.0;
        }
    } else {
        let mut c = mu.ceil();
        // le = P(X <= c) = 1 - P(X >= c) + P(X = c), pm = P(X = c).
        let (mut le, mut pm) = if mu < WALK_BELOW {
            let (ge, pm) = carried(c);
            (1.0 - ge + pm, pm)
        } else {
            let pm = nb_pmf(c, mu, tau2);
            (1.0 - nb_upper(c, mu, tau2) + pm, pm)
        };
        let mut before = f64::INFINITY;
        loop {
            if c < 0.0 {
                break None;
            }
            let mid = le - 0.5 * pm;
            if mid < target {
                break Some((c, mid, before));
            }
            before = mid;
            le -= pm;
            if c >= 1.0 {
                pm /= up(c - 1.0);
            }
            c -= 1.0;
        }
    };
    // Confirm with the exact tails where the carried sums could differ
    // from them: step to the first count that truly exceeds. Clear of the
    // line by 1e-4 of it on both sides - the usual case - the carried
    // answer stands (on the national quarterly run the carried tails were
    // off by up to 2e-7 of the line, some 2,000 counts from the start; with
    // this margin its 1.2 million lines are the same as confirmed ones).
    let (mut c, mid, before) = found?;
    let margin = 1e-4 * target;
    if mid < target - margin && before > target + margin {
        return Some(c);
    }
    let step = if upper { 1.0 } else { -1.0 };
    let beyond = |c: f64| zat(c) > z;
    for _ in 0..3 {
        if !beyond(c) {
            c += step;
        } else if (upper && c - 1.0 >= mu.floor() || !upper && c + 1.0 <= mu.ceil())
            && beyond(c - step)
        {
            c -= step;
        } else {
            return Some(c);
        }
    }
    beyond(c).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from R 4.x: qnorm(0.975), qnorm(0.999), qbinom(0.05, 9, 0.5),
    // qpois(0.975, 10), pbinom(3, 10, 0.3).
    #[test]
    fn matches_r_reference_values() {
        assert!((qnorm(0.975) - 1.959963984540054).abs() < 1e-9);
        assert!((qnorm(0.999) - 3.090232306167813).abs() < 1e-9);
        assert_eq!(qbinom(0.05, 9, 0.5), 2);
        assert_eq!(qpois(0.975, 10.0), 17);
        assert!((pbinom(3.0, 10, 0.3) - 0.6496107184).abs() < 1e-9);
        assert!((ppois(17.0, 10.0) - 0.9857224).abs() < 1e-6);
    }

    /// The probability mass agrees with the difference of the tails it
    /// replaces, and with hand-computed values: dnbinom(3, size = 2, mu = 4)
    /// = C(4, 3) (1/3)^2 (2/3)^3 = 32/243; dpois(2, 3) = 4.5 e^-3.
    #[test]
    fn pmf_is_the_difference_of_tails() {
        assert!((nb_pmf(3.0, 4.0, 0.5) - 32.0 / 243.0).abs() < 1e-13);
        assert!((nb_pmf(2.0, 3.0, 0.0) - 4.5 * (-3.0f64).exp()).abs() < 1e-14);
        for &(mu, tau2) in &[
            (0.3, 0.2),
            (2.0, 0.05),
            (40.0, 0.01),
            (900.0, 1e-5),
            (5.0, 0.0),
        ] {
            for &x in &[0.0, 1.0, 2.5, 7.0, 60.0] {
                let diff = nb_upper(x, mu, tau2) - nb_upper(x + 1.0, mu, tau2);
                let pm = nb_pmf(x, mu, tau2);
                assert!(
                    (pm - diff).abs() <= 1e-12 + 1e-9 * diff.abs(),
                    "x {x} mu {mu} tau2 {tau2}: pmf {pm} vs tails {diff}"
                );
                let up = 0.5 * (nb_upper(x, mu, tau2) + nb_upper(x + 1.0, mu, tau2));
                assert!((nb_upper_midp(x, mu, tau2) - up).abs() < 1e-12);
                let lo =
                    0.5 * ((1.0 - nb_upper(x + 1.0, mu, tau2)) + (1.0 - nb_upper(x, mu, tau2)));
                assert!((nb_lower_midp(x, mu, tau2) - lo).abs() < 1e-12);
            }
        }
    }

    /// The tails summed from probability masses are the incomplete beta
    /// (gamma) function's, to 1e-10 of their size, far into the tails
    /// (down to 1e-250) and on both sides of the mean; the lower mid-p to
    /// 1e-12 absolutely, as its complement is formed.
    #[test]
    fn summed_tails_are_the_functions() {
        let mut worst = 0.0f64;
        for &mu in &[0.02, 0.3, 1.0, 2.7, 9.5, 31.0, 99.0] {
            for &tau2 in &[0.0, 1e-8, 0.003, 0.05, 0.4, 3.0] {
                for k in 1..100 {
                    let x = k as f64;
                    let (ge, pm) = summed_tail(x, mu, tau2).expect("in range");
                    let want = nb_upper(x, mu, tau2);
                    let want_pm = nb_pmf(x, mu, tau2);
                    if want < 1e-250 {
                        continue;
                    }
                    let rel = ((ge - want) / want).abs();
                    worst = worst.max(rel);
                    assert!(rel < 1e-10, "x {x} mu {mu} tau2 {tau2}: {ge} vs {want}");
                    assert!(
                        ((pm - want_pm) / want_pm).abs() < 1e-10,
                        "pmf x {x} mu {mu} tau2 {tau2}: {pm} vs {want_pm}"
                    );
                    let lo = (1.0 - want + 0.5 * want_pm).max(0.0);
                    assert!((nb_lower_midp(x, mu, tau2) - lo).abs() < 1e-12);
                }
            }
        }
        assert!(worst > 0.0, "the two paths are computed independently");
        // Where they differ most the sums are the more accurate: I_q(79,
        // 1/0.003) at q = 0.02 / (1/0.003 + 0.02) to 50 digits (mpmath
        // 1.3 betainc, regularized) is 3.5543365021028692e-248; the
        // incomplete beta function is off by 8e-11 of it.
        let (ge, _) = summed_tail(79.0, 0.02, 0.003).unwrap();
        assert!((ge / 3.5543365021028692e-248 - 1.0).abs() < 1e-13, "{ge:e}");
        // Out of range, and fractional counts: the functions.
        assert!(summed_tail(100.0, 5.0, 0.1).is_none());
        assert!(summed_tail(3.0, 100.0, 0.1).is_none());
        assert!(summed_tail(2.5, 5.0, 0.1).is_none());
        assert!(summed_tail(0.0, 5.0, 0.1).is_none());
    }

    /// The carried search finds the count a scan over every count finds.
    #[test]
    fn midp_beyond_agrees_with_a_scan() {
        let scan = |mu: f64, tau2: f64, upper: bool, line: f64| {
            let z = |c: f64| {
                let p = if upper {
                    nb_upper_midp(c, mu, tau2)
                } else {
                    nb_lower_midp(c, mu, tau2)
                };
                -qnorm(p.clamp(1e-300, 1.0 - 1e-16))
            };
            let sd = (mu + tau2 * mu * mu).sqrt();
            if upper {
                let mut c = mu.floor();
                while c <= (mu + 60.0 * sd + 60.0).ceil() {
                    if z(c) > line {
                        return Some(c);
                    }
                    c += 1.0;
                }
                None
            } else {
                let mut c = mu.ceil();
                while c >= 0.0 {
                    if z(c) > line {
                        return Some(c);
                    }
                    c -= 1.0;
                }
                None
            }
        };
        let mut n = 0;
        // The listed means, and a geometric grid of 60 from 0.02 to 2,500
        // at the two alarm lines in use.
        let grid = (0..60).map(|k| 0.02 * 1.22_f64.powi(k));
        let means: Vec<f64> = [0.05, 0.3, 1.0, 2.5, 4.9, 12.0, 40.0, 150.0, 900.0]
            .into_iter()
            .chain(grid)
            .collect();
        for &mu in &means {
            for &tau2 in &[0.0, 1e-12, 0.002, 0.05, 0.4, 2.0] {
                for (upper, line) in [
                    (true, 3.0),
                    (false, 3.0),
                    (true, 3.25),
                    (false, 3.25),
                    (true, 0.3),
                    (false, 0.3),
                ] {
                    let want = scan(mu, tau2, upper, line);
                    assert_eq!(
                        nb_midp_beyond(mu, tau2, line, upper),
                        want,
                        "mu {mu} tau2 {tau2} upper {upper} line {line}"
                    );
                    n += want.is_some() as usize;
                }
            }
        }
        assert!(n > 60, "{n} lines found");
    }
}
