//! Development over time: change between two periods, slope over several,
//! the Mann-Kendall test with Sen's slope, and a unit's development against
//! its comparators' with between-unit heterogeneity.

use crate::dist::pnorm;

/// An estimate with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
}

/// The change from period 0 to period 1 as a log rate ratio
/// ln((y1/n1) / (y0/n0)) with the Katz standard error for proportions,
/// sqrt(1/y1 - 1/n1 + 1/y0 - 1/n0). Zero counts get 0.5 added to every cell.
pub fn log_rate_ratio(y1: f64, n1: f64, y0: f64, n0: f64) -> Estimate {
    let (y1, n1, y0, n0) = if y1 == 0.0 || y0 == 0.0 {
        (y1 + 0.5, n1 + 0.5, y0 + 0.5, n0 + 0.5)
    } else {
        (y1, n1, y0, n0)
    };
    Estimate {
        estimate: ((y1 / n1) / (y0 / n0)).ln(),
        se: (1.0 / y1 - 1.0 / n1 + 1.0 / y0 - 1.0 / n0).max(0.0).sqrt(),
    }
}

/// Weighted least-squares slope of `y` on `t` with weights `w` taken as inverse
/// variances: slope = sum w (t - tw)(y - yw) / sum w (t - tw)^2, se = 1 / sqrt(sum w (t - tw)^2).
/// `None` with fewer than two usable points.
pub fn wls_slope(t: &[f64], y: &[f64], w: &[f64]) -> Option<Estimate> {
    let idx: Vec<usize> = (0..t.len())
        .filter(|&i| t[i].is_finite() && y[i].is_finite() && w[i].is_finite() && w[i] > 0.0)
        .collect();
    if idx.len() < 2 {
        return None;
    }
    let sw: f64 = idx.iter().map(|&i| w[i]).sum();
    let tw = idx.iter().map(|&i| w[i] * t[i]).sum::<f64>() / sw;
    let yw = idx.iter().map(|&i| w[i] * y[i]).sum::<f64>() / sw;
    let sxx: f64 = idx.iter().map(|&i| w[i] * (t[i] - tw).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = idx.iter().map(|&i| w[i] * (t[i] - tw) * (y[i] - yw)).sum();
    Some(Estimate {
        estimate: sxy / sxx,
        se: (1.0 / sxx).sqrt(),
    })
}

/// Slope of a proportion over periods `t` from counts: WLS on y_i / n_i with
/// binomial weights n_i / (p(1 - p)) at the pooled p. The standard error is
/// scaled up by the Pearson dispersion of the residuals when it exceeds 1,
/// so year-to-year noise beyond binomial widens it.
pub fn proportion_slope(t: &[f64], y: &[f64], n: &[f64]) -> Option<Estimate> {
    let (sy, sn) = y
        .iter()
        .zip(n)
        .filter(|(yi, ni)| yi.is_finite() && **ni > 0.0)
        .fold((0.0, 0.0), |(a, b), (yi, ni)| (a + yi, b + ni));
    if sn <= 0.0 {
        return None;
    }
    let p = (sy / sn).clamp(1e-9, 1.0 - 1e-9);
    let rate: Vec<f64> = y
        .iter()
        .zip(n)
        .map(|(yi, ni)| if *ni > 0.0 { yi / ni } else { f64::NAN })
        .collect();
    let w: Vec<f64> = n
        .iter()
        .map(|ni| if *ni > 0.0 { ni / (p * (1.0 - p)) } else { 0.0 })
        .collect();
    let est = wls_slope(t, &rate, &w)?;
    let m = rate
        .iter()
        .zip(&w)
        .filter(|(r, w)| r.is_finite() && **w > 0.0)
        .count();
    if m > 2 {
        // Pearson dispersion of the fitted line.
        let sw: f64 = w.iter().sum();
        let tw = (0..t.len())
            .filter(|&i| w[i] > 0.0)
            .map(|i| w[i] * t[i])
            .sum::<f64>()
            / sw;
        let yw = (0..t.len())
            .filter(|&i| w[i] > 0.0)
            .map(|i| w[i] * rate[i])
            .sum::<f64>()
            / sw;
        let chi2: f64 = (0..t.len())
            .filter(|&i| w[i] > 0.0 && rate[i].is_finite())
            .map(|i| w[i] * (rate[i] - (yw + est.estimate * (t[i] - tw))).powi(2))
            .sum();
        let disp = chi2 / (m - 2) as f64;
        if disp > 1.0 {
            return Some(Estimate {
                estimate: est.estimate,
                se: est.se * disp.sqrt(),
            });
        }
    }
    Some(est)
}

/// The slope of a binomial GLM with logit link, logit(p_i) = a + b t_i,
/// fitted by maximum likelihood (iteratively reweighted least squares) from
/// `y` events among `n` at times `t`, with the Wald standard error of b from
/// the information at the fit. The slope per unit of `t` on the logit scale.
/// `None` with fewer than two usable points, when every count is 0 or every
/// count is n (no finite estimate), or when the fit does not converge.
pub fn logistic_slope(t: &[f64], y: &[f64], n: &[f64]) -> Option<Estimate> {
    let idx: Vec<usize> = (0..t.len())
        .filter(|&i| t[i].is_finite() && y[i].is_finite() && n[i] > 0.0 && y[i] >= 0.0)
        .collect();
    if idx.len() < 2 {
        return None;
    }
    let (sy, sn) = idx
        .iter()
        .fold((0.0, 0.0), |(a, b), &i| (a + y[i].min(n[i]), b + n[i]));
    if sy <= 0.0 || sy >= sn {
        return None;
    }
    let p0 = sy / sn;
    let (mut a, mut b) = ((p0 / (1.0 - p0)).ln(), 0.0);
    // The working rows of a step, one buffer for every step.
    let mut rows = Vec::with_capacity(idx.len());
    for _ in 0..50 {
        // One Newton step: weighted least squares of the working response.
        let (mut sw, mut swt, mut swz) = (0.0, 0.0, 0.0);
        rows.clear();
        for &i in &idx {
            let eta = a + b * t[i];
            let mu = 1.0 / (1.0 + (-eta).exp());
            let w = n[i] * mu * (1.0 - mu);
            if w.is_nan() || w <= 1e-12 {
                return None;
            }
            let z = eta + (y[i].min(n[i]) - n[i] * mu) / w;
            sw += w;
            swt += w * t[i];
            swz += w * z;
            rows.push((w, t[i], z));
        }
        let (tw, zw) = (swt / sw, swz / sw);
        let (sxx, sxz) = rows.iter().fold((0.0, 0.0), |(p, q), &(w, ti, z)| {
            (p + w * (ti - tw).powi(2), q + w * (ti - tw) * (z - zw))
        });
        if sxx <= 0.0 {
            return None;
        }
        let nb = sxz / sxx;
        let na = zw - nb * tw;
        let done = (nb - b).abs() < 1e-10 && (na - a).abs() < 1e-10;
        (a, b) = (na, nb);
        if !(a.is_finite() && b.is_finite()) || b.abs() > 50.0 {
            return None;
        }
        if done {
            // The information at the fit.
            let (mut sw, mut swt) = (0.0, 0.0);
            rows.clear();
            rows.extend(idx.iter().map(|&i| {
                let mu = 1.0 / (1.0 + (-(a + b * t[i])).exp());
                (n[i] * mu * (1.0 - mu), t[i], 0.0)
            }));
            for &(w, ti, _) in &rows {
                sw += w;
                swt += w * ti;
            }
            let tw = swt / sw;
            let sxx: f64 = rows.iter().map(|&(w, ti, _)| w * (ti - tw).powi(2)).sum();
            return Some(Estimate {
                estimate: b,
                se: (1.0 / sxx).sqrt(),
            });
        }
    }
    None
}

/// A unit's development against its comparators': z = (u - c) / sqrt(se_u^2 + se_c^2 + tau^2),
/// where tau^2 is the between-unit variance of developments among comparators.
pub fn compare(unit: Estimate, comparator: Estimate, tau2: f64) -> f64 {
    (unit.estimate - comparator.estimate)
        / (unit.se.powi(2) + comparator.se.powi(2) + tau2.max(0.0)).sqrt()
}

/// The result of the Mann-Kendall trend test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// Number of values used (missing ones dropped).
    pub n: usize,
    /// Kendall's S.
    pub s: f64,
    /// Variance of S, corrected for ties.
    pub var_s: f64,
    /// Normal score with continuity correction.
    pub z: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Kendall's tau = S / (n(n-1)/2).
    pub tau: f64,
    /// Sen's slope: median of pairwise slopes.
    pub slope: f64,
    /// Intercept: median(x) - median(index of non-missing x) * slope (as pymannkendall).
    pub intercept: f64,
}

fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The Mann-Kendall test (Mann 1945, Kendall 1975) with Sen's slope (Sen 1968),
/// as pymannkendall's `original_test`. Missing values (NaN) are dropped.
pub fn mann_kendall(x: &[f64]) -> MannKendall {
    let v: Vec<f64> = x.iter().copied().filter(|a| a.is_finite()).collect();
    let n = v.len();
    let mut s = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            s += (v[j] - v[i]).signum() * f64::from(u8::from(v[j] != v[i]));
        }
    }
    // Ties: sum over groups t(t-1)(2t+5).
    let mut sorted = v.clone();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && sorted[j + 1] == sorted[i] {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        ties += t * (t - 1.0) * (2.0 * t + 5.0);
        i = j + 1;
    }
    let nf = n as f64;
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    let z = if s > 0.0 {
        (s - 1.0) / var_s.sqrt()
    } else if s < 0.0 {
        (s + 1.0) / var_s.sqrt()
    } else {
        0.0
    };
    let p = 2.0 * (1.0 - pnorm(z.abs()));
    // Sen's slope over the original positions, so that a missing value keeps
    // the time spacing (pymannkendall's sens_slope).
    let pos: Vec<(f64, f64)> = x
        .iter()
        .enumerate()
        .filter(|(_, a)| a.is_finite())
        .map(|(i, &a)| (i as f64, a))
        .collect();
    let mut slopes = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..pos.len() {
        for j in i + 1..pos.len() {
            slopes.push((pos[j].1 - pos[i].1) / (pos[j].0 - pos[i].0));
        }
    }
    let slope = median(&mut slopes);
    let mut vv = v.clone();
    let med_x = median(&mut vv);
    let mut idx: Vec<f64> = pos.iter().map(|p| p.0).collect();
    let intercept = med_x - median(&mut idx) * slope;
    MannKendall {
        n,
        s,
        var_s,
        z,
        p,
        tau: s / (0.5 * nf * (nf - 1.0)),
        slope,
        intercept,
    }
}
