#!/usr/bin/env bash
# The demo: simulate the embedded default dataset, then run the whole pipeline (Phases 1-7) on it.
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
ABS_OUT=$(cd "$OUT" && pwd)
echo "mosaic       : $(ls "$ABS_OUT"/*_science.fits)"
echo "aesthetic    : $(ls "$ABS_OUT"/*_aesthetic.fits)"
echo "coverage     : $(ls "$ABS_OUT"/*_coverage.fits)"
echo "preview      : $(ls "$ABS_OUT"/*_preview.png)"
echo "master tiles : $(ls "$ABS_OUT"/zemosaic_master_tiles/*.fits | tr '\n' ' ')"
echo "photometry   : $ABS_OUT/zemosaic_photometry.json"
echo "stack plan   : $ABS_OUT/zemosaic_stack_plan.csv"
echo "events       : $ABS_OUT/events.jsonl"
echo
echo "Your own Seestar folder (raw subs without WCS are plate-solved: one solve-field run per pointing group,"
echo "the other frames by star matching; needs the astrometry.net packages that 'make demo' installed):"
echo "  $ZM run --input /path/to/seestar/lights --output /path/to/result --events /path/to/result/events.jsonl"
echo "Real Seestar example shipped with the test data: $ZM run --input ../shared/data/real/seestar_m94 --output demo/m94"
