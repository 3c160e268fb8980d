//! Review configuration: every threshold of the method is data (TOML),
//! validated once, with defaults from shared/DESIGN.md section 2.

use serde::{Deserialize, Serialize};

/// Whether a development must be worse than peers *and* national public
/// housing, or either ("og/eller" in the strategy document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Worse than peers or nationally.
    Any,
    /// Worse than peers and nationally.
    All,
}

/// Peer-group ("twin") selection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeerConfig {
    /// Number of peers per department.
    pub k: usize,
    /// Structural covariates: `log_tenancies`, `construction_year`, `urban`, or
    /// any numeric column of the departments file (e.g. `small_dwellings`).
    pub covariates: Vec<String>,
    /// Weights of the covariates (default 1 each).
    pub weights: Vec<f64>,
    /// Peers must have the same housing type.
    pub same_housing_type: bool,
    /// Peers must belong to other organisations.
    pub other_organisations: bool,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            k: 20,
            covariates: vec![
                "log_tenancies".into(),
                "construction_year".into(),
                "urban".into(),
                "small_dwellings".into(),
            ],
            weights: vec![],
            same_housing_type: true,
            other_organisations: true,
        }
    }
}

/// The annual review's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// Peer groups.
    pub peers: PeerConfig,
    /// Years in the slope.
    pub slope_years: usize,
    /// The development test compares the last `change_years` years with the
    /// years before: 1 = last year's change (default); 2 = the last two years
    /// pooled against the three before them.
    pub change_years: usize,
    /// Development trigger.
    pub trigger: Trigger,
    /// False discovery rate across the review for alerts (Benjamini-Hochberg q).
    pub fdr: f64,
    /// Stricter false discovery rate for alarms.
    pub fdr_alarm: f64,
    /// Control the FDR within each kind of test (level, development, trend)
    /// instead of across the whole review.
    pub fdr_per_test: bool,
    /// `multiplicative` or `additive` overdispersion.
    pub overdispersion: String,
    /// Triage score from which a qualitative assessment is asked for.
    pub triage_threshold: f64,
    /// Departments with fewer residents are too small to judge.
    pub min_residents: f64,
    /// Departments with fewer households are too small to judge.
    pub min_households: f64,
    /// Numerators from 1 to this value are not printed (they could reveal persons).
    pub max_suppressed_numerator: f64,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            peers: PeerConfig::default(),
            slope_years: 5,
            change_years: 1,
            trigger: Trigger::Any,
            fdr: 0.05,
            fdr_alarm: 0.002,
            fdr_per_test: false,
            overdispersion: "multiplicative".into(),
            triage_threshold: 3.0,
            min_residents: 100.0,
            min_households: 50.0,
            max_suppressed_numerator: 3.0,
        }
    }
}

impl ReviewConfig {
    /// Parses and validates a TOML configuration; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<ReviewConfig, String> {
        let c: ReviewConfig = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        c.validate().map_err(|e| format!("{origin}: {e}"))?;
        Ok(c)
    }

    /// Checks ranges; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.peers.k == 0 {
            return Err("key `peers.k` must be at least 1".into());
        }
        if !self.peers.weights.is_empty() && self.peers.weights.len() != self.peers.covariates.len()
        {
            return Err("key `peers.weights` must have one weight per covariate".into());
        }
        if !(1..=2).contains(&self.change_years) {
            return Err("key `change_years` must be 1 or 2".into());
        }
        if self.slope_years < 3 {
            return Err("key `slope_years` must be at least 3".into());
        }
        if !(self.fdr > 0.0 && self.fdr < 1.0) {
            return Err("key `fdr` must lie between 0 and 1".into());
        }
        if !(self.fdr_alarm > 0.0 && self.fdr_alarm <= self.fdr) {
            return Err("key `fdr_alarm` must lie between 0 and `fdr`".into());
        }
        if !["multiplicative", "additive"].contains(&self.overdispersion.as_str()) {
            return Err(format!(
                "key `overdispersion` must be multiplicative or additive, found \"{}\"",
                self.overdispersion
            ));
        }
        Ok(())
    }

    /// SHA-256 of the configuration as used (for the manifest).
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(
            serde_json::to_vec(self).expect("serialisable"),
        ))
    }
}
