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
    if tau2 * mu < 1e-9 {
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
    0.5 * (nb_upper(x, mu, tau2) + nb_upper(x + 1.0, mu, tau2))
}

/// Mid-p lower tail: 0.5 (P(X <= x) + P(X <= x - 1)).
pub fn nb_lower_midp(x: f64, mu: f64, tau2: f64) -> f64 {
    0.5 * ((1.0 - nb_upper(x + 1.0, mu, tau2)) + (1.0 - nb_upper(x, mu, tau2)))
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
}
