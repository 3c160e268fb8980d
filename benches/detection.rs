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
use bomon_synth::{generate, Config};

mod common;

const END: i32 = 2025;
const REVIEW_YEARS: std::ops::RangeInclusive<i32> = 2021..=2025;

struct Run {
    reviews: Vec<Review>,
    panel_ids: Vec<String>,
    indicators: Vec<String>,
    truth: Vec<bomon_synth::generate::Truth>,
    dens: BTreeMap<(String, String), f64>,
    panel: bomon_engine::data::Panel,
}

fn run(cfg: &Config) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let data = generate(cfg);
    let (store, cat) = common::ingested_store(&data, dir.path(), "observations_annual.parquet");
    let snap = store.snapshot(None).unwrap();
    let indicators = common::indicator_ids(&cat, |i| i.is_annual());
    // BOMON_DETECTION_FDR_PER_TEST=1 evaluates FDR control within each kind of test;
    // BOMON_DETECTION_CHANGE_YEARS=2 the two-against-three-years development test.
    let rc = ReviewConfig {
        fdr_per_test: std::env::var("BOMON_DETECTION_FDR_PER_TEST").is_ok_and(|v| v == "1"),
        change_years: std::env::var("BOMON_DETECTION_CHANGE_YEARS")
            .ok()
            .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
            .unwrap_or_else(|| ReviewConfig::default().change_years),
        overdispersion: std::env::var("BOMON_DETECTION_OD")
            .unwrap_or_else(|_| ReviewConfig::default().overdispersion),
        share_scale: std::env::var("BOMON_DETECTION_SCALE")
            .unwrap_or_else(|_| ReviewConfig::default().share_scale),
        winsorise: std::env::var("BOMON_DETECTION_WINSORISE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(ReviewConfig::default().winsorise),
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
        panel,
    }
}

