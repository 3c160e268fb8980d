#!/usr/bin/env bash
# Fuzzes every parser of outside input with cargo fuzz (libFuzzer) for
# SECONDS each (default 60), starting from the regression corpus. Crashes
# land in fuzz/artifacts/<target>/: copy each into fuzz/regressions/<target>/
# (cargo test runs that corpus) and fix the parser.
# Needs cargo-fuzz (cargo install cargo-fuzz); the instrumented build of
# polars takes a while the first time.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-60}
export RUSTC_BOOTSTRAP=1
for t in csv files text; do
  mkdir -p "corpus/$t"
  cp -n "regressions/$t"/* "corpus/$t/" 2>/dev/null || true
  cargo fuzz run -s none -O "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=65536 2>&1 \
    | grep -E '^(#[0-9]+.*DONE|Done|==[0-9]+==|SUMMARY)' || true
done
