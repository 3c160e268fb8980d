//! Many tests at once: Benjamini-Hochberg q-values and the expected number of
//! false alarms.

/// Benjamini-Hochberg adjusted p-values (q-values), in input order:
/// q_(i) = min_{j >= i} p_(j) m / j, capped at 1 (Benjamini & Hochberg 1995;
/// as R's p.adjust(method = "BH")). NaN p-values stay NaN and do not count in m.
pub fn bh_qvalues(p: &[f64]) -> Vec<f64> {
    // The p-values sorted with their positions beside them (not positions
    // sorted by looking the p-values up: half a million tests nationally).
    // Tied p-values get the same q whichever of them ranks first, so the
    // sort need not be stable.
    let mut sorted: Vec<(f64, usize)> = p
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, &v)| (v, i))
        .collect();
    let m = sorted.len() as f64;
    // Both threads sort; p-values are not negative, so their bits order
    // them as integers (and -0 is made +0).
    use rayon::slice::ParallelSliceMut;
    if sorted.iter().all(|x| x.0 >= 0.0) {
        sorted.par_sort_unstable_by_key(|x| (x.0 + 0.0).to_bits());
    } else {
        sorted.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    }
    let mut q = vec![f64::NAN; p.len()];
    let mut running = 1.0f64;
    for (rank, &(v, i)) in sorted.iter().enumerate().rev() {
        running = running.min(v * m / (rank + 1) as f64);
        q[i] = running.min(1.0);
    }
    q
}

/// Expected number of false alarms among the tests flagged at q <= `alpha`:
/// under Benjamini-Hochberg the false discovery rate is at most alpha, so at
/// most alpha x (number flagged) of the flags are expected to be false.
pub fn expected_false_discoveries(q: &[f64], alpha: f64) -> f64 {
    alpha * q.iter().filter(|&&v| v <= alpha).count() as f64
}

/// Expected number of false alarms if every one of `m` tests were run at
/// level `alpha` without adjustment and no unit truly differed: m x alpha.
pub fn expected_false_alarms_unadjusted(m: usize, alpha: f64) -> f64 {
    m as f64 * alpha
}
