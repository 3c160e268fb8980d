//! The quarterly follow-up on small hand-built quarterly panels: one
//! indicator (move_out_rate, a share where higher is worse), a target
//! department and 30 peers in other organisations, 24 quarters ending 2025Q4.

use std::collections::HashMap;

use bomon_engine::config::{Include, ReviewConfig};
use bomon_engine::data::{parse_quarter, quarter_label, Dept, InForce, Panel};
use bomon_engine::peers::peer_groups;
use bomon_engine::quarterly::{quarterly, select, JudgedBy, NotJudged, Quarterly, Selected};
use bomon_stats::Severity;
use bomon_store::Catalogue;

const QUARTERS: usize = 24;
const PEERS: usize = 30;
const DEN: f64 = 1000.0;

fn first() -> i32 {
    parse_quarter("2020Q1").unwrap()
}

fn last() -> i32 {
    first() + QUARTERS as i32 - 1
}

fn dept(id: usize, org: &str) -> Dept {
    Dept {
        id: format!("D{id:03}"),
        name: format!("Afdeling {id}"),
        organisation: org.into(),
        municipality: "751".into(),
        area: None,
        housing_type: "family".into(),
        tenancies: DEN,
        construction_year: 1970.0 + id as f64,
        covariates: HashMap::new(),
    }
}

/// Deterministic noise in [-1, 1] (a small LCG), so charts have spread.
fn noise(d: usize, q: usize) -> f64 {
    let mut x = d as u64 * 7919 + q as u64 * 104_729 + 12_345;
    for _ in 0..3 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
    }
    ((x >> 33) as f64 / (1u64 << 31) as f64) * 2.0 - 1.0
}

/// `rate(d, q)`: the expected share of department d in quarter q (0-based);
/// numerators are that rate times 1,000 with +-10 % deterministic noise.
/// `present(d, q)` says whether a figure exists.
fn panel(rate: impl Fn(usize, usize) -> f64, present: impl Fn(usize, usize) -> bool) -> Panel {
    let mut depts = vec![dept(0, "Egen")];
    depts.extend((1..=PEERS).map(|i| dept(i, &format!("Org {}", i % 4))));
    let n = depts.len();
    let mut num = vec![f64::NAN; n * QUARTERS];
    let mut den = vec![f64::NAN; n * QUARTERS];
    for d in 0..n {
        for q in 0..QUARTERS {
            if present(d, q) {
                num[d * QUARTERS + q] = (rate(d, q) * DEN * (1.0 + 0.1 * noise(d, q))).round();
                den[d * QUARTERS + q] = DEN;
            }
        }
    }
    Panel {
        first_year: first(),
        years: QUARTERS,
        depts,
        indicators: vec!["move_out_rate".into()],
        num: vec![num],
        den: vec![den],
        category: vec![None; n],
    }
}

fn cfg() -> ReviewConfig {
    let mut c = ReviewConfig::default();
    c.peers.k = 20;
    c.peers.covariates = vec!["construction_year".into()];
    c
}

fn run_at(p: &Panel, t: i32, c: &ReviewConfig) -> Quarterly {
    let sel = vec![Selected {
        dept: 0,
        category: Some("orange".into()),
        reasons: vec!["test".into()],
    }];
    let (peers, covs) = peer_groups(&p.depts, &[0], &c.peers);
    quarterly(p, &Catalogue::builtin(), t, sel, &peers, covs, c)
}

fn run(p: &Panel) -> Quarterly {
    run_at(p, last(), &cfg())
}

fn own_flags(q: &Quarterly) -> Vec<&bomon_engine::review::Finding> {
    q.review
        .findings
        .iter()
        .filter(|f| f.dept == 0 && f.attribution == Some("own"))
        .collect()
}

const BASE: f64 = 0.04;

#[test]
fn a_stable_department_among_stable_peers_raises_nothing() {
    let q = run(&panel(|_, _| BASE, |_, _| true));
    assert!(own_flags(&q).is_empty());
    assert_eq!(q.status, vec![bomon_engine::quarterly::Status::None]);
    assert!(q.not_judged.is_empty());
    // Charts of 20 quarters (12 baseline + 8 monitored): own, deciding and
    // the peers' pooled rate; the relative chart only with run rules, the
    // peers' chart only to share an own signal.
    for chart in ["own", "deciding", "peers_rate"] {
        let rows: Vec<_> = q.chart_points().filter(|c| c.chart == chart).collect();
        assert_eq!(rows.len(), 20, "{chart}");
        assert_eq!(rows.iter().filter(|c| c.baseline).count(), 12, "{chart}");
        assert_eq!(quarter_label(rows[0].quarter), "2021Q1");
    }
    assert_eq!(q.chart_points().count(), 60);
    // One department's charts, found where its evaluation left them.
    assert_eq!(q.charts.len(), 1);
    let d = q.selection[0].dept;
    assert_eq!(q.charts_of(d, 0).len(), 60);
    assert!(q
        .charts_of(d, 0)
        .iter()
        .all(|c| c.dept == d && c.indicator == 0));
    assert!(q.charts_of(d, 1).is_empty());
}

