//! Import profiles: a small TOML file that describes one foreign layout -
//! Landsbyggefonden's Beboerdata tables, the ministry's list of housing
//! areas, a municipality's extract - and maps it onto the canonical tables,
//! so that real exports go in with `bomon ingest --profile P FILE...`.
//!
//! A profile is read into [`Profile`]; [`read`] turns a file in that layout
//! into canonical long observation rows, which go through the same
//! validation as any canonical file (catalogue, periods, duplicates, shares
//! within their base). Values are converted as the profile says:
//!
//! | unit       | with a base (column or row)            | without a base          |
//! |------------|----------------------------------------|-------------------------|
//! | `percent`  | numerator = value / 100 x base          | value / 100 is stored   |
//! | `share`    | numerator = value x base                | value is stored         |
//! | `per_1000` | numerator = value / 1000 x base         | value / 1000 is stored  |
//! | `count`    | numerator = count, denominator = base   | count (count indicators)|
//! | `value`    | -                                      | value as given          |
//!
//! Numerators keep their precision (43.5 % of 1,480 is 643.8, not 644). A
//! share or ratio stored without a denominator is used by the rules and
//! the categorisation; the review does not test it. Cells whose text is one
//! of `suppressed` are stored as suppressed at the source: no number, the
//! `suppressed` column true, never tested, never an error.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::catalogue::{Catalogue, Kind};
use crate::dialect::{self, Decimal, DecimalEvidence};
use crate::error::{Error, Issue, Location, Result};
use crate::period::Period;
use crate::source::{column_letters, Cell, RowLoc, TableCtx, TableSink};

/// The profiles shipped in `datasets/profiles/`, by file stem.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "ghettolister",
        include_str!("../../../datasets/profiles/ghettolister.toml"),
    ),
    (
        "lbf-beboerdata",
        include_str!("../../../datasets/profiles/lbf-beboerdata.toml"),
    ),
    (
        "ministeriet-omraadeliste",
        include_str!("../../../datasets/profiles/ministeriet-omraadeliste.toml"),
    ),
    (
        "bosocdata",
        include_str!("../../../datasets/profiles/bosocdata.toml"),
    ),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileToml {
    #[serde(default)]
    description: Option<String>,
    source: SourceToml,
    #[serde(default)]
    column: Vec<ColumnToml>,
    #[serde(default)]
    row: Vec<RowToml>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceToml {
    #[serde(default)]
    table: Option<String>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    sheet: Option<String>,
    #[serde(default)]
    header_row: Option<u32>,
    #[serde(default)]
    id_column: Option<String>,
    /// Extension: the cell (A1) that holds the id of a one-unit file.
    #[serde(default)]
    id_cell: Option<String>,
    #[serde(default)]
    name_column: Option<String>,
    #[serde(default)]
    municipality_column: Option<String>,
    #[serde(default)]
    period: Option<toml::Value>,
    #[serde(default)]
    period_column: Option<String>,
    #[serde(default)]
    periods_across: bool,
    #[serde(default)]
    suppressed: Vec<String>,
    /// Extension: the column of the row labels with `[[row]]` (default: the first).
    #[serde(default)]
    label_column: Option<String>,
    /// Extension: `comma` or `point` (default: detected).
    #[serde(default)]
    decimal: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnToml {
    header: String,
    indicator: String,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    base_column: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RowToml {
    label: String,
    indicator: String,
    #[serde(default)]
    unit: Option<String>,
    /// Extension: the label of the row that holds the base (denominator).
    #[serde(default)]
    base_row: Option<String>,
}

/// How a value is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// 0-100.
    Percent,
    /// 0-1.
    Share,
    /// A count (a numerator with a base, or a count indicator's value).
    Count,
    /// Per 1,000.
    Per1000,
    /// As given.
    Value,
}

impl Unit {
    fn parse(s: &str) -> Option<Unit> {
        Some(match s {
            "percent" => Unit::Percent,
            "share" => Unit::Share,
            "count" => Unit::Count,
            "per_1000" => Unit::Per1000,
            "value" => Unit::Value,
            _ => return None,
        })
    }
    fn factor(self) -> f64 {
        match self {
            Unit::Percent => 0.01,
            Unit::Per1000 => 0.001,
            _ => 1.0,
        }
    }
}

/// Whether ids are departments or housing areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Department ids (default).
    Department,
    /// Housing-area (boligområde) ids: stored as area observations.
    Area,
}

/// Where the period comes from.
#[derive(Debug, Clone)]
enum PeriodFrom {
    Fixed(Period),
    Column(String),
    Across,
}

/// One mapped value: a column (or a row label with periods across).
#[derive(Debug, Clone)]
struct Mapping {
    key: String,
    label: String,
    indicator: String,
    kind: Kind,
    unit: Unit,
    base: Option<String>,
}

/// A parsed, checked import profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Where it came from (file path or `shipped:NAME`).
    pub origin: String,
    /// What it is for, if it says.
    pub description: Option<String>,
    /// Department or area ids.
    pub level: Level,
    sheet: Option<String>,
    header_row: Option<u32>,
    id_column: Option<String>,
    id_cell: Option<(u32, u32)>,
    name_column: Option<String>,
    municipality_column: Option<String>,
    period: PeriodFrom,
    suppressed: Vec<String>,
    label_column: Option<String>,
    decimal: Option<Decimal>,
    mappings: Vec<Mapping>,
}

