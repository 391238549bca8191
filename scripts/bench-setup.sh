#!/usr/bin/env bash
# Prepares what bench/compare.py compares against, without touching the system's Python:
#   - Debian's python3-torchaudio (CPU torch 1.13): PyPI's torch would pull gigabytes of CUDA
#     libraries. It is built for Debian's /usr/bin/python3, not for a pyenv/conda python3.
#   - a virtual environment at build/bench-venv made from /usr/bin/python3 with
#     --system-site-packages (so it sees that torch), with librosa pip-installed into it.
# Then: build/bench-venv/bin/python bench/compare.py --library build/libmelspec.so
# Not part of the test setup (scripts/setup.sh); safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(python3-torchaudio python3-venv python3-pip)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench-setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

venv=build/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p build
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
# numpy stays below 2: Debian's torch 1.13 is built against the numpy 1.x ABI.
"$venv/bin/python" -m pip install -q --disable-pip-version-check "librosa>=0.10.2" "numpy<2"
"$venv/bin/python" - <<'PY'
import librosa, numpy, torch, torchaudio
print(f"bench-setup: librosa {librosa.__version__}, numpy {numpy.__version__}, "
      f"torch {torch.__version__}, torchaudio {torchaudio.__version__}")
PY
echo "bench-setup: run $venv/bin/python bench/compare.py" >&2
