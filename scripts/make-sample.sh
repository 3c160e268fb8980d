#!/usr/bin/env bash
# Regenerates the bundled SYNTHETIC sample in datasets/sample/ (deterministic:
# the same seed gives byte-identical files). Observations are kept as Parquet
# only, to stay well under 10 MB; the small tables are kept as CSV too.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=datasets/sample
find "$out" -maxdepth 1 -type f ! -name README.md -delete
target/release/bomon generate --departments 2000 --years 10 --quarters 40 --seed 2025 \
  --sample-organisation --files both --out "$out"
rm -f "$out"/observations_*.csv "$out"/*.parquet.tmp
rm -f "$out"/departments.parquet "$out"/areas.parquet "$out"/categories.parquet "$out"/truth.parquet
du -sh "$out"
