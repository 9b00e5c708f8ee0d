#!/bin/bash
# make bench: the cost of nestor's divert hook on L2 exits that it passes on
# to L1.
#
#   run.sh [--backend LIST] [--rounds R] [--inner I] [--split] [--no-build]
#
# Builds nestor.ko (against the Debian kernel that L0 boots), the tools and
# nested_l2, packs them with suite.sh into an L0 initramfs, and boots L0 once
# per backend in LIST (comma-separated; default svm,svm-icount,vmx):
#   svm         QEMU TCG, -cpu EPYC; L0's clock is the host's wall clock
#   svm-icount  the same with -icount shift=0: L0's clock counts emulated
#               instructions, so other jobs on the host cannot disturb it
#   vmx         Bochs with VMX (clock sync=none: its clock counts emulated
#               instructions too), or KVM on an Intel host with nested KVM
# Each boot times an L2 exit loop without nestor, with nestor and nothing
# claimed, and with nestor claiming another exit kind (suite.sh), R rounds of
# I samples each (default 6 x 40 for svm; 3 x 10 for svm-icount and vmx,
# whose instruction-counting clocks repeat to 0.1 %). --split adds a fourth configuration that tells the divert
# hook's share of the cost from the registry's tracepoint probes.
# Writes $NESTOR_BUILD/bench/hook-overhead.txt and prints it. Exit status 0
# when every run worked, whether the overhead goal was met or not: that is a
# figure in the file, not a test result.
#
# Environment: NESTOR_CACHE, NESTOR_BUILD (see the Makefile);
# NESTOR_BENCH_N_SVM, NESTOR_BENCH_N_VMX, NESTOR_BENCH_N_KVM: port writes
# per sample on each backend; NESTOR_BENCH_GOAL_PCT (default 3).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
H=$REPO/selftests/harness
export NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}
export NESTOR_BUILD=${NESTOR_BUILD:-$REPO/build}
B=$NESTOR_BUILD/bench
OUT=$B/hook-overhead.txt
# shellcheck source-path=SCRIPTDIR/../harness source=payload.sh
. "$H/payload.sh"

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }
usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }

backends="svm svm-icount vmx" rounds='' inner='' build=1 configs="a,b,c"
while [ $# -gt 0 ]; do
	case "$1" in
	--backend)
		backends=$(tr ',' ' ' <<<"${2:?--backend needs a list}")
		shift ;;
	--rounds) rounds=${2:?--rounds needs a number}; shift ;;
	--inner) inner=${2:?--inner needs a number}; shift ;;
	--split) configs="a,b,c,d" ;;
	--no-build) build=0 ;;
	-h|--help) usage ;;
	*) echo "bench: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
[[ $rounds =~ ^([1-9][0-9]*)?$ && $inner =~ ^([1-9][0-9]*)?$ ]] || usage
for be in $backends; do
	case "$be" in svm|svm-icount|vmx) ;; *) usage ;; esac
done
goal=${NESTOR_BENCH_GOAL_PCT:-3}

# Port writes per sample, by the backend boot-l0.sh runs. A nested round
# trip costs 0.1 to 0.3 ms under TCG or Bochs, so a sample takes well under
# a second and a run of 40 samples a few seconds; on silicon (kvm) a round
# trip takes a few microseconds. Many short samples rather than a few long
# ones: see suite.sh.
declare -A exits=(
	[svm]=${NESTOR_BENCH_N_SVM:-250}
	[vmx]=${NESTOR_BENCH_N_VMX:-250}
	[kvm]=${NESTOR_BENCH_N_KVM:-20000}
)
# Rounds and samples per run, by run. Wall-clock time on a shared host needs
# many samples; an instruction-counting clock hardly varies, and Bochs is
# slow, so fewer do there.
declare -A def_rounds=([svm]=6 [svm-icount]=3 [vmx]=3) def_inner=([svm]=40 [svm-icount]=10 [vmx]=10)

mkdir -p "$B"
BLOG=$B/build.log
: >"$BLOG"

