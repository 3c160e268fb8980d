//! Detection quality of the quarterly follow-up (`bomon review --quarterly`)
//! on SYNTHETIC quarterly data (bomon-synth, nothing planted):
//! - false alarms: new own signals on the unshifted series over 20
//!   consecutive quarterly runs, per 10 department-years - per series (a
//!   department x indicator flagged now and not the quarter before) by
//!   indicator and test, and per department (status `new`); and the alarms
//!   per quarter against the number the run states it expects;
//! - quarters to detection of sustained shifts of 1, 2 and 3 standard errors
//!   planted in one indicator per department, rotating over every quarterly
//!   indicator the department has figures for - rare series included, in
//!   proportion to what the generator produces - from a chosen quarter on.
//!   The standard error is that of the department's deciding chart at the
//!   shift's start in events, sqrt(mu + tau^2 mu^2) (mu the expected count,
//!   tau^2 the national between-quarter variance); each shifted quarter gets
//!   Poisson(k x SE) extra events (a rate shift gives whole events, with
//!   Poisson noise of their own). Detection is reported by size class
//!   (baseline events per quarter: < 2, 2-5, 5-20, > 20).
//!
//! Run with `cargo bench --bench quarterly_detection`. Environment overrides
//! for method studies: BOMON_Q_K, BOMON_Q_H (CUSUM), BOMON_Q_SD_FLOOR (0/1),
//! BOMON_Q_RUN_RULES (0/1), BOMON_Q_RULES (anhoej/nhs), BOMON_Q_CUSUM (0/1),
//! BOMON_Q_MIN_EVENTS, BOMON_Q_AC (0/1), BOMON_Q_ALARM_Z, BOMON_Q_BASELINE, BOMON_Q_DEPTS
//! (departments, 2000).

use std::collections::{BTreeMap, HashSet};

use bomon_engine::config::ReviewConfig;
use bomon_engine::data::{load_quarterly, quarter_label, Panel};
use bomon_engine::peers::peer_groups;
use bomon_engine::quarterly::{quarterly, standard_error_events, Quarterly, Selected};
use bomon_engine::review::{Comparator, Test};
use bomon_stats::rng::SplitMix64 as Rng;
use bomon_stats::Severity;
use bomon_synth::{generate, Config};

mod common;

fn env<T: std::str::FromStr>(k: &str) -> Option<T> {
    std::env::var(k).ok().and_then(|v| v.parse().ok())
}

/// The size classes of a series: its baseline events per quarter.
const CLASSES: [(&str, f64, f64); 4] = [
    ("< 2", 0.0, 2.0),
    ("2-5", 2.0, 5.0),
    ("5-20", 5.0, 20.0),
    ("> 20", 20.0, f64::INFINITY),
];

fn class_of(events: f64) -> usize {
    CLASSES
        .iter()
        .position(|c| events >= c.1 && events < c.2)
        .unwrap_or(3)
}

