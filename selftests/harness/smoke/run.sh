#!/bin/bash
# Proves the harness chain: fetch-kernel -> mkinitramfs -> boot-l0 -> tap count.
#
#   smoke/run.sh [--backend svm|vmx|kvm] [--negative] [--timeout S]
#
# --negative also boots with injected faults (see smoke/suite) and checks
# that each one is counted as a failure, never as a pass.
# Outputs go to $NESTOR_BUILD/smoke/<backend>/ (NESTOR_BUILD=<repo>/build).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
H=$(cd "$HERE/.." && pwd)
REPO=$(cd "$H/../.." && pwd)
NESTOR_BUILD=${NESTOR_BUILD:-$REPO/build}

backend=svm negative=0 tmo=300
while [ $# -gt 0 ]; do
	case "$1" in
	--backend) backend=${2:?--backend needs svm, vmx or kvm}; shift ;;
	--negative) negative=1 ;;
	--timeout) tmo=${2:?--timeout needs seconds}; shift ;;
	-h|--help) sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) echo "smoke: unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done

out=$NESTOR_BUILD/smoke/$backend
mkdir -p "$out"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t=$(now)
eval "$("$H/fetch-kernel.sh")"
echo "smoke: fetch-kernel: KVER=$KVER ($(since "$t")s)"

t=$(now)
"$H/mkinitramfs.sh" "$out/initrd.lz4" --kver "$KVER" --payload "$HERE"
echo "smoke: mkinitramfs: $(since "$t")s"

# boot NAME EXTRA_APPEND TIMEOUT: one boot; results in $out/NAME.tap
boot() {
	local name=$1 append=$2 t rc=0
	t=$(now)
	"$H/boot-l0.sh" --backend "$backend" --initrd "$out/initrd.lz4" \
		--results "$out/$name.tap" --console "$out/$name.console" \
		--timeout "$3" --append "$append" || rc=$?
	echo "smoke: boot $name: exit $rc, $(since "$t")s"
}

status=0
boot smoke "" "$tmo"
if "$H/tap.sh" count "$out/smoke.tap"; then
	echo "smoke: PASS"
else
	echo "smoke: FAIL (see $out/smoke.tap and $out/smoke.console)"
	status=1
fi

if [ "$negative" = 1 ]; then
	# name, kernel command line, timeout: each must be counted as failed.
	cases=(
		"fail|nestor.smoke_fault=fail|$tmo"
		"warn|nestor.smoke_fault=warn|$tmo"
		"panic|nestor.smoke_fault=panic|$tmo"
		"hang|nestor.smoke_fault=hang|60"
		"hang-limited|nestor.smoke_fault=hang nestor.suite_timeout=5|$tmo"
	)
	for c in "${cases[@]}"; do
		IFS='|' read -r name append ctmo <<<"$c"
		boot "$name" "$append" "$ctmo" 2>"$out/$name.stderr"
		if "$H/tap.sh" count "$out/$name.tap" >"$out/$name.count"; then
			echo "smoke: negative case '$name' counted as PASS: harness broken"
			cat "$out/$name.count"
			status=1
		else
			echo "smoke: negative case '$name' counted as failure, as it must: $(grep '^not ok' "$out/$name.count" "$out/$name.tap" 2>/dev/null | head -n1 | cut -d: -f2-)"
		fi
	done
fi
exit $status
