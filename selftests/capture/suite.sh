#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# L0 suite fragment (see selftests/l0-suite.sh), busybox sh, nestor.ko
# loaded: packet capture around an "L1" network namespace.
#
#   out (10.0.0.2) --veth o0/o1-- L0 (10.0.0.1, 10.1.0.1) --veth c0/eth0--
#   l1 (10.1.0.2; nftables: DNAT to l2, masquerade, drop tcp/5202,
#       DSCP af21 on tcp/7000) --veth eth1/eth0-- l2 (10.2.0.2)
#
# nestorctl binds by the pid of a process in l1's netns: the kernel takes
# the far end of each veth in that netns (L0's c0 and l2's eth0), so every
# packet L1 forwards is seen before (to-l1) and after (from-l1) L1.
T=/tmp/capture
mkdir -p "$T"
# busybox sh prefers its own applets to PATH: name Debian's tools.
B=/nestor/bin
ip() { "$B/ip" "$@"; }
failed=0

tap() { # status name
	if [ "$1" = 0 ]; then
		echo "ok - capture: $2"
	else
		echo "not ok - capture: $2"
		failed=1
	fi
}
diag() { sed 's/^/# /' "$@"; }
# count FILE DISPLAY_FILTER: packets tshark finds
count() { tshark -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l; }
# eq NAME GOT WANT / ge NAME GOT MIN
eq() { [ "$2" = "$3" ]; tap $? "$1 ($2, expected $3)"; }
ge() { [ "$2" -ge "$3" ] 2>/dev/null; tap $? "$1 ($2, at least $3)"; }

# wait_for FILE PATTERN SECONDS
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# start_capture NAME ARGS...: nestorctl capture in the background; CAP=pid
start_capture() {
	name=$1
	shift
	nestorctl capture "$@" 2>"$T/$name.err" &
	CAP=$!
	wait_for "$T/$name.err" "capturing" 20
}

# stop_capture NAME: SIGINT, wait; status in CAP_RC
stop_capture() {
	kill -INT $CAP 2>/dev/null
	wait $CAP
	CAP_RC=$?
	diag "$T/$1.err"
}

ns() { n=$1; shift; "$B/ip" netns exec "$n" "$@"; }

# ------------------------------------------------------------ topology

for m in veth tun nf_tables nft_nat nft_chain_nat nft_masq nft_ct; do
	modprobe $m 2>>"$T/setup.log"
done
(
	set -e
	echo 1 >/proc/sys/net/ipv4/ip_forward
	for n in out l1 l2; do ip netns add $n; ip -n $n link set lo up; done
	ip link add o0 type veth peer name o1 netns out
	ip link add c0 type veth peer name eth0 netns l1
	ip -n l1 link add eth1 type veth peer name eth0 netns l2
	ip addr add 10.0.0.1/24 dev o0
	ip addr add 10.1.0.1/24 dev c0
	ip link set o0 up
	ip link set c0 up
	ip -n out addr add 10.0.0.2/24 dev o1
	ip -n out link set o1 up
	ip -n out route add default via 10.0.0.1
	ip -n l1 addr add 10.1.0.2/24 dev eth0
	ip -n l1 addr add 10.2.0.1/24 dev eth1
	ip -n l1 link set eth0 up
	ip -n l1 link set eth1 up
	ip -n l1 route add default via 10.1.0.1
	ns l1 sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
	ip -n l2 addr add 10.2.0.2/24 dev eth0
	ip -n l2 link set eth0 up
	ip -n l2 route add default via 10.2.0.1
	# The untrusted L1: NAT to its L2, one flow dropped, one field
	# rewritten.
	ns l1 nft -f - <<'EOF'
table ip l1 {
	chain l1pre {
		type nat hook prerouting priority dstnat;
		iifname "eth0" ip daddr 10.1.0.2 tcp dport { 5201, 5202, 7000 } dnat to 10.2.0.2
		iifname "eth0" ip daddr 10.1.0.2 icmp type echo-request dnat to 10.2.0.2
	}
	chain l1post {
		type nat hook postrouting priority srcnat;
		ip saddr 10.2.0.0/24 oifname "eth0" masquerade
	}
	chain l1fw {
		type filter hook forward priority 0;
		tcp dport 5202 drop
		tcp dport 7000 ip dscp set af21
	}
}
EOF
) >>"$T/setup.log" 2>&1
rc=$?
tap $rc "topology: out, L0, l1 (nftables DNAT, drop, rewrite), l2"
[ $rc = 0 ] || { diag "$T/setup.log"; exit 1; }
ns out ping -c 1 -W 5 10.1.0.2 >"$T/ping0.log" 2>&1
tap $? "out reaches l2 through l1's DNAT (ping 10.1.0.2)"

