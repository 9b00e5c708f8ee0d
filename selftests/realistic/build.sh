#!/bin/bash
# Assemble the realistic scenario's payload fragment for L0's /nestor.
#
#   build.sh OUTDIR [--kver KVER]
#
# Writes OUTDIR/realistic/:
#   qemu/        Debian's qemu-system-x86_64 and jq with every library they
#                need (and the loader), QEMU's ROMs in qemu/share; run them
#                through the wrappers qemu/qemu and qemu/jq
#   l1-kernel    the uncompressed vmlinux (PVH boot: no XZ under TCG)
#   l1-initrd    L1's initramfs (lz4 -l): busybox, kvm modules, the same
#                QEMU bundle, L2's kernel and initrd, l1-init, l1-rl
#   lib.sh nestor-json.sh suite-registry.sh suite-demo.sh suite-console.sh
#                L0-side scripts
#   manifest     versions and sizes
# Heavy steps are cached in $NESTOR_CACHE/realistic/ (vmlinux per kernel
# version, the bundle per QEMU/jq version, L1's initramfs per input hash).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}

die() { echo "realistic/build: error: $*" >&2; exit 1; }
log() { echo "realistic/build: $*" >&2; }
usage() { echo "usage: $0 OUTDIR [--kver KVER]" >&2; exit 2; }

out= kver=
while [ $# -gt 0 ]; do
	case "$1" in
	--kver) kver=${2:?--kver needs a value}; shift ;;
	-h|--help) usage ;;
	-*) echo "realistic/build: unknown option $1" >&2; usage ;;
	*) [ -z "$out" ] || usage; out=$1 ;;
	esac
	shift
done
[ -n "$out" ] || usage

