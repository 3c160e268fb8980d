//! Chart specifications from a run's data: what each chart shows, on the
//! display scale, with suppressed figures left out.

use crate::ReportInput;
use bomon_engine::data::{quarter_label, Panel};
use bomon_engine::quarterly::Quarterly;
use bomon_stats::funnel::{exact_limit, Measure};
use bomon_store::{Catalogue, Kind};

use crate::charts::{Chart, Spec};
use crate::{tr, Disclosure};

/// A chart and the file name it is written under (without extension).
#[derive(Debug, Clone)]
pub struct ChartFile {
    /// `<department>-<indicator>-<kind>`.
    pub name: String,
    /// The chart.
    pub chart: Chart,
}

/// Display factor and unit of an indicator kind (defined once, in bomon-vocab).
pub use bomon_vocab::unit::scale;

/// A file-name part for an id: ASCII letters, digits, `-` and `_` as they
/// are; anything else becomes `_`, and then a short hash of the id is added
/// so that two ids (`a/b`, `a_b`) never share a chart file.
pub fn file_stem(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean == s {
        return clean;
    }
    // FNV-1a, 32 bits: stable across builds and platforms.
    let h = s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{clean}-{h:08x}")
}

/// The caption: source, snapshot and the internal marking.
pub fn caption(source: &str, synthetic: bool, da: bool) -> String {
    format!(
        "{}{source} · {}",
        if synthetic {
            tr(da, "SYNTETISKE DATA · ", "SYNTHETIC DATA · ")
        } else {
            ""
        },
        tr(
            da,
            bomon_vocab::marking::SHORT_DA,
            bomon_vocab::marking::SHORT_EN
        )
    )
}

fn rate(panel: &Panel, i: usize, d: usize, period: i32, disc: &Disclosure) -> Option<f64> {
    let (n, dn) = panel.get(i, d, period);
    if !(n.is_finite() && dn > 0.0) || disc.hides(n) {
        return None;
    }
    Some(n / dn)
}

fn quantile(v: &mut [f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

/// Labels shared by the charts of one indicator.
pub struct Labels<'a> {
    /// Indicator label.
    pub indicator: &'a str,
    /// Department name.
    pub department: &'a str,
    /// Caption.
    pub caption: String,
    /// Danish?
    pub da: bool,
}

/// What a chart is of: one indicator of one department, in a panel.
#[derive(Clone, Copy)]
pub struct Subject<'a> {
    /// The panel holding the figures.
    pub panel: &'a Panel,
    /// The indicator's kind (its unit and scale).
    pub kind: Kind,
    /// The indicator's index in the panel.
    pub indicator: usize,
    /// The department's index in the panel.
    pub dept: usize,
    /// Disclosure control.
    pub disc: &'a Disclosure,
}

/// The department's annual series against its peers' median and
/// inter-quartile range and national public housing of the same type.
pub fn trend(
    s: &Subject<'_>,
    peers: &[usize],
    years: std::ops::RangeInclusive<i32>,
    l: &Labels<'_>,
) -> Chart {
    let Subject {
        panel,
        kind,
        indicator: i,
        dept: d,
        disc,
    } = *s;
    let (f, unit) = scale(kind, l.da);
    let ht = &panel.depts[d].housing_type;
    let mut periods = Vec::new();
    let (mut dep, mut med, mut q1, mut q3, mut nat) = (vec![], vec![], vec![], vec![], vec![]);
    for y in years {
        periods.push(y.to_string());
        dep.push(rate(panel, i, d, y, disc).map(|r| r * f));
        let mut pr: Vec<f64> = peers
            .iter()
            .filter_map(|&p| rate(panel, i, p, y, disc))
            .collect();
        med.push(quantile(&mut pr, 0.5).map(|r| r * f));
        q1.push(quantile(&mut pr, 0.25).map(|r| r * f));
        q3.push(quantile(&mut pr, 0.75).map(|r| r * f));
        let (a, b) = (0..panel.depts.len())
            .filter(|&x| &panel.depts[x].housing_type == ht)
            .map(|x| panel.get(i, x, y))
            .filter(|(a, b)| a.is_finite() && *b > 0.0)
            .fold((0.0, 0.0), |(s, t), (a, b)| (s + a, t + b));
        nat.push((b > 0.0).then(|| a / b * f));
    }
    Chart {
        title: format!("{} - {}", l.indicator, l.department),
        unit: unit.into(),
        x_label: tr(l.da, "År", "Year").into(),
        legend: [
            l.department.to_string(),
            tr(
                l.da,
                "Sammenlignelige afdelinger (median, kvartilbånd)",
                "Comparable departments (median, quartile band)",
            )
            .into(),
            tr(
                l.da,
                "Almene boliger på landsplan (samme boligtype)",
                "Public housing nationally (same housing type)",
            )
            .into(),
        ],
        caption: l.caption.clone(),
        danish: l.da,
        spec: Spec::Trend {
            periods,
            department: dep,
            median: med,
            q1,
            q3,
            national: nat,
        },
    }
}

