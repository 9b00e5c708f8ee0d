#!/bin/sh
# L2 identity against real software: L0 runs Debian's QEMU/KVM as L1, L1
# runs one Debian L2 whose /init loads tools/guest's nestor_ident.ko and
# registers a name by hypercall (Documentation/identity.rst).  The name
# must appear on L0 on the L2's context, and `stats id:NAME` must reach it.
# Runs in L0 after nestor.ko is loaded; TAP on stdout.
RL_DIR=${RL_DIR:-/nestor/realistic}
. "$RL_DIR/lib.sh"
NC=${NESTORCTL:-/nestor/bin/nestorctl}
RL_L2_INIT_TIMEOUT=${RL_L2_INIT_TIMEOUT:-600}
NAME=web-1
KEYID=4242
mkdir -p "$RL_RUN"

n=0 failed=0
tap() { # tap ok|fail NAME [REASON]
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n - realistic identity: $2"
	else echo "not ok $n - realistic identity: $2${3:+ # $3}"; failed=$((failed + 1)); fi
}

# The owner's key: in L0 (never readable back) and, for this test, on the
# L2's command line (which L1 sees; see the threat analysis).
hex=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
if echo "$hex" | "$NC" key add owner $KEYID; then
	tap ok "owner key $KEYID provisioned in L0 (nestorctl key add)"
else
	tap fail "owner key $KEYID provisioned in L0 (nestorctl key add)"
fi

if ! start_l1 --hold --stay --rounds 2 \
	--append "rl2.ident=$NAME rl2.identkey=$KEYID rl2.identhex=$hex"; then
	tap fail "L1 starts" "start_l1 failed"
	echo "1..$n"
	exit 1
fi
if wait_for "$RL_L1_LOG" "nestor-l2: ident $NAME " "$RL_L2_INIT_TIMEOUT"; then
	# The L1 log may prefix L2's lines: take the word after the name.
	st=$(sed -n "s/.*nestor-l2: ident $NAME \([A-Za-z0-9-]*\).*/\1/p" "$RL_L1_LOG" | head -1)
	if [ "$st" = OK ]; then
		tap ok "the guest module in the Debian L2 registered $NAME (status OK)"
	else
		tap fail "the guest module in the Debian L2 registered $NAME" "status $st"
	fi
else
	tap fail "the L2 reports its registration" "no marker in ${RL_L2_INIT_TIMEOUT}s"
fi

"$NC" list >"$RL_RUN/ident-list.out" 2>&1
if grep -E "^  l2 [0-9]+  id:$NAME " "$RL_RUN/ident-list.out" >/dev/null; then
	tap ok "nestorctl list on L0 shows id:$NAME on an L2 context"
else
	tap fail "nestorctl list on L0 shows id:$NAME on an L2 context"
	sed 's/^/#   /' "$RL_RUN/ident-list.out"
fi
if "$NC" stats "id:$NAME" >"$RL_RUN/ident-stats.out" 2>&1 &&
   grep -q "exit reason" "$RL_RUN/ident-stats.out"; then
	tap ok "nestorctl stats id:$NAME reaches the L2's context"
else
	tap fail "nestorctl stats id:$NAME reaches the L2's context"
	sed 's/^/#   /' "$RL_RUN/ident-stats.out"
fi
"$NC" list | grep -q "l1-nestor-hypercalls"
[ $? != 0 ] && tap ok "L1 made no nestor hypercall of its own" ||
	tap fail "L1 made no nestor hypercall of its own"

stop_l1 120
"$NC" ident del "$NAME" >/dev/null 2>&1
"$NC" key del owner $KEYID
echo "1..$n"
[ "$failed" = 0 ]
