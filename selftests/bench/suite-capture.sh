#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The capture benchmark, run in the emulated L0 (busybox sh) as
# /nestor/suite; TAP on stdout.  iperf3 from an "out" netns to an "l1"
# netns through L0, so every segment crosses c0, the L0 end of l1's veth,
# in four configurations, interleaved over rounds with the order rotated:
#   none     no capture
#   nestor   nestorctl capture of both points (to-l1, from-l1) to a file
#   tcpdump  tcpdump -i c0 (both directions) to a file
#   nomatch  nestorctl capture with a filter that matches nothing
# Both capturers get the same snap length and a 32 MiB socket buffer.
# One line per run: "# capbench config=C round=R mbps=M packets=P
# dropped=D"; run.sh (capture.sh) makes the figures.
#
# Environment (nestor.bench_x=... on the command line): NESTOR_BENCH_ROUNDS
# (5), NESTOR_BENCH_SECONDS per run (3), NESTOR_BENCH_SNAPLEN (65535).
N=/nestor
B=$N/bin
export PATH="$B:$PATH"
ROUNDS=${NESTOR_BENCH_ROUNDS:-5}
SECS=${NESTOR_BENCH_SECONDS:-3}
SNAP=${NESTOR_BENCH_SNAPLEN:-65535}
W=/tmp/capbench
mkdir -p "$W"
failed=0

tap() {
	if [ "$1" = 0 ]; then
		echo "ok - capbench: $2"
	else
		echo "not ok - capbench: $2"
		failed=1
	fi
}
ip() { "$B/ip" "$@"; }

for m in veth; do modprobe $m; done
insmod "$N/nestor.ko"
tap $? "insmod nestor.ko"
(
	set -e
	echo 1 >/proc/sys/net/ipv4/ip_forward
	for n in out l1; do ip netns add $n; ip -n $n link set lo up; done
	ip link add o0 type veth peer name o1 netns out
	ip link add c0 type veth peer name eth0 netns l1
	ip addr add 10.0.0.1/24 dev o0
	ip addr add 10.1.0.1/24 dev c0
	ip link set o0 up
	ip link set c0 up
	ip -n out addr add 10.0.0.2/24 dev o1
	ip -n out link set o1 up
	ip -n out route add default via 10.0.0.1
	ip -n l1 addr add 10.1.0.2/24 dev eth0
	ip -n l1 link set eth0 up
	ip -n l1 route add default via 10.1.0.1
) >"$W/setup.log" 2>&1
tap $? "topology out - L0 - l1"
"$B/ip" netns exec l1 sleep 100000 &
L1PID=$!
"$B/ip" netns exec l1 "$B/iperf3" -s -D -p 5201 >/dev/null 2>&1
sleep 1
echo "# capbench: $(uname -r), $ROUNDS rounds x 4 configurations x ${SECS} s, snaplen $SNAP"
# A warm-up run, not counted.
"$B/ip" netns exec out "$B/iperf3" -c 10.1.0.2 -p 5201 -t 1 >/dev/null 2>&1

wait_for() { # file pattern seconds
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# run CONFIG ROUND
run() {
	c=$1
	r=$2
	rm -f "$W"/cap.* "$W/err"
	pid=
	case $c in
	nestor)
		nestorctl capture "pid:$L1PID" -s "$SNAP" -w "$W/cap.pcapng" 2>"$W/err" &
		pid=$!
		wait_for "$W/err" capturing 20 ;;
	nomatch)
		nestorctl capture "pid:$L1PID" -s "$SNAP" -w "$W/cap.pcapng" \
			ether proto 0x88b5 2>"$W/err" &
		pid=$!
		wait_for "$W/err" capturing 20 ;;
	tcpdump)
		# -Z root: the initramfs has no tcpdump user to switch to.
		"$B/tcpdump" -Z root -i c0 -s "$SNAP" -B 32768 -w "$W/cap.pcap" \
			2>"$W/err" &
		pid=$!
		wait_for "$W/err" "listening on" 20 ;;
	esac
	"$B/ip" netns exec out "$B/iperf3" -c 10.1.0.2 -p 5201 -t "$SECS" -f m \
		>"$W/iperf" 2>&1
	rc=$?
	mbps=$(sed -n 's/.* \([0-9.]*\) Mbits\/sec.*receiver.*/\1/p' "$W/iperf")
	packets=0
	dropped=0
	if [ -n "$pid" ]; then
		sleep 0.3
		kill -INT "$pid"
		wait "$pid"
		case $c in
		tcpdump)
			packets=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$W/err")
			dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$W/err") ;;
		*)
			packets=$(sed -n 's/.*capture: \([0-9]*\) received.*/\1/p' "$W/err")
			dropped=$(sed -n 's/.* \([0-9]*\) lost by the reader.*/\1/p' "$W/err") ;;
		esac
	fi
	[ "$rc" = 0 ] && [ -n "$mbps" ] && [ -n "$packets" ] && [ -n "$dropped" ]
	tap $? "round $r $c: $mbps Mbit/s, $packets packets, $dropped dropped"
	[ -n "$mbps" ] || sed 's/^/#   /' "$W/iperf" "$W/err" 2>/dev/null
	echo "# capbench config=$c round=$r mbps=${mbps:-0} packets=${packets:-0} dropped=${dropped:-0}"
	rm -f "$W"/cap.*
}

set -- none nestor tcpdump nomatch
r=1
while [ $r -le "$ROUNDS" ]; do
	for c in "$@"; do
		run "$c" "$r"
	done
	# Rotate the order, so that drift falls on every configuration.
	x=$1
	shift
	set -- "$@" "$x"
	r=$((r + 1))
done
rmmod nestor
tap $? "rmmod nestor"
exit $failed
