//! `bomon review --annual` end to end on the bundled synthetic sample.

use std::path::Path;

use super::common::*;

fn sample_store(dir: &Path) -> std::path::PathBuf {
    super::common::sample_store(dir, &SAMPLE_ANNUAL)
}

#[test]
fn annual_review_of_the_sample_organisation_writes_the_contracted_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let out = dir.path().join("review");
    let o = bomon()
        .args([
            "review",
            "--annual",
            "2025",
            "--organisation",
            "Boligforeningen Østjylland (syntetisk)",
            "--store",
        ])
        .arg(&store)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("Internt arbejdsredskab"));
    for f in [
        "flags.csv",
        "flags.parquet",
        "tests.parquet",
        "departments.csv",
        "peers.csv",
        "manifest.json",
        "INTERNT-ARBEJDSREDSKAB.txt",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    assert!(!out.join(".bomon-tmp").exists());

    let flags = std::fs::read_to_string(out.join("flags.csv")).unwrap();
    // UTF-8 with a byte-order mark, so that Danish Excel reads æ, ø and å.
    let flags = flags
        .strip_prefix('\u{feff}')
        .expect("flags.csv starts with a BOM");
    let head = flags.lines().next().unwrap();
    for c in [
        "department_id",
        "period",
        "indicator",
        "test",
        "comparator",
        "value",
        "reference",
        "z",
        "p",
        "q",
        "severity",
        "direction",
    ] {
        assert!(
            head.split(',').any(|h| h == c),
            "flags.csv lacks {c}: {head}"
        );
    }
    // The sample organisation's three showcase deteriorations (truth.csv:
    // Viby Syd outside-labour step in 2025, Håndværkerparken public-support
    // step in 2024, Rundhøj move-out rate rising gradually from 2022) are
    // flagged, as alarms, and nothing else is: high but ordinary levels such as
    // Søndervangen's are within the spread of public housing (additive
    // overdispersion) and FDR control keeps noise out.
    let mut r = csv::Reader::from_reader(flags.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (dc, ic, tc, sc, rc) = (
        col("department_id"),
        col("indicator"),
        col("test"),
        col("severity"),
        col("rule"),
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let found: std::collections::BTreeSet<(String, String)> = rows
        .iter()
        .map(|x| (x[dc].to_string(), x[ic].to_string()))
        .collect();
    let expected: std::collections::BTreeSet<(String, String)> = [
        ("9000-001", "outside_labour_18_64"),
        ("9000-002", "public_support"),
        ("9000-003", "move_out_rate"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(found, expected, "{flags}");
    for (d, i) in &expected {
        assert!(
            rows.iter()
                .any(|x| &x[dc] == d && &x[ic] == i && &x[sc] == "alarm"),
            "{d} {i} is an alarm: {flags}"
        );
    }
    // Viby Syd's step is last year's change; Håndværkerparken's step a year
    // earlier is seen by the two-year window; Rundhøj's rise by the trend.
    let has = |d: &str, t: &str, rule: &str, sev: &str| {
        rows.iter()
            .any(|x| &x[dc] == d && &x[tc] == t && &x[rc] == rule && &x[sc] == sev)
    };
    assert!(
        has("9000-001", "development", "last_year", "alarm"),
        "{flags}"
    );
    assert!(
        has("9000-002", "development", "two_years", "alarm"),
        "{flags}"
    );
    assert!(has("9000-003", "trend", "", "alarm"), "{flags}");

    let deps = std::fs::read_to_string(out.join("departments.csv")).unwrap();
    assert!(deps.starts_with(
        "\u{feff}rank,department_id,name,organisation,municipality_code,area_id,category,score"
    ));
    let rows: Vec<&str> = deps
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(rows.len() >= 50, "one row per department in scope");
    assert!(deps.contains("9000-005,Søndervangen"));
    // Ranked by score; among equal scores (most departments have no flags) the
    // municipality's red come first, then orange, yellow, the rest.
    let weight = |c: &str| match c {
        "red" => 3,
        "orange" => 2,
        "yellow" => 1,
        _ => 0,
    };
    let ranked: Vec<(f64, u8)> = csv::Reader::from_reader(deps.as_bytes())
        .records()
        .map(|x| {
            let x = x.unwrap();
            (x[7].parse().unwrap(), weight(&x[6]))
        })
        .collect();
    assert!(
        ranked
            .windows(2)
            .all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 >= w[1].1)),
        "{ranked:?}"
    );
    assert!(ranked.iter().filter(|x| x.0 == 0.0 && x.1 == 3).count() >= 2);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        m["document"],
        "Internt arbejdsredskab - ikke til offentliggørelse"
    );
    assert_eq!(m["period"], "2025");
    assert_eq!(m["snapshot"], 1);
    assert!(m["expected_false_alarms"].as_f64().unwrap() >= 0.0);
    assert_eq!(m["inputs"].as_array().unwrap().len(), 3);
    let peers = std::fs::read_to_string(out.join("peers.csv")).unwrap();
    // With the byte-order mark, like every CSV file (Danish Excel, æ, ø, å).
    let peers = peers
        .strip_prefix('\u{feff}')
        .expect("peers.csv starts with the UTF-8 BOM");
    assert!(peers
        .lines()
        .next()
        .unwrap()
        .starts_with("department_id,peer_rank,peer_id,peer_name,peer_organisation,distance"));
    assert!(
        !peers
            .lines()
            .skip(1)
            .any(|l| l.contains("Boligforeningen Østjylland")),
        "peers come from other organisations"
    );
}

#[test]
fn review_errors_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let o = bomon()
        .args(["review", "--annual", "1999", "--store"])
        .arg(&store)
        .arg("--out")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no annual observations for 1999"),
        "{}",
        stderr(&o)
    );
    let o = bomon()
        .args([
            "review",
            "--annual",
            "2025",
            "--organisation",
            "Ingen",
            "--store",
        ])
        .arg(&store)
        .arg("--out")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    assert!(
        stderr(&o).contains("no departments of organisation \"Ingen\""),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("r").join("manifest.json").exists());
}

