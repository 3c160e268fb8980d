//! Evaluating a rule set on housing areas: pooled counts per area, averages
//! over years, comparators exactly as the law words them, lists that require
//! or exclude other lists, and history lists (omdannelse).

use std::collections::HashMap;

use crate::ruleset::{Comparator, Criterion, RuleSet, ValueKind};

/// Pooled counts of one area (or of all departments: the national figure).
#[derive(Debug, Clone, Default)]
pub struct AreaData {
    /// Area id.
    pub id: String,
    /// Residents in the period.
    pub residents: f64,
    /// (indicator, year) -> (sum of numerators, sum of denominators).
    pub counts: HashMap<(String, i32), (f64, f64)>,
    /// (indicator, year) -> the area's published figure (a fraction), from
    /// area observations: it wins over figures aggregated from departments
    /// and is the criterion's value as published (the ministry's figure is
    /// already the average over the years the rule asks for).
    pub published: HashMap<(String, i32), f64>,
}

impl AreaData {
    /// The share of `indicator` in `year` from pooled counts.
    pub fn share(&self, indicator: &str, year: i32) -> Option<f64> {
        self.counts
            .get(&(indicator.to_string(), year))
            .and_then(|&(n, d)| (d > 0.0 && n.is_finite()).then(|| n / d))
    }

    /// Mean of the yearly shares over `years` years ending with `year`; None
    /// if any year is missing.
    pub fn mean_share(&self, indicator: &str, year: i32, years: u32) -> Option<f64> {
        let v: Option<Vec<f64>> = (0..years as i32)
            .map(|k| self.share(indicator, year - k))
            .collect();
        v.map(|v| v.iter().sum::<f64>() / v.len() as f64)
    }
}

/// One criterion's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionResult {
    /// List id.
    pub list: String,
    /// Criterion id.
    pub criterion: String,
    /// Indicator.
    pub indicator: String,
    /// The value compared (None when data are missing).
    pub value: Option<f64>,
    /// Comparator.
    pub comparator: Comparator,
    /// Threshold.
    pub threshold: f64,
    /// Met.
    pub met: bool,
    /// Required gate rather than counted.
    pub required: bool,
    /// Distance to the threshold on the criterion's scale, positive on the
    /// side that meets it: value - threshold for > and >=, threshold - value for < and <=.
    pub margin: Option<f64>,
    /// The value is the area's published figure (not aggregated from departments).
    pub published: bool,
}

/// One list's outcome for an area.
#[derive(Debug, Clone, PartialEq)]
pub struct ListResult {
    /// List id.
    pub list: String,
    /// On the list.
    pub on_list: bool,
    /// Counted criteria met.
    pub met: u32,
    /// Counted criteria in total.
    pub of: u32,
}

/// An area's outcome under a rule set.
#[derive(Debug, Clone)]
pub struct AreaResult {
    /// Area id.
    pub area: String,
    /// Residents.
    pub residents: f64,
    /// At least the rule set's minimum residents.
    pub eligible: bool,
    /// Per criterion.
    pub criteria: Vec<CriterionResult>,
    /// Per list.
    pub lists: Vec<ListResult>,
}

impl AreaResult {
    /// Whether the area is on `list`.
    pub fn on(&self, list: &str) -> bool {
        self.lists.iter().any(|l| l.list == list && l.on_list)
    }
}

fn value_of(c: &Criterion, area: &AreaData, national: &AreaData, year: i32) -> Option<f64> {
    let own = match area.published.get(&(c.indicator.clone(), year)) {
        Some(v) => *v,
        None => area.mean_share(&c.indicator, year, c.years)?,
    };
    match c.value {
        ValueKind::Share => Some(own),
        ValueKind::RelativeToNational => {
            let nat = match c.national_value {
                Some(v) => v,
                None => national.mean_share(&c.indicator, year, c.years)?,
            };
            (nat > 0.0).then(|| own / nat)
        }
    }
}

/// Evaluates `rs` for `year`. `was_on(area, year, list)` answers history
/// questions about earlier lists (for omdannelse).
pub fn evaluate(
    rs: &RuleSet,
    areas: &[AreaData],
    national: &AreaData,
    year: i32,
    was_on: &dyn Fn(&str, i32, &str) -> bool,
) -> Vec<AreaResult> {
    areas
        .iter()
        .map(|a| {
            let eligible = a.residents >= rs.min_residents;
            let mut criteria = Vec::new();
            let mut lists: Vec<ListResult> = Vec::new();
            for l in &rs.lists {
                let mut met = 0;
                let mut gates = true;
                let counted = l.criteria.iter().filter(|c| !c.required).count() as u32;
                for c in &l.criteria {
                    let v = value_of(c, a, national, year);
                    let ok = v.is_some_and(|v| c.comparator.holds(v, c.threshold));
                    if c.required {
                        gates &= ok;
                    } else if ok {
                        met += 1;
                    }
                    let margin = v.map(|v| match c.comparator {
                        Comparator::Gt | Comparator::Ge => v - c.threshold,
                        Comparator::Lt | Comparator::Le => c.threshold - v,
                    });
                    criteria.push(CriterionResult {
                        list: l.id.clone(),
                        criterion: c.id.clone(),
                        indicator: c.indicator.clone(),
                        value: v,
                        comparator: c.comparator,
                        threshold: c.threshold,
                        met: ok,
                        required: c.required,
                        margin,
                        published: a.published.contains_key(&(c.indicator.clone(), year)),
                    });
                }
                let on_prior = |id: &str| lists.iter().any(|x| x.list == id && x.on_list);
                let mut on = eligible && gates && met >= l.at_least;
                on &= l.requires.iter().all(|r| on_prior(r));
                on &= !l.excludes.iter().any(|r| on_prior(r));
                if let Some(h) = &l.history_of {
                    // On the history list now and in the preceding lists, without a gap.
                    on = eligible
                        && on_prior(h)
                        && (1..l.consecutive as i32).all(|k| was_on(&a.id, year - k, h));
                }
                lists.push(ListResult {
                    list: l.id.clone(),
                    on_list: on,
                    met,
                    of: counted,
                });
            }
            AreaResult {
                area: a.id.clone(),
                residents: a.residents,
                eligible,
                criteria,
                lists,
            }
        })
        .collect()
}
