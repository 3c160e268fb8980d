#!/usr/bin/env bash
# The main job on the bundled SYNTHETIC sample: build bomon, ingest the sample
# into a fresh store under out/, and run the annual full review of the sample
# organisation (triage list, flags, peers, manifest under out/review-2025/).
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
org="Boligforeningen Østjylland (syntetisk)"
"$bomon" review --store "$out/store" --annual 2025 --organisation "$org" --out "$out/review-2025"
echo "Triage, annual review 2025 of $org (SYNTHETIC data), top 10:"
python3 - "$out/review-2025/departments.csv" <<'PY' 2>/dev/null || head -11 "$out/review-2025/departments.csv" | cut -d, -f1-3,7-10
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")))
for r in rows[:10]:
    print(f"{r['rank']:>3} {r['name'][:24]:<24} {r['category'] or '-':<7} score {float(r['score']):5.1f}  {r['reason'][:90]}")
PY
"$bomon" review --quiet --store "$out/store" --quarterly 2025Q3 --organisation "$org" \
  --out "$out/quarterly-2025Q3"
echo "Quarterly follow-up 2025Q3 of the organisation's red/orange/yellow departments (status):"
python3 - "$out/quarterly-2025Q3/selection.csv" <<'PY' 2>/dev/null || cut -d, -f2,4,6 "$out/quarterly-2025Q3/selection.csv"
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")):
    print(f"  {r['department_id']} {r['name'][:22]:<22} {r['category']:<7} {r['status']}")
PY
echo "Outputs in $out/review-2025: report.html (open in a browser), report.pdf (where chromium is installed), review.xlsx, charts/, flags.csv, departments.csv, peers.csv, manifest.json, tests.parquet."
echo "Internt arbejdsredskab - ikke til offentliggørelse."