# Not through ns(): a backgrounded function is a subshell in L0's netns.
"$B/ip" netns exec l1 sleep 100000 &
L1PID=$!
sleep 0.3

# ------------------------------------------------------------ full capture

# fe80 address of l1's eth0, for a link-local IPv6 ping
ll=$(ip -n l1 -6 addr show dev eth0 scope link | sed -n 's/.*inet6 \([^/]*\).*/\1/p')

# Forget the neighbours, so that ARP is part of the capture.
ip neigh flush dev c0
ip -n l1 neigh flush all
ip -n l2 neigh flush all
start_capture all "pid:$L1PID" -w "$T/all.pcapng"
tap $? "nestorctl capture pid:$L1PID -w all.pcapng starts"
ns l2 $B/nc -l 5201 >"$T/l2.5201" &
ns l2 $B/nc -l 7000 >/dev/null &
ns l2 $B/nc -l 5202 >/dev/null &
ns out $B/nc -l 7001 >"$T/out.7001" &
sleep 0.5
ns out ping -c 3 -i 0.2 10.1.0.2 >/dev/null 2>&1
tap $? "ping out -> l2 (DNAT)"
ns l2 ping -c 3 -i 0.2 10.0.0.2 >/dev/null 2>&1
tap $? "ping l2 -> out (masquerade)"
[ -n "$ll" ] && ping -6 -c 2 -i 0.2 -I c0 "$ll" >/dev/null 2>&1
tap $? "ping6 L0 -> l1 link-local ($ll)"
head -c 20000 /dev/urandom >"$T/data"
ns out sh -c "$B/nc -N -w 5 10.1.0.2 5201 <$T/data"
tap $? "tcp out -> l2:5201 (DNAT)"
ns out sh -c "$B/nc -N -w 5 10.1.0.2 7000 <$T/data"
tap $? "tcp out -> l2:7000 (DSCP rewritten by l1)"
echo hello | ns l2 $B/nc -N -w 5 10.0.0.2 7001
tap $? "tcp l2 -> out:7001 (masquerade)"
! ns out $B/nc -w 3 10.1.0.2 5202 </dev/null 2>/dev/null
tap $? "tcp out -> l2:5202 is dropped by l1"
sleep 0.3
stop_capture all
tap $CAP_RC "nestorctl capture exits 0 on SIGINT"
cmp -s "$T/data" "$T/l2.5201"
tap $? "l2 got the 20000 bytes"

f=$T/all.pcapng
tshark -r "$f" >"$T/all.txt" 2>"$T/tshark.err"
tap $? "tshark reads the pcapng"
[ -s "$T/all.txt" ] || diag "$T/tshark.err"
eq "four interface descriptions (c0, l2's eth0) x (to-l1, from-l1)" \
	"$(tshark -r "$f" -T fields -e frame.interface_description 2>/dev/null | sort -u | wc -l)" 4
eq "echo requests to 10.1.0.2 seen before L1 (to-l1, outbound)" \
	"$(count "$f" 'icmp.type==8 && ip.dst==10.1.0.2 && frame.interface_description contains "to-l1" && frame.packet_flags_direction==2')" 3
eq "the same requests after L1 (from-l1, inbound) go to 10.2.0.2" \
	"$(count "$f" 'icmp.type==8 && ip.dst==10.2.0.2 && frame.interface_description contains "from-l1" && frame.packet_flags_direction==1')" 3
eq "to-l1 packets all carry the outbound flag" \
	"$(count "$f" 'frame.interface_description contains "to-l1" && frame.packet_flags_direction!=2')" 0
eq "from-l1 packets all carry the inbound flag" \
	"$(count "$f" 'frame.interface_description contains "from-l1" && frame.packet_flags_direction!=1')" 0
eq "every packet has a comment with its point" \
	"$(count "$f" '!(frame.comment contains "nestor point=")')" 0
ge "SYNs to port 5202 before L1" \
	"$(count "$f" 'tcp.dstport==5202 && tcp.flags.syn==1 && frame.interface_description contains "to-l1"')" 1
eq "no packet to port 5202 after L1" \
	"$(count "$f" 'tcp.dstport==5202 && frame.interface_description contains "from-l1"')" 0
ge "tcp/7000 after L1 has DSCP af21 (18)" \
	"$(count "$f" 'tcp.dstport==7000 && ip.dsfield.dscp==18 && frame.interface_description contains "from-l1"')" 1
eq "tcp/7000 before L1 has DSCP 0" \
	"$(count "$f" 'tcp.dstport==7000 && ip.dsfield.dscp!=0 && frame.interface_description contains "to-l1"')" 0
ge "ARP captured" "$(count "$f" arp)" 1
ge "IPv6 captured" "$(count "$f" ipv6)" 1
ge "the link-local IPv6 echo request seen at to-l1" \
	"$(count "$f" 'icmpv6.type==128 && frame.interface_description contains "to-l1"')" 2
