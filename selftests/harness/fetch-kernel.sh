#!/bin/bash
# Fetch Debian's current 6.1 kernel image for the emulated L0 and its headers.
#
#   fetch-kernel.sh            prints KVER=, KDIR=, KROOT=, VMLINUZ=, VMLINUX=
#                              (VMLINUX: uncompressed, for PVH boot; may be empty)
#   eval "$(fetch-kernel.sh)"  sets those variables in the caller
#
# Progress goes to stderr, so stdout is only the KEY=value lines. The same
# lines are written to $NESTOR_CACHE/kernel/current.env (sourceable).
# The ABI is resolved from linux-image-amd64 at every run (it moves), but a
# run whose result is already unpacked does no network or dpkg work.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}
KCACHE=$NESTOR_CACHE/kernel

die() { echo "fetch-kernel: error: $*" >&2; exit 1; }
log() { echo "fetch-kernel: $*" >&2; }

usage() {
	cat >&2 <<EOF
usage: $0 [--no-headers]
  Resolves linux-image-amd64 to linux-image-<abi>-amd64, unpacks it into
  \$NESTOR_CACHE/kernel/<kver>/root (NESTOR_CACHE=$NESTOR_CACHE), runs depmod,
  installs linux-headers-<kver> when missing, and prints KVER/KDIR/KROOT/VMLINUZ/VMLINUX.
  --no-headers  do not install the headers package (booting only)
EOF
	exit 2
}

want_headers=1
while [ $# -gt 0 ]; do
	case "$1" in
	--no-headers) want_headers=0 ;;
	-h|--help) usage ;;
	*) echo "fetch-kernel: unknown argument: $1" >&2; usage ;;
	esac
	shift
done

command -v apt-cache >/dev/null || die "apt-cache not found: this needs a Debian system"

# Prints the concrete image package that linux-image-amd64 depends on.
resolve_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

apt_updated=0
apt_update() {
	[ "$apt_updated" = 1 ] && return 0
	log "running apt-get update"
	apt-get update -qq >&2 || die "apt-get update failed"
	apt_updated=1
}

mkdir -p "$KCACHE"
# Several harness users may run this at once; serialize on one lock.
exec 9>"$KCACHE/.lock"
flock 9

pkg=$(resolve_pkg || true)
if [ -z "$pkg" ]; then
	apt_update
	pkg=$(resolve_pkg || true)
fi
[ -n "$pkg" ] || die "cannot resolve linux-image-amd64 to a linux-image-<abi>-amd64 package (apt-cache depends linux-image-amd64)"
kver=${pkg#linux-image-}
kver=${kver%-unsigned}
case "$kver" in
[0-9]*.*-*) ;;
*) die "unexpected kernel package name '$pkg'" ;;
esac

kdir=$KCACHE/$kver
root=$kdir/root
stamp=$kdir/.unpacked

if [ ! -e "$stamp" ]; then
	command -v dpkg-deb >/dev/null || die "dpkg-deb not found"
	command -v depmod >/dev/null || { apt-get install -y --no-install-recommends kmod >&2 || die "cannot install kmod (depmod)"; }
	mkdir -p "$kdir"
	deb=$(ls "$kdir"/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		log "downloading $pkg"
		# apt-get download writes into the current directory.
		if ! (cd "$kdir" && apt-get -o APT::Sandbox::User=root download "$pkg" >&2); then
			# Stale lists point at a removed version: refresh and retry once.
			apt_update
			(cd "$kdir" && apt-get -o APT::Sandbox::User=root download "$pkg" >&2) || die "apt-get download $pkg failed"
		fi
		deb=$(ls "$kdir"/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
		[ -n "$deb" ] || die "apt-get download $pkg produced no .deb in $kdir"
	fi
	log "unpacking $(basename "$deb")"
	rm -rf "$root"
	dpkg-deb -x "$deb" "$root" || die "dpkg-deb -x $deb failed"
	[ -f "$root/boot/vmlinuz-$kver" ] || die "$deb has no boot/vmlinuz-$kver"
	[ -d "$root/lib/modules/$kver" ] || die "$deb has no lib/modules/$kver"
	depmod_args=(-b "$root")
	[ -f "$root/boot/System.map-$kver" ] && depmod_args+=(-F "$root/boot/System.map-$kver")
	depmod "${depmod_args[@]}" "$kver" || die "depmod -b $root $kver failed"
	touch "$stamp"
fi

# An uncompressed vmlinux boots through PVH and skips the XZ decompressor,
# which takes about 4 s under TCG. Only when the kernel supports PVH.
vmlinux=$root/boot/vmlinux-$kver
if [ ! -e "$kdir/.vmlinux" ]; then
	if grep -q '^CONFIG_PVH=y' "$root/boot/config-$kver" 2>/dev/null; then
		command -v xz >/dev/null || apt-get install -y --no-install-recommends xz-utils >&2 ||
			die "cannot install xz-utils"
		log "extracting vmlinux for PVH boot"
		rm -f "$vmlinux"
		# bzImage holds the XZ stream after its setup code; take the first
		# offset of the XZ magic that decompresses to an ELF file.
		for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$root/boot/vmlinuz-$kver" | cut -d: -f1); do
			tail -c +$((off + 1)) "$root/boot/vmlinuz-$kver" |
				xz -dc --single-stream >"$vmlinux.tmp" 2>/dev/null || true
			if [ "$(head -c4 "$vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
				mv -f "$vmlinux.tmp" "$vmlinux"
				break
			fi
		done
		rm -f "$vmlinux.tmp"
		[ -f "$vmlinux" ] || log "warning: could not extract vmlinux (not XZ?); booting vmlinuz instead"
	fi
	touch "$kdir/.vmlinux"
fi
[ -f "$vmlinux" ] || vmlinux=

hdir=/usr/src/linux-headers-$kver
if [ "$want_headers" = 1 ] && [ ! -e "$hdir/Makefile" ]; then
	log "installing linux-headers-$kver"
	if ! apt-get install -y --no-install-recommends "linux-headers-$kver" >&2; then
		apt_update
		apt-get install -y --no-install-recommends "linux-headers-$kver" >&2 ||
			die "apt-get install linux-headers-$kver failed"
	fi
	[ -e "$hdir/Makefile" ] || die "linux-headers-$kver installed but $hdir/Makefile is missing"
fi

env_out="KVER=$kver
KDIR=$hdir
KROOT=$root
VMLINUZ=$root/boot/vmlinuz-$kver
VMLINUX=$vmlinux"
printf '%s\n' "$env_out" >"$KCACHE/current.env.tmp"
mv -f "$KCACHE/current.env.tmp" "$KCACHE/current.env"
printf '%s\n' "$env_out"
