// SPDX-License-Identifier: GPL-2.0
/*
 * kmod/exit_decode.c in userspace: synthetic exits built field by field
 * from the SDM/APM layouts, and exits recorded in the emulated L0s
 * (recorded_exits.h).
 */
#include <string.h>
#include "../../kmod/exit_decode.h"
#include "../../uapi/linux/nestor.h"
#include "tap.h"
#include "recorded_exits.h"

/* SDM table 28-5: size-1 in 2:0, IN in 3, string 4, REP 5, port 31:16. */
static u64 vmx_io_qual(unsigned int port, unsigned int size, int in,
		       int string, int rep)
{
	return (u64)port << 16 | (u64)(size - 1) | (u64)in << 3 |
	       (u64)string << 4 | (u64)rep << 5;
}

/* APM figure 15-2: TYPE 0, STR 2, REP 3, SZ8/16/32 4-6, A64 9, port. */
static u64 svm_io_info1(unsigned int port, unsigned int size, int in,
			int string, int rep)
{
	u64 sz = size == 1 ? 1 << 4 : size == 2 ? 1 << 5 : 1 << 6;

	return (u64)port << 16 | sz | 1 << 9 | (u64)in | (u64)string << 2 |
	       (u64)rep << 3;
}

static void check_io(u32 isa, u32 reason, u64 info1, unsigned int port,
		     unsigned int size, int in, int string, int rep)
{
	struct nestor_exit_raw raw = { .isa = isa, .reason = reason,
				       .info1 = info1 };
	struct nestor_exit e;
	int err = nestor_decode_exit(&raw, &e);

	TAP_OK(!err && e.kind == NESTOR_EXIT_IO && e.port == port &&
	       e.size == size && e.in == in && e.string == string &&
	       e.rep == rep,
	       "%s io port %#x size %u %s%s%s", isa == NESTOR_BACKEND_VMX ?
	       "vmx" : "svm", port, size, in ? "in" : "out",
	       string ? " string" : "", rep ? " rep" : "");
}

