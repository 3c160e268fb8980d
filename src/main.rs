//! bomon: monitoring and risk analytics for Danish social-housing departments.
//!
//! The binary is glue: it parses arguments and calls the library crates.
//! Every output is an internal working document (internt arbejdsredskab).

mod analysis;
mod cli;
mod output;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use bomon_store::dialect::{parse_delimiter, CsvOptions, Decimal, Encoding};
use bomon_store::{Catalogue, FileStatus, IngestOptions, Progress, Store, TableKind};
use clap::Parser;

use cli::*;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use output::Format;

/// The marking every output carries.
pub use bomon_vocab::marking::INTERNAL_DA;

/// glibc's allocator, set for a short run over large columns (before any
/// thread starts): blocks up to 32 MiB come from the heap and freed memory
/// is kept for reuse instead of being returned to the kernel and faulted in
/// again, zeroed; one arena per core rather than eight.
/// Measured on the national store (medians of 8-10 alternating runs): the
/// annual review's system time 0.29 -> 0.20 s and wall 1.02 -> 0.94 s, the
/// quarterly run's wall 1.14 -> 1.09 s, peak memory unchanged. The
/// environment's GLIBC_TUNABLES, when set, is left to decide.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("GLIBC_TUNABLES").is_none() {
        // SAFETY: mallopt only changes allocator parameters; called once,
        // before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            libc::mallopt(libc::M_ARENA_MAX, cores.clamp(1, 64) as i32);
        }
    }
}

