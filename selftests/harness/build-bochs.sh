#!/bin/bash
# Build Bochs with VMX (the emulated L0 for Intel VMX) from Debian's source.
#
#   build-bochs.sh      prints the path of the bochs binary on stdout
#
# Debian's own bochs binary has no VMX, so this builds trixie's bochs source
# (the orig tarball from Debian's pool, found through trixie's signed Sources
# index) with --enable-vmx=2 plus our patches (selftests/harness/bochs-*.patch)
# into $NESTOR_CACHE/bochs/<key>/. The key hashes the configure flags, the
# patches and the suite, so a second run with the same inputs is instant and
# touches no network. Progress goes to stderr.
#
# Environment: NESTOR_CACHE (default <repo>/.cache), NESTOR_DEBIAN_MIRROR
# (default http://deb.debian.org/debian), NESTOR_BOCHS_SUITE (default trixie).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}
BCACHE=$NESTOR_CACHE/bochs
MIRROR=${NESTOR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=${NESTOR_BOCHS_SUITE:-trixie}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "build-bochs: error: $*" >&2; exit 1; }
log() { echo "build-bochs: $*" >&2; }

case "${1:-}" in
"") ;;
-h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
*) die "unknown argument '$1' (this script takes none)" ;;
esac

# --disable-show-ips is required: the once-a-second speed report takes the
# log lock inside a signal handler and deadlocks Bochs now and then.
# --enable-smp (for boot-bochs.sh --smp N) measured no slowdown on one CPU.
CONFIGURE_FLAGS=(
	--enable-x86-64 --enable-vmx=2 --enable-cpu-level=6
	--enable-all-optimizations --enable-avx --enable-evex
	--with-nogui --enable-pci --disable-debugger --enable-cdrom
	--disable-plugins --disable-show-ips --enable-smp
)
shopt -s nullglob
PATCHES=("$HERE"/bochs-*.patch)
shopt -u nullglob

# Bump when the build steps change in a way the flags and patches don't show.
RECIPE=1
key=$( {
	echo "recipe=$RECIPE suite=$SUITE"
	printf '%s\n' "${CONFIGURE_FLAGS[@]}"
	for p in "${PATCHES[@]}"; do echo "patch $(basename "$p")"; cat "$p"; done
} | sha256sum | cut -c1-16)
out=$BCACHE/$key

if [ -e "$out/.stamp" ] && [ -x "$out/bin/bochs" ]; then
	echo "$out/bin/bochs"
	exit 0
fi

mkdir -p "$BCACHE"
# boot-bochs.sh may call this from several runs at once; build only once.
exec 9>"$BCACHE/.lock"
flock 9
if [ -e "$out/.stamp" ] && [ -x "$out/bin/bochs" ]; then
	echo "$out/bin/bochs"
	exit 0
fi

apt_updated=0
need() { # need CMD PACKAGE: install PACKAGE when CMD (or file) is missing
	if command -v "$1" >/dev/null 2>&1 || [ -e "$1" ]; then return 0; fi
	if [ "$apt_updated" = 0 ]; then
		log "running apt-get update"
		apt-get update -qq >&2 || die "apt-get update failed"
		apt_updated=1
	fi
	log "installing $2"
	apt-get install -y --no-install-recommends "$2" >&2 || die "cannot install $2"
}
need curl curl
need gpgv gpgv
need xz xz-utils
need g++ g++
need make make
need patch patch
need "$KEYRING" debian-archive-keyring

dl=$BCACHE/downloads
mkdir -p "$dl"
fetch() { # fetch URL FILE
	curl -fsSL --retry 3 --connect-timeout 30 -o "$2.part" "$1" || die "download failed: $1"
	mv -f "$2.part" "$2"
}

# The InRelease signature vouches for Sources.xz, which vouches for the
# tarball. The .dsc itself was seen missing from the pool, so apt-get source
# cannot be relied on; the tarballs are fetched by name.
log "reading $SUITE's source index from $MIRROR"
fetch "$MIRROR/dists/$SUITE/InRelease" "$dl/InRelease"
gpgv --keyring "$KEYRING" --output "$dl/Release" "$dl/InRelease" 2>"$dl/gpgv.log" ||
	die "InRelease of $SUITE does not verify against $KEYRING: $(tail -n3 "$dl/gpgv.log")"
