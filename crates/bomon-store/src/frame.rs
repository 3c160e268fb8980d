//! Reading DataFrame columns into plain Rust vectors, for the crates that
//! compute on dense arrays (the engine, the rules).

use polars::prelude::*;

use crate::error::{Error, Result};

/// A string column; missing values are None.
pub fn strings(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let err = |e| Error::polars(format!("column {name}"), e);
    Ok(df
        .column(name)
        .map_err(err)?
        .str()
        .map_err(err)?
        .into_iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// A numeric column as f64; missing values are NaN.
pub fn floats(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    let err = |e| Error::polars(format!("column {name}"), e);
    let s = df
        .column(name)
        .map_err(err)?
        .cast(&DataType::Float64)
        .map_err(err)?;
    Ok(s.f64()
        .map_err(err)?
        .into_iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}
