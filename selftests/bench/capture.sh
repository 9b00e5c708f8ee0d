#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench, part two: what packet capture costs iperf3 through the L1
# veth, nestor against tcpdump (selftests/bench/README.md).
#
#   capture.sh [--rounds R] [--seconds S] [--snaplen N] [--no-build]
#
# Builds nestor.ko and the tools, packs them with suite-capture.sh and the
# capture payload's tools (selftests/capture/build.sh) into an L0
# initramfs, boots L0 once on QEMU TCG (SVM) and runs iperf3 four ways in
# that boot: no capture, nestor (both points) to a file, tcpdump to a file,
# nestor with a filter that matches nothing.  Writes
# $NESTOR_BUILD/bench/capture.txt and prints it.  Exit status 0 when every
# run worked; the goal (nestor >= tcpdump) is a figure, not a test.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
H=$REPO/selftests/harness
export NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}
export NESTOR_BUILD=${NESTOR_BUILD:-$REPO/build}
B=$NESTOR_BUILD/bench
OUT=$B/capture.txt
# shellcheck source-path=SCRIPTDIR/../harness source=payload.sh
. "$H/payload.sh"

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }
usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }

rounds=5 seconds=3 snaplen=65535 build=1
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=${2:?}; shift ;;
	--seconds) seconds=${2:?}; shift ;;
	--snaplen) snaplen=${2:?}; shift ;;
	--no-build) build=0 ;;
	-h|--help) usage ;;
	*) usage ;;
	esac
	shift
done
[[ $rounds =~ ^[1-9][0-9]*$ && $seconds =~ ^[1-9][0-9]*$ &&
   $snaplen =~ ^[1-9][0-9]*$ ]] || usage

mkdir -p "$B"
BLOG=$B/capture-build.log
: >"$BLOG"
step() {
	local name=$1
	shift
	log "$name"
	"$@" >>"$BLOG" 2>&1 || { tail -n 30 "$BLOG" >&2; die "$name failed (log: $BLOG)"; }
}

build_payload() {
	local p=$B/capture-payload rootfs=$B/capture-rootfs
	step "fetch the Debian kernel" "$H/fetch-kernel.sh"
	# shellcheck disable=SC1091
	. "$NESTOR_CACHE/kernel/current.env"
	step "build nestor.ko against $KVER" make -C "$KDIR" M="$REPO" modules
	step "build the tools" make -C "$REPO/tools"
	rm -rf "$p" "$rootfs"
	mkdir -p "$p/bin" "$rootfs"
	cp "$REPO/kmod/nestor.ko" "$REPO/tools/nestorctl/nestorctl" "$p/"
	mv "$p/nestorctl" "$p/bin/"
	cp "$HERE/suite-capture.sh" "$p/suite"
	chmod +x "$p/suite"
	step "add the capture tools" "$REPO/selftests/capture/build.sh" "$p" "$rootfs"
	rm -f "$p/bin/suite.sh"
	bundle_libs "$p" "$rootfs"
	step "pack the L0 initramfs" "$H/mkinitramfs.sh" "$B/capture.initrd" \
		--kver "$KVER" --payload "$p" --rootfs "$rootfs" \
		--modules "$(cat "$p/modules")"
}

((build)) && build_payload
[[ -f $B/capture.initrd ]] || die "$B/capture.initrd is missing (run without --no-build)"

log "booting L0 (svm): $rounds rounds x 4 configurations x $seconds s"
rc=0
"$H/boot-l0.sh" --backend svm --initrd "$B/capture.initrd" \
	--results "$B/capture.results" --console "$B/capture.console" \
	--timeout 1800 --mem 4G \
	--append "nestor.bench_rounds=$rounds nestor.bench_seconds=$seconds nestor.bench_snaplen=$snaplen" \
	>>"$BLOG" 2>&1 || rc=$?
grep -E '^(not )?ok' "$B/capture.results" | sed 's/^/  /' >&2 || true
"$H/tap.sh" count "$B/capture.results" >>"$BLOG" 2>&1 || rc=1

# The median of config $1's field $2 over the rounds.
median() {
	sed -n "s/^# capbench config=$1 .*$2=\\([0-9.]*\\).*/\\1/p" "$B/capture.results" |
		sort -n | awk '{ v[NR] = $1 } END { if (!NR) { print 0; exit }
			print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
sum() {
	sed -n "s/^# capbench config=$1 .*$2=\\([0-9.]*\\).*/\\1/p" "$B/capture.results" |
		awk '{ s += $1 } END { print s + 0 }'
}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf (y > 0) ? "%.3f" : "n/a", x / y }'; }

none=$(median none mbps)
nes=$(median nestor mbps)
tcpd=$(median tcpdump mbps)
nom=$(median nomatch mbps)
{
	echo "nestor: iperf3 through the L1 veth under packet capture (make bench)"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "tree: $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "L0: QEMU $(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version //p') TCG (SVM), 1 vCPU, 4 GiB; wall clock"
	echo "runs: $rounds rounds x 4 configurations, order rotated each round; iperf3 -t $seconds; snaplen $snaplen"
	echo "goal: nestor throughput >= tcpdump's, and every drop reported"
	echo
	printf '%-10s %12s %10s %14s %14s\n' config "Mbit/s" "/none" "packets (sum)" "dropped (sum)"
	for c in none nestor tcpdump nomatch; do
		m=$(median $c mbps)
		printf '%-10s %12s %10s %14s %14s\n' "$c" "$m" "$(ratio "$m" "$none")" \
			"$(sum $c packets)" "$(sum $c dropped)"
	done
	echo
	echo "nestor / tcpdump throughput: $(ratio "$nes" "$tcpd") ($(awk -v a="$nes" -v b="$tcpd" 'BEGIN { print (a >= b) ? "goal met" : "goal missed" }'))"
	echo "nomatch / none throughput: $(ratio "$nom" "$none")"
	echo "note: L0 is emulated (one TCG vCPU that also runs iperf3 and the capturer); the ratios, not the Mbit/s, are the result"
	((rc == 0)) || echo "WARNING: some runs failed (see $B/capture.results)"
} >"$OUT"
cat "$OUT"
log "written to $OUT"
exit $rc
