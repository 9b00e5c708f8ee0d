#!/bin/bash
# Boot Debian's kernel as L0 in Bochs with VMX (the Intel VMX backend).
#
#   boot-bochs.sh --initrd F --results F --console F [--timeout S] [--mem M]
#                 [--append "..."] [--smp N] [--kernel IMAGE]
#                 [--interactive] [--backend vmx]
#
# Same arguments as boot-l0.sh (--backend is accepted and ignored). The
# kernel is --kernel, else the one named by INITRD.kver (mkinitramfs.sh
# writes it), else fetch-kernel.sh's. Two ways to boot it:
#  - pvh (default when the uncompressed vmlinux exists): Bochs preloads the
#    kernel's segments and the initrd into RAM, and a 300-byte boot sector
#    of ours enters the kernel's PVH entry. This skips the kernel's XZ
#    decompression, which costs about 25 s of host CPU under Bochs.
#  - isolinux (for a bzImage): an isolinux ISO with vmlinuz and the initrd.
#  NESTOR_BOCHS_BOOT=pvh|isolinux forces one.
# COM1 (ttyS0) goes to the console file, COM2 (ttyS1, the results channel)
# to the results file, Bochs's own log to <console minus extension>.bochs.log.
# --interactive puts ttyS0 on this terminal instead and boots with
# nestor.shell=1; power L0 off from its shell to end.
# --smp N works but is costly: Bochs cannot skip idle time unless all CPUs
# idle, and a run took 5 times the host CPU time of --smp 1.
#
# Exits 0 only when the results file holds "# harness-done" and the console
# shows no kernel panic; otherwise appends "# harness-fail: <reason>" to the
# results and exits 1 (2: bad arguments or setup). Bochs is stopped when L0
# powers off (ACPI), resets (the kernel boots with reboot=t and a triple
# fault ends Bochs), reboots otherwise (seen in Bochs's log), or the
# timeout (default 900 s) runs out.
#
# Environment: NESTOR_CACHE (see build-bochs.sh); NESTOR_BOCHS runs that
# bochs binary instead of build-bochs.sh's (pvh needs bochs-load-ram.patch).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NESTOR_CACHE=${NESTOR_CACHE:-$REPO/.cache}

die() { echo "boot-bochs: error: $*" >&2; exit 2; }
log() { echo "boot-bochs: $*" >&2; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }

initrd= results= console= timeout_s=900 mem=1024 append= smp=1 kernel= interactive=0
while [ $# -gt 0 ]; do
	case "$1" in
	--initrd|--results|--console|--timeout|--mem|--append|--smp|--kernel|--backend)
		[ $# -ge 2 ] || die "$1 needs a value"
		case "$1" in
		--initrd) initrd=$2 ;;
		--results) results=$2 ;;
		--console) console=$2 ;;
		--timeout) timeout_s=$2 ;;
		--mem) mem=$2 ;;
		--append) append=$2 ;;
		--smp) smp=$2 ;;
		--kernel) kernel=$2 ;;
		--backend) ;; # boot-l0.sh may pass it through; this script is vmx
		esac
		shift 2 ;;
	--interactive) interactive=1; shift ;;
	-h|--help) usage ;;
	*) echo "boot-bochs: unknown argument: $1" >&2; usage ;;
	esac
done
[ -n "$initrd" ] && [ -n "$results" ] && [ -n "$console" ] ||
	die "--initrd, --results and --console are required (see --help)"
[ -f "$initrd" ] || die "initrd '$initrd' not found"
[[ "$timeout_s" =~ ^[0-9]+$ ]] && [ "$timeout_s" -gt 0 ] || die "--timeout must be a positive number of seconds"
# Sizes as QEMU takes them (boot-l0.sh's default is "2G"): MiB, or a G/M suffix.
case "$mem" in
*[gG]) [[ "${mem%[gG]}" =~ ^[0-9]+$ ]] && mem=$((${mem%[gG]} * 1024)) ;;
*[mM]) mem=${mem%[mM]} ;;
esac
[[ "$mem" =~ ^[0-9]+$ ]] && [ "$mem" -ge 128 ] && [ "$mem" -le 2048 ] ||
	die "--mem must be 128..2048 MiB (or 1G, 2G): Bochs accepts at most 2048"
