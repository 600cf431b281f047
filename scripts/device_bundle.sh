#!/usr/bin/env bash
# Gathers what the GPU machine needs into one folder (it has CUDA but none of our Debian libraries): the CUDA-built
# GPU tests, the GPU benchmark, the CLI and (when built) pipeline tests that run Phase 5 on the GPU there, stripped, plus every shared library they load except glibc's own.
# Usage: scripts/device_bundle.sh BUILD_DIR OUT_DIR   (BUILD_DIR configured with -DZM_CUDA=ON)
set -euo pipefail
BUILD=${1:?build dir}
OUT=${2:?output dir}
rm -rf "$OUT"
mkdir -p "$OUT/lib"
for b in tests/gpu/test_gpu tests/gpu/test_coadd_gpu bench/bench_coadd_gpu src/cli/zemosaic \
  tests/plan/test_plan tests/pipeline/test_mosaic_run tests/pipeline/test_photometry_seeds; do
  [ -f "$BUILD/$b" ] || continue  # the pipeline tests are optional passengers
  cp "$BUILD/$b" "$OUT/"
  strip "$OUT/$(basename "$b")"
done
for b in "$OUT"/*; do
  [ -f "$b" ] || continue
  ldd "$b" | awk '/=> \//{print $3}'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libcuda.so*) ;;
    *) cp -L "$lib" "$OUT/lib/" ;;
  esac
done
du -sh "$OUT"
