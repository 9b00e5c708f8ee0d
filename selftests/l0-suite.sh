#!/bin/sh
# /nestor/suite in the emulated L0 (busybox sh): loads nestor.ko, runs the
# suites the payload carries (/nestor/suites/*.sh, in name order), unloads
# the module.  stdout is the results channel: TAP only.
N=/nestor
export PATH="$N/bin:$PATH"
failed=0

tap() { # status name
	if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; failed=1; fi
}

cpu=svm
grep -qw vmx /proc/cpuinfo && cpu=vmx
kvm_mod=kvm_amd
kvm_opts="nested=1"
[ $cpu = vmx ] && { kvm_mod=kvm_intel; kvm_opts="nested=1 ept=1"; }

# Without its KVM backend module, nestor refuses to load and says why.
if rmmod $kvm_mod 2>/tmp/rmmod-kvm.err; then
	! insmod "$N/nestor.ko" 2>/dev/null
	rc=$?
	tap $rc "insmod nestor.ko fails without $kvm_mod"
	[ $rc = 0 ] || rmmod nestor
	dmesg | grep -q "nestor: neither kvm_intel nor kvm_amd is loaded"
	tap $? "the refusal names what is missing"
	modprobe $kvm_mod $kvm_opts
	tap $? "modprobe $kvm_mod $kvm_opts again"
else
	tap 1 "rmmod $kvm_mod (to test the refusal)"
	sed 's/^/# /' /tmp/rmmod-kvm.err
fi

args="idle_expiry_ms=${NESTOR_IDLE_EXPIRY_MS:-3000}"
insmod "$N/nestor.ko" $args 2>/tmp/insmod.err
rc=$?
tap $rc "insmod nestor.ko ($args)"
if [ $rc != 0 ]; then
	sed 's/^/# /' /tmp/insmod.err
	dmesg | grep nestor | sed 's/^/# /'
	exit 1
fi

nestorctl version >/tmp/version.out 2>&1
tap $? "nestorctl version"
grep -q "backend.*$cpu" /tmp/version.out
tap $? "backend is $cpu"
sed 's/^/# /' /tmp/version.out

# NESTOR_SUITES (nestor.suites=a,b on L0's command line): run only the
# suites whose file name contains one of the words; check.sh splits the
# realistic payload into several L0 boots this way.
wanted() {
	[ -n "${NESTOR_SUITES:-}" ] || return 0
	for w in $(echo "$NESTOR_SUITES" | tr ',' ' '); do
		case "$(basename "$1")" in *"$w"*) return 0 ;; esac
	done
	return 1
}
for s in "$N"/suites/*.sh; do
	[ -e "$s" ] || continue
	wanted "$s" || continue
	t0=$(cut -d. -f1 /proc/uptime)
	echo "# suite $(basename "$s")"
	sh "$s" || failed=1
	echo "# suite $(basename "$s"): $(($(cut -d. -f1 /proc/uptime) - t0)) s"
done

# KVM's backend module going away under nestor: the hook is disarmed
# before ftrace drops the hooked function, and nestor still unloads.
if grep -q '^nestor ' /proc/modules && rmmod $kvm_mod 2>/tmp/rmmod-kvm.err; then
	tap 0 "rmmod $kvm_mod with nestor loaded"
	dmesg | grep -q "nestor: $kvm_mod is unloading: exit diversion disarmed"
	tap $? "nestor disarmed its hook when $kvm_mod went"
	nestorctl version 2>&1 | grep -q "features:.*divert"
	[ $? != 0 ]
	tap $? "features no longer report divert"
	modprobe $kvm_mod $kvm_opts
	tap $? "modprobe $kvm_mod $kvm_opts again"
elif grep -q '^nestor ' /proc/modules; then
	tap 1 "rmmod $kvm_mod with nestor loaded"
	sed 's/^/# /' /tmp/rmmod-kvm.err
fi

# Whatever the suites did, the module must unload cleanly.
if grep -q '^nestor ' /proc/modules; then
	rmmod nestor 2>/tmp/rmmod.err
	rc=$?
	tap $rc "rmmod nestor"
	[ $rc = 0 ] || sed 's/^/# /' /tmp/rmmod.err
fi
! grep -q '^nestor ' /proc/modules
tap $? "nestor is not loaded at the end"
# What users see without the module.
if [ -x "$N/bin/nestorctl-errors.sh" ]; then
	sh "$N/bin/nestorctl-errors.sh" unloaded || failed=1
fi
exit $failed
