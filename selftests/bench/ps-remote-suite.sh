#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The L0 side of selftests/bench/ps-remote.sh (busybox sh, run by
# l0-suite.sh): the realistic scenario's L2 (Debian kernel with KASLR,
# busybox) holding rl.sleepers=N long-lived sleep processes besides its
# own, under L1's KVM and QEMU; then `nestorctl --remote ... ps` of it from
# a "cli" netns to nestor-monitord in L0's netns, over a veth with netem
# delay on both ends (the topology of introspect-remote.sh), batched (one
# LIST_WALK) against --per-datum (one verified READ per pointer and
# field), interleaved over rounds.  Every listing must end at the list
# head, hold >= N processes, and equal the first batched one; that one must
# equal L2's own ps (PID, COMM).  TAP on stdout, one "# psbench run ..."
# line per run and a "# psbench summary ..." line (medians).
#
# From L0's command line: NESTOR_PSB_SLEEPERS (1000), NESTOR_PSB_L2MEM
# (MB, 384), NESTOR_PSB_ROUNDS (3), NESTOR_PSB_DELAY (netem delay per
# direction, 1ms).
RL_DIR=${RL_DIR:-/nestor/realistic}
. "$RL_DIR/lib.sh"
. "$RL_DIR/nestor-json.sh"

B=/nestor/bin
SLEEPERS=${NESTOR_PSB_SLEEPERS:-1000}
L2MEM=${NESTOR_PSB_L2MEM:-384}
ROUNDS=${NESTOR_PSB_ROUNDS:-3}
DELAY=${NESTOR_PSB_DELAY:-1ms}
PROFILE=$RL_DIR/l2-profile
W=$RL_RUN/psbench
PORT=7411
MON=10.78.0.1
KEY_ID=1347616769
mkdir -p "$W"
failed=0
for m in veth sch_netem; do modprobe $m || echo "# modprobe $m failed"; done

tap() {
	if [ "$1" = 0 ]; then
		echo "ok - psbench: $2"
	else
		echo "not ok - psbench: $2"
		failed=1
	fi
}
note() { echo "# $*"; echo "psbench: $*" >&2; }
bail() { tap 1 "$1"; stop_l1; exit 1; }

t0=$(rl_uptime)
# suite-ps.sh's L1 (640 MB for 128 MB of L2) with the larger L2 on top.
start_l1 --hold --stay --rounds 1 --l2mem "$L2MEM" --mem $((640 + L2MEM - 128)) \
	--append "rl.l2kernel=bzimage rl2.sleepers=$SLEEPERS" ||
	{ tap 1 "start_l1"; exit 1; }
wait_l2_init l2a 900 || { tail -n 20 "$RL_L1_LOG" | sed 's/^/# l1: /'; bail "L2 boots"; }
note "L2 up after $(rl_elapsed "$t0") s; starting $SLEEPERS sleepers"
wait_for "$RL_L1_LOG" "^\\[l2a\\] nestor-l2: sleepers " 1800 &&
	wait_for "$RL_L1_LOG" "nestor-l2: holding l2a" 300 ||
	{ tail -n 20 "$RL_L1_LOG" | sed 's/^/# l1: /'; bail "L2 starts $SLEEPERS sleepers and holds"; }
got=$(sed -n 's/^\[l2a\] nestor-l2: sleepers \([0-9]*\).*/\1/p' "$RL_L1_LOG" | tail -n 1)
[ "${got:-0}" -ge "$SLEEPERS" ]
tap $? "L2 runs $got sleep processes (asked $SLEEPERS), holding after $(rl_elapsed "$t0") s"

# The context L2 runs in now: an older one may be retired before the runs
# (a remote ps of a retired context answers ENOENT).
nj_snap "$W/list" || note "nestorctl list failed: $(cat "$W/list.err")"
id=$(nj_l2_newest "$W/list" "$RL_L1_PID" id)
case "$id" in ''|null) bail "an L2 context in nestorctl list" ;; esac
tap 0 "L2 context $id in nestorctl list"

# Stop L2's rounds (the list stays put from here on) and get its own view:
# about 12 bytes a process over L2's and L1's serial lines, which carry
# about 0.5 KB/s under TCG.
t1=$(rl_uptime)
got=0
for _ in 1 2 3; do
	l1_cmd "echo nestor-ps >/run/l2a.in" >/dev/null
	if wait_for "$RL_L1_LOG" "^\\[l2a\\] nestor-l2: ps end" 300; then got=1; break; fi
done
sed -n '/^\[l2a\] nestor-l2: ps begin/,/^\[l2a\] nestor-l2: ps end/p' "$RL_L1_LOG" |
	sed 's/^\[l2a\] //' | grep -v "nestor-l2:" >"$W/l2-view"
# As suite-ps.sh: "PID COMM", without ps itself, kworker suffixes cut.
norm() { awk '$1 ~ /^[0-9]+$/ && $2 != "ps" { c = $2; if (c ~ /^kworker\//) sub(/-.*/, "", c); print $1, c }' | sort -n; }
norm <"$W/l2-view" >"$W/l2-ps"
[ $got = 1 ] && [ "$(wc -l <"$W/l2-ps")" -ge "$SLEEPERS" ]
tap $? "L2's own ps: $(wc -l <"$W/l2-ps") processes ($(rl_elapsed "$t1") s over the serial line)"