fn main() -> ExitCode {
    // Files bomon writes are internal documents about residents: owner-only
    // (0600 files, 0700 directories) unless BOMON_SHARED_FILES=1 asks for the
    // process's ordinary umask.
    if std::env::var("BOMON_SHARED_FILES").map_or(true, |v| v != "1") {
        // SAFETY: umask only changes this process's file-creation mask.
        unsafe {
            libc::umask(0o077);
        }
    }
    tune_allocator();
    // A closed pipe (`bomon store verify | head -0`) ends bomon quietly, as it
    // does any Unix filter, instead of a panic in println!.
    // SAFETY: restores the default disposition of one signal; no memory is involved.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(bomon_store::Error::Rejected(r)) = e.downcast_ref::<bomon_store::Error>() {
                eprint!("bomon: {r}");
            } else {
                // One line; a cause already spelled out by the message before
                // it is not repeated (polars errors carry their source twice).
                let mut chain: Vec<String> = Vec::new();
                for c in e.chain().map(|c| c.to_string()) {
                    if !chain.iter().any(|p| p.ends_with(&c) || p.contains(&c)) {
                        chain.push(c);
                    }
                }
                let mut line = chain.join(": ");
                // polars repeats its own message inside one error, too.
                for part in line.clone().split(": ").collect::<Vec<_>>().windows(2) {
                    if part[0] == part[1] {
                        line = line.replacen(&format!("{0}: {0}", part[0]), part[0], 1);
                    }
                }
                eprintln!("bomon: {line}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let g = &cli.global;
    let catalogue = match &g.catalogue {
        Some(p) => Catalogue::load(p)?,
        None => Catalogue::builtin(),
    };
    match cli.command {
        Command::Ingest(a) => ingest(g, &catalogue, &a),
        Command::Store { action } => match action {
            StoreAction::Log { store, format } => store_log(g, &store, format),
            StoreAction::Verify { store } => store_verify(g, &store),
        },
        Command::Query(a) => query(g, a),
        Command::Funnel(a) => analysis::run_funnel(a, g.quiet),
        Command::Spc(a) => analysis::run_spc(a, g.quiet),
        Command::Trend(a) => analysis::run_trend(a),
        Command::Generate(a) => generate(g, a),
        Command::Review(a) => review(g, &catalogue, a),
        Command::Chart(a) => chart(g, &catalogue, a),
        Command::Peers(a) => peers(g, &catalogue, a),
        Command::Show(a) => show(g, &catalogue, a),
        Command::Assess { action } => assess(g, &catalogue, action),
        Command::Categorize(a) => categorize(g, &catalogue, a),
    }
}

fn ingest(g: &Global, catalogue: &Catalogue, a: &IngestArgs) -> Result<()> {
    let opts = IngestOptions {
        csv: CsvOptions {
            encoding: a
                .encoding
                .as_deref()
                .map(str::parse::<Encoding>)
                .transpose()
                .map_err(anyhow::Error::msg)?,
            delimiter: a
                .delimiter
                .as_deref()
                .map(parse_delimiter)
                .transpose()
                .map_err(anyhow::Error::msg)?,
            decimal: a
                .decimal
                .as_deref()
                .map(str::parse::<Decimal>)
                .transpose()
                .map_err(anyhow::Error::msg)?,
        },
        table: a
            .table
            .as_deref()
            .map(str::parse::<TableKind>)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        profile: a
            .profile
            .as_deref()
            .map(|p| bomon_store::profile::Profile::resolve(p, catalogue).map(std::sync::Arc::new))
            .transpose()?,
        dry_run: a.dry_run,
    };
    if a.dry_run && !a.store.join("manifest.json").exists() {
        // Nothing to compare with: an empty store that is never written.
        let tmp = std::env::temp_dir().join(format!("bomon-dry-run-{}", std::process::id()));
        let r = ingest_into(g, catalogue, a, &opts, &tmp);
        let _ = std::fs::remove_dir_all(&tmp);
        return r;
    }
    let existed = a.store.exists();
    let r = ingest_into(g, catalogue, a, &opts, &a.store);
    if r.is_err() && !existed {
        // A first ingest that failed leaves no empty store directory behind.
        let only_lock = std::fs::read_dir(&a.store)
            .map(|d| d.flatten().all(|e| e.file_name() == "lock"))
            .unwrap_or(false);
        if only_lock {
            let _ = std::fs::remove_dir_all(&a.store);
        }
    }
    r
}

fn ingest_into(
    g: &Global,
    catalogue: &Catalogue,
    a: &IngestArgs,
    opts: &IngestOptions,
    store_dir: &Path,
) -> Result<()> {
    let mut store = Store::open_or_create(store_dir)?;
    let bar = if g.quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid template"),
        );
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    };
    let outcome = bomon_store::ingest(&mut store, &a.files, catalogue, opts, &mut |p| match p {
        Progress::Reading { file, bytes } => {
            bar.set_message(format!("reading {file} ({} kB)", bytes / 1024))
        }
        Progress::Read { file, rows } => bar.set_message(format!("read {file}: {rows} rows")),
        Progress::Committing => bar.set_message("writing snapshot"),
    });
    bar.finish_and_clear();
    let outcome = outcome?;
    if !g.quiet {
        for f in &outcome.files {
            match &f.status {
                FileStatus::Stored { tables } => {
                    let t: Vec<String> = tables
                        .iter()
                        .map(|(k, n)| format!("{n} {k} rows"))
                        .collect();
                    eprintln!("{}: {}", f.file, t.join(", "));
                    if g.verbose {
                        if let Some(d) = &f.dialect {
                            eprintln!("  read with {d}");
                        }
                        for s in &f.skipped_sheets {
                            eprintln!("  skipped empty sheet '{s}'");
                        }
                    }
                }
                FileStatus::AlreadyStored { snapshot } => {
                    eprintln!(
                        "{}: already stored in snapshot {snapshot}, nothing to do",
                        f.file
                    )
                }
                FileStatus::DuplicateArgument => {
                    eprintln!("{}: same content as an earlier file, skipped", f.file)
                }
            }
        }
        for f in &outcome.files {
            if let Some(p) = &f.profile {
                if !p.unmapped.is_empty() {
                    eprintln!(
                        "  {}: not mapped by the profile (not stored): {}",
                        f.file,
                        p.unmapped.join(", ")
                    );
                }
                if p.suppressed_cells > 0 {
                    eprintln!(
                        "  {}: {} cell(s) suppressed at the source, stored as suppressed",
                        f.file, p.suppressed_cells
                    );
                }
            }
        }
        if a.dry_run {
            dry_run_report(&outcome)?;
            eprintln!("dry run: nothing stored");
            return Ok(());
        }
        match outcome.snapshot {
            Some(id) => eprintln!("snapshot {id} written to {}", a.store.display()),
            None => eprintln!("no new data; the store is unchanged"),
        }
    }
    Ok(())
}

