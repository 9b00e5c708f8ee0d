#!/bin/sh
# nestor-ident: drive the L2 guest module nestor_ident.ko
# (Documentation/identity.rst), in an L2 Linux guest, as root.
#
#   nestor-ident load NAME KEY_ID [KEYFILE|--unauth]  insmod and register;
#                       KEYFILE holds the owner key in hex (not on the
#                       command line, which other users of the L2 can read)
#   nestor-ident register [NAME]   register again (after L1 moved this L2)
#   nestor-ident status            result of the last registration
#   nestor-ident query             what nestor in L0 holds for this L2 now
# Exit status 0 when nestor answered OK.
S=/sys/kernel/nestor_ident
KO=${NESTOR_IDENT_KO:-$(dirname "$0")/nestor_ident.ko}

die() { echo "nestor-ident: $*" >&2; exit 1; }

case "${1:-}" in
load)
	[ $# -ge 3 ] || die "usage: load NAME KEY_ID [KEYFILE|--unauth]"
	if [ "${4:-}" = --unauth ]; then
		insmod "$KO" name="$2" key_id="$3" unauth=1 || die "insmod failed"
	else
		insmod "$KO" key_id="$3" || die "insmod failed"
		[ -n "${4:-}" ] && { tr -d ' \n' <"$4" >"$S/key" || die "bad key file"; }
		echo "$2" >"$S/name"
		echo 1 >"$S/register" 2>/dev/null
	fi
	cat "$S/status"
	[ "$(cat "$S/status")" = OK ]
	;;
register)
	[ -d "$S" ] || die "nestor_ident.ko is not loaded"
	[ -n "${2:-}" ] && echo "$2" >"$S/name"
	echo 1 >"$S/register" 2>/dev/null
	cat "$S/status"
	[ "$(cat "$S/status")" = OK ]
	;;
status) cat "$S/status" ;;
query) cat "$S/query" ;;
*) sed -n '2,/^S=/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2 ;;
esac
