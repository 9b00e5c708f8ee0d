#!/bin/sh
# nestorctl ps against a real Linux L2 (issue 3): L0 runs Debian's QEMU/KVM
# as L1, L1 runs one L2 (Debian kernel booted through its decompressor, so
# with KASLR; busybox userland).  nestorctl ps on L0, with the profile made
# at build time (l2-profile), must list exactly the processes that the
# L2's own ps shows, by PID and COMM, and find the KASLR offset that the
# L2's own /proc/kallsyms implies.  TAP on stdout, diagnostics on stderr.
#
# Environment: RL_L2_INIT_TIMEOUT (s, default 600).
RL_DIR=${RL_DIR:-/nestor/realistic}
. "$RL_DIR/lib.sh"
. "$RL_DIR/nestor-json.sh"

RL_L2_INIT_TIMEOUT=${RL_L2_INIT_TIMEOUT:-600}
PROFILE=$RL_DIR/l2-profile
W=$RL_RUN/ps
mkdir -p "$W"

n=0 failed=0 total=9
tap() { # tap ok|fail|skip NAME [REASON]
	n=$((n + 1))
	case "$1" in
	ok) echo "ok $n - realistic ps: $2" ;;
	skip) echo "ok $n - realistic ps: $2 # SKIP ${3:-}" ;;
	*) echo "not ok $n - realistic ps: $2${3:+ # $3}"; failed=$((failed + 1)) ;;
	esac
}
rest() { while [ $n -lt $total ]; do tap "$1" "not run" "$2"; done; }
note() { echo "# $*"; echo "realistic ps: $*" >&2; }

echo "1..$total"
if [ ! -x "$NESTORCTL" ] || [ ! -f "$PROFILE" ]; then
	rest skip "no nestorctl or no $PROFILE in the payload"
	exit 0
fi

t0=$(rl_uptime)
# The compressed L2 kernel sits in L1's initramfs next to the vmlinux.
if ! start_l1 --hold --stay --rounds 1 --mem 640 --append "rl.l2kernel=bzimage"; then
	rest fail "start_l1 failed"
	exit 1
fi
if wait_l2_init l2a "$RL_L2_INIT_TIMEOUT" && wait_for "$RL_L1_LOG" "nestor-l2: holding l2a" 300; then
	tap ok "L2 (bzImage) boots and holds ($(rl_elapsed "$t0") s)"
else
	tap fail "L2 (bzImage) boots and holds"
	tail -n 20 "$RL_L1_LOG" | sed 's/^/# l1: /'
	stop_l1
	rest fail "L2 did not come up"
	exit 1
fi
# L2's QEMU command line in L1 (NUL-separated: strings puts one argument a line).
if l1_cmd 'p=$(cat /run/l2a.pid); strings /proc/$p/cmdline >/tmp/l2a.cmdline; grep -qx /l2/vmlinuz /tmp/l2a.cmdline && ! grep -q nokaslr /tmp/l2a.cmdline' >/dev/null; then
	tap ok "L2 runs with KASLR (bzImage, no nokaslr)"
else
	tap fail "L2 runs with KASLR (bzImage, no nokaslr)" "$(l1_cmd 'cat /tmp/l2a.cmdline' | tr '\n' ' ')"
fi

nj_snap "$W/list" || note "nestorctl list failed: $(cat "$W/list.err")"
id=$(nj_l2 "$W/list" "$RL_L1_PID" id)

# Stop L2's rounds and get its own view; a console line may get lost on
# the way in, so ask again until the answer is there.
got=0
for try in 1 2 3 4 5; do
	l1_cmd "echo nestor-ps >/run/l2a.in" >/dev/null
	if wait_for "$RL_L1_LOG" "^\\[l2a\\] nestor-l2: ps end" 30; then got=1; break; fi
done
# L2's list: "PID COMM" from between the markers, without ps itself.
sed -n '/^\[l2a\] nestor-l2: ps begin/,/^\[l2a\] nestor-l2: ps end/p' "$RL_L1_LOG" |
	sed 's/^\[l2a\] //' >"$W/l2-view"
ktask=$(awk '$3 == "init_task" { print $1; exit }' "$W/l2-view")
# Workqueue workers: /proc shows "kworker/0:1-events", truncated by ps; the
# task's comm is "kworker/0:1".  Compare both up to such a suffix.
norm() { awk '$1 ~ /^[0-9]+$/ && $2 != "ps" { c = $2; if (c ~ /^kworker\//) sub(/-.*/, "", c); print $1, c }' | sort -n; }
grep -v "nestor-l2:" "$W/l2-view" | norm >"$W/l2-ps"
if [ $got = 1 ] && [ -s "$W/l2-ps" ]; then
	tap ok "L2's own ps output received ($(wc -l <"$W/l2-ps") processes)"
else
	tap fail "L2's own ps output received" "no 'nestor-l2: ps end' marker"
fi

if [ -z "$id" ] || [ "$id" = null ]; then
	rest fail "no L2 context in nestorctl list"
	stop_l1
	exit 1
