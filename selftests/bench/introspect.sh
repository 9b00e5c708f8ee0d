#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench, part 4: introspection (Documentation/introspection.rst,
# monitor.rst), minimal scenario.
#
#   introspect.sh [--backend LIST] [--rounds R] [--remote-rounds R]
#                 [--delay D] [--no-build]
#
# One L0 boot per backend in LIST (comma-separated; default svm) runs
# `mem_l2 TIMEOUT --bench R introspect-remote.sh` (selftests/nested/mem_l2.c):
#   - translations/s: 16384 NESTOR_IOC_TRANSLATE calls per round (no cache);
#     and 16384 one-segment READ calls per round with the translation cache
#     and with NESTOR_MEM_F_NOCACHE, interleaved;
#   - 64 MiB of L2 memory read by nestor (64 READ calls of 1 MiB, as
#     nestorctl read does; one call of 64 segments; 64 calls by L1-physical
#     address, which skips the table walks) against pread() of
#     the same backing pages through the VMM's /proc/PID/mem, interleaved
#     over R rounds (default 15), every read checked;
#   - the remote walk of a 1000-node list (the stand-in for ps of 1000
#     processes: pid, comm, cred->uid per node) from nestorctl --remote in
#     one netns to nestor-monitord in another, over a veth with netem delay
#     D (default 1ms) on each end: batched (one LIST_WALK) against
#     --per-datum, interleaved over --remote-rounds (default 3).
# Writes $NESTOR_BUILD/bench/introspect.txt and prints it; exit 0 when every
# run worked (the goals are figures, not tests).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
H=$REPO/selftests/harness
export NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}
export NESTOR_BUILD=${NESTOR_BUILD:-$REPO/build}
B=$NESTOR_BUILD/bench
OUT=$B/introspect.txt
# shellcheck source-path=SCRIPTDIR/../harness source=payload.sh
. "$H/payload.sh"

log() { echo "bench-introspect: $*" >&2; }
die() { echo "bench-introspect: error: $*" >&2; exit 1; }
usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }

backends="svm" rounds=15 rrounds=3 delay=1ms build=1
while [ $# -gt 0 ]; do
	case "$1" in
	--backend) backends=$(tr ',' ' ' <<<"${2:?--backend needs a list}"); shift ;;
	--rounds) rounds=${2:?}; shift ;;
	--remote-rounds) rrounds=${2:?}; shift ;;
	--delay) delay=${2:?}; shift ;;
	--no-build) build=0 ;;
	-h|--help) usage ;;
	*) echo "bench-introspect: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
[[ $rounds =~ ^[1-9][0-9]*$ && $rrounds =~ ^[1-9][0-9]*$ && $delay =~ ^[0-9.]+(us|ms)$ ]] || usage
for be in $backends; do
	case "$be" in svm|vmx) ;; *) usage ;; esac
done

mkdir -p "$B"
BLOG=$B/introspect-build.log
: >"$BLOG"
step() {
	local name=$1
	shift
	log "$name"
	echo "=== $name: $*" >>"$BLOG"
	"$@" >>"$BLOG" 2>&1 || { tail -n 30 "$BLOG" >&2; die "$name failed (log: $BLOG)"; }
}

