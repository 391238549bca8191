#!/usr/bin/env bash
# Runs the GPU tests (tests/gpu/test_cuda.c, test_cuda_cqt.c, test_cuda_stream.c, and the
# plugin tests with a "device") without a GPU, on a CPU emulation of CUDA
# (tests/cuda_emulator/README.md): the build option MELSPEC_CUDA_EMULATOR=ON makes the CUDA
# plugin from the real kernels/ compiled as C++ threads and the real src/cuda/ host code, on a
# host-side runtime/graph/cuFFT stand-in (FFTW for cuFFT), here under AddressSanitizer and
# UndefinedBehaviorSanitizer. Needs g++ (C++20), the CUDA toolkit's headers (not its libraries,
# no driver), FFTW (libfftw3-dev), KissFFT and cmocka. Not a substitute for a GPU run: see the
# README for what it does and does not check. Exits 77 where the CUDA headers are missing.
#
#   scripts/cuda-emulate.sh           # the whole test_cuda (about a minute), then the others
#   scripts/cuda-emulate.sh --quick   # test_cuda's quick subset, then the others
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

# the same places cmake/MelspecCudaEmulator.cmake looks, so that a missing toolkit is a skip
cuda_include=""
for dir in "${CUDA_HOME:-}/include" /usr/local/cuda/include /usr/include; do
  if [ -f "$dir/cuda_runtime_api.h" ] && [ -f "$dir/cufft.h" ]; then cuda_include=$dir; break; fi
done
if [ -z "$cuda_include" ]; then
  echo "cuda-emulate: no CUDA toolkit headers (cuda_runtime_api.h, cufft.h) found: skipped" >&2
  exit 77
fi

out=build-emu
cmake -S . -B "$out" -DMELSPEC_CUDA_EMULATOR=ON -DMELSPEC_CUDA=OFF \
  -DMELSPEC_SANITIZE="address;undefined" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMELSPEC_CUDA_HEADERS="$cuda_include" \
  -DMELSPEC_BUILD_EXAMPLES=OFF -DMELSPEC_BUILD_BENCH=OFF >/dev/null
cmake --build "$out" -j"$(nproc)" --target test_cuda test_cuda_cqt test_cuda_stream test_plugin \
  test_cuda_select test_cuda_features test_cuda_faults test_threads # faults, threads: issue 17

subset=$([ $quick = 1 ] && echo ', test_cuda quick subset' || true)
echo "cuda-emulate: the GPU tests on the CPU emulation$subset" >&2
MELSPEC_CUDA_TEST_QUICK=$quick ASAN_OPTIONS=detect_leaks=1 \
  ctest --test-dir "$out" --output-on-failure -R '^(test_cuda|plugin_|test_threads_cuda$)'
