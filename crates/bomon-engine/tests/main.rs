//! The review method on small hand-built panels, where the right answer is
//! known. One test binary for the crate.

use std::collections::HashMap;

use bomon_engine::config::{ReviewConfig, Trigger};
use bomon_engine::data::{Dept, Panel};
use bomon_engine::peers::peer_groups;
use bomon_engine::review::{annual, Review};
use bomon_store::Catalogue;

const FIRST: i32 = 2020;
const YEARS: usize = 6;
const LAST: i32 = 2025;

fn dept(id: usize, org: &str, year_built: f64) -> Dept {
    Dept {
        id: format!("D{id:03}"),
        name: format!("Afdeling {id}"),
        organisation: org.into(),
        municipality: "751".into(),
        area: None,
        housing_type: "family".into(),
        tenancies: 400.0,
        construction_year: year_built,
        covariates: HashMap::new(),
    }
}

/// A panel of one indicator (outside_labour_18_64) with `rates[d][y]` and
/// denominators `dens[d]`, plus residents/households large enough to judge.
fn panel(depts: Vec<Dept>, rates: &[Vec<f64>], dens: &[f64]) -> Panel {
    panel_of("outside_labour_18_64", depts, rates, dens)
}

/// As [`panel`], for indicator `ind`.
fn panel_of(ind: &str, depts: Vec<Dept>, rates: &[Vec<f64>], dens: &[f64]) -> Panel {
    let n = depts.len();
    let inds = vec![ind.to_string(), "residents".into(), "households".into()];
    let mut num = vec![vec![f64::NAN; n * YEARS]; 3];
    let mut den = vec![vec![f64::NAN; n * YEARS]; 3];
    for d in 0..n {
        for y in 0..YEARS {
            num[0][d * YEARS + y] = (rates[d][y] * dens[d]).round();
            den[0][d * YEARS + y] = dens[d];
            num[1][d * YEARS + y] = 1000.0;
            num[2][d * YEARS + y] = 400.0;
        }
    }
    Panel {
        first_year: FIRST,
        years: YEARS,
        depts,
        indicators: inds,
        num,
        den,
        category: vec![None; n],
    }
}

fn run(p: &Panel, scope: &[usize], cfg: &ReviewConfig) -> Review {
    let (peers, covs) = peer_groups(&p.depts, scope, &cfg.peers);
    annual(p, &Catalogue::builtin(), LAST, scope, &peers, covs, cfg)
}

fn flagged(r: &Review, d: usize, test: &str, comparator: &str) -> bool {
    r.findings.iter().any(|f| {
        f.dept == d
            && f.test.name() == test
            && f.comparator.name() == comparator
            && f.severity.is_some()
    })
}

fn cfg(k: usize) -> ReviewConfig {
    let mut c = ReviewConfig::default();
    c.peers.k = k;
    c.peers.covariates = vec!["construction_year".into()];
    c
}

/// 30 peers at 20 % (n = 1,000) in other organisations, plus the target.
fn with_target(target_rates: Vec<f64>, target_den: f64) -> Panel {
    let mut depts = vec![dept(0, "Egen", 1970.0)];
    let mut rates = vec![target_rates];
    let mut dens = vec![target_den];
    for i in 1..=30 {
        depts.push(dept(i, "Andre", 1960.0 + i as f64));
        rates.push(vec![0.20; YEARS]);
        dens.push(1000.0);
    }
    panel(depts, &rates, &dens)
}

#[test]
fn a_department_at_its_peers_rate_is_not_flagged() {
    let p = with_target(vec![0.20; YEARS], 1000.0);
    let r = run(&p, &[0], &cfg(20));
    assert!(r
        .findings
        .iter()
        .filter(|f| f.dept == 0)
        .all(|f| f.severity.is_none()));
    let lvl = r
        .findings
        .iter()
        .find(|f| {
            f.dept == 0
                && f.test == bomon_engine::review::Test::Level
                && f.comparator == bomon_engine::review::Comparator::Peers
        })
        .unwrap();
    // Logit scale with the empirical logit's half-count correction:
    // z = (ln(200.5 / 800.5) - ln(0.2 / 0.8)) * sqrt(1000 * 0.2 * 0.8) = 0.024.
    let hand = ((200.5f64 / 800.5).ln() - 0.25f64.ln()) * 160f64.sqrt();
    assert!(
        (lvl.z - hand).abs() < 1e-9 && hand.abs() < 0.03,
        "{}",
        lvl.z
    );
    assert!((lvl.reference - 0.2).abs() < 1e-12);
}

