//! `bomon categorize`: the national lists for a period, with history, movement
//! and early-warning margins, and the municipal model's categories -
//! computed by [`categorize`] into a typed [`Categorisation`] (which the
//! annual report also shows), written by [`write`] into an output directory.

use std::collections::{HashMap, HashSet};
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

/// One area's place on the national lists.
#[derive(Debug, Clone)]
pub struct AreaRow {
    /// The evaluation for the period.
    pub result: AreaResult,
    /// Its municipality code.
    pub municipality: String,
    /// Its departments.
    pub departments: Vec<String>,
    /// Per list of the rule set: on it the year before (None: not evaluated).
    pub previous: Vec<Option<bool>>,
}

impl AreaRow {
    /// Movement on list `k`: "new", "left", "stays" or "".
    pub fn movement(&self, k: usize) -> &'static str {
        match (self.previous[k], self.result.lists[k].on_list) {
            (Some(false), true) | (None, true) => "new",
            (Some(true), false) => "left",
            (Some(true), true) => "stays",
            _ => "",
        }
    }

    /// Unmet criteria within 10 % of their threshold (early warning).
    pub fn near_misses(&self) -> impl Iterator<Item = &crate::evaluate::CriterionResult> {
        self.result.criteria.iter().filter(|c| near_miss(c))
    }
}

/// Early warning: an unmet criterion within 10 % of its threshold.
fn near_miss(c: &crate::evaluate::CriterionResult) -> bool {
    c.margin
        .is_some_and(|m| !c.met && -m <= 0.1 * c.threshold.abs())
}

/// The distance to the threshold in plain Danish ("1,2 procentpoint fra
/// tærsklen (> 40 %)").
pub fn distance_note(c: &crate::evaluate::CriterionResult) -> String {
    note(c)
}

/// One area under the municipality's points model.
#[derive(Debug, Clone)]
pub struct MunicipalRow {
    /// Area id.
    pub area: String,
    /// Municipality code.
    pub municipality: String,
    /// Residents.
    pub residents: f64,
    /// Points in all.
    pub points: u32,
    /// Points per theme of the model.
    pub theme_points: Vec<u32>,
    /// The category the model computes.
    pub computed: Option<String>,
    /// The category imported for the period (it takes precedence).
    pub imported: Option<String>,
    /// The category in force: imported, else computed.
    pub category: Option<String>,
    /// "imported", "computed" or "".
    pub source: &'static str,
    /// The category the year before.
    pub previous: Option<String>,
}

impl MunicipalRow {
    /// "stays", "yellow -> red" or "".
    pub fn movement(&self) -> String {
        match (&self.previous, &self.category) {
            (Some(p), Some(c)) if p == c => "stays".to_string(),
            (Some(p), Some(c)) => format!("{p} -> {c}"),
            _ => String::new(),
        }
    }
}

/// Everything `bomon categorize` finds for a period.
#[derive(Debug, Clone)]
pub struct Categorisation {
    /// The period.
    pub period: i32,
    /// The snapshot read.
    pub snapshot: u32,
    /// The rule set in force.
    pub ruleset: RuleSet,
    /// Every area, evaluated.
    pub areas: Vec<AreaRow>,
    /// The municipal model's id.
    pub model: String,
    /// Whether its calibration is a placeholder.
    pub model_placeholder: bool,
    /// Its themes' names.
    pub themes: Vec<String>,
    /// Every area under the municipal model.
    pub municipal: Vec<MunicipalRow>,
}

impl Categorisation {
    /// (list id, areas on it).
    pub fn counts(&self) -> Vec<(String, usize)> {
        self.ruleset
            .lists
            .iter()
            .enumerate()
            .map(|(k, l)| {
                let n = self
                    .areas
                    .iter()
                    .filter(|a| a.result.lists[k].on_list)
                    .count();
                (l.id.clone(), n)
            })
            .collect()
    }

    /// Areas with at least the rule set's minimum residents.
    pub fn eligible(&self) -> usize {
        self.areas.iter().filter(|a| a.result.eligible).count()
    }
}