/// Header text as compared: NFC, lower case, spaces collapsed.
pub fn normalise_header(h: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    h.nfc()
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn a1(s: &str) -> Option<(u32, u32)> {
    let s = s.trim().to_ascii_uppercase();
    let letters: String = s.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let digits = &s[letters.len()..];
    if letters.is_empty() || digits.is_empty() {
        return None;
    }
    let col = letters
        .bytes()
        .fold(0u32, |acc, b| acc * 26 + u32::from(b - b'A' + 1))
        - 1;
    let row: u32 = digits.parse().ok()?;
    Some((row.checked_sub(1)?, col))
}

impl Profile {
    /// The shipped profile `name`, or the profile file at `name`.
    pub fn resolve(name: &str, catalogue: &Catalogue) -> Result<Profile> {
        let p = Path::new(name);
        if p.is_file() {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
            return Profile::parse(&text, &p.display().to_string(), catalogue);
        }
        match SHIPPED.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => {
                Profile::parse(text, &format!("datasets/profiles/{n}.toml"), catalogue)
            }
            None => {
                Err(Error::Usage(format!(
                "--profile {name}: no such file and no shipped profile of that name (shipped: {})",
                SHIPPED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            )))
            }
        }
    }

    /// Parses and checks a profile; errors name the profile, the key and
    /// what was expected.
    pub fn parse(text: &str, origin: &str, catalogue: &Catalogue) -> Result<Profile> {
        let bad =
            |key: &str, msg: String| Error::Usage(format!("profile {origin}: key `{key}`: {msg}"));
        let t: ProfileToml = toml::from_str(text).map_err(|e| {
            Error::Usage(format!(
                "profile {origin}: {}",
                e.to_string()
                    .replace('\n', " ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
        })?;
        let s = &t.source;
        match s.table.as_deref().unwrap_or("observations") {
            "observations" => {}
            other => {
                return Err(bad(
                    "source.table",
                    format!("\"{other}\": this version of bomon reads observations through profiles (departments and categories go in as canonical files)"),
                ))
            }
        }
        let level = match s.level.as_deref().unwrap_or("department") {
            "department" => Level::Department,
            "area" => Level::Area,
            other => {
                return Err(bad(
                    "source.level",
                    format!("\"{other}\": expected department or area"),
                ))
            }
        };
        let period = match (&s.period, &s.period_column, s.periods_across) {
            (Some(v), None, false) => {
                let text = match v {
                    toml::Value::String(x) => x.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    other => other.to_string(),
                };
                PeriodFrom::Fixed(
                    text.parse::<Period>()
                        .map_err(|e| bad("source.period", e.to_string()))?,
                )
            }
            (None, Some(c), false) => PeriodFrom::Column(c.clone()),
            (None, None, true) => PeriodFrom::Across,
            _ => {
                return Err(bad(
                    "source.period",
                    "give exactly one of period, period_column and periods_across = true".into(),
                ))
            }
        };
        let id_cell = match &s.id_cell {
            Some(c) => Some(a1(c).ok_or_else(|| {
                bad(
                    "source.id_cell",
                    format!("\"{c}\": expected a cell such as B2"),
                )
            })?),
            None => None,
        };
        if s.id_column.is_none() && id_cell.is_none() {
            return Err(bad(
                "source.id_column",
                "missing: name the column of the ids (or id_cell, the cell of a one-unit file)"
                    .into(),
            ));
        }
        let decimal = match s.decimal.as_deref() {
            None => None,
            Some("comma") => Some(Decimal::Comma),
            Some("point") => Some(Decimal::Point),
            Some(o) => {
                return Err(bad(
                    "source.decimal",
                    format!("\"{o}\": expected comma or point"),
                ))
            }
        };
        let mut mappings = Vec::new();
        let across = matches!(period, PeriodFrom::Across);
        if across && !t.column.is_empty() {
            return Err(bad("column", "with periods_across = true the value columns are periods: map rows with [[row]], not columns".into()));
        }
        if !across && !t.row.is_empty() {
            return Err(bad(
                "row",
                "[[row]] maps row labels and needs periods_across = true".into(),
            ));
        }
        // (key, header or label, indicator, unit, base)
        type Spec = (String, String, String, Option<String>, Option<String>);
        let specs: Vec<Spec> = t
            .column
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    format!("column[{}]", i + 1),
                    c.header.clone(),
                    c.indicator.clone(),
                    c.unit.clone(),
                    c.base_column.clone(),
                )
            })
            .chain(t.row.iter().enumerate().map(|(i, r)| {
                (
                    format!("row[{}]", i + 1),
                    r.label.clone(),
                    r.indicator.clone(),
                    r.unit.clone(),
                    r.base_row.clone(),
                )
            }))
            .collect();
        if specs.is_empty() {
            return Err(bad(
                "column",
                "no [[column]] (or [[row]]) maps a value onto an indicator".into(),
            ));
        }
        for (key, label, indicator, unit, base) in specs {
            let ind = catalogue.get(&indicator).ok_or_else(|| {
                bad(
                    &format!("{key}.indicator"),
                    format!(
                        "unknown indicator \"{indicator}\": expected an id of the indicator catalogue ({})",
                        catalogue.indicators().iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            let unit = match unit.as_deref() {
                None if ind.kind.is_value() => Unit::Value,
                None => Unit::Percent,
                Some(u) => Unit::parse(u).ok_or_else(|| {
                    bad(
                        &format!("{key}.unit"),
                        format!("\"{u}\": expected percent, share, count, per_1000 or value"),
                    )
                })?,
            };
            if ind.kind.is_value() && !matches!(unit, Unit::Count | Unit::Value) {
                return Err(bad(
                    &format!("{key}.unit"),
                    format!(
                        "indicator '{indicator}' is a {:?}: give it with unit count or value",
                        ind.kind
                    ),
                ));
            }
            if !ind.kind.is_value() && unit == Unit::Count && base.is_none() {
                return Err(bad(
                    &format!("{key}.unit"),
                    format!("a count of '{indicator}' (a {:?}) needs its base: add base_column (or base_row)", ind.kind),
                ));
            }
            mappings.push(Mapping {
                key,
                label,
                indicator,
                kind: ind.kind,
                unit,
                base,
            });
        }
        Ok(Profile {
            origin: origin.to_string(),
            description: t.description.clone(),
            level,
            sheet: s.sheet.clone(),
            header_row: s.header_row,
            id_column: s.id_column.clone(),
            id_cell,
            name_column: s.name_column.clone(),
            municipality_column: s.municipality_column.clone(),
            period,
            suppressed: s.suppressed.iter().map(|x| normalise_header(x)).collect(),
            label_column: s.label_column.clone(),
            decimal,
            mappings,
        })
    }
}

/// A cell of the file as read.
#[derive(Debug, Clone)]
enum G {
    Empty,
    Text(String),
    Num(f64),
}

impl G {
    fn text(&self) -> String {
        match self {
            G::Empty => String::new(),
            G::Text(t) => t.trim().to_string(),
            G::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            G::Num(n) => n.to_string(),
        }
    }
}

/// The file as a grid: absolute 0-based rows and columns.
struct Grid {
    sheet: Option<String>,
    rows: Vec<(u32, Vec<G>)>,
    cell: Box<dyn Fn(u32, u32) -> Location>,
}

/// Why a file could not be read as a grid: a problem of the file (an issue
/// of the ingest) or of the profile (a usage error naming it).
enum GridErr {
    Issue(Issue),
    Usage(Error),
}

fn read_grid(
    path: &Path,
    file: &str,
    bytes: &[u8],
    profile: &Profile,
) -> std::result::Result<Grid, GridErr> {
    let issue = |location: Location, message: String| Issue {
        file: file.to_string(),
        location,
        column: None,
        message,
    };
    let reject = GridErr::Issue;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ["xlsx", "xlsm", "xls", "xlsb", "ods"].contains(&ext.as_str()) {
        use calamine::{open_workbook_auto, Data, Reader};
        crate::source::check_archive(path).map_err(|m| reject(issue(Location::File, m)))?;
        let mut wb = open_workbook_auto(path).map_err(|e| {
            reject(issue(
                Location::File,
                format!("not readable as a spreadsheet: {e}"),
            ))
        })?;
        let names = wb.sheet_names().to_vec();
        let mut chosen = None;
        for n in &names {
            let wanted = profile.sheet.as_ref().map(|s| normalise_header(s));
            if let Some(w) = &wanted {
                if normalise_header(n) != *w {
                    continue;
                }
            }
            let range = wb.worksheet_range(n).map_err(|e| {
                reject(issue(
                    Location::File,
                    format!("sheet '{n}' is not readable: {e}"),
                ))
            })?;
            if range.is_empty() && wanted.is_none() {
                continue;
            }
            chosen = Some((n.clone(), range));
            break;
        }
        let Some((name, range)) = chosen else {
            return Err(match &profile.sheet {
                Some(s) => GridErr::Usage(Error::Usage(format!(
                    "profile {}: key `source.sheet`: sheet \"{s}\" not found in {file}; its sheets: {}",
                    profile.origin,
                    names.join(", ")
                ))),
                None => reject(issue(Location::File, "every sheet is empty".into())),
            });
        };
        if range.width() > crate::source::MAX_COLUMNS {
            return Err(reject(issue(
                Location::File,
                format!(
                    "sheet '{name}' has {} columns: expected at most {}",
                    range.width(),
                    crate::source::MAX_COLUMNS
                ),
            )));
        }
        if let Some(cell) = crate::source::uncached_formula(&mut wb, &name, &range) {
            return Err(reject(issue(
                Location::Cell {
                    sheet: name.clone(),
                    cell,
                },
                crate::source::FORMULA_WITHOUT_VALUE.into(),
            )));
        }
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let rows = range
            .rows()
            .enumerate()
            .map(|(k, r)| {
                let mut cells = vec![G::Empty; c0 as usize];
                cells.extend(r.iter().map(|d| match d {
                    Data::Empty => G::Empty,
                    Data::String(s) => G::Text(s.clone()),
                    Data::Float(f) => G::Num(*f),
                    Data::Int(i) => G::Num(*i as f64),
                    other => G::Text(other.to_string()),
                }));
                (r0 + k as u32, cells)
            })
            .collect();
        let sheet = name.clone();
        return Ok(Grid {
            sheet: Some(name),
            rows,
            cell: Box::new(move |r, c| Location::Cell {
                sheet: sheet.clone(),
                cell: format!("{}{}", column_letters(c), r + 1),
            }),
        });
    }
    if profile.sheet.is_some() {
        return Err(GridErr::Usage(Error::Usage(format!(
            "profile {}: key `source.sheet`: {file} is a CSV file, which has no sheets",
            profile.origin
        ))));
    }
    let (text, _) = dialect::decode(bytes, None);
    if let Some((line, len)) = crate::source::overlong_line(&text) {
        return Err(reject(issue(
            Location::Line(line),
            format!("a line of {} KiB: is this a CSV file?", len >> 10),
        )));
    }
    let delim = dialect::detect_delimiter(&text);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            reject(issue(
                Location::Line(line),
                format!("not readable as CSV: {e}"),
            ))
        })?;
        if rec.len() > crate::source::MAX_COLUMNS {
            return Err(reject(issue(
                Location::Line(rows.len() as u64 + 1),
                format!(
                    "{} columns: expected at most {}",
                    rec.len(),
                    crate::source::MAX_COLUMNS
                ),
            )));
        }
        let line = rec.position().map_or(0, |p| p.line());
        rows.push((
            line.saturating_sub(1) as u32,
            rec.iter()
                .map(|s| {
                    if s.trim().is_empty() {
                        G::Empty
                    } else {
                        G::Text(s.to_string())
                    }
                })
                .collect(),
        ));
    }
    Ok(Grid {
        sheet: None,
        rows,
        cell: Box::new(|r, _| Location::Line(u64::from(r) + 1)),
    })
}

/// A value cell as read.
enum V {
    Missing,
    Suppressed,
    Num(f64),
}

fn number(text: &str, decimal: Decimal) -> Option<f64> {
    let t = text.trim().trim_end_matches('%').trim_end();
    let t = t
        .strip_suffix("pct.")
        .or_else(|| t.strip_suffix("pct"))
        .unwrap_or(t)
        .trim();
    dialect::parse_number(t, decimal)
}

/// What [`read`] found, beyond the rows it fed to validation.
#[derive(Debug, Clone, Default)]
pub struct ProfileRead {
    /// Per fed row: suppressed at the source.
    pub suppressed: Vec<bool>,
    /// Per fed row: the unit's name, when the profile maps one.
    pub names: Vec<Option<String>>,
    /// Per fed row: the municipality code, when the profile maps one.
    pub municipalities: Vec<Option<String>>,
    /// Headers of columns the profile does not map.
    pub unmapped: Vec<String>,
    /// Cells suppressed at the source.
    pub suppressed_cells: usize,
    /// Values read, per (indicator, period).
    pub counts: std::collections::BTreeMap<(String, String), usize>,
}

fn municipality_codes() -> HashMap<String, String> {
    let mut m = HashMap::new();
    for line in include_str!("../../../datasets/municipalities.csv")
        .lines()
        .skip(1)
    {
        let mut f = line.split(',');
        if let (Some(code), Some(name)) = (f.next(), f.next()) {
            m.insert(normalise_header(name), code.to_string());
            m.insert(code.to_string(), code.to_string());
        }
    }
    m
}

/// Reads `path` in the profile's layout into `sink` as canonical long
/// observations (department_id, period, indicator, numerator, denominator,
/// value). Problems of single cells are pushed as issues; a layout that does
/// not fit the profile (a header not found) is an error naming the profile.
pub(crate) fn read(
    path: &Path,
    file: &str,
    bytes: &[u8],
    profile: &Profile,
    sink: &mut dyn TableSink,
    issues: &mut Vec<Issue>,
) -> Result<ProfileRead> {
    let grid = match read_grid(path, file, bytes, profile) {
        Ok(g) => g,
        Err(GridErr::Usage(e)) => return Err(e),
        Err(GridErr::Issue(i)) => {
            issues.push(i);
            return Ok(ProfileRead::default());
        }
    };
    let h = find_header(&grid, profile, file)?;
    let data = &grid.rows[h + 1..];
    let ctx = TableCtx {
        file: file.to_string(),
        sheet: grid.sheet.clone(),
        header: [
            "department_id",
            "period",
            "indicator",
            "numerator",
            "denominator",
            "value",
        ]
        .map(String::from)
        .to_vec(),
        decimal: Decimal::Point,
    };
    if let Err(i) = sink.begin(ctx) {
        issues.push(i);
        return Ok(ProfileRead::default());
    }
    let mut r = Reader {
        profile,
        file,
        grid: &grid,
        header: &grid.rows[h],
        decimal: profile.decimal.unwrap_or_else(|| detect_decimal(data)),
        sink,
        issues,
        out: ProfileRead::default(),
        counted: HashMap::new(),
    };
    if matches!(profile.period, PeriodFrom::Across) {
        r.read_across(data)?;
    } else {
        r.read_columns(data)?;
    }
    let mut out = r.out;
    out.counts = tally(r.counted, profile);
    Ok(out)
}

fn norm_cells(r: &[G]) -> Vec<String> {
    r.iter().map(|c| normalise_header(&c.text())).collect()
}

fn joined(r: &[G], sep: &str) -> String {
    r.iter()
        .map(G::text)
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(sep)
}

/// The headers a columns-mode profile needs, with the key naming each.
fn required_headers(profile: &Profile) -> Vec<(String, String)> {
    let mut required: Vec<(String, String)> = Vec::new();
    if let Some(c) = &profile.id_column {
        required.push(("source.id_column".into(), c.clone()));
    }
    if let PeriodFrom::Column(c) = &profile.period {
        required.push(("source.period_column".into(), c.clone()));
    }
    for m in &profile.mappings {
        required.push((format!("{}.header", m.key), m.label.clone()));
        if let Some(b) = &m.base {
            required.push((format!("{}.base_column", m.key), b.clone()));
        }
    }
    for (k, c) in [
        ("source.name_column", &profile.name_column),
        ("source.municipality_column", &profile.municipality_column),
    ] {
        if let Some(c) = c {
            required.push((k.into(), c.clone()));
        }
    }
    required
}

/// The index in `grid.rows` of the header row: `header_row`, else the first
/// row with periods (periods across) or with every mapped header.
fn find_header(grid: &Grid, profile: &Profile, file: &str) -> Result<usize> {
    let across = matches!(profile.period, PeriodFrom::Across);
    let required = if across {
        vec![]
    } else {
        required_headers(profile)
    };
    let has_all = |r: &[G]| {
        let n = norm_cells(r);
        required
            .iter()
            .all(|(_, h)| n.contains(&normalise_header(h)))
    };
    let periods = |r: &[G]| {
        r.iter()
            .filter(|c| c.text().parse::<Period>().is_ok())
            .count()
            >= 2
    };
    let at = match profile.header_row {
        Some(h) => grid.rows.iter().position(|(r, _)| *r + 1 == h),
        None if across => grid.rows.iter().position(|(_, r)| periods(r)),
        None => grid.rows.iter().position(|(_, r)| has_all(r)),
    };
    if let Some(h) = at {
        return Ok(h);
    }
    let origin = &profile.origin;
    Err(Error::Usage(match (profile.header_row, across) {
        (Some(n), _) => format!("profile {origin}: key `source.header_row`: {file} has no row {n}"),
        (None, true) => {
            let seen = grid
                .rows
                .iter()
                .find(|(_, r)| r.iter().any(|c| !matches!(c, G::Empty)))
                .map(|(_, r)| joined(r, " | "))
                .unwrap_or_default();
            format!("profile {origin}: key `source.periods_across`: no row of {file} has periods (2015, 2016 ... or 2025Q3) as headers; the first row reads: {seen}")
        }
        (None, false) => {
            // Name the first required header that no row has, and show the
            // row that comes closest.
            let anywhere = |h: &str| {
                grid.rows
                    .iter()
                    .any(|(_, r)| norm_cells(r).contains(&normalise_header(h)))
            };
            let missing = required
                .iter()
                .find(|(_, h)| !anywhere(h))
                .or(required.first())
                .expect("columns mode requires headers");
            let best = grid.rows.iter().max_by_key(|(_, r)| {
                let n = norm_cells(r);
                required
                    .iter()
                    .filter(|(_, h)| n.contains(&normalise_header(h)))
                    .count()
            });
            format!(
                "profile {origin}: key `{}`: header \"{}\" not found in {file}{}; the headers found: {}",
                missing.0,
                missing.1,
                grid.sheet.as_ref().map(|s| format!(" (sheet '{s}')")).unwrap_or_default(),
                best.map(|(_, r)| joined(r, ", ")).unwrap_or_default()
            )
        }
    }))
}

/// The decimal mark of the value cells given as text (default comma).
fn detect_decimal(data: &[(u32, Vec<G>)]) -> Decimal {
    let mut ev = DecimalEvidence::default();
    for (_, r) in data.iter().take(5000) {
        for c in r {
            if let G::Text(t) = c {
                let t = t.trim().trim_end_matches('%').trim();
                if t.bytes().any(|b| b.is_ascii_digit())
                    && t.bytes()
                        .all(|b| b.is_ascii_digit() || b".,- ".contains(&b))
                {
                    ev.observe(t);
                }
            }
        }
    }
    ev.decide(Decimal::Comma).unwrap_or(Decimal::Comma)
}

fn nfc(s: String) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.trim().nfc().collect()
}

