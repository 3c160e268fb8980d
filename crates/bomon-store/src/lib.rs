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
//!
//! Where it sits: at the start. Everything after it (bomon-engine,
//! bomon-rules, bomon-report) reads one [`Snapshot`].
//!
//! ```
//! use bomon_store::{ingest, query::query, Catalogue, IngestOptions, Store};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let deps = dir.path().join("afdelinger.csv");
//! std::fs::write(&deps, "department_id;name;organisation;municipality_code;area_id;housing_type;tenancies;construction_year\n\
//!     D1;Søndervangen;Egen;751;A1;family;120;1972\n").unwrap();
//! let obs = dir.path().join("tal.csv");
//! std::fs::write(&obs, "department_id;period;indicator;numerator;denominator;value\n\
//!     D1;2025;move_out_rate;12;120;\n").unwrap();
//! let mut store = Store::open_or_create(&dir.path().join("store")).unwrap();
//! let catalogue = Catalogue::builtin();
//! let out = ingest(&mut store, &[deps, obs], &catalogue, &IngestOptions::default(), &mut |_| {}).unwrap();
//! assert_eq!(store.latest(), Some(1));
//! let snap = store.snapshot(None).unwrap();
//! let df = query(&snap, &store, "SELECT name FROM departments").unwrap();
//! assert_eq!(df.column("name").unwrap().str().unwrap().get(0), Some("Søndervangen"));
//! # let _ = out;
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
pub mod table;
pub mod tables;

pub use catalogue::{Catalogue, Direction, Frequency, Indicator, Kind};
pub use error::{Error, Issue, Location, Rejection, Result};
pub use ingest::{ingest, FileOutcome, FileStatus, IngestOptions, IngestOutcome, Progress};
pub use period::Period;
pub use store::{dense_from_rows, Dense, Snapshot, SnapshotInfo, Store, StoredTable};
pub use table::{Table, TableColumn};
pub use tables::TableKind;
