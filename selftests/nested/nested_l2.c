// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested_l2: two L2 guests under a tiny L1 hypervisor, checked against
 * nestor's registry and exit statistics.
 *
 * Runs as root in L0 (an emulated host with /dev/kvm, nested=1 and nestor
 * loaded) and prints TAP. Built against KVM's own selftest library (see
 * build-kvm-selftest-lib.sh): the host side creates the L1 VM with it, and
 * L1's guest code uses its SVM/VMX helpers.
 *
 * L1 (guest code below, CPL0 in a KVM VM) runs two L2s, A and B, on vCPU 0,
 * alternating between them at every exit it sees. Each L2 has
 *   - its own vmcb12 (SVM) or vmcs12 (VMX) page,
 *   - its own nested page tables (NPT built here; EPT through the library's
 *     nested_map with a root per L2), in pages of their own, that
 *     identity-map memslot 0 with 4 KiB pages and memslot 1 (where the L2
 *     stacks and argument blocks live) with one 2 MiB page,
 *   - its own CR3: a PML4 page of its own holding a copy of L1's top-level
 *     entries (same mappings, different CR3).
 * An L2 does n_io one-byte OUTs to port 0x80 (L1 intercepts and counts them,
 * advancing RIP itself: EXITINFO2 on SVM, since TCG has no nrip-save; the
 * exit's instruction length on VMX), then n_ping nestor pings (answered by
 * nestor in L0, so L1 never sees them; if L1 does see one it answers
 * L1_PING_NOT_ANSWERED), then n_hc ordinary hypercalls (RAX = 0x1234, which
 * L1 counts and answers), then a final "done" hypercall.
 *
 * The host parks L1 in a ucall (GUEST_SYNC) after every phase, with both L2
 * contexts still alive, and checks L1's counters, the L2s' own results and
 * nestor's view (libnestor: registry and per-exit-reason stats).
 *
 * Modes:
 *   default      phase 1, checks, phase 2, checks (the registry must keep the
 *                same two contexts and the stats must add up).
 *   --rmmod      phase 1, checks, rmmod nestor, phase 2 (the pings now reach
 *                L1 and must be handled there), insmod, phase 3 (pings are
 *                answered in L0 again, and two fresh contexts appear).
 *   --expect-no-nestor  every phase without nestor: pings must reach L1 and
 *                libnestor is not used (checks the L1/L2 machinery alone).
 *   --root-change  subscribes to the events group; phase 1; then L1 gives A
 *                a second, independent set of nested tables (same mappings,
 *                other pages) on the same vmcb12/vmcs12 (SVM: new nCR3, TLB
 *                flush; VMX: new EPTP, INVEPT) and runs phase 2. Exactly one
 *                L2_ROOT_CHANGE (old and new root), a new context with phase-2
 *                counts, the old one unchanged; then keep-alive rounds (A and
 *                B enter once each) until the old context, idle for the
 *                module's idle_expiry_ms, goes with L2_GONE and B and A's new
 *                context stay.
 *   --concurrent two L1 vCPUs: vCPU 0 runs only A and vCPU 1 only B, each
 *                from its own host thread in KVM_RUN at the same time, with
 *                CONC_IO port writes and CONC_PING pings each. The registry
 *                must list vCPUs 0 and 1, each context with its own vCPU and
 *                CR3, and exact counts. With one L0 CPU (the harness's
 *                default) the two threads take turns, they do not run in
 *                parallel.
 *   --bench N    the hook-overhead benchmark (selftests/bench): L1 runs only
 *                L2 A, which does N port writes per round and nothing else;
 *                a short unmeasured warm-up round, then --bench-rounds R
 *                measured rounds. The host times each round from KVM_RUN to
 *                the ucall that ends it and prints "bench ..." lines. nestor
 *                is neither needed nor checked, so the same binary measures
 *                the kernel with and without the module.
 *
 * Exit status: 0 when every TAP line is ok, 1 otherwise.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "svm_util.h"
#include "vmx.h"

#include <linux/nestor.h>
#include "libnestor.h"
#include "nested_common.h"

/* In the 6.1 library but not in its vmx.h: maps with large pages. */
void __nested_map(struct vmx_pages *vmx, struct kvm_vm *vm,
		  uint64_t nested_paddr, uint64_t paddr, uint64_t size,
		  int level);

/* ------------------------------------------------------------------ */
/* Layout and parameters shared by the host, L1 and the L2s            */
/* ------------------------------------------------------------------ */

#define L2_PORT			0x80	/* otherwise unused in this VM */
#define HC_OTHER		0x1234	/* an ordinary hypercall L1 handles */
#define HC_DONE			0xd0e	/* the L2's last exit */
#define L1_HC_ANSWER(x)		((x) * 3 + 0x5000)
#define L1_PING_NOT_ANSWERED	0xffffffffbadc0ffeull

#define MAX_PHASES		3
#define NR_L2			2
#define BENCH_WARMUP		200	/* port writes in --bench's unmeasured round */
/* --concurrent: per L2, on its own vCPU */
#define CONC_IO			2000
#define CONC_PING		2000
#define CONC_HC			10

/* Memslot 1: 2 MiB at a 2 MiB-aligned address, identity-mapped in L1. */
#define SLOT1			1
#define SLOT1_GPA		0x40000000ull
#define SLOT1_SIZE		(2ull << 20)
#define SLOT1_PAGES		(SLOT1_SIZE / 4096)
#define L2_STACK_PAGES		4
/* offsets inside slot 1 */
#define SHARED_OFF		0
#define L2_STACK_OFF(i)		((16 + (i) * (L2_STACK_PAGES + 1)) * 4096ull)

enum backend { BE_NONE = 0, BE_VMX = NESTOR_BACKEND_VMX, BE_SVM = NESTOR_BACKEND_SVM };

/* One L2's parameters and results for one phase (in slot 1). */
struct l2_args {
	/* in, set by L1 before the phase */
	uint64_t use_vmcall;
	uint64_t port;
	uint64_t n_io, n_ping, n_hc;
	uint64_t cookie;
	/* out, written by the L2 */
	uint64_t started;
	uint64_t io_done;
	uint64_t ping_ok;	/* RAX == NESTOR_HC_OK and RBX == ~cookie */
	uint64_t ping_ver_ok;	/* ... and RCX == NESTOR_UAPI_VERSION */
	uint64_t ping_l1;	/* RAX == L1_PING_NOT_ANSWERED */
	uint64_t ping_bad;
	uint64_t bad_rax, bad_rbx, bad_rcx;
	uint64_t hc_ok, hc_bad;
	uint64_t finished;
};

struct phase_params {
	uint64_t n_io[NR_L2], n_ping[NR_L2], n_hc[NR_L2];
	uint64_t cookie[NR_L2];
};

/* What L1 counted for one L2 in one phase. */
struct l1_counts {
	uint64_t entries;	/* VMRUN / VMLAUNCH / VMRESUME */
	uint64_t io;		/* OUTs to L2_PORT */
	uint64_t ping;		/* nestor pings that reached L1 */
	uint64_t hc;		/* HC_OTHER */
	uint64_t done;		/* HC_DONE */
	uint64_t unexpected;	/* anything else: the L2 is stopped */
	uint64_t unexp_code, unexp_info1, unexp_info2, unexp_rip;
};

struct shared {
	/* host -> L1, at setup */
	uint64_t backend;
	uint64_t nr_phases;
	uint64_t bench;		/* --bench: L2 A only; phase 0 warms up, then p[1] */
	uint64_t repeat_slot;	/* phases from this one on reuse p[]/c[] of this slot */
	uint64_t root_change;	/* --root-change: A moves to root2_gpa before phase 2 */
	uint64_t concurrent;	/* --concurrent: vCPU i runs only L2 i */
	uint64_t root2_gpa;	/* A's second nested root (nCR3, or EPT PML4) */
	uint64_t l2_entry;
	uint64_t stack_top[NR_L2];
	uint64_t l2_cr3[NR_L2];
	uint64_t npt_root[NR_L2];	/* SVM: nCR3 */
	uint64_t iopm_gpa;		/* SVM: 12 KiB, all ports intercepted */
	uint64_t svm_gva[NR_L2];	/* struct svm_test_data * */
	uint64_t vmx_gva[NR_L2];	/* struct vmx_pages * */
	struct phase_params p[MAX_PHASES];
	/* L1 -> host: what L1 programmed, read back from the vmcb12/vmcs12 */
	uint64_t vmcs12_gpa[NR_L2];
	uint64_t nested_root[NR_L2];
	uint64_t guest_cr3[NR_L2];
	uint64_t l1_cr3;
	uint64_t vm_error[NR_L2];	/* VMX: VM-instruction error of a failed entry */
	uint64_t invept_type;		/* VMX: the INVEPT L1 did after the root change */
	/* --concurrent: exits L1 handled for L2 i while the other L2 was running */
	uint64_t overlap[NR_L2];
	struct l1_counts c[MAX_PHASES][NR_L2];
	struct l2_args args[NR_L2];
};


/* ------------------------------------------------------------------ */
/* L2                                                                  */
/* ------------------------------------------------------------------ */


