#!/bin/sh
# Soak test, first-boot variant (stage svm-soak-first / vmx-soak-first, only
# when named): the stalls seen so far all came in the first L1 boot after
# L0 booted, which soak.sh always makes with nestor loaded. This suite
# unloads nestor first and boots L1 once, so that a run of L0 boots tells
# whether the first-boot stall happens without nestor too.
RL_DIR=${RL_DIR:-/nestor/realistic}
. "$RL_DIR/lib.sh"

echo "1..2"
if rmmod nestor; then echo "ok 1 - soak-first: nestor unloaded before L1's first boot"
else echo "not ok 1 - soak-first: rmmod nestor"; fi
t0=$(rl_uptime)
start_l1 >/dev/null
if wait_for "$RL_L1_LOG" "^nestor-l1: cmd ready" 240; then
	echo "ok 2 - soak-first: L1 booted and loaded its KVM in $(rl_elapsed "$t0") s (L0 uptime $(rl_uptime) s)"
else
	echo "not ok 2 - soak-first: L1 not ready after 240 s"
	tail -n 10 "$RL_L1_LOG" | sed 's/^/#   /'
fi
stop_l1 30 2>/dev/null
insmod /nestor/nestor.ko || echo "# insmod nestor failed"
