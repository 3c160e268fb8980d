//! Tests of bomon-stats against published reference values and properties.
//! One test binary for the crate.

mod stats;
