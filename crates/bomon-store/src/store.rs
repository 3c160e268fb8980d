//! The store: an append-only Parquet dataset with a manifest of snapshots.
//!
//! Layout of a store directory:
//!
//! ```text
//! STORE/manifest.json                         the only mutable file, replaced atomically
//! STORE/lock                                  held (flock) by the one writer
//! STORE/data/<table>/s<snapshot>-<hash>.parquet
//! STORE/data/observations/period=<P>/s<snapshot>-<hash>.parquet
//! STORE/tmp/                                  files being written; never read
//! ```
//!
//! A commit writes its data files under `tmp/`, fsyncs them, renames them into
//! `data/`, fsyncs the directories, and only then replaces `manifest.json` (write,
//! fsync, rename, fsync). A reader sees only files the manifest lists, so a crash
//! at any point leaves either the previous snapshot or the new one - never a mix.
//! Files left behind by an interrupted commit are removed by the next writer.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Per indicator, a dense array over (department, period): see
/// [`Snapshot::dense_observations`].
pub type Dense = Vec<Vec<f64>>;

/// The on-disk format version this build writes and reads.
/// Format 2 added `observations.suppressed` and the `area_observations`
/// table; a format-1 store is read as it is (its observation files without
/// the column) and becomes format 2 with its next commit.
pub const FORMAT_VERSION: u32 = 2;
const MANIFEST: &str = "manifest.json";

/// The tables a store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoredTable {
    /// Department master data.
    Departments,
    /// Extra numeric structural covariates of departments (long).
    DepartmentCovariates,
    /// Observations (long), partitioned by period.
    Observations,
    /// Published figures of housing areas (import profiles with level = "area").
    AreaObservations,
    /// Imported municipal categories.
    Categories,
    /// Reviews recorded in the store: one row per review run (a re-run of
    /// the same kind, period and scope supersedes).
    Reviews,
    /// The flags of recorded reviews.
    ReviewFlags,
    /// The triage of recorded reviews: rank, score, whether an assessment was asked.
    ReviewDepartments,
    /// The qualitative-assessment log: append-only (every entry has its own
    /// id; a correction is a new entry that supersedes by date).
    Assessments,
}

impl StoredTable {
    /// All tables, in a fixed order.
    pub const ALL: [StoredTable; 9] = [
        StoredTable::Departments,
        StoredTable::DepartmentCovariates,
        StoredTable::Observations,
        StoredTable::AreaObservations,
        StoredTable::Categories,
        StoredTable::Reviews,
        StoredTable::ReviewFlags,
        StoredTable::ReviewDepartments,
        StoredTable::Assessments,
    ];

    /// The table's name in the store and in SQL.
    pub fn name(self) -> &'static str {
        match self {
            StoredTable::Departments => "departments",
            StoredTable::DepartmentCovariates => "department_covariates",
            StoredTable::Observations => "observations",
            StoredTable::AreaObservations => "area_observations",
            StoredTable::Categories => "categories",
            StoredTable::Reviews => "reviews",
            StoredTable::ReviewFlags => "review_flags",
            StoredTable::ReviewDepartments => "review_departments",
            StoredTable::Assessments => "assessments",
        }
    }

    fn from_name(s: &str) -> Option<StoredTable> {
        StoredTable::ALL.into_iter().find(|t| t.name() == s)
    }

    /// The columns that identify a row; a later snapshot's row with the same
    /// key supersedes an earlier one.
    pub fn key(self) -> &'static [&'static str] {
        match self {
            StoredTable::Departments => &["department_id"],
            StoredTable::DepartmentCovariates => &["department_id", "covariate"],
            StoredTable::Observations => &["department_id", "period", "indicator"],
            StoredTable::AreaObservations => &["area_id", "period", "indicator"],
            StoredTable::Categories => &["area_id", "department_id", "period"],
            StoredTable::Reviews => &["review_id"],
            StoredTable::ReviewFlags => &[
                "review_id",
                "department_id",
                "indicator",
                "test",
                "comparator",
            ],
            StoredTable::ReviewDepartments => &["review_id", "department_id"],
            StoredTable::Assessments => &["assessment_id"],
        }
    }

    /// The table's schema (every stored file has exactly these columns).
    pub fn schema(self) -> Schema {
        use DataType::*;
        let cols: &[(&str, DataType)] = match self {
            StoredTable::Departments => &[
                ("department_id", String),
                ("name", String),
                ("organisation", String),
                ("municipality_code", String),
                ("area_id", String),
                ("housing_type", String),
                ("tenancies", Int64),
                ("construction_year", Int32),
                ("snapshot", Int32),
            ],
            StoredTable::DepartmentCovariates => &[
                ("department_id", String),
                ("covariate", String),
                ("value", Float64),
                ("snapshot", Int32),
            ],
            StoredTable::Observations => &[
                ("department_id", String),
                ("period", String),
                ("year", Int32),
                ("quarter", Int32),
                ("indicator", String),
                ("numerator", Float64),
                ("denominator", Float64),
                ("value", Float64),
                // Suppressed at the source ("diskretioneret"): no figure, never
                // tested. Null in files of stores written before this column.
                ("suppressed", Boolean),
                ("snapshot", Int32),
            ],
            StoredTable::AreaObservations => &[
                ("area_id", String),
                ("name", String),
                ("municipality_code", String),
                ("period", String),
                ("year", Int32),
                ("quarter", Int32),
                ("indicator", String),
                ("numerator", Float64),
                ("denominator", Float64),
                ("value", Float64),
                ("suppressed", Boolean),
                ("snapshot", Int32),
            ],
            StoredTable::Categories => &[
                ("area_id", String),
                ("department_id", String),
                ("period", String),
                ("category", String),
                ("snapshot", Int32),
            ],
            StoredTable::Reviews => &[
                ("review_id", String),
                ("kind", String),
                ("period", String),
                ("scope", String),
                ("reviewed_snapshot", Int32),
                ("created", String),
                ("config_sha256", String),
                ("departments", Int64),
                ("flags", Int64),
                ("expected_false_alarms", Float64),
                ("snapshot", Int32),
            ],
            StoredTable::ReviewFlags => &[
                ("review_id", String),
                ("department_id", String),
                ("period", String),
                ("indicator", String),
                ("test", String),
                ("comparator", String),
                ("value", Float64),
                ("reference", Float64),
                ("z", Float64),
                ("q", Float64),
                ("severity", String),
                ("rule", String),
                ("attribution", String),
                ("snapshot", Int32),
            ],
            StoredTable::ReviewDepartments => &[
                ("review_id", String),
                ("department_id", String),
                ("period", String),
                ("rank", Int64),
                ("score", Float64),
                ("category", String),
                ("needs_assessment", Boolean),
                ("reason", String),
                ("snapshot", Int32),
            ],
            StoredTable::Assessments => &[
                ("assessment_id", String),
                ("department_id", String),
                ("period", String),
                ("assessed_on", String),
                ("assessed_by_role", String),
                ("outcome", String),
                ("note", String),
                ("source", String),
                ("snapshot", Int32),
            ],
        };
        cols.iter()
            .map(|(n, t)| Field::new((*n).into(), t.clone()))
            .collect()
    }
}

