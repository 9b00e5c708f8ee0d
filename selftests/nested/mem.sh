#!/bin/sh
# L0 suite fragment (see selftests/l0-suite.sh): introspection of one L2
# (selftests/nested/mem_l2.c: translate, vectored read, list walk, a remap
# by L1 and the root generation), with nestor loaded.  Prints TAP; a crash
# or a time-out of the binary is one more failing line.
N=${NESTOR_DIR:-/nestor}
BIN=$N/bin/mem_l2
TMO=${NESTOR_NESTED_TIMEOUT:-300}
if [ ! -x "$BIN" ]; then
	echo "not ok - mem_l2: $BIN is missing"
	exit 1
fi
out=/tmp/mem_l2.tap
timeout -s KILL $((TMO + 30)) "$BIN" "$TMO" >"$out" 2>/tmp/mem_l2.err
rc=$?
sed -e "s/^\(\(not \)\{0,1\}ok\( [0-9][0-9]*\)\{0,1\}\) - /\1 - mem_l2: /" \
	-e 's/^\([0-9][0-9]*\.\.[0-9][0-9]*.*\)$/# mem_l2: plan \1/' "$out"
if [ "$rc" = 0 ]; then
	echo "ok - mem_l2: exited 0"
else
	echo "not ok - mem_l2: exited $rc"
	grep -v '^ *\(pte\|pde\|pdpe\|pml4e\) ' /tmp/mem_l2.err | head -n 40 | sed 's/^/#   /'
	exit 1
fi