static void synthetic(void)
{
	static const unsigned int ports[] = { 0, 0x80, 0x3f8, 0x3ff, 0xffff };
	static const unsigned int sizes[] = { 1, 2, 4 };
	struct nestor_exit_raw raw;
	struct nestor_exit e;
	unsigned int p, s;

	for (p = 0; p < sizeof(ports) / sizeof(ports[0]); p++) {
		for (s = 0; s < 3; s++) {
			check_io(NESTOR_BACKEND_VMX, NESTOR_VMX_EXIT_IO,
				 vmx_io_qual(ports[p], sizes[s], p & 1, 0, 0),
				 ports[p], sizes[s], p & 1, 0, 0);
			check_io(NESTOR_BACKEND_SVM, NESTOR_SVM_EXIT_IOIO,
				 svm_io_info1(ports[p], sizes[s], !(p & 1), 0, 0),
				 ports[p], sizes[s], !(p & 1), 0, 0);
		}
	}
	check_io(NESTOR_BACKEND_VMX, NESTOR_VMX_EXIT_IO,
		 vmx_io_qual(0x3f8, 1, 0, 1, 1), 0x3f8, 1, 0, 1, 1);
	check_io(NESTOR_BACKEND_SVM, NESTOR_SVM_EXIT_IOIO,
		 svm_io_info1(0x3f8, 1, 1, 1, 1), 0x3f8, 1, 1, 1, 1);

	/* Hypercalls carry RAX as the leaf. */
	raw = (struct nestor_exit_raw){ NESTOR_BACKEND_VMX,
					NESTOR_VMX_EXIT_VMCALL, 0, 0,
					NESTOR_HC_LEAF };
	TAP_OK(!nestor_decode_exit(&raw, &e) &&
	       e.kind == NESTOR_EXIT_HYPERCALL && e.leaf == NESTOR_HC_LEAF &&
	       e.reason == NESTOR_VMX_EXIT_VMCALL, "vmx vmcall leaf");
	raw = (struct nestor_exit_raw){ NESTOR_BACKEND_SVM,
					NESTOR_SVM_EXIT_VMMCALL, 0, 0, 0x1234 };
	TAP_OK(!nestor_decode_exit(&raw, &e) &&
	       e.kind == NESTOR_EXIT_HYPERCALL && e.leaf == 0x1234,
	       "svm vmmcall leaf");

	/* The same numbers mean other things on the other ISA. */
	TAP_OK(nestor_exit_kind_of(NESTOR_BACKEND_SVM, 18) ==
	       NESTOR_EXIT_OTHER, "svm exit 0x12 (CR2 write) is not a hypercall");
	TAP_OK(nestor_exit_kind_of(NESTOR_BACKEND_VMX, 0x81) ==
	       NESTOR_EXIT_OTHER, "vmx reason 0x81 is not a hypercall");
	TAP_OK(nestor_exit_kind_of(NESTOR_BACKEND_NONE, 18) ==
	       NESTOR_EXIT_OTHER, "no backend: nothing is claimed");

	/* A failed VM-entry (bit 31) never decodes as its basic reason. */
	TAP_OK(nestor_exit_kind_of(NESTOR_BACKEND_VMX,
				   0x80000000u | NESTOR_VMX_EXIT_VMCALL) ==
	       NESTOR_EXIT_OTHER, "vmx entry failure is not a vmcall");
	/* Upper bits other than 31 (e.g. bit 27, enclave) keep the basic. */
	raw = (struct nestor_exit_raw){ NESTOR_BACKEND_VMX,
					(1u << 27) | NESTOR_VMX_EXIT_IO,
					vmx_io_qual(0x80, 1, 0, 0, 0), 0, 0 };
	TAP_OK(!nestor_decode_exit(&raw, &e) && e.kind == NESTOR_EXIT_IO &&
	       e.reason == NESTOR_VMX_EXIT_IO, "vmx reason keeps basic 15:0");

	/* Malformed sizes are refused, not guessed. */
	raw = (struct nestor_exit_raw){ NESTOR_BACKEND_VMX, NESTOR_VMX_EXIT_IO,
					0x80 << 16 | 2, 0, 0 };
	TAP_OK(nestor_decode_exit(&raw, &e) == -1, "vmx io size 3 refused");
	raw = (struct nestor_exit_raw){ NESTOR_BACKEND_SVM,
					NESTOR_SVM_EXIT_IOIO,
					0x80 << 16 | 3 << 4, 0, 0 };
	TAP_OK(nestor_decode_exit(&raw, &e) == -1,
	       "svm io with two size bits refused");
	raw.info1 = 0x80 << 16;
	TAP_OK(nestor_decode_exit(&raw, &e) == -1,
	       "svm io without size bit refused");

	/* Other exits decode to OTHER with their reason. */
	raw = (struct nestor_exit_raw){ NESTOR_BACKEND_SVM, 0x400, 0, 0, 0 };
	TAP_OK(!nestor_decode_exit(&raw, &e) && e.kind == NESTOR_EXIT_OTHER &&
	       e.reason == 0x400, "svm npf is other");
}

static void recorded(void)
{
	size_t i;

	for (i = 0; i < sizeof(recorded_exits) / sizeof(recorded_exits[0]);
	     i++) {
		const struct recorded_exit *r = &recorded_exits[i];
		struct nestor_exit e;
		int err = nestor_decode_exit(&r->raw, &e);

		TAP_OK(!err && e.kind == r->kind &&
		       (r->kind != NESTOR_EXIT_IO ||
			(e.port == r->port && e.size == r->size &&
			 e.in == r->in && !e.string && !e.rep)),
		       "recorded: %s", r->what);
	}
}

int main(void)
{
	synthetic();
	recorded();
	return tap_done();
}
