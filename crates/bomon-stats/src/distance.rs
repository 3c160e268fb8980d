//! Distances for peer selection ("twins"): standardised Euclidean and
//! Mahalanobis distance, and k nearest neighbours with exact-match constraints.

/// Column means and standard deviations (n - 1) of row-major `x` with `d` columns.
pub fn column_moments(x: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let d = x.first().map_or(0, Vec::len);
    let n = x.len() as f64;
    let mean: Vec<f64> = (0..d)
        .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    let sd: Vec<f64> = (0..d)
        .map(|j| {
            (x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt()
        })
        .collect();
    (mean, sd)
}

/// Standardised Euclidean distance: each coordinate divided by its column's
/// standard deviation (columns with zero spread are ignored), weighted by `w`.
pub fn standardised_euclidean(a: &[f64], b: &[f64], sd: &[f64], w: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .zip(sd.iter().zip(w))
        .filter(|(_, (s, _))| **s > 0.0)
        .map(|((x, y), (s, wi))| wi * ((x - y) / s).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Inverse of a small symmetric positive-definite matrix by Gauss-Jordan
/// elimination with partial pivoting; `None` when singular.
pub fn invert(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = m
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut row = r.clone();
            row.extend((0..n).map(|j| f64::from(u8::from(i == j))));
            row
        })
        .collect();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, p);
        let piv = a[c][c];
        a[c].iter_mut().for_each(|v| *v /= piv);
        for r in 0..n {
            if r != c {
                let f = a[r][c];
                if f != 0.0 {
                    let rowc = a[c].clone();
                    a[r].iter_mut().zip(&rowc).for_each(|(v, cv)| *v -= f * cv);
                }
            }
        }
    }
    Some(a.into_iter().map(|r| r[n..].to_vec()).collect())
}

/// Sample covariance matrix of row-major `x`.
pub fn covariance(x: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let (mean, _) = column_moments(x);
    let d = mean.len();
    let n = x.len() as f64;
    (0..d)
        .map(|i| {
            (0..d)
                .map(|j| {
                    x.iter()
                        .map(|r| (r[i] - mean[i]) * (r[j] - mean[j]))
                        .sum::<f64>()
                        / (n - 1.0).max(1.0)
                })
                .collect()
        })
        .collect()
}

/// Mahalanobis distance sqrt((a - b)' S^-1 (a - b)) given the inverse covariance.
pub fn mahalanobis(a: &[f64], b: &[f64], inv_cov: &[Vec<f64>]) -> f64 {
    let diff: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let mut s = 0.0;
    for (i, di) in diff.iter().enumerate() {
        for (j, dj) in diff.iter().enumerate() {
            s += di * inv_cov[i][j] * dj;
        }
    }
    s.max(0.0).sqrt()
}

/// The `k` nearest candidates to `target` by `distance`, among candidates for
/// which `eligible` holds (exact-match constraints, exclusions). Ties are broken
/// by candidate index so the result is reproducible. Returns (index, distance).
///
/// One pass with a bounded max-heap of the k best so far: no list of every
/// candidate is built (a national peer search scans thousands per target).
pub fn k_nearest(
    target: usize,
    candidates: usize,
    k: usize,
    eligible: impl Fn(usize) -> bool,
    distance: impl Fn(usize, usize) -> f64,
) -> Vec<(usize, f64)> {
    use std::cmp::Ordering;
    use std::collections::BinaryHeap;
    /// (distance, index), ordered by distance then index.
    struct Near(f64, usize);
    impl PartialEq for Near {
        fn eq(&self, o: &Self) -> bool {
            self.cmp(o) == Ordering::Equal
        }
    }
    impl Eq for Near {}
    impl PartialOrd for Near {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Near {
        fn cmp(&self, o: &Self) -> Ordering {
            self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
        }
    }
    if k == 0 {
        return vec![];
    }
    let mut heap: BinaryHeap<Near> = BinaryHeap::with_capacity(k + 1);
    // The k-th best distance once the heap is full.
    let mut bound = f64::INFINITY;
    for j in 0..candidates {
        if j == target || !eligible(j) {
            continue;
        }
        let v = distance(target, j);
        if !v.is_finite() {
            continue;
        }
        if heap.len() < k {
            heap.push(Near(v, j));
            if heap.len() == k {
                bound = heap.peek().map_or(f64::INFINITY, |w| w.0);
            }
            continue;
        }
        // Most candidates are farther than the k-th best: one comparison.
        if v > bound {
            continue;
        }
        let c = Near(v, j);
        if heap.peek().is_some_and(|worst| c < *worst) {
            heap.pop();
            heap.push(c);
            bound = heap.peek().map_or(f64::INFINITY, |w| w.0);
        }
    }
    heap.into_sorted_vec()
        .into_iter()
        .map(|Near(v, j)| (j, v))
        .collect()
}
