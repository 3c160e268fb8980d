//! Published reference values of the reference implementations, each with its
//! source named.

use bomon_stats::funnel::{
    exact_limit, funnel, wilson_limit, FunnelOptions, LimitMethod, Measure, Overdispersion, Worse,
};
use bomon_stats::multiple::bh_qvalues;
use bomon_stats::spc::{anhoej_limits, runs_analysis, spc, Chart, Rule, Rules, SpcOptions};
use bomon_stats::trend::{
    log_rate_ratio, logistic_slope, mann_kendall, proportion_slope, wls_slope,
};
use bomon_stats::{cusum, distance, shrink, Severity};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// Anhøj & Olesen (2014), "Run charts revisited", PLoS ONE 9:e113825, table of
/// critical values as qicharts2 computes them (helper.functions.R:
/// longest.run.max = round(log2(n)) + 3, n.crossings.min = qbinom(0.05, n - 1, 0.5));
/// rows for n = 10..100, checked with scipy.stats.binom.ppf.
const ANHOEJ: [(usize, usize, usize); 91] = [
    (10, 6, 2),
    (11, 6, 2),
    (12, 7, 3),
    (13, 7, 3),
    (14, 7, 4),
    (15, 7, 4),
    (16, 7, 4),
    (17, 7, 5),
    (18, 7, 5),
    (19, 7, 6),
    (20, 7, 6),
    (21, 7, 6),
    (22, 7, 7),
    (23, 8, 7),
    (24, 8, 8),
    (25, 8, 8),
    (26, 8, 8),
    (27, 8, 9),
    (28, 8, 9),
    (29, 8, 10),
    (30, 8, 10),
    (31, 8, 11),
    (32, 8, 11),
    (33, 8, 11),
    (34, 8, 12),
    (35, 8, 12),
    (36, 8, 13),
    (37, 8, 13),
    (38, 8, 14),
    (39, 8, 14),
    (40, 8, 14),
    (41, 8, 15),
    (42, 8, 15),
    (43, 8, 16),
    (44, 8, 16),
    (45, 8, 17),
    (46, 9, 17),
    (47, 9, 17),
    (48, 9, 18),
    (49, 9, 18),
    (50, 9, 19),
    (51, 9, 19),
    (52, 9, 20),
    (53, 9, 20),
    (54, 9, 21),
    (55, 9, 21),
    (56, 9, 21),
    (57, 9, 22),
    (58, 9, 22),
    (59, 9, 23),
    (60, 9, 23),
    (61, 9, 24),
    (62, 9, 24),
    (63, 9, 25),
    (64, 9, 25),
    (65, 9, 25),
    (66, 9, 26),
    (67, 9, 26),
    (68, 9, 27),
    (69, 9, 27),
    (70, 9, 28),
    (71, 9, 28),
    (72, 9, 29),
    (73, 9, 29),
    (74, 9, 29),
    (75, 9, 30),
    (76, 9, 30),
    (77, 9, 31),
    (78, 9, 31),
    (79, 9, 32),
    (80, 9, 32),
    (81, 9, 33),
    (82, 9, 33),
    (83, 9, 34),
    (84, 9, 34),
    (85, 9, 34),
    (86, 9, 35),
    (87, 9, 35),
    (88, 9, 36),
    (89, 9, 36),
    (90, 9, 37),
    (91, 10, 37),
    (92, 10, 38),
    (93, 10, 38),
    (94, 10, 39),
    (95, 10, 39),
    (96, 10, 39),
    (97, 10, 40),
    (98, 10, 40),
    (99, 10, 41),
    (100, 10, 41),
];

#[test]
fn anhoej_critical_values_match_the_qicharts2_table() {
    for (n, longest, crossings) in ANHOEJ {
        assert_eq!(anhoej_limits(n), (longest, crossings), "n = {n}");
        // Asked again (kept from the first time), the same.
        assert_eq!(anhoej_limits(n), (longest, crossings), "n = {n}");
    }
    // Beyond the kept lengths, computed each time: qbinom(0.05, 299, 0.5)
    // = 135 (the smallest k with sum_{j <= k} C(299, j) / 2^299 >= 0.05,
    // summed exactly in integers by hand), and round(log2(300)) + 3 = 11.
    assert_eq!(anhoej_limits(300), (11, 135));
}

