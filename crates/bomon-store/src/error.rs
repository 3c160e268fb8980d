//! Errors of the store crate: what went wrong, where, and how to fix it.

use std::fmt;
use std::path::PathBuf;

/// Where in an input file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (e.g. its header).
    File,
    /// A 1-based line of a text (CSV) file.
    Line(u64),
    /// A cell of a spreadsheet, e.g. sheet `Data`, cell `C5`.
    Cell {
        /// Sheet name.
        sheet: String,
        /// A1-style cell reference.
        cell: String,
    },
    /// A 1-based data row of a Parquet file.
    Row(u64),
}

/// One validation problem in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The file's name as given on the command line.
    pub file: String,
    /// Line, cell or row.
    pub location: Location,
    /// The column's header, if the problem concerns one column.
    pub column: Option<String>,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        match &self.location {
            Location::File => {}
            Location::Line(l) => write!(f, ", line {l}")?,
            Location::Cell { sheet, cell } => write!(f, ", sheet '{sheet}' cell {cell}")?,
            Location::Row(r) => write!(f, ", row {r}")?,
        }
        if let Some(c) = &self.column {
            write!(f, ", column '{c}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All problems found in one ingest; nothing of it was stored.
#[derive(Debug, Clone, Default)]
pub struct Rejection {
    /// The problems, in file order, up to the cap per file.
    pub issues: Vec<Issue>,
    /// Problems found beyond the cap and not listed, per file.
    pub not_listed: Vec<(String, usize)>,
    /// What was refused; empty means an ingest ("ingest rejected, nothing stored").
    pub action: &'static str,
}

impl Rejection {
    /// Total number of problems found.
    pub fn total(&self) -> usize {
        self.issues.len() + self.not_listed.iter().map(|(_, n)| n).sum::<usize>()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut files: Vec<&str> = self.issues.iter().map(|i| i.file.as_str()).collect();
        files.dedup();
        let action = if self.action.is_empty() {
            "ingest rejected, nothing stored"
        } else {
            self.action
        };
        writeln!(
            f,
            "{action}: {} problem(s) in {}",
            self.total(),
            files.join(", ")
        )?;
        for i in &self.issues {
            writeln!(f, "  {i}")?;
        }
        for (file, n) in &self.not_listed {
            writeln!(f, "  {file}: ... and {n} more problem(s) not listed")?;
        }
        Ok(())
    }
}

/// Errors of the store crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The indicator catalogue is malformed.
    #[error("indicator catalogue {path}: {message}")]
    Catalogue {
        /// The catalogue file.
        path: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// Input files failed validation; nothing was stored.
    #[error("{0}")]
    Rejected(Rejection),
    /// The store directory is not a bomon store, or its manifest is damaged.
    #[error("store {path}: {message}")]
    Store {
        /// The store directory.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// A snapshot id that the store does not have.
    #[error("snapshot {0} does not exist (see `bomon store log`)")]
    NoSuchSnapshot(u32),
    /// An error from polars (reading Parquet, running SQL).
    #[error("{context}: {source}")]
    Polars {
        /// What bomon was doing.
        context: String,
        /// polars' own error.
        source: polars::error::PolarsError,
    },
    /// A command-line option had an unusable value.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn polars(context: impl Into<String>, source: polars::error::PolarsError) -> Self {
        Error::Polars {
            context: context.into(),
            source,
        }
    }
}

/// Result with the store crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
