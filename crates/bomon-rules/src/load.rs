//! Pooled counts per housing area (and nationally) from a store snapshot.

use std::collections::{HashMap, HashSet};

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
/// totals for the annual observations of `first..=last`, and imported categories;
/// with `scope`, only the areas (and municipalities) of those departments.
pub fn load(
    snap: &Snapshot<'_>,
    first: i32,
    last: i32,
    indicators: &[&str],
    scope: Option<&HashSet<String>>,
) -> Result<Loaded, bomon_store::Error> {
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
    // Pooled from the dense arrays the review reads too (one home for
    // reading observations; a row loop with string keys over the
    // deduplicated table took seconds on a national store). `scope` limits
    // the areas and municipalities, never the national totals.
    let scoped = |d: &str| scope.is_none_or(|s| s.contains(d));
    let dept_ids: Vec<&str> = ids.iter().flatten().map(String::as_str).collect();
    let mut inds: Vec<&str> = indicators.to_vec();
    if !inds.contains(&"residents") {
        inds.push("residents");
    }
    let (num, den) = snap.dense_observations(false, first, last, &dept_ids, &inds)?;
    let years = (last - first + 1).max(0) as usize;
    let mut national = AreaData {
        id: "national".into(),
        ..Default::default()
    };
    let mut by_area: HashMap<String, AreaData> = HashMap::new();
    let mut municipal: HashMap<String, AreaData> = HashMap::new();
    let fresh = |id: &str| AreaData {
        id: id.to_string(),
        ..Default::default()
    };
    // Per indicator and year, the sums of one pooled unit.
    // (numerators, denominators, any) per indicator and year.
    type Sums = Vec<Vec<(f64, f64, bool)>>;
    let mut nat: Sums = vec![vec![(0.0, 0.0, false); years]; inds.len()];
    let mut per_area: HashMap<&str, Sums> = HashMap::new();
    let mut per_muni: HashMap<&str, Sums> = HashMap::new();
    let blank = || vec![vec![(0.0, 0.0, false); years]; inds.len()];
    for (d, id) in dept_ids.iter().enumerate() {
        let area = area_of.get(*id).map(String::as_str).filter(|_| scoped(id));
        let muni = dept_muni
            .get(*id)
            .map(String::as_str)
            .filter(|_| scoped(id));
        for (i, ind) in inds.iter().enumerate() {
            for k in 0..years {
                let (n, dd) = (num[i][d * years + k], den[i][d * years + k]);
                if *ind == "residents" {
                    if k + 1 == years && n.is_finite() && dd.is_nan() {
                        if let Some(a) = area {
                            by_area
                                .entry(a.to_string())
                                .or_insert_with(|| fresh(a))
                                .residents += n;
                        }
                    }
                    continue;
                }
                if !(n.is_finite() && dd.is_finite()) {
                    continue;
                }
                let add = |c: &mut (f64, f64, bool)| {
                    c.0 += n;
                    c.1 += dd;
                    c.2 = true;
                };
                add(&mut nat[i][k]);
                if let Some(a) = area {
                    add(&mut per_area.entry(a).or_insert_with(blank)[i][k]);
                }
                if let Some(m) = muni {
                    add(&mut per_muni.entry(m).or_insert_with(blank)[i][k]);
                }
            }
        }
    }
    let counts = |sums: &[Vec<(f64, f64, bool)>]| {
        let mut out = HashMap::new();
        for (i, row) in sums.iter().enumerate() {
            for (k, &(n, d, seen)) in row.iter().enumerate() {
                if seen {
                    out.insert((inds[i].to_string(), first + k as i32), (n, d));
                }
            }
        }
        out
    };
    national.counts = counts(&nat);
    for (a, sums) in &per_area {
        by_area
            .entry(a.to_string())
            .or_insert_with(|| fresh(a))
            .counts = counts(sums);
    }
    for (m, sums) in &per_muni {
        municipal.insert(
            m.to_string(),
            AreaData {
                counts: counts(sums),
                ..fresh(m)
            },
        );
    }
    let scope_areas: Option<Vec<String>> = scope.map(|s| {
        let mut a: Vec<String> = s.iter().filter_map(|d| area_of.get(d).cloned()).collect();
        a.sort();
        a.dedup();
        a
    });
    // Published area figures (import profiles with level = "area"): they
    // win over what the departments add up to, and an area that no
    // departments file names is categorised all the same.
    let ao = snap
        .table(StoredTable::AreaObservations)?
        .filter(
            col("quarter")
                .is_null()
                .and(col("year").gt_eq(lit(first)))
                .and(col("year").lt_eq(lit(last)))
                .and(match scope_areas {
                    Some(v) => col("area_id").is_in(lit(Series::new("scope".into(), v))),
                    None => col("area_id").is_not_null(),
                }),
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
