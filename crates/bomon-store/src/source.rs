//! Reading raw rows from input files (CSV, XLSX, Parquet), each row with its
//! location, so that validation can point at a line or a cell.

use std::borrow::Cow;
use std::path::Path;

use polars::prelude::*;

use crate::dialect::{self, CsvOptions, Decimal, DecimalEvidence, Dialect};
use crate::error::{Error, Issue, Location, Result};

/// One cell as read from the file.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    /// Nothing in the cell.
    Empty,
    /// Text, to be parsed by the column's rules.
    Text(&'a str),
    /// A number the file stored as a number (XLSX, Parquet).
    Number(f64),
}

/// Where a row came from; turned into a [`Location`] per cell.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowLoc {
    /// 1-based line of a CSV file.
    Line(u64),
    /// 0-based sheet row and first column of the used range.
    Sheet { row: u32, col0: u32 },
    /// 1-based data row of a Parquet file.
    Row(u64),
    /// A row mapped by an import profile from the cell `col` of row `row`
    /// (0-based in a sheet; the 1-based line in a CSV file).
    Mapped { row: u32, col: u32 },
}

/// A table inside a file: its header and how to name places in it.
#[derive(Debug, Clone)]
pub(crate) struct TableCtx {
    /// File name as given by the user.
    pub file: String,
    /// Sheet name for spreadsheets.
    pub sheet: Option<String>,
    /// Header cells as in the file (trimmed).
    pub header: Vec<String>,
    /// Decimal mark for numbers stored as text.
    pub decimal: Decimal,
}

impl TableCtx {
    /// The location of a cell (column index `col`) in a row.
    pub fn location(&self, loc: RowLoc, col: Option<usize>) -> Location {
        match loc {
            RowLoc::Line(l) => Location::Line(l),
            RowLoc::Row(r) => Location::Row(r),
            RowLoc::Mapped { row, col } => match &self.sheet {
                Some(sheet) => Location::Cell {
                    sheet: sheet.clone(),
                    cell: format!("{}{}", column_letters(col), row + 1),
                },
                None => Location::Line(u64::from(row)),
            },
            RowLoc::Sheet { row, col0 } => Location::Cell {
                sheet: self.sheet.clone().unwrap_or_default(),
                cell: format!(
                    "{}{}",
                    column_letters(col0 + col.unwrap_or(0) as u32),
                    row + 1
                ),
            },
        }
    }

    /// An issue at a cell of this table.
    pub fn issue(&self, loc: RowLoc, col: Option<usize>, message: impl Into<String>) -> Issue {
        Issue {
            file: self.file.clone(),
            location: self.location(loc, col),
            column: col.and_then(|c| self.header.get(c).cloned()),
            message: message.into(),
        }
    }

    /// An issue about the table as a whole (its header).
    pub fn table_issue(&self, message: impl Into<String>) -> Issue {
        let location = match &self.sheet {
            Some(s) => Location::Cell {
                sheet: s.clone(),
                cell: "A1".into(),
            },
            None => Location::Line(1),
        };
        Issue {
            file: self.file.clone(),
            location,
            column: None,
            message: message.into(),
        }
    }
}

/// `0 -> A`, `25 -> Z`, `26 -> AA`.
pub(crate) fn column_letters(mut c: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

impl<'a> Cell<'a> {
    /// True when the cell holds nothing or a missing-value marker.
    pub fn is_missing(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => dialect::is_missing_marker(t),
            Cell::Number(_) => false,
        }
    }

    /// The cell as text; whole numbers print without decimals (2025, not 2025.0).
    pub fn text(&self) -> Cow<'a, str> {
        match *self {
            Cell::Empty => Cow::Borrowed(""),
            // Unicode NFC: a decomposed "å" (a + ring) and the composed
            // one are the same id or name.
            Cell::Text(t) => {
                let t = t.trim();
                if unicode_normalization::is_nfc_quick(t.chars())
                    == unicode_normalization::IsNormalized::Yes
                {
                    Cow::Borrowed(t)
                } else {
                    use unicode_normalization::UnicodeNormalization;
                    Cow::Owned(t.nfc().collect())
                }
            }
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                Cow::Owned(format!("{}", n as i64))
            }
            Cell::Number(n) => Cow::Owned(n.to_string()),
        }
    }

    /// The cell as a number: `Ok(None)` when missing, `Err(text)` when not a number.
    pub fn number(&self, decimal: Decimal) -> Result<Option<f64>, String> {
        match *self {
            Cell::Empty => Ok(None),
            Cell::Number(n) if n.is_finite() => Ok(Some(n)),
            Cell::Number(n) => Err(n.to_string()),
            Cell::Text(t) if dialect::is_missing_marker(t) => Ok(None),
            Cell::Text(t) => dialect::parse_number(t, decimal)
                .map(Some)
                .ok_or_else(|| t.to_string()),
        }
    }
}

