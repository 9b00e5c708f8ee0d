#!/bin/sh
# The out-of-band console against real software (Documentation/console.rst):
# L1 (Debian kernel, KVM, QEMU) starts one L2, Debian's kernel with
# console=ttyS0 and its full boot log (loglevel=7; printk.devkmsg=on, so
# the timed /dev/kmsg bursts are not rate limited), paused before its first
# instruction. Before it runs, nestor's console is armed on L1's process
# (pid:P) and `nestorctl console pid:P` attached, its input on a fifo and
# its output in a transcript; the console binds to the L2 at its first
# port access (its firmware's), so no byte can reach L1 first (an L2
# context exists only from L2's first exit: enabling it by id then raced
# L2's first bytes, and lost in slow boots). L2 puts its 8250 in polling mode
# (serial-poll: irq 0) and runs getty/login on ttyS0. We log in, run a
# command, check that L1's serial log of L2 holds none of it, then disable
# the diversion and see L2's next console line reach L1 again.
# TAP on stdout, diagnostics on stderr.
#
# Environment: RC_BOOT_TIMEOUT (s to L2's login prompt, default 600).
RL_DIR=${RL_DIR:-/nestor/realistic}
. "$RL_DIR/lib.sh"
. "$RL_DIR/nestor-json.sh"

RC_BOOT_TIMEOUT=${RC_BOOT_TIMEOUT:-600}
C=$RL_RUN/console
PLAN=12
n=0 typed=0

