//! bomon-engine: the review pipeline on a store snapshot - peer groups, level
//! and development comparisons against peers, national public housing and the
//! municipality, false-discovery control, triage and qualitative-assessment
//! prompts. It computes and writes nothing: [`annual`] and
//! [`quarterly_follow_up`] return a typed [`Run`].
//!
//! Where it sits: after bomon-store (it reads one snapshot) and before
//! bomon-report (which publishes a [`Run`] as files); [`Run::record`] writes
//! the run back into the store. The binary's `bomon review` is exactly
//! compute (here) -> publish (`bomon_report::publish`) -> record.
//!
//! ```
//! use bomon_engine::{annual, AnnualOptions, ReviewConfig};
//! use bomon_store::{Catalogue, IngestOptions, Store};
//!
//! // Synthetic departments (they say so), ingested into a fresh store.
//! let dir = tempfile::tempdir().unwrap();
//! let cfg = bomon_synth::Config { departments: 60, years: 4, quarters: 0, quality_problems: false, ..Default::default() };
//! let data = dir.path().join("data");
//! bomon_synth::write(&bomon_synth::generate(&cfg), &data, bomon_synth::Formats::Csv).unwrap();
//! let catalogue = Catalogue::builtin();
//! let mut store = Store::open_or_create(&dir.path().join("store")).unwrap();
//! let csv = [data.join("departments.csv"), data.join("observations_annual.csv")];
//! bomon_store::ingest(&mut store, &csv, &catalogue, &IngestOptions::default(), &mut |_| {}).unwrap();
//!
//! // The annual review of 2025 on the latest snapshot.
//! let opts = AnnualOptions { year: 2025, organisation: None, snapshot: None, config: ReviewConfig::default(), danish: true, history: false };
//! let run = annual(&store, &catalogue, &opts).unwrap();
//! let s = run.summary();
//! assert_eq!(s.departments, 60);
//! assert!(s.tests > 0 && s.alarms + s.alerts <= s.tests);
//! ```
#![deny(missing_docs)]

pub mod assessments;
pub mod config;
pub mod data;
pub mod explore;
pub mod frames;
pub mod peers;
pub mod quarterly;
pub mod record;
pub mod review;
pub mod triage;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use bomon_store::{Catalogue, Store};
use polars::prelude::{col, lit};

pub use config::{ReviewConfig, Trigger};

/// The marking every output carries.
pub use bomon_vocab::marking::INTERNAL_DA;

/// Errors of a review.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// From the store.
    #[error(transparent)]
    Store(#[from] bomon_store::Error),
    /// From polars.
    #[error("{context}: {source}")]
    Polars {
        /// What was being done.
        context: String,
        /// Cause.
        source: polars::error::PolarsError,
    },
    /// File system.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Unusable input or options.
    #[error("{0}")]
    Input(String),
}

impl Error {
    pub(crate) fn polars(context: impl Into<String>, source: polars::error::PolarsError) -> Self {
        Error::Polars {
            context: context.into(),
            source,
        }
    }
}

/// Options of an annual review run.
#[derive(Debug, Clone)]
pub struct AnnualOptions {
    /// Year reviewed.
    pub year: i32,
    /// Restrict to one organisation (exact name); None = every department.
    pub organisation: Option<String>,
    /// Snapshot (None = latest).
    pub snapshot: Option<u32>,
    /// Configuration.
    pub config: ReviewConfig,
    /// Danish (true) or English prompts.
    pub danish: bool,
    /// Read the category history of the departments in scope (what the
    /// report shows; not needed for data files only).
    pub history: bool,
}

/// A stopwatch of named phases.
struct Laps {
    last: Instant,
    laps: Vec<(&'static str, f64)>,
}

impl Laps {
    fn new() -> Laps {
        Laps {
            last: Instant::now(),
            laps: Vec::new(),
        }
    }

    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps.push((name, (now - self.last).as_secs_f64()));
        self.last = now;
    }

    fn done(self) -> Vec<(&'static str, f64)> {
        self.laps
    }
}

/// Metadata of a run, for its manifest.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// `annual` or `quarterly`.
    pub kind: String,
    /// Period reviewed.
    pub period: String,
    /// Organisation in scope, if any.
    pub organisation: Option<String>,
    /// The snapshot reviewed.
    pub snapshot: u32,
    /// Store directory.
    pub store: String,
    /// Input files of the snapshot (file, sha256).
    pub inputs: Vec<(String, String)>,
    /// Configuration as used.
    pub config: serde_json::Value,
    /// Its hash.
    pub config_sha256: String,
    /// Seconds spent computing.
    pub run_seconds: f64,
    /// Seconds per phase of the computation, in order (load, peers, tests,
    /// triage, history; lists run beside them): `bomon review --verbose`.
    pub phases: Vec<(&'static str, f64)>,
}

