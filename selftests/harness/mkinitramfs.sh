#!/bin/bash
# Build the initramfs that the emulated L0 boots.
#
#   mkinitramfs.sh OUT --kver KVER --payload DIR [--modules "m1 m2 /path/x.ko"]
#                  [--compress lz4|gzip|none] [--rootfs DIR]
#
# Contents: busybox-static and its applet links, kvm, kvm_amd, kvm_intel and
# every extra module with its dependency closure (plus a modules.dep made for
# exactly those, so busybox modprobe works), harness/init as /init, and DIR
# copied to /nestor. --rootfs DIR is copied onto / last (for payloads that need
# files at fixed paths, e.g. a dynamic loader in /lib64).
# Also writes OUT.kver (the kernel version), which boot-l0.sh reads to pick
# the matching vmlinuz.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}

die() { echo "mkinitramfs: error: $*" >&2; exit 1; }
log() { echo "mkinitramfs: $*" >&2; }

usage() {
	cat >&2 <<EOF
usage: $0 OUT --kver KVER --payload DIR [--modules "m1 m2 /path/x.ko"]
          [--compress lz4|gzip|none] [--rootfs DIR]
EOF
	exit 2
}

out='' kver='' payload='' extra_mods='' compress=lz4 rootfs=''
while [ $# -gt 0 ]; do
	case "$1" in
	--kver) kver=${2:?--kver needs a value}; shift ;;
	--payload) payload=${2:?--payload needs a directory}; shift ;;
	--modules) extra_mods=${2?--modules needs a value}; shift ;;
	--compress) compress=${2:?--compress needs lz4, gzip or none}; shift ;;
	--rootfs) rootfs=${2:?--rootfs needs a directory}; shift ;;
	-h|--help) usage ;;
	-*) echo "mkinitramfs: unknown option: $1" >&2; usage ;;
	*) [ -z "$out" ] || { echo "mkinitramfs: more than one OUT given: $1" >&2; usage; }
	   out=$1 ;;
	esac
	shift
done
[ -n "$out" ] || { echo "mkinitramfs: OUT missing" >&2; usage; }
[ -n "$kver" ] || { echo "mkinitramfs: --kver missing" >&2; usage; }
[ -n "$payload" ] || { echo "mkinitramfs: --payload missing" >&2; usage; }
[ -d "$payload" ] || die "payload '$payload' is not a directory"
[ -z "$rootfs" ] || [ -d "$rootfs" ] || die "rootfs '$rootfs' is not a directory"
case "$compress" in lz4|gzip|none) ;; *) die "--compress must be lz4, gzip or none, not '$compress'" ;; esac
[ -f "$payload/suite" ] || log "warning: $payload/suite is missing; init will report it as a failure"

# Install only what is missing (CI starts from a clean machine).
need_pkgs=()
# Only busybox-static works without libc in the initramfs (it replaces busybox).
[ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null || true)" = "install ok installed" ] ||
	need_pkgs+=(busybox-static)
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v depmod >/dev/null || need_pkgs+=(kmod)
[ "$compress" != lz4 ] || command -v lz4 >/dev/null || need_pkgs+=(lz4)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	log "installing ${need_pkgs[*]}"
	apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2 ||
		die "apt-get install ${need_pkgs[*]} failed"
fi
[ -x /bin/busybox ] || die "/bin/busybox missing after installing busybox-static"

kroot=$NESTOR_CACHE/kernel/$kver/root
if [ ! -d "$kroot/lib/modules/$kver" ]; then
	log "kernel $kver not in $NESTOR_CACHE/kernel; running fetch-kernel.sh"
	"$HERE/fetch-kernel.sh" --no-headers >/dev/null
	[ -d "$kroot/lib/modules/$kver" ] ||
		die "kernel $kver is not in the cache and fetch-kernel.sh fetched another one; pass --kver from fetch-kernel.sh"
fi
moddir=$kroot/lib/modules/$kver

