#!/usr/bin/env bash
# The single command of a GPU lease (docs/cuda.md, "Running on a GPU machine"). On the bare GPU
# machine (nvcc, CMake, ninja, compute-sanitizer, python3 3.12 with torch; no network, no Debian
# dev packages) it uses only the tree and .gpu-carry/ (made here by scripts/gpu-prepare.sh):
#
#   env        nvidia-smi, versions, the carried packages and wheels
#   build      Ninja (else make), the CUDA plugin for sm_90 only, tests, bench, example
#   gpu        the GPU tests in full; a skip where a device is visible is a failure
#   bench      melspec-bench --verify --json on every DESIGN.md case, host and device pointers
#              (verified against the CPU backend), then the CPU rows for the ratios
#   compare    bench/compare.py: torchaudio on CUDA and the torch.compile'd recipe, same GPU
#   sanitize   compute-sanitizer memcheck on the GPU tests, racecheck on the stream and graph
#              tests, within a fixed cap (last: the measurements come first)
#   example    the CUDA example against the installed package
#
# Each step runs under its own `timeout` (its cap, or what is left of the whole budget, 450 s by
# default: the whole stays under 8 minutes). $OUT gets at most 8 files: report.md (commit, GPU,
# steps, the short table), env.log, build.log, gpu-tests.log, sanitizer.log, bench.json,
# bench.log, compare.log. The short table is printed last. Exits non-zero when a step failed.
#
#   scripts/gpu-prepare.sh                                        # here, once
#   run(command="scripts/gpu-run.sh", carry=[".gpu-carry"], timeout_s=540)
#
# --dry-run: the same steps on this machine, with the CUDA plugin built on the CPU emulation of
# the CUDA runtime (tests/cuda_emulator; the emulated device counts as a visible one), pkg-config
# restricted to the carried packages (a missing carry fails the build, as it would there), short
# timings, and a stand-in for compute-sanitizer (which nothing here has) that runs the same
# command lines and checks nothing. It proves the script's own logic; scripts/gpu-dry-run.sh
# runs it and checks its report (CI does).
#
# Environment (all optional): OUT (default build-gpu-out/, build-gpu-dry-out/ for --dry-run),
# MELSPEC_GPU_BUILD_DIR (build-gpu/, build-gpu-dry/), MELSPEC_GPU_BUDGET_S (450; 1500 dry),
# MELSPEC_GPU_STEPS (env,build,gpu,bench,compare,sanitize,example), MELSPEC_GPU_BREAK=STEP
# (replaces that step's command by a failing one: how the dry run proves a failure is seen).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

dry=0
for arg in "$@"; do
  case $arg in
    --dry-run) dry=1 ;;
    -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
    *) echo "gpu-run: unknown argument $arg" >&2; exit 2 ;;
  esac
done

if [ $dry = 1 ]; then
  out=${OUT:-$root/build-gpu-dry-out} build=${MELSPEC_GPU_BUILD_DIR:-build-gpu-dry}
  budget=${MELSPEC_GPU_BUDGET_S:-1500}
else
  out=${OUT:-$root/build-gpu-out} build=${MELSPEC_GPU_BUILD_DIR:-build-gpu}
  budget=${MELSPEC_GPU_BUDGET_S:-450}
