#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# nestorctl-errors.sh loaded|unloaded: nestorctl's exit codes and messages
# for the errors an admin meets, as TAP.
#   loaded    nestor.ko is loaded: no such L2, usage errors, no permission
#   unloaded  after rmmod: the message says the module is not loaded
# Finds nestorctl and as-nobody in $NESTORCTL / $AS_NOBODY, next to this
# script, or in PATH.  POSIX sh (busybox in the emulated L0).

here=$(cd "$(dirname "$0")" && pwd)
find_tool() { # name -> path
	if [ -x "$here/$1" ]; then echo "$here/$1"; else command -v "$1"; fi
}
NESTORCTL=${NESTORCTL:-$(find_tool nestorctl)}
AS_NOBODY=${AS_NOBODY:-$(find_tool as-nobody)}
out=${TMPDIR:-/tmp}/nestorctl-errors.$$
trap 'rm -f "$out"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }

# expect NAME STATUS PATTERN CMD...: CMD exits with STATUS and its stderr
# matches the grep -i PATTERN ("" for any).
expect() {
	name=$1 want=$2 pattern=$3
	shift 3
	"$@" >"$out.stdout" 2>"$out"
	got=$?
	if [ "$got" != "$want" ]; then
		not_ok "$name"
		echo "# exit status $got, expected $want: $*"
		sed 's/^/#   /' "$out"
	elif [ -n "$pattern" ] && ! grep -qi -- "$pattern" "$out"; then
		not_ok "$name"
		echo "# stderr does not match '$pattern':"
		sed 's/^/#   /' "$out"
	else
		ok "$name"
	fi
	rm -f "$out.stdout"
}

case "$1" in
loaded|unloaded) ;;
*)	echo "usage: $0 loaded|unloaded" >&2; exit 2 ;;
esac
if [ -z "$NESTORCTL" ] || [ ! -x "$NESTORCTL" ]; then
	echo "Bail out! nestorctl not found (set NESTORCTL)"
	exit 1
fi

case "$1" in
loaded)
	expect "stats of a missing L2 exits 1 saying 'no such L2'" \
		1 "no such L2" "$NESTORCTL" stats 999999
	expect "stats l2:N of a missing L2 exits 1 saying 'no such L2'" \
		1 "no such L2" "$NESTORCTL" stats l2:999999
	expect "stats with a malformed L2 name is a usage error (2)" \
		2 "bad L2 name" "$NESTORCTL" stats abc
	expect "stats without an L2 is a usage error (2)" \
		2 "" "$NESTORCTL" stats
	expect "an unknown command is a usage error (2)" \
		2 "unknown command" "$NESTORCTL" frobnicate
	expect "an unknown option is a usage error (2)" \
		2 "unknown option" "$NESTORCTL" list --frob
	expect "events --count 0 is a usage error (2)" \
		2 "count" "$NESTORCTL" events --count 0
	expect "--help exits 0" 0 "" "$NESTORCTL" --help
	expect "version as root exits 0" 0 "" "$NESTORCTL" version
	expect "list --json as root exits 0" 0 "" "$NESTORCTL" list --json
	expect "events --timeout 100 with nothing happening exits 0" \
		0 "" "$NESTORCTL" events --timeout 100
	if [ -z "$AS_NOBODY" ] || [ ! -x "$AS_NOBODY" ]; then
		not_ok "version as uid 65534 exits 1 mentioning permission"
		echo "# as-nobody not found (set AS_NOBODY)"
	else
		expect "version as uid 65534 exits 1 mentioning permission" \
			1 "permission" "$AS_NOBODY" "$NESTORCTL" version
		expect "list as uid 65534 exits 1 mentioning permission" \
			1 "permission" "$AS_NOBODY" "$NESTORCTL" list
		expect "events as uid 65534 exits 1 mentioning permission" \
			1 "permission" "$AS_NOBODY" "$NESTORCTL" events \
			--timeout 10
	fi
	;;
unloaded)
	expect "version without the module exits 1 saying 'not loaded'" \
		1 "not loaded" "$NESTORCTL" version
	expect "list without the module exits 1 saying 'not loaded'" \
		1 "not loaded" "$NESTORCTL" list
	expect "stats without the module exits 1 saying 'not loaded'" \
		1 "not loaded" "$NESTORCTL" stats 1
	expect "a malformed L2 name is still a usage error (2)" \
		2 "bad L2 name" "$NESTORCTL" stats abc
	;;
esac
echo "1..$n"
exit $failed
