#!/bin/sh
# Packet capture around a real L1 VM (issue 5): L0 runs Debian's QEMU/KVM as
# L1 with a virtio-net NIC on a tap in L0; L1 (Debian kernel, busybox)
# routes between it and its L2's NIC (a tap inside L1, which L0 cannot see).
#
#   L0 10.1.0.1 (rl-l1, tap of L1's QEMU) -- L1 eth0 10.1.0.2
#     L1 tap-l2a 10.2.0.1 -- L2 eth0 10.2.0.2
#
# L0 pings L2 through L1 while "nestorctl capture pid:<L1's QEMU>" records
# the frames L0 hands to L1 (to-l1, egress of rl-l1) and the ones L1 emits
# after routing them (from-l1, ingress of rl-l1); tshark checks the pcapng.
# Then L1 stops forwarding: the requests are still seen before L1, nothing
# after it. Needs the capture payload's tshark and tun (check.sh stage
# svm-realistic-capture). TAP on stdout, diagnostics on stderr.
#
# Environment: RL_L2_INIT_TIMEOUT (s, default 600).
RL_DIR=${RL_DIR:-/nestor/realistic}
. "$RL_DIR/lib.sh"
. "$RL_DIR/nestor-json.sh"

RL_L2_INIT_TIMEOUT=${RL_L2_INIT_TIMEOUT:-600}
T=$RL_RUN/capture
mkdir -p "$T"
PLAN=23

n=0 failed=0
tap() { # tap ok|fail|skip NAME [REASON]
	n=$((n + 1))
	case "$1" in
	ok) echo "ok $n - realistic-capture: $2" ;;
	skip) echo "ok $n - realistic-capture: $2 # SKIP ${3:-}" ;;
	*) echo "not ok $n - realistic-capture: $2${3:+ # $3}"; failed=$((failed + 1)) ;;
	esac
}
check() { # check NAME COMMAND...: ok when the command succeeds
	_name=$1
	shift
	if "$@"; then tap ok "$_name"; else tap fail "$_name"; fi
}
# eq NAME GOT WANT
eq() { if [ "$2" = "$3" ]; then tap ok "$1 ($2)"; else tap fail "$1 ($2, expected $3)"; fi; }
note() { echo "# $*"; echo "realistic-capture: $*" >&2; }
rest_fail() { while [ $n -lt $PLAN ]; do tap fail "not run: $1"; done; }
finish() { stop_l1 60; exit $((failed != 0)); }

# tshark is slow to start (about 30 s an invocation in Bochs): one pass
# per capture file writes a table, FILE.tab, a header of field names, then
# one line per frame, fields separated by "|", occurrences by ";".
FIELDS="frame.interface_name frame.interface_description
	frame.packet_flags_direction frame.comment eth.src eth.dst arp.opcode
	arp.src.proto_ipv4 arp.dst.proto_ipv4 arp.src.hw_mac ip.src ip.dst ip.ttl
	icmp.type icmp.ident icmp.seq _ws.expert.severity"
table() { # table FILE: writes FILE.tab
	_e=
	for _x in $FIELDS; do _e="$_e -e $_x"; done
	# shellcheck disable=SC2086
	tshark -r "$1" -T fields -E header=y -E separator='|' -E occurrence=a \
		-E aggregator=';' $_e >"$1.tab" 2>"$1.tab.err" && [ -s "$1.tab" ]
}
# The awk side: v("field") (its first occurrence), and the predicates the
# checks are written in.
AWK_LIB='
function v(n,    x) { x = $(col[n]); sub(/;.*/, "", x); return x }
function dir(    x, d) { # epb_flags direction bits (tshark prints 0x...)
	x = tolower(v("frame.packet_flags_direction"))
	d = index("0123456789abcdef", substr(x, length(x), 1)) - 1
	return d % 4
}
function to() { return v("frame.interface_description") ~ /point=to-l1( |$)/ }
function from() { return v("frame.interface_description") ~ /point=from-l1( |$)/ }
function req() { return v("icmp.type") == "8" && v("ip.src") == "10.1.0.1" && v("ip.dst") == "10.2.0.2" }
function rep() { return v("icmp.type") == "0" && v("ip.src") == "10.2.0.2" && v("ip.dst") == "10.1.0.1" }
function icmp() { return v("icmp.type") != "" }
function arp() { return v("arp.opcode") != "" }
function bad(    a, i, k) { # an expert item of severity error (PI_ERROR)
	k = split($(col["_ws.expert.severity"]), a, ";")
	for (i = 1; i <= k; i++)
		if (a[i] + 0 >= 8388608)
			return 1
	return 0
}
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
'
# count TAB CONDITION: frames for which the awk CONDITION holds
count() {
	awk -F'|' -v mac="$RL_NET_L1_MAC" -v l1="$RL_NET_L1" -v vm="${vm:-}" \
		"$AWK_LIB ($2) { k++ } END { print k + 0 }" "$1"
}
# vals TAB CONDITION EXPR: the values of the awk EXPR over those frames,
# sorted, unique, on one line
vals() {
	awk -F'|' -v mac="$RL_NET_L1_MAC" -v l1="$RL_NET_L1" -v vm="${vm:-}" \
		"$AWK_LIB ($2) { print $3 }" "$1" | sort -u | tr '\n' ' ' | sed 's/ $//'
}
# capture NAME ARGS...: nestorctl capture in the background; CAP=pid
capture() {
	_c=$1
	shift
	nestorctl capture "$@" 2>"$T/$_c.err" &
	CAP=$!
	wait_for "$T/$_c.err" "capturing|capture:" 30 && grep -q capturing "$T/$_c.err"
}
# stop_capture NAME: SIGINT, wait; CAP_RC; its stderr as comments
stop_capture() {
	kill -INT "$CAP" 2>/dev/null
	wait "$CAP"
	CAP_RC=$?
	sed 's/^/# /' "$T/$1.err"
}
# ping_l2 COUNT DEADLINE: L0 -> L2 through L1; how many replies
ping_l2() {
	ping -c "$1" -i 0.5 -w "$2" 10.2.0.2 >"$T/ping.out" 2>&1
	sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$T/ping.out"
}