/// What a dry run would store: per table its first rows, and per file the
/// values read per indicator and period.
fn dry_run_report(outcome: &bomon_store::IngestOutcome) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    std::env::set_var("POLARS_FMT_MAX_ROWS", "10");
    std::env::set_var("POLARS_FMT_TABLE_WIDTH", "200");
    std::env::set_var("POLARS_FMT_MAX_COLS", "14");
    for (t, df) in &outcome.preview {
        writeln!(out, "{} ({} rows), first rows:", t.name(), df.height())?;
        writeln!(out, "{}", df.head(Some(10)))?;
    }
    for f in &outcome.files {
        if let Some(p) = &f.profile {
            writeln!(out, "{}: values per indicator and period", f.file)?;
            for ((ind, per), n) in &p.counts {
                writeln!(out, "  {ind:<28} {per:<8} {n:>7}")?;
            }
            writeln!(
                out,
                "  suppressed at the source: {} cell(s)",
                p.suppressed_cells
            )?;
            writeln!(
                out,
                "  not mapped: {}",
                if p.unmapped.is_empty() {
                    "-".to_string()
                } else {
                    p.unmapped.join(", ")
                }
            )?;
        }
    }
    Ok(())
}

fn categorize(g: &Global, catalogue: &Catalogue, a: CategorizeArgs) -> Result<()> {
    let store = Store::open(&a.at.store)?;
    let staged = stage(&a.out, &a.at.store, &a.out_dir)?;
    let s = bomon_rules::run::run(
        &store,
        catalogue,
        a.period,
        a.ruleset.as_deref(),
        a.at.snapshot,
        staged.path(),
    )
    .map_err(anyhow::Error::msg)?;
    staged.publish(a.out_dir.keep_previous)?;
    if !g.quiet {
        let counts: Vec<String> = s.counts.iter().map(|(l, n)| format!("{l} {n}")).collect();
        eprintln!(
            "national lists {} ({}): {} areas, {} with at least the minimum residents; {} -> {}",
            a.period,
            s.ruleset,
            s.areas,
            s.eligible,
            counts.join(", "),
            a.out.display()
        );
        eprintln!("{INTERNAL_DA}");
    }
    Ok(())
}

/// The staging directory of `out` (see bomon_store::outpath).
fn stage(out: &Path, store: &Path, o: &OutDirArgs) -> Result<bomon_store::outpath::Staged> {
    Ok(bomon_store::outpath::stage_dir(out, Some(store), o.force)?)
}

fn review_config(path: Option<&Path>) -> Result<bomon_engine::ReviewConfig> {
    Ok(match path {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            bomon_engine::ReviewConfig::from_toml(&text, &p.display().to_string())
                .map_err(anyhow::Error::msg)?
        }
        None => bomon_engine::ReviewConfig::default(),
    })
}

fn peers(g: &Global, catalogue: &Catalogue, a: PeersArgs) -> Result<()> {
    let config = review_config(a.config.as_deref())?;
    let store = Store::open(&a.at.store)?;
    let snap = store.snapshot(a.at.snapshot)?;
    let mut v = bomon_engine::explore::peers(
        &snap,
        catalogue,
        bomon_engine::explore::PeersRequest {
            department: &a.department,
            indicator: a.indicator.as_deref(),
            year: a.year,
            k: a.k,
            danish: g.lang == "da",
        },
        &config,
    )?;
    if let Some(path) = &a.chart {
        // The same chart as `bomon chart trend` for this department, indicator
        // and year (with --k peers): one chart code for both verbs.
        let ind = a
            .indicator
            .as_deref()
            .context("--chart needs --indicator")?;
        let mut cfg = config.clone();
        if let Some(k) = a.k {
            cfg.peers.k = k.max(1);
        }
        let year = a.year.map(|y| y.to_string());
        let req = bomon_report::ondemand::Request {
            kind: bomon_report::ondemand::Kind::Trend,
            department: &a.department,
            indicator: Some(ind),
            period: year.as_deref(),
            snapshot: a.at.snapshot,
            config: &cfg,
            danish: g.lang == "da",
        };
        let c =
            bomon_report::ondemand::chart(&store, catalogue, &req).map_err(anyhow::Error::msg)?;
        let format = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
        {
            bomon_report::charts::Format::Svg
        } else {
            bomon_report::charts::Format::Png
        };
        let bytes = bomon_report::charts::render(&c, format).map_err(anyhow::Error::msg)?;
        bomon_store::outpath::AtomicFile::write_all_to(path, Some(&a.at.store), &bytes)?;
    }
    output::write_listing(
        &v.header,
        &mut v.frame,
        a.listing.format,
        a.listing.out.as_deref(),
        g.lang == "da",
    )
}

