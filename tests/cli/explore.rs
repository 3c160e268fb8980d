//! `bomon peers`, `bomon show` and `bomon query` on the bundled synthetic
//! sample: terminal tables (insta snapshots), CSV/JSON, Danish numbers, and
//! the errors an analyst meets.

use std::path::{Path, PathBuf};

use super::common::*;

fn sample_store(dir: &Path) -> PathBuf {
    super::common::sample_store(dir, &SAMPLE_ANNUAL)
}

fn run(store: &Path, args: &[&str]) -> std::process::Output {
    bomon()
        .env("COLUMNS", "80")
        .args(args)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap()
}

#[test]
fn peers_show_and_query_on_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    // Record a review, so show and query see its flags.
    let o = bomon()
        .args([
            "review",
            "--no-report",
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

    let o = run(
        &store,
        &[
            "peers",
            "--department",
            "9000-005",
            "--indicator",
            "move_out_rate",
            "--year",
            "2025",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    for l in table.lines() {
        assert!(l.chars().count() <= 80, "wider than 80: {l}");
    }
    insta::assert_snapshot!("peers_table", table);

    let o = run(
        &store,
        &[
            "peers",
            "--department",
            "9000-005",
            "--indicator",
            "move_out_rate",
            "--year",
            "2025",
            "--format",
            "csv",
        ],
    );
    let mut r = csv::Reader::from_reader(o.stdout.as_slice());
    let head = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 21, "the department and its 20 peers");
    assert_eq!(&rows[0][1], "9000-005");
    let dcol = head.iter().position(|h| h == "distance").unwrap();
    let d: Vec<f64> = rows.iter().map(|r| r[dcol].parse().unwrap()).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "nearest first: {d:?}");
    let org = head.iter().position(|h| h == "organisation").unwrap();
    assert!(rows[1..]
        .iter()
        .all(|r| &r[org] != "Boligforeningen Østjylland (syntetisk)"));

    let o = run(
        &store,
        &[
            "--lang",
            "da",
            "show",
            "--department",
            "9000-005",
            "--year",
            "2025",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let card = stdout(&o);
    assert!(card.contains("Internt arbejdsredskab"));
    assert!(card.contains("annual:2025:Boligforeningen"), "{card}");
    assert!(
        card.contains("Fraflytni") && card.contains("25,1"),
        "Danish labels and numbers"
    );
    insta::assert_snapshot!("show_card_da", card);
    let o = run(
        &store,
        &[
            "--lang",
            "en",
            "show",
            "--department",
            "9000-005",
            "--year",
            "2025",
        ],
    );
    let card_en = stdout(&o);
    assert!(
        card_en.contains(
            "municipality 751, area 751-A0538, family housing, 450 tenancies, built 1961"
        ) && card_en.contains("category red (2025, area 751-A0538)"),
        "{card_en}"
    );

    let o = run(
        &store,
        &[
            "show",
            "--department",
            "9000-003",
            "--year",
            "2025",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mo = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["indicator"] == "move_out_rate")
        .unwrap();
    // Rundhøj (9000-003) carries the sample's planted move-out rise
    // (truth.csv): the card shows the review's recorded flags.
    assert!(mo["2025"].as_f64().unwrap() > 0.0, "{mo}");
    assert!(
        mo["flags"].as_str().unwrap().contains("trend alarm"),
        "the recorded flags: {mo}"
    );

    // query as a terminal table, Danish numbers.
    let o = run(&store, &["query", "SELECT indicator, count(*) AS n, avg(numerator / denominator) AS mean FROM observations WHERE year = 2025 AND indicator IN ('move_out_rate', 'evictions') GROUP BY indicator ORDER BY indicator"]);
    assert!(o.status.success(), "{}", stderr(&o));
    insta::assert_snapshot!("query_table", stdout(&o));

    // Every table the store holds, including the recorded review.
    let q = query_csv(&store, "SELECT count(*) AS n FROM review_departments");
    assert_eq!(q.lines().nth(1), Some("50"));
    let q = query_csv(&store, "SELECT kind, period FROM reviews");
    assert!(q.contains("annual,2025"), "{q}");
    let out = dir.path().join("g.parquet");
    let o = bomon()
        .args(["query", "--format", "parquet", "--out"])
        .arg(&out)
        .arg("--store")
        .arg(&store)
        .arg("SELECT indicator, avg(numerator / denominator) AS mean FROM observations GROUP BY indicator")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(&out).unwrap().starts_with(b"PAR1"));

    // Errors.
    for args in [
        vec!["peers", "--department", "NOPE"],
        vec!["show", "--department", "NOPE"],
    ] {
        let o = run(&store, &args);
        assert!(!o.status.success());
        assert_eq!(
            stderr(&o).trim(),
            "bomon: unknown department \"NOPE\": not in the store"
        );
    }
    let o = run(&store, &["query", "SELEC * FROM departments"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains(
            "sql parser error: Expected: an SQL statement, found: SELEC at Line: 1, Column: 1"
        ),
        "{e}"
    );
    assert_eq!(e.matches("sql parser error").count(), 1, "said once: {e}");
    let o = run(&store, &["query", "--snapshot", "99", "SELECT 1"]);
    assert_eq!(
        stderr(&o).trim(),
        "bomon: snapshot 99 does not exist (see `bomon store log`)"
    );
    let o = run(
        &store,
        &["peers", "--department", "9000-005", "--indicator", "bogus"],
    );
    assert!(
        stderr(&o).contains("unknown indicator \"bogus\""),
        "{}",
        stderr(&o)
    );
}

/// `bomon peers --chart` draws the very chart `bomon chart trend` draws for
/// the same department, indicator, year and peers (one chart code, #22).
#[test]
fn peers_chart_is_the_chart_verbs_trend_chart() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let a = dir.path().join("peers.svg");
    let b = dir.path().join("chart.svg");
    let common = ["--department", "9000-005", "--indicator", "move_out_rate"];
    let mut args = vec![
        "peers",
        "--year",
        "2025",
        "--k",
        "20",
        "--chart",
        a.to_str().unwrap(),
    ];
    args.extend(common);
    let o = run(&store, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut args = vec![
        "chart",
        "trend",
        "--period",
        "2025",
        "--out",
        b.to_str().unwrap(),
    ];
    args.extend(common);
    let o = run(&store, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let (sa, sb) = (
        std::fs::read_to_string(&a).unwrap(),
        std::fs::read_to_string(&b).unwrap(),
    );
    assert!(sa.contains("Søndervangen") && sa.contains("ikke til offentliggørelse"));
    assert_eq!(sa, sb, "the two verbs draw different charts");
}

/// `bomon show` follows the report's rule for small departments: Birkehaven
/// (9000-006, 12 residents in the sample) is listed by the report as too
/// small to judge, without figures - and so is its card; its peers' median
/// and the national level (not its own figures) stay.
#[test]
fn show_prints_no_figures_of_a_department_too_small_to_judge() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let o = run(
        &store,
        &["show", "--department", "9000-006", "--year", "2025"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let card = stdout(&o);
    assert!(
        card.contains("for lille til at vurdere statistisk"),
        "{card}"
    );
    let o = run(
        &store,
        &[
            "show",
            "--department",
            "9000-006",
            "--year",
            "2025",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert!(rows.len() > 10);
    for r in rows {
        for y in ["2023", "2024", "2025"] {
            assert!(r[y].is_null(), "{y} of {}: {}", r["indicator"], r[y]);
        }
    }
    assert!(
        rows.iter().any(|r| r["peers_median"].is_number()),
        "the comparison stays"
    );
    // A department of ordinary size shows its figures.
    let o = run(
        &store,
        &[
            "show",
            "--department",
            "9000-003",
            "--year",
            "2025",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.as_array().unwrap().iter().any(|r| r["2025"].is_number()));
}

/// `bomon peers` follows the same rule: a department too small to judge
/// shows no figures of its own, as the focus or as somebody's twin.
#[test]
fn peers_prints_no_figures_of_a_department_too_small_to_judge() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let o = run(
        &store,
        &[
            "peers",
            "--department",
            "9000-006",
            "--indicator",
            "move_out_rate",
            "--year",
            "2025",
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v.as_array().unwrap();
    let me = rows
        .iter()
        .find(|r| r["department_id"] == "9000-006")
        .unwrap();
    for y in ["2021", "2022", "2023", "2024", "2025"] {
        assert!(me[y].is_null(), "{y}: {}", me[y]);
    }
    assert!(rows.len() > 5, "its twins are listed");
    let o = run(
        &store,
        &[
            "peers",
            "--department",
            "9000-006",
            "--indicator",
            "move_out_rate",
            "--year",
            "2025",
        ],
    );
    assert!(stdout(&o).contains("for lille til at"), "{}", stdout(&o));
}
