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

/// (distance, index), ordered by distance then index.
struct Near(f64, usize);

impl PartialEq for Near {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}
impl Eq for Near {}
impl PartialOrd for Near {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Near {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
    }
}

/// The k best (smallest distance, then smallest index) of the candidates
/// offered, in a bounded max-heap: no list of every candidate is built.
struct Best {
    k: usize,
    heap: std::collections::BinaryHeap<Near>,
    /// The k-th best distance once the heap is full (infinite before).
    bound: f64,
}

impl Best {
    fn new(k: usize) -> Self {
        Best {
            k,
            heap: std::collections::BinaryHeap::with_capacity(k + 1),
            bound: f64::INFINITY,
        }
    }

    /// Most candidates are farther than the k-th best: that one comparison
    /// is inlined where candidates are offered, the rest is not.
    #[inline(always)]
    fn offer(&mut self, v: f64, j: usize) {
        if v > self.bound {
            return;
        }
        self.offer_near(v, j);
    }

    #[inline(never)]
    fn offer_near(&mut self, v: f64, j: usize) {
        if self.k == 0 || !v.is_finite() {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(Near(v, j));
            if self.heap.len() == self.k {
                self.bound = self.heap.peek().map_or(f64::INFINITY, |w| w.0);
            }
            return;
        }
        let c = Near(v, j);
        if self.heap.peek().is_some_and(|worst| c < *worst) {
            self.heap.pop();
            self.heap.push(c);
            self.bound = self.heap.peek().map_or(f64::INFINITY, |w| w.0);
        }
    }

    fn sorted(self) -> Vec<(usize, f64)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|Near(v, j)| (j, v))
            .collect()
    }
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
    let mut best = Best::new(k);
    if k == 0 {
        return vec![];
    }
    for j in 0..candidates {
        if j == target || !eligible(j) {
            continue;
        }
        best.offer(distance(target, j), j);
    }
    best.sorted()
}

/// The same answer as [`k_nearest`], found by visiting the candidates in
/// order of one coordinate's distance from the target's and stopping on
/// each side once that coordinate alone is farther than the k-th best
/// distance so far (a projection search, as in Friedman, Baskett & Shustek
/// 1975, "An algorithm for finding nearest neighbors"): with four
/// covariates and twenty twins among thousands, a small band is visited.
///
/// `order` lists the candidates (indices as in `eligible` and `distance`)
/// ascending by `key`, with `key[r]` the coordinate of `order[r]` (finite),
/// which must satisfy |key - at| <= distance; `at` is the target's
/// coordinate.
/// Ties are broken by candidate index, as in [`k_nearest`]; candidates
/// with a NaN distance are never chosen.
pub fn k_nearest_sorted(
    at: f64,
    order: &[usize],
    key: &[f64],
    k: usize,
    eligible: impl Fn(usize) -> bool,
    distance: impl Fn(usize) -> f64,
) -> Vec<(usize, f64)> {
    let mut best = Best::new(k);
    if k == 0 || !at.is_finite() {
        // Without the target's coordinate no band can be cut: every candidate.
        for &j in order {
            if eligible(j) {
                best.offer(distance(j), j);
            }
        }
        return best.sorted();
    }
    let n = order.len().min(key.len());
    let start = key[..n].partition_point(|&x| x < at);
    let (mut down, mut up) = (start, start);
    while down > 0 || up < n {
        // The nearer side in the coordinate goes next.
        let gap_down = if down > 0 {
            at - key[down - 1]
        } else {
            f64::INFINITY
        };
        let gap_up = if up < n { key[up] - at } else { f64::INFINITY };
        let (gap, r) = if gap_down <= gap_up {
            (gap_down, down.wrapping_sub(1))
        } else {
            (gap_up, up)
        };
        // Every candidate left is farther in this coordinate alone than
        // the k-th best distance (with a margin of 1e-12 for the rounding
        // of the distance's square root, so that exact ties are visited).
        if gap > best.bound * (1.0 + 1e-12) {
            break;
        }
        if gap_down <= gap_up {
            down -= 1;
        } else {
            up += 1;
        }
        let j = order[r];
        if eligible(j) {
            best.offer(distance(j), j);
        }
    }
    best.sorted()
}