/// The department among its peers in one year, with exact 95 % and 99.8 %
/// limits around the peers' pooled rate.
pub fn funnel(s: &Subject<'_>, peers: &[usize], year: i32, l: &Labels<'_>) -> Chart {
    let Subject {
        panel,
        kind,
        indicator: i,
        dept: d,
        disc,
    } = *s;
    let (f, unit) = scale(kind, l.da);
    let measure = if kind == Kind::Share {
        Measure::Proportion
    } else {
        Measure::RatioLog
    };
    let mut points = Vec::new();
    let (mut sn, mut sd) = (0.0, 0.0);
    for &p in peers {
        let (n, dn) = panel.get(i, p, year);
        if n.is_finite() && dn > 0.0 {
            sn += n;
            sd += dn;
            if !disc.hides(n) {
                points.push((dn, n / dn * f, false));
            }
        }
    }
    let (n, dn) = panel.get(i, d, year);
    if n.is_finite() && dn > 0.0 && !disc.hides(n) {
        points.push((dn, n / dn * f, true));
    }
    let target = if sd > 0.0 { sn / sd } else { f64::NAN };
    let dmax = points.iter().map(|p| p.0).fold(dn.max(1.0), f64::max) * 1.1;
    let limits: Vec<(f64, f64, f64, f64, f64)> = if target.is_finite() && target > 0.0 {
        (1..=60)
            .map(|k| {
                let x = (dmax / 60.0 * k as f64).max(1.0);
                let lim = |p: f64| exact_limit(measure, target, x, p) * f;
                (x, lim(0.025), lim(0.975), lim(0.001), lim(0.999))
            })
            .collect()
    } else {
        vec![]
    };
    Chart {
        title: format!("{} {year} - {}", l.indicator, l.department),
        unit: unit.into(),
        x_label: tr(
            l.da,
            "Nævner (afdelingens størrelse)",
            "Denominator (department size)",
        )
        .into(),
        legend: [
            l.department.to_string(),
            tr(l.da, "Sammenlignelige afdelinger", "Comparable departments").into(),
            tr(
                l.da,
                "Grænser: 95 % (tyk), 99,8 % (tynd)",
                "Limits: 95 % (thick), 99.8 % (thin)",
            )
            .into(),
        ],
        caption: l.caption.clone(),
        danish: l.da,
        spec: Spec::Funnel {
            points,
            target: target * f,
            limits,
        },
    }
}

/// The quarterly own-history chart (deseasonalised rate, centre and limits,
/// baseline shaded, signals marked) with the peers' series.
pub fn spc(s: &Subject<'_>, q: &Quarterly, flagged_now: bool, l: &Labels<'_>) -> Option<Chart> {
    let Subject {
        panel,
        kind,
        indicator: i,
        dept: d,
        disc,
    } = *s;
    let (f, unit) = scale(kind, l.da);
    let own: Vec<_> = q
        .charts
        .iter()
        .filter(|c| c.dept == d && c.indicator == i && c.chart == "own")
        .collect();
    if own.is_empty() {
        return None;
    }
    let peers: Vec<_> = q
        .charts
        .iter()
        .filter(|c| c.dept == d && c.indicator == i && c.chart == "peers")
        .collect();
    let _ = panel;
    Some(Chart {
        title: format!("{} - {}", l.indicator, l.department),
        unit: format!(
            "{unit}, {}",
            tr(l.da, "sæsonkorrigeret", "seasonally adjusted")
        ),
        x_label: tr(
            l.da,
            "Kvartal (grå: frosset basisperiode)",
            "Quarter (grey: frozen baseline)",
        )
        .into(),
        legend: [
            l.department.to_string(),
            tr(
                l.da,
                "Sammenlignelige afdelinger samlet",
                "Comparable departments pooled",
            )
            .into(),
            tr(
                l.da,
                "Signal i den ugunstige retning",
                "Signal in the worse direction",
            )
            .into(),
        ],
        caption: l.caption.clone(),
        danish: l.da,
        spec: Spec::Spc {
            periods: own.iter().map(|c| quarter_label(c.quarter)).collect(),
            values: own
                .iter()
                .map(|c| (!disc.hides(c.numerator) && c.value.is_finite()).then_some(c.value * f))
                .collect(),
            centre: own.iter().map(|c| c.centre * f).collect(),
            lower: own.iter().map(|c| c.lower * f).collect(),
            upper: own.iter().map(|c| c.upper * f).collect(),
            baseline: own.iter().filter(|c| c.baseline).count(),
            // Rule marks on the own chart, and the quarter reviewed when the
            // department has its own signal there (deciding chart or CUSUM).
            signal: own
                .iter()
                .enumerate()
                .map(|(k, c)| c.concern || (flagged_now && k + 1 == own.len()))
                .collect(),
            peers: own
                .iter()
                .map(|c| {
                    peers
                        .iter()
                        .find(|p| p.quarter == c.quarter)
                        .and_then(|p| p.value.is_finite().then_some(p.value * f))
                })
                .collect(),
        },
    })
}

