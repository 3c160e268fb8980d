//! Resource limits: a huge file, a header of absurd width, a line of 100 MB
//! and a cell claiming an absurd number are refused with a clear error,
//! before they exhaust memory.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output};

use super::common::*;

/// Runs bomon and returns its output and peak resident memory (MiB).
fn measured(cmd: &mut Command) -> (Output, f64) {
    use std::os::unix::process::ExitStatusExt;
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 on our own child with a zeroed rusage out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid);
    let mut stderr = Vec::new();
    let mut child = child;
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_end(&mut e, &mut stderr).unwrap();
    }
    std::mem::forget(child);
    (
        Output {
            status: std::process::ExitStatus::from_raw(status),
            stdout: vec![],
            stderr,
        },
        usage.ru_maxrss as f64 / 1024.0,
    )
}

/// The peak memory of a refused ingest of a tiny file: what the binary takes
/// to start (polars' pools, the catalogue) under the same load as the test -
/// the bounds below are "refused before reading" above this, not absolute.
fn baseline_rss(dir: &Path) -> f64 {
    let tiny = write(dir, "tiny.csv", "what,is,this\n1,2,3\n");
    let (o, rss) = measured(&mut ingest_cmd(&dir.join("baseline-store"), &tiny));
    assert!(!o.status.success());
    rss
}

fn ingest_cmd(store: &Path, file: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bomon"));
    c.args(["ingest", "--store"]).arg(store).arg(file);
    c
}

#[test]
fn absurd_inputs_are_refused_clearly_within_a_memory_bound() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");

    // A line of 100 MB.
    let big = dir.path().join("one-line.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        writeln!(f, "department_id,name,organisation,municipality_code,housing_type,tenancies,construction_year").unwrap();
        let chunk = vec![b'x'; 1 << 20];
        write!(f, "D1,").unwrap();
        for _ in 0..100 {
            f.write_all(&chunk).unwrap();
        }
        writeln!(f).unwrap();
    }
    let (o, rss) = measured(&mut ingest_cmd(&store, &big));
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains(
            "one-line.csv, line 2: a line of 102400 KiB: expected lines of at most 1024 KiB"
        ),
        "{e}"
    );
    assert!(rss < 600.0, "peak memory {rss:.0} MiB for a 100 MB file");

    // A file above the size limit (here set to 1 MiB) is refused before it is read.
    let (o, rss) = measured(ingest_cmd(&store, &big).env("BOMON_MAX_FILE_MB", "1"));
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("the file is 100 MiB, above the limit of 1 MiB"),
        "{e}"
    );
    let base = baseline_rss(dir.path());
    assert!(
        rss < base + 32.0,
        "refused before reading: {rss:.0} MiB (a tiny refused file: {base:.0} MiB)"
    );

    // A header of 20,000 columns.
    let wide = write(
        dir.path(),
        "wide.csv",
        &(0..20_000)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(","),
    );
    let o = ingest(&store, &[&wide]);
    assert!(!o.status.success());
    assert!(
        stderr(&o)
            .contains("wide.csv, line 1: the header has 20000 columns: expected at most 10000"),
        "{}",
        stderr(&o)
    );

    // A cell claiming an absurd number.
    let deps = write(
        dir.path(),
        "d.csv",
        "department_id,name,organisation,municipality_code,housing_type,tenancies,construction_year\nD1,A,Org,751,family,100,1970\n",
    );
    assert!(ingest(&store, &[&deps]).status.success());
    let obs = write(
        dir.path(),
        "o.csv",
        "department_id,period,indicator,numerator,denominator\nD1,2025,evictions,1000000000000000,400\n",
    );
    let o = ingest(&store, &[&obs]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(
            "o.csv, line 2, column 'numerator': implausibly large numerator 1000000000000000"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_workbook_that_unpacks_to_far_more_than_its_size_is_refused() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    // 64 MiB of one byte: a few dozen KiB packed (a zip bomb, in miniature).
    let bomb = dir.path().join("bomb.xlsx");
    {
        let f = std::fs::File::create(&bomb).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..64 {
            z.write_all(&chunk).unwrap();
        }
        z.finish().unwrap();
    }
    let packed = std::fs::metadata(&bomb).unwrap().len();
    assert!(packed < 1 << 20, "{packed}");
    let (o, rss) = measured(&mut ingest_cmd(&dir.path().join("s"), &bomb));
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("bomb.xlsx: entry xl/worksheets/sheet1.xml unpacks 64 MiB from"),
        "{e}"
    );
    assert!(e.contains("refused as a zip bomb"), "{e}");
    let base = baseline_rss(dir.path());
    assert!(
        rss < base + 32.0,
        "refused before inflating: {rss:.0} MiB (a tiny refused file: {base:.0} MiB)"
    );
}
