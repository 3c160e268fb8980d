//! bomon-engine: the review pipeline on a store snapshot - peer groups, level
//! and development comparisons against peers, national public housing and the
//! municipality, false-discovery control, triage and qualitative-assessment
//! prompts - and the review's data outputs.
#![deny(missing_docs)]

pub mod config;
pub mod data;
pub mod output;
pub mod peers;
pub mod review;
pub mod triage;

use std::path::{Path, PathBuf};
use std::time::Instant;

use bomon_store::{Catalogue, Store};

pub use config::{ReviewConfig, Trigger};

/// The marking every output carries.
pub const INTERNAL_DA: &str = "Internt arbejdsredskab - ikke til offentliggørelse";

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
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Runs the annual review from `store` into `out`.
pub fn run_annual(
    store: &Store,
    catalogue: &Catalogue,
    opts: &AnnualOptions,
    out: &Path,
) -> Result<Summary, Error> {
    let started = Instant::now();
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
    let scope: Vec<usize> = match &opts.organisation {
        Some(o) => {
            let s: Vec<usize> = (0..panel.depts.len())
                .filter(|&d| &panel.depts[d].organisation == o)
                .collect();
            if s.is_empty() {
                let mut orgs: Vec<&str> = panel
                    .depts
                    .iter()
                    .map(|d| d.organisation.as_str())
                    .collect();
                orgs.sort_unstable();
                orgs.dedup();
                orgs.truncate(5);
                return Err(Error::Input(format!("no departments of organisation \"{o}\" in the store (organisations include: {})", orgs.join(", "))));
            }
            s
        }
        None => (0..panel.depts.len()).collect(),
    };
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
    let review = review::annual(
        &panel,
        catalogue,
        opts.year,
        &scope,
        &peers,
        covs,
        &opts.config,
    );
    let tri = triage::triage(&review, &panel, catalogue, &opts.config, opts.danish);
    let info = output::RunInfo {
        kind: "annual".into(),
        period: opts.year.to_string(),
        organisation: opts.organisation.clone(),
        snapshot: snap.id(),
        store: store.root().display().to_string(),
        inputs: store
            .snapshots()
            .iter()
            .filter(|s| s.id <= snap.id())
            .flat_map(|s| s.inputs.iter().map(|i| (i.file.clone(), i.sha256.clone())))
            .collect(),
        config: serde_json::to_value(&opts.config).expect("serialisable"),
        config_sha256: opts.config.sha256(),
        run_seconds: started.elapsed().as_secs_f64(),
    };
    let files = output::write_annual(
        out,
        &review,
        &tri,
        &panel,
        catalogue,
        opts.config.max_suppressed_numerator,
        &info,
    )?;
    Ok(Summary {
        departments: scope.len(),
        tests: review.tests,
        alarms: review
            .findings
            .iter()
            .filter(|f| f.severity == Some(bomon_stats::Severity::Alarm))
            .count(),
        alerts: review
            .findings
            .iter()
            .filter(|f| f.severity == Some(bomon_stats::Severity::Alert))
            .count(),
        needs_assessment: tri.iter().filter(|t| t.needs_assessment).count(),
        expected_false_alarms: review.expected_false_alarms,
        files,
    })
}
