#!/usr/bin/env bash
# Executes the analyst notebooks headless on the bundled SYNTHETIC sample:
# builds a store and an annual review with bomon, installs polars, matplotlib
# and nbconvert from PyPI into a venv under target/, and runs every notebook
# (outputs go to a temporary directory; the committed notebooks stay clean).
# BOMON=path/to/bomon picks the binary (default: build it in release).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BOMON:-}" ]; then
  cargo build --release --quiet
  BOMON=target/release/bomon
fi
venv=target/notebook-venv
if [ ! -x "$venv/bin/jupyter" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q polars matplotlib nbconvert nbclient ipykernel
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
s=datasets/sample
"$BOMON" ingest --quiet --store "$work/store" "$s/departments.csv" "$s/observations_annual.parquet" "$s/categories.csv"
"$BOMON" review --quiet --no-report --store "$work/store" --annual 2025 \
  --organisation "Boligforeningen Østjylland (syntetisk)" --out "$work/review"
export BOMON_STORE="$work/store" BOMON_REVIEW="$work/review" MPLBACKEND=Agg
for nb in notebooks/*.ipynb; do
  "$venv/bin/jupyter" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
    --output-dir "$work/executed" "$nb" >/dev/null 2>"$work/log" || { cat "$work/log"; exit 1; }
  echo "executed $nb"
done
