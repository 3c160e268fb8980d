#!/usr/bin/env bash
# The main job on the bundled (synthetic) sample: build bomon, ingest the sample
# into a fresh store under out/, and show what is stored.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bomon=target/release/bomon
out=${1:-out}
rm -rf "$out/store"
mkdir -p "$out"
"$bomon" ingest --verbose --store "$out/store" datasets/sample/synthetic_*.csv
"$bomon" store log --store "$out/store"
"$bomon" query --store "$out/store" \
  "SELECT d.name, o.indicator, o.period, o.numerator, o.denominator,
          round(100.0 * o.numerator / o.denominator, 1) AS pct
     FROM observations o JOIN departments d ON o.department_id = d.department_id
    WHERE o.indicator = 'outside_labour_18_64' AND o.year = 2024
    ORDER BY pct DESC"
echo "Internt arbejdsredskab - ikke til offentliggørelse. Store written to $out/store."