/// Mean events per quarter of a series over the 12 quarters before `s0`.
fn baseline_events(panel: &Panel, i: usize, d: usize, s0: i32) -> f64 {
    let v: Vec<f64> = (s0 - 12..s0)
        .map(|q| panel.get(i, d, q).0)
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// The (department, indicator) pairs with an own flag in a run.
fn own_flags(r: &Quarterly) -> HashSet<(usize, usize)> {
    r.review
        .findings
        .iter()
        .filter(|f| f.attribution == Some("own") && f.severity.is_some())
        .map(|f| (f.dept, f.indicator))
        .collect()
}

fn median(v: &mut [i32]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.sort_unstable();
    let m = v[v.len() / 2];
    if m == i32::MAX {
        ">8".into()
    } else {
        m.to_string()
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = env("BOMON_Q_DEPTS").unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let data = generate(&Config {
        departments: n,
        years: 1,
        quarters: 40,
        seed: 31,
        deterioration_share: 0.0,
        improvement_share: 0.0,
        quality_problems: false,
        ..Default::default()
    });
    let (store, cat) = common::ingested_store(&data, dir.path(), "observations_quarterly.parquet");
    let snap = store.snapshot(None).unwrap();
    let indicators = common::indicator_ids(&cat, |i| i.is_quarterly());
    let last = 2025 * 4 + 3;
    let first = last - 39;
    let panel0 = load_quarterly(&snap, first, last, &indicators).unwrap();

    let mut cfg = ReviewConfig::default();
    let q = &mut cfg.quarterly;
    if let Some(k) = env("BOMON_Q_K") {
        q.cusum_k = k;
    }
    if let Some(h) = env("BOMON_Q_H") {
        q.cusum_h = h;
    }
    if let Some(v) = env::<u8>("BOMON_Q_SD_FLOOR") {
        q.sd_floor = v == 1;
    }
    if let Some(v) = env::<u8>("BOMON_Q_RUN_RULES") {
        q.run_rules = v == 1;
    }
    if let Some(v) = env::<u8>("BOMON_Q_CUSUM") {
        q.cusum = v == 1;
    }
    if let Some(v) = env("BOMON_Q_MIN_EVENTS") {
        q.min_events = v;
    }
    if let Some(v) = env::<u8>("BOMON_Q_AC") {
        q.cusum_autocorrelation = v == 1;
    }
    if let Some(v) = env("BOMON_Q_BASELINE") {
        q.baseline_quarters = v;
    }
    if let Some(v) = env("BOMON_Q_ALARM_Z") {
        q.alarm_z = v;
    }
    if let Some(v) = env("BOMON_Q_WINDOW_Z") {
        q.window_z = v;
    }
    if let Some(v) = env::<String>("BOMON_Q_LEVEL") {
        q.level_variance = v;
    }
    if let Some(v) = env::<String>("BOMON_Q_EARLY") {
        q.early_warning = v;
    }
    if let Some(v) = env::<String>("BOMON_Q_RULES") {
        q.rules = v;
    }
    println!(
        "quarterly detection on SYNTHETIC data: {n} departments, 40 quarters; rules {}, run rules {}, early warning {} {} (window z {}, level variance {}; CUSUM k {}, h {}, autocorrelation {}), alarm z {}, sd floor {}, min events {}",
        cfg.quarterly.rules,
        cfg.quarterly.run_rules,
        cfg.quarterly.cusum,
        cfg.quarterly.early_warning,
        cfg.quarterly.window_z,
        cfg.quarterly.level_variance,
        cfg.quarterly.cusum_k,
        cfg.quarterly.cusum_h,
        cfg.quarterly.cusum_autocorrelation,
        cfg.quarterly.alarm_z,
        cfg.quarterly.sd_floor,
        cfg.quarterly.min_events
    );

    // Every third department is "at risk".
    let selection: Vec<Selected> = (0..panel0.depts.len())
        .step_by(3)
        .map(|d| Selected {
            dept: d,
            category: None,
            reasons: vec![],
        })
        .collect();
    let scope: Vec<usize> = selection.iter().map(|s| s.dept).collect();
    let (peers, covs) = peer_groups(&panel0.depts, &scope, &cfg.peers);
    let run = |panel: &Panel, t: i32| {
        quarterly(
            panel,
            &cat,
            t,
            selection.clone(),
            &peers,
            covs.clone(),
            &cfg,
        )
    };

    // False alarms on unshifted series: 20 quarterly runs (5 years), onsets
    // counted against the run of the quarter before.
    let runs = 20;
    let mut dept_onsets = 0usize;
    let mut series_onsets: BTreeMap<(String, &str), usize> = BTreeMap::new();
    let mut series_by_class = [0usize; 4];
    let mut followed_by_class = [0usize; 4];
    let mut followed_by_ind: BTreeMap<String, usize> = BTreeMap::new();
    let (mut flags_per_q, mut alarms_per_q, mut expected_per_q) = (0usize, 0usize, 0.0);
    // Series (department x indicator) flagged by their own signal: what the
    // stated expected number counts (a series with an alarm and an early
    // warning is one).
    let mut flagged_series = 0usize;
    let mut zs: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let started = std::time::Instant::now();
    let mut before = own_flags(&run(&panel0, last - runs));
    let mut not_followed = 0usize;
    let mut series_total = 0usize;
    for t in last - runs + 1..=last {
        let r = run(&panel0, t);
        let now = own_flags(&r);
        flagged_series += now.len();
        expected_per_q += r.review.expected_false_alarms;
        for f in &r.review.findings {
            if f.test == Test::Spc && f.comparator == Comparator::Peers && f.z.is_finite() {
                zs.entry(panel0.indicators[f.indicator].clone())
                    .or_default()
                    .push(f.z);
                let c = class_of(baseline_events(&panel0, f.indicator, f.dept, t));
                followed_by_class[c] += 1;
                *followed_by_ind
                    .entry(panel0.indicators[f.indicator].clone())
                    .or_default() += 1;
            }
            if f.attribution == Some("own") && f.severity.is_some() {
                flags_per_q += 1;
                if f.severity == Some(Severity::Alarm) {
                    alarms_per_q += 1;
                }
                if !before.contains(&(f.dept, f.indicator)) {
                    let rule = f.rule.unwrap_or("");
                    *series_onsets
                        .entry((panel0.indicators[f.indicator].clone(), rule))
                        .or_default() += 1;
                    series_by_class[class_of(baseline_events(&panel0, f.indicator, f.dept, t))] +=
                        1;
                }
            }
        }
        not_followed += r.not_judged.len();
        series_total += r.selection.len() * r.seasonal.len();
        dept_onsets += r
            .status
            .iter()
            .filter(|s| **s == bomon_engine::quarterly::Status::New)
            .count();
        before = now;
    }
    let dept_years = selection.len() as f64 * runs as f64 / 4.0;
    let per10 = |c: usize| 10.0 * c as f64 / dept_years;
    {
        let r = run(&panel0, last);
        for (i, d) in r.dispersion.iter().enumerate() {
            println!(
                "  pooled dispersion {:<22} tau2 {:.4} rho {:.3} lag covariance {:?} seasonal {:?}",
                panel0.indicators[i],
                d.tau2,
                d.rho,
                d.lag_cov.map(|x| (x * 1e4).round() / 1e4),
                r.seasonal[i].map(|x| (x * 1000.0).round() / 1000.0)
            );
        }
        let mut why: BTreeMap<&str, usize> = BTreeMap::new();
        for nj in &r.not_judged {
            *why.entry(nj.2.name()).or_default() += 1;
        }
        println!("  not followed at {}: {why:?}", quarter_label(last));
    }
    let series_total_onsets: usize = series_onsets.values().sum();
    println!(
        "false alarms (unshifted, {dept_years:.0} department-years, {runs} runs in {:.2} s):",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  per 10 department-years: {:.2} series onsets (a department x indicator flagged, not the quarter before); {:.2} department onsets (status new)",
        per10(series_total_onsets),
        per10(dept_onsets)
    );
    println!(
        "  per quarter: {:.2} series flagged by their own signal ({:.2} own flags, {:.2} alarms beyond the limit), the run states {:.2} expected false alarms; {} of {} department x indicator series not followed",
        flagged_series as f64 / runs as f64,
        flags_per_q as f64 / runs as f64,
        alarms_per_q as f64 / runs as f64,
        expected_per_q / runs as f64,
        not_followed,
        series_total
    );
    println!("  onsets per 10 department-years by indicator and test:");
    let mut by_ind: BTreeMap<&str, usize> = BTreeMap::new();
    for ((ind, rule), c) in &series_onsets {
        println!("    {ind:<22} {rule:<15} {:.2}", per10(*c));
        *by_ind.entry(ind).or_default() += c;
    }
    for (ind, c) in &by_ind {
        println!(
            "    {ind:<22} {:<15} {:.2}  ({} series-quarters followed)",
            "all",
            per10(*c),
            followed_by_ind.get(*ind).copied().unwrap_or(0)
        );
    }
    println!(
        "  onsets per 1,000 followed series-quarters by size class (baseline events a quarter):"
    );
    for (c, cl) in CLASSES.iter().enumerate() {
        println!(
            "    {:<5} {:>7} followed  {:.2}",
            cl.0,
            followed_by_class[c],
            1000.0 * series_by_class[c] as f64 / followed_by_class[c].max(1) as f64
        );
    }
    println!("  deciding chart z at the quarter reviewed (unshifted; standard normal if the limits are right):");
    println!("  indicator              n      mean    sd     >2 %   >3 %");
    for (ind, z) in &zs {
        let n = z.len() as f64;
        let m = z.iter().sum::<f64>() / n;
        let sd = (z.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let over = |c: f64| 100.0 * z.iter().filter(|&&x| x > c).count() as f64 / n;
        println!(
            "  {ind:<22} {:<6} {m:<7.3} {sd:<6.3} {:<6.2} {:<6.2}",
            z.len(),
            over(2.0),
            over(3.0)
        );
    }

    // Sustained shifts from s0 on.
    let s0 = last - 7;
    println!(
        "shifts from {} on; quarters to detection (1 = detected in the first shifted quarter), of the shifted series' own signals:",
        quarter_label(s0)
    );
    println!("  shift  class  n     median  <=1    <=2    <=3    <=4    <=8");
    // Shifts go into one eighth of the selected departments at a time, so
    // that the shifted departments do not inflate the nationally pooled
    // variance (shifts are rare in real data too).
    let batches = 8;
    let mut rng = Rng(20);
    for k in [1.0, 2.0, 3.0] {
        let mut targets: Vec<((usize, usize), usize)> = Vec::new();
        let mut first_hit: BTreeMap<(usize, usize), i32> = BTreeMap::new();
        for b in 0..batches {
            let mut panel = panel0.clone();
            let mut batch: Vec<(usize, usize)> = Vec::new();
            for (j, sel) in selection.iter().enumerate().skip(b).step_by(batches) {
                let d = sel.dept;
                let members: Vec<usize> = peers[j].iter().map(|p| p.0).collect();
                // One indicator per department, rotating over those it has
                // figures for.
                let m = panel.indicators.len();
                let pick = (0..m).map(|o| (d / 3 + o) % m).find_map(|i| {
                    standard_error_events(&panel0, &cat, s0, d, i, &members, &cfg).map(|se| (i, se))
                });
                let Some((i, se)) = pick else { continue };
                for q in s0..=last {
                    let kq = panel.at(d, q).unwrap();
                    let den = panel.den[i][kq];
                    let v = &mut panel.num[i][kq];
                    if v.is_finite() {
                        *v = (*v + rng.poisson(k * se)).min(if den.is_finite() {
                            den
                        } else {
                            f64::INFINITY
                        });
                    }
                }
                batch.push((d, i));
                targets.push(((d, i), class_of(baseline_events(&panel0, i, d, s0))));
            }
            for t in s0..=last {
                for key in own_flags(&run(&panel, t)) {
                    if batch.contains(&key) {
                        first_hit.entry(key).or_insert(t - s0 + 1);
                    }
                }
            }
        }
        let report = |label: &str, keep: &dyn Fn(usize) -> bool| {
            let mut times: Vec<i32> = targets
                .iter()
                .filter(|(_, c)| keep(*c))
                .map(|(key, _)| first_hit.get(key).copied().unwrap_or(i32::MAX))
                .collect();
            let within = |q: i32| {
                100.0 * times.iter().filter(|&&x| x <= q).count() as f64 / times.len().max(1) as f64
            };
            let w = [1, 2, 3, 4, 8].map(within);
            println!(
                "  {k:.0} SE   {label:<6} {:<5} {:<7} {:<6.1} {:<6.1} {:<6.1} {:<6.1} {:<6.1}",
                times.len(),
                median(&mut times),
                w[0],
                w[1],
                w[2],
                w[3],
                w[4]
            );
        };
        report("all", &|_| true);
        report("< 5", &|c| c <= 1);
        for (c, cl) in CLASSES.iter().enumerate() {
            report(cl.0, &|x| x == c);
        }
        // By indicator (the class column holds the indicator's position).
        for (i, id) in panel0.indicators.iter().enumerate() {
            let mut times: Vec<i32> = targets
                .iter()
                .filter(|((_, ti), _)| *ti == i)
                .map(|(key, _)| first_hit.get(key).copied().unwrap_or(i32::MAX))
                .collect();
            let n = times.len();
            let w3 = 100.0 * times.iter().filter(|&&x| x <= 3).count() as f64 / n.max(1) as f64;
            println!(
                "  {k:.0} SE   {id:<22} n {n:<4} median {:<4} <=3 {w3:.1}",
                median(&mut times)
            );
        }
    }
}