#[test]
fn runs_analysis_counts_runs_and_crossings() {
    // 12 points: 5 above, 1 on the centre (skipped), 6 below -> 11 useful,
    // longest run 6, one crossing; limits for n = 11 are (6, 2) -> crossings signal.
    let y = [2., 2., 2., 2., 2., 1., 0., 0., 0., 0., 0., 0.];
    let c = [1.0; 12];
    let r = runs_analysis(&y, &c);
    assert_eq!((r.n_useful, r.longest_run, r.crossings), (11, 6, 1));
    assert_eq!((r.longest_run_max, r.crossings_min), (6, 2));
    assert!(r.signal);
}

/// R: set.seed(123); rnorm(20) - the data of NHSRplotthedots'
/// tests/testthat/test-ptd_spc_standard.R.
const RNORM_123: [f64; 20] = [
    -0.56047565,
    -0.23017749,
    1.55870831,
    0.07050839,
    0.12928774,
    1.71506499,
    0.46091621,
    -1.26506123,
    -0.68685285,
    -0.44566197,
    1.22408180,
    0.35981383,
    0.40077145,
    0.11068272,
    -0.55584113,
    1.78691314,
    0.49785048,
    -1.96661716,
    0.70135590,
    -0.47279141,
];

#[test]
fn xmr_limits_match_nhsrplotthedots_snapshot() {
    // NHSRplotthedots tests/testthat/_snaps/ptd_spc_standard.md: mean 0.142,
    // lpl -3.01, upl 3.29 (printed to 3 significant digits).
    let s = spc(
        &RNORM_123,
        None,
        &SpcOptions {
            chart: Chart::Xmr,
            rules: Rules::Nhs,
            ..Default::default()
        },
    );
    let p = s.points[0];
    assert!(close(p.centre, 0.142, 0.0005), "{}", p.centre);
    assert!(close(p.lower, -3.01, 0.005), "{}", p.lower);
    assert!(close(p.upper, 3.29, 0.005), "{}", p.upper);
    assert!(
        s.points.iter().all(|p| p.rule.is_none()),
        "no special cause in white noise"
    );
}

#[test]
fn screening_moving_ranges_narrows_limits_around_an_outlier() {
    // As NHSRplotthedots' test "it returns expected values": y[15] <- 10 with and
    // without screen_outliers; the screened limits are narrower.
    let mut y = RNORM_123;
    y[14] = 10.0;
    let s = spc(
        &y,
        None,
        &SpcOptions {
            chart: Chart::Xmr,
            rules: Rules::Nhs,
            ..Default::default()
        },
    );
    let screened = s.points[0].upper - s.points[0].lower;
    let mean = y.iter().sum::<f64>() / 20.0;
    let amr_all = y.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / 19.0;
    let unscreened = 2.0 * 3.0 * amr_all / 1.128;
    assert!(unscreened > screened);
    assert!(close(s.points[0].centre, mean, 1e-12));
    assert_eq!(s.points[14].rule, Some(Rule::OutsideLimits));
}

#[test]
fn two_of_three_needs_both_points_on_the_same_side() {
    // NHSRplotthedots test-ptd_spc_standard.R: symmetrical data 1, -1, ... with
    // the last two points at 5.5 and -5.5 -> both common cause.
    let mut y: Vec<f64> = (0..16)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    y[14] = 5.5;
    y[15] = -5.5;
    let s = spc(
        &y,
        None,
        &SpcOptions {
            chart: Chart::Xmr,
            rules: Rules::Nhs,
            ..Default::default()
        },
    );
    assert_eq!(s.points[14].rule, None);
    assert_eq!(s.points[15].rule, None);
}

