//! `bomon categorize`: the national lists for a period, with history, movement
//! and early-warning margins, written atomically to an output directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bomon_store::{Catalogue, Store};

use crate::evaluate::{evaluate, AreaData, AreaResult};
use crate::load::load;
use crate::municipal::{categorise, PointsModel, BUILTIN as MUNICIPAL};
use crate::ruleset::{builtin, RuleSet};

/// A run's counts per list.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Areas evaluated.
    pub areas: usize,
    /// Areas with at least the minimum residents.
    pub eligible: usize,
    /// (list id, areas on it).
    pub counts: Vec<(String, usize)>,
    /// Rule set used for the period.
    pub ruleset: String,
    /// Files written.
    pub files: Vec<PathBuf>,
}

fn pick<'a>(sets: &'a [RuleSet], year: i32, forced: Option<&str>) -> Result<&'a RuleSet, String> {
    match forced {
        Some(id) => sets.iter().find(|s| s.id == id).ok_or_else(|| {
            format!(
                "unknown rule set \"{id}\" (available: {})",
                sets.iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }),
        None => sets
            .iter()
            .find(|s| s.covers(year))
            .ok_or_else(|| format!("no rule set in force for {year}")),
    }
}

/// The distance to a threshold in plain Danish, e.g. "1,2 procentpoint fra
/// tærsklen (> 40 %)" for shares, "0,3 gange fra tærsklen (>= 3)" for multiples.
fn note(c: &crate::evaluate::CriterionResult) -> String {
    let Some(m) = c.margin else {
        return "mangler data".into();
    };
    let share = c.threshold < 1.0;
    let (dist, unit, thr) = if share {
        (
            m.abs() * 100.0,
            "procentpoint",
            format!("{} {} %", c.comparator.symbol(), fmt(c.threshold * 100.0)),
        )
    } else {
        (
            m.abs(),
            "gange",
            format!("{} {}", c.comparator.symbol(), fmt(c.threshold)),
        )
    };
    let d = bomon_vocab::number::fixed(dist, 1, true);
    if c.met {
        format!("opfyldt, {d} {unit} over tærsklen ({thr})")
    } else {
        format!("{d} {unit} fra tærsklen ({thr})")
    }
}

fn fmt(v: f64) -> String {
    bomon_vocab::number::trimmed(v, 2, true)
}

