#!/usr/bin/env bash
# The CPU table of issue 18 in one command: the default (KissFFT + lane FFT) and the FFTW builds
# side by side with librosa (and torchaudio where the Python has it: scripts/bench-setup.sh's
# build/bench-venv), one thread pinned to one core, then the FFTW build beside FFTW's own floor
# for each case's frames (bench/fft_floor.c). Builds both (CPU only) when they are missing.
#
#   bench/cpu-table.sh                      # build/ and build-fftw/, core 1, 2 s per row
#   PYTHON=build/bench-venv/bin/python CPU=0 MIN_TIME=5 bench/cpu-table.sh > results.md
set -euo pipefail
cd "$(dirname "$0")/.."
default_build=${DEFAULT_BUILD:-build}
fftw_build=${FFTW_BUILD:-build-fftw}
python=${PYTHON:-python3}
cpu=${CPU:-1}
min_time=${MIN_TIME:-2}
jobs=${JOBS:-2}

build() { # directory, extra cmake arguments
  local dir=$1; shift
  if [ ! -f "$dir/libmelspec.so" ]; then
    cmake -S . -B "$dir" -DMELSPEC_CUDA=OFF -DCMAKE_BUILD_TYPE=Release "$@" >&2
  fi
  cmake --build "$dir" -j"$jobs" >&2
}
build "$default_build"
build "$fftw_build" -DMELSPEC_FFTW=ON

echo "# CPU, one thread (core $cpu), $(date -u +%Y-%m-%d), $(uname -m)"
echo
echo "## Default build (lane FFT + KissFFT for large prime factors)"
echo
taskset -c "$cpu" "$python" bench/compare.py --library "$default_build/libmelspec.so" \
  --min-time "$min_time" --label "default build"
echo
echo "## FFTW build"
echo
taskset -c "$cpu" "$python" bench/compare.py --library "$fftw_build/libmelspec.so" \
  --cases realtime,music,whisper --min-time "$min_time" --label "FFTW build"
echo
echo "## FFTW build beside FFTW's floor (the real FFTs of each case's frames, nothing else)"
echo
taskset -c "$cpu" "$fftw_build/bench/melspec-fft-floor" --min-time "$min_time"