#[test]
fn the_departments_own_sustained_rise_is_flagged_as_its_own() {
    // From 2025Q1 (quarter 20) the department's move-outs rise from 4 % to 6 %
    // (about 40 against 60 a quarter: 3 Poisson standard errors); peers stay.
    let q = run(&panel(
        |d, q| if d == 0 && q >= 20 { 0.06 } else { BASE },
        |_, _| true,
    ));
    let own = own_flags(&q);
    assert!(!own.is_empty(), "{:?}", q.review.findings);
    assert!(own
        .iter()
        .all(|f| f.indicator == 0 && f.comparator == bomon_engine::review::Comparator::Peers));
    assert!(own.iter().any(|f| f.severity.is_some()));
    // Signalled a quarter earlier too: persisting.
    assert_eq!(q.status, vec![bomon_engine::quarterly::Status::Persisting]);
    // A jump in the last quarter only is new.
    let q = run(&panel(
        |d, q| if d == 0 && q == 23 { 0.08 } else { BASE },
        |_, _| true,
    ));
    assert_eq!(q.status, vec![bomon_engine::quarterly::Status::New]);
    assert!(own_flags(&q)
        .iter()
        .any(|f| f.rule == Some("outside_limits") && f.severity == Some(Severity::Alarm)));
    // A spike in the quarter before, gone now: resolved (with the CUSUM
    // off; the CUSUM remembers a spike that large for a few quarters).
    let mut c = cfg();
    c.quarterly.cusum = false;
    let q = run_at(
        &panel(
            |d, q| if d == 0 && q == 22 { 0.08 } else { BASE },
            |_, _| true,
        ),
        last(),
        &c,
    );
    assert_eq!(q.status, vec![bomon_engine::quarterly::Status::Resolved]);
    assert!(own_flags(&q).is_empty());
    let q = run(&panel(
        |d, q| if d == 0 && q == 22 { 0.08 } else { BASE },
        |_, _| true,
    ));
    assert_eq!(q.status, vec![bomon_engine::quarterly::Status::Persisting]);
    assert!(own_flags(&q)
        .iter()
        .all(|f| f.test == bomon_engine::review::Test::EarlyWarning));
}

#[test]
fn a_city_wide_shift_shared_by_all_peers_is_reported_as_shared() {
    // Everyone, the department and all its peers, goes from 4 % to 7 %.
    let q = run(&panel(
        |_, q| if q >= 20 { 0.07 } else { BASE },
        |_, _| true,
    ));
    assert!(own_flags(&q).is_empty(), "{:?}", own_flags(&q));
    let shared: Vec<_> = q
        .review
        .findings
        .iter()
        .filter(|f| f.attribution == Some("shared"))
        .collect();
    assert_eq!(shared.len(), 1, "{:?}", q.review.findings);
    assert_eq!(shared[0].comparator.name(), "own_history");
    assert_eq!(shared[0].severity, Some(Severity::Alert));
    assert_eq!(q.status, vec![bomon_engine::quarterly::Status::Shared]);
}

#[test]
fn an_improvement_never_raises_a_concern_flag() {
    // Move-outs fall from 4 % to 1.5 % in the department only.
    let q = run(&panel(
        |d, q| if d == 0 && q >= 16 { 0.015 } else { BASE },
        |_, _| true,
    ));
    assert!(
        q.review.findings.iter().all(|f| f.severity.is_none()),
        "{:?}",
        q.review.findings
    );
    assert_eq!(q.status, vec![bomon_engine::quarterly::Status::None]);
}

#[test]
fn a_series_shorter_than_the_minimum_is_too_short_to_judge() {
    // Only the last 8 quarters exist: 7 baseline quarters before the one
    // reviewed, under the minimum of 8 - even with a striking last quarter.
    let q = run(&panel(
        |d, q| if d == 0 && q == 23 { 0.2 } else { BASE },
        |d, q| d != 0 || q >= 16,
    ));
    assert_eq!(q.not_judged.len(), 1);
    assert_eq!(q.not_judged[0].2, NotJudged::TooShort);
    assert_eq!(q.not_judged[0].3, 7);
    assert!(q.review.findings.iter().all(|f| f.dept != 0));
    assert_eq!(q.status, vec![bomon_engine::quarterly::Status::TooShort]);
    assert_eq!(q.review.too_small_departments, vec![0]);
    // Rare events are charted (every series with figures is followed)...
    let q = run(&panel(|_, _| 0.004, |_, _| true));
    assert!(q.not_judged.is_empty(), "{:?}", q.not_judged);
    assert_eq!(q.judged, vec![(0, 0, JudgedBy::Deciding)]);
    // ... unless a minimum is configured: 0.4 % of 1,000 = 4 a quarter < 5.
    let mut c = cfg();
    c.quarterly.min_events = 5.0;
    let q = run_at(&panel(|_, _| 0.004, |_, _| true), last(), &c);
    assert_eq!(q.not_judged[0].2, NotJudged::TooRare);
}

