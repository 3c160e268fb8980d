//! The canonical tables (DESIGN.md section 3) and the validating builders that
//! turn raw rows into them.

use polars::prelude::*;

use crate::catalogue::{Catalogue, Kind};
use crate::error::{Issue, Location};
use crate::period::Period;
use crate::source::{Cell, RowLoc, TableCtx, TableSink};

/// The kinds of input table bomon ingests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableKind {
    /// Department master data.
    Departments,
    /// Observations, one row per department, period and indicator.
    Observations,
    /// Observations, one row per department and period, a column per indicator.
    ObservationsWide,
    /// Imported municipal categories.
    Categories,
}

impl std::str::FromStr for TableKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "departments" => Ok(TableKind::Departments),
            "observations" => Ok(TableKind::Observations),
            "observations-wide" | "wide" => Ok(TableKind::ObservationsWide),
            "categories" => Ok(TableKind::Categories),
            _ => Err(format!(
                "unknown table '{s}': expected departments, observations, observations-wide or categories"
            )),
        }
    }
}

impl std::fmt::Display for TableKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TableKind::Departments => "departments",
            TableKind::Observations => "observations",
            TableKind::ObservationsWide => "observations (wide)",
            TableKind::Categories => "categories",
        })
    }
}

/// Housing types (boligtype) a department can have.
pub const HOUSING_TYPES: [&str; 3] = ["family", "elderly", "youth"];
/// Municipal categories, worst first.
pub const CATEGORIES: [&str; 4] = ["red", "orange", "yellow", "green"];

/// Lower-cases a header, turns spaces and dashes into `_`, and maps the
/// Danish names Excel exports commonly carry onto the canonical ones.
pub fn normalise_header(h: &str) -> String {
    let h = h.trim_start_matches('\u{feff}').trim().to_lowercase();
    let h: String = h
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect();
    let canonical = match h.as_str() {
        "afdeling" | "afdeling_id" | "afdelingsnummer" | "afd_nr" => "department_id",
        "navn" | "afdelingsnavn" => "name",
        "boligorganisation" => "organisation",
        "kommunekode" | "kommune" => "municipality_code",
        "boligområde" | "boligomraade" | "område" => "area_id",
        "boligtype" => "housing_type",
        "lejemål" | "lejemaal" | "antal_lejemål" => "tenancies",
        "opførelsesår" | "opfoerelsesaar" | "byggeår" => "construction_year",
        "periode" => "period",
        "indikator" | "nøgletal" => "indicator",
        "tæller" | "taeller" => "numerator",
        "nævner" | "naevner" => "denominator",
        "værdi" | "vaerdi" => "value",
        "kategori" => "category",
        _ => return h,
    };
    canonical.to_string()
}

/// Which table a header belongs to, or `None` when it matches none.
pub fn detect_kind(header: &[String], catalogue: &Catalogue) -> Option<TableKind> {
    let cols: Vec<String> = header.iter().map(|h| normalise_header(h)).collect();
    let has = |c: &str| cols.iter().any(|x| x == c);
    if has("category") {
        return Some(TableKind::Categories);
    }
    if has("indicator") {
        return Some(TableKind::Observations);
    }
    if has("housing_type") || has("tenancies") || has("construction_year") {
        return Some(TableKind::Departments);
    }
    if has("period") && cols.iter().any(|c| wide_column(c, catalogue).is_some()) {
        return Some(TableKind::ObservationsWide);
    }
    None
}

const KIND_HELP: &str = "expected the header of departments (department_id, name, organisation, \
municipality_code, area_id, housing_type, tenancies, construction_year), observations \
(department_id, period, indicator, numerator, denominator, value), wide observations \
(department_id, period, <indicator>_num, <indicator>_den, ...) or categories \
(area_id or department_id, period, category); or name the table with --table";

/// Why a header was not recognised.
pub fn kind_help() -> &'static str {
    KIND_HELP
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Num,
    Den,
    Value,
}

fn wide_column(c: &str, catalogue: &Catalogue) -> Option<(usize, Part)> {
    let (id, part) = if let Some(id) = c.strip_suffix("_num") {
        (id, Part::Num)
    } else if let Some(id) = c.strip_suffix("_den") {
        (id, Part::Den)
    } else {
        (c, Part::Value)
    };
    catalogue
        .indicators()
        .iter()
        .position(|i| i.id == id)
        .map(|i| (i, part))
}

/// Collects issues of one file, listing up to a cap.
#[derive(Debug, Default)]
pub(crate) struct Issues {
    pub listed: Vec<Issue>,
    pub not_listed: usize,
}

/// At most this many problems are listed per file.
pub const ISSUE_CAP: usize = 100;

impl Issues {
    pub fn push(&mut self, i: Issue) {
        if self.listed.len() < ISSUE_CAP {
            self.listed.push(i)
        } else {
            self.not_listed += 1
        }
    }
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }
}

/// Interns department ids, remembering where each was first seen.
#[derive(Default)]
pub(crate) struct Interner {
    map: PlHashMap<String, u32>,
    /// Id, first location, number of rows.
    pub seen: Vec<(String, Location, usize)>,
}

