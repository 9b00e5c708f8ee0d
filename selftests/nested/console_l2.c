// SPDX-License-Identifier: GPL-2.0-only
/*
 * console_l2: nestor's out-of-band console (Documentation/console.rst)
 * against an L2 that drives its UART at 0x3f8 the way a polling 8250
 * driver does, under a tiny L1 that intercepts every port.
 *
 * The L2 parks itself (a hypercall L1 turns into GUEST_SYNC) at each stage
 * so that the host can act in between:
 *   stage 1  L2 entered once: its context exists.  Host: attach without a
 *            console (ENXIO), enable, enable again (EEXIST), attach a
 *            reader+writer, a second writer (EBUSY), a second reader, a
 *            client killed while blocked in read() (its writer slot is
 *            free again afterwards).
 *   L2       init sequence (LCR/DLAB/divisor/FCR/MCR/IER) with readbacks,
 *            THRE interrupt identification, loopback with FIFO trigger
 *            level 4, a banner (IN/OUT with prefixes), five OUTs to
 *            port 0x80 (L1's own port).
 *   stage 2  Host: both readers get the exact banner; status ioctl;
 *            rmmod with clients attached is refused and changes nothing;
 *            writes a line of input.
 *   L2       reads the line polling LSR.DR (the timeout indication shows
 *            in IIR), echoes it.
 *   stage 3  Host: exact echo; L1 saw no exit in 0x3f8-0x3ff and all five
 *            of its port 0x80 exits; a huge non-blocking write stops at
 *            the input buffer with EAGAIN; disables the console.
 *   L2       writes again to 0x3f8: now L1 gets those exits.
 *   done     Host: L1 got exactly those bytes; readers see EOF.
 *
 * With -b BYTES (the console benchmark, selftests/bench/console.sh) the L2
 * instead writes BYTES bytes of a known pattern the way a polling driver
 * does (LSR.THRE, then THR) twice in the same boot: diverted to nestor, and
 * after a disable to L1; in between it echoes -k KEYS keystrokes, whose
 * round trip the host times.  Prints TAP and "# bench-console" figures.
 * -E MS sets nestor's idle_expiry_ms to MS while L2 writes to nestor (L1
 * does not enter L2 then): the context, and so the console, must live on.
 *
 * Runs as root in the emulated L0 with nestor loaded; prints TAP.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

void __nested_map(struct vmx_pages *vmx, struct kvm_vm *vm,
		  uint64_t nested_paddr, uint64_t paddr, uint64_t size,
		  int level);

#define UART		0x3f8
#define L1_PORT		0x80
#define N_L1_IO		5
#define HC_SYNC		0x5c5c
#define HC_DONE		0xd0e
#define BANNER		"nestor console: hello from L2\r\n"
#define INPUT		"echo me\r"
#define AFTER		"to L1\n"

#define SLOT1		1
#define SLOT1_GPA	0x40000000ull
#define SLOT1_SIZE	(2ull << 20)
#define SLOT1_PAGES	(SLOT1_SIZE / 4096)
#define STACK_OFF	(16 * 4096ull)
#define STACK_PAGES	4

enum backend { BE_NONE = 0, BE_VMX = NESTOR_BACKEND_VMX, BE_SVM = NESTOR_BACKEND_SVM };

/* What the L2 saw (in slot 1). */
struct l2_args {
	uint64_t use_vmcall;
	uint8_t dll, dlm, lcr, mcr, iir_fifo, lsr0, msr0, iir_thre, iir_after;
	uint8_t msr_loop, iir_loop3, lsr_loop3, iir_loop4, lsr_loop_end;
	uint8_t loop_rx[4];
	uint8_t iir_rx_first, iir_cti, lsr_rx;
	uint8_t line[64];
	uint64_t line_len, rx_polls, rx_timeout, cti_polls;
	uint64_t bench_bytes, bench_keys;	/* -b, -k: benchmark mode */
	uint64_t rx_forever;	/* wait for the line without a bound */
};

struct shared {
	uint64_t backend;
	uint64_t l2_entry, stack_top, l2_cr3, npt_root, iopm_gpa;
	uint64_t svm_gva, vmx_gva;
	uint64_t vmcs12_gpa, nested_root;
	/* L1's counts */
	uint64_t entries, io_l1port, io_uart, uart_out_len, unexpected;
	uint64_t unexp_code, unexp_info1, unexp_rip;
	uint8_t uart_out[64];
	uint64_t l1_bench_bytes, l1_bench_bad;	/* benchmark: L1's UART */
	struct l2_args a;
};

/* ------------------------------------------------------------------ */
/* L2                                                                  */
/* ------------------------------------------------------------------ */

static inline void l2_outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %b0, %w1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t l2_inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static void l2_sync(struct l2_args *a, uint64_t stage)
{
	uint64_t rax = HC_SYNC, rbx = stage, rcx = 0, rdx = 0;

	l2_hypercall(a->use_vmcall, &rax, &rbx, &rcx, &rdx);
}

static void l2_puts(const char *s)
{
	for (; *s; s++) {
		while (!(l2_inb(UART + 5) & 0x20))
			;
		l2_outb(UART, *s);
	}
}

/*
 * The banner, through instructions with prefixes: a 3-byte IN of LSR and
 * MSR (DS override, operand size) and a 2-byte OUT to THR (DS override).
 * L0 must resume L2 after the whole instruction (nestor takes the next RIP
 * from EXITINFO2 on SVM): a skip too short repeats the OUT and doubles the
 * banner's bytes, one too long runs into the middle of the next one.
 */
static void l2_puts_prefixed(const char *s)
{
	uint16_t lsr;

	for (; *s; s++) {
		do {	/* ds inw (%dx),%ax */
			asm volatile(".byte 0x3e, 0x66, 0xed" : "=a"(lsr)
				     : "d"((uint16_t)(UART + 5)) : "memory");
		} while (!(lsr & 0x20));
		/* ds outb %al,(%dx) */
		asm volatile(".byte 0x3e, 0xee" : : "a"(*s),
			     "d"((uint16_t)UART) : "memory");
	}
}

/* The benchmark's byte stream: not periodic within 256 bytes. */
static inline uint8_t bench_byte(uint64_t i)
{
	return (uint8_t)(i ^ (i >> 8) ^ (i >> 16));
}

static void l2_bench_write(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		while (!(l2_inb(UART + 5) & 0x20))
			;
		l2_outb(UART, bench_byte(i));
	}
}

static void l2_bench(struct l2_args *a)
{
	uint64_t i, rax, rbx, rcx, rdx;
	uint8_t c;

	/* 115200 8N1, FIFOs, DTR|RTS|OUT2, no interrupts: a polling driver. */
	l2_outb(UART + 3, 0x80);
	l2_outb(UART + 0, 1);
	l2_outb(UART + 1, 0);
	l2_outb(UART + 3, 0x03);
	l2_outb(UART + 2, 0xc7);
	l2_outb(UART + 4, 0x0b);
	l2_outb(UART + 1, 0);
	l2_sync(a, 2);
	l2_bench_write(a->bench_bytes);
	l2_sync(a, 3);
	for (i = 0; i < a->bench_keys; i++) {
		while (!(l2_inb(UART + 5) & 0x01))
			;
		c = l2_inb(UART);
		while (!(l2_inb(UART + 5) & 0x20))
			;
		l2_outb(UART, c);
	}
	l2_sync(a, 4);
	l2_bench_write(a->bench_bytes);		/* disabled: to L1 */
	l2_sync(a, 5);
	for (;;) {
		rax = HC_DONE;
		rbx = rcx = rdx = 0;
		l2_hypercall(a->use_vmcall, &rax, &rbx, &rcx, &rdx);
	}
}