out_dir=$(dirname "$out")
mkdir -p "$out_dir"
out_abs=$(cd "$out_dir" && pwd)/$(basename "$out")
stage=$(mktemp -d "$out_abs.stage.XXXXXX")
cleanup() { rm -rf "$stage" "$out_abs.tmp" "$out_abs.tmp.cpio"; }
trap cleanup EXIT

# --- busybox and the base tree
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,mnt,var/log,lib/modules}
chmod 1777 "$stage/tmp"
cp /bin/busybox "$stage/bin/busybox"
for app in $(/bin/busybox --list-full); do
	[ -e "$stage/$app" ] || ln -s /bin/busybox "$stage/$app"
done
# Some code (and busybox itself) looks these up.
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"
: >"$stage/etc/fstab"
# The kernel's built-in initramfs has /dev/console, but do not rely on it.
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$stage/dev/console" c 5 1
	mknod -m 666 "$stage/dev/null" c 1 3
fi

# --- kernel modules: closure over modules.dep (modprobe --show-depends)
mods=(kvm kvm_amd kvm_intel)
kofiles=()
for m in $extra_mods; do
	case "$m" in
	*.ko)
		[ -f "$m" ] || die "module file '$m' not found"
		kofiles+=("$m")
		# Its dependencies must come from the kernel tree.
		deps=$(modinfo -F depends "$m" 2>/dev/null | tr ',' ' ')
		for d in $deps; do mods+=("$d"); done
		;;
	*) mods+=("$m") ;;
	esac
done
declare -A seen=()
for m in "${mods[@]}"; do
	lines=$(modprobe -d "$kroot" -S "$kver" --show-depends "$m" 2>&1) ||
		die "module '$m' not found for $kver: $lines"
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue # "builtin X": nothing to copy
		rel=${path#"$moddir"/}
		[ -z "${seen[$rel]:-}" ] || continue
		seen[$rel]=1
		mkdir -p "$stage/lib/modules/$kver/$(dirname "$rel")"
		cp "$path" "$stage/lib/modules/$kver/$rel"
	done <<<"$lines"
done
for f in "${kofiles[@]}"; do
	mkdir -p "$stage/lib/modules/$kver/extra"
	cp "$f" "$stage/lib/modules/$kver/extra/"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$moddir/$f" ] && cp "$moddir/$f" "$stage/lib/modules/$kver/"
done
depmod -b "$stage" "$kver" || die "depmod on the initramfs tree failed"
# busybox modprobe reads only the text modules.dep; the .bin indexes are dead weight.
rm -f "$stage/lib/modules/$kver"/*.bin

# --- init and payload
install -m 755 "$HERE/init" "$stage/init"
mkdir -p "$stage/nestor"
cp -a --reflink=auto "$payload/." "$stage/nestor/"
[ -z "$rootfs" ] || cp -a --reflink=auto "$rootfs/." "$stage/"

# --- archive (newc; names sorted so identical inputs give identical cpio)
(cd "$stage" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) >"$out_abs.tmp.cpio" ||
	die "cpio failed"
case "$compress" in
lz4) lz4 -q -l -f "$out_abs.tmp.cpio" "$out_abs.tmp" && rm -f "$out_abs.tmp.cpio" ;;
gzip) gzip -n -6 <"$out_abs.tmp.cpio" >"$out_abs.tmp" && rm -f "$out_abs.tmp.cpio" ;;
none) mv -f "$out_abs.tmp.cpio" "$out_abs.tmp" ;;
esac
rm -f "$out_abs.tmp.cpio"
mv -f "$out_abs.tmp" "$out_abs"
printf '%s\n' "$kver" >"$out_abs.kver"
log "wrote $out ($(du -h "$out_abs" | cut -f1), $compress, kernel $kver, modules: $(cd "$stage/lib/modules/$kver" && find . -name '*.ko' -printf '%f ' ))"
