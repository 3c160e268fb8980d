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

/// A department added to the quarterly follow-up by hand (e.g. at the
/// department board's own request, as the strategy document allows).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Include {
    /// Department id.
    pub department: String,
    /// Why (shown in the selection list).
    pub reason: String,
}

/// An event after which a department's SPC baseline starts afresh (a
/// renovation, a new letting policy, a merger).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rebase {
    /// Department id.
    pub department: String,
    /// One indicator, or every quarterly indicator when absent.
    #[serde(default)]
    pub indicator: Option<String>,
    /// First quarter of the new baseline, e.g. `2024Q1`.
    pub period: String,
    /// What happened.
    pub reason: String,
}

/// The quarterly follow-up's method.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuarterlyConfig {
    /// Categories whose departments are followed up.
    pub categories: Vec<String>,
    /// Departments added by hand.
    pub include: Vec<Include>,
    /// Rebasing events.
    pub rebase: Vec<Rebase>,
    /// Quarters in the frozen baseline of each chart.
    pub baseline_quarters: usize,
    /// Quarters monitored after the baseline: a chart spans at most
    /// `baseline_quarters + monitor_quarters` quarters ending with the quarter
    /// reviewed, so the baseline rolls forward and slow drift over a decade
    /// does not read as a signal.
    pub monitor_quarters: usize,
    /// Fewer baseline quarters than this: "too short to judge".
    pub min_baseline_quarters: usize,
    /// `anhoej` or `nhs` run rules.
    pub rules: String,
    /// Whether run-rule signals raise alerts (outside-limit points always do).
    pub run_rules: bool,
    /// An early warning of sustained shifts against the peer rate at all.
    pub cusum: bool,
    /// Its method: `window` (default: the sums of the last 2..monitored
    /// quarters, each against its exact predictive distribution with the
    /// national covariance of quarters and the baseline's own error) or
    /// `cusum` (the counts' likelihood-ratio CUSUM, quarters independent).
    pub early_warning: String,
    /// `window`: a sum of quarters whose probit z exceeds this is an alert.
    pub window_z: f64,
    /// `window`: the beyond-Poisson variance of a single quarter in the
    /// sums' covariance. `out_of_sample` (default): at least the nationally
    /// pooled out-of-sample tau^2 - how far departments' later quarters
    /// actually stray from their baseline, drift included; the variogram's
    /// level, taken from quarters 4-7 apart, misses drift over the longer
    /// distances between a baseline and the quarters it judges (vacancy's
    /// z spread 1.09 with it). Conservative: for large series the baseline's
    /// error, which tau^2 also holds, is then counted twice. `variogram`:
    /// the variogram's level alone (the method before).
    pub level_variance: String,
    /// CUSUM reference value k in standard errors (half the shift to detect).
    pub cusum_k: f64,
    /// CUSUM decision interval h in standard errors.
    pub cusum_h: f64,
    /// Scale the CUSUM's increments for the nationally pooled lag-1
    /// autocorrelation of the indicator's quarters.
    pub cusum_autocorrelation: bool,
    /// Sigma at least the baseline's standard deviation (guards against
    /// autocorrelated series, where moving ranges understate the spread).
    pub sd_floor: bool,
    /// Fewer events than this per quarter on average in the baseline: too rare
    /// to chart. 0 (the default) follows every series with figures: the
    /// deciding chart's gamma-Poisson tail and the counts' CUSUM are exact for
    /// one or two events a quarter.
    pub min_events: f64,
    /// A quarter whose count's exact gamma-Poisson mid-p tail, as a probit
    /// z, exceeds this is an alarm (3.25: 0.058 %; with the window early
    /// warning at 3, false alarms stay near 1 per 10 department-years).
    pub alarm_z: f64,
}

