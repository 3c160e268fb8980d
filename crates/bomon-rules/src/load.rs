//! Pooled counts per housing area (and nationally) from a store snapshot.

use std::collections::HashMap;

use bomon_store::{Snapshot, StoredTable};
use polars::prelude::*;

use crate::evaluate::AreaData;

use bomon_store::frame::{floats as col_f64, strings as col_str};

/// What a categorisation reads from the store.
pub struct Loaded {
    /// Pooled counts per housing area.
    pub areas: Vec<AreaData>,
    /// Pooled counts of all departments.
    pub national: AreaData,
    /// Area -> municipality code.
    pub area_municipality: HashMap<String, String>,
    /// Pooled counts of all departments per municipality.
    pub municipal: HashMap<String, AreaData>,
    /// Imported categories: (area id, year) -> category.
    pub imported: HashMap<(String, i32), String>,
    /// Area -> its departments' ids.
    pub area_departments: HashMap<String, Vec<String>>,
}

/// Areas (by `area_id` of the departments), municipalities and the national
/// totals for the annual observations of `first..=last`, and imported categories.
pub fn load(snap: &Snapshot<'_>, first: i32, last: i32) -> Result<Loaded, bomon_store::Error> {
    let perr = |e| bomon_store::Error::Usage(format!("reading the store: {e}"));
    let deps = snap
        .table(StoredTable::Departments)?
        .select([
            col("department_id"),
            col("area_id"),
            col("municipality_code"),
        ])
        .collect()
        .map_err(perr)?;
    let (ids, areas, munis) = (
        col_str(&deps, "department_id")?,
        col_str(&deps, "area_id")?,
        col_str(&deps, "municipality_code")?,
    );
    let mut area_of: HashMap<String, String> = HashMap::new();
    let mut muni_of: HashMap<String, String> = HashMap::new();
    let mut dept_muni: HashMap<String, String> = HashMap::new();
    for i in 0..ids.len() {
        if let (Some(d), Some(m)) = (&ids[i], &munis[i]) {
            dept_muni.insert(d.clone(), m.clone());
        }
        if let (Some(d), Some(a)) = (&ids[i], &areas[i]) {
            area_of.insert(d.clone(), a.clone());
            muni_of
                .entry(a.clone())
                .or_insert_with(|| munis[i].clone().unwrap_or_default());
        }
    }
    let obs = snap.annual_observations(first, last)?;
    let (od, oy, oi) = (
        col_str(&obs, "department_id")?,
        col_f64(&obs, "year")?,
        col_str(&obs, "indicator")?,
    );
    let (on, odn, ov) = (
        col_f64(&obs, "numerator")?,
        col_f64(&obs, "denominator")?,
        col_f64(&obs, "value")?,
    );
    let mut by_area: HashMap<String, AreaData> = HashMap::new();
    let mut national = AreaData {
        id: "national".into(),
        ..Default::default()
    };
    let mut municipal: HashMap<String, AreaData> = HashMap::new();
    for r in 0..obs.height() {
        let (Some(d), Some(ind)) = (&od[r], &oi[r]) else {
            continue;
        };
        let y = oy[r] as i32;
        if ind == "residents" {
            if let Some(a) = area_of.get(d) {
                if y == last && ov[r].is_finite() {
                    by_area
                        .entry(a.clone())
                        .or_insert_with(|| AreaData {
                            id: a.clone(),
                            ..Default::default()
                        })
                        .residents += ov[r];
                }
            }
            continue;
        }
        if !(on[r].is_finite() && odn[r].is_finite()) {
            continue;
        }
        let key = (ind.clone(), y);
        let e = national.counts.entry(key.clone()).or_insert((0.0, 0.0));
        e.0 += on[r];
        e.1 += odn[r];
        if let Some(m) = dept_muni.get(d) {
            let md = municipal.entry(m.clone()).or_insert_with(|| AreaData {
                id: m.clone(),
                ..Default::default()
            });
            let e = md.counts.entry(key.clone()).or_insert((0.0, 0.0));
            e.0 += on[r];
            e.1 += odn[r];
        }
        if let Some(a) = area_of.get(d) {
            let ad = by_area.entry(a.clone()).or_insert_with(|| AreaData {
                id: a.clone(),
                ..Default::default()
            });
            let e = ad.counts.entry(key).or_insert((0.0, 0.0));
            e.0 += on[r];
            e.1 += odn[r];
        }
    }
    // Published area figures (import profiles with level = "area"): they
    // win over what the departments add up to, and an area that no
    // departments file names is categorised all the same.
    let ao = snap
        .table(StoredTable::AreaObservations)?
        .filter(
            col("quarter")
                .is_null()
                .and(col("year").gt_eq(lit(first)))
                .and(col("year").lt_eq(lit(last))),
        )
        .collect()
        .map_err(perr)?;
    let (aa, ay, ai, am) = (
        col_str(&ao, "area_id")?,
        col_f64(&ao, "year")?,
        col_str(&ao, "indicator")?,
        col_str(&ao, "municipality_code")?,
    );
    let (an, ad, av) = (
        col_f64(&ao, "numerator")?,
        col_f64(&ao, "denominator")?,
        col_f64(&ao, "value")?,
    );
    let mut published_residents: HashMap<String, f64> = HashMap::new();
    for r in 0..ao.height() {
        let (Some(a), Some(ind)) = (&aa[r], &ai[r]) else {
            continue;
        };
        let y = ay[r] as i32;
        if let Some(m) = &am[r] {
            muni_of.entry(a.clone()).or_insert_with(|| m.clone());
        }
        let e = by_area.entry(a.clone()).or_insert_with(|| AreaData {
            id: a.clone(),
            ..Default::default()
        });
        if ind == "residents" {
            if y == last && av[r].is_finite() {
                published_residents.insert(a.clone(), av[r]);
            }
            continue;
        }
        let v = if an[r].is_finite() && ad[r].is_finite() && ad[r] > 0.0 {
            an[r] / ad[r]
        } else {
            av[r]
        };
        if v.is_finite() {
            e.published.insert((ind.clone(), y), v);
        }
    }
    for (a, r) in published_residents {
        if let Some(e) = by_area.get_mut(&a) {
            e.residents = r;
        }
    }
    let mut v: Vec<AreaData> = by_area.into_values().collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    let cats = snap
        .table(StoredTable::Categories)?
        .collect()
        .map_err(perr)?;
    let (ca, cd, cp, cc) = (
        col_str(&cats, "area_id")?,
        col_str(&cats, "department_id")?,
        col_str(&cats, "period")?,
        col_str(&cats, "category")?,
    );
    // Per (area, year): the latest categorisation of that year - a year's
    // (2025) or a quarter's (2025Q3, later than 2025) - given to the area
    // itself, else the most severe given to one of its departments.
    let severity = |c: &str| match c {
        "red" => 3,
        "orange" => 2,
        "yellow" => 1,
        _ => 0,
    };
    // (area, year) -> ((own area?, period rank, severity), category)
    type Rank = (bool, u8, i32);
    let mut best: HashMap<(String, i32), (Rank, String)> = HashMap::new();
    for i in 0..cats.height() {
        let (Some(p), Some(c)) = (&cp[i], &cc[i]) else {
            continue;
        };
        let Ok(period) = p.parse::<bomon_store::Period>() else {
            continue;
        };
        let (area, own) = match (&ca[i], &cd[i]) {
            (Some(a), _) => (a.clone(), true),
            (None, Some(d)) => match area_of.get(d) {
                Some(a) => (a.clone(), false),
                None => continue,
            },
            _ => continue,
        };
        let rank = (own, period.quarter().unwrap_or(0), severity(c));
        let e = best
            .entry((area, period.year()))
            .or_insert_with(|| (rank, c.clone()));
        if rank > e.0 {
            *e = (rank, c.clone());
        }
    }
    let imported: HashMap<(String, i32), String> =
        best.into_iter().map(|(k, (_, c))| (k, c)).collect();
    let mut area_departments: HashMap<String, Vec<String>> = HashMap::new();
    for (d, a) in &area_of {
        area_departments
            .entry(a.clone())
            .or_default()
            .push(d.clone());
    }
    for v in area_departments.values_mut() {
        v.sort();
    }
    Ok(Loaded {
        areas: v,
        national,
        area_municipality: muni_of,
        municipal,
        imported,
        area_departments,
    })
}