fi
case $build in /*) ;; *) build=$root/$build ;; esac
steps=",${MELSPEC_GPU_STEPS:-env,build,gpu,bench,compare,sanitize,example},"
broken=${MELSPEC_GPU_BREAK:-}
jobs=$(nproc 2>/dev/null || echo 4)
carry=$root/.gpu-carry
multiarch=x86_64-linux-gnu
mkdir -p "$out" "$build"
rm -f "$out"/*.log "$out"/report.md "$out"/bench.json
results=()    # "| step | result | seconds |"
failed=0

log() { echo "gpu-run: $*" >&2; }
want() { [[ $steps == *",$1,"* ]]; }
record() { results+=("| $1 | $2 | $3 |"); log "$1: $2 (${3}s)"; }
fail() { failed=1; record "$1" "FAILED: $2" "$3"; }
# seconds a step may take: its cap, or what is left of the budget (at least 5)
limit() { local l=$((budget - SECONDS)); [ "$l" -lt "$1" ] || l=$1; [ "$l" -ge 5 ] || l=5; echo "$l"; }
# timed STEP CAP COMMAND...: the command under `timeout`, or a failing stand-in for MELSPEC_GPU_BREAK
timed() {
  local step=$1 cap=$2; shift 2
  if [ "$broken" = "$step" ]; then echo "gpu-run: MELSPEC_GPU_BREAK=$step: failing on purpose"; return 3; fi
  timeout -k 5 "$(limit "$cap")" "$@"
}
# cap per step: real run, dry run
cap() { [ $dry = 1 ] && echo "$2" || echo "$1"; }

# ---- env: the carry, the toolchain, the GPU -------------------------------------------------------
env_log=$out/env.log
: >"$env_log"
for dir in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
  if ! command -v nvcc >/dev/null 2>&1 && [ -x "$dir/nvcc" ]; then export PATH=$dir:$PATH; fi
done

prefix=$carry/root/usr
lib=$prefix/lib/$multiarch
# The commit measured: git's where the tree has .git (the dry run), else the one gpu-prepare.sh
# recorded, with whether the tracked files still match what it checksummed then.
commit="unknown (no .git, no .gpu-carry/COMMIT)"
if git_head=$(git rev-parse --short=12 HEAD 2>/dev/null); then
  commit="$git_head (git$([ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ', uncommitted changes'))"
elif [ -f "$carry/COMMIT" ]; then
  commit="$(sed -n 's/^commit //p' "$carry/COMMIT" | cut -c1-12) (.gpu-carry/COMMIT"
  if [ -f "$carry/TREE.sha256" ]; then
    changed=$(sha256sum --quiet -c "$carry/TREE.sha256" 2>/dev/null | grep -c ': FAILED' || true)
    [ "$changed" = 0 ] && commit="$commit; tree as prepared, dirty: $(sed -n 's/^dirty //p' "$carry/COMMIT" | cut -d' ' -f1))" ||
      commit="$commit; $changed tracked files changed since gpu-prepare.sh)"
  else commit="$commit)"; fi
fi
carried="none"
pkg_config=""
if [ ! -f "$prefix/bin/pkgconf" ] || [ ! -d "$lib/pkgconfig" ]; then
  fail env ".gpu-carry/ is missing or incomplete: run scripts/gpu-prepare.sh here first and carry it" 0
else
  # Only the carried .pc files (plus, in the dry run, FFTW's for the emulated cuFFT): what the
  # GPU machine lacks must come from the carry, here too.
  pc_dirs=$lib/pkgconfig:$prefix/share/pkgconfig
  if [ $dry = 1 ]; then
    fftw_pc=$(pkg-config --variable=pcfiledir fftw3f 2>/dev/null || true)
    if [ -n "$fftw_pc" ]; then
      mkdir -p "$build/dry-run-pc" && cp "$fftw_pc/fftw3f.pc" "$build/dry-run-pc/"
      pc_dirs=$pc_dirs:$build/dry-run-pc
    fi
  fi
  export PKG_CONFIG_LIBDIR=$pc_dirs
  unset PKG_CONFIG_PATH
  export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export CMAKE_PREFIX_PATH=$prefix${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  if "$prefix/bin/pkgconf" --version >/dev/null 2>&1; then pkg_config=$prefix/bin/pkgconf
  else pkg_config=$(command -v pkg-config || true); fi
  carried="$(grep -c '^Package:' "$carry/MANIFEST" 2>/dev/null || echo '?') packages, $(ls "$carry"/wheels/*.whl 2>/dev/null | wc -l) wheels; pkg-config: $pkg_config"
fi

gpu="none" visible=0
if [ $dry = 1 ]; then
  gpu="CPU emulation of the CUDA runtime (dry run)" visible=1
elif want env; then
  t0=$SECONDS
  if timed env 30 nvidia-smi >>"$env_log" 2>&1; then
    gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,clocks.sm,clocks.max.sm \
          --format=csv,noheader 2>/dev/null | head -1)
    nvidia-smi -L 2>/dev/null | grep -q '^GPU ' && visible=1
  fi
  [ $visible = 1 ] && record nvidia-smi "$gpu" $((SECONDS - t0)) ||
    fail nvidia-smi "no GPU visible: this is not a GPU run (use --dry-run without one)" $((SECONDS - t0))
fi
nvcc_version=$(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo "no nvcc")
{
  echo "== commit: $commit"; echo "== GPU: $gpu"; echo "== nvcc: $nvcc_version"
  echo "== cmake: $(cmake --version 2>/dev/null | head -1)"; echo "== python3: $(python3 --version 2>&1)"
  echo "== carried: $carried"; cat "$carry/MANIFEST" 2>/dev/null
} >>"$env_log"

# librosa and the dependencies the image lacks, from the carried wheels, into a private folder
pysite=$build/pysite
librosa_state="n/a (no wheels carried)"
if want env && compgen -G "$carry/wheels/*.whl" >/dev/null; then
  t0=$SECONDS
  rm -rf "$pysite"
  pip_target=(--target "$pysite")
  # Here python3 may not be 3.12: install for 3.12 (which checks the set), import only there.
  [ $dry = 1 ] && pip_target+=(--only-binary=:all: --python-version 3.12 --implementation cp
                               --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64)
  if timed env 120 python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
       "${pip_target[@]}" "$carry"/wheels/*.whl >>"$env_log" 2>&1; then
    if [ $dry = 1 ]; then
      librosa_state="wheels install for cp312 (not imported: python3 here is $(python3 -c 'import platform; print(platform.python_version())'))"
      record wheels "$librosa_state" $((SECONDS - t0))
    elif version=$(PYTHONPATH=$pysite python3 -c 'import librosa, librosa.feature; print(librosa.__version__)' 2>>"$env_log"); then
      export PYTHONPATH=$pysite${PYTHONPATH:+:$PYTHONPATH}
      librosa_state="librosa $version"
      record wheels "$librosa_state importable" $((SECONDS - t0))
    else
      librosa_state="n/a (import failed, env.log)"
      fail wheels "installed, but librosa does not import (env.log)" $((SECONDS - t0))
    fi
  else
    librosa_state="n/a (pip install failed)"
    fail wheels "pip install of the carried wheels (env.log)" $((SECONDS - t0))
  fi
fi

# ---- build -------------------------------------------------------------------------------------------
build_log=$out/build.log
built=0
if want build && [ -n "$pkg_config" ]; then
  t0=$SECONDS
  if command -v ninja >/dev/null 2>&1; then generator=Ninja
  elif command -v make >/dev/null 2>&1; then generator="Unix Makefiles"
  else generator=""; fi
  if [ $dry = 1 ]; then
    cuda_include=""
    for dir in "${CUDA_HOME:-}/include" /usr/local/cuda/include /usr/include; do
      [ -f "$dir/cuda_runtime_api.h" ] && [ -f "$dir/cufft.h" ] && { cuda_include=$dir; break; }
    done
    cuda_args=(-DMELSPEC_CUDA=OFF -DMELSPEC_CUDA_EMULATOR=ON -DMELSPEC_CUDA_HEADERS="$cuda_include")
  else
    cuda_args=(-DMELSPEC_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90)
  fi
  if [ -z "$generator" ]; then
    fail build "neither ninja nor make found" 0
  elif [ $dry = 1 ] && [ -z "$cuda_include" ]; then
    fail build "no CUDA toolkit headers for the emulation" 0
  else
    # A configure in a folder made by another generator fails: start clean when it differs.
    if [ -f "$build/CMakeCache.txt" ] &&
       ! grep -q "^CMAKE_GENERATOR:INTERNAL=$generator\$" "$build/CMakeCache.txt"; then
      rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
    fi
    if timed build "$(cap 90 600)" cmake -S . -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
         -DPKG_CONFIG_EXECUTABLE="$pkg_config" "${cuda_args[@]}" >>"$build_log" 2>&1 &&
       timed build "$(cap 240 900)" cmake --build "$build" -j"$jobs" >>"$build_log" 2>&1; then
      built=1
      warnings=$(grep -ci 'warning' "$build_log" || true)
      record build "ok ($generator; ${cuda_args[*]}; $warnings warning lines)" $((SECONDS - t0))
    else
      fail build "exit $? (build.log: $(grep -m1 -iE 'error|not found' "$build_log" | cut -c1-120))" $((SECONDS - t0))
    fi
  fi
fi

# the plugin the tests and tools load, and the tests' rule: a device is there, so nothing skips
plugin=$build/libmelspec_cuda.so
export MELSPEC_CUDA_PLUGIN=$plugin
[ $visible = 1 ] && export MELSPEC_GPU_REQUIRED=1

# ---- the GPU tests, in full (the dry run: test_cuda's quick subset) ---------------------------------
gpu_log=$out/gpu-tests.log
gpu_summary=""
if want gpu && [ $built = 1 ]; then
  t0=$SECONDS
  quick=$dry
  # test_cuda_faults injects faults through the CUDA emulator only: on a device it skips (77),
  # which this run counts as a failure, so it is left to scripts/cuda-emulate.sh
  MELSPEC_CUDA_TEST_QUICK=$quick timed gpu "$(cap 120 600)" \
    ctest --test-dir "$build" -L gpu -E '^test_cuda_faults$' -V --timeout "$(cap 110 580)" \
    >"$gpu_log" 2>&1
  status=$?
  gpu_summary=$(grep -E 'tests passed|tests failed|Skipped|Not Run|worst|ABOVE TOLERANCE|\[  (FAILED|ERROR) ' "$gpu_log" | head -30)
  ran=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#' "$gpu_log" || true)
  if [ $status -ne 0 ]; then fail "gpu tests" "exit $status (gpu-tests.log)" $((SECONDS - t0))
  elif [ "$ran" -lt 3 ]; then fail "gpu tests" "only $ran GPU test programs ran (3 expected)" $((SECONDS - t0))
  elif [ $visible = 1 ] && grep -qE '\*\*\*Skipped|\(Skipped\)|Not Run' "$gpu_log"; then
    fail "gpu tests" "a test skipped although a device is visible" $((SECONDS - t0))
  else record "gpu tests" "$ran programs passed$([ $quick = 1 ] && echo ', test_cuda quick subset')" $((SECONDS - t0)); fi
fi

# ---- the benchmark: every case, host and device pointers, verified ------------------------------------
bench=$build/bench/melspec-bench
if want bench && [ $built = 1 ]; then
  t0=$SECONDS
  if [ ! -x "$bench" ]; then fail bench "$bench not built" 0
  else
    # The GPU rows first, verified against the CPU backend (cheap); then the CPU rows for the
    # ratios, unverified on the GPU machine: their check against the float64 direct DFT costs
    # tens of seconds on batch and music and is CI's job (the dry run does it, at --quick sizes).
    if [ $dry = 1 ]; then gpu_args=(--quick) cpu_args=(--quick --verify)
    else gpu_args=(--warmup 0.3 --min-time 0.5 --max-time 3 --min-calls 50)
         cpu_args=(--warmup 0.1 --min-time 0.2 --max-time 1 --min-calls 5); fi
    rm -f "$build/bench-gpu.json" "$build/bench-cpu.json"
    timed bench "$(cap 100 300)" "$bench" --backend cuda --verify --json "${gpu_args[@]}" \
      >"$build/bench-gpu.json" 2>"$out/bench.log"
    status=$?
    timed bench "$(cap 40 300)" "$bench" --backend cpu --json "${cpu_args[@]}" \
      >"$build/bench-cpu.json" 2>>"$out/bench.log"
    cpu_status=$?
    [ $status -ne 0 ] || status=$cpu_status
    python3 - "$build/bench-gpu.json" "$build/bench-cpu.json" >"$out/bench.json" 2>>"$out/bench.log" <<'EOF'
import json, sys
docs = []
for path in sys.argv[1:]:
    try:
        docs.append(json.load(open(path)))
    except Exception as error:  # a run cut short: keep what the other gave
        print(f"bench: {path}: {error}", file=sys.stderr)
merged = dict(docs[0]) if docs else {}
merged["results"] = [r for d in docs for r in d["results"]]
json.dump(merged, sys.stdout, indent=1)
EOF
    # Every case must have its rows: on a GPU, CPU + host + device pointers; the emulated build
    # links no CUDA runtime into the benchmark, so the dry run has CPU rows only.
    modes=$([ $dry = 1 ] && echo cpu || echo cpu,cuda-host,cuda-device)
    missing=$(python3 - "$out/bench.json" "$modes" <<'EOF' 2>>"$out/bench.log"
import json, sys
rows = json.load(open(sys.argv[1]))["results"]
have = {(r["case"], r["backend"]) for r in rows if r.get("measured")}
cases = ["realtime", "stream", "whisper", "music", "cqt", "batch"]
# streams take host samples: the stream case has no device-pointer row (bench.c says so)
print(" ".join(f"{c}/{m}" for c in cases for m in sys.argv[2].split(",")
               if (c, m) not in have and (c, m) != ("stream", "cuda-device")))
EOF
    ) || missing="(bench.json unreadable)"
    if [ $status -ne 0 ]; then fail bench "exit $status (a case failed --verify, did not run or timed out; bench.log)" $((SECONDS - t0))
    elif [ -n "$missing" ]; then fail bench "rows missing: $missing" $((SECONDS - t0))
    elif [ $dry = 1 ]; then record bench "every case measured and verified (cpu; --quick)" $((SECONDS - t0))
    else record bench "every case measured ($modes); GPU rows verified against the CPU" $((SECONDS - t0)); fi
  fi
fi

# ---- side by side: torchaudio on CUDA and torch.compile on the same GPU --------------------------------
compare_log=$out/compare.log
if want compare && [ $built = 1 ]; then
  t0=$SECONDS
  have_torch=0
  python3 -c "import torch, torchaudio; assert torch.cuda.is_available()" >/dev/null 2>&1 && have_torch=1
  compare_args=(--library "$build/libmelspec.so" --label "commit ${commit%% *}")
  if [ $dry = 1 ]; then compare_args+=(--quick --without-librosa --cases realtime,whisper)
  else compare_args+=(--min-time 0.5 --max-calls 2000 --cases realtime,whisper,music); fi
  PYTHONPATH=$root/python${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 \
    timed compare "$(cap 120 180)" python3 bench/compare.py "${compare_args[@]}" >"$compare_log" 2>&1
  status=$?
  if [ $status -ne 0 ]; then fail compare "exit $status (compare.log)" $((SECONDS - t0))
  elif [ $have_torch = 0 ] && [ $dry = 0 ]; then
    fail compare "python3 has no torch/torchaudio with CUDA: no torchaudio or torch.compile figures" $((SECONDS - t0))
  elif [ $have_torch = 0 ]; then record compare "ran without torch (dry run); librosa: $librosa_state" $((SECONDS - t0))
  else record compare "ran; librosa: $librosa_state" $((SECONDS - t0)); fi
fi

# ---- compute-sanitizer, within a fixed cap --------------------------------------------------------------
san_log=$out/sanitizer.log
sanitizer_summary=""
if want sanitize && [ $built = 1 ]; then
  t0=$SECONDS
  sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
  if [ $dry = 1 ]; then
    # The stand-in takes the same arguments and runs the program: it checks nothing.
    sanitizer=$build/compute-sanitizer-standin
    printf '%s\n' '#!/usr/bin/env bash' \
      'while [ $# -gt 0 ] && [[ $1 == --* ]]; do case $1 in --*=*) shift ;; *) shift 2 ;; esac; done' \
      'echo "========= dry-run stand-in for compute-sanitizer: nothing is checked"' \
      '"$@"; s=$?; echo "========= ERROR SUMMARY: not checked (stand-in)"; exit $s' >"$sanitizer"
    chmod +x "$sanitizer"
  fi
  san_cap=$(cap 120 400) san_end=$((SECONDS + $(cap 120 400)))
  : >"$san_log"
  if [ -z "$sanitizer" ]; then fail sanitizer "compute-sanitizer not found" 0
  else
    san_fail=0 san_runs=0 san_timeouts=0
    # tool, test, per-run cap (real, dry): memcheck everywhere, racecheck where streams and graphs are
    while read -r tool test run_cap dry_cap; do
      left=$((san_end - SECONDS)); [ "$left" -ge 10 ] || { echo "== $tool $test: no time left" >>"$san_log"; san_timeouts=$((san_timeouts + 1)); continue; }
      c=$(cap "$run_cap" "$dry_cap"); [ "$c" -le "$left" ] || c=$left
      echo "== $tool $test (cap ${c}s)" >>"$san_log"
      extra=(); [ "$tool" = racecheck ] && extra=(--racecheck-report hazard)
      MELSPEC_CUDA_TEST_QUICK=1 timed sanitize "$c" "$sanitizer" --tool "$tool" --error-exitcode 99 \
        --report-api-errors no "${extra[@]}" "$build/tests/$test" </dev/null >>"$san_log" 2>&1
      s=$?; san_runs=$((san_runs + 1))
      case $s in 0) ;; 124|137) san_timeouts=$((san_timeouts + 1)); echo "== timed out" >>"$san_log" ;;
                  *) san_fail=1; echo "== exit $s" >>"$san_log" ;; esac
    done <<'EOF'
memcheck test_cuda 45 200
memcheck test_cuda_stream 25 60
memcheck test_cuda_cqt 25 60
racecheck test_cuda_stream 25 60
racecheck test_cuda 40 200
EOF
    sanitizer_summary=$(grep -E '^== |ERROR SUMMARY' "$san_log" | head -20)
    what="$san_runs runs (memcheck x3, racecheck x2; test_cuda quick subset), cap ${san_cap}s"
    [ $dry = 1 ] && what="$what; dry run: a stand-in, nothing checked"
    if [ $san_fail = 1 ]; then fail sanitizer "errors reported ($what; sanitizer.log)" $((SECONDS - t0))
    elif [ $san_timeouts -gt 0 ]; then record sanitizer "clean where it finished; $san_timeouts cut by the cap ($what)" $((SECONDS - t0))
    else record sanitizer "clean ($what)" $((SECONDS - t0)); fi
  fi
fi

# ---- the CUDA example, against the installed package (output into gpu-tests.log) ----------------------
if want example && [ $built = 1 ]; then
  t0=$SECONDS
  if [ $dry = 1 ]; then record example "not built (the emulated plugin is not installed)" 0
  else
    echo "== the CUDA example" >>"$gpu_log"
    {
      timed example 60 cmake --install "$build" --prefix "$build/install" &&
        timed example 60 cmake -S examples/cuda -B "$build/example-cuda" -G "$generator" \
          -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DPKG_CONFIG_EXECUTABLE="$pkg_config" \
          -DCMAKE_PREFIX_PATH="$build/install;$prefix" &&
        timed example 60 cmake --build "$build/example-cuda" -j"$jobs" &&
        ( # the installed plugin beside the installed core, as a user would have it
          unset MELSPEC_CUDA_PLUGIN
          LD_LIBRARY_PATH=$build/install/lib:$build/install/lib64:$LD_LIBRARY_PATH \
            timed example 30 "$build/example-cuda/melspec_cuda_example" )
    } >>"$gpu_log" 2>&1
    status=$?
    [ $status -eq 0 ] && record example "built and ran" $((SECONDS - t0)) ||
      fail example "exit $status (end of gpu-tests.log)" $((SECONDS - t0))
  fi
fi

# ---- the report, then the short table last --------------------------------------------------------------
short_table() {
  python3 - "$out/bench.json" "$dry" <<'EOF'
import json, sys
# Goals (the GPU-readiness issue) and floors (docs/cuda.md, "Floors per case": the larger of
# bytes / 4.3 TB/s and flops / 60 TFLOP/s, device pointers).
goals = {("realtime", "cuda-device"): "<= 15 us", ("realtime", "cuda-host"): "<= 40 us",
         ("whisper", "cuda-device"): "<= 60 us", ("cqt", "cuda-device"): "<= 100 us",
         ("batch", "cuda-device"): ">= 1e6 x real time", ("stream", "cuda-host"): "<= 100 us/step (1024 streams)"}
floors = {"realtime": "0.07 us", "stream": "0.4 us", "whisper": "1.0 us", "music": "2.4 us",
          "cqt": "3 us", "batch": "12 us"}
try:
    doc = json.load(open(sys.argv[1]))
except Exception as error:  # no benchmark output: say so in the table
    print(f"(no bench.json: {error})")
    sys.exit(0)
def t(s):
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"
print("| case | backend | median | p99 | x real time | verified | floor | goal |")
print("|---|---|--:|--:|--:|---|--:|---|")
for r in doc["results"]:
    c, b = r["case"], r["backend"]
    if r.get("measured"):
        med, p99, rt = t(r["median_s"]), t(r["p99_s"]), f"{r['audio_seconds_per_second']:.3g}"
    else:
        med = p99 = rt = "-"
    v = {True: "yes", False: "NO"}.get(r.get("verified"), "-")
    note = f" ({r['note']})" if r.get("note") else ""
    print(f"| {c} | {b} | {med} | {p99} | {rt} | {v}{note} | {floors.get(c, '-') if b != 'cpu' else '-'} | {goals.get((c, b), '')} |")
if sys.argv[2] == "1":
    print("(dry run: --quick sizes, no timing meaning)")
EOF
}
steps_table() { echo "| step | result | seconds |"; echo "|---|---|--:|"; printf '%s\n' "${results[@]}"; }
report=$out/report.md
{
  echo "# melspec GPU run$([ $dry = 1 ] && echo ' (DRY RUN on the CPU emulation: no GPU, no timing meaning)')"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit measured: $commit"
  echo "- GPU: $gpu; nvcc: $nvcc_version; $(cmake --version 2>/dev/null | head -1)"
  echo "- carried: $carried; librosa: $librosa_state"
  echo "- budget ${budget}s, used ${SECONDS}s; exit $failed"
  echo
  steps_table
  [ -n "$gpu_summary" ] && { echo; echo "## GPU tests"; echo '```'; echo "$gpu_summary"; echo '```'; }
  [ -n "$sanitizer_summary" ] && { echo; echo "## compute-sanitizer"; echo '```'; echo "$sanitizer_summary"; echo '```'; }
  if [ -f "$compare_log" ]; then
    echo; echo "## bench/compare.py"; echo; grep -E '^(\||Machine|Software)' "$compare_log" || tail -5 "$compare_log"
  fi
  echo; echo "## melspec-bench"; echo; short_table
} >"$report"
n_files=$(find "$out" -type f | wc -l)
if [ "$n_files" -gt 8 ]; then
  failed=1; echo "gpu-run: $n_files files under $out: the device tool returns 8 at most" >>"$report"
fi
cat "$report"
echo
echo "==== short table (commit $commit; exit $failed) ===="
steps_table
short_table
exit $failed
