#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian machine: system packages
# (apt-get, only those missing) and Python packages (pip, into the project's own virtual
# environment .venv/, never into the system Python: Debian's refuses pip, PEP 668). Safe to run
# again. Scripts that need the Python packages put .venv/bin first on PATH (scripts/env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  build-essential cmake pkg-config
  libkissfft-dev libfftw3-dev       # CPU FFT: KissFFT (default), FFTW (opt-in, GPL)
  libcmocka-dev valgrind           # tests
  libsndfile1-dev libsoxr-dev libpng-dev sox   # the melspec command and its tests
  libcairo2-dev fonts-dejavu-core  # issue 16: the command's figures (axes, text; PNG/SVG/PDF)
  python3 python3-venv              # the project's virtual environment (.venv/)
  clang libclang-rt-14-dev          # fuzzing (issue 17): libFuzzer and the sanitizer runtimes
)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating the virtual environment $venv" >&2
  # Debian's interpreter, the one python3-venv above serves
  "$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3)" -m venv "$venv"
fi
# pip only when something is missing: a rerun costs no network round trip
if ! "$venv/bin/python" -c "import numpy, librosa, soxr, pytest, scikit_build_core, torch, ray.data, atheris" >/dev/null 2>&1; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-test.txt
fi