#[test]
fn nhs_shift_and_trend_need_seven_points() {
    let base = [5.0, 6.0, 4.0, 5.0, 6.0, 4.0, 5.0, 6.0, 4.0, 5.0];
    // Six points above the mean: no shift; seven: shift.
    for (k, expect) in [(6, false), (7, true)] {
        let mut y = base.to_vec();
        y.extend(std::iter::repeat_n(5.6, k));
        y.extend([4.0, 6.0, 4.0]);
        let s = spc(
            &y,
            None,
            &SpcOptions {
                chart: Chart::Xmr,
                rules: Rules::Nhs,
                freeze: Some(10),
                ..Default::default()
            },
        );
        let shift = s.points.iter().any(|p| p.rule == Some(Rule::Shift));
        assert_eq!(shift, expect, "{k} points on one side");
    }
    // Seven increasing points: trend, marked as concern when higher is worse.
    let mut y = base.to_vec();
    y.extend([3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0]);
    let s = spc(
        &y,
        None,
        &SpcOptions {
            chart: Chart::Xmr,
            rules: Rules::Nhs,
            freeze: Some(10),
            worse: Some(Worse::Higher),
            ..Default::default()
        },
    );
    assert!(
        s.points[10..].iter().all(|p| p.rule == Some(Rule::Trend)),
        "{:?}",
        s.points
    );
    assert_eq!(s.points[16].concern, Some(true));
}

#[test]
fn p_chart_limits_by_hand() {
    // Pooled p = 60 / 600 = 0.1; for n = 100: sigma = sqrt(0.1 * 0.9 / 100) = 0.03.
    let y = [10.0, 20.0, 30.0];
    let n = [100.0, 200.0, 300.0];
    let s = spc(
        &y,
        Some(&n),
        &SpcOptions {
            chart: Chart::P,
            ..Default::default()
        },
    );
    assert!(close(s.points[0].centre, 0.1, 1e-12));
    assert!(close(s.points[0].upper, 0.19, 1e-12));
    assert!(close(s.points[0].lower, 0.01, 1e-12));
    // U chart: u = 60 / 600 = 0.1; sigma for n = 100 is sqrt(0.1 / 100).
    let u = spc(
        &y,
        Some(&n),
        &SpcOptions {
            chart: Chart::U,
            ..Default::default()
        },
    );
    assert!(close(
        u.points[0].upper,
        0.1 + 3.0 * (0.001f64).sqrt(),
        1e-12
    ));
}

#[test]
fn laney_p_prime_widens_limits_for_overdispersed_large_samples() {
    // Large denominators with real between-period variation: P limits flag
    // everything, P' (Laney 2002) scales sigma by the spread of the z-scores.
    let n = vec![50_000.0; 12];
    let p = [
        0.100, 0.108, 0.094, 0.104, 0.098, 0.110, 0.091, 0.102, 0.106, 0.096, 0.100, 0.104,
    ];
    let y: Vec<f64> = p.iter().zip(&n).map(|(a, b)| a * b).collect();
    let pc = spc(
        &y,
        Some(&n),
        &SpcOptions {
            chart: Chart::P,
            ..Default::default()
        },
    );
    let pp = spc(
        &y,
        Some(&n),
        &SpcOptions {
            chart: Chart::PPrime,
            ..Default::default()
        },
    );
    let out_p = pc
        .points
        .iter()
        .filter(|p| p.rule == Some(Rule::OutsideLimits))
        .count();
    let out_pp = pp
        .points
        .iter()
        .filter(|p| p.rule == Some(Rule::OutsideLimits))
        .count();
    assert!(out_p >= 4, "plain P chart over-signals: {out_p}");
    assert_eq!(out_pp, 0);
    // sigma_z from the z-scores' moving ranges (by hand).
    let cl = p.iter().sum::<f64>() / 12.0;
    let se = (cl * (1.0 - cl) / 50_000.0f64).sqrt();
    let z: Vec<f64> = p.iter().map(|v| (v - cl) / se).collect();
    let amr = z.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / 11.0;
    assert!(close(pp.points[0].upper, cl + 3.0 * se * amr / 1.128, 1e-9));
}

