#![recursion_limit = "256"]
//! bomon-report: what the coordinator, the management and the boards see -
//! a self-contained HTML report (`report.html`), an XLSX workbook with the
//! assessment form (`review.xlsx`) and PNG/SVG briefing charts (`charts/`),
//! in Danish by default, with disclosure control - and the one publisher
//! ([`publish`]) that turns an engine run into every output file.
//!
//! Where it sits: after bomon-engine. `bomon review` computes a
//! `bomon_engine::Run`, hands it to [`publish`] (inside the atomic output
//! directory of `bomon_store::outpath`) and then records the run in the
//! store; `bomon chart` and `bomon peers --chart` draw through [`ondemand`].
//!
//! Disclosure control: a count from 1 up to the configured threshold minus
//! one (`max_suppressed_numerator`, default 4: counts below 5) is never
//! printed - it shows as "<5" - and neither is a rate whose numerator is
//! suppressed, in text, tables, workbook or chart. Departments under the
//! configured residents/households minimum are listed as too small to judge,
//! without figures.
//!
//! ```
//! use bomon_report::charts::{render, Chart, Format, Spec};
//!
//! // A briefing chart, drawn with the bundled font (no system fonts needed).
//! let chart = Chart {
//!     title: "Kategori - Søndervangen".into(),
//!     unit: String::new(),
//!     x_label: String::new(),
//!     legend: [String::new(), String::new(), String::new()],
//!     caption: bomon_report::spec::caption("bomon", true, true),
//!     danish: true,
//!     spec: Spec::Categories { history: vec![("2024".into(), "yellow".into()), ("2025".into(), "red".into())] },
//! };
//! let svg = String::from_utf8(render(&chart, Format::Svg).unwrap()).unwrap();
//! assert!(svg.contains("Søndervangen") && svg.contains("rød"));
//! assert!(svg.contains("SYNTETISKE DATA") && svg.contains(bomon_vocab::marking::SHORT_DA));
//! ```
#![deny(missing_docs)]

pub mod charts;
mod html;
pub mod ondemand;
pub mod pdf;
pub mod publish;
pub mod spec;
mod xlsx;

pub use publish::{publish, ReportInput};

use std::path::Path;

use rayon::prelude::*;

pub use spec::{department_charts, ChartFile};

/// The marking on every page, sheet and chart.
pub use bomon_vocab::marking::{INTERNAL_DA, INTERNAL_EN};

/// Words for a run: Danish or English.
pub(crate) fn tr(da: bool, d: &'static str, e: &'static str) -> &'static str {
    if da {
        d
    } else {
        e
    }
}

/// Disclosure rules of a run (defined once, in bomon-vocab).
pub use bomon_vocab::Disclosure;

/// Renders report.html, review.xlsx and charts/ into `dir`; returns the names
/// written. Charts render in parallel; `printer` prints report.pdf beside
/// the workbook.
pub fn render(
    input: &ReportInput<'_>,
    dir: &Path,
    printer: &pdf::Printer,
) -> Result<Vec<String>, String> {
    let disc = Disclosure {
        max_suppressed: input.config.max_suppressed_numerator,
    };
    // The departments that get a section: flagged ones, by rank, capped.
    let sections: Vec<usize> = input
        .triage
        .iter()
        .filter(|t| t.alarms + t.alerts > 0)
        .take(input.config.report_departments)
        .map(|t| t.dept)
        .collect();
    let specs: Vec<(usize, Vec<ChartFile>)> = sections
        .iter()
        .map(|&d| (d, department_charts(input, d, &disc)))
        .collect();
    let charts_dir = dir.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(|e| format!("{}: {e}", charts_dir.display()))?;
    // Render every chart as SVG and PNG, in parallel; keep the SVG for the page.
    let flat: Vec<&ChartFile> = specs.iter().flat_map(|(_, v)| v.iter()).collect();
    let svgs: Vec<String> = flat
        .par_iter()
        .map(|cf| -> Result<String, String> {
            let svg = charts::render(&cf.chart, charts::Format::Svg)?;
            let png = charts::render(&cf.chart, charts::Format::Png)?;
            let base = charts_dir.join(&cf.name);
            std::fs::write(base.with_extension("svg"), &svg)
                .and_then(|_| std::fs::write(base.with_extension("png"), &png))
                .map_err(|e| format!("{}: {e}", base.display()))?;
            String::from_utf8(svg).map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let mut k = 0;
    let inline: Vec<(usize, Vec<(ChartFile, String)>)> = specs
        .into_iter()
        .map(|(d, v)| {
            let out = v
                .into_iter()
                .map(|cf| {
                    let s = svgs[k].clone();
                    k += 1;
                    (cf, s)
                })
                .collect();
            (d, out)
        })
        .collect();
    std::fs::write(
        charts_dir.join("INTERNT-ARBEJDSREDSKAB.txt"),
        format!("{INTERNAL_DA}\n{INTERNAL_EN}\n"),
    )
    .map_err(|e| e.to_string())?;
    let page = html::page(input, &inline, &disc)?;
    std::fs::write(dir.join("report.html"), page).map_err(|e| format!("report.html: {e}"))?;
    let mut names: Vec<String> = vec!["report.html".into(), "review.xlsx".into(), "charts".into()];
    // report.pdf printed while the workbook is written; a failure to print
    // costs the PDF, never the review.
    let printed = std::thread::scope(|s| {
        let pdf = printer.unavailable().is_none().then(|| {
            s.spawn(|| {
                printer.print(
                    &dir.join("report.html"),
                    &dir.join("report.pdf"),
                    std::time::Duration::from_secs(120),
                )
            })
        });
        xlsx::workbook(input, &sections, &disc, &dir.join("review.xlsx"))?;
        Ok::<_, String>(pdf.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("the printer failed".into()))
        }))
    })?;
    match printed {
        Some(Ok(())) => names.push("report.pdf".into()),
        Some(Err(e)) => eprintln!("report.pdf not written: {e}"),
        None => {}
    }
    Ok(names)
}