tap() { # tap ok|fail|skip NAME [REASON]
	n=$((n + 1))
	case "$1" in
	ok) echo "ok $n - console: $2" ;;
	skip) echo "ok $n - console: $2 # SKIP ${3:-}" ;;
	*) echo "not ok $n - console: $2${3:+ # $3}" ;;
	esac
}
check() { # check NAME COMMAND... (ok when the command succeeds)
	_name=$1
	shift
	if "$@"; then tap ok "$_name"; else tap fail "$_name"; fi
}
note() { echo "# $*"; echo "realistic: console: $*" >&2; }
rest() { # rest fail|skip WHY: the remaining tests were not run
	while [ $n -lt $PLAN ]; do tap "$1" "not run" "$2"; done
	# No client or armed console outlives the suite (rmmod needs that).
	[ -z "${sess:-}" ] || kill "$sess" 2>/dev/null
	"$NESTORCTL" console disable "pid:$RL_L1_PID" >/dev/null 2>&1
	stop_l1 60
	[ -z "${old_expiry:-}" ] || echo "$old_expiry" >"$EXPIRY"
	exit 0
}
# type TEXT: bytes into L2's console through nestorctl's input fifo.
type_in() {
	printf '%s' "$1" >"$C.in"
	typed=$((typed + ${#1}))
}
# L2 lines that reached L1's serial log, less QEMU's own messages.
l1_l2_lines() { grep '^\[l2a\] ' "$RL_L1_LOG" | grep -v '^\[l2a\] qemu-system' ; }

echo "1..$PLAN"
mkdir -p "$RL_RUN"
rm -f "$C".*
[ -x "$NESTORCTL" ] || rest skip "$NESTORCTL missing"
# A context not entered for idle_expiry_ms is retired (a later entry makes
# a new one). L2's firmware loads the kernel through fw_cfg in L1's QEMU,
# which keeps L2 out for longer than that under TCG. The console follows
# its L2 across contexts; the raised expiry keeps the bound context listed
# for the diagnostics.
EXPIRY=/sys/module/nestor/parameters/idle_expiry_ms
old_expiry=$(cat "$EXPIRY")
echo 600000 >"$EXPIRY"

# --- 1: L1 up, L2 created but not started
t0=$(rl_uptime)
start_l1 --l2 0 --stay --mem 576 || rest fail "start_l1 failed"
if wait_for "$RL_L1_LOG" "^nestor-l1: cmd ready" 300 &&
   l1_cmd 'rl l2-start l2a 128 "rl.name=l2a rl.console=1 loglevel=7 printk.devkmsg=on" paused' >&2; then
	note "L1 ready, L2 created paused after $(rl_elapsed "$t0") s"
	tap ok "L1 is up; L2 created, paused before its first instruction"
else
	tail -n 20 "$RL_L1_LOG" | sed 's/^/# l1: /'
	tap fail "L1 is up; L2 created, paused before its first instruction"
	rest fail "L1 or L2 did not start"
fi

# --- 2: arm the console on L1's process while L2 is paused, attach to it
# by pid, then let L2 go; the console binds at L2's first port access.
if "$NESTORCTL" console enable "pid:$RL_L1_PID" >"$C.enable" 2>&1; then
	note "console armed on pid $RL_L1_PID"
else
	sed 's/^/# /' "$C.enable"
	tap fail "console armed on L1's process before L2 runs, bound at its first port access"
	rest fail "no console"
fi
# The session: input from a fifo (opened read-write, so it never ends),
# output into a transcript.
mkfifo "$C.in"
"$NESTORCTL" console "pid:$RL_L1_PID" --log "$C.log" <>"$C.in" >/dev/null 2>"$C.err" &
sess=$!
tc=$(rl_uptime)
l1_cmd rl mon l2a cont >&2
# bound_id: the L2 context the armed console took (status by pid).
bound_id() {
	"$NESTORCTL" console status "pid:$RL_L1_PID" 2>/dev/null |
		sed -n 's/^armed on pid [0-9]*, bound to L2 \([0-9]*\)$/\1/p'
}
id=
_end=$(awk -v t="$(rl_uptime)" -v w="$RC_BOOT_TIMEOUT" 'BEGIN { print t + w }')
while awk -v t="$(rl_uptime)" -v e="$_end" 'BEGIN { exit !(t < e) }'; do
	id=$(bound_id)
	[ -z "$id" ] || break
	sleep 0.2
done
if [ -n "$id" ]; then
	note "console bound to L2 context $id $(rl_elapsed "$tc") s after 'cont'"
	tap ok "console armed on L1's process before L2 runs, bound to L2 context $id at its first port access"
else
	"$NESTORCTL" console status "pid:$RL_L1_PID" 2>&1 | sed 's/^/# /'
	tap fail "console armed on L1's process before L2 runs, bound at its first port access"
	rest fail "no console"
fi

# --- 3-6: boot log, /init, polling mode, login prompt, all through nestor
# diag: where the bytes are, when they are not where they should be.
diag() {
	echo "# transcript: $(wc -c <"$C.log" 2>/dev/null || echo no) bytes; session: $(cat "$C.err" 2>/dev/null)"
	head -c 300 "$C.log" 2>/dev/null | tr -d '\r' | sed 's/^/# l2: /'
	"$NESTORCTL" console status "$id" 2>&1 | sed 's/^/# /'
	"$NESTORCTL" list --json 2>&1 | sed 's/^/# list: /'
	echo "# L1's log: $(l1_l2_lines | wc -l) lines of L2; its tail:"
	tail -n 5 "$RL_L1_LOG" | sed 's/^/# l1: /'
}
# The first line of the log, and the one that says which kernel this is.
if wait_for "$C.log" "Linux version" "$RC_BOOT_TIMEOUT" &&
   wait_for "$C.log" "Command line:.*rl.console=1" 120; then
	tap ok "L2's boot log from its first line through nestorctl console"
else
	diag
	tap fail "L2's boot log from its first line through nestorctl console"
fi
if wait_for "$C.log" "nestor-l2: init l2a" "$RC_BOOT_TIMEOUT"; then
	note "L2 /init after $(rl_elapsed "$tc") s; boot log $(wc -c <"$C.log") bytes"
	tap ok "L2's /init marker through the console"
else
	tail -c 1500 "$C.log" | sed 's/^/# l2: /'
	diag
	tap fail "L2's /init marker through the console"
	rest fail "L2 did not reach /init"
fi
# The whole line (the transcript grows while we look).
wait_for "$C.log" "nestor-l2: serial .*(irq [0-9]+ -> [0-9]+|: )" 60
sp=$(sed -n 's/.*nestor-l2: serial //p' "$C.log" | tr -d '\r' | head -n1)
note "L2: $sp"
case "$sp" in
"/dev/ttyS0 irq "[1-9]*" -> 0") tap ok "L2's 8250 in polling mode ($sp)" ;;
*) tap fail "L2's 8250 in polling mode" "serial-poll said: $sp" ;;
esac
if wait_for "$C.log" "l2a login:" 120; then
	tap ok "login prompt through the console"
else
	tail -c 600 "$C.log" | sed 's/^/# l2: /'
	tap fail "login prompt through the console"
fi

# --- 7: log in and run a command. The line is typed again if its answer
# does not come (input typed while login is still starting may be flushed);
# "$((6*7))" is echoed as typed, only the shell prints 42.
type_in "root$(printf '\r')"
ok=0
for try in 1 2 3 4; do
	wait_for "$C.log" "nestor-cmd-42 l2a " 20 && { ok=1; break; }
	type_in 'echo nestor-cmd-$((6*7)) $(hostname) $(cut -d" " -f1 /proc/uptime)'"$(printf '\r')"
done
wait_for "$C.log" "nestor-cmd-42 l2a " 30 && ok=1
if [ $ok = 1 ]; then
	note "answer: $(grep -a 'nestor-cmd-42 l2a ' "$C.log" | tr -d '\r' | head -n1)"
	tap ok "login shell: a command typed there runs in L2, its output comes back"
else
	tail -c 800 "$C.log" | sed 's/^/# l2: /'
	tap fail "login shell: a command typed there runs in L2, its output comes back"
fi

# --- 8-9: nothing of it in L1; nestor's view of the UART
leak=$(l1_l2_lines | wc -l)
if [ "$leak" = 0 ]; then
	tap ok "L1's serial log of L2 holds none of it ($(wc -c <"$C.log") bytes went through nestor)"
else
	l1_l2_lines | head -n 5 | sed 's/^/# l1: /'
	tap fail "L1's serial log of L2 holds none of it" "$leak lines leaked"
fi
"$NESTORCTL" console status "$id" >"$C.status" 2>&1
sed 's/^/# /' "$C.status"
# Polling driver: MCR.OUT2 (0x08) clear; every typed byte received.
mcr=$(sed -n 's/.* MCR \([0-9a-f]*\) .*/\1/p' "$C.status")
rx=$(sed -n 's/.* rx \([0-9]*\),.*/\1/p' "$C.status")
tx=$(sed -n 's/.*tx \([0-9]*\),.*/\1/p' "$C.status")
if [ -n "$mcr" ] && [ $((0x$mcr & 8)) = 0 ] && [ "$rx" = "$typed" ] && [ "${tx:-0}" -gt 0 ]; then
	tap ok "status: MCR.OUT2 clear (no interrupts wanted), rx $rx = bytes typed, tx $tx"
else
	tap fail "status: MCR.OUT2 clear, rx = bytes typed ($typed), tx > 0" "MCR $mcr rx $rx tx $tx"
fi

# --- 10-12: throughput of L2's kernel console (printk: the 8250 console
# driver polls LSR.THRE per byte) through nestor now, then through L1's
# QEMU after the disable; and the hand back itself. L2 times each burst of
# 64 lines with its own clock; L0 counts what arrived.
# b LABEL [LEVEL]: the burst at printk level LEVEL (default 1, printed).
type_in 'b() { t0=$(cut -d" " -f1 /proc/uptime); i=0; while [ $i -lt 64 ]; do echo "<${2:-1}>nestor-bench-$1-$i-abcdefghijklmnopqrstuvwxyz0123456789"; i=$((i+1)); done >/dev/kmsg; echo "<1>nestor-bench-$1-done $t0 $(cut -d" " -f1 /proc/uptime)" >/dev/kmsg; }'"$(printf '\r')"
# counters: L0's side of a burst, KEY=VALUE: L0's uptime; nestor's tx
# bytes and port exits; the session's (the reader's) CPU ns, voluntary
# switches (sleeps) and read() calls; CPU ns of L1's QEMU (all threads);
# L0's user/system/idle ticks.
counters() {
	"$NESTORCTL" console status "$id" 2>/dev/null | sed -n 's/.*tx \([0-9]*\),.*port exits \([0-9]*\),.*/tx=\1 ex=\2/p'
	echo "up=$(rl_uptime)"
	if [ -d "/proc/$sess" ]; then
		echo "rd_ns=$(cut -d' ' -f1 "/proc/$sess/schedstat")"
		sed -n 's/^voluntary_ctxt_switches:[[:space:]]*/rd_sleeps=/p' "/proc/$sess/status"
		sed -n 's/^syscr: /rd_syscr=/p' "/proc/$sess/io"
	fi
	cat /proc/"$RL_L1_PID"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "qemu_ns=%.0f\n", s }'
	awk '$1 == "cpu" { print "l0_user=" $2 + $3, "l0_sys=" $4 + $7 + $8, "l0_idle=" $5 + $6 }' /proc/stat
}
# delta A B: B - A for every key of B, on one line.
delta() {
	tr ' ' '\n' <"$1" >"$1.kv"
	tr ' ' '\n' <"$2" | awk -F= 'NR == FNR { a[$1] = $2; next } $2 != "" && ($1 in a) { printf "%s=%s ", $1, $2 - a[$1] } END { print "" }' "$1.kv" -
}
# burst LABEL LEVEL: one timed burst with the reader running.
burst() {
	counters >"$C.cnt-$1-0"
	type_in "b $1 $2$(printf '\r')"
	wait_for "$C.log" "nestor-bench-$1-done " 120
	counters >"$C.cnt-$1-1"
	note "L0 counters over burst $1: $(delta "$C.cnt-$1-0" "$C.cnt-$1-1")"
}
# L2's own work W: the same burst stored in L2's log but below the console
# loglevel (7), so its 8250 console driver is never called.
burst w 7
burst nestor 1
# The same with the reader stopped: the bytes wait in nestor's ring, so
# the burst pays for the UART, not for waking the reader.
type_in "sleep 5; b nstop 1$(printf '\r')"
wait_for "$C.log" "b nstop 1" 30
kill -STOP $sess
counters >"$C.cnt-nstop-0"
_i=0
until "$NESTORCTL" console "$id" --dump 2>/dev/null | grep -qa "nestor-bench-nstop-done "; do
	sleep 0.2
	_i=$((_i + 1))
	[ $_i -lt 300 ] || break