#[test]
fn rare_series_are_followed_and_a_sustained_rise_is_found() {
    // One event a quarter (0.1 % of 1,000) in the department and its peers:
    // nothing is flagged over the last four quarters...
    let quiet = panel(|_, _| 0.001, |_, _| true);
    for t in last() - 3..=last() {
        let q = run_at(&quiet, t, &cfg());
        assert!(
            own_flags(&q).is_empty(),
            "{}: {:?}",
            quarter_label(t),
            q.review.findings
        );
        assert_eq!(q.judged, vec![(0, 0, JudgedBy::Deciding)]);
    }
    // ...a rise to 4 a quarter from 2025Q2 on is (the counts' CUSUM adds the
    // likelihood ratios: 4 ln(mu1/mu0) - (mu1 - mu0) per quarter).
    let rise = panel(
        |d, q| {
            if d == 0 && q >= QUARTERS - 3 {
                0.004
            } else {
                0.001
            }
        },
        |_, _| true,
    );
    let q = run_at(&rise, last(), &cfg());
    assert!(!own_flags(&q).is_empty(), "{:?}", q.review.findings);
    // A department without a single event in its baseline is judged too:
    // one event against none before is not a flag (its mid-p tail is about
    // 2 %), four in one quarter are.
    let zero = |now: f64| {
        panel(
            move |d, q| match (d, q) {
                (0, q) if q == QUARTERS - 1 => now,
                (0, _) => 0.0,
                _ => 0.002,
            },
            |_, _| true,
        )
    };
    let q = run_at(&zero(0.001), last(), &cfg());
    assert_eq!(q.judged, vec![(0, 0, JudgedBy::Deciding)]);
    assert!(own_flags(&q).is_empty(), "{:?}", q.review.findings);
    let q = run_at(&zero(0.004), last(), &cfg());
    assert!(!own_flags(&q).is_empty(), "{:?}", q.review.findings);
}

#[test]
fn rebasing_restarts_the_baseline() {
    // A lasting step at 2024Q1 (quarter 16); rebased there, the baseline
    // then holds only 7 quarters before the quarter reviewed: too short.
    let p = panel(
        |d, q| if d == 0 && q >= 16 { 0.06 } else { BASE },
        |_, _| true,
    );
    let mut c = cfg();
    c.quarterly.rebase.push(bomon_engine::config::Rebase {
        department: "D000".into(),
        indicator: None,
        period: "2024Q1".into(),
        reason: "renovation and rehousing".into(),
    });
    let q = run_at(&p, parse_quarter("2025Q4").unwrap(), &c);
    assert_eq!(q.not_judged[0].2, NotJudged::Rebased);
    // Without the rebase the step is flagged.
    let q = run_at(&p, parse_quarter("2025Q4").unwrap(), &cfg());
    assert!(!own_flags(&q).is_empty());
}

#[test]
fn selection_takes_red_orange_yellow_and_departments_added_by_hand() {
    let p = panel(|_, _| BASE, |_, _| true);
    let mut inf: Vec<Option<InForce>> = vec![None; p.depts.len()];
    let cat = |c: &str, area: Option<&str>| {
        Some(InForce {
            category: c.into(),
            period: "2025".into(),
            area: area.map(Into::into),
        })
    };
    inf[1] = cat("red", Some("A1"));
    inf[2] = cat("green", Some("A2"));
    inf[3] = cat("yellow", None);
    let mut c = cfg().quarterly;
    c.include.push(Include {
        department: "D005".into(),
        reason: "afdelingsbestyrelsen har bedt om det".into(),
    });
    let s = select(&p, &inf, &c).unwrap();
    let ids: Vec<&str> = s.iter().map(|x| p.depts[x.dept].id.as_str()).collect();
    assert_eq!(ids, vec!["D001", "D003", "D005"]);
    assert_eq!(s[0].reasons, vec!["area A1 red (2025)"]);
    assert_eq!(s[1].reasons, vec!["department yellow (2025)"]);
    assert!(s[2].reasons[0].starts_with("added by hand: afdelingsbestyrelsen"));
    c.include[0].department = "NOPE".into();
    let e = select(&p, &inf, &c).unwrap_err();
    assert!(e.contains("\"NOPE\" is not in the store"), "{e}");
}

#[test]
fn quarterly_configuration_errors_name_the_key() {
    for (toml, key) in [
        ("[quarterly]\nrules = \"western\"\n", "quarterly.rules"),
        (
            "[quarterly]\nbaseline_quarters = 2\n",
            "quarterly.baseline_quarters",
        ),
        (
            "[quarterly]\ncategories = [\"purple\"]\n",
            "quarterly.categories",
        ),
        (
            "[quarterly]\nlevel_variance = \"guess\"\n",
            "quarterly.level_variance",
        ),
        (
            "[[quarterly.rebase]]\ndepartment = \"D1\"\nperiod = \"2024-1\"\nreason = \"x\"\n",
            "quarterly.rebase[0].period",
        ),
    ] {
        let e = ReviewConfig::from_toml(toml, "q.toml").unwrap_err();
        assert!(e.contains(key) && e.starts_with("q.toml"), "{e}");
    }
}
