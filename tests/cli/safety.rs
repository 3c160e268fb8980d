//! No acknowledged write is ever lost, and no output destroys anything
//! (issue 18): concurrent writers, output directories and files, personal
//! data in notes, injection into CSV/XLSX/SVG outputs, formulas without
//! values, reverted corrections, query budgets and broken pipes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use super::common::*;

/// 31 departments, D000 of organisation "Egen" and 30 of "Andre", with five
/// years of figures: small enough that a review takes a fraction of a second.
fn small_store(dir: &Path) -> PathBuf {
    let mut deps = String::from("department_id,name,organisation,municipality_code,housing_type,tenancies,construction_year\n");
    let mut obs = String::from("department_id,period,indicator,numerator,denominator,value\n");
    for i in 0..31 {
        let org = if i == 0 { "Egen" } else { "Andre" };
        writeln!(
            deps,
            "D{i:03},Afdeling {i},{org},751,family,400,{}",
            1960 + i
        )
        .unwrap();
        for y in 2021..=2025 {
            let n = if i == 0 && y >= 2024 { 400 } else { 200 + i };
            writeln!(obs, "D{i:03},{y},outside_labour_18_64,{n},1000,").unwrap();
            writeln!(obs, "D{i:03},{y},residents,,,1000").unwrap();
            writeln!(obs, "D{i:03},{y},households,,,400").unwrap();
        }
    }
    let store = dir.join("store");
    let d = write(dir, "departments.csv", &deps);
    let o = write(dir, "observations.csv", &obs);
    let out = ingest(&store, &[&d, &o]);
    assert!(out.status.success(), "{}", stderr(&out));
    store
}

/// The binary as a plain process, for tests that spawn and kill it.
fn raw() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_bomon"));
    c.env("RUST_BACKTRACE", "0");
    c
}

/// An unrecorded annual review of "Egen" as a running child process.
fn spawn_review(store: &Path, year: &str, out: &Path, stderr: Stdio) -> std::process::Child {
    raw()
        .args([
            "review",
            "--annual",
            year,
            "--organisation",
            "Egen",
            "--no-record",
            "--store",
        ])
        .arg(store)
        .arg("--out")
        .arg(out)
        .stderr(stderr)
        .spawn()
        .unwrap()
}

fn run(args: &[&str], paths: &[(&str, &Path)]) -> Output {
    let mut c = bomon();
    c.args(args);
    for (flag, p) in paths {
        c.arg(flag).arg(p);
    }
    c.output().expect("bomon runs")
}

fn review(store: &Path, year: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["review", "--annual", year, "--organisation", "Egen"];
    args.extend_from_slice(extra);
    run(&args, &[("--store", store), ("--out", out)])
}

/// Every file under `dir` with its bytes, to show that nothing changed.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                m.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    m
}

fn verify(store: &Path) {
    let v = run(&["store", "verify"], &[("--store", store)]);
    assert!(v.status.success(), "store verify: {}", stderr(&v));
}

