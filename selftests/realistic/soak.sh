#!/bin/sh
# Soak test of the realistic chain (not part of `make check`; run with
# NESTOR_CHECK_ONLY="svm-soak" or "vmx-soak"): boots L1 and its L2 again and
# again, alternating with and without nestor loaded, and records how long
# L2 took to reach /init and which boots stalled. A stalled boot leaves a
# diagnostic: the tail of L1's console, the state and kernel stack of every
# thread of L1's QEMU, and a short count of KVM's events in L0.
#
# Environment: SOAK_ROUNDS (boots per mode, default 4), SOAK_TIMEOUT (s to
# L2's /init, default 240), SOAK_SMP (L1 vCPUs, default 1).
RL_DIR=${RL_DIR:-/nestor/realistic}
. "$RL_DIR/lib.sh"

SOAK_ROUNDS=${SOAK_ROUNDS:-4}
SOAK_TIMEOUT=${SOAK_TIMEOUT:-240}
SOAK_SMP=${SOAK_SMP:-1}
KO=/nestor/nestor.ko
n=0

tap() { n=$((n + 1)); echo "$1 $n - soak: $2"; }

# Where L1 is stuck: printed as TAP comments so it reaches the results.
stall_diag() {
	echo "# --- L1 console, last 25 lines"
	tail -n 25 "$RL_L1_LOG" 2>/dev/null | sed 's/^/#   /'
	echo "# --- L1 qemu threads (state, wchan, utime+stime)"
	for t in /proc/"$RL_L1_PID"/task/*; do
		[ -d "$t" ] || continue
		echo "#   $(cat "$t/comm" 2>/dev/null) $(cut -d' ' -f3,14,15 "$t/stat" 2>/dev/null) $(cat "$t/wchan" 2>/dev/null)"
		sed 's/^/#     /' "$t/stack" 2>/dev/null | head -n 12
	done
	tr=/sys/kernel/tracing
	[ -d $tr/events ] || mount -t tracefs nodev $tr 2>/dev/null
	if [ -d $tr/events/kvm ]; then
		echo 0 >$tr/tracing_on
		: >$tr/trace
		for e in kvm_exit kvm_entry kvm_nested_vmenter kvm_nested_vmexit kvm_inj_virq kvm_apic_accept_irq; do
			echo 1 >"$tr/events/kvm/$e/enable" 2>/dev/null
		done
		echo 1 >$tr/tracing_on
		sleep 3
		echo 0 >$tr/tracing_on
		echo "# --- KVM events in 3 s: count, event"
		grep -oE ' kvm_[a-z_]+:' $tr/trace | sort | uniq -c | sed 's/^/#   /'
		echo "# --- last kvm_exit reasons"
		grep ' kvm_exit:' $tr/trace | tail -n 5 | sed 's/^/#   /'
		for e in kvm_exit kvm_entry kvm_nested_vmenter kvm_nested_vmexit kvm_inj_virq kvm_apic_accept_irq; do
			echo 0 >"$tr/events/kvm/$e/enable" 2>/dev/null
		done
		: >$tr/trace
	fi
}

one_boot() { # one_boot MODE I
	t0=$(rl_uptime)
	start_l1 --smp "$SOAK_SMP" >/dev/null || { tap "not ok" "$1 boot $2: start_l1 failed"; return; }
	if wait_l2_init l2a "$SOAK_TIMEOUT"; then
		tap ok "$1 boot $2: L2 /init after $(rl_elapsed "$t0") s"
	else
		tap "not ok" "$1 boot $2: L2 not at /init after $SOAK_TIMEOUT s"
		stall_diag
	fi
	stop_l1 30 2>/dev/null
	# L0's timekeeping is a suspect for the stalls: show its changes.
	dmesg | grep -iE 'clocksource|tsc|timekeeping|hpet' | tail -n 5 | sed 's/^/# dmesg: /'
}

echo "1..$((SOAK_ROUNDS * 2))"
for i in $(seq 1 "$SOAK_ROUNDS"); do
	one_boot with-nestor "$i"
	rmmod nestor || echo "# rmmod nestor failed"
	one_boot without-nestor "$i"
	insmod "$KO" || echo "# insmod nestor failed"
done
