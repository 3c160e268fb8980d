//! `bomon review --quarterly` end to end on the bundled synthetic sample's
//! at-risk departments.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::common::*;

fn sample() -> PathBuf {
    sample_dir()
}

fn store_with(dir: &Path, files: &[&str]) -> PathBuf {
    super::common::sample_store(dir, files)
}

fn quarterly(store: &Path, quarter: &str, out: &Path) -> std::process::Output {
    quarterly_with(store, quarter, out, &[])
}

fn quarterly_with(
    store: &Path,
    quarter: &str,
    out: &Path,
    extra: &[&std::ffi::OsStr],
) -> std::process::Output {
    bomon()
        .args(["review", "--quarterly", quarter, "--store"])
        .arg(store)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn own_org(org: &str) -> Vec<&std::ffi::OsStr> {
    vec!["--organisation".as_ref(), org.as_ref()]
}

fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            head.iter()
                .cloned()
                .zip(x.iter().map(String::from))
                .collect()
        })
        .collect()
}

#[test]
fn quarterly_follow_up_of_the_samples_at_risk_departments() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(
        dir.path(),
        &[
            "departments.csv",
            "observations_quarterly.parquet",
            "categories.csv",
        ],
    );
    let out = dir.path().join("q");
    let o = quarterly(&store, "2025Q3", &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("Internt arbejdsredskab"));
    for f in [
        "flags.csv",
        "flags.parquet",
        "tests.parquet",
        "departments.csv",
        "peers.csv",
        "selection.csv",
        "spc.parquet",
        "manifest.json",
        "INTERNT-ARBEJDSREDSKAB.txt",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }

    // The selection is exactly the departments whose area's latest category
    // up to 2025 is red, orange or yellow (computed here from the input files).
    let mut latest: HashMap<String, (i32, String)> = HashMap::new();
    for r in rows(&sample().join("categories.csv")) {
        let y: i32 = r["period"].parse().unwrap();
        let e = latest
            .entry(r["area_id"].clone())
            .or_insert((0, String::new()));
        if y <= 2025 && y >= e.0 {
            *e = (y, r["category"].clone());
        }
    }
    let expected: BTreeSet<String> = rows(&sample().join("departments.csv"))
        .into_iter()
        .filter(|d| {
            latest
                .get(&d["area_id"])
                .is_some_and(|c| ["red", "orange", "yellow"].contains(&c.1.as_str()))
        })
        .map(|d| d["department_id"].clone())
        .collect();
    let sel = rows(&out.join("selection.csv"));
    let got: BTreeSet<String> = sel.iter().map(|r| r["department_id"].clone()).collect();
    assert_eq!(got, expected);
    assert!(!got.is_empty());
    let mut series = BTreeSet::new();
    for r in &sel {
        assert!(r["selected_because"].starts_with("area "), "{r:?}");
        assert!(
            [
                "new",
                "persisting",
                "resolved",
                "shared",
                "none",
                "too_short"
            ]
            .contains(&r["status"].as_str()),
            "{r:?}"
        );
        // Every quarterly indicator is either judged (and by which chart)
        // or not judged (and why); rare series are judged, never "too rare".
        let judged: Vec<&str> = r["judged"].split_whitespace().collect();
        let not: Vec<&str> = r["not_judged"].split_whitespace().collect();
        series.insert(judged.len() + not.len());
        assert!(
            judged
                .iter()
                .all(|j| j.ends_with(":deciding") || j.ends_with(":own_history")),
            "{r:?}"
        );
        assert!(not.iter().all(|j| !j.ends_with(":too_rare")), "{r:?}");
        assert!(
            r["judged"].contains("evictions:") || r["not_judged"].contains("evictions:"),
            "{r:?}"
        );
    }
    // The same judged indicators for every department (those not of context).
    assert_eq!(series.len(), 1, "{series:?}");
    assert!(*series.first().unwrap() >= 6, "{series:?}");

    // Flags: the contracted columns, this quarter, only SPC/early-warning tests, and
    // every flag belongs to a selected department.
    let flags = rows(&out.join("flags.csv"));
    assert!(!flags.is_empty());
    for f in &flags {
        assert_eq!(f["period"], "2025Q3");
        assert!(
            ["spc", "early_warning"].contains(&f["test"].as_str()),
            "{f:?}"
        );
        assert!(["own", "shared"].contains(&f["attribution"].as_str()));
        assert!(["alert", "alarm"].contains(&f["severity"].as_str()));
        assert!(got.contains(&f["department_id"]));
        assert_eq!(f["direction"], "higher_is_worse");
    }
    let flagged: BTreeSet<&str> = flags
        .iter()
        .filter(|f| f["attribution"] == "own")
        .map(|f| f["department_id"].as_str())
        .collect();
    for r in &sel {
        let has = flagged.contains(r["department_id"].as_str());
        assert_eq!(
            has,
            ["new", "persisting"].contains(&r["status"].as_str()),
            "{r:?}"
        );
    }

    // The manifest: what was run, and the status counts.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["review"], "quarterly");
    assert_eq!(m["period"], "2025Q3");
    assert_eq!(m["selected"].as_u64().unwrap() as usize, expected.len());
    let total: u64 = m["status"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, expected.len());
    assert!(m["document"].as_str().unwrap().contains("Internt"));
    // Season: move-outs peak in the third quarter (summer moves), in the
    // factors estimated from the data.
    let s = &m["seasonal_factors"]["move_out_rate"];
    assert!(s[2].as_f64().unwrap() > 1.1, "{s}");

    // The triage has a Danish prompt for each department asked.
    let deps = rows(&out.join("departments.csv"));
    let asked: Vec<_> = deps
        .iter()
        .filter(|d| d["needs_assessment"] == "true")
        .collect();
    for d in asked {
        assert!(!d["findings"].is_empty() && !d["ask"].is_empty(), "{d:?}");
    }

    // The organisation's own follow-up: only its red/orange/yellow departments,
    // each judged exactly as in the national run (peers and the pooled
    // dispersion still come from all departments).
    let org = "Boligforeningen Østjylland (syntetisk)";
    let own_out = dir.path().join("q-own");
    let o = quarterly_with(&store, "2025Q3", &own_out, &own_org(org));
    assert!(o.status.success(), "{}", stderr(&o));
    let own_sel = rows(&own_out.join("selection.csv"));
    let national_own: Vec<_> = sel
        .iter()
        .filter(|r| r["organisation"] == org)
        .cloned()
        .collect();
    assert!(!national_own.is_empty());
    assert_eq!(own_sel, national_own);
    let own_ids: BTreeSet<&str> = own_sel
        .iter()
        .map(|r| r["department_id"].as_str())
        .collect();
    let national_flags: Vec<_> = flags
        .iter()
        .filter(|f| own_ids.contains(f["department_id"].as_str()))
        .cloned()
        .collect();
    assert_eq!(rows(&own_out.join("flags.csv")), national_flags);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(own_out.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["organisation"], org);
    let html = std::fs::read_to_string(own_out.join("report.html")).unwrap();
    assert!(
        html.contains(&format!("Kvartalsopfølgning 3. kvt. 2025 - {org}")),
        "the report names the organisation followed up"
    );

    // The quarterly review is recorded, so the assessment its report asks for
    // can be read back against the quarter and shows in the next run.
    let asked: Vec<String> = rows(&own_out.join("departments.csv"))
        .into_iter()
        .filter(|d| d["needs_assessment"] == "true")
        .map(|d| d["department_id"].clone())
        .collect();
    assert!(!asked.is_empty());
    let form = write(
        dir.path(),
        "vurdering.csv",
        &format!(
            "department_id,period,assessed_on,assessed_by_role,outcome,note\n{},2025Q3,2026-11-20,inspektør,monitor,Flere fraflytninger efter renovering\n",
            asked[0]
        ),
    );
    let o = bomon()
        .args(["assess", "import", "--store"])
        .arg(&store)
        .arg(&form)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let again = dir.path().join("q-own-2");
    let o = quarterly_with(&store, "2025Q3", &again, &own_org(org));
    assert!(o.status.success(), "{}", stderr(&o));
    let d = rows(&again.join("departments.csv"))
        .into_iter()
        .find(|d| d["department_id"] == asked[0])
        .unwrap();
    assert!(d["assessment"].starts_with("monitor (2026-11-20"), "{d:?}");
    assert_eq!(m["selected"].as_u64().unwrap() as usize, own_sel.len());
}

