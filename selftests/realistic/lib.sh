# Realistic scenario helpers for suites running in L0 (busybox sh; source it).
#
#   start_l1 [--l2 N] [--hold] [--stay] [--mem MB] [--l2mem MB] [--smp N]
#            [--rounds N] [--procs N] [--net] [--append "..."]
#       (--append adds to L1's kernel command line; rl2.X=Y there becomes
#       rl.X=Y on each L2's, see l1-init and l2-init)
#       --net: L1 gets a virtio-net NIC on the tap $RL_NET_TAP in L0 (QEMU's
#       own, gone with it; needs the tun module in L0) and routes between
#       it and its L2s: L0 $RL_NET_L0/24 -- L1 $RL_NET_L1 (MAC
#       $RL_NET_L1_MAC) -- L2 number i at 10.2.i.2 (l2a: 10.2.0.2), L0's
#       route to 10.2.0.0/16 via L1. The tap is configured once QEMU made it.
#       Starts L1 (Debian kernel + KVM + QEMU) in the background. L1 starts N
#       L2 guests (default 1); their consoles are chained into L1's, so
#       everything lands in $RL_L1_LOG. Sets RL_L1_PID (L1's QEMU, i.e. the
#       process that owns L1's VM in L0) and RL_L1_START (uptime, seconds).
#       --hold: L2s keep running until "l1_cmd rl l2-stop NAME".
#       --stay: L1 stays up after its L2s end, until stop_l1.
#   wait_for LOG PATTERN TIMEOUT   grep -E PATTERN in LOG, polling; 1 on timeout
#   wait_l2_init [NAME] [TIMEOUT]  wait for L2's init marker
#   l1_cmd [-t S] COMMAND...       run a shell command in L1 (command channel on
#                                  L1's ttyS1); prints its output, returns its
#                                  status (124 when L1 did not answer in S s,
#                                  default RL_CMD_TIMEOUT=60)
#   stop_l1 [TIMEOUT]              power L1 off (kill it after TIMEOUT s), reap
#                                  our helper processes; RL_L1_RC = QEMU's status
#   rl_uptime                      L0's uptime in seconds (with decimals)
#   rl_elapsed T0                  seconds since uptime T0, one decimal
# L2 names are l2a, l2b, ... Markers: see l1-init and l2-init.
# Diagnostics go to stderr (the console); stdout stays free for TAP.

RL_DIR=${RL_DIR:-/nestor/realistic}
RL_RUN=${RL_RUN:-/tmp/realistic}
RL_QEMU=${RL_QEMU:-$RL_DIR/qemu/qemu}
RL_L1_LOG=${RL_L1_LOG:-$RL_RUN/l1.log}
RL_CMD_TIMEOUT=${RL_CMD_TIMEOUT:-60}
RL_L1_PID=
RL_CAT_PID=
RL_L1_RC=
RL_SEQ=0
RL_NET_TAP=${RL_NET_TAP:-rl-l1}
RL_NET_L0=10.1.0.1
RL_NET_L1=10.1.0.2
RL_NET_L1_MAC=52:54:00:00:01:01

rl_diag() { echo "realistic: $*" >&2; }
rl_uptime() { cut -d' ' -f1 /proc/uptime; }
rl_elapsed() { awk -v t0="$1" -v t1="$(rl_uptime)" 'BEGIN { printf "%.1f", t1 - t0 }'; }

wait_for() {
	_log=$1 _pat=$2 _t=$3
	_end=$(awk -v t="$(rl_uptime)" -v d="$_t" 'BEGIN { print t + d }')
	while :; do
		[ -f "$_log" ] && grep -qE -- "$_pat" "$_log" && return 0
		awk -v t="$(rl_uptime)" -v e="$_end" 'BEGIN { exit !(t >= e) }' && return 1
		sleep 0.2
	done
}

