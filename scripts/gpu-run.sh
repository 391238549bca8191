#!/usr/bin/env bash
# Builds melspec with the CUDA backend on a bare GPU machine (CUDA toolkit, CMake, a C compiler,
# Python; no Debian dev packages, no network), runs the GPU tests, the GPU tests again under
# compute-sanitizer (a quick subset), the other tests, the CUDA example, the benchmark when
# build/bench/melspec-bench was built, and bench/compare.py (torchaudio on CUDA, torch.compile)
# when python3 has torch with CUDA; writes a short markdown report and the logs to $OUT.
#
#   scripts/gpu-prepare.sh   # once, on a machine with network: fills .debs/ (git-ignored)
#   device tool: run(command="scripts/gpu-run.sh", carry=[".debs"], timeout_s=600)
#
# Runs anywhere: without a GPU the GPU tests skip and the report says so (a dry run).
# Environment (all optional):
#   OUT                       where the report and logs go (default: build-gpu-out/)
#   MELSPEC_GPU_BUILD_DIR     build folder (default: build)
#   MELSPEC_GPU_BUDGET_S      seconds for the whole run; later steps are skipped past it (540)
#   MELSPEC_GPU_STEPS         steps to run, comma-separated
#                             (build,gpu,sanitize,other,example,bench,compare)
#   MELSPEC_GPU_BENCH_ARGS    arguments for melspec-bench (default: none)
#   MELSPEC_GPU_ONLY_CARRIED  1: let pkg-config see only the carried packages (checks the carry)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${OUT:-$root/build-gpu-out}
build=${MELSPEC_GPU_BUILD_DIR:-build}
budget=${MELSPEC_GPU_BUDGET_S:-540}
steps=",${MELSPEC_GPU_STEPS:-build,gpu,sanitize,other,example,bench,compare},"
jobs=$(nproc 2>/dev/null || echo 4)
mkdir -p "$out"
report=$out/gpu-report.md
results=()    # "| step | result | seconds |" rows
failed=0

log() { echo "gpu-run: $*" >&2; }
want() { [[ $steps == *",$1,"* ]]; }
over_budget() { [ "$SECONDS" -ge "$budget" ]; }
left() { local l=$((budget - SECONDS)); [ "$l" -gt 10 ] && echo "$l" || echo 10; }
record() { results+=("| $1 | $2 | $3 |"); log "$1: $2 (${3}s)"; }

# ---- tools: nvcc on PATH, the carried Debian packages in a private prefix -------------------------
for dir in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
  if ! command -v nvcc >/dev/null 2>&1 && [ -x "$dir/nvcc" ]; then export PATH=$dir:$PATH; fi
