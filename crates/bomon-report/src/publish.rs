//! The publisher: a finished run ([`bomon_engine::Run`]) becomes every
//! output file - flags.csv/.parquet, tests.parquet, departments.csv,
//! peers.csv, the run's extras (selection.csv, spc.parquet), manifest.json
//! and, with the report, report.html, review.xlsx and charts/ - inside the
//! (staging) output directory. The caller swaps that directory in whole
//! ([`bomon_store::outpath::stage_dir`]), so a failed or killed run leaves
//! the previous output as it was.

use std::fs;
use std::path::{Path, PathBuf};

use bomon_store::Catalogue;
use polars::prelude::*;

use bomon_engine::data::Panel;
use bomon_engine::peers::covariate;
use bomon_engine::review::Review;
use bomon_engine::triage::Triage;
use bomon_engine::{Error, Run, INTERNAL_DA};

fn perr(context: impl Into<String>) -> impl FnOnce(PolarsError) -> Error {
    let context = context.into();
    move |source| Error::Polars { context, source }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

fn write_csv(path: &Path, df: &DataFrame) -> Result<(), Error> {
    let mut file = std::fs::File::create(path).map_err(io(path))?;
    std::io::Write::write_all(&mut file, bomon_store::outpath::CSV_BOM).map_err(io(path))?;
    let mut w = csv::Writer::from_writer(file);
    let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
    w.write_record(&names)
        .map_err(|e| Error::Input(e.to_string()))?;
    let cols = df.get_columns();
    for i in 0..df.height() {
        let rec: Vec<String> = cols
            .iter()
            .map(|c| match c.get(i) {
                Ok(AnyValue::Null) | Err(_) => String::new(),
                Ok(AnyValue::String(s)) => bomon_store::outpath::csv_cell(s).into_owned(),
                Ok(AnyValue::StringOwned(s)) => bomon_store::outpath::csv_cell(&s).into_owned(),
                Ok(AnyValue::Float64(f)) => {
                    if f.is_finite() {
                        format!("{f}")
                    } else {
                        String::new()
                    }
                }
                Ok(v) => v.to_string(),
            })
            .collect();
        w.write_record(&rec)
            .map_err(|e| Error::Input(e.to_string()))?;
    }
    w.flush().map_err(io(path))
}

fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), Error> {
    let f = fs::File::create(path).map_err(io(path))?;
    ParquetWriter::new(f)
        .with_compression(ParquetCompression::Zstd(Some(
            ZstdLevel::try_new(1).expect("zstd level 1"),
        )))
        .finish(df)
        .map_err(perr(format!("writing {}", path.display())))?;
    Ok(())
}

/// What a report renderer gets: everything the run computed, in memory.
pub struct ReportInput<'a> {
    /// The review (findings, scope, peers).
    pub review: &'a Review,
    /// Triage, ranked.
    pub triage: &'a [Triage],
    /// The panel: annual (years) or quarterly (quarter indices).
    pub panel: &'a Panel,
    /// The catalogue.
    pub catalogue: &'a Catalogue,
    /// The run's manifest (as written to manifest.json).
    pub manifest: &'a serde_json::Value,
    /// The configuration used.
    pub config: &'a bomon_engine::ReviewConfig,
    /// Danish (true) or English.
    pub danish: bool,
    /// The quarterly follow-up's selection, status and charts.
    pub quarterly: Option<&'a bomon_engine::quarterly::Quarterly>,
    /// Category history per department index: (period, category), oldest first.
    pub category_history: &'a std::collections::HashMap<usize, Vec<(String, String)>>,
    /// Earlier assessments per department index, oldest first.
    pub assessments:
        &'a std::collections::HashMap<usize, Vec<bomon_engine::assessments::Assessment>>,
    /// The log: assessments done, prompts open, open ones overdue.
    pub log_counts: (usize, usize, usize),
    /// The national lists and municipal categories of the year (annual), or
    /// why they are missing.
    pub lists: Option<&'a Result<bomon_rules::run::Categorisation, String>>,
}

