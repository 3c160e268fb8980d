//! `bomon generate` writes synthetic data that ingests cleanly.

use super::common::*;

#[test]
fn generated_data_ingests_cleanly_and_says_it_is_synthetic() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gen");
    let o = bomon()
        .args([
            "generate",
            "--departments",
            "200",
            "--years",
            "4",
            "--quarters",
            "8",
            "--seed",
            "5",
            "--sample-organisation",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("SYNTHETIC"));
    let store = dir.path().join("store");
    let files: Vec<std::path::PathBuf> = [
        "departments.csv",
        "observations_annual.parquet",
        "observations_quarterly.csv",
        "categories.csv",
    ]
    .iter()
    .map(|f| out.join(f))
    .collect();
    let refs: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    let r = ingest(&store, &refs);
    assert!(r.status.success(), "{}", stderr(&r));
    let resub = out.join("observations_quarterly_resubmitted.csv");
    if resub.exists() {
        let r = ingest(&store, &[&resub]);
        assert!(r.status.success(), "{}", stderr(&r));
    }
    assert_eq!(
        query_csv(&store, "SELECT count(*) AS n FROM department_covariates WHERE covariate = 'synthetic' AND value = 1"),
        format!("n\n{}\n", query_csv(&store, "SELECT count(*) AS n FROM departments").lines().nth(1).unwrap())
    );
    let named = query_csv(
        &store,
        "SELECT name FROM departments WHERE municipality_code = '751' AND name = 'Søndervangen'",
    );
    assert_eq!(named, "name\nSøndervangen\n");
}

#[test]
fn generate_rejects_impossible_shares() {
    let dir = tempfile::tempdir().unwrap();
    let o = bomon()
        .args(["generate", "--deteriorations", "1.5", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--deteriorations must be a share between 0 and 1"),
        "{}",
        stderr(&o)
    );
}