src_sha=$(awk '/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 }
	s && $3 == "main/source/Sources.xz" { print $1; exit }' "$dl/Release")
[ -n "$src_sha" ] || die "$SUITE's Release lists no main/source/Sources.xz"
fetch "$MIRROR/dists/$SUITE/main/source/Sources.xz" "$dl/Sources.xz"
echo "$src_sha  $dl/Sources.xz" | sha256sum -c --quiet - >&2 ||
	die "Sources.xz does not match the checksum in $SUITE's Release"

# The bochs stanza: version, pool directory and the orig tarball's checksum.
# awk reads to the end: an early exit would kill xz with SIGPIPE (pipefail).
stanza=$(xz -dc "$dl/Sources.xz" | awk '/^Package: bochs$/ && !done { p = 1 }
	p && /^$/ { p = 0; done = 1 } p')
[ -n "$stanza" ] || die "no bochs source package in $SUITE"
version=$(awk '/^Version:/ { print $2 }' <<<"$stanza")
dir=$(awk '/^Directory:/ { print $2 }' <<<"$stanza")
read -r orig_sha orig_size orig < <(awk '/^Checksums-Sha256:/ { s = 1; next } /^[^ ]/ { s = 0 }
	s && $3 ~ /\.orig\.tar\./ { print $1, $2, $3; exit }' <<<"$stanza") || true
[ -n "$version" ] && [ -n "$dir" ] && [ -n "${orig:-}" ] ||
	die "cannot parse the bochs stanza of $SUITE's Sources (version '$version', directory '$dir')"
log "bochs $version: $orig"

if ! echo "$orig_sha  $dl/$orig" | sha256sum -c --quiet - >/dev/null 2>&1; then
	log "downloading $orig ($orig_size bytes)"
	fetch "$MIRROR/$dir/$orig" "$dl/$orig"
	echo "$orig_sha  $dl/$orig" | sha256sum -c --quiet - >&2 ||
		die "$orig does not match the checksum in $SUITE's Sources"
fi

# Debian's own patches (debian/patches in the .debian tarball) only adjust
# the sample bochsrc, the man page, the docs and the BIOS build; none is
# needed for the emulator binary, so the .debian tarball is not used.
build=$BCACHE/build-$key
rm -rf "$build"
mkdir -p "$build"
log "unpacking into $build"
tar -xJf "$dl/$orig" -C "$build" || die "cannot unpack $orig"
srcdir=$(find "$build" -mindepth 1 -maxdepth 1 -type d | head -n1)
[ -x "$srcdir/configure" ] || die "$orig holds no configure script"
for p in "${PATCHES[@]}"; do
	log "applying $(basename "$p")"
	patch -d "$srcdir" -p1 --forward --batch <"$p" >&2 ||
		die "$(basename "$p") does not apply to bochs $version; update the patch"
done

log "configuring"
(cd "$srcdir" && ./configure "${CONFIGURE_FLAGS[@]}") >"$build/configure.log" 2>&1 ||
	die "configure failed; see $build/configure.log"
log "building with $(nproc) jobs (about a minute on 2 cores)"
make -C "$srcdir" -j"$(nproc)" >"$build/make.log" 2>&1 ||
	die "make failed; see $build/make.log (last lines: $(tail -n5 "$build/make.log"))"
[ -x "$srcdir/bochs" ] || die "make succeeded but $srcdir/bochs is missing"

# The source carries a SeaBIOS and a matching VGA BIOS built for Bochs;
# ship them next to the binary so the boot needs no other package.
rm -rf "$out"
mkdir -p "$out/bin" "$out/share"
cp "$srcdir/bochs" "$out/bin/bochs"
for f in "$srcdir"/bios/bios.bin-* "$srcdir"/bios/vgabios-cirrus.bin-*; do
	[ -f "$f" ] && cp "$f" "$out/share/"
done
printf 'version=%s\nsuite=%s\nflags=%s\n' "$version" "$SUITE" "${CONFIGURE_FLAGS[*]}" >"$out/.stamp"
rm -rf "$build"
log "built bochs $version into $out"
echo "$out/bin/bochs"
