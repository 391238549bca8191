#!/usr/bin/env bash
# Run HERE (a Debian machine with network), before scripts/gpu-run.sh is sent to a GPU machine:
# downloads the Debian packages that a bare GPU machine lacks (KissFFT for the CPU backend,
# libsoxr for the CQT, cmocka for the tests, pkg-config to find them) into .debs/, which is
# git-ignored and travels with the device tool's `carry: [".debs"]`. gpu-run.sh unpacks them into a private prefix (dpkg -x), so
# nothing is installed on either machine. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  libkissfft-dev libkissfft-float131   # the CPU backend's FFT (headers, .pc, and the library)
  libsoxr-dev libsoxr0 libgomp1       # libsoxr: the CQT halves signals between octaves with it
  libcmocka-dev libcmocka0             # the C tests
  pkg-config pkgconf pkgconf-bin libpkgconf3   # pkg-config itself, in case the image has none
)

rm -rf .debs
mkdir -p .debs
(cd .debs && apt-get download "${packages[@]}")
ls -l .debs
echo "gpu-prepare: $(ls .debs/*.deb | wc -l) packages in .debs/ ($(du -sh .debs | cut -f1))"
