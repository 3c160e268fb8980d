//! Entry points for the fuzz targets (fuzz/) and their regression corpus
//! (tests): every parser of outside input, run without a store. Each returns
//! a small summary; what matters is that none panics, hangs or allocates
//! without bound on any input.

use std::path::Path;
use std::sync::OnceLock;

use crate::catalogue::Catalogue;
use crate::dialect::{self, CsvOptions};
use crate::source;
use crate::tables::Validator;

/// The built-in catalogue, parsed once (not per input).
fn builtin() -> &'static Catalogue {
    static C: OnceLock<Catalogue> = OnceLock::new();
    C.get_or_init(Catalogue::builtin)
}

/// A CSV input file (any encoding, separator, decimal mark) through dialect
/// detection and validation; returns the number of problems found.
pub fn csv(bytes: &[u8]) -> usize {
    let mut v = Validator::new(builtin(), None);
    let read = source::read_csv(bytes, "fuzz.csv", &CsvOptions::default(), &mut v);
    let (_, issues) = v.finish();
    issues.listed.len() + issues.not_listed + usize::from(read.is_err())
}

/// A spreadsheet (XLSX, XLS, ODS) file through validation.
pub fn workbook(path: &Path) -> usize {
    let mut v = Validator::new(builtin(), None);
    let read = source::read_workbook(path, "fuzz.xlsx", &mut v);
    let (_, issues) = v.finish();
    issues.listed.len() + usize::from(read.is_err())
}

/// A Parquet input file through validation.
pub fn parquet(path: &Path) -> usize {
    let mut v = Validator::new(builtin(), None);
    let read = source::read_parquet(path, "fuzz.parquet", &mut v);
    let (_, issues) = v.finish();
    issues.listed.len() + usize::from(read.is_err())
}

/// The period syntax (`2025`, `2025Q3`, `2025-3`, ...).
pub fn period(text: &str) -> bool {
    text.parse::<crate::period::Period>().is_ok()
}

/// Numbers as Danish files write them.
pub fn number(text: &str) -> bool {
    dialect::parse_number(text, dialect::Decimal::Comma).is_some()
        | dialect::parse_number(text, dialect::Decimal::Point).is_some()
}

/// An indicator catalogue (TOML).
pub fn catalogue(text: &str) -> bool {
    Catalogue::from_toml(text, "fuzz.toml").is_ok()
}

/// An assessment form (CSV or workbook) up to the store checks.
pub fn assessment_form(path: &Path) -> bool {
    crate::assess::read_form(path).is_ok()
}
