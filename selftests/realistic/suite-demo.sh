#!/bin/sh
# "make demo" inside L0: L1 (Debian's KVM and QEMU) runs two L2 guests while
# this prints what nestor sees ("nestorctl list") every few seconds, then
# everything shuts down. The show goes to stderr (the console); stdout gets a
# few TAP lines (the results channel).
#
# Environment: RL_DEMO_L2 (guests, default 2), RL_DEMO_SECONDS (how long to
# watch them once all are up, default 60), RL_DEMO_EVERY (s, default 10),
# RL_DEMO_L2MEM (MB per guest, default 128), RL_DEMO_L1_SMP (L1's vCPUs,
# default 1).
RL_DIR=${RL_DIR:-/nestor/realistic}
. "$RL_DIR/lib.sh"
. "$RL_DIR/nestor-json.sh"

l2n=${RL_DEMO_L2:-2}
watch=${RL_DEMO_SECONDS:-60}
every=${RL_DEMO_EVERY:-10}
l2mem=${RL_DEMO_L2MEM:-128}
failed=0
tap() { if [ "$1" = 0 ]; then echo "ok - demo: $2"; else echo "not ok - demo: $2"; failed=1; fi; }
banner() { echo "======== demo ($(rl_uptime)s): $*" >&2; }

show() {
	banner "nestorctl list${1:+ ($1)}"
	if [ -x "$NESTORCTL" ]; then
		"$NESTORCTL" list >&2 || echo "(nestorctl list failed)" >&2
	else
		echo "($NESTORCTL is missing: nestor is not in this payload)" >&2
	fi
}

# One L1 vCPU by default: with two, modprobe kvm_amd in L1 hung in 1 of 4
# boots under QEMU TCG (an IPI that never arrived, L0 idle), never with one.
# The two L2s then share it, so they boot one after the other, in effect.
smp=${RL_DEMO_L1_SMP:-1}

names=
i=0
while [ $i -lt "$l2n" ]; do
	names="$names l2$(printf "\\$(printf %o $((97 + i)))")"
	i=$((i + 1))
done

banner "starting L1 with $l2n L2 guests ($names), L1 has $smp vCPU(s); L1's console follows"
show "before L1"
t0=$(rl_uptime)
start_l1 --l2 "$l2n" --l2mem "$l2mem" --hold --stay --smp "$smp" || {
	tap 1 "L1 starts"
	exit 1
}
# L1's console (with the L2s' consoles inside it) on ours, as it comes.
: >>"$RL_L1_LOG"
tail -f "$RL_L1_LOG" >&2 &
tailpid=$!

# L2s take minutes to boot under emulation: show nestor's view meanwhile.
up=0 pending=$names
while [ -n "$pending" ]; do
	wait_for "$RL_L1_LOG" "nestor-l2: init" "$every"
	still=
	for n in $pending; do
		if grep -q "^\[$n\] nestor-l2: init" "$RL_L1_LOG"; then
			up=$((up + 1))
			show "$n reached /init after $(rl_elapsed "$t0") s"
		else
			still="$still $n"
		fi
	done
	pending=$still
	[ -n "$pending" ] || break
	if awk -v e="$(rl_elapsed "$t0")" 'BEGIN { exit !(e > 900) }'; then
		banner "gave up waiting for$pending"
		break
	fi
	show "waiting for$pending to boot ($(rl_elapsed "$t0") s)"
	sleep "$every"
done
tap $([ "$up" = "$l2n" ] && echo 0 || echo 1) "$l2n L2 guests reached /init (after $(rl_elapsed "$t0") s)"

seen=0
t1=$(rl_uptime)
while awk -v e="$(rl_elapsed "$t1")" -v w="$watch" 'BEGIN { exit !(e < w) }'; do
	sleep "$every"
	show "L2s running"
	if [ -x "$NESTORCTL" ] && nj_snap "$RL_RUN/demo.json"; then
		c=$(nj_l2_count "$RL_RUN/demo.json" "$RL_L1_PID")
		[ "${c:-0}" -gt "$seen" ] 2>/dev/null && seen=$c
	fi
done
if [ -x "$NESTORCTL" ]; then
	tap $([ "$seen" = "$l2n" ] && echo 0 || echo 1) "nestor saw $seen L2 contexts in L1's VM (pid $RL_L1_PID)"
fi

banner "telling the L2s to power off"
down=0
for n in $names; do
	l1_cmd -t 200 rl l2-stop "$n" 150 >/dev/null && down=$((down + 1))
done
tap $([ "$down" = "$l2n" ] && echo 0 || echo 1) "the L2 guests powered off"
sleep $(($(nj_idle_expiry_ms) / 1000 + 2))
show "L2s gone, L1 still up: their contexts expired"

banner "powering L1 off"
stop_l1 120
tap $([ "$RL_L1_RC" = 0 ] && echo 0 || echo 1) "L1 powered off (qemu status ${RL_L1_RC:-?})"
kill "$tailpid" 2>/dev/null
wait "$tailpid" 2>/dev/null
show "after L1"
banner "done in $(rl_elapsed "$t0") s"
exit $failed