echo "1..$PLAN"
if [ ! -x "$NESTORCTL" ] || ! command -v tshark >/dev/null; then
	while [ $n -lt $PLAN ]; do tap skip "capture around a real L1" "no nestorctl or tshark in the payload"; done
	exit 0
fi

# --- 1-2: the chain, with L1 routing between L0 and L2
t0=$(rl_uptime)
if ! start_l1 --net --hold --stay --rounds 1; then
	tap fail "L1 starts with a NIC on a tap in L0" "start_l1 --net failed"
	rest_fail "L1 did not start"
	finish
fi
tap ok "L1 starts with a NIC on a tap in L0 ($RL_NET_TAP)"
if wait_for "$RL_L1_LOG" "^\\[l2a\\] nestor-l2: net |FATAL" "$RL_L2_INIT_TIMEOUT" &&
	grep -q "^\\[l2a\\] nestor-l2: net l2a 10.2.0.2/24" "$RL_L1_LOG" &&
	grep -q "^nestor-l1: net eth0 $RL_NET_L1/24" "$RL_L1_LOG" &&
	grep -q "^nestor-l1: net tap-l2a 10.2.0.1/24" "$RL_L1_LOG"; then
	note "L2's network up after $(rl_elapsed "$t0") s (L1 qemu pid $RL_L1_PID)"
	tap ok "L1 routes between eth0 ($RL_NET_L1) and tap-l2a; L2 is 10.2.0.2"
else
	tap fail "L1 routes between eth0 ($RL_NET_L1) and tap-l2a; L2 is 10.2.0.2"
	grep -E 'net|FATAL' "$RL_L1_LOG" | sed 's/^/# l1: /'
	tail -n 20 "$RL_L1_LOG" | sed 's/^/# l1: /'
	rest_fail "no network to L2"
	finish
fi
note "memory: L0 $(awk '/^MemTotal/ { t = $2 } /^MemAvailable/ { a = $2 } END { printf "%d of %d MB available", a / 1024, t / 1024 }' /proc/meminfo)"

# --- 3: reachability (and L1's and L2's ARP caches warm), no capture yet
t1=$(rl_uptime)
i=0
while :; do
	got=$(ping_l2 1 10)
	[ "${got:-0}" -ge 1 ] && break
	i=$((i + 1))
	[ $i -lt 12 ] || break
done
if [ "${got:-0}" -ge 1 ]; then
	note "first ping answered after $(rl_elapsed "$t1") s: $(grep -m1 'bytes from' "$T/ping.out")"
	tap ok "L0 reaches L2 through L1 (ping 10.2.0.2)"
else
	tap fail "L0 reaches L2 through L1 (ping 10.2.0.2)"
	sed 's/^/# /' "$T/ping.out"
	l1_cmd "ip addr; ip route; cat /proc/sys/net/ipv4/ip_forward" | sed 's/^/# l1: /'
fi

# The VM id nestor's registry gave L1 (it knows L1 since L1 runs L2).
vm=
nj_snap "$T/list" && vm=$(nj_jq -r --argjson p "$RL_L1_PID" '.vms[] | select(.pid == $p) | .vm' "$T/list")
note "L1 is VM ${vm:-?} in nestor's registry"

