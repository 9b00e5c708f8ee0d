// SPDX-License-Identifier: GPL-2.0
/*
 * VMX and SVM exit decoding.  Field layouts are the architectural ones:
 * Intel SDM vol. 3, table 28-5 (I/O exit qualification) and AMD APM vol. 2,
 * figure 15-2 (IOIO EXITINFO1).
 */
#include "exit_decode.h"
#include <uapi/linux/nestor.h>

/* VMX exit reason: bits 15:0 are the basic reason, bit 31 entry failure. */
#define VMX_BASIC_REASON(r)	((r) & 0xffff)
#define VMX_ENTRY_FAILURE	BIT(31)

/* VMX I/O exit qualification. */
#define VMX_IO_SIZE_MASK	0x7	/* size - 1: 0, 1 or 3 */
#define VMX_IO_IN		BIT(3)
#define VMX_IO_STRING		BIT(4)
#define VMX_IO_REP		BIT(5)
#define VMX_IO_PORT_SHIFT	16

/* SVM IOIO EXITINFO1. */
#define SVM_IO_IN		BIT(0)
#define SVM_IO_STRING		BIT(2)
#define SVM_IO_REP		BIT(3)
#define SVM_IO_SZ8		BIT(4)
#define SVM_IO_SZ16		BIT(5)
#define SVM_IO_SZ32		BIT(6)
#define SVM_IO_PORT_SHIFT	16

enum nestor_exit_kind nestor_exit_kind_of(u32 isa, u32 reason)
{
	if (isa == NESTOR_BACKEND_VMX) {
		if (reason & VMX_ENTRY_FAILURE)
			return NESTOR_EXIT_OTHER;
		switch (VMX_BASIC_REASON(reason)) {
		case NESTOR_VMX_EXIT_VMCALL:
			return NESTOR_EXIT_HYPERCALL;
		case NESTOR_VMX_EXIT_IO:
			return NESTOR_EXIT_IO;
		}
	} else if (isa == NESTOR_BACKEND_SVM) {
		switch (reason) {
		case NESTOR_SVM_EXIT_VMMCALL:
			return NESTOR_EXIT_HYPERCALL;
		case NESTOR_SVM_EXIT_IOIO:
			return NESTOR_EXIT_IO;
		}
	}
	return NESTOR_EXIT_OTHER;
}

static int decode_vmx_io(u64 qual, struct nestor_exit *out)
{
	switch (qual & VMX_IO_SIZE_MASK) {
	case 0:
		out->size = 1;
		break;
	case 1:
		out->size = 2;
		break;
	case 3:
		out->size = 4;
		break;
	default:
		return -1;
	}
	out->in = qual & VMX_IO_IN;
	out->string = qual & VMX_IO_STRING;
	out->rep = qual & VMX_IO_REP;
	out->port = (u16)(qual >> VMX_IO_PORT_SHIFT);
	return 0;
}

static int decode_svm_io(u64 info1, struct nestor_exit *out)
{
	/* Exactly one size bit is set by the CPU. */
	switch (info1 & (SVM_IO_SZ8 | SVM_IO_SZ16 | SVM_IO_SZ32)) {
	case SVM_IO_SZ8:
		out->size = 1;
		break;
	case SVM_IO_SZ16:
		out->size = 2;
		break;
	case SVM_IO_SZ32:
		out->size = 4;
		break;
	default:
		return -1;
	}
	out->in = info1 & SVM_IO_IN;
	out->string = info1 & SVM_IO_STRING;
	out->rep = info1 & SVM_IO_REP;
	out->port = (u16)(info1 >> SVM_IO_PORT_SHIFT);
	return 0;
}

int nestor_decode_exit(const struct nestor_exit_raw *raw,
		       struct nestor_exit *out)
{
	*out = (struct nestor_exit){ 0 };
	out->kind = nestor_exit_kind_of(raw->isa, raw->reason);
	out->reason = raw->isa == NESTOR_BACKEND_VMX ?
		VMX_BASIC_REASON(raw->reason) : raw->reason;

	switch (out->kind) {
	case NESTOR_EXIT_HYPERCALL:
		out->leaf = raw->rax;
		return 0;
	case NESTOR_EXIT_IO:
		if (raw->isa == NESTOR_BACKEND_VMX)
			return decode_vmx_io(raw->info1, out);
		return decode_svm_io(raw->info1, out);
	default:
		return 0;
	}
}
