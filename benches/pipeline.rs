//! End-to-end workloads of the real `bomon` binary, each run three times,
//! reporting the median wall time and the peak resident memory of the process
//! (from `wait4`'s rusage). Run with `cargo bench --bench pipeline`.
//!
//! 1. generate: `bomon generate --departments 8000 --years 12 --quarters 40`
//!    (national scale, CSV and Parquet).
//! 3. review: `bomon review --annual 2025` of the national data of (1)
//!    (8,000 departments, all catalogue indicators, 12 years), store to flags
//!    on disk.
//!    Then the same review with its report (report.html, review.xlsx and
//!    charts for the 200 highest-ranked flagged departments), the quarterly
//!    follow-up of the at-risk departments, and the bundled sample
//!    organisation's report.
//! 2. ingest: a long-format CSV of 3,000,000 observation rows (12,500
//!    departments x 40 quarters x 6 quarterly indicators), Danish dialect
//!    (`;`, decimal comma). `BOMON_BENCH_DEPTS` overrides the department count.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

mod measure;
use measure::run_measured;

const QUARTERLY: [&str; 6] = [
    "move_out_rate",
    "vacancy",
    "rent_arrears",
    "evictions",
    "complaints",
    "vandalism_burglary",
];

fn write_inputs(dir: &Path, departments: usize) -> (std::path::PathBuf, std::path::PathBuf, usize) {
    let deps = measure::write_departments(dir, departments);

    let obs = dir.join("observations.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&obs).unwrap());
    f.write_all(b"department_id;period;indicator;numerator;denominator;value\n")
        .unwrap();
    let mut rows = 0;
    let mut line = String::new();
    for year in 2015..2025 {
        for q in 1..=4 {
            for d in 0..departments {
                let ten = 20 + d % 900;
                for (i, ind) in QUARTERLY.iter().enumerate() {
                    line.clear();
                    let (num, den) = if *ind == "vacancy" {
                        (
                            format!("{},5", (d * 7 + q + i) % 300),
                            format!("{}", ten * 91),
                        )
                    } else {
                        (
                            format!("{}", (d + q * 3 + i) % (ten / 5 + 1)),
                            format!("{ten}"),
                        )
                    };
                    writeln!(
                        line,
                        "{:05}-{:03};{year}Q{q};{ind};{num};{den};",
                        d / 40,
                        d % 40
                    )
                    .unwrap();
                    f.write_all(line.as_bytes()).unwrap();
                    rows += 1;
                }
            }
        }
    }
    f.flush().unwrap();
    (deps, obs, rows)
}

/// Runs a workload three times; prints each run and the median (wall time,
/// peak RSS). `cmd(run)` gives the command and its output directory;
/// `note(out)` adds a word about the output.
fn three(
    label: &str,
    mut cmd: impl FnMut(usize) -> (Command, PathBuf),
    note: impl Fn(&Path) -> String,
) -> (f64, f64) {
    let mut v = Vec::new();
    for run in 0..3 {
        let (mut c, out) = cmd(run);
        let (secs, rss) = run_measured(&mut c);
        println!(
            "  {label} run {run}: {secs:.2} s, peak RSS {rss:.0} MiB{}",
            note(&out)
        );
        v.push((secs, rss));
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    println!(
        "{label}: median {:.2} s, peak RSS {:.0} MiB",
        v[1].0, v[1].1
    );
    v[1]
}

/// A Python with polars and numpy for the notebook-style script: the
/// interpreter named by BOMON_NOTEBOOK_PYTHON, the analysts' venv
/// (`scripts/run-notebooks.sh` makes it), or `python3` if it has both.
fn notebook_python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("BOMON_NOTEBOOK_PYTHON").map(PathBuf::from),
        Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/notebook-venv/bin/python"
        ))),
        Some(PathBuf::from("python3")),
    ];
    candidates.into_iter().flatten().find(|py| {
        Command::new(py)
            .args(["-c", "import polars, numpy"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Issue #21's side-by-side: `bomon review --annual 2025 --no-report` and
/// `benches/notebook_review.py` (the same annual review written as a
/// polars + numpy notebook, its method in its docstring) on the same
/// generated national data, run alternately five times each; medians of
/// wall time and peak memory, and the ratio.
fn side_by_side(bin: &str, g: &Path, g0: &Path, store: &Path) {
    let Some(py) = notebook_python() else {
        println!("side-by-side/annual-national: skipped - no Python with polars and numpy (scripts/run-notebooks.sh installs one into target/notebook-venv, or set BOMON_NOTEBOOK_PYTHON)");
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/notebook_review.py");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for run in 0..5 {
        let out = g.join(format!("side{run}"));
        ours.push(run_measured(&mut review_cmd(
            bin,
            store,
            &out,
            &["--no-report", "--annual", "2025"],
        )));
        theirs.push(run_measured(
            Command::new(&py)
                .arg(script)
                .arg(g0.join("departments.parquet"))
                .arg(g0.join("observations_annual.parquet"))
                .arg("2025")
                .arg(g.join(format!("notebook{run}")))
                .stdout(std::process::Stdio::null()),
        ));
    }
    let median = |v: &[(f64, f64)]| {
        let mut t: Vec<f64> = v.iter().map(|x| x.0).collect();
        let mut m: Vec<f64> = v.iter().map(|x| x.1).collect();
        t.sort_by(f64::total_cmp);
        m.sort_by(f64::total_cmp);
        (t[2], m[2])
    };
    let (a, b) = (median(&ours), median(&theirs));
    println!(
        "side-by-side/annual-national (5 alternating runs each, medians): bomon {:.2} s, {:.0} MiB; notebook (polars + numpy, {}) {:.2} s, {:.0} MiB; bomon is {:.1}x faster, {:.1}x leaner",
        a.0,
        a.1,
        py.display(),
        b.0,
        b.1,
        b.0 / a.0,
        b.1 / a.1
    );
}

fn chart_count(out: &Path) -> String {
    let n = std::fs::read_dir(out.join("charts"))
        .map(|d| d.count())
        .unwrap_or(0);
    let pdf = std::fs::metadata(out.join("report.pdf"))
        .map(|m| format!(", report.pdf {} KiB", m.len() / 1024))
        .unwrap_or_default();
    format!(", {n} chart files{pdf}")
}

/// A report workload twice: with report.pdf (when a Chromium is on the
/// machine) and with the HTML only (BOMON_CHROMIUM=none).
fn with_and_without_pdf(label: &str, cmd: impl Fn(usize, bool) -> (Command, PathBuf)) {
    for pdf in [true, false] {
        let label = if pdf {
            label.to_string()
        } else {
            format!("{label} (HTML, no PDF)")
        };
        if pdf && bomon_report::pdf::chromium().is_none() {
            println!("{label}: no Chromium here, skipped");
            continue;
        }
        three(
            &label,
            |run| {
                let (mut c, out) = cmd(run, pdf);
                if !pdf {
                    c.env("BOMON_CHROMIUM", "none");
                }
                (c, out)
            },
            chart_count,
        );
    }
}

fn review_cmd(bin: &str, store: &Path, out: &Path, args: &[&str]) -> Command {
    review_cmd_told(bin, store, out, args, "--quiet")
}

/// `bomon review ARGS` with `--quiet` or `--verbose` (`told`).
fn review_cmd_told(bin: &str, store: &Path, out: &Path, args: &[&str], told: &str) -> Command {
    let mut c = Command::new(bin);
    c.args(["review", told])
        .args(args)
        .arg("--store")
        .arg(store)
        .arg("--out")
        .arg(out);
    c
}

/// One more run of `bomon review ARGS` with --verbose (not timed with the
/// others): where its time goes, phase by phase, as bomon reports it.
fn phases(label: &str, bin: &str, store: &Path, out: &Path, args: &[&str]) {
    let o = review_cmd_told(bin, store, out, args, "--verbose")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    match err.lines().find(|l| l.starts_with("phases:")) {
        Some(l) => println!("{label} {l}"),
        None => println!("{label}: no phase line (exit {:?})", o.status.code()),
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing: skip then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_bomon");
    let gen_dir = tempfile::tempdir().unwrap();
    let g = gen_dir.path();
    three(
        "generate/8000x12x40",
        |run| {
            let out = g.join(format!("g{run}"));
            let mut c = Command::new(bin);
            c.args([
                "generate",
                "--quiet",
                "--departments",
                "8000",
                "--years",
                "12",
                "--quarters",
                "40",
                "--out",
            ])
            .arg(&out);
            (c, out)
        },
        |_| String::new(),
    );
    let g0 = g.join("g0");
    let store = g.join("store");
    run_measured(
        Command::new(bin)
            .args(["ingest", "--quiet", "--store"])
            .arg(&store)
            .arg(g0.join("departments.parquet"))
            .arg(g0.join("observations_annual.parquet"))
            .arg(g0.join("categories.parquet")),
    );
    three(
        "review/annual-national-8000x12 (no report)",
        |run| {
            let out = g.join(format!("review{run}"));
            (
                review_cmd(bin, &store, &out, &["--no-report", "--annual", "2025"]),
                out,
            )
        },
        |_| String::new(),
    );
    phases(
        "review/annual-national-8000x12 (no report, one more run)",
        bin,
        &store,
        &g.join("review-phases"),
        &["--no-report", "--annual", "2025"],
    );
    side_by_side(bin, g, &g0, &store);
    // The same review with its report: sections and charts for the 200
    // highest-ranked flagged departments (report_departments), rendered in parallel.
    // With report.pdf when a Chromium is on the machine, and without.
    with_and_without_pdf("review+report/annual-national-top200", |run, pdf| {
        let out = g.join(format!("report{run}{pdf}"));
        (review_cmd(bin, &store, &out, &["--annual", "2025"]), out)
    });

    // Quarterly follow-up: the store above plus the quarterly figures; the
    // at-risk departments (red/orange/yellow, or BOMON_BENCH_Q_CATEGORIES,
    // e.g. "red,orange") x all quarterly indicators x 40 quarters.
    run_measured(
        Command::new(bin)
            .args(["ingest", "--quiet", "--store"])
            .arg(&store)
            .arg(g0.join("observations_quarterly.parquet")),
    );
    let cats = std::env::var("BOMON_BENCH_Q_CATEGORIES").unwrap_or("red,orange,yellow".into());
    let qcfg = g.join("q.toml");
    let list: Vec<String> = cats.split(',').map(|c| format!("\"{c}\"")).collect();
    std::fs::write(
        &qcfg,
        format!("[quarterly]\ncategories = [{}]\n", list.join(", ")),
    )
    .unwrap();
    let q = qcfg.to_str().unwrap();
    three(
        "review/quarterly-at-risk-of-8000x40q (no report)",
        |run| {
            let out = g.join(format!("quarterly{run}"));
            (
                review_cmd(
                    bin,
                    &store,
                    &out,
                    &["--no-report", "--quarterly", "2025Q3", "--config", q],
                ),
                out,
            )
        },
        |out| {
            let m: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
                    .unwrap();
            format!(", {} departments", m["selected"])
        },
    );
    phases(
        "review/quarterly-at-risk-of-8000x40q (no report, one more run)",
        bin,
        &store,
        &g.join("quarterly-phases"),
        &["--no-report", "--quarterly", "2025Q3", "--config", q],
    );
    // Analysts: bomon peers and bomon show as whole processes on the national
    // store, a group-by over all observations, all of them, and their count.
    let st = store.to_str().unwrap();
    let q = Command::new(bin)
        .args([
            "query",
            "--store",
            st,
            "--format",
            "csv",
            "SELECT max(department_id) AS d FROM departments",
        ])
        .output()
        .unwrap();
    let dep = String::from_utf8(q.stdout)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let dep = dep.as_str();
    for (label, args) in [
        ("peers/national", vec!["peers", "--store", st, "--department", dep, "--indicator", "move_out_rate"]),
        ("show/national", vec!["show", "--store", st, "--department", dep]),
        (
            "query/group-by-all-observations",
            vec!["query", "--store", st, "--format", "csv", "SELECT indicator, count(*) AS n, avg(numerator / denominator) AS mean_rate FROM observations GROUP BY indicator"],
        ),
        // Every observation as CSV (stdout discarded): memory should follow
        // the result, not the store's history.
        (
            "query/select-all-observations (CSV)",
            vec!["query", "--store", st, "--format", "csv", "SELECT * FROM observations"],
        ),
        (
            "query/count-observations",
            vec!["query", "--store", st, "--format", "csv", "SELECT count(*) AS n FROM observations"],
        ),
    ] {
        three(
            label,
            |_| {
                let mut c = Command::new(bin);
                c.args(&args).stdout(std::process::Stdio::null());
                (c, g.to_path_buf())
            },
            |_| String::new(),
        );
    }
    drop(gen_dir);

    // The bundled sample organisation's report (about 50 departments, all charts).
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sample");
    let sdir = tempfile::tempdir().unwrap();
    let sstore = sdir.path().join("store");
    run_measured(
        Command::new(bin)
            .args(["ingest", "--quiet", "--store"])
            .arg(&sstore)
            .arg(sample.join("departments.csv"))
            .arg(sample.join("observations_annual.parquet"))
            .arg(sample.join("categories.csv")),
    );
    let org = "Boligforeningen Østjylland (syntetisk)";
    with_and_without_pdf("review+report/sample-organisation", |run, pdf| {
        let out = sdir.path().join(format!("r{run}{pdf}"));
        (
            review_cmd(
                bin,
                &sstore,
                &out,
                &["--annual", "2025", "--organisation", org],
            ),
            out,
        )
    });

    let departments: usize = std::env::var("BOMON_BENCH_DEPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12_500);
    let dir = tempfile::tempdir().unwrap();
    let (deps, obs, rows) = write_inputs(dir.path(), departments);
    let bytes = std::fs::metadata(&obs).unwrap().len();
    println!(
        "ingest benchmark: {rows} rows, {:.0} MiB CSV",
        bytes as f64 / 1048576.0
    );
    let mut results = Vec::new();
    for run in 0..3 {
        let store = dir.path().join(format!("store{run}"));
        let (_, _) = run_measured(
            Command::new(bin)
                .args(["ingest", "--quiet", "--store"])
                .arg(&store)
                .arg(&deps),
        );
        let (secs, rss) = run_measured(
            Command::new(bin)
                .args(["ingest", "--quiet", "--store"])
                .arg(&store)
                .arg(&obs),
        );
        println!(
            "  run {run}: {secs:.2} s, {:.2} M rows/s, peak RSS {rss:.0} MiB",
            rows as f64 / secs / 1e6
        );
        results.push((secs, rss));
    }
    results.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (secs, rss) = results[results.len() / 2];
    println!(
        "ingest/3M-rows: median {secs:.2} s = {:.2} M rows/s, peak RSS {rss:.0} MiB",
        rows as f64 / secs / 1e6
    );
}