fn assess(g: &Global, catalogue: &Catalogue, a: AssessAction) -> Result<()> {
    match a {
        AssessAction::Import { store, file } => {
            let mut store = Store::open(&store)?;
            let r = bomon_store::assess::import(&mut store, &file, catalogue.sha256())?;
            if !g.quiet {
                eprintln!(
                    "{}: {} assessment(s) appended as snapshot {} ({} form row(s) not filled in)",
                    file.display(),
                    r.entries,
                    r.snapshot,
                    r.unfilled
                );
            }
            Ok(())
        }
        AssessAction::Scrub { store } => {
            let mut store = Store::open(&store)?;
            let r = bomon_store::assess::scrub(&mut store)?;
            if !g.quiet {
                match r.snapshot {
                    Some(id) => eprintln!(
                        "{} note(s) of {} assessment(s) redacted ({}); recorded as snapshot {id}",
                        r.notes,
                        r.ids.len(),
                        r.ids.join(", ")
                    ),
                    None => eprintln!(
                        "no stored note holds a CPR-shaped number; the store is unchanged"
                    ),
                }
            }
            Ok(())
        }
        AssessAction::List {
            at,
            department,
            open,
            theme,
            overdue_days,
            listing,
        } => {
            let Listing { format, out } = listing;
            let store = Store::open(&at.store)?;
            let snap = store.snapshot(at.snapshot)?;
            let mut df = bomon_engine::assessments::list(
                &snap,
                department.as_deref(),
                open,
                theme.as_deref(),
                overdue_days,
            )?;
            let header = vec![INTERNAL_DA.to_string()];
            output::write_listing(&header, &mut df, format, out.as_deref(), g.lang == "da")
        }
    }
}

fn show(g: &Global, catalogue: &Catalogue, a: ShowArgs) -> Result<()> {
    let config = review_config(a.config.as_deref())?;
    let store = Store::open(&a.at.store)?;
    let snap = store.snapshot(a.at.snapshot)?;
    let mut c = bomon_engine::explore::show(
        &snap,
        catalogue,
        &a.department,
        a.year,
        &config,
        g.lang == "da",
    )?;
    let mut header = vec![INTERNAL_DA.to_string()];
    header.extend(c.header);
    output::write_listing(
        &header,
        &mut c.frame,
        a.listing.format,
        a.listing.out.as_deref(),
        g.lang == "da",
    )
}

fn chart(g: &Global, catalogue: &Catalogue, a: ChartArgs) -> Result<()> {
    use bomon_report::charts::{render, Format};
    use bomon_report::ondemand::{self, Kind, Request};
    let config = review_config(a.config.as_deref())?;
    let store = Store::open(&a.at.store)?;
    let format = match a.format {
        Some(ChartFormat::Svg) => Format::Svg,
        Some(ChartFormat::Png) => Format::Png,
        None if a
            .out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg")) =>
        {
            Format::Svg
        }
        None => Format::Png,
    };
    let req = Request {
        kind: match a.kind {
            ChartKind::Funnel => Kind::Funnel,
            ChartKind::Trend => Kind::Trend,
            ChartKind::Spc => Kind::Spc,
            ChartKind::Categories => Kind::Categories,
        },
        department: &a.department,
        indicator: a.indicator.as_deref(),
        period: a.period.as_deref(),
        snapshot: a.at.snapshot,
        config: &config,
        danish: g.lang == "da",
    };
    let c = ondemand::chart(&store, catalogue, &req).map_err(anyhow::Error::msg)?;
    let bytes = render(&c, format).map_err(anyhow::Error::msg)?;
    // Written next to the target and renamed: never a half-written chart.
    bomon_store::outpath::AtomicFile::write_all_to(&a.out, Some(&a.at.store), &bytes)?;
    if !g.quiet {
        eprintln!("{} -> {}", c.title, a.out.display());
        eprintln!("{INTERNAL_DA}");
    }
    Ok(())
}

/// Records a finished review in the store (a new snapshot on top of
/// whatever is current), so that later queries, `bomon show` and the
/// assessment log see it.
fn record(
    mut store: Store,
    catalogue: &Catalogue,
    run: &bomon_engine::Run,
    off: bool,
) -> Result<()> {
    if off {
        return Ok(());
    }
    let frames = run.record(catalogue)?;
    let lock = store.lock()?;
    store.commit(&lock, frames, vec![], catalogue.sha256())?;
    Ok(())
}

