//! Empirical-Bayes shrinkage of small-unit rates for display (Marshall 1991,
//! "Mapping disease and mortality rates using empirical Bayes estimators",
//! Applied Statistics 40:283; the global moment estimator).

/// Shrunken rates y_i / n_i towards the pooled rate m:
/// s^2 = sum n_i (r_i - m)^2 / sum n_i, A = max(0, s^2 - m / n_bar),
/// C_i = A / (A + m / n_i), theta_i = m + C_i (r_i - m).
pub fn marshall(y: &[f64], n: &[f64]) -> Vec<f64> {
    let ok: Vec<usize> = (0..y.len())
        .filter(|&i| n[i] > 0.0 && y[i].is_finite())
        .collect();
    let sn: f64 = ok.iter().map(|&i| n[i]).sum();
    let m = ok.iter().map(|&i| y[i]).sum::<f64>() / sn;
    let nbar = sn / ok.len() as f64;
    let s2 = ok
        .iter()
        .map(|&i| n[i] * (y[i] / n[i] - m).powi(2))
        .sum::<f64>()
        / sn;
    let a = (s2 - m / nbar).max(0.0);
    (0..y.len())
        .map(|i| {
            if n[i] > 0.0 && y[i].is_finite() {
                let c = if a + m / n[i] > 0.0 {
                    a / (a + m / n[i])
                } else {
                    0.0
                };
                m + c * (y[i] / n[i] - m)
            } else {
                f64::NAN
            }
        })
        .collect()
}
