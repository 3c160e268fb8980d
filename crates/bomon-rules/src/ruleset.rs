//! Rule sets as data: TOML files in `datasets/rules/`, each with a validity
//! period and its lists and criteria, validated once with errors that name
//! the key.

use serde::Deserialize;

/// A comparator exactly as the law words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Comparator {
    /// "exceeds".
    #[serde(rename = ">")]
    Gt,
    /// "at least".
    #[serde(rename = ">=")]
    Ge,
    /// "less than".
    #[serde(rename = "<")]
    Lt,
    /// "at most".
    #[serde(rename = "<=")]
    Le,
}

impl Comparator {
    /// Whether `value` meets `threshold`.
    ///
    /// A value within a relative 1e-9 of the threshold counts as equal to
    /// it: a published 2.7 % is 2.7 / 100 = 0.027000000000000003 in binary
    /// floating point, and must not pass "> 2.7 %" by that last bit.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        let equal = (value - threshold).abs() <= 1e-9 * threshold.abs().max(1e-12);
        match self {
            Comparator::Gt => value > threshold && !equal,
            Comparator::Ge => value >= threshold || equal,
            Comparator::Lt => value < threshold && !equal,
            Comparator::Le => value <= threshold || equal,
        }
    }
    /// The symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
        }
    }
}

/// How a criterion's value is formed from the area's pooled counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// sum(numerator) / sum(denominator).
    Share,
    /// The share divided by the national share (pooled over all departments,
    /// or `national_value` when given).
    RelativeToNational,
}

/// One criterion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Id within the list.
    pub id: String,
    /// Catalogue indicator.
    pub indicator: String,
    /// How the value is formed.
    pub value: ValueKind,
    /// Comparator.
    pub comparator: Comparator,
    /// Threshold.
    pub threshold: f64,
    /// Average over this many years ending with the period (mean of yearly shares).
    #[serde(default = "one")]
    pub years: u32,
    /// Must be met (a gate), not counted among the "at least N".
    #[serde(default)]
    pub required: bool,
    /// Fixed national reference for `relative_to_national` (e.g. the whole
    /// population's share from Danmarks Statistik); default: pooled store data.
    #[serde(default)]
    pub national_value: Option<f64>,
}

fn one() -> u32 {
    1
}

/// One list (udsat, parallelsamfund, ...).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRule {
    /// Id.
    pub id: String,
    /// Danish name.
    pub name_da: String,
    /// At least this many of the non-required criteria must be met.
    #[serde(default)]
    pub at_least: u32,
    /// Criteria.
    #[serde(default, rename = "criterion")]
    pub criteria: Vec<Criterion>,
    /// Lists the area must be on.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Lists the area must not be on.
    #[serde(default)]
    pub excludes: Vec<String>,
    /// A history list: on `history_of` in this and the preceding lists...
    #[serde(default)]
    pub history_of: Option<String>,
    /// ... this many consecutive years.
    #[serde(default)]
    pub consecutive: u32,
}

/// A versioned rule set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// First list year it applies to.
    pub valid_from: i32,
    /// Last list year (None: still in force).
    #[serde(default)]
    pub valid_to: Option<i32>,
    /// Areas need at least this many residents.
    pub min_residents: f64,
    /// The lists, in evaluation order.
    #[serde(rename = "list")]
    pub lists: Vec<ListRule>,
}

/// The rule sets shipped with bomon.
pub const BUILTIN: [(&str, &str); 3] = [
    (
        "datasets/rules/national-2010.toml",
        include_str!("../../../datasets/rules/national-2010.toml"),
    ),
    (
        "datasets/rules/national-2014.toml",
        include_str!("../../../datasets/rules/national-2014.toml"),
    ),
    (
        "datasets/rules/national-2018.toml",
        include_str!("../../../datasets/rules/national-2018.toml"),
    ),
];

impl RuleSet {
    /// Parses and validates one rule set against the indicator ids it may use.
    pub fn from_toml(text: &str, origin: &str, indicators: &[&str]) -> Result<RuleSet, String> {
        let r: RuleSet = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        if let Some(to) = r.valid_to {
            if to < r.valid_from {
                return Err(format!(
                    "{origin}: key `valid_to` ({to}) is before `valid_from` ({})",
                    r.valid_from
                ));
            }
        }
        let ids: Vec<&str> = r.lists.iter().map(|l| l.id.as_str()).collect();
        for (li, l) in r.lists.iter().enumerate() {
            for (ci, c) in l.criteria.iter().enumerate() {
                if !indicators.contains(&c.indicator.as_str()) {
                    return Err(format!(
                        "{origin}: list[{li}] (id = \"{}\") criterion[{ci}] (id = \"{}\"): key `indicator`: unknown indicator \"{}\"",
                        l.id, c.id, c.indicator
                    ));
                }
                if c.years == 0 {
                    return Err(format!(
                        "{origin}: list[{li}] criterion[{ci}]: key `years` must be at least 1"
                    ));
                }
            }
            for other in l
                .requires
                .iter()
                .chain(&l.excludes)
                .chain(l.history_of.iter())
            {
                if !ids[..li].contains(&other.as_str()) {
                    return Err(format!("{origin}: list[{li}] (id = \"{}\"): refers to list \"{other}\", which must be defined before it", l.id));
                }
            }
            if l.history_of.is_some() && l.consecutive == 0 {
                return Err(format!(
                    "{origin}: list[{li}] (id = \"{}\"): key `consecutive` must be at least 1",
                    l.id
                ));
            }
        }
        Ok(r)
    }

    /// Whether the rule set applies to list year `year`.
    pub fn covers(&self, year: i32) -> bool {
        year >= self.valid_from && self.valid_to.is_none_or(|t| year <= t)
    }
}

/// Loads the built-in rule sets and checks that their validity periods do not overlap.
pub fn builtin(indicators: &[&str]) -> Result<Vec<RuleSet>, String> {
    let sets = BUILTIN
        .iter()
        .map(|(o, t)| RuleSet::from_toml(t, o, indicators))
        .collect::<Result<Vec<_>, _>>()?;
    check_overlaps(&sets)?;
    Ok(sets)
}

/// Refuses rule sets whose validity periods overlap.
pub fn check_overlaps(sets: &[RuleSet]) -> Result<(), String> {
    for (i, a) in sets.iter().enumerate() {
        for b in &sets[i + 1..] {
            let a_end = a.valid_to.unwrap_or(i32::MAX);
            let b_end = b.valid_to.unwrap_or(i32::MAX);
            if a.valid_from <= b_end && b.valid_from <= a_end {
                return Err(format!(
                    "rule sets \"{}\" ({}-{}) and \"{}\" ({}-{}) overlap in validity; set `valid_to` on the older one",
                    a.id,
                    a.valid_from,
                    a.valid_to.map_or("".into(), |v| v.to_string()),
                    b.id,
                    b.valid_from,
                    b.valid_to.map_or("".into(), |v| v.to_string())
                ));
            }
        }
    }
    Ok(())
}
