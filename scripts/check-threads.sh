#!/usr/bin/env bash
# Runs the thread tests (tests/unit/test_threads.c: own plans and streams per thread, plans
# created and destroyed concurrently) and the contract and stream tests under ThreadSanitizer
# (docs/reliability.md). Any report fails the run. Called by .ci/run after the memory checks.
# No suppression file: nothing reported today, and melspec's own code is never suppressed.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DMELSPEC_SANITIZE=thread -DMELSPEC_CUDA=OFF \
  -DMELSPEC_BUILD_BENCH=OFF >/dev/null
# only what the run below needs: the whole tree would add minutes for nothing
cmake --build build-tsan -j"$jobs" --target test_threads test_contract test_stream \
  test_stream_batches
# batches on every core (issue 18): the command's workers (test_cli runs --jobs 3 against
# --jobs 1) and the one-plan-per-thread example
cmake --build build-tsan -j"$jobs" --target melspec_cli test_cli batch_threads
# halt_on_error: the first race fails the test (TSan's default only sets the exit status at exit)
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan --output-on-failure -j"$jobs" \
  -R "test_threads|test_contract|test_stream|test_cli\$|example_batch_threads"
