#!/bin/sh
# Soak test, first-boot variant (stage svm-soak-first / vmx-soak-first, only
# when named): the stalls seen so far all came in the first L1 boot after
# L0 booted, which soak.sh always makes with nestor loaded. This suite
# unloads nestor first and boots L1 once, so that a run of L0 boots tells
# whether the first-boot stall happens without nestor too.
RL_DIR=${RL_DIR:-/nestor/realistic}
. "$RL_DIR/lib.sh"

# NESTOR_SOAK_WITH_NESTOR=1 (nestor.soak_with_nestor=1): the control, with
# nestor loaded as in the realistic suites.
echo "1..2"
if [ "${NESTOR_SOAK_WITH_NESTOR:-0}" = 1 ]; then
	mode="with nestor"
	grep -q '^nestor ' /proc/modules
	echo "$([ $? = 0 ] || echo 'not ')ok 1 - soak-first: nestor loaded for L1's first boot"
elif rmmod nestor; then
	mode="without nestor"
	echo "ok 1 - soak-first: nestor unloaded before L1's first boot"
else
	mode="without nestor"
	echo "not ok 1 - soak-first: rmmod nestor"
fi
t0=$(rl_uptime)
start_l1 >/dev/null
if wait_for "$RL_L1_LOG" "^nestor-l1: cmd ready" 240; then
	echo "ok 2 - soak-first ($mode): L1 booted and loaded its KVM in $(rl_elapsed "$t0") s (L0 uptime $(rl_uptime) s)"
else
	echo "not ok 2 - soak-first ($mode): L1 not ready after 240 s"
	tail -n 10 "$RL_L1_LOG" | sed 's/^/#   /'
fi
stop_l1 30 2>/dev/null
grep -q '^nestor ' /proc/modules || insmod /nestor/nestor.ko ||
	echo "# insmod nestor failed"
