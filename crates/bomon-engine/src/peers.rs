//! Peer groups ("twins", after Landsbyggefonden's Tvillingeværktøj): each
//! department's k most similar departments on standardised structural
//! covariates, with exact-match constraints.

use bomon_stats::distance::{column_moments, k_nearest, k_nearest_sorted};
use rayon::prelude::*;

use crate::config::PeerConfig;
use crate::data::Dept;

/// Municipalities with a large city (a coarse "municipality type" covariate).
const URBAN: [&str; 12] = [
    "101", "147", "751", "461", "851", "167", "169", "183", "153", "165", "561", "621",
];

/// The value of a named covariate for a department (NaN if unknown).
pub fn covariate(d: &Dept, name: &str) -> f64 {
    match name {
        "log_tenancies" => d.tenancies.max(1.0).ln(),
        "tenancies" => d.tenancies,
        "construction_year" => d.construction_year,
        "urban" => f64::from(u8::from(URBAN.contains(&d.municipality.as_str()))),
        other => d.covariates.get(other).copied().unwrap_or(f64::NAN),
    }
}

/// A department's peers: (peer index, distance), nearest first.
pub type PeerGroup = Vec<(usize, f64)>;

/// Peers for the departments `targets` among all departments; also returns
/// the covariates used.
pub fn peer_groups(
    depts: &[Dept],
    targets: &[usize],
    cfg: &PeerConfig,
) -> (Vec<PeerGroup>, Vec<String>) {
    // Covariates that exist for at least one department; missing values are
    // replaced by the mean (they then add nothing to a distance).
    let names: Vec<String> = cfg
        .covariates
        .iter()
        .filter(|c| depts.iter().any(|d| covariate(d, c).is_finite()))
        .cloned()
        .collect();
    let mut x: Vec<Vec<f64>> = depts
        .iter()
        .map(|d| names.iter().map(|c| covariate(d, c)).collect())
        .collect();
    for j in 0..names.len() {
        let vals: Vec<f64> = x.iter().map(|r| r[j]).filter(|v| v.is_finite()).collect();
        let m = vals.iter().sum::<f64>() / vals.len().max(1) as f64;
        for r in x.iter_mut() {
            if !r[j].is_finite() {
                r[j] = m;
            }
        }
    }
    let (_, sd) = column_moments(&x);
    let w: Vec<f64> = if cfg.weights.is_empty() {
        vec![1.0; names.len()]
    } else {
        names
            .iter()
            .map(|n| {
                cfg.covariates
                    .iter()
                    .position(|c| c == n)
                    .map_or(1.0, |i| cfg.weights[i])
            })
            .collect()
    };
    // Standardise once: z = x / sd * sqrt(w), so that the standardised
    // Euclidean distance (bomon_stats::distance) is the plain one on z.
    let z: Vec<Vec<f64>> = x
        .iter()
        .map(|r| {
            r.iter()
                .zip(&sd)
                .zip(&w)
                .map(|((v, s), wi)| if *s > 0.0 { v / s * wi.sqrt() } else { 0.0 })
                .collect()
        })
        .collect();
    // Exact-match constraints as integer codes, candidates grouped by housing type.
    let mut codes: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    let mut org = Vec::with_capacity(depts.len());
    let mut ht = Vec::with_capacity(depts.len());
    for d in depts {
        let n = codes.len() as u32;
        org.push(*codes.entry(d.organisation.as_str()).or_insert(n));
        let n = codes.len() as u32;
        ht.push(*codes.entry(d.housing_type.as_str()).or_insert(n));
    }
    let mut by_type: std::collections::HashMap<u32, Vec<usize>> = std::collections::HashMap::new();
    for (i, t) in ht.iter().enumerate() {
        by_type
            .entry(if cfg.same_housing_type { *t } else { 0 })
            .or_default()
            .push(i);
    }
    // Each pool's standardised rows side by side in one array, so that the
    // scan over candidates reads memory in order.
    let p = names.len();
    let flat: std::collections::HashMap<u32, Vec<f64>> = by_type
        .iter()
        .map(|(t, pool)| {
            (
                *t,
                pool.iter().flat_map(|&j| z[j].iter().copied()).collect(),
            )
        })
        .collect();
    // Per pool its candidates sorted by the covariate of widest spread: the
    // search visits those near the target in it and stops where that
    // covariate alone is farther than the k-th best twin (same twins as a
    // full scan; pools with a missing value are scanned in full).
    let sorted: std::collections::HashMap<u32, Option<(usize, Vec<usize>, Vec<f64>)>> = flat
        .iter()
        .map(|(t, rows)| {
            let n = rows.len() / p.max(1);
            let spread = |c: usize| {
                let m = (0..n).map(|j| rows[j * p + c]).sum::<f64>() / n.max(1) as f64;
                (0..n).map(|j| (rows[j * p + c] - m).powi(2)).sum::<f64>()
            };
            let c = (0..p).max_by(|&a, &b| spread(a).total_cmp(&spread(b)));
            let sorted = c
                .filter(|&c| (0..n).all(|j| rows[j * p + c].is_finite()))
                .map(|c| {
                    let mut order: Vec<usize> = (0..n).collect();
                    order.sort_by(|&a, &b| rows[a * p + c].total_cmp(&rows[b * p + c]));
                    let key = order.iter().map(|&j| rows[j * p + c]).collect();
                    (c, order, key)
                });
            (*t, sorted)
        })
        .collect();
    let groups = targets
        .par_iter()
        .map(|&t| {
            let key = if cfg.same_housing_type { ht[t] } else { 0 };
            let (pool, rows) = (&by_type[&key], &flat[&key]);
            let zt = &z[t];
            let eligible =
                |j: usize| pool[j] != t && (!cfg.other_organisations || org[pool[j]] != org[t]);
            let distance = |j: usize| {
                zt.iter()
                    .zip(&rows[j * p..(j + 1) * p])
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt()
            };
            let near = match &sorted[&key] {
                Some((c, order, keys)) => {
                    k_nearest_sorted(zt[*c], order, keys, cfg.k, eligible, distance)
                }
                None => k_nearest(usize::MAX, pool.len(), cfg.k, eligible, |_, j| distance(j)),
            };
            near.into_iter().map(|(j, d)| (pool[j], d)).collect()
        })
        .collect();
    (groups, names)
}