fn snapshot_written(o: &Output, marker: &str) -> Option<u32> {
    let e = stderr(o);
    let i = e.find(marker)? + marker.len();
    e[i..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// N parallel ingest loops, assessment imports and recorded reviews into
/// one store: every acknowledged snapshot is in the log, in order, with no
/// gap; every acknowledged row is readable; the store verifies.
#[test]
fn concurrent_writers_lose_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    // A recorded review, so that assessments can be imported against 2025.
    let o = review(&store, "2025", &dir.path().join("first"), &["--no-report"]);
    assert!(o.status.success(), "{}", stderr(&o));

    const INGESTERS: usize = 3;
    const INGESTS: usize = 6;
    const IMPORTERS: usize = 2;
    const IMPORTS: usize = 3;
    const REVIEWERS: usize = 2;
    const REVIEWS: usize = 2;
    let base = dir.path().to_path_buf();
    let mut handles = Vec::new();
    for t in 0..INGESTERS {
        let (store, base) = (store.clone(), base.clone());
        handles.push(std::thread::spawn(move || {
            let mut acked = Vec::new();
            for i in 0..INGESTS {
                let name = format!("one-{t}-{i}.csv");
                let f = write(
                    &base,
                    &name,
                    &format!(
                        "department_id,period,indicator,numerator,denominator,value\nD{t:03},{},residents,,,{}\n",
                        2000 + i,
                        5000 + 100 * t + i
                    ),
                );
                let o = ingest(&store, &[&f]);
                if let Some(id) = snapshot_written(&o, "snapshot ") {
                    acked.push(("ingest", id, name, t, i));
                } else {
                    panic!("ingest failed: {}", stderr(&o));
                }
            }
            acked
        }));
    }
    for t in 0..IMPORTERS {
        let (store, base) = (store.clone(), base.clone());
        handles.push(std::thread::spawn(move || {
            let mut acked = Vec::new();
            for i in 0..IMPORTS {
                let name = format!("form-{t}-{i}.csv");
                let f = write(
                    &base,
                    &name,
                    &format!(
                        "department_id,period,assessed_on,assessed_by_role,outcome,note\nD000,2025,2025-11-0{},koordinator,monitor,samtale {t}-{i}\n",
                        1 + i
                    ),
                );
                let o = import(&store, &f);
                match snapshot_written(&o, "as snapshot ") {
                    Some(id) => acked.push(("assess", id, name, t, i)),
                    None => panic!("import failed: {}", stderr(&o)),
                }
            }
            acked
        }));
    }
    for t in 0..REVIEWERS {
        let (store, base) = (store.clone(), base.clone());
        handles.push(std::thread::spawn(move || {
            let mut acked = Vec::new();
            for i in 0..REVIEWS {
                let out = base.join(format!("review-{t}-{i}"));
                let o = review(
                    &store,
                    if t == 0 { "2025" } else { "2024" },
                    &out,
                    &["--no-report"],
                );
                assert!(o.status.success(), "review failed: {}", stderr(&o));
                acked.push(("review", 0, String::new(), t, i));
            }
            acked
        }));
    }
    let acked: Vec<_> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("writer thread"))
        .collect();

    // The log: 1 ingest + 1 review before, then every acknowledged write.
    let log = query_csv(
        &store,
        "SELECT snapshot, inputs FROM snapshots ORDER BY snapshot",
    );
    let rows: Vec<(u32, String)> = log
        .lines()
        .skip(1)
        .map(|l| {
            let (id, inputs) = l.split_once(',').unwrap();
            (id.parse().unwrap(), inputs.to_string())
        })
        .collect();
    let expected = 2 + acked.len();
    assert_eq!(rows.len(), expected, "snapshots in the log: {log}");
    let ids: Vec<u32> = rows.iter().map(|r| r.0).collect();
    assert_eq!(
        ids,
        (1..=expected as u32).collect::<Vec<_>>(),
        "no gap, no repeat"
    );
    let acked_ids: BTreeSet<u32> = acked.iter().filter(|a| a.1 > 0).map(|a| a.1).collect();
    assert_eq!(
        acked_ids.len(),
        acked.iter().filter(|a| a.1 > 0).count(),
        "two writers acknowledged the same snapshot id"
    );
    for (kind, id, name, t, i) in &acked {
        if *kind == "ingest" {
            let inputs = &rows[*id as usize - 1].1;
            assert!(
                inputs.contains(name.as_str()),
                "snapshot {id} lists {inputs}, not {name}"
            );
            let v = query_csv(
                &store,
                &format!(
                    "SELECT value FROM observations WHERE department_id = 'D{t:03}' AND period = '{}' AND indicator = 'residents'",
                    2000 + i
                ),
            );
            assert_eq!(
                v,
                format!("value\n{}\n", 5000 + 100 * t + i),
                "row of {name}"
            );
        }
    }
    let notes = query_csv(
        &store,
        "SELECT count(*) AS n FROM assessments WHERE note LIKE 'samtale%'",
    );
    assert_eq!(notes, format!("n\n{}\n", IMPORTERS * IMPORTS));
    let reviews = query_csv(&store, "SELECT count(*) AS n FROM reviews_history");
    assert_eq!(reviews, format!("n\n{}\n", 1 + REVIEWERS * REVIEWS));
    verify(&store);
}