/* Entered by VMRUN/VMLAUNCH with RDI = its struct l2_args; never returns. */
static void __attribute__((__noinline__, __used__)) l2_main(struct l2_args *a)
{
	uint64_t i, rax, rbx, rcx, rdx;

	a->started = 1;
	for (i = 0; i < a->n_io; i++) {
		asm volatile("outb %b0, %w1" : : "a"((uint8_t)i), "Nd"((uint16_t)a->port) : "memory");
		a->io_done++;
	}
	for (i = 0; i < a->n_ping; i++) {
		uint64_t cookie = a->cookie + i;

		rax = NESTOR_HC_LEAF;
		rbx = NESTOR_HC_FN_PING;
		rcx = cookie;
		rdx = 0;
		l2_hypercall(a->use_vmcall, &rax, &rbx, &rcx, &rdx);
		if (rax == NESTOR_HC_OK && rbx == ~cookie) {
			a->ping_ok++;
			if (rcx == NESTOR_UAPI_VERSION)
				a->ping_ver_ok++;
		} else if (rax == L1_PING_NOT_ANSWERED) {
			a->ping_l1++;
		} else {
			if (!a->ping_bad) {
				a->bad_rax = rax;
				a->bad_rbx = rbx;
				a->bad_rcx = rcx;
			}
			a->ping_bad++;
		}
	}
	for (i = 0; i < a->n_hc; i++) {
		rax = HC_OTHER;
		rbx = a->cookie ^ i;
		rcx = 0;
		rdx = 0;
		l2_hypercall(a->use_vmcall, &rax, &rbx, &rcx, &rdx);
		if (rax == L1_HC_ANSWER(a->cookie ^ i))
			a->hc_ok++;
		else
			a->hc_bad++;
	}
	a->finished = 1;
	for (;;) {
		rax = HC_DONE;
		rbx = rcx = rdx = 0;
		l2_hypercall(a->use_vmcall, &rax, &rbx, &rcx, &rdx);
	}
}


/* ------------------------------------------------------------------ */
/* L1                                                                  */
/* ------------------------------------------------------------------ */

/* L1's own state (the guest's copy of these globals). */
static struct l2_gprs l1_gprs[NR_L2];
static int l1_launched[NR_L2];
/* VMX: the current VMCS is per CPU, so one slot per L1 vCPU. */
static int l1_cur_vmcs[NR_L2] = { -1, -1 };

/*
 * Which L1 vCPU sets up and runs L2 i: vCPU 0 runs both, except with
 * --concurrent, where vCPU i runs L2 i and nothing else.
 */
static inline int l1_cpu_of(struct shared *sh, int i)
{
	return sh->concurrent ? i : 0;
}

static void l1_svm_setup(struct shared *sh, int cpu)
{
	for (int i = 0; i < NR_L2; i++) {
		struct svm_test_data *svm = (void *)sh->svm_gva[i];
		struct vmcb *vmcb = svm->vmcb;

		if (l1_cpu_of(sh, i) != cpu)
			continue;
		/* EFER.SVME, HSAVE, segments and control registers from L1. */
		generic_svm_setup(svm, (void *)sh->l2_entry, (void *)sh->stack_top[i]);
		vmcb->control.intercept |= (1ULL << INTERCEPT_IOIO_PROT) |
					   (1ULL << INTERCEPT_SHUTDOWN) |
					   (1ULL << INTERCEPT_HLT);
		vmcb->control.iopm_base_pa = sh->iopm_gpa;
		vmcb->control.asid = 1 + i;
		vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ASID;
		vmcb->control.nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
		vmcb->control.nested_cr3 = sh->npt_root[i];
		vmcb->save.cr3 = sh->l2_cr3[i];

		sh->vmcs12_gpa[i] = svm->vmcb_gpa;
		sh->nested_root[i] = vmcb->control.nested_cr3;
		sh->guest_cr3[i] = vmcb->save.cr3;
	}
}

static void l1_vmx_load(struct shared *sh, int i)
{
	struct vmx_pages *vmx = (void *)sh->vmx_gva[i];

	int *cur = &l1_cur_vmcs[l1_cpu_of(sh, i)];

	if (*cur != i) {
		GUEST_ASSERT(!vmptrld(vmx->vmcs_gpa));
		*cur = i;
	}
}

static void l1_vmx_setup(struct shared *sh, int cpu)
{
	/* VMXON region: L2 cpu's vmx_pages, so each vCPU has its own. */
	GUEST_ASSERT(prepare_for_vmx_operation((void *)sh->vmx_gva[cpu]));
	for (int i = 0; i < NR_L2; i++) {
		struct vmx_pages *vmx = (void *)sh->vmx_gva[i];

		if (l1_cpu_of(sh, i) != cpu)
			continue;
		/* VMCLEAR + VMPTRLD of this L2's vmcs12, then the library's
		 * controls, host state and guest state (EPT from vmx->eptp_gpa). */
		GUEST_ASSERT(load_vmcs(vmx));
		l1_cur_vmcs[cpu] = i;
		l1_launched[i] = 0;
		prepare_vmcs(vmx, (void *)sh->l2_entry, (void *)sh->stack_top[i]);
		GUEST_ASSERT(vmreadz(SECONDARY_VM_EXEC_CONTROL) & SECONDARY_EXEC_ENABLE_EPT);
		vmwrite(CPU_BASED_VM_EXEC_CONTROL,
			vmreadz(CPU_BASED_VM_EXEC_CONTROL) | CPU_BASED_UNCOND_IO_EXITING);
		vmwrite(GUEST_CR3, sh->l2_cr3[i]);

		sh->vmcs12_gpa[i] = vmx->vmcs_gpa;
		sh->nested_root[i] = vmreadz(EPT_POINTER);
		sh->guest_cr3[i] = vmreadz(GUEST_CR3);
	}
}

static void l1_reset_l2(struct shared *sh, int phase, int i)
{
	struct l2_args *a = &sh->args[i];
	uint64_t rsp = sh->stack_top[i] - 8;	/* as if called */

	memset(a, 0, sizeof(*a));
	a->use_vmcall = sh->backend == BE_VMX;
	a->port = L2_PORT;
	a->n_io = sh->p[phase].n_io[i];
	a->n_ping = sh->p[phase].n_ping[i];
	a->n_hc = sh->p[phase].n_hc[i];
	a->cookie = sh->p[phase].cookie[i];

	memset(&l1_gprs[i], 0, sizeof(l1_gprs[i]));
	l1_gprs[i].rdi = (uint64_t)a;

	if (sh->backend == BE_SVM) {
		struct vmcb *vmcb = ((struct svm_test_data *)sh->svm_gva[i])->vmcb;

		vmcb->save.rip = sh->l2_entry;
		vmcb->save.rsp = rsp;
		vmcb->save.rflags = 2;
		vmcb->save.rax = 0;
	} else {
		l1_vmx_load(sh, i);
		vmwrite(GUEST_RIP, sh->l2_entry);
		vmwrite(GUEST_RSP, rsp);
		vmwrite(GUEST_RFLAGS, 2);
	}
}

static void l1_unexpected(struct l1_counts *c, uint64_t code, uint64_t info1,
			  uint64_t info2, uint64_t rip)
{
	if (!c->unexpected++) {
		c->unexp_code = code;
		c->unexp_info1 = info1;
		c->unexp_info2 = info2;
		c->unexp_rip = rip;
	}
}

/*
 * A hypercall from L2 i. Returns the value for RAX, and false in *keep when
 * the L2 is finished.
 */
static uint64_t l1_hypercall(struct l1_counts *c, uint64_t code, uint64_t rax,
			     uint64_t rbx, bool *keep, uint64_t rip)
{
	*keep = true;
	switch (rax) {
	case NESTOR_HC_LEAF:
		/* nestor is not there (or let it through): answer "not answered". */
		c->ping++;
		return L1_PING_NOT_ANSWERED;
	case HC_OTHER:
		c->hc++;
		return L1_HC_ANSWER(rbx);
	case HC_DONE:
		c->done++;
		*keep = false;
		return rax;
	default:
		l1_unexpected(c, code, rax, rbx, rip);
		*keep = false;
		return rax;
	}
}

/* Runs L2 i until its next exit and handles it; false when it is finished. */
static bool l1_svm_step(struct shared *sh, struct l1_counts *c, int i)
{
	struct svm_test_data *svm = (void *)sh->svm_gva[i];
	struct vmcb *vmcb = svm->vmcb;
	uint64_t code, info1, info2;
	bool keep;

	c->entries++;
	nested_l2_svm_run(&l1_gprs[i], svm->vmcb_gpa);
	code = vmcb->control.exit_code | ((uint64_t)vmcb->control.exit_code_hi << 32);
	info1 = vmcb->control.exit_info_1;
	info2 = vmcb->control.exit_info_2;

	switch (code) {
	case SVM_EXIT_IOIO:
		/* EXITINFO1: port in 31:16, SZ8 in bit 4, IN in bit 0. */
		if ((info1 >> 16) == L2_PORT && !(info1 & 1) && (info1 & (1 << 4)))
			c->io++;
		else
			l1_unexpected(c, code, info1, info2, vmcb->save.rip);
		/* No nrip-save under TCG: EXITINFO2 holds the next RIP. */
		vmcb->save.rip = info2;
		return true;
	case SVM_EXIT_VMMCALL:
		vmcb->save.rax = l1_hypercall(c, code, vmcb->save.rax,
					      l1_gprs[i].rbx, &keep, vmcb->save.rip);
		vmcb->save.rip += 3;	/* VMMCALL is 0f 01 d9 */
		return keep;
	default:
		l1_unexpected(c, code, info1, info2, vmcb->save.rip);
		return false;
	}
}

static bool l1_vmx_step(struct shared *sh, struct l1_counts *c, int i)
{
	uint64_t reason, qual, rip, len;
	bool keep;

	l1_vmx_load(sh, i);
	c->entries++;
	if (nested_l2_vmx_run(&l1_gprs[i], l1_launched[i])) {
		sh->vm_error[i] = vmreadz(VM_INSTRUCTION_ERROR);
		l1_unexpected(c, 0xfffffffful, sh->vm_error[i], l1_launched[i], 0);
		return false;
	}
	l1_launched[i] = 1;
	reason = vmreadz(VM_EXIT_REASON);
	qual = vmreadz(EXIT_QUALIFICATION);
	rip = vmreadz(GUEST_RIP);
	len = vmreadz(VM_EXIT_INSTRUCTION_LEN);

	switch (reason) {
	case EXIT_REASON_IO_INSTRUCTION:
		/* Qualification: size-1 in 2:0, IN in bit 3, string in bit 4,
		 * port in 31:16. */
		if ((qual >> 16) == L2_PORT && (qual & 0x1f) == 0)
			c->io++;
		else
			l1_unexpected(c, reason, qual, len, rip);
		vmwrite(GUEST_RIP, rip + len);
		return true;
	case EXIT_REASON_VMCALL:
		l1_gprs[i].rax = l1_hypercall(c, reason, l1_gprs[i].rax,
					      l1_gprs[i].rbx, &keep, rip);
		vmwrite(GUEST_RIP, rip + len);
		return keep;
	default:
		l1_unexpected(c, reason, qual, len, rip);
		return false;
	}
}

