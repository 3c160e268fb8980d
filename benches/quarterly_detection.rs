//! Detection quality of the quarterly follow-up (`bomon review --quarterly`)
//! on SYNTHETIC quarterly data (bomon-synth, nothing planted):
//! - false alarms: new own signals per department-year on the unshifted
//!   series, over 20 consecutive quarterly runs;
//! - quarters to detection of sustained shifts of 1, 2 and 3 standard errors,
//!   added to one indicator per department from a chosen quarter on. The
//!   standard error is that of the department's deciding chart (observed
//!   against expected at the peers' rate, Laney sigma) at the shift's start,
//!   in events; the shift adds k of them to the numerator every quarter.
//!
//! Run with `cargo bench --bench quarterly_detection`. Environment overrides
//! for method studies: BOMON_Q_K, BOMON_Q_H (CUSUM), BOMON_Q_SD_FLOOR (0/1),
//! BOMON_Q_RUN_RULES (0/1), BOMON_Q_RULES (anhoej/nhs), BOMON_Q_CUSUM (0/1).

use std::collections::BTreeMap;

use bomon_engine::config::ReviewConfig;
use bomon_engine::data::{load_quarterly, quarter_label};
use bomon_engine::peers::peer_groups;
use bomon_engine::quarterly::{quarterly, standard_error_events, Selected};
use bomon_stats::Severity;
use bomon_synth::{generate, Config};

mod common;

