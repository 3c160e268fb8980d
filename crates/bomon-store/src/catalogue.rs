//! The indicator catalogue (`datasets/indicators.toml`): which key figures exist,
//! how they are measured, which way is worse, and when they are suppressed.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The catalogue shipped with bomon, compiled into the binary.
pub const BUILTIN_CATALOGUE: &str = include_str!("../../../datasets/indicators.toml");

pub use bomon_vocab::Kind;

/// Which way is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A higher figure is a worse one.
    HigherIsWorse,
    /// A lower figure is a worse one.
    LowerIsWorse,
    /// Neither: context (size, list criteria) only.
    Context,
}

/// How often an indicator is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Once a year.
    Annual,
    /// Every quarter.
    Quarterly,
}

/// One key figure (nøgletal: key figure).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// Stable identifier.
    pub id: String,
    /// Danish label.
    pub label_da: String,
    /// English label.
    pub label_en: String,
    /// What is counted.
    pub numerator: String,
    /// The population at risk (absent for counts and means).
    #[serde(default)]
    pub denominator: Option<String>,
    /// How the figure is formed.
    pub kind: Kind,
    /// Which way is worse.
    pub direction: Direction,
    /// When it is measured.
    pub frequency: Vec<Frequency>,
    /// Below this denominator (or value, for counts) a figure is suppressed.
    pub min_denominator: f64,
    /// When in the period it is measured (documentation).
    #[serde(default)]
    pub period: Option<String>,
}

impl Indicator {
    /// True when the indicator may be reported for quarters.
    pub fn is_quarterly(&self) -> bool {
        self.frequency.contains(&Frequency::Quarterly)
    }
    /// True when the indicator may be reported for years.
    pub fn is_annual(&self) -> bool {
        self.frequency.contains(&Frequency::Annual)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    indicator: Vec<Indicator>,
}

/// The validated indicator catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    indicators: Vec<Indicator>,
    by_id: HashMap<String, usize>,
    sha256: String,
}

impl Catalogue {
    /// The catalogue compiled into bomon.
    pub fn builtin() -> Catalogue {
        Catalogue::from_toml(BUILTIN_CATALOGUE, "datasets/indicators.toml")
            .expect("the built-in catalogue is validated by the test suite")
    }

    /// Loads and validates a catalogue file.
    pub fn load(path: &Path) -> Result<Catalogue> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Catalogue::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates catalogue text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Catalogue> {
        let err = |message: String| Error::Catalogue {
            path: origin.to_string(),
            message,
        };
        let file: CatalogueFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let mut by_id = HashMap::new();
        for (i, ind) in file.indicator.iter().enumerate() {
            let at = format!("indicator[{i}] (id = \"{}\")", ind.id);
            let valid_id = !ind.id.is_empty()
                && ind
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid_id {
                return Err(err(format!(
                    "{at}: key `id` must be lower snake case (a-z, 0-9, _)"
                )));
            }
            if ind.id.ends_with("_num") || ind.id.ends_with("_den") {
                return Err(err(format!(
                    "{at}: key `id` must not end in _num or _den (reserved for wide files)"
                )));
            }
            if by_id.insert(ind.id.clone(), i).is_some() {
                return Err(err(format!("{at}: key `id` is a duplicate")));
            }
            if ind.kind.is_value() && ind.denominator.is_some() {
                return Err(err(format!(
                    "{at}: key `denominator` must be absent for kind {:?}",
                    ind.kind
                )));
            }
            if !ind.kind.is_value() && ind.denominator.is_none() {
                return Err(err(format!(
                    "{at}: key `denominator` is required for kind {:?}",
                    ind.kind
                )));
            }
            if ind.frequency.is_empty() {
                return Err(err(format!(
                    "{at}: key `frequency` must list annual and/or quarterly"
                )));
            }
            if !(ind.min_denominator.is_finite() && ind.min_denominator >= 0.0) {
                return Err(err(format!(
                    "{at}: key `min_denominator` must be a number >= 0"
                )));
            }
        }
        if file.indicator.is_empty() {
            return Err(err("no [[indicator]] tables".into()));
        }
        use sha2::Digest;
        let sha256 = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        Ok(Catalogue {
            indicators: file.indicator,
            by_id,
            sha256,
        })
    }

    /// The indicator with this id.
    pub fn get(&self, id: &str) -> Option<&Indicator> {
        self.by_id.get(id).map(|&i| &self.indicators[i])
    }

    /// All indicators, in catalogue order.
    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    /// SHA-256 of the catalogue text, recorded in manifests.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_holds_the_domain_indicators() {
        let c = Catalogue::builtin();
        for id in [
            "residents",
            "households",
            "outside_labour_18_64",
            "convicted_18plus",
            "basic_education_30_59",
            "income_ratio_15_64",
            "non_western",
            "children_0_17",
            "single_provider_children",
            "public_support",
            "youth_no_education_24",
            "youth_charged",
            "child_notifications",
            "move_out_rate",
            "vacancy",
            "rent_arrears",
            "evictions",
            "complaints",
            "vandalism_burglary",
        ] {
            assert!(c.get(id).is_some(), "missing {id}");
        }
        assert_eq!(
            c.get("income_ratio_15_64").unwrap().direction,
            Direction::LowerIsWorse
        );
        assert!(c.get("vacancy").unwrap().is_quarterly());
        assert!(!c.get("vacancy").unwrap().is_annual());
    }

    #[test]
    fn error_names_the_offending_key_and_line() {
        let text = BUILTIN_CATALOGUE.replacen("kind = \"share\"", "kind = \"percentage\"", 1);
        let e = Catalogue::from_toml(&text, "cat.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cat.toml"), "{e}");
        assert!(e.contains("line"), "{e}");
        assert!(e.contains("percentage"), "{e}");
        assert!(e.contains("share"), "expected variants listed: {e}");
    }

    #[test]
    fn semantic_errors_name_indicator_and_key() {
        let text = BUILTIN_CATALOGUE.replacen("min_denominator = 50", "min_denominator = -1", 1);
        let e = Catalogue::from_toml(&text, "cat.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("id = \"households\""), "{e}");
        assert!(e.contains("min_denominator"), "{e}");

        let text = BUILTIN_CATALOGUE.replacen("id = \"households\"", "id = \"residents\"", 1);
        let e = Catalogue::from_toml(&text, "cat.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("duplicate"), "{e}");

        let text = BUILTIN_CATALOGUE.replacen("label_da = ", "lable_da = ", 1);
        let e = Catalogue::from_toml(&text, "cat.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lable_da"), "{e}");
    }
}
