//! The counts' likelihood-ratio CUSUM (bomon_stats::cusum::CountCusum):
//! hand-computed Poisson steps, the negative binomial increment against the
//! log-likelihood ratio computed from the probability mass functions, and
//! the large-count limit, where it is the standardised CUSUM scaled by delta.

use bomon_stats::cusum::{standardised_cusum, CountCusum};
use statrs::function::gamma::ln_gamma;

fn chart(tau2: f64, h: f64) -> CountCusum {
    CountCusum {
        tau2,
        tau2_design: tau2,
        delta: 2.0,
        h,
        upper: true,
        shrink: 1.0,
    }
}

#[test]
fn poisson_steps_by_hand() {
    // mu0 = 1, a 2-SE shift: mu1 = 1 + 2 x 1 = 3; W = x ln 3 - 2.
    // x = 3: 3 ln 3 - 2 = 1.29584; x = 0: max(0, 1.29584 - 2) = 0;
    // x = 4: 4 ln 3 - 2 = 2.39445 > h = 2.
    let c = chart(0.0, 2.0).run(&[3.0, 0.0, 4.0], &[1.0, 1.0, 1.0]);
    assert!((c[0].s - 1.295_837).abs() < 1e-5, "{:?}", c);
    assert_eq!(c[1].s, 0.0);
    assert!((c[2].s - 2.394_449).abs() < 1e-5, "{:?}", c);
    assert_eq!(
        c.iter().map(|p| p.signal).collect::<Vec<_>>(),
        [false, false, true]
    );
    // A missing count leaves S where it was.
    let c = chart(0.0, 2.0).run(&[3.0, f64::NAN], &[1.0, 1.0]);
    assert_eq!(c[0].s, c[1].s);
}

fn ln_nb(x: f64, mu: f64, tau2: f64) -> f64 {
    let r = 1.0 / tau2;
    ln_gamma(x + r) - ln_gamma(r) - ln_gamma(x + 1.0)
        + r * (r / (r + mu)).ln()
        + x * (mu / (r + mu)).ln()
}

#[test]
fn negative_binomial_increment_is_the_log_likelihood_ratio() {
    let (tau2, mu0): (f64, f64) = (0.4, 2.5);
    let mu1 = mu0 + 2.0 * (mu0 + tau2 * mu0 * mu0).sqrt();
    for x in [0.0, 1.0, 2.0, 5.0, 9.0] {
        let w = ln_nb(x, mu1, tau2) - ln_nb(x, mu0, tau2);
        let s = chart(tau2, 1e9).run(&[x], &[mu0])[0].s;
        assert!((s - w.max(0.0)).abs() < 1e-9, "x {x}: {s} against {w}");
    }
}

#[test]
fn large_counts_give_the_standardised_cusum_scaled_by_delta() {
    let z = [0.3, 1.8, 2.4, -0.5, 3.1, 2.2, 0.9];
    let mu = 1e8_f64;
    let x: Vec<f64> = z.iter().map(|z| mu + z * mu.sqrt()).collect();
    let lr = chart(0.0, 4.0).run(&x, &vec![mu; z.len()]);
    let std = standardised_cusum(&z, 1.0, 2.0);
    for (a, b) in lr.iter().zip(&std) {
        assert!(
            (a.s / 2.0 - b.s).abs() < 1e-3,
            "{} against {}",
            a.s / 2.0,
            b.s
        );
        assert_eq!(a.signal, b.signal);
    }
}

#[test]
fn decreases_when_lower_is_worse() {
    // mu0 = 100, tau2 = 0: mu1 = 100 - 2 x 10 = 80; W = x ln 0.8 + 20.
    let c = CountCusum {
        upper: false,
        ..chart(0.0, 4.0)
    }
    .run(&[75.0, 100.0], &[100.0, 100.0]);
    let w1 = 75.0 * 0.8_f64.ln() + 20.0;
    assert!((c[0].s - w1).abs() < 1e-9);
    assert!((c[1].s - (w1 + 100.0 * 0.8_f64.ln() + 20.0).max(0.0)).abs() < 1e-9);
}

#[test]
fn window_flag_probability_matches_the_normal_tail_and_a_simulation() {
    use bomon_stats::cusum::window_flag_probability;
    use bomon_stats::dist::pnorm;
    // One point: S_1 = max(0, z - k) > h exactly when z > h + k.
    let p1 = window_flag_probability(1.0, 2.0, 1);
    let exact = 1.0 - pnorm(3.0);
    assert!((p1 / exact - 1.0).abs() < 0.05, "{p1} against {exact}");
    // Eight points, k = 1, h = 2: 0.005635 in a Monte Carlo of 400,000
    // windows of standard normals (benches/quarterly_theory.py: Python's
    // random.gauss, seed 5; standard error 0.00012), far above one onset per average run length over a
    // single point and below 8 / ARL (Siegmund: ARL 277, 8 / 277 = 0.029).
    let p8 = window_flag_probability(1.0, 2.0, 8);
    assert!((p8 - 0.005635).abs() < 0.0004, "{p8}");
    // More points, more chance to be above h; a higher h, less.
    assert!(window_flag_probability(1.0, 2.0, 4) < p8);
    assert!(window_flag_probability(1.0, 2.5, 8) < p8);
}