#[test]
fn mann_kendall_matches_pymannkendall() {
    // pymannkendall 1.4.3, original_test([12, 15, 11, 18, 14, 17, 16, 21, 19, 18, 22, 20, 24, 23, 23, 26]):
    // s = 90, var_s = 491.3333333333333, z = 4.015151088468441,
    // p = 5.940772528711946e-05, Tau = 0.75, slope = 0.8516483516483516,
    // intercept = 12.112637362637363.
    let r = mann_kendall(&[
        12., 15., 11., 18., 14., 17., 16., 21., 19., 18., 22., 20., 24., 23., 23., 26.,
    ]);
    assert_eq!(r.s, 90.0);
    assert!(close(r.var_s, 491.3333333333333, 1e-9));
    assert!(close(r.z, 4.015151088468441, 1e-9));
    assert!(close(r.p, 5.940772528711946e-05, 1e-10));
    assert!(close(r.tau, 0.75, 1e-12));
    assert!(close(r.slope, 0.8516483516483516, 1e-12));
    assert!(close(r.intercept, 12.112637362637363, 1e-9));
    // With a missing value (NaN): s = 36, var_s = 164, z = 2.733040833050606,
    // p = 0.006275255208980202, Tau = 0.6545454545454545, slope = 0.15, intercept = 5.0.
    let r = mann_kendall(&[
        5.1,
        4.8,
        5.6,
        f64::NAN,
        5.0,
        5.9,
        6.2,
        5.7,
        6.4,
        6.1,
        6.1,
        6.8,
    ]);
    assert_eq!((r.n, r.s), (11, 36.0));
    assert!(close(r.var_s, 164.0, 1e-9));
    assert!(close(r.z, 2.733040833050606, 1e-9));
    assert!(close(r.p, 0.006275255208980202, 1e-10));
    assert!(close(r.tau, 0.6545454545454545, 1e-12));
    assert!(close(r.slope, 0.15, 1e-9));
    assert!(close(r.intercept, 5.0, 1e-9));
}

#[test]
fn bh_qvalues_match_p_adjust() {
    // R p.adjust(p, "BH") / scipy.stats.false_discovery_control(p).
    let p = [0.01, 0.04, 0.03, 0.005, 0.5, 0.2, 0.8, 0.045, 0.0001, 0.07];
    let want = [
        0.03333333333333333,
        0.075,
        0.075,
        0.025,
        0.5555555555555556,
        0.25,
        0.8,
        0.075,
        0.001,
        0.1,
    ];
    for (q, w) in bh_qvalues(&p).iter().zip(want) {
        assert!(close(*q, w, 1e-12), "{q} vs {w}");
    }
    // Ties and a missing p-value (R drops NA from the count): by hand,
    // m = 5, p m / rank = 0.05, 0.025, 0.0667, 0.05, 0.2, and the running
    // minimum from the top gives 0.025, 0.025, 0.05, 0.05, 0.2 - tied
    // p-values share their q whichever ranks first.
    let q = bh_qvalues(&[0.04, 0.01, f64::NAN, 0.2, 0.01, 0.04]);
    let want = [0.05, 0.025, f64::NAN, 0.2, 0.025, 0.05];
    for (q, w) in q.iter().zip(want) {
        assert!(
            q.is_nan() && w.is_nan() || close(*q, w, 1e-12),
            "{q} vs {w}"
        );
    }
}

#[test]
fn exact_binomial_limits_follow_spiegelhalter_interpolation() {
    // Spiegelhalter (2005) appendix A.1.1 by hand for p0 = 0.1, n = 50, upper 97.5 %:
    // r = qbinom(0.975, 50, 0.1) = 9; F(9) = 0.9754620642954086, F(8) = 0.9421327942819058
    // (scipy.stats.binom.cdf); alpha = (F(9) - 0.975) / (F(9) - F(8));
    // limit = (9 - alpha) / 50.
    let f9 = 0.9754620642954086_f64;
    let f8 = 0.9421327942819058_f64;
    let alpha = (f9 - 0.975) / (f9 - f8);
    let want = (9.0 - alpha) / 50.0;
    assert!(close(
        exact_limit(Measure::Proportion, 0.1, 50.0, 0.975),
        want,
        1e-9
    ));
    // Limits narrow towards the target as n grows.
    let wide = exact_limit(Measure::Proportion, 0.1, 50.0, 0.975);
    let narrow = exact_limit(Measure::Proportion, 0.1, 5000.0, 0.975);
    assert!(wide > narrow && narrow > 0.1);
}