impl Default for QuarterlyConfig {
    fn default() -> Self {
        QuarterlyConfig {
            categories: vec!["red".into(), "orange".into(), "yellow".into()],
            include: vec![],
            rebase: vec![],
            baseline_quarters: 12,
            monitor_quarters: 8,
            min_baseline_quarters: 8,
            rules: "anhoej".into(),
            run_rules: false,
            cusum: true,
            early_warning: "window".into(),
            window_z: 3.0,
            level_variance: "out_of_sample".into(),
            cusum_k: 1.0,
            cusum_h: 2.0,
            sd_floor: true,
            cusum_autocorrelation: false,
            min_events: 0.0,
            alarm_z: 3.25,
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
    /// The development tests: for each entry, the last that many years are
    /// compared with the years before - 1 = last year's change against the
    /// year before (rule `last_year`); 2 = the last two years pooled against
    /// the three before them (rule `two_years`, which sees a step that
    /// happened last year with both years' data). Default both: [1, 2].
    pub change_years: Vec<usize>,
    /// Development trigger.
    pub trigger: Trigger,
    /// False discovery rate across the review for alerts (Benjamini-Hochberg q).
    pub fdr: f64,
    /// Stricter false discovery rate for alarms.
    pub fdr_alarm: f64,
    /// Control the FDR within each kind of test (level, development, trend)
    /// instead of across the whole review.
    pub fdr_per_test: bool,
    /// `multiplicative` or `additive` overdispersion of level comparisons.
    pub overdispersion: String,
    /// Scale of level comparisons of shares: `logit` (between-department
    /// differences normal on the logit scale, as in a random-effects logistic
    /// model) or `arcsine` (the arcsine-square-root scale of FunnelPlotR).
    pub share_scale: String,
    /// Share of z-scores winsorised in each tail before overdispersion is
    /// estimated (0.1 = FunnelPlotR's 10 %; 0 = the plain moment estimate).
    pub winsorise: f64,
    /// Triage score from which a qualitative assessment is asked for.
    pub triage_threshold: f64,
    /// Departments with fewer residents are too small to judge.
    pub min_residents: f64,
    /// Departments with fewer households are too small to judge.
    pub min_households: f64,
    /// Counts from 1 to this value are not printed (they could reveal
    /// persons): 4 = counts below 5 show as "<5".
    pub max_suppressed_numerator: f64,
    /// A finding assessed as no_concern is prompted again only when its
    /// value has worsened by more than this share since (0.10 = 10 %).
    pub assessment_margin: f64,
    /// Prompts without an assessment after this many days are overdue.
    pub assessment_overdue_days: i64,
    /// The report gives a section (findings, charts, prompt) to at most this
    /// many flagged departments, the highest ranked first.
    pub report_departments: usize,
    /// The quarterly follow-up (`bomon review --quarterly`).
    pub quarterly: QuarterlyConfig,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            peers: PeerConfig::default(),
            slope_years: 5,
            change_years: vec![1, 2],
            trigger: Trigger::Any,
            fdr: 0.05,
            fdr_alarm: 0.002,
            fdr_per_test: false,
            overdispersion: "additive".into(),
            share_scale: "logit".into(),
            winsorise: 0.0,
            triage_threshold: 3.0,
            min_residents: 100.0,
            min_households: 50.0,
            max_suppressed_numerator: 4.0,
            report_departments: 200,
            assessment_margin: 0.10,
            assessment_overdue_days: 90,
            quarterly: QuarterlyConfig::default(),
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
        if self.change_years.is_empty()
            || self.change_years.iter().any(|w| !(1..=2).contains(w))
            || (self.change_years.len() == 2 && self.change_years[0] == self.change_years[1])
            || self.change_years.len() > 2
        {
            return Err("key `change_years` must list 1, 2 or both, e.g. [1, 2]".into());
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
        if !["logit", "arcsine"].contains(&self.share_scale.as_str()) {
            return Err(format!(
                "key `share_scale` must be logit or arcsine, found \"{}\"",
                self.share_scale
            ));
        }
        if !(0.0..0.5).contains(&self.winsorise) {
            return Err("key `winsorise` must lie in [0, 0.5)".into());
        }
        if !["multiplicative", "additive"].contains(&self.overdispersion.as_str()) {
            return Err(format!(
                "key `overdispersion` must be multiplicative or additive, found \"{}\"",
                self.overdispersion
            ));
        }
        let q = &self.quarterly;
        if !["anhoej", "nhs"].contains(&q.rules.as_str()) {
            return Err(format!(
                "key `quarterly.rules` must be anhoej or nhs, found \"{}\"",
                q.rules
            ));
        }
        if q.baseline_quarters < 4 || q.min_baseline_quarters < 4 {
            return Err(
                "keys `quarterly.baseline_quarters` and `quarterly.min_baseline_quarters` must be at least 4".into(),
            );
        }
        if q.min_baseline_quarters > q.baseline_quarters {
            return Err("key `quarterly.min_baseline_quarters` must not exceed `quarterly.baseline_quarters`".into());
        }
        if !(q.alarm_z.is_finite() && q.alarm_z > 0.0) {
            return Err(format!(
                "key `quarterly.alarm_z` must be a positive number (3 is the 3-sigma-equivalent), found {}",
                q.alarm_z
            ));
        }
        if !["window", "cusum"].contains(&q.early_warning.as_str()) {
            return Err(format!(
                "key `quarterly.early_warning` must be \"window\" or \"cusum\", found \"{}\"",
                q.early_warning
            ));
        }
        if !["out_of_sample", "variogram"].contains(&q.level_variance.as_str()) {
            return Err(format!(
                "key `quarterly.level_variance` must be \"out_of_sample\" or \"variogram\", found \"{}\"",
                q.level_variance
            ));
        }
        if !(q.window_z.is_finite() && q.window_z > 0.0) {
            return Err(format!(
                "key `quarterly.window_z` must be a positive number, found {}",
                q.window_z
            ));
        }
        if q.monitor_quarters == 0 {
            return Err("key `quarterly.monitor_quarters` must be at least 1".into());
        }
        if !(q.cusum_k >= 0.0 && q.cusum_h > 0.0) {
            return Err("keys `quarterly.cusum_k` (>= 0) and `quarterly.cusum_h` (> 0)".into());
        }
        for c in &q.categories {
            if !["red", "orange", "yellow", "green"].contains(&c.as_str()) {
                return Err(format!(
                    "key `quarterly.categories`: \"{c}\" is not red, orange, yellow or green"
                ));
            }
        }
        for (i, r) in q.rebase.iter().enumerate() {
            if crate::data::parse_quarter(&r.period).is_none() {
                return Err(format!(
                    "key `quarterly.rebase[{i}].period`: expected a quarter such as 2024Q1, found \"{}\"",
                    r.period
                ));
            }
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