impl Interner {
    fn intern(&mut self, id: &str, loc: impl FnOnce() -> Location) -> u32 {
        if let Some(&i) = self.map.get(id) {
            self.seen[i as usize].2 += 1;
            return i;
        }
        let i = self.seen.len() as u32;
        self.map.insert(id.to_string(), i);
        self.seen.push((id.to_string(), loc(), 1));
        i
    }
}

/// The parsed content of one input file, ready to store.
#[derive(Default)]
pub struct Parsed {
    /// Department rows.
    pub departments: Option<DataFrame>,
    /// Extra structural covariates of departments, long.
    pub covariates: Option<DataFrame>,
    /// Observations.
    pub observations: Option<DataFrame>,
    /// Imported categories.
    pub categories: Option<DataFrame>,
    /// Published figures of housing areas (through an import profile).
    pub area_observations: Option<DataFrame>,
    /// Departments referenced (id, first location, rows), to check they exist.
    pub referenced_departments: Vec<(String, Location, usize)>,
    /// Housing areas referenced by categories.
    pub referenced_areas: Vec<(String, Location, usize)>,
    /// Tables read, with their kind and row count, for the manifest.
    pub tables: Vec<(TableKind, usize)>,
}

/// Column index lookup for a normalised header.
struct Columns(Vec<String>);

impl Columns {
    fn new(header: &[String]) -> Self {
        Columns(header.iter().map(|h| normalise_header(h)).collect())
    }
    fn find(&self, name: &str) -> Option<usize> {
        self.0.iter().position(|c| c == name)
    }
    fn require(
        &self,
        names: &[&str],
        ctx: &TableCtx,
        kind: TableKind,
    ) -> Result<Vec<usize>, Issue> {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| self.find(n).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(ctx.table_issue(format!(
                "missing required column(s) {} for a {kind} table (found: {})",
                missing
                    .iter()
                    .map(|m| format!("'{m}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                ctx.header.join(", ")
            )));
        }
        Ok(names
            .iter()
            .map(|n| self.find(n).expect("checked"))
            .collect())
    }
    fn duplicates(&self, ctx: &TableCtx) -> Result<(), Issue> {
        for (i, c) in self.0.iter().enumerate() {
            if !c.is_empty() && self.0[..i].contains(c) {
                return Err(ctx.table_issue(format!(
                    "column '{}' appears twice in the header",
                    ctx.header[i]
                )));
            }
        }
        Ok(())
    }
}

/// The longest id bomon accepts (department and area ids become file names
/// of charts and must stay readable in every listing).
pub const MAX_ID_CHARS: usize = 64;

/// Checks an id or a name: no control characters (they would make every
/// XLSX and SVG output invalid, and reach terminals raw), ids at most
/// [`MAX_ID_CHARS`] characters. Pushes the problem and returns false.
fn check_text(
    ctx: &TableCtx,
    loc: RowLoc,
    col: usize,
    what: &str,
    text: &str,
    id: bool,
    issues: &mut Issues,
) -> bool {
    if let Some((k, c)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() || matches!(*c, '\u{FFFE}' | '\u{FFFF}'))
    {
        issues.push(ctx.issue(
            loc,
            Some(col),
            format!(
                "the {what} contains a control character (U+{:04X} at character {}): expected printable text",
                c as u32,
                k + 1
            ),
        ));
        return false;
    }
    let n = text.chars().count();
    if id && n > MAX_ID_CHARS {
        issues.push(ctx.issue(
            loc,
            Some(col),
            format!("the {what} has {n} characters: expected at most {MAX_ID_CHARS}"),
        ));
        return false;
    }
    true
}

/// The cells of one observation (numerator, denominator, value), each with
/// its column.
struct Figure<'a> {
    /// The indicator's index in the catalogue.
    ind: usize,
    num: (Cell<'a>, Option<usize>),
    den: (Cell<'a>, Option<usize>),
    val: (Cell<'a>, Option<usize>),
}

fn get<'a>(cells: &[Cell<'a>], i: usize) -> Cell<'a> {
    cells.get(i).copied().unwrap_or(Cell::Empty)
}

/// The state of a sink for the current table.
enum Current<'c> {
    None,
    Departments(DepartmentsBuilder),
    Observations(ObservationsBuilder<'c>),
    Categories(CategoriesBuilder),
}

/// The sink that validates rows of any table kind and collects results.
pub(crate) struct Validator<'c> {
    catalogue: &'c Catalogue,
    forced: Option<TableKind>,
    ctx: Option<TableCtx>,
    current: Current<'c>,
    pub issues: Issues,
    pub parsed: Parsed,
    departments: Interner,
    areas: Interner,
}

impl<'c> Validator<'c> {
    pub fn new(catalogue: &'c Catalogue, forced: Option<TableKind>) -> Self {
        Validator {
            catalogue,
            forced,
            ctx: None,
            current: Current::None,
            issues: Issues::default(),
            parsed: Parsed::default(),
            departments: Interner::default(),
            areas: Interner::default(),
        }
    }

