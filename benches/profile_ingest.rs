//! Ingest through an import profile against the canonical CSV ingest of the
//! same figures (issue 17): a BoSocData-style wide CSV of 1,000,000 cells
//! (Windows-1252, ';', decimal comma, thousands points, "43,5 %" in cells,
//! 1 % of the cells suppressed as "<5") read with the shipped `bosocdata`
//! profile, and the same observations as a canonical long CSV. Each is
//! ingested three times into a fresh store that holds the departments;
//! medians of wall time and peak RSS of the process.
//! Run with `cargo bench --bench profile_ingest`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;

mod measure;
use measure::run_measured;

/// 11,112 departments x 10 years = 111,120 rows of 9 columns (1.0 M cells).
const DEPARTMENTS: usize = 11_112;
const YEARS: std::ops::Range<i32> = 2015..2025;

fn thousands(n: usize) -> String {
    if n >= 1000 {
        format!("{}.{:03}", n / 1000, n % 1000)
    } else {
        n.to_string()
    }
}

fn write_inputs(
    dir: &Path,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
    usize,
    usize,
) {
    let deps = measure::write_departments(dir, DEPARTMENTS);
    let wide = dir.join("bosocdata.csv");
    let long = dir.join("canonical.csv");
    let mut w = String::from("Afdelingsnr.;Afdeling;År;Antal beboere;Beboere 18-64 år;Beboere uden for arbejdsmarkedet;Indkomst i pct. af regionen;Lejemål;Fraflyttede lejemål\r\n");
    let mut l = String::from("department_id;period;indicator;numerator;denominator;value\n");
    let (mut cells, mut obs) = (0, 0);
    for y in YEARS {
        for d in 0..DEPARTMENTS {
            let id = format!("{:05}-{:03}", d / 40, d % 40);
            let ten = 20 + d % 900;
            let res = ten * 2 + (d + y as usize) % 50;
            let base = res * 6 / 10;
            let pct10 = 150 + (d * 7 + y as usize) % 400; // 15,0 % .. 54,9 %
            let inc10 = 450 + (d * 3 + y as usize) % 600;
            let moved = (d + y as usize) % (ten / 5 + 1);
            let suppressed = (d + y as usize).is_multiple_of(100);
            writeln!(
                w,
                "{id};Afdeling {d};{y};{};{};{},{} %;{},{};{};{}\r",
                thousands(res),
                thousands(base),
                pct10 / 10,
                pct10 % 10,
                inc10 / 10,
                inc10 % 10,
                thousands(ten),
                if suppressed {
                    "<5".to_string()
                } else {
                    moved.to_string()
                }
            )
            .unwrap();
            cells += 9;
            writeln!(l, "{id};{y};residents;;;{res}").unwrap();
            writeln!(
                l,
                "{id};{y};outside_labour_18_64;{};{base};",
                pct10 as f64 / 1000.0 * base as f64
            )
            .unwrap();
            writeln!(l, "{id};{y};income_ratio_15_64;;;{}", inc10 as f64 / 1000.0).unwrap();
            obs += 3;
            if !suppressed {
                writeln!(l, "{id};{y};move_out_rate;{moved};{ten};").unwrap();
                obs += 1;
            }
        }
    }
    let (enc, _, _) = encoding_rs::WINDOWS_1252.encode(&w);
    std::fs::File::create(&wide)
        .unwrap()
        .write_all(&enc)
        .unwrap();
    std::fs::write(&long, l).unwrap();
    (deps, wide, long, cells, obs)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_bomon");
    let dir = tempfile::tempdir().unwrap();
    let (deps, wide, long, cells, obs) = write_inputs(dir.path());
    println!(
        "profile ingest benchmark: {cells} cells ({:.0} MiB) -> {obs} observations; canonical long CSV {:.0} MiB",
        std::fs::metadata(&wide).unwrap().len() as f64 / 1048576.0,
        std::fs::metadata(&long).unwrap().len() as f64 / 1048576.0
    );
    let mut medians = Vec::new();
    for (label, file, profile) in [
        ("canonical", &long, None),
        ("profile bosocdata", &wide, Some("bosocdata")),
    ] {
        let mut v = Vec::new();
        for run in 0..3 {
            let store = dir
                .path()
                .join(format!("{}-{run}", label.replace(' ', "-")));
            run_measured(
                Command::new(bin)
                    .args(["ingest", "--quiet", "--store"])
                    .arg(&store)
                    .arg(&deps),
            );
            let mut c = Command::new(bin);
            c.args(["ingest", "--quiet", "--store"]).arg(&store);
            if let Some(p) = profile {
                c.args(["--profile", p]);
            }
            let (secs, rss) = run_measured(c.arg(file));
            println!(
                "  {label} run {run}: {secs:.2} s, {:.0} k observations/s, peak RSS {rss:.0} MiB",
                obs as f64 / secs / 1e3
            );
            v.push((secs, rss));
        }
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (secs, rss) = v[1];
        println!(
            "ingest/{label}: median {secs:.2} s = {:.0} k observations/s ({:.0} k cells/s), peak RSS {rss:.0} MiB",
            obs as f64 / secs / 1e3,
            cells as f64 / secs / 1e3
        );
        medians.push(secs);
    }
    println!("profile / canonical speed: {:.2}", medians[0] / medians[1]);
}
