#!/bin/bash
# Build KVM's own selftest library (tools/testing/selftests/kvm/lib) from
# Debian's linux-source-6.1 package, as a static archive for static binaries.
#
#   build-kvm-selftest-lib.sh [--headers auto|libc|tree] [--quiet]
#
# Prints one line on stdout: the directory that holds the result. Progress
# goes to stderr. The directory is
#   $NESTOR_CACHE/kvm-selftests/<linux-source-6.1 version>-<headers>-<script hash>/
# and contains
#   libkvm.a            lib/*.c, lib/x86_64/*.{c,S} (rbtree from tools/lib too)
#   string_override.o   the library's freestanding mem*() for guest code; link
#                       it as an object, like the upstream Makefile does
#   src/                the include directories a test needs (pruned tree)
#   kvm-selftest.mk     KVM_SELFTEST_CFLAGS / _LDFLAGS / _LDLIBS for make (add
#                       -static for a static binary; the probe below links one)
#   kvm-selftest.env    the same as shell assignments
# Nothing of the library enters the repository: it is built from the package
# at build time and cached, keyed by the package version.
#
# Kernel uapi headers (--headers):
#   libc  Debian's linux-libc-dev (/usr/include), built from the same source
#         package; used by "auto" when its version equals linux-source-6.1's.
#   tree  "make headers" in the extracted tree (what headers_install does,
#         minus the final rsync); "auto" falls back to it.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}
TARBALL=/usr/src/linux-source-6.1.tar.xz
PKG=linux-source-6.1
TOP=linux-source-6.1

die() { echo "build-kvm-selftest-lib: error: $*" >&2; exit 1; }
quiet=0
log() { [ "$quiet" = 1 ] || echo "build-kvm-selftest-lib: $*" >&2; }

headers=${KVM_SELFTEST_HEADERS:-auto}
while [ $# -gt 0 ]; do
	case "$1" in
	--headers) headers=${2:?--headers needs auto, libc or tree}; shift ;;
	--quiet) quiet=1 ;;
	-h|--help) sed -n '2,27s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
	*) die "unknown argument: $1" ;;
	esac
	shift
done
case "$headers" in auto|libc|tree) ;; *) die "--headers must be auto, libc or tree" ;; esac

pkgver() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$1" 2>/dev/null | awk '$1 == "ii" { print $2 }'; }

apt_install() {
	log "installing $*"
	if ! apt-get install -y --no-install-recommends "$@" >&2; then
		apt-get update -qq >&2 || die "apt-get update failed"
		apt-get install -y --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
	fi
}

need=()
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v xz >/dev/null || need+=(xz-utils)
command -v ar >/dev/null || need+=(binutils)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

srcver=$(pkgver "$PKG")
if [ -z "$srcver" ] || [ ! -f "$TARBALL" ]; then
	apt_install "$PKG"
	srcver=$(pkgver "$PKG")
fi
if [ -z "$srcver" ] || [ ! -f "$TARBALL" ]; then
	die "$PKG is not installed or $TARBALL is missing"
fi

libcver=$(pkgver linux-libc-dev)
if [ "$headers" = auto ]; then
	if [ -n "$libcver" ] && [ "$libcver" = "$srcver" ] && [ -f /usr/include/linux/kvm.h ]; then
		headers=libc
	else
		headers=tree
	fi
fi
if [ "$headers" = libc ] && [ ! -f /usr/include/linux/kvm.h ]; then
	apt_install linux-libc-dev
fi

base=$NESTOR_CACHE/kvm-selftests
# Keyed by the package version, the headers and this script (its output
# layout may change with it).
me=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-8)
out=$base/$srcver-$headers-$me
mkdir -p "$base"
exec 9>"$base/.lock"
flock 9

if [ -e "$out/.built" ]; then
	echo "$out"
	exit 0
fi

