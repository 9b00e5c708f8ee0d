#!/bin/bash
# make bench, part 2: the out-of-band console's throughput and keystroke
# latency (Documentation/console.rst), minimal scenario.
#
#   console.sh [--backend LIST] [--bytes N] [--keys K] [--no-build]
#
# One L0 boot per backend in LIST (comma-separated; default svm,vmx; also
# svm-icount: QEMU with -icount shift=0, whose clock counts emulated
# instructions, so other jobs on the host do not move the figures) runs
# `console_l2 -b N -k K` (selftests/nested/console_l2.c): a tiny L2 under the
# selftest L1 writes N bytes (default 262144) of a known pattern to its UART
# the way a polling driver does (LSR.THRE, then THR), first diverted to
# nestor, then, after a disable in the same boot, to L1's UART emulation; in
# between it echoes K keystrokes (default 50) typed by a thread in L0. Both
# streams are checked byte for byte. Writes $NESTOR_BUILD/bench/console.txt
# and prints it; exit 0 when every run worked (the 5x goal is a figure).
#
# The realistic scenario's figures (a Linux L2 writing to ttyS0 through L1's
# QEMU and through nestor) come from selftests/realistic/suite-console.sh in
# `make check` (its "# console: realistic" lines); see README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
H=$REPO/selftests/harness
export NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}
export NESTOR_BUILD=${NESTOR_BUILD:-$REPO/build}
B=$NESTOR_BUILD/bench
OUT=$B/console.txt
# shellcheck source-path=SCRIPTDIR/../harness source=payload.sh
. "$H/payload.sh"

log() { echo "bench-console: $*" >&2; }
die() { echo "bench-console: error: $*" >&2; exit 1; }
usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }

backends="svm vmx" bytes=262144 keys=50 build=1
while [ $# -gt 0 ]; do
	case "$1" in
	--backend) backends=$(tr ',' ' ' <<<"${2:?--backend needs a list}"); shift ;;
	--bytes) bytes=${2:?}; shift ;;
	--keys) keys=${2:?}; shift ;;
	--no-build) build=0 ;;
	-h|--help) usage ;;
	*) echo "bench-console: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
[[ $bytes =~ ^[1-9][0-9]*$ && $keys =~ ^[0-9]+$ ]] || usage
for be in $backends; do
	case "$be" in svm|svm-icount|vmx) ;; *) usage ;; esac
done

mkdir -p "$B"
BLOG=$B/console-build.log
: >"$BLOG"
step() {
	local name=$1
	shift
	log "$name"
	echo "=== $name: $*" >>"$BLOG"
	"$@" >>"$BLOG" 2>&1 || { tail -n 30 "$BLOG" >&2; die "$name failed (log: $BLOG)"; }
}

build_payload() {
	local p=$B/console-payload rootfs=$B/console-rootfs
	step "fetch the Debian kernel" "$H/fetch-kernel.sh"
	# shellcheck disable=SC1091
	. "$NESTOR_CACHE/kernel/current.env"
	export KVER KDIR
	step "build nestor.ko against $KVER" make -C "$KDIR" M="$REPO" modules
	step "build the tools" make -C "$REPO/tools"
	step "build console_l2" make -C "$REPO/selftests/nested" O="$B/nested"
	rm -rf "$p" "$rootfs"
	mkdir -p "$p/bin" "$rootfs"
	cp "$REPO/kmod/nestor.ko" "$p/"
	cp "$B/nested/console_l2" "$REPO/tools/nestorctl/nestorctl" "$p/bin/"
	# The L0 side: load nestor, run the benchmark, unload.
	cat >"$p/suite" <<'EOF'
#!/bin/sh
N=/nestor
export PATH=$N/bin:$PATH
insmod $N/nestor.ko && echo "ok - insmod nestor.ko" || { echo "not ok - insmod nestor.ko"; exit 1; }
t0=$(date +%s)
"$N/bin/console_l2" -t 3000 -b "${NESTOR_BENCH_BYTES:-262144}" -k "${NESTOR_BENCH_KEYS:-50}" \
	-R "rmmod nestor" 2>/tmp/console_l2.err
rc=$?
echo "# bench-console wall_s=$(( $(date +%s) - t0 ))"
[ $rc = 0 ] && echo "ok - console_l2 -b exited 0" ||
	{ echo "not ok - console_l2 -b exited $rc"; tail -n 20 /tmp/console_l2.err | sed 's/^/# /'; }
rmmod nestor && echo "ok - rmmod nestor" || echo "not ok - rmmod nestor"
EOF
	chmod +x "$p/suite"
	bundle_libs "$p" "$rootfs"
	step "pack the L0 initramfs" "$H/mkinitramfs.sh" "$B/console.initrd" \
		--kver "$KVER" --payload "$p" --rootfs "$rootfs"
}

# boot-l0.sh cannot pass QEMU options: for svm-icount a wrapper named
# qemu-system-x86_64 that adds them goes first in its PATH (as in run.sh).
icount_path() {
	local real d=$B/icount-qemu
	real=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 is not installed"
	mkdir -p "$d"
	printf '#!/bin/sh\n# Written by selftests/bench/console.sh for its svm-icount run.\nexec %q "$@" -icount shift=0\n' \
		"$real" >"$d/qemu-system-x86_64"
	chmod +x "$d/qemu-system-x86_64"
	echo "$d:$PATH"
}

((build)) && build_payload
[[ -f $B/console.initrd ]] || die "$B/console.initrd is missing (run without --no-build)"
vmx_backend=$("$H/boot-l0.sh" --detect-vmx 2>/dev/null || echo vmx)
[[ " $backends " != *" vmx "* || $vmx_backend != vmx ]] || step "build Bochs" "$H/build-bochs.sh"

fail=0
{
	echo "nestor console benchmark, minimal scenario ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo "L2 writes $bytes bytes polling LSR.THRE, diverted to nestor, then to L1 (same boot); $keys keystroke round trips"
} >"$OUT"
for be in $backends; do
	hb=$be path=$PATH
	[[ $be == vmx ]] && hb=$vmx_backend
	[[ $be == svm-icount ]] && { hb=svm; path=$(icount_path) || exit 1; }
	r=$B/console-$be.results
	start=$SECONDS
	log "booting L0 for $be ($hb)"
	rc=0
	PATH=$path "$H/boot-l0.sh" --backend "$hb" --initrd "$B/console.initrd" --results "$r" \
		--console "$B/console-$be.console" --timeout 3600 \
		--append "nestor.bench_bytes=$bytes nestor.bench_keys=$keys" >>"$BLOG" 2>&1 || rc=$?
	log "$be: boot-l0.sh exit $rc after $((SECONDS - start)) s"
	"$H/tap.sh" count "$r" >>"$BLOG" 2>&1 || { rc=1; grep '^not ok' "$r" >&2 || true; }
	((rc == 0)) || fail=1
	{
		echo "$be ($hb):$( ((rc == 0)) || echo " RUN FAILED, see $r")"
		grep '^# bench-console' "$r" | sed 's/^# bench-console /  /' || echo "  no figures"
	} >>"$OUT"
done
cat "$OUT"
exit $fail
