//! The command line: every verb's arguments, as clap derives them. The
//! handlers in main.rs read these; nothing here does any work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::analysis;
use crate::output::Format;

#[derive(Parser)]
#[command(
    name = "bomon",
    version,
    about = "Monitoring and risk analytics for social-housing departments (internal working tool)",
    after_help = bomon_vocab::marking::INTERNAL_BOTH
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args)]
pub struct Global {
    /// Print nothing but errors and the requested output.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Tell more about what is being done (detected dialects, files written).
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Language of messages and reports.
    #[arg(long, global = true, default_value = "da", value_parser = ["da", "en"])]
    pub lang: String,
    /// Indicator catalogue (TOML); default: the one built into bomon.
    #[arg(long, global = true, value_name = "FILE")]
    pub catalogue: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Validate input files and store them as one new snapshot (all or nothing).
    Ingest(IngestArgs),
    /// Inspect the store: list snapshots or verify file checksums.
    Store {
        #[command(subcommand)]
        action: StoreAction,
    },
    /// Run SQL over one snapshot (tables: departments, observations, ...).
    Query(QueryArgs),
    /// Funnel-plot comparison of units in any table (columns unit, numerator, denominator).
    Funnel(analysis::FunnelArgs),
    /// SPC chart of series in any table (columns period and value, or numerator and denominator; optional series).
    Spc(analysis::SpcArgs),
    /// Mann-Kendall trend test with Sen's slope (columns series, period, value).
    Trend(analysis::TrendArgs),
    /// The national lists (udsat, parallelsamfund, omdannelse, forebyggelse) for a year.
    Categorize(CategorizeArgs),
    /// Review departments: the annual full review (--annual YEAR) or the quarterly follow-up (--quarterly 2025Q3).
    Review(ReviewArgs),
    /// Draw one briefing chart (funnel, trend, spc, categories) as PNG or SVG.
    Chart(ChartArgs),
    /// A department and its twins: distance, covariates, an indicator over the years, percentiles.
    Peers(PeersArgs),
    /// A department card: every indicator for the last years against peers and nationally, flags, category.
    Show(ShowArgs),
    /// The qualitative-assessment log: import filled-in forms, list assessments and open prompts.
    Assess {
        #[command(subcommand)]
        action: AssessAction,
    },
    /// Write synthetic national data with planted, known developments (SYNTHETIC, not real).
    Generate(GenerateArgs),
}

/// Which store and snapshot a command reads (every reading command has both).
#[derive(Args)]
pub struct At {
    /// The store directory.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// Snapshot to read (default: the latest).
    #[arg(long, value_name = "ID")]
    pub snapshot: Option<u32>,
}

/// How a listing is written: a table on the terminal, CSV or JSON, to
/// standard output or a file.
#[derive(Args)]
pub struct Listing {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the listing to a file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct CategorizeArgs {
    #[command(flatten)]
    pub at: At,
    /// The list year (data of that year and the years before it).
    #[arg(long, value_name = "YEAR")]
    pub period: i32,
    /// Rule set id (default: the one in force for the year).
    #[arg(long, value_name = "ID")]
    pub ruleset: Option<String>,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub out_dir: OutDirArgs,
}

/// How an output directory replaces what is there.
#[derive(Args)]
pub struct OutDirArgs {
    /// Write into a non-empty directory that is not a previous bomon output:
    /// bomon's own files are written into it one by one, nothing else is touched.
    #[arg(long)]
    pub force: bool,
    /// Keep the previous output as OUT.previous instead of removing it.
    #[arg(long)]
    pub keep_previous: bool,
}

#[derive(Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub at: At,
    /// The year of the annual full review.
    #[arg(
        long,
        value_name = "YEAR",
        required_unless_present = "quarterly",
        conflicts_with = "quarterly"
    )]
    pub annual: Option<i32>,
    /// The quarter of the follow-up of red, orange and yellow departments, e.g. 2025Q3.
    #[arg(long, value_name = "QUARTER")]
    pub quarterly: Option<String>,
    /// Review only this organisation's departments (peers still come from all);
    /// with --quarterly, follow up only its red/orange/yellow departments.
    #[arg(long, value_name = "NAME")]
    pub organisation: Option<String>,
    /// Review configuration (TOML); default: the built-in method.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output directory (written whole beside it and swapped in with one rename).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub out_dir: OutDirArgs,
    /// Data files only: no report.html, review.xlsx or charts/.
    #[arg(long)]
    pub no_report: bool,
    /// Do not record the review (flags, triage) in the store.
    #[arg(long)]
    pub no_record: bool,
}

