//! Properties of the synthetic data: plausible rates, overdispersion, the
//! latent factor's correlations, truth consistent with the series, and
//! determinism. One test binary for the crate.

use bomon_synth::generate::{indicator_id, Obs, SynthData};
use bomon_synth::{generate, write, Config, Formats};

fn data(seed: u64) -> SynthData {
    generate(&Config {
        departments: 1500,
        years: 8,
        quarters: 16,
        seed,
        ..Default::default()
    })
}

/// (numerator, denominator) per department for one annual indicator and year,
/// restricted to one housing type.
fn rates(d: &SynthData, id: &str, year: i32, housing: usize) -> Vec<(u32, f64, f64)> {
    d.annual
        .iter()
        .filter(|o| o.quarter == 0 && o.year == year && indicator_id(o.indicator) == id)
        .filter(|o| d.departments[o.dept as usize].housing_type == housing && o.den > 0.0)
        .map(|o| (o.dept, o.num, o.den))
        .collect()
}

fn pooled(v: &[(u32, f64, f64)]) -> f64 {
    v.iter().map(|r| r.1).sum::<f64>() / v.iter().map(|r| r.2).sum::<f64>()
}

#[test]
fn national_rates_are_plausible() {
    let d = data(1);
    // LBF 2019 (shared/DOMAIN.md): external move-out 10.4 % in family dwellings,
    // 39.9 % in youth dwellings.
    let fam = pooled(&rates(&d, "move_out_rate", 2025, 0));
    let youth = pooled(&rates(&d, "move_out_rate", 2025, 2));
    assert!((0.08..0.14).contains(&fam), "family move-out {fam}");
    assert!((0.30..0.50).contains(&youth), "youth move-out {youth}");
    let out = pooled(&rates(&d, "outside_labour_18_64", 2025, 0));
    assert!((0.12..0.30).contains(&out), "outside labour {out}");
    let inc = pooled(&rates(&d, "income_ratio_15_64", 2025, 0));
    assert!((0.6..0.9).contains(&inc), "income ratio {inc}");
    // Every share lies in [0, 1] with numerator <= denominator.
    for o in d.annual.iter().chain(&d.quarterly) {
        let id = indicator_id(o.indicator);
        if !o.den.is_nan()
            && ![
                "evictions",
                "complaints",
                "vandalism_burglary",
                "income_ratio_15_64",
            ]
            .contains(&id)
        {
            assert!(
                o.num <= o.den && o.num >= 0.0,
                "{id}: {} / {}",
                o.num,
                o.den
            );
        }
    }
}

#[test]
fn departments_differ_more_than_binomial_noise() {
    let d = data(2);
    let v = rates(&d, "outside_labour_18_64", 2024, 0);
    let p = pooled(&v);
    // Pearson dispersion: 1 for pure binomial variation.
    let chi2: f64 = v
        .iter()
        .filter(|r| r.2 >= 20.0)
        .map(|r| (r.1 - r.2 * p).powi(2) / (r.2 * p * (1.0 - p)))
        .sum();
    let k = v.iter().filter(|r| r.2 >= 20.0).count() as f64;
    let phi = chi2 / (k - 1.0);
    assert!(phi > 2.0, "dispersion {phi}");
}

#[test]
fn the_latent_factor_correlates_indicators() {
    let d = data(3);
    let a = rates(&d, "outside_labour_18_64", 2024, 0);
    let b = rates(&d, "public_support", 2024, 0);
    let rb: std::collections::HashMap<u32, f64> = b
        .iter()
        .filter(|r| r.2 >= 50.0)
        .map(|r| (r.0, r.1 / r.2))
        .collect();
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .filter(|r| r.2 >= 50.0)
        .filter_map(|r| rb.get(&r.0).map(|y| (r.1 / r.2, *y)))
        .collect();
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let cov: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let (vx, vy): (f64, f64) = (
        pairs.iter().map(|p| (p.0 - mx).powi(2)).sum(),
        pairs.iter().map(|p| (p.1 - my).powi(2)).sum(),
    );
    let r = cov / (vx * vy).sqrt();
    assert!(r > 0.3, "correlation {r}");
}

