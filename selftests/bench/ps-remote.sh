#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench, part 5: issue 3's remote ps in the realistic scenario.
#
#   ps-remote.sh [--backend svm|vmx] [--sleepers N] [--l2mem MB]
#                [--rounds R] [--delay D] [--no-build]
#
# One L0 boot with the realistic payload (selftests/realistic) and
# ps-remote-suite.sh: L1 (Debian kernel, KVM, QEMU) runs an L2 (Debian
# kernel with KASLR, busybox) that holds N (default 1000) long-lived sleep
# processes (l2-init rl.sleepers=N) in --l2mem MB (default 384); then
# `nestorctl --remote ... ps` from a netns "cli" to nestor-monitord in
# L0's netns over a veth with netem delay D (default 1ms) on each end,
# batched against --per-datum, interleaved over R rounds (default 3).
# Writes $NESTOR_BUILD/bench/ps-remote.txt and prints it; exit 0 when every
# run worked (the goals are figures, not tests).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
H=$REPO/selftests/harness
export NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}
export NESTOR_BUILD=${NESTOR_BUILD:-$REPO/build}
B=$NESTOR_BUILD/bench
OUT=$B/ps-remote.txt
# shellcheck source-path=SCRIPTDIR/../harness source=payload.sh
. "$H/payload.sh"

log() { echo "bench-ps-remote: $*" >&2; }
die() { echo "bench-ps-remote: error: $*" >&2; exit 1; }
usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }

be=svm sleepers=1000 l2mem=384 rounds=3 delay=1ms build=1
while [ $# -gt 0 ]; do
	case "$1" in
	--backend) be=${2:?}; shift ;;
	--sleepers) sleepers=${2:?}; shift ;;
	--l2mem) l2mem=${2:?}; shift ;;
	--rounds) rounds=${2:?}; shift ;;
	--delay) delay=${2:?}; shift ;;
	--no-build) build=0 ;;
	-h|--help) usage ;;
	*) echo "bench-ps-remote: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
[[ $rounds =~ ^[1-9][0-9]*$ && $sleepers =~ ^[1-9][0-9]*$ && $l2mem =~ ^[1-9][0-9]*$ &&
   $delay =~ ^[0-9.]+(us|ms)$ && $be =~ ^(svm|vmx)$ ]] || usage

mkdir -p "$B"
BLOG=$B/ps-remote-build.log
: >"$BLOG"
step() {
	local name=$1
	shift
	log "$name"
	echo "=== $name: $*" >>"$BLOG"
	"$@" >>"$BLOG" 2>&1 || { tail -n 30 "$BLOG" >&2; die "$name failed (log: $BLOG)"; }
}

# As check.sh's make_payload for the realistic payload, with one suite
# and iproute2's ip and tc (netns, netem; they hide busybox's ip).
build_payload() {
	local p=$B/ps-remote-payload rootfs=$B/ps-remote-rootfs
	step "fetch the Debian kernel" "$H/fetch-kernel.sh"
	# shellcheck disable=SC1091
	. "$NESTOR_CACHE/kernel/current.env"
	export KVER KDIR
	step "build nestor.ko against $KVER" make -C "$KDIR" M="$REPO" modules
	step "build the tools" make -C "$REPO/tools"
	rm -rf "$p" "$rootfs"
	mkdir -p "$p/bin" "$p/suites" "$rootfs/run/netns"
	cp "$REPO/kmod/nestor.ko" "$p/"
	cp "$REPO/selftests/l0-suite.sh" "$p/suite"
	cp "$REPO/tools/nestorctl/nestorctl" "$REPO/tools/monitord/nestor-monitord" "$p/bin/"
	cp "$HERE/ps-remote-suite.sh" "$p/suites/10-ps-remote-suite.sh"
	cp /usr/sbin/ip /usr/sbin/tc "$p/bin/"
	step "build the realistic scenario" "$REPO/selftests/realistic/build.sh" "$p"
	command -v jq >/dev/null && cp "$(command -v jq)" "$p/bin/"
	# (as in check.sh, where errexit is off: ldd fails on some bundled files)
	step "bundle the shared libraries" bundle_libs "$p" "$rootfs"
	step "pack the L0 initramfs" "$H/mkinitramfs.sh" "$B/ps-remote.initrd" \
		--kver "$KVER" --payload "$p" --rootfs "$rootfs" --modules "veth sch_netem"
}