start_l1() {
	_l2=1 _hold=0 _stay=0 _mem= _l2mem=128 _rounds= _procs= _app= _smp=1 _net=
	while [ $# -gt 0 ]; do
		case "$1" in
		--l2) _l2=$2; shift ;;
		--hold) _hold=1 ;;
		--stay) _stay=1 ;;
		--mem) _mem=$2; shift ;;
		--l2mem) _l2mem=$2; shift ;;
		--smp) _smp=$2; shift ;;
		--rounds) _rounds=$2; shift ;;
		--procs) _procs=$2; shift ;;
		--append) _app=$2; shift ;;
		--net) _net=1 ;;
		*) rl_diag "start_l1: unknown option $1"; return 2 ;;
		esac
		shift
	done
	[ -c /dev/kvm ] || { rl_diag "start_l1: /dev/kvm missing in L0 (kvm_amd/kvm_intel not loaded?)"; return 1; }
	[ -x "$RL_QEMU" ] || { rl_diag "start_l1: $RL_QEMU missing (selftests/realistic/build.sh)"; return 1; }
	if [ -n "$RL_L1_PID" ] && [ -d "/proc/$RL_L1_PID" ]; then
		rl_diag "start_l1: L1 already running (pid $RL_L1_PID)"
		return 1
	fi
	# L1 holds its initramfs packed (46 MB) and unpacked (130 MB) while it
	# boots; each L2 needs its own memory plus QEMU's. 320 MB was too little
	# for L1 alone.
	[ -n "$_mem" ] || _mem=$((384 + _l2 * (_l2mem + 64)))
	_a="console=ttyS0 quiet loglevel=3 panic=-1 rl.l2=$_l2 rl.l2mem=$_l2mem rl.hold=$_hold rl.stay=$_stay"
	[ -z "$_rounds" ] || _a="$_a rl2.rounds=$_rounds"
	[ -z "$_procs" ] || _a="$_a rl2.procs=$_procs"
	[ -z "$_app" ] || _a="$_a $_app"
	_nic=
	if [ -n "$_net" ]; then
		[ -c /dev/net/tun ] || modprobe tun 2>/dev/null
		[ -c /dev/net/tun ] || { rl_diag "start_l1 --net: no /dev/net/tun in L0 (tun module missing?)"; return 1; }
		_a="$_a rl.net=$RL_NET_L1/24,$RL_NET_L0"
		# No option ROM: the bundle has none and nothing boots from the net.
		_nic="-netdev tap,id=n0,ifname=$RL_NET_TAP,script=no,downscript=no
			-device virtio-net-pci,netdev=n0,mac=$RL_NET_L1_MAC,romfile="
	fi
	mkdir -p "$RL_RUN"
	rm -f "$RL_L1_LOG" "$RL_RUN/l1cmd.in" "$RL_RUN/l1cmd.out" "$RL_RUN/l1cmd.log"
	mkfifo "$RL_RUN/l1cmd.in" "$RL_RUN/l1cmd.out"
	: >"$RL_RUN/l1cmd.log"
	# QEMU opens both fifos read-write, so neither side blocks; this reader
	# ends when QEMU closes them.
	cat "$RL_RUN/l1cmd.out" >>"$RL_RUN/l1cmd.log" &
	RL_CAT_PID=$!
	RL_SEQ=0
	RL_L1_START=$(rl_uptime)
	"$RL_QEMU" -M pc,accel=kvm -cpu host -m "$_mem" -smp "$_smp" \
		-nodefaults -no-user-config -display none -no-reboot \
		-bios qboot.rom -kernel "$RL_DIR/l1-kernel" -initrd "$RL_DIR/l1-initrd" \
		-append "$_a" \
		-serial "file:$RL_L1_LOG" \
		-chardev "pipe,id=cmd,path=$RL_RUN/l1cmd" -serial chardev:cmd \
		$_nic </dev/null >"$RL_RUN/l1-qemu.err" 2>&1 &
	RL_L1_PID=$!
	RL_L1_RC=
	rl_diag "L1 started: qemu pid $RL_L1_PID, ${_mem} MB, $_l2 L2 of ${_l2mem} MB, log $RL_L1_LOG"
	[ -z "$_net" ] || rl_net_l0 || return 1
	return 0
}

