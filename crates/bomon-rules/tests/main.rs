//! The national lists' rules: the published worked example, every
//! comparator at its boundary, history, aggregation and rule-set errors.

use std::collections::HashMap;

use bomon_rules::evaluate::{evaluate, AreaData};
use bomon_rules::ruleset::{builtin, check_overlaps, RuleSet, BUILTIN};
use bomon_store::Catalogue;

fn ids() -> Vec<String> {
    Catalogue::builtin()
        .indicators()
        .iter()
        .map(|i| i.id.clone())
        .collect()
}

fn sets() -> Vec<RuleSet> {
    let i = ids();
    let r: Vec<&str> = i.iter().map(String::as_str).collect();
    builtin(&r).unwrap()
}

fn set(id: &str) -> RuleSet {
    sets().into_iter().find(|s| s.id == id).unwrap()
}

/// An area with the given shares in every year 2010-2025 (denominator 1,000,000
/// so that shares are exact), and `residents`.
fn area(id: &str, residents: f64, shares: &[(&str, f64)]) -> AreaData {
    let mut counts = HashMap::new();
    for y in 2005..=2025 {
        for (ind, s) in shares {
            counts.insert((ind.to_string(), y), (s * 1_000_000.0, 1_000_000.0));
        }
    }
    AreaData {
        id: id.into(),
        residents,
        counts,
        ..Default::default()
    }
}

fn never(_: &str, _: i32, _: &str) -> bool {
    false
}

#[test]
fn mjoelnerparken_2017_meets_four_of_five_criteria_and_is_on_the_list() {
    // shared/DOMAIN.md section 4, list of 1 December 2017 under the 2014-2017
    // rules: non-Western 82.1 %, outside labour 43.5 %, convicted 2.52 %,
    // basic schooling 53 %, income 51 % of the region -> 4 of 5 (convicted not met).
    let rs = set("national-2014");
    assert!(rs.covers(2017));
    let a = area(
        "Mjølnerparken",
        2500.0,
        &[
            ("non_western", 0.821),
            ("outside_labour_18_64", 0.435),
            ("convicted_18plus", 0.0252),
            ("basic_education_30_59", 0.53),
            ("income_ratio_15_64", 0.51),
        ],
    );
    let r = &evaluate(&rs, &[a], &AreaData::default(), 2017, &never)[0];
    let udsat = r.lists.iter().find(|l| l.list == "udsat").unwrap();
    assert_eq!((udsat.met, udsat.of, udsat.on_list), (4, 5, true));
    let crime = r.criteria.iter().find(|c| c.criterion == "crime").unwrap();
    assert!(!crime.met);
    assert!(r
        .criteria
        .iter()
        .filter(|c| c.criterion != "crime")
        .all(|c| c.met));
}

#[test]
fn comparators_hold_exactly_as_the_law_words_them() {
    let rs = set("national-2018");
    // National convicted share 1 % -> the crime criterion is the multiple of it.
    let nat = area("national", 0.0, &[("convicted_18plus", 0.01)]);
    let check = |shares: &[(&str, f64)], criterion: &str| -> bool {
        let r = &evaluate(&rs, &[area("A", 1000.0, shares)], &nat, 2025, &never)[0];
        r.criteria
            .iter()
            .find(|c| c.list == "udsat" && c.criterion == criterion)
            .unwrap()
            .met
    };
    // "exceeds 40 %": exactly 40 % is not met, 40.0001 % is.
    assert!(!check(&[("outside_labour_18_64", 0.40)], "labour"));
    assert!(check(&[("outside_labour_18_64", 0.400001)], "labour"));
    // "at least 3 x the national average": exactly 3.0 x is met, 2.9999 x is not.
    assert!(check(&[("convicted_18plus", 0.03)], "crime"));
    assert!(!check(&[("convicted_18plus", 0.029999)], "crime"));
    // "exceeds 60 %" basic schooling.
    assert!(!check(&[("basic_education_30_59", 0.60)], "education"));
    assert!(check(&[("basic_education_30_59", 0.600001)], "education"));
    // "less than 55 %" of the region's income: exactly 55 % is not met.
    assert!(!check(&[("income_ratio_15_64", 0.55)], "income"));
    assert!(check(&[("income_ratio_15_64", 0.549999)], "income"));
    // ">= 1,000 residents": 999 is not eligible, 1,000 is.
    let both = [
        ("outside_labour_18_64", 0.5),
        ("basic_education_30_59", 0.7),
    ];
    let on = |res: f64| evaluate(&rs, &[area("A", res, &both)], &nat, 2025, &never)[0].on("udsat");
    assert!(!on(999.0));
    assert!(on(1000.0));
}

#[test]
fn parallelsamfund_needs_udsat_and_more_than_half_non_western() {
    let rs = set("national-2018");
    let nat = area("national", 0.0, &[("convicted_18plus", 0.01)]);
    let base = [
        ("outside_labour_18_64", 0.5),
        ("basic_education_30_59", 0.7),
    ];
    let with_nw = |nw: f64| {
        let mut v = base.to_vec();
        v.push(("non_western", nw));
        evaluate(&rs, &[area("A", 2000.0, &v)], &nat, 2025, &never).remove(0)
    };
    assert!(
        !with_nw(0.50).on("parallelsamfund"),
        "exactly 50 % does not exceed 50 %"
    );
    assert!(with_nw(0.51).on("parallelsamfund"));
    // Forebyggelse is only for areas not on the udsat list.
    assert!(!with_nw(0.51).on("forebyggelse"));
}