[[ "$smp" =~ ^[0-9]+$ ]] && [ "$smp" -ge 1 ] && [ "$smp" -le 8 ] || die "--smp must be 1..8"
tty=
if [ "$interactive" = 1 ]; then
	tty=$(tty 2>/dev/null) || die "--interactive needs a terminal on stdin"
fi
boot_mode=${NESTOR_BOCHS_BOOT:-auto}
case "$boot_mode" in auto|pvh|isolinux) ;; *) die "NESTOR_BOCHS_BOOT must be pvh or isolinux, not '$boot_mode'" ;; esac

mkdir -p "$(dirname "$results")" "$(dirname "$console")"
results=$(cd "$(dirname "$results")" && pwd)/$(basename "$results")
console=$(cd "$(dirname "$console")" && pwd)/$(basename "$console")
bochslog=${console%.*}.bochs.log
: >"$results"
: >"$console"
: >"$bochslog"

# Tools; installed only when missing (CI starts clean).
missing=()
command -v xorriso >/dev/null || missing+=(xorriso)
command -v readelf >/dev/null && command -v as >/dev/null && command -v ld >/dev/null || missing+=(binutils)
[ -f /usr/lib/ISOLINUX/isolinux.bin ] || missing+=(isolinux)
[ -f /usr/lib/syslinux/modules/bios/ldlinux.c32 ] || missing+=(syslinux-common)
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	{ apt-get install -y --no-install-recommends "${missing[@]}" ||
		{ apt-get update -qq && apt-get install -y --no-install-recommends "${missing[@]}"; }; } >&2 ||
		die "cannot install ${missing[*]}"
fi

if [ -n "${NESTOR_BOCHS:-}" ]; then
	bochs=$NESTOR_BOCHS
else
	bochs=$("$HERE/build-bochs.sh" | tail -n1) || die "build-bochs.sh failed"
fi
[ -x "$bochs" ] || die "bochs binary '$bochs' is not an executable"
# BIOS images: build-bochs.sh's share/, or bios/ when bochs is a source tree's.
bindir=$(cd "$(dirname "$bochs")" && pwd)
bios=$(ls "$bindir"/../share/bios.bin-* "$bindir"/bios/bios.bin-* 2>/dev/null | head -n1 || true)
vgabios=$(ls "$bindir"/../share/vgabios-cirrus.bin-* "$bindir"/bios/vgabios-cirrus.bin-* 2>/dev/null | head -n1 || true)
[ -n "$bios" ] && [ -n "$vgabios" ] || die "no BIOS images next to $bochs; remove $(dirname "$bindir") and rerun build-bochs.sh"

