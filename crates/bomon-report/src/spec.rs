//! Chart specifications from a run's data: what each chart shows, on the
//! display scale, with suppressed figures left out.

use crate::ReportInput;
use bomon_engine::data::{quarter_label, Panel};
use bomon_engine::quarterly::Quarterly;
use bomon_engine::review::{level_limit, Comparator, Finding, Test, Thresholds};
use bomon_engine::ReviewConfig;
use bomon_store::{Catalogue, Direction, Kind};

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
    window: Option<(i32, i32)>,
    l: &Labels<'_>,
) -> Chart {
    let first = *years.start();
    let last = *years.end();
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
            window: window.map(|(a, b)| {
                (
                    (a.max(first) - first) as usize,
                    (b.min(last) - first) as usize,
                )
            }),
            window_label: tr(l.da, "De sammenlignede år", "The years compared").into(),
        },
    }
}

/// What a level test compared a department with: the units, the target,
/// the test's overdispersion and the z beyond which it flags.
pub struct Comparison<'a> {
    /// Peers, national or municipality.
    pub comparator: Comparator,
    /// The comparison's other units (panel indices), plotted as points.
    pub units: Vec<usize>,
    /// The comparison's pooled rate (the test's target).
    pub target: f64,
    /// The test's (phi, tau^2).
    pub dispersion: (f64, f64),
    /// z of an alert and of an alarm.
    pub thresholds: Thresholds,
    /// Whether the thresholds include the review's false-discovery
    /// correction (a review) or are the plain 95 % / 99.8 % limits (a chart
    /// on demand).
    pub corrected: bool,
    /// The indicator's direction (which side is worse).
    pub direction: Direction,
    /// The method (scale of the test).
    pub config: &'a ReviewConfig,
}

/// The units a level comparison of department `d` is made against: its
/// peers, public housing of its type nationally, or the municipality's other
/// departments of its type.
pub fn comparison_units(
    panel: &Panel,
    d: usize,
    comparator: Comparator,
    peers: &[usize],
) -> Vec<usize> {
    let me = &panel.depts[d];
    match comparator {
        Comparator::Peers => peers.to_vec(),
        Comparator::National => (0..panel.depts.len())
            .filter(|&x| x != d && panel.depts[x].housing_type == me.housing_type)
            .collect(),
        _ => (0..panel.depts.len())
            .filter(|&x| {
                x != d
                    && panel.depts[x].housing_type == me.housing_type
                    && panel.depts[x].municipality == me.municipality
            })
            .collect(),
    }
}

/// The denominator in words for an axis: "Antal beboere 18-64 år (nævner)".
pub fn denominator_words(denominator: Option<&str>, da: bool) -> String {
    let d = denominator.unwrap_or("");
    if !da {
        return if d.is_empty() {
            "Denominator".into()
        } else {
            format!("Number of {} (denominator)", d.to_lowercase())
        };
    }
    let words = if let Some(age) = d.strip_prefix("Residents aged ") {
        format!("beboere {age} år")
    } else {
        match d {
            "All residents" => "beboere".into(),
            "Households" => "husstande".into(),
            "Tenancies" => "lejemål".into(),
            "Tenancy-days" => "lejemålsdage".into(),
            "" => String::new(),
            other => other.to_lowercase(),
        }
    };
    if words.is_empty() {
        "Nævner".into()
    } else {
        format!("Antal {words} (nævner)")
    }
}