(
	set -e
	"$B/ip" netns add cli
	"$B/ip" -n cli link set lo up
	"$B/ip" link add vm type veth peer name vc
	"$B/ip" link set vc netns cli
	"$B/ip" addr add $MON/24 dev vm
	"$B/ip" -n cli addr add 10.78.0.2/24 dev vc
	"$B/ip" link set vm up
	"$B/ip" -n cli link set vc up
	"$B/tc" qdisc add dev vm root netem delay "$DELAY"
	"$B/ip" netns exec cli "$B/tc" qdisc add dev vc root netem delay "$DELAY"
) >"$W/setup.log" 2>&1
rc=$?
tap $rc "netns cli, veth to L0's netns, netem delay $DELAY each way"
[ $rc = 0 ] || { sed 's/^/# /' "$W/setup.log"; bail "network setup"; }
"$B/ip" netns exec cli "$B/tc" qdisc show dev vc | sed 's/^/# /'
"$B/ip" netns exec cli ping -c 5 $MON >"$W/ping.log" 2>&1
tap $? "ping across the link"
rtt=$(sed -n 's|.*min/avg/max = \([0-9.]*\)/\([0-9.]*\)/.*|\1/\2|p' "$W/ping.log")
echo "# psbench ping rtt_min_avg_ms=${rtt:-?}"

# A monitor key of our own; monitord signs with it, the client verifies.
key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$key" >"$W/key"
echo "$key" | "$B/nestorctl" key add monitor $KEY_ID >"$W/key.log" 2>&1
tap $? "monitor key $KEY_ID added"
"$B/nestor-monitord" --listen $MON:$PORT --quiet >/dev/null 2>"$W/monitord.err" &
mpid=$!
cli() {
	"$B/ip" netns exec cli "$B/nestorctl" --remote $MON:$PORT \
		--key-id $KEY_ID --key-file "$W/key" "$@"
}
# --max 16 ends at the limit (exit 1); 16 verified processes show the path works.
i=0
until cli ps "$id" --profile "$PROFILE" --max 16 --json >"$W/first.json" 2>"$W/first.err"
	nj_jq -e '.remote == true and (.processes | length) == 16' "$W/first.json" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || break
	sleep 0.2
done
[ $i -lt 50 ]
tap $? "nestor-monitord answers a verified ps across the link"
[ $i -lt 50 ] || { sed 's/^/# /' "$W/first.err" "$W/monitord.err" | head -n 20; kill $mpid; bail "remote ps works"; }

rx() { cat /sys/class/net/vm/statistics/rx_packets; }
# run MODE ROUND: one remote ps; its "# psbench run" line, its listing in
# $W/out.MODE.ROUND ("PID PPID UID COMM TASK" a line, in list order).
run() {
	opt=
	[ "$1" = per-datum ] && opt=--per-datum
	p0=$(rx)
	u0=$(rl_uptime)
	# shellcheck disable=SC2086
	cli ps "$id" --profile "$PROFILE" $opt --json --stats >"$W/json.$1.$2" 2>"$W/err.$1.$2"
	rc=$?
	wall=$(awk -v a="$u0" -v b="$(rl_uptime)" 'BEGIN { printf "%d", (b - a) * 1000 }')
	p1=$(rx)
	nj_jq -r '.processes[] | "\(.pid) \(.ppid) \(.uid) \(.comm) \(.task)"' "$W/json.$1.$2" \
		>"$W/out.$1.$2" 2>/dev/null
	# shellcheck disable=SC2046
	set -- "$1" "$2" $(nj_jq -r '"\(.calls) \(.kaslr_calls) \(.ns / 1000 | floor) \(.kaslr_ns / 1000 | floor) \(.end) \(.processes | length) \(.changed)"' \
		"$W/json.$1.$2" 2>/dev/null)
	[ $rc = 0 ] && [ "${8:-0}" -ge "$SLEEPERS" ] && [ "${7:-}" = HEAD ]
	tap $? "remote ps $1 round $2: ${8:-no} processes, walk end ${7:-?}, exit $rc"
	[ $rc = 0 ] || sed 's/^/# /' "$W/err.$1.$2" | head -n 5
	[ "${9:-0}" = 0 ] || note "$1 round $2: L2's tables changed during the walk (${9})"
	echo "# psbench run mode=$1 round=$2 procs=${8:-0} round_trips=${3:-0} kaslr_round_trips=${4:-0} us=${5:-0} kaslr_us=${6:-0} wall_ms=$wall rx_packets=$((p1 - p0))" |
		tee -a "$W/lines"
}
: >"$W/lines"
r=1
while [ $r -le "$ROUNDS" ]; do
	if [ $((r % 2)) = 1 ]; then run batched $r; run per-datum $r
	else run per-datum $r; run batched $r; fi
	# The same LIST_WALK locally (no network, unsigned): what the listing
	# costs in L0 itself, with the translation cache and without.
	for m in local local-nocache; do
		"$B/nestorctl" ps "$id" --profile "$PROFILE" --json \
			$([ $m = local ] || echo --no-cache) >"$W/json.$m.$r" 2>/dev/null
		echo "# psbench run mode=$m round=$r procs=$(nj_jq '.processes | length' "$W/json.$m.$r" 2>/dev/null) us=$(nj_jq '.ns / 1000 | floor' "$W/json.$m.$r" 2>/dev/null) nested_walks=$(nj_jq '.nested_walks' "$W/json.$m.$r" 2>/dev/null) cache_hits=$(nj_jq '.cache_hits' "$W/json.$m.$r" 2>/dev/null)" |
			tee -a "$W/lines"
	done
	r=$((r + 1))