/// A review computes on the snapshot it read and records on top of what is
/// current when it records: an ingest committed meanwhile stays.
#[test]
fn ingest_during_a_review_survives_the_review_recording() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let out = dir.path().join("out");
    for round in 0..6 {
        let mut child = raw()
            .args([
                "review",
                "--annual",
                "2025",
                "--organisation",
                "Egen",
                "--store",
            ])
            .arg(&store)
            .arg("--out")
            .arg(&out)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(10 * round));
        let f = write(
            dir.path(),
            &format!("one-{round}.csv"),
            &format!(
                "department_id,period,indicator,value\nD001,{},residents,{}\n",
                1990 + round,
                700 + round
            ),
        );
        let o = ingest(&store, &[&f]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(child.wait().unwrap().success());
        let v = query_csv(
            &store,
            &format!(
                "SELECT value FROM observations WHERE period = '{}'",
                1990 + round
            ),
        );
        assert_eq!(v, format!("value\n{}\n", 700 + round), "round {round}");
    }
    verify(&store);
}

fn marker(out: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(out.join(".bomon-output.json")).expect("marker");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

/// `out` holds exactly one complete output: every file its marker lists,
/// nothing else, and every file of one review (the same period throughout).
fn assert_one_complete_output(out: &Path) -> String {
    let listed = marker(out);
    let present: BTreeSet<String> = tree(out)
        .keys()
        .map(|p| p.strip_prefix(out).unwrap().to_string_lossy().to_string())
        .filter(|p| p != ".bomon-output.json")
        .collect();
    assert_eq!(listed, present, "the marker lists exactly what is there");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let period = m["period"].as_str().unwrap().to_string();
    for f in m["files"].as_array().unwrap() {
        let f = f.as_str().unwrap();
        let dir_prefix = format!("{f}/");
        assert!(
            listed.contains(f) || listed.iter().any(|l| l.starts_with(&dir_prefix)),
            "{f} missing"
        );
    }
    use polars::prelude::SerReader;
    let tests = polars::prelude::ParquetReader::new(
        std::fs::File::open(out.join("tests.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let p = tests.column("period").unwrap().str().unwrap().clone();
    assert!(!p.is_empty());
    for v in p.into_iter() {
        assert_eq!(v, Some(period.as_str()), "tests.parquet of another review");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(&period) && html.trim_end().ends_with("</html>"));
    period
}

/// SIGKILL at random moments of reviews alternating between two years into
/// one --out: afterwards the directory always holds one complete output.
#[test]
fn killed_review_leaves_the_previous_or_the_new_output_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let out = dir.path().join("out");
    let t = Instant::now();
    let o = review(&store, "2024", &out, &["--no-record"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let full = t.elapsed();
    assert_eq!(assert_one_complete_output(&out), "2024");
    let mut seed = 0x9e37_79b9_u64 ^ u64::from(std::process::id());
    let mut periods = BTreeSet::new();
    for k in 0..16 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let frac = (seed >> 33) as f64 / (1u64 << 31) as f64;
        let year = if k % 2 == 0 { "2025" } else { "2024" };
        let mut child = spawn_review(&store, year, &out, Stdio::null());
        std::thread::sleep(full.mul_f64(0.3 + 0.9 * frac));
        let _ = child.kill();
        let _ = child.wait();
        periods.insert(assert_one_complete_output(&out));
    }
    // Finally an uninterrupted run publishes and clears what killed runs left.
    let o = review(&store, "2025", &out, &["--no-record"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(assert_one_complete_output(&out), "2025");
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".out.bomon-"))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
    eprintln!("periods seen after kills: {periods:?}");
}

/// Two reviews into one --out at the same time: one complete output wins.
#[test]
fn two_reviews_into_one_out_never_mix() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let out = dir.path().join("out");
    for _ in 0..3 {
        let spawn = |year: &str| spawn_review(&store, year, &out, Stdio::piped());
        let (a, b) = (spawn("2024"), spawn("2025"));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert!(
            a.status.success() && b.status.success(),
            "{} {}",
            stderr(&a),
            stderr(&b)
        );
        assert_one_complete_output(&out);
    }
}

/// Outputs inside the store, or containing it, are refused; the store is
/// unchanged and still verifies.
#[test]
fn outputs_inside_the_store_are_refused_and_the_store_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let before = tree(&store);
    let sub = store.join("data");
    let manifest = store.join("manifest.json");
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a Path)>);
    let cases: Vec<Case> = vec![
        (
            vec!["review", "--annual", "2025", "--no-record"],
            vec![("--store", &store), ("--out", &store)],
        ),
        (
            vec!["review", "--annual", "2025", "--no-record"],
            vec![("--store", &store), ("--out", &sub)],
        ),
        (
            vec!["review", "--annual", "2025", "--no-record"],
            vec![("--store", &store), ("--out", dir.path())],
        ),
        (
            vec!["categorize", "--period", "2025"],
            vec![("--store", &store), ("--out", &store)],
        ),
        (
            vec!["query", "SELECT 1 AS x"],
            vec![("--store", &store), ("--out", &manifest)],
        ),
        (
            vec![
                "chart",
                "trend",
                "--department",
                "D000",
                "--indicator",
                "outside_labour_18_64",
            ],
            vec![("--store", &store), ("--out", &manifest)],
        ),
        (
            vec!["show", "--department", "D000"],
            vec![("--store", &store), ("--out", &manifest)],
        ),
        (
            vec!["assess", "list"],
            vec![("--store", &store), ("--out", &manifest)],
        ),
    ];
    for (args, paths) in cases {
        let o = run(&args, &paths);
        assert!(!o.status.success(), "{args:?} was accepted");
        let e = stderr(&o);
        assert!(
            e.contains("inside the bomon store") || e.contains("lies inside it"),
            "{args:?}: {e}"
        );
        assert_eq!(e.lines().count(), 1, "one line: {e}");
    }
    assert_eq!(tree(&store), before, "the store changed");
    verify(&store);
}