#[test]
fn a_department_three_and_a_half_standard_errors_worse_is_flagged() {
    // Logit scale, standard error at the peers' 20 % for n = 1,000:
    // 1 / sqrt(1000 * 0.2 * 0.8). 3.5 standard errors above logit(0.2) is
    // p = expit(logit(0.2) + 3.5 / sqrt(160)) = 24.8 %, i.e. 248 persons;
    // by hand z = (ln(248.5 / 752.5) - ln(0.25)) * sqrt(160) = 3.52.
    let n: f64 = 1000.0;
    let p = 1.0 / (1.0 + (-((0.25f64).ln() + 3.5 / 160f64.sqrt())).exp());
    let panel = with_target(vec![p; YEARS], n);
    let r = run(&panel, &[0], &cfg(20));
    let lvl = r
        .findings
        .iter()
        .find(|f| {
            f.dept == 0
                && f.test == bomon_engine::review::Test::Level
                && f.comparator == bomon_engine::review::Comparator::Peers
        })
        .unwrap();
    let x = (p * n).round();
    assert_eq!(x, 248.0);
    let hand = (((x + 0.5) / (n - x + 0.5)).ln() - 0.25f64.ln()) * 160f64.sqrt();
    assert!((hand - 3.52).abs() < 0.005, "{hand}");
    assert!((lvl.z - hand).abs() < 1e-9, "z = {}", lvl.z);
    assert!(lvl.severity.is_some(), "{lvl:?}");
}

#[test]
fn a_department_better_than_its_peers_is_never_flagged() {
    let panel = with_target(vec![0.30, 0.25, 0.20, 0.12, 0.08, 0.05], 1000.0);
    let r = run(&panel, &[0], &cfg(20));
    assert!(r
        .findings
        .iter()
        .filter(|f| f.dept == 0)
        .all(|f| f.severity.is_none()));
    assert!(
        r.findings.iter().filter(|f| f.dept == 0).all(|f| f.z < 0.0),
        "better means negative z"
    );
}

#[test]
fn a_tiny_department_with_a_large_swing_is_not_flagged_on_noise() {
    // 55 residents 18-64: 10 % -> 25 % in a year is 5.5 -> 14 persons.
    let panel = with_target(vec![0.20, 0.15, 0.20, 0.10, 0.10, 0.25], 55.0);
    let r = run(&panel, &[0], &cfg(20));
    assert!(
        r.findings
            .iter()
            .filter(|f| f.dept == 0)
            .all(|f| f.severity.is_none()),
        "{:?}",
        r.findings
    );
    // Below the catalogue's minimum denominator it is listed as too small.
    let panel = with_target(vec![0.2, 0.2, 0.2, 0.2, 0.2, 0.6], 20.0);
    let r = run(&panel, &[0], &cfg(20));
    assert!(r.too_small.get(&0).is_some_and(|v| v.contains(&0)));
    assert!(r.findings.iter().all(|f| f.dept != 0));
}

#[test]
fn the_any_all_trigger_decides_whether_worse_than_peers_alone_counts() {
    // The target's 20 nearest peers fall from 30 % to 15 % in the last year;
    // 200 other departments stay at 30 %. The target stays at 30 %: its change
    // is worse than its peers' but in line with public housing in general.
    let mut depts = vec![dept(0, "Egen", 1970.0)];
    let mut rates = vec![vec![0.30; YEARS]];
    let mut dens = vec![5000.0];
    for i in 1..=20 {
        depts.push(dept(i, "Tvilling", 1970.0 + i as f64 * 0.01));
        rates.push(vec![0.30, 0.30, 0.30, 0.30, 0.30, 0.15]);
        dens.push(5000.0);
    }
    for i in 21..=220 {
        depts.push(dept(i, "Andre", 1900.0 + (i % 50) as f64));
        rates.push(vec![0.30; YEARS]);
        dens.push(5000.0);
    }
    let p = panel(depts, &rates, &dens);
    let mut any = cfg(20);
    any.trigger = Trigger::Any;
    let r = run(&p, &[0], &any);
    assert!(
        flagged(&r, 0, "development", "peers"),
        "{:?}",
        r.findings
            .iter()
            .filter(|f| f.test == bomon_engine::review::Test::Development)
            .collect::<Vec<_>>()
    );
    assert!(!flagged(&r, 0, "development", "national"));
    let mut all = any.clone();
    all.trigger = Trigger::All;
    let r = run(&p, &[0], &all);
    assert!(!flagged(&r, 0, "development", "peers"));
}

