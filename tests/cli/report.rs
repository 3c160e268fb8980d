//! The reports of `bomon review` on the bundled synthetic sample, opened in a
//! real headless browser (Debian's chromium, which .ci/run installs), and
//! `bomon chart` on demand.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::*;

fn sample_store(dir: &Path) -> PathBuf {
    super::common::sample_store(
        dir,
        &[
            "departments.csv",
            "observations_annual.parquet",
            "observations_quarterly.parquet",
            "categories.csv",
        ],
    )
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Opens the page headless: the DOM after rendering, and a screenshot.
fn browse(page: &Path, shot: &Path) -> Option<String> {
    let bin = chromium()?;
    let profile = tempfile::tempdir().unwrap();
    let args = |c: &mut Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let url = format!("file://{}", page.display());
    let mut c = Command::new(&bin);
    args(&mut c);
    let o = c
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut c = Command::new(&bin);
    args(&mut c);
    let o = c.arg("--dump-dom").arg(&url).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

fn review(store: &Path, args: &[&str], out: &Path) {
    // Chromium's profile goes into TMPDIR: nothing of it may be left.
    let tmp = out.with_extension("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let o = bomon()
        // report.pdf too, where Chromium is installed.
        .env_remove("BOMON_CHROMIUM")
        .env("TMPDIR", &tmp)
        .arg("review")
        .args(args)
        .arg("--store")
        .arg(store)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}\n{}", stderr(&o));
}

/// A Chromium that cannot print costs the PDF, never the review: the
/// report is written and the command says why there is no PDF.
#[test]
fn a_broken_chromium_costs_the_pdf_not_the_review() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let fake = dir.path().join("chromium");
    std::fs::write(&fake, "#!/bin/sh\necho broken >&2\nexit 3\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = dir.path().join("out");
    let o = bomon()
        .env("BOMON_CHROMIUM", &fake)
        .args(["review", "--annual", "2025", "--organisation"])
        .arg("Boligforeningen Østjylland (syntetisk)")
        .arg("--store")
        .arg(&store)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("report.html").is_file());
    assert!(!out.join("report.pdf").exists());
    assert!(
        stderr(&o).contains("report.pdf not written"),
        "{}",
        stderr(&o)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert!(!m["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "report.pdf"));
}

#[test]
fn sample_reports_render_in_a_headless_browser() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let annual = dir.path().join("annual");
    review(
        &store,
        &[
            "--annual",
            "2025",
            "--organisation",
            "Boligforeningen Østjylland (syntetisk)",
        ],
        &annual,
    );
    let quarterly = dir.path().join("quarterly");
    review(&store, &["--quarterly", "2025Q3"], &quarterly);
    for out in [&annual, &quarterly] {
        for f in ["report.html", "review.xlsx", "charts", "manifest.json"] {
            assert!(out.join(f).exists(), "{}: {f}", out.display());
        }
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
                .unwrap();
        let files: Vec<&str> = m["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(files.contains(&"report.html") && files.contains(&"charts"));
        assert_eq!(files.last(), Some(&"manifest.json"));
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        assert!(html.contains("id=\"triage-table\""));
        assert!(html.contains("<svg"));
        assert!(html.contains("Internt arbejdsredskab - ikke til offentliggørelse"));
        assert!(
            html.contains("SYNTETISKE DATA"),
            "the sample says it is synthetic"
        );
        assert!(
            html.contains(m["config_sha256"].as_str().unwrap()),
            "manifest shown"
        );
        let charts: Vec<_> = std::fs::read_dir(out.join("charts"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(charts
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "png")));
        assert!(charts
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "svg")));
        // report.pdf: A4 pages, each carrying the marking and "Side n af m"
        // in its margin (Chromium prints the @page margin boxes as text).
        if chromium().is_some() {
            let pdf = std::fs::read(out.join("report.pdf")).expect("report.pdf");
            assert!(pdf.starts_with(b"%PDF"));
            let pages = pdf
                .windows(12)
                .filter(|w| w.starts_with(b"/Type /Page") && w[11] != b's')
                .count();
            assert!(pages >= 2, "{pages} pages");
            assert!(files.contains(&"report.pdf"));
        }
        // A screenshot and the rendered DOM, when the browser is installed
        // (.ci/run installs it; a developer machine may not have it).
        let shot = out.join("screenshot.png");
        match browse(&out.join("report.html"), &shot) {
            Some(dom) => {
                assert!(
                    dom.contains("triage-table"),
                    "triage table in the rendered page"
                );
                assert!(dom.contains("<svg"), "a chart in the rendered page");
                let png = std::fs::read(&shot).unwrap();
                assert!(
                    png.len() > 20_000 && png.starts_with(b"\x89PNG"),
                    "screenshot {} bytes",
                    png.len()
                );
            }
            None => {
                eprintln!("chromium not installed: browser check skipped (.ci/run installs it)")
            }
        }
    }
    // Review outputs are internal documents about residents: owner-only.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&annual), 0o700);
        assert_eq!(mode(&annual.join("charts")), 0o700);
        for f in ["report.html", "review.xlsx", "flags.csv", "manifest.json"] {
            assert_eq!(mode(&annual.join(f)), 0o600, "{f}");
        }
        let chart = std::fs::read_dir(annual.join("charts"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        assert_eq!(mode(&chart), 0o600);
    }
    let html = std::fs::read_to_string(annual.join("report.html")).unwrap();
    assert!(html.contains("Håndværkerparken") && html.contains("Rundhøj"));
    assert!(html.contains("<section class=\"dept\""));
    // Danish numbers: the triage scores (the sample's top two score 9) with a
    // decimal comma, like the rates.
    assert!(html.contains("<td class=\"num\">9,0</td>"));
    assert!(!html.contains("<td class=\"num\">9.0</td>"));
    let html = std::fs::read_to_string(quarterly.join("report.html")).unwrap();
    assert!(
        html.contains("Kvartalsopfølgning 3. kvt. 2025") && html.contains("Status i kvartalet")
    );
    // Each followed department's indicators are on the page: by which chart
    // judged, rare ones too (nothing is "too rare" any more).
    assert!(
        html.contains("Nøgletallene i kvartalet pr. afdeling")
            && html.contains("vurderet mod tvillingerne: ")
            && html.contains("Effektuerede udsættelser")
            && !html.contains("for sjælden")
    );
}

#[test]
fn charts_on_demand() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let run = |args: &[&str]| {
        bomon()
            .arg("chart")
            .args(args)
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap()
    };
    let svg = dir.path().join("trend.svg");
    let o = run(&[
        "trend",
        "--department",
        "9000-005",
        "--indicator",
        "move_out_rate",
        "--out",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("Søndervangen") && text.contains("ikke til offentliggørelse"));
    for (kind, extra) in [
        (
            "funnel",
            vec!["--indicator", "move_out_rate", "--period", "2025"],
        ),
        (
            "spc",
            vec!["--indicator", "move_out_rate", "--period", "2025Q3"],
        ),
        ("categories", vec![]),
    ] {
        let png = dir.path().join(format!("{kind}.png"));
        let mut a = vec![
            kind,
            "--department",
            "9000-005",
            "--out",
            png.to_str().unwrap(),
        ];
        a.extend(extra);
        let o = run(&a);
        assert!(o.status.success(), "{kind}: {}", stderr(&o));
        assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    }
    let o = run(&[
        "trend",
        "--department",
        "NOPE",
        "--indicator",
        "move_out_rate",
        "--out",
        "/dev/null",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown department \"NOPE\""),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "spc",
        "--department",
        "9000-005",
        "--indicator",
        "move_out_rate",
        "--period",
        "2025-3",
        "--out",
        "/dev/null",
    ]);
    assert!(
        stderr(&o).contains("expected a quarter such as 2025Q3"),
        "{}",
        stderr(&o)
    );
}

/// Every area `bomon categorize` puts on a national list or gives an early
/// warning, and that holds departments of the organisation reviewed, is in
/// the annual report's lists table with those departments - none is hidden
/// among "departments without flags".
#[test]
fn every_listed_or_warned_area_appears_in_the_annual_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let lists = dir.path().join("lists");
    let o = bomon()
        .args(["categorize", "--period", "2025", "--store"])
        .arg(&store)
        .arg("--out")
        .arg(&lists)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let annual = dir.path().join("annual");
    review(
        &store,
        &[
            "--annual",
            "2025",
            "--organisation",
            "Boligforeningen Østjylland (syntetisk)",
        ],
        &annual,
    );
    let html = std::fs::read_to_string(annual.join("report.html")).unwrap();
    let table = &html[html.find("id=\"lists-table\"").expect("a lists table")..];
    let table = &table[..table.find("</table>").unwrap()];
    // The organisation's departments: id -> name.
    let mut names = std::collections::HashMap::new();
    let mut r = csv::Reader::from_path(annual.join("departments.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (ci, cn) = (col("department_id"), col("name"));
    for rec in r.records() {
        let rec = rec.unwrap();
        names.insert(rec[ci].to_string(), rec[cn].to_string());
    }
    // Areas on a list (areas.csv) or with an early warning (criteria.csv).
    let mut wanted: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut r = csv::Reader::from_path(lists.join("areas.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let on: Vec<usize> = ["udsat", "parallelsamfund", "omdannelse", "forebyggelse"]
        .iter()
        .filter_map(|l| h.iter().position(|x| x == *l))
        .collect();
    assert!(!on.is_empty(), "list columns in {h:?}");
    let deps_col = h.iter().position(|x| x == "departments").unwrap();
    let mut deps_of = std::collections::HashMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let deps: Vec<String> = rec[deps_col]
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        deps_of.insert(rec[0].to_string(), deps.clone());
        if on.iter().any(|&k| &rec[k] == "true") {
            wanted.insert(rec[0].to_string(), deps);
        }
    }
    let mut r = csv::Reader::from_path(lists.join("criteria.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let ew = h.iter().position(|x| x == "early_warning").unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        if &rec[ew] == "true" {
            wanted.insert(rec[0].to_string(), deps_of[&rec[0]].clone());
        }
    }
    let mut shown = 0;
    for (area, deps) in &wanted {
        let ours: Vec<&String> = deps.iter().filter(|d| names.contains_key(*d)).collect();
        if ours.is_empty() {
            continue;
        }
        assert!(
            table.contains(&format!("<td>{area}</td>")),
            "area {area} missing from the report's lists"
        );
        for d in ours {
            assert!(
                table.contains(&format!("{} ({d})", names[d])),
                "department {d} of area {area} missing"
            );
        }
        shown += 1;
    }
    // The management page: every department of the organisation on one
    // table, positions in marks (never colour alone), the lists beside.
    let mgmt = &html[html.find("id=\"management\"").expect("a management page")..];
    let mgmt = &mgmt[..mgmt.find("</section>").unwrap()];
    for (id, name) in &names {
        assert!(
            mgmt.contains(&format!("<td>{name}")) || mgmt.contains(&format!("<b>{name}</b>")),
            "{id} {name} on the management page"
        );
    }
    assert!(
        mgmt.contains("T✗") && mgmt.contains("class=\"num worse2\""),
        "marks and colour together"
    );
    assert!(
        mgmt.contains("forebyggelse") && mgmt.contains("ny: omdannelse"),
        "lists and what changed"
    );
    assert!(
        html.contains("Tvillinger (") && html.contains("de 10 nærmeste"),
        "the twins of a flagged department"
    );
    // Not vacuous: the sample's organisation has areas on and near the lists
    // (751-A0537 is 1.1 percentage points from the udsat threshold).
    assert!(shown >= 3, "{shown} areas checked");
    assert!(table.contains("751-A0537") && table.contains("1,1 procentpoint fra tærsklen"));
}

/// review.xlsx for people: Danish words and categories, a share's change in
/// percentage points (before and now beside it), q as a percentage, the
/// twins' median and the national level beside each department's figures,
/// and counts as numbers.
#[test]
fn the_workbook_reads_as_danish_numbers_and_words() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let out = dir.path().join("annual");
    let o = bomon()
        .args([
            "review",
            "--annual",
            "2025",
            "--organisation",
            "Boligforeningen Østjylland (syntetisk)",
            "--no-record",
            "--store",
        ])
        .arg(&store)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mut wb: Xlsx<_> = open_workbook(out.join("review.xlsx")).unwrap();
    let triage = wb.worksheet_range("Prioritering").unwrap();
    let cat_col = triage
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .position(|c| *c == "kategori")
        .unwrap();
    let cats: Vec<String> = triage
        .rows()
        .skip(2)
        .map(|r| r[cat_col].to_string())
        .collect();
    assert!(
        cats.iter().any(|c| c == "rød") && !cats.iter().any(|c| c == "red"),
        "{cats:?}"
    );
    let flags = wb.worksheet_range("Markeringer").unwrap();
    let head: Vec<String> = flags
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = |n: &str| {
        head.iter()
            .position(|h| h == n)
            .unwrap_or_else(|| panic!("{n} in {head:?}"))
    };
    let (test, before, now, change, unit, q) = (
        col("test"),
        col("før"),
        col("nu"),
        col("ændring"),
        col("enhed for ændring"),
        col("q (falsk fund)"),
    );
    let mut developments = 0;
    for r in flags.rows().skip(2) {
        assert!(
            !["level", "development", "trend"].contains(&r[test].to_string().as_str()),
            "Danish test names"
        );
        if r[test] == "udvikling" && r[unit].to_string().starts_with("procentpoint") {
            let (Data::Float(b), Data::Float(n), Data::Float(c)) =
                (&r[before], &r[now], &r[change])
            else {
                panic!("numbers: {r:?}");
            };
            assert!(
                (c - (n - b)).abs() < 1e-6,
                "a share's change in percentage points: {b} -> {n} is {c}"
            );
            developments += 1;
        }
        assert!(
            matches!(r[q], Data::Float(_) | Data::Empty),
            "q is a number: {:?}",
            r[q]
        );
    }
    assert!(developments > 0);
    // Håndværkerparken's sheet: counts as numbers, the comparisons beside.
    let name = wb
        .sheet_names()
        .iter()
        .find(|n| n.starts_with("9000-002"))
        .cloned()
        .unwrap();
    let sheet = wb.worksheet_range(&name).unwrap();
    let head: Vec<String> = sheet
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert!(
        head.iter().any(|h| h.starts_with("tvillinger (median)"))
            && head.iter().any(|h| h.starts_with("landsplan")),
        "{head:?}"
    );
    let residents = sheet.rows().find(|r| r[0] == "Beboere").unwrap();
    assert!(
        matches!(residents[2], Data::Float(_)),
        "residents are a number: {:?}",
        residents[2]
    );
}