    fn flush(&mut self) {
        let cur = std::mem::replace(&mut self.current, Current::None);
        match cur {
            Current::None => {}
            Current::Departments(b) => {
                let n = b.ids.len();
                let (d, c) = b.finish();
                append(&mut self.parsed.departments, d);
                append(&mut self.parsed.covariates, c);
                self.parsed.tables.push((TableKind::Departments, n));
            }
            Current::Observations(b) => {
                let n = b.rows();
                let kind = if b.wide.is_some() {
                    TableKind::ObservationsWide
                } else {
                    TableKind::Observations
                };
                append(&mut self.parsed.observations, b.finish(&self.departments));
                self.parsed.tables.push((kind, n));
            }
            Current::Categories(b) => {
                let n = b.period.len();
                append(&mut self.parsed.categories, b.finish());
                self.parsed.tables.push((TableKind::Categories, n));
            }
        }
    }

    /// Ends the file: returns what was parsed.
    pub fn finish(mut self) -> (Parsed, Issues) {
        self.flush();
        self.parsed.referenced_departments = std::mem::take(&mut self.departments.seen);
        self.parsed.referenced_areas = std::mem::take(&mut self.areas.seen);
        (self.parsed, self.issues)
    }
}

fn append(acc: &mut Option<DataFrame>, df: DataFrame) {
    match acc {
        None => *acc = Some(df),
        Some(a) => {
            a.vstack_mut(&df).expect("same schema by construction");
        }
    }
}

impl TableSink for Validator<'_> {
    fn begin(&mut self, ctx: TableCtx) -> Result<(), Issue> {
        self.flush();
        let cols = Columns::new(&ctx.header);
        cols.duplicates(&ctx)?;
        let kind = match self
            .forced
            .or_else(|| detect_kind(&ctx.header, self.catalogue))
        {
            Some(k) => k,
            None => {
                return Err(ctx.table_issue(format!("cannot tell which table this is: {KIND_HELP}")))
            }
        };
        self.current = match kind {
            TableKind::Departments => Current::Departments(DepartmentsBuilder::new(&cols, &ctx)?),
            TableKind::Observations => {
                Current::Observations(ObservationsBuilder::new_long(&cols, &ctx, self.catalogue)?)
            }
            TableKind::ObservationsWide => {
                Current::Observations(ObservationsBuilder::new_wide(&cols, &ctx, self.catalogue)?)
            }
            TableKind::Categories => Current::Categories(CategoriesBuilder::new(&cols, &ctx)?),
        };
        self.ctx = Some(ctx);
        Ok(())
    }

    fn row(&mut self, loc: RowLoc, cells: &[Cell<'_>]) {
        let Some(ctx) = &self.ctx else { return };
        if cells.len() > ctx.header.len()
            && cells[ctx.header.len()..].iter().any(|c| !c.is_missing())
        {
            self.issues.push(ctx.issue(
                loc,
                None,
                format!(
                    "expected {} fields as in the header, found {} (a separator inside an unquoted value?)",
                    ctx.header.len(),
                    cells.len()
                ),
            ));
            return;
        }
        match &mut self.current {
            Current::None => {}
            Current::Departments(b) => b.row(ctx, loc, cells, &mut self.issues),
            Current::Observations(b) => {
                b.row(ctx, loc, cells, &mut self.issues, &mut self.departments)
            }
            Current::Categories(b) => b.row(
                ctx,
                loc,
                cells,
                &mut self.issues,
                &mut self.departments,
                &mut self.areas,
            ),
        }
    }
}

// ---------------------------------------------------------------- departments

struct DepartmentsBuilder {
    col: [usize; 7],
    area: Option<usize>,
    covariate_cols: Vec<(usize, String)>,
    seen: PlHashMap<String, Location>,
    ids: Vec<String>,
    names: Vec<String>,
    orgs: Vec<String>,
    munis: Vec<String>,
    areas: Vec<Option<String>>,
    types: Vec<&'static str>,
    tenancies: Vec<i64>,
    years: Vec<i32>,
    cov_dept: Vec<String>,
    cov_name: Vec<String>,
    cov_value: Vec<f64>,
}

const DEPARTMENT_COLUMNS: [&str; 7] = [
    "department_id",
    "name",
    "organisation",
    "municipality_code",
    "housing_type",
    "tenancies",
    "construction_year",
];

impl DepartmentsBuilder {
    fn new(cols: &Columns, ctx: &TableCtx) -> Result<Self, Issue> {
        let idx = cols.require(&DEPARTMENT_COLUMNS, ctx, TableKind::Departments)?;
        let area = cols.find("area_id");
        let covariate_cols = cols
            .0
            .iter()
            .enumerate()
            .filter(|(i, c)| !idx.contains(i) && Some(*i) != area && !c.is_empty())
            .map(|(i, c)| (i, c.clone()))
            .collect();
        Ok(DepartmentsBuilder {
            col: idx.try_into().expect("seven columns"),
            area,
            covariate_cols,
            seen: PlHashMap::default(),
            ids: vec![],
            names: vec![],
            orgs: vec![],
            munis: vec![],
            areas: vec![],
            types: vec![],
            tenancies: vec![],
            years: vec![],
            cov_dept: vec![],
            cov_name: vec![],
            cov_value: vec![],
        })
    }

