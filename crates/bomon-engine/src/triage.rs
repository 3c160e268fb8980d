//! Triage: a score and rank per department from the severity, breadth and
//! persistence of its flags and its municipal category, and for every
//! department above the threshold a qualitative-assessment prompt in plain
//! words - what the figures show, whom to ask, which questions.

use std::collections::BTreeSet;

use bomon_stats::Severity;
use bomon_store::{Catalogue, Kind};
use bomon_vocab::form::Role;

use crate::config::ReviewConfig;
use crate::data::Panel;
use crate::review::{Comparator, Finding, Review, Test};

/// A department's triage result.
#[derive(Debug, Clone)]
pub struct Triage {
    /// Panel index.
    pub dept: usize,
    /// Score (higher = more urgent).
    pub score: f64,
    /// Rank, 1 = most urgent.
    pub rank: usize,
    /// Alarms.
    pub alarms: usize,
    /// Alerts.
    pub alerts: usize,
    /// Distinct indicators flagged.
    pub indicators_flagged: usize,
    /// Indicators flagged against peers this year and last year.
    pub persistent: usize,
    /// Municipal category in force.
    pub category: Option<String>,
    /// Too small to judge.
    pub too_small: bool,
    /// Whether a qualitative assessment is asked for.
    pub needs_assessment: bool,
    /// One-line reason.
    pub reason: String,
    /// Findings in plain words.
    pub findings: Vec<String>,
    /// Whom to ask.
    pub roles: Vec<String>,
    /// Suggested questions.
    pub questions: Vec<String>,
    /// The latest qualitative assessment, in words (outcome, date, role, period).
    pub assessment: Option<String>,
}

/// Formats a number the Danish way (decimal comma) or the English way.
pub fn fmt_num(v: f64, decimals: usize, da: bool) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    bomon_vocab::number::fixed(v, decimals, da)
}

/// A rate as people read it: per cent for shares and ratios, per 1,000 for rates.
pub fn fmt_rate(v: f64, kind: Kind, da: bool) -> String {
    bomon_vocab::unit::rate(v, kind, da)
}

fn theme(id: &str) -> usize {
    match id {
        "outside_labour_18_64"
        | "public_support"
        | "income_ratio_15_64"
        | "basic_education_30_59" => 0,
        "convicted_18plus" | "youth_charged" | "vandalism_burglary" => 1,
        "single_provider_children"
        | "child_notifications"
        | "youth_no_education_24"
        | "children_0_17" => 2,
        _ => 3,
    }
}

/// Whom to ask, per theme (work and income; safety; children and young
/// people; the estate and lettings).
const ASK: [&[Role]; 4] = [
    &[Role::SocialStaff, Role::Board],
    &[Role::Caretaker, Role::Board, Role::SocialStaff],
    &[Role::SocialStaff, Role::Board, Role::Volunteers],
    &[Role::Inspector, Role::Caretaker, Role::Letting],
];
const QUESTIONS_DA: [&[&str]; 4] = [
    &[
        "Oplever I, at flere beboere står uden for arbejde eller uddannelse end tidligere?",
        "Er der nye beboergrupper, der har brug for hjælp til job, økonomi eller uddannelse?",
    ],
    &[
        "Oplever beboerne mere utryghed, hærværk eller kriminalitet i området?",
        "Er der steder eller tidspunkter, hvor problemerne samler sig?",
    ],
    &[
        "Hvordan trives børn og unge i afdelingen, og bruger de fritidstilbuddene?",
        "Er der familier, som I er bekymrede for?",
    ],
    &[
        "Hvorfor flytter beboerne - og hvem flytter ind?",
        "Hænger restancer, klager eller tomgang sammen med bestemte opgange eller boligtyper?",
    ],
];
const QUESTIONS_EN: [&[&str]; 4] = [
    &[
        "Do you see more residents outside work or education than before?",
        "Are there new groups of residents who need help with work, money or education?",
    ],
    &[
        "Do residents feel less safe, or see more vandalism or crime?",
        "Do the problems gather at particular places or times?",
    ],
    &[
        "How are children and young people doing, and do they use the leisure activities?",
        "Are there families you are worried about?",
    ],
    &[
        "Why do residents move out - and who moves in?",
        "Do arrears, complaints or vacancies cluster in particular blocks or dwelling types?",
    ],
];