/// One data file of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    /// Table name.
    pub table: String,
    /// Path relative to the store root.
    pub path: String,
    /// Number of rows.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Modification time when stored (ns since the epoch): a file whose time
    /// differs was touched since and is checked against its checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime_ns: Option<u128>,
    /// The store format the file was written in (absent: 1, before
    /// `observations.suppressed` existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<u32>,
    /// Whether no two rows of the file share the table's key (checked when
    /// written; absent: unknown). An observation file with unique keys that
    /// is the only one of its period needs no search for superseded rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_keys: Option<bool>,
}

fn mtime_ns(meta: &fs::Metadata) -> Option<u128> {
    meta.modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_nanos())
}

/// One row count of an input file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableCount {
    /// Table kind read.
    pub table: String,
    /// Rows accepted.
    pub rows: usize,
}

/// An input file ingested into a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputRecord {
    /// File name as given.
    pub file: String,
    /// SHA-256 of the file's bytes (re-ingesting the same content is a no-op).
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Format: csv, xlsx or parquet.
    pub format: String,
    /// The CSV dialect, when detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialect: Option<String>,
    /// Tables read from it.
    pub tables: Vec<TableCount>,
}

/// A snapshot: the state of the store after one successful ingest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// Sequential id, from 1.
    pub id: u32,
    /// When it was committed (UTC, RFC 3339).
    pub created: String,
    /// bomon version that wrote it.
    pub engine_version: String,
    /// SHA-256 of the indicator catalogue used for validation.
    pub catalogue_sha256: String,
    /// Input files.
    pub inputs: Vec<InputRecord>,
    /// Data files added by this snapshot.
    pub files: Vec<FileEntry>,
    /// Data files of earlier snapshots this one rewrote to remove personal
    /// data (`bomon assess scrub`): the only change ever made to a stored
    /// file. The old file is deleted; the earlier snapshot's entry points to
    /// the rewritten one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redactions: Vec<Redaction>,
}

/// One data file rewritten by a redaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Redaction {
    /// The snapshot whose file was rewritten.
    pub snapshot: u32,
    /// The file's path before.
    pub old_path: String,
    /// SHA-256 of the file before.
    pub old_sha256: String,
    /// The rewritten file.
    pub new_path: String,
    /// Rows changed in it.
    pub rows_redacted: u64,
    /// Why.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    format: String,
    format_version: u32,
    snapshots: Vec<SnapshotInfo>,
}

impl Manifest {
    fn empty() -> Self {
        Manifest {
            format: "bomon-store".into(),
            format_version: FORMAT_VERSION,
            snapshots: vec![],
        }
    }
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    manifest: Manifest,
}

/// The writer's exclusive lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct WriteLock {
    _file: File,
    /// The latest snapshot when the lock was taken: a commit under this lock
    /// goes on top of exactly this one (checked against the manifest on disk).
    base: u32,
}

/// Reads and checks `root/manifest.json`.
fn read_manifest(root: &Path) -> Result<Manifest> {
    let path = root.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::Store {
                    path: root.to_path_buf(),
                    message: "not a bomon store (no manifest.json); `bomon ingest --store DIR FILE...` creates one".into(),
                })
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::Store {
        path: root.to_path_buf(),
        message: format!("manifest.json is damaged ({e}); `bomon store verify` tells more"),
    })?;
    if manifest.format != "bomon-store" {
        return Err(Error::Store {
            path: root.to_path_buf(),
            message: format!(
                "manifest.json is not a bomon store manifest (format \"{}\")",
                manifest.format
            ),
        });
    }
    if manifest.format_version > FORMAT_VERSION {
        return Err(Error::Store {
                path: root.to_path_buf(),
                message: format!(
                    "written by a newer bomon (store format {}, this build reads up to {FORMAT_VERSION}); upgrade bomon",
                    manifest.format_version
                ),
            });
    }
    Ok(manifest)
}

fn fsync_dir(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(path, e))
}

