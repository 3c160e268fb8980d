//! The moving-sum early warning (bomon_stats::scan): the variance of a
//! window's sum computed by hand, its calibration on simulated in-control
//! series (the share beyond the threshold matches the stated probability),
//! and its power against a sustained shift.

use bomon_stats::dist::{nb_upper_midp, qnorm};
use bomon_stats::rng::SplitMix64 as Rng;
use bomon_stats::scan::{scan, scan_flag_probability, ScanSeries};

#[test]
fn window_variance_by_hand() {
    // 12 baseline quarters of mu 1, 3 monitored of mu 1; no covariance, no
    // noise in the expected counts. The w-quarter sum minus w/12 of the
    // baseline's: variance w + (w/12)^2 x 12 = w + w^2/12, so the sum's
    // gamma-Poisson tau^2 = (w^2/12) / w^2 = 1/12 whatever w.
    let x = [vec![1.0; 12], vec![2.0, 3.0, 4.0]].concat();
    let mu = vec![1.0; 15];
    let extra = vec![0.0; 15];
    let z = scan(&ScanSeries {
        x: &x,
        mu: &mu,
        extra: &extra,
        lag_cov: [0.0; 4],
        base_len: 12,
        upper: true,
    });
    assert_eq!(z.len(), 3);
    for (w, sum) in [(1, 4.0), (2, 7.0), (3, 9.0)] {
        let want = -qnorm(nb_upper_midp(sum, w as f64, 1.0 / 12.0));
        assert!(
            (z[w - 1] - want).abs() < 1e-12,
            "w {w}: {} vs {want}",
            z[w - 1]
        );
    }
    // With a lag-1 covariance c1 = 0.05 and lag-0 c0 = 0.1 (mu 1): the
    // 2-quarter window's variance gains 2 x 0.1 + 2 x 0.05 = 0.3 inside the
    // window, plus the baseline's: a = -2/12 on each of 12 quarters gives
    // (2/12)^2 x (12 x 0.1 + 2 x 11 x 0.05) = 0.0639; the baseline's last
    // quarter is two lags from the window (the first monitored quarter lies
    // between), so no cross term. Total 2 + 1/3 + 0.3 + 0.0639.
    let z = scan(&ScanSeries {
        x: &x,
        mu: &mu,
        extra: &extra,
        lag_cov: [0.1, 0.05, 0.0, 0.0],
        base_len: 12,
        upper: true,
    });
    let var = 2.0 + 4.0 / 12.0 + 0.3 + (2.0_f64 / 12.0).powi(2) * (1.2 + 1.1);
    let want = -qnorm(nb_upper_midp(7.0, 2.0, (var - 2.0) / 4.0));
    assert!((z[1] - want).abs() < 1e-12, "{} vs {want}", z[1]);
}

/// The share of `n` simulated series flagged (see [`flagged`]).
fn share(seed: u64, n: usize, mu: f64, shift_se: f64, from: usize, z: (f64, f64)) -> f64 {
    let mut rng = Rng(seed);
    (0..n)
        .filter(|_| flagged(&mut rng, mu, shift_se, from, z.0, z.1))
        .count() as f64
        / n as f64
}

fn flagged(
    rng: &mut Rng,
    mu: f64,
    shift_se: f64,
    from: usize,
    z_alarm: f64,
    z_window: f64,
) -> bool {
    // 12 baseline + 8 monitored quarters; the ratio estimated from the
    // baseline with half an event (Jeffreys), as the engine does.
    let x: Vec<f64> = (0..20)
        .map(|q| rng.poisson(mu + if q >= from { shift_se * mu.sqrt() } else { 0.0 }))
        .collect();
    let r = (x[..12].iter().sum::<f64>() + 0.5) / (12.0 * mu);
    let m = vec![mu * r; 20];
    let z = scan(&ScanSeries {
        x: &x,
        mu: &m,
        extra: &[0.0; 20],
        lag_cov: [0.0; 4],
        base_len: 12,
        upper: true,
    });
    z[0] > z_alarm || z[1..].iter().any(|&v| v > z_window)
}

#[test]
fn in_control_flags_match_the_stated_probability() {
    // Stated: the normal theory's share of in-control series flagged at the
    // quarter reviewed. Poisson series of 30 events a quarter come close to
    // it; series of 1 event a quarter are discrete and the mid-p tails
    // keep them at or below it.
    let stated = scan_flag_probability(12, 8, 3.25, 3.25);
    assert!(stated > 0.001 && stated < 0.005, "stated {stated}");
    let big = share(7, 40_000, 30.0, 0.0, 99, (3.25, 3.25));
    let small = share(8, 40_000, 1.0, 0.0, 99, (3.25, 3.25));
    // Binomial standard error at 0.25 % over 40,000: 0.025 %.
    assert!(
        (big - stated).abs() < 0.4 * stated,
        "30 a quarter: {big} vs stated {stated}"
    );
    assert!(
        small < 1.5 * stated,
        "1 a quarter: {small} vs stated {stated}"
    );
}

#[test]
fn a_sustained_two_se_shift_is_found_within_three_quarters_about_half_the_time() {
    // Normal theory (benches/quarterly_theory.py): with thresholds 3.25 a
    // sustained 2-SE shift is flagged by the third shifted quarter in about
    // 53 % of series. Here: the shift in the last 3 quarters of the window.
    let found = share(11, 4_000, 30.0, 2.0, 17, (3.25, 3.25));
    assert!(found > 0.35 && found < 0.65, "{found}");
}
