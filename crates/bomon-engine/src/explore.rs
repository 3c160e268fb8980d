//! What analysts ask of one department: its twins (`bomon peers`) and its
//! card (`bomon show`), computed from the store as a review would, returned
//! as frames the command line prints as a table, CSV or JSON.

use bomon_store::{Catalogue, Kind, Snapshot, StoredTable};
use polars::prelude::*;

use crate::config::ReviewConfig;
use crate::data::{self, Panel};
use crate::peers::{covariate, peer_groups};
use crate::Error;

/// A department's twins with their values of one indicator.
pub struct PeersView {
    /// Header lines (department, indicator, percentiles).
    pub header: Vec<String>,
    /// One row per peer (the department first): rank, id, name,
    /// organisation, distance, covariates, values per year.
    pub frame: DataFrame,
    /// The panel (for charts).
    pub panel: Panel,
    /// Department index.
    pub dept: usize,
    /// Peer indices, nearest first.
    pub peers: Vec<usize>,
    /// Indicator index in the panel, if one was asked for.
    pub indicator: Option<usize>,
    /// Years shown.
    pub years: std::ops::RangeInclusive<i32>,
}

fn latest_year(snap: &Snapshot<'_>) -> Result<i32, Error> {
    snap.annual_years()
        .last()
        .copied()
        .ok_or_else(|| Error::Input("the store holds no annual observations".into()))
}

fn find(panel_depts: &[data::Dept], id: &str) -> Result<usize, Error> {
    panel_depts
        .iter()
        .position(|d| d.id == id)
        .ok_or_else(|| Error::Input(format!("unknown department \"{id}\": not in the store")))
}

/// The value of an indicator on its display scale, None when missing or
/// suppressed (a count from 1 to `max_suppressed`).
pub fn display(
    panel: &Panel,
    kind: Kind,
    i: usize,
    d: usize,
    y: i32,
    max_suppressed: f64,
) -> Option<f64> {
    let (n, dn) = panel.get(i, d, y);
    if !n.is_finite() || bomon_vocab::Disclosure::new(max_suppressed).hides(n) {
        return None;
    }
    let (f, _) = bomon_vocab::unit::scale(kind, true);
    if kind.is_value() {
        Some(n)
    } else {
        (dn > 0.0).then(|| n / dn * f)
    }
}

fn percentile(v: f64, others: &[f64]) -> Option<f64> {
    if others.is_empty() || !v.is_finite() {
        return None;
    }
    let below = others.iter().filter(|&&x| x < v).count() as f64;
    let equal = others.iter().filter(|&&x| x == v).count() as f64;
    Some(100.0 * (below + 0.5 * equal) / others.len() as f64)
}

/// What `bomon peers` is asked for.
#[derive(Debug, Clone, Copy)]
pub struct PeersRequest<'a> {
    /// Department id.
    pub department: &'a str,
    /// Indicator to show over the years, with percentiles.
    pub indicator: Option<&'a str>,
    /// Year (default: the latest in the store).
    pub year: Option<i32>,
    /// Number of peers (default: the configuration's).
    pub k: Option<usize>,
    /// Danish words and numbers (else English).
    pub danish: bool,
}