# L0's end of L1's NIC, once L1's QEMU has created the tap.
rl_net_l0() {
	_n=0
	while [ ! -e "/sys/class/net/$RL_NET_TAP" ]; do
		_n=$((_n + 1))
		if [ $_n -gt 300 ] || ! l1_alive; then
			rl_diag "start_l1 --net: L1's QEMU did not create $RL_NET_TAP"
			return 1
		fi
		sleep 0.1
	done
	ip addr add "$RL_NET_L0/24" dev "$RL_NET_TAP" &&
		ip link set "$RL_NET_TAP" up &&
		ip route add 10.2.0.0/16 via "$RL_NET_L1" || {
		rl_diag "start_l1 --net: cannot configure $RL_NET_TAP"
		return 1
	}
	rl_diag "L1's NIC: $RL_NET_TAP in L0 ($RL_NET_L0), L1 $RL_NET_L1"
}

wait_l2_init() {
	wait_for "$RL_L1_LOG" "^\\[${1:-l2a}\\] nestor-l2: init" "${2:-300}"
}

l1_alive() { [ -n "$RL_L1_PID" ] && [ -d "/proc/$RL_L1_PID" ] && ! grep -q '^State:.*Z' "/proc/$RL_L1_PID/status" 2>/dev/null; }

l1_cmd() {
	_ct=$RL_CMD_TIMEOUT
	if [ "$1" = -t ]; then _ct=$2; shift 2; fi
	l1_alive || { rl_diag "l1_cmd: L1 is not running"; return 124; }
	wait_for "$RL_L1_LOG" "^nestor-l1: cmd ready" "$_ct" || {
		rl_diag "l1_cmd: L1's command channel never came up"
		return 124
	}
	RL_SEQ=$((RL_SEQ + 1))
	_id=c$RL_SEQ
	_off=$(wc -c <"$RL_RUN/l1cmd.log")
	# The fifo has a reader (QEMU) while L1 runs; timeout guards the rest.
	timeout 10 sh -c 'echo "$1" >"$2"' sh "$_id $*" "$RL_RUN/l1cmd.in" || {
		rl_diag "l1_cmd: cannot write to L1's command channel"
		return 124
	}
	_n=0
	while ! tail -c +$((_off + 1)) "$RL_RUN/l1cmd.log" | grep -q "^@@$_id rc="; do
		_n=$((_n + 1))
		if [ $_n -gt $((_ct * 5)) ] || ! l1_alive; then
			rl_diag "l1_cmd: no answer from L1 to '$*'"
			return 124
		fi
		sleep 0.2
	done
	tail -c +$((_off + 1)) "$RL_RUN/l1cmd.log" | sed -n "/^@@$_id rc=/q;p" | sed '${/^$/d;}'
	_rc=$(tail -c +$((_off + 1)) "$RL_RUN/l1cmd.log" | sed -n "s/^@@$_id rc=\\([0-9]*\\).*/\\1/p" | head -n1)
	return "${_rc:-1}"
}

# Waits for L1's QEMU to end; sets RL_L1_RC. 1 on timeout.
l1_wait_exit() {
	_n=0
	while l1_alive; do
		_n=$((_n + 1))
		[ $_n -le $(($1 * 5)) ] || return 1
		sleep 0.2
	done
	wait "$RL_L1_PID" 2>/dev/null
	RL_L1_RC=$?
	return 0
}

stop_l1() {
	_t=${1:-60}
	if l1_alive; then
		# Ask nicely; powering off means no "@@" answer, so do not wait for one.
		timeout 10 sh -c 'echo "$1" >"$2"' sh "stop rl poweroff" "$RL_RUN/l1cmd.in" 2>/dev/null
		if ! l1_wait_exit "$_t"; then
			rl_diag "stop_l1: L1 did not power off in ${_t}s; killing qemu $RL_L1_PID"
			kill "$RL_L1_PID" 2>/dev/null
			l1_wait_exit 10 || kill -9 "$RL_L1_PID" 2>/dev/null
			l1_wait_exit 10
		fi
	elif [ -n "$RL_L1_PID" ]; then
		wait "$RL_L1_PID" 2>/dev/null
		RL_L1_RC=$?
	fi
	if [ -n "$RL_CAT_PID" ]; then
		kill "$RL_CAT_PID" 2>/dev/null
		wait "$RL_CAT_PID" 2>/dev/null
		RL_CAT_PID=
	fi
	[ ! -s "$RL_RUN/l1-qemu.err" ] || sed 's/^/realistic: L1 qemu: /' "$RL_RUN/l1-qemu.err" >&2
	return 0
}
