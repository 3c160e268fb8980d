//! Detection quality of the annual review on synthetic data with planted,
//! known developments (bomon-synth): recall of planted deteriorations by
//! department size and effect size, the share of alarms that are not planted
//! deteriorations, and alarms on data with nothing planted against the
//! review's stated expected number. Run with `cargo bench --bench detection`.
//!
//! Everything runs in-process on the library API (generate -> store ->
//! review per year), with the default review configuration.

use std::collections::{BTreeMap, HashSet};

use bomon_engine::config::ReviewConfig;
use bomon_engine::data::load;
use bomon_engine::peers::peer_groups;
use bomon_engine::review::{annual, Review};
use bomon_stats::Severity;
use bomon_store::{ingest, Catalogue, IngestOptions, Store};
use bomon_synth::{generate, write, Config, Formats};

const END: i32 = 2025;
const REVIEW_YEARS: std::ops::RangeInclusive<i32> = 2021..=2025;

struct Run {
    reviews: Vec<Review>,
    panel_ids: Vec<String>,
    indicators: Vec<String>,
    truth: Vec<bomon_synth::generate::Truth>,
    dens: BTreeMap<(String, String), f64>,
}

fn run(cfg: &Config) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let data = generate(cfg);
    write(&data, dir.path(), Formats::Parquet).unwrap();
    let mut store = Store::open_or_create(&dir.path().join("store")).unwrap();
    let cat = Catalogue::builtin();
    let files = ["departments.parquet", "observations_annual.parquet"].map(|f| dir.path().join(f));
    ingest(
        &mut store,
        &files,
        &cat,
        &IngestOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let snap = store.snapshot(None).unwrap();
    let indicators: Vec<String> = cat
        .indicators()
        .iter()
        .filter(|i| i.is_annual())
        .map(|i| i.id.clone())
        .collect();
    // BOMON_DETECTION_FDR_PER_TEST=1 evaluates FDR control within each kind of test;
    // BOMON_DETECTION_CHANGE_YEARS=2 the two-against-three-years development test.
    let rc = ReviewConfig {
        fdr_per_test: std::env::var("BOMON_DETECTION_FDR_PER_TEST").is_ok_and(|v| v == "1"),
        change_years: std::env::var("BOMON_DETECTION_CHANGE_YEARS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1),
        ..ReviewConfig::default()
    };
    let panel = load(&snap, END - cfg.years as i32 + 1, END, &indicators).unwrap();
    let scope: Vec<usize> = (0..panel.depts.len()).collect();
    let (peers, covs) = peer_groups(&panel.depts, &scope, &rc.peers);
    let reviews = REVIEW_YEARS
        .map(|y| annual(&panel, &cat, y, &scope, &peers, covs.clone(), &rc))
        .collect();
    // Denominator at the start of each planted development, for its expected z.
    let mut dens = BTreeMap::new();
    for t in &data.truth {
        if let (Some(d), Some(i)) = (
            panel.depts.iter().position(|x| x.id == t.department_id),
            panel.indicator(&t.indicator),
        ) {
            let y: i32 = t
                .start_period
                .get(..4)
                .and_then(|s| s.parse().ok())
                .unwrap_or(END);
            dens.insert(
                (t.department_id.clone(), t.indicator.clone()),
                panel.get(i, d, y.min(END)).1,
            );
        }
    }
    Run {
        reviews,
        panel_ids: panel.depts.iter().map(|d| d.id.clone()).collect(),
        indicators: panel.indicators.clone(),
        truth: data.truth,
        dens,
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = 4000;
    let planted = run(&Config {
        departments: n,
        years: 10,
        quarters: 0,
        seed: 11,
        deterioration_share: 0.10,
        improvement_share: 0.03,
        quality_problems: false,
        ..Default::default()
    });
    let null = run(&Config {
        departments: n,
        years: 10,
        quarters: 0,
        seed: 12,
        deterioration_share: 0.0,
        improvement_share: 0.0,
        quality_problems: false,
        ..Default::default()
    });

    // Planted deteriorations, keyed by (department, indicator) with start year.
    let det: Vec<&bomon_synth::generate::Truth> = planted
        .truth
        .iter()
        .filter(|t| t.kind == "deterioration")
        .collect();
    let keyset: HashSet<(String, String)> = det
        .iter()
        .map(|t| (t.department_id.clone(), t.indicator.clone()))
        .collect();
    println!(
        "detection: {n} departments, 10 years, reviews {}-{}, {} planted deteriorations",
        REVIEW_YEARS.start(),
        REVIEW_YEARS.end(),
        det.len()
    );
    println!(
        "  development test: last {} year(s) against the years before",
        std::env::var("BOMON_DETECTION_CHANGE_YEARS").unwrap_or_else(|_| "1".into())
    );
    println!(
        "  FDR controlled {}",
        if std::env::var("BOMON_DETECTION_FDR_PER_TEST").is_ok_and(|v| v == "1") {
            "within each kind of test"
        } else {
            "across the review"
        }
    );

    for (label, tests) in [
        ("development+trend", vec!["development", "trend"]),
        ("all tests", vec!["level", "development", "trend"]),
    ] {
        let (mut alarms, mut unplanted) = (0usize, 0usize);
        let mut by: BTreeMap<(&str, String), usize> = BTreeMap::new();
        for r in &planted.reviews {
            for f in r
                .findings
                .iter()
                .filter(|f| f.severity == Some(Severity::Alarm) && tests.contains(&f.test))
            {
                alarms += 1;
                if !keyset.contains(&(
                    planted.panel_ids[f.dept].clone(),
                    planted.indicators[f.indicator].clone(),
                )) {
                    unplanted += 1;
                    *by.entry((f.test, planted.indicators[f.indicator].clone()))
                        .or_default() += 1;
                }
            }
        }
        println!(
            "  alarms ({label}): {alarms}, not a planted deterioration: {unplanted} ({:.1} %)",
            100.0 * unplanted as f64 / alarms.max(1) as f64
        );
        if label == "development+trend" {
            let mut v: Vec<_> = by.into_iter().collect();
            v.sort_by_key(|x| std::cmp::Reverse(x.1));
            let top: Vec<String> = v
                .iter()
                .take(8)
                .map(|((t, i), n)| format!("{t} {i} {n}"))
                .collect();
            println!("    unplanted by test and indicator: {}", top.join("; "));
        }
    }

    // Recall: flagged (any severity, development or trend or level) within two
    // years of the start, for starts inside the reviewed years.
    let mut table: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let (mut strong, mut strong_hit) = (0, 0);
    for t in &det {
        let Ok(start) = t.start_period.get(..4).unwrap_or("").parse::<i32>() else {
            continue;
        };
        if !REVIEW_YEARS.contains(&start) {
            continue;
        }
        // The income ratio has no sampling error (its denominator is the
        // region's mean income): "expected z" is not defined for it.
        // Quarterly-only indicators belong to the quarterly review.
        if t.indicator == "income_ratio_15_64" || !planted.indicators.contains(&t.indicator) {
            continue;
        }
        let den = planted
            .dens
            .get(&(t.department_id.clone(), t.indicator.clone()))
            .copied()
            .unwrap_or(f64::NAN);
        let p = t.expected_before.clamp(1e-6, 1.0 - 1e-6);
        // Expected z of the change between two years on the logit scale, with
        // the effect reached by the second review year (a gradual development
        // ramps up) against sampling noise and the generator's year-to-year
        // noise (both years' fluctuation).
        let reached = if t.shape == "gradual" {
            bomon_synth::generate::gradual_share(1.0)
        } else {
            1.0
        };
        let year_sd = bomon_synth::generate::YEAR_NOISE_SD;
        let z = t.effect.abs() * reached
            / (2.0 / (den * p * (1.0 - p)) + 2.0 * year_sd * year_sd).sqrt();
        let hit = planted
            .reviews
            .iter()
            .filter(|r| r.year >= start && r.year <= start + 1)
            .any(|r| {
                r.findings.iter().any(|f| {
                    f.severity.is_some()
                        && planted.panel_ids[f.dept] == t.department_id
                        && planted.indicators[f.indicator] == t.indicator
                })
            });
        let size = match den {
            d if d < 100.0 => "denominator <100",
            d if d < 300.0 => "100-299",
            d if d < 1000.0 => "300-999",
            _ => "1000+",
        };
        let eff = match t.effect.abs() {
            e if e < 0.3 => "effect 0.2",
            e if e < 0.45 => "effect 0.35",
            e if e < 0.65 => "effect 0.5",
            _ => "effect 0.8",
        };
        let e = table
            .entry((size.to_string(), eff.to_string()))
            .or_default();
        e.0 += 1;
        e.1 += usize::from(hit);
        if z >= 4.0 {
            strong += 1;
            strong_hit += usize::from(hit);
            if std::env::var("BOMON_DETECTION_VERBOSE").is_ok() && !hit {
                println!(
                    "    missed: {} {} {} {} effect {:.2} den {den} p {:.3} z {z:.1}",
                    t.department_id, t.indicator, t.start_period, t.shape, t.effect, p
                );
            }
        }
    }
    println!("  recall of strong planted deteriorations (expected z >= 4) within two years: {strong_hit}/{strong} ({:.1} %)", 100.0 * strong_hit as f64 / strong.max(1) as f64);
    println!("  recall by size and effect (logit):");
    println!(
        "    {:<18} {:<12} {:>8} {:>8} {:>8}",
        "size", "effect", "planted", "flagged", "recall"
    );
    for ((s, e), (k, h)) in &table {
        println!(
            "    {s:<18} {e:<12} {k:>8} {h:>8} {:>7.0} %",
            100.0 * *h as f64 / *k as f64
        );
    }

    // Null data: development/trend alarms against the stated expectation.
    for r in &null.reviews {
        let dev_alarms = r
            .findings
            .iter()
            .filter(|f| f.severity.is_some() && f.test != "level")
            .count();
        let lvl = r
            .findings
            .iter()
            .filter(|f| f.severity.is_some() && f.test == "level")
            .count();
        println!(
            "  null data {}: development/trend flags {dev_alarms}, level flags {lvl} (real level differences from the latent factor), stated expected false alarms {:.1}",
            r.year, r.expected_false_alarms
        );
    }
}