    fn row(&mut self, ctx: &TableCtx, loc: RowLoc, cells: &[Cell<'_>], issues: &mut Issues) {
        let [c_id, c_name, c_org, c_muni, c_type, c_ten, c_year] = self.col;
        let before = issues.listed.len() + issues.not_listed;
        let text = |c: usize| get(cells, c).text();
        let id = text(c_id);
        if id.is_empty() {
            issues.push(ctx.issue(
                loc,
                Some(c_id),
                "expected a department id, found an empty cell",
            ));
        } else if let Some(first) = self.seen.get(id.as_ref()) {
            issues.push(ctx.issue(
                loc,
                Some(c_id),
                format!(
                    "duplicate department id '{id}' (first at {})",
                    describe(first)
                ),
            ));
        } else {
            self.seen
                .insert(id.to_string(), ctx.location(loc, Some(c_id)));
        }
        check_text(ctx, loc, c_id, "department id", &id, true, issues);
        let name = text(c_name);
        check_text(ctx, loc, c_name, "name", &name, false, issues);
        check_text(ctx, loc, c_org, "organisation", &text(c_org), false, issues);
        if let Some(a) = self.area {
            check_text(ctx, loc, a, "housing area id", &text(a), true, issues);
        }
        if name.is_empty() {
            issues.push(ctx.issue(
                loc,
                Some(c_name),
                "expected a department name, found an empty cell",
            ));
        }
        let muni = text(c_muni);
        if !(muni.len() == 3 && muni.bytes().all(|b| b.is_ascii_digit())) {
            issues.push(ctx.issue(
                loc,
                Some(c_muni),
                format!("expected a 3-digit municipality code such as 751, found \"{muni}\""),
            ));
        }
        let ty = text(c_type).to_lowercase();
        let housing_type = match ty.as_str() {
            "family" | "familie" | "familiebolig" | "familieboliger" => Some("family"),
            "elderly" | "ældre" | "aeldre" | "ældrebolig" | "ældreboliger" => Some("elderly"),
            "youth" | "ungdom" | "ungdomsbolig" | "ungdomsboliger" => Some("youth"),
            _ => None,
        };
        if housing_type.is_none() {
            issues.push(ctx.issue(
                loc,
                Some(c_type),
                format!(
                    "expected a housing type (family, elderly or youth), found \"{}\"",
                    text(c_type)
                ),
            ));
        }
        let tenancies = match get(cells, c_ten).number(ctx.decimal) {
            Ok(Some(v)) if v >= 0.0 && v.fract() == 0.0 && v < 1e9 => Some(v as i64),
            Ok(_) | Err(_) => {
                issues.push(ctx.issue(
                    loc,
                    Some(c_ten),
                    format!(
                        "expected a whole number of tenancies >= 0, found \"{}\"",
                        text(c_ten)
                    ),
                ));
                None
            }
        };
        let year = match get(cells, c_year).number(ctx.decimal) {
            Ok(Some(v)) if v.fract() == 0.0 && (1600.0..=2100.0).contains(&v) => Some(v as i32),
            _ => {
                issues.push(ctx.issue(
                    loc,
                    Some(c_year),
                    format!(
                        "expected a construction year (1600-2100), found \"{}\"",
                        text(c_year)
                    ),
                ));
                None
            }
        };
        let mut covs = Vec::new();
        for (c, cname) in &self.covariate_cols {
            match get(cells, *c).number(ctx.decimal) {
                Ok(Some(v)) => covs.push((cname.clone(), v)),
                Ok(None) => {}
                Err(t) => issues.push(ctx.issue(
                    loc,
                    Some(*c),
                    format!("expected a number (a structural covariate), found \"{t}\""),
                )),
            }
        }
        if issues.listed.len() + issues.not_listed > before {
            return;
        }
        for (cname, v) in covs {
            self.cov_dept.push(id.to_string());
            self.cov_name.push(cname);
            self.cov_value.push(v);
        }
        self.ids.push(id.into_owned());
        self.names.push(name.into_owned());
        self.orgs.push(text(c_org).into_owned());
        self.munis.push(muni.into_owned());
        self.areas.push(
            self.area
                .map(|a| text(a).into_owned())
                .filter(|a| !a.is_empty()),
        );
        self.types.push(housing_type.expect("validated"));
        self.tenancies.push(tenancies.expect("validated"));
        self.years.push(year.expect("validated"));
    }

    fn finish(self) -> (DataFrame, DataFrame) {
        let d = DataFrame::new(vec![
            Column::new("department_id".into(), self.ids),
            Column::new("name".into(), self.names),
            Column::new("organisation".into(), self.orgs),
            Column::new("municipality_code".into(), self.munis),
            Column::new("area_id".into(), self.areas),
            Column::new("housing_type".into(), self.types),
            Column::new("tenancies".into(), self.tenancies),
            Column::new("construction_year".into(), self.years),
        ])
        .expect("equal lengths");
        let c = DataFrame::new(vec![
            Column::new("department_id".into(), self.cov_dept),
            Column::new("covariate".into(), self.cov_name),
            Column::new("value".into(), self.cov_value),
        ])
        .expect("equal lengths");
        (d, c)
    }
}

/// "line 5", "sheet 'Data' cell A5", "row 5".
pub(crate) fn describe(l: &Location) -> String {
    match l {
        Location::File => "the file".into(),
        Location::Line(n) => format!("line {n}"),
        Location::Cell { sheet, cell } => format!("sheet '{sheet}' cell {cell}"),
        Location::Row(n) => format!("row {n}"),
    }
}

// --------------------------------------------------------------- observations

/// An indicator of a wide table: catalogue index and its num, den and value columns.
type WideIndicator = (usize, Option<usize>, Option<usize>, Option<usize>);

struct Wide {
    /// Indicators present, with their num/den/value columns.
    indicators: Vec<WideIndicator>,
}

struct ObservationsBuilder<'c> {
    catalogue: &'c Catalogue,
    c_dept: usize,
    c_period: usize,
    c_ind: Option<usize>,
    c_num: Option<usize>,
    c_den: Option<usize>,
    c_val: Option<usize>,
    wide: Option<Wide>,
    periods: Vec<Period>,
    period_index: PlHashMap<String, Result<u16, String>>,
    /// Per department, a bitset over (period, indicator) of keys seen: cheaper
    /// than a hash set of millions of keys.
    seen: Vec<Vec<u64>>,
    /// Keys of rows that were seen but rejected, with where they were.
    rejected_keys: PlHashMap<u64, (RowLoc, Option<usize>)>,
    /// Where each accepted row came from.
    locs: Vec<RowLoc>,
    dept: Vec<u32>,
    period: Vec<u16>,
    indicator: Vec<u16>,
    num: Vec<Option<f64>>,
    den: Vec<Option<f64>>,
    val: Vec<Option<f64>>,
}