#[test]
fn funnel_proportions_by_hand() {
    // Target = 95/920; z on the arcsine scale: (asin(sqrt(p)) - asin(sqrt(p0))) * 2 sqrt(n).
    let num = [12.0, 30.0, 45.0, 8.0];
    let den = [100.0, 300.0, 400.0, 120.0];
    let f = funnel(
        &num,
        &den,
        &FunnelOptions {
            overdispersion: Overdispersion::None,
            limits: LimitMethod::Normal,
            ..Default::default()
        },
    );
    let p0: f64 = 95.0 / 920.0;
    let z0 = ((0.12f64).sqrt().asin() - p0.sqrt().asin()) * 2.0 * 10.0;
    assert!(close(f.points[0].z, z0, 1e-12));
    // phi from 10 %-Winsorised z-scores, by FunnelPlotR's formulas (R/od_adjustment.R)
    // evaluated with numpy (quantile type 7): 0.44779318473635255.
    assert!(close(f.phi, 0.44779318473635255, 1e-12), "phi {}", f.phi);
    assert!(f.points.iter().all(|p| p.flag.is_none()));
}

#[test]
fn funnel_flags_only_the_worse_side_and_overdispersion_calms_the_crowd() {
    // 40 units around 10 % with extra-binomial spread, one real outlier at 25 %.
    let mut num = Vec::new();
    let mut den = Vec::new();
    for i in 0..40 {
        let n = 2000.0 + 50.0 * i as f64;
        let p = 0.10 + 0.04 * ((i * 7 % 11) as f64 - 5.0) / 5.0;
        num.push((p * n).round());
        den.push(n);
    }
    num.push(500.0); // 25 %
    den.push(2000.0);
    num.push(20.0); // 1 %: far below, better, never flagged when higher is worse
    den.push(2000.0);
    let plain = funnel(
        &num,
        &den,
        &FunnelOptions {
            overdispersion: Overdispersion::None,
            ..Default::default()
        },
    );
    let od = funnel(
        &num,
        &den,
        &FunnelOptions {
            overdispersion: Overdispersion::Multiplicative,
            ..Default::default()
        },
    );
    let add = funnel(
        &num,
        &den,
        &FunnelOptions {
            overdispersion: Overdispersion::Additive,
            ..Default::default()
        },
    );
    let count =
        |f: &bomon_stats::funnel::Funnel| f.points.iter().filter(|p| p.flag.is_some()).count();
    assert!(od.phi > 1.5, "phi = {}", od.phi);
    assert!(add.tau2 > 0.0);
    assert!(
        count(&plain) > count(&od),
        "{} vs {}",
        count(&plain),
        count(&od)
    );
    assert_eq!(od.points[40].flag, Some(Severity::Alarm));
    assert_eq!(add.points[40].flag, Some(Severity::Alarm));
    assert_eq!(plain.points[41].flag, None);
    let lower = funnel(
        &num,
        &den,
        &FunnelOptions {
            worse: Worse::Lower,
            overdispersion: Overdispersion::Multiplicative,
            ..Default::default()
        },
    );
    assert!(lower.points[41].flag.is_some() && lower.points[40].flag.is_none());
}

#[test]
fn funnelplotr_test_data_sr_with_sqrt_and_log_scales() {
    // FunnelPlotR tests/testthat/test-funnel_plot.R data: observed and expected.
    // By FunnelPlotR's formulas (R/od_adjustment.R): CQC z = (sqrt(O/E) - 1) * 2 sqrt(E),
    // SHMI z = sqrt(E) * log(O/E).
    let o = [100.0, 150.0, 180.0, 80.0, 120.0, 225.0];
    let e = [108.0, 112.0, 165.0, 95.0, 100.0, 220.0];
    let sq = funnel(
        &o,
        &e,
        &FunnelOptions {
            measure: Measure::RatioSqrt,
            overdispersion: Overdispersion::Additive,
            ..Default::default()
        },
    );
    let lg = funnel(
        &o,
        &e,
        &FunnelOptions {
            measure: Measure::RatioLog,
            overdispersion: Overdispersion::Additive,
            ..Default::default()
        },
    );
    for i in 0..6 {
        let zs = ((o[i] / e[i]).sqrt() - 1.0) * 2.0 * e[i].sqrt();
        let zl = e[i].sqrt() * (o[i] / e[i]).ln();
        assert!(close(sq.points[i].z, zs, 1e-12));
        assert!(close(lg.points[i].z, zl, 1e-12));
    }
    // FunnelPlotR: adjusted limits are wider than unadjusted (expect_gt(LCL95, OD95LCL)).
    let un = funnel(
        &o,
        &e,
        &FunnelOptions {
            measure: Measure::RatioLog,
            overdispersion: Overdispersion::None,
            limits: LimitMethod::Normal,
            ..Default::default()
        },
    );
    assert!(un.points[4].lower95 >= lg.points[4].lower95);
}

