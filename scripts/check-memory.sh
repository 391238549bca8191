#!/usr/bin/env bash
# Runs the C tests under AddressSanitizer + UndefinedBehaviorSanitizer, then under valgrind.
# Slow-ish (a few minutes); not part of the default test command, run before releases and by CI
# when MELSPEC_MEMORY_CHECKS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMELSPEC_CUDA=OFF \
  -DMELSPEC_SANITIZE="address;undefined" -DMELSPEC_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE "python|gpu"

cmake -S . -B build-valgrind -DCMAKE_BUILD_TYPE=Debug -DMELSPEC_CUDA=OFF \
  -DMELSPEC_BUILD_BENCH=OFF >/dev/null
cmake --build build-valgrind -j"$jobs"
status=0
for test in build-valgrind/tests/test_*; do
  [ -x "$test" ] || continue
  # thousands of random plans take minutes under valgrind; ASan above runs that test whole
  [ "$(basename "$test")" = test_random_api ] && continue
  echo "valgrind: $test" >&2
  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    "$test" >/dev/null || { echo "valgrind: $test FAILED" >&2; status=1; }
done
exit $status