/// A non-empty --out that bomon did not write is refused; with --force only
/// bomon's own file names are written and nothing else is touched.
#[test]
fn a_foreign_directory_is_refused_and_force_touches_only_bomon_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let out = dir.path().join("mine");
    std::fs::create_dir_all(out.join("charts/mywork")).unwrap();
    std::fs::write(out.join("charts/mywork/fig1.png"), b"my own figure").unwrap();
    std::fs::write(out.join("notes.txt"), b"my notes").unwrap();
    let before = tree(&out);
    let o = review(&store, "2025", &out, &["--no-record"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("files bomon did not write"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("notes.txt"), "{}", stderr(&o));
    assert_eq!(tree(&out), before, "refused, yet something changed");

    let o = review(&store, "2025", &out, &["--no-record", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(out.join("charts/mywork/fig1.png")).unwrap(),
        b"my own figure"
    );
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"my notes");
    assert!(out.join("report.html").is_file() && out.join("flags.csv").is_file());
    // A second forced run replaces bomon's files, still leaving the user's.
    let o = review(&store, "2024", &out, &["--no-record", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"my notes");

    // A copy of an input directory: its departments.csv is not replaced.
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    std::fs::copy(
        dir.path().join("departments.csv"),
        inputs.join("departments.csv"),
    )
    .unwrap();
    let before = tree(&inputs);
    let o = review(&store, "2025", &inputs, &["--no-record"]);
    assert!(!o.status.success());
    assert_eq!(tree(&inputs), before);
}

/// A previous output is replaced whole; --keep-previous keeps it beside.
#[test]
fn a_previous_output_is_replaced_whole_or_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let out = dir.path().join("out");
    assert!(review(&store, "2024", &out, &["--no-record"])
        .status
        .success());
    assert_eq!(assert_one_complete_output(&out), "2024");
    let o = review(&store, "2025", &out, &["--no-record", "--keep-previous"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(assert_one_complete_output(&out), "2025");
    assert_eq!(
        assert_one_complete_output(&dir.path().join("out.previous")),
        "2024"
    );
    // --out naming a file is refused.
    let f = write(dir.path(), "file.txt", "x");
    let o = review(&store, "2025", &f, &["--no-record"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is a file"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "x");
}

/// Single-file --out: written whole and owner-only; a symlink at the target
/// is replaced, never followed.
#[test]
fn file_outputs_do_not_follow_symlinks_and_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let victim = write(dir.path(), "victim.txt", "precious");
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.path().join("result.csv");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let o = run(
        &[
            "query",
            "--format",
            "csv",
            "SELECT department_id FROM departments LIMIT 2",
        ],
        &[("--store", &store), ("--out", &link)],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the link was replaced by the output"
    );
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&link)
        .unwrap()
        .starts_with("\u{feff}department_id\n"));
    // An existing 0644 file becomes an owner-only output.
    let plain = write(dir.path(), "plain.csv", "old");
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = run(
        &["show", "--department", "D000", "--format", "csv"],
        &[("--store", &store), ("--out", &plain)],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains(".bomon-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn import(store: &Path, form: &Path) -> Output {
    bomon()
        .args(["assess", "import", "--store"])
        .arg(store)
        .arg(form)
        .output()
        .unwrap()
}

/// Records a review of 2025, so that assessments can be imported against it.
fn reviewed(store: &Path, dir: &Path) {
    let o = review(store, "2025", &dir.join("r"), &["--no-report"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn form(dir: &Path, name: &str, note: &str) -> PathBuf {
    let mut w = csv::Writer::from_path(dir.join(name)).unwrap();
    w.write_record(bomon_store::assess::COLUMNS.map(|c| c.code))
        .unwrap();
    w.write_record(["D000", "2025", "2025-11-03", "koordinator", "monitor", note])
        .unwrap();
    w.flush().unwrap();
    dir.join(name)
}

/// The CPR battery of issue 18 through `bomon assess import`: every form is
/// refused, the error names file, line and column and does not echo the
/// number; notes with phone numbers, dates and amounts are accepted.
#[test]
fn notes_with_a_cpr_number_in_any_form_are_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    reviewed(&store, dir.path());
    let before = tree(&store);
    let battery = bomon_store::personal::REFUSED;
    for (k, cpr) in battery.iter().enumerate() {
        let f = form(
            dir.path(),
            &format!("cpr{k}.csv"),
            &format!("Beboer {cpr} har ringet"),
        );
        let o = import(&store, &f);
        assert!(!o.status.success(), "accepted: {cpr:?}");
        let e = stderr(&o);
        assert!(
            e.contains("line 2") && e.contains("column 'note'") && e.contains("CPR"),
            "{cpr:?}: {e}"
        );
        assert!(
            !e.contains("1234") && !e.contains(cpr),
            "the error echoes the number: {e}"
        );
    }
    assert_eq!(tree(&store), before, "a refused import changed the store");
    for (k, ok) in bomon_store::personal::ACCEPTED.iter().enumerate() {
        let f = form(dir.path(), &format!("ok{k}.csv"), ok);
        let o = import(&store, &f);
        assert!(o.status.success(), "refused {ok:?}: {}", stderr(&o));
    }
}

/// CSV outputs never carry a live formula: names and notes starting with
/// = + - @ get a leading apostrophe; numbers stay numbers.
#[test]
fn csv_outputs_neutralise_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let deps = write(
        dir.path(),
        "rename.csv",
        "department_id,name,organisation,municipality_code,housing_type,tenancies,construction_year\nD000,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",Egen,751,family,400,1960\nD001,=cmd|' /C calc'!A0,Andre,751,family,400,1961\n",
    );
    let o = ingest(&store, &[&deps]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("out");
    let o = review(&store, "2025", &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["departments.csv", "peers.csv"] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        for rec in r.records() {
            for cell in rec.unwrap().iter() {
                assert!(
                    !cell.starts_with('=') && !cell.starts_with('@') && !cell.starts_with('+'),
                    "{f}: live formula {cell:?}"
                );
                if cell.starts_with('-') {
                    assert!(cell.parse::<f64>().is_ok(), "{f}: {cell:?}");
                }
            }
        }
        // Each name is one cell, whole, neutralised: in the triage (the name
        // with quotes and a comma) and where the department is a peer.
        let (col, name) = if f == "departments.csv" {
            (2, "'=HYPERLINK(\"http://x\",\"y\")")
        } else {
            (3, "'=cmd|' /C calc'!A0")
        };
        let mut r = csv::Reader::from_reader(text.as_bytes());
        assert!(
            r.records().any(|x| x.unwrap().get(col) == Some(name)),
            "{f}: {text}"
        );
    }
    let q = query_csv(
        &store,
        "SELECT name FROM departments WHERE department_id = 'D001'",
    );
    assert_eq!(q, "name\n'=cmd|' /C calc'!A0\n");
    let num = query_csv(&store, "SELECT -3.5 AS x");
    assert_eq!(num, "x\n-3.5\n");
    let f = form(dir.path(), "f.csv", "@SUM(1+1)*cmd");
    let o = import(&store, &f);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(
        &["assess", "list", "--format", "csv"],
        &[("--store", &store)],
    );
    assert!(stdout(&o).contains("'@SUM(1+1)*cmd"), "{}", stdout(&o));
}

/// Ids and names with control characters, and ids above 64 characters,
/// are refused on ingest with file, line and column; nothing is stored.
#[test]
fn control_characters_and_overlong_ids_are_refused_on_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let before = tree(&store);
    let head = "department_id,name,organisation,municipality_code,housing_type,tenancies,construction_year\n";
    for (k, (row, col, what)) in [
        ("X1,Navn\u{0}NUL,Org,751,family,10,1970", "name", "U+0000"),
        ("X2,Navn\u{b}VT,Org,751,family,10,1970", "name", "U+000B"),
        (
            "X\u{1f}3,Navn,Org,751,family,10,1970",
            "department_id",
            "U+001F",
        ),
        ("X4,Navn\u{fffe},Org,751,family,10,1970", "name", "U+FFFE"),
        (
            "X5,Navn,Org\u{1b}[31m,751,family,10,1970",
            "organisation",
            "U+001B",
        ),
    ]
    .iter()
    .enumerate()
    {
        let f = write(dir.path(), &format!("c{k}.csv"), &format!("{head}{row}\n"));
        let o = ingest(&store, &[&f]);
        assert!(!o.status.success(), "accepted {row:?}");
        let e = stderr(&o);
        assert!(
            e.contains("line 2") && e.contains(&format!("column '{col}'")) && e.contains(what),
            "{e}"
        );
    }
    let long = "A".repeat(220);
    let f = write(
        dir.path(),
        "long.csv",
        &format!("{head}{long},Navn,Org,751,family,10,1970\n"),
    );
    let o = ingest(&store, &[&f]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("220 characters: expected at most 64"),
        "{}",
        stderr(&o)
    );
    assert_eq!(tree(&store), before);
    verify(&store);
}

/// Ids that sanitise to the same file name get distinct chart files.
#[test]
fn chart_file_names_are_unique_per_department() {
    let a = bomon_report::spec::file_stem("a/b");
    let b = bomon_report::spec::file_stem("a_b");
    let c = bomon_report::spec::file_stem("a b");
    assert_eq!(b, "a_b");
    assert_ne!(a, b);
    assert_ne!(a, c);
    assert!(a.starts_with("a_b-") && a.len() == "a_b-".len() + 8, "{a}");
}

/// v1 -> v2 -> v1 of the same file: the third ingest stores v1 again.
#[test]
fn a_reverted_correction_is_stored_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let v1 = "department_id,period,indicator,value\nD005,2025,residents,1111\n";
    let v2 = "department_id,period,indicator,value\nD005,2025,residents,2222\n";
    let f = dir.path().join("fix.csv");
    let value = || {
        query_csv(&store, "SELECT value FROM observations WHERE department_id = 'D005' AND period = '2025' AND indicator = 'residents'")
    };
    for (text, want) in [(v1, "1111"), (v2, "2222"), (v1, "1111")] {
        std::fs::write(&f, text).unwrap();
        let o = ingest(&store, &[&f]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains("snapshot"), "{}", stderr(&o));
        assert_eq!(value(), format!("value\n{want}\n"));
    }
    // Sending the current content again is still a no-op.
    let o = ingest(&store, &[&f]);
    assert!(stderr(&o).contains("nothing to do"), "{}", stderr(&o));
}

/// A rust_xlsxwriter workbook whose formula cells lose their cached value,
/// as a file written by a program that does not calculate would have.
fn workbook_with_uncached_formula(path: &Path, header: &[&str], row: &[&str], formula_col: u16) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in row.iter().enumerate() {
        if c as u16 == formula_col {
            ws.write_formula(1, c as u16, *v).unwrap();
        } else if let Ok(n) = v.parse::<f64>() {
            ws.write_number(1, c as u16, n).unwrap();
        } else {
            ws.write_string(1, c as u16, *v).unwrap();
        }
    }
    let bytes = wb.save_to_buffer().unwrap();
    // Rewrite the sheet without the <v> of formula cells.
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..zin.len() {
        let mut e = zin.by_index(i).unwrap();
        let name = e.name().unwrap().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        if name.starts_with("xl/worksheets/") {
            let s = String::from_utf8(data).unwrap();
            let mut t = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("</f><v>") {
                t.push_str(&rest[..i + 4]);
                let j = rest[i..].find("</v>").unwrap();
                rest = &rest[i + j + 4..];
            }
            t.push_str(rest);
            data = t.into_bytes();
        }
        zout.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zout, &data).unwrap();
    }
    zout.finish().unwrap();
}

/// A formula without a cached value is an error naming the cell - in an
/// ingest and in an assessment form - instead of a silent empty cell.
#[test]
fn formulas_without_a_value_are_errors_naming_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let before = tree(&store);
    let x = dir.path().join("obs.xlsx");
    workbook_with_uncached_formula(
        &x,
        &["department_id", "period", "indicator", "value"],
        &["D003", "2025", "residents", "=2*600"],
        3,
    );
    let o = ingest(&store, &[&x]);
    assert!(!o.status.success(), "accepted");
    let e = stderr(&o);
    assert!(
        e.contains("cell D2") && e.contains("formula without a calculated value"),
        "{e}"
    );
    assert!(e.contains("open and save the workbook"), "{e}");
    assert_eq!(tree(&store), before);

    reviewed(&store, dir.path());
    let f = dir.path().join("form.xlsx");
    workbook_with_uncached_formula(
        &f,
        &[
            "department_id",
            "period",
            "assessed_on",
            "assessed_by_role",
            "outcome",
            "note",
        ],
        &[
            "D000",
            "2025",
            "2025-11-03",
            "koordinator",
            "monitor",
            "=CONCAT(\"a\",\"b\")",
        ],
        5,
    );
    let o = import(&store, &f);
    assert!(!o.status.success(), "accepted");
    assert!(stderr(&o).contains("cell F2"), "{}", stderr(&o));
}

/// `query` refuses a result above its memory budget with how to narrow it;
/// the Parquet route still writes everything.
#[test]
fn query_results_above_the_budget_are_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let o = bomon()
        .env("BOMON_QUERY_MAX_MB", "0")
        .args(["query", "--store"])
        .arg(&store)
        .arg("SELECT * FROM observations")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("memory budget") && e.contains("LIMIT") && e.contains("--format parquet --out"),
        "{e}"
    );
    let pq = dir.path().join("all.parquet");
    let o = bomon()
        .env("BOMON_QUERY_MAX_MB", "0")
        .args(["query", "--format", "parquet", "--store"])
        .arg(&store)
        .arg("--out")
        .arg(&pq)
        .arg("SELECT * FROM observations")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(pq.is_file());
}