static void l1_run_phase(struct shared *sh, int phase, int cpu)
{
	bool running[NR_L2];
	uint64_t budget;
	int i;

	budget = 64;
	for (i = 0; i < NR_L2; i++) {
		/* Bench: one L2, so that every exit L1 sees is a measured one. */
		running[i] = (!sh->bench || i == 0) && l1_cpu_of(sh, i) == cpu;
		if (!running[i])
			continue;
		l1_reset_l2(sh, phase, i);
		budget += 4 * (sh->p[phase].n_io[i] + sh->p[phase].n_ping[i] +
			       sh->p[phase].n_hc[i]);
	}
	/* A then B then A ...: every exit L1 sees switches to the other L2. */
	for (i = 0; running[0] || running[1]; i ^= 1) {
		struct l1_counts *c = &sh->c[phase][i];

		if (!running[i])
			continue;
		if (sh->backend == BE_SVM)
			running[i] = l1_svm_step(sh, c, i);
		else
			running[i] = l1_vmx_step(sh, c, i);
		if (sh->concurrent) {
			/* Evidence that the other vCPU's L2 ran meanwhile. */
			volatile struct l2_args *o = &sh->args[i ^ 1];

			if (o->started && !o->finished)
				sh->overlap[i]++;
		}
		if (!--budget) {
			/* Runaway L2: stop both, the host sees why. */
			l1_unexpected(c, 0xfffffffeul, 0, 0, 0);
			break;
		}
	}
}

/* INVEPT of one type; false on VMfail. */
static bool l1_invept(uint64_t type, uint64_t eptp)
{
	struct { uint64_t eptp, reserved; } desc = { eptp, 0 };
	uint8_t fail;

	asm volatile("invept %[desc], %[type]; setbe %[fail]"
		     : [fail] "=q"(fail) : [desc] "m"(desc), [type] "r"(type)
		     : "cc", "memory");
	return !fail;
}

#define EPT_CAP_INVEPT_SINGLE	(1ull << 25)	/* IA32_VMX_EPT_VPID_CAP */
#define INVEPT_SINGLE		1
#define INVEPT_ALL		2

/*
 * --root-change: L2 i keeps its vmcb12/vmcs12 but gets a second, independent
 * set of nested tables (same mappings, other pages). What the architecture
 * asks of L1 for that is done here too, so that the test is also a correct
 * hypervisor on real hardware.
 */
static void l1_switch_root(struct shared *sh, int i)
{
	if (sh->backend == BE_SVM) {
		struct vmcb *vmcb = ((struct svm_test_data *)sh->svm_gva[i])->vmcb;

		vmcb->control.nested_cr3 = sh->root2_gpa;
		/* The ASID's TLB entries were built from the old tables: flush
		 * them at the next VMRUN; and the NP clean bit must not claim
		 * that nCR3 is unchanged. */
		vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ASID;
		vmcb->control.clean = 0;
		sh->nested_root[i] = vmcb->control.nested_cr3;
	} else {
		uint64_t eptp, type;

		l1_vmx_load(sh, i);
		/* Same memory type, walk length and A/D flag; other PML4. */
		eptp = (vmreadz(EPT_POINTER) & 0xfffull) | sh->root2_gpa;
		GUEST_ASSERT(!vmwrite(EPT_POINTER, eptp));
		/*
		 * The SDM: mappings cached for an EPTP may outlive a change of
		 * the tables behind it, so invalidate before using the new
		 * EPTP (single-context if offered, else all contexts).
		 */
		type = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) & EPT_CAP_INVEPT_SINGLE ?
		       INVEPT_SINGLE : INVEPT_ALL;
		GUEST_ASSERT(l1_invept(type, eptp));
		sh->invept_type = type;
		sh->nested_root[i] = vmreadz(EPT_POINTER);
	}
}

static void l1_guest_code(struct shared *sh, uint64_t cpu)
{
	uint64_t cr3;

	asm volatile("mov %%cr3, %0" : "=r"(cr3));
	sh->l1_cr3 = cr3;	/* one set of page tables for all vCPUs */
	if (sh->backend == BE_SVM)
		l1_svm_setup(sh, cpu);
	else
		l1_vmx_setup(sh, cpu);
	GUEST_SYNC(0);	/* set up, nothing run yet */
	/* The host may add phases while L1 is parked (--root-change). */
	for (uint64_t p = 0; p < *(volatile uint64_t *)&sh->nr_phases; p++) {
		if (sh->root_change && p == 1)
			l1_switch_root(sh, 0);
		/* Bench: every measured round reuses p[1] and c[1]; the host
		 * clears c[1] while L1 is parked. Same for --root-change's
		 * keep-alive rounds with slot 2. */
		l1_run_phase(sh, p < sh->repeat_slot ? p : sh->repeat_slot, cpu);
		GUEST_SYNC(p + 1);	/* parked; both L2 contexts alive */
	}
	GUEST_DONE();
}

/* ------------------------------------------------------------------ */
/* Host: TAP                                                           */
/* ------------------------------------------------------------------ */


/* ------------------------------------------------------------------ */
/* ------------------------------------------------------------------ */
/* Host: the test                                                      */
/* ------------------------------------------------------------------ */

static const struct phase_params default_phases[MAX_PHASES] = {
	{ .n_io = { 37, 53 }, .n_ping = { 5, 7 }, .n_hc = { 3, 4 },
	  .cookie = { 0xa0000000a11ce000ull, 0xb0000000b0b00000ull } },
	{ .n_io = { 11, 13 }, .n_ping = { 4, 6 }, .n_hc = { 2, 5 },
	  .cookie = { 0xa0000001a11ce000ull, 0xb0000001b0b00000ull } },
	{ .n_io = { 19, 23 }, .n_ping = { 3, 2 }, .n_hc = { 1, 6 },
	  .cookie = { 0xa0000002a11ce000ull, 0xb0000002b0b00000ull } },
};

static const char *const l2_name[NR_L2] = { "A", "B" };

struct opts {
	bool rmmod;
	bool no_nestor;
	bool root_change;
	bool concurrent;
	uint64_t bench;			/* port writes per measured round; 0: no bench */
	unsigned int bench_rounds;
	const char *rmmod_cmd;
	const char *insmod_cmd;
	unsigned int timeout;
};

struct test {
	struct opts o;
	enum backend be;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct kvm_vcpu *vcpus[NR_L2];	/* --concurrent: vCPU i runs L2 i */
	struct shared *sh;		/* host view of slot 1 */
	bool nestor_present[MAX_PHASES];
	/* cumulative per L2 since the registry last started */
	uint64_t sum_io[NR_L2], sum_ping[NR_L2], sum_hc[NR_L2], sum_entries[NR_L2];
	uint32_t ctx_id[NR_L2];		/* from the last registry check */
	bool have_ids;
	uint64_t reload_ns;		/* CLOCK_BOOTTIME before the insmod */
	/* what check_nestor expects beyond the defaults */
	size_t want_ctxs;		/* contexts of this VM; 0: NR_L2 */
	uint32_t l2_vcpu[NR_L2];	/* the vCPU that runs L2 i */
	bool expect_new[NR_L2];		/* L2 i must have a new context id */
	/* --root-change: the events group, subscribed before phase 1 */
	uint32_t vm_id;			/* this VM's id, from the last registry check */
	struct nestor *ev;
	struct nestor_event evs[64];
	uint64_t ev_ns[64];		/* CLOCK_BOOTTIME when received */
	size_t nr_evs;
	int ev_err;			/* first error other than a time-out */
};

static uint32_t exit_io(enum backend be) { return be == BE_SVM ? SVM_EXIT_IOIO : EXIT_REASON_IO_INSTRUCTION; }
static uint32_t exit_hc(enum backend be) { return be == BE_SVM ? SVM_EXIT_VMMCALL : EXIT_REASON_VMCALL; }

