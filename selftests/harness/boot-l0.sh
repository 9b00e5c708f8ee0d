#!/bin/bash
# Boot the emulated L0 (Debian's kernel + a harness initramfs) and wait for it.
#
#   boot-l0.sh --backend svm|vmx|kvm --initrd F --results F --console F
#              [--timeout S] [--mem M] [--append "..."] [--smp N]
#              [--kernel VMLINUZ] [--interactive]
#   boot-l0.sh --detect-vmx     prints "kvm" (real Intel host with nested KVM)
#                               or "vmx" (Bochs) for running the VMX suite
#
# svm: QEMU TCG, -cpu EPYC.  kvm: QEMU with KVM, -cpu host.  vmx: runs
# harness/boot-bochs.sh with the same arguments minus --backend.
# ttyS0 (console) goes to --console, ttyS1 (results channel) to --results.
# Exit 0 only if the results contain "# harness-done". Otherwise a
# "# harness-fail: <reason>" line is appended to the results for tap.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}

die() { echo "boot-l0: error: $*" >&2; exit 2; }
log() { echo "boot-l0: $*" >&2; }

usage() {
	sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

# Prints kvm when this host can run the VMX suite on hardware, else vmx.
detect_vmx() {
	local nested
	nested=$(cat /sys/module/kvm_intel/parameters/nested 2>/dev/null || true)
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
		grep -q '^vendor_id.*GenuineIntel' /proc/cpuinfo &&
		grep -qw vmx /proc/cpuinfo &&
		{ [ "$nested" = Y ] || [ "$nested" = 1 ]; }; then
		echo kvm
	else
		echo vmx
	fi
}

orig_args=("$@")
backend='' initrd='' results='' console='' tmo=600 mem=2G append='' smp=1 kernel='' interactive=0
while [ $# -gt 0 ]; do
	case "$1" in
	--detect-vmx) detect_vmx; exit 0 ;;
	--backend) backend=${2:?--backend needs svm, vmx or kvm}; shift ;;
	--initrd) initrd=${2:?--initrd needs a file}; shift ;;
	--results) results=${2:?--results needs a file}; shift ;;
	--console) console=${2:?--console needs a file}; shift ;;
	--timeout) tmo=${2:?--timeout needs seconds}; shift ;;
	--mem) mem=${2:?--mem needs a size}; shift ;;
	--append) append=${2?--append needs a value}; shift ;;
	--smp) smp=${2:?--smp needs a number}; shift ;;
	--kernel) kernel=${2:?--kernel needs a file}; shift ;;
	--interactive) interactive=1 ;;
	-h|--help) usage ;;
	*) echo "boot-l0: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
[ -n "$backend" ] || { echo "boot-l0: --backend missing" >&2; usage; }

if [ "$backend" = vmx ]; then
	# Bochs is someone else's backend; hand it everything but --backend.
	[ -x "$HERE/boot-bochs.sh" ] || die "backend vmx needs $HERE/boot-bochs.sh, which is missing or not executable"
	pass=()
	skip=0
	for a in "${orig_args[@]}"; do
		if [ "$skip" = 1 ]; then skip=0; continue; fi
		if [ "$a" = --backend ]; then skip=1; continue; fi
		pass+=("$a")
	done
	exec "$HERE/boot-bochs.sh" "${pass[@]}"
fi
case "$backend" in svm|kvm) ;; *) die "--backend must be svm, vmx or kvm, not '$backend'" ;; esac
[ -n "$initrd" ] || { echo "boot-l0: --initrd missing" >&2; usage; }
[ -n "$results" ] || { echo "boot-l0: --results missing" >&2; usage; }
[ -n "$console" ] || { echo "boot-l0: --console missing" >&2; usage; }
[ -f "$initrd" ] || die "initrd '$initrd' not found"
case "$tmo" in ''|0|*[!0-9]*) die "--timeout must be a positive number of seconds, not '$tmo'" ;; esac
case "$smp" in ''|*[!0-9]*) die "--smp must be a number, not '$smp'" ;; esac

