/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decoding of VMX and SVM exit information into what nestor's claims match
 * on.  Pure functions: built into the module and into the userspace unit
 * tests (selftests/unit), which feed them recorded and synthetic exits.
 */
#ifndef NESTOR_EXIT_DECODE_H
#define NESTOR_EXIT_DECODE_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/types.h>
#else
/* Userspace unit tests: selftests/unit/kernel_types.h */
#include "kernel_types.h"
#endif

/* Architectural exit codes this file needs (SDM Appendix C, APM 15.9). */
#define NESTOR_VMX_EXIT_VMCALL		18
#define NESTOR_VMX_EXIT_IO		30
#define NESTOR_SVM_EXIT_IOIO		0x07b
#define NESTOR_SVM_EXIT_VMMCALL		0x081

enum nestor_exit_kind {
	NESTOR_EXIT_OTHER,
	NESTOR_EXIT_HYPERCALL,
	NESTOR_EXIT_IO,
	NESTOR_EXIT_KINDS,
};

/* What the backend read from the VMCS/VMCB and the vCPU's registers. */
struct nestor_exit_raw {
	u32 isa;		/* enum nestor_backend */
	u32 reason;		/* VMX exit reason (full) or SVM exit code */
	u64 info1;		/* VMX exit qualification, SVM EXITINFO1 */
	u64 info2;		/* SVM EXITINFO2 (next RIP for IOIO) */
	u64 rax;
};

struct nestor_exit {
	enum nestor_exit_kind kind;
	u32 reason;		/* basic reason / exit code */
	/* NESTOR_EXIT_IO */
	u16 port;
	u8 size;		/* 1, 2 or 4 bytes */
	bool in;
	bool string;
	bool rep;
	/* NESTOR_EXIT_HYPERCALL */
	u64 leaf;
};

/* Kind of an exit from its reason alone: the cheap check on every exit. */
enum nestor_exit_kind nestor_exit_kind_of(u32 isa, u32 reason);
/* Full decode; returns 0, or -1 when the raw data is malformed. */
int nestor_decode_exit(const struct nestor_exit_raw *raw,
		       struct nestor_exit *out);

#endif /* NESTOR_EXIT_DECODE_H */