build_payload() {
	local p=$B/introspect-payload rootfs=$B/introspect-rootfs
	step "fetch the Debian kernel" "$H/fetch-kernel.sh"
	# shellcheck disable=SC1091
	. "$NESTOR_CACHE/kernel/current.env"
	export KVER KDIR
	step "build nestor.ko against $KVER" make -C "$KDIR" M="$REPO" modules
	step "build the tools" make -C "$REPO/tools"
	step "build mem_l2" make -C "$REPO/selftests/nested" O="$B/nested"
	rm -rf "$p" "$rootfs"
	mkdir -p "$p/bin" "$rootfs/run/netns"
	cp "$REPO/kmod/nestor.ko" "$p/"
	cp "$B/nested/mem_l2" "$REPO/tools/nestorctl/nestorctl" \
		"$REPO/tools/monitord/nestor-monitord" "$HERE/introspect-remote.sh" "$p/bin/"
	# iproute2's ip (netns) and tc (netem); they hide busybox's ip.
	cp /usr/sbin/ip /usr/sbin/tc "$p/bin/"
	cat >"$p/suite" <<'SUITE'
#!/bin/sh
N=/nestor
export PATH=$N/bin:$PATH
for m in veth sch_netem; do modprobe $m || echo "# modprobe $m failed"; done
insmod $N/nestor.ko && echo "ok - insmod nestor.ko" || { echo "not ok - insmod nestor.ko"; exit 1; }
"$N/bin/mem_l2" 3000 --bench "${NESTOR_BENCH_ROUNDS:-5}" "$N/bin/introspect-remote.sh" \
	>/tmp/mem_l2.out 2>/tmp/mem_l2.err
rc=$?
sed 's/^\([0-9][0-9]*\.\.[0-9][0-9]*.*\)$/# mem_l2: plan \1/' /tmp/mem_l2.out
[ $rc = 0 ] && echo "ok - mem_l2 --bench exited 0" ||
	{ echo "not ok - mem_l2 --bench exited $rc"; tail -n 30 /tmp/mem_l2.err | sed 's/^/# /'; }
rmmod nestor && echo "ok - rmmod nestor" || echo "not ok - rmmod nestor"
SUITE
	chmod +x "$p/suite"
	bundle_libs "$p" "$rootfs"
	step "pack the L0 initramfs" "$H/mkinitramfs.sh" "$B/introspect.initrd" \
		--kver "$KVER" --payload "$p" --rootfs "$rootfs" --modules "veth sch_netem"
}

# field LINE-KIND KEY FILE: KEY's value on the "# introbench LINE-KIND" line
field() {
	sed -n "s/^# introbench $1 .*\\b$2=\\([^ ]*\\).*/\\1/p" "$3" | tail -n 1
}
goal() { awk -v x="$1" -v g="$2" 'BEGIN { print (x + 0 >= g) ? "goal met" : "goal missed" }'; }

((build)) && build_payload
[[ -f $B/introspect.initrd ]] || die "$B/introspect.initrd is missing (run without --no-build)"
vmx_backend=$("$H/boot-l0.sh" --detect-vmx 2>/dev/null || echo vmx)
[[ " $backends " != *" vmx "* || $vmx_backend != vmx ]] || step "build Bochs" "$H/build-bochs.sh"