/// A further table of a run, published as CSV or Parquet by its name's extension.
#[derive(Debug, Clone)]
pub struct Extra {
    /// File name (`selection.csv`, `spc.parquet`).
    pub name: String,
    /// Contents.
    pub frame: bomon_store::Table,
}

/// What a run found.
#[derive(Debug)]
pub enum Findings {
    /// The annual review.
    Annual(review::Review),
    /// The quarterly follow-up (its review, selection, status and charts).
    Quarterly(quarterly::Quarterly),
}

/// A finished review run, in memory and written nowhere: the publisher
/// (`bomon_report::publish`) turns it into files, [`Run::record`] into
/// store tables.
#[derive(Debug)]
pub struct Run {
    /// The findings.
    pub findings: Findings,
    /// Triage, ranked.
    pub triage: Vec<triage::Triage>,
    /// The panel the run computed on.
    pub panel: data::Panel,
    /// Manifest facts.
    pub info: RunInfo,
    /// Further manifest entries of the run (method, status counts, ...).
    pub manifest_extra: serde_json::Value,
    /// Further tables (quarterly: selection.csv, spc.parquet).
    pub extras: Vec<Extra>,
    /// The configuration used.
    pub config: ReviewConfig,
    /// Danish (true) or English.
    pub danish: bool,
    /// Category history per department index (with `history`).
    pub category_history: HashMap<usize, Vec<(String, String)>>,
    /// Earlier assessments per department index.
    pub assessments: HashMap<usize, Vec<assessments::Assessment>>,
    /// The assessment log: done, open, overdue.
    pub log_counts: (usize, usize, usize),
    /// The scope's name in the review id (`all`, an organisation, `at-risk`).
    pub scope_name: String,
    /// Shares and ratios given without a denominator: (indicator, departments).
    pub no_denominator: Vec<(String, usize)>,
    /// The national lists and the municipal categories of the review year
    /// (annual runs with `history`, i.e. with a report), or why they could not
    /// be computed (e.g. departments without areas).
    pub lists: Option<Result<bomon_rules::run::Categorisation, String>>,
}

impl Run {
    /// The review: the annual one, or the quarterly follow-up's.
    pub fn review(&self) -> &review::Review {
        match &self.findings {
            Findings::Annual(r) => r,
            Findings::Quarterly(q) => &q.review,
        }
    }

    /// The quarterly follow-up, if this is one.
    pub fn quarterly(&self) -> Option<&quarterly::Quarterly> {
        match &self.findings {
            Findings::Quarterly(q) => Some(q),
            Findings::Annual(_) => None,
        }
    }

    /// The run as store tables (`reviews`, `review_flags`,
    /// `review_departments`), for `Store::commit`.
    pub fn record(
        &self,
        catalogue: &Catalogue,
    ) -> Result<Vec<(bomon_store::StoredTable, polars::prelude::DataFrame)>, Error> {
        let r = self.review();
        record::frames(
            &record::ReviewRecord {
                id: &record::review_id(&self.info.kind, &r.period, &self.scope_name),
                kind: &self.info.kind,
                scope: &self.scope_name,
                reviewed_snapshot: self.info.snapshot,
                config_sha256: &self.info.config_sha256,
            },
            r,
            &self.triage,
            &self.panel,
            catalogue,
        )
    }

    /// Counts for the command line.
    pub fn summary(&self) -> Summary {
        let r = self.review();
        let count =
            |s: bomon_stats::Severity| r.findings.iter().filter(|f| f.severity == Some(s)).count();
        Summary {
            departments: r.scope.len(),
            tests: r.tests,
            alarms: count(bomon_stats::Severity::Alarm),
            alerts: count(bomon_stats::Severity::Alert),
            needs_assessment: self.triage.iter().filter(|t| t.needs_assessment).count(),
            expected_false_alarms: r.expected_false_alarms,
            no_denominator: self.no_denominator.clone(),
        }
    }
}