/// `bomon review`: compute on one snapshot -> publish the output directory
/// whole -> record the run in the store.
fn review(g: &Global, catalogue: &Catalogue, a: ReviewArgs) -> Result<()> {
    let config = review_config(a.config.as_deref())?;
    // Chromium starts now, while the review computes (it prints report.pdf).
    let printer = (!a.no_report).then(bomon_report::pdf::Printer::start);
    let store = Store::open(&a.at.store)?;
    let danish = g.lang == "da";
    // The output path is checked before the work starts.
    let staged = stage(&a.out, &a.at.store, &a.out_dir)?;
    let run = match (&a.quarterly, a.annual) {
        (Some(q), _) => bomon_engine::quarterly_follow_up(
            &store,
            catalogue,
            &bomon_engine::QuarterlyOptions {
                quarter: q.clone(),
                organisation: a.organisation.clone(),
                snapshot: a.at.snapshot,
                config,
                danish,
                history: !a.no_report,
            },
        )?,
        (None, Some(year)) => bomon_engine::annual(
            &store,
            catalogue,
            &bomon_engine::AnnualOptions {
                year,
                organisation: a.organisation.clone(),
                snapshot: a.at.snapshot,
                config,
                danish,
                history: !a.no_report,
            },
        )?,
        (None, None) => unreachable!("clap requires --annual or --quarterly"),
    };
    let t_publish = std::time::Instant::now();
    bomon_report::publish(&run, catalogue, staged.path(), printer.as_ref())?;
    if let Some(why) = printer.as_ref().and_then(|p| p.unavailable()) {
        if !g.quiet {
            eprintln!("report.pdf not written: {why}; the report is report.html");
        }
    }
    drop(printer);
    staged.publish(a.out_dir.keep_previous)?;
    // Quarterly runs are recorded like annual ones, so the qualitative
    // assessments their report asks for can be imported against the quarter.
    let publish_s = t_publish.elapsed().as_secs_f64();
    let t_record = std::time::Instant::now();
    record(store, catalogue, &run, a.no_record)?;
    if g.verbose {
        // The phase breakdown (#21): where a review's time goes.
        let mut phases: Vec<String> = run
            .info
            .phases
            .iter()
            .map(|(n, s)| format!("{n} {s:.3} s"))
            .collect();
        phases.push(format!("publish {publish_s:.3} s"));
        phases.push(format!("record {:.3} s", t_record.elapsed().as_secs_f64()));
        eprintln!("phases: {}", phases.join(", "));
    }
    let s = run.summary();
    if g.quiet {
        return Ok(());
    }
    if let Some(q) = &a.quarterly {
        eprintln!(
            "quarterly follow-up {q}: {} departments, {} tests, {} alarms, {} alerts (nominal expected false alarms {:.1}); {} need a qualitative assessment -> {}",
            s.departments,
            s.tests,
            s.alarms,
            s.alerts,
            s.expected_false_alarms,
            s.needs_assessment,
            a.out.display()
        );
        eprintln!("{INTERNAL_DA}");
        return Ok(());
    }
    for (i, n) in &s.no_denominator {
        eprintln!(
            "{i}: no denominator: not tested ({n} department(s) have only a published value)"
        );
    }
    eprintln!(
        "annual review {}: {} departments, {} tests, {} alarms, {} alerts (expected false alarms at most {:.1}); {} need a qualitative assessment -> {}",
        a.annual.unwrap_or_default(),
        s.departments,
        s.tests,
        s.alarms,
        s.alerts,
        s.expected_false_alarms,
        s.needs_assessment,
        a.out.display()
    );
    eprintln!("{INTERNAL_DA}");
    Ok(())
}

