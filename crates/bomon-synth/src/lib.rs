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
//!
//! Where it sits: outside the flow. `bomon generate` writes its files, which
//! are ingested like any export; the benches and the tests use it directly.
//!
//! ```
//! let cfg = bomon_synth::Config { departments: 30, years: 3, quarters: 4, seed: 7, ..Default::default() };
//! let a = bomon_synth::generate(&cfg);
//! let b = bomon_synth::generate(&cfg);
//! assert!(a.departments.len() >= 30);
//! assert_eq!(a.annual.len(), b.annual.len(), "the same seed gives the same data");
//! let dir = tempfile::tempdir().unwrap();
//! let files = bomon_synth::write(&a, dir.path(), bomon_synth::Formats::Csv).unwrap();
//! let notice = std::fs::read_to_string(dir.path().join("SYNTHETIC-DATA.txt")).unwrap();
//! assert!(notice.contains("SYNTHETIC") && files.len() > 3);
//! ```
#![deny(missing_docs)]

pub mod generate;
pub mod model;
pub mod municipalities;
pub mod write;

pub use generate::{generate, Config, SynthData};
pub use write::{write, Formats, WriteError};