/// Receives the tables of a file: first the header, then its rows.
pub(crate) trait TableSink {
    /// A new table starts; `Err` when its header is not usable.
    fn begin(&mut self, ctx: TableCtx) -> std::result::Result<(), Issue>;
    /// One data row.
    fn row(&mut self, loc: RowLoc, cells: &[Cell<'_>]);
}

/// Which columns hold text (so their values say nothing about the decimal mark).
pub(crate) fn is_text_column(normalised: &str) -> bool {
    matches!(
        normalised,
        "department_id"
            | "name"
            | "organisation"
            | "municipality_code"
            | "area_id"
            | "housing_type"
            | "period"
            | "indicator"
            | "category"
            | "note"
    )
}

/// Reads a CSV file (any of the dialects Danish Excel writes) into `sink`.
pub(crate) fn read_csv(
    bytes: &[u8],
    file: &str,
    opts: &CsvOptions,
    sink: &mut dyn TableSink,
) -> std::result::Result<Dialect, Issue> {
    let (text, encoding) = dialect::decode(bytes, opts.encoding);
    if let Some((line, len)) = overlong_line(&text) {
        return Err(Issue {
            file: file.to_string(),
            location: Location::Line(line),
            column: None,
            message: format!(
                "a line of {} KiB: expected lines of at most {} KiB (is this a CSV file?)",
                len >> 10,
                MAX_LINE_BYTES >> 10
            ),
        });
    }
    let delimiter = opts
        .delimiter
        .unwrap_or_else(|| dialect::detect_delimiter(&text));
    let reader = || {
        csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes())
    };
    let file_issue = |line: u64, message: String| Issue {
        file: file.to_string(),
        location: Location::Line(line),
        column: None,
        message,
    };
    let mut rdr = reader();
    let mut rec = csv::StringRecord::new();
    let got = rdr
        .read_record(&mut rec)
        .map_err(|e| file_issue(1, format!("not readable as CSV: {e}")))?;
    if !got {
        return Err(file_issue(
            1,
            "the file is empty: expected a header row".into(),
        ));
    }
    if rec.len() > MAX_COLUMNS {
        return Err(file_issue(
            1,
            format!(
                "the header has {} columns: expected at most {MAX_COLUMNS}",
                rec.len()
            ),
        ));
    }
    let header: Vec<String> = rec.iter().map(|s| s.trim().to_string()).collect();
    let numeric_cols: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| !is_text_column(&crate::tables::normalise_header(h)))
        .map(|(i, _)| i)
        .collect();

    // Decimal mark: user's word, else the evidence of the first rows, else the
    // separator's convention (';' goes with decimal comma in Danish Excel).
    let decimal = match opts.decimal {
        Some(d) => d,
        None => {
            let mut ev = DecimalEvidence::default();
            let mut sample = csv::StringRecord::new();
            let mut n = 0;
            while n < 5000 && rdr.read_record(&mut sample).unwrap_or(false) {
                for &c in &numeric_cols {
                    if let Some(f) = sample.get(c) {
                        ev.observe(f);
                    }
                }
                n += 1;
            }
            let fallback = if delimiter == b',' {
                Decimal::Point
            } else {
                Decimal::Comma
            };
            ev.decide(fallback).map_err(|m| file_issue(1, m))?
        }
    };
    let dialect = Dialect {
        encoding,
        delimiter,
        decimal,
    };