# The kernel must match the initrd's modules: mkinitramfs.sh records the
# version in INITRD.kver. Prefer the uncompressed vmlinux (PVH boot): it
# skips about 4 s of XZ decompression under TCG.
if [ -z "$kernel" ]; then
	kver=
	[ -f "$initrd.kver" ] && kver=$(cat "$initrd.kver")
	kboot=$NESTOR_CACHE/kernel/$kver/root/boot
	if [ -n "$kver" ] && [ -f "$kboot/vmlinux-$kver" ]; then
		kernel=$kboot/vmlinux-$kver
	elif [ -n "$kver" ] && [ -f "$kboot/vmlinuz-$kver" ] && [ -e "$NESTOR_CACHE/kernel/$kver/.vmlinux" ]; then
		kernel=$kboot/vmlinuz-$kver
	else
		fk=$("$HERE/fetch-kernel.sh" --no-headers) || die "fetch-kernel.sh failed"
		fkver=$(printf '%s\n' "$fk" | sed -n 's/^KVER=//p')
		[ -z "$kver" ] || [ "$kver" = "$fkver" ] ||
			die "initrd was built for $kver but the current kernel is $fkver; rebuild the initrd"
		kernel=$(printf '%s\n' "$fk" | sed -n 's/^VMLINUX=//p')
		[ -n "$kernel" ] || kernel=$(printf '%s\n' "$fk" | sed -n 's/^VMLINUZ=//p')
	fi
fi
[ -f "$kernel" ] || die "kernel '$kernel' not found"

qemu='qemu-system-x86_64'
if ! command -v "$qemu" >/dev/null || [ ! -f /usr/share/qemu/qboot.rom ]; then
	log "installing qemu-system-x86"
	apt-get install -y --no-install-recommends qemu-system-x86 >&2 ||
		die "apt-get install qemu-system-x86 failed"
fi

if [ "$backend" = kvm ]; then
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || die "backend kvm needs a usable /dev/kvm"
	grep -qwE 'vmx|svm' /proc/cpuinfo ||
		die "backend kvm needs hardware virtualization, but this CPU shows neither vmx nor svm (use --backend svm or vmx)"
	accel=(-accel kvm -cpu host)
else
	accel=(-accel tcg -cpu EPYC)
fi
bios=()
# qboot boots noticeably faster than SeaBIOS under TCG.
[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)

cmdline="console=ttyS0 panic_on_warn=1 panic=-1 quiet${append:+ $append}"
# Interactive runs get a shell after the suite (see harness/init).
[ "$interactive" = 0 ] || cmdline="$cmdline nestor.shell=1"
for f in "$results" "$console"; do
	mkdir -p "$(dirname "$f")"
	: >"$f" || die "cannot write '$f'"
done

qargs=("${accel[@]}" -m "$mem" -smp "$smp" -nodefaults -no-user-config
	-display none -no-reboot "${bios[@]}"
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline")
if [ "$interactive" = 1 ]; then
	# ttyS0 on this terminal (Ctrl-A X quits) and still logged to --console.
	qargs+=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$console"
		-serial chardev:con -mon chardev=con -serial "file:$results")
	log "interactive: $backend, console on this terminal (Ctrl-A X quits)"
	rc=0
	timeout --foreground -k 5 "$tmo" "$qemu" "${qargs[@]}" || rc=$?
	if grep -q '^# harness-done' "$results"; then exit 0; fi
	echo "# harness-fail: interactive run ended without harness-done (exit $rc)" >>"$results"
	exit 1
fi
# QEMU's monitor listens on a Unix socket (NESTOR_QEMU_MONITOR=PATH, or a
# private one): the stall detector below asks it where L0 stands, and a
# person can look into a run by hand (info registers, info lapic).
mondir=$(mktemp -d)
monsock=${NESTOR_QEMU_MONITOR:-$mondir/monitor.sock}
qargs+=(-serial "file:$console" -serial "file:$results"
	-monitor "unix:$monsock,server=on,wait=off")

errlog=$(mktemp)
qpid=
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	rm -f "$errlog"
	rm -rf "$mondir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s.%N)
timeout -k 5 "$tmo" "$qemu" "${qargs[@]}" </dev/null >/dev/null 2>"$errlog" &
qpid=$!

