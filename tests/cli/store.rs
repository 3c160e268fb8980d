//! The store: snapshots, idempotent re-ingest, supersession with history,
//! pinned snapshots, integrity check.

use super::common::*;

const DEPS: &str = "department_id;name;organisation;municipality_code;area_id;housing_type;tenancies;construction_year\n\
    D1;Rundhøj;Org;751;RH;family;380;1970\n";

#[test]
fn reingesting_identical_content_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let d = write(dir.path(), "d.csv", DEPS);
    assert!(ingest(&store, &[&d]).status.success());
    let copy = write(dir.path(), "copy-of-d.csv", DEPS);
    let out = ingest(&store, &[&copy]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("already stored in snapshot 1"),
        "{}",
        stderr(&out)
    );
    let log = bomon()
        .args(["store", "log", "--format", "csv", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let log = String::from_utf8(log.stdout).unwrap();
    assert_eq!(log.lines().count(), 2, "one snapshot only: {log}");
}

#[test]
fn later_values_supersede_and_history_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let d = write(dir.path(), "d.csv", DEPS);
    let v1 = write(dir.path(), "v1.csv", "department_id;period;indicator;numerator;denominator\nD1;2024;move_out_rate;40;380\nD1;2023;move_out_rate;30;380\n");
    let v2 = write(
        dir.path(),
        "v2.csv",
        "department_id;period;indicator;numerator;denominator\nD1;2024;move_out_rate;41;380\n",
    );
    assert!(ingest(&store, &[&d, &v1]).status.success());
    assert!(ingest(&store, &[&v2]).status.success());
    assert_eq!(
        query_csv(
            &store,
            "SELECT period, numerator, snapshot FROM observations ORDER BY period"
        ),
        "period,numerator,snapshot\n2023,30,1\n2024,41,2\n"
    );
    assert_eq!(
        query_csv(&store, "SELECT period, numerator, snapshot FROM observations_history ORDER BY period, snapshot"),
        "period,numerator,snapshot\n2023,30,1\n2024,40,1\n2024,41,2\n"
    );
    let pinned = bomon()
        .args(["query", "--format", "csv", "--snapshot", "1", "--store"])
        .arg(&store)
        .arg("SELECT period, numerator FROM observations ORDER BY period")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(pinned.stdout).unwrap(),
        "period,numerator\n2023,30\n2024,40\n"
    );
    let missing = bomon()
        .args(["query", "--snapshot", "9", "--store"])
        .arg(&store)
        .arg("SELECT 1")
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("snapshot 9 does not exist"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn query_writes_json_and_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let d = write(dir.path(), "d.csv", DEPS);
    assert!(ingest(&store, &[&d]).status.success());
    let out = bomon()
        .args(["query", "--format", "json", "--store"])
        .arg(&store)
        .arg("SELECT department_id, name, tenancies FROM departments")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{"department_id": "D1", "name": "Rundhøj", "tenancies": 380}])
    );
    let pq = dir.path().join("out.parquet");
    let out = bomon()
        .args(["query", "--format", "parquet", "--out"])
        .arg(&pq)
        .arg("--store")
        .arg(&store)
        .arg("SELECT * FROM departments")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let df = polars::prelude::ParquetReader::new(std::fs::File::open(&pq).unwrap());
    use polars::prelude::SerReader;
    assert_eq!(df.finish().unwrap().height(), 1);
    let bad = bomon()
        .args(["query", "--store"])
        .arg(&store)
        .arg("SELECT nope FROM departments")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert_eq!(
        stderr(&bad).lines().count(),
        1,
        "one-line reason: {}",
        stderr(&bad)
    );
}

#[test]
fn count_star_returns_one_row() {
    // Guards the vendored polars-sql patch (vendor/polars-sql/BOMON-PATCH.md).
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let d = write(dir.path(), "d.csv", DEPS);
    let o = write(dir.path(), "o.csv", "department_id;period;indicator;numerator;denominator\nD1;2024;move_out_rate;40;380\nD1;2023;move_out_rate;30;380\n");
    assert!(ingest(&store, &[&d, &o]).status.success());
    assert_eq!(
        query_csv(&store, "SELECT count(*) AS n FROM observations"),
        "n\n2\n"
    );
    assert_eq!(
        query_csv(&store, "SELECT count(*) AS n FROM categories"),
        "n\n0\n"
    );
    assert_eq!(
        query_csv(
            &store,
            "SELECT count(*) AS n FROM observations WHERE year = 1900"
        ),
        "n\n0\n"
    );
}

