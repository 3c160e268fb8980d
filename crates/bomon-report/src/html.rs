//! report.html: one self-contained page (inline CSS and SVG, no network),
//! printable on A4, marked internal on every page.

use std::collections::BTreeMap;

use crate::ReportInput;
use bomon_engine::quarterly::Status;
use bomon_vocab::number::fixed as fmt_num;
use minijinja::{context, Environment, Value};
use serde_json::json;

use crate::spec::ChartFile;
use crate::{tr, Disclosure, INTERNAL_DA, INTERNAL_EN};

/// The triage table lists at most this many departments; the rest are in
/// departments.csv and the workbook.
const TRIAGE_ROWS: usize = 300;

pub(crate) fn category_label(c: &str, da: bool) -> String {
    crate::charts::category_word(c, if da { "da" } else { "en" })
}

fn status_label(s: Status, da: bool) -> &'static str {
    match s {
        Status::New => tr(da, "nyt signal", "new signal"),
        Status::Persisting => tr(da, "vedvarende signal", "persisting signal"),
        Status::Resolved => tr(
            da,
            "ophørt siden sidste kvartal",
            "resolved since last quarter",
        ),
        Status::Shared => tr(
            da,
            "fælles udvikling med sammenlignelige",
            "shared with comparable departments",
        ),
        Status::TooShort => tr(da, "for kort serie til at vurdere", "too short to judge"),
        Status::None => tr(da, "intet signal", "no signal"),
    }
}

fn sv<T: serde::Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

fn strip_xml_declaration(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(k) => &svg[k..],
        None => svg,
    }
}