done
kill $mpid
wait $mpid 2>/dev/null

# L2 is live: its kernel starts and retires workqueue workers (kworker/*)
# on its own, and these may come and go between runs minutes apart.  So:
# the two listings of a round (taken back to back) must be equal but for
# kworkers, every listing must hold all the other processes of the first
# one, and every difference is shown.
nokw() { awk '$4 !~ /^kworker\//' "$1"; }
nokw "$W/out.batched.1" >"$W/stable.1"
same=0 kw=0
r=1
while [ $r -le "$ROUNDS" ]; do
	for m in batched per-datum; do
		f=$W/out.$m.$r
		cmp -s "$W/out.batched.1" "$f" && continue
		nokw "$f" >"$W/stable.x"
		if cmp -s "$W/stable.1" "$W/stable.x"; then
			kw=$((kw + 1))
		else
			same=1
		fi
		note "$m round $r differs from batched round 1:"
		diff -u "$W/out.batched.1" "$f" | grep '^[-+][^-+]' | head -n 10 | sed 's/^/#   /'
	done
	nokw "$W/out.batched.$r" >"$W/stable.b"
	nokw "$W/out.per-datum.$r" >"$W/stable.p"
	cmp -s "$W/stable.b" "$W/stable.p" || same=1
	r=$((r + 1))
done
[ -s "$W/out.batched.1" ] && [ $same = 0 ]
tap $? "batched and per-datum list the same processes in every round, and the same as in round 1 (kworkers aside: $kw listings differ in kworkers only)"
awk '{ print $1, $4 }' "$W/out.batched.1" | norm >"$W/nestor-ps"
cmp -s "$W/l2-ps" "$W/nestor-ps"
rc=$?
tap $rc "nestorctl ps lists exactly L2's own ps (PID and COMM, $(wc -l <"$W/nestor-ps") processes)"
[ $rc = 0 ] || diff "$W/l2-ps" "$W/nestor-ps" | head -n 20 | sed 's/^/# /'

# med MODE FIELD: the median of FIELD over MODE's runs
med() {
	sed -n "s/^.* mode=$1 .* $2=\([0-9]*\).*/\1/p" "$W/lines" | sort -n |
		awk '{ v[NR] = $1 } END { if (!NR) { print 0; exit }
			print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
bt=$(med batched round_trips) bu=$(med batched us) bk=$(med batched kaslr_round_trips)
bku=$(med batched kaslr_us) bw=$(med batched wall_ms) bp=$(med batched rx_packets)
pt=$(med per-datum round_trips) pu=$(med per-datum us) pk=$(med per-datum kaslr_round_trips)
pku=$(med per-datum kaslr_us) pw=$(med per-datum wall_ms) pp=$(med per-datum rx_packets)
lu=$(med local us) lnu=$(med local-nocache us)
lw=$(med local nested_walks) lh=$(med local cache_hits)
lnw=$(med local-nocache nested_walks) lnh=$(med local-nocache cache_hits)
echo "# psbench summary rounds=$ROUNDS procs=$(wc -l <"$W/out.batched.1") sleepers=$SLEEPERS delay=$DELAY rtt_min_avg_ms=${rtt:-?} batched_rt=$bt batched_us=$bu batched_kaslr_rt=$bk batched_kaslr_us=$bku batched_wall_ms=$bw batched_rx=$bp perdatum_rt=$pt perdatum_us=$pu perdatum_kaslr_rt=$pk perdatum_kaslr_us=$pku perdatum_wall_ms=$pw perdatum_rx=$pp local_us=$lu local_walks=$lw local_hits=$lh local_nocache_us=$lnu local_nocache_walks=$lnw local_nocache_hits=$lnh speedup=$(awk -v a="$pu" -v b="$bu" 'BEGIN { printf (b > 0) ? "%.1f" : "0", a / b }') speedup_total=$(awk -v a="$pu" -v b="$bu" -v c="$pku" -v d="$bku" 'BEGIN { printf (b + d > 0) ? "%.1f" : "0", (a + c) / (b + d) }')"
"$B/nestorctl" key del monitor $KEY_ID >/dev/null 2>&1
stop_l1
note "done in $(rl_elapsed "$t0") s"
exit $failed
