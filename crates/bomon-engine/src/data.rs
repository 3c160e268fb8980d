//! The review's input, read once from a store snapshot into dense arrays:
//! departments, their covariates, annual observations per indicator and year,
//! and the categories in force.

use std::collections::HashMap;

use bomon_store::{Snapshot, StoredTable};
use polars::prelude::*;

use crate::Error;

/// A department as the review sees it.
#[derive(Debug, Clone)]
pub struct Dept {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Organisation.
    pub organisation: String,
    /// Municipality code.
    pub municipality: String,
    /// Housing area.
    pub area: Option<String>,
    /// Housing type.
    pub housing_type: String,
    /// Tenancies.
    pub tenancies: f64,
    /// Construction year.
    pub construction_year: f64,
    /// Further numeric covariates.
    pub covariates: HashMap<String, f64>,
}

/// Annual figures: for each indicator, numerator and denominator (or value)
/// per department and year, NaN where missing.
#[derive(Debug, Clone)]
pub struct Panel {
    /// First year held.
    pub first_year: i32,
    /// Number of years held.
    pub years: usize,
    /// Departments.
    pub depts: Vec<Dept>,
    /// Indicator ids, in the order of `num`/`den`.
    pub indicators: Vec<String>,
    /// num[indicator][dept * years + (year - first_year)].
    pub num: Vec<Vec<f64>>,
    /// den[indicator][...], NaN for plain values.
    pub den: Vec<Vec<f64>>,
    /// Category in force per department for the review year (area's, else the department's own).
    pub category: Vec<Option<String>>,
}

impl Panel {
    /// Index of (dept, year) in the arrays.
    pub fn at(&self, dept: usize, year: i32) -> Option<usize> {
        let y = year - self.first_year;
        (y >= 0 && (y as usize) < self.years).then(|| dept * self.years + y as usize)
    }

    /// Numerator and denominator of indicator `i` for a department and year.
    pub fn get(&self, i: usize, dept: usize, year: i32) -> (f64, f64) {
        match self.at(dept, year) {
            Some(k) => (self.num[i][k], self.den[i][k]),
            None => (f64::NAN, f64::NAN),
        }
    }

    /// The position of an indicator.
    pub fn indicator(&self, id: &str) -> Option<usize> {
        self.indicators.iter().position(|x| x == id)
    }
}

fn strs(df: &DataFrame, c: &str) -> Result<Vec<Option<String>>, Error> {
    Ok(bomon_store::frame::strings(df, c)?)
}

fn floats(df: &DataFrame, c: &str) -> Result<Vec<f64>, Error> {
    Ok(bomon_store::frame::floats(df, c)?)
}

/// Reads the departments and their covariates, sorted by id.
pub fn load_departments(snap: &Snapshot<'_>) -> Result<Vec<Dept>, Error> {
    let deps = snap
        .table(StoredTable::Departments)?
        .sort(["department_id"], Default::default())
        .collect()
        .map_err(|e| Error::polars("reading departments", e))?;
    if deps.height() == 0 {
        return Err(Error::Input(
            "the store holds no departments; ingest a departments file first".into(),
        ));
    }
    let ids = strs(&deps, "department_id")?;
    let names = strs(&deps, "name")?;
    let orgs = strs(&deps, "organisation")?;
    let munis = strs(&deps, "municipality_code")?;
    let areas = strs(&deps, "area_id")?;
    let types = strs(&deps, "housing_type")?;
    let ten = floats(&deps, "tenancies")?;
    let cy = floats(&deps, "construction_year")?;
    let mut depts: Vec<Dept> = (0..deps.height())
        .map(|i| Dept {
            id: ids[i].clone().unwrap_or_default(),
            name: names[i].clone().unwrap_or_default(),
            organisation: orgs[i].clone().unwrap_or_default(),
            municipality: munis[i].clone().unwrap_or_default(),
            area: areas[i].clone(),
            housing_type: types[i].clone().unwrap_or_default(),
            tenancies: ten[i],
            construction_year: cy[i],
            covariates: HashMap::new(),
        })
        .collect();
    let index = index_of(&depts);

    let cov = snap
        .table(StoredTable::DepartmentCovariates)?
        .collect()
        .map_err(|e| Error::polars("reading covariates", e))?;
    let (cd, cn, cv) = (
        strs(&cov, "department_id")?,
        strs(&cov, "covariate")?,
        floats(&cov, "value")?,
    );
    for i in 0..cov.height() {
        if let (Some(d), Some(n)) = (&cd[i], &cn[i]) {
            if let Some(&k) = index.get(d) {
                depts[k].covariates.insert(n.clone(), cv[i]);
            }
        }
    }

    Ok(depts)
}

fn index_of(depts: &[Dept]) -> HashMap<String, usize> {
    depts
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.clone(), i))
        .collect()
}

/// Reads departments and the annual observations of `first_year..=last_year`.
pub fn load(
    snap: &Snapshot<'_>,
    first_year: i32,
    last_year: i32,
    indicators: &[String],
) -> Result<Panel, Error> {
    read_panel(snap, false, first_year, last_year, last_year, indicators)
}

