#!/usr/bin/env bash
# Run HERE (a Debian machine where apt and pip reach their registries), before scripts/gpu-run.sh
# is sent to a GPU machine, which has no network at all. Fills ONE git-ignored folder,
# .gpu-carry/, with everything that machine lacks, so that the device tool's
# `carry: [".gpu-carry"]` is all the call needs:
#
#   root/      the Debian packages (KissFFT for the CPU backend, libsoxr for the CQT, cmocka for the
#              tests, pkgconf to find them) unpacked with `dpkg -x`; symbolic links replaced by
#              the files they name (a link may not survive the transfer) and every .pc file made
#              relocatable with ${pcfiledir}, so the folder works wherever the tree lands
#   wheels/    librosa and those of its dependencies the GPU image lacks, for its python3 3.12
#              (numpy, scipy, numba, scikit-learn, joblib, msgpack, lazy_loader, requests are there)
#   COMMIT     the commit (and whether the tree was dirty) this was prepared from: the device tool
#              copies the working tree without .git, so gpu-run.sh reads the commit from here
#   TREE.sha256  a checksum of every tracked file, so that gpu-run.sh can tell whether the tree
#              it measures is the one prepared
#   MANIFEST   what is in the folder, with versions and sizes
#
# Idempotent: every run starts from an empty folder. Fails loudly on any download or unpack
# error. Options: --no-wheels (librosa's column is then "n/a" on the GPU machine).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
carry=$root/.gpu-carry
multiarch=x86_64-linux-gnu
wheels=1
[ "${1:-}" = "--no-wheels" ] && wheels=0

die() { echo "gpu-prepare: $*" >&2; exit 1; }

# Package names and the wheels pinned: the GPU image's Python is 3.12 on x86-64 (KINDS.md).
debs=(
  libkissfft-dev libkissfft-float131            # the CPU backend's FFT (headers, .pc, library)
  libsoxr-dev libsoxr0 libsoxr-lsr0 libgomp1    # libsoxr (the CQT's octave decimation) and its needs
  libcmocka-dev libcmocka0                      # the C tests
  pkgconf pkgconf-bin libpkgconf3 pkg-config    # pkg-config itself: the image may have none
)
wheel_pins=(
  librosa==0.11.0 audioread==3.1.0 decorator==5.3.1 pooch==1.9.0 platformdirs==4.14.9
  soundfile==0.14.0 cffi==2.1.1 pycparser==3.12 soxr==1.1.0
)

[ "$(uname -m)" = x86_64 ] || die "this machine is $(uname -m); the carried packages must be x86-64"
command -v apt-get >/dev/null || die "apt-get not found (a Debian machine is needed)"
command -v dpkg >/dev/null || die "dpkg not found"

rm -rf "$carry"
mkdir -p "$carry/debs" "$carry/root"

# ---- Debian packages ----------------------------------------------------------------------------
# apt-get download writes into the current directory; as root it warns that _apt cannot write
# there, which is harmless (the download then runs unsandboxed).
(cd "$carry/debs" && apt-get download "${debs[@]}") || die "apt-get download failed"
for name in "${debs[@]}"; do
  compgen -G "$carry/debs/${name}_*.deb" >/dev/null || die "$name: no .deb downloaded"
