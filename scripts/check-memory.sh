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
# third-party leaks only (fontconfig's cache, a libsndfile error path): tests/support/lsan.supp
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS="suppressions=$PWD/tests/support/lsan.supp" \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE "python|gpu"

cmake -S . -B build-valgrind -DCMAKE_BUILD_TYPE=Debug -DMELSPEC_CUDA=OFF \
  -DMELSPEC_BUILD_BENCH=OFF >/dev/null
cmake --build build-valgrind -j"$jobs"
status=0
# every cmocka executable ctest knows (tests/*, tests/cli), wherever the build puts it
for test in $(ctest --test-dir build-valgrind --show-only=json-v1 -LE "python|gpu" |
              python3 -c 'import json, sys
for t in json.load(sys.stdin)["tests"]:
    c = t.get("command") or []
    if c and "/test_" in c[0]: print(c[0])'); do
  [ -x "$test" ] || continue
  # thousands of random plans take minutes under valgrind; ASan above runs that test whole
  [ "$(basename "$test")" = test_random_api ] && continue
  # issue 17: the stream soak under valgrind for 1/12 of its CI length (ASan runs it whole)
  soak_hours=()
  [ "$(basename "$test")" = test_soak ] && soak_hours=(env MELSPEC_SOAK_HOURS=0.02)
  echo "valgrind: $test" >&2
  "${soak_hours[@]}" valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite "$test" >/dev/null || { echo "valgrind: $test FAILED" >&2; status=1; }
done
exit $status
