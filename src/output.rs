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

/// Writes `df` in `format` to `out` (a file) or stdout.
pub fn write_frame(df: &mut DataFrame, format: Format, out: Option<&Path>) -> Result<()> {
    if format == Format::Parquet {
        let path = out.context("--format parquet needs --out FILE")?;
        let f =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        ParquetWriter::new(f)
            .finish(df)
            .with_context(|| format!("writing {}", path.display()))?;
        return Ok(());
    }
    let mut sink: Box<dyn Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let cols = df.get_columns();
    match format {
        Format::Table => {
            writeln!(sink, "{df}")?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut sink);
            w.write_record(df.get_column_names().iter().map(|s| s.as_str()))?;
            let mut rec = Vec::with_capacity(cols.len());
            for i in 0..df.height() {
                rec.clear();
                for c in cols {
                    rec.push(cell_text(&c.get(i)?));
                }
                w.write_record(&rec)?;
            }
            w.flush()?;
        }
        Format::Json => {
            let names = df.get_column_names();
            let mut rows = Vec::with_capacity(df.height());
            for i in 0..df.height() {
                let mut m = serde_json::Map::new();
                for (c, n) in cols.iter().zip(&names) {
                    m.insert(n.to_string(), cell_json(&c.get(i)?));
                }
                rows.push(serde_json::Value::Object(m));
            }
            serde_json::to_writer_pretty(&mut sink, &rows)?;
            writeln!(sink)?;
        }
        Format::Parquet => unreachable!("handled above"),
    }
    sink.flush()?;
    Ok(())
}
