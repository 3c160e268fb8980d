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