fi
"$NESTORCTL" ps "$id" --profile "$PROFILE" --json --stats >"$W/walk.json" 2>"$W/walk.err"
rc=$?
cat "$W/walk.err" >&2
"$NESTORCTL" ps "$id" --profile "$PROFILE" --per-datum --json --stats >"$W/datum.json" 2>"$W/datum.err"
rc2=$?
cat "$W/datum.err" >&2
"$NESTORCTL" ps "$id" --profile "$PROFILE" --no-cache --json --stats >"$W/nocache.json" 2>"$W/nocache.err"
rc3=$?
cat "$W/nocache.err" >&2
"$NESTORCTL" ps "$id" --profile "$PROFILE" | sed 's/^/# /'
nj_jq -r '.processes[] | "\(.pid) \(.comm)"' "$W/nocache.json" 2>/dev/null | norm >"$W/nocache-ps"
nj_jq -r '.processes[] | "\(.pid) \(.comm)"' "$W/walk.json" 2>/dev/null | norm >"$W/nestor-ps"
nj_jq -r '.processes[] | "\(.pid) \(.comm)"' "$W/datum.json" 2>/dev/null | norm >"$W/datum-ps"
calls=$(nj_jq -r '.calls' "$W/walk.json" 2>/dev/null)
dcalls=$(nj_jq -r '.calls' "$W/datum.json" 2>/dev/null)
kaslr=$(nj_jq -r '.kaslr_offset' "$W/walk.json" 2>/dev/null)

if [ $rc = 0 ] && [ "$calls" = 1 ] && [ -s "$W/nestor-ps" ]; then
	tap ok "nestorctl ps: one list-walk call, walk ends at the head ($(wc -l <"$W/nestor-ps") processes)"
else
	tap fail "nestorctl ps: one list-walk call, walk ends at the head" "rc $rc, calls $calls: $(head -c 300 "$W/walk.err")"
fi
if [ -s "$W/l2-ps" ] && cmp -s "$W/l2-ps" "$W/nestor-ps"; then
	tap ok "nestorctl ps lists exactly L2's own ps (PID and COMM)"
else
	tap fail "nestorctl ps lists exactly L2's own ps (PID and COMM)"
	diff "$W/l2-ps" "$W/nestor-ps" | sed 's/^/# /'
fi
# The offset from L0 against L2's own kallsyms (root in L2 sees addresses).
base=$(sed -n 's/^symbol.init_task=//p' "$PROFILE")
want=
# 64-bit shell arithmetic: the difference of two kernel addresses
[ -z "$ktask" ] || [ -z "$base" ] || want=$((0x$ktask - base))
note "KASLR: nestor found offset $kaslr; L2's /proc/kallsyms init_task $ktask, profile $base"
if [ -n "$want" ] && [ -n "$kaslr" ] && [ "$((kaslr))" = "$want" ]; then
	tap ok "KASLR offset found in L2 memory ($kaslr) matches L2's own kallsyms"
else
	tap fail "KASLR offset found in L2 memory ($kaslr) matches L2's own kallsyms" "expected $want"
fi
if [ -n "$kaslr" ] && [ "$((kaslr))" != 0 ]; then
	tap ok "the kernel was really moved (offset $kaslr)"
else
	# 1 in about 500 boots picks offset 0: a failure here is worth a look.
	tap fail "the kernel was really moved (offset $kaslr)"
fi
if [ $rc2 = 0 ] && cmp -s "$W/nestor-ps" "$W/datum-ps" && [ "${dcalls:-0}" -gt "$calls" ] 2>/dev/null; then
	tap ok "--per-datum gives the same list in $dcalls calls (walk: $calls)"
else
	tap fail "--per-datum gives the same list" "rc $rc2, calls $dcalls"
	diff "$W/nestor-ps" "$W/datum-ps" | sed 's/^/# /'
fi
# The translation cache: the walk found pages there (KASLR probe, parents,
# each task's next link); --no-cache walked L1's tables for every one.
hits=$(nj_jq -r '.cache_hits' "$W/walk.json" 2>/dev/null)
walks=$(nj_jq -r '.nested_walks' "$W/walk.json" 2>/dev/null)
nhits=$(nj_jq -r '.cache_hits' "$W/nocache.json" 2>/dev/null)
nwalks=$(nj_jq -r '.nested_walks' "$W/nocache.json" 2>/dev/null)
note "translation cache: walk $walks nested walks, $hits hits; --no-cache $nwalks walks, $nhits hits"
if [ $rc3 = 0 ] && cmp -s "$W/nestor-ps" "$W/nocache-ps" && [ "$nhits" = 0 ] &&
   [ "${hits:-0}" -gt 0 ] 2>/dev/null && [ "${nwalks:-0}" -gt "${walks:-0}" ] 2>/dev/null; then
	tap ok "--no-cache gives the same list, no cache hits ($nwalks nested walks; cached: $walks, $hits hits)"
else
	tap fail "--no-cache gives the same list, no cache hits" "rc $rc3; cached: $walks walks, $hits hits; --no-cache: $nwalks walks, $nhits hits"
	diff "$W/nestor-ps" "$W/nocache-ps" | sed 's/^/# /'
fi
stop_l1
note "done in $(rl_elapsed "$t0") s"
[ $failed = 0 ]
