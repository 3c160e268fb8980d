//! FunnelPlotR's worked example on the `medpar` data (README.md and vignette
//! "Funnel Plots for Indirectly-standardised ratios", nhs-r-community/FunnelPlotR):
//! a Poisson GLM for length of stay, expected stays summed per provider, and
//! funnel plots of observed / expected with and without overdispersion.
//!
//! The data are Hilbe's `medpar` (R package COUNT; 1991 Arizona Medicare,
//! 1,495 stays in 54 providers), bundled in tests/data/medpar.csv - see
//! tests/data/README.md for where the copy comes from.

use bomon_stats::funnel::{
    funnel, Funnel, FunnelOptions, LimitMethod, Measure, Overdispersion, Trim,
};
use bomon_stats::glm;
use std::collections::BTreeMap;

struct Medpar {
    provnum: Vec<u32>,
    los: Vec<f64>,
    /// Design: intercept, hmo, died, age80, type 2, type 3 - the README's
    /// `glm(los ~ hmo + died + age80 + factor(type), family = "poisson")`.
    x: Vec<Vec<f64>>,
}

fn medpar() -> Medpar {
    let text = include_str!("../data/medpar.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("provnum,los,hmo,died,age80,type"),
        "fixture header"
    );
    let mut m = Medpar {
        provnum: Vec::new(),
        los: Vec::new(),
        x: Vec::new(),
    };
    for (i, line) in lines.enumerate() {
        let f: Vec<f64> = line
            .split(',')
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("medpar.csv line {}: {v:?}", i + 2))
            })
            .collect();
        m.provnum.push(f[0] as u32);
        m.los.push(f[1]);
        let ty = f[5];
        m.x.push(vec![
            1.0,
            f[2],
            f[3],
            f[4],
            f64::from(u8::from(ty == 2.0)),
            f64::from(u8::from(ty == 3.0)),
        ]);
    }
    m
}

/// Observed and expected length of stay per provider, in provider order.
fn by_provider(m: &Medpar, fitted: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut agg: BTreeMap<u32, (f64, f64)> = BTreeMap::new();
    for ((&p, &o), &e) in m.provnum.iter().zip(&m.los).zip(fitted) {
        let acc = agg.entry(p).or_default();
        acc.0 += o;
        acc.1 += e;
    }
    agg.values().copied().unzip()
}

/// A ratio funnel (log scale) of observed against expected.
fn ratio_funnel(
    obs: &[f64],
    exp: &[f64],
    overdispersion: Overdispersion,
    limits: LimitMethod,
    trim: Trim,
) -> Funnel {
    let opts = FunnelOptions {
        measure: Measure::RatioLog,
        overdispersion,
        limits,
        winsorise: 0.1,
        trim,
        ..Default::default()
    };
    funnel(obs, exp, &opts)
}

/// Units outside the 99.8 % limits on either side (FunnelPlotR's "outliers" at limit = 99).
fn outliers(f: &Funnel) -> usize {
    f.points
        .iter()
        .filter(|p| p.value < p.lower998 || p.value > p.upper998)
        .count()
}

#[test]
fn medpar_poisson_glm_reproduces_the_readme_summary() {
    let m = medpar();
    assert_eq!(m.los.len(), 1495);
    let fit = glm::poisson(&m.x, &m.los).expect("fit");
    // summary(mod) as printed in FunnelPlotR's README (5 decimals):
    // (Intercept) 2.26875 (0.01246), hmo -0.07637 (0.02393), died -0.24574 (0.01826),
    // age80 -0.02141 (0.02050), factor(type)2 0.24921 (0.02099), factor(type)3 0.74869 (0.02627);
    // residual deviance 7977.7 on 1489 degrees of freedom.
    let coef = [2.26875, -0.07637, -0.24574, -0.02141, 0.24921, 0.74869];
    let se = [0.01246, 0.02393, 0.01826, 0.02050, 0.02099, 0.02627];
    for k in 0..6 {
        assert!(
            (fit.coef[k] - coef[k]).abs() <= 5e-6,
            "coef {k}: {} vs {}",
            fit.coef[k],
            coef[k]
        );
        assert!(
            (fit.se[k] - se[k]).abs() <= 5e-6,
            "se {k}: {} vs {}",
            fit.se[k],
            se[k]
        );
    }
    assert!((fit.deviance - 7977.7).abs() <= 0.05, "{}", fit.deviance);
    // README: sum(mod$weights * mod$residuals^2) / mod$df.residual = 6.240519.
    // R stops after 5 Fisher-scoring iterations (relative deviance change < 1e-8),
    // so its fitted means are a hair short of convergence; ours iterate to 1e-10.
    // The difference shows in the sixth digit only.
    assert!(
        (fit.pearson_dispersion - 6.240519).abs() <= 5e-5,
        "{}",
        fit.pearson_dispersion
    );
}