#[test]
fn change_and_slope_by_hand() {
    // 40/400 -> 60/400: log RR = ln(1.5), se = sqrt(1/60 - 1/400 + 1/40 - 1/400).
    let c = log_rate_ratio(60.0, 400.0, 40.0, 400.0);
    assert!(close(c.estimate, 1.5f64.ln(), 1e-12));
    assert!(close(
        c.se,
        (1.0 / 60.0 - 1.0 / 400.0 + 1.0 / 40.0 - 1.0 / 400.0f64).sqrt(),
        1e-12
    ));
    // An exact line has the exact slope.
    let s = wls_slope(&[0., 1., 2., 3.], &[1., 3., 5., 7.], &[1., 1., 1., 1.]).unwrap();
    assert!(close(s.estimate, 2.0, 1e-12));
    assert!(close(s.se, (1.0f64 / 5.0).sqrt(), 1e-12));
    let ps = proportion_slope(
        &[0., 1., 2., 3., 4.],
        &[10., 12., 14., 16., 18.],
        &[100.; 5],
    )
    .unwrap();
    assert!(close(ps.estimate, 0.02, 1e-12));
}

#[test]
fn logistic_slope_reproduces_the_beetle_mortality_fit() {
    // Bliss (1935) beetle mortality, the logistic regression of Dobson &
    // Barnett, "An Introduction to Generalized Linear Models" (section 7.3.1):
    // R's glm(cbind(y, n - y) ~ x, family = binomial) gives the slope 34.270
    // with standard error 2.912 (intercept -60.717, se 5.181).
    let x = [
        1.6907, 1.7242, 1.7552, 1.7842, 1.8113, 1.8369, 1.8610, 1.8839,
    ];
    let n = [59., 60., 62., 56., 63., 59., 62., 60.];
    let y = [6., 13., 18., 28., 52., 53., 61., 60.];
    let s = logistic_slope(&x, &y, &n).unwrap();
    assert!(close(s.estimate, 34.270, 0.001), "{s:?}");
    assert!(close(s.se, 2.912, 0.001), "{s:?}");
    // No events at all, or nothing but events: no finite slope.
    assert!(logistic_slope(&[0., 1., 2.], &[0., 0., 0.], &[50.; 3]).is_none());
    assert!(logistic_slope(&[0., 1., 2.], &[50.; 3], &[50.; 3]).is_none());
    // A constant share has slope 0 and the binomial information's se:
    // 1 / sqrt(sum n p (1 - p) (t - mean t)^2) = 1 / sqrt(100 * 0.09 * 2).
    let c = logistic_slope(&[0., 1., 2.], &[10., 10., 10.], &[100.; 3]).unwrap();
    assert!(c.estimate.abs() < 1e-9);
    assert!(close(c.se, 1.0 / (100.0f64 * 0.09 * 2.0).sqrt(), 1e-9));
}

#[test]
fn marshall_shrinks_small_units_most() {
    // m = 30 / 300 = 0.1; rates 0.5 (n = 10), 0.0 (n = 10), 0.0893 (n = 280).
    let th = shrink::marshall(&[5.0, 0.0, 25.0], &[10.0, 10.0, 280.0]);
    let m = 0.1;
    let s2 =
        (10.0 * (0.5f64 - m).powi(2) + 10.0 * m * m + 280.0 * (25.0 / 280.0 - m).powi(2)) / 300.0;
    let a = s2 - m / 100.0;
    let c0 = a / (a + m / 10.0);
    assert!(close(th[0], m + c0 * (0.5 - m), 1e-12));
    assert!((th[0] - m).abs() < 0.4 && (th[2] - 25.0 / 280.0).abs() < (th[0] - 0.5).abs());
}