/// Writes every output of `run` into `out` (a staging directory), the
/// report too when a `report` printer is given (it prints report.pdf, or
/// says why not); returns the files written.
pub fn publish(
    run: &Run,
    catalogue: &Catalogue,
    out: &Path,
    report: Option<&crate::pdf::Printer>,
) -> Result<Vec<PathBuf>, Error> {
    fs::create_dir_all(out).map_err(io(out))?;
    // tests.parquet (every test: half a million rows nationally, the
    // longest to build and write) on this thread; peers.csv (the largest
    // file), the flags and the triage one after the other on a second; the
    // run's extras (a quarterly run's spc.parquet: a million chart points)
    // on a third.
    std::thread::scope(|s| {
        let side = s.spawn(|| {
            write_peers(run, out)
                .and_then(|_| write_flags(run, catalogue, out))
                .and_then(|_| write_departments(run, out))
        });
        let extras = s.spawn(|| write_extras(run, out));
        let tests = write_tests(run, catalogue, out);
        let joined = |h: std::thread::ScopedJoinHandle<'_, Result<(), Error>>, what: &str| {
            h.join()
                .unwrap_or_else(|_| Err(Error::Input(format!("writing {what} failed"))))
        };
        let (side, extras) = (
            joined(side, "peers.csv, the flags and departments.csv"),
            joined(extras, "the run's tables"),
        );
        tests.and(side).and(extras)
    })?;
    fs::write(
        out.join("INTERNT-ARBEJDSREDSKAB.txt"),
        format!("{INTERNAL_DA}\n{}.\n", bomon_vocab::marking::INTERNAL_EN),
    )
    .map_err(io(out))?;
    let mut names: Vec<String> = [
        "flags.csv",
        "flags.parquet",
        "tests.parquet",
        "departments.csv",
        "peers.csv",
        "INTERNT-ARBEJDSREDSKAB.txt",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    names.extend(run.extras.iter().map(|x| x.name.clone()));
    names.push("manifest.json".into());
    let mut manifest = manifest(run, catalogue, &names);
    if let Some(printer) = report {
        let written = write_report(run, catalogue, &manifest, out, printer)?;
        let mut files: Vec<serde_json::Value> =
            manifest["files"].as_array().cloned().unwrap_or_default();
        files.pop(); // manifest.json stays last
        for w in &written {
            files.push(serde_json::json!(w));
        }
        files.push(serde_json::json!("manifest.json"));
        manifest["files"] = serde_json::Value::Array(files);
        let last = names.pop();
        names.extend(written);
        names.extend(last);
    }
    fs::write(
        out.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).expect("json"),
    )
    .map_err(io(out))?;
    Ok(names.iter().map(|n| out.join(n)).collect())
}

/// The run's further tables (quarterly: selection.csv, spc.parquet), as
/// CSV or Parquet by their names' extensions.
fn write_extras(run: &Run, out: &Path) -> Result<(), Error> {
    for x in &run.extras {
        let path = out.join(&x.name);
        if x.name.ends_with(".parquet") {
            x.frame.write_parquet(&path)?;
        } else {
            write_csv(&path, &x.frame.to_frame().map_err(perr(x.name.clone()))?)?;
        }
    }
    Ok(())
}

/// The findings `rows` of the run as a table, with disclosure control:
/// nothing built on a count of 1 to max_suppressed (4) persons is printed.
fn findings_table(
    run: &Run,
    catalogue: &Catalogue,
    rows: &[&bomon_engine::review::Finding],
) -> PolarsResult<bomon_store::Table> {
    let disc = bomon_vocab::Disclosure::new(run.config.max_suppressed_numerator);
    let review = run.review();
    bomon_engine::frames::findings_table(rows, &run.panel, catalogue, &review.period, Some(&disc))
}

/// The flags (flags.csv/.parquet).
fn write_flags(run: &Run, catalogue: &Catalogue, out: &Path) -> Result<(), Error> {
    let flags: Vec<_> = run
        .review()
        .findings
        .iter()
        .filter(|x| x.severity.is_some())
        .collect();
    let mut flags_df = findings_table(run, catalogue, &flags)
        .and_then(|t| t.to_frame())
        .map_err(perr("flags"))?;
    write_csv(&out.join("flags.csv"), &flags_df)?;
    write_parquet(&out.join("flags.parquet"), &mut flags_df)
}

/// Every test (tests.parquet: half a million rows nationally, its string
/// columns written as dictionary pages from their codes).
fn write_tests(run: &Run, catalogue: &Catalogue, out: &Path) -> Result<(), Error> {
    let all: Vec<_> = run.review().findings.iter().collect();
    let tests = findings_table(run, catalogue, &all).map_err(perr("tests"))?;
    Ok(tests.write_parquet(&out.join("tests.parquet"))?)
}

