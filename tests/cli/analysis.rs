//! The analysts' verbs on plain files: funnel, spc, trend.

use super::common::*;

fn run(args: &[&str], file: &std::path::Path) -> (bool, String, String) {
    let out = bomon().args(args).arg(file).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr(&out),
    )
}

#[test]
fn funnel_writes_one_row_per_unit_with_limits_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "f.csv",
        "unit;numerator;denominator\nA;12;100\nB;30;300\nC;45;400\nD;8;120\nE;60;250\n",
    );
    let (ok, out, err) = run(
        &["funnel", "--overdispersion", "none", "--format", "json"],
        &f,
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 5);
    // Target = 155 / 1170 = 13.2 %; E (60 of 250 = 24 %) lies above the 99.8 % limit
    // (normal approximation: 0.132 + 3.09 * sqrt(0.132 * 0.868 / 250) = 0.198).
    assert!((rows[0]["target"].as_f64().unwrap() - 155.0 / 1170.0).abs() < 1e-12);
    assert_eq!(rows[4]["flag"], "alarm");
    assert!(rows[4]["upper998"].as_f64().unwrap() < 0.24);
    assert_eq!(
        rows[3]["flag"],
        serde_json::Value::Null,
        "lower is better: never flagged"
    );
    assert!(err.contains("phi"), "summary on stderr: {err}");
    // Impossible counts are refused, each named by line and column.
    let bad = write(
        dir.path(),
        "bad.csv",
        "unit;numerator;denominator\nA;-1;10\nB;3;2\nC;2;-5\n",
    );
    let (ok, _, err) = run(&["funnel"], &bad);
    assert!(!ok);
    for line in [
        "bad.csv, line 2, column 'numerator': expected a count of at least 0, found -1",
        "bad.csv, line 3, column 'numerator': expected at most the denominator (2) for a proportion, found 3",
        "bad.csv, line 4, column 'denominator': expected a denominator of at least 0, found -5",
    ] {
        assert!(err.contains(line), "{err}");
    }
    // A share to trim outside [0, 0.5) is refused with what was expected.
    let (ok, _, err) = run(&["funnel", "--winsorise=0.6"], &f);
    assert!(!ok);
    assert!(
        err.contains("--winsorise: expected the share of each tail") && err.contains("0.6"),
        "{err}"
    );
}

#[test]
fn spc_reproduces_nhsrplotthedots_limits_from_a_danish_csv() {
    // R set.seed(123); rnorm(20) as in NHSRplotthedots' tests; decimal commas.
    let vals = [
        "-0,56047565",
        "-0,23017749",
        "1,55870831",
        "0,07050839",
        "0,12928774",
        "1,71506499",
        "0,46091621",
        "-1,26506123",
        "-0,68685285",
        "-0,44566197",
        "1,22408180",
        "0,35981383",
        "0,40077145",
        "0,11068272",
        "-0,55584113",
        "1,78691314",
        "0,49785048",
        "-1,96661716",
        "0,70135590",
        "-0,47279141",
    ];
    let mut body = String::from("period;value\n");
    for (i, v) in vals.iter().enumerate() {
        body.push_str(&format!("{}Q{};{v}\n", 2020 + i / 4, i % 4 + 1));
    }
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.csv", &body);
    let (ok, out, err) = run(&["spc", "--rules", "nhs"], &f);
    assert!(ok, "{err}");
    let first: Vec<&str> = out.lines().nth(1).unwrap().split(',').collect();
    let (centre, lower, upper): (f64, f64, f64) = (
        first[3].parse().unwrap(),
        first[4].parse().unwrap(),
        first[5].parse().unwrap(),
    );
    assert!(
        (centre - 0.142).abs() < 5e-4 && (lower + 3.01).abs() < 5e-3 && (upper - 3.29).abs() < 5e-3,
        "{first:?}"
    );
    assert_eq!(out.lines().count(), 21);
}

#[test]
fn spc_refuses_a_period_given_twice() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "s.csv",
        "period,value\n2024Q1,1\n2024Q2,2\n2024Q1,3\n",
    );
    let (ok, _, err) = run(&["spc"], &f);
    assert!(!ok);
    assert!(
        err.contains("s.csv, line 4, column 'period': expected one value per period in the series, found 2024Q1 again (first on line 2)"),
        "{err}"
    );
}

#[test]
fn spc_refuses_impossible_counts() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "p.csv",
        "period;numerator;denominator\n2020Q1;5;10\n2020Q2;12;10\n2020Q3;-1;10\n2020Q4;3;-2\n",
    );
    let (ok, _, err) = run(&["spc", "--chart", "p"], &f);
    assert!(!ok);
    for line in [
        "p.csv, line 3, column 'numerator': expected at most the denominator (10) for a proportion, found 12",
        "p.csv, line 4, column 'numerator': expected a count of at least 0, found -1",
        "p.csv, line 5, column 'denominator': expected a denominator of at least 0, found -2",
    ] {
        assert!(err.contains(line), "{err}");
    }
    // A rate (u chart) may exceed 1 per unit of denominator.
    let (ok, _, err) = run(&["spc", "--chart", "u"], &f);
    assert!(!ok, "the negative counts still fail");
    assert!(!err.contains("for a proportion"), "{err}");
}