/// The departments, `indicators` over the annual (`quarterly` false) or
/// quarterly periods `first..=last` as dense arrays, and the categories in
/// force in `category_year`. The observations - most of the reading - are
/// read while the departments and their categories are.
fn read_panel(
    snap: &Snapshot<'_>,
    quarterly: bool,
    first: i32,
    last: i32,
    category_year: i32,
    indicators: &[String],
) -> Result<Panel, Error> {
    let (rows, depts) = rayon::join(
        || snap.observation_rows(quarterly, first, last),
        || -> Result<_, Error> {
            let depts = load_departments(snap)?;
            let category = categories_in_force(snap, &depts, category_year)?;
            Ok((depts, category))
        },
    );
    let (depts, category) = depts?;
    let ids: Vec<&str> = depts.iter().map(|d| d.id.as_str()).collect();
    let inds: Vec<&str> = indicators.iter().map(String::as_str).collect();
    let (num, den) = bomon_store::dense_from_rows(rows?, first, last, &ids, &inds)?;
    Ok(Panel {
        first_year: first,
        years: (last - first + 1) as usize,
        depts,
        indicators: indicators.to_vec(),
        num,
        den,
        category: category
            .into_iter()
            .map(|c| c.map(|c| c.category))
            .collect(),
    })
}

/// A department's category in force and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct InForce {
    /// red, orange, yellow or green.
    pub category: String,
    /// The period of the categorisation.
    pub period: String,
    /// The area it was given to, or None when given to the department itself.
    pub area: Option<String>,
}

/// The category in force in `year` for each department: the latest
/// categorisation of a period up to `year` - the department's own, else its
/// area's.
pub fn categories_in_force(
    snap: &Snapshot<'_>,
    depts: &[Dept],
    year: i32,
) -> Result<Vec<Option<InForce>>, Error> {
    let cats = snap
        .table(StoredTable::Categories)?
        .collect()
        .map_err(|e| Error::polars("reading categories", e))?;
    let (ca, cdp, cp, cc) = (
        strs(&cats, "area_id")?,
        strs(&cats, "department_id")?,
        strs(&cats, "period")?,
        strs(&cats, "category")?,
    );
    // Latest period up to `year`, per area and per department.
    let mut by_area: HashMap<String, (i32, String)> = HashMap::new();
    let mut by_dept: HashMap<String, (i32, String)> = HashMap::new();
    for i in 0..cats.height() {
        let (Some(c), Some(p)) = (&cc[i], &cp[i]) else {
            continue;
        };
        let Ok(py) = p.get(..4).unwrap_or("").parse::<i32>() else {
            continue;
        };
        if py > year {
            continue;
        }
        let put = |m: &mut HashMap<String, (i32, String)>, k: &String| {
            if m.get(k).is_none_or(|(y, _)| *y <= py) {
                m.insert(k.clone(), (py, c.clone()));
            }
        };
        if let Some(d) = &cdp[i] {
            put(&mut by_dept, d);
        } else if let Some(a) = &ca[i] {
            put(&mut by_area, a);
        }
    }
    Ok(depts
        .iter()
        .map(|d| {
            if let Some((y, c)) = by_dept.get(&d.id) {
                return Some(InForce {
                    category: c.clone(),
                    period: y.to_string(),
                    area: None,
                });
            }
            let a = d.area.as_ref()?;
            by_area.get(a).map(|(y, c)| InForce {
                category: c.clone(),
                period: y.to_string(),
                area: Some(a.clone()),
            })
        })
        .collect())
}

/// The label of a quarter index (`year * 4 + quarter - 1`), e.g. `2025Q3`.
pub fn quarter_label(q: i32) -> String {
    bomon_vocab::Period::from_quarter_index(q).to_string()
}

/// Parses `2025Q3` (or `2025K3`, `2025-Q3`: [`bomon_vocab::Period`]'s
/// spellings) into a quarter index; None for a year or anything else.
pub fn parse_quarter(s: &str) -> Option<i32> {
    s.trim()
        .parse::<bomon_vocab::Period>()
        .ok()?
        .quarter_index()
}

/// Reads departments and the quarterly observations of quarters
/// `first..=last` (quarter indices) into a panel whose period axis is the
/// quarter index: `first_year` holds `first`, `years` the number of quarters.
/// Categories are those in force in the last quarter's year.
pub fn load_quarterly(
    snap: &Snapshot<'_>,
    first: i32,
    last: i32,
    indicators: &[String],
) -> Result<Panel, Error> {
    read_panel(snap, true, first, last, last.div_euclid(4), indicators)
}

/// Every categorisation of the departments `which` (their own, else their
/// area's), per period, oldest first.
pub fn category_history(
    snap: &Snapshot<'_>,
    depts: &[Dept],
    which: &[usize],
) -> Result<HashMap<usize, Vec<(String, String)>>, Error> {
    let cats = snap
        .table(StoredTable::Categories)?
        .collect()
        .map_err(|e| Error::polars("reading categories", e))?;
    let (ca, cdp, cp, cc) = (
        strs(&cats, "area_id")?,
        strs(&cats, "department_id")?,
        strs(&cats, "period")?,
        strs(&cats, "category")?,
    );
    let mut by_area: HashMap<&str, Vec<(String, String)>> = HashMap::new();
    let mut by_dept: HashMap<&str, Vec<(String, String)>> = HashMap::new();
    for i in 0..cats.height() {
        let (Some(p), Some(c)) = (&cp[i], &cc[i]) else {
            continue;
        };
        if let Some(d) = &cdp[i] {
            by_dept.entry(d).or_default().push((p.clone(), c.clone()));
        } else if let Some(a) = &ca[i] {
            by_area.entry(a).or_default().push((p.clone(), c.clone()));
        }
    }
    let mut out = HashMap::new();
    for &d in which {
        let mut h = by_dept
            .get(depts[d].id.as_str())
            .cloned()
            .or_else(|| {
                depts[d]
                    .area
                    .as_deref()
                    .and_then(|a| by_area.get(a).cloned())
            })
            .unwrap_or_default();
        h.sort();
        if !h.is_empty() {
            out.insert(d, h);
        }
    }
    Ok(out)
}
