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

/// Reads departments and the annual observations of `first_year..=last_year`.
pub fn load(
    snap: &Snapshot<'_>,
    first_year: i32,
    last_year: i32,
    indicators: &[String],
) -> Result<Panel, Error> {
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
    let index: HashMap<String, usize> = depts
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.clone(), i))
        .collect();

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

    let obs = snap.annual_observations(first_year, last_year)?;
    let years = (last_year - first_year + 1) as usize;
    let n = depts.len();
    let mut num = vec![vec![f64::NAN; n * years]; indicators.len()];
    let mut den = vec![vec![f64::NAN; n * years]; indicators.len()];
    let (od, oy, oi) = (
        strs(&obs, "department_id")?,
        floats(&obs, "year")?,
        strs(&obs, "indicator")?,
    );
    let (on, odn, ov) = (
        floats(&obs, "numerator")?,
        floats(&obs, "denominator")?,
        floats(&obs, "value")?,
    );
    let ind_index: HashMap<&str, usize> = indicators
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    for r in 0..obs.height() {
        let (Some(d), Some(i)) = (
            od[r].as_deref().and_then(|d| index.get(d)),
            oi[r].as_deref().and_then(|i| ind_index.get(i)),
        ) else {
            continue;
        };
        let k = d * years + (oy[r] as i32 - first_year) as usize;
        if ov[r].is_finite() {
            num[*i][k] = ov[r];
        } else {
            num[*i][k] = on[r];
            den[*i][k] = odn[r];
        }
    }

    // Categories in force for the last year: the department's own, else its area's.
    let cats = snap
        .table(StoredTable::Categories)?
        .filter(col("period").eq(lit(last_year.to_string())))
        .collect()
        .map_err(|e| Error::polars("reading categories", e))?;
    let (ca, cdp, cc) = (
        strs(&cats, "area_id")?,
        strs(&cats, "department_id")?,
        strs(&cats, "category")?,
    );
    let mut by_area: HashMap<String, String> = HashMap::new();
    let mut by_dept: HashMap<String, String> = HashMap::new();
    for i in 0..cats.height() {
        if let Some(c) = &cc[i] {
            if let Some(a) = &ca[i] {
                by_area.insert(a.clone(), c.clone());
            }
            if let Some(d) = &cdp[i] {
                by_dept.insert(d.clone(), c.clone());
            }
        }
    }
    let category = depts
        .iter()
        .map(|d| {
            by_dept
                .get(&d.id)
                .cloned()
                .or_else(|| d.area.as_ref().and_then(|a| by_area.get(a).cloned()))
        })
        .collect();
    Ok(Panel {
        first_year,
        years,
        depts,
        indicators: indicators.to_vec(),
        num,
        den,
        category,
    })
}
