#!/usr/bin/env bash
# The demo: simulate the embedded default dataset, then run every pipeline step that exists on it.
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
mkdir -p "$OUT"
"$ZM" info "$DATA"/truth.fits "$(ls "$DATA"/lights/*.fit | head -n 1)"
"$ZM" plan --input "$DATA" --json > "$OUT/plan.json"
"$ZM" plan --input "$DATA"
echo
echo "demo dataset : $(cd "$DATA" && pwd)  ($(ls "$DATA"/*.fit | wc -l) frames, ground truth truth.fits)"
echo "parallel plan: $(cd "$OUT" && pwd)/plan.json"