impl<'c> ObservationsBuilder<'c> {
    fn base(
        cols: &Columns,
        ctx: &TableCtx,
        catalogue: &'c Catalogue,
        kind: TableKind,
        extra: &[&str],
    ) -> Result<Self, Issue> {
        let mut need = vec!["department_id", "period"];
        need.extend_from_slice(extra);
        let idx = cols.require(&need, ctx, kind)?;
        Ok(ObservationsBuilder {
            catalogue,
            c_dept: idx[0],
            c_period: idx[1],
            c_ind: idx.get(2).copied(),
            c_num: cols.find("numerator"),
            c_den: cols.find("denominator"),
            c_val: cols.find("value"),
            wide: None,
            periods: vec![],
            period_index: PlHashMap::default(),
            seen: vec![],
            rejected_keys: PlHashMap::default(),
            locs: vec![],
            dept: vec![],
            period: vec![],
            indicator: vec![],
            num: vec![],
            den: vec![],
            val: vec![],
        })
    }

    fn new_long(cols: &Columns, ctx: &TableCtx, catalogue: &'c Catalogue) -> Result<Self, Issue> {
        let b = Self::base(
            cols,
            ctx,
            catalogue,
            TableKind::Observations,
            &["indicator"],
        )?;
        if b.c_val.is_none() && (b.c_num.is_none() || b.c_den.is_none()) {
            return Err(ctx.table_issue(
                "missing required column(s): an observations table needs 'numerator' and 'denominator', or 'value', or all three",
            ));
        }
        let known = [
            "department_id",
            "period",
            "indicator",
            "numerator",
            "denominator",
            "value",
        ];
        if let Some((i, _)) = cols
            .0
            .iter()
            .enumerate()
            .find(|(_, c)| !known.contains(&c.as_str()) && !c.is_empty())
        {
            return Err(ctx.table_issue(format!(
                "unexpected column '{}' in an observations table (expected {})",
                ctx.header[i],
                known.join(", ")
            )));
        }
        Ok(b)
    }

    fn new_wide(cols: &Columns, ctx: &TableCtx, catalogue: &'c Catalogue) -> Result<Self, Issue> {
        let mut b = Self::base(cols, ctx, catalogue, TableKind::ObservationsWide, &[])?;
        let mut inds: Vec<WideIndicator> = Vec::new();
        for (i, c) in cols.0.iter().enumerate() {
            if i == b.c_dept || i == b.c_period {
                continue;
            }
            let Some((ind, part)) = wide_column(c, catalogue) else {
                return Err(ctx.table_issue(format!(
                    "unknown column '{}' in a wide observations table: expected <indicator>, <indicator>_num or \
                     <indicator>_den for an indicator of the catalogue",
                    ctx.header[i]
                )));
            };
            let e = match inds.iter_mut().find(|e| e.0 == ind) {
                Some(e) => e,
                None => {
                    inds.push((ind, None, None, None));
                    inds.last_mut().expect("pushed")
                }
            };
            match part {
                Part::Num => e.1 = Some(i),
                Part::Den => e.2 = Some(i),
                Part::Value => e.3 = Some(i),
            }
        }
        for &(ind, n, d, v) in &inds {
            let indicator = &catalogue.indicators()[ind];
            let ok = if indicator.kind.is_value() {
                v.is_some() && n.is_none() && d.is_none()
            } else {
                n.is_some() && d.is_some() && v.is_none()
            };
            if !ok {
                let want = if indicator.kind.is_value() {
                    format!("a single column '{}'", indicator.id)
                } else {
                    format!("columns '{0}_num' and '{0}_den'", indicator.id)
                };
                return Err(ctx.table_issue(format!(
                    "indicator '{}' is a {:?}: a wide table needs {want}",
                    indicator.id, indicator.kind
                )));
            }
        }
        b.wide = Some(Wide { indicators: inds });
        Ok(b)
    }

