// SPDX-License-Identifier: GPL-2.0
/*
 * AMD SVM backend.  Exit information is in the VMCB (vmcb02 while L2 runs),
 * whose layout is architectural and public (asm/svm.h); only the place of
 * the VMCB pointer inside KVM's private struct vcpu_svm comes from BTF.
 */
#include <linux/kernel.h>
#include <asm/svm.h>

#include "nestor.h"

static u32 svm_vmcb_offset;
/*
 * vcpu_svm.next_rip: when non-zero, KVM's __svm_skip_emulated_instruction()
 * writes it to RIP instead of decoding the instruction (no NRIPS).
 */
static u32 svm_next_rip_offset;

static struct vmcb *svm_vmcb(struct kvm_vcpu *vcpu)
{
	return *(struct vmcb **)((u8 *)vcpu + svm_vmcb_offset);
}

static int svm_init(void)
{
	static const char *const handled_params[] = { "struct vcpu_svm *" };
	u32 off;
	int err;

	err = nestor_layout_check_func("kvm_amd", "nested_svm_exit_handled",
				       "s32", 1, handled_params);
	if (err)
		return err;
	/* to_svm() is a container_of: vcpu must come first. */
	err = nestor_layout_member_offset("kvm_amd", "vcpu_svm", "vcpu", &off);
	if (err)
		return err;
	if (off) {
		pr_err("nestor: kvm_amd: vcpu_svm.vcpu is at %u, expected 0\n",
		       off);
		return -EINVAL;
	}
	err = nestor_layout_member_typed("kvm_amd", "vcpu_svm", "vmcb",
					 "struct vmcb *", &svm_vmcb_offset);
	if (err)
		return err;
	return nestor_layout_member_typed("kvm_amd", "vcpu_svm", "next_rip",
					  "u64", &svm_next_rip_offset);
}

static u32 svm_exit_reason(struct kvm_vcpu *vcpu)
{
	return svm_vmcb(vcpu)->control.exit_code;
}

static void svm_exit_raw(struct kvm_vcpu *vcpu, struct nestor_exit_raw *raw)
{
	struct vmcb *vmcb = svm_vmcb(vcpu);

	raw->isa = NESTOR_BACKEND_SVM;
	raw->reason = vmcb->control.exit_code;
	raw->info1 = vmcb->control.exit_info_1;
	raw->info2 = vmcb->control.exit_info_2;
	/* KVM copies the VMCB's RAX into regs[] after every VMRUN. */
	raw->rax = vcpu->arch.regs[VCPU_REGS_RAX];
}

static u64 svm_guest_cr3(struct kvm_vcpu *vcpu)
{
	/*
	 * svm_handle_exit() refreshes arch.cr3 from the VMCB with NPT, before
	 * the nested-exit tracepoint; without NPT, CR3 writes exit anyway.
	 */
	return vcpu->arch.cr3;
}

static int svm_guest_cpl(struct kvm_vcpu *vcpu)
{
	/* The VMCB's CPL field, as KVM's own svm_get_cpl() reads it. */
	return svm_vmcb(vcpu)->save.cpl;
}

/*
 * For IOIO, EXITINFO2 is the RIP of the next instruction (AMD APM vol. 2,
 * IOIO intercept), and KVM's own io_interception() hands it to the skip the
 * same way.  Without NRIPS (TCG has none) KVM would otherwise walk L2's page
 * tables, fetch and decode the IN/OUT again on every exit nestor completes.
 * KVM zeroes svm->next_rip after every VMRUN, so the value set here serves
 * this exit's skip only.
 */
static void svm_io_next_rip(struct kvm_vcpu *vcpu)
{
	struct vmcb *vmcb = svm_vmcb(vcpu);
	u64 next = vmcb->control.exit_info_2;

	if (vmcb->control.exit_code != SVM_EXIT_IOIO ||
	    (vmcb->control.exit_info_1 & SVM_IOIO_STR_MASK))
		return;
	/* Not 1 to 15 bytes further (wrapped RIP?): let KVM decode. */
	if (next - vmcb->save.rip - 1 >= 15)
		return;
	*(u64 *)((u8 *)vcpu + svm_next_rip_offset) = next;
}

const struct nestor_arch_ops nestor_svm_ops = {
	.name = "svm",
	.isa = NESTOR_BACKEND_SVM,
	.module = "kvm_amd",
	.divert_symbol = "nested_svm_exit_handled",
	/*
	 * Also called by svm_check_intercept() (the emulator) and the
	 * selective-CR0 check, which are not exits: only this caller is.
	 */
	.exit_caller_symbol = "svm_handle_exit",
	.exit_traced_before_divert = true,
	.init = svm_init,
	.exit_reason = svm_exit_reason,
	.exit_raw = svm_exit_raw,
	.guest_cr3 = svm_guest_cr3,
	.guest_cpl = svm_guest_cpl,
	.io_next_rip = svm_io_next_rip,
};