/// Evaluates the national lists for `period` (and the preceding years the
/// history needs) and the municipal model; with `scope` (department ids),
/// only the areas of those departments (the national totals stay national).
pub fn categorize(
    store: &Store,
    catalogue: &Catalogue,
    period: i32,
    forced: Option<&str>,
    snapshot: Option<u32>,
    scope: Option<&HashSet<String>>,
) -> Result<Categorisation, String> {
    let ids: Vec<&str> = catalogue
        .indicators()
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    let sets = builtin(&ids)?;
    let history_years = 4;
    let snap = store.snapshot(snapshot).map_err(|e| e.to_string())?;
    let loaded =
        load(&snap, period - history_years - 4, period, &ids, scope).map_err(|e| e.to_string())?;
    if loaded.areas.is_empty() {
        return Err("no housing areas in the store: departments need an area_id".into());
    }
    // Earlier lists first, so that omdannelse can read the history.
    let mut results: HashMap<i32, Vec<AreaResult>> = HashMap::new();
    // Area id -> its row in every year's results (`loaded.areas` order).
    let row: HashMap<&str, usize> = loaded
        .areas
        .iter()
        .enumerate()
        .map(|(k, a)| (a.id.as_str(), k))
        .collect();
    for y in period - history_years..=period {
        let rs = match pick(&sets, y, forced) {
            Ok(r) => r,
            Err(_) if y < period => continue,
            Err(e) => return Err(e),
        };
        let done = &results;
        let was_on = |a: &str, yy: i32, list: &str| {
            done.get(&yy)
                .zip(row.get(a))
                .and_then(|(v, &k)| v.get(k))
                .is_some_and(|r| r.on(list))
        };
        let r = evaluate(rs, &loaded.areas, &loaded.national, y, &was_on);
        results.insert(y, r);
    }
    let rs = pick(&sets, period, forced)?.clone();
    let prev = results.remove(&(period - 1));
    let now = results.remove(&period).unwrap_or_default();
    let areas = now
        .into_iter()
        .map(|r| {
            let before = prev
                .as_ref()
                .zip(row.get(r.area.as_str()))
                .and_then(|(p, &k)| p.get(k));
            AreaRow {
                municipality: loaded
                    .area_municipality
                    .get(&r.area)
                    .cloned()
                    .unwrap_or_default(),
                departments: loaded
                    .area_departments
                    .get(&r.area)
                    .cloned()
                    .unwrap_or_default(),
                previous: r
                    .lists
                    .iter()
                    .map(|l| before.map(|b| b.on(&l.list)))
                    .collect(),
                result: r,
            }
        })
        .collect();
    // The municipal model: imported categories take precedence.
    let model = PointsModel::from_toml(MUNICIPAL.1, MUNICIPAL.0, catalogue)?;
    let empty = AreaData::default();
    let municipal = loaded
        .areas
        .iter()
        .map(|a| {
            let municipality = loaded
                .area_municipality
                .get(&a.id)
                .cloned()
                .unwrap_or_default();
            let m = loaded.municipal.get(&municipality).unwrap_or(&empty);
            let c = categorise(&model, catalogue, a, m, period);
            let prev_c = categorise(&model, catalogue, a, m, period - 1);
            let imported = loaded.imported.get(&(a.id.clone(), period)).cloned();
            let imp_prev = loaded.imported.get(&(a.id.clone(), period - 1)).cloned();
            let (category, source) = match (&imported, c.category) {
                (Some(i), _) => (Some(i.clone()), "imported"),
                (None, Some(cc)) => (Some(cc.to_string()), "computed"),
                (None, None) => (None, ""),
            };
            MunicipalRow {
                area: a.id.clone(),
                municipality,
                residents: a.residents,
                points: c.points,
                theme_points: c.theme_points.clone(),
                computed: c.category.map(str::to_string),
                imported,
                category,
                source,
                previous: imp_prev.or_else(|| prev_c.category.map(str::to_string)),
            }
        })
        .collect();
    Ok(Categorisation {
        period,
        snapshot: snap.id(),
        ruleset: rs,
        areas,
        model: model.id.clone(),
        model_placeholder: model.placeholder,
        themes: model.themes.iter().map(|t| t.name.clone()).collect(),
        municipal,
    })
}

/// Evaluates and writes areas.csv, criteria.csv, municipal.csv and
/// manifest.json to `out` (a staging directory: the caller swaps it in whole).
pub fn run(
    store: &Store,
    catalogue: &Catalogue,
    period: i32,
    forced: Option<&str>,
    snapshot: Option<u32>,
    out: &Path,
) -> Result<Summary, String> {
    let c = categorize(store, catalogue, period, forced, snapshot, None)?;
    write(&c, out)
}

fn writer(path: &Path) -> Result<csv::Writer<std::fs::File>, String> {
    use std::io::Write;
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut f = std::fs::File::create(path).map_err(err)?;
    f.write_all(bomon_store::outpath::CSV_BOM).map_err(err)?;
    Ok(csv::Writer::from_writer(f))
}

fn record<S: AsRef<str>>(w: &mut csv::Writer<std::fs::File>, cells: &[S]) -> Result<(), String> {
    w.write_record(
        cells
            .iter()
            .map(|c| bomon_store::outpath::csv_cell(c.as_ref()).into_owned()),
    )
    .map_err(|e| e.to_string())
}