#[test]
fn categorize_writes_the_national_lists_with_criteria_and_margins() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let out = dir.path().join("lists");
    let o = bomon()
        .args(["categorize", "--period", "2025", "--store"])
        .arg(&store)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("national-2018"), "{}", stderr(&o));
    let areas = std::fs::read_to_string(out.join("areas.csv")).unwrap();
    assert!(areas.starts_with(
        "\u{feff}area_id,municipality_code,period,ruleset,residents,eligible,departments,udsat,udsat_criteria_met"
    ));
    let crit = std::fs::read_to_string(out.join("criteria.csv")).unwrap();
    assert!(
        crit.lines()
            .nth(1)
            .is_some_and(|l| l.contains(",udsat,labour,outside_labour_18_64,")),
        "{}",
        &crit[..300.min(crit.len())]
    );
    let o = bomon()
        .args([
            "categorize",
            "--period",
            "2025",
            "--ruleset",
            "nope",
            "--store",
        ])
        .arg(&store)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown rule set \"nope\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn imported_categories_take_precedence_over_computed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let out = dir.path().join("lists");
    let o = bomon()
        .args(["categorize", "--period", "2025", "--store"])
        .arg(&store)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let m = std::fs::read_to_string(out.join("municipal.csv")).unwrap();
    let head: Vec<&str> = m
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap()
        .split(',')
        .collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (imp, fin, src) = (col("category_imported"), col("category"), col("source"));
    let rows: Vec<Vec<&str>> = m.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().any(|r| r[src] == "imported"));
    for r in rows.iter().filter(|r| !r[imp].is_empty()) {
        assert_eq!((r[fin], r[src]), (r[imp], "imported"));
    }
    assert!(m.contains("PLACEHOLDER calibration"));
}

/// A category imported for a quarter, and one imported per department
/// rather than per area, both reach `bomon categorize` (issue 22: they were
/// read with `parse::<i32>()` on the period and only by area, and silently
/// ignored, while `bomon review` used them).
#[test]
fn categories_imported_per_quarter_and_per_department_reach_categorize() {
    let dir = tempfile::tempdir().unwrap();
    let deps = write(
        dir.path(),
        "d.csv",
        "department_id,name,organisation,municipality_code,area_id,housing_type,tenancies,construction_year\n\
D1,Nord,Org,751,A1,family,400,1970\nD2,Syd,Org,751,A2,family,300,1971\nD3,Vest,Org,751,A2,family,200,1972\n",
    );
    let mut obs = String::from("department_id,period,indicator,numerator,denominator,value\n");
    for d in ["D1", "D2", "D3"] {
        obs.push_str(&format!(
            "{d},2025,residents,,,900\n{d},2025,outside_labour_18_64,200,600,\n"
        ));
    }
    let obs = write(dir.path(), "o.csv", &obs);
    // A1 gets its category for the quarter 2025Q3; A2 none of its own, but
    // its departments D2 (yellow) and D3 (orange) have one each.
    let cats = write(
        dir.path(),
        "c.csv",
        "area_id,department_id,period,category\nA1,,2025Q3,red\n,D2,2025,yellow\n,D3,2025,orange\n",
    );
    let store = dir.path().join("s");
    let o = ingest(&store, &[&deps, &obs, &cats]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("lists");
    let o = bomon()
        .args(["categorize", "--period", "2025", "--store"])
        .arg(&store)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mut r = csv::Reader::from_path(out.join("municipal.csv")).unwrap();
    let head = r.headers().unwrap().clone();
    let c = |n: &str| head.iter().position(|h| h == n).unwrap();
    let got: Vec<(String, String, String)> = r
        .records()
        .map(|x| {
            let x = x.unwrap();
            (
                x[c("area_id")].to_string(),
                x[c("category_imported")].to_string(),
                x[c("source")].to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("A1".to_string(), "red".to_string(), "imported".to_string()),
            (
                "A2".to_string(),
                "orange".to_string(),
                "imported".to_string()
            ),
        ]
    );
}

/// `bomon review --verbose` says where the time went, phase by phase (#21's
/// breakdown): every phase named once, in order, with its seconds.
#[test]
fn verbose_review_prints_its_phases() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let o = bomon()
        .args([
            "review",
            "--verbose",
            "--annual",
            "2025",
            "--organisation",
            "Boligforeningen Østjylland (syntetisk)",
            "--store",
        ])
        .arg(&store)
        .arg("--out")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    let line = e
        .lines()
        .find(|l| l.starts_with("phases: "))
        .unwrap_or_else(|| panic!("{e}"));
    let names: Vec<&str> = line["phases: ".len()..]
        .split(", ")
        .map(|p| p.rsplitn(3, ' ').nth(2).unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "load",
            "peers",
            "tests",
            "triage",
            "history",
            "lists (beside the review)",
            "publish",
            "record"
        ],
        "{line}"
    );
    for p in line["phases: ".len()..].split(", ") {
        let secs: f64 = p.rsplit(' ').nth(1).unwrap().parse().unwrap();
        assert!((0.0..60.0).contains(&secs), "{p}");
    }
}