static void setup_vm(struct test *t)
{
	struct kvm_vm *vm;
	struct shared *sh;
	vm_vaddr_t gva;
	uint64_t slot0_size;
	struct vmx_pages ept2 = { 0 };	/* VMX --root-change: A's second EPT */

	if (t->o.concurrent) {
		t->vm = vm = vm_create_with_vcpus(NR_L2, l1_guest_code, t->vcpus);
		t->vcpu = t->vcpus[0];
	} else {
		t->vm = vm = vm_create_with_one_vcpu(&t->vcpu, l1_guest_code);
	}
	ucall_init(vm, NULL);

	/* Slot 1: the L2s' stacks and argument blocks, and the shared page. */
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SLOT1_GPA, SLOT1,
				    SLOT1_PAGES, 0);
	virt_map(vm, SLOT1_GPA, SLOT1_GPA, SLOT1_PAGES);
	sh = t->sh = addr_gpa2hva(vm, SLOT1_GPA + SHARED_OFF);
	memset(sh, 0, sizeof(*sh));
	TEST_ASSERT(sizeof(*sh) <= L2_STACK_OFF(0), "struct shared too large");

	sh->backend = t->be;
	sh->nr_phases = t->o.rmmod ? 3 : 2;
	sh->repeat_slot = MAX_PHASES - 1;
	memcpy(sh->p, default_phases, sizeof(sh->p));
	if (t->o.root_change) {
		/* Phase 3 and later: keep-alive rounds, each L2 enters once
		 * for its final hypercall; the host adds them as it waits. */
		sh->root_change = 1;
		sh->nr_phases = 3;
		memset(&sh->p[2], 0, sizeof(sh->p[2]));
	}
	if (t->o.concurrent) {
		/* One phase, A on vCPU 0 and B on vCPU 1, long enough that
		 * the two vCPU threads are scheduled in turns many times. */
		memset(sh->p, 0, sizeof(sh->p));
		sh->concurrent = 1;
		sh->nr_phases = 1;
		for (int i = 0; i < NR_L2; i++) {
			sh->p[0].n_io[i] = CONC_IO;
			sh->p[0].n_ping[i] = CONC_PING;
			sh->p[0].n_hc[i] = CONC_HC;
			sh->p[0].cookie[i] = default_phases[0].cookie[i];
		}
	}
	if (t->o.bench) {
		/*
		 * Port writes only, from L2 A only: phase 0 is the warm-up (the
		 * first entries build shadow tables and, with nestor, the L2
		 * context), every later phase is a measured round of p[1].
		 */
		memset(sh->p, 0, sizeof(sh->p));
		sh->bench = 1;
		sh->repeat_slot = 1;
		sh->nr_phases = 1 + t->o.bench_rounds;
		sh->p[0].n_io[0] = t->o.bench < BENCH_WARMUP ? t->o.bench : BENCH_WARMUP;
		sh->p[1].n_io[0] = t->o.bench;
	}
	sh->l2_entry = (uint64_t)l2_main;
	for (int i = 0; i < NR_L2; i++)
		sh->stack_top[i] = SLOT1_GPA + L2_STACK_OFF(i) + L2_STACK_PAGES * 4096ull;

	if (t->be == BE_SVM) {
		for (int i = 0; i < NR_L2; i++) {
			vcpu_alloc_svm(vm, &gva);
			sh->svm_gva[i] = gva;
		}
		/* 12 KiB I/O permission map, contiguous; all ports intercepted. */
		gva = vm_vaddr_alloc(vm, 3 * 4096, KVM_UTIL_MIN_VADDR);
		sh->iopm_gpa = addr_gva2gpa(vm, gva);
		TEST_ASSERT(addr_gva2gpa(vm, gva + 8192) == sh->iopm_gpa + 8192,
			    "IOPM is not physically contiguous");
		memset(addr_gva2hva(vm, gva), 0xff, 3 * 4096);
		for (int i = 0; i < NR_L2; i++)
			sh->npt_root[i] = alloc_table(vm);
		if (t->o.root_change)
			sh->root2_gpa = alloc_table(vm);
	} else {
		for (int i = 0; i < NR_L2; i++) {
			struct vmx_pages *vmx = vcpu_alloc_vmx(vm, &gva);

			sh->vmx_gva[i] = gva;
			prepare_eptp(vmx, vm, 0);	/* one EPT root per L2 */
		}
		if (t->o.root_change) {
			/* The library keeps one EPT root per vmx_pages: a copy
			 * of A's gets the second one. */
			ept2 = *(struct vmx_pages *)addr_gva2hva(vm, sh->vmx_gva[0]);
			prepare_eptp(&ept2, vm, 0);
			sh->root2_gpa = ept2.eptp_gpa;
		}
	}

	/* L2 CR3s: a PML4 page each, with L1's top-level entries. */
	for (int i = 0; i < NR_L2; i++) {
		vm_paddr_t pml4 = alloc_table(vm);

		memcpy(addr_gpa2hva(vm, pml4), addr_gpa2hva(vm, vm->pgd), vm->page_size);
		sh->l2_cr3[i] = pml4;
	}

	/*
	 * Nested tables, last, so that they cover every page allocated above:
	 * memslot 0 (code, L1's page tables, the L2 PML4s, the vmcb/vmcs pages)
	 * with 4 KiB pages, memslot 1 (L2 stacks and data) with one 2 MiB page.
	 */
	slot0_size = memslot2region(vm, 0)->region.memory_size;
	slot0_size = (slot0_size + 4095) & ~4095ull;
	TEST_ASSERT(slot0_size <= SLOT1_GPA, "memslot 0 overlaps memslot 1");
	for (int i = 0; i < NR_L2; i++) {
		if (t->be == BE_SVM) {
			npt_map(vm, sh->npt_root[i], 0, slot0_size, PG_LEVEL_4K);
			npt_map(vm, sh->npt_root[i], SLOT1_GPA, SLOT1_SIZE, PG_LEVEL_2M);
		} else {
			struct vmx_pages *vmx = addr_gva2hva(vm, sh->vmx_gva[i]);

			nested_map(vmx, vm, 0, 0, slot0_size);
			__nested_map(vmx, vm, SLOT1_GPA, SLOT1_GPA, SLOT1_SIZE, PG_LEVEL_2M);
		}
	}
	/* A's second tables: the same mappings as its first. */
	if (t->o.root_change && t->be == BE_SVM) {
		npt_map(vm, sh->root2_gpa, 0, slot0_size, PG_LEVEL_4K);
		npt_map(vm, sh->root2_gpa, SLOT1_GPA, SLOT1_SIZE, PG_LEVEL_2M);
	} else if (t->o.root_change) {
		nested_map(&ept2, vm, 0, 0, slot0_size);
		__nested_map(&ept2, vm, SLOT1_GPA, SLOT1_GPA, SLOT1_SIZE, PG_LEVEL_2M);
	}
	/* Tables allocated while mapping must still be inside the 4K range. */
	TEST_ASSERT(memslot2region(vm, 0)->region.memory_size <= slot0_size,
		    "memslot 0 grew");

	if (t->o.concurrent)
		for (int c = 0; c < NR_L2; c++)
			vcpu_args_set(t->vcpus[c], 2, (uint64_t)SLOT1_GPA + SHARED_OFF,
				      (uint64_t)c);
	else
		vcpu_args_set(t->vcpu, 2, (uint64_t)SLOT1_GPA + SHARED_OFF, 0ull);
}

/*
 * After KVM_RUN of vcpu returned rc (errno err): the SYNC stage L1 reached,
 * -2 for GUEST_DONE when want is -2, or -1 with a not-ok line.
 */
static int sync_result(struct kvm_vcpu *vcpu, int want, int rc, int err)
{
	struct ucall uc;
	struct kvm_run *run = vcpu->run;

	if (rc) {
		tap(false, "KVM_RUN of L1 succeeds (stage %d)", want);
		diag("  KVM_RUN: %s", strerror(err));
		return -1;
	}
	if (run->exit_reason != KVM_EXIT_IO) {
		tap(false, "L1 reaches stage %d", want);
		diag("  unexpected KVM exit %u (%s)", run->exit_reason,
		     exit_reason_str(run->exit_reason));
		if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
			diag("  internal error suberror %u", run->internal.suberror);
		return -1;
	}
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		if ((int)uc.args[1] != want) {
			tap(false, "L1 reaches stage %d", want);
			diag("  L1 reported stage %lu", uc.args[1]);
			return -1;
		}
		return want;
	case UCALL_DONE:
		if (want == -2)
			return -2;
		tap(false, "L1 reaches stage %d", want);
		diag("  L1 finished early");
		return -1;
	case UCALL_ABORT:
		tap(false, "L1 reaches stage %d", want);
		diag("  L1 assertion failed: %s at %s:%lu",
		     (const char *)uc.args[GUEST_ERROR_STRING],
		     (const char *)uc.args[GUEST_FILE], uc.args[GUEST_LINE]);
		return -1;
	default:
		tap(false, "L1 reaches stage %d", want);
		diag("  unexpected I/O exit: port %#x", run->io.port);
		return -1;
	}
}

/* Runs vCPU 0 to the next ucall; returns the SYNC stage, or -1. */
static int run_to_sync(struct test *t, int want)
{
	int rc = _vcpu_run(t->vcpu);

	return sync_result(t->vcpu, want, rc, errno);
}

static void check_setup(struct test *t)
{
	struct shared *sh = t->sh;

	tap(sh->vmcs12_gpa[0] != sh->vmcs12_gpa[1],
	    "setup: A and B have their own %s (%#lx, %#lx)",
	    t->be == BE_SVM ? "vmcb12" : "vmcs12", sh->vmcs12_gpa[0], sh->vmcs12_gpa[1]);
	tap(sh->nested_root[0] != sh->nested_root[1],
	    "setup: A and B have their own %s (%#lx, %#lx)",
	    t->be == BE_SVM ? "nCR3" : "EPTP", sh->nested_root[0], sh->nested_root[1]);
	tap(sh->guest_cr3[0] != sh->guest_cr3[1] && sh->guest_cr3[0] != sh->l1_cr3 &&
	    sh->guest_cr3[1] != sh->l1_cr3,
	    "setup: A and B have their own CR3 (%#lx, %#lx; L1 %#lx)",
	    sh->guest_cr3[0], sh->guest_cr3[1], sh->l1_cr3);
	for (int i = 0; i < NR_L2; i++) {
		uint64_t root = sh->nested_root[i] & PTE_ADDR;
		uint64_t want = t->be == BE_SVM ? sh->npt_root[i]
			: ((struct vmx_pages *)addr_gva2hva(t->vm, sh->vmx_gva[i]))->eptp_gpa;
		uint64_t code = addr_gva2gpa(t->vm, (vm_vaddr_t)l2_main);
		uint64_t stack = sh->stack_top[i] - 8, pa = 0;
		int lvl;

		tap(root == want && root != (sh->l1_cr3 & PTE_ADDR),
		    "setup: %s's nested root %#lx is its own table, not L1's page tables (%#lx)",
		    l2_name[i], sh->nested_root[i], sh->l1_cr3);
		lvl = nested_leaf(t->vm, want, t->be == BE_VMX, stack, &pa);
		if (!tap(lvl == PG_LEVEL_2M && pa == stack,
			 "setup: %s's nested tables map its stack (%#lx) with a 2 MiB page, identity",
			 l2_name[i], stack))
			diag("  level %d, maps to %#lx", lvl, pa);
		lvl = nested_leaf(t->vm, want, t->be == BE_VMX, code, &pa);
		if (!tap(lvl == PG_LEVEL_4K && pa == code,
			 "setup: %s's nested tables map its code (%#lx) with a 4 KiB page, identity",
			 l2_name[i], code))
			diag("  level %d, maps to %#lx", lvl, pa);
	}
}