#[test]
fn peers_come_from_other_organisations_with_the_same_housing_type() {
    let mut depts: Vec<Dept> = (0..40)
        .map(|i| dept(i, if i < 10 { "Egen" } else { "Andre" }, 1970.0 + i as f64))
        .collect();
    depts[15].housing_type = "youth".into();
    let (g, _) = peer_groups(&depts, &[0], &cfg(5).peers);
    let ids: Vec<usize> = g[0].iter().map(|p| p.0).collect();
    assert_eq!(
        ids,
        vec![10, 11, 12, 13, 14],
        "nearest by construction year, own organisation and youth excluded"
    );
}

#[test]
fn configuration_errors_name_the_key() {
    let e = ReviewConfig::from_toml("fdr = 2.0", "review.toml").unwrap_err();
    assert!(e.contains("review.toml") && e.contains("`fdr`"), "{e}");
    let e = ReviewConfig::from_toml("[peers]\nkk = 3", "review.toml").unwrap_err();
    assert!(e.contains("kk"), "{e}");
    let c = ReviewConfig::from_toml("trigger = \"all\"\n[peers]\nk = 10", "r.toml").unwrap();
    assert_eq!((c.trigger, c.peers.k), (Trigger::All, 10));
}

/// 120 stable departments at 20 % with year-to-year noise of +-1 point; the
/// target steps from 20 % to 26 % in 2024 (n = 2,000: about 6 standard errors).
fn stepping_target() -> Panel {
    let mut depts = vec![dept(0, "Egen", 1970.0)];
    let mut rates = vec![vec![0.20, 0.20, 0.20, 0.20, 0.26, 0.26]];
    let mut dens = vec![2000.0];
    for i in 1..=120 {
        depts.push(dept(i, "Andre", 1940.0 + (i % 60) as f64));
        rates.push(
            (0..YEARS)
                .map(|y| 0.20 + 0.01 * (((i * 7 + y * 3) % 3) as f64 - 1.0))
                .collect(),
        );
        dens.push(2000.0);
    }
    panel(depts, &rates, &dens)
}

#[test]
fn a_planted_step_in_a_large_department_is_flagged_in_the_year_it_happens() {
    let p = stepping_target();
    let c = cfg(20);
    let scope: Vec<usize> = (0..p.depts.len()).collect();
    let (peers, covs) = peer_groups(&p.depts, &scope, &c.peers);
    let r = annual(&p, &Catalogue::builtin(), 2024, &scope, &peers, covs, &c);
    assert!(
        flagged(&r, 0, "development", "peers") || flagged(&r, 0, "development", "national"),
        "step not flagged"
    );
    let others = r
        .findings
        .iter()
        .filter(|f| {
            f.dept != 0 && f.test == bomon_engine::review::Test::Development && f.severity.is_some()
        })
        .count();
    assert_eq!(
        others, 0,
        "stable departments are not flagged for their noise"
    );
}

#[test]
fn prompts_never_print_a_rate_from_one_to_four_persons() {
    // 4 of 50 (8 %) against peers at 1 % of 1,000: flagged on the arcsine
    // scale (z = 2.64; the logit scale is more cautious with so few expected
    // events), but the prompt must not print the 8 % (four persons; counts
    // below 5 are suppressed).
    let mut depts = vec![dept(0, "Egen", 1970.0)];
    let mut rates = vec![vec![0.08; YEARS]];
    let mut dens = vec![50.0];
    for i in 1..=30 {
        depts.push(dept(i, "Andre", 1960.0 + i as f64));
        rates.push(vec![0.01; YEARS]);
        dens.push(1000.0);
    }
    let p = panel(depts, &rates, &dens);
    let mut c = cfg(20);
    c.share_scale = "arcsine".into();
    let r = run(&p, &[0], &c);
    assert!(
        r.findings
            .iter()
            .any(|f| f.dept == 0 && f.severity.is_some()),
        "{:?}",
        r.findings
    );
    let t = bomon_engine::triage::triage(&r, &p, &Catalogue::builtin(), &c, true);
    let text = t[0].findings.join(" ");
    assert!(text.contains("under 5 personer (undertrykt)"), "{text}");
    assert!(!text.contains("8,0 %"), "{text}");
}

/// Evictions: the target at `rate` of `households`, 30 peers at 1 per 1,000
/// of 1,000 households.
fn evictions(rate: f64, households: f64) -> Panel {
    let mut depts = vec![dept(0, "Egen", 1970.0)];
    let mut rates = vec![vec![rate; YEARS]];
    let mut dens = vec![households];
    for i in 1..=30 {
        depts.push(dept(i, "Andre", 1960.0 + i as f64));
        rates.push(vec![0.001; YEARS]);
        dens.push(1000.0);
    }
    panel_of("evictions", depts, &rates, &dens)
}

