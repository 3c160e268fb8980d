#!/usr/bin/env bash
# The main job on the bundled SYNTHETIC sample: build bomon, ingest the sample
# into a fresh store under out/, and show the sample organisation's figures.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bomon=target/release/bomon
out=${1:-out}
s=datasets/sample
rm -rf "$out/store"
mkdir -p "$out"
"$bomon" ingest --store "$out/store" "$s/departments.csv" "$s/observations_annual.parquet" \
  "$s/observations_quarterly.parquet" "$s/categories.csv"
"$bomon" ingest --store "$out/store" "$s/observations_quarterly_resubmitted.parquet"
"$bomon" store log --store "$out/store"
echo "Outside the labour market 18-64, 2025, the sample organisation (SYNTHETIC data):"
"$bomon" query --store "$out/store" \
  "SELECT d.name, o.numerator, o.denominator,
          round(100.0 * o.numerator / o.denominator, 1) AS pct
     FROM observations o JOIN departments d ON o.department_id = d.department_id
    WHERE o.indicator = 'outside_labour_18_64' AND o.period = '2025'
      AND d.organisation LIKE 'Boligforeningen Østjylland%' AND o.denominator >= 50
    ORDER BY pct DESC LIMIT 10"
echo "Internt arbejdsredskab - ikke til offentliggørelse. Store written to $out/store."