/// The triage (departments.csv).
fn write_departments(run: &Run, out: &Path) -> Result<(), Error> {
    let review = run.review();
    let triage = &run.triage[..];
    let panel = &run.panel;
    let tmp = out;
    let t = triage;
    let deps = DataFrame::new(vec![
        Column::new(
            "rank".into(),
            t.iter().map(|x| x.rank as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "department_id".into(),
            t.iter()
                .map(|x| panel.depts[x.dept].id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "name".into(),
            t.iter()
                .map(|x| panel.depts[x.dept].name.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "organisation".into(),
            t.iter()
                .map(|x| panel.depts[x.dept].organisation.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "municipality_code".into(),
            t.iter()
                .map(|x| panel.depts[x.dept].municipality.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "area_id".into(),
            t.iter()
                .map(|x| panel.depts[x.dept].area.as_deref())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "category".into(),
            t.iter().map(|x| x.category.as_deref()).collect::<Vec<_>>(),
        ),
        Column::new(
            "score".into(),
            t.iter().map(|x| x.score).collect::<Vec<_>>(),
        ),
        Column::new(
            "flags".into(),
            t.iter()
                .map(|x| (x.alarms + x.alerts) as u32)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "alarms".into(),
            t.iter().map(|x| x.alarms as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "alerts".into(),
            t.iter().map(|x| x.alerts as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "indicators_flagged".into(),
            t.iter()
                .map(|x| x.indicators_flagged as u32)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "persistent".into(),
            t.iter().map(|x| x.persistent as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "too_small".into(),
            t.iter().map(|x| x.too_small).collect::<Vec<_>>(),
        ),
        Column::new(
            "too_small_indicators".into(),
            t.iter()
                .map(|x| {
                    review
                        .too_small
                        .get(&x.dept)
                        .map(|v| {
                            v.iter()
                                .map(|&i| panel.indicators[i].as_str())
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "needs_assessment".into(),
            t.iter().map(|x| x.needs_assessment).collect::<Vec<_>>(),
        ),
        Column::new(
            "reason".into(),
            t.iter().map(|x| x.reason.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "assessment".into(),
            t.iter()
                .map(|x| x.assessment.as_deref())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "ask".into(),
            t.iter().map(|x| x.roles.join("; ")).collect::<Vec<_>>(),
        ),
        Column::new(
            "findings".into(),
            t.iter().map(|x| x.findings.join("\n")).collect::<Vec<_>>(),
        ),
        Column::new(
            "questions".into(),
            t.iter().map(|x| x.questions.join("\n")).collect::<Vec<_>>(),
        ),
    ])
    .map_err(perr("departments"))?;
    write_csv(&tmp.join("departments.csv"), &deps)?;

    Ok(())
}

/// Who each department was compared with, and on what (peers.csv; with
/// the UTF-8 byte-order mark of every CSV, so that Danish Excel shows the
/// twins' names). A national review writes about 160,000 rows of a few
/// thousand departments' cells: each department's cells (id, name,
/// organisation, covariates) are escaped once, as the csv crate escapes a
/// field, and rows are put together from those bytes.
fn write_peers(run: &Run, out: &Path) -> Result<(), Error> {
    use std::io::Write as _;
    let review = run.review();
    let panel = &run.panel;
    let path = out.join("peers.csv");
    let e = |e: csv::Error| Error::Input(e.to_string());
    // One field as the csv writer writes it (quoted where needed), without
    // the record's terminator.
    let field = |s: &str| -> Result<Vec<u8>, Error> {
        // Most cells need no quoting: their bytes as they are. An empty one
        // (quoted by the writer when alone) and any with a delimiter,
        // quote or line break go through the writer.
        if !s.is_empty() && !s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
            return Ok(s.as_bytes().to_vec());
        }
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::with_capacity(s.len() + 2));
        w.write_field(s).map_err(e)?;
        w.write_record(None::<&[u8]>).map_err(e)?;
        let mut v = w.into_inner().map_err(|x| Error::Input(x.to_string()))?;
        v.pop();
        Ok(v)
    };
    let mut head = vec![
        "department_id".to_string(),
        "peer_rank".into(),
        "peer_id".into(),
        "peer_name".into(),
        "peer_organisation".into(),
        "distance".into(),
    ];
    for c in &review.peer_covariates {
        head.push(c.clone());
        head.push(format!("peer_{c}"));
    }
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    buf.extend_from_slice(bomon_store::outpath::CSV_BOM);
    for (k, h) in head.iter().enumerate() {
        if k > 0 {
            buf.push(b',');
        }
        buf.extend(field(h)?);
    }
    buf.push(b'\n');
    let cell = |s: &str| field(&bomon_store::outpath::csv_cell(s));
    struct Cells {
        id: Vec<u8>,
        /// ",name,organisation" of the department as a peer.
        as_peer: Vec<u8>,
        covariates: Vec<Vec<u8>>,
    }
    let mut cache: Vec<Option<Cells>> = Vec::new();
    cache.resize_with(panel.depts.len(), || None);
    let used = review
        .scope
        .iter()
        .copied()
        .chain(review.peers.iter().flatten().map(|x| x.0));
    for d in used {
        if cache[d].is_none() {
            let x = &panel.depts[d];
            let mut as_peer = vec![b','];
            as_peer.extend(cell(&x.name)?);
            as_peer.push(b',');
            as_peer.extend(cell(&x.organisation)?);
            cache[d] = Some(Cells {
                id: cell(&x.id)?,
                as_peer,
                covariates: review
                    .peer_covariates
                    .iter()
                    .map(|c| field(&format!("{}", covariate(x, c))))
                    .collect::<Result<_, _>>()?,
            });
        }
    }
    let mut file = fs::File::create(&path).map_err(io(&path))?;
    let mut num = String::new();
    for (k, &d) in review.scope.iter().enumerate() {
        // Every department written was cached above.
        let Some(me) = cache[d].as_ref() else {
            continue;
        };
        for (r, &(p, dist)) in review.peers[k].iter().enumerate() {
            let Some(peer) = cache[p].as_ref() else {
                continue;
            };
            buf.extend_from_slice(&me.id);
            num.clear();
            {
                use std::fmt::Write as _;
                let _ = write!(num, ",{},", r + 1);
            }
            buf.extend_from_slice(num.as_bytes());
            buf.extend_from_slice(&peer.id);
            buf.extend_from_slice(&peer.as_peer);
            num.clear();
            num.push(',');
            fixed4(&mut num, dist);
            buf.extend_from_slice(num.as_bytes());
            for (mine, theirs) in me.covariates.iter().zip(&peer.covariates) {
                buf.push(b',');
                buf.extend_from_slice(mine);
                buf.push(b',');
                buf.extend_from_slice(theirs);
            }
            buf.push(b'\n');
        }
        if buf.len() >= 1 << 20 {
            file.write_all(&buf).map_err(io(&path))?;
            buf.clear();
        }
    }
    file.write_all(&buf).map_err(io(&path))?;
    file.flush().map_err(io(&path))?;
    Ok(())
}

/// `x` with four decimals, as `{:.4}` writes it, without its exact
/// (arbitrary-precision) formatting - a national peers.csv has 160,000
/// distances: a non-negative number below 10^9 is rounded to an integer
/// number of ten-thousandths (half away from zero; the exact formatting
/// rounds the binary value half to even - a tie at the fifth decimal is not
/// representable in binary, so the two agree).
fn fixed4(out: &mut String, x: f64) {
    use std::fmt::Write as _;
    if x.is_finite() && (0.0..1e9).contains(&x) {
        let v = (x * 1e4).round() as u64;
        let _ = write!(out, "{}.{:04}", v / 10_000, v % 10_000);
    } else {
        let _ = write!(out, "{x:.4}");
    }
}

/// manifest.json: what was reviewed, from which snapshot and inputs, how,
/// and what came of it.
fn manifest(run: &Run, catalogue: &Catalogue, names: &[String]) -> serde_json::Value {
    let review = run.review();
    let triage = &run.triage[..];
    let info = &run.info;
    let alarms = review
        .findings
        .iter()
        .filter(|x| x.severity == Some(bomon_stats::Severity::Alarm))
        .count();
    let alerts = review
        .findings
        .iter()
        .filter(|x| x.severity == Some(bomon_stats::Severity::Alert))
        .count();
    let mut manifest = serde_json::json!({
        "document": INTERNAL_DA,
        "engine_version": env!("CARGO_PKG_VERSION"),
        "review": info.kind,
        "period": info.period,
        "organisation": info.organisation,
        "store": info.store,
        "snapshot": info.snapshot,
        "inputs": info.inputs.iter().map(|(f, h)| serde_json::json!({"file": f, "sha256": h})).collect::<Vec<_>>(),
        "catalogue_sha256": catalogue.sha256(),
        "config_sha256": info.config_sha256,
        "config": info.config,
        "created": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        "run_seconds": info.run_seconds,
        "departments_in_scope": review.scope.len(),
        "departments_too_small": review.too_small_departments.len(),
        "tests": review.tests,
        "flags": alarms + alerts,
        "alarms": alarms,
        "alerts": alerts,
        "needs_assessment": triage.iter().filter(|x| x.needs_assessment).count(),
        "expected_false_alarms": review.expected_false_alarms,
        "expected_false_alarms_unadjusted": review.expected_false_alarms_unadjusted,
        "files": names,
    });
    if let (Some(m), serde_json::Value::Object(x)) =
        (manifest.as_object_mut(), run.manifest_extra.clone())
    {
        m.extend(x);
    }
    manifest
}

/// report.html, review.xlsx and charts/; returns the names written.
fn write_report(
    run: &Run,
    catalogue: &Catalogue,
    manifest: &serde_json::Value,
    out: &Path,
    printer: &crate::pdf::Printer,
) -> Result<Vec<String>, Error> {
    let input = ReportInput {
        review: run.review(),
        triage: &run.triage,
        panel: &run.panel,
        catalogue,
        manifest,
        config: &run.config,
        danish: run.danish,
        quarterly: run.quarterly(),
        category_history: &run.category_history,
        assessments: &run.assessments,
        log_counts: run.log_counts,
        lists: run.lists.as_ref(),
    };
    crate::render(&input, out, printer).map_err(|e| Error::Input(format!("report: {e}")))
}