/// A summary of a finished run.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Departments reviewed.
    pub departments: usize,
    /// Tests run.
    pub tests: usize,
    /// Alarms.
    pub alarms: usize,
    /// Alerts.
    pub alerts: usize,
    /// Departments asked for a qualitative assessment.
    pub needs_assessment: usize,
    /// Expected false alarms among the flags.
    pub expected_false_alarms: f64,
    /// Shares and ratios given without a denominator (a published
    /// percentage): (indicator, departments in scope) - not tested.
    pub no_denominator: Vec<(String, usize)>,
}

/// Shares and ratios that departments in `scope` have for `year` only as a
/// value (no denominator, e.g. a published percentage): the review cannot
/// test them and says so.
fn without_denominator(
    panel: &data::Panel,
    catalogue: &Catalogue,
    scope: &[usize],
    year: i32,
) -> Vec<(String, usize)> {
    panel
        .indicators
        .iter()
        .enumerate()
        .filter(|(_, id)| catalogue.get(id).is_some_and(|x| !x.kind.is_value()))
        .filter_map(|(i, id)| {
            let n = scope
                .iter()
                .filter(|&&d| {
                    panel
                        .at(d, year)
                        .is_some_and(|k| panel.num[i][k].is_finite() && panel.den[i][k].is_nan())
                })
                .count();
            (n > 0).then(|| (id.clone(), n))
        })
        .collect()
}

/// Runs the annual review on a snapshot of `store`; writes nothing.
pub fn annual(store: &Store, catalogue: &Catalogue, opts: &AnnualOptions) -> Result<Run, Error> {
    // The national lists the report shows (bomon categorize's computation)
    // are computed on the same snapshot in a thread of their own, beside
    // the review: they read other years and share nothing with it.
    let snapshot = store.snapshot(opts.snapshot)?.id();
    let opts = &AnnualOptions {
        snapshot: Some(snapshot),
        ..opts.clone()
    };
    std::thread::scope(|s| {
        let lists = opts.history.then(|| {
            s.spawn(move || {
                let scope = match &opts.organisation {
                    Some(o) => Some(organisation_ids(store, snapshot, o)?),
                    None => None,
                };
                bomon_rules::run::categorize(
                    store,
                    catalogue,
                    opts.year,
                    None,
                    Some(snapshot),
                    scope.as_ref(),
                )
            })
        });
        let mut run = annual_review(store, catalogue, opts)?;
        let waited = Instant::now();
        run.lists = lists.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("the national lists could not be computed".into()))
        });
        if run.lists.is_some() {
            // What the lists added after the review was done.
            run.info
                .phases
                .push(("lists (beside the review)", waited.elapsed().as_secs_f64()));
        }
        Ok(run)
    })
}

/// The ids of `organisation`'s departments (the lists' scope).
fn organisation_ids(
    store: &Store,
    snapshot: u32,
    organisation: &str,
) -> Result<HashSet<String>, String> {
    let deps = store
        .snapshot(Some(snapshot))
        .and_then(|s| s.table(bomon_store::StoredTable::Departments))
        .map_err(|e| e.to_string())?
        .filter(col("organisation").eq(lit(organisation)))
        .select([col("department_id")])
        .collect()
        .map_err(|e| e.to_string())?;
    Ok(bomon_store::frame::strings(&deps, "department_id")
        .map_err(|e| e.to_string())?
        .into_iter()
        .flatten()
        .collect())
}