#[test]
fn quarterly_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(
        dir.path(),
        &["departments.csv", "observations_quarterly.parquet"],
    );
    let out = dir.path().join("q");
    let o = quarterly(&store, "2025Q5", &out);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("expected a quarter such as 2025Q3, found \"2025Q5\""),
        "{}",
        stderr(&o)
    );
    // No categories in the store: nobody to follow up, and it says what to do.
    let o = quarterly(&store, "2025Q3", &out);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("import categories"), "{}", stderr(&o));
    assert!(!out.join("manifest.json").exists());
    // A quarter without figures.
    let o = quarterly(&store, "2031Q1", &out);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no quarterly observations for 2031Q1"),
        "{}",
        stderr(&o)
    );
    // An organisation the store does not know, and a department added by hand
    // that belongs to another organisation than the one followed up.
    let org_run = |org: &str, config: Option<&Path>| {
        let mut extra = own_org(org);
        if let Some(f) = config {
            extra.extend(["--config".as_ref(), f.as_os_str()]);
        }
        quarterly_with(&store, "2025Q3", &out, &extra)
    };
    let o = org_run("Ingen Sådan Boligforening", None);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no departments of organisation \"Ingen Sådan Boligforening\""),
        "{}",
        stderr(&o)
    );
    // An organisation with no red/orange/yellow department (no categories here).
    let o = org_run("Boligforeningen Østjylland (syntetisk)", None);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no department of organisation \"Boligforeningen Østjylland (syntetisk)\" is red/orange/yellow"),
        "{}",
        stderr(&o)
    );
    let cfg = write(
        dir.path(),
        "include.toml",
        "[[quarterly.include]]\ndepartment = \"0001-001\"\nreason = \"afdelingsbestyrelsens ønske\"\n",
    );
    let o = org_run("Boligforeningen Østjylland (syntetisk)", Some(&cfg));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(
            "department \"0001-001\" belongs to organisation \"Boligselskab Stevns 1 (syntetisk)\""
        ),
        "{}",
        stderr(&o)
    );
    assert!(!out.join("manifest.json").exists());
    // --annual and --quarterly exclude each other.
    let o = bomon()
        .args([
            "review",
            "--annual",
            "2025",
            "--quarterly",
            "2025Q3",
            "--store",
        ])
        .arg(&store)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}

