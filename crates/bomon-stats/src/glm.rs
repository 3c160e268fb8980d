//! Poisson regression (a log-linear GLM) by iteratively reweighted least
//! squares: the case-mix model whose fitted values are a unit's *expected*
//! count for indirect standardisation (observed / expected), as in
//! FunnelPlotR's worked example on the `medpar` data.

use crate::distance::invert;

/// A fitted Poisson GLM.
#[derive(Debug, Clone, PartialEq)]
pub struct PoissonFit {
    /// Coefficients, in the order of the design matrix's columns.
    pub coef: Vec<f64>,
    /// Standard errors from the inverse Fisher information (dispersion 1).
    pub se: Vec<f64>,
    /// Fitted means, one per row.
    pub fitted: Vec<f64>,
    /// Residual deviance 2 sum(y ln(y / mu) - (y - mu)).
    pub deviance: f64,
    /// Pearson dispersion sum((y - mu)^2 / mu) / (n - p): 1 when the counts are
    /// as variable as a Poisson model says, above 1 when overdispersed.
    pub pearson_dispersion: f64,
    /// Iterations used.
    pub iterations: usize,
}

/// Fits `ln E[y] = X beta` by IRLS (Fisher scoring), stopping when the
/// deviance changes by less than 1e-10 relative (R's glm stops at 1e-8).
/// `x` is row-major (include a column of ones for an intercept). `None` when
/// the design is singular, the counts are negative or not finite, or rows and
/// counts differ in number.
pub fn poisson(x: &[Vec<f64>], y: &[f64]) -> Option<PoissonFit> {
    let n = y.len();
    let p = x.first().map_or(0, Vec::len);
    if n != x.len() || n <= p || p == 0 || x.iter().any(|r| r.len() != p) {
        return None;
    }
    if y.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return None;
    }
    let deviance = |mu: &[f64]| -> f64 {
        2.0 * y
            .iter()
            .zip(mu)
            .map(|(&yi, &mi)| {
                let t = if yi > 0.0 { yi * (yi / mi).ln() } else { 0.0 };
                t - (yi - mi)
            })
            .sum::<f64>()
    };
    // Start as R does: mu = y + 0.1, eta = ln(mu).
    let mut mu: Vec<f64> = y.iter().map(|v| v + 0.1).collect();
    let mut eta: Vec<f64> = mu.iter().map(|m| m.ln()).collect();
    let mut dev = deviance(&mu);
    let mut coef = vec![0.0; p];
    let mut info_inv = vec![vec![0.0; p]; p];
    let mut iterations = 0;
    for it in 1..=100 {
        iterations = it;
        // Weighted normal equations: (X'WX) beta = X'Wz, W = mu, z = eta + (y - mu) / mu.
        let xtwx = crossprod(x, &mu);
        let mut xtwz = vec![0.0; p];
        for ((row, (&yi, &mi)), &ei) in x.iter().zip(y.iter().zip(&mu)).zip(&eta) {
            let z = ei + (yi - mi) / mi;
            for (acc, xa) in xtwz.iter_mut().zip(row) {
                *acc += mi * xa * z;
            }
        }
        info_inv = invert(&xtwx)?;
        coef = (0..p)
            .map(|a| (0..p).map(|b| info_inv[a][b] * xtwz[b]).sum())
            .collect();
        eta = x
            .iter()
            .map(|r| r.iter().zip(&coef).map(|(xi, b)| xi * b).sum())
            .collect();
        mu = eta.iter().map(|e: &f64| e.exp()).collect();
        let new_dev = deviance(&mu);
        let done = (new_dev - dev).abs() / (new_dev.abs() + 0.1) < 1e-10;
        dev = new_dev;
        if done {
            break;
        }
    }
    // Standard errors at the final estimate.
    if let Some(inv) = invert(&crossprod(x, &mu)) {
        info_inv = inv;
    }
    let pearson = y
        .iter()
        .zip(&mu)
        .map(|(&yi, &mi)| (yi - mi).powi(2) / mi)
        .sum::<f64>()
        / (n - p) as f64;
    Some(PoissonFit {
        se: (0..p).map(|a| info_inv[a][a].sqrt()).collect(),
        coef,
        fitted: mu,
        deviance: dev,
        pearson_dispersion: pearson,
        iterations,
    })
}

/// X' diag(w) X for row-major `x`.
fn crossprod(x: &[Vec<f64>], w: &[f64]) -> Vec<Vec<f64>> {
    let p = x.first().map_or(0, Vec::len);
    let mut m = vec![vec![0.0; p]; p];
    for (row, &wi) in x.iter().zip(w) {
        for (ma, &xa) in m.iter_mut().zip(row) {
            for (mab, &xb) in ma.iter_mut().zip(row) {
                *mab += wi * xa * xb;
            }
        }
    }
    m
}
