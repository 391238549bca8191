#!/usr/bin/env bash
# Proves scripts/gpu-run.sh without a GPU (CI runs this): makes .gpu-carry/ when it is missing
# (scripts/gpu-prepare.sh; needs apt and pip to reach their registries), runs
# `scripts/gpu-run.sh --dry-run` (every step, the CUDA plugin on the CPU emulation, pkg-config
# restricted to the carry), and checks what the GPU run will be judged by: exit 0, report.md with
# the commit, every step's row, the short table last, at most 8 files under $OUT. Then it breaks
# one step on purpose (MELSPEC_GPU_BREAK=bench, on the build just made) and checks that the run
# exits non-zero and says FAILED. Exits 77 where the CUDA headers for the emulation are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

cuda_headers=""
for dir in "${CUDA_HOME:-}/include" /usr/local/cuda/include /usr/include; do
  [ -f "$dir/cuda_runtime_api.h" ] && [ -f "$dir/cufft.h" ] && { cuda_headers=$dir; break; }
done
if [ -z "$cuda_headers" ]; then
  echo "gpu-dry-run: no CUDA toolkit headers for the emulation: skipped" >&2
  exit 77
fi

die() { echo "gpu-dry-run: $*" >&2; exit 1; }

# compare.py needs numpy (and uses librosa when it can): the project's venv where setup.sh made it
# shellcheck source=scripts/env.sh
[ -x .venv/bin/python ] && source scripts/env.sh

# A carry made for another commit still works (the packages do not change with it), but its
# COMMIT file would name the wrong commit: make it again when it is older than HEAD.
if [ ! -f .gpu-carry/COMMIT ] ||
   [ "$(sed -n 's/^commit //p' .gpu-carry/COMMIT)" != "$(git rev-parse HEAD 2>/dev/null)" ]; then
  scripts/gpu-prepare.sh
fi

out=${OUT:-$PWD/build-gpu-dry-out}
status=0
OUT=$out scripts/gpu-run.sh --dry-run >build-gpu-dry.log 2>&1 || status=$?
tail -40 build-gpu-dry.log
[ $status -eq 0 ] || die "scripts/gpu-run.sh --dry-run exited $status (build-gpu-dry.log, $out/)"

report=$out/report.md
[ -f "$report" ] || die "no $report"
grep -q "commit measured: [0-9a-f]\{12\}" "$report" || die "report.md names no commit"
for step in wheels build "gpu tests" bench compare sanitizer example; do
  grep -q "^| $step | " "$report" || die "report.md has no row for '$step'"
done
grep -q '| realtime | cpu |' "$report" || die "report.md has no benchmark table"
! grep -q 'FAILED' "$report" || die "report.md says FAILED"
last=$(grep -n '^==== short table' build-gpu-dry.log | tail -1 | cut -d: -f1)
[ -n "$last" ] || die "no short table at the end of the output"
tail -n +"$last" build-gpu-dry.log | grep -q '| realtime | cpu |' || die "the short table is not last"
n_files=$(find "$out" -type f | wc -l)
[ "$n_files" -le 8 ] || die "$n_files files under $out (the device tool returns 8)"

# A failing step must fail the run (steps after the build only: the build is already there).
broken_out=$out-broken
status=0
OUT=$broken_out MELSPEC_GPU_BREAK=bench MELSPEC_GPU_STEPS=env,build,bench \
  scripts/gpu-run.sh --dry-run >build-gpu-dry-broken.log 2>&1 || status=$?
[ $status -ne 0 ] || die "a broken bench step did not fail the run (build-gpu-dry-broken.log)"
grep -q '^| bench | FAILED' "$broken_out/report.md" || die "a broken bench step is not reported FAILED"
rm -rf "$broken_out"
echo "gpu-dry-run: passed (report: $report)" >&2
