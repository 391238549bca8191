#!/usr/bin/env bash
# Runs the thread tests (tests/unit/test_threads.c: own plans and streams per thread, plans
# created and destroyed concurrently), the contract and stream tests, the audio loader and the
# command's --jobs workers under ThreadSanitizer (docs/reliability.md), then the thread test on
# the emulated CUDA backend, also under TSan (at the end). Any report fails the run. Called by
# .ci/run after the memory checks.
# Suppressions (tests/support/tsan.supp) name third-party libraries only: melspec's own code is
# never suppressed.
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
# the loader with threads opening good and broken files at once (libsndfile's open globals)
cmake --build build-tsan -j"$jobs" --target test_audio
# halt_on_error: the first race fails the test (TSan's default only sets the exit status at exit)
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/support/tsan.supp" \
  ctest --test-dir build-tsan --output-on-failure -j"$jobs" \
  -R "test_threads|test_contract|test_stream|test_audio|test_cli\$|example_batch_threads"

# The same thread test on the CUDA backend, on the CPU emulation of CUDA (tests/cuda_emulator)
# built under ThreadSanitizer too: the plugin's host code, its loader and the core, with each
# thread's own CUDA plans and streams (ctest test_threads_cuda). Needs the CUDA toolkit's headers,
# as scripts/cuda-emulate.sh does; skipped where they are missing.
cuda_include=""
for dir in "${CUDA_HOME:-}/include" /usr/local/cuda/include /usr/include; do
  if [ -f "$dir/cuda_runtime_api.h" ] && [ -f "$dir/cufft.h" ]; then cuda_include=$dir; break; fi
done
if [ -z "$cuda_include" ]; then
  echo "check-threads: no CUDA toolkit headers: the CUDA backend's thread test is skipped" >&2
  exit 0
fi
cmake -S . -B build-emu-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMELSPEC_SANITIZE=thread \
  -DMELSPEC_CUDA_EMULATOR=ON -DMELSPEC_CUDA=OFF -DMELSPEC_CUDA_HEADERS="$cuda_include" \
  -DMELSPEC_BUILD_BENCH=OFF -DMELSPEC_BUILD_EXAMPLES=OFF -DMELSPEC_BUILD_TOOLS=OFF >/dev/null
cmake --build build-emu-tsan -j"$jobs" --target test_threads melspec_cuda
EMU_QUIET=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-emu-tsan --output-on-failure -R "^test_threads_cuda$"