static void __attribute__((__noinline__, __used__)) l2_main(struct l2_args *a)
{
	static const char banner[] = BANNER, after[] = AFTER;
	uint64_t i, rax, rbx, rcx, rdx;
	uint8_t c, iir;

	l2_sync(a, 1);
	if (a->bench_bytes)
		l2_bench(a);
	/* The 8250 init sequence: 115200 8N1, FIFOs, DTR|RTS|OUT2. */
	l2_outb(UART + 3, 0x80);
	l2_outb(UART + 0, 1);
	l2_outb(UART + 1, 0);
	a->dll = l2_inb(UART + 0);
	a->dlm = l2_inb(UART + 1);
	l2_outb(UART + 3, 0x03);
	a->lcr = l2_inb(UART + 3);
	l2_outb(UART + 2, 0xc7);
	a->iir_fifo = l2_inb(UART + 2);
	l2_outb(UART + 4, 0x0b);
	a->mcr = l2_inb(UART + 4);
	l2_outb(UART + 1, 0);
	a->lsr0 = l2_inb(UART + 5);
	a->msr0 = l2_inb(UART + 6);
	l2_outb(UART + 1, 0x02);		/* ETBEI */
	a->iir_thre = l2_inb(UART + 2);
	a->iir_after = l2_inb(UART + 2);
	l2_outb(UART + 1, 0x05);		/* ERBFI | ELSI */

	/*
	 * Loopback, RX trigger level 4, at the slowest speed (divisor
	 * 0xffff: the character timeout is ~22 s away), so that a slow
	 * emulator cannot turn "below the trigger" into a timeout.
	 */
	l2_outb(UART + 3, 0x83);
	l2_outb(UART + 0, 0xff);
	l2_outb(UART + 1, 0xff);
	l2_outb(UART + 3, 0x03);
	l2_outb(UART + 2, 0x47);
	l2_outb(UART + 4, 0x1b);
	a->msr_loop = l2_inb(UART + 6);
	l2_outb(UART, 'a');
	l2_outb(UART, 'b');
	l2_outb(UART, 'c');
	a->iir_loop3 = l2_inb(UART + 2);
	a->lsr_loop3 = l2_inb(UART + 5);
	l2_outb(UART, 'd');
	a->iir_loop4 = l2_inb(UART + 2);
	for (i = 0; i < 4; i++)
		a->loop_rx[i] = l2_inb(UART);
	a->lsr_loop_end = l2_inb(UART + 5);
	l2_outb(UART + 4, 0x0b);
	l2_outb(UART + 2, 0xc7);		/* trigger 14, clear both */
	l2_outb(UART + 3, 0x83);		/* back to 115200 */
	l2_outb(UART + 0, 1);
	l2_outb(UART + 1, 0);
	l2_outb(UART + 3, 0x03);

	l2_puts_prefixed(banner);
	for (i = 0; i < N_L1_IO; i++)
		l2_outb(L1_PORT, i);
	l2_sync(a, 2);

	/* A line of input, polled; the timeout shows in IIR meanwhile. */
	while (!((a->lsr_rx = l2_inb(UART + 5)) & 0x01)) {
		if (++a->rx_polls > 100000 && !a->rx_forever) {
			a->rx_timeout = 1;
			break;
		}
	}
	a->iir_rx_first = l2_inb(UART + 2);
	for (iir = a->iir_rx_first; (iir & 0x0f) != 0x0c; iir = l2_inb(UART + 2))
		if (++a->cti_polls > 100000)
			break;
	a->iir_cti = iir;
	while (!a->rx_timeout && a->line_len < sizeof(a->line)) {
		i = 0;
		while (!(l2_inb(UART + 5) & 0x01)) {
			if (++i > 100000) {
				a->rx_timeout = 2;
				break;
			}
		}
		if (a->rx_timeout)
			break;
		c = l2_inb(UART);
		a->line[a->line_len++] = c;
		if (c == '\r')
			break;
	}
	for (i = 0; i < a->line_len; i++) {
		char s[2] = { (char)a->line[i], 0 };

		l2_puts(s);
	}
	l2_puts("\n");
	l2_sync(a, 3);

	/* The console is disabled now: these go to L1. */
	l2_puts(after);
	for (;;) {
		rax = HC_DONE;
		rbx = rcx = rdx = 0;
		l2_hypercall(a->use_vmcall, &rax, &rbx, &rcx, &rdx);
	}
}

/* ------------------------------------------------------------------ */
/* L1                                                                  */
/* ------------------------------------------------------------------ */

static struct l2_gprs l1_gprs;
static int l1_launched;

static void l1_setup(struct shared *sh)
{
	if (sh->backend == BE_SVM) {
		struct svm_test_data *svm = (void *)sh->svm_gva;
		struct vmcb *vmcb = svm->vmcb;

		generic_svm_setup(svm, (void *)sh->l2_entry, (void *)sh->stack_top);
		vmcb->control.intercept |= (1ULL << INTERCEPT_IOIO_PROT) |
					   (1ULL << INTERCEPT_SHUTDOWN) |
					   (1ULL << INTERCEPT_HLT);
		vmcb->control.iopm_base_pa = sh->iopm_gpa;
		vmcb->control.asid = 1;
		vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ASID;
		vmcb->control.nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
		vmcb->control.nested_cr3 = sh->npt_root;
		vmcb->save.cr3 = sh->l2_cr3;
		vmcb->save.rsp = sh->stack_top - 8;
		sh->vmcs12_gpa = svm->vmcb_gpa;
		sh->nested_root = vmcb->control.nested_cr3;
	} else {
		struct vmx_pages *vmx = (void *)sh->vmx_gva;

		GUEST_ASSERT(prepare_for_vmx_operation(vmx));
		GUEST_ASSERT(load_vmcs(vmx));
		prepare_vmcs(vmx, (void *)sh->l2_entry, (void *)sh->stack_top);
		vmwrite(CPU_BASED_VM_EXEC_CONTROL,
			vmreadz(CPU_BASED_VM_EXEC_CONTROL) | CPU_BASED_UNCOND_IO_EXITING);
		vmwrite(GUEST_CR3, sh->l2_cr3);
		vmwrite(GUEST_RSP, sh->stack_top - 8);
		sh->vmcs12_gpa = vmx->vmcs_gpa;
		sh->nested_root = vmreadz(EPT_POINTER);
	}
	l1_gprs.rdi = (uint64_t)&sh->a;
}

static void l1_unexpected(struct shared *sh, uint64_t code, uint64_t info1, uint64_t rip)
{
	if (!sh->unexpected++) {
		sh->unexp_code = code;
		sh->unexp_info1 = info1;
		sh->unexp_rip = rip;
	}
}

/* An IN or OUT of one byte at @port; returns the value for IN. */
static uint8_t l1_port(struct shared *sh, uint16_t port, bool in, uint8_t out)
{
	if (port >= UART && port <= UART + 7) {
		sh->io_uart++;
		if (in)	/* L1's own trivial UART: always ready */
			return port == UART + 5 ? 0x60 : 0;
		if (port == UART && sh->a.bench_bytes) {
			if (out != bench_byte(sh->l1_bench_bytes++))
				sh->l1_bench_bad++;
			return 0;
		}
		if (port == UART && sh->uart_out_len < sizeof(sh->uart_out))
			sh->uart_out[sh->uart_out_len++] = out;
		return 0;
	}
	if (port == L1_PORT && !in) {
		sh->io_l1port++;
		return 0;
	}
	l1_unexpected(sh, 0x10000 | port, in, 0);
	return 0;
}

/* Handles the hypercall; false when the L2 is finished or broken. */
static bool l1_hypercall(struct shared *sh, uint64_t rax, uint64_t rbx, uint64_t rip)
{
	if (rax == HC_SYNC) {
		GUEST_SYNC(rbx);
		return true;
	}
	if (rax != HC_DONE)
		l1_unexpected(sh, 0x20000, rax, rip);
	return false;
}

static bool l1_svm_step(struct shared *sh)
{
	struct svm_test_data *svm = (void *)sh->svm_gva;
	struct vmcb *vmcb = svm->vmcb;
	uint64_t code, info1;
	bool in;

	sh->entries++;
	nested_l2_svm_run(&l1_gprs, svm->vmcb_gpa);
	code = vmcb->control.exit_code;
	info1 = vmcb->control.exit_info_1;
	switch (code) {
	case SVM_EXIT_IOIO:
		in = info1 & 1;
		if (!(info1 & (1 << 4)) || (info1 & 4)) {	/* not 1 byte, or string */
			l1_unexpected(sh, code, info1, vmcb->save.rip);
			return false;
		}
		if (in)
			vmcb->save.rax = (vmcb->save.rax & ~0xffull) |
					 l1_port(sh, info1 >> 16, true, 0);
		else
			l1_port(sh, info1 >> 16, false, vmcb->save.rax);
		vmcb->save.rip = vmcb->control.exit_info_2;
		return true;
	case SVM_EXIT_VMMCALL:
		vmcb->save.rip += 3;
		return l1_hypercall(sh, vmcb->save.rax, l1_gprs.rbx, vmcb->save.rip);
	default:
		l1_unexpected(sh, code, info1, vmcb->save.rip);
		return false;
	}
}

