//! Tests of the command-line verbs.

mod analysis;
mod assess;
mod common;
mod crash;
mod explore;
mod fuzz_regressions;
mod generate;
mod ingest_errors;
mod ingest_formats;
mod limits;
mod notebooks;
mod profiles;
mod quarterly;
mod report;
mod review;
mod safety;
mod store;