install_deps() {
	local p missing=()
	for p in build-essential pkg-config libmnl-dev libelf-dev bc \
		busybox-static cpio lz4 kmod file qemu-system-x86; do
		[[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] ||
			missing+=("$p")
	done
	((${#missing[@]})) || return 0
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get install -y --no-install-recommends "${missing[@]}" ||
		{ apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }; } \
		>>"$BLOG" 2>&1 || die "apt-get install ${missing[*]} failed (see $BLOG)"
}

# step NAME CMD...: runs a build step with its output in the build log.
step() {
	local name=$1
	shift
	log "$name"
	echo "=== $name: $*" >>"$BLOG"
	"$@" >>"$BLOG" 2>&1 || { tail -n 30 "$BLOG" >&2; die "$name failed (log: $BLOG)"; }
}

# The same steps as check.sh: kernel and headers, the module against them,
# the tools (libnestor for nested_l2), nested_l2 into our own directory so
# that a concurrent make check does not swap the binary under us.
build_payload() {
	local p=$B/payload rootfs=$B/rootfs
	install_deps
	step "fetch the Debian kernel" "$H/fetch-kernel.sh"
	# shellcheck disable=SC1091
	. "$NESTOR_CACHE/kernel/current.env"
	export KVER KDIR
	step "build nestor.ko against $KVER" make -C "$KDIR" M="$REPO" modules
	step "build the tools" make -C "$REPO/tools"
	step "build nested_l2" make -C "$REPO/selftests/nested" O="$B/nested"
	rm -rf "$p" "$rootfs"
	mkdir -p "$p/bin" "$rootfs"
	cp "$REPO/kmod/nestor.ko" "$p/"
	cp "$HERE/suite.sh" "$p/suite"
	chmod +x "$p/suite"
	cp "$B/nested/nested_l2" "$p/bin/"
	cp "$B/nested/identity_l2" "$p/bin/"
	bundle_libs "$p" "$rootfs"
	step "pack the L0 initramfs" "$H/mkinitramfs.sh" "$B/bench.initrd" \
		--kver "$KVER" --payload "$p" --rootfs "$rootfs"
}

# boot-l0.sh has no way to pass QEMU options, so for svm-icount a wrapper
# named qemu-system-x86_64 that adds -icount goes first in its PATH.
# shift=0: one emulated instruction is one nanosecond of L0 time.
icount_path() {
	local real d=$B/icount-qemu
	real=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 is not installed"
	mkdir -p "$d"
	printf '#!/bin/sh\n# Written by selftests/bench/run.sh for its svm-icount run.\nexec %q "$@" -icount shift=0\n' \
		"$real" >"$d/qemu-system-x86_64"
	chmod +x "$d/qemu-system-x86_64"
	echo "$d:$PATH"
}

# boot NAME HARNESS-BACKEND [PATH]: one L0 boot running suite.sh; 0 when
# every TAP line of the run is ok.
boot() {
	local be=$1 hb=$2 path=${3:-$PATH} tmo=1200 rc=0 start=$SECONDS
	local r=${rounds:-${def_rounds[$be]}} i=${inner:-${def_inner[$be]}}
	# Bochs also has to boot (about 20 s) and is slower at everything else.
	[[ $hb == vmx ]] && tmo=2400
	log "booting L0 for $be ($hb): $r rounds x configurations $configs x $i samples of ${exits[$hb]} exits"
	PATH=$path "$H/boot-l0.sh" --backend "$hb" --initrd "$B/bench.initrd" \
		--results "$B/$be.results" --console "$B/$be.console" --timeout "$tmo" \
		--append "nestor.bench_n=${exits[$hb]} nestor.bench_rounds=$r nestor.bench_inner=$i nestor.bench_goal_pct=$goal nestor.bench_configs=$configs" \
		>>"$BLOG" 2>&1 || rc=$?
	log "$be: boot-l0.sh exit $rc after $((SECONDS - start)) s; results in $B/$be.results"
	grep -E '^(not )?ok|^# bench' "$B/$be.results" | grep -v '^# bench-results' |
		sed "s/^/  $be: /" >&2 || true
	((rc == 0)) && "$H/tap.sh" count "$B/$be.results" >>"$BLOG" 2>&1
}

# The results block of one run as KEY=value lines.
results_of() {
	sed -n '/^# bench-results-begin/,/^# bench-results-end/{/^# [a-z0-9_]*=/s/^# //p}' "$1"
}

declare -A config_name=(
	[a]="nestor not loaded"
	[b]="nestor loaded, hypercall=0"
	[c]="nestor loaded, hypercall=1 (claim)"
	[d]="as b, ftrace off (probes, no hook)"
)

# report NAME EMULATOR OK: this run's section of the results file.
report() {
	local be=$1 emu=$2 ok=$3 f=$B/$1.results k val c
	local -A v=()
	local -a st sa sb sd
	while IFS='=' read -r k val; do
		v[$k]=$val
	done < <(results_of "$f")
	echo "$be: $emu"
	if [[ -z ${v[p10_goal]:-} ]]; then
		echo "  no figures: the run failed (see $f and ${f%.results}.console)"
		summary+=("$(printf '  %-11s no figures: the run failed' "$be")")
		return
	fi
	((ok)) || echo "  WARNING: some checks of this run failed (see $f)"
	read -r -a sa <<<"${v[stats_a]}"
	echo "  kernel: ${v[kernel]}"
	echo "  N: ${v[exits_per_sample]} reflected port writes per sample, ${v[samples_per_run]} samples per run"
	echo "  rounds: ${v[rounds]} x configurations ${v[configs]}, order rotated each round; ${sa[6]} samples per configuration"
	printf '  %-40s %10s %10s   %-24s %s\n' "ns/exit" median "10th pct" "[25th..75th pct]" "[min..max]"
	for c in ${v[configs]}; do
		read -r -a st <<<"${v[stats_$c]}"
		printf '    %s  %-35s %10s %10s   %-24s %s\n' "$c" "${config_name[$c]}" \
			"${st[0]}" "${st[1]}" "[${st[2]}..${st[3]}]" "[${st[4]}..${st[5]}]"
	done
	echo "  overhead against a:                         median   10th pct"
	for c in ${v[configs]}; do
		[[ $c == a ]] && continue
		printf '    %s/a  %-35s %+7.2f %%  %+7.2f %%\n' "$c" "${config_name[$c]}" \
			"${v[median_overhead_${c}_pct]}" "${v[p10_overhead_${c}_pct]}"
	done
	if [[ -n ${v[stats_d]:-} ]]; then
		# d has the probes without the hook: b - d is the hook alone.
		read -r -a sb <<<"${v[stats_b]}"
		read -r -a sd <<<"${v[stats_d]}"
		awk -v a="${sa[0]}" -v b="${sb[0]}" -v d="${sd[0]}" \
			-v a1="${sa[1]}" -v b1="${sb[1]}" -v d1="${sd[1]}" 'BEGIN {
			printf "    of b/a: registry probes (d-a)/a %+.2f %% / %+.2f %%, divert hook (b-d)/a %+.2f %% / %+.2f %% (median / 10th pct)\n",
				(d - a) / a * 100, (d1 - a1) / a1 * 100, (b - d) / a * 100, (b1 - d1) / a1 * 100 }'
	fi
	echo "  goal (b/a and c/a <= ${v[goal_pct]} %): median: ${v[median_goal]#goal }, 10th pct: ${v[p10_goal]#goal }"
	summary+=("$(printf '  %-11s b/a %+6.2f %%   c/a %+6.2f %%   %s   (noise: IQR of a %s %%)' "$be" \
		"${v[median_overhead_b_pct]}" "${v[median_overhead_c_pct]}" "${v[median_goal]}" "${v[iqr_a_pct]}")")
	echo "  noise: the interquartile range of a is ${v[iqr_a_pct]} % of its median"
}

((build)) && build_payload
[[ -f $B/bench.initrd ]] || die "$B/bench.initrd is missing (run without --no-build)"

vmx_backend=$("$H/boot-l0.sh" --detect-vmx 2>/dev/null || echo vmx)
qemu_version=$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version //p')
declare -A hb=([svm]=svm [svm-icount]=svm [vmx]=$vmx_backend) okay=()
declare -A emu=(
	[svm]="QEMU $qemu_version TCG, -cpu EPYC; L0's clock is the host's wall clock"
	[svm-icount]="QEMU $qemu_version TCG, -cpu EPYC, -icount shift=0; L0's clock counts emulated instructions (1 ns each)"
	[vmx]="Bochs with VMX (build-bochs.sh), clock sync=none, ips=100M; L0's clock counts emulated instructions (10 ns each)"
)
if [[ $vmx_backend == kvm ]]; then
	emu[vmx]="KVM on this Intel host: nested VMX on silicon, wall clock"
elif [[ " $backends " == *" vmx "* ]]; then
	step "build Bochs" "$H/build-bochs.sh"
fi

fail=0
for be in $backends; do
	path=$PATH
	if [[ $be == svm-icount ]]; then
		path=$(icount_path) || exit 1
	fi
	if boot "$be" "${hb[$be]}" "$path"; then
		okay[$be]=1
	else
		okay[$be]=0
		fail=1
	fi
done

{
	echo "nestor: cost of the divert hook on L2 exits passed on to L1 (make bench)"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "tree: $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "loop: one L2 writes to a port its L1 intercepts; L1 counts it, advances RIP, resumes"
	echo "goal: b/a and c/a overhead <= $goal %"
	echo "note: L0 is emulated, so these ratios are not silicon figures (selftests/bench/README.md)"
	summary=()
	for be in $backends; do
		echo
		report "$be" "${emu[$be]}" "${okay[$be]}"
	done
	echo
	echo "summary (medians; a difference below a run's noise figure is not a result):"
	printf '%s\n' "${summary[@]}"
	echo
	echo "L2 identity: registration round trip (completed in L0) vs a hypercall L1 answers:"
	for be in $backends; do
		grep -h '^# bench identity' "$B/$be.results" 2>/dev/null | sed "s/^# /  $be: /"
	done
} >"$OUT"
cat "$OUT"
log "written to $OUT"
exit $fail
