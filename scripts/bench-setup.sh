#!/usr/bin/env bash
# Prepares what bench/compare.py compares against, apart from the project's own environment:
# a virtual environment at build/bench-venv (from /usr/bin/python3, Debian's Python) with
# librosa, and torch + torchaudio from PyPI as users install them. torchaudio's wheels are built
# against one torch release each, and the newest torchaudio (2.11) is older than the torch the
# project's tests use (.venv: 2.15), hence an environment of its own. (Debian's python3-torchaudio
# is torch 1.13 with a slow FFT: 111 ms on the music case where librosa takes 25 ms, which is not
# what users measure.) About 5 GB (PyPI's torch brings its CUDA libraries) and a few minutes.
# Then: build/bench-venv/bin/python bench/compare.py --library build/libmelspec.so
# Not part of the test setup (scripts/setup.sh) nor of CI; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=${TORCH_VERSION:-2.11.0}
TORCHAUDIO_VERSION=${TORCHAUDIO_VERSION:-2.11.0}
LIBROSA_VERSION=${LIBROSA_VERSION:-0.11.0}

if ! /usr/bin/python3 -c "import ensurepip, venv" 2>/dev/null; then
  echo "bench-setup: installing python3-venv" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    python3-venv >/dev/null
fi

venv=build/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p build
  /usr/bin/python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "torch==$TORCH_VERSION" "torchaudio==$TORCHAUDIO_VERSION" "librosa==$LIBROSA_VERSION"
"$venv/bin/python" - <<'PY'
import librosa, numpy, torch, torchaudio
print(f"bench-setup: librosa {librosa.__version__}, numpy {numpy.__version__}, "
      f"torch {torch.__version__}, torchaudio {torchaudio.__version__} (PyPI)")
PY
echo "bench-setup: run $venv/bin/python bench/compare.py" >&2
