#!/bin/bash
# Extracts the BTF of the Debian kernel the emulated L0 boots (vmlinux and
# the KVM modules) into DIR for test_btf_reader, and bpftool's view of the
# offsets nestor reads, as an independent answer.  usage: prepare-btf.sh DIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$1
mkdir -p "$dir"
eval "$("$HERE/../harness/fetch-kernel.sh")"
for t in objcopy bpftool; do
	command -v $t >/dev/null || apt-get install -y --no-install-recommends \
		"$([[ $t == objcopy ]] && echo binutils || echo bpftool)" >/dev/null
done

[[ -n ${VMLINUX:-} && -f $VMLINUX ]] || { echo "prepare-btf: no uncompressed vmlinux from fetch-kernel.sh" >&2; exit 1; }
objcopy --dump-section .BTF="$dir/vmlinux.btf" "$VMLINUX" /dev/null
mods=$KROOT/lib/modules/$KVER/kernel/arch/x86/kvm
for m in kvm kvm-amd kvm-intel; do
	ko=$mods/$m.ko
	[[ -f $ko ]] || ko=$(ls "$mods/$m.ko"* | head -1)
	case $ko in
	*.xz) xz -dc "$ko" >"$dir/$m.ko" ;;
	*.zst) zstd -dcq "$ko" >"$dir/$m.ko" ;;
	*) cp "$ko" "$dir/$m.ko" ;;
	esac
	objcopy --dump-section .BTF="$dir/${m//-/_}.btf" "$dir/$m.ko" /dev/null
done

# bpftool prints members as "'name' type_id=N bits_offset=B".
offset() { # module struct member
	bpftool -B "$dir/vmlinux.btf" btf dump file "$dir/$1.btf" format raw |
		awk -v s="'$2'" -v m="'$3'" '
			$1 ~ /^\[/ { in_s = ($2 == "STRUCT" && $3 == s) ; next }
			in_s && $1 == m { split($3, b, "="); print b[2] / 8; exit }'
}
{
	echo "vcpu_svm.vmcb=$(offset kvm_amd vcpu_svm vmcb)"
	echo "vcpu_svm.next_rip=$(offset kvm_amd vcpu_svm next_rip)"
	echo "vcpu_vmx.fail=$(offset kvm_intel vcpu_vmx fail)"
} >"$dir/expected-offsets"
cat "$dir/expected-offsets" >&2

# For test_profile (nestorctl profile): the vmlinux itself, and bpftool's
# offsets of the members a profile holds.
ln -sf "$VMLINUX" "$dir/vmlinux"
voffset() { # struct member
	bpftool btf dump file "$dir/vmlinux.btf" format raw |
		awk -v s="'$1'" -v m="'$2'" '
			$1 ~ /^\[/ { in_s = ($2 == "STRUCT" && $3 == s) ; next }
			in_s && $1 == m { split($3, b, "="); print b[2] / 8; exit }'
}
{
	for m in tasks pid tgid comm real_parent cred mm; do
		echo "task_struct.$m=$(voffset task_struct $m)"
	done
	echo "cred.uid=$(voffset cred uid)"
} >"$dir/expected-profile"
