#!/usr/bin/env bash
# Installs the Debian 12 packages zemosaic-cpp needs, only those that are missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libcfitsio-dev wcslib-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libtbb-dev libeigen3-dev libpng-dev libxxhash-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # plate solving of frames without WCS (issue 7): solve-field + Tycho-2 indexes for a 0.7 x 1.3 deg field (~78 MB)
  astrometry.net astrometry-data-tycho2-08-littleendian astrometry-data-tycho2-09-littleendian
  # reference for the Phase 5 benchmark (bench/bench_coadd_swarp.cpp)
  swarp
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