ns_ts=$(tshark -r "$f" -T fields -e frame.time_epoch 2>/dev/null |
	grep '\.[0-9]\{9\}$' | grep -vc '000$')
ge "nanosecond timestamps (packets with nonzero ns digits)" "$ns_ts" 1
grep -q " 0 dropped .* 0 lost by the reader" "$T/all.err"
tap $? "nothing dropped or lost in the full capture"

# ------------------------------------------------------------ diff

nestorctl capture diff "$f" >"$T/diff.out" 2>&1
tap $? "nestorctl capture diff"
diag "$T/diff.out"
eq "diff: one dropped flow" "$(grep -c '^dropped:' "$T/diff.out")" 1
grep '^dropped:' "$T/diff.out" | grep -q 'tcp 10.0.0.2:[0-9]* > 10.1.0.2:5202,'
tap $? "diff: the dropped flow is tcp out -> 10.1.0.2:5202"
eq "diff: one modified field" "$(grep -c '^modified:' "$T/diff.out")" 1
grep -q '^modified: ip.dscp 0x00 -> 0x12, .* e.g. tcp 10.0.0.2:[0-9]* > 10.1.0.2:7000' "$T/diff.out"
tap $? "diff: the modified field is ip.dscp 0 -> af21 on tcp/7000"
eq "diff: nothing injected" "$(grep -c '^injected:' "$T/diff.out")" 0
grep -q '^nat: icmp dst 10.1.0.2 -> 10.2.0.2,' "$T/diff.out" &&
	grep -q '^nat: tcp dst 10.1.0.2:5201 -> 10.2.0.2:5201,' "$T/diff.out" &&
	grep -q '^nat: tcp src 10.2.0.2:[0-9]* -> 10.1.0.2:[0-9]*,' "$T/diff.out"
tap $? "diff: the DNAT and the masquerade are reported"
eq "diff: every NAT line maps 10.1.0.2 <-> 10.2.0.2" \
	"$(grep '^nat:' "$T/diff.out" | grep -vc ' \(src\|dst\) 10\.[12]\.0\.2[:,]\?[0-9]* -> 10\.[21]\.0\.2')" 0

# ------------------------------------------------------------ filter

ns l2 iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
sleep 0.5
start_capture filter "pid:$L1PID" -w "$T/filter.pcapng" tcp port 5201
ns out iperf3 -c 10.1.0.2 -p 5201 -t 2 >"$T/iperf3.log" 2>&1
tap $? "iperf3 out -> l2:5201 under capture"
ns out ping -c 3 -i 0.2 10.1.0.2 >/dev/null 2>&1
sleep 0.3
stop_capture filter
tap $CAP_RC "filtered capture exits 0"
ge "filter 'tcp port 5201': packets kept" "$(count "$T/filter.pcapng" 'tcp.port==5201')" 10
eq "filter 'tcp port 5201': nothing else kept" "$(count "$T/filter.pcapng" '!(tcp.port==5201)')" 0
grep -q " [1-9][0-9]* filtered out" "$T/filter.err"
tap $? "the pings were counted as filtered out"

nestorctl capture "pid:$L1PID" 'tcp port' >/dev/null 2>"$T/badfilter.err"
rc=$?
diag "$T/badfilter.err"
[ $rc = 2 ] && grep -q "invalid filter 'tcp port': .*syntax error" "$T/badfilter.err"
tap $? "an invalid filter is a usage error that says why (exit 2)"

# ------------------------------------------------------------ taps, L2 ids

ip tuntap add dev ntap0 mode tap && ip link set ntap0 up
nestorctl capture dev:ntap0 -c 1 -d 3 >/dev/null 2>"$T/tap.err"
rc=$?
diag "$T/tap.err"
[ $rc = 0 ]
tap $? "a tap binds (dev:ntap0)"
ip link del ntap0

# libnestor's reader: packets queued from one message keep their data
# across a request (nestorctl reads the final counters that way).
"$B/cap_queue" >"$T/capq.tap" 2>&1
rc=$?
sed -e 's/^\(\(not \)\{0,1\}ok\) [0-9]* - /\1 - capture: reader: /' \
	-e 's/^1\.\./# 1../' "$T/capq.tap"
tap $rc "cap_queue exits 0"

nestorctl capture "pid:$L1PID" -m 7:10.2.0.2 -c 4 icmp >"$T/l2id.txt" 2>"$T/l2id.err" &
CAP=$!
wait_for "$T/l2id.err" capturing 20
ns out ping -c 2 -i 0.2 10.1.0.2 >/dev/null 2>&1
wait $CAP
tap $? "capture with an L2 mapping stops after -c 4"
diag "$T/l2id.txt"
eq "text lines of from-l1 to 10.2.0.2 tagged l2 7" \
	"$(grep -c 'from-l1 .* l2 7 .*icmp 10.0.0.2 > 10.2.0.2' "$T/l2id.txt")" 1