fn generate(g: &Global, a: GenerateArgs) -> Result<()> {
    for (name, v) in [
        ("--deteriorations", a.deteriorations),
        ("--improvements", a.improvements),
    ] {
        if !(0.0..=1.0).contains(&v) {
            anyhow::bail!("{name} must be a share between 0 and 1, found {v}");
        }
    }
    if a.years == 0 && a.quarters == 0 {
        anyhow::bail!("--years and --quarters are both 0: nothing to generate");
    }
    let cfg = bomon_synth::Config {
        departments: a.departments,
        years: a.years,
        quarters: a.quarters,
        seed: a.seed,
        end_year: a.end_year,
        deterioration_share: a.deteriorations,
        improvement_share: a.improvements,
        quality_problems: !a.no_quality_problems,
        sample_organisation: a.sample_organisation,
    };
    bomon_store::outpath::check_outside_stores(&a.out, None)?;
    let data = bomon_synth::generate(&cfg);
    let formats = match a.files.as_str() {
        "csv" => bomon_synth::Formats::Csv,
        "parquet" => bomon_synth::Formats::Parquet,
        _ => bomon_synth::Formats::Both,
    };
    let files = bomon_synth::write(&data, &a.out, formats)?;
    if !g.quiet {
        eprintln!(
            "SYNTHETIC data: {} departments, {} annual and {} quarterly observations, {} truth rows -> {}",
            data.departments.len(),
            data.annual.len(),
            data.quarterly.len(),
            data.truth.len(),
            a.out.display()
        );
        if g.verbose {
            for f in files {
                eprintln!("  {}", f.display());
            }
        }
    }
    Ok(())
}

fn store_log(g: &Global, store: &Path, format: Format) -> Result<()> {
    let store = Store::open(store)?;
    let snaps = store.snapshots();
    let mut df = polars::prelude::DataFrame::new(vec![
        polars::prelude::Column::new(
            "snapshot".into(),
            snaps.iter().map(|s| s.id).collect::<Vec<_>>(),
        ),
        polars::prelude::Column::new(
            "created".into(),
            snaps.iter().map(|s| s.created.clone()).collect::<Vec<_>>(),
        ),
        polars::prelude::Column::new(
            "inputs".into(),
            snaps
                .iter()
                .map(|s| {
                    s.inputs
                        .iter()
                        .map(|i| i.file.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .collect::<Vec<_>>(),
        ),
        polars::prelude::Column::new(
            "rows".into(),
            snaps
                .iter()
                .map(|s| s.files.iter().map(|f| f.rows).sum::<u64>())
                .collect::<Vec<_>>(),
        ),
        polars::prelude::Column::new(
            "files".into(),
            snaps
                .iter()
                .map(|s| s.files.len() as u32)
                .collect::<Vec<_>>(),
        ),
    ])?;
    output::write_listing(&[], &mut df, format, None, g.lang == "da")
}

fn store_verify(g: &Global, store_dir: &Path) -> Result<()> {
    let store = Store::open(store_dir)?;
    let problems = store.verify()?;
    if problems.is_empty() {
        if !g.quiet {
            let files: usize = store.snapshots().iter().map(|s| s.files.len()).sum();
            println!(
                "store {} is intact: {} snapshot(s), {files} file(s) checked",
                store_dir.display(),
                store.snapshots().len()
            );
        }
        Ok(())
    } else {
        for p in &problems {
            eprintln!("  {p}");
        }
        anyhow::bail!(
            "store {} is damaged: {} problem(s)",
            store_dir.display(),
            problems.len()
        )
    }
}

fn query(g: &Global, a: QueryArgs) -> Result<()> {
    let store = Store::open(&a.at.store)?;
    let snap = store.snapshot(a.at.snapshot)?;
    if let Some(out) = &a.listing.out {
        bomon_store::outpath::check_outside_stores(out, Some(&a.at.store))?;
    }
    // Parquet to a file is the way out for big results: no budget there.
    let budget = (a.listing.format != Format::Parquet).then(bomon_store::query::default_budget);
    let cap = bomon_store::query::process_cap();
    let guard = bomon_store::query::MemoryGuard::start(
        cap,
        format!(
            "bomon: query stopped: it needed more than {} MiB of memory (4 x BOMON_QUERY_MAX_MB, at least 256); narrow it with WHERE or GROUP BY before a JOIN, or raise BOMON_QUERY_MAX_MB",
            cap >> 20
        ),
    );
    let mut df =
        bomon_store::query::query_within(&snap, &store, &a.sql, budget).context("query failed")?;
    drop(guard);
    if a.listing.format == Format::Table {
        std::env::set_var(
            "POLARS_FMT_MAX_ROWS",
            std::env::var("POLARS_FMT_MAX_ROWS").unwrap_or_else(|_| "40".into()),
        );
        std::env::set_var(
            "POLARS_FMT_STR_LEN",
            std::env::var("POLARS_FMT_STR_LEN").unwrap_or_else(|_| "40".into()),
        );
    }
    output::write_listing(
        &[],
        &mut df,
        a.listing.format,
        a.listing.out.as_deref(),
        g.lang == "da",
    )
}