/// The annual review proper (without the lists).
fn annual_review(store: &Store, catalogue: &Catalogue, opts: &AnnualOptions) -> Result<Run, Error> {
    let started = Instant::now();
    let mut lap = Laps::new();
    opts.config.validate().map_err(Error::Input)?;
    let snap = store.snapshot(opts.snapshot)?;
    let indicators: Vec<String> = catalogue
        .indicators()
        .iter()
        .filter(|i| i.is_annual())
        .map(|i| i.id.clone())
        .collect();
    let first = opts.year - opts.config.slope_years.max(2) as i32 + 1;
    let panel = data::load(&snap, first, opts.year, &indicators)?;
    lap.lap("load");
    let scope = organisation_scope(&panel.depts, opts.organisation.as_deref())?;
    let has_year = panel.num.iter().any(|v| {
        (0..panel.depts.len()).any(|d| panel.at(d, opts.year).is_some_and(|k| v[k].is_finite()))
    });
    if !has_year {
        return Err(Error::Input(format!(
            "the store holds no annual observations for {}",
            opts.year
        )));
    }
    let (peers, covs) = peers::peer_groups(&panel.depts, &scope, &opts.config.peers);
    lap.lap("peers");
    let review = review::annual(
        &panel,
        catalogue,
        opts.year,
        &scope,
        &peers,
        covs,
        &opts.config,
    );
    lap.lap("tests");
    let (tri, log, log_counts) =
        triage_with_log(&snap, &review, &panel, catalogue, &opts.config, opts.danish)?;
    lap.lap("triage");
    let mut info = run_info(
        "annual",
        opts.year.to_string(),
        opts.organisation.clone(),
        store,
        snap.id(),
        &opts.config,
        started,
    );
    let category_history = if opts.history {
        data::category_history(&snap, &panel.depts, &scope)?
    } else {
        Default::default()
    };
    lap.lap("history");
    info.phases = lap.done();
    let no_denominator = without_denominator(&panel, catalogue, &scope, opts.year);

    let manifest_extra = serde_json::json!({
        "snapshot_created": snapshot_created(store, snap.id()),
        "method": annual_method(&opts.config),
        "not_tested_no_denominator": no_denominator
            .iter()
            .map(|(i, n)| serde_json::json!({"indicator": i, "departments": n}))
            .collect::<Vec<_>>(),
    });
    Ok(Run {
        findings: Findings::Annual(review),
        triage: tri,
        panel,
        info,
        manifest_extra,
        extras: vec![],
        config: opts.config.clone(),
        danish: opts.danish,
        category_history,
        assessments: log,
        log_counts,
        scope_name: opts.organisation.clone().unwrap_or_else(|| "all".into()),
        no_denominator,
        lists: None,
    })
}

/// The departments of `organisation` (exact name), or all when None; an
/// organisation with no departments is an error naming a few that exist.
fn organisation_scope(
    depts: &[data::Dept],
    organisation: Option<&str>,
) -> Result<Vec<usize>, Error> {
    let Some(o) = organisation else {
        return Ok((0..depts.len()).collect());
    };
    let s: Vec<usize> = (0..depts.len())
        .filter(|&d| depts[d].organisation == o)
        .collect();
    if s.is_empty() {
        let mut orgs: Vec<&str> = depts.iter().map(|d| d.organisation.as_str()).collect();
        orgs.sort_unstable();
        orgs.dedup();
        orgs.truncate(5);
        return Err(Error::Input(format!(
            "no departments of organisation \"{o}\" in the store (organisations include: {})",
            orgs.join(", ")
        )));
    }
    Ok(s)
}

/// Options of a quarterly follow-up run.
#[derive(Debug, Clone)]
pub struct QuarterlyOptions {
    /// Quarter reviewed, e.g. `2025Q3`.
    pub quarter: String,
    /// Follow up only this organisation's at-risk departments (exact name);
    /// None = every at-risk department in the store. Peers and the national
    /// dispersion still come from all departments.
    pub organisation: Option<String>,
    /// Snapshot (None = latest).
    pub snapshot: Option<u32>,
    /// Configuration.
    pub config: ReviewConfig,
    /// Danish (true) or English prompts.
    pub danish: bool,
    /// Read the category history (what the report shows).
    pub history: bool,
}

