#!/usr/bin/env bash
# Runs on the GPU machine over a bundle from device_bundle.sh: GPU tests (a skip is a failure there), the CPU vs GPU
# Phase 5 benchmark, and the whole pipeline on the demo dataset with the GPU on and off (Phase 5 outputs compared
# byte for byte). Logs go to $OUT_DIR.   Usage: scripts/device_check.sh BUNDLE OUT_DIR
set -uo pipefail
B=$(cd "${1:?bundle}" && pwd)
R=${2:?out dir}
mkdir -p "$R"
export LD_LIBRARY_PATH="$B/lib" ZM_EXPECT_GPU=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$R/machine.txt"
{ nproc; ldd --version | head -1; } | tee -a "$R/machine.txt"
"$B/test_gpu" 2>&1 | tail -5 | tee "$R/test_gpu.log"
timeout 240 "$B/test_coadd_gpu" > "$R/test_coadd_gpu.log" 2>&1; echo "test_coadd_gpu exit $?" | tee -a "$R/test_coadd_gpu.log"
grep -E "OK|FAILED|SKIPPED|differ|Failure" "$R/test_coadd_gpu.log" | head -40
timeout 200 "$B/bench_coadd_gpu" /tmp/zm_bench 2>&1 | tee "$R/bench.log"
for t in test_plan test_mosaic_run test_photometry_seeds; do  # with a GPU present (Phase 5 on it)
  [ -x "$B/$t" ] || continue
  timeout 200 "$B/$t" > "$R/$t.log" 2>&1; echo "$t exit $?: $(grep -E '^\[  (PASSED|FAILED) ' "$R/$t.log" | tr '\n' ' ')"
done
W=/tmp/zm_devcheck
rm -rf "$W"; mkdir -p "$W"
"$B/zemosaic" simulate --out "$W/data" --grid 2x2 --frames-per-pointing 8 --seed 1 > "$W/sim.log" 2>&1 || tail "$W/sim.log"
echo '{"cache_retention": "keep"}' > "$W/gpu.json"
echo '{"cache_retention": "keep", "use_gpu": "off"}' > "$W/cpu.json"
for mode in gpu cpu; do
  s=$(date +%s%N)
  timeout 240 "$B/zemosaic" run --input "$W/data/lights" --output "$W/$mode" --config "$W/$mode.json" --events "$W/events_$mode.jsonl" --quiet > "$W/$mode.log" 2>&1
  rc=$?
  tail -3 "$W/$mode.log"
  echo "pipeline $mode exit $rc in $(( ($(date +%s%N) - s) / 1000000 )) ms" | tee -a "$R/pipeline.txt"
  grep -h '"MOSAIC_ASSEMBLED"' "$W/events_$mode.jsonl" | tee -a "$R/pipeline.txt"
done
for f in "$W"/gpu/.zemosaic_cache/phase5/*.f32; do
  g="$W/cpu/.zemosaic_cache/phase5/$(basename "$f")"
  if cmp -s "$f" "$g"; then echo "same bytes: $(basename "$f")"; else echo "DIFFER: $(basename "$f")"; fi
done | tee -a "$R/pipeline.txt"