#[test]
fn cusum_accumulates_evidence_and_resets() {
    // p0 = 0.1, OR = 2 -> p1 = 0.2/1.1; W for 3 of 10 = 3 ln(p1/p0) + 7 ln((1-p1)/(1-p0)).
    let p1 = 0.2 / 1.1;
    let w = 3.0 * (p1 / 0.1f64).ln() + 7.0 * ((1.0 - p1) / 0.9f64).ln();
    let c = cusum::bernoulli_cusum(&[3.0, 3.0, 0.0], &[10.0, 10.0, 10.0], 0.1, 2.0, 10.0);
    assert!(close(c[0].s, w, 1e-12));
    assert!(close(c[1].s, 2.0 * w, 1e-12));
    assert!(c[2].s < c[1].s);
    let e = cusum::ewma_proportion(&[10.0, 10.0], &[100.0, 100.0], 0.1, 0.2, 3.0);
    assert!(close(e[0].z, 0.1, 1e-12) && e[0].upper > 0.1);
}

#[test]
fn standardised_cusum_and_siegmund_arl_match_montgomery() {
    // Page's tabular CUSUM by hand: k = 0.5, h = 1.
    let c = cusum::standardised_cusum(&[1.0, 1.0, f64::NAN, -2.0, 0.8], 0.5, 1.0);
    let s: Vec<f64> = c.iter().map(|p| p.s).collect();
    assert_eq!(s, vec![0.5, 1.0, 1.0, 0.0, 0.30000000000000004]);
    assert!(!c[1].signal && c.iter().all(|p| !p.signal));
    let c = cusum::standardised_cusum(&[2.0, 2.0], 0.5, 2.5);
    assert!(!c[0].signal && c[1].signal);
    // Montgomery, Introduction to Statistical Quality Control (6th ed.),
    // Table 9.3: ARL of the two-sided tabular CUSUM with k = 1/2. In control:
    // 168 (h = 4) and 465 (h = 5); shifts of 1 and 2 sigma: 8.38 / 3.34 (h = 4),
    // 10.4 / 4.01 (h = 5). Siegmund's approximation is within a few per cent;
    // the two-sided in-control ARL is 1 / (1/ARL+ + 1/ARL-) = ARL+ / 2.
    let two_sided = |h: f64| cusum::siegmund_arl(0.0, 0.5, h) / 2.0;
    assert!(
        (two_sided(4.0) / 168.0 - 1.0).abs() < 0.02,
        "{}",
        two_sided(4.0)
    );
    assert!(
        (two_sided(5.0) / 465.0 - 1.0).abs() < 0.02,
        "{}",
        two_sided(5.0)
    );
    for (delta, h, arl) in [
        (1.0, 4.0, 8.38),
        (2.0, 4.0, 3.34),
        (1.0, 5.0, 10.4),
        (2.0, 5.0, 4.01),
    ] {
        let a = cusum::siegmund_arl(delta, 0.5, h);
        assert!(
            (a / arl - 1.0).abs() < 0.05,
            "delta {delta} h {h}: {a} vs {arl}"
        );
    }
    // D = 0: b^2.
    assert!((cusum::siegmund_arl(0.5, 0.5, 4.0) - 5.166f64.powi(2)).abs() < 1e-9);
}

