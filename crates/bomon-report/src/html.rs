//! report.html: one self-contained page (inline CSS and SVG, no network),
//! printable on A4, marked internal on every page.

use std::collections::{BTreeMap, HashMap, HashSet};

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

/// The national lists and the municipal categories of the areas the review
/// covers: per area the lists it is on, criteria met, movement since last
/// year, early warnings (an unmet criterion within 10 % of its threshold),
/// the municipal category and the departments in scope. Also the panel
/// indices of the departments on or near a list (never hidden from the
/// triage list). Areas with nothing to say are left out.
fn lists_rows(
    input: &ReportInput<'_>,
    c: &bomon_rules::run::Categorisation,
) -> (Vec<serde_json::Value>, HashSet<usize>) {
    let da = input.danish;
    let panel = input.panel;
    let in_scope: HashMap<&str, usize> = input
        .review
        .scope
        .iter()
        .map(|&d| (panel.depts[d].id.as_str(), d))
        .collect();
    let municipal: HashMap<&str, &bomon_rules::run::MunicipalRow> =
        c.municipal.iter().map(|m| (m.area.as_str(), m)).collect();
    let mut rows = Vec::new();
    let mut near = HashSet::new();
    for a in &c.areas {
        let deps: Vec<usize> = a
            .departments
            .iter()
            .filter_map(|id| in_scope.get(id.as_str()).copied())
            .collect();
        if deps.is_empty() {
            continue;
        }
        let mut lists = Vec::new();
        for (k, l) in a.result.lists.iter().enumerate() {
            let moved = a.movement(k);
            if !l.on_list && moved != "left" {
                continue;
            }
            let name = &c.ruleset.lists[k].name_da;
            let how = match moved {
                "new" => tr(da, "ny på listen", "new on the list"),
                "stays" => tr(da, "også sidste år", "also last year"),
                "left" => tr(
                    da,
                    "ude af listen siden sidste år",
                    "off the list since last year",
                ),
                _ => "",
            };
            let met = if c.ruleset.lists[k].history_of.is_some() || !l.on_list || l.of == 0 {
                String::new()
            } else {
                format!(
                    ", {}/{} {}",
                    l.met,
                    l.of,
                    tr(da, "kriterier opfyldt", "criteria met")
                )
            };
            lists.push(format!("{name} ({how}{met})"));
        }
        let warnings: Vec<String> = a
            .near_misses()
            .map(|k| {
                let list = c
                    .ruleset
                    .lists
                    .iter()
                    .find(|l| l.id == k.list)
                    .map_or(k.list.as_str(), |l| l.name_da.as_str());
                let ind = input
                    .catalogue
                    .get(&k.indicator)
                    .map_or(k.indicator.as_str(), |i| {
                        if da {
                            i.label_da.as_str()
                        } else {
                            i.label_en.as_str()
                        }
                    });
                format!("{list}: {ind} {}", bomon_rules::run::distance_note(k))
            })
            .collect();
        let m = municipal.get(a.result.area.as_str());
        let category = m.and_then(|m| m.category.clone());
        let cat_move = m
            .map(|m| m.movement())
            .filter(|x| !x.is_empty() && x != "stays");
        let at_risk = matches!(category.as_deref(), Some("red" | "orange" | "yellow"));
        if lists.is_empty() && warnings.is_empty() && !at_risk && cat_move.is_none() {
            continue;
        }
        if !lists.is_empty() || !warnings.is_empty() {
            near.extend(deps.iter().copied());
        }
        rows.push(json!({
            "area": a.result.area,
            "municipality": a.municipality,
            "departments": deps.iter().map(|&d| format!("{} ({})", panel.depts[d].name, panel.depts[d].id)).collect::<Vec<_>>(),
            "lists": lists,
            "warnings": warnings,
            "category": category,
            "category_label": category.as_deref().map(|k| category_label(k, da)),
            "category_movement": cat_move.map(|mv| mv.split(" -> ").map(|k| category_label(k, da)).collect::<Vec<_>>().join(" → ")),
        }));
    }
    (rows, near)
}

