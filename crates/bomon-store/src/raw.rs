//! Any table file read as text cells, for the analysts' verbs (`bomon funnel`,
//! `bomon spc`, `bomon trend`), with the same dialect detection as ingest and
//! errors that name file, line and column.

use std::path::Path;

use crate::dialect::{CsvOptions, Decimal};
use crate::error::{Error, Issue, Rejection, Result};
use crate::source::{self, Cell, RowLoc, TableCtx, TableSink};

const READ: &str = "cannot read the input";

/// A table of text cells with the locations of its rows.
#[derive(Debug, Clone)]
pub struct RawTable {
    ctx: Option<TableCtx>,
    rows: Vec<(RowLoc, Vec<Option<String>>)>,
}

impl TableSink for RawTable {
    fn begin(&mut self, ctx: TableCtx) -> std::result::Result<(), Issue> {
        if self.ctx.is_none() {
            self.ctx = Some(ctx);
        }
        Ok(())
    }
    fn row(&mut self, loc: RowLoc, cells: &[Cell<'_>]) {
        if self.rows.len() < usize::MAX && self.ctx.is_some() {
            let v = cells
                .iter()
                .map(|c| {
                    if c.is_missing() {
                        None
                    } else {
                        Some(c.text().into_owned())
                    }
                })
                .collect();
            self.rows.push((loc, v));
        }
    }
}

/// Reads the first table of a CSV, XLSX or Parquet file.
pub fn read_raw(path: &Path, csv: &CsvOptions) -> Result<RawTable> {
    let name = path.display().to_string();
    let mut t = RawTable {
        ctx: None,
        rows: vec![],
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let res = match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => {
            source::read_workbook(path, &name, &mut t).map(|_| ())
        }
        "parquet" | "pq" => source::read_parquet(path, &name, &mut t),
        _ => {
            let bytes = source::read_bytes(path)?;
            source::read_csv(&bytes, &name, csv, &mut t).map(|_| ())
        }
    };
    res.map_err(|i| {
        Error::Rejected(Rejection {
            issues: vec![i],
            not_listed: vec![],
            action: READ,
        })
    })?;
    if t.ctx.is_none() {
        return Err(Error::Usage(format!(
            "{name}: no table found (expected a header row)"
        )));
    }
    Ok(t)
}

impl RawTable {
    fn ctx(&self) -> &TableCtx {
        self.ctx.as_ref().expect("read_raw guarantees a header")
    }

    /// The file's name as given.
    pub fn file_name(&self) -> &str {
        &self.ctx().file
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The index of a column by (case-insensitive) name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.ctx()
            .header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    }

    /// The index of a required column, or an error naming the file and what is there.
    pub fn require(&self, name: &str) -> Result<usize> {
        self.column(name).ok_or_else(|| {
            Error::Rejected(Rejection {
                issues: vec![self.ctx().table_issue(format!(
                    "missing required column '{name}' (found: {})",
                    self.ctx().header.join(", ")
                ))],
                not_listed: vec![],
                action: READ,
            })
        })
    }

    /// The text of a column (None for empty cells).
    pub fn texts(&self, col: usize) -> Vec<Option<String>> {
        self.rows
            .iter()
            .map(|(_, r)| r.get(col).cloned().flatten())
            .collect()
    }

    /// Where data row `row` (column `col`) is, as error messages name it:
    /// `line 3`, `sheet 'Data' cell B4` or `row 5`.
    pub fn place(&self, row: usize, col: Option<usize>) -> String {
        let Some((loc, _)) = self.rows.get(row) else {
            return format!("data row {}", row + 1);
        };
        match self.ctx().location(*loc, col) {
            crate::Location::File => "the file".into(),
            crate::Location::Line(l) => format!("line {l}"),
            crate::Location::Cell { sheet, cell } => format!("sheet '{sheet}' cell {cell}"),
            crate::Location::Row(r) => format!("row {r}"),
        }
    }

    /// An error listing `problems` (data row index, column index, what was
    /// expected and found), each with the file, line (or sheet and cell) and
    /// column, capped like every read error. `None` when there are none.
    pub fn rejection(&self, problems: Vec<(usize, usize, String)>) -> Option<Error> {
        if problems.is_empty() {
            return None;
        }
        let ctx = self.ctx();
        let n = problems.len();
        let issues: Vec<Issue> = problems
            .into_iter()
            .take(crate::tables::ISSUE_CAP)
            .filter_map(|(row, col, msg)| {
                self.rows
                    .get(row)
                    .map(|(loc, _)| ctx.issue(*loc, Some(col), msg))
            })
            .collect();
        let not_listed = if n > issues.len() {
            vec![(ctx.file.clone(), n - issues.len())]
        } else {
            vec![]
        };
        Some(Error::Rejected(Rejection {
            issues,
            not_listed,
            action: READ,
        }))
    }

    /// A numeric column; empty cells are NaN. Every unreadable cell is reported.
    pub fn numbers(&self, col: usize) -> Result<Vec<f64>> {
        let decimal = self.ctx().decimal;
        let mut problems = Vec::new();
        let v = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, (_, r))| match r.get(col).cloned().flatten() {
                None => f64::NAN,
                Some(t) => crate::dialect::parse_number(&t, decimal)
                    .or_else(|| {
                        if decimal == Decimal::Point {
                            None
                        } else {
                            t.parse().ok()
                        }
                    })
                    .unwrap_or_else(|| {
                        problems.push((i, col, format!("expected a number, found \"{t}\"")));
                        f64::NAN
                    }),
            })
            .collect();
        match self.rejection(problems) {
            None => Ok(v),
            Some(e) => Err(e),
        }
    }
}