/// The department against the comparison of its level test in one year,
/// with the test's own limits: the same scale and overdispersion, and the
/// z beyond which it flags (for a review: after the false-discovery
/// correction), drawn on the worse side - the department lies beyond a
/// line exactly when the test flagged it.
pub fn funnel(
    s: &Subject<'_>,
    c: &Comparison<'_>,
    year: i32,
    denominator: Option<&str>,
    l: &Labels<'_>,
) -> Chart {
    let Subject {
        panel,
        kind,
        indicator: i,
        dept: d,
        disc,
    } = *s;
    let da = l.da;
    let (f, unit) = scale(kind, da);
    let mut points = Vec::new();
    for &p in &c.units {
        let (n, dn) = panel.get(i, p, year);
        if n.is_finite() && dn > 0.0 && !disc.hides(n) {
            points.push((dn, n / dn * f, false));
        }
    }
    let (n, dn) = panel.get(i, d, year);
    let hidden = n.is_finite() && disc.hides(n);
    if n.is_finite() && dn > 0.0 && !hidden {
        points.push((dn, n / dn * f, true));
    }
    let dmax = points.iter().map(|p| p.0).fold(dn.max(1.0), f64::max) * 1.1;
    let mut xs: Vec<f64> = (1..=80)
        .map(|k| (dmax / 80.0 * k as f64).max(1.0))
        .collect();
    if dn > 0.0 {
        // The department's own size is a point of the curves: its position
        // against the drawn line is exact there.
        xs.push(dn);
        xs.sort_by(f64::total_cmp);
    }
    let limits: Vec<(f64, f64, f64)> =
        if c.target.is_finite() && (c.target > 0.0 || kind == Kind::Share) {
            xs.iter()
                .map(|&x| {
                    let lim = |z: f64| {
                        level_limit(c.config, kind, c.direction, c.target, x, z, c.dispersion) * f
                    };
                    (x, lim(c.thresholds.alert), lim(c.thresholds.alarm))
                })
                .collect()
        } else {
            vec![]
        };
    let against = match c.comparator {
        Comparator::Peers => tr(da, "sammenlignelige afdelinger", "comparable departments"),
        Comparator::National => tr(
            da,
            "almene boliger på landsplan",
            "public housing nationally",
        ),
        _ => tr(
            da,
            "kommunens øvrige afdelinger",
            "the municipality's other departments",
        ),
    };
    let units_label = match c.comparator {
        Comparator::Peers => tr(
            da,
            "Sammenlignelige afdelinger (tvillinger)",
            "Comparable departments (twins)",
        ),
        Comparator::National => tr(
            da,
            "Almene afdelinger på landsplan (samme boligtype)",
            "Public housing nationally (same housing type)",
        ),
        _ => tr(
            da,
            "Kommunens øvrige afdelinger (samme boligtype)",
            "The municipality's other departments (same type)",
        ),
    };
    let centre = format!(
        "{}: {}",
        tr(da, "Samlet niveau", "Pooled level"),
        bomon_vocab::unit::show(c.target * f, kind, 1, da)
    );
    let (alert, alarm) = if c.corrected {
        (
            tr(
                da,
                "Grænse for opmærksomhedspunkt (korrigeret for antal test)",
                "Alert limit (corrected for the number of tests)",
            ),
            tr(da, "Grænse for alarm", "Alarm limit"),
        )
    } else {
        (
            tr(da, "95 %-grænse", "95 % limit"),
            tr(da, "99,8 %-grænse", "99.8 % limit"),
        )
    };
    Chart {
        title: format!("{} {year} - {} mod {against}", l.indicator, l.department),
        unit: unit.into(),
        x_label: denominator_words(denominator, da),
        legend: [l.department.to_string(), units_label.into(), String::new()],
        caption: l.caption.clone(),
        danish: da,
        spec: Spec::Funnel {
            points,
            target: c.target * f,
            limits,
            lines: [centre, alert.into(), alarm.into()],
            note: hidden.then(|| {
                format!(
                    "{}: {} - {}",
                    l.department,
                    disc.mark(),
                    tr(da, "ikke vist", "not shown")
                )
            }),
        },
    }
}

/// The quarterly own-history chart (deseasonalised rate, centre and limits,
/// baseline shaded, signals marked) with the peers' series.
pub fn spc(s: &Subject<'_>, q: &Quarterly, flagged_now: bool, l: &Labels<'_>) -> Option<Chart> {
    let Subject {
        kind,
        indicator: i,
        dept: d,
        disc,
        ..
    } = *s;
    let da = l.da;
    let (f, unit) = scale(kind, da);
    let rows = |chart: &str| -> Vec<&bomon_engine::quarterly::ChartRow> {
        q.charts_of(d, i)
            .iter()
            .filter(|c| c.chart == chart)
            .collect()
    };
    let shown = |c: &bomon_engine::quarterly::ChartRow| {
        (!disc.hides(c.numerator) && c.value.is_finite()).then_some(c.value * f)
    };
    let deciding = rows("deciding");
    if !deciding.is_empty() {
        // The deciding chart, on the rate scale the text quotes: rate,
        // expected rate and the alarm line of the test that was run.
        let peers = rows("peers_rate");
        let n = deciding.len();
        return Some(Chart {
            title: format!("{} - {}", l.indicator, l.department),
            unit: unit.into(),
            x_label: tr(da, "Kvartal (grå: basisperiode)", "Quarter (grey: baseline)").into(),
            legend: [
                l.department.to_string(),
                tr(da, "Sammenlignelige afdelinger samlet", "Comparable departments pooled").into(),
                tr(da, "Signal: alarm eller tidligt varsel i seneste kvartal", "Signal: alarm or early warning in the latest quarter").into(),
            ],
            caption: l.caption.clone(),
            danish: da,
            spec: Spec::Spc {
                periods: deciding.iter().map(|c| period_label(c.quarter, da)).collect(),
                values: deciding.iter().map(|c| shown(c)).collect(),
                centre: deciding.iter().map(|c| c.centre * f).collect(),
                lower: deciding.iter().map(|c| c.lower * f).collect(),
                upper: deciding.iter().map(|c| c.upper * f).collect(),
                baseline: deciding.iter().filter(|c| c.baseline).count(),
                signal: deciding
                    .iter()
                    .enumerate()
                    .map(|(k, c)| c.concern || (flagged_now && k + 1 == n))
                    .collect(),
                peers: deciding
                    .iter()
                    .map(|c| peers.iter().find(|p| p.quarter == c.quarter).and_then(|p| shown(p)))
                    .collect(),
                lines: [
                    tr(da, "Forventet (sammenlignelige afd. i kvartalet × eget forhold i basisperioden)", "Expected (comparable departments in the quarter x own baseline ratio)").into(),
                    tr(da, "Grænse for alarm", "Alarm limit").into(),
                ],
            },
        });
    }
    // Plain values (or no peers): the department's own history, deseasonalised.
    let own = rows("own");
    if own.is_empty() {
        return None;
    }
    Some(Chart {
        title: format!("{} - {}", l.indicator, l.department),
        unit: if kind.is_value() {
            unit.to_string()
        } else {
            format!(
                "{unit}, {}",
                tr(da, "sæsonkorrigeret", "seasonally adjusted")
            )
        },
        x_label: tr(
            da,
            "Kvartal (grå: frosset basisperiode)",
            "Quarter (grey: frozen baseline)",
        )
        .into(),
        legend: [
            l.department.to_string(),
            tr(
                da,
                "Sammenlignelige afdelinger samlet",
                "Comparable departments pooled",
            )
            .into(),
            tr(
                da,
                "Signal i den ugunstige retning",
                "Signal in the worse direction",
            )
            .into(),
        ],
        caption: l.caption.clone(),
        danish: da,
        spec: Spec::Spc {
            periods: own.iter().map(|c| period_label(c.quarter, da)).collect(),
            values: own.iter().map(|c| shown(c)).collect(),
            centre: own.iter().map(|c| c.centre * f).collect(),
            lower: own.iter().map(|c| c.lower * f).collect(),
            upper: own.iter().map(|c| c.upper * f).collect(),
            baseline: own.iter().filter(|c| c.baseline).count(),
            // Rule marks on the own chart, and the quarter reviewed when the
            // department has its own signal there (deciding chart or early warning).
            signal: own
                .iter()
                .enumerate()
                .map(|(k, c)| c.concern || (flagged_now && k + 1 == own.len()))
                .collect(),
            // A series without a peer rate has no peers' line to draw.
            peers: vec![None; own.len()],
            lines: [
                tr(da, "Centerlinje (basisperioden)", "Centre line (baseline)").into(),
                tr(da, "Kontrolgrænser", "Control limits").into(),
            ],
        },
    })
}