static void check_l1_l2(struct test *t, int phase, bool nestor)
{
	struct shared *sh = t->sh;
	const struct phase_params *p = &sh->p[phase];

	for (int i = 0; i < NR_L2; i++) {
		const struct l1_counts *c = &sh->c[phase][i];
		const struct l2_args *a = &sh->args[i];
		const char *n = l2_name[i];
		int ph = phase + 1;

		if (!tap(c->unexpected == 0, "phase %d %s: L1 saw no unexpected exit", ph, n))
			diag("  %lu unexpected; first: code %#lx info1 %#lx info2 %#lx rip %#lx",
			     c->unexpected, c->unexp_code, c->unexp_info1,
			     c->unexp_info2, c->unexp_rip);
		if (!tap(a->finished && c->done == 1,
			 "phase %d %s: L2 ran to its final hypercall", ph, n))
			diag("  started %lu finished %lu, done exits %lu, io done %lu",
			     a->started, a->finished, c->done, a->io_done);
		CHECK_EQ(c->io, p->n_io[i], "phase %d %s: L1 counted %lu port writes", ph, n, p->n_io[i]);
		CHECK_EQ(a->io_done, p->n_io[i], "phase %d %s: L2 completed %lu port writes", ph, n, p->n_io[i]);
		CHECK_EQ(c->hc, p->n_hc[i], "phase %d %s: L1 counted %lu other hypercalls", ph, n, p->n_hc[i]);
		CHECK_EQ(a->hc_ok, p->n_hc[i], "phase %d %s: L2 got L1's answer to %lu hypercalls", ph, n, p->n_hc[i]);
		if (nestor) {
			CHECK_EQ(c->ping, 0, "phase %d %s: no nestor ping reached L1", ph, n);
			if (!CHECK_EQ(a->ping_ok, p->n_ping[i],
				      "phase %d %s: %lu pings answered in L0 (RAX=OK, RBX=~cookie)",
				      ph, n, p->n_ping[i]))
				diag("  answered by L1 %lu, bad %lu (first: rax %#lx rbx %#lx rcx %#lx)",
				     a->ping_l1, a->ping_bad, a->bad_rax, a->bad_rbx, a->bad_rcx);
			CHECK_EQ(a->ping_ver_ok, p->n_ping[i],
				 "phase %d %s: ping returns the uapi version in RCX", ph, n);
		} else {
			CHECK_EQ(c->ping, p->n_ping[i], "phase %d %s: L1 saw all %lu pings (nestor absent)",
				 ph, n, p->n_ping[i]);
			if (!CHECK_EQ(a->ping_l1, p->n_ping[i],
				      "phase %d %s: L2 got L1's not-answered value for %lu pings",
				      ph, n, p->n_ping[i]))
				diag("  answered in L0 %lu, bad %lu (first: rax %#lx rbx %#lx)",
				     a->ping_ok, a->ping_bad, a->bad_rax, a->bad_rbx);
		}
		diag("phase %d %s: L1 entries %lu, io %lu, pings in L1 %lu, hc %lu, done %lu",
		     ph, n, c->entries, c->io, c->ping, c->hc, c->done);
	}
}

static const struct nestor_exit_count *find_exit(const struct nestor_stats *s, uint32_t reason)
{
	for (size_t i = 0; i < s->nr_exits; i++)
		if (s->exits[i].reason == reason)
			return &s->exits[i];
	return NULL;
}

/*
 * nestor's view, while L1 is parked. fresh: the registry was reloaded
 * before this phase (new contexts, counts from this phase only).
 */
static void check_nestor(struct test *t, const char *ph, bool fresh)
{
	struct shared *sh = t->sh;
	struct nestor *n;
	struct nestor_vm *vms = NULL;
	struct nestor_l2 *l2s = NULL;
	size_t nr_vms = 0, nr_l2s = 0, mine = 0;
	const struct nestor_l2 *ctx[NR_L2] = { NULL, NULL };
	pid_t pid = getpid();
	size_t want_ctxs = t->want_ctxs ? t->want_ctxs : NR_L2;
	int err = 0;

	n = nestor_open(&err);
	if (!tap(n != NULL, "%s: nestor_open", ph)) {
		diag("  %s", nestor_strerror(err));
		return;
	}
	err = nestor_list(n, &vms, &nr_vms, &l2s, &nr_l2s);
	if (!tap(err == 0, "%s: nestor_list", ph)) {
		diag("  %s", nestor_strerror(err));
		nestor_close(n);
		return;
	}
	for (size_t k = 0; k < nr_l2s; k++) {
		if (l2s[k].vm_pid != (uint32_t)pid)
			continue;
		mine++;
		/* The context of the L2's current root (after a root change,
		 * the old one may still be listed). */
		for (int i = 0; i < NR_L2; i++)
			if (l2s[k].vmcs12 == sh->vmcs12_gpa[i] &&
			    l2s[k].nested_root == sh->nested_root[i])
				ctx[i] = &l2s[k];
	}
	/* None with that root: take any with the vmcs12, so that the root
	 * check below says what is wrong. */
	for (size_t k = 0; k < nr_l2s; k++)
		for (int i = 0; i < NR_L2; i++)
			if (l2s[k].vm_pid == (uint32_t)pid && !ctx[i] &&
			    l2s[k].vmcs12 == sh->vmcs12_gpa[i])
				ctx[i] = &l2s[k];
	if (!CHECK_EQ(mine, want_ctxs, "%s: registry lists exactly %s L2 contexts for this VM (pid %d)",
		      ph, want_ctxs == 2 ? "two" : want_ctxs == 3 ? "three" : "N", pid))
		for (size_t k = 0; k < nr_l2s; k++)
			diag("  l2 %u: vm %u pid %u vmcs12 %#lx root %#lx tdp %d entries %lu",
			     l2s[k].id, l2s[k].vm_id, l2s[k].vm_pid, l2s[k].vmcs12,
			     l2s[k].nested_root, l2s[k].tdp, l2s[k].entries);

	if (ctx[0])
		t->vm_id = ctx[0]->vm_id;
	for (int i = 0; i < NR_L2; i++) {
		const struct nestor_l2 *c = ctx[i];
		const char *nm = l2_name[i];
		const struct nestor_l2_vcpu *v0 = NULL;
		uint32_t vc = t->l2_vcpu[i];
		struct nestor_stats st = { 0 };
		const struct nestor_exit_count *io, *hc;
		uint64_t want_io = t->sum_io[i], want_ping = t->sum_ping[i];
		uint64_t want_refl = t->sum_hc[i];

		if (!tap(c != NULL, "%s %s: context with vmcs12 %#lx is registered",
			 ph, nm, sh->vmcs12_gpa[i])) {
			/* Keep the plan the same size whatever happens. */
			for (int k = 0; k < 13; k++)
				tap(false, "%s %s: (no context to check)", ph, nm);
			continue;
		}
		diag("%s %s: context %u vm %u root %#lx entries %lu",
		     ph, nm, c->id, c->vm_id, c->nested_root, c->entries);
		CHECK_EQ(c->entries, t->sum_entries[i], "%s %s: entries == L1's %lu VM entries",
			 ph, nm, t->sum_entries[i]);
		CHECK_EQ(c->nested_root, sh->nested_root[i], "%s %s: nested_root is the %s L1 programmed",
			 ph, nm, t->be == BE_SVM ? "nCR3" : "EPTP");
		tap(c->tdp, "%s %s: tdp is set", ph, nm);
		CHECK_EQ(c->isa, t->be, "%s %s: isa is %s", ph, nm, t->be == BE_SVM ? "svm" : "vmx");
		for (size_t k = 0; k < c->nr_vcpus; k++)
			if (c->vcpus[k].vcpu_id == vc)
				v0 = &c->vcpus[k];
		if (tap(v0 != NULL, "%s %s: vCPU %u is listed", ph, nm, vc))
			CHECK_EQ(v0->cr3, sh->guest_cr3[i], "%s %s: vCPU %u's cr3 is the L2's CR3",
				 ph, nm, vc);
		else
			tap(false, "%s %s: vCPU %u's cr3 is the L2's CR3", ph, nm, vc);
		if (t->expect_new[i])
			tap(t->have_ids && c->id != t->ctx_id[i],
			    "%s %s: a new context (id %u, was %u)", ph, nm, c->id, t->ctx_id[i]);
		else if (t->have_ids && !fresh)
			CHECK_EQ(c->id, t->ctx_id[i], "%s %s: same context as before", ph, nm);
		else if (fresh)
			tap(c->first_seen_ns >= t->reload_ns,
			    "%s %s: fresh context (first seen after the reload)", ph, nm);
		else
			tap(true, "%s %s: context id %u", ph, nm, c->id);
		t->ctx_id[i] = c->id;

		err = nestor_stats(n, c->id, &st);
		if (!tap(err == 0, "%s %s: nestor_stats", ph, nm)) {
			diag("  %s", nestor_strerror(err));
			for (int k = 0; k < 5; k++)
				tap(false, "%s %s: (no stats to check)", ph, nm);
			continue;
		}
		io = find_exit(&st, exit_io(t->be));
		hc = find_exit(&st, exit_hc(t->be));
		CHECK_EQ(io ? io->total : 0, want_io, "%s %s: IO exits total == %lu", ph, nm, want_io);
		CHECK_EQ(io ? io->reflected : 0, want_io, "%s %s: IO exits reflected == %lu", ph, nm, want_io);
		CHECK_EQ(hc ? hc->nestor : 0, want_ping, "%s %s: hypercall exits completed by nestor == %lu",
			 ph, nm, want_ping);
		CHECK_EQ(hc ? hc->reflected : 0, want_refl,
			 "%s %s: hypercall exits reflected == %lu (other + final)", ph, nm, want_refl);
		CHECK_EQ(hc ? hc->total : 0, want_ping + want_refl,
			 "%s %s: hypercall exits total == %lu", ph, nm, want_ping + want_refl);
		for (size_t k = 0; k < st.nr_exits; k++)
			diag("  exit %#x (%s): total %lu reflected %lu nestor %lu", st.exits[k].reason,
			     nestor_exit_name(t->be, st.exits[k].reason), st.exits[k].total,
			     st.exits[k].reflected, st.exits[k].nestor);
		nestor_free_stats(&st);
	}
	t->have_ids = true;
	nestor_free_list(vms, nr_vms, l2s, nr_l2s);
	nestor_close(n);
}

