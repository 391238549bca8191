#!/usr/bin/env bash
# Installs the built melspec into a scratch prefix, then builds and runs a consumer through
# find_package(melspec) and through pkg-config.
set -euo pipefail
build_dir=$1
version=$2   # major.minor of the build: find_package must accept it
source_dir=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build_dir" --prefix "$scratch/prefix" >/dev/null
cmake -S "$source_dir" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" \
  -DMELSPEC_VERSION_WANTED="$version" >/dev/null
cmake --build "$scratch/build" >/dev/null
libdir=$(dirname "$(find "$scratch/prefix" -name 'libmelspec.so' | head -n 1)")
LD_LIBRARY_PATH="$libdir" "$scratch/build/consumer"
PKG_CONFIG_PATH="$libdir/pkgconfig" cc "$source_dir/consumer.c" -o "$scratch/consumer_pc" \
  $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs melspec)
LD_LIBRARY_PATH="$libdir" "$scratch/consumer_pc"