    fn rows(&self) -> usize {
        self.dept.len()
    }

    fn row(
        &mut self,
        ctx: &TableCtx,
        loc: RowLoc,
        cells: &[Cell<'_>],
        issues: &mut Issues,
        depts: &mut Interner,
    ) {
        let dtext = get(cells, self.c_dept).text();
        if dtext.is_empty() {
            issues.push(ctx.issue(
                loc,
                Some(self.c_dept),
                "expected a department id, found an empty cell",
            ));
            return;
        }
        let ptext = get(cells, self.c_period).text();
        let pidx = match self.period_index.get(ptext.as_ref()) {
            Some(r) => r.clone(),
            None => {
                let r = match ptext.parse::<Period>() {
                    Ok(p) => {
                        self.periods.push(p);
                        Ok((self.periods.len() - 1) as u16)
                    }
                    Err(e) => Err(e.to_string()),
                };
                self.period_index.insert(ptext.to_string(), r.clone());
                r
            }
        };
        let pidx = match pidx {
            Ok(p) => p,
            Err(m) => {
                issues.push(ctx.issue(loc, Some(self.c_period), m));
                return;
            }
        };
        let period = self.periods[pidx as usize];
        let d = depts.intern(&dtext, || ctx.location(loc, Some(self.c_dept)));
        if let Some(inds) = self.wide.as_ref().map(|w| w.indicators.clone()) {
            for (ind, n, dn, v) in inds {
                let cell = |c: Option<usize>| c.map_or(Cell::Empty, |c| get(cells, c));
                self.figure(
                    ctx,
                    loc,
                    issues,
                    (d, &dtext),
                    (pidx, period),
                    Figure {
                        ind,
                        num: (cell(n), n),
                        den: (cell(dn), dn),
                        val: (cell(v), v),
                    },
                );
            }
        } else {
            let c_ind = self.c_ind.expect("long table has an indicator column");
            let itext = get(cells, c_ind).text();
            let Some(ind) = self
                .catalogue
                .indicators()
                .iter()
                .position(|i| i.id == itext)
            else {
                let mut known: Vec<&str> = self
                    .catalogue
                    .indicators()
                    .iter()
                    .map(|i| i.id.as_str())
                    .collect();
                known.truncate(6);
                issues.push(ctx.issue(
                    loc,
                    Some(c_ind),
                    format!(
                        "unknown indicator \"{itext}\": expected an id of the indicator catalogue ({}, ...)",
                        known.join(", ")
                    ),
                ));
                return;
            };
            let cell = |c: Option<usize>| c.map_or(Cell::Empty, |c| get(cells, c));
            let (n, dn, v) = (self.c_num, self.c_den, self.c_val);
            self.figure(
                ctx,
                loc,
                issues,
                (d, &dtext),
                (pidx, period),
                Figure {
                    ind,
                    num: (cell(n), n),
                    den: (cell(dn), dn),
                    val: (cell(v), v),
                },
            );
        }
    }

    fn figure(
        &mut self,
        ctx: &TableCtx,
        loc: RowLoc,
        issues: &mut Issues,
        (dept, dept_name): (u32, &str),
        (pidx, period): (u16, Period),
        Figure { ind, num, den, val }: Figure<'_>,
    ) {
        let indicator = &self.catalogue.indicators()[ind];
        let before = issues.listed.len() + issues.not_listed;
        let ind_col = self.c_ind.or(num.1).or(val.1);
        if period.is_quarter() && !indicator.is_quarterly() {
            issues.push(ctx.issue(
                loc,
                Some(self.c_period),
                format!(
                    "indicator '{}' is annual only, found the quarter {period}",
                    indicator.id
                ),
            ));
        } else if !period.is_quarter() && !indicator.is_annual() {
            issues.push(ctx.issue(
                loc,
                Some(self.c_period),
                format!(
                    "indicator '{}' is quarterly only, found the year {period}",
                    indicator.id
                ),
            ));
        }
        let mut number = |(c, col): (Cell<'_>, Option<usize>), what: &str| -> Option<f64> {
            match c.number(ctx.decimal) {
                Ok(Some(v)) if v < 0.0 => {
                    issues.push(ctx.issue(
                        loc,
                        col,
                        format!("expected a {what} >= 0, found {}", c.text()),
                    ));
                    None
                }
                // No department has a billion of anything: a cell claiming
                // it is an error in the file, refused before it skews a review.
                Ok(Some(v)) if v > crate::source::MAX_PLAUSIBLE => {
                    issues.push(ctx.issue(
                        loc,
                        col,
                        format!(
                            "implausibly large {what} {}: expected at most {:e} (tenancy-days of the largest organisation)",
                            c.text(),
                            crate::source::MAX_PLAUSIBLE
                        ),
                    ));
                    None
                }
                Ok(v) => v,
                Err(t) => {
                    let mark = match ctx.decimal {
                        crate::dialect::Decimal::Comma => "decimal comma",
                        crate::dialect::Decimal::Point => "decimal point",
                    };
                    issues.push(ctx.issue(
                        loc,
                        col,
                        format!("expected a {what} (number with {mark}), found \"{t}\""),
                    ));
                    None
                }
            }
        };
        let (n, d, v);
        if indicator.kind.is_value() {
            v = number(val, "value");
            n = None;
            d = None;
            if !num.0.is_missing() || !den.0.is_missing() {
                issues.push(ctx.issue(
                    loc,
                    num.1.or(den.1),
                    format!(
                        "indicator '{}' is a {:?}: give it in column 'value', not as numerator/denominator",
                        indicator.id, indicator.kind
                    ),
                ));
            }
        } else if !val.0.is_missing() && num.0.is_missing() && den.0.is_missing() {
            // A share or ratio published without its base (e.g. income as
            // 51.0 % of the region's): stored as the value (a fraction, 0.51),
            // used by the rules and the categorisation, not tested in reviews.
            n = None;
            d = None;
            v = number(val, "value");
            if let Some(x) = v {
                if indicator.kind == Kind::Share && x > 1.0 + 1e-12 {
                    issues.push(ctx.issue(
                        loc,
                        val.1,
                        format!(
                            "value {x} of indicator '{}' is a share: expected a fraction between 0 and 1 (43.5 % is 0.435)",
                            indicator.id
                        ),
                    ));
                }
            }
        } else {
            n = number(num, "numerator");
            d = number(den, "denominator");
            v = None;
            if !val.0.is_missing() {
                issues.push(ctx.issue(
                    loc,
                    val.1,
                    format!(
                        "indicator '{}' is a {:?}: give numerator and denominator, or only a value (a fraction), not both",
                        indicator.id, indicator.kind
                    ),
                ));
            }
            if let (Some(n), Some(d)) = (n, d) {
                if indicator.kind == Kind::Share && n > d * (1.0 + 1e-12) {
                    issues.push(ctx.issue(
                        loc,
                        num.1,
                        format!(
                            "numerator {n} exceeds denominator {d}: indicator '{}' is a share (numerator <= denominator)",
                            indicator.id
                        ),
                    ));
                } else if d == 0.0 && (n > 0.0 || indicator.kind == Kind::Ratio) {
                    issues.push(ctx.issue(
                        loc,
                        den.1,
                        format!(
                            "expected a denominator > 0 for numerator {n} of indicator '{}'",
                            indicator.id
                        ),
                    ));
                }
            }
        }
        let key = (u64::from(dept) << 32) | (u64::from(pidx) << 16) | ind as u64;
        let n_ind = self.catalogue.indicators().len();
        let bit = pidx as usize * n_ind + ind;
        if self.seen.len() <= dept as usize {
            self.seen.resize(dept as usize + 1, Vec::new());
        }
        let bits = &mut self.seen[dept as usize];
        if bits.len() <= bit / 64 {
            bits.resize(bit / 64 + 1, 0);
        }
        let mask = 1u64 << (bit % 64);
        if bits[bit / 64] & mask != 0 {
            let first = match self.rejected_keys.get(&key) {
                Some(&(l, c)) => Some(ctx.location(l, c)),
                None => (0..self.dept.len())
                    .find(|&j| {
                        self.dept[j] == dept
                            && self.period[j] == pidx
                            && self.indicator[j] as usize == ind
                    })
                    .map(|j| ctx.location(self.locs[j], ind_col)),
            };
            issues.push(ctx.issue(
                loc,
                ind_col,
                format!(
                    "duplicate observation for department '{dept_name}', period {period}, indicator '{}' (first at {})",
                    indicator.id,
                    first.as_ref().map_or_else(|| "an earlier row".to_string(), describe)
                ),
            ));
            return;
        }
        bits[bit / 64] |= mask;
        if issues.listed.len() + issues.not_listed > before {
            self.rejected_keys.insert(key, (loc, ind_col));
            return;
        }
        self.locs.push(loc);
        self.dept.push(dept);
        self.period.push(pidx);
        self.indicator.push(ind as u16);
        self.num.push(n);
        self.den.push(d);
        self.val.push(v);
    }

    fn finish(self, depts: &Interner) -> DataFrame {
        let periods: Vec<String> = self.periods.iter().map(|p| p.to_string()).collect();
        let ids = self.catalogue.indicators();
        let n = self.dept.len();
        let dept = StringChunked::from_iter_values(
            "department_id".into(),
            self.dept.iter().map(|&d| depts.seen[d as usize].0.as_str()),
        );
        let period = StringChunked::from_iter_values(
            "period".into(),
            self.period.iter().map(|&p| periods[p as usize].as_str()),
        );
        let year = Int32Chunked::from_iter_values(
            "year".into(),
            self.period.iter().map(|&p| self.periods[p as usize].year()),
        );
        let quarter: Int32Chunked = self
            .period
            .iter()
            .map(|&p| self.periods[p as usize].quarter().map(i32::from))
            .collect::<Int32Chunked>()
            .with_name("quarter".into());
        let indicator = StringChunked::from_iter_values(
            "indicator".into(),
            self.indicator.iter().map(|&i| ids[i as usize].id.as_str()),
        );
        let df = DataFrame::new(vec![
            dept.into_series().into(),
            period.into_series().into(),
            year.into_series().into(),
            quarter.into_series().into(),
            indicator.into_series().into(),
            Column::new("numerator".into(), self.num),
            Column::new("denominator".into(), self.den),
            Column::new("value".into(), self.val),
        ])
        .expect("equal lengths");
        debug_assert_eq!(df.height(), n);
        df
    }
}

// ----------------------------------------------------------------- categories

struct CategoriesBuilder {
    c_area: Option<usize>,
    c_dept: Option<usize>,
    c_period: usize,
    c_cat: usize,
    keys: PlHashMap<(bool, String, String), Location>,
    area: Vec<Option<String>>,
    dept: Vec<Option<String>>,
    period: Vec<String>,
    category: Vec<&'static str>,
}

impl CategoriesBuilder {
    fn new(cols: &Columns, ctx: &TableCtx) -> Result<Self, Issue> {
        let idx = cols.require(&["period", "category"], ctx, TableKind::Categories)?;
        let c_area = cols.find("area_id");
        let c_dept = cols.find("department_id");
        if c_area.is_none() && c_dept.is_none() {
            return Err(ctx.table_issue(
                "missing required column(s): a categories table needs 'area_id' or 'department_id'",
            ));
        }
        Ok(CategoriesBuilder {
            c_area,
            c_dept,
            c_period: idx[0],
            c_cat: idx[1],
            keys: PlHashMap::default(),
            area: vec![],
            dept: vec![],
            period: vec![],
            category: vec![],
        })
    }

