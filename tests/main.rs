//! End-to-end tests: they run the real `bomon` binary on small fixture files.
//! One test binary for the whole package, because every binary links polars.

mod cli;