    sink.begin(TableCtx {
        file: file.to_string(),
        sheet: None,
        header,
        decimal,
    })?;

    let mut rdr = reader();
    rdr.read_record(&mut rec).ok();
    let mut spare: Vec<Cell<'static>> = Vec::with_capacity(rec.len());
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(file_issue(line, format!("not readable as CSV: {e}")));
            }
        }
        let line = rec.position().map_or(0, |p| p.line());
        let mut cells = recycle(std::mem::take(&mut spare));
        cells.extend(rec.iter().map(|f| {
            let t = f.trim();
            if t.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(t)
            }
        }));
        if !cells.iter().all(|c| matches!(c, Cell::Empty)) {
            // Excel writes ";;;;" for blank rows: skipped.
            sink.row(RowLoc::Line(line), &cells);
        }
        spare = recycle(cells);
    }
    Ok(dialect)
}

/// Reuses a vector's allocation for cells of another lifetime: the vector is
/// emptied, and collecting an empty iterator in place keeps its capacity.
fn recycle<'a, 'b>(mut v: Vec<Cell<'a>>) -> Vec<Cell<'b>> {
    v.clear();
    v.into_iter()
        .map(|_| -> Cell<'b> { unreachable!("the vector is empty") })
        .collect()
}

/// The message for a formula cell without a stored result.
pub(crate) const FORMULA_WITHOUT_VALUE: &str = "the cell holds a formula without a calculated value (the workbook was written by a program that does not calculate): open and save the workbook in Excel or LibreOffice, or give values instead of formulas";

/// The first cell (A1 name) of sheet `name` that holds a formula but no
/// cached result: calamine reads such a cell as empty, which would silently
/// replace a real value.
pub(crate) fn uncached_formula<RS: std::io::Read + std::io::Seek>(
    wb: &mut calamine::Sheets<RS>,
    name: &str,
    values: &calamine::Range<calamine::Data>,
) -> Option<String> {
    use calamine::{Data, Reader};
    let formulas = wb.worksheet_formula(name).ok()?;
    let (fr, fc) = formulas.start()?;
    for (r, c, f) in formulas.used_cells() {
        if f.trim().is_empty() {
            continue;
        }
        let (row, col) = (fr + r as u32, fc + c as u32);
        if matches!(values.get_value((row, col)), None | Some(Data::Empty)) {
            return Some(format!("{}{}", column_letters(col), row + 1));
        }
    }
    None
}

/// Reads every sheet of an XLSX/XLS/ODS workbook with a header into `sink`.
/// Returns the names of sheets that were skipped because they were empty.
pub(crate) fn read_workbook(
    path: &Path,
    file: &str,
    sink: &mut dyn TableSink,
) -> std::result::Result<Vec<String>, Issue> {
    use calamine::{open_workbook_auto, Data, Reader};
    let file_issue = |message: String| Issue {
        file: file.to_string(),
        location: Location::File,
        column: None,
        message,
    };
    check_archive(path).map_err(&file_issue)?;
    let mut wb = open_workbook_auto(path)
        .map_err(|e| file_issue(format!("not readable as a spreadsheet: {e}")))?;
    let mut skipped = Vec::new();
    for name in wb.sheet_names().to_vec() {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| file_issue(format!("sheet '{name}' is not readable: {e}")))?;
        if range.width() > MAX_COLUMNS {
            return Err(file_issue(format!(
                "sheet '{name}' has {} columns: expected at most {MAX_COLUMNS}",
                range.width()
            )));
        }
        if let Some(cell) = uncached_formula(&mut wb, &name, &range) {
            return Err(Issue {
                file: file.to_string(),
                location: Location::Cell {
                    sheet: name.clone(),
                    cell,
                },
                column: None,
                message: FORMULA_WITHOUT_VALUE.into(),
            });
        }
        let Some((row0, col0)) = range.start() else {
            skipped.push(name);
            continue;
        };
        let mut rows = range.rows();
        let Some(head) = rows.next() else {
            skipped.push(name);
            continue;
        };
        let header: Vec<String> = head
            .iter()
            .map(|d| match d {
                Data::String(s) => s.trim().to_string(),
                Data::Empty => String::new(),
                other => other.to_string(),
            })
            .collect();
        // Strings in numeric columns follow the separator-free convention of
        // the workbook's locale; gather evidence as for CSV.
        let mut ev = DecimalEvidence::default();
        for r in range.rows().skip(1).take(5000) {
            for (c, d) in r.iter().enumerate() {
                if let (Data::String(s), Some(h)) = (d, header.get(c)) {
                    if !is_text_column(&crate::tables::normalise_header(h)) {
                        ev.observe(s);
                    }
                }
            }
        }
        let ctx = TableCtx {
            file: file.to_string(),
            sheet: Some(name.clone()),
            header,
            decimal: Decimal::Comma,
        };
        let decimal = ev.decide(Decimal::Comma).map_err(|m| ctx.table_issue(m))?;
        sink.begin(TableCtx { decimal, ..ctx })?;
        for (i, r) in rows.enumerate() {
            let mut texts: Vec<String> = Vec::new();
            // Non-string cells that are not numbers (booleans, dates, errors)
            // become text so that validation can name them.
            let mut kinds = Vec::with_capacity(r.len());
            for d in r {
                match d {
                    Data::Empty => kinds.push(0u8),
                    Data::String(s) => {
                        let t = s.trim();
                        if t.is_empty() {
                            kinds.push(0)
                        } else {
                            texts.push(t.to_string());
                            kinds.push(1)
                        }
                    }
                    Data::Float(_) | Data::Int(_) => kinds.push(2),
                    other => {
                        texts.push(other.to_string());
                        kinds.push(1)
                    }
                }
            }
            let mut cells: Vec<Cell<'_>> = Vec::with_capacity(r.len());
            let mut t = 0;
            for (d, k) in r.iter().zip(&kinds) {
                cells.push(match k {
                    0 => Cell::Empty,
                    1 => {
                        t += 1;
                        Cell::Text(&texts[t - 1])
                    }
                    _ => Cell::Number(match d {
                        Data::Float(f) => *f,
                        Data::Int(i) => *i as f64,
                        _ => f64::NAN,
                    }),
                });
            }
            if cells.iter().all(|c| matches!(c, Cell::Empty)) {
                continue;
            }
            sink.row(
                RowLoc::Sheet {
                    row: row0 + 1 + i as u32,
                    col0,
                },
                &cells,
            );
        }
    }
    Ok(skipped)
}

/// Reads a Parquet file into `sink`: numeric columns arrive as numbers,
/// everything else as text.
pub(crate) fn read_parquet(
    path: &Path,
    file: &str,
    sink: &mut dyn TableSink,
) -> std::result::Result<(), Issue> {
    let file_issue = |message: String| Issue {
        file: file.to_string(),
        location: Location::File,
        column: None,
        message,
    };
    let f = std::fs::File::open(path).map_err(|e| file_issue(e.to_string()))?;
    let mut reader = ParquetReader::new(f);
    let width = reader
        .schema()
        .map_err(|e| file_issue(format!("not readable as Parquet: {e}")))?
        .len();
    if width > MAX_COLUMNS {
        return Err(file_issue(format!(
            "the file has {width} columns: expected at most {MAX_COLUMNS}"
        )));
    }
    let df = reader
        .finish()
        .map_err(|e| file_issue(format!("not readable as Parquet: {e}")))?;
    let header: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    enum Col {
        Num(Float64Chunked),
        Text(StringChunked),
    }
    let mut cols = Vec::with_capacity(df.width());
    for c in df.get_columns() {
        let s = c.as_materialized_series();
        let col = if s.dtype().is_primitive_numeric() {
            let f = s
                .cast(&DataType::Float64)
                .map_err(|e| file_issue(e.to_string()))?;
            Col::Num(f.f64().map_err(|e| file_issue(e.to_string()))?.rechunk())
        } else {
            let t = s
                .cast(&DataType::String)
                .map_err(|e| file_issue(format!("column '{}': {e}", s.name())))?;
            Col::Text(t.str().map_err(|e| file_issue(e.to_string()))?.rechunk())
        };
        cols.push(col);
    }
    sink.begin(TableCtx {
        file: file.to_string(),
        sheet: None,
        header,
        decimal: Decimal::Point,
    })?;
    let mut cells: Vec<Cell<'_>> = Vec::with_capacity(cols.len());
    for i in 0..df.height() {
        cells.clear();
        for c in &cols {
            cells.push(match c {
                Col::Num(a) => a.get(i).map_or(Cell::Empty, Cell::Number),
                Col::Text(a) => match a.get(i).map(str::trim) {
                    None | Some("") => Cell::Empty,
                    Some(t) => Cell::Text(t),
                },
            });
        }
        sink.row(RowLoc::Row(i as u64 + 1), &cells);
    }
    Ok(())
}

/// Reads a whole file, mapping I/O failures to the store's error type.
/// The largest number a cell may claim (about 2,700 years of tenancy-days
/// of 1 million tenancies).
pub(crate) const MAX_PLAUSIBLE: f64 = 1e12;
/// Input files above this size are refused (BOMON_MAX_FILE_MB overrides).
pub(crate) const MAX_FILE_MB: u64 = 2048;
/// Header columns above this are refused.
pub(crate) const MAX_COLUMNS: usize = 10_000;
/// Text lines above this are refused.
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// The input size limit in bytes.
pub(crate) fn max_file_bytes() -> u64 {
    std::env::var("BOMON_MAX_FILE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MAX_FILE_MB)
        .saturating_mul(1 << 20)
}

/// Reads an input file, refusing one above the size limit before reading it.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    let max = max_file_bytes();
    if len > max {
        return Err(Error::io(
            path,
            std::io::Error::other(format!(
                "the file is {} MiB, above the limit of {} MiB for one input file (split it, or set BOMON_MAX_FILE_MB)",
                len >> 20,
                max >> 20
            )),
        ));
    }
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// What a zipped workbook (XLSX, ODS) unpacks to, checked from its central
/// directory before anything is inflated: at most 16 times the input size
/// limit in all, and no entry above 1 MiB compressed more than 1000-fold
/// (a zip bomb). `Err` says which.
pub(crate) fn check_archive(path: &Path) -> std::result::Result<(), String> {
    let Ok(f) = std::fs::File::open(path) else {
        return Ok(()); // the reader reports it
    };
    let Ok(mut zip) = ::zip::ZipArchive::new(f) else {
        return Ok(()); // not a zip (XLS): calamine reports what it is
    };
    let limit = max_file_bytes().saturating_mul(16);
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let Ok(e) = zip.by_index_raw(i) else { continue };
        let (size, packed) = (e.size(), e.compressed_size().max(1));
        if size > 1 << 20 && size / packed > 1000 {
            return Err(format!(
                "entry {} unpacks {} MiB from {} KiB: a compression ratio no spreadsheet has (refused as a zip bomb)",
                e.name().map(|n| n.to_string()).unwrap_or_default(),
                size >> 20,
                packed >> 10
            ));
        }
        total = total.saturating_add(size);
    }
    if total > limit {
        return Err(format!(
            "the workbook unpacks to {} MiB, above the limit of {} MiB (16 x BOMON_MAX_FILE_MB)",
            total >> 20,
            limit >> 20
        ));
    }
    Ok(())
}

/// The first line longer than the limit (1-based line number, length), if any.
pub(crate) fn overlong_line(text: &str) -> Option<(u64, usize)> {
    let mut start = 0usize;
    for (n, end) in text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .enumerate()
    {
        if end - start > MAX_LINE_BYTES {
            return Some((n as u64 + 1, end - start));
        }
        start = end + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::column_letters;

    #[test]
    fn spreadsheet_column_letters() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }
}
