#!/usr/bin/env bash
# Runs the GPU tests (tests/gpu/test_cuda.c, tests/gpu/test_cuda_cqt.c, tests/gpu/test_cuda_stream.c)
# without a GPU, on a CPU emulation of CUDA (tests/cuda_emulator/README.md): the real kernels/ compiled as
# C++ threads, the real src/cuda/ host code, a host-side runtime/graph/cuFFT stand-in (FFTW for
# cuFFT), all under AddressSanitizer and UndefinedBehaviorSanitizer. Needs g++ (C++20), the CUDA
# toolkit's headers (not its libraries, no driver), FFTW (libfftw3-dev), KissFFT and cmocka. Not a
# substitute for a GPU run: see the README for what it does and does not check.
#
#   scripts/cuda-emulate.sh           # the whole test_cuda (about a minute), then the others
#   scripts/cuda-emulate.sh --quick   # test_cuda's quick subset, then the others
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

cuda_include=""
for dir in "${CUDA_HOME:-}/include" /usr/local/cuda/include /usr/include; do
  if [ -f "$dir/cuda_runtime_api.h" ] && [ -f "$dir/cufft.h" ]; then cuda_include=$dir; break; fi
done
if [ -z "$cuda_include" ]; then
  echo "cuda-emulate: no CUDA toolkit headers (cuda_runtime_api.h, cufft.h) found: skipped" >&2
  exit 77
fi

out=build-emu
emu=tests/cuda_emulator
mkdir -p "$out/gen" "$out/obj"
rm -f "$out"/obj/*.o
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
kissfft_cflags=$(pkg-config --cflags kissfft-float)
kissfft_libs=$(pkg-config --libs kissfft-float)
cmocka_libs=$(pkg-config --libs cmocka)
soxr_libs=$(pkg-config --libs soxr)

# kernels: <<<>>> launches rewritten, compiled as C++ against the emulated device headers;
# no fused multiply-add, like the CPU backend
for cu in kernels/*.cu; do
  name=$(basename "$cu" .cu)
  python3 "$emu/convert.py" "$cu" "$out/gen/$name.cpp"
  g++ -std=c++20 $sanitize -ffp-contract=off -Wall -Wextra -I"$emu" -I"$cuda_include" -Ikernels -Isrc \
    -Iinclude -c "$out/gen/$name.cpp" -o "$out/obj/kernel_$name.o"
done
g++ -std=c++20 $sanitize -Wall -Wextra -I"$emu" -I"$cuda_include" -c "$emu/runtime.cpp" \
  -o "$out/obj/runtime.o"

# the library (CPU and CUDA backends) and the test, as the CMake build compiles them
cflags="-std=c11 $sanitize -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
        -Iinclude -Isrc -Itests/support -isystem $cuda_include $kissfft_cflags
        -DMELSPEC_FIXTURE_DIR=\"$PWD/tests/fixtures\""
for c in src/*.c src/dsp/*.c src/cpu/cpu.c src/cpu/scale.c src/cpu/cqt.c src/cpu/fft_kissfft.c \
         src/cuda/*.c tests/support/test_support.c tests/support/compare.c tests/support/reference.c; do
  extra=""
  [ "$c" = src/backend.c ] && extra=-DMELSPEC_HAVE_CUDA
  # shellcheck disable=SC2086
  gcc $cflags $extra -c "$c" -o "$out/obj/$(echo "$c" | tr / _).o"
done
for test in test_cuda test_cuda_cqt test_cuda_stream; do
  # shellcheck disable=SC2086
  gcc $cflags -c "tests/gpu/$test.c" -o "$out/$test.o"
  # shellcheck disable=SC2086
  g++ $sanitize "$out"/obj/*.o "$out/$test.o" -o "$out/$test" $kissfft_libs $soxr_libs -lfftw3f \
    $cmocka_libs -lm -lpthread
done

echo "cuda-emulate: running test_cuda on the CPU emulation$([ $quick = 1 ] && echo ', quick subset')" >&2
MELSPEC_CUDA_TEST_QUICK=$quick ASAN_OPTIONS=detect_leaks=1 "$out/test_cuda"
echo "cuda-emulate: running test_cuda_cqt on the CPU emulation" >&2
ASAN_OPTIONS=detect_leaks=1 "$out/test_cuda_cqt"
echo "cuda-emulate: running test_cuda_stream on the CPU emulation" >&2
ASAN_OPTIONS=detect_leaks=1 "$out/test_cuda_stream"