#[test]
fn gamma_poisson_tails_match_direct_summation() {
    use bomon_stats::dist::{nb_lower_midp, nb_upper, nb_upper_midp, ppois};
    // Poisson (tau2 = 0): P(X >= k) = 1 - ppois(k - 1).
    for (k, mu) in [(1.0, 0.5), (5.0, 3.0), (12.0, 5.0), (40.0, 30.0)] {
        let want = 1.0 - ppois(k - 1.0, mu);
        assert!((nb_upper(k, mu, 0.0) - want).abs() < 1e-12, "{k} {mu}");
    }
    // Negative binomial with size r = 1 / tau2 and mean mu, by summing the
    // probability mass function P(X = j) = G(j + r) / (G(r) j!) p^r (1 - p)^j.
    let lgamma = |x: f64| statrs::function::gamma::ln_gamma(x);
    for (k, mu, tau2) in [(9.0, 5.0, 0.5), (3.0, 2.0, 0.1), (60.0, 40.0, 0.02)] {
        let r = 1.0 / tau2;
        let p = r / (r + mu);
        let below: f64 = (0..k as u32)
            .map(|j| {
                let j = f64::from(j);
                (lgamma(j + r) - lgamma(r) - lgamma(j + 1.0) + r * p.ln() + j * (1.0 - p).ln())
                    .exp()
            })
            .sum();
        assert!(
            (nb_upper(k, mu, tau2) - (1.0 - below)).abs() < 1e-10,
            "{k} {mu} {tau2}"
        );
    }
    // Mid-p is between the two tails, and upper + lower mid-p = 1.
    let (u, l) = (nb_upper_midp(7.0, 5.0, 0.1), nb_lower_midp(7.0, 5.0, 0.1));
    assert!(u < nb_upper(7.0, 5.0, 0.1) && u > nb_upper(8.0, 5.0, 0.1));
    assert!((u + l - 1.0).abs() < 1e-12);
    // Overdispersion fattens the tail.
    assert!(nb_upper(15.0, 5.0, 0.2) > nb_upper(15.0, 5.0, 0.0));
}

#[test]
fn nearest_neighbours_respect_constraints_and_mahalanobis_reduces_to_euclid() {
    let x = vec![
        vec![0.0, 0.0],
        vec![1.0, 0.0],
        vec![0.0, 2.0],
        vec![5.0, 5.0],
        vec![0.5, 0.5],
    ];
    let group = [0, 0, 1, 0, 0];
    let nn = distance::k_nearest(
        0,
        x.len(),
        2,
        |j| group[j] == group[0],
        |a, b| distance::standardised_euclidean(&x[a], &x[b], &[1.0, 1.0], &[1.0, 1.0]),
    );
    assert_eq!(nn.iter().map(|p| p.0).collect::<Vec<_>>(), vec![4, 1]);
    let id = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
    assert!(close(
        distance::mahalanobis(&x[0], &x[3], &id),
        50f64.sqrt(),
        1e-12
    ));
    let cov = distance::covariance(&x);
    let inv = distance::invert(&cov).unwrap();
    let prod: f64 = (0..2).map(|k| cov[0][k] * inv[k][0]).sum();
    assert!(close(prod, 1.0, 1e-9));
}

#[test]
fn wilson_limits_match_phe_fingertips_funnel_table() {
    // PHEindicatormethods (UKHSA) tests/testthat/testdata_funnel_prop_outputs.csv:
    // calculate_funnel_limits(statistic = "proportion", multiplier = 100),
    // baseline 80.642448 %; rows: population, lower 2s (0.025), upper 2s,
    // lower 3s (0.001), upper 3s (0.999), in per cent.
    let av = 0.80642448;
    let rows: [(f64, f64, f64, f64, f64); 5] = [
        (1.0, 3.204264, 100.0, 0.0, 100.0),
        (20.0, 63.326743, 97.958152, 53.341156, 100.0),
        (50.0, 69.691035, 91.593861, 63.375595, 97.909301),
        (1008.0, 78.203374, 83.081521, 76.796814, 84.488082),
        (110000.0, 80.408963, 80.875933, 80.274317, 81.010578),
    ];
    for (n, l2, u2, l3, u3) in rows {
        let got = [
            wilson_limit(av, n, 0.025),
            wilson_limit(av, n, 0.975),
            wilson_limit(av, n, 0.001),
            wilson_limit(av, n, 0.999),
        ];
        for (g, w) in got.iter().zip([l2, u2, l3, u3]) {
            assert!(close(g * 100.0, w, 5e-5), "n = {n}: {} vs {w}", g * 100.0);
        }
    }
}