static int run_cmd(const char *what, const char *cmd)
{
	int rc;

	fflush(stdout);
	rc = system(cmd);
	if (rc == -1)
		return -1;
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

static void account(struct test *t, int phase)
{
	for (int i = 0; i < NR_L2; i++) {
		t->sum_io[i] += t->sh->p[phase].n_io[i];
		t->sum_ping[i] += t->sh->p[phase].n_ping[i];
		t->sum_hc[i] += t->sh->p[phase].n_hc[i] + 1;	/* + the final one */
		t->sum_entries[i] += t->sh->c[phase][i].entries;
	}
}

static void reset_sums(struct test *t)
{
	memset(t->sum_io, 0, sizeof(t->sum_io));
	memset(t->sum_ping, 0, sizeof(t->sum_ping));
	memset(t->sum_hc, 0, sizeof(t->sum_hc));
	memset(t->sum_entries, 0, sizeof(t->sum_entries));
	t->have_ids = false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Checks one bench phase: L1 entered L2 A exactly once per port write plus
 * the final hypercall, so no other exit was reflected during the round, and
 * L2 B never ran.
 */
static bool check_bench_phase(struct test *t, int slot, uint64_t n, const char *what)
{
	const struct l1_counts *c = &t->sh->c[slot][0];
	const struct l2_args *a = &t->sh->args[0];
	bool ok;

	ok = tap(c->unexpected == 0 && c->io == n && a->io_done == n && a->finished &&
		 c->done == 1 && c->entries == n + 1 && t->sh->c[slot][1].entries == 0,
		 "bench %s: L1 reflected and counted %lu port writes of L2 A, and nothing else",
		 what, n);
	if (!ok) {
		diag("  L1: entries %lu io %lu done %lu unexpected %lu (first: code %#lx info1 %#lx info2 %#lx rip %#lx); B entries %lu",
		     c->entries, c->io, c->done, c->unexpected, c->unexp_code,
		     c->unexp_info1, c->unexp_info2, c->unexp_rip, t->sh->c[slot][1].entries);
		diag("  L2: io done %lu finished %lu", a->io_done, a->finished);
	}
	return ok;
}

/*
 * --bench: the warm-up, then the measured rounds. The clock runs from just
 * before KVM_RUN resumes L1 out of its ucall to the ucall that ends the round,
 * so the whole L2 loop (and L1's few instructions around it) is inside.
 */
static void run_bench(struct test *t)
{
	struct shared *sh = t->sh;
	unsigned int r, nr = t->o.bench_rounds;
	uint64_t n = t->o.bench, *ns = calloc(nr, sizeof(*ns)), med;
	struct timespec a, b;

	TEST_ASSERT(ns, "calloc");
	if (run_to_sync(t, 1) < 0)
		goto out;
	check_bench_phase(t, 0, sh->p[0].n_io[0], "warm-up");
	for (r = 0; r < nr; r++) {
		char what[32];

		/* L1 is parked in its ucall: it reads c[1] only after resuming. */
		memset(sh->c[1], 0, sizeof(sh->c[1]));
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (run_to_sync(t, r + 2) < 0)
			goto out;
		clock_gettime(CLOCK_MONOTONIC, &b);
		ns[r] = (b.tv_sec - a.tv_sec) * 1000000000ull + b.tv_nsec - a.tv_nsec;
		snprintf(what, sizeof(what), "round %u", r + 1);
		if (!check_bench_phase(t, 1, n, what))
			goto out;
		printf("bench round=%u exits=%lu ns=%lu ns_per_exit=%.1f\n",
		       r + 1, n, ns[r], (double)ns[r] / n);
	}
	qsort(ns, nr, sizeof(*ns), cmp_u64);
	/* Lower median for an even count: a value that was measured. */
	med = ns[(nr - 1) / 2];
	printf("bench backend=%s exits=%lu rounds=%u ns=%lu ns_per_exit=%.1f\n",
	       t->be == BE_SVM ? "svm" : "vmx", n, nr, med, (double)med / n);
	if (run_to_sync(t, -2) == -2)
		tap(true, "L1 finished");
out:
	free(ns);
}

/* ------------------------------------------------------------------ */
/* Host: --root-change and --concurrent                                */
/* ------------------------------------------------------------------ */

#define NR_EVS	(sizeof(((struct test *)0)->evs) / sizeof(((struct test *)0)->evs[0]))

/* The module's idle_expiry_ms, as loaded; 0 when unreadable. */
static unsigned int read_idle_expiry_ms(void)
{
	FILE *f = fopen("/sys/module/nestor/parameters/idle_expiry_ms", "r");
	unsigned int ms = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%u", &ms) != 1)
		ms = 0;
	fclose(f);
	return ms;
}

/* Reads events until none comes for timeout_ms. */
static void drain_events(struct test *t, int timeout_ms)
{
	struct nestor_event ev;
	int err;

	while ((err = nestor_event_next(t->ev, &ev, timeout_ms)) == 0) {
		if (t->nr_evs < NR_EVS) {
			t->evs[t->nr_evs] = ev;
			t->ev_ns[t->nr_evs] = boottime_ns();
		}
		t->nr_evs++;
	}
	if (err != -ETIMEDOUT && !t->ev_err)
		t->ev_err = err;
}

/* Events of this VM of one kind, from index from on; *last: the last one. */
static size_t count_events(struct test *t, size_t from, uint8_t cmd, size_t *last)
{
	size_t n = 0;

	for (size_t k = from; k < t->nr_evs && k < NR_EVS; k++)
		if (t->evs[k].cmd == cmd && t->evs[k].vm_id == t->vm_id) {
			n++;
			if (last)
				*last = k;
		}
	return n;
}

static void diag_events(struct test *t)
{
	for (size_t k = 0; k < t->nr_evs && k < NR_EVS; k++) {
		const struct nestor_event *e = &t->evs[k];
		const char *name = nestor_event_name(e->cmd);

		diag("  event %zu: %s vm %u l2 %u vmcs12 %#lx root %#lx old_root %#lx", k,
		     name ? name : "?", e->vm_id, e->l2_id, e->vmcs12, e->nested_root,
		     e->old_root);
	}
}

/*
 * The VM of this pid is listed, with exactly the vCPU ids in want (when
 * nr_want), and when one_each, each L2's context lists only the vCPU that
 * runs it.
 */
static void check_vm(struct test *t, const char *lbl, const uint32_t *want,
		     size_t nr_want, bool one_each)
{
	struct nestor_vm *vms = NULL, *vm = NULL;
	struct nestor_l2 *l2s = NULL;
	size_t nr_vms = 0, nr_l2s = 0;
	struct nestor *n;
	int err = 0;

	n = nestor_open(&err);
	if (n)
		err = nestor_list(n, &vms, &nr_vms, &l2s, &nr_l2s);
	if (!tap(n && !err, "%s: nestor_list", lbl)) {
		diag("  %s", nestor_strerror(err));
		goto out;
	}
	for (size_t k = 0; k < nr_vms; k++)
		if (vms[k].pid == (uint32_t)getpid())
			vm = &vms[k];
	if (!tap(vm != NULL, "%s: the VM (pid %d) is listed", lbl, getpid()))
		goto out;
	if (nr_want) {
		bool same = vm->nr_vcpus == nr_want;

		for (size_t k = 0; same && k < nr_want; k++)
			same = vm->vcpu_ids[k] == want[k];
		if (!tap(same, "%s: the VM lists vCPUs [%u%s]", lbl, want[0],
			 nr_want == 2 ? ",1" : ""))
			for (size_t k = 0; k < vm->nr_vcpus; k++)
				diag("  vcpu %u", vm->vcpu_ids[k]);
	}
	for (int i = 0; one_each && i < NR_L2; i++) {
		const struct nestor_l2 *c = NULL;

		for (size_t k = 0; k < nr_l2s; k++)
			if (l2s[k].id == t->ctx_id[i])
				c = &l2s[k];
		tap(c && c->nr_vcpus == 1 && c->vcpus[0].vcpu_id == t->l2_vcpu[i],
		    "%s %s: only vCPU %u entered this context", lbl, l2_name[i], t->l2_vcpu[i]);
	}
out:
	nestor_free_list(vms, nr_vms, l2s, nr_l2s);
	if (n)
		nestor_close(n);
}

/*
 * A context that L1 no longer enters: still listed with exactly the counts
 * it had (entries, root, IO and hypercall exits); *last_seen for the expiry.
 */
static void check_old_ctx(struct test *t, const char *lbl, uint32_t id, uint64_t root,
			  const uint64_t want[4], uint64_t *last_seen)
{
	struct nestor_l2 l2 = { 0 };
	struct nestor_stats st = { 0 };
	const struct nestor_exit_count *io, *hc;
	struct nestor *n;
	int err = 0;

	n = nestor_open(&err);
	if (n)
		err = nestor_l2_get(n, id, &l2);
	if (!tap(n && !err, "%s: the old context %u is still listed", lbl, id)) {
		diag("  %s", nestor_strerror(err));
		if (n)
			nestor_close(n);
		return;
	}
	*last_seen = l2.last_seen_ns;
	CHECK_EQ(l2.vmcs12, t->sh->vmcs12_gpa[0], "%s: the old context is A's vmcs12", lbl);
	CHECK_EQ(l2.nested_root, root, "%s: the old context keeps the old root", lbl);
	CHECK_EQ(l2.entries, want[0], "%s: the old context keeps its %lu entries", lbl, want[0]);
	err = nestor_stats(n, id, &st);
	if (tap(!err, "%s: nestor_stats of the old context", lbl)) {
		io = find_exit(&st, exit_io(t->be));
		hc = find_exit(&st, exit_hc(t->be));
		CHECK_EQ(io ? io->reflected : 0, want[1],
			 "%s: the old context keeps IO exits reflected == %lu", lbl, want[1]);
		CHECK_EQ(hc ? hc->nestor : 0, want[2],
			 "%s: the old context keeps hypercall exits completed by nestor == %lu",
			 lbl, want[2]);
		CHECK_EQ(hc ? hc->reflected : 0, want[3],
			 "%s: the old context keeps hypercall exits reflected == %lu", lbl, want[3]);
		nestor_free_stats(&st);
	}
	nestor_free_l2(&l2);
	nestor_close(n);
}

/*
 * --root-change: phase 1 as in the default mode; phase 2 with A on a second,
 * independent set of nested tables (same vmcb12/vmcs12), which must be a new
 * context announced by L2_ROOT_CHANGE; then keep-alive rounds (each L2
 * enters once for its final hypercall) until the old context, no longer
 * entered, is retired with L2_GONE, while the VM, B and A's new context stay.
 */
static void run_root_change(struct test *t)
{
	struct shared *sh = t->sh;
	unsigned int idle = read_idle_expiry_ms();
	uint64_t r1 = sh->nested_root[0], old_want[4], old_last = 0, deadline;
	uint32_t old_id, new_id;
	size_t ev1, ev2, k = 0, gone = SIZE_MAX;
	unsigned int rounds = 0, bad = 0;
	int err = 0;

	/* The second root: the same mappings as the first, its own pages. */
	{
		uint64_t code = addr_gva2gpa(t->vm, (vm_vaddr_t)l2_main);
		uint64_t stack = sh->stack_top[0] - 8, pa1 = 0, pa2 = 0;
		bool ept = t->be == BE_VMX;
		int l1 = nested_leaf(t->vm, r1 & PTE_ADDR, ept, stack, &pa1);
		int l2 = nested_leaf(t->vm, sh->root2_gpa, ept, stack, &pa2);

		tap(sh->root2_gpa && sh->root2_gpa != (r1 & PTE_ADDR) &&
		    sh->root2_gpa != (sh->nested_root[1] & PTE_ADDR),
		    "setup: A's second nested root %#lx is not its first (%#lx) nor B's",
		    sh->root2_gpa, r1);
		tap(l1 == l2 && pa1 == pa2 && l2 == PG_LEVEL_2M,
		    "setup: A's second tables map its stack like the first (2 MiB, identity)");
		l1 = nested_leaf(t->vm, r1 & PTE_ADDR, ept, code, &pa1);
		l2 = nested_leaf(t->vm, sh->root2_gpa, ept, code, &pa2);
		tap(l1 == l2 && pa1 == pa2 && l2 == PG_LEVEL_4K,
		    "setup: A's second tables map its code like the first (4 KiB, identity)");
	}
	if (!tap(idle > 0, "idle_expiry_ms is readable (%u ms)", idle))
		return;
	t->ev = nestor_open(&err);
	if (t->ev)
		err = nestor_events_subscribe(t->ev);
	if (!tap(t->ev && !err, "subscribed to the events group before phase 1")) {
		diag("  %s", nestor_strerror(err));
		return;
	}

	/* Phase 1: A on its first root. */
	if (run_to_sync(t, 1) < 0)
		goto out;
	check_l1_l2(t, 0, true);
	account(t, 0);
	check_nestor(t, "phase 1", false);
	drain_events(t, 100);
	old_id = t->ctx_id[0];
	old_want[0] = t->sum_entries[0];
	old_want[1] = t->sum_io[0];
	old_want[2] = t->sum_ping[0];
	old_want[3] = t->sum_hc[0];
	CHECK_EQ(count_events(t, 0, NESTOR_CMD_L2_NEW, NULL), 2,
		 "phase 1: two L2_NEW events for this VM (vm %u)", t->vm_id);
	ev1 = t->nr_evs;

	/* Phase 2: L1 moves A to its second root, then runs A and B. */
	if (run_to_sync(t, 2) < 0)
		goto out;
	if (!tap(sh->nested_root[0] != r1 && (sh->nested_root[0] & PTE_ADDR) == sh->root2_gpa,
		 "phase 2 A: L1 programmed A's second root (%s %#lx, was %#lx)",
		 t->be == BE_SVM ? "nCR3" : "EPTP", sh->nested_root[0], r1))
		goto out;
	if (t->be == BE_VMX)
		diag("phase 2 A: L1 did INVEPT type %lu (%s) for the new EPTP", sh->invept_type,
		     sh->invept_type == INVEPT_SINGLE ? "single-context" : "all-context");
	check_l1_l2(t, 1, true);
	/* A's new context counts phase 2 only; B's goes on. */
	t->sum_io[0] = t->sum_ping[0] = t->sum_hc[0] = t->sum_entries[0] = 0;
	account(t, 1);
	t->want_ctxs = 3;	/* A's old context is still there */
	t->expect_new[0] = true;
	check_nestor(t, "phase 2", false);
	t->expect_new[0] = false;
	new_id = t->ctx_id[0];
	check_old_ctx(t, "phase 2", old_id, r1, old_want, &old_last);

	drain_events(t, 100);
	ev2 = t->nr_evs;
	if (CHECK_EQ(count_events(t, ev1, NESTOR_CMD_L2_ROOT_CHANGE, &k), 1,
		     "phase 2: exactly one L2_ROOT_CHANGE event")) {
		const struct nestor_event *e = &t->evs[k];

		CHECK_EQ(e->l2_id, new_id, "phase 2: L2_ROOT_CHANGE names A's new context %u", new_id);
		CHECK_EQ(e->vmcs12, sh->vmcs12_gpa[0], "phase 2: L2_ROOT_CHANGE has A's vmcs12");
		CHECK_EQ(e->old_root, r1, "phase 2: L2_ROOT_CHANGE old_root is the first root");
		CHECK_EQ(e->nested_root, sh->nested_root[0],
			 "phase 2: L2_ROOT_CHANGE nested_root is the second root");
	} else {
		for (int j = 0; j < 4; j++)
			tap(false, "phase 2: (no L2_ROOT_CHANGE event to check)");
	}
	if (CHECK_EQ(count_events(t, ev1, NESTOR_CMD_L2_NEW, &k), 1,
		     "phase 2: exactly one L2_NEW event"))
		tap(t->evs[k].l2_id == new_id && t->evs[k].nested_root == sh->nested_root[0],
		    "phase 2: the L2_NEW event is A's new context on the second root");
	else
		tap(false, "phase 2: the L2_NEW event is A's new context on the second root");

	/*
	 * Keep-alive rounds until the old context goes: A (on its new root)
	 * and B are entered every round, the old context never again.
	 */
	deadline = boottime_ns() + (2ull * idle + 5000) * 1000000ull;
	while (gone == SIZE_MAX && boottime_ns() < deadline) {
		if (rounds)
			sh->nr_phases = 3 + rounds;	/* one more round */
		memset(sh->c[2], 0, sizeof(sh->c[2]));
		if (run_to_sync(t, 3 + rounds) < 0)
			goto out;
		for (int i = 0; i < NR_L2; i++)
			if (sh->c[2][i].unexpected || sh->c[2][i].done != 1 || !sh->args[i].finished)
				bad++;
		account(t, 2);
		rounds++;
		drain_events(t, 100);
		for (k = ev2; k < t->nr_evs && k < NR_EVS; k++)
			if (t->evs[k].cmd == NESTOR_CMD_L2_GONE && t->evs[k].l2_id == old_id)
				gone = k;
	}
	CHECK_EQ(bad, 0, "keep-alive: A and B ran to their final hypercall in all %u rounds", rounds);
	if (tap(gone != SIZE_MAX, "the old context %u went with an L2_GONE event", old_id)) {
		const struct nestor_event *e = &t->evs[gone];
		double idle_s = (t->ev_ns[gone] - old_last) / 1e9;

		tap(t->ev_ns[gone] - old_last >= idle * 1000000ull,
		    "the old context went only after idle_expiry_ms (%.2f s after its last entry, %u ms)",
		    idle_s, idle);
		tap(e->vm_id == t->vm_id && e->vmcs12 == sh->vmcs12_gpa[0] && e->nested_root == r1,
		    "L2_GONE names the VM, A's vmcs12 and the first root");
	} else {
		tap(false, "the old context went only after idle_expiry_ms");
		tap(false, "L2_GONE names the VM, A's vmcs12 and the first root");
	}
	CHECK_EQ(count_events(t, ev2, NESTOR_CMD_L2_GONE, NULL), gone != SIZE_MAX,
		 "no other context of this VM went");
	CHECK_EQ(count_events(t, 0, NESTOR_CMD_L2_ROOT_CHANGE, NULL), 1,
		 "one L2_ROOT_CHANGE event in the whole run");
	CHECK_EQ(count_events(t, ev2, NESTOR_CMD_L2_NEW, NULL) +
		 count_events(t, ev2, NESTOR_CMD_VM_GONE, NULL), 0,
		 "no L2_NEW or VM_GONE event while waiting");
	if (!tap(t->nr_evs <= NR_EVS && !t->ev_err, "no event was lost (%zu received)", t->nr_evs))
		diag("  %s", nestor_strerror(t->ev_err));
	{
		struct nestor *n = nestor_open(&err);
		struct nestor_l2 l2 = { 0 };

		err = n ? nestor_l2_get(n, old_id, &l2) : err;
		CHECK_EQ((uint64_t)(int64_t)err, (uint64_t)(int64_t)-ENOENT,
			 "after expiry: the old context %u is not found (-ENOENT)", old_id);
		if (!err)
			nestor_free_l2(&l2);
		if (n)
			nestor_close(n);
	}
	/* A (new context) and B: same ids, counts including the keep-alives. */
	t->want_ctxs = 2;
	check_nestor(t, "after expiry", false);
	check_vm(t, "after expiry", NULL, 0, false);
	CHECK_EQ(t->ctx_id[0], new_id, "after expiry: A's context is still %u", new_id);
	if (run_to_sync(t, -2) == -2)
		tap(true, "L1 finished");
out:
	diag_events(t);
	nestor_close(t->ev);
	t->ev = NULL;
}

struct vcpu_thread {
	struct kvm_vcpu *vcpu;
	int rc, err;
	double t0, t1;
};

static void *vcpu_thread_fn(void *arg)
{
	struct vcpu_thread *v = arg;

	v->t0 = now_s();
	v->rc = _vcpu_run(v->vcpu);
	v->err = errno;
	v->t1 = now_s();
	return NULL;
}

/*
 * --concurrent: L1 has two vCPUs; vCPU 0 runs A and vCPU 1 runs B, from
 * two host threads in KVM_RUN at the same time. With one L0 CPU (the
 * harness default) that means the threads take turns, preempted by L0's
 * scheduler in the middle of their phases, not that they run in parallel.
 */
static void run_concurrent(struct test *t)
{
	static const uint32_t both[NR_L2] = { 0, 1 };
	struct shared *sh = t->sh;
	struct vcpu_thread th[NR_L2];
	pthread_t tid[NR_L2];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc, c;

	for (c = 0; c < NR_L2; c++) {
		rc = _vcpu_run(t->vcpus[c]);
		if (sync_result(t->vcpus[c], 0, rc, errno) < 0)
			return;
	}
	check_setup(t);
	diag("L0 has %ld online CPU(s): the two vCPU threads %s", ncpu,
	     ncpu > 1 ? "may run in parallel" : "take turns on it (interleaved, not parallel)");
	for (c = 0; c < NR_L2; c++) {
		th[c] = (struct vcpu_thread){ .vcpu = t->vcpus[c] };
		if (!tap(!pthread_create(&tid[c], NULL, vcpu_thread_fn, &th[c]),
			 "thread for vCPU %d started", c))
			exit(1);	/* the at-exit handler closes the TAP */
	}
	for (c = 0; c < NR_L2; c++)
		pthread_join(tid[c], NULL);
	for (c = 0; c < NR_L2; c++) {
		if (sync_result(th[c].vcpu, 1, th[c].rc, th[c].err) < 0)
			return;
		diag("vCPU %d (L2 %s): KVM_RUN from %.3f s to %.3f s", c, l2_name[c],
		     th[c].t0 - th[0].t0, th[c].t1 - th[0].t0);
	}
	tap(sh->overlap[0] && sh->overlap[1],
	    "phase 1: A's and B's runs overlapped (L1 handled %lu exits of A while B was between its start and end, %lu of B while A was)",
	    sh->overlap[0], sh->overlap[1]);
	check_l1_l2(t, 0, true);
	account(t, 0);
	t->l2_vcpu[1] = 1;
	check_nestor(t, "phase 1", false);
	check_vm(t, "phase 1", both, NR_L2, true);
	for (c = 0; c < NR_L2; c++) {
		rc = _vcpu_run(t->vcpus[c]);
		if (sync_result(t->vcpus[c], -2, rc, errno) == -2)
			tap(true, "L1 vCPU %d finished", c);
	}
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--rmmod] [--rmmod-cmd CMD] [--insmod-cmd CMD|PATH.ko]\n"
		"          [--expect-no-nestor] [--timeout SECONDS]\n"
		"       %s --root-change [--timeout SECONDS]\n"
		"       %s --concurrent [--timeout SECONDS]\n"
		"       %s --bench N [--bench-rounds R] [--timeout SECONDS]\n"
		"  --rmmod             unload nestor after phase 1 and reload it after phase 2\n"
		"  --rmmod-cmd CMD     how to unload (default: rmmod nestor)\n"
		"  --insmod-cmd CMD    how to reload; a path to a .ko means insmod PATH\n"
		"                      (default: insmod /nestor/nestor.ko)\n"
		"  --expect-no-nestor  nestor is not loaded: pings must reach L1\n"
		"  --root-change       A gets a second nested root before phase 2; checks\n"
		"                      L2_ROOT_CHANGE, the new context and the old one's\n"
		"                      expiry (idle_expiry_ms) with L2_GONE\n"
		"  --concurrent        two L1 vCPUs, A on vCPU 0 and B on vCPU 1 at once\n"
		"  --bench N           benchmark: one L2 does N reflected port writes per\n"
		"                      round; prints \"bench ...\" lines; no nestor checks\n"
		"  --bench-rounds R    measured rounds (default 1)\n"
		"  --timeout S         give up after S seconds (default 600)\n",
		prog, prog, prog, prog);
	exit(2);
}

