//! Set-up shared by the detection benches: synthetic data written as Parquet
//! and ingested into a fresh store, and the catalogue's indicator ids.

use std::path::Path;

use bomon_store::{ingest, Catalogue, IngestOptions, Store};
use bomon_synth::{write, Formats, SynthData};

/// Writes `data` as Parquet into `dir` and ingests the departments and the
/// `observations` file (e.g. `observations_annual.parquet`) into a new store
/// at `dir/store`.
pub fn ingested_store(data: &SynthData, dir: &Path, observations: &str) -> (Store, Catalogue) {
    write(data, dir, Formats::Parquet).unwrap();
    let mut store = Store::open_or_create(&dir.join("store")).unwrap();
    let cat = Catalogue::builtin();
    let files = ["departments.parquet", observations].map(|f| dir.join(f));
    ingest(
        &mut store,
        &files,
        &cat,
        &IngestOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    (store, cat)
}

/// The ids of the catalogue's indicators that `keep` accepts.
pub fn indicator_ids(
    cat: &Catalogue,
    keep: impl Fn(&bomon_store::Indicator) -> bool,
) -> Vec<String> {
    cat.indicators()
        .iter()
        .filter(|i| keep(i))
        .map(|i| i.id.clone())
        .collect()
}