/// The quarterly chart says what the test says: on the deciding chart (the
/// rate the report's text quotes, the expected rate and the alarm line), a
/// department's latest quarter lies beyond the alarm line exactly when its
/// deciding test is an alarm, and the expected rate drawn is the one the
/// finding quotes.
#[test]
fn the_deciding_chart_agrees_with_the_alarms() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(
        dir.path(),
        &[
            "departments.csv",
            "observations_quarterly.parquet",
            "categories.csv",
        ],
    );
    let (mut checked, mut alarms) = (0, 0);
    // Two quarters: Rundhøj's move-out rate is beyond the line in 2024Q1, not in 2025Q3.
    for quarter in ["2024Q1", "2025Q3"] {
        let out = dir.path().join(quarter);
        let o = quarterly(&store, quarter, &out);
        assert!(o.status.success(), "{}", stderr(&o));
        let df = ParquetReader::new(std::fs::File::open(out.join("spc.parquet")).unwrap())
            .finish()
            .unwrap()
            .lazy()
            .filter(
                col("chart")
                    .eq(lit("deciding"))
                    .and(col("period").eq(lit(quarter))),
            )
            .collect()
            .unwrap();
        assert!(df.height() > 10, "{} deciding rows", df.height());
        let tests = ParquetReader::new(std::fs::File::open(out.join("tests.parquet")).unwrap())
            .finish()
            .unwrap()
            .lazy()
            .filter(
                col("test")
                    .eq(lit("spc"))
                    .and(col("comparator").eq(lit("peers"))),
            )
            .collect()
            .unwrap();
        let key = |df: &DataFrame, k: usize| {
            let s = |c: &str| {
                df.column(c)
                    .unwrap()
                    .str()
                    .unwrap()
                    .get(k)
                    .unwrap_or("")
                    .to_string()
            };
            (s("department_id"), s("indicator"))
        };
        let f = |df: &DataFrame, c: &str, k: usize| df.column(c).unwrap().f64().unwrap().get(k);
        let mut verdicts = HashMap::new();
        for k in 0..tests.height() {
            let sev = tests
                .column("severity")
                .unwrap()
                .str()
                .unwrap()
                .get(k)
                .map(String::from);
            verdicts.insert(key(&tests, k), (sev, f(&tests, "reference", k)));
        }
        for k in 0..df.height() {
            let (Some(v), Some(up), Some(centre)) =
                (f(&df, "value", k), f(&df, "upper", k), f(&df, "centre", k))
            else {
                continue;
            };
            let (sev, expected) = verdicts
                .get(&key(&df, k))
                .expect("a deciding test for every chart")
                .clone();
            let alarm = sev.as_deref() == Some("alarm");
            assert_eq!(
                v > up,
                alarm,
                "{:?}: rate {v}, alarm line {up}, severity {sev:?}",
                key(&df, k)
            );
            if let Some(e) = expected {
                assert!(
                    (centre - e).abs() <= 1e-9 * e.abs().max(1e-12),
                    "expected rate drawn {centre} vs quoted {e}"
                );
            }
            checked += 1;
            alarms += usize::from(alarm);
        }
    }
    assert!(
        checked > 20 && alarms >= 1,
        "{checked} charts checked, {alarms} alarms"
    );
}
