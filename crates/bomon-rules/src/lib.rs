//! bomon-rules: the categorisation rule sets as versioned data - the national
//! lists of almenboligloven section 61 a and 61 b (udsat boligområde,
//! parallelsamfund, omdannelsesområde, forebyggelsesområde) under the current
//! and the historical rules - and their evaluation on housing areas.
//!
//! The municipality's red/orange/yellow/green points model is configuration
//! too ([`municipal`]); the shipped calibration is a placeholder and says so.
//!
//! Where it sits: beside bomon-engine, on a store snapshot. `bomon
//! categorize` is [`run::categorize`] (a typed [`run::Categorisation`]) then
//! [`run::write`] into the atomic output directory.
//!
//! ```
//! // The rule set in force for 2025 and its four lists.
//! let catalogue = bomon_store::Catalogue::builtin();
//! let ids: Vec<&str> = catalogue.indicators().iter().map(|i| i.id.as_str()).collect();
//! let sets = bomon_rules::builtin(&ids).unwrap();
//! let in_force = sets.iter().find(|s| s.covers(2025)).unwrap();
//! assert_eq!(in_force.lists.len(), 4);
//! assert!(sets.iter().any(|s| s.covers(2012)), "the historical rules are kept");
//! ```
#![deny(missing_docs)]

pub mod evaluate;
pub mod load;
pub mod municipal;
pub mod ruleset;
pub mod run;

pub use evaluate::{evaluate, AreaData, AreaResult};
pub use ruleset::{builtin, RuleSet};
