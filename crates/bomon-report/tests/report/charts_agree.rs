//! The charts say what the tests say: on synthetic national data (SYNTHETIC,
//! bomon-synth) reviewed as `bomon review` does, every level test's funnel -
//! drawn for flagged and unflagged departments alike - puts the department
//! beyond its alert line exactly when the test flagged it, and beyond its
//! alarm line exactly when the flag is an alarm.

use bomon_engine::review::Test;
use bomon_engine::{annual, AnnualOptions, ReviewConfig};
use bomon_report::charts::Spec;
use bomon_report::spec::{comparison_units, funnel, Comparison, Labels, Subject};
use bomon_stats::Severity;
use bomon_store::{Catalogue, Direction, IngestOptions, Store};
use bomon_vocab::Disclosure;

#[test]
fn every_funnel_agrees_with_its_level_test() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = bomon_synth::Config {
        departments: 600,
        years: 5,
        quarters: 0,
        seed: 11,
        deterioration_share: 0.15,
        quality_problems: false,
        ..Default::default()
    };
    let data = dir.path().join("data");
    bomon_synth::write(
        &bomon_synth::generate(&cfg),
        &data,
        bomon_synth::Formats::Csv,
    )
    .unwrap();
    let catalogue = Catalogue::builtin();
    let mut store = Store::open_or_create(&dir.path().join("store")).unwrap();
    let files = [
        data.join("departments.csv"),
        data.join("observations_annual.csv"),
    ];
    bomon_store::ingest(
        &mut store,
        &files,
        &catalogue,
        &IngestOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    // Levels to find: a correction raises (or lowers) the 2025 share of
    // every tenth department by 5 % to 300 %, so that flags and non-flags
    // lie on both sides of every line.
    let mut rd = csv::Reader::from_path(data.join("observations_annual.csv")).unwrap();
    let corrected = dir.path().join("correction.csv");
    let mut w = csv::Writer::from_path(&corrected).unwrap();
    w.write_record([
        "department_id",
        "period",
        "indicator",
        "numerator",
        "denominator",
        "value",
    ])
    .unwrap();
    let mut k = 0usize;
    for r in rd.records() {
        let r = r.unwrap();
        let (Ok(n), Ok(d)) = (r[3].parse::<f64>(), r[4].parse::<f64>()) else {
            continue;
        };
        let ind = catalogue.get(&r[2]).unwrap();
        if &r[1] != "2025"
            || ind.kind != bomon_store::Kind::Share
            || ind.direction == Direction::Context
        {
            continue;
        }
        k += 1;
        if !k.is_multiple_of(10) {
            continue;
        }
        let factor = 1.05 + (k % 97) as f64 / 97.0 * 2.95;
        let n2 = if k.is_multiple_of(20) {
            n / factor
        } else {
            (n * factor).min(d)
        };
        w.write_record([&r[0], &r[1], &r[2], &format!("{}", n2.round()), &r[4], ""])
            .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    bomon_store::ingest(
        &mut store,
        &[corrected],
        &catalogue,
        &IngestOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let config = ReviewConfig::default();
    let opts = AnnualOptions {
        year: 2025,
        organisation: None,
        snapshot: None,
        config: config.clone(),
        danish: true,
        history: false,
    };
    let run = annual(&store, &catalogue, &opts).unwrap();
    let review = run.review();
    let panel = &run.panel;
    // No suppression here: every department's point is drawn.
    let disc = Disclosure::new(0.0);
    let thresholds = review.thresholds[&Test::Level];
    let (mut checked, mut flagged, mut alarms) = (0, 0, 0);
    // Every flagged level test and every third unflagged one.
    let level = review.findings.iter().filter(|f| f.test == Test::Level);
    for (n, f) in level
        .enumerate()
        .filter(|(n, f)| f.severity.is_some() || n.is_multiple_of(3))
    {
        let _ = n;
        let ind = catalogue.get(&panel.indicators[f.indicator]).unwrap();
        let k = review.scope.iter().position(|&x| x == f.dept).unwrap();
        let peers: Vec<usize> = review.peers[k].iter().map(|p| p.0).collect();
        let c = Comparison {
            comparator: f.comparator,
            units: comparison_units(panel, f.dept, f.comparator, &peers),
            target: f.reference,
            dispersion: f.dispersion,
            thresholds,
            corrected: true,
            direction: ind.direction,
            config: &config,
        };
        let s = Subject {
            panel,
            kind: ind.kind,
            indicator: f.indicator,
            dept: f.dept,
            disc: &disc,
        };
        let l = Labels {
            indicator: &ind.label_da,
            department: "D",
            caption: String::new(),
            da: true,
        };
        let chart = funnel(&s, &c, 2025, ind.denominator.as_deref(), &l);
        let Spec::Funnel { points, limits, .. } = &chart.spec else {
            panic!("a funnel")
        };
        let Some(&(x, y, _)) = points.iter().find(|p| p.2) else {
            panic!(
                "not drawn: {} {} {:?} n {} d {} value {}",
                panel.depts[f.dept].id,
                ind.id,
                panel.get(f.indicator, f.dept, 2025),
                f.numerator,
                f.denominator,
                f.value
            )
        };
        let Some(&(_, alert, alarm)) = limits.iter().find(|l| l.0 == x) else {
            panic!(
                "no limit: {} {} {:?} target {} limits {}",
                panel.depts[f.dept].id,
                ind.id,
                f.comparator,
                f.reference,
                limits.len()
            )
        };
        let beyond = |lim: f64| match ind.direction {
            Direction::LowerIsWorse => y < lim,
            _ => y > lim,
        };
        // Ties within rounding are not judged.
        if ((y - alert) / alert).abs() < 1e-9 || ((y - alarm) / alarm).abs() < 1e-9 {
            continue;
        }
        assert_eq!(
            beyond(alert),
            f.severity.is_some(),
            "{} {} {:?}: value {y}, alert line {alert}, z {}, q {}, p {}, thresholds {thresholds:?}, n {} d {} disp {:?} target {}",
            panel.depts[f.dept].id, ind.id, f.comparator, f.z, f.q, f.p, f.numerator, f.denominator, f.dispersion, f.reference
        );
        assert_eq!(
            beyond(alarm),
            f.severity == Some(Severity::Alarm),
            "{} {} alarm line",
            panel.depts[f.dept].id,
            ind.id
        );
        // The comparison's units are all drawn (none is suppressed here).
        let with_data = c.units.iter().filter(|&&u| {
            let (n, d) = panel.get(f.indicator, u, 2025);
            n.is_finite() && d > 0.0
        });
        assert_eq!(points.len() - 1, with_data.count());
        checked += 1;
        flagged += usize::from(f.severity.is_some());
        alarms += usize::from(f.severity == Some(Severity::Alarm));
    }
    eprintln!("{checked} level tests drawn, {flagged} flagged, {alarms} alarms");
    // Not vacuous: many tests, flags and alarms among them.
    assert!(
        checked > 3000 && flagged > 10 && alarms > 3,
        "{checked} tests, {flagged} flagged, {alarms} alarms"
    );
}
