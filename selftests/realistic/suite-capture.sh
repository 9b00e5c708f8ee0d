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

# count FILE DISPLAY_FILTER: packets tshark finds
count() { tshark -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l | tr -d ' '; }
# fields FILE FILTER FIELD...: sorted unique values, one line per packet
fields() {
	_f=$1 _y=$2
	shift 2
	_e=
	for _x in "$@"; do _e="$_e -e $_x"; done
	# shellcheck disable=SC2086
	tshark -r "$_f" -Y "$_y" -T fields -E separator=, $_e 2>/dev/null | sort -u | tr '\n' ' ' | sed 's/ $//'
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
# Forget L1's MAC, so that ARP crosses the tap inside the capture.
ip neigh flush dev "$RL_NET_TAP" >/dev/null 2>&1
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

tshark -r "$f" >"$T/l1.txt" 2>"$T/tshark.err"
check "tshark reads the pcapng" [ $? = 0 -a -s "$T/l1.txt" ]
sed 's/^/# /' "$T/l1.txt" | head -n 30
[ -s "$T/l1.txt" ] || sed 's/^/# /' "$T/tshark.err"
tshark -r "$f" -T fields -e frame.number -e frame.interface_description -e frame.comment 2>/dev/null | sed 's/^/# /'
bad=$(count "$f" '_ws.malformed || _ws.expert.severity==error')
eq "every frame is well-formed (tshark: no malformed or bogus field)" "$bad" 0
[ "$bad" = 0 ] || tshark -r "$f" -x -Y '_ws.malformed || _ws.expert.severity==error' 2>/dev/null | sed 's/^/# /'
eq "interfaces: L1's tap, before and after L1" \
	"$(fields "$f" frame "frame.interface_name" "frame.interface_description" | sed 's/ binding=[0-9]*//g; s/ ifindex=[0-9]*//g; s/ vm=[0-9]*//g')" \
	"$RL_NET_TAP,nestor point=from-l1 pid=$RL_L1_PID $RL_NET_TAP,nestor point=to-l1 pid=$RL_L1_PID"
req='icmp.type==8 && ip.src==10.1.0.1 && ip.dst==10.2.0.2'
rep='icmp.type==0 && ip.src==10.2.0.2 && ip.dst==10.1.0.1'
to='frame.interface_description contains "point=to-l1"'
from='frame.interface_description contains "point=from-l1"'
eq "echo requests before L1 (to-l1, outbound)" \
	"$(count "$f" "$req && $to && frame.packet_flags_direction==2")" 3
eq "echo replies after L1 (from-l1, inbound)" \
	"$(count "$f" "$rep && $from && frame.packet_flags_direction==1")" 3
eq "no request at from-l1, no reply at to-l1" \
	"$(count "$f" "($req && $from) || ($rep && $to)")" 0
eq "the replies answer the captured requests (icmp id/seq)" \
	"$(fields "$f" "$rep" icmp.ident icmp.seq)" "$(fields "$f" "$req" icmp.ident icmp.seq)"
eq "requests go to L1's NIC, replies come from it (MAC, TTL)" \
	"$(fields "$f" "$req" eth.dst ip.ttl) $(fields "$f" "$rep" eth.src ip.ttl)" \
	"$RL_NET_L1_MAC,64 $RL_NET_L1_MAC,63"
eq "every to-l1 frame outbound, every from-l1 frame inbound" \
	"$(count "$f" "($to && frame.packet_flags_direction!=2) || ($from && frame.packet_flags_direction!=1)")" 0
# L0 may ask more than once when L1 is slow to answer.
a1=$(count "$f" "arp.opcode==1 && arp.dst.proto_ipv4==$RL_NET_L1 && $to")
a2=$(count "$f" "arp.opcode==2 && arp.src.proto_ipv4==$RL_NET_L1 && arp.src.hw_mac==$RL_NET_L1_MAC && $from")
check "ARP for L1's address: request before L1, L1's reply after ($a1/$a2)" [ "$a1" -ge 1 -a "$a2" -ge 1 ]
if [ -n "$vm" ] && [ "$vm" != null ]; then
	eq "every packet carries L1's VM id ($vm) from the registry" \
		"$(count "$f" "!(frame.comment matches \"vm=$vm( |\$)\")")" 0
else
	tap fail "every packet carries L1's VM id from the registry" "L1's QEMU (pid $RL_L1_PID) not in nestorctl list"
fi
eq "the ICMP to and from L2 carries L2 id 7 (-m 7:10.2.0.2), ARP none" \
	"$(count "$f" "icmp && !(frame.comment contains \"l2=7\")")/$(count "$f" "arp && frame.comment contains \"l2=\"")" "0/0"
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
eq "requests seen before L1 / after L1" \
	"$(count "$f" "$req && $to")/$(count "$f" "icmp && $from")" "2/0"

finish