/// A closed pipe ends bomon quietly; escape sequences in notes reach the
/// terminal as visible text.
#[test]
fn broken_pipes_are_quiet_and_terminal_output_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let mut child = raw()
        .args(["store", "verify", "--store"])
        .arg(&store)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone, as with `| head -0`
    let o = child.wait_with_output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));

    reviewed(&store, dir.path());
    let f = form(dir.path(), "esc.csv", "rød \u{1b}[2J\u{1b}[31mskrift");
    let o = import(&store, &f);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["assess", "list"], &[("--store", &store)]);
    let s = stdout(&o);
    assert!(!s.contains('\u{1b}'), "raw escape sequence: {s:?}");
    assert!(s.contains("\\u{1b"), "{s}");
}

/// `bomon assess scrub` on a clean store changes nothing and says so.
#[test]
fn scrub_of_a_clean_store_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    reviewed(&store, dir.path());
    let f = form(dir.path(), "f.csv", "ring 12 34 56 78");
    let o = import(&store, &f);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = tree(&store);
    let o = run(&["assess", "scrub"], &[("--store", &store)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("unchanged"), "{}", stderr(&o));
    assert_eq!(tree(&store), before);
}

/// A self-join that would explode is stopped with a clear message at the
/// process cap (4 x BOMON_QUERY_MAX_MB, at least 256 MiB), not left to
/// exhaust the machine (12.7 GB before).
#[test]
fn an_exploding_join_is_stopped_at_the_memory_cap() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    // 465 rows x 465 rows x ... : a four-way self-join of 4e10 rows.
    let o = bomon()
        .env("BOMON_QUERY_MAX_MB", "64")
        .args(["query", "--format", "csv", "--store"])
        .arg(&store)
        .arg("SELECT count(*) AS n FROM observations a JOIN observations b ON a.year = b.year JOIN observations c ON b.year = c.year JOIN observations d ON c.year = d.year")
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", stdout(&o));
    let e = stderr(&o);
    assert!(
        e.contains("query stopped: it needed more than 256 MiB"),
        "{e}"
    );
}