fail=0
{
	echo "nestor introspection benchmark, minimal scenario ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo "tree: $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "L2 under the selftest L1 (selftests/nested/mem_l2.c); L0 emulated, so ratios, not absolute figures, are the result"
} >"$OUT"
for be in $backends; do
	hb=$be
	[[ $be == vmx ]] && hb=$vmx_backend
	r=$B/introspect-$be.results
	start=$SECONDS
	log "booting L0 for $be ($hb): $rounds local rounds, $rrounds remote rounds, netem $delay each way"
	rc=0
	"$H/boot-l0.sh" --backend "$hb" --initrd "$B/introspect.initrd" --results "$r" \
		--console "$B/introspect-$be.console" --timeout 3600 \
		--append "nestor.bench_rounds=$rounds nestor.bench_remote_rounds=$rrounds nestor.bench_delay=$delay" \
		>>"$BLOG" 2>&1 || rc=$?
	log "$be: boot-l0.sh exit $rc after $((SECONDS - start)) s"
	"$H/tap.sh" count "$r" >>"$BLOG" 2>&1 || { rc=1; grep '^not ok' "$r" >&2 || true; }
	((rc == 0)) || fail=1
	rt_b=$(field remote-summary batched_rt "$r") us_b=$(field remote-summary batched_us "$r")
	rt_p=$(field remote-summary perdatum_rt "$r") us_p=$(field remote-summary perdatum_us "$r")
	speed=$(field remote-summary speedup "$r")
	ratio=$(field read-summary ratio "$r")
	{
		echo
		echo "$be ($hb):$( ((rc == 0)) || echo " SOME RUNS FAILED, see $r")"
		if [[ -n $speed ]]; then
			echo "  remote walk of $(field remote-summary nodes "$r") nodes (stand-in for ps of 1000 processes), veth + netem $(field remote-summary delay "$r") each way, ping RTT min/avg $(field remote-summary rtt_min_avg_ms "$r") ms, median of $(field remote-summary rounds "$r") runs each:"
			printf '    %-10s %8s round trips %12s us %8s rx packets\n' batched "$rt_b" "$us_b" "$(field remote-summary batched_rx "$r")"
			printf '    %-10s %8s round trips %12s us %8s rx packets\n' per-datum "$rt_p" "$us_p" "$(field remote-summary perdatum_rx "$r")"
			echo "    per-datum: $(awk -v u="$us_p" -v n="$rt_p" 'BEGIN { printf (n > 0) ? "%.2f" : "?", u / n / 1000 }') ms per verified round trip"
			echo "    speedup ${speed}x ($(goal "$speed" 100) for >= 100x); batched in $rt_b round trip(s) ($( [[ $rt_b == 1 ]] && echo "goal met" || echo "goal missed") for 1)"
		else
			echo "  remote: no figures"
		fi
		if [[ -n $ratio ]]; then
			echo "  64 MiB read (L2-virtual, 2 MiB pages in both stages), median of $(field read-summary rounds "$r") rounds, interleaved:"
			echo "    nestor READ, 64 calls of 1 MiB:   $(field read-summary nestor_mbps "$r") MB/s"
			echo "    nestor READ, 1 call of 64 x 1 MiB: $(field read-summary nestor1call_mbps "$r") MB/s"
			echo "    nestor READ by L1-physical, 64 x 1 MiB: $(field read-summary l1phys_mbps "$r") MB/s (no table walks)"
			echo "    pread /proc/PID/mem, 1 MiB:       $(field read-summary pread_mbps "$r") MB/s"
			echo "    best round: nestor $(field read-summary best_nestor "$r"), one call $(field read-summary best_nestor1call "$r"), L1-physical $(field read-summary best_l1phys "$r"), pread $(field read-summary best_pread "$r") MB/s; nestor/pread $(field read-summary best_ratio "$r")"
			echo "    ratio nestor/pread $ratio ($(goal "$ratio" 0.5) for >= 0.5); one call: $(field read-summary ratio1call "$r"); by L1-physical: $(field read-summary ratiol1phys "$r")"
		else
			echo "  read: no figures"
		fi
		if [[ -n $(field translate-summary n "$r") ]]; then
			echo "  translations/s (NESTOR_IOC_TRANSLATE, one call each, no translation cache), median of $(field translate-summary rounds "$r") x $(field translate-summary n "$r"):"
			echo "    2M/2M pages (3+3 levels): $(field translate-summary per_s_2m "$r")/s; 4K/4K pages (4+4 levels): $(field translate-summary per_s_4k "$r")/s"
		else
			echo "  translate: no figures"
		fi
		if [[ -n $(field xcache-summary n "$r") ]]; then
			echo "  translations/s with and without the translation cache (READ of 8 bytes, one call each; L2's tables walked in both), median of $(field xcache-summary rounds "$r") x $(field xcache-summary n "$r"):"
			echo "    2M/2M pages: cache off $(field xcache-summary off_2m "$r")/s, on $(field xcache-summary on_2m "$r")/s"
			echo "    4K/4K pages: cache off $(field xcache-summary off_4k "$r")/s, on $(field xcache-summary on_4k "$r")/s"
			sed -n 's/^# introbench xcache-count /    counts: /p' "$r"
		else
			echo "  translation cache: no figures"
		fi
	} >>"$OUT"
done
cat "$OUT"
log "written to $OUT"
exit $fail
