//! report.pdf: the HTML report printed by a headless Chromium, when one is
//! on the machine (`.ci/run` installs Debian's). The page's print CSS puts
//! the internal marking and "Side n af m" in every page's margin (CSS
//! `@page` margin boxes), and each department starts a page. No pure-Rust
//! engine lays out this HTML and its SVG charts as well; without Chromium
//! the HTML is written alone and the command says so once.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Chromium to print with: `BOMON_CHROMIUM` (a path; empty or `none`
/// turns PDF printing off), else the first of chromium, chromium-browser,
/// google-chrome on PATH.
pub fn chromium() -> Option<PathBuf> {
    if let Some(v) = std::env::var_os("BOMON_CHROMIUM") {
        let s = v.to_string_lossy();
        if s.is_empty() || s == "none" {
            return None;
        }
        let p = PathBuf::from(&v);
        return p.exists().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Prints `html` to `pdf` with `bin`, within `limit`; the error says why not.
pub fn print(bin: &Path, html: &Path, pdf: &Path, limit: Duration) -> Result<(), String> {
    let profile = std::env::temp_dir().join(format!(
        "bomon-chromium-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let html = std::fs::canonicalize(html).map_err(|e| format!("{}: {e}", html.display()))?;
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&profile);
            let _ = std::fs::remove_file(pdf);
            return Err(format!(
                "{} took longer than {} s",
                bin.display(),
                limit.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = std::fs::remove_dir_all(&profile);
    let ok = std::fs::metadata(pdf).is_ok_and(|m| m.len() > 1000);
    if status.success() && ok {
        Ok(())
    } else {
        let _ = std::fs::remove_file(pdf);
        Err(format!("{} printed no PDF ({status})", bin.display()))
    }
}
