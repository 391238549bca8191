#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian machine: system packages
# (apt-get, only those missing) and Python packages (pip). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  build-essential cmake pkg-config
  libkissfft-dev libfftw3-dev       # CPU FFT: KissFFT (default), FFTW (opt-in, GPL)
  libcmocka-dev valgrind           # tests
  libsndfile1-dev libsoxr-dev libpng-dev sox   # the melspec command and its tests
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

python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r requirements-test.txt
