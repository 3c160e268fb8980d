//! Properties that must hold for any input (proptest).

use bomon_stats::funnel::{
    exact_limit, funnel, normal_limit, FunnelOptions, LimitMethod, Measure, Overdispersion,
};
use bomon_stats::multiple::bh_qvalues;
use proptest::prelude::*;

proptest! {
    #[test]
    fn limits_widen_as_the_denominator_falls(p0 in 0.02f64..0.5, n in 20u32..2000) {
        let (small, big) = (f64::from(n), f64::from(n) * 2.0);
        prop_assert!(exact_limit(Measure::Proportion, p0, small, 0.999) >= exact_limit(Measure::Proportion, p0, big, 0.999) - 1e-12);
        prop_assert!(exact_limit(Measure::Proportion, p0, small, 0.001) <= exact_limit(Measure::Proportion, p0, big, 0.001) + 1e-12);
        prop_assert!(normal_limit(Measure::Proportion, p0, small, 1.96, 1.0, 0.0) >= normal_limit(Measure::Proportion, p0, big, 1.96, 1.0, 0.0));
        prop_assert!(exact_limit(Measure::RatioLog, 1.0, small, 0.975) >= exact_limit(Measure::RatioLog, 1.0, big, 0.975) - 1e-12);
    }

    #[test]
    fn z_and_flags_do_not_depend_on_unit_order(
        units in prop::collection::vec((1u32..400, 30u32..3000), 5..40),
        rot in 0usize..40,
    ) {
        let num: Vec<f64> = units.iter().map(|&(a, b)| f64::from(a.min(b))).collect();
        let den: Vec<f64> = units.iter().map(|&(_, b)| f64::from(b)).collect();
        let k = rot % num.len();
        let mut num2 = num.clone();
        let mut den2 = den.clone();
        num2.rotate_left(k);
        den2.rotate_left(k);
        for od in [Overdispersion::None, Overdispersion::Multiplicative, Overdispersion::Additive] {
            let o = FunnelOptions { overdispersion: od, ..Default::default() };
            let a = funnel(&num, &den, &o);
            let b = funnel(&num2, &den2, &o);
            for i in 0..num.len() {
                let j = (i + num.len() - k) % num.len();
                prop_assert!((a.points[i].z_adjusted - b.points[j].z_adjusted).abs() < 1e-9);
                prop_assert_eq!(a.points[i].flag, b.points[j].flag);
            }
        }
    }

    #[test]
    fn overdispersion_never_narrows_limits(
        units in prop::collection::vec((0u32..400, 30u32..3000), 5..40),
    ) {
        let num: Vec<f64> = units.iter().map(|&(a, b)| f64::from(a.min(b))).collect();
        let den: Vec<f64> = units.iter().map(|&(_, b)| f64::from(b)).collect();
        let none = funnel(&num, &den, &FunnelOptions { overdispersion: Overdispersion::None, limits: LimitMethod::Normal, ..Default::default() });
        for od in [Overdispersion::Multiplicative, Overdispersion::Additive] {
            let adj = funnel(&num, &den, &FunnelOptions { overdispersion: od, limits: LimitMethod::Normal, ..Default::default() });
            for (a, n) in adj.points.iter().zip(&none.points) {
                prop_assert!(a.upper998 >= n.upper998 - 1e-12);
                prop_assert!(a.lower998 <= n.lower998 + 1e-12);
                prop_assert!(a.z_adjusted.abs() <= n.z.abs() + 1e-9);
            }
        }
    }

    #[test]
    fn q_values_are_monotone_in_p(p in prop::collection::vec(0.0f64..1.0, 1..200)) {
        let q = bh_qvalues(&p);
        for i in 0..p.len() {
            prop_assert!(q[i] >= p[i] - 1e-15 && q[i] <= 1.0);
            for j in 0..p.len() {
                if p[i] < p[j] {
                    prop_assert!(q[i] <= q[j] + 1e-15);
                }
            }
        }
    }
}

proptest! {
    /// The bounded-heap k_nearest picks exactly what sorting every eligible
    /// candidate by (distance, index) and taking the first k picks - ties
    /// (distances drawn from a few values) included.
    #[test]
    fn k_nearest_is_the_first_k_of_the_full_sort(
        d in proptest::collection::vec(0u8..6, 1..60),
        k in 0usize..25,
        target in 0usize..60,
        skip in 1usize..5,
    ) {
        let dist = |j: usize| if j % 7 == 3 { f64::NAN } else { f64::from(d[j]) * 0.5 };
        let eligible = |j: usize| j % skip != 0 || skip == 1;
        let got = bomon_stats::distance::k_nearest(target, d.len(), k, eligible, |_, j| dist(j));
        let mut all: Vec<(usize, f64)> = (0..d.len())
            .filter(|&j| j != target && eligible(j))
            .map(|j| (j, dist(j)))
            .filter(|(_, v)| v.is_finite())
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        prop_assert_eq!(got, all);
    }
}

proptest! {
    /// The projection search finds exactly what the full scan finds: random
    /// points in 3 dimensions on a coarse grid (so that distances tie),
    /// random exclusions, any k.
    #[test]
    fn k_nearest_sorted_is_k_nearest(
        pts in proptest::collection::vec((0u8..5, 0u8..5, 0u8..5), 1..80),
        k in 0usize..25,
        target in 0usize..80,
        skip in 1usize..5,
    ) {
        let target = target % pts.len();
        let x: Vec<[f64; 3]> = pts
            .iter()
            .map(|&(a, b, c)| [f64::from(a) * 0.5, f64::from(b) * 0.5, f64::from(c) * 0.5])
            .collect();
        let dist = |i: usize, j: usize| {
            (0..3).map(|c| (x[i][c] - x[j][c]).powi(2)).sum::<f64>().sqrt()
        };
        let eligible = |j: usize| j != target && (j % skip != 0 || skip == 1);
        let want = bomon_stats::distance::k_nearest(target, x.len(), k, eligible, dist);
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&a, &b| x[a][0].total_cmp(&x[b][0]));
        let key: Vec<f64> = order.iter().map(|&j| x[j][0]).collect();
        let got = bomon_stats::distance::k_nearest_sorted(
            x[target][0],
            &order,
            &key,
            k,
            eligible,
            |j| dist(target, j),
        );
        prop_assert_eq!(got, want);
    }
}