/// Category history as a strip.
pub fn categories(history: &[(String, String)], l: &Labels<'_>) -> Chart {
    Chart {
        title: format!(
            "{} - {}",
            tr(l.da, "Kategori over tid", "Category over time"),
            l.department
        ),
        unit: if l.da { "da".into() } else { "en".into() },
        x_label: String::new(),
        legend: [String::new(), String::new(), String::new()],
        caption: l.caption.clone(),
        danish: l.da,
        spec: Spec::Categories {
            history: history.to_vec(),
        },
    }
}

/// Every chart of a flagged department in a run: per flagged indicator a
/// funnel and a trend (annual) or an SPC chart (quarterly), and the category
/// history.
pub fn department_charts(input: &ReportInput<'_>, d: usize, disc: &Disclosure) -> Vec<ChartFile> {
    let da = input.danish;
    let panel = input.panel;
    let review = input.review;
    let cat: &Catalogue = input.catalogue;
    let dept = &panel.depts[d];
    let synthetic = dept.covariates.get("synthetic").is_some_and(|v| *v >= 1.0);
    let source = format!(
        "{}: bomon, {} {}, snapshot {}",
        tr(da, "Kilde", "Source"),
        if input.quarterly.is_some() {
            tr(da, "kvartalsopfølgning", "quarterly follow-up")
        } else {
            tr(da, "årlig gennemgang", "annual review")
        },
        review.period,
        input.manifest["snapshot"]
    );
    let cap = caption(&source, synthetic, da);
    let k = review.scope.iter().position(|&x| x == d);
    let peers: Vec<usize> = k
        .map(|k| review.peers[k].iter().map(|p| p.0).collect())
        .unwrap_or_default();
    // Flagged indicators, strongest first.
    let mut inds: Vec<(usize, f64)> = Vec::new();
    for f in review
        .findings
        .iter()
        .filter(|f| f.dept == d && f.severity.is_some())
    {
        match inds.iter_mut().find(|x| x.0 == f.indicator) {
            Some(x) => x.1 = x.1.max(f.z),
            None => inds.push((f.indicator, f.z)),
        }
    }
    inds.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut out = Vec::new();
    let id = file_stem(&dept.id);
    for (i, _) in inds {
        let Some(ind) = cat.get(&panel.indicators[i]) else {
            continue;
        };
        let l = Labels {
            indicator: if da { &ind.label_da } else { &ind.label_en },
            department: &dept.name,
            caption: cap.clone(),
            da,
        };
        let iid = file_stem(&ind.id);
        let subject = Subject {
            panel,
            kind: ind.kind,
            indicator: i,
            dept: d,
            disc,
        };
        match input.quarterly {
            Some(q) => {
                let now = review
                    .findings
                    .iter()
                    .any(|f| f.dept == d && f.indicator == i && f.attribution == Some("own"));
                if let Some(c) = spc(&subject, q, now, &l) {
                    out.push(ChartFile {
                        name: format!("{id}-{iid}-spc"),
                        chart: c,
                    });
                }
            }
            None => {
                out.push(ChartFile {
                    name: format!("{id}-{iid}-funnel"),
                    chart: funnel(&subject, &peers, review.year, &l),
                });
                out.push(ChartFile {
                    name: format!("{id}-{iid}-trend"),
                    chart: trend(&subject, &peers, panel.first_year..=review.year, &l),
                });
            }
        }
    }
    if let Some(h) = input.category_history.get(&d) {
        let l = Labels {
            indicator: "",
            department: &dept.name,
            caption: cap,
            da,
        };
        out.push(ChartFile {
            name: format!("{id}-categories"),
            chart: categories(h, &l),
        });
    }
    out
}