/// Evaluates the national lists for `period` (and the preceding years the
/// history needs) and writes areas.csv and criteria.csv to `out`.
pub fn run(
    store: &Store,
    catalogue: &Catalogue,
    period: i32,
    forced: Option<&str>,
    snapshot: Option<u32>,
    out: &Path,
) -> Result<Summary, String> {
    let ids: Vec<&str> = catalogue
        .indicators()
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    let sets = builtin(&ids)?;
    let history_years = 4;
    let snap = store.snapshot(snapshot).map_err(|e| e.to_string())?;
    let loaded = load(&snap, period - history_years - 4, period).map_err(|e| e.to_string())?;
    let (areas, national, muni) = (&loaded.areas, &loaded.national, &loaded.area_municipality);
    if areas.is_empty() {
        return Err("no housing areas in the store: departments need an area_id".into());
    }
    // Earlier lists first, so that omdannelse can read the history.
    let mut results: HashMap<i32, Vec<AreaResult>> = HashMap::new();
    for y in period - history_years..=period {
        let rs = match pick(&sets, y, forced) {
            Ok(r) => r,
            Err(_) if y < period => continue,
            Err(e) => return Err(e),
        };
        let done = &results;
        let was_on = |a: &str, yy: i32, list: &str| {
            done.get(&yy)
                .and_then(|v| v.iter().find(|r| r.area == a))
                .is_some_and(|r| r.on(list))
        };
        let r = evaluate(rs, areas, national, y, &was_on);
        results.insert(y, r);
    }
    let rs = pick(&sets, period, forced)?;
    let now = &results[&period];
    let prev = results.get(&(period - 1));
    // `out` is a staging directory (bomon_store::outpath::stage_dir): the
    // caller swaps it in whole when every file is written.
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let tmp = out;
    let werr = |e: csv::Error| e.to_string();

    let mut w = csv::Writer::from_path(tmp.join("areas.csv")).map_err(werr)?;
    let mut head = vec![
        "area_id".to_string(),
        "municipality_code".into(),
        "period".into(),
        "ruleset".into(),
        "residents".into(),
        "eligible".into(),
        "departments".into(),
    ];
    for l in &rs.lists {
        head.extend([
            l.id.clone(),
            format!("{}_criteria_met", l.id),
            format!("{}_previous", l.id),
            format!("{}_movement", l.id),
        ]);
    }
    w.write_record(
        head.iter()
            .map(|c| bomon_store::outpath::csv_cell(c.as_ref()).into_owned()),
    )
    .map_err(werr)?;
    let mut counts: Vec<(String, usize)> = rs.lists.iter().map(|l| (l.id.clone(), 0)).collect();
    for r in now {
        let mut rec = vec![
            r.area.clone(),
            muni.get(&r.area).cloned().unwrap_or_default(),
            period.to_string(),
            rs.id.clone(),
            format!("{}", r.residents),
            r.eligible.to_string(),
            loaded
                .area_departments
                .get(&r.area)
                .map(|v| v.join(" "))
                .unwrap_or_default(),
        ];
        for (k, l) in r.lists.iter().enumerate() {
            let before = prev
                .and_then(|p| p.iter().find(|x| x.area == r.area))
                .map(|x| x.on(&l.list));
            let movement = match (before, l.on_list) {
                (Some(false), true) | (None, true) => "new",
                (Some(true), false) => "left",
                (Some(true), true) => "stays",
                _ => "",
            };
            if l.on_list {
                counts[k].1 += 1;
            }
            rec.extend([
                l.on_list.to_string(),
                if rs.lists[k].history_of.is_some() {
                    String::new()
                } else {
                    format!("{}/{}", l.met, l.of)
                },
                before.map_or(String::new(), |b| b.to_string()),
                movement.to_string(),
            ]);
        }
        w.write_record(
            rec.iter()
                .map(|c| bomon_store::outpath::csv_cell(c.as_ref()).into_owned()),
        )
        .map_err(werr)?;
    }
    w.flush().map_err(|e| e.to_string())?;

    let mut w = csv::Writer::from_path(tmp.join("criteria.csv")).map_err(werr)?;
    w.write_record([
        "area_id",
        "period",
        "list",
        "criterion",
        "indicator",
        "value",
        "comparator",
        "threshold",
        "met",
        "required",
        "margin",
        "early_warning",
        "note",
        "source",
    ])
    .map_err(werr)?;
    for r in now.iter().filter(|r| r.eligible) {
        for c in &r.criteria {
            // Early warning: an unmet criterion within 10 % of its threshold.
            let warn = c
                .margin
                .is_some_and(|m| !c.met && -m <= 0.1 * c.threshold.abs());
            w.write_record([
                bomon_store::outpath::csv_cell(&r.area).into_owned(),
                period.to_string(),
                c.list.clone(),
                c.criterion.clone(),
                c.indicator.clone(),
                c.value.map_or(String::new(), |v| format!("{v:.6}")),
                c.comparator.symbol().to_string(),
                format!("{}", c.threshold),
                c.met.to_string(),
                c.required.to_string(),
                c.margin.map_or(String::new(), |v| format!("{v:.6}")),
                warn.to_string(),
                note(c),
                if c.published {
                    "published area figure".to_string()
                } else {
                    "aggregated from departments".to_string()
                },
            ])
            .map_err(werr)?;
        }
    }
    w.flush().map_err(|e| e.to_string())?;
    // The municipal model: imported categories take precedence.
    let model = PointsModel::from_toml(MUNICIPAL.1, MUNICIPAL.0, catalogue)?;
    let mut w = csv::Writer::from_path(tmp.join("municipal.csv")).map_err(werr)?;
    let mut head = vec![
        "area_id".to_string(),
        "municipality_code".into(),
        "period".into(),
        "residents".into(),
        "points".into(),
    ];
    head.extend(model.themes.iter().map(|t| format!("points {}", t.name)));
    head.extend(
        [
            "category_computed",
            "category_imported",
            "category",
            "source",
            "previous_category",
            "movement",
            "model",
        ]
        .map(String::from),
    );
    w.write_record(
        head.iter()
            .map(|c| bomon_store::outpath::csv_cell(c.as_ref()).into_owned()),
    )
    .map_err(werr)?;
    let empty = AreaData::default();
    let mut municipal_counts: HashMap<String, usize> = HashMap::new();
    for a in areas.iter() {
        let m = muni
            .get(&a.id)
            .and_then(|m| loaded.municipal.get(m))
            .unwrap_or(&empty);
        let c = categorise(&model, catalogue, a, m, period);
        let prev_c = categorise(&model, catalogue, a, m, period - 1);
        let imp = loaded.imported.get(&(a.id.clone(), period)).cloned();
        let imp_prev = loaded.imported.get(&(a.id.clone(), period - 1)).cloned();
        let (category, source) = match (&imp, c.category) {
            (Some(i), _) => (Some(i.clone()), "imported"),
            (None, Some(cc)) => (Some(cc.to_string()), "computed"),
            (None, None) => (None, ""),
        };
        let previous = imp_prev.or_else(|| prev_c.category.map(str::to_string));
        let movement = match (&previous, &category) {
            (Some(p), Some(c)) if p == c => "stays".to_string(),
            (Some(p), Some(c)) => format!("{p} -> {c}"),
            _ => String::new(),
        };
        if let Some(c) = &category {
            *municipal_counts.entry(c.clone()).or_default() += 1;
        }
        let mut rec = vec![
            a.id.clone(),
            muni.get(&a.id).cloned().unwrap_or_default(),
            period.to_string(),
            format!("{}", a.residents),
            c.points.to_string(),
        ];
        rec.extend(c.theme_points.iter().map(|p| p.to_string()));
        rec.extend([
            c.category.unwrap_or("").to_string(),
            imp.unwrap_or_default(),
            category.unwrap_or_default(),
            source.to_string(),
            previous.unwrap_or_default(),
            movement,
            format!(
                "{}{}",
                model.id,
                if model.placeholder {
                    " (PLACEHOLDER calibration)"
                } else {
                    ""
                }
            ),
        ]);
        w.write_record(
            rec.iter()
                .map(|c| bomon_store::outpath::csv_cell(c.as_ref()).into_owned()),
        )
        .map_err(werr)?;
    }
    w.flush().map_err(|e| e.to_string())?;
    let eligible = now.iter().filter(|r| r.eligible).count();
    let manifest = serde_json::json!({
        "document": bomon_vocab::marking::INTERNAL_DA,
        "engine_version": env!("CARGO_PKG_VERSION"),
        "run": "categorize",
        "period": period,
        "ruleset": rs.id,
        "ruleset_name": rs.name,
        "snapshot": snap.id(),
        "areas": now.len(),
        "eligible_areas": eligible,
        "lists": counts.iter().map(|(l, n)| serde_json::json!({"list": l, "areas": n})).collect::<Vec<_>>(),
        "municipal_model": model.id,
        "municipal_model_placeholder": model.placeholder,
        "municipal_categories": municipal_counts,
    });
    std::fs::write(
        tmp.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).expect("json"),
    )
    .map_err(|e| e.to_string())?;
    let files = [
        "areas.csv",
        "criteria.csv",
        "municipal.csv",
        "manifest.json",
    ]
    .iter()
    .map(|f| out.join(f))
    .collect();
    Ok(Summary {
        areas: now.len(),
        eligible,
        counts,
        ruleset: rs.id.clone(),
        files,
    })
}
