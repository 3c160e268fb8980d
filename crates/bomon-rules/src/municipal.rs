//! The municipality's red/orange/yellow/green points model as configuration:
//! per indicator, points by distance from the municipal average on the worse
//! side; a theme scores its worst indicator; themes are summed; cut-offs give
//! the colour. The shipped calibration is a placeholder and says so.

use std::collections::HashMap;

use bomon_store::{Catalogue, Direction};
use serde::Deserialize;

use crate::evaluate::AreaData;

/// A theme of the model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// Name.
    pub name: String,
    /// Indicators measuring it (may be empty: the theme then scores 0).
    pub indicators: Vec<String>,
}

/// A points model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsModel {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// True when bands and cut-offs are placeholders, not the municipality's.
    pub placeholder: bool,
    /// Areas with fewer residents are not categorised.
    pub min_residents: f64,
    /// Ratios to the municipal average (worse side) giving 1, 2, 3 ... points.
    pub bands: Vec<f64>,
    /// Points from which an area is red.
    pub red: f64,
    /// Points from which an area is orange.
    pub orange: f64,
    /// Points from which an area is yellow.
    pub yellow: f64,
    /// Themes.
    #[serde(rename = "theme")]
    pub themes: Vec<Theme>,
}

/// The shipped model (placeholder calibration).
pub const BUILTIN: (&str, &str) = (
    "datasets/rules/municipal-aarhus-placeholder.toml",
    include_str!("../../../datasets/rules/municipal-aarhus-placeholder.toml"),
);

impl PointsModel {
    /// Parses and validates a model.
    pub fn from_toml(
        text: &str,
        origin: &str,
        catalogue: &Catalogue,
    ) -> Result<PointsModel, String> {
        let m: PointsModel = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        if m.bands.windows(2).any(|w| w[1] <= w[0]) || m.bands.first().is_some_and(|b| *b <= 1.0) {
            return Err(format!(
                "{origin}: key `bands` must be increasing ratios above 1"
            ));
        }
        if !(m.red > m.orange && m.orange > m.yellow) {
            return Err(format!(
                "{origin}: keys `red` > `orange` > `yellow` are required"
            ));
        }
        for (k, t) in m.themes.iter().enumerate() {
            for i in &t.indicators {
                if catalogue.get(i).is_none() {
                    return Err(format!("{origin}: theme[{k}] (name = \"{}\"): key `indicators`: unknown indicator \"{i}\"", t.name));
                }
            }
        }
        Ok(m)
    }

    /// Points for a value against the municipal average.
    pub fn points(&self, value: f64, average: f64, dir: Direction) -> u32 {
        let ratio = match dir {
            Direction::HigherIsWorse => value / average,
            Direction::LowerIsWorse => average / value,
            Direction::Context => return 0,
        };
        if !ratio.is_finite() {
            return 0;
        }
        self.bands.iter().filter(|b| ratio >= **b).count() as u32
    }

    /// The colour for summed points.
    pub fn colour(&self, points: f64) -> &'static str {
        if points >= self.red {
            "red"
        } else if points >= self.orange {
            "orange"
        } else if points >= self.yellow {
            "yellow"
        } else {
            "green"
        }
    }
}

/// An area's computed category.
#[derive(Debug, Clone)]
pub struct Computed {
    /// Points per theme.
    pub theme_points: Vec<u32>,
    /// Total points.
    pub points: u32,
    /// Colour; None when the area is too small to categorise.
    pub category: Option<&'static str>,
}

/// Computes the category of `area` against its municipality's totals for `year`.
pub fn categorise(
    m: &PointsModel,
    catalogue: &Catalogue,
    area: &AreaData,
    municipality: &AreaData,
    year: i32,
) -> Computed {
    let theme_points: Vec<u32> = m
        .themes
        .iter()
        .map(|t| {
            t.indicators
                .iter()
                .filter_map(|i| {
                    let dir = catalogue.get(i)?.direction;
                    Some(m.points(area.share(i, year)?, municipality.share(i, year)?, dir))
                })
                .max()
                .unwrap_or(0)
        })
        .collect();
    let points = theme_points.iter().sum();
    let category = (area.residents >= m.min_residents).then(|| m.colour(f64::from(points)));
    Computed {
        theme_points,
        points,
        category,
    }
}

/// Per municipality, pooled counts of all its departments.
pub type MunicipalTotals = HashMap<String, AreaData>;
