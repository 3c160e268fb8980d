//! bomon-store: the canonical data model of bomon, the indicator catalogue,
//! ingest of Danish statistics exports, and the crash-safe snapshot store.
//!
//! Data flows one way: input files are read ([`ingest`]), validated against
//! the catalogue and the canonical tables ([`tables`]), and committed as one
//! atomic snapshot of a Parquet dataset ([`store`]). Every later step reads a
//! snapshot as polars `LazyFrame`s, or through SQL ([`query`]).
//!
//! ```text
//! CSV (UTF-8 / Windows-1252, ';' or ',', decimal comma or point) | XLSX | Parquet
//!     -> source (rows with their line/cell) -> tables (validation) -> store (snapshot)
//! ```
#![deny(missing_docs)]

pub mod assess;
pub mod catalogue;
pub mod dialect;
pub mod error;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod ingest;
pub mod outpath;
pub use bomon_vocab::period;
pub mod personal;
pub mod profile;
pub mod query;
pub mod raw;
mod source;
pub mod store;
pub mod tables;

pub use catalogue::{Catalogue, Direction, Frequency, Indicator, Kind};
pub use error::{Error, Issue, Location, Rejection, Result};
pub use ingest::{ingest, FileOutcome, FileStatus, IngestOptions, IngestOutcome, Progress};
pub use period::Period;
pub use store::{Snapshot, SnapshotInfo, Store, StoredTable};
pub use tables::TableKind;