int main(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "rmmod", no_argument, NULL, 'r' },
		{ "rmmod-cmd", required_argument, NULL, 'R' },
		{ "insmod-cmd", required_argument, NULL, 'I' },
		{ "expect-no-nestor", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "bench", required_argument, NULL, 'b' },
		{ "bench-rounds", required_argument, NULL, 'B' },
		{ "root-change", no_argument, NULL, 'C' },
		{ "concurrent", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct test t = { .o = { .rmmod_cmd = "rmmod nestor",
				 .insmod_cmd = "insmod /nestor/nestor.ko",
				 .timeout = 600, .bench_rounds = 1 } };
	static char insmod_buf[4096];
	double t0 = now_s(), tp;
	int opt, nr_phases;

	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'r': t.o.rmmod = true; break;
		case 'R': t.o.rmmod_cmd = optarg; break;
		case 'I': t.o.insmod_cmd = optarg; break;
		case 'n': t.o.no_nestor = true; break;
		case 't': t.o.timeout = strtoul(optarg, NULL, 0); break;
		case 'b': t.o.bench = strtoull(optarg, NULL, 0); break;
		case 'B': t.o.bench_rounds = strtoul(optarg, NULL, 0); break;
		case 'C': t.o.root_change = true; break;
		case 'P': t.o.concurrent = true; break;
		default: usage(argv[0]);
		}
	}
	/* At most one of the modes. */
	if (optind != argc || !t.o.bench_rounds ||
	    t.o.rmmod + t.o.no_nestor + !!t.o.bench + t.o.root_change + t.o.concurrent > 1)
		usage(argv[0]);
	{
		size_t l = strlen(t.o.insmod_cmd);

		if (l > 3 && !strcmp(t.o.insmod_cmd + l - 3, ".ko") && !strchr(t.o.insmod_cmd, ' ')) {
			snprintf(insmod_buf, sizeof(insmod_buf), "insmod %s", t.o.insmod_cmd);
			t.o.insmod_cmd = insmod_buf;
		}
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_guard_process();
	alarm(t.o.timeout);

	if (t.o.bench)
		printf("# nested_l2: bench, one L2 under a selftest L1, %lu port writes per round, %u rounds\n",
		       t.o.bench, t.o.bench_rounds);
	else
		printf("# nested_l2: two L2s under a selftest L1%s%s%s%s\n",
		       t.o.rmmod ? ", nestor unloaded and reloaded between phases" : "",
		       t.o.no_nestor ? ", nestor expected absent" : "",
		       t.o.root_change ? ", A moved to a second nested root" : "",
		       t.o.concurrent ? ", A and B on two L1 vCPUs at once" : "");

	if (access("/dev/kvm", R_OK | W_OK)) {
		tap(false, "/dev/kvm is usable");
		diag("  %s", strerror(errno));
		goto out;
	}
	if (kvm_cpu_has(X86_FEATURE_SVM))
		t.be = BE_SVM;
	else if (kvm_cpu_has(X86_FEATURE_VMX))
		t.be = BE_VMX;
	if (!tap(t.be != BE_NONE, "KVM offers nested SVM or VMX to its guests"))
		goto out;
	diag("backend %s", t.be == BE_SVM ? "svm" : "vmx");

	setup_vm(&t);
	nr_phases = t.sh->nr_phases;
	if (t.o.concurrent) {
		run_concurrent(&t);	/* its own setup stage, per vCPU */
		goto out;
	}
	if (run_to_sync(&t, 0) < 0)
		goto out;
	if (t.o.bench) {
		run_bench(&t);
		goto out;
	}
	check_setup(&t);
	if (t.o.root_change) {
		run_root_change(&t);
		goto out;
	}

	for (int phase = 0; phase < nr_phases; phase++) {
		bool nestor = !t.o.no_nestor && !(t.o.rmmod && phase == 1);
		bool fresh = t.o.rmmod && phase == 2;

		t.nestor_present[phase] = nestor;
		tp = now_s();
		if (run_to_sync(&t, phase + 1) < 0)
			goto out;
		diag("phase %d took %.3f s", phase + 1, now_s() - tp);
		check_l1_l2(&t, phase, nestor);
		if (nestor) {
			account(&t, phase);
			{
				char lbl[16];

				snprintf(lbl, sizeof(lbl), "phase %d", phase + 1);
				check_nestor(&t, lbl, fresh);
			}
		}

		if (t.o.rmmod && phase == 0) {
			int rc = run_cmd("rmmod", t.o.rmmod_cmd);

			if (!tap(rc == 0, "'%s' while L1 is parked with two L2 contexts", t.o.rmmod_cmd))
				diag("  exit status %d", rc);
			tap(access(NESTOR_DEVICE_PATH, F_OK) != 0, "%s is gone after unload",
			    NESTOR_DEVICE_PATH);
			reset_sums(&t);
		}
		if (t.o.rmmod && phase == 1) {
			int rc;

			t.reload_ns = boottime_ns();
			rc = run_cmd("insmod", t.o.insmod_cmd);
			if (!tap(rc == 0, "'%s' while L1 is parked", t.o.insmod_cmd))
				diag("  exit status %d", rc);
			reset_sums(&t);
		}
	}
	if (run_to_sync(&t, -2) == -2)
		tap(true, "L1 finished");

out:
	if (t.vm)
		kvm_vm_free(t.vm);
	diag("total %.3f s", now_s() - t0);
	tap_finish();
	return tap_failed || !tap_n ? 1 : 0;
}