/// Writes a categorisation's files to `out`.
pub fn write(c: &Categorisation, out: &Path) -> Result<Summary, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    write_areas(c, &out.join("areas.csv"))?;
    write_criteria(c, &out.join("criteria.csv"))?;
    write_municipal(c, &out.join("municipal.csv"))?;
    let counts = c.counts();
    let mut municipal_counts: HashMap<String, usize> = HashMap::new();
    for m in &c.municipal {
        if let Some(k) = &m.category {
            *municipal_counts.entry(k.clone()).or_default() += 1;
        }
    }
    let manifest = serde_json::json!({
        "document": bomon_vocab::marking::INTERNAL_DA,
        "engine_version": env!("CARGO_PKG_VERSION"),
        "run": "categorize",
        "period": c.period,
        "ruleset": c.ruleset.id,
        "ruleset_name": c.ruleset.name,
        "snapshot": c.snapshot,
        "areas": c.areas.len(),
        "eligible_areas": c.eligible(),
        "lists": counts.iter().map(|(l, n)| serde_json::json!({"list": l, "areas": n})).collect::<Vec<_>>(),
        "municipal_model": c.model,
        "municipal_model_placeholder": c.model_placeholder,
        "municipal_categories": municipal_counts,
    });
    std::fs::write(
        out.join("manifest.json"),
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
        areas: c.areas.len(),
        eligible: c.eligible(),
        counts,
        ruleset: c.ruleset.id.clone(),
        files,
    })
}

fn write_areas(c: &Categorisation, path: &Path) -> Result<(), String> {
    let mut w = writer(path)?;
    let mut head: Vec<String> = [
        "area_id",
        "municipality_code",
        "period",
        "ruleset",
        "residents",
        "eligible",
        "departments",
    ]
    .map(String::from)
    .to_vec();
    for l in &c.ruleset.lists {
        head.extend([
            l.id.clone(),
            format!("{}_criteria_met", l.id),
            format!("{}_previous", l.id),
            format!("{}_movement", l.id),
        ]);
    }
    record(&mut w, &head)?;
    for a in &c.areas {
        let r = &a.result;
        let mut rec = vec![
            r.area.clone(),
            a.municipality.clone(),
            c.period.to_string(),
            c.ruleset.id.clone(),
            format!("{}", r.residents),
            r.eligible.to_string(),
            a.departments.join(" "),
        ];
        for (k, l) in r.lists.iter().enumerate() {
            rec.extend([
                l.on_list.to_string(),
                if c.ruleset.lists[k].history_of.is_some() {
                    String::new()
                } else {
                    format!("{}/{}", l.met, l.of)
                },
                a.previous[k].map_or(String::new(), |b| b.to_string()),
                a.movement(k).to_string(),
            ]);
        }
        record(&mut w, &rec)?;
    }
    w.flush().map_err(|e| e.to_string())
}

fn write_criteria(c: &Categorisation, path: &Path) -> Result<(), String> {
    let mut w = writer(path)?;
    record(
        &mut w,
        &[
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
        ],
    )?;
    for a in c.areas.iter().filter(|a| a.result.eligible) {
        for k in &a.result.criteria {
            record(
                &mut w,
                &[
                    a.result.area.clone(),
                    c.period.to_string(),
                    k.list.clone(),
                    k.criterion.clone(),
                    k.indicator.clone(),
                    k.value.map_or(String::new(), |v| format!("{v:.6}")),
                    k.comparator.symbol().to_string(),
                    format!("{}", k.threshold),
                    k.met.to_string(),
                    k.required.to_string(),
                    k.margin.map_or(String::new(), |v| format!("{v:.6}")),
                    near_miss(k).to_string(),
                    note(k),
                    if k.published {
                        "published area figure"
                    } else {
                        "aggregated from departments"
                    }
                    .to_string(),
                ],
            )?;
        }
    }
    w.flush().map_err(|e| e.to_string())
}

fn write_municipal(c: &Categorisation, path: &Path) -> Result<(), String> {
    let mut w = writer(path)?;
    let mut head: Vec<String> = [
        "area_id",
        "municipality_code",
        "period",
        "residents",
        "points",
    ]
    .map(String::from)
    .to_vec();
    head.extend(c.themes.iter().map(|t| format!("points {t}")));
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
    record(&mut w, &head)?;
    let model = format!(
        "{}{}",
        c.model,
        if c.model_placeholder {
            " (PLACEHOLDER calibration)"
        } else {
            ""
        }
    );
    for m in &c.municipal {
        let mut rec = vec![
            m.area.clone(),
            m.municipality.clone(),
            c.period.to_string(),
            format!("{}", m.residents),
            m.points.to_string(),
        ];
        rec.extend(m.theme_points.iter().map(|p| p.to_string()));
        rec.extend([
            m.computed.clone().unwrap_or_default(),
            m.imported.clone().unwrap_or_default(),
            m.category.clone().unwrap_or_default(),
            m.source.to_string(),
            m.previous.clone().unwrap_or_default(),
            m.movement(),
            model.clone(),
        ]);
        record(&mut w, &rec)?;
    }
    w.flush().map_err(|e| e.to_string())
}
