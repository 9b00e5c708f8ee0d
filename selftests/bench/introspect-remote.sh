#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The remote part of the introspection benchmark, run in the emulated L0 by
# `mem_l2 --bench` (selftests/nested/mem_l2.c) once its L2 holds the
# 1000-node list: two network namespaces, L0's own and "cli", joined by a
# veth pair with netem delay on both ends; nestor-monitord in L0's (nestor's
# generic netlink family exists only there), nestorctl --remote in "cli";
# the same walk (pid, comm, cred->uid of each node, what ps reads of a task)
# batched (one LIST_WALK) and --per-datum (one READ per datum), interleaved
# over rounds.  TAP on stdout, one "# introbench remote ..." line per run
# and a summary line (medians).
#
# Environment from mem_l2: NESTOR_BENCH_L2, _HEAD, _WALK, _KEY_ID,
# _KEY_FILE, _NODES.  From the kernel command line: NESTOR_BENCH_REMOTE_ROUNDS
# (3), NESTOR_BENCH_DELAY (netem delay per direction, 1ms).
B=/nestor/bin
ROUNDS=${NESTOR_BENCH_REMOTE_ROUNDS:-3}
DELAY=${NESTOR_BENCH_DELAY:-1ms}
W=/tmp/introbench
PORT=7411
MON=10.77.0.1
mkdir -p "$W"
failed=0

tap() {
	if [ "$1" = 0 ]; then
		echo "ok - introbench: $2"
	else
		echo "not ok - introbench: $2"
		failed=1
	fi
}

# The rx_packets of monitord's end of the link: TCP segments, an
# independent lower bound of the round trips the client counts.
rx() { cat /sys/class/net/vm/statistics/rx_packets; }

(
	set -e
	"$B/ip" netns add cli
	"$B/ip" -n cli link set lo up
	"$B/ip" link add vm type veth peer name vc
	"$B/ip" link set vc netns cli
	"$B/ip" addr add $MON/24 dev vm
	"$B/ip" -n cli addr add 10.77.0.2/24 dev vc
	"$B/ip" link set vm up
	"$B/ip" -n cli link set vc up
	"$B/tc" qdisc add dev vm root netem delay "$DELAY"
	"$B/ip" netns exec cli "$B/tc" qdisc add dev vc root netem delay "$DELAY"
) >"$W/setup.log" 2>&1
rc=$?
tap $rc "netns cli, veth to L0's netns, netem delay $DELAY each way"
[ $rc = 0 ] || { sed 's/^/# /' "$W/setup.log"; exit 1; }
"$B/ip" netns exec cli "$B/tc" qdisc show dev vc | sed 's/^/# /'
"$B/ip" netns exec cli ping -c 5 $MON >"$W/ping.log" 2>&1
rc=$?
tap $rc "ping across the link"
# min/avg: the minimum is the link, the average mostly the emulator's load
rtt=$(sed -n 's|.*min/avg/max = \([0-9.]*\)/\([0-9.]*\)/.*|\1/\2|p' "$W/ping.log")
echo "# introbench ping rtt_min_avg_ms=${rtt:-?}"

"$B/nestor-monitord" --listen $MON:$PORT --quiet >/dev/null 2>"$W/monitord.err" &
mpid=$!
cli() {
	"$B/ip" netns exec cli "$B/nestorctl" --remote $MON:$PORT \
		--key-id "$NESTOR_BENCH_KEY_ID" --key-file "$NESTOR_BENCH_KEY_FILE" "$@"
}
i=0
until cli read "$NESTOR_BENCH_L2" "$NESTOR_BENCH_HEAD" 8 >/dev/null 2>"$W/first.err"; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.2
done
tap $((i >= 100)) "nestor-monitord answers a verified read across the link"
[ $i -lt 100 ] || { sed 's/^/# /' "$W/first.err" "$W/monitord.err" | head -n 20; kill $mpid; exit 1; }

# run MODE ROUND: one walk; its line, and its listing in $W/out.MODE.ROUND
run() {
	opt=
	[ "$1" = per-datum ] && opt=--per-datum
	p0=$(rx)
	# shellcheck disable=SC2086
	cli walk "$NESTOR_BENCH_L2" "$NESTOR_BENCH_HEAD" $NESTOR_BENCH_WALK \
		--max 65536 $opt --stats >"$W/out.$1.$2" 2>"$W/err.$1.$2"
	rc=$?
	p1=$(rx)
	# "nestorctl: walk: 1000 nodes, per-datum (remote, verified): 5001 round trips in 123 us"
	# shellcheck disable=SC2046
	set -- "$1" "$2" $(sed -n 's/^nestorctl: walk: \([0-9]*\) nodes.*: \([0-9]*\) round trips in \([0-9]*\) us$/\1 \2 \3/p' "$W/err.$1.$2")
	tap $((rc != 0 || ${3:-0} != NESTOR_BENCH_NODES)) "remote walk $1 round $2: ${3:-no} nodes, exit $rc"
	grep -q "^# $NESTOR_BENCH_NODES nodes, end HEAD, 0 unreadable" "$W/out.$1.$2"
	tap $? "remote walk $1 round $2 ends at the head, every node readable"
	[ $rc = 0 ] || sed 's/^/# /' "$W/err.$1.$2"
	echo "# introbench remote mode=$1 round=$2 nodes=${3:-0} round_trips=${4:-0} us=${5:-0} rx_packets=$((p1 - p0))" |
		tee -a "$W/lines"
}
: >"$W/lines"
r=1
while [ $r -le "$ROUNDS" ]; do
	if [ $((r % 2)) = 1 ]; then run batched $r; run per-datum $r
	else run per-datum $r; run batched $r; fi
	r=$((r + 1))
done
cmp -s "$W/out.batched.1" "$W/out.per-datum.1"
tap $? "the per-datum listing is the batched one, byte for byte"
kill $mpid
wait $mpid 2>/dev/null

# med MODE FIELD: the median of FIELD over MODE's runs
med() {
	sed -n "s/^.* mode=$1 .* $2=\([0-9]*\).*/\1/p" "$W/lines" | sort -n |
		awk '{ v[NR] = $1 } END { if (!NR) { print 0; exit }
			print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
bt=$(med batched round_trips) bu=$(med batched us) bp=$(med batched rx_packets)
pt=$(med per-datum round_trips) pu=$(med per-datum us) pp=$(med per-datum rx_packets)
echo "# introbench remote-summary rounds=$ROUNDS nodes=$NESTOR_BENCH_NODES delay=$DELAY rtt_min_avg_ms=${rtt:-?} batched_rt=$bt batched_us=$bu batched_rx=$bp perdatum_rt=$pt perdatum_us=$pu perdatum_rx=$pp speedup=$(awk -v a="$pu" -v b="$bu" 'BEGIN { printf (b > 0) ? "%.1f" : "0", a / b }')"
exit $failed
