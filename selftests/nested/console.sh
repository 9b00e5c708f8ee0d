#!/bin/sh
# L0 suite fragment (selftests/l0-suite.sh): the out-of-band console
# (Documentation/console.rst).  Runs /nestor/bin/console_l2 (an L2 driving
# its UART under a selftest L1, see console_l2.c); its lines are prefixed
# with "console_l2: ", its plan becomes a comment, and one more line says
# whether it exited 0.  nestor must still be loaded afterwards.
N=${NESTOR_DIR:-/nestor}
BIN=$N/bin/console_l2
TMO=${NESTOR_NESTED_TIMEOUT:-300}

if [ ! -x "$BIN" ]; then
	echo "not ok - console_l2: $BIN is missing"
	exit 1
fi
t0=$(date +%s)
timeout -s KILL $((TMO + 30)) "$BIN" -t "$TMO" -R "rmmod nestor" \
	>/tmp/console_l2.tap 2>/tmp/console_l2.err
rc=$?
t1=$(date +%s)
sed -e 's/^\(\(not \)\{0,1\}ok\( [0-9][0-9]*\)\{0,1\}\) - /\1 - console_l2: /' \
	-e 's/^\([0-9][0-9]*\.\.[0-9][0-9]*.*\)$/# console_l2: plan \1/' \
	-e 's/^Bail out!/not ok - console_l2: Bail out!/' /tmp/console_l2.tap
failed=0
if [ "$rc" = 0 ]; then
	echo "ok - console_l2: exited 0 ($((t1 - t0)) s)"
else
	echo "not ok - console_l2: exited $rc ($((t1 - t0)) s)"
	tail -n 30 /tmp/console_l2.err | sed 's/^/#   /'
	failed=1
fi
# A long write served by nestor with a short idle expiry: L1 never enters
# L2 meanwhile, and the context (so the console) must not be retired; then
# the same bytes through L1, all checked (console_l2.c -b, -E).
timeout -s KILL $((TMO + 30)) "$BIN" -t "$TMO" -b 32768 -k 5 -E 300 \
	>/tmp/console_l2b.tap 2>/tmp/console_l2b.err
rc=$?
sed -e 's/^\(\(not \)\{0,1\}ok\( [0-9][0-9]*\)\{0,1\}\) - /\1 - console_l2 -b: /' \
	-e 's/^\([0-9][0-9]*\.\.[0-9][0-9]*.*\)$/# console_l2 -b: plan \1/' \
	-e 's/^Bail out!/not ok - console_l2 -b: Bail out!/' /tmp/console_l2b.tap
if [ "$rc" = 0 ]; then
	echo "ok - console_l2 -b: exited 0"
else
	echo "not ok - console_l2 -b: exited $rc"
	tail -n 30 /tmp/console_l2b.err | sed 's/^/#   /'
	failed=1
fi
# nestorctl console's bad input (no L2 needed).
ctl() { # want-status name args...
	want=$1 name=$2
	shift 2
	nestorctl "$@" </dev/null >/tmp/ctl.out 2>/tmp/ctl.err
	st=$?
	if [ "$st" = "$want" ]; then
		echo "ok - nestorctl $name: exit $want"
	else
		echo "not ok - nestorctl $name: exit $st, want $want"
		sed 's/^/#   /' /tmp/ctl.err
		failed=1
	fi
}
ctl 1 "console of an unknown L2" console 4000000
grep -q "no such L2" /tmp/ctl.err && echo "ok - ... says no such L2" ||
	{ echo "not ok - ... says no such L2"; failed=1; }
ctl 1 "console --dump of an unknown L2" console l2:4000000 --dump
ctl 1 "console enable of an unknown L2" console enable 4000000
ctl 1 "console disable of an unknown L2" console disable 4000000
ctl 1 "console enable of a pid that is no process" console enable pid:4000000
grep -q "no such process" /tmp/ctl.err && echo "ok - ... says no such process" ||
	{ echo "not ok - ... says no such process"; failed=1; }
ctl 1 "console status of a pid with nothing armed" console status pid:1
grep -q "no console is armed on pid:1" /tmp/ctl.err &&
	echo "ok - ... says no console is armed on it" ||
	{ echo "not ok - ... says no console is armed on it"; failed=1; }
ctl 1 "console attach of a pid with nothing armed" console pid:1 --dump
ctl 1 "console disable of a pid with nothing armed" console disable pid:1
ctl 2 "console with pid 0" console status pid:0
ctl 2 "console with a bad pid" console status pid:x
# Armed on this shell (no VM): status says it waits; a second arm: EEXIST.
ctl 0 "console enable pid:\$\$ (arm, no L2 yet)" console enable "pid:$$"
ctl 0 "console status pid:\$\$" console status "pid:$$"
grep -q "^armed on pid $$, waiting for its next L2$" /tmp/ctl.out &&
	echo "ok - ... says it waits for its next L2" ||
	{ echo "not ok - ... says it waits for its next L2"; sed 's/^/#   /' /tmp/ctl.out; failed=1; }
ctl 1 "console enable pid:\$\$ again" console enable "pid:$$"
grep -q "still waits for its L2" /tmp/ctl.err && echo "ok - ... says one still waits" ||
	{ echo "not ok - ... says one still waits"; failed=1; }
ctl 0 "console disable pid:\$\$" console disable "pid:$$"
ctl 2 "console without an L2" console
ctl 2 "console with a bad L2 name" console vm:x
ctl 2 "console with a bad escape" console 1 --escape abc
ctl 2 "console with an extra argument" console 1 2
ctl 2 "console enable with a bad option" console enable 1 --ring
# The SSH forced-command wrapper: the client's own command may only pick
# dump or read-only; the L2 is the key's (Documentation/console.rst).
forced() { # want-status client-command [extra args]
	want=$1 req=$2
	shift 2
	env SSH_ORIGINAL_COMMAND="$req" nestorctl console 4000000 --remote-forced "$@" \
		</dev/null >/tmp/ctl.out 2>/tmp/ctl.err
	st=$?
	if [ "$st" = "$want" ]; then
		echo "ok - nestorctl console --remote-forced, client asks '$req' $*: exit $want"
	else
		echo "not ok - nestorctl console --remote-forced, client asks '$req' $*: exit $st, want $want"
		sed 's/^/#   /' /tmp/ctl.err
		failed=1
	fi
}
forced 2 "enable"
grep -q "remote request 'enable' is not allowed" /tmp/ctl.err && echo "ok - ... says it is not allowed" ||
	{ echo "not ok - ... says it is not allowed"; failed=1; }
forced 2 "1"
forced 2 "--log /tmp/x"
forced 2 "dump; sh"
forced 2 "" --log /tmp/x
forced 2 "" --dump
forced 1 "dump"
grep -q "no such L2" /tmp/ctl.err && echo "ok - ... dump is allowed and reaches nestor (no such L2)" ||
	{ echo "not ok - ... dump is allowed and reaches nestor (no such L2)"; failed=1; }
forced 1 "--read-only"
forced 1 ""
if grep -q '^nestor ' /proc/modules; then
	echo "ok - console_l2: nestor is loaded after the run"
else
	echo "not ok - console_l2: nestor is loaded after the run"
	failed=1
	insmod "$N/nestor.ko"
fi
exit $failed