done
multiarch=x86_64-linux-gnu
prefix=$root/$build/debs-prefix
carried="none"
if compgen -G ".debs/*.deb" >/dev/null; then
  rm -rf "$prefix"
  mkdir -p "$prefix"
  for deb in .debs/*.deb; do dpkg -x "$deb" "$prefix"; done
  # the .pc files name /usr: point them into the prefix
  for pc in "$prefix"/usr/lib/$multiarch/pkgconfig/*.pc "$prefix"/usr/share/pkgconfig/*.pc; do
    [ -f "$pc" ] && sed -i "s|/usr|$prefix/usr|g" "$pc"
  done
  pc_dirs=$prefix/usr/lib/$multiarch/pkgconfig:$prefix/usr/share/pkgconfig
  if [ "${MELSPEC_GPU_ONLY_CARRIED:-0}" = 1 ]; then
    export PKG_CONFIG_LIBDIR=$pc_dirs
  else
    export PKG_CONFIG_PATH=$pc_dirs${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
  fi
  export CMAKE_PREFIX_PATH=$prefix/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export LD_LIBRARY_PATH=$prefix/usr/lib/$multiarch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  if [ "${MELSPEC_GPU_ONLY_CARRIED:-0}" = 1 ] || ! command -v pkg-config >/dev/null 2>&1; then
    export PATH=$prefix/usr/bin:$PATH
  fi
  carried="$(ls .debs/*.deb | wc -l) packages from .debs/ unpacked into $prefix"
fi

gpu="none"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap \
        --format=csv,noheader 2>/dev/null | head -1)
fi
nvcc_version=$(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo "no nvcc")
log "GPU: $gpu; nvcc: $nvcc_version; carried: $carried"

# ---- build: retried without the command, examples, benchmark when their dependencies are missing
configured=""
built=0
if want build; then
  t0=$SECONDS
  : >"$out/build.log"
  for extra in "" "-DMELSPEC_BUILD_TOOLS=OFF -DMELSPEC_BUILD_EXAMPLES=OFF" \
               "-DMELSPEC_BUILD_TOOLS=OFF -DMELSPEC_BUILD_EXAMPLES=OFF -DMELSPEC_BUILD_BENCH=OFF"; do
    # shellcheck disable=SC2086
    if cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMELSPEC_CUDA=ON $extra \
         >>"$out/build.log" 2>&1; then
      configured="-DMELSPEC_CUDA=ON $extra"
      break
    fi
    log "configure with '$extra' failed; retrying with less"
    rm -f "$build/CMakeCache.txt"
  done
  if [ -n "$configured" ] && cmake --build "$build" -j"$jobs" >>"$out/build.log" 2>&1; then
    built=1
    warnings=$(grep -c -i 'warning' "$out/build.log" || true)
    record build "ok ($configured; $warnings warning lines)" $((SECONDS - t0))
  else
    failed=1
    record build "FAILED (see build.log)" $((SECONDS - t0))
  fi
fi

# ---- GPU tests (label gpu), verbose so the per-case errors are in the log -------------------------
gpu_summary=""
if want gpu && [ $built = 1 ]; then
  t0=$SECONDS
  if over_budget; then record "gpu tests" "skipped (budget)" 0; else
    timeout "$(left)" ctest --test-dir "$build" -L gpu -V --timeout 400 >"$out/ctest-gpu.log" 2>&1
    status=$?
    gpu_summary=$(grep -E 'tests passed|tests failed|Skipped|Failed|worst error|ABOVE TOLERANCE|\[  (FAILED|ERROR) ' "$out/ctest-gpu.log" | head -40)
    if [ $status -ne 0 ]; then failed=1; record "gpu tests" "FAILED (exit $status)" $((SECONDS - t0))
    elif grep -q '(Skipped)\|Skipped' "$out/ctest-gpu.log"; then
      record "gpu tests" "passed, some skipped (no device?)" $((SECONDS - t0))
    else record "gpu tests" "passed" $((SECONDS - t0)); fi
  fi
fi

# ---- compute-sanitizer memcheck on the quick subset -----------------------------------------------
sanitizer_summary=""
if want sanitize && [ $built = 1 ]; then
  t0=$SECONDS
  sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
  if [ "$gpu" = none ]; then record sanitizer "not run (no GPU)" 0
  elif [ -z "$sanitizer" ]; then record sanitizer "not run (compute-sanitizer not found)" 0
  elif [ ! -x "$build/tests/test_cuda" ]; then record sanitizer "not run (no test_cuda)" 0
  elif over_budget; then record sanitizer "skipped (budget)" 0
  else
    limit=$(left); [ "$limit" -gt 240 ] && limit=240
    # API errors are the library's to check (and a few are expected: refused arguments).
    # test_cuda has the core linked in, away from the plugin: it is told where the plugin is.
    MELSPEC_CUDA_PLUGIN=$root/$build/libmelspec_cuda.so MELSPEC_CUDA_TEST_QUICK=1 timeout "$limit" "$sanitizer" --tool memcheck \
      --report-api-errors no --error-exitcode 99 "$build/tests/test_cuda" \
      >"$out/sanitizer.log" 2>&1
    status=$?
    sanitizer_summary=$(grep -E 'ERROR SUMMARY|LEAK SUMMARY|PASSED|FAILED' "$out/sanitizer.log" | tail -5)
    case $status in
      0) record sanitizer "clean (memcheck, quick subset)" $((SECONDS - t0)) ;;
      124) record sanitizer "timed out after ${limit}s (no verdict)" $((SECONDS - t0)) ;;
      *) failed=1; record sanitizer "FAILED (exit $status)" $((SECONDS - t0)) ;;
    esac
  fi
fi

# ---- every other test (CPU, golden, python): informative here ------------------------------------
other_summary=""
if want other && [ $built = 1 ]; then
  t0=$SECONDS
  # the python tests compare with librosa, which a GPU image usually lacks
  exclude=gpu note=""
  if ! python3 -c "import librosa, pytest" >/dev/null 2>&1; then
    exclude="gpu|python" note=", python tests left out: no librosa/pytest in python3"
  fi
  if over_budget; then record "other tests" "skipped (budget)" 0; else
    timeout "$(left)" ctest --test-dir "$build" -LE "$exclude" --output-on-failure -j"$jobs" \
      --timeout 300 >"$out/ctest-other.log" 2>&1
    status=$?
    other_summary=$(grep -E 'tests passed|tests failed|\(Failed\)|\(Timeout\)' "$out/ctest-other.log" | head -12)
    [ $status -eq 0 ] && record "other tests" "passed$note" $((SECONDS - t0)) ||
      record "other tests" "FAILED (exit $status; not GPU-specific$note)" $((SECONDS - t0))
  fi
fi

# ---- the CUDA example, built standalone against the installed package -----------------------------
if want example && [ $built = 1 ]; then
  t0=$SECONDS
  {
    cmake --install "$build" --prefix "$build/install" &&
      cmake -S examples/cuda -B "$build/example-cuda" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_PREFIX_PATH="$root/$build/install${CMAKE_PREFIX_PATH:+;${CMAKE_PREFIX_PATH//:/;}}" &&
      cmake --build "$build/example-cuda" -j"$jobs"
  } >"$out/example.log" 2>&1
  if [ $? -ne 0 ]; then failed=1; record example "FAILED to build (see example.log)" $((SECONDS - t0))
  elif [ "$gpu" = none ]; then record example "built; not run (no GPU)" $((SECONDS - t0))
  else
    LD_LIBRARY_PATH=$root/$build/install/lib:$root/$build/install/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
      timeout 60 "$build/example-cuda/melspec_cuda_example" >>"$out/example.log" 2>&1
    status=$?
    [ $status -eq 0 ] && record example "ran" $((SECONDS - t0)) ||
      { failed=1; record example "FAILED (exit $status)" $((SECONDS - t0)); }
  fi
fi

# ---- the benchmark, when bench/ built one ---------------------------------------------------------
if want bench && [ $built = 1 ]; then
  t0=$SECONDS
  bench=$build/bench/melspec-bench
  if [ ! -x "$bench" ]; then record benchmark "not run ($bench not built)" 0
  elif over_budget; then record benchmark "skipped (budget)" 0
  else
    # shellcheck disable=SC2086
    timeout "$(left)" "$bench" ${MELSPEC_GPU_BENCH_ARGS:-} >"$out/bench.log" 2>&1
    status=$?
    [ $status -eq 0 ] && record benchmark "ran (see bench.log)" $((SECONDS - t0)) ||
      record benchmark "exit $status (see bench.log)" $((SECONDS - t0))
  fi
fi

# ---- side by side with torchaudio on CUDA and torch.compile (bench/compare.py) ---------------------
# librosa is usually missing on the GPU image; compare.py then leaves its column out.
if want compare && [ $built = 1 ]; then
  t0=$SECONDS
  if over_budget; then record compare "skipped (budget)" 0
  elif ! python3 -c "import torch, torchaudio, numpy; assert torch.cuda.is_available()" \
      >/dev/null 2>&1; then
    record compare "not run (no torch/torchaudio with CUDA in python3)" 0
  else
    PYTHONPATH=python timeout "$(left)" python3 bench/compare.py --library "$build/libmelspec.so" \
      --label "GPU run, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
      >"$out/compare.log" 2>&1
    status=$?
    [ $status -eq 0 ] && record compare "ran (see compare.log)" $((SECONDS - t0)) ||
      record compare "exit $status (see compare.log)" $((SECONDS - t0))
  fi
fi

# ---- the report -------------------------------------------------------------------------------------
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "unknown (no .git)")
{
  echo "# melspec GPU run"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $commit"
  echo "- GPU: $gpu"
  echo "- CUDA compiler: $nvcc_version; CMake: $(cmake --version | head -1)"
  echo "- carried packages: $carried"
  [ "$gpu" = none ] && echo "- **no GPU on this machine: a dry run (GPU tests skip)**"
  echo
  echo "| step | result | seconds |"
  echo "|---|---|---|"
  printf '%s\n' "${results[@]}"
  if [ -n "$gpu_summary" ]; then
    echo; echo "## GPU tests"; echo; echo '```'; echo "$gpu_summary"; echo '```'
  fi
  if [ -n "$sanitizer_summary" ]; then
    echo; echo "## compute-sanitizer"; echo; echo '```'; echo "$sanitizer_summary"; echo '```'
  fi
  if [ -n "$other_summary" ]; then
    echo; echo "## Other tests"; echo; echo '```'; echo "$other_summary"; echo '```'
  fi
  if [ -f "$out/example.log" ] && [ "$gpu" != none ]; then
    echo; echo "## Example"; echo; echo '```'; tail -8 "$out/example.log"; echo '```'
  fi
  if [ -f "$out/bench.log" ]; then
    echo; echo "## Benchmark (last lines)"; echo; echo '```'; tail -40 "$out/bench.log"; echo '```'
  fi
  echo
  if [ -f "$out/compare.log" ]; then
    echo; echo "## bench/compare.py (last lines)"; echo; echo '```'; tail -40 "$out/compare.log"; echo '```'
  fi
  echo "Logs beside this report: $(cd "$out" && ls *.log 2>/dev/null | tr '\n' ' ')"
} >"$report"
cat "$report"
exit $failed