fn sentence(
    f: &Finding,
    panel: &Panel,
    review: &Review,
    catalogue: &Catalogue,
    da: bool,
    max_suppressed: f64,
) -> String {
    let id = &panel.indicators[f.indicator];
    let ind = catalogue
        .get(id)
        .expect("reviewed indicators are in the catalogue");
    let label = if da { &ind.label_da } else { &ind.label_en };
    let kind = ind.kind;
    let cmp = match (f.comparator, da) {
        (Comparator::Peers, true) => "sammenlignelige afdelinger",
        (Comparator::Peers, false) => "comparable departments",
        (Comparator::National, true) => "almene boliger på landsplan",
        (Comparator::National, false) => "public housing nationally",
        (_, true) => "kommunens øvrige afdelinger af samme type",
        (_, false) => "the municipality's other departments of the same type",
    };
    let y = review.year;
    let value = f.numerator / f.denominator;
    // Confidentiality: a rate whose numerator is 1 to max_suppressed (4) persons is not printed.
    let disc = bomon_vocab::Disclosure::new(max_suppressed);
    let hidden = |n: f64| disc.hides(n);
    let limit = max_suppressed as i64 + 1;
    let suppressed = if da {
        format!("under {limit} personer (undertrykt)")
    } else {
        format!("under {limit} persons (suppressed)")
    };
    let fmt_rate = |v: f64, kind: Kind, da: bool, n: f64| {
        if hidden(n) {
            suppressed.clone()
        } else {
            fmt_rate(v, kind, da)
        }
    };
    let (now_n, prev_n, no_n) = (f.numerator, f.previous_numerator, f64::NAN);
    // A change built on a suppressed count can reveal it: not printed either.
    let change = |v: f64| {
        if hidden(now_n) || hidden(prev_n) {
            if da {
                "undertrykt".to_string()
            } else {
                "suppressed".to_string()
            }
        } else {
            pct_change(v, da)
        }
    };
    // "3. kvt. 2025" in the reader's words, as everywhere else.
    let per = review
        .period
        .parse::<bomon_vocab::Period>()
        .map_or_else(|_| review.period.clone(), |p| p.words(da));
    match (f.test, f.comparator, da) {
        (Test::Spc, Comparator::Peers, true) => return format!(
            "{label}: {} i {per} mod normalt {} i afdelingen; sammenlignelige afdelinger lå på {} - udviklingen er afdelingens egen ({}).",
            fmt_rate(value, kind, da, now_n),
            fmt_rate(f.previous, kind, da, no_n),
            fmt_rate(f.reference_previous, kind, da, no_n),
            rule_da(f.rule)
        ),
        (Test::Spc, Comparator::Peers, false) => return format!(
            "{label}: {} in {per} against a usual {} in the department; comparable departments were at {} - the change is the department's own ({}).",
            fmt_rate(value, kind, da, now_n),
            fmt_rate(f.previous, kind, da, no_n),
            fmt_rate(f.reference_previous, kind, da, no_n),
            f.rule.unwrap_or("").replace('_', " ")
        ),
        (Test::EarlyWarning, _, true) => return format!(
            "{label} har i flere kvartaler ligget over det forventede ud fra sammenlignelige afdelinger (nu {} mod forventet {}) - tidligt varsel.",
            fmt_rate(value, kind, da, now_n),
            fmt_rate(f.reference, kind, da, no_n)
        ),
        (Test::EarlyWarning, _, false) => return format!(
            "{label} has been above what comparable departments lead one to expect for several quarters (now {} against {} expected) - early warning.",
            fmt_rate(value, kind, da, now_n),
            fmt_rate(f.reference, kind, da, no_n)
        ),
        (Test::Spc, _, true) => return format!(
            "{label}: {} i {per} mod normalt {}, men sammenlignelige afdelinger bevægede sig på samme måde (nu {}) - en fælles udvikling, ikke afdelingens egen.",
            fmt_rate(value, kind, da, now_n),
            fmt_rate(f.previous, kind, da, no_n),
            fmt_rate(f.reference_previous, kind, da, no_n)
        ),
        (Test::Spc, _, false) => return format!(
            "{label}: {} in {per} against a usual {}, but comparable departments moved the same way (now {}) - a shared development, not the department's own.",
            fmt_rate(value, kind, da, now_n),
            fmt_rate(f.previous, kind, da, no_n),
            fmt_rate(f.reference_previous, kind, da, no_n)
        ),
        _ => {}
    }
    match (f.test, da) {
        (Test::Level, true) => format!("{label}: {} i {y} mod {} hos {cmp}.", fmt_rate(value, kind, da, now_n), fmt_rate(f.reference, kind, da, no_n)),
        (Test::Level, false) => format!("{label}: {} in {y} against {} for {cmp}.", fmt_rate(value, kind, da, now_n), fmt_rate(f.reference, kind, da, no_n)),
        (Test::Development, true) if f.rule == Some("two_years") => format!(
            "{label} lå på {} i {}-{y} mod {} i {}-{}, en mere ugunstig udvikling end hos {cmp} (relativ ændring {} mod {}).",
            fmt_rate(value, kind, da, now_n),
            y - 1,
            fmt_rate(f.previous, kind, da, prev_n),
            y - 4,
            y - 2,
            change(f.value),
            pct_change(f.reference, da)
        ),
        (Test::Development, false) if f.rule == Some("two_years") => format!(
            "{label} was {} in {}-{y} against {} in {}-{}, a less favourable development than for {cmp} (relative change {} against {}).",
            fmt_rate(value, kind, da, now_n),
            y - 1,
            fmt_rate(f.previous, kind, da, prev_n),
            y - 4,
            y - 2,
            change(f.value),
            pct_change(f.reference, da)
        ),
        (Test::Development, true) => format!(
            "{label} ændrede sig fra {} til {} fra {} til {y}, mere ugunstigt end hos {cmp} (relativ ændring {} mod {}).",
            fmt_rate(f.previous, kind, da, prev_n),
            fmt_rate(value, kind, da, now_n),
            y - 1,
            change(f.value),
            pct_change(f.reference, da)
        ),
        (Test::Development, false) => format!(
            "{label} went from {} to {} between {} and {y}, a less favourable change than for {cmp} (relative change {} against {}).",
            fmt_rate(f.previous, kind, da, prev_n),
            fmt_rate(value, kind, da, now_n),
            y - 1,
            change(f.value),
            pct_change(f.reference, da)
        ),
        (_, true) => format!("{label} har over flere år udviklet sig mere ugunstigt end hos {cmp} (nu {}).", fmt_rate(value, kind, da, now_n)),
        (_, false) => format!("{label} has developed less favourably than for {cmp} over several years (now {}).", fmt_rate(value, kind, da, now_n)),
    }
}

