#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, -DMELSPEC_FUZZ=ON with clang) and runs each for a
# while on its committed seed corpus plus a working corpus that persists between runs.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    default: 600 s, every target
# CI runs it with 60 s per target (.ci/run). Findings (crash-*, leak-*, timeout-*, oom-*) land in
# build-fuzz/findings/<target>/ and make the script exit 1; the last lines of each log give the
# executions (stat::number_of_executed_units) and the coverage (cov:) reported in
# docs/reliability.md. MELSPEC_FUZZ_JOBS=N runs N workers per target (libFuzzer -fork);
# MELSPEC_FUZZ_SEED=N fixes libFuzzer's seed, so that a run explores the same inputs in the same
# order every time (CI: a finding then reproduces instead of appearing at random).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
build=build-fuzz

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMELSPEC_FUZZ=ON \
  -DMELSPEC_CUDA=OFF -DMELSPEC_BUILD_BENCH=OFF -DMELSPEC_BUILD_EXAMPLES=OFF >/dev/null
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_plan fuzz_stream fuzz_cqt fuzz_audio)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

export LSAN_OPTIONS="suppressions=$PWD/tests/support/lsan.supp"
export UBSAN_OPTIONS=print_stacktrace=1
# ASan's bookkeeping per allocation: 5 frames of allocation stack (not 30), no 0xbe fill of new
# blocks, a 16 MB quarantine. A plan's create allocates dozens of blocks, so this was a third of
# fuzz_cqt's time per input; a finding replays with ASan's defaults for the full report.
export ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=5:max_malloc_fill_size=0:quarantine_size_mb=16}"
status=0
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target" findings="$build/findings/$target"
  mkdir -p "$corpus" "$findings"
  fork=()
  [ -z "${MELSPEC_FUZZ_JOBS:-}" ] || fork=(-fork="$MELSPEC_FUZZ_JOBS" -ignore_crashes=0)
  [ -z "${MELSPEC_FUZZ_SEED:-}" ] || fork+=(-seed="$MELSPEC_FUZZ_SEED")
  echo "fuzz: $target for $seconds s" >&2
  result=0
  # -timeout 120: designing a huge constant-Q basis under ASan takes tens of seconds (librosa takes
  # as long); a hang still stops the run
  "$build/tests/fuzz/$target" -max_total_time="$seconds" -max_len=4096 -timeout=120 \
    -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix="$findings/" "${fork[@]}" \
    "$corpus" "tests/fuzz/corpus/$target" >"$build/$target.log" 2>&1 || result=$?
  executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$build/$target.log" |
               awk '{s += $2} END {print s + 0}')
  coverage=$(grep -o 'cov: [0-9]*' "$build/$target.log" | tail -1)
  echo "fuzz: $target: exit $result, $executions executions, $coverage" >&2
  if compgen -G "$findings/slow-unit-*" >/dev/null; then
    echo "fuzz: $target: slow inputs kept in $findings/ (not failures)" >&2
  fi
  # libFuzzer also saves slow-unit-* (an input that took over 10 s): worth a look, not a bug
  if [ "$result" -ne 0 ] || compgen -G "$findings/crash-*" >/dev/null ||
     compgen -G "$findings/leak-*" >/dev/null || compgen -G "$findings/timeout-*" >/dev/null ||
     compgen -G "$findings/oom-*" >/dev/null; then
    echo "fuzz: $target FOUND something: $findings/ and $build/$target.log" >&2
    tail -40 "$build/$target.log" >&2
    status=1
  fi
done
exit $status