log "building KVM's selftest library from $PKG $srcver (headers: $headers${libcver:+, linux-libc-dev $libcver}) into $out"
t0=$SECONDS
rm -rf "$out"
work=$(mktemp -d "$base/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Only what the library needs: tools/ always; for "make headers" also the
# top Makefile, scripts/, include/ and arch/x86 (uapi headers, syscall tables).
paths=("$TOP/tools")
[ "$headers" = libc ] || paths+=("$TOP/Makefile" "$TOP/scripts" "$TOP/include" "$TOP/arch/x86")
# The kvm Makefile includes scripts/subarch.include even without headers.
[ "$headers" = tree ] || paths+=("$TOP/scripts/subarch.include")
log "extracting ${paths[*]#"$TOP/"} from $TARBALL"
tar -xJf "$TARBALL" -C "$work" "${paths[@]}" || die "cannot extract from $TARBALL"
ksrc=$work/$TOP
kvm=$ksrc/tools/testing/selftests/kvm
[ -f "$kvm/Makefile" ] || die "$TARBALL has no tools/testing/selftests/kvm"

jobs=$(nproc 2>/dev/null || echo 2)
if [ "$headers" = tree ]; then
	log "make headers (uapi headers into the tree's usr/include)"
	make -s -C "$ksrc" -j"$jobs" ARCH=x86 headers >&2 || die "make headers failed"
	hdr=$ksrc/usr/include
	[ -f "$hdr/linux/kvm.h" ] || die "make headers produced no usr/include/linux/kvm.h"
else
	# An empty directory: the upstream flags' -I$(LINUX_HDR_PATH) then adds
	# nothing and <linux/kvm.h> comes from /usr/include.
	hdr=$work/empty-usr-include
	mkdir -p "$hdr"
fi

# The library's sources, as listed by its own Makefile (LIBKVM, LIBKVM_x86_64
# and LIBKVM_STRING), so a newer 6.1 upload that adds a file still builds.
srcs=$(make -s -C "$kvm" -f - --no-print-directory ARCH=x86_64 print-libkvm <<'EOF'
include Makefile
print-libkvm:
	@echo $(LIBKVM) $(LIBKVM_STRING)
EOF
) || die "cannot read the library's source list from its Makefile"
[ -n "$srcs" ] || die "the kvm selftest Makefile lists no library sources"
obj=$work/obj
objs=()
for s in $srcs; do objs+=("$obj/${s%.*}.o"); done
log "compiling $(echo "$srcs" | wc -w) library sources with the upstream Makefile's rules"
make -s -C "$kvm" -j"$jobs" ARCH=x86_64 OUTPUT="$obj" LINUX_HDR_PATH="$hdr/" \
	KHDR_INCLUDES="-isystem $hdr" "${objs[@]}" >&2 || die "compiling the library failed"

stage=$work/out
mkdir -p "$stage"
lib_objs=()
for o in "${objs[@]}"; do
	case "$o" in
	*/string_override.o) cp "$o" "$stage/string_override.o" ;;
	*) lib_objs+=("$o") ;;
	esac
done
[ -f "$stage/string_override.o" ] || die "the library has no string_override.o"
ar rcsD "$stage/libkvm.a" "${lib_objs[@]}" || die "ar failed"

# The include directories, at their original relative paths (the headers
# include "../kselftest.h" style paths).
keep=(tools/include tools/arch/x86/include tools/testing/selftests/kselftest.h
	tools/testing/selftests/kvm/include)
for k in "${keep[@]}"; do
	mkdir -p "$stage/src/$(dirname "$k")"
	cp -a "$ksrc/$k" "$stage/src/$k"
done
if [ "$headers" = tree ]; then
	cp -a "$hdr" "$stage/src/usr-include"
	uinc="-isystem $out/src/usr-include"
else
	uinc=
fi

s=$out/src
sk=$s/tools/testing/selftests/kvm/include
cflags="-std=gnu99 -U_FORTIFY_SOURCE -fno-stack-protector -fno-PIE -I$s/tools/include -I$s/tools/arch/x86/include $uinc -I$sk -I$sk/x86_64 -I$s/tools/testing/selftests"
ldlibs="$out/string_override.o $out/libkvm.a -ldl"
cat >"$stage/kvm-selftest.mk" <<EOF
# Written by selftests/nested/build-kvm-selftest-lib.sh
KVM_SELFTEST_VERSION := $srcver
KVM_SELFTEST_HEADERS := $headers
KVM_SELFTEST_DIR := $out
KVM_SELFTEST_CFLAGS := $cflags
KVM_SELFTEST_LDFLAGS := -no-pie -pthread
KVM_SELFTEST_LDLIBS := $ldlibs
EOF
cat >"$stage/kvm-selftest.env" <<EOF
KVM_SELFTEST_VERSION='$srcver'
KVM_SELFTEST_HEADERS='$headers'
KVM_SELFTEST_DIR='$out'
KVM_SELFTEST_CFLAGS='$cflags'
KVM_SELFTEST_LDFLAGS='-no-pie -pthread'
KVM_SELFTEST_LDLIBS='$ldlibs'
EOF

# Prove the archive links into a static binary before calling it done.
cat >"$work/probe.c" <<'EOF'
#include "kvm_util.h"
#include "processor.h"
#include "svm_util.h"
#include "vmx.h"
int main(void)
{
	return kvm_cpu_has(X86_FEATURE_SVM) + kvm_cpu_has(X86_FEATURE_VMX) < 0;
}
EOF
# shellcheck disable=SC2086
gcc ${cflags//$out/$stage} -O2 -c "$work/probe.c" -o "$work/probe.o" >&2 ||
	die "a probe that includes the library's headers does not compile"
# shellcheck disable=SC2086
gcc -static -no-pie -pthread -o "$work/probe" "$work/probe.o" ${ldlibs//$out/$stage} >&2 ||
	die "a probe does not link statically against the library"

touch "$stage/.built"
mv "$stage" "$out"
log "done in $((SECONDS - t0)) s: $out"
echo "$out"