done
for deb in "$carry"/debs/*.deb; do
  dpkg -x "$deb" "$carry/root" || die "dpkg -x $(basename "$deb") failed"
done
# Only what a build and a run need: documentation goes, links become the files they name.
rm -rf "$carry/root/usr/share/doc" "$carry/root/usr/share/man" "$carry/root/usr/share/lintian"
while IFS= read -r -d '' link; do
  target=$(readlink -f "$link") || die "$link: cannot resolve"
  [ -f "$target" ] || die "$link points to nothing inside the carry ($(readlink "$link"))"
  cp --remove-destination "$target" "$link"
done < <(find "$carry/root" -type l -print0)
[ -z "$(find "$carry/root" -type l)" ] || die "symbolic links left in $carry/root"

# .pc files name /usr: make them relative to where each .pc file lies
pc_count=0
for pc in "$carry"/root/usr/lib/$multiarch/pkgconfig/*.pc "$carry"/root/usr/share/pkgconfig/*.pc; do
  [ -f "$pc" ] || continue
  case $pc in
    */lib/$multiarch/pkgconfig/*) up='${pcfiledir}/../../..' ;;
    *) up='${pcfiledir}/../..' ;;
  esac
  sed -i "s|/usr|$up|g" "$pc"
  pc_count=$((pc_count + 1))
done
[ "$pc_count" -ge 3 ] || die "expected the .pc files of kissfft-float, soxr and cmocka, found $pc_count"

# Check the result here, as gpu-run.sh will use it: the carried pkgconf alone, the carried .pc
# files alone, every needed module resolving into the carry.
lib=$carry/root/usr/lib/$multiarch
for module in kissfft-float soxr cmocka; do
  flags=$(LD_LIBRARY_PATH=$lib PKG_CONFIG_LIBDIR=$lib/pkgconfig \
          "$carry/root/usr/bin/pkgconf" --cflags --libs "$module") ||
    die "the carried pkgconf cannot resolve $module"
  case $flags in *"$carry"/root/usr/*) ;; *) die "$module resolves outside the carry: $flags" ;; esac
done
for so in libkissfft-float.so libsoxr.so libcmocka.so libgomp.so.1; do
  [ -f "$lib/$so" ] || die "$lib/$so missing"
done
# The GPU image's C library must be at least as new as the newest symbol version these need.
glibc_needed=$(find "$carry/root" -type f \( -name '*.so*' -o -path '*/bin/*' \) -exec \
                 objdump -T {} + 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)

# ---- wheels for librosa's column ------------------------------------------------------------------
if [ $wheels = 1 ]; then
  mkdir -p "$carry/wheels"
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
    -d "$carry/wheels" "${wheel_pins[@]}" || die "pip download of the wheels failed"
  for pin in "${wheel_pins[@]}"; do
    name=${pin%%==*} version=${pin#*==}
    compgen -G "$carry/wheels/${name}-${version}-*.whl" >/dev/null || die "$pin: no wheel downloaded"
  done
  [ "$(ls "$carry"/wheels/*.whl | wc -l)" -eq ${#wheel_pins[@]} ] ||
    die "more wheels than pins in $carry/wheels: two versions of one stop the install"
fi

# ---- what was measured: the device tool carries no .git -------------------------------------------
{
  echo "commit $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "branch $(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)"
  if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    echo "dirty yes (uncommitted changes to tracked files: the run measures them too)"
  else
    echo "dirty no"
  fi
  echo "prepared $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname)"
} >"$carry/COMMIT"
# The tree as it is now, file by file: the GPU machine has no .git, so gpu-run.sh checks these
# sums to say whether what it measures is still what was prepared (or changed after).
git ls-files -z | xargs -0 sha256sum >"$carry/TREE.sha256" 2>/dev/null ||
  die "could not checksum the tracked files"

# The .deb files themselves are not needed any more: root/ is what travels.
{
  echo "# .gpu-carry, made by scripts/gpu-prepare.sh"
  for deb in "$carry"/debs/*.deb; do dpkg-deb -f "$deb" Package Version | paste -sd' '; done
  [ $wheels = 1 ] && (cd "$carry/wheels" && ls *.whl)
  echo "newest glibc symbol needed: ${glibc_needed:-none}"
} >"$carry/MANIFEST"
rm -rf "$carry/debs"

carry_bytes=$(du -sb "$carry" | cut -f1)
tree_bytes=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
total=$((carry_bytes + tree_bytes))
cat "$carry/MANIFEST" >&2
echo "gpu-prepare: .gpu-carry/ is $((carry_bytes / 1024)) KiB; tracked tree $((tree_bytes / 1024)) KiB;" \
     "together $((total / 1024 / 1024)) MiB of the 64 MiB a call may carry" >&2
[ "$total" -lt $((48 * 1024 * 1024)) ] || die "over 48 MiB together: too close to the 64 MiB limit"
echo "gpu-prepare: done; run(command=\"scripts/gpu-run.sh\", carry=[\".gpu-carry\"], timeout_s=540)" >&2
