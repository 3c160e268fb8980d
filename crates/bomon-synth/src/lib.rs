//! bomon-synth: synthetic national social-housing statistics that behave like
//! the real thing and know the truth - for developing, demonstrating and
//! benchmarking bomon without confidential data.
//!
//! A latent social-pressure factor per department drives several indicators
//! together; departments differ beyond binomial noise (overdispersion); rates
//! drift slowly; operational indicators have seasons. A share of departments
//! gets planted deteriorations or improvements (step or gradual) and some get
//! data-quality problems; all are listed in the truth table. The same seed
//! gives byte-identical files. Everything written says it is synthetic.
#![deny(missing_docs)]

pub mod generate;
pub mod model;
pub mod municipalities;
pub mod write;

pub use generate::{generate, Config, SynthData};
pub use write::{write, Formats, WriteError};
