#!/bin/sh
# L0 suite fragment: L2 identity by hypercall (Documentation/identity.rst).
# Runs /nestor/bin/identity_l2 (two L2s under a selftest L1: registration,
# every refusal, CPL 3, vmcs12 and nested-root moves, expiry, names in
# nestorctl) and prefixes its TAP lines with "identity_l2: "; one more line
# says whether the binary itself exited 0, so that a crash cannot pass.
N=${NESTOR_DIR:-/nestor}
BIN=$N/bin/identity_l2
TMO=${NESTOR_NESTED_TIMEOUT:-300}

if [ ! -x "$BIN" ]; then
	echo "not ok - identity_l2: $BIN is missing"
	exit 1
fi
t0=$(date +%s)
timeout -s KILL $((TMO + 30)) "$BIN" --timeout "$TMO" --nestorctl "$N/bin/nestorctl" \
	>/tmp/identity_l2.tap 2>/tmp/identity_l2.err
rc=$?
t1=$(date +%s)
sed -e "s/^\(\(not \)\{0,1\}ok\( [0-9][0-9]*\)\{0,1\}\) - /\1 - identity_l2: /" \
	-e 's/^\([0-9][0-9]*\.\.[0-9][0-9]*.*\)$/# identity_l2: plan \1/' /tmp/identity_l2.tap
if [ "$rc" = 0 ]; then
	echo "ok - identity_l2: exited 0 ($((t1 - t0)) s)"
else
	echo "not ok - identity_l2: exited $rc ($((t1 - t0)) s)"
	tail -n 30 /tmp/identity_l2.err | sed 's/^/#   /'
	dmesg | grep -i nestor | tail -n 20 | sed 's/^/#   /'
	exit 1
fi