fn rule_da(rule: Option<&str>) -> &'static str {
    match rule {
        Some("outside_limits") => "uden for kontrolgrænsen",
        Some("longest_run") | Some("shift") => "for mange kvartaler i træk over det normale",
        Some("trend") => "stigende kvartal efter kvartal",
        Some("two_of_three") => "to af tre kvartaler tæt på kontrolgrænsen",
        _ => "særlig variation",
    }
}

fn pct_change(log_ratio: f64, da: bool) -> String {
    let p = (log_ratio.exp() - 1.0) * 100.0;
    format!("{}{} %", if p >= 0.0 { "+" } else { "" }, fmt_num(p, 0, da))
}

/// The municipal category's weight in the score (red 3, orange 2, yellow 1).
fn category_weight(category: Option<&str>) -> f64 {
    match category {
        Some("red") => 3.0,
        Some("orange") => 2.0,
        Some("yellow") => 1.0,
        _ => 0.0,
    }
}

/// Scores, ranks and prompts every department in scope.
pub fn triage(
    review: &Review,
    panel: &Panel,
    catalogue: &Catalogue,
    cfg: &ReviewConfig,
    da: bool,
) -> Vec<Triage> {
    let mut by_dept: std::collections::HashMap<usize, Vec<&Finding>> =
        std::collections::HashMap::new();
    for f in review.findings.iter().filter(|f| f.severity.is_some()) {
        by_dept.entry(f.dept).or_default().push(f);
    }
    let small: std::collections::HashSet<usize> =
        review.too_small_departments.iter().copied().collect();
    let mut out: Vec<Triage> = review
        .scope
        .iter()
        .map(|&d| {
            let flags: Vec<&Finding> = by_dept.get(&d).cloned().unwrap_or_default();
            let alarms = flags
                .iter()
                .filter(|f| f.severity == Some(Severity::Alarm))
                .count();
            let alerts = flags.len() - alarms;
            let inds: BTreeSet<usize> = flags.iter().map(|f| f.indicator).collect();
            let persistent = flags
                .iter()
                .filter(|f| {
                    ((f.test == Test::Level && f.comparator == Comparator::Peers)
                        || f.attribution == Some("own"))
                        && review
                            .flagged_last_year
                            .get(&(d, f.indicator))
                            .copied()
                            .unwrap_or(false)
                })
                .count();
            let category = panel.category[d].clone();
            let cat_bonus = category_weight(category.as_deref());
            // Per indicator and test, the strongest flag counts once (three
            // comparators agreeing are one finding, not three).
            let mut strongest_by: std::collections::BTreeMap<(usize, Test), f64> =
                std::collections::BTreeMap::new();
            for f in &flags {
                let base = if f.attribution == Some("shared") {
                    0.5
                } else if f.severity == Some(Severity::Alarm) {
                    3.0
                } else {
                    1.0
                };
                let persist = (f.test == Test::Level || f.attribution == Some("own"))
                    && review
                        .flagged_last_year
                        .get(&(d, f.indicator))
                        .copied()
                        .unwrap_or(false);
                let w = base * if persist { 1.5 } else { 1.0 };
                let e = strongest_by.entry((f.indicator, f.test)).or_insert(0.0);
                *e = e.max(w);
            }
            let mut score: f64 = 0.0 + strongest_by.values().sum::<f64>();
            if !inds.is_empty() {
                score += (inds.len() - 1) as f64 + cat_bonus;
            }
            let too_small = small.contains(&d);
            // Strongest findings first, one per indicator and test.
            let mut strongest: Vec<&Finding> = flags.clone();
            strongest.sort_by(|a, b| b.z.total_cmp(&a.z));
            let mut seen = BTreeSet::new();
            let findings: Vec<String> = strongest
                .iter()
                .filter(|f| seen.insert((f.indicator, f.test)))
                .take(5)
                .map(|f| {
                    sentence(
                        f,
                        panel,
                        review,
                        catalogue,
                        da,
                        cfg.max_suppressed_numerator,
                    )
                })
                .collect();
            let themes: BTreeSet<usize> =
                inds.iter().map(|&i| theme(&panel.indicators[i])).collect();
            let mut roles: Vec<String> = Vec::new();
            let mut questions: Vec<String> = Vec::new();
            for t in &themes {
                for r in ASK[*t] {
                    if !roles.iter().any(|x| x == r.label(da)) {
                        roles.push(r.label(da).to_string());
                    }
                }
                questions.extend(
                    (if da { QUESTIONS_DA } else { QUESTIONS_EN })[*t]
                        .iter()
                        .map(|q| q.to_string()),
                );
            }
            let reason = if too_small {
                if da {
                    "For lille til at vurdere statistisk".into()
                } else {
                    "Too small to judge statistically".into()
                }
            } else if flags.is_empty() {
                String::new()
            } else {
                findings.first().cloned().unwrap_or_default()
            };
            Triage {
                dept: d,
                score,
                rank: 0,
                alarms,
                alerts,
                indicators_flagged: inds.len(),
                persistent,
                category,
                too_small,
                needs_assessment: !too_small && score >= cfg.triage_threshold,
                reason,
                findings,
                roles,
                questions,
                assessment: None,
            }
        })
        .collect();
    // Equal scores (above all the many departments without flags): the
    // municipality's red before orange, yellow and the rest, then by id.
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| {
                category_weight(b.category.as_deref())
                    .total_cmp(&category_weight(a.category.as_deref()))
            })
            .then_with(|| panel.depts[a.dept].id.cmp(&panel.depts[b.dept].id))
    });
    for (k, t) in out.iter_mut().enumerate() {
        t.rank = k + 1;
    }
    out
}
