//! Overdispersion: Winsorised z-scores, the multiplicative factor phi and the
//! additive between-unit variance tau^2 (Spiegelhalter 2005, "Handling
//! over-dispersion of performance indicators", Qual Saf Health Care 14:347).

/// Quantile of sorted data by R's default definition (type 7).
pub fn quantile_type7(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Winsorises `z` at the `by` and `1 - by` quantiles (type 7), as FunnelPlotR does:
/// values below the lower quantile are set to it, above the upper one to it.
pub fn winsorise(z: &[f64], by: f64) -> Vec<f64> {
    let mut s: Vec<f64> = z.iter().copied().filter(|v| v.is_finite()).collect();
    s.sort_by(f64::total_cmp);
    let lo = quantile_type7(&s, by);
    let hi = quantile_type7(&s, 1.0 - by);
    z.iter()
        .filter(|v| v.is_finite())
        .map(|&v| v.clamp(lo, hi))
        .collect()
}

/// Truncates `z` as NHS Digital's SHMI does (and FunnelPlotR with
/// `sr_method = "SHMI"`): units are ranked (ties averaged), split into
/// `1 / by` groups by `floor(rank * k / (n + 1))`, and the lowest and highest
/// groups are dropped rather than pulled in. Returns the indices kept.
pub fn truncate(z: &[f64], by: f64) -> Vec<usize> {
    let idx: Vec<usize> = (0..z.len()).filter(|&i| z[i].is_finite()).collect();
    if by <= 0.0 || idx.is_empty() {
        return idx;
    }
    // As FunnelPlotR (R/od_adjustment.R): k = 1 / by groups, not rounded.
    let k = 1.0 / by;
    let mut order = idx.clone();
    order.sort_by(|&a, &b| z[a].total_cmp(&z[b]));
    // Average ranks for ties.
    let mut rank = vec![0.0; z.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && z[order[j + 1]] == z[order[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            rank[o] = r;
        }
        i = j + 1;
    }
    let n1 = order.len() as f64 + 1.0;
    idx.into_iter()
        .filter(|&i| {
            let group = (rank[i] * k / n1).floor();
            group > 0.0 && group < k - 1.0
        })
        .collect()
}

/// The overdispersion factor phi = (1/I) sum z_i^2 over (Winsorised) z-scores
/// (Spiegelhalter 2005, eq. 2).
pub fn phi(z: &[f64]) -> f64 {
    let n = z.len();
    if n == 0 {
        return f64::NAN;
    }
    z.iter().map(|v| v * v).sum::<f64>() / n as f64
}

/// The moment (DerSimonian-Laird) estimator of the between-unit variance from a
/// heterogeneity statistic `q` (= I * phi, or Cochran's Q) over `k` units with
/// within-unit standard errors `s`:
/// tau^2 = max(0, (q - (k - 1)) / (sum w - sum w^2 / sum w)), w = 1 / s^2
/// (Spiegelhalter 2005, eq. 3; DerSimonian & Laird 1986).
pub fn tau2_moment(q: f64, s: &[f64]) -> f64 {
    let k = s.len() as f64;
    if s.is_empty() || q < k - 1.0 {
        return 0.0;
    }
    let (sw, sw2) = s.iter().fold((0.0, 0.0), |(a, b), &si| {
        let w = 1.0 / (si * si);
        (a + w, b + w * w)
    });
    let denom = sw - sw2 / sw;
    if denom <= 0.0 {
        return 0.0;
    }
    ((q - (k - 1.0)) / denom).max(0.0)
}

/// Cochran's Q and the inverse-variance weighted mean of estimates `y` with
/// variances `v`.
pub fn cochran_q(y: &[f64], v: &[f64]) -> (f64, f64) {
    let (sw, swy) = y
        .iter()
        .zip(v)
        .fold((0.0, 0.0), |(a, b), (&yi, &vi)| (a + 1.0 / vi, b + yi / vi));
    let mean = swy / sw;
    let q = y
        .iter()
        .zip(v)
        .map(|(&yi, &vi)| (yi - mean).powi(2) / vi)
        .sum();
    (q, mean)
}

/// DerSimonian-Laird tau^2 for estimates `y` with sampling variances `v`.
pub fn tau2_dersimonian_laird(y: &[f64], v: &[f64]) -> f64 {
    let (q, _) = cochran_q(y, v);
    let s: Vec<f64> = v.iter().map(|vi| vi.sqrt()).collect();
    tau2_moment(q, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BCG vaccine trials (Colditz et al. 1994; metafor's dat.bcg): log risk
    /// ratios and variances from the 2x2 counts (tpos, tneg, cpos, cneg).
    fn bcg() -> (Vec<f64>, Vec<f64>) {
        let t: [(f64, f64, f64, f64); 13] = [
            (4., 119., 11., 128.),
            (6., 300., 29., 274.),
            (3., 228., 11., 209.),
            (62., 13536., 248., 12619.),
            (33., 5036., 47., 5761.),
            (180., 1361., 372., 1079.),
            (8., 2537., 10., 619.),
            (505., 87886., 499., 87892.),
            (29., 7470., 45., 7232.),
            (17., 1699., 65., 1600.),
            (186., 50448., 141., 27197.),
            (5., 2493., 3., 2338.),
            (27., 16886., 29., 17825.),
        ];
        let y = t
            .iter()
            .map(|&(a, b, c, d)| ((a / (a + b)) / (c / (c + d))).ln())
            .collect();
        let v = t
            .iter()
            .map(|&(a, b, c, d)| 1. / a - 1. / (a + b) + 1. / c - 1. / (c + d))
            .collect();
        (y, v)
    }

    #[test]
    fn cochran_q_and_dl_tau2_match_metafor_bcg() {
        let (y, v) = bcg();
        let (q, _) = cochran_q(&y, &v);
        // metafor: rma(yi, vi, data = escalc("RR", ... dat.bcg)) prints
        // "Q(df = 12) = 152.2330" (the test of heterogeneity).
        assert!((q - 152.2330).abs() < 5e-4, "Q = {q}");
        // metafor: rma(..., method = "DL") gives tau^2 = 0.3088.
        let t2 = tau2_dersimonian_laird(&y, &v);
        assert!((t2 - 0.3088).abs() < 5e-5, "tau2 = {t2}");
    }

    #[test]
    fn quantile_type7_matches_r() {
        // R: quantile(c(1, 2, 3, 4, 10), c(0.1, 0.9)) -> 1.4, 7.6
        let s = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!((quantile_type7(&s, 0.1) - 1.4).abs() < 1e-12);
        assert!((quantile_type7(&s, 0.9) - 7.6).abs() < 1e-12);
        let w = winsorise(&[10.0, 1.0, 2.0, 3.0, 4.0], 0.1);
        let want = [7.6, 1.4, 2.0, 3.0, 4.0];
        assert!(
            w.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
            "{w:?}"
        );
    }

    #[test]
    fn tau2_is_zero_without_excess_variation() {
        assert_eq!(tau2_moment(3.0, &[0.1, 0.2, 0.3, 0.4, 0.5]), 0.0);
    }
}
