#!/bin/bash
# make check: the whole suite.  Host stages first (unit tests, builds, style),
# then the emulated L0s: SVM on QEMU TCG and VMX on Bochs (or on KVM when
# this is an Intel host with nested KVM), each with the minimal scenario and
# the realistic one.  Every stage writes TAP into $NESTOR_BUILD/results; the
# last line is "N passed, N failed, N skipped".
#
# Environment: NESTOR_CACHE, NESTOR_BUILD (see the Makefile);
# NESTOR_CHECK_ONLY="unit build svm-minimal ..." runs only the named stages
# (svm-capture: the packet capture suite; svm-realistic: all its boots,
# svm-realistic-2: the second; svm-realistic-capture and
# vmx-realistic-capture: capture around a real L1 VM); NESTOR_SERIAL=1
# runs the emulator lanes one after the other.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
export NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}
export NESTOR_BUILD=${NESTOR_BUILD:-$REPO/build}
R=$NESTOR_BUILD/results
H=$HERE/harness
# shellcheck source=harness/payload.sh
. "$H/payload.sh"
mkdir -p "$R" "$NESTOR_CACHE"
rm -f "$R"/*.tap "$R"/*.log

log() { echo "check: $*" >&2; }

# A stage NAME-N (one boot of a split stage) is wanted when NAME is.
want() {
	[[ -z ${NESTOR_CHECK_ONLY:-} || " $NESTOR_CHECK_ONLY " == *" $1 "* ||
		" $NESTOR_CHECK_ONLY " == *" ${1%-[0-9]} "* ]]
}
# Stages that run only when named (the soak test of the realistic chain).
want_named() { [[ " ${NESTOR_CHECK_ONLY:-} " == *" $1 "* ]]; }

# run_stage NAME CMD...: CMD prints TAP; its stderr goes to NAME.log.
run_stage() {
	local name=$1 start=$SECONDS
	shift
	want "$name" || return 0
	log "stage $name ..."
	"$@" >"$R/$name.tap" 2>"$R/$name.log"
	local rc=$?
	log "stage $name: rc=$rc, $((SECONDS - start)) s"
	# A stage that died without saying why still counts as a failure.
	if ((rc)) && ! grep -q '^not ok' "$R/$name.tap"; then
		echo "not ok - $name exited with $rc (see $R/$name.log)" >>"$R/$name.tap"
	fi
	return 0
}

tap_cmd() { # name cmd...: one TAP line for a command's success
	local name=$1
	shift
	if "$@" >>"$R/tap_cmd.log" 2>&1; then
		echo "ok - $name"
	else
		echo "not ok - $name"
		tail -20 "$R/tap_cmd.log" | sed 's/^/# /'
	fi
}

install_deps() {
	local pkgs=(build-essential pkg-config libmnl-dev libelf-dev libbpf-dev bc
		busybox-static cpio lz4 kmod qemu-system-x86 jq xorriso isolinux
		syslinux-common sparse binutils bpftool file linux-source-6.1 dkms socat
		libpcap-dev)
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing+=("$p")
	done
	((${#missing[@]})) || return 0
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" >"$R/apt.log" 2>&1 ||
		{ apt-get update >>"$R/apt.log" 2>&1 &&
		  apt-get install -y --no-install-recommends "${missing[@]}" >>"$R/apt.log" 2>&1; }
}

# ---------------------------------------------------------------- host stages

# DKMS from a copy of the tree, removed again whatever happens.
dkms_build() {
	local ver src
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$REPO/dkms.conf")
	src=/usr/src/nestor-$ver
	dkms remove "nestor/$ver" --all >/dev/null 2>&1
	rm -rf "$src" && mkdir -p "$src" &&
		cp -r "$REPO"/{Kbuild,Makefile,dkms.conf,kmod,netfilter,uapi} "$src/" &&
		find "$src" -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' | xargs rm -f
	dkms add "nestor/$ver" && dkms build "nestor/$ver" -k "$KVER" &&
		[[ -f /var/lib/dkms/nestor/$ver/$KVER/x86_64/module/nestor.ko ]]
	local rc=$?
	dkms remove "nestor/$ver" --all >/dev/null 2>&1
	rm -rf "$src"
	return $rc
}

stage_unit() {
	make -s -C "$HERE/unit" run O="$NESTOR_BUILD/unit"
}

stage_build() {
	# The compile-only build against Debian's 6.1 headers; W=1 must be
	# silent.  The module built here is the one the L0s load.
	local out
	out=$(make -C "$KDIR" M="$REPO" W=1 modules 2>&1)
	if [[ $? == 0 && -f $REPO/kmod/nestor.ko ]] &&
	   ! grep -qE '(warning|error):' <<<"$out"; then
		echo "ok - module builds against linux-headers-$KVER with W=1, no warnings"
	else
		echo "not ok - module builds against linux-headers-$KVER with W=1, no warnings"
		grep -E '(warning|error):' <<<"$out" | head -20 | sed 's/^/# /'
	fi
	tap_cmd "make style (checkpatch --strict)" make -C "$REPO" style
	tap_cmd "make sparse" make -C "$REPO" sparse KDIR="$KDIR"
	tap_cmd "dkms builds the module for $KVER (dkms.conf)" dkms_build
	tap_cmd "tools build" make -C "$REPO/tools"
	tap_cmd "L2 guest module builds (tools/guest)" make -C "$REPO/tools/guest" KDIR="$KDIR"
	tap_cmd "uapi tests build" make -C "$HERE/uapi" O="$NESTOR_BUILD/uapi"
	tap_cmd "nested tests build" make -C "$HERE/nested" O="$NESTOR_BUILD/nested"
}

# ---------------------------------------------------------------- payloads

# make_payload NAME SUITE... -> $NESTOR_BUILD/NAME.initrd
make_payload() {
	local name=$1
	shift
	local p=$NESTOR_BUILD/payload-$name rootfs=$NESTOR_BUILD/rootfs-$name s i=10
	rm -rf "$p" "$rootfs"
	mkdir -p "$p/bin" "$p/suites" "$rootfs"
	cp "$REPO/kmod/nestor.ko" "$p/"
	cp "$HERE/l0-suite.sh" "$p/suite"
	cp "$REPO/tools/nestorctl/nestorctl" "$p/bin/"
	cp "$REPO/tools/monitord/nestor-monitord" "$p/bin/"
	for s in "$@"; do
		cp "$s" "$p/suites/$i-$(basename "$s")"
		i=$((i + 10))
	done
	[[ -d $NESTOR_BUILD/uapi ]] && find "$NESTOR_BUILD/uapi" -maxdepth 1 -type f -perm -u+x -exec cp {} "$p/bin/" \;
	[[ -d $NESTOR_BUILD/nested ]] && find "$NESTOR_BUILD/nested" -maxdepth 1 -type f -perm -u+x -exec cp {} "$p/bin/" \;
	# Helper scripts the suites call; the suites themselves went to suites/
	# above (each folder has its own suite.sh, which would collide here).
	for s in "$HERE"/uapi/*.sh "$HERE"/nested/*.sh; do
		[[ $(basename "$s") == suite.sh ]] || cp "$s" "$p/bin/"
	done
	if [[ $name == realistic* || $name == soak* ]]; then
		"$HERE/realistic/build.sh" "$p" >&2 || return 1
		cp "$HERE"/realistic/*.sh "$p/bin/" 2>/dev/null
	fi
	if [[ $name == *capture* ]]; then
		"$HERE/capture/build.sh" "$p" "$rootfs" >&2 || return 1
	fi
	command -v jq >/dev/null && cp "$(command -v jq)" "$p/bin/"
	bundle_libs "$p" "$rootfs"
	"$H/mkinitramfs.sh" "$NESTOR_BUILD/$name.initrd" --kver "$KVER" \
		--payload "$p" --rootfs "$rootfs" \
		--modules "$(cat "$p/modules" 2>/dev/null)" >&2
}

# boot_stage NAME BACKEND PAYLOAD TIMEOUT [MEM] [APPEND]
# APPEND goes on L0's command line (nestor.X=Y reaches the suites as
# NESTOR_X=Y). NESTOR_BOOT_RETRY=0 turns off the second boot below.
boot_stage() {
	local name=$1 backend=$2 payload=$3 tmo=$4 mem=${5:-2048} append=${6:-}
	if ! [[ -f $NESTOR_BUILD/$payload.initrd ]]; then
		echo "not ok - $name: payload $payload was not built"
		return 1
	fi
	boot_once() {
		"$H/boot-l0.sh" --backend "$backend" --initrd "$NESTOR_BUILD/$payload.initrd" \
			--results "$R/$name.results" --console "$R/$name.console" \
			--timeout "$tmo" --mem "$mem" ${append:+--append "$append"} >&2
	}
	boot_once
	# Now and then L0 stops for good under QEMU TCG, halted with a
	# deliverable interrupt pending (an emulator fault; the detector in
	# boot-l0.sh records the evidence, see HARNESS.md). A run that did not
	# finish is booted once more, and a third time when both were such
	# stalls; the earlier attempts' reasons stay in the output as comments.
	local attempt=1 all_stalls=1
	while [[ ${NESTOR_BOOT_RETRY:-1} != 0 ]] &&
		! grep -q '^# harness-done' "$R/$name.results"; do
		grep -q '^# harness-fail: L0 stalled' "$R/$name.results" || all_stalls=0
		((attempt < 2 || (attempt < 3 && all_stalls))) || break
		mv "$R/$name.results" "$R/$name.attempt$attempt.results"
		mv "$R/$name.console" "$R/$name.attempt$attempt.console"
		echo "# $name: boot $attempt did not finish: $(grep -h '^# harness-fail' "$R/$name.attempt$attempt.results")"
		grep -h '^# stall:.*\(HLT=\|EFL=\|IRR\|ISR\|PPR\)' "$R/$name.attempt$attempt.results" | head -n 8
		attempt=$((attempt + 1))
		echo "# $name: booting again (boot $attempt)"
		boot_once
	done
	"$H/tap.sh" relabel "$name" <"$R/$name.results"
}

# ---------------------------------------------------------------- main

start=$SECONDS
install_deps || log "warning: some packages failed to install (see $R/apt.log)"
eval "$("$H/fetch-kernel.sh")" || { log "cannot fetch the Debian kernel"; exit 1; }
export KVER KDIR

run_stage unit stage_unit
run_stage build stage_build

vmx_backend=$("$H/boot-l0.sh" --detect-vmx 2>/dev/null || echo vmx)
[[ $vmx_backend == vmx ]] && { want vmx-minimal || want vmx-realistic ||
	want vmx-realistic-capture || want_named vmx-soak; } &&
	{ "$H/build-bochs.sh" >"$R/bochs-build.log" 2>&1 || log "Bochs build failed"; }

if want svm-minimal || want vmx-minimal; then
	make_payload minimal "$HERE/uapi/suite.sh" "$HERE/nested/suite.sh" \
		"$HERE/nested/events.sh" "$HERE/nested/console.sh" "$HERE/nested/mem.sh" \
		"$HERE/nested/identity.sh" \
		2>"$R/payload-minimal.log" || log "minimal payload failed"
fi
if want svm-realistic || want vmx-realistic || [[ ${NESTOR_CHECK_ONLY:-} == *-realistic-[0-9]* ]]; then
	make_payload realistic "$HERE/realistic/suite-registry.sh" "$HERE/realistic/suite-ps.sh" \
		"$HERE/realistic/suite-identity.sh" "$HERE/realistic/suite-console.sh" \
		2>"$R/payload-realistic.log" || log "realistic payload failed"
fi

# Packet capture needs no nested guest: SVM (QEMU) only, with its own
# payload (tshark and its libraries are big).
if want svm-capture; then
	make_payload capture "$HERE/capture/suite.sh" \
		2>"$R/payload-capture.log" || log "capture payload failed"
fi

# Capture around a real L1 VM: the realistic chain with L1 on a tap, and
# the capture payload's tshark and tun.
if want svm-realistic-capture || want vmx-realistic-capture; then
	make_payload realistic-capture "$HERE/realistic/suite-capture.sh" \
		2>"$R/payload-realistic-capture.log" || log "realistic-capture payload failed"
fi

# The realistic payload is booted once per group of suites (nestor.suites),
# so that a boot lost to an emulator stall costs one group, and the groups
# can be spread over the two lanes below.
realistic_groups=("registry,ps" "identity,console")
realistic_stage() { # realistic_stage BACKEND GROUP-INDEX TIMEOUT
	local backend=$1 i=$2 tmo=$3 name=$1-realistic-$(($2 + 1))
	local be=$backend
	[[ $backend == vmx ]] && be=$vmx_backend
	want "$backend-realistic" || want "$name" || return 0
	run_stage "$name" boot_stage "$name" "$be" realistic "$tmo" 2048 \
		"nestor.suites=${realistic_groups[$i]}"
}

# Two lanes run side by side: every emulator is one busy host thread (L0
# has one vCPU), and CI has two cores. The split evens out their run times
# (Bochs takes about three times as long as QEMU on a realistic group).
lane_a() {
	run_stage svm-minimal boot_stage svm-minimal svm minimal 600
	run_stage svm-capture boot_stage svm-capture svm capture 900
	realistic_stage svm 0 900
	run_stage svm-realistic-capture boot_stage svm-realistic-capture svm realistic-capture 600
	realistic_stage vmx 1 1500
}
lane_b() {
	run_stage vmx-minimal boot_stage vmx-minimal "$vmx_backend" minimal 600
	realistic_stage vmx 0 1500
	realistic_stage svm 1 900
	# 247 s in Bochs (493 s with four emulators on two cores).
	run_stage vmx-realistic-capture boot_stage vmx-realistic-capture "$vmx_backend" \
		realistic-capture 900
}
if [[ -n ${NESTOR_SERIAL:-} ]]; then
	lane_a
	lane_b
else
	lane_a &
	lane_b &
	wait
fi

if want_named svm-soak || want_named vmx-soak; then
	make_payload soak "$HERE/realistic/soak.sh" \
		2>"$R/payload-soak.log" || log "soak payload failed"
fi
if want_named svm-soak-first; then
	make_payload soak-first "$HERE/realistic/soak-first.sh" \
		2>"$R/payload-soak-first.log" || log "soak-first payload failed"
fi
want_named svm-soak && run_stage svm-soak boot_stage svm-soak svm soak "${NESTOR_SOAK_TIMEOUT:-3600}"
# NESTOR_SOAK_BOOTS L0 boots of the first-boot variant, one result file
# each, without the second boot a stall would get in the suite;
# NESTOR_SOAK_WITH_NESTOR=1 keeps nestor loaded (the control).
soak_first() {
	local i
	for i in $(seq 1 "${NESTOR_SOAK_BOOTS:-8}"); do
		NESTOR_BOOT_RETRY=0 boot_stage "svm-soak-first-$i" svm soak-first 600 2048 \
			"nestor.soak_with_nestor=${NESTOR_SOAK_WITH_NESTOR:-0}"
	done
}
want_named svm-soak-first && run_stage svm-soak-first soak_first
want_named vmx-soak && run_stage vmx-soak boot_stage vmx-soak "$vmx_backend" soak "${NESTOR_SOAK_TIMEOUT:-5400}" 2048

log "total $((SECONDS - start)) s"
shopt -s nullglob
tapfiles=("$R"/*.tap)
for f in "${tapfiles[@]}"; do
	grep -E '^not ok' "$f" | sed "s|^|$(basename "$f" .tap): |"
done
pass=$(cat "${tapfiles[@]}" | grep -cE '^ok ' | tr -d ' ')
skip=$(cat "${tapfiles[@]}" | grep -E '^(not )?ok ' | grep -ciE '# *skip' | tr -d ' ')
fail=$(cat "${tapfiles[@]}" | grep -cE '^not ok' | tr -d ' ')
pass=$((pass - $(cat "${tapfiles[@]}" | grep -E '^ok ' | grep -ciE '# *skip')))
echo "$pass passed, $fail failed, $skip skipped"
((fail == 0 && pass > 0))