#[test]
fn medpar_funnel_without_adjustment_has_25_outliers_of_54() {
    let m = medpar();
    let fit = glm::poisson(&m.x, &m.los).expect("fit");
    let (obs, exp) = by_provider(&m, &fit.fitted);
    assert_eq!(obs.len(), 54, "README: a funnel plot object with 54 points");
    // README: funnel_plot(..., data_type = "SR", limit = 99, draw_unadjusted = TRUE,
    // draw_adjusted = FALSE) -> "54 points of which 25 are outliers". limit = 99
    // means the 99.8 % limits, drawn as exact Poisson limits in the chi-square
    // form (R/calculate_limits.R); an outlier is outside them on either side.
    let f = ratio_funnel(
        &obs,
        &exp,
        Overdispersion::None,
        LimitMethod::Garwood,
        Trim::Winsorise,
    );
    assert_eq!(outliers(&f), 25);
    // The one-sided flags count the high side only.
    let high = f.points.iter().filter(|p| p.value > p.upper998).count();
    assert_eq!(
        f.points
            .iter()
            .filter(|p| p.flag == Some(bomon_stats::Severity::Alarm))
            .count(),
        high
    );
    // Spiegelhalter's interpolated exact limits (our default) are a little narrower
    // than the chi-square form; here two borderline providers fall inside them
    // (23, as scipy's poisson.ppf/cdf with the same interpolation gives), which is
    // why the reproduction uses `Garwood`.
    let interpolated = ratio_funnel(
        &obs,
        &exp,
        Overdispersion::None,
        LimitMethod::Exact,
        Trim::Winsorise,
    );
    assert_eq!(outliers(&interpolated), 23);
}

#[test]
fn medpar_funnel_with_shmi_overdispersion_has_9_outliers() {
    let m = medpar();
    let fit = glm::poisson(&m.x, &m.los).expect("fit");
    let (obs, exp) = by_provider(&m, &fit.fitted);
    // FunnelPlotR rounds the expected values to two decimals for SHMI (R/funnel_plot.R).
    let exp: Vec<f64> = exp.iter().map(|e| (e * 100.0).round() / 100.0).collect();
    // README: funnel_plot(..., data_type = "SR", draw_adjusted = TRUE,
    // sr_method = "SHMI", limit = 99) -> "54 points of which 9 are outliers";
    // the vignette: "we now only have nine organisations showing special-cause
    // variation". SHMI: log scale, 10 % truncation, additive tau^2.
    let f = ratio_funnel(
        &obs,
        &exp,
        Overdispersion::Additive,
        LimitMethod::Exact,
        Trim::Truncate,
    );
    assert_eq!(outliers(&f), 9);
    // The same nine by |z_adjusted| > 3.090232 (limits exp(+-z sqrt(1/E + tau^2))).
    assert_eq!(
        f.points
            .iter()
            .filter(|p| p.z_adjusted.abs() > 3.090232)
            .count(),
        9
    );
    // phi and tau^2 are not printed in the README or vignette. These values come
    // from an independent re-computation of the same steps (numpy/scipy IRLS, then
    // FunnelPlotR's R/od_adjustment.R formulas: 44 of 54 providers kept after
    // truncation), not from a published table: phi 8.532851, tau^2 0.0284102.
    assert!((f.phi - 8.532851).abs() < 1e-5, "phi {}", f.phi);
    assert!((f.tau2 - 0.0284102).abs() < 1e-6, "tau2 {}", f.tau2);
    // Hand check of the DerSimonian-Laird step from phi: with w = E over the kept
    // providers, tau^2 = (44 phi - 43) / (sum w - sum w^2 / sum w).
    let z: Vec<f64> = obs
        .iter()
        .zip(&exp)
        .map(|(o, e)| e.sqrt() * (o / e).ln())
        .collect();
    let kept = bomon_stats::overdispersion::truncate(&z, 0.1);
    assert_eq!(kept.len(), 44);
    let (sw, sw2) = kept
        .iter()
        .fold((0.0, 0.0), |(a, b), &i| (a + exp[i], b + exp[i] * exp[i]));
    let tau2 = (44.0 * f.phi - 43.0) / (sw - sw2 / sw);
    assert!((f.tau2 - tau2).abs() < 1e-12);

    // Winsorising instead of truncating keeps the extreme providers' pull (at the
    // 10 % quantiles) in phi: larger phi and tau^2, fewer outliers (numpy: phi
    // 10.94172, tau^2 0.0376483, 6 outliers). Truncation is what SHMI specifies.
    let w = ratio_funnel(
        &obs,
        &exp,
        Overdispersion::Additive,
        LimitMethod::Exact,
        Trim::Winsorise,
    );
    assert!((w.phi - 10.94172).abs() < 1e-4, "phi {}", w.phi);
    assert!((w.tau2 - 0.0376483).abs() < 1e-6, "tau2 {}", w.tau2);
    assert_eq!(outliers(&w), 6);
}