/// One value to store: where it is, for whom, and its base.
struct Obs<'a> {
    id: &'a str,
    period: &'a str,
    /// The mapping's index.
    mi: usize,
    /// Row and column of the value cell.
    at: (u32, u32),
    value: &'a G,
    /// The base cell, with its row and column.
    base: Option<(&'a G, u32, u32)>,
    name: Option<String>,
    muni: Option<String>,
}

/// Reading one file through a profile, after its header row is known.
struct Reader<'a, 'g> {
    profile: &'a Profile,
    file: &'a str,
    grid: &'g Grid,
    header: &'g (u32, Vec<G>),
    decimal: Decimal,
    sink: &'a mut dyn TableSink,
    issues: &'a mut Vec<Issue>,
    out: ProfileRead,
    /// Values read per period and mapping (counted without allocating).
    counted: HashMap<String, Vec<usize>>,
}

impl Reader<'_, '_> {
    fn cell_issue(&self, r: u32, c: u32, column: &str, message: String) -> Issue {
        Issue {
            file: self.file.to_string(),
            location: (self.grid.cell)(r, c),
            column: Some(column.to_string()),
            message,
        }
    }

    /// The column of header `name` (the profile's `key` names it in errors).
    fn col(&self, key: &str, name: &str) -> Result<usize> {
        let (hrow, header) = self.header;
        norm_cells(header)
            .iter()
            .position(|x| *x == normalise_header(name))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "profile {}: key `{key}`: header \"{name}\" not found in row {} of {}; the headers found: {}",
                    self.profile.origin,
                    hrow + 1,
                    self.file,
                    joined(header, ", ")
                ))
            })
    }

    fn value_of(&self, g: &G) -> std::result::Result<V, String> {
        match g {
            G::Empty => Ok(V::Missing),
            G::Num(n) => Ok(V::Num(*n)),
            G::Text(t) => {
                // Numbers first: they are nearly every cell.
                if let Some(v) = number(t, self.decimal) {
                    return Ok(V::Num(v));
                }
                if self.profile.suppressed.contains(&normalise_header(t)) {
                    Ok(V::Suppressed)
                } else if dialect::is_missing_marker(t) {
                    Ok(V::Missing)
                } else {
                    Err(t.trim().to_string())
                }
            }
        }
    }

    /// Converts one value as its mapping says and feeds it to the sink.
    fn emit(&mut self, o: Obs<'_>) {
        let m = &self.profile.mappings[o.mi];
        let (r, c) = o.at;
        let val = match self.value_of(o.value) {
            Ok(x) => x,
            Err(t) => {
                let msg = format!(
                    "expected a number for '{}' ({:?}), a suppression mark ({}) or an empty cell, found \"{t}\"",
                    m.indicator,
                    m.unit,
                    self.profile.suppressed.join(", ")
                );
                let i = self.cell_issue(r, c, &m.label, msg);
                self.issues.push(i);
                return;
            }
        };
        let base = match o.base {
            None => None,
            Some((b, br, bc)) => match self.value_of(b) {
                Ok(x) => Some(x),
                Err(t) => {
                    let msg = format!(
                        "expected a number (the base of '{}'), found \"{t}\"",
                        m.indicator
                    );
                    let i = self.cell_issue(br, bc, m.base.as_deref().unwrap_or(""), msg);
                    self.issues.push(i);
                    return;
                }
            },
        };
        let (n, d, x, suppressed) = match (val, base) {
            (V::Missing, _) => return,
            (V::Suppressed, _) | (_, Some(V::Suppressed)) => (None, None, None, true),
            (V::Num(v), _) if m.kind.is_value() => (None, None, Some(v), false),
            (V::Num(v), Some(V::Num(b))) if m.unit == Unit::Count => {
                (Some(v), Some(b), None, false)
            }
            (V::Num(v), Some(V::Num(b))) => (Some(v * m.unit.factor() * b), Some(b), None, false),
            (V::Num(v), _) => (None, None, Some(v * m.unit.factor()), false),
        };
        let f = |x: Option<f64>| x.map_or(Cell::Empty, Cell::Number);
        let cells = [
            Cell::Text(o.id),
            Cell::Text(o.period),
            Cell::Text(&m.indicator),
            f(n),
            f(d),
            f(x),
        ];
        let row = if self.grid.sheet.is_some() { r } else { r + 1 };
        self.sink.row(RowLoc::Mapped { row, col: c }, &cells);
        self.out.suppressed_cells += usize::from(suppressed);
        self.out.suppressed.push(suppressed);
        if self.profile.level == Level::Area {
            self.out.names.push(o.name);
            self.out.municipalities.push(o.muni);
        }
        match self.counted.get_mut(o.period) {
            Some(v) => v[o.mi] += 1,
            None => {
                let mut v = vec![0; self.profile.mappings.len()];
                v[o.mi] = 1;
                self.counted.insert(o.period.to_string(), v);
            }
        }
    }

    /// Periods across: one unit per file (its id in `id_cell`), one row per
    /// mapped label, one value per period column.
    fn read_across(&mut self, data: &[(u32, Vec<G>)]) -> Result<()> {
        let (profile, file, header) = (self.profile, self.file, &self.header.1);
        let id = match (&profile.id_column, profile.id_cell) {
            (_, Some((r, c))) => self
                .grid
                .rows
                .iter()
                .find(|(rr, _)| *rr == r)
                .and_then(|(_, cells)| cells.get(c as usize))
                .map(G::text)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Error::Usage(format!("profile {}: key `source.id_cell`: cell {}{} of {file} is empty", profile.origin, column_letters(c), r + 1)))?,
            (Some(c), None) => return Err(Error::Usage(format!("profile {}: key `source.id_column` (\"{c}\"): with periods_across the file holds one unit: give its id with id_cell", profile.origin))),
            (None, None) => unreachable!("checked when parsed"),
        };
        let id = nfc(id);
        let label_col = match &profile.label_column {
            Some(l) => self.col("source.label_column", l)?,
            None => header
                .iter()
                .position(|c| !matches!(c, G::Empty) && c.text().parse::<Period>().is_err())
                .unwrap_or(0),
        };
        let periods: Vec<(usize, String)> = header
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.text().parse::<Period>().ok().map(|p| (i, p.to_string())))
            .collect();
        let label_row = |label: &str| {
            data.iter().find(|(_, r)| {
                r.get(label_col)
                    .is_some_and(|c| normalise_header(&c.text()) == normalise_header(label))
            })
        };
        let empty = G::Empty;
        for (mi, m) in profile.mappings.iter().enumerate() {
            let Some((r, cells)) = label_row(&m.label) else {
                let labels: Vec<String> = data
                    .iter()
                    .filter_map(|(_, r)| r.get(label_col).map(G::text))
                    .filter(|t| !t.is_empty())
                    .collect();
                return Err(Error::Usage(format!("profile {}: key `{}.label`: no row labelled \"{}\" in {file}; the labels found: {}", profile.origin, m.key, m.label, labels.join(", "))));
            };
            let base = match &m.base {
                Some(b) => Some(label_row(b).ok_or_else(|| {
                    Error::Usage(format!(
                        "profile {}: key `{}.base_row`: no row labelled \"{b}\" in {file}",
                        profile.origin, m.key
                    ))
                })?),
                None => None,
            };
            for (c, p) in &periods {
                self.emit(Obs {
                    id: &id,
                    period: p,
                    mi,
                    at: (*r, *c as u32),
                    value: cells.get(*c).unwrap_or(&empty),
                    base: base
                        .map(|(br, bcells)| (bcells.get(*c).unwrap_or(&empty), *br, *c as u32)),
                    name: None,
                    muni: None,
                });
            }
        }
        let mapped: Vec<String> = profile
            .mappings
            .iter()
            .flat_map(|m| {
                std::iter::once(normalise_header(&m.label))
                    .chain(m.base.as_ref().map(|b| normalise_header(b)))
            })
            .collect();
        self.out.unmapped = data
            .iter()
            .filter_map(|(_, r)| r.get(label_col).map(G::text))
            .filter(|t| !t.is_empty() && !mapped.contains(&normalise_header(t)))
            .map(|t| format!("row \"{t}\""))
            .collect();
        Ok(())
    }

    /// The code of a municipality given by code or name (with or without
    /// "Kommune"); an unknown one is an issue.
    fn municipality(
        &mut self,
        munis: &HashMap<String, String>,
        r: u32,
        c: usize,
        g: &G,
    ) -> Option<String> {
        let t = g.text();
        if t.is_empty() {
            return None;
        }
        let n = normalise_header(&t);
        let n = n.strip_suffix(" kommune").unwrap_or(&n);
        match munis.get(n) {
            Some(code) => Some(code.clone()),
            None => {
                let msg = format!("unknown municipality \"{t}\": expected a municipality name or 3-digit code of datasets/municipalities.csv");
                let i = self.cell_issue(
                    r,
                    c as u32,
                    self.profile.municipality_column.as_deref().unwrap_or(""),
                    msg,
                );
                self.issues.push(i);
                None
            }
        }
    }

    /// The period of a data row (fixed, or from its column).
    fn period_of(&mut self, r: u32, cells: &[G], period_c: Option<usize>) -> Option<String> {
        match (&self.profile.period, period_c) {
            (PeriodFrom::Fixed(p), _) => Some(p.to_string()),
            (PeriodFrom::Column(name), Some(pc)) => {
                let t = cells.get(pc).map(G::text).unwrap_or_default();
                match t.parse::<Period>() {
                    Ok(p) => Some(p.to_string()),
                    Err(e) => {
                        let i = self.cell_issue(r, pc as u32, name, e.to_string());
                        self.issues.push(i);
                        None
                    }
                }
            }
            _ => unreachable!("columns mode has a period"),
        }
    }

    /// Columns mode: one row per unit (and period), one value per mapped column.
    fn read_columns(&mut self, data: &[(u32, Vec<G>)]) -> Result<()> {
        let profile = self.profile;
        let opt_col = |r: &Self, key: &str, name: &Option<String>| {
            name.as_deref().map(|n| r.col(key, n)).transpose()
        };
        let id_c = self.col(
            "source.id_column",
            profile
                .id_column
                .as_deref()
                .expect("columns mode has id_column"),
        )?;
        let name_c = opt_col(self, "source.name_column", &profile.name_column)?;
        let muni_c = opt_col(
            self,
            "source.municipality_column",
            &profile.municipality_column,
        )?;
        let period_c = match &profile.period {
            PeriodFrom::Column(p) => Some(self.col("source.period_column", p)?),
            _ => None,
        };
        let mut value_cols = Vec::new();
        for m in &profile.mappings {
            let c = self.col(&format!("{}.header", m.key), &m.label)?;
            let b = opt_col(self, &format!("{}.base_column", m.key), &m.base)?;
            value_cols.push((c, b));
        }
        let mut used: Vec<usize> = [Some(id_c), name_c, muni_c, period_c]
            .into_iter()
            .flatten()
            .collect();
        for (c, b) in &value_cols {
            used.push(*c);
            used.extend(*b);
        }
        self.out.unmapped = self
            .header
            .1
            .iter()
            .enumerate()
            .filter(|(i, c)| !used.contains(i) && !c.text().is_empty())
            .map(|(_, c)| c.text())
            .collect();
        let munis = municipality_codes();
        let area = profile.level == Level::Area;
        let empty = G::Empty;
        for (r, cells) in data {
            let get = |c: usize| cells.get(c).unwrap_or(&empty);
            let id = nfc(get(id_c).text());
            if id.is_empty() {
                // An empty line, or a footnote or total line without values: not a unit.
                if value_cols.iter().all(|(c, _)| get(*c).text().is_empty()) {
                    continue;
                }
                let i = self.cell_issue(
                    *r,
                    id_c as u32,
                    profile.id_column.as_deref().unwrap_or(""),
                    "expected an id, found an empty cell".into(),
                );
                self.issues.push(i);
                continue;
            }
            let Some(period) = self.period_of(*r, cells, period_c) else {
                continue;
            };
            let (name, muni) = if area {
                (
                    name_c.map(|c| nfc(get(c).text())).filter(|n| !n.is_empty()),
                    muni_c.and_then(|c| self.municipality(&munis, *r, c, get(c))),
                )
            } else {
                (None, None)
            };
            for (mi, (c, b)) in value_cols.iter().enumerate() {
                self.emit(Obs {
                    id: &id,
                    period: &period,
                    mi,
                    at: (*r, *c as u32),
                    value: get(*c),
                    base: b.map(|bc| (get(bc), *r, bc as u32)),
                    name: name.clone(),
                    muni: muni.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Values per (indicator, period), from the counts per period and mapping.
fn tally(
    counted: HashMap<String, Vec<usize>>,
    profile: &Profile,
) -> std::collections::BTreeMap<(String, String), usize> {
    let mut t = std::collections::BTreeMap::new();
    for (p, v) in counted {
        for (mi, n) in v.into_iter().enumerate() {
            if n > 0 {
                *t.entry((profile.mappings[mi].indicator.clone(), p.clone()))
                    .or_default() += n;
            }
        }
    }
    t
}