# --- tools (CI starts from a clean machine)
pkgs=()
have_pkg() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]; }
have_pkg qemu-system-x86 || pkgs+=(qemu-system-x86)
have_pkg qemu-system-data || pkgs+=(qemu-system-data)
have_pkg busybox-static || pkgs+=(busybox-static)
command -v cpio >/dev/null || pkgs+=(cpio)
command -v lz4 >/dev/null || pkgs+=(lz4)
command -v jq >/dev/null || pkgs+=(jq)
command -v readelf >/dev/null || pkgs+=(binutils)
command -v xz >/dev/null || pkgs+=(xz-utils)
command -v depmod >/dev/null || pkgs+=(kmod)
command -v gcc >/dev/null && [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || pkgs+=(gcc libc6-dev)
if [ ${#pkgs[@]} -gt 0 ]; then
	log "installing ${pkgs[*]}"
	apt-get install -y --no-install-recommends "${pkgs[@]}" >&2 || die "apt-get install ${pkgs[*]} failed"
fi

# --- kernel
if [ -z "$kver" ]; then
	[ -x "$REPO/selftests/harness/fetch-kernel.sh" ] || die "selftests/harness/fetch-kernel.sh is missing"
	kver=$("$REPO/selftests/harness/fetch-kernel.sh" --no-headers | sed -n 's/^KVER=//p')
	[ -n "$kver" ] || die "fetch-kernel.sh printed no KVER"
fi
kroot=$NESTOR_CACHE/kernel/$kver/root
[ -f "$kroot/boot/vmlinuz-$kver" ] || die "$kroot/boot/vmlinuz-$kver missing (run selftests/harness/fetch-kernel.sh)"
moddir=$kroot/lib/modules/$kver

RC=$NESTOR_CACHE/realistic
mkdir -p "$RC"
exec 9>"$RC/.lock"
flock 9

# --- vmlinux for PVH boot, once per kernel version
vmlinux=$RC/$kver/vmlinux
# The kernel's own extraction script: from the headers if they carry it,
# else from linux-source (get-linux-source.sh extracts just that file).
find_extract() {
	local f
	for f in /usr/src/linux-headers-"$kver"/scripts/extract-vmlinux \
		/usr/lib/linux-kbuild-*/scripts/extract-vmlinux; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	"$REPO/selftests/harness/get-linux-source.sh" "$RC/linux-source" scripts/extract-vmlinux >&2 ||
		die "cannot get scripts/extract-vmlinux from linux-source"
	echo "$RC/linux-source/scripts/extract-vmlinux"
}
if [ ! -s "$vmlinux" ]; then
	ex=$(find_extract)
	log "extracting vmlinux from vmlinuz-$kver"
	mkdir -p "$RC/$kver"
	sh "$ex" "$kroot/boot/vmlinuz-$kver" >"$vmlinux.tmp" || die "extract-vmlinux failed"
	# QEMU boots an ELF kernel by PVH only if it has the PVH entry note (type 0x12).
	readelf -n "$vmlinux.tmp" | grep -q 'Unknown note type: (0x00000012)' ||
		die "vmlinux of $kver has no PVH entry note (CONFIG_PVH): cannot PVH-boot it"
	mv "$vmlinux.tmp" "$vmlinux"
fi

# --- the QEMU + jq bundle, once per package versions
qver=$(dpkg-query -W -f='${Version}' qemu-system-x86)
jver=$(dpkg-query -W -f='${Version}' jq)
bundle=$RC/bundle-$(echo "qemu $qver jq $jver" | sha256sum | cut -c1-16)
# Only what our command lines need: qboot, the PVH and Linux option ROMs,
# the KVM vapic ROM, and SeaBIOS as the machine's fallback default.
roms="qboot.rom pvh.bin linuxboot.bin linuxboot_dma.bin multiboot.bin multiboot_dma.bin kvmvapic.bin bios-256k.bin"
if [ ! -e "$bundle/.done" ]; then
	log "bundling qemu-system-x86_64 $qver and jq $jver"
	rm -rf "$bundle"
	mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/share"
	for exe in /usr/bin/qemu-system-x86_64 /usr/bin/jq; do
		cp "$exe" "$bundle/bin/"
		# "name => /path (addr)" and the loader's "/lib64/ld-... (addr)".
		ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
			while read -r lib; do
				cp -L "$lib" "$bundle/lib/$(basename "$lib")"
			done
	done
	[ -f "$bundle/lib/ld-linux-x86-64.so.2" ] || die "ldd did not name ld-linux-x86-64.so.2"
	for r in $roms; do
		src=
		for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
			[ -e "$d/$r" ] && { src=$d/$r; break; }
		done
		[ -n "$src" ] || die "ROM $r not found (qemu-system-data, seabios)"
		cp -L "$src" "$bundle/share/$r"
	done
	# Wrappers: invoke the bundled loader, so nothing is needed in / of
	# L0 or L1 (their initramfs has no libc). exec keeps the pid.
	for w in qemu jq; do
		case $w in
		qemu) bin=qemu-system-x86_64 extra='-L "$d/share"' ;;
		jq) bin=jq extra= ;;
		esac
		cat >"$bundle/$w" <<EOF
#!/bin/sh
d=\$(dirname "\$(readlink -f "\$0")")
exec "\$d/lib/ld-linux-x86-64.so.2" --library-path "\$d/lib" "\$d/bin/$bin" $extra "\$@"
EOF
		chmod 755 "$bundle/$w"
	done
	touch "$bundle/.done"
fi

# --- L2's initramfs and L1's, per input hash (cheap to check, ~2 s to build)
files_hash() { cat "$@" | sha256sum | cut -c1-16; }
# The identity guest module (tools/guest), built for the L2's kernel (the
# same Debian kernel as L0 and L1): l2-init loads it on rl.ident=NAME.
identko=
if [ -n "${KDIR:-}" ] && make -C "$REPO/tools/guest" KDIR="$KDIR" >&2; then
	identko=$REPO/tools/guest/nestor_ident.ko
else
	log "warning: tools/guest/nestor_ident.ko not built (KDIR=${KDIR:-unset}): L2 identity off"
fi
# mods_into ROOT MODULE...: the modules and their dependencies into
# ROOT/lib/modules/$kver, with the text modules.dep busybox modprobe reads.
mods_into() {
	local root=$1 m f rel
	shift
	mkdir -p "$root/lib/modules/$kver"
	for m in "$@"; do
		modprobe -d "$kroot" -S "$kver" --show-depends "$m" | while read -r kind path _; do
			[ "$kind" = insmod ] || continue
			rel=${path#"$moddir"/}
			mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
			cp "$path" "$root/lib/modules/$kver/$rel"
		done || die "module $m (or a dependency) not found for $kver"
	done
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ -f "$moddir/$f" ] && cp "$moddir/$f" "$root/lib/modules/$kver/"
	done
	depmod -b "$root" "$kver" || die "depmod on $root failed"
	rm -f "$root/lib/modules/$kver"/*.bin
}
# The NIC of the network scenario (start_l1 --net): virtio-net, in L1
# (toward L0, and tun for its L2s' taps) and in L2 (toward L1).
netmods="virtio_pci virtio_net"
l2key=$(echo "$kver $netmods $(files_hash /bin/busybox "$HERE/l2-init" "$HERE/serial-poll.c" "$HERE/build.sh" $identko)" | sha256sum | cut -c1-16)
l2initrd=$RC/l2-initrd-$l2key
if [ ! -s "$l2initrd" ]; then
	log "building L2's initramfs"
	s=$(mktemp -d "$RC/stage.XXXXXX")
	mkdir -p "$s"/{bin,dev,proc,sys,tmp,etc,root}
	cp /bin/busybox "$s/bin/busybox"
	for a in $(/bin/busybox --list); do [ -e "$s/bin/$a" ] || ln -s busybox "$s/bin/$a"; done
	install -m 755 "$HERE/l2-init" "$s/init"
	[ -n "$identko" ] && mkdir -p "$s/lib" && cp "$identko" "$s/lib/nestor_ident.ko"
	mods_into "$s" $netmods
	# The console scenario (rl.console=1): `setserial irq 0`, which busybox
	# lacks, and a root login without password for getty/login.
	gcc -static -Os -s -Wall -o "$s/bin/serial-poll" "$HERE/serial-poll.c" ||
		die "cannot build serial-poll.c (gcc, libc6-dev)"
	printf 'root::0:0:root:/root:/bin/sh\n' >"$s/etc/passwd"
	printf 'nestor realistic L2 \\n (console through nestor)\n\n' >"$s/etc/issue"
	# Uncompressed: 2 MB, nothing to decompress in the slowest guest.
	(cd "$s" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$l2initrd.tmp"
	rm -rf "$s"
	mv "$l2initrd.tmp" "$l2initrd"
fi

l1key=$(echo "$kver $bundle $l2key $(files_hash "$HERE/l1-init" "$HERE/l1-rl" "$HERE/build.sh")" | sha256sum | cut -c1-16)
l1initrd=$RC/$kver/l1-initrd-$l1key
if [ ! -s "$l1initrd" ]; then
	log "building L1's initramfs"
	s=$(mktemp -d "$RC/stage.XXXXXX")
	trap 'rm -rf "$s"' EXIT
	mkdir -p "$s"/{bin,dev,proc,sys,tmp,run,etc,opt,l2,lib/modules/"$kver"}
	cp /bin/busybox "$s/bin/busybox"
	for a in $(/bin/busybox --list); do [ -e "$s/bin/$a" ] || ln -s busybox "$s/bin/$a"; done
	printf 'root:x:0:0:root:/:/bin/sh\n' >"$s/etc/passwd"
	install -m 755 "$HERE/l1-init" "$s/init"
	install -m 755 "$HERE/l1-rl" "$s/bin/rl"
	cp -a "$bundle" "$s/opt/qemu"
	rm -f "$s/opt/qemu/.done"
	ln -s /opt/qemu/qemu "$s/bin/qemu"
	cp "$vmlinux" "$s/l2/vmlinux"
	# The compressed kernel too: KASLR needs its decompressor (suite-ps).
	cp "$kroot/boot/vmlinuz-$kver" "$s/l2/vmlinuz"
	cp "$l2initrd" "$s/l2/initrd"
	mods_into "$s" kvm kvm_amd kvm_intel $netmods tun
	# Directories and small files first, the big ones (QEMU, L2's kernel)
	# last: if L1 is short of memory, unpacking fails late and l1-init can
	# still say so.
	(cd "$s" && { find . -mindepth 1 -size -1024k -printf '%P\n' | LC_ALL=C sort
		find . -mindepth 1 -size +1023k -printf '%P\n' | LC_ALL=C sort; } |
		cpio --quiet -o -H newc -R 0:0) | lz4 -q -l -c >"$l1initrd.tmp"
	rm -rf "$s"
	trap - EXIT
	mv "$l1initrd.tmp" "$l1initrd"
	# Older L1 initramfs images of this kernel are dead weight.
	find "$RC/$kver" -maxdepth 1 -name 'l1-initrd-*' ! -name "l1-initrd-$l1key" -delete
fi

# --- the fragment
dst=$out/realistic
rm -rf "$dst"
mkdir -p "$dst"
cp -a "$bundle" "$dst/qemu"
rm -f "$dst/qemu/.done"
cp "$vmlinux" "$dst/l1-kernel"
cp "$l1initrd" "$dst/l1-initrd"
for f in lib.sh nestor-json.sh suite-registry.sh suite-demo.sh suite-ps.sh suite-console.sh; do
	install -m 755 "$HERE/$f" "$dst/$f"
done
# The L2 kernel's profile for nestorctl ps, made here on the host from
# the same build (BTF and exported symbols of its vmlinux).
ctl=$REPO/tools/nestorctl/nestorctl
if [ -x "$ctl" ]; then
	"$ctl" profile --vmlinux "$vmlinux" -o "$dst/l2-profile" || die "nestorctl profile failed for $vmlinux"
else
	log "no $ctl (tools not built): no l2-profile, suite-ps will skip"
fi
{
	echo "kver=$kver"
	echo "qemu=$qver"
	echo "jq=$jver"
	echo "l1_kernel_bytes=$(stat -c %s "$dst/l1-kernel")"
	echo "l1_initrd_bytes=$(stat -c %s "$dst/l1-initrd")"
	echo "bundle_bytes=$(du -sb "$dst/qemu" | cut -f1)"
	echo "total_bytes=$(du -sb "$dst" | cut -f1)"
} >"$dst/manifest"
log "wrote $dst ($(du -sh "$dst" | cut -f1): kernel $kver, qemu $qver)"