eq "to-l1 requests to 10.1.0.2 are not tagged" \
	"$(grep 'to-l1 .*icmp 10.0.0.2 > 10.1.0.2' "$T/l2id.txt" | grep -c ' l2 ')" 0

# ------------------------------------------------------------ -w -, uplink

# pcapng streamed to tshark through a pipe, as an IDS would read it
( nestorctl capture "pid:$L1PID" -c 4 -w - icmp 2>"$T/stream.err" |
	tshark -r - -T fields -e frame.interface_description \
		>"$T/stream.txt" 2>/dev/null ) &
S=$!
wait_for "$T/stream.err" capturing 20
ns out ping -c 2 -i 0.2 10.1.0.2 >/dev/null 2>&1
wait $S
eq "-w - streams pcapng that tshark reads from a pipe" \
	"$(grep -c 'nestor point=' "$T/stream.txt")" 4

nestorctl capture "pid:$L1PID" -u o0 -c 3 icmp >"$T/uplink.txt" 2>"$T/uplink.err" &
CAP=$!
wait_for "$T/uplink.err" capturing 20
ns out ping -c 1 10.1.0.2 >/dev/null 2>&1
wait $CAP
diag "$T/uplink.txt"
grep -q '^[0-9:.]* uplink o0 in .*icmp 10.0.0.2 > 10.1.0.2' "$T/uplink.txt"
tap $? "the uplink point sees the request at o0's ingress, before L0 routes it"

# ------------------------------------------------------------ flood

ns l2 iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
sleep 0.5
start_capture flood "pid:$L1PID" -w "$T/flood.pcapng" --rcvbuf 1 --bufsize 4096
ns out iperf3 -c 10.1.0.2 -p 5201 -t 2 >/dev/null 2>&1
sleep 0.3
stop_capture flood
tap $CAP_RC "flood capture exits 0"
grep -q " [1-9][0-9]* dropped .* [1-9][0-9]* lost by the reader" "$T/flood.err"
tap $? "a flood beyond the buffer: drops counted and seen as gaps"
nestorctl capture diff "$T/flood.pcapng" >"$T/flood.diff" 2>&1
grep -q '^warning: the capture dropped [1-9][0-9]* packets (statistics blocks)' "$T/flood.diff"
tap $? "the statistics blocks of the file carry the drops"
recv=$(sed -n 's/.*capture: \([0-9]*\) received.*/\1/p' "$T/flood.err")
eq "tshark reads every received packet of the flood" \
	"$(tshark -r "$T/flood.pcapng" -T fields -e frame.number 2>/dev/null | wc -l)" "$recv"

# ------------------------------------------------------------ listener death

nestorctl capture "pid:$L1PID" >/dev/null 2>"$T/kill.err" &
CAP=$!
wait_for "$T/kill.err" capturing 20
nestorctl capture list >"$T/list1" 2>&1
grep -q "^  to-l1 c0 " "$T/list1"
tap $? "capture list shows the session bound to c0"
diag "$T/list1"
kill -9 $CAP
wait $CAP 2>/dev/null
i=0
while [ $i -lt 30 ]; do
	nestorctl capture list >"$T/list2" 2>&1
	[ -s "$T/list2" ] || break
	sleep 0.1
	i=$((i + 1))
done
[ ! -s "$T/list2" ]
tap $? "a killed listener frees its session (no session left)"
diag "$T/list2"

# ------------------------------------------------------------ rmmod

ns out ping -i 0.05 -c 100 10.1.0.2 >/dev/null 2>&1 &
PING=$!
nestorctl capture "pid:$L1PID" -w "$T/rmmod.pcapng" 2>"$T/rmmod.err" &
CAP=$!
wait_for "$T/rmmod.err" capturing 20
sleep 1
rmmod nestor 2>"$T/rmmod.log"
tap $? "rmmod nestor during a capture"
diag "$T/rmmod.log"
kill -INT $CAP
wait $CAP
rc=$?
diag "$T/rmmod.err"
[ $rc = 1 ] && grep -q "reading the final statistics" "$T/rmmod.err"
tap $? "the capture ends with an error once the module is gone"
wait $PING
insmod /nestor/nestor.ko idle_expiry_ms="${NESTOR_IDLE_EXPIRY_MS:-3000}"
tap $? "insmod nestor.ko again"

kill $L1PID 2>/dev/null
for n in out l1 l2; do ip netns del $n; done
ip link del o0 2>/dev/null
ip link del c0 2>/dev/null
exit $failed