is_elf() { [ "$(head -c4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

# The kernel must match the initrd's modules (INITRD.kver).
vmlinux= vmlinuz=
if [ -n "$kernel" ]; then
	[ -f "$kernel" ] || die "kernel '$kernel' not found"
	if is_elf "$kernel"; then vmlinux=$kernel; else vmlinuz=$kernel; fi
elif [ -f "$initrd.kver" ]; then
	kver=$(cat "$initrd.kver")
	kboot=$NESTOR_CACHE/kernel/$kver/root/boot
	[ -f "$kboot/vmlinuz-$kver" ] ||
		die "initrd was built for $kver, but $kboot/vmlinuz-$kver is missing; run fetch-kernel.sh or rebuild the initrd"
	vmlinuz=$kboot/vmlinuz-$kver
	if [ -f "$kboot/vmlinux-$kver" ]; then vmlinux=$kboot/vmlinux-$kver; fi
else
	[ -x "$HERE/fetch-kernel.sh" ] || die "$HERE/fetch-kernel.sh is missing"
	kenv=$("$HERE/fetch-kernel.sh" --no-headers) || die "fetch-kernel.sh failed"
	vmlinuz=$(sed -n 's/^VMLINUZ=//p' <<<"$kenv")
	vmlinux=$(sed -n 's/^VMLINUX=//p' <<<"$kenv")
fi

# PVH entry: the Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY (type 0x12), 4 bytes LE.
pvh_entry=
if [ -n "$vmlinux" ] && [ "$boot_mode" != isolinux ]; then
	pvh_entry=$(readelf -nW "$vmlinux" 2>/dev/null | awk '
		$1 == "Xen" && /\(0x00000012\)/ {
			for (i = 1; i < NF; i++) if ($i == "data:") {
				printf "0x%s%s%s%s\n", $(i + 4), $(i + 3), $(i + 2), $(i + 1); exit
			}
		}')
fi
if [ -n "$pvh_entry" ]; then
	boot_mode=pvh
elif [ "$boot_mode" = pvh ]; then
	die "NESTOR_BOCHS_BOOT=pvh needs an uncompressed vmlinux with a PVH entry note (have '${vmlinux:-none}')"
elif [ -n "$vmlinuz" ]; then
	boot_mode=isolinux
	[ -f "$vmlinuz" ] || die "kernel image '$vmlinuz' not found"
	! is_elf "$vmlinuz" || die "$vmlinuz is not a bzImage"
else
	die "$vmlinux has no PVH entry note and no bzImage was given"
fi

# reboot=t: a reset becomes a triple fault, which ends Bochs (see bochsrc).
# 115200: Bochs times its UART by the baud rate in guest time, and at the
# default 9600 every console line costs L0 about 80 ms of busy-waiting.
cmdline="console=ttyS0,115200 panic_on_warn=1 panic=-1 quiet reboot=t${append:+ $append}"
[ "$interactive" = 0 ] || cmdline="$cmdline nestor.shell=1"
[ ${#cmdline} -lt 2000 ] || die "kernel command line too long (${#cmdline} bytes)"
case "$cmdline" in *$'\n'*) die "--append must be one line" ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/boot-bochs.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/iso"
optram=
if [ "$boot_mode" = pvh ]; then
	# Lay the kernel's loadable segments out flat from the lowest physical
	# address (16 MiB for Debian's kernel), zero-filled up to MemSiz.
	readelf -lW "$vmlinux" | awk '$1 == "LOAD" { print $2, $4, $5, $6 }' >"$work/loads"
	[ -s "$work/loads" ] || die "$vmlinux has no LOAD segments"
	kbase=
	while read -r off paddr filesz memsz; do
		[ -n "$kbase" ] && [ $((paddr)) -ge "$kbase" ] || kbase=$((paddr))
	done <"$work/loads"
	kend=0
	while read -r off paddr filesz memsz; do
		[ $((paddr)) -ge $((0x100000)) ] || die "$vmlinux loads below 1 MiB (at $paddr); cannot preload it"
		dd if="$vmlinux" of="$work/kernel.bin" bs=1M iflag=skip_bytes,count_bytes \
			oflag=seek_bytes conv=notrunc status=none \
			skip=$((off)) seek=$((paddr - kbase)) count=$((filesz)) ||
			die "cannot copy a segment of $vmlinux"
		e=$((paddr - kbase + memsz))
		[ "$e" -le "$kend" ] || kend=$e
	done <"$work/loads"
	truncate -s "$kend" "$work/kernel.bin"
	# The initrd goes 2 MiB-aligned after the kernel; the top of RAM stays
	# free for SeaBIOS's tables and the kernel's early allocations.
	isize=$(stat -c %s "$initrd")
	iaddr=$(((kbase + kend + 0x1fffff) & ~0x1fffff))
	[ $((iaddr + isize + (64 << 20))) -le $((mem << 20)) ] ||
		die "--mem $mem MiB is too small for the kernel ($((kend >> 20)) MiB at $((kbase >> 20)) MiB) and the initrd ($((isize >> 20)) MiB) plus 64 MiB"
	printf '%s' "$cmdline" >"$work/cmdline.bin"
	# Our boot sector: El Torito loads it at 0x7c00 in real mode. It copies
	# the BIOS E820 map (PVH Linux takes its memory map from hvm_start_info),
	# switches to 32-bit flat protected mode and enters the kernel's PVH
	# entry with %ebx = &hvm_start_info, which names the initrd and cmdline.
	cat >"$work/stub.S" <<'EOF'
	.set MEMMAP, 0x5000		# free low RAM, up to 128 entries
	.code16
	.globl _start
_start:	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $0x7c00, %sp
	ljmp $0, $1f			# CS:IP may be 07c0:0000
1:	movw $MEMMAP, %di
	xorl %ebx, %ebx
	xorw %bp, %bp
2:	movl $0, 20(%di)		# 20-byte answers leave this alone
	movl $0xe820, %eax
	movl $24, %ecx
	movl $0x534d4150, %edx		# "SMAP"
	int $0x15
	jc 3f
	cmpl $0x534d4150, %eax
	jne 3f
	addw $24, %di
	incw %bp
	cmpw $128, %bp
	jae 3f
	testl %ebx, %ebx
	jnz 2b
3:	movw %bp, start_info + 48	# memmap_entries
	inb $0x92, %al			# fast A20
	orb $2, %al
	andb $0xfe, %al
	outb %al, $0x92
	lgdtl gdtr
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $pm32
	.code32
pm32:	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $start_info, %ebx
	movl $PVH_ENTRY, %eax
	jmp *%eax

	.balign 8
gdt:	.quad 0
	.quad 0x00cf9a000000ffff	# 0x08: flat 32-bit code
	.quad 0x00cf92000000ffff	# 0x10: flat data
gdtr:	.word gdtr - gdt - 1
	.long gdt
	.balign 8
start_info:				# struct hvm_start_info, version 1
	.long 0x336ec578, 1, 0, 1	# magic, version, flags, nr_modules
	.long modlist, 0
	.long cmdline, 0
	.quad 0				# rsdp_paddr: Linux scans the BIOS area
	.quad MEMMAP
	.long 0, 0			# memmap_entries (set above), reserved
modlist:				# struct hvm_modlist_entry: the initrd
	.quad INITRD_ADDR, INITRD_SIZE, 0, 0
cmdline:
	.incbin "cmdline.bin"
	.byte 0
EOF
	as --32 -I "$work" --defsym PVH_ENTRY="$pvh_entry" --defsym INITRD_ADDR="$iaddr" \
		--defsym INITRD_SIZE="$isize" -o "$work/stub.o" "$work/stub.S" 2>"$work/as.log" ||
		die "assembling the boot sector failed: $(head -n3 "$work/as.log")"
	ld -m elf_i386 -Ttext=0x7c00 -e _start --oformat=binary -o "$work/iso/boot.bin" "$work/stub.o" ||
		die "linking the boot sector failed"
	[ "$(stat -c %s "$work/iso/boot.bin")" -le 4096 ] || die "boot sector over 4 KiB"
	truncate -s 4096 "$work/iso/boot.bin"
	xorriso -as mkisofs -quiet -o "$work/l0.iso" -b boot.bin -no-emul-boot \
		-boot-load-size 8 "$work/iso" >"$work/xorriso.log" 2>&1 ||
		die "xorriso failed: $(tail -n3 "$work/xorriso.log")"
	optram="optramimage1: file=\"$work/kernel.bin\", address=$(printf '0x%x' "$kbase")
optramimage2: file=\"$initrd\", address=$(printf '0x%x' "$iaddr")"
else
	mkdir -p "$work/iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$work/iso/isolinux/"
	cp "$vmlinuz" "$work/iso/vmlinuz"
	cp "$initrd" "$work/iso/initrd"
	cat >"$work/iso/isolinux/isolinux.cfg" <<EOF
DEFAULT l0
PROMPT 0
TIMEOUT 0
LABEL l0
  KERNEL /vmlinuz
  APPEND initrd=/initrd $cmdline
EOF
	xorriso -as mkisofs -quiet -R -o "$work/l0.iso" -b isolinux/isolinux.bin \
		-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
		"$work/iso" >"$work/xorriso.log" 2>&1 || die "xorriso failed: $(tail -n3 "$work/xorriso.log")"
fi
rm -rf "$work/iso"

# MSRs Bochs does not implement but L0 reads all the time: APERF/MPERF at
# every tick (the CPU model advertises them), DEBUGCTL around VM entries.
# Unknown MSRs already read as 0 (ignore_bad_msrs), but each access logs an
# error; defining them as 0 with writes ignored just stops the log flood.
cat >"$work/msrs" <<EOF
0x0e7 0 00000000 00000000 00000000 00000000 ffffffff ffffffff # IA32_MPERF
0x0e8 0 00000000 00000000 00000000 00000000 ffffffff ffffffff # IA32_APERF
0x1d9 0 00000000 00000000 00000000 00000000 ffffffff ffffffff # IA32_DEBUGCTL
EOF

# clock sync=none: guest time follows executed instructions, so a slow host
# slows L0's clock instead of firing its watchdogs. reset_on_triple_fault=0
# with panic action=fatal makes a triple fault end Bochs. ACPI poweroff ends
# Bochs by itself ("soft power off").
if [ -n "$tty" ]; then com1="mode=term, dev=\"$tty\""; else com1="mode=file, dev=\"$console\""; fi
cat >"$work/bochsrc" <<EOF
display_library: nogui
cpu: model=corei7_haswell_4770, count=$smp, ips=100000000, reset_on_triple_fault=0, msrs="$work/msrs"
memory: guest=$mem, host=$mem
romimage: file="$bios"
vgaromimage: file="$vgabios"
$optram
pci: enabled=1, chipset=i440fx
ata0: enabled=1
ata0-master: type=cdrom, path="$work/l0.iso", status=inserted
boot: cdrom
clock: sync=none, time0=local
com1: enabled=1, $com1
com2: enabled=1, mode=file, dev="$results"
mouse: enabled=0
log: "$bochslog"
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
EOF

start=$(date +%s)
log "booting L0 ($boot_mode, ${mem} MiB, $smp CPU, timeout ${timeout_s} s); console $console"
# The outer timeout is a backstop; the loop below normally stops Bochs first.
# --foreground when interactive: in timeout's own process group Bochs would
# be stopped (SIGTTOU) as soon as it sets up the terminal.
fg=()
[ -z "$tty" ] || fg=(--foreground)
timeout "${fg[@]}" --kill-after=10 $((timeout_s + 30)) "$bochs" -q -f "$work/bochsrc" \
	</dev/null >"$work/bochs.out" 2>&1 &
pid=$!

done_at= stop_reason= bochs_rc=
while :; do
	now=$(date +%s)
	if ! kill -0 "$pid" 2>/dev/null; then
		set +e; wait "$pid"; bochs_rc=$?; set -e
		pid=
		break
	fi
	if [ -z "$done_at" ] && grep -q '^# harness-done' "$results"; then
		done_at=$now
	fi
	if [ -n "$done_at" ] && [ $((now - done_at)) -ge 30 ]; then
		stop_reason="L0 wrote # harness-done but did not power off within 30 s"
	elif [ "$(grep -c 'bx_pc_system_c::Reset(' "$bochslog")" -gt 1 ]; then
		# The first reset is Bochs's power-on; another one is L0 rebooting.
		stop_reason="L0 reset (rebooted) instead of powering off"
	elif [ $((now - start)) -ge "$timeout_s" ]; then
		stop_reason="timeout: no power-off after ${timeout_s} s"
	fi
	if [ -n "$stop_reason" ]; then
		log "$stop_reason; stopping Bochs"
		kill "$pid" 2>/dev/null || true
		set +e; wait "$pid"; bochs_rc=$?; set -e
		pid=
		break
	fi
	sleep 0.5
done
elapsed=$(($(date +%s) - start))

if [ -z "$stop_reason" ]; then
	if grep -q 'ACPI control: soft power off' "$bochslog"; then
		stop_reason="L0 powered off"
	elif grep -q '3rd (.*) exception with no resolution' "$bochslog"; then
		stop_reason="L0 triple-faulted (its reboot, e.g. after a panic)"
	else
		stop_reason="Bochs exited with status $bochs_rc"
	fi
fi

panic=$(grep -m1 'Kernel panic - not syncing' "$console" | tr -d '\r' | cut -c1-200 || true)
if grep -q '^# harness-done' "$results" && [ -z "$panic" ]; then
	log "vmx: harness done in ${elapsed}s, $stop_reason (results: $results)"
	exit 0
fi

# Bochs's own fatal errors other than the power-off point at emulator bugs.
bx_panic=$(grep '>>PANIC<<' "$bochslog" | grep -v 'soft power off' | head -n1 | sed 's/.*>>PANIC<< *//' | cut -c1-200 || true)
if [ -n "$panic" ]; then
	reason="kernel panic: $panic"
elif [ -n "$bx_panic" ] && [[ "$stop_reason" != timeout* ]]; then
	reason="$stop_reason; bochs: $bx_panic"
else
	reason=$stop_reason
fi
grep -q '^# harness-done' "$results" || reason="$reason, before harness-done"
log "vmx: FAILED after ${elapsed}s: $reason"
grep -i 'error\|fatal' "$work/bochs.out" | head -n5 | sed 's/^/boot-bochs: bochs: /' >&2 || true
log "last console lines ($console; Bochs log $bochslog):"
tail -n 30 "$console" | tr -d '\r' | sed 's/^/    /' >&2
# L0 may have died mid-line; the reason must start a line of its own.
[ ! -s "$results" ] || [ -z "$(tail -c1 "$results")" ] || echo >>"$results"
echo "# harness-fail: $reason" >>"$results"
exit 1