/// Per planted run: what the evaluation counts.
#[derive(Default)]
struct Tally {
    /// Per severity ("alarm", "flag" = alert or alarm) and test group
    /// ("development+trend", "all tests"): (flags, not a planted deterioration).
    precision: BTreeMap<(&'static str, &'static str), (usize, usize)>,
    /// Unplanted alarms by test and indicator.
    unplanted_by: BTreeMap<(&'static str, String), usize>,
    /// Recall by size and effect: (planted, flagged within two years).
    recall: BTreeMap<(String, String), (usize, usize)>,
    /// Strong planted deteriorations (expected z >= 4): (planted, flagged).
    strong: (usize, usize),
    planted: usize,
}

fn verbose() -> bool {
    std::env::var("BOMON_DETECTION_VERBOSE").is_ok()
}

fn tally(planted: &Run, t: &mut Tally) {
    // Planted deteriorations, keyed by (department, indicator).
    let det: Vec<&bomon_synth::generate::Truth> = planted
        .truth
        .iter()
        .filter(|t| t.kind == "deterioration")
        .collect();
    t.planted += det.len();
    let keyset: HashSet<(String, String)> = det
        .iter()
        .map(|t| (t.department_id.clone(), t.indicator.clone()))
        .collect();
    for (group, tests) in [
        ("development+trend", &["development", "trend"][..]),
        ("all tests", &["level", "development", "trend"][..]),
    ] {
        for severity in ["alarm", "flag"] {
            let e = t.precision.entry((severity, group)).or_default();
            for r in &planted.reviews {
                for f in r.findings.iter().filter(|f| {
                    tests.contains(&f.test.name())
                        && match severity {
                            "alarm" => f.severity == Some(Severity::Alarm),
                            _ => f.severity.is_some(),
                        }
                }) {
                    e.0 += 1;
                    let id = &planted.panel_ids[f.dept];
                    if keyset.contains(&(id.clone(), planted.indicators[f.indicator].clone())) {
                        continue;
                    }
                    e.1 += 1;
                    if severity != "alarm" || group != "all tests" {
                        continue;
                    }
                    *t.unplanted_by
                        .entry((f.test.name(), planted.indicators[f.indicator].clone()))
                        .or_default() += 1;
                    if verbose() {
                        let other: Vec<String> = planted
                            .truth
                            .iter()
                            .filter(|t| &t.department_id == id)
                            .map(|t| {
                                format!(
                                    "{} {} {} {:.2}",
                                    t.kind, t.indicator, t.start_period, t.effect
                                )
                            })
                            .collect();
                        println!(
                            "    unplanted alarm {} {id} {} {} {}: value {:.4} reference {:.4} z {:.2} q {:.2e} den {}; truth of this department: [{}]",
                            r.year,
                            planted.indicators[f.indicator],
                            f.test,
                            f.comparator,
                            f.value,
                            f.reference,
                            f.z,
                            f.q,
                            f.denominator,
                            other.join("; ")
                        );
                    }
                }
            }
        }
    }

    // Recall: flagged (any severity, any test) within two years of the start,
    // for starts inside the reviewed years.
    for t0 in &det {
        let Ok(start) = t0.start_period.get(..4).unwrap_or("").parse::<i32>() else {
            continue;
        };
        if !REVIEW_YEARS.contains(&start) {
            continue;
        }
        // The income ratio has no sampling error (its denominator is the
        // region's mean income): "expected z" is not defined for it.
        // Quarterly-only indicators belong to the quarterly review.
        if t0.indicator == "income_ratio_15_64" || !planted.indicators.contains(&t0.indicator) {
            continue;
        }
        let den = planted
            .dens
            .get(&(t0.department_id.clone(), t0.indicator.clone()))
            .copied()
            .unwrap_or(f64::NAN);
        let p = t0.expected_before.clamp(1e-6, 1.0 - 1e-6);
        // Expected z of the change between two years on the logit scale, with
        // the effect reached by the second review year (a gradual development
        // ramps up) against sampling noise and the generator's year-to-year
        // noise (both years' fluctuation).
        let reached = if t0.shape == "gradual" {
            bomon_synth::generate::gradual_share(1.0)
        } else {
            1.0
        };
        let year_sd = bomon_synth::generate::YEAR_NOISE_SD;
        let z = t0.effect.abs() * reached
            / (2.0 / (den * p * (1.0 - p)) + 2.0 * year_sd * year_sd).sqrt();
        let hit = planted
            .reviews
            .iter()
            .filter(|r| r.year >= start && r.year <= start + 1)
            .any(|r| {
                r.findings.iter().any(|f| {
                    f.severity.is_some()
                        && planted.panel_ids[f.dept] == t0.department_id
                        && planted.indicators[f.indicator] == t0.indicator
                })
            });
        let size = match den {
            d if d < 100.0 => "denominator <100",
            d if d < 300.0 => "100-299",
            d if d < 1000.0 => "300-999",
            _ => "1000+",
        };
        let eff = match t0.effect.abs() {
            e if e < 0.3 => "effect 0.2",
            e if e < 0.45 => "effect 0.35",
            e if e < 0.65 => "effect 0.5",
            _ => "effect 0.8",
        };
        let e = t
            .recall
            .entry((size.to_string(), eff.to_string()))
            .or_default();
        e.0 += 1;
        e.1 += usize::from(hit);
        if z >= 4.0 {
            t.strong.0 += 1;
            t.strong.1 += usize::from(hit);
            if verbose() && !hit {
                println!(
                    "    missed: {} {} {} {} effect {:.2} den {den} p {:.3} z {z:.1}",
                    t0.department_id, t0.indicator, t0.start_period, t0.shape, t0.effect, p
                );
                for r in planted
                    .reviews
                    .iter()
                    .filter(|r| r.year >= start && r.year <= start + 1)
                {
                    for f in r.findings.iter().filter(|f| {
                        f.test != bomon_engine::review::Test::Level
                            && planted.panel_ids[f.dept] == t0.department_id
                            && planted.indicators[f.indicator] == t0.indicator
                    }) {
                        println!(
                            "      {} {} {}: value {:.4} reference {:.4} z {:.2} q {:.2e}",
                            r.year, f.test, f.comparator, f.value, f.reference, f.z, f.q
                        );
                    }
                }
            }
        }
    }
}

/// Recall by department size and effect as a grouped bar chart (SVG, no
/// fonts needed beyond the viewer's sans-serif): one group per size class,
/// one bar per effect size, the count planted under each bar.
fn recall_svg(recall: &BTreeMap<(String, String), (usize, usize)>, n: usize) -> String {
    let sizes = ["denominator <100", "100-299", "300-999", "1000+"];
    let effects = ["effect 0.2", "effect 0.35", "effect 0.5", "effect 0.8"];
    // Okabe-Ito, colour-blind safe.
    let colours = ["#56B4E9", "#009E73", "#E69F00", "#D55E00"];
    let (w, h, left, top, plot_h) = (960.0, 540.0, 70.0, 70.0, 360.0);
    let group_w = (w - left - 40.0) / sizes.len() as f64;
    let bar_w = group_w / (effects.len() as f64 + 1.5);
    let mut out = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' font-family='sans-serif' font-size='14'>\n\
         <rect width='100%' height='100%' fill='white'/>\n\
         <text x='{left}' y='28' font-size='18'>Recall of planted deteriorations within two years, by size and effect (logit)</text>\n\
         <text x='{left}' y='50' font-size='12'>SYNTHETIC data, {n} departments, detection bench - internal working document</text>\n"
    );
    for k in 0..=4 {
        let y = top + plot_h - plot_h * k as f64 / 4.0;
        out += &format!(
            "<line x1='{left}' x2='{}' y1='{y}' y2='{y}' stroke='#ccc'/><text x='{}' y='{}' text-anchor='end'>{} %</text>\n",
            w - 40.0,
            left - 8.0,
            y + 5.0,
            k * 25
        );
    }
    for (g, size) in sizes.iter().enumerate() {
        let x0 = left + g as f64 * group_w + bar_w * 0.75;
        for (b, eff) in effects.iter().enumerate() {
            let (k, hit) = recall
                .get(&(size.to_string(), eff.to_string()))
                .copied()
                .unwrap_or((0, 0));
            let r = if k > 0 { hit as f64 / k as f64 } else { 0.0 };
            let x = x0 + b as f64 * bar_w;
            let bh = plot_h * r;
            out += &format!(
                "<rect x='{x:.1}' y='{:.1}' width='{:.1}' height='{bh:.1}' fill='{}'/><text x='{:.1}' y='{}' font-size='11' text-anchor='middle'>{k}</text>\n",
                top + plot_h - bh,
                bar_w * 0.9,
                colours[b],
                x + bar_w * 0.45,
                top + plot_h + 16.0
            );
        }
        out += &format!(
            "<text x='{:.1}' y='{}' text-anchor='middle'>{size}</text>\n",
            x0 + bar_w * 2.0,
            top + plot_h + 36.0
        );
    }
    for (b, eff) in effects.iter().enumerate() {
        let x = left + b as f64 * 150.0;
        out += &format!(
            "<rect x='{x}' y='{}' width='14' height='14' fill='{}'/><text x='{}' y='{}'>{eff}</text>\n",
            h - 40.0,
            colours[b],
            x + 20.0,
            h - 28.0
        );
    }
    out += &format!(
        "<text x='{}' y='{}' font-size='11' text-anchor='end'>numbers under the bars: planted</text>\n</svg>\n",
        w - 40.0,
        h - 28.0
    );
    out
}

