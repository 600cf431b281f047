#!/usr/bin/env bash
# The demo: simulate the embedded default dataset, then run the pipeline (every phase that exists) on it.
set -euo pipefail
BUILD_DIR=${1:-build}
DEMO_DIR=${2:-demo}
ZM="$BUILD_DIR/src/cli/zemosaic"

DATA="$DEMO_DIR/data"
OUT="$DEMO_DIR/output"
mkdir -p "$DEMO_DIR"
if [ ! -f "$DATA/manifest.json" ]; then
  "$ZM" simulate --out "$DATA" --grid 2x2 --frames-per-pointing 8 --seed 1
fi
"$ZM" plan --input "$DATA/lights"
"$ZM" run --input "$DATA/lights" --output "$OUT" --events "$OUT/events.jsonl"
echo
echo "demo dataset : $(cd "$DATA" && pwd)/lights  ($(ls "$DATA"/lights/*.fit | wc -l) frames; ground truth in $(cd "$DATA" && pwd)/truth.fits)"
echo "master tiles : $(ls "$(cd "$OUT" && pwd)"/zemosaic_master_tiles/*.fits | tr '\n' ' ')"
echo "stack plan   : $(cd "$OUT" && pwd)/zemosaic_stack_plan.csv"
echo "events       : $(cd "$OUT" && pwd)/events.jsonl"
echo
echo "Your own Seestar folder: $ZM run --input /path/to/lights --output /path/to/result"
echo "(frames need a WCS in their header for now; plate solving is the next step)"
