#!/usr/bin/env bash
# The science bytes of every route on fixed datasets: a refactoring must leave this list unchanged.
#
#   scripts/science_hashes.sh BUILD_DIR WORK_DIR > hashes.txt     (then diff two lists)
#
# Datasets: the demo's (2x2 pointings x 8 frames, seed 1), the routes benchmark's shape (2x2 pointings x 2 nights x
# 4 frames of 720x1280), and the real 2MASS M17 tiles when ../shared is present. Each route runs with 1 and 2
# workers (they must agree too). Prints "<dataset>/<route>/j<workers> <sha256 of the science FITS data unit>";
# the header is left out because it records the configuration, which differs by route.
set -euo pipefail
BUILD_DIR=${1:?build dir}
WORK=${2:?work dir}
ZM="$BUILD_DIR/src/cli/zemosaic"
SHARED=${ZM_SHARED_DIR:-"$(dirname "$0")/../../shared"}
mkdir -p "$WORK"

data_hash() {  # sha256 of a FITS file's primary data unit (after the header's END card, 2880-byte blocks)
  python3 - "$1" <<'EOF'
import hashlib, sys
b = open(sys.argv[1], "rb").read()
off = 0
while True:
    block = b[off:off + 2880]; off += 2880
    if any(block[i:i + 8] == b"END     " for i in range(0, 2880, 80)): break
hdr = b[:off].decode("ascii")
cards = {hdr[i:i + 8].strip(): hdr[i + 10:i + 80].split("/")[0].strip() for i in range(0, len(hdr), 80)}
n = abs(int(cards["BITPIX"])) // 8
for k in range(1, int(cards["NAXIS"]) + 1): n *= int(cards["NAXIS%d" % k])
print(hashlib.sha256(b[off:off + n]).hexdigest())
EOF
}

run_route() {  # dataset input route config-json workers
  local name=$1 input=$2 route=$3 cfg=$4 j=$5
  local out="$WORK/out_${name}_${route}_j$j"
  echo "{\"resume\": \"off\", \"telemetry_interval_s\": 0 $cfg}" > "$out.json"
  "$ZM" run --input "$input" --output "$out" --config "$out.json" -j "$j" --quiet > "$out.log" 2>&1 ||
    { echo "$name/$route/j$j FAILED (see $out.log)"; return; }
  echo "$name/$route/j$j $(data_hash "$(ls "$out"/*_science.fits)")"
  rm -rf "$out"
}

[ -f "$WORK/demo/manifest.json" ] || "$ZM" simulate --out "$WORK/demo" --grid 2x2 --frames-per-pointing 8 --seed 1 > /dev/null
[ -f "$WORK/routes/manifest.json" ] ||
  "$ZM" simulate --out "$WORK/routes" --grid 2x2 --frames-per-pointing 4 --nights 2 --width 720 --height 1280 \
    --star-density 15000 --seed 7 > /dev/null
GRID_IN="$WORK/routes_grid"
if [ ! -f "$GRID_IN/stack_plan.csv" ]; then
  mkdir -p "$GRID_IN"
  echo "file_path,exposure" > "$GRID_IN/stack_plan.csv"
  for f in "$WORK"/routes/lights/*.fit*; do
    ln -sf "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" "$GRID_IN/"
    echo "$(basename "$f"),10" >> "$GRID_IN/stack_plan.csv"
  done
fi

for j in 1 2; do
  run_route demo "$WORK/demo/lights" classic "" $j
  run_route routes "$WORK/routes/lights" classic "" $j
  run_route routes "$WORK/routes/lights" classic_merge ', "inter_master_merge": true, "max_raw_per_master_tile": 4' $j
  run_route routes "$WORK/routes/lights" mosaic_first ', "mosaic_first": true' $j
  run_route routes "$WORK/routes/lights" sds ', "sds_mode": true, "sds_batch_by_night": true' $j
  run_route routes "$GRID_IN" grid "" $j
  if [ -d "$SHARED/data/real/twomass_m17_k" ]; then
    run_route twomass "$SHARED/data/real/twomass_m17_k" classic "" $j
    run_route twomass "$SHARED/data/real/twomass_m17_k" mosaic_first ', "mosaic_first": true' $j
  fi
done