#[test]
fn garwood_limits_match_scipy_chi_square_quantiles() {
    use bomon_stats::funnel::garwood_limit;
    // scipy.stats.chi2.ppf: E = 10: ppf(0.001, 20) / 20, ppf(0.999, 22) / 20;
    // E = 7.5 (non-integer degrees of freedom): ppf(0.025, 15) / 15, ppf(0.975, 17) / 15.
    let cases = [
        (10.0, 0.001, 0.296052037274376),
        (10.0, 0.999, 2.413397114541759),
        (7.5, 0.025, 0.41747585300288353),
        (7.5, 0.975, 2.012733941442655),
    ];
    for (e, p, want) in cases {
        let got = garwood_limit(1.0, e, p);
        assert!((got - want).abs() < 1e-9, "E {e} p {p}: {got} vs {want}");
    }
    // The target scales the limit.
    assert!((garwood_limit(2.0, 10.0, 0.999) - 2.0 * 2.413397114541759).abs() < 1e-9);
}

#[test]
fn truncation_drops_the_extreme_rank_groups_with_ties_averaged() {
    use bomon_stats::overdispersion::truncate;
    // n = 9, k = 10: group = floor(rank * 10 / 10) = rank. Group 0 is empty and
    // group 9 holds rank 9 only: the highest unit (3.0) goes, the lowest stays.
    let z = [0.5, -2.0, 3.0, 0.1, -0.3, 1.2, 0.0, 2.2, -1.1];
    let kept = truncate(&z, 0.1);
    assert_eq!(kept, vec![0, 1, 3, 4, 5, 6, 7, 8]);
    // n = 19, 20 % at each end (k = 5): group = floor(rank * 5 / 20) = floor(rank / 4);
    // ranks 1-3 -> group 0 (dropped), ranks 16-19 -> group 4 (dropped).
    let z: Vec<f64> = (0..19).map(|i| i as f64).collect();
    let kept = truncate(&z, 0.2);
    assert_eq!(kept, (3..15).collect::<Vec<_>>());
    // Ties share the average rank: three units tied at the bottom have rank 2, so
    // all three are dropped or kept together (floor(2 * 5 / 20) = 0: dropped).
    let mut z: Vec<f64> = (0..19).map(|i| i as f64).collect();
    z[0] = 1.0;
    z[2] = 1.0;
    let kept = truncate(&z, 0.2);
    assert!(!kept.contains(&0) && !kept.contains(&1) && !kept.contains(&2));
    // Non-finite z-scores are never kept.
    assert!(!truncate(&[f64::NAN, 1.0, 2.0], 0.1).contains(&0));
}

#[test]
fn poisson_glm_hand_cases_and_bad_input() {
    // Intercept only: beta = ln(mean y), se = 1 / sqrt(sum y), deviance by hand.
    let y = [2.0, 0.0, 5.0, 3.0];
    let x: Vec<Vec<f64>> = y.iter().map(|_| vec![1.0]).collect();
    let fit = glm::poisson(&x, &y).unwrap();
    assert!((fit.coef[0] - 2.5f64.ln()).abs() < 1e-10);
    assert!((fit.se[0] - 1.0 / 10f64.sqrt()).abs() < 1e-10);
    let dev =
        2.0 * (2.0 * (2.0f64 / 2.5).ln() + 5.0 * (5.0f64 / 2.5).ln() + 3.0 * (3.0f64 / 2.5).ln());
    assert!((fit.deviance - dev).abs() < 1e-9);
    // Pearson dispersion: sum (y - 2.5)^2 / 2.5 / 3 = (0.25 + 6.25 + 6.25 + 0.25) / 7.5.
    assert!((fit.pearson_dispersion - 13.0 / 7.5).abs() < 1e-10);
    // A singular design (the same column twice), negative counts and ragged rows fail.
    let twice: Vec<Vec<f64>> = y.iter().map(|_| vec![1.0, 1.0]).collect();
    assert!(glm::poisson(&twice, &y).is_none());
    assert!(glm::poisson(&x, &[1.0, -1.0, 2.0, 3.0]).is_none());
    assert!(glm::poisson(&[vec![1.0], vec![1.0, 2.0]], &[1.0, 2.0]).is_none());
}
