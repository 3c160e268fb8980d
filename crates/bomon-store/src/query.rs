//! SQL over one snapshot of the store (polars SQL).

use polars::prelude::*;
use polars::sql::SQLContext;

use crate::error::{Error, Result};
use crate::store::{Snapshot, StoredTable};

/// The tables a query can name: each stored table as of the snapshot, each
/// `<table>_history` with superseded rows, and `snapshots`.
pub fn table_names() -> Vec<String> {
    let mut v: Vec<String> = StoredTable::ALL
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    v.extend(
        StoredTable::ALL
            .iter()
            .map(|t| format!("{}_history", t.name())),
    );
    v.push("snapshots".into());
    v
}

/// An SQL context with every table of `snapshot` registered.
pub fn context(snapshot: &Snapshot<'_>, store: &crate::Store) -> Result<SQLContext> {
    let mut ctx = SQLContext::new();
    for t in StoredTable::ALL {
        ctx.register(t.name(), snapshot.table(t)?);
        ctx.register(&format!("{}_history", t.name()), snapshot.history(t)?);
    }
    let snaps: Vec<_> = store
        .snapshots()
        .iter()
        .filter(|s| s.id <= snapshot.id())
        .collect();
    let df = DataFrame::new(vec![
        Column::new(
            "snapshot".into(),
            snaps.iter().map(|s| s.id as i32).collect::<Vec<_>>(),
        ),
        Column::new(
            "created".into(),
            snaps.iter().map(|s| s.created.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
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
        Column::new(
            "rows".into(),
            snaps
                .iter()
                .map(|s| s.files.iter().map(|f| f.rows as i64).sum::<i64>())
                .collect::<Vec<_>>(),
        ),
    ])
    .map_err(|e| Error::polars("listing snapshots", e))?;
    ctx.register("snapshots", df.lazy());
    Ok(ctx)
}

/// Runs `sql` against `snapshot` and collects the result.
pub fn query(snapshot: &Snapshot<'_>, store: &crate::Store, sql: &str) -> Result<DataFrame> {
    query_within(snapshot, store, sql, None)
}

/// The default memory budget of a query result: `BOMON_QUERY_MAX_MB`, else 512 MiB.
pub fn default_budget() -> usize {
    std::env::var("BOMON_QUERY_MAX_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(512)
        << 20
}

/// Bytes a row of `schema` takes in memory, roughly (strings counted at 32
/// bytes: a view plus a short text).
fn row_bytes(schema: &Schema) -> usize {
    schema
        .iter_values()
        .map(|t| match t {
            DataType::Boolean | DataType::Int8 | DataType::UInt8 => 1,
            DataType::Int16 | DataType::UInt16 => 2,
            DataType::Int32 | DataType::UInt32 | DataType::Float32 | DataType::Date => 4,
            DataType::String | DataType::Binary => 32,
            _ => 8,
        })
        .sum::<usize>()
        .max(1)
}

/// Runs `sql` and collects at most what fits `budget` bytes (`None`: no
/// limit). A result that would be larger is refused before it is built -
/// the query is run with a row limit derived from the budget - with a
/// message saying how to narrow it.
pub fn query_within(
    snapshot: &Snapshot<'_>,
    store: &crate::Store,
    sql: &str,
    budget: Option<usize>,
) -> Result<DataFrame> {
    let mut ctx = context(snapshot, store)?;
    let mut lf = ctx
        .execute(sql)
        .map_err(|e| Error::polars(format!("SQL (tables: {})", table_names().join(", ")), e))?;
    let Some(budget) = budget else {
        return lf
            .collect()
            .map_err(|e| Error::polars("running the query", e));
    };
    let schema = lf
        .collect_schema()
        .map_err(|e| Error::polars("running the query", e))?;
    let max_rows = (budget / row_bytes(&schema)).max(1);
    let df = lf
        .limit(max_rows as IdxSize + 1)
        .collect()
        .map_err(|e| Error::polars("running the query", e))?;
    if df.height() > max_rows || df.estimated_size() > budget {
        return Err(Error::Usage(format!(
            "the query's result is larger than the memory budget of {} MiB (more than {} rows): narrow it with WHERE, GROUP BY or LIMIT, or write it with --format parquet --out FILE (no budget); BOMON_QUERY_MAX_MB sets the budget",
            budget >> 20,
            max_rows.min(df.height())
        )));
    }
    Ok(df)
}

/// The memory a query process may use at most (resident set): 4 x the
/// result budget (`BOMON_QUERY_MAX_MB`), 2 GiB by default, 256 MiB at least. A join can
/// explode far beyond its result's size before any LIMIT applies (polars
/// builds it whole), so the budget alone does not bound it.
pub fn process_cap() -> usize {
    default_budget().saturating_mul(4).max(256 << 20)
}

/// Watches this process's resident memory while a query runs: above `cap`
/// bytes it prints `message` (one line) and ends the process with status 1.
/// A query only reads the store, so ending it anywhere loses nothing.
/// Dropping the guard stops the watch.
pub struct MemoryGuard {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl MemoryGuard {
    /// Starts watching (every 20 ms).
    pub fn start(cap: usize, message: String) -> MemoryGuard {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        std::thread::spawn(move || {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                let rss = std::fs::read_to_string("/proc/self/statm")
                    .ok()
                    .and_then(|t| {
                        t.split_whitespace()
                            .nth(1)
                            .and_then(|v| v.parse::<usize>().ok())
                    })
                    .map_or(0, |pages| pages * page);
                if rss > cap {
                    eprintln!("{message}");
                    std::process::exit(1);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        });
        MemoryGuard { stop }
    }
}

impl Drop for MemoryGuard {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