#[test]
fn planted_steps_are_visible_in_the_series() {
    let d = generate(&Config {
        departments: 3000,
        years: 10,
        quarters: 0,
        seed: 4,
        deterioration_share: 0.15,
        ..Default::default()
    });
    let mut lifts = Vec::new();
    for t in d
        .truth
        .iter()
        .filter(|t| t.kind == "deterioration" && t.shape == "step" && t.effect.abs() >= 0.5)
    {
        assert!(if t.indicator == "income_ratio_15_64" {
            t.expected_after < t.expected_before
        } else {
            t.expected_after > t.expected_before
        });
        let start: i32 = match t.start_period.parse() {
            Ok(y) => y,
            Err(_) => continue,
        };
        let dept = d
            .departments
            .iter()
            .position(|x| x.id == t.department_id)
            .unwrap() as u32;
        let series: Vec<&Obs> = d
            .annual
            .iter()
            .filter(|o| o.dept == dept && indicator_id(o.indicator) == t.indicator)
            .collect();
        let mean = |f: &dyn Fn(i32) -> bool| {
            let v: Vec<f64> = series
                .iter()
                .filter(|o| f(o.year) && o.den > 0.0)
                .map(|o| o.num / o.den)
                .collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        let (before, after) = (mean(&|y| y < start), mean(&|y| y >= start));
        if before > 0.0 && after > 0.0 {
            lifts.push((after / before).ln() * t.effect.signum());
        }
    }
    assert!(lifts.len() >= 20, "{} planted steps", lifts.len());
    let mean_lift = lifts.iter().sum::<f64>() / lifts.len() as f64;
    assert!(mean_lift > 0.15, "mean log lift {mean_lift}");
}

#[test]
fn truth_lists_data_quality_problems_and_the_sample_organisation_exists() {
    let d = generate(&Config {
        departments: 2000,
        sample_organisation: true,
        ..Default::default()
    });
    for kind in ["missing_year", "renumbered", "quarter_reported_twice"] {
        assert!(d.truth.iter().any(|t| t.kind == kind), "{kind}");
    }
    let org: Vec<_> = d
        .departments
        .iter()
        .filter(|x| x.organisation.starts_with("Boligforeningen Østjylland"))
        .collect();
    assert!((45..=60).contains(&org.len()));
    for name in [
        "Viby Syd",
        "Håndværkerparken",
        "Rundhøj",
        "Vejlby Vest",
        "Søndervangen",
    ] {
        assert!(
            org.iter()
                .any(|x| x.name == name && x.municipality_code == "751"),
            "{name}"
        );
    }
    let munis: std::collections::BTreeSet<&str> = d
        .departments
        .iter()
        .map(|x| x.municipality_code.as_str())
        .collect();
    assert!(
        munis.len() > 60,
        "departments spread over {} municipalities",
        munis.len()
    );
    assert!(
        d.departments.iter().any(|x| x.tenancies <= 20)
            && d.departments.iter().any(|x| x.tenancies >= 1000)
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_data() {
    let cfg = Config {
        departments: 300,
        years: 4,
        quarters: 8,
        seed: 9,
        ..Default::default()
    };
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let fa = write(&generate(&cfg), a.path(), Formats::Both).unwrap();
    write(&generate(&cfg), b.path(), Formats::Both).unwrap();
    write(
        &generate(&Config {
            seed: 10,
            ..cfg.clone()
        }),
        c.path(),
        Formats::Both,
    )
    .unwrap();
    for f in &fa {
        let name = f.file_name().unwrap();
        let x = std::fs::read(f).unwrap();
        assert_eq!(
            x,
            std::fs::read(b.path().join(name)).unwrap(),
            "{name:?} differs for the same seed"
        );
    }
    let obs = "observations_annual.csv";
    assert_ne!(
        std::fs::read(a.path().join(obs)).unwrap(),
        std::fs::read(c.path().join(obs)).unwrap()
    );
    let notice = std::fs::read_to_string(a.path().join("SYNTHETIC-DATA.txt")).unwrap();
    assert!(notice.contains("SYNTHETIC"));
}
