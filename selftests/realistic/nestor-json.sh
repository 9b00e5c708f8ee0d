# Everything that knows the shape of "nestorctl list --json" (busybox sh;
# source it). If the format changes, change only this file. The format:
#   {"vms":[{"vm":1,"pid":234,"vcpus":[0],"l2":[{"id":3,"isa":"svm",
#     "vmcs12":"0x1234000","nested_root":"0xabc000","tdp":true,
#     "first_seen_ns":1,"last_seen_ns":2,"entries":123,
#     "cr3":[{"vcpu":0,"cr3":"0x5000","changes":17}]}]}]}
# Functions take a snapshot FILE made by nj_snap, so one sample is read
# consistently; PID is the pid of the L1 VM's owner (L1's QEMU).

RL_DIR=${RL_DIR:-/nestor/realistic}
NJ_JQ=${NJ_JQ:-$RL_DIR/qemu/jq}
NESTORCTL=${NESTORCTL:-/nestor/bin/nestorctl}

nj_jq() { "$NJ_JQ" "$@"; }

# nj_snap FILE: one sample; fails when nestorctl fails or prints no JSON object.
nj_snap() {
	"$NESTORCTL" list --json >"$1" 2>"$1.err" || return 1
	nj_jq -e 'type == "object" and (.vms | type == "array")' "$1" >/dev/null 2>&1
}

nj_vm_count() { nj_jq '.vms | length' "$1"; }
nj_vm_pids() { nj_jq -r '[.vms[].pid] | map(tostring) | join(" ")' "$1"; }
nj_has_vm() { nj_jq -e --argjson p "$2" 'any(.vms[]; .pid == $p)' "$1" >/dev/null 2>&1; }
nj_l2_count() { nj_jq --argjson p "$2" '[.vms[] | select(.pid == $p) | .l2[]] | length' "$1"; }

# nj_l2 FILE PID FIELD [INDEX]: a field of that VM's INDEXth L2 context
# (raw: strings without quotes, "null" when missing).
nj_l2() {
	nj_jq -r --argjson p "$2" --arg f "$3" --argjson i "${4:-0}" \
		'[.vms[] | select(.pid == $p) | .l2[]][$i][$f]' "$1"
}

# nj_l2_newest FILE PID FIELD: FIELD of that VM's most recently entered L2
# context (older ones may be retired by idle expiry at any time).
nj_l2_newest() {
	nj_jq -r --argjson p "$2" --arg f "$3" \
		'[.vms[] | select(.pid == $p) | .l2[]] | max_by(.last_seen_ns) // {} | .[$f]' "$1"
}

# nj_cr3 FILE PID [VCPU] [INDEX] / nj_cr3_changes ...: L2's last CR3 on
# that vCPU and how many changes nestor saw.
nj_cr3_field() {
	nj_jq -r --argjson p "$2" --argjson v "${4:-0}" --argjson i "${5:-0}" --arg f "$3" \
		'[.vms[] | select(.pid == $p) | .l2[]][$i].cr3 // [] | map(select(.vcpu == $v))[0][$f]' "$1"
}
nj_cr3() { nj_cr3_field "$1" "$2" cr3 "${3:-0}" "${4:-0}"; }
nj_cr3_changes() { nj_cr3_field "$1" "$2" changes "${3:-0}" "${4:-0}"; }

# nj_nonzero VALUE: a hex or decimal address that is set.
nj_nonzero() {
	case "$1" in
	''|null|0|0x0|0x|0X0) return 1 ;;
	0x*|0X*) [ -n "$(echo "${1#0[xX]}" | sed 's/^0*//')" ] ;;
	*) [ "$1" != 0 ] ;;
	esac
}

# nj_same_hex A B: equal as numbers (0x0abc == 0xabc).
nj_same_hex() {
	[ "$(echo "${1#0[xX]}" | sed 's/^0*//' | tr A-F a-f)" = "$(echo "${2#0[xX]}" | sed 's/^0*//' | tr A-F a-f)" ]
}

# The module's idle expiry in ms (how long an unentered context lives).
nj_idle_expiry_ms() {
	cat /sys/module/nestor/parameters/idle_expiry_ms 2>/dev/null || echo 5000
}
