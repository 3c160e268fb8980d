//! Crash safety: an ingest killed (SIGKILL) at any moment leaves the store
//! readable at exactly the previous snapshot or exactly the new one.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use super::common::*;

const DEPARTMENTS: usize = 1500;
const QUARTERLY: [&str; 6] = [
    "move_out_rate",
    "vacancy",
    "rent_arrears",
    "evictions",
    "complaints",
    "vandalism_burglary",
];

fn departments_csv(dir: &Path) -> std::path::PathBuf {
    let mut s = String::from("department_id,name,organisation,municipality_code,area_id,housing_type,tenancies,construction_year\n");
    for d in 0..DEPARTMENTS {
        writeln!(
            s,
            "D{d},Afdeling {d},Org,751,,family,{},1970",
            100 + d % 400
        )
        .unwrap();
    }
    write(dir, "departments.csv", &s)
}

/// Iteration `i`'s file: all quarters of year 1990 + i, so that its rows are
/// new (4 partitions, 4 x 6 x 1500 = 36,000 rows).
fn quarter_file(dir: &Path, i: usize) -> (std::path::PathBuf, usize) {
    let mut s = String::from("department_id,period,indicator,numerator,denominator\n");
    let mut n = 0;
    for q in 1..=4 {
        for d in 0..DEPARTMENTS {
            for ind in QUARTERLY {
                let den = 100 + d % 400;
                writeln!(s, "D{d},{}Q{q},{ind},{},{den}", 1990 + i, (d + q + i) % 17).unwrap();
                n += 1;
            }
        }
    }
    (write(dir, &format!("q{i}.csv"), &s), n)
}

/// (snapshots, observation rows, rows of year 1990 + i).
fn state(store: &Path, i: usize) -> (u64, u64, u64) {
    let one = |sql: &str| -> u64 {
        let out = query_csv(store, sql);
        out.lines().nth(1).expect("a row").parse().unwrap_or(0)
    };
    (
        one("SELECT count(*) AS n FROM snapshots"),
        one("SELECT count(*) AS n FROM observations"),
        one(&format!(
            "SELECT count(*) AS n FROM observations WHERE year = {}",
            1990 + i
        )),
    )
}

#[test]
fn killed_ingest_leaves_previous_or_new_snapshot_never_a_mixture() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let deps = departments_csv(dir.path());
    assert!(ingest(&store, &[&deps]).status.success());

    // Time one uninterrupted ingest to spread the kills over its whole run.
    let (f0, n0) = quarter_file(dir.path(), 0);
    let t = Instant::now();
    let out = ingest(&store, &[&f0]);
    assert!(out.status.success(), "{}", stderr(&out));
    let full = t.elapsed();
    assert_eq!(state(&store, 0), (2, n0 as u64, n0 as u64));

    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut killed_before, mut killed_after) = (0, 0);
    // The machine's speed varies (other tests run in parallel): if every kill
    // so far landed on the same side of the commit, the delays are rescaled.
    let mut scale = 1.0f64;
    for i in 1..=30 {
        if i % 6 == 0 {
            if killed_after == 0 {
                scale *= 2.0;
            } else if killed_before == 0 {
                scale *= 0.5;
            }
        }
        let (f, n) = quarter_file(dir.path(), i);
        let before = state(&store, i);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Kill anywhere from process start to 20 % past a normal run's end.
        let delay = full.mul_f64((seed % 1000) as f64 / 1000.0 * 1.2 * scale);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bomon"))
            .args(["ingest", "--quiet", "--store"])
            .arg(&store)
            .arg(&f)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().ok(); // SIGKILL on Unix; fails harmlessly if it already finished
        child.wait().unwrap();

        let after = state(&store, i);
        let unchanged = after == before;
        let committed = after == (before.0 + 1, before.1 + n as u64, n as u64);
        assert!(
            unchanged || committed,
            "iteration {i} (kill after {delay:?}): before {before:?}, after {after:?} - a mixture"
        );
        if unchanged {
            killed_before += 1;
        } else {
            killed_after += 1;
        }
        let verify = bomon()
            .args(["store", "verify", "--store"])
            .arg(&store)
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "iteration {i}: {}",
            stderr(&verify)
        );
    }
    // Both outcomes must have been exercised for the test to mean anything.
    assert!(
        killed_before > 0 && killed_after > 0,
        "before {killed_before}, after {killed_after}"
    );

    // A later ingest cleans what the killed ones left behind and works.
    let (f, n) = quarter_file(dir.path(), 40);
    let before = state(&store, 40);
    let out = ingest(&store, &[&f]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        state(&store, 40),
        (before.0 + 1, before.1 + n as u64, n as u64)
    );
    assert!(
        !store.join("tmp").exists(),
        "tmp/ is removed after a commit"
    );
}
