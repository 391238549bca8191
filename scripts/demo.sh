#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, generates an example signal,
# computes its mel spectrogram with the melspec command, prints its shape and statistics, and
# writes example.npy and example.png under build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
mkdir -p build/demo
melspec=build/tools/cli/melspec
"$melspec" --version
"$melspec" --generate-example build/demo/example.wav
# --overwrite: build/demo/ is the demo's own folder, rewritten on every run
"$melspec" build/demo/example.wav --stats --overwrite -o build/demo/example.npy -o build/demo/example.png
echo "wrote build/demo/example.npy and build/demo/example.png" >&2
