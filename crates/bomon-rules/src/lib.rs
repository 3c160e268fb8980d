//! bomon-rules: the categorisation rule sets as versioned data - the national
//! lists of almenboligloven section 61 a and 61 b (udsat boligområde,
//! parallelsamfund, omdannelsesområde, forebyggelsesområde) under the current
//! and the historical rules - and their evaluation on housing areas.
//!
//! The municipality's red/orange/yellow/green points model is configuration
//! too ([`municipal`]); the shipped calibration is a placeholder and says so.
#![deny(missing_docs)]

pub mod evaluate;
pub mod load;
pub mod municipal;
pub mod ruleset;
pub mod run;

pub use evaluate::{evaluate, AreaData, AreaResult};
pub use ruleset::{builtin, RuleSet};