static bool l1_vmx_step(struct shared *sh)
{
	uint64_t reason, qual, rip, len;
	bool in;

	sh->entries++;
	if (nested_l2_vmx_run(&l1_gprs, l1_launched)) {
		l1_unexpected(sh, 0xffffffff, vmreadz(VM_INSTRUCTION_ERROR), 0);
		return false;
	}
	l1_launched = 1;
	reason = vmreadz(VM_EXIT_REASON);
	qual = vmreadz(EXIT_QUALIFICATION);
	rip = vmreadz(GUEST_RIP);
	len = vmreadz(VM_EXIT_INSTRUCTION_LEN);
	vmwrite(GUEST_RIP, rip + len);
	switch (reason) {
	case EXIT_REASON_IO_INSTRUCTION:
		in = qual & 8;
		if (qual & 0x17) {	/* not 1 byte, or string */
			l1_unexpected(sh, reason, qual, rip);
			return false;
		}
		if (in)
			l1_gprs.rax = (l1_gprs.rax & ~0xffull) |
				      l1_port(sh, qual >> 16, true, 0);
		else
			l1_port(sh, qual >> 16, false, l1_gprs.rax);
		return true;
	case EXIT_REASON_VMCALL:
		return l1_hypercall(sh, l1_gprs.rax, l1_gprs.rbx, rip);
	default:
		l1_unexpected(sh, reason, qual, rip);
		return false;
	}
}

static void l1_guest_code(struct shared *sh)
{
	uint64_t budget = 2000000 + 4 * sh->a.bench_bytes;

	l1_setup(sh);
	GUEST_SYNC(0);
	while (--budget && (sh->backend == BE_SVM ? l1_svm_step(sh) : l1_vmx_step(sh)))
		;
	if (!budget)
		l1_unexpected(sh, 0xfffffffe, 0, 0);
	GUEST_DONE();
}

/* ------------------------------------------------------------------ */
/* Host                                                                */
/* ------------------------------------------------------------------ */

struct test {
	enum backend be;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct shared *sh;
	int dev;
	uint32_t l2_id;
	int rw, r2;		/* reader+writer, second reader */
	const char *rmmod_cmd;
	unsigned int expiry_ms;	/* -E */
};

static void setup_vm(struct test *t)
{
	struct kvm_vm *vm;
	struct shared *sh;
	vm_vaddr_t gva;
	uint64_t slot0_size;
	vm_paddr_t pml4;

	t->vm = vm = vm_create_with_one_vcpu(&t->vcpu, l1_guest_code);
	ucall_init(vm, NULL);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SLOT1_GPA, SLOT1,
				    SLOT1_PAGES, 0);
	virt_map(vm, SLOT1_GPA, SLOT1_GPA, SLOT1_PAGES);
	sh = t->sh = addr_gpa2hva(vm, SLOT1_GPA);
	memset(sh, 0, sizeof(*sh));
	sh->backend = t->be;
	sh->a.use_vmcall = t->be == BE_VMX;
	sh->l2_entry = (uint64_t)l2_main;
	sh->stack_top = SLOT1_GPA + STACK_OFF + STACK_PAGES * 4096ull;

	if (t->be == BE_SVM) {
		vcpu_alloc_svm(vm, &gva);
		sh->svm_gva = gva;
		gva = vm_vaddr_alloc(vm, 3 * 4096, KVM_UTIL_MIN_VADDR);
		sh->iopm_gpa = addr_gva2gpa(vm, gva);
		TEST_ASSERT(addr_gva2gpa(vm, gva + 8192) == sh->iopm_gpa + 8192,
			    "IOPM is not physically contiguous");
		memset(addr_gva2hva(vm, gva), 0xff, 3 * 4096);
		sh->npt_root = alloc_table(vm);
	} else {
		struct vmx_pages *vmx = vcpu_alloc_vmx(vm, &gva);

		sh->vmx_gva = gva;
		prepare_eptp(vmx, vm, 0);
	}
	pml4 = alloc_table(vm);
	memcpy(addr_gpa2hva(vm, pml4), addr_gpa2hva(vm, vm->pgd), vm->page_size);
	sh->l2_cr3 = pml4;

	/* L2's own nested tables (see DESIGN: never L1's page tables). */
	slot0_size = (memslot2region(vm, 0)->region.memory_size + 4095) & ~4095ull;
	if (t->be == BE_SVM) {
		npt_map(vm, sh->npt_root, 0, slot0_size, PG_LEVEL_4K);
		npt_map(vm, sh->npt_root, SLOT1_GPA, SLOT1_SIZE, PG_LEVEL_2M);
	} else {
		struct vmx_pages *vmx = addr_gva2hva(vm, sh->vmx_gva);

		nested_map(vmx, vm, 0, 0, slot0_size);
		__nested_map(vmx, vm, SLOT1_GPA, SLOT1_GPA, SLOT1_SIZE, PG_LEVEL_2M);
	}
	TEST_ASSERT(memslot2region(vm, 0)->region.memory_size <= slot0_size,
		    "memslot 0 grew");
	vcpu_args_set(t->vcpu, 1, (uint64_t)SLOT1_GPA);
}

/* Runs L1 to GUEST_SYNC(@want), or GUEST_DONE when @want is -2. */
static bool run_to(struct test *t, int want)
{
	struct ucall uc;
	int rc = _vcpu_run(t->vcpu);
	uint64_t got;

	if (rc || t->vcpu->run->exit_reason != KVM_EXIT_IO) {
		tap(false, "L1 reaches stage %d", want);
		diag("  KVM_RUN %d (%s), exit reason %u", rc, strerror(errno),
		     t->vcpu->run->exit_reason);
		return false;
	}
	got = get_ucall(t->vcpu, &uc);
	if (got == UCALL_SYNC && (int)uc.args[1] == want)
		return tap(true, "L1 reaches stage %d", want);
	if (got == UCALL_DONE && want == -2)
		return tap(true, "L1 and L2 finish");
	tap(false, "L1 reaches stage %d", want);
	if (got == UCALL_ABORT)
		diag("  L1 assertion failed: %s at %s:%lu",
		     (const char *)uc.args[GUEST_ERROR_STRING],
		     (const char *)uc.args[GUEST_FILE], uc.args[GUEST_LINE]);
	else
		diag("  ucall %lu stage %lu; L1 unexpected %lu (code %#lx info %#lx rip %#lx)",
		     got, uc.args[1], t->sh->unexpected, t->sh->unexp_code,
		     t->sh->unexp_info1, t->sh->unexp_rip);
	return false;
}

static int ioc(struct test *t, unsigned long nr, void *arg)
{
	return ioctl(t->dev, nr, arg) ? errno : 0;
}

static int attach(struct test *t, uint32_t flags, int *err)
{
	struct nestor_console_attach a = { .l2_id = t->l2_id, .flags = flags };

	*err = ioc(t, NESTOR_IOC_CONSOLE_ATTACH, &a);
	return *err ? -1 : a.fd;
}

static bool find_l2(struct test *t)
{
	struct nestor_vm *vms = NULL;
	struct nestor_l2 *l2s = NULL;
	size_t nr_vms = 0, nr_l2s = 0;
	struct nestor *n;
	int err = 0;

	n = nestor_open(&err);
	if (!n || nestor_list(n, &vms, &nr_vms, &l2s, &nr_l2s)) {
		if (n)
			nestor_close(n);
		return tap(false, "registry lists the L2");
	}
	/* The newest: an earlier VM of this process may have left one. */
	for (size_t k = 0; k < nr_l2s; k++)
		if (l2s[k].vm_pid == (uint32_t)getpid() &&
		    l2s[k].vmcs12 == t->sh->vmcs12_gpa && l2s[k].id > t->l2_id)
			t->l2_id = l2s[k].id;
	nestor_free_list(vms, nr_vms, l2s, nr_l2s);
	nestor_close(n);
	return tap(t->l2_id != 0, "registry lists the L2 (context %u)", t->l2_id);
}