/// Runs the quarterly follow-up of the at-risk departments on a snapshot of
/// `store`; writes nothing.
pub fn quarterly_follow_up(
    store: &Store,
    catalogue: &Catalogue,
    opts: &QuarterlyOptions,
) -> Result<Run, Error> {
    let started = Instant::now();
    opts.config.validate().map_err(Error::Input)?;
    let t = data::parse_quarter(&opts.quarter).ok_or_else(|| {
        Error::Input(format!(
            "--quarterly: expected a quarter such as 2025Q3, found \"{}\"",
            opts.quarter
        ))
    })?;
    let qc = &opts.config.quarterly;
    let snap = store.snapshot(opts.snapshot)?;
    let indicators: Vec<String> = catalogue
        .indicators()
        .iter()
        .filter(|i| i.is_quarterly())
        .map(|i| i.id.clone())
        .collect();
    let span = (qc.baseline_quarters + qc.monitor_quarters) as i32;
    let mut lap = Laps::new();
    let panel = data::load_quarterly(&snap, t - span, t, &indicators)?;
    let has_quarter = (0..panel.indicators.len())
        .any(|i| (0..panel.depts.len()).any(|d| panel.get(i, d, t).0.is_finite()));
    if !has_quarter {
        return Err(Error::Input(format!(
            "the store holds no quarterly observations for {}",
            opts.quarter
        )));
    }
    let in_force = data::categories_in_force(&snap, &panel.depts, t.div_euclid(4))?;
    let selection = quarterly::select(&panel, &in_force, qc).map_err(Error::Input)?;
    let selection = organisation_selection(&panel, selection, opts)?;
    let scope: Vec<usize> = selection.iter().map(|s| s.dept).collect();
    lap.lap("load");
    let (peers, covs) = peers::peer_groups(&panel.depts, &scope, &opts.config.peers);
    lap.lap("peers");
    let q = quarterly::quarterly(&panel, catalogue, t, selection, &peers, covs, &opts.config);
    lap.lap("charts");
    // The chart points (a million rows nationally) are built beside the
    // triage and the assessment log.
    let disc = bomon_vocab::Disclosure::new(opts.config.max_suppressed_numerator);
    let (charts_df, triaged) = rayon::join(
        || frames::spc_points(&q, &panel, &disc).map_err(|e| Error::polars("charts", e)),
        || -> Result<_, Error> {
            let (tri, log, log_counts) = triage_with_log(
                &snap,
                &q.review,
                &panel,
                catalogue,
                &opts.config,
                opts.danish,
            )?;
            let selection_df =
                frames::selection(&q, &panel).map_err(|e| Error::polars("selection", e))?;
            Ok((tri, log, log_counts, selection_df))
        },
    );
    let charts_df = charts_df?;
    let (tri, log, log_counts, selection_df) = triaged?;
    let status: serde_json::Map<String, serde_json::Value> = quarterly::Status::ALL
        .iter()
        .map(|s| {
            (
                s.name().to_string(),
                q.status.iter().filter(|x| *x == s).count().into(),
            )
        })
        .collect();
    let manifest_extra = serde_json::json!({
        "snapshot_created": snapshot_created(store, snap.id()),
        "selected": q.selection.len(),
        "status": status,
        "seasonal_factors": panel.indicators.iter().zip(&q.seasonal)
            .map(|(i, s)| (i.clone(), serde_json::json!(s))).collect::<serde_json::Map<_, _>>(),
        "method": "Deciding chart: observed count against E = denominator x the peers' pooled rate of the same quarter x the department's baseline ratio to its peers (season and city-wide shifts cancel); each quarter judged by the gamma-Poisson mid-p tail (variance mu + tau^2 mu^2, tau^2 pooled nationally out of sample): beyond the alarm_z tail = alarm; early warning (quarterly.early_warning = window): the sums of the last 2..monitor quarters, each judged by its gamma-Poisson tail with the variance from the counts' covariance (Poisson, the peers' rate, the national beyond-Poisson covariance by lag - a quarter's own at least the out-of-sample tau^2 with level_variance = out_of_sample -, the baseline ratio's error), beyond window_z = alert (or the counts' likelihood-ratio CUSUM with early_warning = cusum). Own history and peers' series as Laney P'/U' charts on nationally deseasonalised denominators: a signal there that the deciding chart lacks while the peers' series signals too = shared. expected_false_alarms is nominal: per chart the normal-theory chance that an in-control series is flagged in the quarter.",
    });
    lap.lap("triage");
    let mut info = run_info(
        "quarterly",
        q.review.period.clone(),
        opts.organisation.clone(),
        store,
        snap.id(),
        &opts.config,
        started,
    );
    let category_history = if opts.history {
        data::category_history(&snap, &panel.depts, &q.review.scope)?
    } else {
        Default::default()
    };
    lap.lap("history");
    info.phases = lap.done();
    let scope_name = match &opts.organisation {
        Some(o) => format!("at-risk of {o}"),
        None => "at-risk".into(),
    };
    Ok(Run {
        findings: Findings::Quarterly(q),
        triage: tri,
        panel,
        info,
        manifest_extra,
        extras: vec![
            Extra {
                name: "selection.csv".into(),
                frame: selection_df.into(),
            },
            Extra {
                name: "spc.parquet".into(),
                frame: charts_df,
            },
        ],
        config: opts.config.clone(),
        danish: opts.danish,
        category_history,
        assessments: log,
        log_counts,
        scope_name,
        no_denominator: vec![],
        lists: None,
    })
}