# --- 4-19: capture while L0 pings L2
# L0 and L1 forget each other's MAC, so that ARP crosses the tap inside
# the capture.
ip neigh flush dev "$RL_NET_TAP" >/dev/null 2>&1
l1_cmd "ip neigh flush dev eth0" >/dev/null 2>&1
f=$T/l1.pcapng
capture l1 "pid:$RL_L1_PID" -m "7:10.2.0.2" -w "$f"
check "nestorctl capture pid:$RL_L1_PID (L1's QEMU) starts" [ $? = 0 ]
nestorctl capture list >"$T/list.cap" 2>&1
sed 's/^/# /' "$T/list.cap"
grep -q "^  to-l1 $RL_NET_TAP " "$T/list.cap" && grep -q "^  from-l1 $RL_NET_TAP " "$T/list.cap"
check "the session is bound to L1's tap $RL_NET_TAP (found through QEMU's fds)" [ $? = 0 ]
got=$(ping_l2 3 60)
eq "ping -c 3 L0 -> L2 under capture: replies" "${got:-0}" 3
sleep 0.5
stop_capture l1
check "nestorctl capture exits 0 on SIGINT" [ "$CAP_RC" = 0 ]

table "$f"
check "tshark reads the pcapng" [ $? = 0 ]
sed 's/^/# /' "$f.tab" | head -n 40
sed 's/^/# /' "$f.tab.err"
t=$f.tab
eq "every frame is well-formed (no tshark expert item of severity error)" "$(count "$t" 'bad()')" 0
eq "interfaces: L1's tap, before and after L1" \
	"$(vals "$t" 1 'v("frame.interface_name") "," v("frame.interface_description")' | sed 's/ binding=[0-9]*//g; s/ ifindex=[0-9]*//g; s/ vm=[0-9]*//g')" \
	"$RL_NET_TAP,nestor point=from-l1 pid=$RL_L1_PID $RL_NET_TAP,nestor point=to-l1 pid=$RL_L1_PID"
eq "echo requests before L1 (to-l1, outbound)" "$(count "$t" 'req() && to() && dir() == 2')" 3
eq "echo replies after L1 (from-l1, inbound)" "$(count "$t" 'rep() && from() && dir() == 1')" 3
eq "no request at from-l1, no reply at to-l1" "$(count "$t" '(req() && from()) || (rep() && to())')" 0
eq "the replies answer the captured requests (icmp id/seq)" \
	"$(vals "$t" 'rep()' 'v("icmp.ident") "," v("icmp.seq")')" \
	"$(vals "$t" 'req()' 'v("icmp.ident") "," v("icmp.seq")')"
eq "requests go to L1's NIC, replies come from it (MAC, TTL)" \
	"$(vals "$t" 'req()' 'v("eth.dst") "," v("ip.ttl")') $(vals "$t" 'rep()' 'v("eth.src") "," v("ip.ttl")')" \
	"$RL_NET_L1_MAC,64 $RL_NET_L1_MAC,63"
eq "every to-l1 frame outbound, every from-l1 frame inbound" \
	"$(count "$t" '(to() && dir() != 2) || (from() && dir() != 1) || (!to() && !from())')" 0
# Both caches were flushed: whichever side asks first, the other answers
# (and L0 may ask more than once when L1 is slow to answer).
a1=$(count "$t" 'arp() && to() && v("arp.src.proto_ipv4") == "10.1.0.1" && v("arp.src.hw_mac") != mac')
a2=$(count "$t" 'arp() && from() && v("arp.src.proto_ipv4") == l1 && v("arp.src.hw_mac") == mac')
a3=$(count "$t" 'arp() && !((to() && v("arp.src.proto_ipv4") == "10.1.0.1") || (from() && v("arp.src.proto_ipv4") == l1))')
check "ARP: L0's before L1, L1's after, nothing else ($a1/$a2/$a3)" [ "$a1" -ge 1 -a "$a2" -ge 1 -a "$a3" = 0 ]
if [ -n "$vm" ] && [ "$vm" != null ]; then
	eq "every packet carries L1's VM id ($vm) from the registry" \
		"$(count "$t" 'v("frame.comment") !~ ("vm=" vm "( |$)")')" 0
else
	tap fail "every packet carries L1's VM id from the registry" "L1's QEMU (pid $RL_L1_PID) not in nestorctl list"
fi
eq "the ICMP to and from L2 carries L2 id 7 (-m 7:10.2.0.2), ARP none" \
	"$(count "$t" 'icmp() && v("frame.comment") !~ / l2=7( |$)/')/$(count "$t" 'arp() && v("frame.comment") ~ / l2=/')" "0/0"
grep -q " 0 dropped .* 0 lost by the reader" "$T/l1.err"
check "nothing dropped or lost" [ $? = 0 ]

# --- 20-23: L1 stops forwarding: requests before L1, nothing after
l1_cmd "echo 0 >/proc/sys/net/ipv4/ip_forward"
check "L1 turns forwarding off (command channel)" [ $? = 0 ]
f=$T/drop.pcapng
capture drop "pid:$RL_L1_PID" -w "$f" icmp
got=$(ping_l2 2 8)
stop_capture drop
eq "with forwarding off in L1: no reply" "${got:-0}" 0
table "$f" || sed 's/^/# /' "$f.tab.err"
eq "requests seen before L1 / after L1" \
	"$(count "$f.tab" 'req() && to()')/$(count "$f.tab" 'icmp() && from()')" "2/0"

finish