/// Current time as RFC 3339 UTC, seconds precision.
pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Store {
    /// Opens an existing store.
    pub fn open(root: &Path) -> Result<Store> {
        Ok(Store {
            root: root.to_path_buf(),
            manifest: read_manifest(root)?,
        })
    }

    /// Re-reads the manifest from disk (what other writers committed since).
    fn reload(&mut self) -> Result<()> {
        if self.root.join(MANIFEST).exists() {
            self.manifest = read_manifest(&self.root)?;
        }
        Ok(())
    }

    /// Opens a store, creating an empty one if the directory has none.
    pub fn open_or_create(root: &Path) -> Result<Store> {
        if root.join(MANIFEST).exists() {
            return Store::open(root);
        }
        fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        Ok(Store {
            root: root.to_path_buf(),
            manifest: Manifest::empty(),
        })
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// All snapshots, oldest first.
    pub fn snapshots(&self) -> &[SnapshotInfo] {
        &self.manifest.snapshots
    }

    /// The latest snapshot's id, if any.
    pub fn latest(&self) -> Option<u32> {
        self.manifest.snapshots.last().map(|s| s.id)
    }

    /// The snapshot that already holds an input file with this content hash,
    /// provided what it stored is still the current state: no later snapshot
    /// wrote to the same tables (for observations: the same periods). After
    /// a v1 -> v2 -> v1 sequence the third file is therefore stored again
    /// (the state is v2, not v1), while re-sending an unchanged file stays a
    /// no-op.
    pub fn current_snapshot_with_input(&self, sha256: &str) -> Option<u32> {
        let snaps = &self.manifest.snapshots;
        let at = snaps
            .iter()
            .rposition(|s| s.inputs.iter().any(|i| i.sha256 == sha256))?;
        let place = |f: &FileEntry| {
            let dir = f.path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
            (f.table.clone(), dir)
        };
        let touched: HashSet<(String, String)> = snaps[at].files.iter().map(place).collect();
        let superseded = snaps[at + 1..]
            .iter()
            .flat_map(|s| s.files.iter())
            .any(|f| touched.contains(&place(f)));
        (!superseded).then_some(snaps[at].id)
    }

    /// A view of one snapshot (`None`: the latest).
    pub fn snapshot(&self, id: Option<u32>) -> Result<Snapshot<'_>> {
        self.check_integrity()?;
        let id = match id {
            Some(id) => {
                if !self.manifest.snapshots.iter().any(|s| s.id == id) {
                    return Err(Error::NoSuchSnapshot(id));
                }
                id
            }
            None => self.latest().unwrap_or(0),
        };
        Ok(Snapshot { store: self, id })
    }

    /// Takes the writer's lock, waiting for another writer to finish (at most
    /// `BOMON_LOCK_WAIT_SECS`, default 300 s), and then re-reads the manifest:
    /// whatever a writer decides under the lock it decides on the current
    /// state, and its commit goes on top of every snapshot acknowledged before.
    pub fn lock(&mut self) -> Result<WriteLock> {
        let path = self.root.join("lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        use std::os::unix::io::AsRawFd;
        let wait = std::env::var("BOMON_LOCK_WAIT_SECS")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .unwrap_or(300.0);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(wait);
        let mut pause = std::time::Duration::from_millis(2);
        loop {
            // SAFETY: flock on a file descriptor we own; no memory is involved.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                break;
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK)
                && err.kind() != io::ErrorKind::Interrupted
            {
                return Err(Error::io(&path, err));
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::Store {
                    path: self.root.clone(),
                    message: format!(
                        "another bomon process has been writing to this store for more than {wait:.0} s; nothing was changed - try again when it has finished (BOMON_LOCK_WAIT_SECS sets the wait)"
                    ),
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(50));
        }
        self.reload()?;
        Ok(WriteLock {
            _file: file,
            base: self.latest().unwrap_or(0),
        })
    }

    /// Removes what an interrupted commit left behind: `tmp/` and data files
    /// that no snapshot lists. Needs the lock.
    pub fn clean_orphans(&self, _lock: &WriteLock) -> Result<usize> {
        let tmp = self.root.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        let listed: HashSet<PathBuf> = self
            .manifest
            .snapshots
            .iter()
            .flat_map(|s| s.files.iter().map(|f| self.root.join(&f.path)))
            .collect();
        let mut removed = 0;
        let data = self.root.join("data");
        if data.exists() {
            let mut stack = vec![data];
            while let Some(dir) = stack.pop() {
                for entry in fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
                    let p = entry.map_err(|e| Error::io(&dir, e))?.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if !listed.contains(&p) {
                        fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
                        removed += 1;
                    }
                }
            }
        }
        Ok(removed)
    }

    /// Commits a new snapshot holding `frames` (rows of each table, without the
    /// `snapshot` column). Atomic: see the module documentation.
    pub fn commit(
        &mut self,
        lock: &WriteLock,
        frames: Vec<(StoredTable, DataFrame)>,
        inputs: Vec<InputRecord>,
        catalogue_sha256: &str,
    ) -> Result<u32> {
        // Compare and swap: the manifest on disk must still be the one the
        // lock was taken on (no writer commits without the lock, so this only
        // fails if the store was changed outside bomon or the lock was lost).
        let on_disk = if self.root.join(MANIFEST).exists() {
            read_manifest(&self.root)?
                .snapshots
                .last()
                .map_or(0, |s| s.id)
        } else {
            0
        };
        if on_disk != lock.base || self.latest().unwrap_or(0) != lock.base {
            return Err(Error::Store {
                path: self.root.clone(),
                message: format!(
                    "the store changed while this command held its lock (latest snapshot {on_disk}, expected {}); nothing was written - run the command again",
                    lock.base
                ),
            });
        }
        self.check_integrity()?;
        self.clean_orphans(lock)?;
        let id = lock.base + 1;
        let tmp = self.root.join("tmp");
        fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;

        // 1. Write every data file under tmp/ and fsync it.
        let mut staged: Vec<(PathBuf, String, FileEntry)> = Vec::new();
        for (table, df) in frames {
            if df.height() == 0 {
                continue;
            }
            let parts: Vec<(Option<String>, DataFrame)> = if table == StoredTable::Observations {
                partition_by_period(&df)?
            } else {
                vec![(None, df)]
            };
            for (period, mut part) in parts {
                let n = part.height();
                part.with_column(Column::new_scalar(
                    "snapshot".into(),
                    Scalar::new(DataType::Int32, AnyValue::Int32(id as i32)),
                    n,
                ))
                .map_err(|e| Error::polars("adding the snapshot column", e))?;
                // Columns a writer does not produce (e.g. `suppressed` of a
                // canonical file) are stored as nulls.
                for (name, dtype) in table.schema().iter() {
                    if part.column(name).is_err() {
                        part.with_column(Column::full_null(name.clone(), n, dtype))
                            .map_err(|e| Error::polars("adding a column", e))?;
                    }
                }
                let part = part
                    .select(table.schema().iter_names().cloned())
                    .map_err(|e| Error::polars("ordering columns", e))?;
                // Observations (the one large table) note whether their
                // keys are unique, so that reading skips the search for
                // superseded rows where nothing can be superseded.
                let unique_keys = if table == StoredTable::Observations {
                    let keys = part
                        .select(table.key().iter().copied())
                        .and_then(|k| k.unique::<(), ()>(None, UniqueKeepStrategy::Any, None))
                        .map_err(|e| Error::polars("checking the keys", e))?;
                    Some(keys.height() == n)
                } else {
                    None
                };
                let tmp_path = tmp.join(format!("{}-{}.parquet", table.name(), staged.len()));
                let (bytes, sha) = write_parquet(&tmp_path, part)?;
                let dir = match &period {
                    Some(p) => format!("data/{}/period={p}", table.name()),
                    None => format!("data/{}", table.name()),
                };
                let rel = format!("{dir}/s{id:06}-{}.parquet", &sha[..16]);
                staged.push((
                    tmp_path,
                    dir,
                    FileEntry {
                        table: table.name().into(),
                        path: rel,
                        rows: n as u64,
                        bytes,
                        sha256: sha,
                        mtime_ns: None,
                        format: Some(FORMAT_VERSION),
                        unique_keys,
                    },
                ));
            }
        }

        // 2. Move them into data/ and make the renames durable.
        let mut dirs = std::collections::BTreeSet::new();
        for (tmp_path, dir, entry) in staged.iter_mut() {
            let d = self.root.join(&*dir);
            fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
            let dest = self.root.join(&entry.path);
            fs::rename(&*tmp_path, &dest).map_err(|e| Error::io(&dest, e))?;
            entry.mtime_ns = fs::metadata(&dest).ok().as_ref().and_then(mtime_ns);
            dirs.insert(d);
        }
        for d in &dirs {
            fsync_dir(d)?;
            if let Some(parent) = d.parent() {
                fsync_dir(parent)?;
            }
        }
        fsync_dir(&self.root.join("data")).ok();

        // 3. Publish: the new manifest replaces the old one atomically.
        let mut manifest = self.manifest.clone();
        manifest.snapshots.push(SnapshotInfo {
            id,
            created: now_rfc3339(),
            engine_version: env!("CARGO_PKG_VERSION").into(),
            catalogue_sha256: catalogue_sha256.into(),
            inputs,
            files: staged.into_iter().map(|(_, _, e)| e).collect(),
            redactions: vec![],
        });
        self.publish_manifest(manifest)?;
        fs::remove_dir_all(&tmp).ok();
        Ok(id)
    }

    /// Rewrites the stored files of `table` that `rewrite` changes (it gets
    /// a file's rows and returns the rewritten rows and how many changed, or
    /// `None` to leave the file), and records that as a new snapshot with no
    /// data of its own. This is the one exception to append-only storage and
    /// exists to remove personal data that should never have been stored:
    /// the old files are deleted once the new manifest is in place, so the
    /// history keeps only the rewritten text. Returns the new snapshot, or
    /// `None` when nothing changed.
    pub fn redact(
        &mut self,
        lock: &WriteLock,
        table: StoredTable,
        reason: &str,
        rewrite: &mut dyn FnMut(DataFrame) -> Result<Option<(DataFrame, u64)>>,
    ) -> Result<Option<u32>> {
        let on_disk = read_manifest(&self.root)?
            .snapshots
            .last()
            .map_or(0, |s| s.id);
        if on_disk != lock.base || self.latest().unwrap_or(0) != lock.base {
            return Err(Error::Store {
                path: self.root.clone(),
                message: "the store changed while this command held its lock; nothing was written - run the command again".into(),
            });
        }
        self.check_integrity()?;
        self.clean_orphans(lock)?;
        let id = lock.base + 1;
        let tmp = self.root.join("tmp");
        fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut manifest = self.manifest.clone();
        let mut redactions = Vec::new();
        let mut old_files = Vec::new();
        let mut n = 0;
        for snap in manifest.snapshots.iter_mut() {
            for f in snap.files.iter_mut().filter(|f| f.table == table.name()) {
                let path = self.root.join(&f.path);
                let df = self
                    .scan(table, vec![path.clone()])?
                    .collect()
                    .map_err(|e| Error::polars(format!("reading {}", f.path), e))?;
                let Some((new, changed)) = rewrite(df)? else {
                    continue;
                };
                let new = new
                    .select(table.schema().iter_names().cloned())
                    .map_err(|e| Error::polars("ordering columns", e))?;
                let tmp_path = tmp.join(format!("redact-{n}.parquet"));
                n += 1;
                let rows = new.height() as u64;
                let (bytes, sha) = write_parquet(&tmp_path, new)?;
                let dir = f.path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
                let rel = format!("{dir}/s{:06}-{}-r{id:06}.parquet", snap.id, &sha[..16]);
                let dest = self.root.join(&rel);
                fs::rename(&tmp_path, &dest).map_err(|e| Error::io(&dest, e))?;
                fsync_dir(&self.root.join(&dir))?;
                redactions.push(Redaction {
                    snapshot: snap.id,
                    old_path: f.path.clone(),
                    old_sha256: f.sha256.clone(),
                    new_path: rel.clone(),
                    rows_redacted: changed,
                    reason: reason.into(),
                });
                old_files.push(path);
                *f = FileEntry {
                    table: f.table.clone(),
                    path: rel,
                    rows,
                    bytes,
                    sha256: sha,
                    mtime_ns: fs::metadata(&dest).ok().as_ref().and_then(mtime_ns),
                    format: Some(FORMAT_VERSION),
                    // Not checked again: read with the search for
                    // superseded rows, as a file of an older bomon is.
                    unique_keys: None,
                };
            }
        }
        if redactions.is_empty() {
            fs::remove_dir_all(&tmp).ok();
            return Ok(None);
        }
        manifest.snapshots.push(SnapshotInfo {
            id,
            created: now_rfc3339(),
            engine_version: env!("CARGO_PKG_VERSION").into(),
            catalogue_sha256: manifest
                .snapshots
                .last()
                .map(|s| s.catalogue_sha256.clone())
                .unwrap_or_default(),
            inputs: vec![],
            files: vec![],
            redactions,
        });
        self.publish_manifest(manifest)?;
        for p in old_files {
            fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
        }
        fs::remove_dir_all(&tmp).ok();
        Ok(Some(id))
    }

    fn scan(&self, table: StoredTable, files: Vec<PathBuf>) -> Result<LazyFrame> {
        scan_files(&self.manifest, &self.root, table, files)
    }

    /// Replaces manifest.json atomically (write, fsync, rename, fsync).
    fn publish_manifest(&mut self, mut manifest: Manifest) -> Result<()> {
        manifest.format_version = FORMAT_VERSION;
        let text = serde_json::to_string_pretty(&manifest).expect("manifest serialises");
        let tmp_manifest = self.root.join("manifest.json.tmp");
        {
            let mut f = File::create(&tmp_manifest).map_err(|e| Error::io(&tmp_manifest, e))?;
            f.write_all(text.as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| Error::io(&tmp_manifest, e))?;
        }
        let final_manifest = self.root.join(MANIFEST);
        fs::rename(&tmp_manifest, &final_manifest).map_err(|e| Error::io(&final_manifest, e))?;
        fsync_dir(&self.root)?;
        self.manifest = manifest;
        Ok(())
    }

    /// A cheap integrity check every reading or writing command runs before
    /// it trusts the store: each data file of the manifest exists with the
    /// recorded size, and a file changed after its snapshot was written
    /// (modification time later than the snapshot's) must still match its
    /// checksum. An altered or truncated file refuses the command with a
    /// clear error; `bomon store verify` checks every checksum.
    pub fn check_integrity(&self) -> Result<()> {
        for s in &self.manifest.snapshots {
            let written = humantime::parse_rfc3339(&s.created)
                .ok()
                .map(|t| t + std::time::Duration::from_secs(2));
            for f in &s.files {
                let p = self.root.join(&f.path);
                let fail = |what: String| {
                    Error::Store {
                    path: self.root.clone(),
                    message: format!(
                        "{}: {what} - the store was altered outside bomon; nothing was read or changed (run `bomon store verify` for a full check)",
                        f.path
                    ),
                }
                };
                let meta = fs::metadata(&p).map_err(|e| fail(format!("missing ({e})")))?;
                if meta.len() != f.bytes {
                    return Err(fail(format!(
                        "{} bytes, the manifest of snapshot {} says {} (truncated or altered)",
                        meta.len(),
                        s.id,
                        f.bytes
                    )));
                }
                let changed = match (f.mtime_ns, mtime_ns(&meta)) {
                    (Some(recorded), Some(now)) => recorded != now,
                    _ => match (meta.modified().ok(), written) {
                        (Some(m), Some(w)) => m > w,
                        _ => true,
                    },
                };
                if changed {
                    let bytes = fs::read(&p).map_err(|e| fail(format!("unreadable ({e})")))?;
                    if hex::encode(Sha256::digest(&bytes)) != f.sha256 {
                        return Err(fail(format!(
                            "content differs from the checksum of snapshot {}",
                            s.id
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Re-reads every data file and checks it against the manifest.
    /// Returns one line per problem; empty when the store is intact.
    pub fn verify(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        for s in &self.manifest.snapshots {
            for f in &s.files {
                let p = self.root.join(&f.path);
                match fs::read(&p) {
                    Err(e) => problems.push(format!("snapshot {}: {}: {e}", s.id, f.path)),
                    Ok(bytes) => {
                        if bytes.len() as u64 != f.bytes {
                            problems.push(format!(
                                "snapshot {}: {}: {} bytes, the manifest says {}",
                                s.id,
                                f.path,
                                bytes.len(),
                                f.bytes
                            ));
                        } else if hex::encode(Sha256::digest(&bytes)) != f.sha256 {
                            problems.push(format!(
                                "snapshot {}: {}: content differs from the manifest's checksum",
                                s.id, f.path
                            ));
                        }
                    }
                }
            }
        }
        Ok(problems)
    }
}

/// Columns a table gained after store format 1 (absent from older files).
fn added_after_format_1(table: StoredTable) -> &'static [&'static str] {
    match table {
        StoredTable::Observations => &["suppressed"],
        _ => &[],
    }
}

/// Scans `files` of `table` as one frame with the table's schema. Files of
/// store format 1 lack the columns added since: they are scanned with the
/// old schema and get those columns as nulls, then both are concatenated
/// (polars' `allow_missing_columns` panics in row-group pruning in 0.46).
fn scan_files(
    manifest: &Manifest,
    root: &Path,
    table: StoredTable,
    files: Vec<PathBuf>,
) -> Result<LazyFrame> {
    let schema = table.schema();
    if files.is_empty() {
        return Ok(DataFrame::empty_with_schema(&schema).lazy());
    }
    let added = added_after_format_1(table);
    let legacy: HashSet<PathBuf> = if added.is_empty() {
        HashSet::new()
    } else {
        manifest
            .snapshots
            .iter()
            .flat_map(|s| s.files.iter())
            .filter(|f| f.format.is_none() && f.table == table.name())
            .map(|f| root.join(&f.path))
            .collect()
    };
    let (old, new): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|p| legacy.contains(p));
    let err = |e| Error::polars(format!("reading table {}", table.name()), e);
    let scan = |files: Vec<PathBuf>, schema: Schema| {
        let mut args = ScanArgsParquet::default();
        args.hive_options.enabled = Some(false);
        args.schema = Some(Arc::new(schema));
        LazyFrame::scan_parquet_files(files.into(), args).map_err(err)
    };
    let mut parts = Vec::new();
    if !new.is_empty() {
        parts.push(scan(new, schema.clone())?);
    }
    if !old.is_empty() {
        let old_schema: Schema = schema
            .iter()
            .filter(|(n, _)| !added.contains(&n.as_str()))
            .map(|(n, t)| Field::new(n.clone(), t.clone()))
            .collect();
        let mut lf = scan(old, old_schema)?;
        for (n, t) in schema.iter() {
            if added.contains(&n.as_str()) {
                lf = lf.with_column(lit(NULL).cast(t.clone()).alias(n.clone()));
            }
        }
        parts.push(
            lf.select(
                schema
                    .iter_names()
                    .map(|n| col(n.clone()))
                    .collect::<Vec<_>>(),
            ),
        );
    }
    if parts.len() == 1 {
        return Ok(parts.pop().expect("one part"));
    }
    concat(parts, UnionArgs::default()).map_err(err)
}

/// Splits observations by period, in order of first appearance.
fn partition_by_period(df: &DataFrame) -> Result<Vec<(Option<String>, DataFrame)>> {
    let periods = df
        .column("period")
        .and_then(|c| c.str().cloned())
        .map_err(|e| Error::polars("reading periods", e))?;
    let mut groups: BTreeMap<String, Vec<IdxSize>> = BTreeMap::new();
    for (i, p) in periods.into_iter().enumerate() {
        groups
            .entry(p.unwrap_or("").to_string())
            .or_default()
            .push(i as IdxSize);
    }
    groups
        .into_iter()
        .map(|(p, idx)| {
            let idx = IdxCa::from_vec("idx".into(), idx);
            df.take(&idx)
                .map(|part| (Some(p), part))
                .map_err(|e| Error::polars("partitioning observations", e))
        })
        .collect()
}

/// A writer that hashes what passes through it.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `df` as zstd-compressed Parquet and fsyncs it; returns size and SHA-256.
fn write_parquet(path: &Path, mut df: DataFrame) -> Result<(u64, String)> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = HashingWriter {
        inner: io::BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    ParquetWriter::new(&mut w)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::full())
        .finish(&mut df)
        .map_err(|e| Error::polars(format!("writing {}", path.display()), e))?;
    w.flush().map_err(|e| Error::io(path, e))?;
    let HashingWriter {
        inner,
        hasher,
        bytes,
    } = w;
    let file = inner
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(path, e))?;
    Ok((bytes, hex::encode(hasher.finalize())))
}

/// A read-only view of the store as of one snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'s> {
    store: &'s Store,
    id: u32,
}

impl<'s> Snapshot<'s> {
    /// The snapshot's id (0 for an empty store).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Data files of `table` visible in this snapshot, oldest first.
    pub fn files(&self, table: StoredTable) -> Vec<PathBuf> {
        self.file_entries(table)
            .map(|f| self.store.root.join(&f.path))
            .collect()
    }

    /// The manifest's entries of [`Snapshot::files`].
    fn file_entries(&self, table: StoredTable) -> impl Iterator<Item = &FileEntry> {
        self.store
            .manifest
            .snapshots
            .iter()
            .filter(|s| s.id <= self.id)
            .flat_map(|s| s.files.iter())
            .filter(move |f| StoredTable::from_name(&f.table) == Some(table))
    }

    /// Every row ever stored in `table` up to this snapshot, superseded ones
    /// included, with the `snapshot` that stored it.
    pub fn history(&self, table: StoredTable) -> Result<LazyFrame> {
        self.scan(table, self.files(table))
    }

    /// The observation files of the periods `keep` accepts (observations are
    /// stored one file per period, `period=2025/` or `period=2025Q3/`), so a
    /// reader of a few periods opens only their files.
    fn observation_files(&self, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
        self.files(StoredTable::Observations)
            .into_iter()
            .filter(|p| {
                p.components()
                    .filter_map(|c| c.as_os_str().to_str())
                    .find_map(|c| c.strip_prefix("period="))
                    .is_none_or(&keep)
            })
            .collect()
    }

    /// The years with annual observations up to this snapshot, from the
    /// store's file layout (no data read).
    pub fn annual_years(&self) -> Vec<i32> {
        let mut y: Vec<i32> = self
            .files(StoredTable::Observations)
            .iter()
            .filter_map(|p| {
                p.components()
                    .filter_map(|c| c.as_os_str().to_str())
                    .find_map(|c| c.strip_prefix("period="))
                    .and_then(|p| match p.parse::<crate::Period>() {
                        Ok(crate::Period::Year(y)) => Some(y),
                        _ => None,
                    })
            })
            .collect();
        y.sort_unstable();
        y.dedup();
        y
    }

    fn scan(&self, table: StoredTable, files: Vec<PathBuf>) -> Result<LazyFrame> {
        scan_files(&self.store.manifest, &self.store.root, table, files)
    }

    /// Annual observations (quarter empty) of `first..=last` as of this snapshot:
    /// department_id, year, indicator, numerator, denominator, value.
    pub fn annual_observations(&self, first: i32, last: i32) -> Result<DataFrame> {
        self.table(StoredTable::Observations)?
            .filter(
                col("quarter")
                    .is_null()
                    .and(col("year").gt_eq(lit(first)))
                    .and(col("year").lt_eq(lit(last))),
            )
            .select([
                col("department_id"),
                col("year"),
                col("indicator"),
                col("numerator"),
                col("denominator"),
                col("value"),
            ])
            .collect()
            .map_err(|e| Error::polars("reading annual observations", e))
    }

    /// Every stored version of the annual (`quarterly` false: years
    /// `first..=last`) or quarterly (`quarterly` true: quarters `first..=last`
    /// as `year * 4 + quarter - 1`) observations up to this snapshot, lazily:
    /// department_id, indicator, `k` (the period's offset from `first`),
    /// numerator, denominator, value, snapshot. A reader that sorts by
    /// snapshot and writes the rows in that order into a dense array keeps,
    /// for every key, the latest version - what [`Snapshot::table`] gives -
    /// without a unique over string keys (the period filter commutes with it:
    /// year and quarter are functions of the key's `period`).
    pub fn observation_versions(
        &self,
        quarterly: bool,
        first: i32,
        last: i32,
    ) -> Result<LazyFrame> {
        let (at, period_filter) = if quarterly {
            let qi = col("year") * lit(4) + col("quarter") - lit(1);
            (
                qi.clone(),
                col("quarter")
                    .is_not_null()
                    .and(qi.clone().gt_eq(lit(first)))
                    .and(qi.lt_eq(lit(last))),
            )
        } else {
            (
                col("year"),
                col("quarter")
                    .is_null()
                    .and(col("year").gt_eq(lit(first)))
                    .and(col("year").lt_eq(lit(last))),
            )
        };
        let files = self.observation_files(|p| match (quarterly, p.parse::<crate::Period>()) {
            (false, Ok(crate::Period::Year(y))) => (first..=last).contains(&y),
            (true, Ok(q @ crate::Period::Quarter(..))) => q
                .quarter_index()
                .is_some_and(|i| (first..=last).contains(&i)),
            _ => false,
        });
        Ok(self
            .scan(StoredTable::Observations, files)?
            .filter(period_filter)
            .select([
                col("department_id"),
                col("indicator"),
                (at - lit(first)).alias("k"),
                col("numerator"),
                col("denominator"),
                col("value"),
                col("snapshot"),
            ]))
    }

    /// Numerators and denominators of `departments` x `indicators` over the
    /// annual (`quarterly` false: years `first..=last`) or quarterly periods,
    /// as dense arrays: `num[i][d * periods + k]` for indicator `i`,
    /// department `d` and period offset `k`; NaN where nothing is stored. A
    /// stored `value` (a level, not a count) goes into `num` with `den` NaN.
    /// One pass over the rows as read: ids coded by a hash lookup only where
    /// they change (files hold a department's rows together), and a later
    /// snapshot's version of a cell overwrites an earlier one by the
    /// snapshot number kept per cell - no join, no sort, no unique over
    /// string keys.
    pub fn dense_observations(
        &self,
        quarterly: bool,
        first: i32,
        last: i32,
        departments: &[&str],
        indicators: &[&str],
    ) -> Result<(Dense, Dense)> {
        let obs = self.observation_rows(quarterly, first, last)?;
        dense_from_rows(obs, first, last, departments, indicators)
    }

    /// The rows [`Snapshot::dense_observations`] reads: department_id,
    /// indicator, k (the period's offset from `first`), numerator,
    /// denominator, value (floats) and snapshot, every version held. Apart
    /// so that a caller can read them while it reads other tables.
    pub fn observation_rows(&self, quarterly: bool, first: i32, last: i32) -> Result<DataFrame> {
        self.observation_versions(quarterly, first, last)?
            // Keys are never empty in a store; should one be, its row is
            // left out here so that the pass below reads values only.
            .filter(
                col("department_id")
                    .is_not_null()
                    .and(col("indicator").is_not_null())
                    .and(col("k").is_not_null()),
            )
            .select([
                col("department_id"),
                col("indicator"),
                col("k").cast(DataType::Int32),
                col("numerator").cast(DataType::Float64),
                col("denominator").cast(DataType::Float64),
                col("value").cast(DataType::Float64),
                col("snapshot").cast(DataType::Int32),
            ])
            .collect()
            .map_err(|e| Error::polars("reading observations", e))
    }
    /// `table` as of this snapshot: for each key, the row of the latest snapshot.
    pub fn table(&self, table: StoredTable) -> Result<LazyFrame> {
        let key: Vec<PlSmallStr> = table.key().iter().map(|k| (*k).into()).collect();
        let latest = |lf: LazyFrame| {
            lf.sort(
                ["snapshot"],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .unique_stable(Some(key.clone()), UniqueKeepStrategy::Last)
        };
        if table != StoredTable::Observations {
            return Ok(latest(self.history(table)?));
        }
        // Observations are stored a file per period and snapshot: a
        // period's rows can only be superseded by a later file of the same
        // period. A period held in one file whose keys are unique (noted when
        // it was written) is read as it is; the search for the latest
        // version - a sort and a hash over every key - is spent only on
        // periods delivered more than once (a resubmitted quarter).
        let entries: Vec<&FileEntry> = self.file_entries(table).collect();
        let partition = |f: &FileEntry| {
            Path::new(&f.path)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        };
        let mut per_partition: std::collections::HashMap<PathBuf, usize> =
            std::collections::HashMap::new();
        for f in &entries {
            *per_partition.entry(partition(f)).or_default() += 1;
        }
        let (alone, shared): (Vec<&FileEntry>, Vec<&FileEntry>) = entries
            .into_iter()
            .partition(|f| f.unique_keys == Some(true) && per_partition[&partition(f)] == 1);
        let paths = |v: Vec<&FileEntry>| -> Vec<PathBuf> {
            v.into_iter()
                .map(|f| self.store.root.join(&f.path))
                .collect()
        };
        if alone.is_empty() {
            return Ok(latest(self.history(table)?));
        }
        let mut parts = vec![self.scan(table, paths(alone))?];
        if !shared.is_empty() {
            parts.push(latest(self.scan(table, paths(shared))?));
        }
        if parts.len() == 1 {
            return Ok(parts.pop().expect("one part"));
        }
        concat(parts, UnionArgs::default()).map_err(|e| Error::polars("reading observations", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Observations as of a snapshot: a period delivered once in a file
    /// with unique keys is read as it is; a period delivered again, or a
    /// batch that held a key twice (two input files of one ingest), keeps
    /// the latest row of each key - the same table either way.
    #[test]
    fn observations_keep_the_latest_row_of_each_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_or_create(dir.path()).unwrap();
        let obs = |rows: &[(&str, &str, f64)]| {
            let n = rows.len();
            df!(
                "department_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                "period" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                "year" => rows.iter().map(|r| r.1[..4].parse::<i32>().unwrap()).collect::<Vec<_>>(),
                "quarter" => vec![None::<i32>; n],
                "indicator" => vec!["move_out_rate"; n],
                "numerator" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                "denominator" => vec![100.0; n],
                "value" => vec![None::<f64>; n],
            )
            .unwrap()
        };
        let mut commit = |df: DataFrame| {
            let lock = store.lock().unwrap();
            store
                .commit(&lock, vec![(StoredTable::Observations, df)], vec![], "x")
                .unwrap();
        };
        // Snapshot 1: 2023 and 2024 once each; 2022 with D1 twice (the
        // second row, 7, is the one that counts).
        commit(obs(&[
            ("D1", "2023", 1.0),
            ("D2", "2023", 2.0),
            ("D1", "2024", 3.0),
            ("D1", "2022", 5.0),
            ("D2", "2022", 6.0),
            ("D1", "2022", 7.0),
        ]));
        // Snapshot 2: 2024 again, D1 corrected.
        commit(obs(&[("D1", "2024", 4.0)]));
        let files: Vec<(String, Option<bool>)> = store
            .manifest
            .snapshots
            .iter()
            .flat_map(|s| s.files.iter())
            .map(|f| (f.path.clone(), f.unique_keys))
            .collect();
        assert_eq!(files.len(), 4, "{files:?}");
        for (path, unique) in &files {
            assert_eq!(
                *unique,
                Some(!path.contains("period=2022")),
                "only 2022's file holds a key twice: {files:?}"
            );
        }
        let snap = store.snapshot(None).unwrap();
        let t = snap
            .table(StoredTable::Observations)
            .unwrap()
            .sort(["period", "department_id"], Default::default())
            .collect()
            .unwrap();
        let got: Vec<(String, String, f64)> = crate::frame::strings(&t, "department_id")
            .unwrap()
            .into_iter()
            .zip(crate::frame::strings(&t, "period").unwrap())
            .zip(crate::frame::floats(&t, "numerator").unwrap())
            .map(|((d, p), n)| (d.unwrap(), p.unwrap(), n))
            .collect();
        let want: Vec<(String, String, f64)> = [
            ("D1", "2022", 7.0),
            ("D2", "2022", 6.0),
            ("D1", "2023", 1.0),
            ("D2", "2023", 2.0),
            ("D1", "2024", 4.0),
        ]
        .iter()
        .map(|(d, p, n)| (d.to_string(), p.to_string(), *n))
        .collect();
        assert_eq!(got, want);
        // As of snapshot 1, 2024 is the first delivery.
        let t1 = store
            .snapshot(Some(1))
            .unwrap()
            .table(StoredTable::Observations)
            .unwrap()
            .filter(col("period").eq(lit("2024")))
            .collect()
            .unwrap();
        assert_eq!(crate::frame::floats(&t1, "numerator").unwrap(), vec![3.0]);
    }

    /// The dense arrays from rows in several chunks, filled in parallel by
    /// groups of chunks whose periods overlap, are what one pass in order
    /// gives: a later snapshot's version wins, an earlier one read later
    /// does not, of one snapshot the later row wins, a stored value is a
    /// level (den NaN), and unknown departments, indicators and periods out
    /// of range are left out.
    #[test]
    fn dense_rows_from_chunks_keep_the_latest_version_of_each_cell() {
        type Row<'a> = (&'a str, &'a str, i32, f64, f64, Option<f64>, i32);
        let chunk = |rows: &[Row<'_>]| {
            df!(
                "department_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                "indicator" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                "k" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                "numerator" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
                "denominator" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
                "value" => rows.iter().map(|r| r.5).collect::<Vec<_>>(),
                "snapshot" => rows.iter().map(|r| r.6).collect::<Vec<_>>(),
            )
            .unwrap()
        };
        let chunks = [
            // k = 0, snapshot 1.
            chunk(&[
                ("D1", "a", 0, 1.0, 10.0, None, 1),
                ("D2", "a", 0, 2.0, 10.0, None, 1),
            ]),
            // k = 1.
            chunk(&[("D1", "a", 1, 3.0, 10.0, None, 1)]),
            // k = 0 again, snapshot 2: replaces D1.
            chunk(&[("D1", "a", 0, 11.0, 20.0, None, 2)]),
            // k = 0, an older snapshot read later: kept out.
            chunk(&[("D2", "a", 0, 99.0, 99.0, None, 0)]),
            // k = 1..2, joining the k = 1 group.
            chunk(&[
                ("D2", "a", 1, 6.0, 10.0, None, 1),
                ("D1", "b", 2, 5.0, 10.0, None, 1),
                ("D2", "b", 2, f64::NAN, f64::NAN, Some(0.5), 1),
            ]),
            // k = 1, snapshot 1 again: the later row wins.
            chunk(&[("D1", "a", 1, 4.0, 10.0, None, 1)]),
            // Left out: an unknown department, indicator, period.
            chunk(&[
                ("D9", "a", 0, 7.0, 7.0, None, 9),
                ("D1", "z", 0, 7.0, 7.0, None, 9),
            ]),
            chunk(&[("D1", "a", 5, 7.0, 7.0, None, 9)]),
        ];
        let mut all = chunks[0].clone();
        for c in &chunks[1..] {
            all.vstack_mut(c).unwrap();
        }
        assert_eq!(all.first_col_n_chunks(), chunks.len());
        let (num, den) = dense_from_rows(all, 2020, 2022, &["D1", "D2"], &["a", "b"]).unwrap();
        // num[i][d * 3 + k]
        let nan = f64::NAN;
        let same = |got: &[f64], want: &[f64]| {
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert!(g == w || g.is_nan() && w.is_nan(), "{got:?} vs {want:?}");
            }
        };
        same(&num[0], &[11.0, 4.0, nan, 2.0, 6.0, nan]);
        same(&den[0], &[20.0, 10.0, nan, 10.0, 10.0, nan]);
        same(&num[1], &[nan, nan, 5.0, nan, nan, 0.5]);
        same(&den[1], &[nan, nan, 10.0, nan, nan, nan]);
    }

    /// Chunks are grouped so that no two groups share a period, and read
    /// in their order within a group.
    #[test]
    fn chunks_that_share_a_period_share_a_group() {
        assert_eq!(
            overlapping(&[(0, 0), (1, 1), (0, 0), (3, 4), (1, 2), (4, 4), (6, 6)]),
            vec![vec![0, 2], vec![1, 4], vec![3, 5], vec![6]]
        );
        // Joined through a third; an empty chunk's span is empty.
        assert_eq!(
            overlapping(&[(0, 1), (2, 3), (1, 2), (i32::MAX, i32::MIN)]),
            vec![vec![0, 1, 2], vec![3]]
        );
        assert!(overlapping(&[]).is_empty());
    }

    /// A store written by a bomon before format 2: its observation files
    /// have no `suppressed` column and its manifest no file formats. It reads
    /// as it is (the column null), with the period filters the engine uses -
    /// `allow_missing_columns` panicked there in polars' row-group pruning.
    #[test]
    fn a_format_1_store_reads_with_suppressed_as_null() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_or_create(dir.path()).unwrap();
        let obs = df!(
            "department_id" => ["D1", "D2"],
            "period" => ["2024", "2024"],
            "year" => [2024i32, 2024],
            "quarter" => [None::<i32>, None],
            "indicator" => ["move_out_rate", "move_out_rate"],
            "numerator" => [4.0, 9.0],
            "denominator" => [100.0, 90.0],
            "value" => [None::<f64>, None],
        )
        .unwrap();
        let lock = store.lock().unwrap();
        store
            .commit(
                &lock,
                vec![(StoredTable::Observations, obs.clone())],
                vec![],
                "x",
            )
            .unwrap();
        drop(lock);
        // Rewrite it as format 1: the file without the column, the manifest
        // without file formats and at version 1.
        let entry = store.manifest.snapshots[0].files[0].clone();
        let path = dir.path().join(&entry.path);
        let mut old = obs
            .lazy()
            .with_column(lit(1i32).alias("snapshot"))
            .collect()
            .unwrap();
        let (bytes, sha) = {
            fs::remove_file(&path).unwrap();
            write_parquet(&path, old.clone()).unwrap()
        };
        let _ = &mut old;
        let mut m = store.manifest.clone();
        m.format_version = 1;
        let f = &mut m.snapshots[0].files[0];
        f.bytes = bytes;
        f.sha256 = sha;
        f.mtime_ns = fs::metadata(&path).ok().as_ref().and_then(mtime_ns);
        f.format = None;
        fs::write(
            dir.path().join(MANIFEST),
            serde_json::to_string(&m).unwrap(),
        )
        .unwrap();
        let store = Store::open(dir.path()).unwrap();
        let snap = store.snapshot(None).unwrap();
        let v = snap
            .observation_versions(false, 2024, 2024)
            .unwrap()
            .collect()
            .unwrap();
        assert_eq!(v.height(), 2);
        let t = snap
            .table(StoredTable::Observations)
            .unwrap()
            .filter(col("year").eq(lit(2024)))
            .collect()
            .unwrap();
        assert_eq!(t.height(), 2);
        assert_eq!(t.column("suppressed").unwrap().null_count(), 2);
        assert!(store.verify().unwrap().is_empty());
    }
}

/// Cells of the dense arrays written from several threads at once, each
/// thread its own periods (see [`dense_from_rows`]).
struct SharedCells {
    num: Vec<*mut f64>,
    den: Vec<*mut f64>,
    version: Vec<*mut i32>,
    len: usize,
}

// SAFETY: the pointers are only written through `SharedCells::set`, and
// `dense_from_rows` hands each thread a set of rows whose periods no other
// thread's rows share. A cell belongs to one period, so no cell is touched
// by two threads; the vectors outlive the scope the threads run in.
unsafe impl Sync for SharedCells {}
unsafe impl Send for SharedCells {}

impl SharedCells {
    /// Keeps the version of indicator `i`'s `cell` from the latest
    /// snapshot (a later row of the same snapshot wins).
    ///
    /// # Safety
    /// No other thread may touch `cell` of any indicator meanwhile.
    unsafe fn set(&self, i: usize, cell: usize, snap: i32, value: (f64, f64)) {
        assert!(cell < self.len && i < self.num.len());
        let v = self.version[i].add(cell);
        if snap < *v {
            return;
        }
        *v = snap;
        *self.num[i].add(cell) = value.0;
        *self.den[i].add(cell) = value.1;
    }
}

/// Indices of `spans` (inclusive ranges) in groups: spans that overlap,
/// directly or through others, share a group, so that no two groups share
/// a value; each group in ascending order.
fn overlapping(spans: &[(i32, i32)]) -> Vec<Vec<usize>> {
    let mut order: Vec<(i32, i32, usize)> = spans
        .iter()
        .enumerate()
        .map(|(c, &(lo, hi))| (lo, hi, c))
        .collect();
    order.sort_unstable();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut reach = i32::MIN;
    for &(lo, hi, c) in &order {
        match groups.last_mut() {
            Some(g) if lo <= reach => g.push(c),
            _ => groups.push(vec![c]),
        }
        reach = reach.max(hi);
    }
    for g in &mut groups {
        g.sort_unstable();
    }
    groups
}

/// [`Snapshot::dense_observations`] from rows read by
/// [`Snapshot::observation_rows`]. One pass over the rows: ids coded by a
/// hash lookup only where they change (files hold a department's rows
/// together), and a later snapshot's version of a cell overwrites an
/// earlier one by the snapshot number kept per cell - no join, no sort, no
/// unique over string keys. The rows come in chunks, about one per file
/// and so per period: chunks whose periods overlap are read in turn, in
/// their order, and such groups in parallel, which writes every cell as
/// one pass would.
pub fn dense_from_rows(
    mut obs: DataFrame,
    first: i32,
    last: i32,
    departments: &[&str],
    indicators: &[&str],
) -> Result<(Dense, Dense)> {
    obs.align_chunks_par();
    let periods = (last - first + 1).max(0) as usize;
    let n = departments.len();
    let mut num = vec![vec![f64::NAN; n * periods]; indicators.len()];
    let mut den = vec![vec![f64::NAN; n * periods]; indicators.len()];
    // The snapshot of the version held per cell: a later one overwrites.
    let mut version = vec![vec![i32::MIN; n * periods]; indicators.len()];
    fn err(c: &'static str) -> impl Fn(PolarsError) -> Error {
        move |e| Error::polars(format!("column {c}"), e)
    }
    let column = |c: &'static str| obs.column(c).map_err(err(c));
    let (ds, is) = (
        column("department_id")?
            .str()
            .map_err(err("department_id"))?,
        column("indicator")?.str().map_err(err("indicator"))?,
    );
    let (ks, ss) = (
        column("k")?.i32().map_err(err("k"))?,
        column("snapshot")?.i32().map_err(err("snapshot"))?,
    );
    let (on, odn, ov) = (
        column("numerator")?.f64().map_err(err("numerator"))?,
        column("denominator")?.f64().map_err(err("denominator"))?,
        column("value")?.f64().map_err(err("value"))?,
    );
    let dept_code: PlHashMap<&str, usize> = departments
        .iter()
        .enumerate()
        .map(|(k, &d)| (d, k))
        .collect();
    let find_i = |id: &str| indicators.iter().position(|&x| x == id);
    type Str = <StringType as PolarsDataType>::Array;
    type Int = <Int32Type as PolarsDataType>::Array;
    type Float = <Float64Type as PolarsDataType>::Array;
    type Chunk<'a> = (
        (&'a Str, &'a Str),
        (&'a Int, &'a Int),
        (&'a Float, &'a Float, &'a Float),
    );
    let chunks: Vec<Chunk<'_>> = ds
        .downcast_iter()
        .zip(is.downcast_iter())
        .zip(ks.downcast_iter().zip(ss.downcast_iter()))
        .zip(
            on.downcast_iter()
                .zip(odn.downcast_iter())
                .zip(ov.downcast_iter()),
        )
        .map(|((d, k), ((x, y), v))| (d, k, (x, y, v)))
        .collect();
    // Each chunk's span of periods.
    let spans: Vec<(i32, i32)> = chunks
        .iter()
        .map(|(_, (k_a, _), _)| {
            k_a.values_iter()
                .fold((i32::MAX, i32::MIN), |(lo, hi), &k| (lo.min(k), hi.max(k)))
        })
        .collect();
    let groups = overlapping(&spans);
    let cells = SharedCells {
        num: num.iter_mut().map(|v| v.as_mut_ptr()).collect(),
        den: den.iter_mut().map(|v| v.as_mut_ptr()).collect(),
        version: version.iter_mut().map(|v| v.as_mut_ptr()).collect(),
        len: n * periods,
    };
    let fill = |chunk: &Chunk<'_>| {
        let ((d_a, i_a), (k_a, s_a), (x_a, y_a, v_a)) = *chunk;
        // An id's code is looked up where its view (length, inline bytes
        // or prefix and place) differs from the previous row's: files
        // hold a department's rows together. Equal views are equal ids;
        // unequal views of equal ids only cost a lookup.
        let mut last_d = None;
        // The few indicators cycle within a department: each id's view
        // is kept with its code.
        let mut seen_i = Vec::new();
        macro_rules! valid {
            ($a:expr, $r:expr) => {
                $a.validity().is_none_or(|b| b.get_bit($r))
            };
        }
        macro_rules! float {
            ($a:expr, $r:expr) => {
                if valid!($a, $r) {
                    $a.value($r)
                } else {
                    f64::NAN
                }
            };
        }
        for r in 0..d_a.len() {
            let d = match last_d {
                Some((view, code)) if view == d_a.views()[r] => code,
                _ => {
                    let code = dept_code.get(d_a.value(r)).copied();
                    last_d = Some((d_a.views()[r], code));
                    code
                }
            };
            let view = i_a.views()[r];
            let i = match seen_i.iter().find(|(v, _)| *v == view) {
                Some(&(_, code)) => code,
                None => {
                    let code = find_i(i_a.value(r));
                    if seen_i.len() >= 64 {
                        seen_i.clear();
                    }
                    seen_i.push((view, code));
                    code
                }
            };
            let k = k_a.value(r);
            let (Some(d), Some(i)) = (d, i) else {
                continue;
            };
            if k < 0 || k as usize >= periods {
                continue;
            }
            let cell = d * periods + k as usize;
            let snap = if valid!(s_a, r) {
                s_a.value(r)
            } else {
                i32::MIN
            };
            let v = float!(v_a, r);
            let value = if v.is_finite() {
                (v, f64::NAN)
            } else {
                (float!(x_a, r), float!(y_a, r))
            };
            // SAFETY: this chunk's periods are its group's alone.
            unsafe { cells.set(i, cell, snap, value) };
        }
    };
    groups.par_iter().for_each(|g| {
        for &c in g {
            fill(&chunks[c]);
        }
    });
    drop(cells);
    Ok((num, den))
}