/// The at-risk departments in the run's scope: those of `--organisation`
/// only (a department added by hand from another organisation is an error),
/// and at least one.
fn organisation_selection(
    panel: &data::Panel,
    mut selection: Vec<quarterly::Selected>,
    opts: &QuarterlyOptions,
) -> Result<Vec<quarterly::Selected>, Error> {
    let qc = &opts.config.quarterly;
    if let Some(o) = &opts.organisation {
        let own = organisation_scope(&panel.depts, Some(o))?;
        // A department added by hand from another organisation is a mistake in
        // the configuration, not something to drop silently.
        if let Some(s) = selection.iter().find(|s| {
            !own.contains(&s.dept) && s.reasons.iter().any(|r| r.starts_with("added by hand"))
        }) {
            let dp = &panel.depts[s.dept];
            return Err(Error::Input(format!(
                "quarterly.include: department \"{}\" belongs to organisation \"{}\", not \"{o}\"",
                dp.id, dp.organisation
            )));
        }
        selection.retain(|s| own.contains(&s.dept));
        if selection.is_empty() {
            return Err(Error::Input(format!(
                "no department of organisation \"{o}\" is {} in the categories in force for {} and none is added by hand (quarterly.include)",
                qc.categories.join("/"),
                opts.quarter
            )));
        }
    }
    if selection.is_empty() {
        return Err(Error::Input(format!(
            "no department is {} in the categories in force for {} and none is added by hand (quarterly.include); import categories first",
            qc.categories.join("/"),
            opts.quarter
        )));
    }
    Ok(selection)
}

fn snapshot_created(store: &Store, id: u32) -> String {
    store
        .snapshots()
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.created.clone())
        .unwrap_or_default()
}

/// The manifest facts of a run.
/// Triage of a review, with the assessment log applied (earlier answers
/// per department) and the log's counts (done, open, overdue).
#[allow(clippy::type_complexity)]
fn triage_with_log(
    snap: &bomon_store::Snapshot<'_>,
    review: &review::Review,
    panel: &data::Panel,
    catalogue: &Catalogue,
    config: &ReviewConfig,
    danish: bool,
) -> Result<
    (
        Vec<triage::Triage>,
        HashMap<usize, Vec<assessments::Assessment>>,
        (usize, usize, usize),
    ),
    Error,
> {
    let mut tri = triage::triage(review, panel, catalogue, config, danish);
    let log = assessments::apply(snap, review, &mut tri, panel, catalogue, config, danish)?;
    let log_counts = assessments::counts(snap, config.assessment_overdue_days)?;
    Ok((tri, log, log_counts))
}

fn run_info(
    kind: &str,
    period: String,
    organisation: Option<String>,
    store: &Store,
    snapshot: u32,
    config: &ReviewConfig,
    started: Instant,
) -> RunInfo {
    RunInfo {
        kind: kind.into(),
        period,
        organisation,
        snapshot,
        store: store.root().display().to_string(),
        inputs: store
            .snapshots()
            .iter()
            .filter(|s| s.id <= snapshot)
            .flat_map(|s| s.inputs.iter().map(|i| (i.file.clone(), i.sha256.clone())))
            .collect(),
        config: serde_json::to_value(config).expect("serialisable"),
        config_sha256: config.sha256(),
        run_seconds: started.elapsed().as_secs_f64(),
        phases: Vec::new(),
    }
}

/// The annual review's method in one paragraph, for the manifest.
fn annual_method(c: &config::ReviewConfig) -> String {
    format!(
        "Level: each department against its peers' pooled rate, public housing nationally (same housing type) and its municipality's other departments, \
         on the {} scale for shares (rates per 1,000 as observed against expected events on the log scale), with {} overdispersion estimated nationally \
         ({}% winsorised); a level finding means outside the spread that public housing's between-department differences explain. \
         Development: the change of {}, and the slope over {} years (binomial GLM, logit scale), each against peers' and national developments with the \
         between-department variance of developments (DerSimonian-Laird) in the denominator; trigger {}. \
         Benjamini-Hochberg across {}: alert at q <= {} beyond the one-sided 95 % limit, alarm at q <= {} beyond 99.8 %.",
        c.share_scale,
        c.overdispersion,
        c.winsorise * 100.0,
        c.change_years
            .iter()
            .map(|w| if *w == 1 {
                "the last year against the year before (rule last_year)"
            } else {
                "the last two years against the three before (rule two_years)"
            })
            .collect::<Vec<_>>()
            .join(" and of "),
        c.slope_years,
        if c.trigger == config::Trigger::All { "all (peers and national)" } else { "any (peers or national)" },
        if c.fdr_per_test { "each kind of test" } else { "every test of the review" },
        c.fdr,
        c.fdr_alarm
    )
}
