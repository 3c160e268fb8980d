//! Ingest: input files -> validated canonical tables -> one new snapshot.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::catalogue::Catalogue;
use crate::dialect::{CsvOptions, Dialect};
use crate::error::{Error, Issue, Location, Rejection, Result};
use crate::profile::{Level, Profile, ProfileRead};
use crate::source;
use crate::store::{InputRecord, Store, StoredTable, TableCount};
use crate::tables::{describe, Parsed, TableKind, Validator};

/// How to read the input files; `None` fields are detected per file.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// CSV encoding, separator and decimal mark.
    pub csv: CsvOptions,
    /// Treat every table as this kind instead of detecting it from the header.
    pub table: Option<TableKind>,
    /// Read every file in this import profile's layout.
    pub profile: Option<std::sync::Arc<Profile>>,
    /// Read and validate everything, store nothing: the outcome carries a
    /// preview of what would be stored.
    pub dry_run: bool,
}

/// What happened to one input file.
#[derive(Debug, Clone)]
pub enum FileStatus {
    /// Read and stored in the new snapshot.
    Stored {
        /// Tables read, with their row counts.
        tables: Vec<(TableKind, usize)>,
    },
    /// Identical content is already in the store (no-op).
    AlreadyStored {
        /// The snapshot that holds it.
        snapshot: u32,
    },
    /// Identical to an earlier file of the same command.
    DuplicateArgument,
}

/// One input file's outcome.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    /// File name as given.
    pub file: String,
    /// What happened.
    pub status: FileStatus,
    /// The CSV dialect detected or forced.
    pub dialect: Option<Dialect>,
    /// Spreadsheet sheets skipped because they were empty.
    pub skipped_sheets: Vec<String>,
    /// What an import profile read: unmapped columns, suppressed cells, counts.
    pub profile: Option<ProfileRead>,
}

/// The result of an ingest.
#[derive(Debug, Clone)]
pub struct IngestOutcome {
    /// The new snapshot, or `None` when every file was already stored.
    pub snapshot: Option<u32>,
    /// Per input file.
    pub files: Vec<FileOutcome>,
    /// With `dry_run`: the tables that would be stored.
    pub preview: Vec<(StoredTable, DataFrame)>,
}

/// Progress of a long ingest, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// Starting to read a file of this many bytes.
    Reading {
        /// File name.
        file: &'a str,
        /// Its size.
        bytes: u64,
    },
    /// Finished reading a file.
    Read {
        /// File name.
        file: &'a str,
        /// Rows accepted.
        rows: usize,
    },
    /// Writing the snapshot.
    Committing,
}

#[derive(Clone, Copy)]
enum Format {
    Csv,
    Workbook,
    Parquet,
}

fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => Some(Format::Csv),
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => Some(Format::Workbook),
        "parquet" | "pq" => Some(Format::Parquet),
        _ => None,
    }
}