fn pct(a: usize, b: usize) -> f64 {
    100.0 * a as f64 / b.max(1) as f64
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // National scale by default; BOMON_DETECTION_DEPARTMENTS and
    // BOMON_DETECTION_SEEDS (comma-separated) change it.
    let n: usize = std::env::var("BOMON_DETECTION_DEPARTMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8000);
    let seeds: Vec<u64> = std::env::var("BOMON_DETECTION_SEEDS")
        .unwrap_or_else(|_| "11,13,17".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    println!(
        "detection: SYNTHETIC data, {n} departments x 10 years, reviews {}-{}, planted seeds {seeds:?} (10 % of departments with 1-3 planted deteriorations, 3 % with improvements), null seed 12",
        REVIEW_YEARS.start(),
        REVIEW_YEARS.end(),
    );
    println!(
        "  development tests: last {} year(s) against the years before",
        std::env::var("BOMON_DETECTION_CHANGE_YEARS").unwrap_or_else(|_| "1 and 2".into())
    );
    println!(
        "  FDR controlled {}",
        if std::env::var("BOMON_DETECTION_FDR_PER_TEST").is_ok_and(|v| v == "1") {
            "within each kind of test"
        } else {
            "across the review"
        }
    );
    let mut t = Tally::default();
    for &seed in &seeds {
        let planted = run(&Config {
            departments: n,
            years: 10,
            quarters: 0,
            seed,
            deterioration_share: 0.10,
            improvement_share: 0.03,
            quality_problems: false,
            ..Default::default()
        });
        tally(&planted, &mut t);
    }
    println!("  planted deteriorations: {}", t.planted);
    for ((severity, group), (k, u)) in &t.precision {
        println!(
            "  {severity}s ({group}): {k}, not a planted deterioration: {u} ({:.1} %)",
            pct(*u, *k)
        );
    }
    let mut v: Vec<_> = t.unplanted_by.iter().collect();
    v.sort_by_key(|x| std::cmp::Reverse(*x.1));
    let top: Vec<String> = v
        .iter()
        .take(8)
        .map(|((test, i), k)| format!("{test} {i} {k}"))
        .collect();
    println!(
        "    unplanted alarms by test and indicator: {}",
        top.join("; ")
    );
    println!(
        "  recall of strong planted deteriorations (expected z >= 4) within two years: {}/{} ({:.1} %)",
        t.strong.1,
        t.strong.0,
        pct(t.strong.1, t.strong.0)
    );
    println!("  recall by size and effect (logit):");
    println!(
        "    {:<18} {:<12} {:>8} {:>8} {:>8}",
        "size", "effect", "planted", "flagged", "recall"
    );
    for ((s, e), (k, h)) in &t.recall {
        println!("    {s:<18} {e:<12} {k:>8} {h:>8} {:>7.0} %", pct(*h, *k));
    }
    let svg = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("detection-recall.svg");
    match std::fs::write(&svg, recall_svg(&t.recall, n)) {
        Ok(()) => println!("  recall chart: {}", svg.display()),
        Err(e) => println!("  recall chart not written: {e}"),
    }

    // Null data: alarms against the stated expectation, and how the tests'
    // p-values are distributed when nothing is planted (calibration).
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
    for r in &null.reviews {
        let count = |pred: &dyn Fn(&bomon_engine::review::Finding) -> bool| {
            r.findings.iter().filter(|f| pred(f)).count()
        };
        let alarms = count(&|f| f.severity == Some(Severity::Alarm));
        let dev = count(&|f| f.severity.is_some() && f.test != bomon_engine::review::Test::Level);
        let lvl = count(&|f| f.severity.is_some() && f.test == bomon_engine::review::Test::Level);
        if verbose() {
            for f in r.findings.iter().filter(|f| f.severity.is_some()) {
                println!(
                    "    null flag {} {} {} {} {} {:?}: value {:.4} reference {:.4} z {:.2} q {:.2e} den {}",
                    r.year,
                    null.panel_ids[f.dept],
                    null.indicators[f.indicator],
                    f.test,
                    f.comparator,
                    f.severity,
                    f.value,
                    f.reference,
                    f.z,
                    f.q,
                    f.denominator
                );
                let counts: Vec<String> = (r.year - 4..=r.year)
                    .map(|y| {
                        let (a, b) = null.panel.get(f.indicator, f.dept, y);
                        format!("{a}/{b}")
                    })
                    .collect();
                println!("      counts {}", counts.join(" "));
            }
        }
        println!(
            "  null data {}: alarms {alarms}; flags (alerts and alarms): development/trend {dev}, level {lvl}; stated expected false alarms {:.1}",
            r.year, r.expected_false_alarms
        );
    }
    println!("  null data, all review years: share of one-sided p below 5 % / 0.1 % (calibrated: 5 % / 0.1 %), largest z");
    for test in ["level", "development", "trend"] {
        for comparator in ["peers", "national", "municipality"] {
            let z: Vec<f64> = null
                .reviews
                .iter()
                .flat_map(|r| r.findings.iter())
                .filter(|f| f.test.name() == test && f.comparator.name() == comparator)
                .map(|f| f.z)
                .collect();
            if z.is_empty() {
                continue;
            }
            let below = |c: f64| z.iter().filter(|&&v| v > c).count();
            println!(
                "    {test:<12} {comparator:<13} tests {:>7}  p<5 % {:>5.2} %  p<0.1 % {:>5.3} %  max z {:.2}",
                z.len(),
                pct(below(1.644_853_6), z.len()),
                pct(below(3.090_232_3), z.len()),
                z.iter().copied().fold(f64::MIN, f64::max)
            );
        }
    }
}
