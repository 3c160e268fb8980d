//! Measuring a whole `bomon` process: wall time and peak resident memory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Runs a command, returning wall seconds and peak RSS in MiB.
pub fn run_measured(cmd: &mut Command) -> (f64, f64) {
    let t = Instant::now();
    let child = cmd.spawn().expect("bomon starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 on our own child with a zeroed rusage out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(rc, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "bomon failed"
    );
    std::mem::forget(child);
    (secs, usage.ru_maxrss as f64 / 1024.0)
}

/// Writes `dir/departments.csv` (Danish dialect) with `n` synthetic
/// departments: ids `00000-000`, 40 per organisation, family dwellings in 751.
pub fn write_departments(dir: &Path, n: usize) -> PathBuf {
    let deps = dir.join("departments.csv");
    let mut s = String::from("department_id;name;organisation;municipality_code;area_id;housing_type;tenancies;construction_year\n");
    for d in 0..n {
        writeln!(
            s,
            "{:05}-{:03};Afdeling {d};Org {};751;;family;{};{}",
            d / 40,
            d % 40,
            d / 40,
            20 + d % 900,
            1940 + d % 80
        )
        .unwrap();
    }
    std::fs::write(&deps, s).unwrap();
    deps
}
