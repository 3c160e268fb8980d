//! Writing tabular results as a terminal table, CSV, JSON or Parquet.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::*;

/// Output formats of listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table for the terminal.
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
    /// Parquet (needs --out).
    Parquet,
}

fn cell_text(v: &AnyValue<'_>) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => (*s).to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(f) => format_float(*f),
        AnyValue::Float32(f) => format_float(f64::from(*f)),
        other => other.to_string(),
    }
}

/// The CSV cells of a column, as [`cell_text`] gives them (strings guarded
/// against formula injection by [`bomon_store::outpath::csv_cell`]).
fn column_text(c: &Column, out: &mut Vec<String>) -> Result<()> {
    match c.dtype() {
        DataType::String => out.extend(c.str()?.iter().map(|v| {
            v.map_or_else(String::new, |s| {
                bomon_store::outpath::csv_cell(s).into_owned()
            })
        })),
        DataType::Float64 => out.extend(
            c.f64()?
                .iter()
                .map(|v| v.map_or_else(String::new, format_float)),
        ),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => out.extend(
            c.cast(&DataType::Int64)?
                .i64()?
                .iter()
                .map(|v| v.map_or_else(String::new, |x| x.to_string())),
        ),
        DataType::Boolean => out.extend(
            c.bool()?
                .iter()
                .map(|v| v.map_or_else(String::new, |x| x.to_string())),
        ),
        _ => {
            for i in 0..c.len() {
                let v = c.get(i)?;
                out.push(match v {
                    AnyValue::String(_) | AnyValue::StringOwned(_) => {
                        bomon_store::outpath::csv_cell(&cell_text(&v)).into_owned()
                    }
                    _ => cell_text(&v),
                });
            }
        }
    }
    Ok(())
}

fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn cell_json(v: &AnyValue<'_>) -> serde_json::Value {
    use serde_json::Value;
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(s) => Value::String((*s).to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Int8(i) => (*i).into(),
        AnyValue::Int16(i) => (*i).into(),
        AnyValue::Int32(i) => (*i).into(),
        AnyValue::Int64(i) => (*i).into(),
        AnyValue::UInt8(i) => (*i).into(),
        AnyValue::UInt16(i) => (*i).into(),
        AnyValue::UInt32(i) => (*i).into(),
        AnyValue::UInt64(i) => (*i).into(),
        AnyValue::Float32(f) => {
            serde_json::Number::from_f64(f64::from(*f)).map_or(Value::Null, Value::Number)
        }
        AnyValue::Float64(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        other => Value::String(other.to_string()),
    }
}

/// Where a listing goes: a file written atomically (temp file, owner-only,
/// no symlink followed, renamed when complete) or standard output.
enum Sink {
    File(bomon_store::outpath::AtomicFile),
    Stdout(std::io::BufWriter<std::io::StdoutLock<'static>>),
}

impl Sink {
    fn open(out: Option<&Path>) -> Result<Sink> {
        Ok(match out {
            Some(p) => Sink::File(bomon_store::outpath::AtomicFile::create(p, None)?),
            None => Sink::Stdout(std::io::BufWriter::new(std::io::stdout().lock())),
        })
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::File(f) => Ok(f.commit()?),
            Sink::Stdout(mut s) => Ok(s.flush()?),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Stdout(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Stdout(s) => s.flush(),
        }
    }
}

/// Writes `df` in `format` to `out` (a file) or stdout.
pub fn write_frame(df: &mut DataFrame, format: Format, out: Option<&Path>) -> Result<()> {
    if format == Format::Parquet {
        let path = out.context("--format parquet needs --out FILE")?;
        let mut f = Sink::open(Some(path))?;
        ParquetWriter::new(&mut f)
            .finish(df)
            .with_context(|| format!("writing {}", path.display()))?;
        return f.finish();
    }
    let mut sink = Sink::open(out)?;
    let cols = df.get_columns();
    match format {
        Format::Table => {
            writeln!(sink, "{df}")?;
        }
        Format::Csv => {
            if out.is_some() {
                sink.write_all(bomon_store::outpath::CSV_BOM)?;
            }
            let mut w = csv::Writer::from_writer(&mut sink);
            w.write_record(df.get_column_names().iter().map(|s| s.as_str()))?;
            // A block of rows at a time, each column's cells formatted by
            // its type (not value by value through AnyValue), then written
            // row by row: memory for one block's text, not the result's.
            const BLOCK: usize = 1 << 16;
            let mut cells: Vec<Vec<String>> = vec![Vec::with_capacity(BLOCK); cols.len()];
            for start in (0..df.height()).step_by(BLOCK) {
                let len = BLOCK.min(df.height() - start);
                for (c, out) in cols.iter().zip(cells.iter_mut()) {
                    out.clear();
                    column_text(&c.slice(start as i64, len), out)?;
                }
                for r in 0..len {
                    for out in &cells {
                        w.write_field(&out[r])?;
                    }
                    w.write_record(None::<&[u8]>)?;
                }
            }
            w.flush()?;
        }
        Format::Json => {
            // Row by row: the whole result is never held as JSON values.
            let names = df.get_column_names();
            write!(sink, "[")?;
            for i in 0..df.height() {
                let mut m = serde_json::Map::new();
                for (c, n) in cols.iter().zip(&names) {
                    m.insert(n.to_string(), cell_json(&c.get(i)?));
                }
                write!(sink, "{}\n  ", if i == 0 { "" } else { "," })?;
                serde_json::to_writer(&mut sink, &serde_json::Value::Object(m))?;
            }
            writeln!(sink, "{}]", if df.height() == 0 { "" } else { "\n" })?;
        }
        Format::Parquet => unreachable!("handled above"),
    }
    sink.finish()
}

/// A number for a terminal table: one decimal (two for small values),
/// decimal comma in Danish.
/// A column's heading in a table for people.
fn column_words(name: &str, da: bool) -> &str {
    if !da {
        return match name {
            "peers_median" => "peers (median)",
            other => other,
        };
    }
    match name {
        "rank" => "nr.",
        "label" => "nøgletal",
        "unit" => "enhed",
        "peers_median" => "tvillinger",
        "national" => "landsplan",
        "flags" => "markeringer",
        "indicator" => "nøgletal-id",
        "department_id" => "afdeling",
        "name" => "navn",
        "distance" => "afstand",
        "percentile" => "percentil",
        other => other,
    }
}

fn table_number(f: f64, da: bool) -> String {
    if !f.is_finite() {
        return String::new();
    }
    bomon_vocab::number::fixed(f, if f.abs() < 10.0 { 2 } else { 1 }, da)
}

/// Writes a listing: header lines, then the frame as a table that fits the
/// terminal (COLUMNS, default 80: wide text columns are shortened with "…",
/// columns that still do not fit are left out with a note), or as CSV/JSON/
/// Parquet with everything.
pub fn write_listing(
    header: &[String],
    df: &mut DataFrame,
    format: Format,
    out: Option<&Path>,
    da: bool,
) -> Result<()> {
    if format != Format::Table {
        return write_frame(df, format, out);
    }
    // A table is for reading: the first rows, and a note of how many more.
    const MAX_TABLE_ROWS: usize = 1000;
    let all_rows = df.height();
    let mut head;
    let df = if all_rows > MAX_TABLE_ROWS {
        head = df.head(Some(MAX_TABLE_ROWS));
        &mut head
    } else {
        df
    };
    let width: usize = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&w| w >= 40)
        .unwrap_or(80);
    // A table is read by people: the machine names of bomon's own columns in
    // the reader's language (CSV and JSON keep them).
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| column_words(s, da).to_string())
        .collect();
    let numeric: Vec<bool> = df
        .get_columns()
        .iter()
        .map(|c| c.dtype().is_primitive_numeric())
        .collect();
    // A row whose unit is empty (a card's residents, households) holds
    // counts: whole numbers without decimals ("1067", not "1067,0").
    let unit = df.column("unit").ok().and_then(|c| c.str().ok().cloned());
    let mut cells: Vec<Vec<String>> = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let counts = unit.as_ref().is_some_and(|u| u.get(i) == Some(""));
        let mut row = Vec::with_capacity(names.len());
        for c in df.get_columns() {
            let v = c.get(i)?;
            row.push(match v {
                AnyValue::Float64(f) if counts && f.fract() == 0.0 => {
                    bomon_vocab::number::fixed(f, 0, da)
                }
                AnyValue::Float64(f) => table_number(f, da),
                AnyValue::Float32(f) => table_number(f64::from(f), da),
                AnyValue::Null => "-".into(),
                other => bomon_store::outpath::terminal_text(&cell_text(&other)).into_owned(),
            });
        }
        cells.push(row);
    }
    let len = |s: &str| s.chars().count();
    let mut w: Vec<usize> = names
        .iter()
        .enumerate()
        .map(|(k, n)| {
            cells
                .iter()
                .map(|r| len(&r[k]))
                .max()
                .unwrap_or(0)
                .max(len(n))
        })
        .collect();
    let total = |w: &[usize], n: usize| w[..n].iter().sum::<usize>() + 2 * n.saturating_sub(1);
    // Which columns fit, with free-text columns (not ids) at 10 characters
    // at least; then shorten those columns, widest first, to fit the width.
    let text = |k: usize| {
        !numeric[k] && !names[k].ends_with("_id") && names[k] != "indicator" && names[k] != "unit"
    };
    let min: Vec<usize> = (0..w.len())
        .map(|k| if text(k) { w[k].min(10) } else { w[k] })
        .collect();
    let mut shown = w.len();
    while shown > 1 && total(&min, shown) > width {
        shown -= 1;
    }
    while total(&w, shown) > width {
        let Some((k, _)) = w[..shown]
            .iter()
            .enumerate()
            .filter(|(k, x)| text(*k) && **x > min[*k])
            .max_by_key(|(_, x)| **x)
        else {
            break;
        };
        w[k] -= 1;
    }
    let fit = |s: &str, n: usize| -> String {
        if len(s) <= n {
            s.to_string()
        } else {
            s.chars().take(n.saturating_sub(1)).collect::<String>() + "…"
        }
    };
    let mut sink = Sink::open(out)?;
    for h in header {
        let h = bomon_store::outpath::terminal_text(h);
        // Wrapped at word boundaries to the terminal's width.
        let mut line = String::new();
        for word in h.split(' ') {
            if !line.is_empty() && len(&line) + 1 + len(word) > width {
                writeln!(sink, "{line}")?;
                line = format!("  {word}");
            } else {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
            }
        }
        writeln!(sink, "{line}")?;
    }
    let line = |row: &[String]| -> String {
        (0..shown)
            .map(|k| {
                let s = fit(&row[k], w[k]);
                if numeric[k] {
                    format!("{s:>width$}", width = w[k])
                } else {
                    format!("{s:<width$}", width = w[k])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(sink, "{}", line(&names))?;
    writeln!(sink, "{}", "-".repeat(total(&w, shown).min(width)))?;
    for r in &cells {
        writeln!(sink, "{}", line(r))?;
    }
    if shown < names.len() {
        let note = format!(
            "(+{} columns: {}; --format csv shows all)",
            names.len() - shown,
            names[shown..].join(", ")
        );
        writeln!(sink, "{}", fit(&note, width))?;
    }
    if all_rows > MAX_TABLE_ROWS {
        writeln!(
            sink,
            "(the first {MAX_TABLE_ROWS} of {all_rows} rows; --format csv or --format parquet --out FILE gives all)"
        )?;
    }
    sink.finish()
}