fn env<T: std::str::FromStr>(k: &str) -> Option<T> {
    std::env::var(k).ok().and_then(|v| v.parse().ok())
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = 2000;
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
    if let Some(v) = env::<String>("BOMON_Q_RULES") {
        q.rules = v;
    }
    println!(
        "quarterly detection on SYNTHETIC data: {n} departments, 40 quarters; rules {}, run rules {}, CUSUM {} (k {}, h {}), sd floor {}",
        cfg.quarterly.rules,
        cfg.quarterly.run_rules,
        cfg.quarterly.cusum,
        cfg.quarterly.cusum_k,
        cfg.quarterly.cusum_h,
        cfg.quarterly.sd_floor
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

    // False alarms on unshifted series: 20 quarterly runs (5 years).
    let runs = 20;
    let mut onsets = 0usize;
    let mut alarm_onsets = 0usize;
    let mut by_rule: BTreeMap<(String, &str), usize> = BTreeMap::new();
    let mut flagged_quarters = 0usize;
    let mut zs: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let started = std::time::Instant::now();
    for t in last - runs + 1..=last {
        let r = quarterly(
            &panel0,
            &cat,
            t,
            selection.clone(),
            &peers,
            covs.clone(),
            &cfg,
        );
        for f in r.review.findings.iter().filter(|f| {
            f.test == bomon_engine::review::Test::Spc
                && f.comparator == bomon_engine::review::Comparator::Peers
                && f.z.is_finite()
        }) {
            zs.entry(panel0.indicators[f.indicator].clone())
                .or_default()
                .push(f.z);
        }
        for (k, st) in r.status.iter().enumerate() {
            let d = r.selection[k].dept;
            let own: Vec<_> = r
                .review
                .findings
                .iter()
                .filter(|f| f.dept == d && f.attribution == Some("own"))
                .collect();
            if !own.is_empty() {
                flagged_quarters += 1;
            }
            if *st == bomon_engine::quarterly::Status::New {
                onsets += 1;
                if own.iter().any(|f| f.severity == Some(Severity::Alarm)) {
                    alarm_onsets += 1;
                }
                for f in own {
                    *by_rule
                        .entry((panel0.indicators[f.indicator].clone(), f.rule.unwrap_or("")))
                        .or_default() += 1;
                }
            }
        }
    }
    let dept_years = selection.len() as f64 * runs as f64 / 4.0;
    {
        let r = quarterly(
            &panel0,
            &cat,
            last,
            selection.clone(),
            &peers,
            covs.clone(),
            &cfg,
        );
        for (i, d) in r.dispersion.iter().enumerate() {
            println!(
                "  pooled dispersion {:<22} tau2 {:.4} rho {:.3} seasonal {:?}",
                panel0.indicators[i],
                d.tau2,
                d.rho,
                r.seasonal[i].map(|x| (x * 1000.0).round() / 1000.0)
            );
        }
    }
    println!(
        "false alarms (unshifted): {onsets} new own signals in {dept_years:.0} department-years = {:.3} per department-year ({:.3} with an alarm); department-quarters with any own flag {:.1} %; {:.2} s for {runs} runs",
        onsets as f64 / dept_years,
        alarm_onsets as f64 / dept_years,
        100.0 * flagged_quarters as f64 / (selection.len() * runs as usize) as f64,
        started.elapsed().as_secs_f64()
    );
    for ((ind, rule), c) in &by_rule {
        println!("  {ind:<22} {rule:<15} {c}");
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
        "shifts from {} on; quarters to detection (1 = detected in the first shifted quarter), of the shifted indicator's own signals:",
        quarter_label(s0)
    );
    println!("  shift  n     median  <=1    <=2    <=3    <=4    <=8");
    // Shifts go into one eighth of the selected departments at a time, so
    // that the shifted departments do not inflate the nationally pooled
    // variance (shifts are rare in real data too).
    let batches = 8;
    for k in [1.0, 2.0, 3.0] {
        let mut targets: Vec<(usize, usize)> = Vec::new();
        let mut first_hit: BTreeMap<(usize, usize), i32> = BTreeMap::new();
        for b in 0..batches {
            let mut panel = panel0.clone();
            let mut batch: Vec<(usize, usize)> = Vec::new();
            for (j, sel) in selection.iter().enumerate().skip(b).step_by(batches) {
                let d = sel.dept;
                let members: Vec<usize> = peers[j].iter().map(|p| p.0).collect();
                // One indicator per department, rotating, whose chart is judged.
                let m = panel.indicators.len();
                let pick = (0..m).map(|o| (d + o) % m).find_map(|i| {
                    standard_error_events(&panel0, &cat, s0, d, i, &members, &cfg).map(|se| (i, se))
                });
                let Some((i, se)) = pick else { continue };
                for q in s0..=last {
                    let kq = panel.at(d, q).unwrap();
                    let den = panel.den[i][kq];
                    let v = &mut panel.num[i][kq];
                    if v.is_finite() {
                        *v = (*v + k * se).min(if den.is_finite() { den } else { f64::INFINITY });
                    }
                }
                batch.push((d, i));
            }
            for t in s0..=last {
                let r = quarterly(
                    &panel,
                    &cat,
                    t,
                    selection.clone(),
                    &peers,
                    covs.clone(),
                    &cfg,
                );
                for f in r
                    .review
                    .findings
                    .iter()
                    .filter(|f| f.attribution == Some("own"))
                {
                    if batch.contains(&(f.dept, f.indicator)) {
                        first_hit.entry((f.dept, f.indicator)).or_insert(t - s0 + 1);
                    }
                }
            }
            targets.extend(batch);
        }
        let mut times: Vec<i32> = targets
            .iter()
            .map(|key| first_hit.get(key).copied().unwrap_or(i32::MAX))
            .collect();
        times.sort_unstable();
        let median = times[times.len() / 2];
        let within =
            |q: i32| 100.0 * times.iter().filter(|&&x| x <= q).count() as f64 / times.len() as f64;
        println!(
            "  {k:.0} SE   {:<5} {:<7} {:<6.1} {:<6.1} {:<6.1} {:<6.1} {:<6.1}",
            times.len(),
            if median == i32::MAX {
                ">8".to_string()
            } else {
                median.to_string()
            },
            within(1),
            within(2),
            within(3),
            within(4),
            within(8)
        );
    }
}