#[test]
fn omdannelse_needs_five_consecutive_parallelsamfund_lists_and_a_gap_resets() {
    let rs = set("national-2018");
    let nat = area("national", 0.0, &[("convicted_18plus", 0.01)]);
    let a = area(
        "A",
        2000.0,
        &[
            ("outside_labour_18_64", 0.5),
            ("basic_education_30_59", 0.7),
            ("non_western", 0.6),
        ],
    );
    let history = |years: Vec<i32>| {
        move |_: &str, y: i32, l: &str| l == "parallelsamfund" && years.contains(&y)
    };
    let on = |h: &dyn Fn(&str, i32, &str) -> bool| {
        evaluate(&rs, std::slice::from_ref(&a), &nat, 2025, h)[0].on("omdannelse")
    };
    assert!(
        on(&history(vec![2021, 2022, 2023, 2024])),
        "this list and the 4 preceding"
    );
    assert!(
        !on(&history(vec![2021, 2022, 2024])),
        "a gap (2023) resets the count"
    );
    assert!(!on(&history(vec![2022, 2023, 2024])), "only 4 in a row");
}

#[test]
fn areas_are_judged_on_pooled_counts_not_the_mean_of_rates() {
    // Two departments: 20 of 100 (20 %) and 450 of 1,000 (45 %). The mean of
    // their rates, 32.5 %, would not exceed 40 %; the pooled share
    // 470 / 1,100 = 42.7 % does.
    let rs = set("national-2018");
    let mut counts = HashMap::new();
    for y in 2020..=2025 {
        counts.insert(
            ("outside_labour_18_64".to_string(), y),
            (20.0 + 450.0, 100.0 + 1000.0),
        );
    }
    let a = AreaData {
        id: "A".into(),
        residents: 2000.0,
        counts,
        ..Default::default()
    };
    let r = &evaluate(&rs, &[a], &AreaData::default(), 2025, &never)[0];
    let c = r
        .criteria
        .iter()
        .find(|c| c.list == "udsat" && c.criterion == "labour")
        .unwrap();
    assert!((c.value.unwrap() - 470.0 / 1100.0).abs() < 1e-12);
    assert!(c.met);
}

#[test]
fn rule_set_errors_name_the_problem() {
    let i = ids();
    let known: Vec<&str> = i.iter().map(String::as_str).collect();
    let base = BUILTIN[2].1;
    let e = RuleSet::from_toml(
        &base.replacen(
            "indicator = \"outside_labour_18_64\"",
            "indicator = \"ledighed\"",
            1,
        ),
        "x.toml",
        &known,
    )
    .unwrap_err();
    assert!(
        e.contains("x.toml") && e.contains("unknown indicator \"ledighed\""),
        "{e}"
    );
    let e = RuleSet::from_toml(
        &base.replacen("comparator = \">\"", "comparator = \"=>\"", 1),
        "x.toml",
        &known,
    )
    .unwrap_err();
    assert!(e.contains("x.toml") && e.contains("=>"), "{e}");
    let a = RuleSet::from_toml(base, "a.toml", &known).unwrap();
    let mut b = a.clone();
    b.id = "other".into();
    b.valid_from = 2020;
    let e = check_overlaps(&[a, b]).unwrap_err();
    assert!(e.contains("overlap"), "{e}");
    // The shipped rule sets do not overlap and cover 2010 onwards.
    let s = sets();
    for y in 2010..=2030 {
        assert_eq!(s.iter().filter(|r| r.covers(y)).count(), 1, "{y}");
    }
}

#[test]
fn municipal_points_model_scores_distance_from_the_municipal_average() {
    use bomon_rules::municipal::{categorise, PointsModel, BUILTIN};
    let cat = Catalogue::builtin();
    let m = PointsModel::from_toml(BUILTIN.1, BUILTIN.0, &cat).unwrap();
    assert!(
        m.placeholder,
        "the shipped calibration must say it is a placeholder"
    );
    assert_eq!(m.themes.len(), 8);
    // Bands 1.25, 1.5, 2, 3 times the average on the worse side.
    assert_eq!(
        m.points(0.20, 0.20, bomon_store::Direction::HigherIsWorse),
        0
    );
    assert_eq!(
        m.points(0.25, 0.20, bomon_store::Direction::HigherIsWorse),
        1
    );
    assert_eq!(
        m.points(0.40, 0.20, bomon_store::Direction::HigherIsWorse),
        3
    );
    assert_eq!(
        m.points(0.10, 0.20, bomon_store::Direction::HigherIsWorse),
        0,
        "better is never points"
    );
    assert_eq!(
        m.points(0.50, 0.75, bomon_store::Direction::LowerIsWorse),
        2,
        "income 0.75/0.5 = 1.5x worse"
    );
    // An area 3x the municipality on labour (4 points) and 2x on youth crime (3 points).
    let muni = area(
        "751",
        0.0,
        &[
            ("outside_labour_18_64", 0.15),
            ("youth_charged", 0.04),
            ("public_support", 0.2),
        ],
    );
    let a = area(
        "A",
        800.0,
        &[
            ("outside_labour_18_64", 0.45),
            ("youth_charged", 0.08),
            ("public_support", 0.2),
        ],
    );
    let c = categorise(&m, &cat, &a, &muni, 2025);
    assert_eq!(c.points, 7);
    assert_eq!(c.category, Some("yellow"));
    let small = area("B", 499.0, &[("outside_labour_18_64", 0.9)]);
    assert_eq!(
        categorise(&m, &cat, &small, &muni, 2025).category,
        None,
        "under 500 residents: not categorised"
    );
}