/// Ingests `files` into `store` as one new snapshot. All or nothing: if any
/// file has a problem, nothing is stored and every problem found is returned
/// in [`Error::Rejected`].
pub fn ingest(
    store: &mut Store,
    files: &[PathBuf],
    catalogue: &Catalogue,
    opts: &IngestOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<IngestOutcome> {
    let lock = store.lock()?;
    let mut outcomes = Vec::new();
    let mut parsed_all: Vec<(usize, Parsed)> = Vec::new();
    let mut inputs = Vec::new();
    let mut rejection = Rejection::default();
    let mut seen_hashes: Vec<String> = Vec::new();

    for path in files {
        let name = path.display().to_string();
        let fmt = format_of(path).ok_or_else(|| {
            Error::Usage(format!(
                "{name}: unknown file type; expected .csv, .xlsx (or .xls, .ods) or .parquet"
            ))
        })?;
        let bytes = source::read_bytes(path)?;
        progress(Progress::Reading {
            file: &name,
            bytes: bytes.len() as u64,
        });
        let sha = hex::encode(Sha256::digest(&bytes));
        if let Some(snapshot) = store.current_snapshot_with_input(&sha) {
            outcomes.push(FileOutcome {
                file: name,
                status: FileStatus::AlreadyStored { snapshot },
                dialect: None,
                skipped_sheets: vec![],
                profile: None,
            });
            continue;
        }
        if seen_hashes.contains(&sha) {
            outcomes.push(FileOutcome {
                file: name,
                status: FileStatus::DuplicateArgument,
                dialect: None,
                skipped_sheets: vec![],
                profile: None,
            });
            continue;
        }
        seen_hashes.push(sha.clone());

        let mut v = Validator::new(catalogue, opts.table);
        let mut dialect = None;
        let mut skipped = vec![];
        let mut profile_read = None;
        let mut profile_issues = Vec::new();
        let read = match (&opts.profile, fmt) {
            (Some(p), Format::Parquet) => Err(Issue {
                file: name.clone(),
                location: Location::File,
                column: None,
                message: format!(
                    "profile {}: Parquet files are canonical tables; profiles read CSV and XLSX/ODS layouts",
                    p.origin
                ),
            }),
            (Some(p), _) => {
                profile_read = Some(crate::profile::read(
                    path,
                    &name,
                    &bytes,
                    p,
                    &mut v,
                    &mut profile_issues,
                )?);
                Ok(())
            }
            (None, Format::Csv) => {
                source::read_csv(&bytes, &name, &opts.csv, &mut v).map(|d| dialect = Some(d))
            }
            (None, Format::Workbook) => {
                source::read_workbook(path, &name, &mut v).map(|s| skipped = s)
            }
            (None, Format::Parquet) => source::read_parquet(path, &name, &mut v),
        };
        drop(bytes);
        let (mut parsed, mut issues) = v.finish();
        for i in profile_issues {
            issues.push(i);
        }
        if let Err(i) = read {
            issues.push(i);
        }
        if let (Some(p), Some(r)) = (&opts.profile, &profile_read) {
            if p.level == Level::Area {
                // Area ids are not departments: none must exist for them.
                parsed.referenced_departments.clear();
            }
            if issues.is_empty() {
                apply_profile(&mut parsed, r, p.level)?;
            }
        }
        if parsed.tables.is_empty() && issues.is_empty() {
            issues.push(Issue {
                file: name.clone(),
                location: Location::File,
                column: None,
                message: "no table found: expected a header row followed by data".into(),
            });
        }
        let rows: usize = parsed.tables.iter().map(|t| t.1).sum();
        progress(Progress::Read { file: &name, rows });
        rejection.issues.extend(issues.listed);
        if issues.not_listed > 0 {
            rejection.not_listed.push((name.clone(), issues.not_listed));
        }
        inputs.push(InputRecord {
            file: name.clone(),
            sha256: sha,
            bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            format: match fmt {
                Format::Csv => "csv",
                Format::Workbook => "xlsx",
                Format::Parquet => "parquet",
            }
            .into(),
            dialect: dialect.map(|d| d.to_string()),
            tables: parsed
                .tables
                .iter()
                .map(|(k, n)| TableCount {
                    table: k.to_string(),
                    rows: *n,
                })
                .collect(),
        });
        outcomes.push(FileOutcome {
            file: name,
            status: FileStatus::Stored {
                tables: parsed.tables.clone(),
            },
            dialect,
            skipped_sheets: skipped,
            profile: profile_read,
        });
        parsed_all.push((outcomes.len() - 1, parsed));
    }

    check_references(store, &parsed_all, &outcomes, &mut rejection)?;
    // Report in file order, and within a file in line/cell order.
    let order: Vec<&str> = files_in_order(&outcomes);
    rejection.issues.sort_by_key(|i| {
        (
            order
                .iter()
                .position(|f| *f == i.file)
                .unwrap_or(usize::MAX),
            location_key(&i.location),
        )
    });
    if rejection.total() > 0 {
        return Err(Error::Rejected(rejection));
    }
    if parsed_all.is_empty() {
        return Ok(IngestOutcome {
            snapshot: None,
            files: outcomes,
            preview: vec![],
        });
    }

    progress(Progress::Committing);
    let mut frames: Vec<(StoredTable, DataFrame)> = Vec::new();
    let mut push = |t: StoredTable, df: Option<DataFrame>| {
        if let Some(df) = df {
            match frames.iter_mut().find(|(x, _)| *x == t) {
                Some((_, acc)) => {
                    acc.vstack_mut(&df).expect("same schema by construction");
                }
                None => frames.push((t, df)),
            }
        }
    };
    for (_, p) in parsed_all {
        push(StoredTable::Departments, p.departments);
        push(StoredTable::DepartmentCovariates, p.covariates);
        push(StoredTable::Observations, p.observations);
        push(StoredTable::Categories, p.categories);
        push(StoredTable::AreaObservations, p.area_observations);
    }
    for (_, df) in frames.iter_mut() {
        df.rechunk_mut();
    }
    if opts.dry_run {
        return Ok(IngestOutcome {
            snapshot: None,
            files: outcomes,
            preview: frames,
        });
    }
    let id = store.commit(&lock, frames, inputs, catalogue.sha256())?;
    Ok(IngestOutcome {
        snapshot: Some(id),
        files: outcomes,
        preview: vec![],
    })
}

/// Marks the rows an import profile read as suppressed at the source, and
/// turns area-level rows into area observations (their ids are housing
/// areas, not departments: no department must exist for them).
fn apply_profile(parsed: &mut Parsed, read: &ProfileRead, level: Level) -> Result<()> {
    let Some(mut df) = parsed.observations.take() else {
        return Ok(());
    };
    let err = |e| Error::polars("mapping the profile's rows", e);
    if df.height() != read.suppressed.len() {
        return Err(Error::Usage(format!(
            "internal: {} rows validated, {} read through the profile",
            df.height(),
            read.suppressed.len()
        )));
    }
    df.with_column(Column::new("suppressed".into(), read.suppressed.clone()))
        .map_err(err)?;
    match level {
        Level::Department => parsed.observations = Some(df),
        Level::Area => {
            df.rename("department_id", "area_id".into()).map_err(err)?;
            df.with_column(Column::new("name".into(), read.names.clone()))
                .map_err(err)?;
            df.with_column(Column::new(
                "municipality_code".into(),
                read.municipalities.clone(),
            ))
            .map_err(err)?;
            parsed.area_observations = Some(df);
            parsed.referenced_departments.clear();
        }
    }
    Ok(())
}

fn files_in_order(outcomes: &[FileOutcome]) -> Vec<&str> {
    outcomes.iter().map(|o| o.file.as_str()).collect()
}

fn location_key(l: &Location) -> (String, u64, String) {
    match l {
        Location::File => (String::new(), 0, String::new()),
        Location::Line(n) | Location::Row(n) => (String::new(), *n, String::new()),
        Location::Cell { sheet, cell } => {
            let row: u64 = cell
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .parse()
                .unwrap_or(0);
            (sheet.clone(), row, cell.clone())
        }
    }
}

/// Every department (and area) referenced must exist in the store's latest
/// snapshot or in a departments table of this ingest.
fn check_references(
    store: &Store,
    parsed: &[(usize, Parsed)],
    outcomes: &[FileOutcome],
    rejection: &mut Rejection,
) -> Result<()> {
    let mut known_depts: PlHashSet<String> = PlHashSet::default();
    let mut known_areas: PlHashSet<String> = PlHashSet::default();
    let mut add = |df: &DataFrame| -> Result<()> {
        let d = df
            .column("department_id")
            .and_then(|c| c.str().cloned())
            .map_err(|e| Error::polars("reading departments", e))?;
        known_depts.extend(d.into_iter().flatten().map(str::to_string));
        let a = df
            .column("area_id")
            .and_then(|c| c.str().cloned())
            .map_err(|e| Error::polars("reading departments", e))?;
        known_areas.extend(a.into_iter().flatten().map(str::to_string));
        Ok(())
    };
    if store.latest().is_some() {
        let df = store
            .snapshot(None)?
            .table(StoredTable::Departments)?
            .select([col("department_id"), col("area_id")])
            .collect()
            .map_err(|e| Error::polars("reading the store's departments", e))?;
        add(&df)?;
    }
    for (_, p) in parsed {
        if let Some(df) = &p.departments {
            add(df)?;
        }
    }
    for (i, p) in parsed {
        let file = &outcomes[*i].file;
        let mut listed = 0;
        for (what, refs, known) in [
            ("department", &p.referenced_departments, &known_depts),
            ("housing area", &p.referenced_areas, &known_areas),
        ] {
            for (id, loc, rows) in refs {
                if known.contains(id) {
                    continue;
                }
                let issue = Issue {
                    file: file.clone(),
                    location: loc.clone(),
                    column: Some(if what == "department" { "department_id" } else { "area_id" }.into()),
                    message: format!(
                        "unknown {what} '{id}' ({rows} row(s), first at {}): expected a {what} of the store's \
                         departments or of a departments file in this ingest",
                        describe(loc)
                    ),
                };
                if listed < crate::tables::ISSUE_CAP {
                    rejection.issues.push(issue);
                    listed += 1;
                } else {
                    match rejection.not_listed.iter_mut().find(|(f, _)| f == file) {
                        Some((_, n)) => *n += 1,
                        None => rejection.not_listed.push((file.clone(), 1)),
                    }
                }
            }
        }
    }
    Ok(())
}