#[test]
fn verify_detects_altered_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let d = write(dir.path(), "d.csv", DEPS);
    assert!(ingest(&store, &[&d]).status.success());
    let ok = bomon()
        .args(["store", "verify", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(ok.status.success());
    let file = walk(&store.join("data"))
        .into_iter()
        .next()
        .expect("a data file");
    let mut bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let bad = bomon()
        .args(["store", "verify", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("content differs from the manifest's checksum"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn commands_on_a_missing_store_say_how_to_create_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = bomon()
        .args(["query", "--store"])
        .arg(dir.path().join("none"))
        .arg("SELECT 1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a bomon store"),
        "{}",
        stderr(&out)
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn files_bomon_writes_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let d = write(dir.path(), "d.csv", DEPS);
    assert!(ingest(&store, &[&d]).status.success());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store), 0o700);
    assert_eq!(mode(&store.join("manifest.json")), 0o600);
    for f in walk(&store.join("data")) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
        assert_eq!(mode(f.parent().unwrap()), 0o700);
    }
    // Configured otherwise: the ordinary umask.
    let shared = dir.path().join("shared");
    let o = bomon()
        .env("BOMON_SHARED_FILES", "1")
        .args(["ingest", "--store"])
        .arg(&shared)
        .arg(&d)
        .output()
        .unwrap();
    assert!(o.status.success());
    let umask = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Umask:"))
                .and_then(|l| u32::from_str_radix(l[6..].trim(), 8).ok())
        })
        .unwrap_or(0o022);
    assert_eq!(mode(&shared.join("manifest.json")), 0o666 & !umask);
}

#[test]
fn ordinary_commands_refuse_an_altered_or_truncated_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let d = write(dir.path(), "d.csv", DEPS);
    assert!(ingest(&store, &[&d]).status.success());
    let query = || {
        bomon()
            .args(["query", "--store"])
            .arg(&store)
            .arg("SELECT count(*) FROM departments")
            .output()
            .unwrap()
    };
    assert!(query().status.success());
    let file = walk(&store.join("data"))
        .into_iter()
        .next()
        .expect("a data file");
    let original = std::fs::read(&file).unwrap();
    let manifest = std::fs::read(store.join("manifest.json")).unwrap();

    // Altered, same size: the query refuses, and so does an ingest (nothing changes).
    let mut bytes = original.clone();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let o = query();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("content differs from the checksum of snapshot 1"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("bomon store verify"), "{}", stderr(&o));
    let o = ingest(&store, &[&write(dir.path(), "d2.csv", DEPS)]);
    assert!(!o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(store.join("manifest.json")).unwrap(),
        manifest,
        "no changes"
    );

    // Truncated.
    std::fs::write(&file, &original[..n / 2]).unwrap();
    let o = query();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("(truncated or altered)"),
        "{}",
        stderr(&o)
    );

    // Restored: readable again.
    std::fs::write(&file, &original).unwrap();
    assert!(query().status.success(), "{}", stderr(&query()));
}

#[test]
fn a_store_of_a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let d = write(dir.path(), "d.csv", DEPS);
    assert!(ingest(&store, &[&d]).status.success());
    let m = store.join("manifest.json");
    let text = std::fs::read_to_string(&m).unwrap();
    let current = format!("\"format_version\": {}", bomon_store::store::FORMAT_VERSION);
    let newer = text.replacen(&current, "\"format_version\": 99", 1);
    assert_ne!(text, newer, "the manifest names its format version");
    std::fs::write(&m, &newer).unwrap();
    for args in [vec!["store", "log"], vec!["query", "SELECT 1"]] {
        let o = bomon()
            .args(&args)
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        assert!(!o.status.success());
        assert!(
            stderr(&o).contains("written by a newer bomon (store format 99"),
            "{}",
            stderr(&o)
        );
    }
    let o = ingest(&store, &[&d]);
    assert!(!o.status.success());
    assert_eq!(
        std::fs::read_to_string(&m).unwrap(),
        newer,
        "nothing changed"
    );
}