# Once harness-done is on the results channel, allow a few seconds for the
# power-off and then stop QEMU ourselves, so a firmware that cannot power
# off does not cost the whole timeout.
# A stall: L0's only vCPU halted for good (QEMU's CPU time stands still) and
# nothing new on the results channel, for NESTOR_STALL_SECS (default 120).
# This has been seen now and then in the realistic scenario; instead of
# waiting for the timeout, record what QEMU's monitor says about L0's CPU
# and local APIC (a halted CPU with IF=1 and a timer interrupt pending in
# IRR points at the emulator; IF=0 or the vector stuck in ISR at L0) and
# stop the run.
stall_secs=${NESTOR_STALL_SECS:-120}
qemu_ticks() { # utime + stime of QEMU (the child of timeout)
	local c
	c=$(pgrep -P "$qpid" 2>/dev/null | head -n1)
	[ -n "$c" ] && awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null
}
monitor_cmd() { # monitor_cmd COMMAND: its output, without the echo and prompt
	# The monitor echoes the command line (with terminal escapes) and
	# ends with a prompt; keep only what comes between.
	{ sleep 0.3; printf '%s\n' "$1"; sleep 1; } |
		socat -t 2 - "UNIX-CONNECT:$monsock" 2>/dev/null | tr -d '\r' |
		sed -n '/^QEMU .*monitor/d; /(qemu)/d; /YMM\|FPR\|FCW\|^$/d; p'
}
stalled=0
stall_t=$SECONDS stall_ticks=$(qemu_ticks) stall_size=0
done_since=
while kill -0 "$qpid" 2>/dev/null; do
	if [ $((SECONDS - stall_t)) -ge "$stall_secs" ]; then
		ticks=$(qemu_ticks) size=$(stat -c %s "$results" 2>/dev/null || echo 0)
		# Under 2 % of one CPU over the whole window, and no new results.
		if [ -n "$ticks" ] && [ -n "$stall_ticks" ] && [ "$size" = "$stall_size" ] &&
			[ $((ticks - stall_ticks)) -lt $((stall_secs * $(getconf CLK_TCK) / 50)) ]; then
			stalled=1
			{
				echo "# stall: L0 idle for ${stall_secs}s with no new results; QEMU's view of L0:"
				for c in "info registers" "info lapic" "info pic"; do
					monitor_cmd "$c" | sed "s/^/# stall: [$c] /"
				done
			} >"$mondir/stall.txt"
			cat "$mondir/stall.txt" >>"$results"
			log "L0 stalled: QEMU idle for ${stall_secs}s with no new results; stopping it"
			grep -E 'EFL=|HLT=|RIP=|IRR|ISR|Timer|LVTT' "$mondir/stall.txt" >&2 || true
			kill "$qpid" 2>/dev/null || true
			break
		fi
		stall_t=$SECONDS stall_ticks=$ticks stall_size=$size
	fi
	if [ -z "$done_since" ] && grep -q '^# harness-done' "$results" 2>/dev/null; then
		done_since=$SECONDS
	fi
	if [ -n "$done_since" ] && [ $((SECONDS - done_since)) -ge 10 ]; then
		log "harness done but QEMU did not power off; stopping it"
		kill "$qpid" 2>/dev/null || true
		break
	fi
	sleep 0.2
done
rc=0
wait "$qpid" || rc=$?
qpid=
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

# QEMU's own messages, minus the TCG notes about EPYC features it lacks.
grep -v "TCG doesn't support requested feature" "$errlog" >&2 || true

if grep -q '^# harness-done' "$results"; then
	log "$backend: harness done in ${secs}s (results: $results)"
	exit 0
fi

if [ "$stalled" = 1 ]; then
	reason="L0 stalled (emulator idle, see the '# stall:' lines)"
elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	reason="timeout after ${tmo}s"
elif grep -q 'Kernel panic' "$console"; then
	reason="kernel panic: $(grep -m1 'Kernel panic' "$console" | tr -d '\r' | cut -c1-200)"
elif grep -q '^nestor-init: FATAL' "$console"; then
	reason=$(grep -m1 '^nestor-init: FATAL' "$console" | tr -d '\r' | sed 's/^nestor-init: //')
else
	reason="emulator exited with status $rc before harness-done"
fi
log "$backend: FAILED after ${secs}s: $reason"
# Show the first splat (where it starts matters more than how the trace
# ends), else the end of the console.
first=$(grep -n -m1 -E 'Kernel panic|BUG:|Oops|WARNING: CPU|general protection fault' "$console" | cut -d: -f1 || true)
if [ -n "$first" ]; then
	log "console from the first splat ($console):"
	tail -n +"$((first > 3 ? first - 3 : 1))" "$console" | head -n 40 | tr -d '\r' | sed 's/^/    /' >&2
else
	log "last console lines ($console):"
	tail -n 30 "$console" | tr -d '\r' | sed 's/^/    /' >&2
fi
echo "# harness-fail: $reason" >>"$results"
exit 1