#[test]
fn one_eviction_in_a_small_department_is_not_an_outlier() {
    // Evictions are a rate (events per household): tested as observed
    // against expected events, O = 1, E = 60 x 0.001 = 0.06, on the log scale
    // with the Poisson standard error 1 / sqrt(E):
    // z = ln(1 / 0.06) * sqrt(0.06) = 0.69 - not the z = 21.8 that
    // 1 / sqrt(households) as standard error would give.
    let p = evictions(1.0 / 60.0, 60.0);
    let r = run(&p, &[0], &cfg(20));
    let lvl = r
        .findings
        .iter()
        .find(|f| {
            f.dept == 0
                && f.test == bomon_engine::review::Test::Level
                && f.comparator == bomon_engine::review::Comparator::Peers
        })
        .unwrap();
    let hand = (1.0f64 / 0.06).ln() * 0.06f64.sqrt();
    assert!((hand - 0.689).abs() < 0.001);
    assert!((lvl.z - hand).abs() < 1e-9, "z = {}", lvl.z);
    assert!(r
        .findings
        .iter()
        .filter(|f| f.dept == 0)
        .all(|f| f.severity.is_none()));
    // Twenty evictions among 1,000 households against 1 expected is one.
    let p = evictions(0.02, 1000.0);
    let r = run(&p, &[0], &cfg(20));
    assert!(flagged(&r, 0, "level", "peers"));
}

#[test]
fn a_step_last_year_is_seen_by_the_two_year_window_this_year() {
    // The target steps from 20 % to 26 % in 2024 (see stepping_target).
    // Reviewing 2025, last year's change (26 % -> 26 %) is nothing, but the
    // last two years pooled against the three before show the step.
    let p = stepping_target();
    let c = cfg(20);
    let scope: Vec<usize> = (0..p.depts.len()).collect();
    let (peers, covs) = peer_groups(&p.depts, &scope, &c.peers);
    let r = annual(&p, &Catalogue::builtin(), 2025, &scope, &peers, covs, &c);
    let dev = |rule: &str| {
        r.findings
            .iter()
            .filter(|f| {
                f.dept == 0
                    && f.test == bomon_engine::review::Test::Development
                    && f.rule == Some(rule)
            })
            .collect::<Vec<_>>()
    };
    assert!(dev("last_year").iter().all(|f| f.severity.is_none()));
    let two = dev("two_years");
    assert!(two.iter().any(|f| f.severity.is_some()), "{two:?}");
    // The prompt's counts are the windows' pooled ones: 2 x 520 of 2 x 2,000
    // against 3 x 400 of 3 x 2,000.
    assert_eq!((two[0].numerator, two[0].denominator), (1040.0, 4000.0));
    assert!((two[0].previous - 0.20).abs() < 1e-12);
    let t = bomon_engine::triage::triage(&r, &p, &Catalogue::builtin(), &c, true);
    let text = t.iter().find(|x| x.dept == 0).unwrap().findings.join(" ");
    assert!(
        text.contains("26,0 % i 2024-2025 mod 20,0 % i 2021-2023"),
        "{text}"
    );
    // Only one of the configured windows: the other is not run.
    let mut one = c.clone();
    one.change_years = vec![1];
    let r = annual(
        &p,
        &Catalogue::builtin(),
        2025,
        &scope,
        &peers,
        vec![],
        &one,
    );
    assert!(r.findings.iter().all(|f| f.rule != Some("two_years")));
    let e = ReviewConfig::from_toml("change_years = [3]", "r.toml").unwrap_err();
    assert!(e.contains("`change_years`"), "{e}");
}

