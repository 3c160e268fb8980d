//! Measuring a whole `bomon` process: wall time and peak resident memory.

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