#[derive(Args)]
pub struct PeersArgs {
    #[command(flatten)]
    pub at: At,
    /// Department id.
    #[arg(long, value_name = "ID")]
    pub department: String,
    /// Indicator whose values are shown (default: covariates only).
    #[arg(long, value_name = "ID")]
    pub indicator: Option<String>,
    /// Last year shown (default: the latest with data).
    #[arg(long, value_name = "YEAR")]
    pub year: Option<i32>,
    /// Number of peers (default: the review's, 20).
    #[arg(long, value_name = "N")]
    pub k: Option<usize>,
    /// Review configuration (TOML): peer covariates, disclosure.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub listing: Listing,
    /// Also draw the comparison (trend against the peer band) to FILE.svg or FILE.png.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub enum AssessAction {
    /// Append the filled-in assessment form (CSV, or review.xlsx's form sheet) to the store.
    Import {
        /// The store directory.
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
        /// The filled-in form.
        file: PathBuf,
    },
    /// Redact notes already stored that hold a CPR-shaped number (one-time
    /// clean-up after an upgrade): the stored files are rewritten, the old
    /// ones deleted, and a snapshot records which entries were redacted.
    Scrub {
        /// The store directory.
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
    },
    /// List assessments; --open: prompts of recorded reviews without an assessment, oldest first.
    List {
        #[command(flatten)]
        at: At,
        /// One department only.
        #[arg(long, value_name = "ID")]
        department: Option<String>,
        /// Prompts that still have no assessment, with their age in days.
        #[arg(long)]
        open: bool,
        /// Findings of a theme and their assessment status (resident_composition).
        #[arg(long, value_name = "THEME")]
        theme: Option<String>,
        /// Prompts older than this many days are overdue.
        #[arg(long, value_name = "DAYS", default_value_t = 90)]
        overdue_days: i64,
        #[command(flatten)]
        listing: Listing,
    },
}

#[derive(Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub at: At,
    /// Department id.
    #[arg(long, value_name = "ID")]
    pub department: String,
    /// Last year shown (default: the latest with data).
    #[arg(long, value_name = "YEAR")]
    pub year: Option<i32>,
    /// Review configuration (TOML): peers, disclosure.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub listing: Listing,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ChartKind {
    Funnel,
    Trend,
    Spc,
    Categories,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ChartFormat {
    Png,
    Svg,
}

#[derive(Args)]
pub struct ChartArgs {
    /// Which chart.
    #[arg(value_enum)]
    pub kind: ChartKind,
    #[command(flatten)]
    pub at: At,
    /// Department id.
    #[arg(long, value_name = "ID")]
    pub department: String,
    /// Indicator id (funnel, trend, spc).
    #[arg(long, value_name = "ID")]
    pub indicator: Option<String>,
    /// Year (funnel, trend; default the latest) or quarter such as 2025Q3 (spc).
    #[arg(long, value_name = "PERIOD")]
    pub period: Option<String>,
    /// Review configuration (TOML): peers, disclosure, quarterly method.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format (default: from the file name, else png).
    #[arg(long, value_enum)]
    pub format: Option<ChartFormat>,
    /// Output file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Departments in the national data.
    #[arg(long, default_value_t = 2000)]
    pub departments: usize,
    /// Years of annual data.
    #[arg(long, default_value_t = 10)]
    pub years: usize,
    /// Quarters of quarterly data.
    #[arg(long, default_value_t = 40)]
    pub quarters: usize,
    /// Seed; the same seed gives byte-identical files.
    #[arg(long, default_value_t = 2025)]
    pub seed: u64,
    /// The last year of data.
    #[arg(long, default_value_t = 2025)]
    pub end_year: i32,
    /// Share of departments with planted deteriorations.
    #[arg(long, default_value_t = 0.06)]
    pub deteriorations: f64,
    /// Share of departments with planted improvements.
    #[arg(long, default_value_t = 0.02)]
    pub improvements: f64,
    /// Do not plant data-quality problems.
    #[arg(long)]
    pub no_quality_problems: bool,
    /// Add the sample organisation in Aarhus (751) with about 50 departments.
    #[arg(long)]
    pub sample_organisation: bool,
    /// Which files to write.
    #[arg(long, value_parser = ["csv", "parquet", "both"], default_value = "both")]
    pub files: String,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct IngestArgs {
    /// The store directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// Input files: CSV, XLSX or Parquet.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Treat every table as this kind instead of detecting it from the header.
    #[arg(long, value_parser = ["departments", "observations", "observations-wide", "categories"])]
    pub table: Option<String>,
    /// CSV encoding (default: detect UTF-8, else Windows-1252).
    #[arg(long, value_name = "utf-8|windows-1252")]
    pub encoding: Option<String>,
    /// CSV separator (default: detect from the header).
    #[arg(long, value_name = "';'|','|tab")]
    pub delimiter: Option<String>,
    /// Decimal mark (default: detect from the values).
    #[arg(long, value_name = "comma|point")]
    pub decimal: Option<String>,
    /// Read the files in an import profile's layout: a TOML file, or the name
    /// of a shipped profile (datasets/profiles/: ghettolister, lbf-beboerdata,
    /// ministeriet-omraadeliste, bosocdata).
    #[arg(long, value_name = "FILE_OR_NAME")]
    pub profile: Option<String>,
    /// Show what would be stored (first rows, counts per indicator and period,
    /// suppressed cells, unmapped columns) and store nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Subcommand)]
pub enum StoreAction {
    /// List the snapshots, oldest first.
    Log {
        /// The store directory.
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Re-read every data file and check it against the manifest's checksums.
    Verify {
        /// The store directory.
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
    },
}

#[derive(Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub at: At,
    #[command(flatten)]
    pub listing: Listing,
    /// The SQL query.
    pub sql: String,
}
