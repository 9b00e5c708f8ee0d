// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VMX backend.  Exit information comes from VMREAD on the current
 * VMCS: at both places nestor runs (the kvm_nested_vmexit tracepoint and
 * the entry of nested_vmx_reflect_vmexit()) that is L0's vmcs02 for the
 * exiting L2, loaded on this CPU.
 */
#include <linux/kernel.h>
#include <asm/vmx.h>

#include "nestor.h"

/* Offset of vcpu_vmx.fail, from BTF: set when VM-entry itself failed. */
static u32 vmx_fail_offset;
/* Whether L0 runs L2 with EPT (vmcs02 then holds L2's own CR3). */
static int vmx_l0_ept = -1;

static __always_inline unsigned long nestor_vmread(unsigned long field)
{
	unsigned long value;

	asm volatile("vmread %1, %0" : "=rm"(value) : "r"(field) : "cc");
	return value;
}

static int vmx_init(void)
{
	static const char *const reflect_params[] = { "struct kvm_vcpu *" };
	u32 off;
	int err;

	err = nestor_layout_check_func("kvm_intel", "nested_vmx_reflect_vmexit",
				       "bool", 1, reflect_params);
	if (err)
		return err;
	/* to_vmx() is a container_of: vcpu must come first. */
	err = nestor_layout_member_offset("kvm_intel", "vcpu_vmx", "vcpu",
					  &off);
	if (err)
		return err;
	if (off) {
		pr_err("nestor: kvm_intel: vcpu_vmx.vcpu is at %u, expected 0\n",
		       off);
		return -EINVAL;
	}
	return nestor_layout_member_offset("kvm_intel", "vcpu_vmx", "fail",
					   &vmx_fail_offset);
}

static u32 vmx_exit_reason(struct kvm_vcpu *vcpu)
{
	/*
	 * After a failed VM-entry the VMCS exit fields are stale: report an
	 * entry failure, which no claim matches.
	 */
	if (*((u8 *)vcpu + vmx_fail_offset))
		return VMX_EXIT_REASONS_FAILED_VMENTRY;
	return nestor_vmread(VM_EXIT_REASON);
}

static void vmx_exit_raw(struct kvm_vcpu *vcpu, struct nestor_exit_raw *raw)
{
	raw->isa = NESTOR_BACKEND_VMX;
	raw->reason = vmx_exit_reason(vcpu);
	raw->info1 = nestor_vmread(EXIT_QUALIFICATION);
	raw->info2 = 0;
	raw->rax = vcpu->arch.regs[VCPU_REGS_RAX];
}

static u64 vmx_guest_cr3(struct kvm_vcpu *vcpu)
{
	if (vmx_l0_ept < 0) {
		u32 primary = nestor_vmread(CPU_BASED_VM_EXEC_CONTROL);
		u32 secondary = 0;

		if (primary & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
			secondary = nestor_vmread(SECONDARY_VM_EXEC_CONTROL);
		vmx_l0_ept = !!(secondary & SECONDARY_EXEC_ENABLE_EPT);
	}
	/* Without EPT, GUEST_CR3 is L0's shadow root; KVM keeps L2's. */
	if (vmx_l0_ept)
		return nestor_vmread(GUEST_CR3);
	return vcpu->arch.cr3;
}

static int vmx_guest_cpl(struct kvm_vcpu *vcpu)
{
	/* SS.DPL is the CPL in VMX guest state (KVM's vmx_get_cpl()). */
	return (nestor_vmread(GUEST_SS_AR_BYTES) >> 5) & 3;
}

const struct nestor_arch_ops nestor_vmx_ops = {
	.name = "vmx",
	.isa = NESTOR_BACKEND_VMX,
	.module = "kvm_intel",
	.divert_symbol = "nested_vmx_reflect_vmexit",
	/* Its only caller is __vmx_handle_exit(), a real exit. */
	.exit_caller_symbol = NULL,
	/* The tracepoint is inside the hooked function, after our entry. */
	.exit_traced_before_divert = false,
	.init = vmx_init,
	.exit_reason = vmx_exit_reason,
	.exit_raw = vmx_exit_raw,
	.guest_cr3 = vmx_guest_cr3,
	.guest_cpl = vmx_guest_cpl,
	/* No io_next_rip: KVM's skip reads the VM-exit instruction length. */
};