/// `bomon peers`: the department and its k twins.
pub fn peers(
    snap: &Snapshot<'_>,
    catalogue: &Catalogue,
    req: PeersRequest<'_>,
    cfg: &ReviewConfig,
) -> Result<PeersView, Error> {
    let PeersRequest {
        department,
        indicator,
        year,
        k,
        danish,
    } = req;
    let tr = |da: &'static str, en: &'static str| if danish { da } else { en };
    let year = match year {
        Some(y) => y,
        None => latest_year(snap)?,
    };
    let first = year - 4;
    let ind = match indicator {
        Some(id) => Some(catalogue.get(id).ok_or_else(|| {
            Error::Input(format!(
                "unknown indicator \"{id}\": expected an id of the catalogue"
            ))
        })?),
        None => None,
    };
    // The indicator, and residents and households for the review's rule on
    // small departments (their own figures are not shown).
    let mut ids: Vec<String> = ind.iter().map(|i| i.id.clone()).collect();
    ids.extend(["residents".to_string(), "households".to_string()]);
    ids.dedup();
    let panel = data::load(snap, first, year, &ids)?;
    let d = find(&panel.depts, department)?;
    let size = |id: &str, x: usize, y: i32| {
        panel
            .indicator(id)
            .map_or(f64::NAN, |i| panel.get(i, x, y).0)
    };
    let too_small = |x: usize, y: i32| {
        let (r, h) = (size("residents", x, y), size("households", x, y));
        (r.is_finite() && r < cfg.min_residents) || (h.is_finite() && h < cfg.min_households)
    };
    let iv = ind.and_then(|i| panel.indicator(&i.id)).unwrap_or(0);
    let shown = |x: usize, y: i32, kind: Kind| {
        if too_small(x, y) {
            None
        } else {
            display(&panel, kind, iv, x, y, cfg.max_suppressed_numerator)
        }
    };
    let mut pc = cfg.peers.clone();
    if let Some(k) = k {
        pc.k = k.max(1);
    }
    let (groups, covs) = peer_groups(&panel.depts, &[d], &pc);
    let group = &groups[0];
    let rows: Vec<(usize, f64)> = std::iter::once((d, 0.0))
        .chain(group.iter().copied())
        .collect();
    // Columns: who, how near, the indicator's years, then the rest (a
    // narrow terminal keeps the first ones).
    let mut cols = vec![
        Column::new("rank".into(), (0..rows.len() as u32).collect::<Vec<_>>()),
        Column::new(
            "department_id".into(),
            rows.iter()
                .map(|r| panel.depts[r.0].id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "name".into(),
            rows.iter()
                .map(|r| panel.depts[r.0].name.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "distance".into(),
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        ),
    ];
    let mut tail = vec![Column::new(
        "organisation".into(),
        rows.iter()
            .map(|r| panel.depts[r.0].organisation.as_str())
            .collect::<Vec<_>>(),
    )];
    for c in &covs {
        tail.push(Column::new(
            c.as_str().into(),
            rows.iter()
                .map(|r| covariate(&panel.depts[r.0], c))
                .collect::<Vec<_>>(),
        ));
    }
    let mut header = vec![format!(
        "{} {} ({}), {} {} {}",
        panel.depts[d].id,
        panel.depts[d].name,
        panel.depts[d].organisation,
        group.len(),
        tr(
            "sammenlignelige afdelinger af samme boligtype i andre organisationer, nærmest på",
            "peers of the same housing type in other organisations, nearest on"
        ),
        covs.join(", ")
    )];
    if let Some(ind) = ind {
        for y in first..=year {
            cols.push(Column::new(
                y.to_string().into(),
                rows.iter()
                    .map(|r| shown(r.0, y, ind.kind))
                    .collect::<Vec<_>>(),
            ));
        }
        let v = shown(d, year, ind.kind);
        let peer_vals: Vec<f64> = group
            .iter()
            .filter_map(|p| {
                display(
                    &panel,
                    ind.kind,
                    iv,
                    p.0,
                    year,
                    cfg.max_suppressed_numerator,
                )
            })
            .collect();
        let nat: Vec<f64> = (0..panel.depts.len())
            .filter(|&x| x != d && panel.depts[x].housing_type == panel.depts[d].housing_type)
            .filter_map(|x| display(&panel, ind.kind, iv, x, year, cfg.max_suppressed_numerator))
            .collect();
        let p = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.0}"));
        let value = v.map_or(
            if too_small(d, year) {
                tr(
                    "for lille til at vurdere statistisk - ingen tal vises",
                    "too small to judge statistically - no figures shown",
                )
                .into()
            } else {
                tr("undertrykt eller mangler", "suppressed or missing").into()
            },
            |x| bomon_vocab::unit::show(x, ind.kind, 1, danish),
        );
        header.push(if danish {
            format!(
                "{} ({}) {year}: {value}; percentil {} blandt de sammenlignelige, {} i almene boliger på landsplan (samme boligtype, {} afdelinger)",
                ind.label_da,
                ind.id,
                p(v.and_then(|v| percentile(v, &peer_vals))),
                p(v.and_then(|v| percentile(v, &nat))),
                nat.len()
            )
        } else {
            format!(
                "{} ({}) {year}: {value}; percentile {} among the peers, {} in public housing nationally (same housing type, {} departments)",
                ind.label_en,
                ind.id,
                p(v.and_then(|v| percentile(v, &peer_vals))),
                p(v.and_then(|v| percentile(v, &nat))),
                nat.len()
            )
        });
    }
    cols.extend(tail);
    let frame = DataFrame::new(cols).map_err(|e| Error::polars("peers", e))?;
    Ok(PeersView {
        header,
        frame,
        dept: d,
        peers: group.iter().map(|p| p.0).collect(),
        indicator: ind.map(|_| 0),
        panel,
        years: first..=year,
    })
}

/// A department card: header lines and one row per indicator.
pub struct Card {
    /// Header lines.
    pub header: Vec<String>,
    /// indicator, label, unit, the last three years, peers' median and
    /// national (same housing type) in the last year, and the department's
    /// flags in the latest recorded reviews.
    pub frame: DataFrame,
}

/// `bomon show`: a department card.
pub fn show(
    snap: &Snapshot<'_>,
    catalogue: &Catalogue,
    department: &str,
    year: Option<i32>,
    cfg: &ReviewConfig,
    danish: bool,
) -> Result<Card, Error> {
    let year = match year {
        Some(y) => y,
        None => latest_year(snap)?,
    };
    let first = year - 2;
    let inds: Vec<String> = catalogue
        .indicators()
        .iter()
        .filter(|i| i.is_annual())
        .map(|i| i.id.clone())
        .collect();
    let panel = data::load(snap, first, year, &inds)?;
    let d = find(&panel.depts, department)?;
    let (groups, _) = peer_groups(&panel.depts, &[d], &cfg.peers);
    let peers: Vec<usize> = groups[0].iter().map(|p| p.0).collect();
    let dp = &panel.depts[d];
    let cat = data::categories_in_force(snap, &panel.depts, year)?;
    // The card's own words follow --lang; ids stay as stored.
    let tr = |da: &'static str, en: &'static str| if danish { da } else { en };
    let housing = match (dp.housing_type.as_str(), danish) {
        ("family", true) => "familieboliger".to_string(),
        ("elderly", true) => "ældreboliger".to_string(),
        ("youth", true) => "ungdomsboliger".to_string(),
        (t, true) => t.to_string(),
        (t, false) => format!("{t} housing"),
    };
    let mut header = vec![
        format!("{} {} - {}", dp.id, dp.name, dp.organisation),
        format!(
            "{} {}, {} {}, {housing}, {} {}, {} {}",
            tr("kommune", "municipality"),
            dp.municipality,
            tr("område", "area"),
            dp.area.as_deref().unwrap_or("-"),
            dp.tenancies,
            tr("lejemål", "tenancies"),
            tr("opført", "built"),
            dp.construction_year
        ),
    ];
    header.push(match &cat[d] {
        Some(c) => format!(
            "{} {} ({}{})",
            tr("kategori", "category"),
            match (c.category.as_str(), danish) {
                ("red", true) => "rød",
                ("yellow", true) => "gul",
                ("green", true) => "grøn",
                (other, _) => other,
            },
            c.period,
            c.area
                .as_deref()
                .map(|a| format!(", {} {a}", tr("område", "area")))
                .unwrap_or_default()
        ),
        None => tr("ingen kategori registreret", "no category recorded").into(),
    });
    let (reviews_line, recorded) = recorded_flags(snap, &dp.id, danish)?;
    header.push(reviews_line);
    header.extend(log_lines(snap, &dp.id, cfg, danish)?);
    header.extend(suppressed_line(snap, &dp.id, danish)?);
    let mut label = vec![];
    let mut unit = vec![];
    let mut id = vec![];
    let mut ys: Vec<Vec<Option<f64>>> = vec![vec![]; 3];
    let mut med = vec![];
    let mut nat = vec![];
    let mut fl = vec![];
    for (i, iid) in panel.indicators.iter().enumerate() {
        let Some(ind) = catalogue.get(iid) else {
            continue;
        };
        let has = (first..=year).any(|y| panel.get(i, d, y).0.is_finite());
        if !has {
            continue;
        }
        id.push(iid.clone());
        label.push(if danish {
            ind.label_da.clone()
        } else {
            ind.label_en.clone()
        });
        unit.push(bomon_vocab::unit::scale(ind.kind, danish).1);
        for (k, y) in (first..=year).enumerate() {
            ys[k].push(display(
                &panel,
                ind.kind,
                i,
                d,
                y,
                cfg.max_suppressed_numerator,
            ));
        }
        let mut pv: Vec<f64> = peers
            .iter()
            .filter_map(|&p| display(&panel, ind.kind, i, p, year, cfg.max_suppressed_numerator))
            .collect();
        pv.sort_by(f64::total_cmp);
        med.push((!pv.is_empty()).then(|| {
            let m = pv.len() / 2;
            if pv.len() % 2 == 1 {
                pv[m]
            } else {
                (pv[m - 1] + pv[m]) / 2.0
            }
        }));
        let (a, b) = (0..panel.depts.len())
            .filter(|&x| panel.depts[x].housing_type == dp.housing_type)
            .map(|x| panel.get(i, x, year))
            .filter(|(a, b)| a.is_finite() && *b > 0.0)
            .fold((0.0, 0.0), |(s, t), (a, b)| (s + a, t + b));
        let f = match ind.kind {
            Kind::Share | Kind::Ratio => 100.0,
            Kind::RatePer1000 => 1000.0,
            _ => f64::NAN,
        };
        nat.push((b > 0.0 && f.is_finite()).then(|| a / b * f));
        fl.push(recorded.get(iid).map(|t| t.join(", ")).unwrap_or_default());
    }
    let flagged: Vec<String> = id
        .iter()
        .zip(&fl)
        .filter(|(_, f)| !f.is_empty())
        .map(|(i, f)| {
            // In the glossary's words ("udvikling alarm"); the frame keeps the codes.
            let word = |code: &str| {
                bomon_vocab::glossary::term(code)
                    .map_or(code.to_string(), |t| t.name(danish).to_lowercase())
            };
            let tests: Vec<String> = f
                .split(", ")
                .map(|t| t.split(' ').map(word).collect::<Vec<_>>().join(" "))
                .collect();
            format!("{i} ({})", tests.join(", "))
        })
        .collect();
    if !flagged.is_empty() {
        header.push(format!(
            "{} {}",
            tr("markeret:", "flagged:"),
            flagged.join("; ")
        ));
    }
    // The review's rule for small departments: under min_residents or
    // min_households no figure of the department is shown (the report lists
    // it as too small, without figures); the raw data is for `bomon query`.
    let size = |id: &str| {
        panel
            .indicator(id)
            .map_or(f64::NAN, |i| panel.get(i, d, year).0)
    };
    let (res, hh) = (size("residents"), size("households"));
    let too_small =
        (res.is_finite() && res < cfg.min_residents) || (hh.is_finite() && hh < cfg.min_households);
    if too_small {
        header.push(if danish {
            format!("for lille til at vurdere statistisk (under {} beboere eller {} husstande): afdelingens tal vises ikke, som i rapporten; rå tal kun med bomon query", cfg.min_residents, cfg.min_households)
        } else {
            format!("too small to judge statistically (under {} residents or {} households): the department's figures are not shown, as in the report; raw figures only through bomon query", cfg.min_residents, cfg.min_households)
        });
        for y in ys.iter_mut() {
            y.iter_mut().for_each(|v| *v = None);
        }
    }
    let mut cols = vec![
        Column::new("label".into(), label),
        Column::new("unit".into(), unit),
    ];
    for (k, y) in (first..=year).enumerate() {
        cols.push(Column::new(
            y.to_string().into(),
            std::mem::take(&mut ys[k]),
        ));
    }
    cols.push(Column::new("peers_median".into(), med));
    cols.push(Column::new("national".into(), nat));
    cols.push(Column::new("flags".into(), fl));
    cols.push(Column::new("indicator".into(), id));
    Ok(Card {
        header,
        frame: DataFrame::new(cols).map_err(|e| Error::polars("card", e))?,
    })
}

/// The line naming the department's latest recorded annual and quarterly
/// reviews, and per indicator their flags ("trend alarm"), sorted.
fn recorded_flags(
    snap: &Snapshot<'_>,
    department: &str,
    danish: bool,
) -> Result<(String, std::collections::HashMap<String, Vec<String>>), Error> {
    let tr = |da: &'static str, en: &'static str| if danish { da } else { en };
    // Flags of the latest recorded reviews that include the department.
    let flags = snap
        .table(StoredTable::ReviewFlags)?
        .filter(col("department_id").eq(lit(department)))
        .collect()
        .map_err(|e| Error::polars("reading review flags", e))?;
    let (fr, fi, ft, fs) = (
        bomon_store::frame::strings(&flags, "review_id")?,
        bomon_store::frame::strings(&flags, "indicator")?,
        bomon_store::frame::strings(&flags, "test")?,
        bomon_store::frame::strings(&flags, "severity")?,
    );
    let reviews = snap
        .table(StoredTable::ReviewDepartments)?
        .filter(col("department_id").eq(lit(department)))
        .collect()
        .map_err(|e| Error::polars("reading reviews", e))?;
    let rids = bomon_store::frame::strings(&reviews, "review_id")?;
    let mut latest: Vec<String> = rids.into_iter().flatten().collect();
    latest.sort();
    // Latest annual and latest quarterly review (ids sort by kind, then period).
    let mut keep: Vec<String> = Vec::new();
    for kind in ["annual:", "quarterly:"] {
        if let Some(r) = latest
            .iter()
            .filter(|r| r.starts_with(kind))
            .max_by(|a, b| a.split(':').nth(1).cmp(&b.split(':').nth(1)))
        {
            keep.push(r.clone());
        }
    }
    let line = if keep.is_empty() {
        tr(
            "ingen registreret gennemgang omfatter afdelingen",
            "no recorded review includes this department",
        )
        .into()
    } else {
        format!(
            "{} {}",
            tr(
                "markeringer fra de registrerede gennemgange",
                "flags from the recorded reviews"
            ),
            keep.join(", ")
        )
    };
    let mut by: std::collections::HashMap<String, Vec<String>> = Default::default();
    for r in 0..flags.height() {
        let (Some(i), Some(rid)) = (&fi[r], &fr[r]) else {
            continue;
        };
        if keep.contains(rid) {
            by.entry(i.clone()).or_default().push(format!(
                "{} {}",
                ft[r].as_deref().unwrap_or(""),
                fs[r].as_deref().unwrap_or("")
            ));
        }
    }
    for v in by.values_mut() {
        v.sort();
        v.dedup();
    }
    Ok((line, by))
}

/// The card's lines about the assessment log: the latest entry, and the
/// prompts still unanswered with their age.
fn log_lines(
    snap: &Snapshot<'_>,
    department: &str,
    cfg: &ReviewConfig,
    danish: bool,
) -> Result<Vec<String>, Error> {
    let tr = |da: &'static str, en: &'static str| if danish { da } else { en };
    let mut header = Vec::new();
    // The assessment log: the latest entry, and prompts still unanswered.
    let log = crate::assessments::by_department(snap)?;
    header.push(
        match log
            .get(department)
            .and_then(|v| v.last().map(|a| (v.len(), a)))
        {
            None => tr(
                "vurderinger: ingen registreret",
                "assessments: none recorded",
            )
            .into(),
            Some((n, a)) => {
                let note: String = a.note.chars().take(60).collect();
                let more = if a.note.chars().count() > 60 {
                    "..."
                } else {
                    ""
                };
                format!(
                    "{} {n} {}; {} {} ({}, {}, {} {}){}",
                    tr("vurderinger:", "assessments:"),
                    tr("registreret", "recorded"),
                    tr("seneste", "latest"),
                    a.outcome,
                    a.assessed_on,
                    a.role,
                    tr("for", "for"),
                    a.period,
                    if note.is_empty() {
                        String::new()
                    } else {
                        format!(": \"{note}{more}\"")
                    }
                )
            }
        },
    );
    let open = crate::assessments::list(
        snap,
        Some(department),
        true,
        None,
        cfg.assessment_overdue_days,
    )?;
    if open.height() > 0 {
        let periods = bomon_store::frame::strings(&open, "period")?;
        let ages = open
            .column("age_days")
            .map_err(|e| Error::polars("open prompts", e))?
            .cast(&DataType::Int64)
            .map_err(|e| Error::polars("open prompts", e))?;
        let ages = ages.i64().map_err(|e| Error::polars("open prompts", e))?;
        let items: Vec<String> = periods
            .iter()
            .zip(ages)
            .map(|(p, a)| match a {
                Some(a) => format!(
                    "{} ({a} {})",
                    p.as_deref().unwrap_or("?"),
                    tr("dage", "days")
                ),
                None => p.clone().unwrap_or_default(),
            })
            .collect();
        header.push(format!(
            "{} {}",
            tr(
                "åbne anmodninger om kvalitativ vurdering:",
                "open prompts for a qualitative assessment:"
            ),
            items.join(", ")
        ));
    }
    Ok(header)
}

/// The card's line naming figures suppressed at the source, if any.
fn suppressed_line(
    snap: &Snapshot<'_>,
    department: &str,
    danish: bool,
) -> Result<Option<String>, Error> {
    let tr = |da: &'static str, en: &'static str| if danish { da } else { en };
    let mut header = Vec::new();
    // Figures suppressed at the source (import profiles): named, never a number.
    let sup = snap
        .table(StoredTable::Observations)?
        .filter(
            col("department_id")
                .eq(lit(department))
                .and(col("suppressed").eq(lit(true))),
        )
        .select([col("indicator"), col("period")])
        .sort(["period", "indicator"], Default::default())
        .collect()
        .map_err(|e| Error::polars("reading suppressed figures", e))?;
    if sup.height() > 0 {
        let inds = bomon_store::frame::strings(&sup, "indicator")?;
        let pers = bomon_store::frame::strings(&sup, "period")?;
        let items: Vec<String> = inds
            .iter()
            .zip(&pers)
            .map(|(i, p)| {
                format!(
                    "{} {}",
                    i.as_deref().unwrap_or("?"),
                    p.as_deref().unwrap_or("?")
                )
            })
            .collect();
        header.push(format!(
            "{} {}",
            tr(
                "undertrykt ved kilden (intet tal, ikke testet):",
                "suppressed at the source (no figure, not tested):"
            ),
            items.join(", ")
        ));
    }
    Ok(header.pop())
}