#[test]
fn trend_matches_pymannkendall_per_series() {
    // pymannkendall 1.4.3 original_test on the x series: s = 90, Tau = 0.75,
    // slope = 0.8516483516483516, intercept = 12.112637362637363.
    let xs = [
        12, 15, 11, 18, 14, 17, 16, 21, 19, 18, 22, 20, 24, 23, 23, 26,
    ];
    let mut body = String::from("series,period,value\n");
    for (i, v) in xs.iter().enumerate().rev() {
        body.push_str(&format!("x,{}Q{},{v}\n", 2020 + i / 4, i % 4 + 1));
    }
    body.push_str("y,2020,3\ny,2021,2\ny,2022,1\n");
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "t.csv", &body);
    let (ok, out, err) = run(&["trend", "--format", "json"], &f);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let x = &v[0];
    assert_eq!(x["series"], "x");
    assert_eq!(x["s"].as_f64(), Some(90.0));
    assert!((x["tau"].as_f64().unwrap() - 0.75).abs() < 1e-12);
    assert!((x["sen_slope"].as_f64().unwrap() - 0.8516483516483516).abs() < 1e-12);
    assert!((x["intercept"].as_f64().unwrap() - 12.112637362637363).abs() < 1e-9);
    assert_eq!(v[1]["s"].as_f64(), Some(-3.0));
}

#[test]
fn analysis_verbs_name_file_line_and_column_of_bad_cells() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "f.csv",
        "unit;numerator;denominator\nA;12;100\nB;tolv;300\n",
    );
    let (ok, _, err) = run(&["funnel"], &f);
    assert!(!ok);
    assert!(
        err.contains("f.csv, line 3, column 'numerator': expected a number, found \"tolv\""),
        "{err}"
    );
    let g = write(
        dir.path(),
        "g.csv",
        "enhed;numerator;denominator\nA;12;100\n",
    );
    let (ok, _, err) = run(&["funnel"], &g);
    assert!(!ok);
    assert!(err.contains("missing required column 'unit'"), "{err}");
}

/// Observed and expected length of stay per provider in FunnelPlotR's `medpar`
/// example (expected from the README's Poisson GLM, rounded to 2 decimals as
/// FunnelPlotR does for SHMI), as a Danish CSV (semicolons, decimal commas).
fn medpar_csv(dir: &std::path::Path) -> std::path::PathBuf {
    let text = include_str!("../../crates/bomon-stats/tests/data/medpar.csv");
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut prov = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        prov.push(f[0] as u32);
        y.push(f[1]);
        x.push(vec![
            1.0,
            f[2],
            f[3],
            f[4],
            f64::from(u8::from(f[5] == 2.0)),
            f64::from(u8::from(f[5] == 3.0)),
        ]);
    }
    let fit = bomon_stats::glm::poisson(&x, &y).unwrap();
    let mut agg: std::collections::BTreeMap<u32, (f64, f64)> = Default::default();
    for i in 0..y.len() {
        let e = agg.entry(prov[i]).or_default();
        e.0 += y[i];
        e.1 += fit.fitted[i];
    }
    let mut body = String::from("unit;numerator;denominator\n");
    for (p, (o, e)) in agg {
        body.push_str(&format!(
            "0{p};{o};{}\n",
            format!("{e:.2}").replace('.', ",")
        ));
    }
    write(dir, "medpar.csv", &body)
}

#[test]
fn funnel_cli_reproduces_funnelplotr_medpar_outliers() {
    let dir = tempfile::tempdir().unwrap();
    let f = medpar_csv(dir.path());
    let outliers = |out: &str| -> usize {
        let v: serde_json::Value = serde_json::from_str(out).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                let val = r["value"].as_f64().unwrap();
                val < r["lower998"].as_f64().unwrap() || val > r["upper998"].as_f64().unwrap()
            })
            .count()
    };
    // FunnelPlotR README: unadjusted 99.8 % Poisson limits -> 25 of 54 outliers.
    let (ok, out, err) = run(
        &[
            "funnel",
            "--type",
            "ratio-log",
            "--overdispersion",
            "none",
            "--limits",
            "garwood",
            "--format",
            "json",
        ],
        &f,
    );
    assert!(ok, "{err}");
    assert_eq!(outliers(&out), 25);
    assert!(err.contains("54 units"), "{err}");
    // FunnelPlotR README: sr_method = "SHMI" (log scale, 10 % truncation, additive
    // tau^2) -> 9 of 54 outliers. phi/tau^2 as recomputed with numpy (not published).
    let (ok, out, err) = run(
        &[
            "funnel",
            "--type",
            "ratio-log",
            "--overdispersion",
            "additive",
            "--trim",
            "truncate",
            "--format",
            "json",
        ],
        &f,
    );
    assert!(ok, "{err}");
    assert_eq!(outliers(&out), 9);
    assert!(
        err.contains("phi 8.5329") && err.contains("tau2 0.028410"),
        "{err}"
    );
}
