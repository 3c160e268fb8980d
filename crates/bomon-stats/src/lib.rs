//! bomon-stats: the statistical methods bomon's judgements rest on, as pure
//! functions over slices - no DataFrames, cheap to compile, easy to check
//! against the published reference implementations (FunnelPlotR, qicharts2,
//! NHSRplotthedots, pymannkendall, metafor).
//!
//! # Funnel comparison
//!
//! ```
//! use bomon_stats::funnel::{funnel, FunnelOptions, Measure, Overdispersion};
//! let num = [12.0, 30.0, 45.0, 8.0];
//! let den = [100.0, 300.0, 400.0, 120.0];
//! let opts = FunnelOptions { measure: Measure::Proportion, overdispersion: Overdispersion::None, ..Default::default() };
//! let f = funnel(&num, &den, &opts);
//! assert!((f.target - 95.0 / 920.0).abs() < 1e-12);
//! assert!(f.points.iter().all(|p| p.lower95 < p.upper95));
//! ```
//!
//! # Runs analysis
//!
//! ```
//! use bomon_stats::spc::anhoej_limits;
//! // qicharts2: 24 useful observations -> longest run > 8 or crossings < 8 signal.
//! assert_eq!(anhoej_limits(24), (8, 8));
//! ```
#![deny(missing_docs)]

pub mod cusum;
pub mod dist;
pub mod distance;
pub mod funnel;
pub mod glm;
pub mod multiple;
pub mod overdispersion;
pub mod rng;
pub mod scan;
pub mod shrink;
pub mod spc;
pub mod trend;

/// How serious a flag is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Beyond the 95 % limit.
    Alert,
    /// Beyond the 99.8 % limit.
    Alarm,
}

impl Severity {
    /// Lower-case name for outputs.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Alert => "alert",
            Severity::Alarm => "alarm",
        }
    }
}