/* Everything readable now on @fd (non-blocking), at most @max bytes. */
static ssize_t read_now(int fd, char *buf, size_t max)
{
	size_t got = 0;
	ssize_t n;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (got < max && (n = read(fd, buf + got, max - got)) > 0)
		got += n;
	return got;
}

static bool check_bytes(const char *what, const char *got, size_t len, const char *want)
{
	bool ok = len == strlen(want) && !memcmp(got, want, len);

	if (!tap(ok, "%s: exactly %zu bytes", what, strlen(want))) {
		diag("  got %zu bytes:", len);
		for (size_t i = 0; i < len && i < 80; i++)
			diag("    %02x %c", (unsigned char)got[i],
			     got[i] >= ' ' && got[i] < 127 ? got[i] : '.');
	}
	return ok;
}

static void stage1(struct test *t)
{
	struct nestor_console_enable e = { .l2_id = t->l2_id };
	int err, fd, st;
	pid_t pid;

	fd = attach(t, NESTOR_CONSOLE_ATTACH_READ, &err);
	tap(fd < 0 && err == ENXIO, "attach before enable: ENXIO (L2 known, no console)");
	if (fd >= 0)
		close(fd);
	CHECK_EQ(ioc(t, NESTOR_IOC_CONSOLE_ENABLE, &e), 0, "enable the console on 0x3f8");
	CHECK_EQ(ioc(t, NESTOR_IOC_CONSOLE_ENABLE, &e), EEXIST, "enable again: EEXIST");

	/* A client that dies in a blocking read() while holding the writer. */
	pid = fork();
	if (pid == 0) {
		char c;

		fd = attach(t, NESTOR_CONSOLE_ATTACH_ALL, &err);
		if (fd < 0)
			_exit(2);
		read(fd, &c, 1);
		_exit(3);
	}
	usleep(300000);
	t->rw = attach(t, NESTOR_CONSOLE_ATTACH_ALL, &err);
	tap(t->rw < 0 && err == EBUSY, "second writer while a client writes: EBUSY");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	tap(WIFSIGNALED(st), "the client was killed in read()");
	t->rw = attach(t, NESTOR_CONSOLE_ATTACH_ALL, &err);
	if (!tap(t->rw >= 0, "after the client died, a new reader+writer attaches"))
		diag("  errno %d", err);
	fd = attach(t, NESTOR_CONSOLE_ATTACH_WRITE, &err);
	tap(fd < 0 && err == EBUSY, "another writer: EBUSY");
	t->r2 = attach(t, NESTOR_CONSOLE_ATTACH_READ, &err);
	tap(t->r2 >= 0, "a second reader attaches");
}

static void check_l2_init(struct test *t)
{
	struct l2_args *a = &t->sh->a;

	CHECK_EQ(a->dll | a->dlm << 8, 1, "L2: divisor latch reads back 1");
	CHECK_EQ(a->lcr, 0x03, "L2: LCR reads back 0x03");
	CHECK_EQ(a->iir_fifo, 0xc1, "L2: IIR after FCR=0xc7: 0xc1 (FIFOs, nothing pending)");
	CHECK_EQ(a->mcr, 0x0b, "L2: MCR reads back 0x0b");
	CHECK_EQ(a->lsr0, 0x60, "L2: LSR 0x60 (THRE, TEMT)");
	CHECK_EQ(a->msr0 & 0xf0, 0xb0, "L2: MSR lines DCD|DSR|CTS");
	CHECK_EQ(a->iir_thre, 0xc2, "L2: enabling ETBEI: IIR 0xc2 (THRE)");
	CHECK_EQ(a->iir_after, 0xc1, "L2: reading IIR cleared THRE");
	CHECK_EQ(a->msr_loop, 0xb0, "L2: loopback DTR|RTS|OUT2: MSR 0xb0");
	CHECK_EQ(a->iir_loop3, 0xc1, "L2: loopback, 3 bytes < trigger 4: no RX interrupt");
	CHECK_EQ(a->lsr_loop3, 0x61, "L2: loopback, 3 bytes: LSR DR|THRE|TEMT");
	CHECK_EQ(a->iir_loop4, 0xc4, "L2: loopback, 4 bytes: IIR 0xc4 (RX data)");
	tap(!memcmp(a->loop_rx, "abcd", 4), "L2: loopback bytes read back in order");
	CHECK_EQ(a->lsr_loop_end, 0x60, "L2: loopback FIFO empty again");
}