/// A quarter on a chart axis: "25K3" style is unreadable; "3. kv. 25" is
/// long - the interchange label `2025Q3` in English, `2025K3` in Danish.
fn period_label(q: i32, da: bool) -> String {
    let p = bomon_vocab::Period::from_quarter_index(q);
    match p {
        bomon_vocab::Period::Quarter(y, k) if da => format!("{y}K{k}"),
        _ => quarter_label(q),
    }
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
        review
            .period
            .parse::<bomon_vocab::Period>()
            .map_or(review.period.clone(), |p| p.words(da)),
        input.manifest["snapshot"]
    );
    let cap = caption(&source, synthetic, da);
    let k = review.scope.iter().position(|&x| x == d);
    let peers: Vec<usize> = k
        .map(|k| review.peers[k].iter().map(|p| p.0).collect())
        .unwrap_or_default();
    // Flagged indicators, strongest first.
    let flagged: Vec<&Finding> = review
        .findings
        .iter()
        .filter(|f| f.dept == d && f.severity.is_some())
        .collect();
    let mut inds: Vec<(usize, f64)> = Vec::new();
    for f in &flagged {
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
        if let Some(q) = input.quarterly {
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
            continue;
        }
        // A level: the funnel of the comparison that flagged it (the strongest).
        let level = flagged
            .iter()
            .filter(|f| f.indicator == i && f.test == Test::Level)
            .max_by(|a, b| a.z.total_cmp(&b.z));
        if let (Some(f), Some(t)) = (level, review.thresholds.get(&Test::Level)) {
            let c = Comparison {
                comparator: f.comparator,
                units: comparison_units(panel, d, f.comparator, &peers),
                target: f.reference,
                dispersion: f.dispersion,
                thresholds: *t,
                corrected: true,
                direction: ind.direction,
                config: input.config,
            };
            out.push(ChartFile {
                name: format!("{id}-{iid}-funnel"),
                chart: funnel(&subject, &c, review.year, ind.denominator.as_deref(), &l),
            });
        }
        // A development or trend: the series against its peers and nationally,
        // with the years the flagged comparisons used shaded.
        let windows: Vec<(i32, i32)> = flagged
            .iter()
            .filter(|f| f.indicator == i && f.test != Test::Level)
            .map(|f| compared_years(f, review.year, input.config))
            .collect();
        if !windows.is_empty() {
            let w = (
                windows.iter().map(|w| w.0).min().unwrap_or(review.year),
                review.year,
            );
            out.push(ChartFile {
                name: format!("{id}-{iid}-trend"),
                chart: trend(
                    &subject,
                    &peers,
                    panel.first_year..=review.year,
                    Some(w),
                    &l,
                ),
            });
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

/// The years a development or trend finding compared: the change window's
/// base and recent years, or the slope's years.
pub fn compared_years(f: &Finding, year: i32, cfg: &ReviewConfig) -> (i32, i32) {
    match (f.test, f.rule) {
        (Test::Development, Some("last_year")) => (year - 1, year),
        (Test::Development, _) => (year - 4, year),
        _ => (year - cfg.slope_years as i32 + 1, year),
    }
}