/// The method in the reader's language, from the configuration used.
fn method(input: &ReportInput<'_>) -> Vec<String> {
    let da = input.danish;
    let c = input.config;
    let pct = |v: f64| bomon_vocab::number::trimmed(v * 100.0, 1, da);
    let scale = if c.share_scale == "arcsine" {
        tr(da, "arcsin-skala", "arcsine scale")
    } else {
        tr(da, "logit-skala", "logit scale")
    };
    if input.quarterly.is_some() {
        let q = &c.quarterly;
        return if da {
            vec![
                format!("Kvartalsopfølgningen følger afdelinger i områder, kommunen klassificerer som {}, og afdelinger tilføjet i hånden.", q.categories.iter().map(|k| category_label(k, true)).collect::<Vec<_>>().join(", ")),
                format!("Hvert kvartal sammenlignes afdelingens antal med det forventede: nævneren gange sammenlignelige afdelingers samlede niveau i samme kvartal gange afdelingens eget forhold til dem i grundperioden ({} kvartaler). Sæsonudsving og byomfattende skift går derved ud.", q.baseline_quarters),
                if q.cusum && q.early_warning == "window" {
                    format!("Et kvartal langt over det forventede (ud over {} standardafvigelser, med den eksakte gamma-Poisson-hale) er en alarm. En vedvarende mindre stigning er et tidligt varsel: summen af de seneste 2 til {} kvartaler ligger mere end {} standardafvigelser over det forventede. Usikkerheden regnes med: at kvartaler i samme år ofte ligger højt eller lavt sammen (målt på alle landets afdelinger), og usikkerheden på afdelingens eget niveau fra grundperioden. Stiger sammenlignelige afdelinger samtidig, kaldes det en fælles udvikling.", bomon_vocab::number::trimmed(q.alarm_z, 2, true), q.monitor_quarters, bomon_vocab::number::trimmed(q.window_z, 2, true))
                } else {
                    format!("Et kvartal langt over det forventede (ud over {} standardafvigelser, med den eksakte gamma-Poisson-hale) er en alarm; en vedvarende mindre stigning opdages af en CUSUM og er et tidligt varsel. Stiger sammenlignelige afdelinger samtidig, kaldes det en fælles udvikling.", bomon_vocab::number::trimmed(q.alarm_z, 2, true))
                },
                if q.min_events > 0.0 {
                    format!("Nøgletal med under {} hændelser pr. kvartal i grundperioden vurderes ikke; det står i afdelingens status.", bomon_vocab::number::trimmed(q.min_events, 1, true))
                } else {
                    "Også sjældne hændelser følges: kvartaler og summer af kvartaler vurderes med den eksakte fordeling af antallet, så også én eller to hændelser pr. kvartal kan vurderes. Kun nøgletal uden tal for kvartalet eller med for kort serie vurderes ikke; det står under afdelingen.".into()
                },
            ]
        } else {
            vec![
                format!("The quarterly follow-up follows departments in areas the municipality classes as {}, and departments added by hand.", q.categories.join(", ")),
                format!("Each quarter the department's count is compared with the expected one: the denominator times comparable departments' pooled level in the same quarter times the department's own ratio to them in the baseline ({} quarters). Seasons and city-wide shifts cancel.", q.baseline_quarters),
                if q.cusum && q.early_warning == "window" {
                    format!("A quarter far above the expected (beyond {} standard deviations, by the exact gamma-Poisson tail) is an alarm. A sustained smaller rise is an early warning: the sum of the last 2 to {} quarters lies more than {} standard deviations above the expected. The uncertainty counts: quarters of the same year often run high or low together (measured on all the country's departments), and the department's own level from the baseline is uncertain. When comparable departments rise at the same time it is called a shared development.", q.alarm_z, q.monitor_quarters, q.window_z)
                } else {
                    format!("A quarter far above the expected (beyond {} standard deviations, by the exact gamma-Poisson tail) is an alarm; a sustained smaller rise is caught by a CUSUM and is an early warning. When comparable departments rise at the same time it is called a shared development.", q.alarm_z)
                },
                if q.min_events > 0.0 {
                    format!("Indicators with fewer than {} events a quarter in the baseline are not judged; the department's status says so.", q.min_events)
                } else {
                    "Rare events are followed too: quarters and sums of quarters are judged by the exact distribution of their counts, so one or two events a quarter can be judged. Only indicators without a figure for the quarter or with too short a series are not judged; that is said under the department.".into()
                },
            ]
        };
    }
    let windows = c
        .change_years
        .iter()
        .map(|&w| {
            if w == 1 {
                tr(
                    da,
                    "det seneste år mod året før",
                    "the last year against the one before",
                )
                .to_string()
            } else {
                tr(
                    da,
                    "de seneste to år mod de tre år før",
                    "the last two years against the three before",
                )
                .to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(tr(da, " og ", " and "));
    if da {
        vec![
            format!("Hver afdeling sammenlignes med sine {} mest lignende afdelinger (tvillingerne: ligner på størrelse, beboersammensætning og boligtype), med almene boliger af samme boligtype på landsplan og med kommunens øvrige afdelinger af samme type.", c.peers.k),
            format!("Niveauet i {} testes på {scale} med den spredning, afdelinger normalt har indbyrdes. Udviklingen testes som ændringen {windows}, og tendensen over {} år; en udvikling markeres, når den er mere ugunstig end både tvillingernes og landsplan.", input.review.period, c.slope_years),
            format!("Fordi gennemgangen kører {} test på én gang, holdes den forventede andel falske markeringer under {} % (Benjamini-Hochberg) og under {} % for alarmer.", input.review.tests, pct(c.fdr), pct(c.fdr_alarm)),
            format!("Afdelinger under {} beboere eller {} husstande vurderes ikke statistisk. Antal fra 1 til {} vises som \"<{}\".", c.min_residents, c.min_households, c.max_suppressed_numerator, c.max_suppressed_numerator as i64 + 1),
        ]
    } else {
        vec![
            format!("Each department is compared with its {} most similar departments (its twins: alike in size, resident mix and housing type), with public housing of the same type nationally and with the municipality's other departments of that type.", c.peers.k),
            format!("The level in {} is tested on the {scale} allowing for the usual spread between departments. The development is tested as the change of {windows}, and the trend over {} years; a development is flagged when it is less favourable than both the twins' and the national one.", input.review.period, c.slope_years),
            format!("Because the review runs {} tests at once, the expected share of false flags is kept below {} % (Benjamini-Hochberg), and below {} % for alarms.", input.review.tests, pct(c.fdr), pct(c.fdr_alarm)),
            format!("Departments under {} residents or {} households are not judged statistically. Counts from 1 to {} show as \"<{}\".", c.min_residents, c.min_households, c.max_suppressed_numerator, c.max_suppressed_numerator as i64 + 1),
        ]
    }
}

/// "Offentligt forsørgede 16-64 år (alarm)": the indicators a department is
/// flagged on, each once with its strongest flag - what the department's
/// heading counts, rather than tests.
fn flagged_on(input: &ReportInput<'_>, d: usize) -> Vec<String> {
    let da = input.danish;
    let mut by: BTreeMap<usize, bomon_stats::Severity> = BTreeMap::new();
    for f in input.review.findings.iter().filter(|f| f.dept == d) {
        if let Some(sev) = f.severity {
            let e = by.entry(f.indicator).or_insert(sev);
            *e = (*e).max(sev);
        }
    }
    by.into_iter()
        .map(|(i, sev)| {
            let id = &input.panel.indicators[i];
            let label = input.catalogue.get(id).map_or(id.as_str(), |x| {
                if da {
                    x.label_da.as_str()
                } else {
                    x.label_en.as_str()
                }
            });
            let word = bomon_vocab::glossary::term(if sev == bomon_stats::Severity::Alarm {
                "alarm"
            } else {
                "alert"
            })
            .map_or("", |t| t.name(da))
            .to_lowercase();
            format!("{label} ({word})")
        })
        .collect()
}

/// Every fixed word of the page in the reader's language.
fn words(input: &ReportInput<'_>, disc: &Disclosure) -> serde_json::Value {
    let da = input.danish;
    let quarterly = input.quarterly.is_some();
    json!({
        "synthetic": tr(da, "SYNTETISKE DATA", "SYNTHETIC DATA"),
        "reviewed": tr(da, "Gennemgået", "Reviewed"),
        "period": tr(da, "Periode", "Period"),
        "snapshot": tr(da, "Datagrundlag (snapshot)", "Data (snapshot)"),
        "data_as_of": tr(da, "data pr.", "data as of"),
        "created": tr(da, "Dannet", "Created"),
        "overview": tr(da, "Overblik", "Overview"),
        "departments": tr(da, "Afdelinger", "Departments"),
        "alarms": tr(da, "Alarmer", "Alarms"),
        "alerts": tr(da, "Opmærksomhedspunkter", "Alerts"),
        "flagged_depts": tr(da, "Afdelinger med markeringer", "Departments with flags"),
        "flagged_inds": tr(da, "Markerede nøgletal", "Indicators flagged"),
        "asked_head": tr(da, "Bedes vurderet", "Asked for an assessment"),
        "how_to_read": tr(da, "Sådan læses rapporten", "How to read this report"),
        "method_head": tr(da, "Metode", "Method"),
        "reviewed_count": tr(da, "Afdelinger gennemgået", "Departments reviewed"),
        "asked": tr(da, "Bedes vurderet kvalitativt", "Asked for an assessment"),
        "expected_false": tr(da, "Forventede falske markeringer (test)", "Expected false flags (tests)"),
        "expected_false_note": if quarterly {
            tr(da, "Nominelt tal (alarm og tidligt varsel pr. kurve). Målt på syntetiske data: ca. 0,07 nye falske markeringer pr. afdeling pr. år.", "Nominal figure (alarm and early warning per chart). Measured on synthetic data: about 0.07 new false flags per department-year.")
        } else {
            tr(da, "Tallene afgør aldrig alene: en markering er en anledning til at spørge dem, der kender afdelingen. Andelen af falske markeringer er holdt nede på tværs af hele gennemgangen (Benjamini-Hochberg).", "Figures never decide alone: a flag is a reason to ask those who know the department. The false discovery rate is controlled across the whole review (Benjamini-Hochberg).")
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
        "flagged_on": tr(da, "Markeret på", "Flagged on"),
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
        "page": tr(da, "Side", "Page"),
        "of": tr(da, "af", "of"),
        "engine": tr(da, "Program", "Engine"),
        "config": tr(da, "Konfiguration (SHA-256)", "Configuration (SHA-256)"),
        "catalogue": tr(da, "Nøgletalskatalog (SHA-256)", "Indicator catalogue (SHA-256)"),
        "store": tr(da, "Lager", "Store"),
        "input": tr(da, "Inddata", "Input"),
        "lists_head": tr(da, "De nationale lister og kommunens kategorier", "The national lists and the municipal categories"),
        "lists_intro": tr(da, "Boligområder med afdelinger i gennemgangen, der er på en liste efter almenboligloven § 61 a, er kommet af en, har et kriterium tæt på tærsklen (inden for 10 %) eller er røde, orange eller gule hos kommunen. Samme beregning som bomon categorize.", "Housing areas with departments in the review that are on a list under almenboligloven section 61 a, have left one, have a criterion close to its threshold (within 10 %) or are red, orange or yellow in the municipality's model. The same computation as bomon categorize."),
        "lists_none": tr(da, "Ingen af gennemgangens boligområder er på eller nær en national liste, og ingen er røde, orange eller gule.", "None of the review's housing areas is on or near a national list, and none is red, orange or yellow."),
        "lists_missing": tr(da, "De nationale lister kunne ikke beregnes", "The national lists could not be computed"),
        "area": tr(da, "Boligområde", "Housing area"),
        "on_lists": tr(da, "Lister", "Lists"),
        "warnings": tr(da, "Tidlig advarsel", "Early warning"),
        "municipal": tr(da, "Kommunens kategori", "Municipal category"),
        "ruleset": tr(da, "Regelsæt", "Rule set"),
        "management_head": tr(da, "Ledelsesoverblik", "Management overview"),
        "management_intro": tr(da, "Alle afdelinger med de vigtigste nøgletal for året: tallet, og om afdelingen ligger ugunstigere (✗) eller gunstigere (✓) end sine tvillinger (T) og almene boliger på landsplan (L) - ud over hvad tilfældigheder let forklarer (95 %). Farven gentager tegnene: rød ugunstigere end begge, orange end én, grøn gunstigere. En markering i gennemgangen kræver mere (se Sådan læses rapporten).", "Every department with the main indicators of the year: the figure, and whether the department is less favourable (✗) or more favourable (✓) than its twins (T) and public housing nationally (L) - beyond what chance easily explains (95 %). The colour repeats the marks: red less favourable than both, orange than one, green more favourable. A flag in the review takes more (see How to read this report)."),
        "lists_short": tr(da, "Liste", "List"),
        "not_judged_word": tr(da, "Ikke vurderet", "Not judged"),
        "not_judged_head": tr(da, "Nøgletallene i kvartalet pr. afdeling", "The indicators this quarter, per department"),
        "not_judged_intro": tr(da, "Hvert fulgt nøgletal er vurderet - også sjældne hændelser - mod tvillingerne (det afgørende kort) eller mod afdelingens egen historik. Et nøgletal, der ikke kunne vurderes, følges ikke af tallene: spørg dem, der kender afdelingen, hvis der er grund til bekymring.", "Every indicator followed is judged - rare events too - against the twins (the deciding chart) or against the department's own history. An indicator that could not be judged is not watched by the figures: ask those who know the department if there is reason for concern."),
        "change": tr(da, "Ændret siden sidste år", "Changed since last year"),
        "follow_up": tr(da, "Følges op", "Follow up"),
        "too_small_short": tr(da, "for lille", "too small"),
        "disclosure_note": if da {
            format!("Diskretionering: antal under {} vises som \"{}\", og andele bygget på dem vises ikke; afdelinger under {} beboere eller {} husstande vurderes ikke.", disc.max_suppressed as i64 + 1, disc.mark(), input.config.min_residents, input.config.min_households)
        } else {
            format!("Disclosure control: counts below {} show as \"{}\" and rates built on them are not shown; departments under {} residents or {} households are not judged.", disc.max_suppressed as i64 + 1, disc.mark(), input.config.min_residents, input.config.min_households)
        },
    })
}

/// The page's title, what was reviewed, and the period in words.
fn heading(input: &ReportInput<'_>) -> (String, String, String) {
    let da = input.danish;
    let m = input.manifest;
    let review = input.review;
    let quarterly = input.quarterly.is_some();
    let org = m["organisation"].as_str();
    let period_words = review
        .period
        .parse::<bomon_vocab::Period>()
        .map_or(review.period.clone(), |p| p.words(da));
    let title = if quarterly {
        format!(
            "{} {}{}",
            tr(da, "Kvartalsopfølgning", "Quarterly follow-up"),
            period_words,
            org.map(|o| format!(" - {o}")).unwrap_or_default()
        )
    } else {
        format!(
            "{} {}{}",
            tr(da, "Årlig gennemgang", "Annual review"),
            period_words,
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
    (title, scope, period_words)
}

/// The front page in words: departments (not tests) with flags, indicators
/// flagged, who is asked and why, and the sentence that says it.
fn front(
    input: &ReportInput<'_>,
    with_section: &HashSet<usize>,
) -> (usize, usize, Vec<serde_json::Value>, String) {
    let da = input.danish;
    let panel = input.panel;
    let review = input.review;
    // The front page counts departments and indicators, not tests.
    let flagged_depts = input
        .triage
        .iter()
        .filter(|t| t.alarms + t.alerts > 0)
        .count();
    let flagged_inds: HashSet<(usize, usize)> = review
        .findings
        .iter()
        .filter(|f| f.severity.is_some())
        .map(|f| (f.dept, f.indicator))
        .collect();
    let asked: Vec<_> = input
        .triage
        .iter()
        .filter(|t| t.needs_assessment)
        .map(|t| json!({"id": panel.depts[t.dept].id, "name": panel.depts[t.dept].name, "reason": t.reason, "section": with_section.contains(&t.dept)}))
        .collect();
    let summary = if da {
        format!(
            "{} af {} afdelinger bedes vurderet kvalitativt. {} {} markeringer på i alt {} {}.",
            asked.len(),
            review.scope.len(),
            flagged_depts,
            if flagged_depts == 1 {
                "afdeling har"
            } else {
                "afdelinger har"
            },
            flagged_inds.len(),
            "nøgletal"
        )
    } else {
        format!(
            "{} of {} departments are asked for a qualitative assessment. {} {} flags on {} {} in all.",
            asked.len(),
            review.scope.len(),
            flagged_depts,
            if flagged_depts == 1 { "department has" } else { "departments have" },
            flagged_inds.len(),
            if flagged_inds.len() == 1 { "indicator" } else { "indicators" }
        )
    };
    (flagged_depts, flagged_inds.len(), asked, summary)
}

/// The national lists' table, the departments on or near a list, why the
/// lists are missing (if they are), and the rule set's name.
fn lists_section(
    input: &ReportInput<'_>,
) -> (
    Vec<serde_json::Value>,
    HashSet<usize>,
    Option<String>,
    String,
) {
    let da = input.danish;
    let (lists, on_or_near_list, lists_missing) = match input.lists {
        Some(Ok(c)) => {
            let (rows, near) = lists_rows(input, c);
            (rows, near, None)
        }
        Some(Err(e)) => (vec![], HashSet::new(), Some(e.clone())),
        None => (vec![], HashSet::new(), None),
    };
    let ruleset = match input.lists {
        Some(Ok(c)) => format!(
            "{} ({}){}",
            c.ruleset.name,
            c.ruleset.id,
            if c.model_placeholder {
                tr(
                    da,
                    "; kommunens pointmodel er en PLADSHOLDER-kalibrering",
                    "; the municipal points model is a PLACEHOLDER calibration",
                )
            } else {
                ""
            }
        ),
        _ => String::new(),
    };
    (lists, on_or_near_list, lists_missing, ruleset)
}

/// A followed department's quarterly status in words.
fn status_of(input: &ReportInput<'_>, d: usize) -> Option<&'static str> {
    let q = input.quarterly?;
    let k = q.selection.iter().position(|s| s.dept == d)?;
    Some(status_label(q.status[k], input.danish))
}

/// The triage table's rows (flagged or asked departments, capped) and the
/// sentence about those not listed.
fn triage_rows(
    input: &ReportInput<'_>,
    with_section: &HashSet<usize>,
    on_or_near_list: &HashSet<usize>,
) -> (Vec<serde_json::Value>, String) {
    let da = input.danish;
    let panel = input.panel;
    let status_of = |d: usize| status_of(input, d);
    // Departments with flags or asked for an assessment are listed; those on
    // or near a national list are in the lists' table, and the count says so.
    let listed: Vec<_> = input
        .triage
        .iter()
        .filter(|t| t.alarms + t.alerts > 0 || t.needs_assessment)
        .collect();
    let listed_ids: HashSet<usize> = listed.iter().map(|t| t.dept).collect();
    let near_unlisted = on_or_near_list
        .iter()
        .filter(|d| !listed_ids.contains(d))
        .count();
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
                    "afdelinger uden markeringer er ikke vist",
                    "departments without flags are not shown"
                )
            );
            if near_unlisted > 0 {
                s += &format!(
                    "; {near_unlisted} {}",
                    tr(
                        da,
                        "af dem er på eller nær en national liste og står under De nationale lister nedenfor",
                        "of them are on or near a national list and appear under The national lists below"
                    )
                );
            }
            s += ".";
        }
        s
    };
    (triage, triage_more)
}

/// The indicators of the management page, in this order where present,
/// with short headings (Danish, English) so that the page fits one A4.
const MANAGEMENT_INDICATORS: [(&str, &str, &str); 6] = [
    (
        "outside_labour_18_64",
        "Uden for arbejde og uddannelse",
        "Outside work and education",
    ),
    (
        "public_support",
        "Offentligt forsørgede",
        "On public support",
    ),
    ("income_ratio_15_64", "Indkomst", "Income"),
    ("convicted_18plus", "Dømte", "Convicted"),
    ("move_out_rate", "Fraflytning", "Moving out"),
    ("evictions", "Udsættelser", "Evictions"),
];

/// Rows of the management page at most (an organisation fits; a national
/// review shows its highest-ranked departments and says so).
const MANAGEMENT_ROWS: usize = 60;

/// The management page (annual): every department of the organisation x
/// the main indicators, each cell the department's figure and its position
/// against its twins (T) and public housing nationally (L) in marks
/// (✗ less, ✓ more favourable) - colour is never the only cue - with the category, the lists,
/// what changed since last year and whom to follow up.
fn management(input: &ReportInput<'_>, lists: &[serde_json::Value]) -> Option<serde_json::Value> {
    if input.quarterly.is_some() {
        return None;
    }
    let da = input.danish;
    let (panel, review) = (input.panel, input.review);
    let year = review.year;
    let disc = Disclosure::new(input.config.max_suppressed_numerator);
    let inds: Vec<(usize, &bomon_store::Indicator, &str)> = MANAGEMENT_INDICATORS
        .iter()
        .filter_map(|(id, short_da, short_en)| {
            Some((
                panel.indicator(id)?,
                input.catalogue.get(id)?,
                if da { *short_da } else { *short_en },
            ))
        })
        .collect();
    if inds.is_empty() {
        return None;
    }
    // One-sided position of each level test: + worse, - better (beyond 95 %).
    let mut pos: HashMap<(usize, usize, bomon_engine::review::Comparator), f64> = HashMap::new();
    for f in review
        .findings
        .iter()
        .filter(|f| f.test == bomon_engine::review::Test::Level)
    {
        pos.insert((f.dept, f.indicator, f.comparator), f.z);
    }
    // Lists (short names) and what moved since last year, per department.
    let mut list_of: HashMap<String, (String, String)> = HashMap::new();
    if let Some(Ok(c)) = input.lists {
        let municipal: HashMap<&str, &bomon_rules::run::MunicipalRow> =
            c.municipal.iter().map(|m| (m.area.as_str(), m)).collect();
        for a in &c.areas {
            let mut on = Vec::new();
            let mut moved = Vec::new();
            for (k, l) in a.result.lists.iter().enumerate() {
                let id = c.ruleset.lists[k].id.as_str();
                if l.on_list {
                    on.push(id.to_string());
                }
                match a.movement(k) {
                    "new" => moved.push(format!("{} {id}", tr(da, "ny:", "new:"))),
                    "left" => moved.push(format!("{} {id}", tr(da, "ude:", "left:"))),
                    _ => {}
                }
            }
            if let Some(m) = municipal.get(a.result.area.as_str()) {
                let mv = m.movement();
                if !mv.is_empty() && mv != "stays" {
                    moved.push(
                        mv.split(" -> ")
                            .map(|k| category_label(k, da))
                            .collect::<Vec<_>>()
                            .join(" → "),
                    );
                }
            }
            for d in &a.departments {
                list_of.insert(d.clone(), (on.join(", "), moved.join("; ")));
            }
        }
    }
    let _ = lists;
    let small: HashSet<usize> = review.too_small_departments.iter().copied().collect();
    let mut rows = Vec::new();
    for t in input.triage.iter().take(MANAGEMENT_ROWS) {
        let d = t.dept;
        let dept = &panel.depts[d];
        let cells: Vec<serde_json::Value> = inds
            .iter()
            .map(|&(i, ind, _)| {
                let (n, dn) = panel.get(i, d, year);
                if small.contains(&d) || !n.is_finite() {
                    return json!({"text": "", "marks": "", "class": ""});
                }
                let (f, _) = bomon_vocab::unit::scale(ind.kind, da);
                let text = if disc.hides(n) {
                    disc.mark()
                } else if dn > 0.0 {
                    bomon_vocab::number::fixed(n / dn * f, 0, da)
                } else {
                    String::new()
                };
                let mark = |c: bomon_engine::review::Comparator, letter: &str| -> (String, i32) {
                    match pos.get(&(d, i, c)) {
                        Some(z) if *z > bomon_stats::funnel::Z95 => (format!("{letter}✗"), 1),
                        Some(z) if *z < -bomon_stats::funnel::Z95 => (format!("{letter}✓"), -1),
                        _ => (String::new(), 0),
                    }
                };
                let (mt, st) = mark(bomon_engine::review::Comparator::Peers, "T");
                let (ml, sl) = mark(bomon_engine::review::Comparator::National, "L");
                let class = match st + sl {
                    2 => "worse2",
                    1 if st >= 0 && sl >= 0 => "worse1",
                    -2 => "better2",
                    -1 if st <= 0 && sl <= 0 => "better1",
                    _ => "",
                };
                json!({"text": text, "marks": format!("{mt} {ml}").trim().to_string(), "class": class})
            })
            .collect();
        let (on, change) = list_of.get(&dept.id).cloned().unwrap_or_default();
        rows.push(json!({
            "id": dept.id, "name": dept.name,
            "category": t.category, "category_label": t.category.as_deref().map(|c| category_label(c, da)),
            "lists": on, "change": change, "cells": cells,
            "follow_up": t.needs_assessment, "small": small.contains(&d),
        }));
    }
    let capped = (input.triage.len() > MANAGEMENT_ROWS).then(|| {
        format!(
            "{} {} {}",
            tr(da, "De", "The"),
            MANAGEMENT_ROWS,
            tr(
                da,
                "højest prioriterede afdelinger er vist; alle står i departments.csv og review.xlsx.",
                "highest-ranked departments are shown; all are in departments.csv and review.xlsx."
            )
        )
    });
    Some(json!({
        "columns": inds.iter().map(|(_, ind, short)| {
            let (_, unit) = bomon_vocab::unit::scale(ind.kind, da);
            json!({"label": short, "unit": unit, "title": if da { &ind.label_da } else { &ind.label_en }})
        }).collect::<Vec<_>>(),
        "rows": rows,
        "capped": capped,
        "year": year,
    }))
}

/// The department's nearest twins with their figure of its most strongly
/// flagged indicator: "Søndervangen 25,1 %, Lindegården 18,6 %, ..." (the
/// ten nearest; all of them in peers.csv).
fn twins_line(input: &ReportInput<'_>, d: usize) -> Option<String> {
    let (panel, review, da) = (input.panel, input.review, input.danish);
    let k = review.scope.iter().position(|&x| x == d)?;
    let f = review
        .findings
        .iter()
        .filter(|f| f.dept == d && f.severity.is_some())
        .max_by(|a, b| a.z.total_cmp(&b.z))?;
    let i = f.indicator;
    let ind = input.catalogue.get(&panel.indicators[i])?;
    let disc = Disclosure::new(input.config.max_suppressed_numerator);
    let year = review.year;
    let shown: Vec<String> = review.peers[k]
        .iter()
        .take(10)
        .map(|p| {
            let (n, dn) = panel.get(i, p.0, year);
            let v = if !n.is_finite() || dn.is_nan() || dn <= 0.0 {
                "-".to_string()
            } else if disc.hides(n) {
                disc.mark()
            } else {
                bomon_vocab::unit::rate(n / dn, ind.kind, da)
            };
            format!("{} {v}", panel.depts[p.0].name)
        })
        .collect();
    Some(format!(
        "{} ({} {year}; {}): {}.",
        tr(da, "Tvillinger", "Twins"),
        if da { &ind.label_da } else { &ind.label_en },
        tr(
            da,
            "de 10 nærmeste, alle i peers.csv",
            "the 10 nearest, all in peers.csv"
        ),
        shown.join(", ")
    ))
}

/// Each followed department's indicators in the quarter: one sentence for
/// the departments whose every indicator was judged against the twins,
/// and per other department which chart judged each indicator or why it was
/// not judged ("Tomgang (intet tal for kvartalet)") - said on the page, not
/// only in selection.csv. Returns the sentence and the other departments.
fn not_judged(input: &ReportInput<'_>) -> (String, Vec<serde_json::Value>) {
    use bomon_engine::quarterly::{JudgedBy, NotJudged};
    let Some(q) = input.quarterly else {
        return (String::new(), vec![]);
    };
    let da = input.danish;
    let panel = input.panel;
    let label = |i: usize| {
        let id = &panel.indicators[i];
        input.catalogue.get(id).map_or(id.clone(), |x| {
            if da {
                x.label_da.clone()
            } else {
                x.label_en.clone()
            }
        })
    };
    let min_events = bomon_vocab::number::trimmed(input.config.quarterly.min_events, 1, da);
    let mut by: BTreeMap<usize, (Vec<String>, Vec<String>, Vec<String>)> = q
        .selection
        .iter()
        .map(|s| (s.dept, Default::default()))
        .collect();
    for &(d, i, j) in &q.judged {
        let e = by.entry(d).or_default();
        match j {
            JudgedBy::Deciding => e.0.push(label(i)),
            JudgedBy::OwnHistory => e.1.push(label(i)),
        }
    }
    for &(d, i, why, nb) in &q.not_judged {
        let reason = match why {
            NotJudged::TooRare => format!(
                "{} {min_events} {}",
                tr(da, "for sjælden: under", "too rare: under"),
                tr(da, "hændelser pr. kvartal", "events a quarter")
            ),
            NotJudged::TooShort => format!(
                "{} ({nb} {})",
                tr(da, "for kort serie", "series too short"),
                tr(da, "kvartaler i grundperioden", "baseline quarters")
            ),
            NotJudged::Missing => {
                tr(da, "intet tal for kvartalet", "no figure for the quarter").to_string()
            }
            NotJudged::Rebased => format!(
                "{} ({nb} {})",
                tr(
                    da,
                    "ny grundperiode efter omlægning er for kort",
                    "the new baseline after a rebase is too short"
                ),
                tr(da, "kvartaler", "quarters")
            ),
        };
        by.entry(d)
            .or_default()
            .2
            .push(format!("{} ({reason})", label(i)));
    }
    let most = by.values().map(|x| x.0.len()).max().unwrap_or(0);
    let whole = |x: &(Vec<String>, Vec<String>, Vec<String>)| {
        x.0.len() == most && x.1.is_empty() && x.2.is_empty()
    };
    let all = by.values().filter(|x| whole(x)).count();
    let summary = if all == 0 {
        String::new()
    } else {
        let names = by
            .values()
            .find(|x| whole(x))
            .map_or(String::new(), |x| x.0.join(", "));
        if da {
            format!(
                "{all} af {} afdelinger: alle {most} nøgletal vurderet mod tvillingerne ({names}).",
                by.len()
            )
        } else {
            format!("{all} of {} departments: all {most} indicators judged against the twins ({names}).", by.len())
        }
    };
    let rows = by
        .into_iter()
        .filter(|(_, x)| !whole(x))
        .map(|(d, (dec, own, nj))| {
            let mut parts = Vec::new();
            if !dec.is_empty() {
                parts.push(format!(
                    "{}: {}",
                    tr(da, "vurderet mod tvillingerne", "judged against the twins"),
                    dec.join(", ")
                ));
            }
            if !own.is_empty() {
                parts.push(format!(
                    "{}: {}",
                    tr(da, "vurderet mod egen historik", "judged against its own history"),
                    own.join(", ")
                ));
            }
            json!({"name": panel.depts[d].name, "id": panel.depts[d].id, "what": parts.join(". "), "missing": nj.join("; ")})
        })
        .collect();
    (summary, rows)
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
    let status_of = |d: usize| status_of(input, d);
    let (title, scope, period_words) = heading(input);
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
    // Per status, how many and which departments (a count alone does not
    // say who stopped signalling).
    let status: Vec<_> = match input.quarterly {
        Some(q) => Status::ALL
            .iter()
            .map(|s| {
                let who: Vec<String> = q
                    .selection
                    .iter()
                    .zip(&q.status)
                    .filter(|(_, x)| *x == s)
                    .map(|(sel, _)| panel.depts[sel.dept].name.clone())
                    .collect();
                let names = if *s == Status::None || who.len() > 12 {
                    String::new()
                } else {
                    who.join(", ")
                };
                json!({"label": status_label(*s, da), "n": who.len(), "names": names})
            })
            .collect(),
        None => vec![],
    };
    let with_section: HashSet<usize> = sections.iter().map(|s| s.0).collect();
    let (lists, on_or_near_list, lists_missing, ruleset) = lists_section(input);
    let (triage, triage_more) = triage_rows(input, &with_section, &on_or_near_list);
    let management = management(input, &lists);
    let (flagged_depts, flagged_inds, asked, summary) = front(input, &with_section);
    let glossary: Vec<_> = bomon_vocab::glossary::TERMS
        .iter()
        // The words of this kind of report: a quarterly one has no levels,
        // developments or trends of the annual kind, an annual one no seasons.
        .filter(|g| {
            if quarterly {
                !["level", "development", "trend", "overdispersion"].contains(&g.key)
            } else {
                g.key != "seasonal"
            }
        })
        .map(|g| json!({"name": g.name(da), "explain": g.explain(da)}))
        .collect();
    let method = method(input);
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
                "flagged_on": flagged_on(input, *d),
                "twins": twins_line(input, *d),
                "needs_assessment": t.needs_assessment,
                "assessments": input.assessments.get(d).map(|v| v.iter().rev().map(|a| json!({"assessed_on": a.assessed_on, "period": a.period, "role": a.role.parse::<bomon_vocab::form::Role>().map_or(a.role.clone(), |r| r.label(da).to_string()), "outcome": a.outcome.parse::<bomon_vocab::form::Outcome>().map_or(a.outcome.clone(), |o| o.label(da).to_string()), "note": a.note})).collect::<Vec<_>>()),
                "history": input.category_history.get(d).map(|h| h.iter().map(|(p, c)| json!({"period": p, "key": c, "label": category_label(c, da)})).collect::<Vec<_>>()),
                // The category history is the line above the prompt; its chart is for slides (charts/).
                "charts": charts.iter().filter(|(cf, _)| !cf.name.ends_with("-categories")).map(|(cf, svg)| json!({"name": cf.name, "title": cf.chart.title, "svg": strip_xml_declaration(svg)})).collect::<Vec<_>>(),
            }))
        })
        .collect();
    let t = words(input, disc);
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
    let judged = not_judged(input);
    let tpl = env.get_template("report.html").map_err(|e| e.to_string())?;
    tpl.render(context! {
        lang => if da { "da" } else { "en" },
        internal => if da { INTERNAL_DA } else { INTERNAL_EN },
        synthetic, title, scope,
        period => period_words,
        snapshot => sv(&m["snapshot"]),
        snapshot_created => bomon_vocab::date::words(m["snapshot_created"].as_str().unwrap_or(""), da),
        created => bomon_vocab::date::words(m["created"].as_str().unwrap_or(""), da),
        summary, asked => sv(&asked), glossary => sv(&glossary), method => sv(&method),
        flagged_depts, n_flagged_inds => flagged_inds,
        n_departments => review.scope.len(),
        alarms => sv(&m["alarms"]), alerts => sv(&m["alerts"]), needs_assessment => sv(&m["needs_assessment"]),
        expected_false_alarms => fmt_num(m["expected_false_alarms"].as_f64().unwrap_or(f64::NAN), 1, da),
        log_done => input.log_counts.0, log_open => input.log_counts.1, log_overdue => input.log_counts.2,
        by_category => sv(&by_category), status => sv(&status), triage => sv(&triage), triage_more, too_small,
        lists => sv(&lists), lists_missing, ruleset, management => sv(&management),
        not_judged => sv(&judged.1),
        judged_summary => judged.0,
        sections => sec,
        engine_version => sv(&m["engine_version"]),
        config_sha256 => sv(&m["config_sha256"]), catalogue_sha256 => sv(&m["catalogue_sha256"]),
        store => sv(&m["store"]), inputs => sv(&m["inputs"]),
        t => Value::from(minijinja::value::Serde(&t)),
    })
    .map_err(|e| format!("rendering report.html: {e}"))
}