# field KIND KEY FILE: KEY's value on the last "# psbench KIND" line
field() {
	sed -n "s/^# psbench $1 .*\\b$2=\\([^ ]*\\).*/\\1/p" "$3" | tail -n 1
}
goal() { awk -v x="$1" -v g="$2" 'BEGIN { print (x + 0 >= g) ? "goal met" : "goal missed" }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

((build)) && build_payload
[[ -f $B/ps-remote.initrd ]] || die "$B/ps-remote.initrd is missing (run without --no-build)"
hb=$be
if [[ $be == vmx ]]; then
	hb=$("$H/boot-l0.sh" --detect-vmx 2>/dev/null || echo vmx)
	[[ $hb != vmx ]] || step "build Bochs" "$H/build-bochs.sh"
fi

r=$B/ps-remote-$be.results
# L1 (896 MB with its 384 MB L2) plus L0's unpacked payload; Bochs takes
# at most 2048 MB.
l0mem=3072
[[ $hb != vmx ]] || l0mem=2048
start=$SECONDS
log "booting L0 ($hb): $sleepers sleepers in a ${l2mem} MB L2, $rounds rounds, netem $delay each way"
rc=0
# idle_expiry_ms: L2's context must outlive any pause of a loaded host
# during the minutes of per-datum runs (its id is what the client names).
"$H/boot-l0.sh" --backend "$hb" --initrd "$B/ps-remote.initrd" --results "$r" \
	--console "$B/ps-remote-$be.console" --timeout 5400 --mem $l0mem \
	--append "nestor.psb_sleepers=$sleepers nestor.psb_l2mem=$l2mem nestor.psb_rounds=$rounds nestor.psb_delay=$delay nestor.idle_expiry_ms=60000" \
	>>"$BLOG" 2>&1 || rc=$?
log "boot-l0.sh exit $rc after $((SECONDS - start)) s"
"$H/tap.sh" count "$r" >>"$BLOG" 2>&1 || { rc=1; grep '^not ok' "$r" >&2 || true; }

rt_b=$(field summary batched_rt "$r") us_b=$(field summary batched_us "$r")
rt_p=$(field summary perdatum_rt "$r") us_p=$(field summary perdatum_us "$r")
speed=$(field summary speedup "$r")
{
	echo "nestor remote ps benchmark, realistic scenario ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo "tree: $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "L2: Debian kernel with KASLR + busybox under L1's KVM and QEMU; L0 emulated ($hb), so ratios, not absolute figures, are the result"
	echo
	echo "$be ($hb):$( ((rc == 0)) || echo " SOME RUNS FAILED, see $r")"
	if [[ -n $speed ]]; then
		echo "  remote ps of $(field summary procs "$r") processes ($(field summary sleepers "$r") of them sleepers), veth + netem $(field summary delay "$r") each way, ping RTT min/avg $(field summary rtt_min_avg_ms "$r") ms, median of $(field summary rounds "$r") runs each:"
		printf '    %-10s %6s round trips %10s ms listing; KASLR search %s round trip(s) %s ms; whole command %s ms; %s rx packets\n' \
			batched "$rt_b" "$(ms "$us_b")" "$(field summary batched_kaslr_rt "$r")" "$(ms "$(field summary batched_kaslr_us "$r")")" \
			"$(field summary batched_wall_ms "$r")" "$(field summary batched_rx "$r")"
		printf '    %-10s %6s round trips %10s ms listing; KASLR search %s round trip(s) %s ms; whole command %s ms; %s rx packets\n' \
			per-datum "$rt_p" "$(ms "$us_p")" "$(field summary perdatum_kaslr_rt "$r")" "$(ms "$(field summary perdatum_kaslr_us "$r")")" \
			"$(field summary perdatum_wall_ms "$r")" "$(field summary perdatum_rx "$r")"
		echo "    the same LIST_WALK locally in L0 (no network, unsigned): $(ms "$(field summary local_us "$r")") ms ($(field summary local_walks "$r") nested walks, $(field summary local_hits "$r") cache hits)"
		echo "    ... with --no-cache: $(ms "$(field summary local_nocache_us "$r")") ms ($(field summary local_nocache_walks "$r") nested walks, $(field summary local_nocache_hits "$r") cache hits)"
		echo "    per-datum: $(awk -v u="$us_p" -v n="$rt_p" 'BEGIN { printf (n > 0) ? "%.2f" : "?", u / n / 1000 }') ms per verified round trip"
		echo "    speedup of the listing ${speed}x ($(goal "$speed" 100) for >= 100x); with the KASLR search included $(field summary speedup_total "$r")x"
		echo "    batched listing in $rt_b round trip(s) ($([[ $rt_b == 1 ]] && echo "goal met" || echo "goal missed") for 1)"
		grep -h '^\(not \)\?ok - psbench' "$r" | sed 's/^/    /'
	else
		echo "  no figures (see $r)"
	fi
} >"$OUT"
cat "$OUT"
log "written to $OUT"
((rc == 0))
