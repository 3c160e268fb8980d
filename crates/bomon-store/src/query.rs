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
    let mut ctx = context(snapshot, store)?;
    let lf = ctx
        .execute(sql)
        .map_err(|e| Error::polars(format!("SQL (tables: {})", table_names().join(", ")), e))?;
    lf.collect()
        .map_err(|e| Error::polars("running the query", e))
}
