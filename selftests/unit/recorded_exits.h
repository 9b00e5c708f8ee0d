/* SPDX-License-Identifier: GPL-2.0 */
/*
 * L2 exits recorded in the emulated L0s (Debian 6.1.0-56 kernel) from KVM's
 * kvm_nested_vmexit tracepoint while selftests/nested/nested_l2 ran its L2s
 * (2026-11-22): `outb %al, $0x80` and VMCALL/VMMCALL.  SVM is QEMU 7.2 TCG
 * with -cpu EPYC (which sets no address-size bit in EXITINFO1), VMX is
 * Bochs 3.0 built with VMX.  The tracepoint does not show RAX, so the
 * hypercall leaf is not part of the record.
 */
#ifndef NESTOR_UNIT_RECORDED_EXITS_H
#define NESTOR_UNIT_RECORDED_EXITS_H

struct recorded_exit {
	const char *what;
	struct nestor_exit_raw raw;
	enum nestor_exit_kind kind;
	u16 port;
	u8 size;
	bool in;
};

static const struct recorded_exit recorded_exits[] = {
	{ "svm (QEMU TCG) outb 0x80: io info1 0x800010 info2 0x40450d",
	  { NESTOR_BACKEND_SVM, 0x07b, 0x800010, 0x40450d, 0 },
	  NESTOR_EXIT_IO, 0x80, 1, false },
	{ "svm (QEMU TCG) vmmcall: hypercall info1 0 info2 0",
	  { NESTOR_BACKEND_SVM, 0x081, 0, 0, 0 },
	  NESTOR_EXIT_HYPERCALL, 0, 0, false },
	{ "vmx (Bochs) outb 0x80: IO_INSTRUCTION qualification 0x800000",
	  { NESTOR_BACKEND_VMX, 30, 0x800000, 0, 0 },
	  NESTOR_EXIT_IO, 0x80, 1, false },
	{ "vmx (Bochs) vmcall: VMCALL qualification 0",
	  { NESTOR_BACKEND_VMX, 18, 0, 0, 0 },
	  NESTOR_EXIT_HYPERCALL, 0, 0, false },
};

#endif
