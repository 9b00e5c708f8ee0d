#!/bin/sh
# The nested suite, run in the emulated L0 (busybox sh) by /nestor/suite
# after it has loaded nestor. Prints TAP on stdout.
#
# Runs /nestor/bin/nested_l2 in its default mode (two phases with nestor
# loaded), with --rmmod (nestor unloaded between phase 1 and 2, reloaded
# before phase 3 with the parameters it has now), with --root-change (A moved
# to a second nested root; its old context must expire after idle_expiry_ms,
# which l0-suite.sh sets to 3 s) and with --concurrent (A and B on two L1
# vCPUs at once; L0 has one CPU, so their threads take turns). Every line of the
# binary is prefixed with "nested_l2 <mode>: "; its plan becomes a comment;
# one more line per run says whether the binary itself exited 0, so a crash
# or a time-out cannot pass. nestor is loaded again at the end, whatever
# happened, for the suites that follow.
#
# Environment: NESTOR_DIR (default /nestor), NESTOR_NESTED_TIMEOUT (seconds
# per run, default 300), NESTOR_NESTED_MODES (default "default rmmod
# root-change concurrent").
N=${NESTOR_DIR:-/nestor}
BIN=$N/bin/nested_l2
KO=$N/nestor.ko
TMO=${NESTOR_NESTED_TIMEOUT:-300}
MODES=${NESTOR_NESTED_MODES:-default rmmod root-change concurrent}
failed=0

loaded() { grep -q '^nestor ' /proc/modules; }

if [ ! -x "$BIN" ]; then
	echo "not ok - nested_l2: $BIN is missing"
	exit 1
fi
if ! loaded; then
	echo "not ok - nested_l2: nestor is loaded before the nested suite"
	exit 1
fi

# The parameters nestor was loaded with, to reload it the same way.
params=
for p in /sys/module/nestor/parameters/*; do
	[ -r "$p" ] || continue
	v=$(cat "$p" 2>/dev/null) || continue
	case "$v" in *[!A-Za-z0-9_.,:-]*|'') continue ;; esac
	params="$params $(basename "$p")=$v"
done
insmod_cmd="insmod $KO$params"

run() { # mode args...
	mode=$1
	shift
	out=/tmp/nested_l2-$mode.tap
	err=/tmp/nested_l2-$mode.err
	t0=$(date +%s)
	timeout -s KILL $((TMO + 30)) "$BIN" --timeout "$TMO" "$@" >"$out" 2>"$err"
	rc=$?
	t1=$(date +%s)
	sed -e "s/^\(\(not \)\{0,1\}ok\( [0-9][0-9]*\)\{0,1\}\) - /\1 - nested_l2 $mode: /" \
		-e 's/^\([0-9][0-9]*\.\.[0-9][0-9]*.*\)$/# nested_l2 '"$mode"': plan \1/' \
		-e 's/^Bail out!/not ok - nested_l2 '"$mode"': Bail out!/' "$out"
	if [ "$rc" = 0 ]; then
		echo "ok - nested_l2 $mode: exited 0 ($((t1 - t0)) s)"
	else
		echo "not ok - nested_l2 $mode: exited $rc ($((t1 - t0)) s)"
		tail -n 30 "$err" | sed 's/^/#   /'
		failed=1
	fi
}

for m in $MODES; do
	case "$m" in
	default) run default ;;
	rmmod) run rmmod --rmmod --rmmod-cmd "rmmod nestor" --insmod-cmd "$insmod_cmd" ;;
	root-change) run root-change --root-change ;;
	concurrent) run concurrent --concurrent ;;
	*) echo "not ok - nested_l2: unknown mode '$m'"; failed=1 ;;
	esac
	if ! loaded; then
		echo "not ok - nested_l2 $m: nestor is loaded after the run"
		failed=1
		# shellcheck disable=SC2086
		insmod "$KO"$params 2>&1 | sed 's/^/#   /'
	fi
done
exit $failed