pub(crate) fn page(
    input: &ReportInput<'_>,
    sections: &[(usize, Vec<(ChartFile, String)>)],
    disc: &Disclosure,
) -> Result<String, String> {
    let da = input.danish;
    let m = input.manifest;
    let panel = input.panel;
    let review = input.review;
    let quarterly = input.quarterly.is_some();
    let status_of = |d: usize| -> Option<&'static str> {
        let q = input.quarterly?;
        let k = q.selection.iter().position(|s| s.dept == d)?;
        Some(status_label(q.status[k], da))
    };
    let org = m["organisation"].as_str();
    let title = if quarterly {
        format!(
            "{} {}{}",
            tr(da, "Kvartalsopfølgning", "Quarterly follow-up"),
            review.period,
            org.map(|o| format!(" - {o}")).unwrap_or_default()
        )
    } else {
        format!(
            "{} {}{}",
            tr(da, "Årlig gennemgang", "Annual review"),
            review.period,
            org.map(|o| format!(" - {o}")).unwrap_or_default()
        )
    };
    let scope = if quarterly {
        let who = tr(
            da,
            "afdelinger i røde, orange og gule områder samt håndudvalgte (se status)",
            "departments in red, orange and yellow areas and those added by hand (see status)",
        );
        match org {
            Some(o) => format!("{o}: {who}"),
            None => who.to_string(),
        }
    } else {
        match org {
            Some(o) => format!(
                "{o} ({} {})",
                review.scope.len(),
                tr(da, "afdelinger", "departments")
            ),
            None => format!(
                "{} ({} {})",
                tr(
                    da,
                    "alle afdelinger i lageret",
                    "every department in the store"
                ),
                review.scope.len(),
                tr(da, "afdelinger", "departments")
            ),
        }
    };
    let synthetic = panel
        .depts
        .iter()
        .any(|d| d.covariates.get("synthetic").is_some_and(|v| *v >= 1.0));
    let mut by_cat: BTreeMap<u8, (String, usize)> = BTreeMap::new();
    for t in input.triage {
        let (k, key) = match t.category.as_deref() {
            Some("red") => (0, "red"),
            Some("orange") => (1, "orange"),
            Some("yellow") => (2, "yellow"),
            Some("green") => (3, "green"),
            _ => continue,
        };
        by_cat.entry(k).or_insert((key.into(), 0)).1 += 1;
    }
    let by_category: Vec<_> = by_cat
        .values()
        .map(|(k, n)| json!({"key": k, "label": category_label(k, da), "n": n}))
        .collect();
    let status: Vec<_> = match input.quarterly {
        Some(q) => Status::ALL
            .iter()
            .map(|s| json!({"label": status_label(*s, da), "n": q.status.iter().filter(|x| *x == s).count()}))
            .collect(),
        None => vec![],
    };
    let with_section: std::collections::HashSet<usize> = sections.iter().map(|s| s.0).collect();
    let listed: Vec<_> = input
        .triage
        .iter()
        .filter(|t| t.alarms + t.alerts > 0 || t.needs_assessment)
        .collect();
    let triage: Vec<_> = listed
        .iter()
        .take(TRIAGE_ROWS)
        .map(|t| {
            let d = &panel.depts[t.dept];
            json!({
                "rank": t.rank, "id": d.id, "name": d.name,
                "category": t.category, "category_label": t.category.as_deref().map(|c| category_label(c, da)),
                "score": fmt_num(t.score, 1, da), "flags": t.alarms + t.alerts,
                "reason": t.reason, "needs_assessment": t.needs_assessment,
                "section": with_section.contains(&t.dept), "status": status_of(t.dept),
            })
        })
        .collect();
    let unflagged = input.triage.len() - listed.len();
    let triage_more = {
        let mut s = String::new();
        if listed.len() > TRIAGE_ROWS {
            s += &format!(
                "{} {} ",
                listed.len() - TRIAGE_ROWS,
                tr(
                    da,
                    "flere markerede afdelinger står i departments.csv og review.xlsx.",
                    "more flagged departments are in departments.csv and review.xlsx."
                )
            );
        }
        if unflagged > 0 {
            s += &format!(
                "{unflagged} {}",
                tr(
                    da,
                    "afdelinger uden markeringer er ikke vist.",
                    "departments without flags are not shown."
                )
            );
        }
        s
    };
    let too_small: Vec<String> = review
        .too_small_departments
        .iter()
        .map(|&d| format!("{} ({})", panel.depts[d].name, panel.depts[d].id))
        .collect();
    let sec: Vec<_> = sections
        .iter()
        .filter_map(|(d, charts)| {
            let t = input.triage.iter().find(|t| t.dept == *d)?;
            let dp = &panel.depts[*d];
            Some(json!({
                "id": dp.id, "name": dp.name, "organisation": dp.organisation, "rank": t.rank,
                "category": t.category, "category_label": t.category.as_deref().map(|c| category_label(c, da)),
                "score": fmt_num(t.score, 1, da), "alarms": t.alarms, "alerts": t.alerts,
                "status": status_of(*d), "findings": t.findings, "roles": t.roles, "questions": t.questions,
                "needs_assessment": t.needs_assessment,
                "assessments": input.assessments.get(d).map(|v| v.iter().rev().map(|a| json!({"assessed_on": a.assessed_on, "period": a.period, "role": a.role, "outcome": a.outcome, "note": a.note})).collect::<Vec<_>>()),
                "history": input.category_history.get(d).map(|h| h.iter().map(|(p, c)| json!({"period": p, "key": c, "label": category_label(c, da)})).collect::<Vec<_>>()),
                "charts": charts.iter().map(|(cf, svg)| json!({"name": cf.name, "title": cf.chart.title, "svg": strip_xml_declaration(svg)})).collect::<Vec<_>>(),
            }))
        })
        .collect();
    let t = json!({
        "synthetic": tr(da, "SYNTETISKE DATA", "SYNTHETIC DATA"),
        "reviewed": tr(da, "Gennemgået", "Reviewed"),
        "period": tr(da, "Periode", "Period"),
        "snapshot": tr(da, "Datagrundlag (snapshot)", "Data (snapshot)"),
        "data_as_of": tr(da, "data pr.", "data as of"),
        "created": tr(da, "Kørt", "Run"),
        "overview": tr(da, "Overblik", "Overview"),
        "departments": tr(da, "Afdelinger", "Departments"),
        "alarms": tr(da, "Alarmer", "Alarms"),
        "alerts": tr(da, "Opmærksomheder", "Alerts"),
        "asked": tr(da, "Bedes vurderet kvalitativt", "Asked for an assessment"),
        "expected_false": tr(da, "Forventede falske alarmer", "Expected false alarms"),
        "expected_false_note": if quarterly {
            tr(da, "Nominelt tal (3-sigma-punkt og CUSUM pr. kurve); målt på syntetiske data: ca. 0,09 falske alarmer pr. afdeling pr. år.", "Nominal figure (3-sigma point and CUSUM per chart); measured on synthetic data: about 0.09 false alarms per department-year.")
        } else {
            tr(da, "Tallene afgør aldrig alene: en markering er en anledning til at spørge dem, der kender afdelingen. Falsk-opdagelsesraten er kontrolleret på tværs af hele gennemgangen (Benjamini-Hochberg).", "Figures never decide alone: a flag is a reason to ask those who know the department. The false discovery rate is controlled across the whole review (Benjamini-Hochberg).")
        },
        "category": tr(da, "Kategori", "Category"),
        "status_head": tr(da, "Status i kvartalet", "Status this quarter"),
        "status": tr(da, "Status", "Status"),
        "triage": tr(da, "Prioriteringsliste", "Triage list"),
        "rank": tr(da, "Nr.", "Rank"),
        "department": tr(da, "Afdeling", "Department"),
        "score": tr(da, "Point", "Score"),
        "flags": tr(da, "Markeringer", "Flags"),
        "reason": tr(da, "Hovedgrund", "Main reason"),
        "ask": tr(da, "Vurdering ønskes:", "Assessment wanted:"),
        "too_small_head": tr(da, "For små til at vurdere statistisk (ingen tal vises)", "Too small to judge statistically (no figures shown)"),
        "findings": tr(da, "Det viser tallene", "What the figures show"),
        "history": tr(da, "Kategorihistorik", "Category history"),
        "prompt": tr(da, "Kvalitativ vurdering", "Qualitative assessment"),
        "prompt_intro": tr(da, "Tallene peger på en udvikling, som kræver en vurdering fra dem, der kender afdelingen.", "The figures point to a development that needs an assessment by those who know the department."),
        "prompt_optional": tr(da, "Under grænsen for en vurdering; til orientering.", "Below the threshold for an assessment; for information."),
        "whom": tr(da, "Spørg", "Ask"),
        "questions": tr(da, "Forslag til spørgsmål", "Suggested questions"),
        "earlier": tr(da, "Tidligere vurderinger", "Earlier assessments"),
        "log_done": tr(da, "Vurderinger registreret", "Assessments recorded"),
        "log_open": tr(da, "Åbne anmodninger om vurdering", "Open assessment requests"),
        "log_overdue": tr(da, "Heraf over fristen", "Of which overdue"),
        "a_date": tr(da, "Dato", "Date"),
        "a_role": tr(da, "Vurderet af", "Assessed by"),
        "a_outcome": tr(da, "Udfald", "Outcome"),
        "a_note": tr(da, "Note", "Note"),
        "no_earlier": tr(da, "Ingen tidligere vurderinger registreret.", "No earlier assessments recorded."),
        "reproducibility": tr(da, "Reproducerbarhed", "Reproducibility"),
        "engine": tr(da, "Program", "Engine"),
        "config": tr(da, "Konfiguration (SHA-256)", "Configuration (SHA-256)"),
        "catalogue": tr(da, "Nøgletalskatalog (SHA-256)", "Indicator catalogue (SHA-256)"),
        "store": tr(da, "Lager", "Store"),
        "input": tr(da, "Inddata", "Input"),
        "disclosure_note": if da {
            format!("Diskretion: antal under {} vises som \"{}\", og andele bygget på dem vises ikke; afdelinger under {} beboere eller {} husstande vurderes ikke.", disc.max_suppressed as i64 + 1, disc.mark(), input.config.min_residents, input.config.min_households)
        } else {
            format!("Disclosure control: counts below {} show as \"{}\" and rates built on them are not shown; departments under {} residents or {} households are not judged.", disc.max_suppressed as i64 + 1, disc.mark(), input.config.min_residents, input.config.min_households)
        },
    });
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("report.html", include_str!("../templates/report.html"))
        .map_err(|e| e.to_string())?;
    // Chart SVG is our own output: mark it safe, everything else is escaped.
    let sec: Vec<Value> = sec
        .into_iter()
        .map(|mut s| {
            let charts: Vec<Value> = s["charts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|c| {
                    context! {
                        name => c["name"].as_str().unwrap_or(""),
                        title => c["title"].as_str().unwrap_or(""),
                        svg => Value::from_safe_string(c["svg"].as_str().unwrap_or("").to_string()),
                    }
                })
                .collect();
            s["charts"] = json!(null);
            let base = Value::from(minijinja::value::Serde(&s));
            context! { charts => charts, ..base }
        })
        .collect();
    let tpl = env.get_template("report.html").map_err(|e| e.to_string())?;
    tpl.render(context! {
        lang => if da { "da" } else { "en" },
        internal => if da { INTERNAL_DA } else { INTERNAL_EN },
        synthetic, title, scope,
        period => &review.period,
        snapshot => sv(&m["snapshot"]),
        snapshot_created => m["snapshot_created"].as_str().unwrap_or(""),
        created => m["created"].as_str().unwrap_or(""),
        n_departments => review.scope.len(),
        alarms => sv(&m["alarms"]), alerts => sv(&m["alerts"]), needs_assessment => sv(&m["needs_assessment"]),
        expected_false_alarms => fmt_num(m["expected_false_alarms"].as_f64().unwrap_or(f64::NAN), 1, da),
        log_done => input.log_counts.0, log_open => input.log_counts.1, log_overdue => input.log_counts.2,
        by_category => sv(&by_category), status => sv(&status), triage => sv(&triage), triage_more, too_small,
        sections => sec,
        engine_version => sv(&m["engine_version"]),
        config_sha256 => sv(&m["config_sha256"]), catalogue_sha256 => sv(&m["catalogue_sha256"]),
        store => sv(&m["store"]), inputs => sv(&m["inputs"]),
        t => Value::from(minijinja::value::Serde(&t)),
    })
    .map_err(|e| format!("rendering report.html: {e}"))
}
