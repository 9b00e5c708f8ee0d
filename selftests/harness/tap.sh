#!/bin/bash
# Host-side TAP helpers for the emulated-L0 harness.
#
#   tap.sh count [--no-harness] FILE...
#       Counts top-level result lines: "ok" (pass), "not ok" (fail),
#       "ok/not ok ... # SKIP", "not ok ... # TODO" and "1..0 # SKIP" (skip),
#       "Bail out!" (fail). A file without "# harness-done" (the run did not finish:
#       timeout, panic) gets one synthetic failure, printed as
#       "not ok - <run>: harness did not finish (<reason>)", where <run> is
#       the file name without its extension. --no-harness: plain TAP files,
#       no harness-done needed.
#       Prints "# <file>: pass P fail F skip S" per file and a last line
#       "pass=P fail=F skip=S". Exit status 1 if anything failed or no file
#       had a single result line, else 0.
#
#   tap.sh relabel [--no-harness] PREFIX <in >out
#       Rewrites results as "ok N - PREFIX: name" (directives kept), turns
#       plans and "# harness-done" into comments, "1..0 # SKIP why" into a
#       skipped result, "Bail out!" into a failure and other text into
#       comments, so runs can be concatenated and counted with
#       "count --no-harness". Adds the synthetic failure when "# harness-done"
#       is missing, as count does.
set -euo pipefail

usage() {
	sed -n '2,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

# Shared awk: classify(line) -> "pass", "fail", "skip" or "".
AWK_LIB='
function directive(s,    i, d) {
	i = index(s, "#")
	if (i == 0) return ""
	d = tolower(substr(s, i + 1))
	sub(/^[ \t]+/, "", d)
	if (d ~ /^skip/) return "skip"
	if (d ~ /^todo/) return "todo"
	return ""
}
function classify(s,    d) {
	if (s ~ /^ok( |$)/) {
		return (directive(s) == "skip") ? "skip" : "pass"
	}
	if (s ~ /^not ok( |$)/) {
		d = directive(s)
		return (d == "skip" || d == "todo") ? "skip" : "fail"
	}
	if (s ~ /^Bail out!/) return "fail"
	if (s ~ /^1\.\.0( |$)/ && directive(s) == "skip") return "skip"
	return ""
}
'

cmd_count() {
	local harness=1
	if [ "${1:-}" = --no-harness ]; then harness=0; shift; fi
	[ $# -gt 0 ] || usage
	local f
	for f in "$@"; do
		[ -e "$f" ] || { echo "tap.sh: $f: no such file" >&2; exit 2; }
	done
	local P=0 F=0 S=0 anyres=0 out np nf ns
	for f in "$@"; do
		# One awk per file, so an empty file is still checked.
		out=$(awk -v harness="$harness" -v file="$f" "$AWK_LIB"'
		{
			sub(/\r+$/, "")
			if ($0 ~ /^# harness-done/) done = 1
			if ($0 ~ /^# harness-fail: /) why = substr($0, 17)
			c = classify($0)
			if (c == "pass") p++; else if (c == "fail") f++; else if (c == "skip") s++
		}
		END {
			if (harness && !done) {
				run = file; sub(/.*\//, "", run); sub(/\.[^.]*$/, "", run)
				print "not ok - " run ": harness did not finish" ((why != "") ? " (" why ")" : "")
				f++
			}
			printf "# %s: pass %d fail %d skip %d\n", file, p, f, s
			printf "%d %d %d\n", p, f, s
		}' "$f")
		printf '%s\n' "$out" | sed '$d'
		read -r np nf ns <<<"$(printf '%s\n' "$out" | tail -n1)"
		P=$((P + np)) F=$((F + nf)) S=$((S + ns))
		[ $((np + nf + ns)) -eq 0 ] || anyres=1
	done
	echo "pass=$P fail=$F skip=$S"
	[ "$F" -eq 0 ] && [ "$anyres" = 1 ]
}

cmd_relabel() {
	local harness=1
	if [ "${1:-}" = --no-harness ]; then harness=0; shift; fi
	[ $# -eq 1 ] || usage
	local prefix=$1
	awk -v pfx="$prefix" -v harness="$harness" "$AWK_LIB"'
	{
		sub(/\r+$/, "")
		line = $0
		if (line ~ /^(not )?ok( |$)/) {
			st = (line ~ /^not ok/) ? "not ok" : "ok"
			rest = substr(line, length(st) + 1)
			num = ""
			if (match(rest, /^ +[0-9]+/)) {
				num = substr(rest, RSTART, RLENGTH); sub(/^ +/, " ", num)
				rest = substr(rest, RSTART + RLENGTH)
			}
			sub(/^ +/, "", rest); sub(/^- */, "", rest)
			if (rest == "") print st num " - " pfx
			else if (rest ~ /^#/) print st num " - " pfx " " rest
			else print st num " - " pfx ": " rest
		} else if (line ~ /^1\.\.0( |$)/ && directive(line) == "skip") {
			r = line; sub(/^[^#]*#[ \t]*/, "", r)
			print "ok - " pfx ": suite skipped # " r
		} else if (line ~ /^[0-9]+\.\.[0-9]+/) {
			print "# " pfx ": plan " line
		} else if (line ~ /^Bail out!/) {
			print "not ok - " pfx ": " line
		} else if (line ~ /^# harness-done/) {
			done = 1; print "# " pfx ": harness-done"
		} else if (line ~ /^# harness-fail: /) {
			why = substr(line, 17); print line
		} else if (line ~ /^TAP version/ || line == "") {
			next
		} else if (line ~ /^[ \t]*#/) {
			print line
		} else {
			print "# " line
		}
	}
	END {
		if (harness && !done)
			print "not ok - " pfx ": harness did not finish" ((why != "") ? " (" why ")" : "")
	}'
}

[ $# -gt 0 ] || usage
cmd=$1
shift
case "$cmd" in
count) cmd_count "$@" ;;
relabel) cmd_relabel "$@" ;;
-h|--help|help) usage ;;
*) echo "tap.sh: unknown command: $cmd" >&2; usage ;;
esac
