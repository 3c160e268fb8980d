//! Helpers shared by the end-to-end tests.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

/// The `bomon` binary under test.
pub fn bomon() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bomon"));
    c.env("RUST_BACKTRACE", "0");
    // No report.pdf (a second of Chromium per report) except in the tests
    // that ask for it (cli::report removes this).
    c.env("BOMON_CHROMIUM", "none");
    c
}

/// Runs `bomon ingest --store STORE FILES...` and returns its output.
pub fn ingest(store: &Path, files: &[&Path]) -> Output {
    let mut c = bomon();
    c.arg("ingest").arg("--store").arg(store);
    for f in files {
        c.arg(f);
    }
    c.output().expect("bomon runs")
}

/// Runs a query and returns its CSV output; panics when the query fails.
pub fn query_csv(store: &Path, sql: &str) -> String {
    let out = bomon()
        .args(["query", "--format", "csv", "--store"])
        .arg(store)
        .arg(sql)
        .output()
        .expect("bomon runs");
    assert!(
        out.status.success(),
        "query failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Standard error as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p
}

/// The departments of the fixtures: id, name (with Danish letters), area,
/// housing type, tenancies, construction year.
pub const DEPARTMENTS: [(&str, &str, &str, &str, i64, i32); 3] = [
    ("D1", "Håndværkerparken", "HP", "family", 380, 1970),
    ("D2", "Søndervangen", "SV", "family", 1250, 1968),
    ("D3", "Vejlby Vest Ældreboliger", "", "elderly", 96, 1985),
];

/// Observations of the fixtures: department, period, indicator, numerator,
/// denominator, value. Chosen to exercise decimals and thousands.
/// department, period, indicator, numerator, denominator, value.
pub type Obs = (
    &'static str,
    &'static str,
    &'static str,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

pub const OBSERVATIONS: [Obs; 7] = [
    ("D1", "2024", "residents", None, None, Some(1020.0)),
    ("D1", "2024", "move_out_rate", Some(42.0), Some(380.0), None),
    (
        "D2",
        "2024",
        "outside_labour_18_64",
        Some(210.5),
        Some(1480.0),
        None,
    ),
    (
        "D2",
        "2024",
        "income_ratio_15_64",
        Some(181234.5),
        Some(312400.0),
        None,
    ),
    (
        "D2",
        "2024Q3",
        "vacancy",
        Some(1234.5),
        Some(115000.0),
        None,
    ),
    ("D3", "2024Q3", "move_out_rate", Some(3.0), Some(96.0), None),
    ("D3", "2024Q4", "complaints", Some(0.0), Some(90.0), None),
];

/// The stored observations as `bomon query` prints them, for comparison.
pub const OBSERVATIONS_SQL: &str =
    "SELECT department_id, period, indicator, numerator, denominator, value \
     FROM observations ORDER BY department_id, period, indicator";

/// The stored departments as `bomon query` prints them.
pub const DEPARTMENTS_SQL: &str =
    "SELECT department_id, name, organisation, municipality_code, area_id, \
     housing_type, tenancies, construction_year FROM departments ORDER BY department_id";

/// The bundled synthetic sample directory.
pub fn sample_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sample")
}

/// A store under `dir` with the named files of the bundled sample ingested.
pub fn sample_store(dir: &Path, files: &[&str]) -> std::path::PathBuf {
    let s = sample_dir();
    let store = dir.join("store");
    let paths: Vec<std::path::PathBuf> = files.iter().map(|f| s.join(f)).collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let out = ingest(&store, &refs);
    assert!(out.status.success(), "{}", stderr(&out));
    store
}

/// The sample's departments, annual observations and categories.
pub const SAMPLE_ANNUAL: [&str; 3] = [
    "departments.csv",
    "observations_annual.parquet",
    "categories.csv",
];
