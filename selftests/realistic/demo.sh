#!/bin/bash
# make demo: build nestor and the realistic scenario, boot an emulated L0
# that loads nestor.ko and runs L1 (Debian's KVM + QEMU) with two L2 guests,
# and show L0's console here while "nestorctl list" is printed periodically.
#
#   demo.sh [--backend svm|vmx] [--l2 N] [--seconds S] [--smp N] [--l1-smp N]
#           [--timeout S]
#   VMX=1 demo.sh          same as --backend vmx (Bochs, slower)
#
# --smp 2 --l1-smp 2 (L0's and L1's vCPUs) boots the L2s side by side,
# several times faster under TCG, but is not reliable: L1 hung loading
# kvm_amd in 1 of 4 boots with two L1 vCPUs, and an L0 with two vCPUs once
# reset itself without a message. The default is one of each.
# Output: the console on stdout; files in $NESTOR_BUILD/demo/.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}
export NESTOR_BUILD=${NESTOR_BUILD:-$REPO/build}
H=$REPO/selftests/harness

die() { echo "demo: error: $*" >&2; exit 1; }
log() { echo "demo: $*" >&2; }

backend=svm
[ "${VMX:-0}" = 1 ] && backend=vmx
l2=2 seconds=60 tmo= l1smp=1 smp=1
while [ $# -gt 0 ]; do
	case "$1" in
	--backend) backend=${2:?--backend needs svm or vmx}; shift ;;
	--l2) l2=${2:?--l2 needs a number}; shift ;;
	--seconds) seconds=${2:?--seconds needs a number}; shift ;;
	--l1-smp) l1smp=${2:?--l1-smp needs a number}; shift ;;
	--smp) smp=${2:?--smp needs a number}; shift ;;
	--timeout) tmo=${2:?--timeout needs seconds}; shift ;;
	-h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
	shift
done
case "$backend" in svm|vmx|kvm) ;; *) die "--backend must be svm or vmx" ;; esac
# Bochs is several times slower than QEMU TCG.
[ -n "$tmo" ] || { [ "$backend" = vmx ] && tmo=3600 || tmo=1500; }

D=$NESTOR_BUILD/demo
mkdir -p "$D"

need=()
for p in build-essential pkg-config libmnl-dev kmod file; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	apt-get install -y --no-install-recommends "${need[@]}" >&2 || die "apt-get install ${need[*]} failed"
fi

log "fetching Debian's kernel (L0, L1 and L2 all run it)"
eval "$("$H/fetch-kernel.sh")"
[ -n "${KVER:-}" ] && [ -n "${KDIR:-}" ] || die "fetch-kernel.sh gave no KVER/KDIR"

log "building nestor.ko against linux-headers-$KVER and the tools"
make -C "$REPO" module KDIR="$KDIR" >"$D/build.log" 2>&1 || { tail -20 "$D/build.log" >&2; die "module build failed (see $D/build.log)"; }
make -C "$REPO" tools >>"$D/build.log" 2>&1 || { tail -20 "$D/build.log" >&2; die "tools build failed (see $D/build.log)"; }
[ -f "$REPO/kmod/nestor.ko" ] || die "kmod/nestor.ko missing after the build"
[ -x "$REPO/tools/nestorctl/nestorctl" ] || die "tools/nestorctl/nestorctl missing after the build"

log "assembling the payload"
P=$D/payload
rootfs=$D/rootfs
rm -rf "$P" "$rootfs"
mkdir -p "$P/bin" "$P/suites" "$rootfs"
cp "$REPO/kmod/nestor.ko" "$P/"
cp "$REPO/selftests/l0-suite.sh" "$P/suite"
cp "$HERE/suite-demo.sh" "$P/suites/10-demo.sh"
cp "$REPO/tools/nestorctl/nestorctl" "$P/bin/"
# nestorctl is dynamic: its libraries at their usual paths in L0's root.
# shellcheck source=../harness/payload.sh
. "$H/payload.sh"
bundle_libs "$P/bin" "$rootfs"
printf 'RL_DEMO_L2=%s\nRL_DEMO_SECONDS=%s\nRL_DEMO_L1_SMP=%s\nexport RL_DEMO_L2 RL_DEMO_SECONDS RL_DEMO_L1_SMP\n' \
	"$l2" "$seconds" "$l1smp" >"$P/env"
"$HERE/build.sh" "$P" --kver "$KVER"
"$H/mkinitramfs.sh" "$D/l0.initrd" --kver "$KVER" --payload "$P" --rootfs "$rootfs" >&2

: >"$D/console.txt"
: >"$D/results.txt"
log "booting L0 ($backend); console follows (files: $D/console.txt, $D/results.txt)"
"$H/boot-l0.sh" --backend "$backend" --initrd "$D/l0.initrd" \
	--results "$D/results.txt" --console "$D/console.txt" \
	--timeout "$tmo" --mem 2048 --smp "$smp" >"$D/boot.log" 2>&1 &
bpid=$!
# tail ends by itself once boot-l0.sh has ended (--pid).
tail --pid="$bpid" -s 0.5 -n +1 -F "$D/console.txt" 2>/dev/null | sed -u 's/\r//g' &
cleanup() {
	if kill -0 "$bpid" 2>/dev/null; then kill "$bpid" 2>/dev/null || true; fi
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rc=0
wait "$bpid" || rc=$?
wait 2>/dev/null || true
echo
echo "---- results channel ($D/results.txt)"
cat "$D/results.txt"
cat "$D/boot.log" >&2
if [ "$rc" = 0 ] && ! grep -q '^not ok' "$D/results.txt"; then
	log "demo finished cleanly"
else
	log "demo finished with failures (boot-l0 status $rc)"
	exit 1
fi