#[test]
fn peer_comparisons_pool_the_peers_counts_of_each_window() {
    // The peers' level, last year's change and the two-year change are
    // pooled from the peers' own counts, cell by cell: a missing cell, a
    // denominator below the indicator's minimum (50) and a year before the
    // first one held (the two-year window's base, 2021-2023, starts before
    // 2022) add nothing; fractional counts add as they are. Checked against
    // pooling by hand here.
    let (first, years, n) = (2022, 4usize, 12usize);
    let mut num = vec![f64::NAN; n * years];
    let mut den = vec![f64::NAN; n * years];
    for d in 0..n {
        for y in 0..years {
            let k = d * years + y;
            // Department 0 (the one reviewed) has every cell; among the
            // peers every seventh cell is missing and every fifth below 50.
            if d == 0 || k % 7 != 3 {
                den[k] = if d > 0 && k % 5 == 1 {
                    12.0
                } else {
                    60.0 + (k * 13 % 50) as f64
                };
                num[k] = 5.0 + (k * 7 % 17) as f64 + 0.25 * (k % 3) as f64;
            }
        }
    }
    let mut depts = vec![dept(0, "Egen", 1970.0)];
    depts.extend((1..n).map(|i| dept(i, "Andre", 1960.0 + i as f64)));
    let p = Panel {
        first_year: first,
        years,
        depts,
        indicators: vec![
            "outside_labour_18_64".into(),
            "residents".into(),
            "households".into(),
        ],
        num: vec![num.clone(), vec![1000.0; n * years], vec![400.0; n * years]],
        den: vec![
            den.clone(),
            vec![f64::NAN; n * years],
            vec![f64::NAN; n * years],
        ],
        category: vec![None; n],
    };
    let c = cfg(8);
    let r = run(&p, &[0], &c);
    let members: Vec<usize> = r.peers[0].iter().map(|x| x.0).collect();
    assert_eq!(members.len(), 8);
    let pooled = |span: std::ops::RangeInclusive<i32>| {
        let (mut a, mut b) = (0.0, 0.0);
        for &m in &members {
            for y in span.clone() {
                if y < first || y >= first + years as i32 {
                    continue;
                }
                let k = m * years + (y - first) as usize;
                if num[k].is_finite() && den[k] >= 50.0 {
                    a += num[k];
                    b += den[k];
                }
            }
        }
        (a, b)
    };
    let peer = |test: bomon_engine::review::Test, rule: Option<&str>| {
        r.findings
            .iter()
            .find(|f| {
                f.dept == 0
                    && f.test == test
                    && f.rule == rule
                    && f.comparator == bomon_engine::review::Comparator::Peers
            })
            .unwrap_or_else(|| panic!("no {test:?} {rule:?} against peers"))
    };
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12 * b.abs().max(1.0);
    let (a, b) = pooled(2025..=2025);
    let (qa, qb) = pooled(2024..=2024);
    let level = peer(bomon_engine::review::Test::Level, None);
    assert!(
        close(level.reference, a / b),
        "{} vs {}",
        level.reference,
        a / b
    );
    assert!(close(level.reference_previous, qa / qb));
    let lrr = |(a1, b1): (f64, f64), (a0, b0): (f64, f64)| ((a1 / b1) / (a0 / b0)).ln();
    let dev = bomon_engine::review::Test::Development;
    let last = peer(dev, Some("last_year"));
    let want = lrr(pooled(2025..=2025), pooled(2024..=2024));
    assert!(close(last.reference, want), "{} vs {want}", last.reference);
    let two = peer(dev, Some("two_years"));
    let want = lrr(pooled(2024..=2025), pooled(2021..=2023));
    assert!(close(two.reference, want), "{} vs {want}", two.reference);
    // The cells left out were there to be left out.
    let all = |span: std::ops::RangeInclusive<i32>| {
        members
            .iter()
            .flat_map(|&m| span.clone().map(move |y| m * years + (y - first) as usize))
            .filter(|&k| den[k].is_finite())
            .map(|k| den[k])
            .sum::<f64>()
    };
    assert!(
        all(2024..=2025) > pooled(2024..=2025).1,
        "no cell below the minimum"
    );
}

/// The findings of every indicator, gathered in parallel, are the parts one
/// after the other without the refused items - as a sequential
/// concatenation and filter gives, owned values moved exactly once.
#[test]
fn parts_gather_in_order_without_the_refused() {
    let parts: Vec<Vec<String>> = vec![
        (0..1000).map(|k| format!("a{k}")).collect(),
        vec![],
        (0..7).map(|k| format!("b{k}")).collect(),
        (0..50_000).map(|k| format!("c{k}")).collect(),
        vec!["d".to_string()],
    ];
    let keep = |s: &String| !s.ends_with('3');
    let want: Vec<String> = parts
        .iter()
        .flatten()
        .filter(|s| keep(s))
        .cloned()
        .collect();
    let got = bomon_engine::review::concat_parallel(parts, keep);
    assert_eq!(got.len(), 1000 - 100 + 6 + 50_000 - 5000 + 1);
    assert_eq!(got, want);
    assert!(bomon_engine::review::concat_parallel(Vec::<Vec<u8>>::new(), |_| true).is_empty());
}

mod engine;