static void stage2(struct test *t)
{
	struct nestor_console_status s = { .l2_id = t->l2_id };
	char buf[256], cmd[256];
	ssize_t n;
	FILE *f;
	int rc;

	check_l2_init(t);
	/* nestorctl: --dump is one more reader; a second writer is refused. */
	snprintf(cmd, sizeof(cmd), "nestorctl console l2:%u --dump >/tmp/console.dump", t->l2_id);
	rc = system(cmd);
	CHECK_EQ(rc, 0, "nestorctl console --dump exits 0");
	f = fopen("/tmp/console.dump", "r");
	n = f ? fread(buf, 1, sizeof(buf), f) : 0;
	if (f)
		fclose(f);
	check_bytes("nestorctl console --dump prints the banner", buf, n, BANNER);
	snprintf(cmd, sizeof(cmd), "nestorctl console %u </dev/null 2>/tmp/console.err", t->l2_id);
	rc = system(cmd);
	tap(WIFEXITED(rc) && WEXITSTATUS(rc) == 1,
	    "nestorctl console while the test writes: exit 1 (writer busy)");
	rc = system("grep -q 'another client is writing' /tmp/console.err");
	tap(rc == 0, "... and it says another client is writing");

	n = read_now(t->rw, buf, sizeof(buf));
	check_bytes("reader 1 gets the banner", buf, n, BANNER);
	n = read_now(t->r2, buf, sizeof(buf));
	check_bytes("reader 2 gets the banner", buf, n, BANNER);
	tap(memmem(buf, n, "abcd", 4) == NULL, "loopback bytes never reach the console");

	if (CHECK_EQ(ioc(t, NESTOR_IOC_CONSOLE_STATUS, &s), 0, "status ioctl")) {
		CHECK_EQ(s.port, UART, "status: port 0x3f8");
		CHECK_EQ(s.lcr, 0x03, "status: LCR");
		CHECK_EQ(s.mcr, 0x0b, "status: MCR");
		CHECK_EQ(s.ier, 0x05, "status: IER");
		CHECK_EQ(s.divisor, 1, "status: divisor");
		CHECK_EQ(s.tx_bytes, strlen(BANNER), "status: tx_bytes is the banner");
		CHECK_EQ(s.buffered, 0, "status: nothing buffered after both read");
		CHECK_EQ(s.readers, 2, "status: two readers");
		CHECK_EQ(s.writer, 1, "status: one writer");
		CHECK_EQ(s.irq_mode, NESTOR_CONSOLE_IRQ_POLLING, "status: polling mode");
		tap(s.port_exits > strlen(BANNER), "status: %llu port exits completed in L0",
		    (unsigned long long)s.port_exits);
	}

	/* rmmod with clients attached: refused, nothing changes. */
	close(t->dev);
	rc = system(t->rmmod_cmd);
	tap(rc != 0, "'%s' with console clients attached fails", t->rmmod_cmd);
	t->dev = open(NESTOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	tap(t->dev >= 0, "nestor is still loaded");

	n = write(t->rw, INPUT, strlen(INPUT));
	CHECK_EQ(n, strlen(INPUT), "write a line of input");
}

static void stage3(struct test *t)
{
	struct l2_args *a = &t->sh->a;
	struct nestor_console_status s = { .l2_id = t->l2_id };
	struct nestor_console_id d = { .l2_id = t->l2_id };
	static char big[1 << 20];
	char buf[256], want[64];
	ssize_t n;

	CHECK_EQ(a->rx_timeout, 0, "L2 read its line without timing out");
	tap(a->line_len == strlen(INPUT) && !memcmp(a->line, INPUT, a->line_len),
	    "L2 received exactly the input bytes");
	CHECK_EQ(a->iir_cti & 0xcf, 0xcc, "L2: 8 bytes < trigger 14: timeout indication (IIR 0xcc)");
	CHECK_EQ(a->lsr_rx & 0x01, 1, "L2: LSR.DR with input");
	n = read_now(t->rw, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s\n", INPUT);
	check_bytes("the echo reaches the console", buf, n, want);
	n = read_now(t->r2, buf, sizeof(buf));
	check_bytes("... and the second reader", buf, n, want);
	CHECK_EQ(t->sh->io_uart, 0, "L1 saw no exit in 0x3f8-0x3ff");
	CHECK_EQ(t->sh->io_l1port, N_L1_IO, "L1 saw its own port 0x80 exits");

	/* Huge write, L2 not reading: the input buffer takes its size. */
	memset(big, 'x', sizeof(big));
	fcntl(t->rw, F_SETFL, fcntl(t->rw, F_GETFL) | O_NONBLOCK);
	n = write(t->rw, big, sizeof(big));
	tap(n > 0 && n < (ssize_t)sizeof(big), "huge non-blocking write is partial (%zd)", n);
	n = write(t->rw, big, sizeof(big));
	tap(n < 0 && errno == EAGAIN, "... then EAGAIN, nothing dropped silently");
	ioc(t, NESTOR_IOC_CONSOLE_STATUS, &s);
	CHECK_EQ(s.rx_bytes, strlen(INPUT), "status: rx_bytes is the line");

	CHECK_EQ(ioc(t, NESTOR_IOC_CONSOLE_DISABLE, &d), 0, "disable the console mid-run");
	/* Out-fields must be 0 on input again (serving_l2_id, armed_pid). */
	memset(&s, 0, sizeof(s));
	s.l2_id = t->l2_id;
	CHECK_EQ(ioc(t, NESTOR_IOC_CONSOLE_STATUS, &s), ENXIO,
		 "status after disable: ENXIO");
	n = write(t->rw, "y", 1);
	tap(n < 0 && errno == EPIPE, "write after disable: EPIPE");
}

static void done(struct test *t)
{
	char buf[64];
	ssize_t n;

	CHECK_EQ(t->sh->unexpected, 0, "L1 saw nothing unexpected");
	tap(t->sh->io_uart > strlen(AFTER), "after disable L1 gets the UART exits (%lu)",
	    t->sh->io_uart);
	check_bytes("L1's UART got the bytes after disable", (char *)t->sh->uart_out,
		    t->sh->uart_out_len, AFTER);
	fcntl(t->rw, F_SETFL, fcntl(t->rw, F_GETFL) & ~O_NONBLOCK);
	n = read(t->rw, buf, sizeof(buf));
	CHECK_EQ(n, 0, "reader sees EOF after disable");
	close(t->rw);
	close(t->r2);
}

/*
 * An L2 that ran before a console was armed is not taken by it, even in a
 * context made after the arming.  SVM: the host copies L1's NPT root and
 * points vmcb12 at the copy (L0 reads vmcb12 at every VMRUN), so L2's next
 * entry is a new context with the old vmcb12; its next bytes (AFTER) must
 * still reach L1, which done() checks.  VMX keeps vmcs12 in L0, out of the
 * host's reach: skipped there.
 */
static void arm_then_root_change(struct test *t)
{
	struct nestor_console_enable e = {
		.l1_pid = getpid(), .flags = NESTOR_CONSOLE_BY_PID,
	};
	struct svm_test_data *svm;
	struct vmcb *vmcb;
	vm_paddr_t root2;

	if (t->be != BE_SVM) {
		tap(true, "arm, then the old L2 on a new root # SKIP VMX: vmcs12 is not in L1 memory");
		return;
	}
	CHECK_EQ(ioc(t, NESTOR_IOC_CONSOLE_ENABLE, &e), 0,
		 "arm a console on this process while its L2 runs");
	svm = addr_gva2hva(t->vm, t->sh->svm_gva);
	vmcb = svm->vmcb_hva;
	root2 = alloc_table(t->vm);
	memcpy(addr_gpa2hva(t->vm, root2), addr_gpa2hva(t->vm, t->sh->npt_root),
	       t->vm->page_size);
	vmcb->control.nested_cr3 = root2;
}

/* After done(): the old L2's new context was made, and not taken. */
static void root_change_not_taken(struct test *t)
{
	struct nestor_console_status s = {
		.l1_pid = getpid(), .flags = NESTOR_CONSOLE_BY_PID,
	};
	struct nestor_console_id d = {
		.l1_pid = getpid(), .flags = NESTOR_CONSOLE_BY_PID,
	};
	uint32_t old_id = t->l2_id;

	if (t->be != BE_SVM)
		return;
	find_l2(t);
	tap(t->l2_id > old_id, "the new root made a new context (%u after %u)",
	    t->l2_id, old_id);
	if (CHECK_EQ(ioc(t, NESTOR_IOC_CONSOLE_STATUS, &s), 0, "status of the armed console"))
		CHECK_EQ(s.serving_l2_id, 0,
			 "the armed console did not take the L2 that ran before it");
	CHECK_EQ(ioc(t, NESTOR_IOC_CONSOLE_DISABLE, &d), 0, "disable it by pid");
}

/*
 * A console armed on this process (NESTOR_CONSOLE_BY_PID) before its next
 * L2 exists: it binds at the L2's first port access, so the init sequence
 * and the banner reach it and L1 sees no UART exit at all.  A fresh VM,
 * so that the L2 is a new one.
 */
static void armed(struct test *first)
{
	struct test t = { .be = first->be, .dev = first->dev };
	struct nestor_console_enable e = {
		.l1_pid = getpid(), .flags = NESTOR_CONSOLE_BY_PID,
	};
	struct nestor_console_enable by_id = { 0 };
	struct nestor_console_status s = {
		.l1_pid = getpid(), .flags = NESTOR_CONSOLE_BY_PID,
	};
	struct nestor_console_id d = {
		.l1_pid = getpid(), .flags = NESTOR_CONSOLE_BY_PID,
	};
	struct nestor_console_attach a = {
		.l1_pid = getpid(),
		.flags = NESTOR_CONSOLE_BY_PID | NESTOR_CONSOLE_ATTACH_ALL,
	};
	char buf[256], want[64];
	ssize_t n;

	kvm_vm_free(first->vm);
	first->vm = NULL;
	setup_vm(&t);
	if (!CHECK_EQ(ioc(&t, NESTOR_IOC_CONSOLE_ENABLE, &e), 0,
		      "armed: arm a console on this process, no L2 yet"))
		return;
	a.fd = 0;
	if (!CHECK_EQ(ioc(&t, NESTOR_IOC_CONSOLE_ATTACH, &a), 0,
		      "armed: attach by pid before the L2 exists"))
		goto disable;
	if (!run_to(&t, 0) || !run_to(&t, 1) || !find_l2(&t))
		goto disable;
	if (CHECK_EQ(ioc(&t, NESTOR_IOC_CONSOLE_STATUS, &s), 0, "armed: status by pid"))
		CHECK_EQ(s.serving_l2_id, 0,
			 "armed: unbound while the L2 has not touched the UART");
	by_id.l2_id = t.l2_id;
	CHECK_EQ(ioc(&t, NESTOR_IOC_CONSOLE_ENABLE, &by_id), EEXIST,
		 "armed: enable by id, the armed console waiting for it: EEXIST");
	if (!run_to(&t, 2))
		goto disable;
	memset(&s, 0, sizeof(s));
	s.l1_pid = getpid();
	s.flags = NESTOR_CONSOLE_BY_PID;
	if (CHECK_EQ(ioc(&t, NESTOR_IOC_CONSOLE_STATUS, &s), 0, "armed: status by pid")) {
		CHECK_EQ(s.serving_l2_id, t.l2_id, "armed: bound to the L2 (context %u)",
			 t.l2_id);
		CHECK_EQ(s.armed_pid, getpid(), "armed: status shows this pid");
		CHECK_EQ(s.tx_bytes, strlen(BANNER), "armed: tx_bytes is the banner");
	}
	memset(&s, 0, sizeof(s));
	s.l2_id = t.l2_id;
	if (CHECK_EQ(ioc(&t, NESTOR_IOC_CONSOLE_STATUS, &s), 0,
		     "armed: status by the L2's id once bound"))
		CHECK_EQ(s.armed_pid, getpid(), "armed: ... the same console");
	n = read_now(a.fd, buf, sizeof(buf));
	check_bytes("armed: the banner, read by a client attached before the L2 ran",
		    buf, n, BANNER);
	CHECK_EQ(write(a.fd, INPUT, strlen(INPUT)), strlen(INPUT),
		 "armed: write a line of input");
	if (!run_to(&t, 3))
		goto disable;
	n = read_now(a.fd, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s\n", INPUT);
	check_bytes("armed: the echo", buf, n, want);
	CHECK_EQ(t.sh->io_uart, 0, "armed: L1 saw no exit in 0x3f8-0x3ff");
disable:
	CHECK_EQ(ioc(&t, NESTOR_IOC_CONSOLE_DISABLE, &d), 0, "armed: disable by pid");
	if (t.l2_id && t.sh->a.line_len && run_to(&t, -2))
		check_bytes("armed: after disable, L1's UART got the bytes",
			    (char *)t.sh->uart_out, t.sh->uart_out_len, AFTER);
	if (a.fd > 0)
		close(a.fd);
	kvm_vm_free(t.vm);
}

/*
 * The console through nestor-monitord on L0's loopback (Documentation/
 * console.rst, "Remote access"), with the binaries a remote owner runs:
 * `nestorctl --remote ... console --dump` prints exactly the banner;
 * through monitor_proxy, a tampered answer and a replayed one are
 * rejected (exit 1, REJECTED); a session with its input on a pipe types
 * the line, which the L2 echoes, while the proxy replays the signed
 * input message and the kernel refuses the copy (ESTALE).  A fresh VM.
 */
#define RMON_PORT	7421
#define RTAMPER_PORT	7422
#define RREPLAY_PORT	7423
#define RINPUT_PORT	7424
#define RMON_KEY_ID	0x636f6e32u

static const char *self_path = "console_l2";

static bool file_is(const char *what, const char *path, const char *want)
{
	char buf[512];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	return check_bytes(what, buf, n, want);
}

static bool file_has(const char *path, const char *needle)
{
	char buf[4096];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	if (!strstr(buf, needle)) {
		diag("  %s (%zu bytes) lacks '%s':", path, n, needle);
		diag("%s", buf);
		return false;
	}
	return true;
}

static void show_file(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");

	diag("  %s:", path);
	while (f && fgets(line, sizeof(line), f))
		diag("    %s", line);
	if (f)
		fclose(f);
}

/* One raw request to the daemon: the answer's status, its payload in @ans. */
static int mon_ask(int fd, uint32_t type, const void *a, uint32_t alen,
		   void *ans, uint32_t anslen)
{
	struct nestor_mon_hdr h = { .magic = NESTOR_MON_MAGIC, .type = type,
				    .len = alen };

	if (nestor_mon_write_all(fd, &h, sizeof(h)) ||
	    nestor_mon_write_all(fd, a, alen) ||
	    nestor_mon_read_all(fd, &h, sizeof(h)) ||
	    h.type != (type | NESTOR_MON_REPLY) || h.len > anslen ||
	    nestor_mon_read_all(fd, ans, h.len))
		return -1;
	return h.status;
}

/* The daemon's side of the console messages, spoken raw. */
static void remote_protocol(uint32_t l2_id)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(RMON_PORT),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct nestor_console_sread r = { .key_id = RMON_KEY_ID, .len = 16 };
	struct nestor_console_swrite w = { .key_id = RMON_KEY_ID, .len = 1 };
	uint8_t msg[128], ans[256];
	uint32_t flags, id = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int n;

	if (!tap(fd >= 0 && !connect(fd, (void *)&sa, sizeof(sa)),
		 "remote protocol: connect to nestor-monitord")) {
		if (fd >= 0)
			close(fd);
		return;
	}
	memset(r.nonce, 0x42, sizeof(r.nonce));
	CHECK_EQ(mon_ask(fd, NESTOR_MON_CONSOLE_READ, &r, sizeof(r), ans, sizeof(ans)),
		 ENOTCONN, "remote protocol: CONSOLE_READ before OPEN: ENOTCONN");
	flags = 2;
	memcpy(msg, &flags, 4);
	n = 4 + snprintf((char *)msg + 4, sizeof(msg) - 4, "l2:%u", l2_id);
	CHECK_EQ(mon_ask(fd, NESTOR_MON_CONSOLE_OPEN, msg, n, ans, sizeof(ans)), EINVAL,
		 "remote protocol: CONSOLE_OPEN with an unknown flag: EINVAL");
	flags = NESTOR_MON_CONSOLE_F_READ_ONLY;
	memcpy(msg, &flags, 4);
	n = 4 + snprintf((char *)msg + 4, sizeof(msg) - 4, "l2:4000000000");
	CHECK_EQ(mon_ask(fd, NESTOR_MON_CONSOLE_OPEN, msg, n, ans, sizeof(ans)), ENOENT,
		 "remote protocol: CONSOLE_OPEN of an unknown L2: ENOENT");
	n = 4 + snprintf((char *)msg + 4, sizeof(msg) - 4, "l2:%u", l2_id);
	CHECK_EQ(mon_ask(fd, NESTOR_MON_CONSOLE_OPEN, msg, n, &id, sizeof(id)), 0,
		 "remote protocol: CONSOLE_OPEN read-only");
	CHECK_EQ(id, l2_id, "remote protocol: ... answers the L2's id");
	CHECK_EQ(mon_ask(fd, NESTOR_MON_CONSOLE_OPEN, msg, n, ans, sizeof(ans)), EBUSY,
		 "remote protocol: a second CONSOLE_OPEN: EBUSY");
	memcpy(msg, &w, sizeof(w));
	msg[sizeof(w)] = 'x';
	CHECK_EQ(mon_ask(fd, NESTOR_MON_CONSOLE_WRITE, msg, sizeof(w) + 1, ans, sizeof(ans)),
		 EBADF, "remote protocol: CONSOLE_WRITE on a read-only console: EBADF");
	CHECK_EQ(mon_ask(fd, NESTOR_MON_CONSOLE_WRITE, msg, sizeof(w), ans, sizeof(ans)),
		 EINVAL, "remote protocol: CONSOLE_WRITE shorter than its len: EINVAL");
	r.len = 0;
	CHECK_EQ(mon_ask(fd, NESTOR_MON_CONSOLE_READ, &r, sizeof(r), ans, sizeof(ans)),
		 EINVAL, "remote protocol: CONSOLE_READ of 0 bytes: EINVAL");
	r.len = 16;
	r.key_id = RMON_KEY_ID + 1;
	CHECK_EQ(mon_ask(fd, NESTOR_MON_CONSOLE_READ, &r, sizeof(r), ans, sizeof(ans)),
		 ENOKEY, "remote protocol: CONSOLE_READ with another key id: ENOKEY");
	close(fd);
}

static void remote(struct test *first)
{
	static const uint8_t key[32] = "console_l2 remote monitor key 01";
	struct test t = { .be = first->be, .dev = first->dev };
	struct nestor_key_add k = { .kind = NESTOR_KEY_MONITOR,
				    .key_id = RMON_KEY_ID, .key_len = 32 };
	struct nestor_key_del kd = { .kind = NESTOR_KEY_MONITOR,
				     .key_id = RMON_KEY_ID };
	struct nestor_console_status s;
	struct nestor_console_id d = { 0 };
	struct nestor_console_enable e = { 0 };
	const char *keyf = "/tmp/console_l2-monitor.key";
	const char *proxy_err = "/tmp/console_l2-proxy.err";
	char dir[256], mond[300], proxy[300], ctl[300], pfx[700], cmd[1024];
	char port[4][32], keyid[16], want[128];
	pid_t pids[4] = { -1, -1, -1, -1 }, sess = -1;
	int hold = -1, in[2] = { -1, -1 }, err, rc, st;
	FILE *f;

	bin_dir(self_path, dir, sizeof(dir));
	snprintf(mond, sizeof(mond), "%s/nestor-monitord", dir);
	snprintf(proxy, sizeof(proxy), "%s/monitor_proxy", dir);
	snprintf(ctl, sizeof(ctl), "%s/nestorctl", dir);
	memcpy(k.key, key, 32);
	if (!CHECK_EQ(ioc(first, NESTOR_IOC_KEY_ADD, &k), 0, "remote: add a monitor key"))
		return;
	f = fopen(keyf, "w");
	for (int i = 0; f && i < 32; i++)
		fprintf(f, "%02x", key[i]);
	if (!tap(f && !fclose(f), "remote: the key file for the client"))
		goto key;
	loopback_up();
	for (int i = 0; i < 4; i++)
		snprintf(port[i], sizeof(port[i]), "127.0.0.1:%d", RMON_PORT + i);
	pids[0] = spawn_quiet(mond, (char *[]){ mond, "--listen", port[0], "--quiet", NULL },
			      NULL);
	pids[1] = spawn_quiet(proxy, (char *[]){ proxy, "--listen", port[1], "--to", port[0],
						 "--mode", "tamper", NULL }, NULL);
	pids[2] = spawn_quiet(proxy, (char *[]){ proxy, "--listen", port[2], "--to", port[0],
						 "--mode", "replay", NULL }, NULL);
	pids[3] = spawn_quiet(proxy, (char *[]){ proxy, "--listen", port[3], "--to", port[0],
						 "--mode", "replay-input", NULL }, proxy_err);
	if (!tap(port_open(RMON_PORT) && port_open(RTAMPER_PORT) &&
		 port_open(RREPLAY_PORT) && port_open(RINPUT_PORT),
		 "remote: nestor-monitord and three test proxies listen on loopback"))
		goto procs;

	if (first->vm)
		kvm_vm_free(first->vm);
	first->vm = NULL;
	setup_vm(&t);
	/* Nothing bounds L2's wait for the line: the session types it. */
	t.sh->a.rx_forever = 1;
	if (!run_to(&t, 0) || !run_to(&t, 1) || !find_l2(&t))
		goto vm;
	e.l2_id = t.l2_id;
	if (!CHECK_EQ(ioc(&t, NESTOR_IOC_CONSOLE_ENABLE, &e), 0, "remote: enable the console"))
		goto vm;
	/* A reader that never reads keeps the banner for every new reader. */
	hold = attach(&t, NESTOR_CONSOLE_ATTACH_READ, &err);
	if (!tap(hold >= 0, "remote: a local reader holds the ring") || !run_to(&t, 2))
		goto disable;

	snprintf(keyid, sizeof(keyid), "%u", RMON_KEY_ID);
#define PFX(p) snprintf(pfx, sizeof(pfx), "%s --remote 127.0.0.1:%d --key-id %s --key-file %s console l2:%u", \
			ctl, (p), keyid, keyf, t.l2_id)
	PFX(RMON_PORT);
	snprintf(cmd, sizeof(cmd), "%s --dump >/tmp/rcon.out 2>/tmp/rcon.err", pfx);
	rc = system(cmd);
	if (!tap(rc == 0, "remote: nestorctl --remote console --dump exits 0"))
		show_file("/tmp/rcon.err");
	file_is("remote: --dump prints the banner, verified", "/tmp/rcon.out", BANNER);

	PFX(RTAMPER_PORT);
	snprintf(cmd, sizeof(cmd), "%s --dump >/tmp/rcon.out 2>/tmp/rcon.err", pfx);
	rc = system(cmd);
	tap(WIFEXITED(rc) && WEXITSTATUS(rc) == 1 && file_has("/tmp/rcon.err", "REJECTED") &&
	    file_has("/tmp/rcon.err", "HMAC"),
	    "remote: a tampered answer is rejected (exit 1, REJECTED: ... HMAC)");
	file_is("remote: ... and nothing of it is printed", "/tmp/rcon.out", "");

	PFX(RREPLAY_PORT);
	snprintf(cmd, sizeof(cmd), "%s --dump >/tmp/rcon.out 2>/tmp/rcon.err", pfx);
	rc = system(cmd);
	tap(WIFEXITED(rc) && WEXITSTATUS(rc) == 1 && file_has("/tmp/rcon.err", "REJECTED") &&
	    file_has("/tmp/rcon.err", "replayed"),
	    "remote: a replayed answer (the proxy's copy of the first) is rejected");
	file_is("remote: ... after the first, verified answer: the banner", "/tmp/rcon.out",
		BANNER);

	remote_protocol(t.l2_id);

	/* The session: input on a pipe, output to a file, until disabled. */
	PFX(RINPUT_PORT);
	if (pipe(in))
		goto disable;
	sess = fork();
	if (sess == 0) {
		int out = open("/tmp/rcon.session", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int errf = open("/tmp/rcon.session.err", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(in[0], 0);
		dup2(out, 1);
		dup2(errf, 2);
		close(in[1]);
		execl("/bin/sh", "sh", "-c", pfx, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	in[0] = -1;
	tap(write(in[1], INPUT, strlen(INPUT)) == (ssize_t)strlen(INPUT),
	    "remote: a line typed into the session");
	close(in[1]);
	in[1] = -1;
	if (!run_to(&t, 3))
		goto disable;
	tap(t.sh->a.line_len == strlen(INPUT) && !memcmp(t.sh->a.line, INPUT, t.sh->a.line_len),
	    "remote: L2 received exactly the typed line");
	CHECK_EQ(t.sh->io_uart, 0, "remote: L1 saw no exit in 0x3f8-0x3ff");
	memset(&s, 0, sizeof(s));
	s.l2_id = t.l2_id;
	if (CHECK_EQ(ioc(&t, NESTOR_IOC_CONSOLE_STATUS, &s), 0, "remote: status"))
		CHECK_EQ(s.rx_bytes, strlen(INPUT), "remote: rx_bytes is the line");
disable:
	d.l2_id = t.l2_id;
	CHECK_EQ(ioc(&t, NESTOR_IOC_CONSOLE_DISABLE, &d), 0, "remote: disable the console");
	if (sess > 0) {
		/* The session reads what is left, then the signed end of file. */
		waitpid(sess, &st, 0);
		if (!tap(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			 "remote: the session ends when the console is disabled (exit 0)"))
			show_file("/tmp/rcon.session.err");
		snprintf(want, sizeof(want), "%s%s\n", BANNER, INPUT);
		file_is("remote: the session showed the banner and the echo",
			"/tmp/rcon.session", want);
		tap(file_has("/tmp/rcon.session.err", "the console was disabled"),
		    "remote: ... and says the console was disabled");
		tap(file_has(proxy_err, "replayed CONSOLE_WRITE: status") &&
		    file_has(proxy_err, "(ESTALE)"),
		    "remote: the replayed input message was refused by the kernel (ESTALE)");
	}
	if (hold >= 0)
		close(hold);
	if (t.sh->a.line_len)
		run_to(&t, -2);
vm:
	kvm_vm_free(t.vm);
procs:
	for (int i = 0; i < 4; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGTERM);
			waitpid(pids[i], NULL, 0);
		}
	}
key:
	CHECK_EQ(ioc(first, NESTOR_IOC_KEY_DEL, &kd), 0, "remote: delete the monitor key");
	unlink(keyf);
#undef PFX
}

/* ------------------------------------------------------------------ */
/* Benchmark (-b)                                                      */
/* ------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct keys {
	int fd;
	uint64_t n, done, bad;
	uint64_t *rtt;
};

/* Types one key at a time and waits for its echo: the round trip. */
static void *key_thread(void *arg)
{
	struct keys *k = arg;
	struct pollfd p = { .fd = k->fd, .events = POLLIN };

	for (uint64_t i = 0; i < k->n; i++) {
		char c = 'a' + i % 26, r = 0;
		uint64_t t0 = now_ns();

		if (write(k->fd, &c, 1) != 1 || poll(&p, 1, 60000) != 1 ||
		    read(k->fd, &r, 1) != 1 || r != c) {
			k->bad++;
			break;
		}
		k->rtt[i] = now_ns() - t0;
		k->done++;
	}
	return NULL;
}

#define EXPIRY_PARAM "/sys/module/nestor/parameters/idle_expiry_ms"

/* Sets nestor's idle_expiry_ms; returns the old value (0 if unknown). */
static unsigned int set_expiry(unsigned int ms)
{
	unsigned int old = 0;
	FILE *f = fopen(EXPIRY_PARAM, "r+");

	if (!f)
		return 0;
	if (fscanf(f, "%u", &old) != 1)
		old = 0;
	rewind(f);
	fprintf(f, "%u\n", ms);
	fclose(f);
	return old;
}

static void bench(struct test *t)
{
	struct shared *sh = t->sh;
	uint64_t n = sh->a.bench_bytes, nk = sh->a.bench_keys;
	struct nestor_console_enable e = { .l2_id = t->l2_id, .ring_size = NESTOR_CONSOLE_DEFAULT_RING };
	struct nestor_console_status s0 = { .l2_id = t->l2_id }, s1 = { .l2_id = t->l2_id };
	struct nestor_console_id d = { .l2_id = t->l2_id };
	struct keys k = { .n = nk };
	uint64_t got = 0, bad = 0, t0, t1, io0, ex0, ex1;
	double bps0, bps1;
	static char buf[65536];
	unsigned int expiry_old = 0;
	pthread_t th;
	ssize_t m;
	int err;

	/* The whole output fits: this times the device, not a reader. */
	while (e.ring_size < 2 * n && e.ring_size < NESTOR_CONSOLE_MAX_RING)
		e.ring_size <<= 1;
	CHECK_EQ(ioc(t, NESTOR_IOC_CONSOLE_ENABLE, &e), 0, "bench: enable, ring %u", e.ring_size);
	t->rw = attach(t, NESTOR_CONSOLE_ATTACH_ALL, &err);
	if (!tap(t->rw >= 0, "bench: attach") || !run_to(t, 2))
		return;
	ioc(t, NESTOR_IOC_CONSOLE_STATUS, &s0);
	/*
	 * -E: a short idle expiry while L2 writes.  L1 never enters L2
	 * meanwhile (nestor serves every exit), and the context must live on.
	 */
	if (t->expiry_ms)
		expiry_old = set_expiry(t->expiry_ms);
	t0 = now_ns();
	if (!run_to(t, 3))
		return;
	t1 = now_ns();
	if (t->expiry_ms) {
		set_expiry(expiry_old);
		if (t1 - t0 > 2000000ull * t->expiry_ms)
			tap(true, "bench: the write took %lu ms, over twice idle_expiry_ms=%u",
			    (t1 - t0) / 1000000, t->expiry_ms);
		else	/* a fast machine: nothing shown about expiry */
			tap(true, "bench: the write outlasts idle_expiry_ms # SKIP it took only %lu ms",
			    (t1 - t0) / 1000000);
	}
	CHECK_EQ(ioc(t, NESTOR_IOC_CONSOLE_STATUS, &s1), 0,
		 "bench: the console's context is still there after the write");
	while ((m = read_now(t->rw, buf, sizeof(buf))) > 0) {
		for (ssize_t j = 0; j < m; j++)
			bad += (uint8_t)buf[j] != bench_byte(got + j);
		got += m;
	}
	tap(got == n && !bad, "bench: nestor path: %lu of %lu bytes, %lu wrong", got, n, bad);
	ex0 = s1.port_exits - s0.port_exits;
	bps0 = n * 1e9 / (t1 - t0);
	printf("# bench-console path=nestor bytes=%lu ns=%lu bytes_per_s=%.0f exits=%lu exits_per_byte=%.3f dropped=%llu\n",
	       n, t1 - t0, bps0, ex0, (double)ex0 / n, (unsigned long long)s1.dropped);

	/* Keystroke round trips, typed from a second thread while L2 runs. */
	k.fd = t->rw;
	k.rtt = calloc(nk ? nk : 1, sizeof(*k.rtt));
	pthread_create(&th, NULL, key_thread, &k);
	if (!run_to(t, 4)) {
		pthread_cancel(th);
		return;
	}
	pthread_join(th, NULL);
	tap(k.done == nk && !k.bad, "bench: %lu keystrokes echoed", k.done);
	if (k.done) {
		qsort(k.rtt, k.done, sizeof(*k.rtt), cmp_u64);
		printf("# bench-console keystroke_rtt_us n=%lu median=%.1f p90=%.1f min=%.1f max=%.1f\n",
		       k.done, k.rtt[k.done / 2] / 1e3, k.rtt[k.done * 9 / 10] / 1e3,
		       k.rtt[0] / 1e3, k.rtt[k.done - 1] / 1e3);
	}
	free(k.rtt);

	CHECK_EQ(ioc(t, NESTOR_IOC_CONSOLE_DISABLE, &d), 0, "bench: disable (L1 emulates from now)");
	io0 = sh->io_uart;
	t0 = now_ns();
	if (!run_to(t, 5))
		return;
	t1 = now_ns();
	ex1 = sh->io_uart - io0;
	tap(sh->l1_bench_bytes == n && !sh->l1_bench_bad,
	    "bench: L1 path: %lu of %lu bytes, %lu wrong", sh->l1_bench_bytes, n, sh->l1_bench_bad);
	bps1 = n * 1e9 / (t1 - t0);
	printf("# bench-console path=l1 bytes=%lu ns=%lu bytes_per_s=%.0f exits=%lu exits_per_byte=%.3f\n",
	       n, t1 - t0, bps1, ex1, (double)ex1 / n);
	printf("# bench-console ratio=%.2f goal=%s\n", bps0 / bps1,
	       bps0 >= 5 * bps1 ? "met" : "missed");
	if (run_to(t, -2))
		CHECK_EQ(sh->unexpected, 0, "bench: L1 saw nothing unexpected");
}

int main(int argc, char *argv[])
{
	struct test t = { .rmmod_cmd = "rmmod nestor", .rw = -1, .r2 = -1 };
	unsigned int timeout = 300;
	uint64_t bench_bytes = 0, bench_keys = 50;
	int opt;

	while ((opt = getopt(argc, argv, "t:R:b:k:E:")) != -1) {
		if (opt == 't')
			timeout = strtoul(optarg, NULL, 0);
		else if (opt == 'R')
			t.rmmod_cmd = optarg;
		else if (opt == 'b')
			bench_bytes = strtoull(optarg, NULL, 0);
		else if (opt == 'k')
			bench_keys = strtoull(optarg, NULL, 0);
		else if (opt == 'E')
			t.expiry_ms = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	self_path = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_guard_process();
	alarm(timeout);

	if (kvm_cpu_has(X86_FEATURE_SVM))
		t.be = BE_SVM;
	else if (kvm_cpu_has(X86_FEATURE_VMX))
		t.be = BE_VMX;
	if (!tap(t.be != BE_NONE, "KVM offers nested SVM or VMX"))
		goto out;
	t.dev = open(NESTOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (!tap(t.dev >= 0, "open " NESTOR_DEVICE_PATH))
		goto out;
	setup_vm(&t);
	t.sh->a.bench_bytes = bench_bytes;
	t.sh->a.bench_keys = bench_keys;
	if (!run_to(&t, 0) || !run_to(&t, 1) || !find_l2(&t))
		goto out;
	if (bench_bytes) {
		bench(&t);
		if (t.rw >= 0)
			close(t.rw);
		goto out;
	}
	stage1(&t);
	if (t.rw < 0 || t.r2 < 0 || !run_to(&t, 2))
		goto out;
	stage2(&t);
	if (!run_to(&t, 3))
		goto out;
	stage3(&t);
	arm_then_root_change(&t);
	if (!run_to(&t, -2))
		goto out;
	done(&t);
	root_change_not_taken(&t);
	armed(&t);
	remote(&t);
out:
	tap_finish();
	return tap_failed ? 1 : 0;
}