done
counters >"$C.cnt-nstop-1"
kill -CONT $sess
wait_for "$C.log" "nestor-bench-nstop-done " 60
note "L0 counters over burst nstop: $(delta "$C.cnt-nstop-0" "$C.cnt-nstop-1")"
type_in 'x=l2a; (sleep 6; b l1; echo "<1>nestor-handback-$x" >/dev/kmsg) &'"$(printf '\r')"
wait_for "$C.log" 'nestor-handback-\$x' 30
"$NESTORCTL" console disable "$id" >&2
dis=$?
i=0
while [ -d "/proc/$sess" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
if [ $dis = 0 ] && ! [ -d "/proc/$sess" ] && grep -q "console was disabled" "$C.err"; then
	wait $sess
	tap ok "disable ends the nestorctl console session (exit $?)"
else
	kill $sess 2>/dev/null
	sed 's/^/# /' "$C.err"
	tap fail "disable ends the nestorctl console session"
fi
counters >"$C.cnt-l1-0"
if wait_for "$RL_L1_LOG" "^\\[l2a\\] .*nestor-handback-l2a" 180; then
	counters >"$C.cnt-l1-1"
	note "L0 counters from the disable to the hand back (L1 burst, 6 s sleep): $(delta "$C.cnt-l1-0" "$C.cnt-l1-1")"
	tap ok "after disable, L2's console output reaches L1 again"
else
	tail -n 5 "$RL_L1_LOG" | sed 's/^/# l1: /'
	tap fail "after disable, L2's console output reaches L1 again"
fi
# bench_of FILE PATH: "LINES BYTES SECONDS" of one burst in a transcript:
# whole lines only (L1's carry the 6-byte "[l2a] " prefix, not counted).
bench_of() {
	tr -d '\r' <"$1" | awk -v p="nestor-bench-$2-" '
		$0 ~ p "[0-9]+-abcdefghijklmnopqrstuvwxyz0123456789$" { n++; b += length($0) + 1 - (substr($0, 1, 6) == "[l2a] " ? 6 : 0) }
		index($0, p "done ") { split(substr($0, index($0, p "done ") + length(p) + 5), t, " "); s = t[2] - t[1] }
		END { printf "%d %d %.2f\n", n, b, s }'
}
for lab in w nstop; do
	note "burst $lab: $(bench_of "$C.log" $lab) (lines bytes seconds)"
done
set -- $(bench_of "$C.log" nestor)
nl=$1 nb=$2 ns=$3
set -- $(bench_of "$RL_L1_LOG" l1)
ll=$1 lb=$2 ls=$3
note "realistic: L2 printk burst of 64 lines: nestor path $nb bytes in $ns s, L1 path $lb bytes in $ls s"
awk -v nb="$nb" -v ns="$ns" -v lb="$lb" -v ls="$ls" 'BEGIN {
	if (ns > 0 && ls > 0) printf "# console: realistic nestor %.0f B/s, L1 %.0f B/s, ratio %.1f\n", nb / ns, lb / ls, (nb / ns) / (lb / ls) }'
# The two bursts differ only in their label ("nestor" and "l1": 4 bytes a
# line) and timestamps of the same width.
if [ "$nl" = 64 ] && [ "$ll" = 64 ]; then
	tap ok "L2's printk burst: 64 of 64 whole lines through nestor ($nb bytes) and through L1 ($lb bytes)"
else
	tap fail "L2's printk burst: 64 of 64 whole lines both ways" "nestor $nl lines $nb bytes, L1 $ll lines $lb bytes"
fi
note "whole scenario $(rl_elapsed "$t0") s"
stop_l1 60
echo "$old_expiry" >"$EXPIRY"
exit 0