    fn row(
        &mut self,
        ctx: &TableCtx,
        loc: RowLoc,
        cells: &[Cell<'_>],
        issues: &mut Issues,
        depts: &mut Interner,
        areas: &mut Interner,
    ) {
        let area = self
            .c_area
            .map(|c| get(cells, c).text().into_owned())
            .filter(|s| !s.is_empty());
        let dept = self
            .c_dept
            .map(|c| get(cells, c).text().into_owned())
            .filter(|s| !s.is_empty());
        for (c, v, what) in [
            (self.c_area, &area, "housing area id"),
            (self.c_dept, &dept, "department id"),
        ] {
            if let (Some(c), Some(v)) = (c, v) {
                if !check_text(ctx, loc, c, what, v, true, issues) {
                    return;
                }
            }
        }
        let (is_area, unit) = match (&area, &dept) {
            (Some(a), None) => (true, a.clone()),
            (None, Some(d)) => (false, d.clone()),
            _ => {
                issues.push(ctx.issue(
                    loc,
                    self.c_area.or(self.c_dept),
                    "expected exactly one of area_id and department_id in each row",
                ));
                return;
            }
        };
        let ptext = get(cells, self.c_period).text();
        let period = match ptext.parse::<Period>() {
            Ok(p) => p,
            Err(e) => {
                issues.push(ctx.issue(loc, Some(self.c_period), e.to_string()));
                return;
            }
        };
        let ctext = get(cells, self.c_cat).text().to_lowercase();
        let cat = match ctext.as_str() {
            "red" | "rød" | "roed" => "red",
            "orange" => "orange",
            "yellow" | "gul" => "yellow",
            "green" | "grøn" | "groen" => "green",
            _ => {
                issues.push(ctx.issue(
                    loc,
                    Some(self.c_cat),
                    format!(
                        "expected a category (red, orange, yellow or green), found \"{}\"",
                        get(cells, self.c_cat).text()
                    ),
                ));
                return;
            }
        };
        let key = (is_area, unit.clone(), period.to_string());
        if let Some(first) = self.keys.get(&key) {
            issues.push(ctx.issue(
                loc,
                Some(self.c_cat),
                format!(
                    "duplicate category for {} '{unit}', period {period} (first at {})",
                    if is_area { "area" } else { "department" },
                    describe(first)
                ),
            ));
            return;
        }
        self.keys.insert(key, ctx.location(loc, Some(self.c_cat)));
        if is_area {
            areas.intern(&unit, || ctx.location(loc, self.c_area));
        } else {
            depts.intern(&unit, || ctx.location(loc, self.c_dept));
        }
        self.area.push(area);
        self.dept.push(dept);
        self.period.push(period.to_string());
        self.category.push(cat);
    }

    fn finish(self) -> DataFrame {
        DataFrame::new(vec![
            Column::new("area_id".into(), self.area),
            Column::new("department_id".into(), self.dept),
            Column::new("period".into(), self.period),
            Column::new("category".into(), self.category),
        ])
        .expect("equal lengths")
    }
}
