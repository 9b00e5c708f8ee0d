// SPDX-License-Identifier: GPL-2.0-only
/*
 * mem_l2: nestor's introspection (translate, vectored read, list walk,
 * change tracking) against one L2 under a tiny L1 hypervisor (SVM or VMX).
 *
 * Layout. The L2 starts on L1's page tables, then builds its own: a PML4
 * page with L1's top-level entries plus PML4[3], which maps the test region
 * V = 0x18000000000 (L2-virtual) as
 *   V + 0 .. 4M      two 2 MiB pages -> L2-phys D .. D+4M; L1's nested
 *                    tables map those with one 2 MiB page each (D = L1-phys)
 *   V + 4M .. +128K  32 4 KiB pages -> L2-phys E + perm(i) pages (permuted);
 *                    L1's nested tables map E + j pages to L1-phys
 *                    D + 4M + (31 - j) pages (4 KiB, reversed)
 *   V + 6M .. 8M     one 2 MiB page -> L2-phys G; nested: 512 4 KiB pages
 *                    to L1-phys D + 8M (a large L2 page over small L1 ones)
 * and fills it: a pattern of 64-bit words (pattern(va)) over V..V+3M,
 * V+4M..V+4M+64K and V+6M..V+8M; at V+3M three lists (a 1000-node
 * doubly-linked list whose nodes, 65 bytes apart in V+4M+64K.., straddle
 * pages; a 10-node list with a cycle that misses the head; a list running
 * into unmapped memory). The L2's nested tables are pages of their own,
 * built by the host, never L1's own page tables (DESIGN.md's trap).
 *
 * Stage 1 (L2 done, L1 parked): translations, reads by L2-virtual,
 * L2-physical and L1-physical addresses checked against the pattern and
 * against L1 memory read directly by the host, per-segment errors, list
 * walks.  Stage 2: L1 points one nested 4 KiB entry at another page
 * (a guest write, which L0 sees as its shadowed page changes): the next
 * read shows the new page's data and the root generation moved.
 *
 * `mem_l2 TIMEOUT --bench R [CMD]` (selftests/bench/introspect.sh) runs
 * none of the checks above: with 64 MiB more mapped at V_BENCH, it times
 * TRANSLATE calls, reads the 64 MiB with READ and with pread() of this
 * process's /proc/PID/mem (R rounds, interleaved), then runs CMD with the
 * 1000-node list in its environment for the remote benchmark.
 *
 * Prints TAP; exit status 0 when every line is ok.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <signal.h>
#include <unistd.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "svm_util.h"
#include "vmx.h"

#include <linux/nestor.h>
#include "libnestor.h"
#include "nested_common.h"

#define HC_DONE		0xd0e

#define SZ_4K		0x1000ull
#define SZ_1M		0x100000ull
#define SZ_2M		0x200000ull
#define VBASE		0x18000000000ull	/* PML4 index 3 */
#define V_R1		VBASE			/* 2M/2M, pattern to +3M */
#define V_LISTS		(VBASE + 3 * SZ_1M)
#define V_R2		(VBASE + 2 * SZ_2M)	/* 4K/4K, 32 pages */
#define V_NODES		(V_R2 + 16 * SZ_4K)	/* 1000 nodes, 65 bytes apart */
#define V_R3		(VBASE + 3 * SZ_2M)	/* 2M/4K */
#define V_UNMAPPED	(VBASE + 5 * SZ_1M)	/* PT entry 256 */
#define R2_PAGES	32

/* L1-physical: memslot 2 */
#define SLOT2		2
#define D_GPA		0x80000000ull
#define SLOT2_SIZE	(12 * SZ_1M)
#define D_R2		(D_GPA + 4 * SZ_1M)
#define D_REMAP		(D_R2 + R2_PAGES * SZ_4K)	/* the remap target */
#define D_R3		(D_GPA + 8 * SZ_1M)
/* L2-physical ranges that exist only in the nested tables */
#define E_GPA		0xc0000000ull
#define G_GPA		0xc0400000ull

#define NODES		1000
#define NODE_STRIDE	65
#define NODE_LINK	8
#define NODE_ID		24
#define NODE_NAME	28
#define NODE_CRED	48
#define CRED_UID	4
#define HEAD1		(V_LISTS + 0x100)
#define CREDS		(V_LISTS + 0x1000)
#define HEAD2		(V_LISTS + 0x1f00)
#define CYC(i)		(V_LISTS + 0x2000 + (i) * 64)
#define HEAD3		(V_LISTS + 0x3000)
#define X(i)		(V_LISTS + 0x3100 + (i) * 0x100)
#define REMAP_PAGE	5	/* page of region 2 that L1 remaps */

/*
 * --bench only (selftests/bench/introspect.sh): 64 MiB more, L2-virtual
 * V_BENCH (PDPT entry 1 of PML4[3]) -> L2-phys H by 2 MiB pages, nested
 * 2 MiB pages -> L1-phys slot 3.  The host fills it; nothing else uses it.
 */
#define SLOT3		3
#define BENCH_SIZE	(64 * SZ_1M)
#define BENCH_L1PA	0x90000000ull
#define BENCH_L2PA	0xd0000000ull
#define V_BENCH		(VBASE + (1ull << 30))

/* Slot 1: shared block and the L2 stack (identity, 2 MiB nested page). */
#define SLOT1		1
#define SLOT1_GPA	0x40000000ull
#define SLOT1_SIZE	SZ_2M
#define L2_STACK_TOP	(SLOT1_GPA + 64 * SZ_4K)
/* L1 virtual addresses the host maps for L1 and L2 (otherwise unused) */
#define ALIAS_L1_PML4	0x7000000000ull
#define ALIAS_REMAP	0x7000001000ull

static inline uint64_t perm(uint64_t i) { return (i * 7) % R2_PAGES; }

static inline uint64_t pattern(uint64_t va)
{
	return ((va & ~7ull) ^ 0x5a5a5a5a5a5a5a5aull) * 0x9e3779b97f4a7c15ull;
}

static inline uint64_t node_va(uint64_t pos)
{
	return V_NODES + ((pos * 379) % NODES) * NODE_STRIDE;
}

enum backend { BE_NONE = 0, BE_VMX = NESTOR_BACKEND_VMX, BE_SVM = NESTOR_BACKEND_SVM };

struct shared {
	uint64_t backend;
	uint64_t l2_entry;
	uint64_t nested_root;		/* nCR3 (SVM) or EPT PML4 (VMX) */
	uint64_t svm_gva, vmx_gva;
	/* L2's own tables: pages the host allocated, GVA and GPA */
	uint64_t l1_pml4_alias;		/* GVA of L1's PML4 (to copy) */
	uint64_t pml4_gva, pml4_gpa, pdpt_gva, pdpt_gpa;
	uint64_t pd_gva, pd_gpa, pt_gva, pt_gpa;
	uint64_t pd2_gva, pd2_gpa;	/* --bench: maps V_BENCH; else 0 */
	/* the remap: L1 writes this entry of its nested tables */
	uint64_t remap_entry_gva, remap_entry_val;
	/* results */
	uint64_t l2_done, l2_cr3;
	uint64_t unexpected, unexp_code, unexp_info;
	uint64_t vm_error;
};

/* ------------------------------------------------------------------ */
/* L2                                                                  */
/* ------------------------------------------------------------------ */

#define P_P	1ull
#define P_RW	2ull
#define P_PS	0x80ull

static void __attribute__((__noinline__, __used__)) l2_main(struct shared *sh)
{
	uint64_t *pml4 = (void *)sh->pml4_gva, *l1 = (void *)sh->l1_pml4_alias;
	uint64_t *pdpt = (void *)sh->pdpt_gva, *pd = (void *)sh->pd_gva;
	uint64_t *pt = (void *)sh->pt_gva;
	uint64_t i, va, rax, rbx, rcx, rdx;

	/* Its own 4-level tables: 2 MiB and 4 KiB pages. */
	for (i = 0; i < 512; i++)
		pml4[i] = l1[i];
	pml4[3] = sh->pdpt_gpa | P_P | P_RW;
	for (i = 0; i < 512; i++)
		pdpt[i] = pd[i] = pt[i] = 0;
	pdpt[0] = sh->pd_gpa | P_P | P_RW;
	pd[0] = D_GPA | P_P | P_RW | P_PS;
	pd[1] = (D_GPA + SZ_2M) | P_P | P_RW | P_PS;
	pd[2] = sh->pt_gpa | P_P | P_RW;
	pd[3] = G_GPA | P_P | P_RW | P_PS;
	for (i = 0; i < R2_PAGES; i++)
		pt[i] = (E_GPA + perm(i) * SZ_4K) | P_P | P_RW;
	if (sh->pd2_gpa) {
		uint64_t *pd2 = (void *)sh->pd2_gva;

		for (i = 0; i < 512; i++)
			pd2[i] = i < BENCH_SIZE / SZ_2M ?
				 (BENCH_L2PA + i * SZ_2M) | P_P | P_RW | P_PS : 0;
		pdpt[1] = sh->pd2_gpa | P_P | P_RW;
	}
	asm volatile("mov %0, %%cr3" : : "r"(sh->pml4_gpa) : "memory");

	for (va = V_R1; va < V_LISTS; va += 8)
		*(volatile uint64_t *)va = pattern(va);
	for (va = V_R2; va < V_NODES; va += 8)
		*(volatile uint64_t *)va = pattern(va);
	for (va = V_R3; va < V_R3 + SZ_2M; va += 8)
		*(volatile uint64_t *)va = pattern(va);

	/* creds: uid 1000 + k */
	for (i = 0; i < 10; i++)
		*(volatile uint32_t *)(CREDS + i * 64 + CRED_UID) = 1000 + i;
	/* the 1000-node list, in list order pos */
	for (i = 0; i < NODES; i++) {
		uint8_t *n = (uint8_t *)node_va(i);
		uint64_t next = i + 1 < NODES ? node_va(i + 1) + NODE_LINK : HEAD1;
		uint64_t prev = i ? node_va(i - 1) + NODE_LINK : HEAD1;

		*(uint64_t *)n = 0x6e6f6465;
		*(uint64_t *)(n + NODE_LINK) = next;
		*(uint64_t *)(n + NODE_LINK + 8) = prev;
		*(uint32_t *)(n + NODE_ID) = i * 3 + 1;
		for (int k = 0; k < 16; k++)
			n[NODE_NAME + k] = 0;
		n[NODE_NAME] = 'n';
		n[NODE_NAME + 1] = '-';
		n[NODE_NAME + 2] = '0' + i / 100 % 10;
		n[NODE_NAME + 3] = '0' + i / 10 % 10;
		n[NODE_NAME + 4] = '0' + i % 10;
		*(uint64_t *)(n + NODE_CRED) = CREDS + (i % 10) * 64;
	}
	*(uint64_t *)HEAD1 = node_va(0) + NODE_LINK;
	*(uint64_t *)(HEAD1 + 8) = node_va(NODES - 1) + NODE_LINK;
	/* 10 nodes, the last pointing back to the fourth (not the head) */
	*(uint64_t *)HEAD2 = CYC(0) + NODE_LINK;
	for (i = 0; i < 10; i++) {
		*(uint64_t *)(CYC(i) + NODE_LINK) = (i < 9 ? CYC(i + 1) : CYC(3)) + NODE_LINK;
		*(uint32_t *)(CYC(i) + NODE_ID) = 500 + i;
		*(uint64_t *)(CYC(i) + NODE_CRED) = CREDS;
	}
	/* X0 (cred pointer unmapped) -> X1 -> a link in unmapped memory */
	*(uint64_t *)HEAD3 = X(0) + NODE_LINK;
	*(uint64_t *)(X(0) + NODE_LINK) = X(1) + NODE_LINK;
	*(uint64_t *)(X(1) + NODE_LINK) = V_UNMAPPED + NODE_LINK;
	*(uint32_t *)(X(0) + NODE_ID) = 900;
	*(uint32_t *)(X(1) + NODE_ID) = 901;
	*(uint64_t *)(X(0) + NODE_CRED) = V_UNMAPPED;
	*(uint64_t *)(X(1) + NODE_CRED) = CREDS;

	asm volatile("mov %%cr3, %0" : "=r"(sh->l2_cr3));
	sh->l2_done = 1;
	for (;;) {
		rax = HC_DONE;
		rbx = rcx = rdx = 0;
		l2_hypercall(sh->backend == BE_VMX, &rax, &rbx, &rcx, &rdx);
	}
}

/* ------------------------------------------------------------------ */
/* L1                                                                  */
/* ------------------------------------------------------------------ */

static struct l2_gprs l1_gprs;

static void l1_unexpected(struct shared *sh, uint64_t code, uint64_t info)
{
	sh->unexpected++;
	sh->unexp_code = code;
	sh->unexp_info = info;
}

static void l1_run_svm(struct shared *sh)
{
	struct svm_test_data *svm = (void *)sh->svm_gva;
	struct vmcb *vmcb = svm->vmcb;

	generic_svm_setup(svm, (void *)sh->l2_entry, (void *)L2_STACK_TOP);
	vmcb->control.intercept |= (1ULL << INTERCEPT_SHUTDOWN) |
				   (1ULL << INTERCEPT_HLT);
	vmcb->control.asid = 1;
	vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ASID;
	vmcb->control.nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	vmcb->control.nested_cr3 = sh->nested_root;
	vmcb->save.rsp = L2_STACK_TOP - 8;
	l1_gprs.rdi = (uint64_t)sh;
	for (int n = 0; n < 16; n++) {
		nested_l2_svm_run(&l1_gprs, svm->vmcb_gpa);
		if (vmcb->control.exit_code != SVM_EXIT_VMMCALL) {
			l1_unexpected(sh, vmcb->control.exit_code,
				      vmcb->control.exit_info_1);
			return;
		}
		vmcb->save.rip += 3;
		if (vmcb->save.rax == HC_DONE)
			return;
	}
	l1_unexpected(sh, 0xfffffffe, 0);
}

static void l1_run_vmx(struct shared *sh)
{
	struct vmx_pages *vmx = (void *)sh->vmx_gva;
	int launched = 0;

	GUEST_ASSERT(prepare_for_vmx_operation(vmx));
	GUEST_ASSERT(load_vmcs(vmx));
	prepare_vmcs(vmx, (void *)sh->l2_entry, (void *)L2_STACK_TOP);
	GUEST_ASSERT(vmreadz(SECONDARY_VM_EXEC_CONTROL) & SECONDARY_EXEC_ENABLE_EPT);
	vmwrite(GUEST_RSP, L2_STACK_TOP - 8);
	l1_gprs.rdi = (uint64_t)sh;
	for (int n = 0; n < 16; n++) {
		if (nested_l2_vmx_run(&l1_gprs, launched)) {
			sh->vm_error = vmreadz(VM_INSTRUCTION_ERROR);
			l1_unexpected(sh, 0xffffffff, sh->vm_error);
			return;
		}
		launched = 1;
		if (vmreadz(VM_EXIT_REASON) != EXIT_REASON_VMCALL) {
			l1_unexpected(sh, vmreadz(VM_EXIT_REASON),
				      vmreadz(EXIT_QUALIFICATION));
			return;
		}
		vmwrite(GUEST_RIP, vmreadz(GUEST_RIP) + vmreadz(VM_EXIT_INSTRUCTION_LEN));
		if (l1_gprs.rax == HC_DONE)
			return;
	}
	l1_unexpected(sh, 0xfffffffe, 0);
}

static void l1_guest_code(struct shared *sh)
{
	if (sh->backend == BE_SVM)
		l1_run_svm(sh);
	else
		l1_run_vmx(sh);
	GUEST_SYNC(1);
	/* L1 remaps one L2 page in its nested tables: a plain guest store. */
	*(volatile uint64_t *)sh->remap_entry_gva = sh->remap_entry_val;
	GUEST_SYNC(2);
	GUEST_DONE();
}

/* ------------------------------------------------------------------ */
/* Host: nested tables (NPT or EPT format) with any L2 -> L1 offset     */
/* ------------------------------------------------------------------ */

static bool ept;

static uint64_t nonleaf_bits(void)
{
	return ept ? 7 : PTE_P | PTE_RW | PTE_US | PTE_A;
}

static uint64_t leaf_bits(int level)
{
	if (ept)	/* RWX, write-back memory type */
		return 7 | (6 << 3) | (level > PG_LEVEL_4K ? PTE_PS : 0);
	return PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D |
	       (level > PG_LEVEL_4K ? PTE_PS : 0);
}

static bool present(uint64_t e)
{
	return ept ? (e & 7) : (e & PTE_P);
}

/* The address of the entry mapping l2pa at @level, creating tables. */
static uint64_t *nested_entry(struct kvm_vm *vm, vm_paddr_t root, uint64_t l2pa,
			      int level, uint64_t *entry_gpa)
{
	vm_paddr_t table = root;

	for (int l = PG_LEVEL_512G; l > level; l--) {
		uint64_t *e = (uint64_t *)addr_gpa2hva(vm, table) + ((l2pa >> PG_LEVEL_SHIFT(l)) & 511);

		if (!present(*e))
			*e = alloc_table(vm) | nonleaf_bits();
		TEST_ASSERT(!(*e & PTE_PS), "nested_entry: under a large page");
		table = *e & PTE_ADDR;
	}
	if (entry_gpa)
		*entry_gpa = table + ((l2pa >> PG_LEVEL_SHIFT(level)) & 511) * 8;
	return (uint64_t *)addr_gpa2hva(vm, table) + ((l2pa >> PG_LEVEL_SHIFT(level)) & 511);
}

static void nmap(struct kvm_vm *vm, vm_paddr_t root, uint64_t l2pa, uint64_t l1pa,
		 uint64_t size, int level)
{
	uint64_t step = PG_LEVEL_SIZE(level);

	for (uint64_t o = 0; o < size; o += step)
		*nested_entry(vm, root, l2pa + o, level, NULL) = (l1pa + o) | leaf_bits(level);
}

/* ------------------------------------------------------------------ */
/* Host: the test                                                      */
/* ------------------------------------------------------------------ */

struct test {
	enum backend be;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct shared *sh;
	int fd;
	uint32_t l2_id;
	uint32_t vm_id;
	uint64_t root_gen;
	uint64_t remap_entry_gpa;
	bool bench;
};

static int run_to(struct test *t, int want)
{
	struct ucall uc;

	if (_vcpu_run(t->vcpu)) {
		tap(false, "KVM_RUN of L1 (stage %d)", want);
		diag("  %s", strerror(errno));
		return -1;
	}
	switch (get_ucall(t->vcpu, &uc)) {
	case UCALL_SYNC:
		if ((int)uc.args[1] == want)
			return want;
		diag("  L1 at stage %lu", uc.args[1]);
		break;
	case UCALL_DONE:
		if (want == 0)
			return 0;
		break;
	case UCALL_ABORT:
		diag("  L1 assertion failed: %s at %s:%lu",
		     (const char *)uc.args[GUEST_ERROR_STRING],
		     (const char *)uc.args[GUEST_FILE], uc.args[GUEST_LINE]);
		break;
	default:
		diag("  unexpected exit %u", t->vcpu->run->exit_reason);
	}
	tap(false, "L1 reaches stage %d", want);
	return -1;
}

static void setup(struct test *t)
{
	struct kvm_vm *vm;
	struct shared *sh;
	vm_vaddr_t gva;
	uint64_t slot0_size, *e;
	vm_paddr_t root;

	t->vm = vm = vm_create_with_one_vcpu(&t->vcpu, l1_guest_code);
	ucall_init(vm, NULL);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SLOT1_GPA, SLOT1,
				    SLOT1_SIZE / SZ_4K, 0);
	virt_map(vm, SLOT1_GPA, SLOT1_GPA, SLOT1_SIZE / SZ_4K);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, D_GPA, SLOT2,
				    SLOT2_SIZE / SZ_4K, 0);
	sh = t->sh = addr_gpa2hva(vm, SLOT1_GPA);
	memset(sh, 0, sizeof(*sh));
	sh->backend = t->be;
	sh->l2_entry = (uint64_t)l2_main;

	if (t->be == BE_SVM) {
		vcpu_alloc_svm(vm, &gva);
		sh->svm_gva = gva;
		root = alloc_table(vm);
	} else {
		struct vmx_pages *vmx = vcpu_alloc_vmx(vm, &gva);

		sh->vmx_gva = gva;
		prepare_eptp(vmx, vm, 0);	/* the EPT PML4; we fill it */
		root = vmx->eptp_gpa;
	}
	sh->nested_root = root;

	/* The L2's own page-table pages, and an alias of L1's PML4. */
#define TABLE_PAGE(name) do {						\
		gva = vm_vaddr_alloc_page(vm);				\
		sh->name##_gva = gva;					\
		sh->name##_gpa = addr_gva2gpa(vm, gva);			\
	} while (0)
	TABLE_PAGE(pml4);
	TABLE_PAGE(pdpt);
	TABLE_PAGE(pd);
	TABLE_PAGE(pt);
	if (t->bench) {
		TABLE_PAGE(pd2);
		vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, BENCH_L1PA, SLOT3,
					    BENCH_SIZE / SZ_4K, 0);
	}
	virt_pg_map(vm, ALIAS_L1_PML4, vm->pgd);
	sh->l1_pml4_alias = ALIAS_L1_PML4;

	/* Nested tables: slot 0 and 1 identity, then the test region. */
	slot0_size = memslot2region(vm, 0)->region.memory_size;
	nmap(vm, root, 0, 0, slot0_size, PG_LEVEL_4K);
	nmap(vm, root, SLOT1_GPA, SLOT1_GPA, SLOT1_SIZE, PG_LEVEL_2M);
	nmap(vm, root, D_GPA, D_GPA, 2 * SZ_2M, PG_LEVEL_2M);
	for (uint64_t j = 0; j < R2_PAGES; j++)
		nmap(vm, root, E_GPA + j * SZ_4K, D_R2 + (R2_PAGES - 1 - j) * SZ_4K, SZ_4K,
		     PG_LEVEL_4K);
	nmap(vm, root, G_GPA, D_R3, SZ_2M, PG_LEVEL_4K);
	if (t->bench) {
		nmap(vm, root, BENCH_L2PA, BENCH_L1PA, BENCH_SIZE, PG_LEVEL_2M);
		/* Faults every backing page in before anything is timed. */
		uint64_t *h = addr_gpa2hva(vm, BENCH_L1PA);

		for (uint64_t o = 0; o < BENCH_SIZE; o += 8)
			h[o / 8] = pattern(V_BENCH + o);
	}
	TEST_ASSERT(memslot2region(vm, 0)->region.memory_size == slot0_size,
		    "memslot 0 grew");

	/* L1 will point L2-phys page perm(REMAP_PAGE) at D_REMAP. */
	e = nested_entry(vm, root, E_GPA + perm(REMAP_PAGE) * SZ_4K, PG_LEVEL_4K,
			 &t->remap_entry_gpa);
	sh->remap_entry_val = D_REMAP | (*e & 0xfff);
	virt_pg_map(vm, ALIAS_REMAP, t->remap_entry_gpa & ~0xfffull);
	sh->remap_entry_gva = ALIAS_REMAP + (t->remap_entry_gpa & 0xfff);
	/* The remap target holds other data: ~pattern of the same VA. */
	for (uint64_t o = 0; o < SZ_4K; o += 8)
		*(uint64_t *)addr_gpa2hva(vm, D_REMAP + o) =
			~pattern(V_R2 + REMAP_PAGE * SZ_4K + o);

	vcpu_args_set(t->vcpu, 1, (uint64_t)SLOT1_GPA);
}

static int find_l2(struct test *t)
{
	struct nestor_vm *vms;
	struct nestor_l2 *l2s;
	size_t nr_vms, nr_l2s, found = 0;
	struct nestor *n;
	int err;

	n = nestor_open(&err);
	if (!tap(n != NULL, "nestor_open"))
		return -1;
	err = nestor_list(n, &vms, &nr_vms, &l2s, &nr_l2s);
	if (!tap(err == 0, "nestor_list")) {
		nestor_close(n);
		return -1;
	}
	for (size_t k = 0; k < nr_l2s; k++) {
		if (l2s[k].vm_pid == (uint32_t)getpid()) {
			t->l2_id = l2s[k].id;
			t->vm_id = l2s[k].vm_id;
			found++;
		}
	}
	nestor_free_list(vms, nr_vms, l2s, nr_l2s);
	nestor_close(n);
	return CHECK_EQ(found, 1, "the registry has this VM's one L2 context") ? 0 : -1;
}

static void target(struct test *t, struct nestor_mem_target *tg)
{
	memset(tg, 0, sizeof(*tg));
	tg->l2_id = t->l2_id;
	tg->vcpu_id = 0;
}

static int xlate(struct test *t, uint32_t space, uint64_t addr, uint32_t flags,
		 uint64_t cr3, struct nestor_translate *x)
{
	memset(x, 0, sizeof(*x));
	target(t, &x->target);
	x->space = space;
	x->addr = addr;
	x->flags = flags;
	x->target.cr3 = cr3;
	return ioctl(t->fd, NESTOR_IOC_TRANSLATE, x) ? errno : 0;
}

static void check_translate(struct test *t)
{
	struct nestor_translate x, y;
	uint64_t va;
	int err;

	/* 2 MiB over 2 MiB */
	va = V_R1 + SZ_2M + 0x1234;
	err = xlate(t, NESTOR_SPACE_L2_VIRT, va, 0, 0, &x);
	CHECK_EQ(err, 0, "translate V+2M+0x1234 succeeds");
	CHECK_EQ(x.status, NESTOR_MEM_OK, "... status OK");
	CHECK_EQ(x.l2_levels, 3, "... L2 walk: PML4, PDPT, PD (2 MiB leaf)");
	CHECK_EQ(x.l2_page_size, SZ_2M, "... L2 page size 2 MiB");
	CHECK_EQ(x.l2_phys, D_GPA + SZ_2M + 0x1234, "... L2-physical");
	CHECK_EQ(x.nested_page_size, SZ_2M, "... nested page size 2 MiB");
	CHECK_EQ(x.nested_levels, 3, "... nested walk ends at level 2");
	CHECK_EQ(x.l1_phys, D_GPA + SZ_2M + 0x1234, "... L1-physical");
	CHECK_EQ(x.l2[2].leaf && x.l2[2].level == 2 && (x.l2[2].entry & P_PS), 1,
		 "... level-2 step is a PS leaf");
	CHECK_EQ(x.l2[0].table, t->sh->pml4_gpa, "... walk starts at L2's own PML4");
	CHECK_EQ(x.gen.cr3, t->sh->l2_cr3, "... used the vCPU's L2 CR3");
	CHECK_EQ(x.gen.root & PTE_ADDR, t->sh->nested_root, "... and L1's nested root");
	CHECK_EQ(x.l2_perm & (NESTOR_PERM_R | NESTOR_PERM_W | NESTOR_PERM_U),
		 NESTOR_PERM_R | NESTOR_PERM_W, "... L2 permissions R, W, not U");
	CHECK_EQ(x.nested_perm & (NESTOR_PERM_R | NESTOR_PERM_W | NESTOR_PERM_X),
		 NESTOR_PERM_R | NESTOR_PERM_W | NESTOR_PERM_X, "... nested permissions RWX");
	t->root_gen = x.gen.root_gen;

	/* 4 KiB over 4 KiB, permuted and reversed */
	va = V_R2 + 3 * SZ_4K + 5;
	err = xlate(t, NESTOR_SPACE_L2_VIRT, va, 0, 0, &x);
	CHECK_EQ(err | x.status, 0, "translate V+4M+3 pages+5");
	CHECK_EQ(x.l2_levels, 4, "... L2 walk of 4 levels");
	CHECK_EQ(x.l2_page_size, SZ_4K, "... 4 KiB L2 page");
	CHECK_EQ(x.l2_phys, E_GPA + perm(3) * SZ_4K + 5, "... L2-physical (L2's permutation)");
	CHECK_EQ(x.nested_page_size, SZ_4K, "... 4 KiB nested page");
	CHECK_EQ(x.nested_levels, 4, "... nested walk of 4 levels");
	CHECK_EQ(x.l1_phys, D_R2 + (R2_PAGES - 1 - perm(3)) * SZ_4K + 5,
		 "... L1-physical (L1's reversal)");

	/* 2 MiB over 4 KiB */
	va = V_R3 + 0x12345;
	err = xlate(t, NESTOR_SPACE_L2_VIRT, va, 0, 0, &x);
	CHECK_EQ(err | x.status, 0, "translate V+6M+0x12345");
	CHECK_EQ(x.l2_page_size, SZ_2M, "... 2 MiB L2 page");
	CHECK_EQ(x.nested_page_size, SZ_4K, "... over 4 KiB nested pages");
	CHECK_EQ(x.l1_phys, D_R3 + 0x12345, "... L1-physical");

	/* An explicit CR3 gives the same answer. */
	err = xlate(t, NESTOR_SPACE_L2_VIRT, va, NESTOR_MEM_F_CR3, t->sh->l2_cr3, &y);
	CHECK_EQ(err | y.status, 0, "translate with F_CR3 = the L2's CR3");
	CHECK_EQ(y.l1_phys, x.l1_phys, "... same L1-physical address");
	CHECK_EQ(y.gen.cr3_gen, 0, "... no CR3 generation for an explicit CR3");
	/* L1's own CR3 does not map the test region. */
	err = xlate(t, NESTOR_SPACE_L2_VIRT, va, NESTOR_MEM_F_CR3, t->vm->pgd, &y);
	CHECK_EQ(err, 0, "translate with F_CR3 = L1's page tables");
	CHECK_EQ(y.status, NESTOR_MEM_L2_FAULT, "... not mapped there: L2 fault");

	/* L2-physical and L1-physical spaces */
	err = xlate(t, NESTOR_SPACE_L2_PHYS, G_GPA + 0x3008, 0, 0, &x);
	CHECK_EQ(err | x.status, 0, "translate L2-physical G+0x3008");
	CHECK_EQ(x.l1_phys, D_R3 + 0x3008, "... L1-physical");
	CHECK_EQ(x.l2_levels, 0, "... no L2 walk");
	err = xlate(t, NESTOR_SPACE_L1_PHYS, D_GPA, 0, 0, &x);
	CHECK_EQ(err | x.status, 0, "translate L1-physical D");
	CHECK_EQ(x.l1_phys, D_GPA, "... is itself");

	/* failures */
	err = xlate(t, NESTOR_SPACE_L2_VIRT, V_UNMAPPED, 0, 0, &x);
	CHECK_EQ(x.status, NESTOR_MEM_L2_FAULT, "translate unmapped V+5M: L2 fault");
	CHECK_EQ(x.l2_levels, 4, "... after 4 steps");
	CHECK_EQ(x.l2[3].entry & P_P, 0, "... the last step is not present");
	err = xlate(t, NESTOR_SPACE_L2_PHYS, E_GPA + R2_PAGES * SZ_4K, 0, 0, &x);
	CHECK_EQ(x.status, NESTOR_MEM_NESTED_FAULT,
		 "translate L2-physical E+32 pages: nested fault");
	err = xlate(t, NESTOR_SPACE_L2_VIRT, 0x0000800000000000ull, 0, 0, &x);
	CHECK_EQ(x.status, NESTOR_MEM_NONCANONICAL, "translate 0x800000000000: non-canonical");
	err = xlate(t, NESTOR_SPACE_L1_PHYS, 0x7f0000000000ull, 0, 0, &x);
	CHECK_EQ(x.status, NESTOR_MEM_L1_UNBACKED, "translate L1-physical with no memory");

	/* a vCPU that never ran this L2 */
	memset(&x, 0, sizeof(x));
	target(t, &x.target);
	x.target.vcpu_id = 7;
	x.space = NESTOR_SPACE_L2_VIRT;
	x.addr = V_R1;
	CHECK_EQ(ioctl(t->fd, NESTOR_IOC_TRANSLATE, &x) ? errno : 0, ESRCH,
		 "L2-virtual through vCPU 7 (never ran this L2): ESRCH");
	x.space = NESTOR_SPACE_L2_PHYS;
	x.addr = D_GPA;
	CHECK_EQ(ioctl(t->fd, NESTOR_IOC_TRANSLATE, &x) ? errno : 0, 0,
		 "L2-physical needs no vCPU");
}

/* Expected bytes of the pattern at va. */
static void expect_pattern(uint64_t va, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t w = pattern(va + i);

		buf[i] = w >> (8 * ((va + i) & 7));
	}
}

static bool same_as_pattern(uint64_t va, const uint8_t *got, size_t len)
{
	uint8_t *want = malloc(len);
	bool same;

	TEST_ASSERT(want, "malloc");
	expect_pattern(va, want, len);
	same = !memcmp(got, want, len);
	free(want);
	return same;
}

static void check_read(struct test *t)
{
	enum { NS = 9, BIG = 3 * SZ_1M };
	/* Heap, not .bss: the library loads the whole ELF into the guest. */
	uint8_t (*bufs)[16384] = calloc(NS, 16384), *big = calloc(1, BIG);
	struct nestor_mem_seg s[NS];
	struct nestor_mem_read r;
	uint8_t *l1mem;
	int err, i;

	memset(s, 0, sizeof(s));
	/* 0: across three permuted 4 KiB pages */
	s[0] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_VIRT, 0, V_R2 + SZ_4K - 100, 8192 };
	/* 1: across the two 2 MiB pages */
	s[1] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_VIRT, 0, V_R1 + SZ_2M - 50, 100 };
	/* 2: L2-physical page of VA page 2 */
	s[2] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_PHYS, 0, E_GPA + perm(2) * SZ_4K, 4096 };
	/* 3: L1-physical in the 2M-over-4K region, across pages */
	s[3] = (struct nestor_mem_seg){ NESTOR_SPACE_L1_PHYS, 0, D_R3 + 0x2ff8, 16 };
	/* 4: runs into unmapped L2-virtual memory after 8 bytes */
	s[4] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_VIRT, 0, V_R2 + R2_PAGES * SZ_4K - 8, 16 };
	/* 5: L2-physical with no nested mapping */
	s[5] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_PHYS, 0, E_GPA + R2_PAGES * SZ_4K, 8 };
	/* 6: non-canonical */
	s[6] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_VIRT, 0, 0x0000900000000000ull, 8 };
	/* 7: a buffer the kernel cannot write (below) */
	s[7] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_VIRT, 0, V_R1, 8 };
	/* 8: 2M-over-4K by L2-virtual, across a 4 KiB nested boundary */
	s[8] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_VIRT, 0, V_R3 + 0x5ffc, 12000 };
	for (i = 0; i < NS; i++)
		s[i].buf = (uintptr_t)bufs[i];
	s[7].buf = 8;	/* unmapped */

	memset(&r, 0, sizeof(r));
	target(t, &r.target);
	r.nr_segs = NS;
	r.seg_size = sizeof(s[0]);
	r.segs = (uintptr_t)s;
	err = ioctl(t->fd, NESTOR_IOC_READ, &r) ? errno : 0;
	CHECK_EQ(err, 0, "vectored read of %d segments", NS);
	CHECK_EQ(r.nr_ok, 5, "... 5 segments complete");
	CHECK_EQ(r.bytes, 8192 + 100 + 4096 + 16 + 8 + 12000, "... bytes read");
	CHECK_EQ(r.gen.changed, 0, "... nothing changed during the call");

	CHECK_EQ(s[0].status, NESTOR_MEM_OK, "seg 0 (3 permuted pages) OK");
	tap(same_as_pattern(V_R2 + SZ_4K - 100, bufs[0], 8192), "seg 0 data is L2's");
	l1mem = addr_gpa2hva(t->vm, D_R2 + (R2_PAGES - 1 - perm(1)) * SZ_4K);
	tap(!memcmp(bufs[0] + 100, l1mem, 4096),
	    "seg 0 data is where L1's tables put it in L1 memory");
	CHECK_EQ(s[1].status, NESTOR_MEM_OK, "seg 1 (across 2 MiB pages) OK");
	tap(same_as_pattern(V_R1 + SZ_2M - 50, bufs[1], 100), "seg 1 data is L2's");
	CHECK_EQ(s[2].status, NESTOR_MEM_OK, "seg 2 (L2-physical) OK");
	tap(same_as_pattern(V_R2 + 2 * SZ_4K, bufs[2], 4096), "seg 2 data is L2's page 2");
	CHECK_EQ(s[3].status, NESTOR_MEM_OK, "seg 3 (L1-physical) OK");
	tap(same_as_pattern(V_R3 + 0x2ff8, bufs[3], 16), "seg 3 data");
	CHECK_EQ(s[4].status, NESTOR_MEM_L2_FAULT, "seg 4 fails: L2 fault");
	CHECK_EQ(s[4].done, 8, "... after 8 bytes");
	CHECK_EQ(s[4].fail_addr, V_R2 + R2_PAGES * SZ_4K, "... failing at the unmapped page");
	CHECK_EQ(*(uint64_t *)bufs[4], 0, "... the 8 bytes are right (untouched by L2)");
	CHECK_EQ(s[5].status, NESTOR_MEM_NESTED_FAULT, "seg 5 fails: nested fault");
	CHECK_EQ(s[5].done, 0, "... nothing read");
	CHECK_EQ(s[6].status, NESTOR_MEM_NONCANONICAL, "seg 6 fails: non-canonical");
	CHECK_EQ(s[7].status, NESTOR_MEM_BAD_BUFFER, "seg 7 fails: bad user buffer");
	CHECK_EQ(s[8].status, NESTOR_MEM_OK, "seg 8 (2M L2 page over 4K nested) OK");
	tap(same_as_pattern(V_R3 + 0x5ffc, bufs[8], 12000), "seg 8 data");

	/* One segment of 3 MiB */
	memset(s, 0, sizeof(s));
	s[0] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_VIRT, 0, V_R1, BIG };
	s[0].buf = (uintptr_t)big;
	memset(&r, 0, sizeof(r));
	target(t, &r.target);
	r.nr_segs = 1;
	r.seg_size = sizeof(s[0]);
	r.segs = (uintptr_t)s;
	err = ioctl(t->fd, NESTOR_IOC_READ, &r) ? errno : 0;
	CHECK_EQ(err | s[0].status, 0, "read 3 MiB in one segment");
	tap(same_as_pattern(V_R1, big, BIG), "... all of it is L2's data");
	free(bufs);
	free(big);
}

struct rec1000 {
	struct nestor_walk_record h;
	uint32_t id;
	uint32_t pad0;
	char name[16];
	uint32_t uid;
	uint32_t pad1;
};

static int walk(struct test *t, uint64_t head, uint32_t max, void *rec, size_t len,
		struct nestor_list_walk *w)
{
	static struct nestor_walk_field f[3] = {
		{ .offset = NODE_ID, .size = 4 },
		{ .offset = NODE_NAME, .size = 16 },
		{ .offset = NODE_CRED, .size = 4, .flags = NESTOR_FIELD_F_DEREF,
		  .deref_offset = CRED_UID },
	};

	memset(w, 0, sizeof(*w));
	target(t, &w->target);
	w->space = NESTOR_SPACE_L2_VIRT;
	w->head = head;
	w->link_offset = NODE_LINK;
	w->next_offset = 0;
	w->nr_fields = 3;
	w->fields = (uintptr_t)f;
	w->max_nodes = max;
	w->records = (uintptr_t)rec;
	w->records_len = len;
	return ioctl(t->fd, NESTOR_IOC_LIST_WALK, w) ? errno : 0;
}

static void check_walk(struct test *t)
{
	struct rec1000 *rec = calloc(2000, sizeof(*rec));
	struct nestor_list_walk w;
	int err, bad = 0;
	char name[16];

	_Static_assert(sizeof(struct rec1000) == 48, "record layout");
	err = walk(t, HEAD1, 2000, rec, 2000 * sizeof(*rec), &w);
	CHECK_EQ(err, 0, "walk the 1000-node list in one call");
	CHECK_EQ(w.record_size, sizeof(struct rec1000), "... record size 16 + 8 + 16 + 8");
	CHECK_EQ(w.end, NESTOR_WALK_END_HEAD, "... ends back at the head");
	CHECK_EQ(w.nr_nodes, NODES, "... 1000 nodes");
	CHECK_EQ(w.nr_bad, 0, "... none unreadable");
	for (uint32_t i = 0; i < w.nr_nodes && i < NODES; i++) {
		memset(name, 0, sizeof(name));
		snprintf(name, sizeof(name), "n-%03u", i % 1000);
		if (rec[i].h.node != node_va(i) || rec[i].h.status || rec[i].h.bad_fields ||
		    rec[i].id != i * 3 + 1 || memcmp(rec[i].name, name, 16) ||
		    rec[i].uid != 1000 + i % 10) {
			if (!bad++)
				diag("  node %u: at %#llx id %u name %.16s uid %u", i,
				     (unsigned long long)rec[i].h.node, rec[i].id,
				     rec[i].name, rec[i].uid);
		}
	}
	CHECK_EQ(bad, 0, "... every record matches (address, id, name, uid via a pointer)");

	err = walk(t, HEAD1, 1000, rec, 10 * sizeof(struct rec1000), &w);
	CHECK_EQ(err, 0, "walk with room for 10 records");
	CHECK_EQ(w.end, NESTOR_WALK_END_FULL, "... stops: buffer full");
	CHECK_EQ(w.nr_nodes, 10, "... after 10 records");

	err = walk(t, HEAD2, 5, rec, 2000 * sizeof(*rec), &w);
	CHECK_EQ(err, 0, "walk the cyclic list, limit 5");
	CHECK_EQ(w.end, NESTOR_WALK_END_LIMIT, "... stops at the limit");
	CHECK_EQ(w.nr_nodes, 5, "... with 5 records");
	err = walk(t, HEAD2, 1000, rec, 2000 * sizeof(*rec), &w);
	CHECK_EQ(err, 0, "walk the cyclic list, limit 1000");
	CHECK_EQ(w.end, NESTOR_WALK_END_CYCLE, "... stops at the cycle");
	CHECK_EQ(w.nr_nodes, 10, "... after its 10 nodes");
	CHECK_EQ(rec[9].id, 509, "... the last record is the tenth node");

	err = walk(t, HEAD3, 1000, rec, 2000 * sizeof(*rec), &w);
	CHECK_EQ(err, 0, "walk the list into unmapped memory");
	CHECK_EQ(w.end, NESTOR_WALK_END_UNREADABLE, "... ends at an unreadable link");
	CHECK_EQ(w.nr_nodes, 3, "... 3 nodes (the last one unreadable)");
	CHECK_EQ(w.nr_bad, 2, "... 2 reported unreadable");
	CHECK_EQ(rec[0].h.bad_fields, 4, "... node 0: only the dereferenced field failed");
	CHECK_EQ(rec[0].id, 900, "... node 0: its id was read");
	CHECK_EQ(rec[1].h.bad_fields | rec[1].h.status, 0, "... node 1 fine");
	CHECK_EQ(rec[2].h.bad_fields, 7, "... node 2: no field readable");
	CHECK_EQ(rec[2].h.status, NESTOR_MEM_L2_FAULT, "... status L2 fault");
	free(rec);
}

/* The monitor key of the signed checks (and of monitord, --key-file). */
#define MON_KEY_ID	0x4d4f4e01u
static const uint8_t mon_key[32] = "nestor-mem_l2-monitor-key-0123!";

static int add_monitor_key(struct test *t)
{
	struct nestor_key_add a = { .kind = NESTOR_KEY_MONITOR,
				    .key_id = MON_KEY_ID, .key_len = 32 };

	memcpy(a.key, mon_key, 32);
	return ioctl(t->fd, NESTOR_IOC_KEY_ADD, &a) ? errno : 0;
}

/*
 * Signed results: the kernel's MAC verifies with the key in userspace
 * (tools/lib/sig.c); a changed byte of data, MAC or generation, another
 * key, and an answer to another nonce (a replay) do not.
 */
static void check_signed(struct test *t)
{
	uint8_t b0[8192], b1[16], b2[4096], nonce[16], other[16], wrong[32];
	struct nestor_mem_seg s[3];
	struct nestor_mem_read r;
	struct nestor_list_walk w;
	struct rec1000 *rec = calloc(1000, sizeof(*rec));
	static struct nestor_walk_field f[3] = {
		{ .offset = NODE_ID, .size = 4 },
		{ .offset = NODE_NAME, .size = 16 },
		{ .offset = NODE_CRED, .size = 4, .flags = NESTOR_FIELD_F_DEREF,
		  .deref_offset = CRED_UID },
	};
	int err;

	CHECK_EQ(add_monitor_key(t), 0, "signed: add a monitor key");
	memset(s, 0, sizeof(s));
	s[0] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_VIRT, 0, V_R2 + SZ_4K - 100, 8192 };
	s[1] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_VIRT, 0, V_R2 + R2_PAGES * SZ_4K - 8, 16 };
	s[2] = (struct nestor_mem_seg){ NESTOR_SPACE_L2_PHYS, 0, E_GPA + perm(2) * SZ_4K, 4096 };
	s[0].buf = (uintptr_t)b0;
	s[1].buf = (uintptr_t)b1;
	s[2].buf = (uintptr_t)b2;
	memset(&r, 0, sizeof(r));
	target(t, &r.target);
	r.flags = NESTOR_MEM_F_SIGN;
	r.nr_segs = 3;
	r.seg_size = sizeof(s[0]);
	r.segs = (uintptr_t)s;
	r.sig.key_id = MON_KEY_ID;
	nestor_sig_nonce(nonce);
	memcpy(r.sig.nonce, nonce, 16);
	err = ioctl(t->fd, NESTOR_IOC_READ, &r) ? errno : 0;
	CHECK_EQ(err, 0, "signed: vectored read of 3 segments");
	CHECK_EQ(r.nr_ok, 2, "... 2 complete, one fails after 8 bytes");
	CHECK_EQ(s[1].status, NESTOR_MEM_L2_FAULT, "... per-segment status kept");
	tap(same_as_pattern(V_R2 + SZ_4K - 100, b0, 8192) &&
	    same_as_pattern(V_R2 + 2 * SZ_4K, b2, 4096), "... the data is L2's");
	CHECK_EQ(r.sig.vm_id, t->vm_id, "... signed for the L1 VM id");
	CHECK_EQ(r.sig.ident_len, 0, "... no identity registered: empty name");
	CHECK_EQ(nestor_sig_verify_read(mon_key, 32, nonce, &r, s), 0,
		 "signed read verifies with the monitor key");
	b0[4000] ^= 1;
	CHECK_EQ(nestor_sig_verify_read(mon_key, 32, nonce, &r, s), -EBADMSG,
		 "... one changed data byte: rejected");
	b0[4000] ^= 1;
	s[1].done--;
	CHECK_EQ(nestor_sig_verify_read(mon_key, 32, nonce, &r, s), -EBADMSG,
		 "... a changed segment 'done': rejected");
	s[1].done++;
	r.gen.root_gen++;
	CHECK_EQ(nestor_sig_verify_read(mon_key, 32, nonce, &r, s), -EBADMSG,
		 "... a changed generation: rejected");
	r.gen.root_gen--;
	r.sig.mac[7] ^= 0x80;
	CHECK_EQ(nestor_sig_verify_read(mon_key, 32, nonce, &r, s), -EBADMSG,
		 "... a forged MAC: rejected");
	r.sig.mac[7] ^= 0x80;
	memcpy(wrong, mon_key, 32);
	wrong[0] ^= 1;
	CHECK_EQ(nestor_sig_verify_read(wrong, 32, nonce, &r, s), -EBADMSG,
		 "... another key: rejected");
	nestor_sig_nonce(other);
	CHECK_EQ(nestor_sig_verify_read(mon_key, 32, other, &r, s), -ESTALE,
		 "... replayed as the answer to a new nonce: rejected");
	memcpy(r.sig.nonce, other, 16);
	CHECK_EQ(nestor_sig_verify_read(mon_key, 32, other, &r, s), -EBADMSG,
		 "... replayed with the new nonce pasted in: rejected");

	memset(&w, 0, sizeof(w));
	target(t, &w.target);
	w.flags = NESTOR_MEM_F_SIGN;
	w.space = NESTOR_SPACE_L2_VIRT;
	w.head = HEAD1;
	w.link_offset = NODE_LINK;
	w.nr_fields = 3;
	w.fields = (uintptr_t)f;
	w.max_nodes = 1000;
	w.records = (uintptr_t)rec;
	w.records_len = 1000 * sizeof(*rec);
	w.sig.key_id = MON_KEY_ID;
	memcpy(w.sig.nonce, nonce, 16);
	err = ioctl(t->fd, NESTOR_IOC_LIST_WALK, &w) ? errno : 0;
	CHECK_EQ(err, 0, "signed: walk the 1000-node list");
	CHECK_EQ(w.nr_nodes, NODES, "... 1000 nodes");
	CHECK_EQ(nestor_sig_verify_walk(mon_key, 32, nonce, &w, f, rec), 0,
		 "signed walk verifies");
	rec[500].uid ^= 1;
	CHECK_EQ(nestor_sig_verify_walk(mon_key, 32, nonce, &w, f, rec), -EBADMSG,
		 "... a changed record: rejected");
	rec[500].uid ^= 1;
	w.nr_nodes--;
	CHECK_EQ(nestor_sig_verify_walk(mon_key, 32, nonce, &w, f, rec), -EBADMSG,
		 "... a dropped record: rejected");
	free(rec);
}

/* nestorctl translate / read, next to this binary, against this L2. */
static void check_nestorctl(struct test *t, const char *self)
{
	char cmd[512], out[4096], want[128], dir[256];
	uint8_t b[16];
	int rc;

	bin_dir(self, dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "%s/nestorctl translate l2:%u %#llx", dir, t->l2_id,
		 (unsigned long long)(V_R2 + 3 * SZ_4K + 5));
	rc = run_capture(cmd, out, sizeof(out));
	snprintf(want, sizeof(want), "l1-phys %#llx (page 4096, rwxu)",
		 (unsigned long long)(D_R2 + (R2_PAGES - 1 - perm(3)) * SZ_4K + 5));
	if (ept)	/* EPT has no user bit */
		snprintf(want, sizeof(want), "l1-phys %#llx (page 4096, rwx",
			 (unsigned long long)(D_R2 + (R2_PAGES - 1 - perm(3)) * SZ_4K + 5));
	if (!tap(rc == 0 && strstr(out, want), "nestorctl translate names the L1 address"))
		diag("  rc %d, output:\n%s", rc, out);

	snprintf(cmd, sizeof(cmd), "%s/nestorctl read l2:%u %#llx 16", dir, t->l2_id,
		 (unsigned long long)V_R1);
	rc = run_capture(cmd, out, sizeof(out));
	expect_pattern(V_R1, b, 16);
	snprintf(want, sizeof(want), "%016llx  %02x %02x %02x %02x", (unsigned long long)V_R1,
		 b[0], b[1], b[2], b[3]);
	if (!tap(rc == 0 && strstr(out, want), "nestorctl read dumps L2's bytes"))
		diag("  rc %d, want '%s', output:\n%s", rc, want, out);

	snprintf(cmd, sizeof(cmd), "%s/nestorctl read l2:%u %#llx 16 2>&1", dir, t->l2_id,
		 (unsigned long long)V_UNMAPPED);
	rc = run_capture(cmd, out, sizeof(out));
	if (!tap(WIFEXITED(rc) && WEXITSTATUS(rc) == 1 && strstr(out, "L2_FAULT"),
		 "nestorctl read of unmapped memory fails with L2_FAULT"))
		diag("  rc %d, output:\n%s", rc, out);
}

/* ---- remote monitoring: nestor-monitord on L0's loopback ---- */

#define MON_PORT	7411
#define TAMPER_PORT	7412
#define REPLAY_PORT	7413

/*
 * nestorctl --remote against nestor-monitord (the same binaries a
 * monitoring host would run), directly and through monitor_proxy in
 * tamper and replay modes: answers verify, forgeries and replays are
 * rejected with a clear message.
 */
static void check_remote(struct test *t, const char *self)
{
	static char out[262144];	/* a 1000-node listing */
	char dir[256], cmd[1024], pfx[512], want[160];
	char mond[300], proxy[300], port[3][32], to[32];
	const char *keyf = "/tmp/mem_l2-monitor.key";
	pid_t pids[3] = { -1, -1, -1 };
	uint8_t b[16];
	FILE *f;
	int rc;

	bin_dir(self, dir, sizeof(dir));
	f = fopen(keyf, "w");
	for (int i = 0; f && i < 32; i++)
		fprintf(f, "%02x", mon_key[i]);
	if (f)
		fclose(f);
	loopback_up();
	snprintf(mond, sizeof(mond), "%s/nestor-monitord", dir);
	snprintf(proxy, sizeof(proxy), "%s/monitor_proxy", dir);
	snprintf(port[0], sizeof(port[0]), "127.0.0.1:%d", MON_PORT);
	snprintf(port[1], sizeof(port[1]), "127.0.0.1:%d", TAMPER_PORT);
	snprintf(port[2], sizeof(port[2]), "127.0.0.1:%d", REPLAY_PORT);
	snprintf(to, sizeof(to), "%s", port[0]);
	pids[0] = spawn_quiet(mond, (char *[]){ mond, "--listen", port[0], "--quiet", NULL }, NULL);
	pids[1] = spawn_quiet(proxy, (char *[]){ proxy, "--listen", port[1], "--to", to,
					   "--mode", "tamper", NULL }, NULL);
	pids[2] = spawn_quiet(proxy, (char *[]){ proxy, "--listen", port[2], "--to", to,
					   "--mode", "replay", NULL }, NULL);
	if (!tap(port_open(MON_PORT) && port_open(TAMPER_PORT) && port_open(REPLAY_PORT),
		 "remote: nestor-monitord and two test proxies listen on loopback"))
		goto out;

#define PFX(p) snprintf(pfx, sizeof(pfx), "%s/nestorctl --remote 127.0.0.1:%d --key-id %u --key-file %s", \
			dir, (p), MON_KEY_ID, keyf)
	PFX(MON_PORT);
	snprintf(cmd, sizeof(cmd), "%s read l2:%u %#llx 16 2>&1", pfx, t->l2_id,
		 (unsigned long long)V_R1);
	rc = run_capture(cmd, out, sizeof(out));
	expect_pattern(V_R1, b, 16);
	snprintf(want, sizeof(want), "%016llx  %02x %02x %02x %02x", (unsigned long long)V_R1,
		 b[0], b[1], b[2], b[3]);
	if (!tap(rc == 0 && strstr(out, want), "remote: verified read dumps L2's bytes"))
		diag("  rc %d, want '%s', output:\n%s", rc, want, out);

	snprintf(cmd, sizeof(cmd),
		 "%s walk l2:%u %#llx --link-offset %d --field %d:4 --field %d:16 --field %d:4:%d --max 2000 --stats 2>&1",
		 pfx, t->l2_id, (unsigned long long)HEAD1, NODE_LINK, NODE_ID, NODE_NAME,
		 NODE_CRED, CRED_UID);
	rc = run_capture(cmd, out, sizeof(out));
	/* node 999: id 2998 (0xbb6), name "n-999", uid 1009 (0x3f1) */
	snprintf(want, sizeof(want), "%#018llx OK b60b0000 6e2d3939390000000000000000000000 f1030000",
		 (unsigned long long)node_va(999));
	if (!tap(rc == 0 && strstr(out, "# 1000 nodes, end HEAD, 0 unreadable") &&
		 strstr(out, want) && strstr(out, ": 1 round trips"),
		 "remote: the 1000-node walk, verified, in one round trip"))
		diag("  rc %d, want '%s', output (end):\n%s", rc, want,
		     out + (strlen(out) > 600 ? strlen(out) - 600 : 0));

	snprintf(cmd, sizeof(cmd),
		 "%s walk l2:%u %#llx --link-offset %d --field %d:4 --field %d:16 --field %d:4:%d --max 20 --per-datum --stats 2>&1",
		 pfx, t->l2_id, (unsigned long long)HEAD1, NODE_LINK, NODE_ID, NODE_NAME,
		 NODE_CRED, CRED_UID);
	rc = run_capture(cmd, out, sizeof(out));
	/* 1 head pointer + 20 nodes x (3 fields + 1 pointer + 1 next) */
	if (!tap(rc == 0 && strstr(out, "# 20 nodes, end LIMIT") &&
		 strstr(out, ": 101 round trips"),
		 "remote: --per-datum walk of 20 nodes, 101 verified round trips"))
		diag("  rc %d, output (end):\n%s", rc,
		     out + (strlen(out) > 400 ? strlen(out) - 400 : 0));

	PFX(TAMPER_PORT);
	snprintf(cmd, sizeof(cmd), "%s read l2:%u %#llx 16 2>&1", pfx, t->l2_id,
		 (unsigned long long)V_R1);
	rc = run_capture(cmd, out, sizeof(out));
	if (!tap(WIFEXITED(rc) && WEXITSTATUS(rc) == 1 && strstr(out, "REJECTED") &&
		 strstr(out, "HMAC") && !strstr(out, want),
		 "remote: a tampered read answer is rejected"))
		diag("  rc %d, output:\n%s", rc, out);
	snprintf(cmd, sizeof(cmd), "%s walk l2:%u %#llx --link-offset %d --field %d:4 2>&1",
		 pfx, t->l2_id, (unsigned long long)HEAD1, NODE_LINK, NODE_ID);
	rc = run_capture(cmd, out, sizeof(out));
	if (!tap(WIFEXITED(rc) && WEXITSTATUS(rc) == 1 && strstr(out, "REJECTED"),
		 "remote: a tampered walk answer is rejected"))
		diag("  rc %d, output:\n%.600s", rc, out);

	PFX(REPLAY_PORT);
	snprintf(cmd, sizeof(cmd), "%s read l2:%u %#llx 16 2>&1", pfx, t->l2_id,
		 (unsigned long long)V_R1);
	rc = run_capture(cmd, out, sizeof(out));
	if (!tap(rc == 0, "remote: through the replaying proxy, the first read verifies"))
		diag("  rc %d, output:\n%s", rc, out);
	rc = run_capture(cmd, out, sizeof(out));
	if (!tap(WIFEXITED(rc) && WEXITSTATUS(rc) == 1 && strstr(out, "REJECTED") &&
		 strstr(out, "replayed"),
		 "remote: the replayed answer to the second read is rejected"))
		diag("  rc %d, output:\n%s", rc, out);

	PFX(MON_PORT);
	snprintf(cmd, sizeof(cmd), "%s read l2:%u %#llx 16 2>&1", pfx, 0x7ffffff0u,
		 (unsigned long long)V_R1);
	rc = run_capture(cmd, out, sizeof(out));
	if (!tap(WIFEXITED(rc) && WEXITSTATUS(rc) == 1 && strstr(out, "no such L2"),
		 "remote: an unknown L2 is reported"))
		diag("  rc %d, output:\n%s", rc, out);
#undef PFX
out:
	for (int i = 0; i < 3; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGTERM);
			waitpid(pids[i], NULL, 0);
		}
	}
}

/*
 * One READ of the page that L1 remaps later (4 KiB pages in both stages),
 * with the struct's size @size; bytes past it must stay untouched.
 */
static int read_remap_page(struct test *t, uint32_t flags, size_t size,
			   struct nestor_mem_read *r, uint8_t *buf)
{
	struct nestor_mem_seg s = { NESTOR_SPACE_L2_VIRT, 0, V_R2 + REMAP_PAGE * SZ_4K, 4096 };
	unsigned long nr = _IOC(_IOC_READ | _IOC_WRITE, NESTOR_IOC_MAGIC,
				_IOC_NR(NESTOR_IOC_READ), size);
	int err;

	s.buf = (uintptr_t)buf;
	memset(r, 0, size);
	target(t, &r->target);
	r->flags = flags;
	r->nr_segs = 1;
	r->seg_size = sizeof(s);
	r->segs = (uintptr_t)&s;
	err = ioctl(t->fd, nr, r) ? errno : 0;
	return err ? err : (int)s.status;
}

static bool is_pattern(const uint8_t *buf, bool remapped)
{
	for (int i = 0; i < 4096; i += 8) {
		uint64_t v = pattern(V_R2 + REMAP_PAGE * SZ_4K + i);

		if (*(const uint64_t *)(buf + i) != (remapped ? ~v : v))
			return false;
	}
	return true;
}

/*
 * The translation cache (L2-physical -> L1-physical leaves, per L2,
 * across calls): a second read of a page finds every nested translation
 * it needs there, F_NOCACHE walks them all, the first layout of the
 * struct still works and gets no counters.  check_remap() then shows
 * that L1's write to its nested tables empties it.
 */
static void check_cache(struct test *t)
{
	struct {
		struct nestor_mem_read r;
		uint8_t canary[8];
	} v0;
	struct nestor_mem_read r;
	uint8_t buf[4096];
	int err;

	err = read_remap_page(t, 0, sizeof(r), &r, buf);
	CHECK_EQ(err, 0, "cache: read a 4K/4K page");
	err = read_remap_page(t, 0, sizeof(r), &r, buf);
	CHECK_EQ(err, 0, "cache: read it again");
	tap(is_pattern(buf, false), "... same data");
	if (!tap(!r.nested_walks && r.cache_hits >= 1,
		 "... no nested walk: its L2 tables and the page were in the cache"))
		diag("  nested_walks %u cache_hits %u", r.nested_walks, r.cache_hits);
	err = read_remap_page(t, NESTOR_MEM_F_NOCACHE, sizeof(r), &r, buf);
	CHECK_EQ(err, 0, "cache: read it with F_NOCACHE");
	tap(is_pattern(buf, false), "... same data");
	if (!tap(r.nested_walks >= 2 && !r.cache_hits,
		 "... F_NOCACHE walks L1's tables for every page (tables and data)"))
		diag("  nested_walks %u cache_hits %u", r.nested_walks, r.cache_hits);

	memset(&v0, 0xa5, sizeof(v0));
	err = read_remap_page(t, 0, NESTOR_MEM_READ_SIZE_VER0, &v0.r, buf);
	CHECK_EQ(err, 0, "cache: read with the struct's first size (NESTOR_MEM_READ_SIZE_VER0)");
	tap(is_pattern(buf, false) && v0.r.bytes == 4096, "... same data, all of it");
	tap(v0.r.nested_walks == 0xa5a5a5a5 && v0.canary[7] == 0xa5,
	    "... nothing written past NESTOR_MEM_READ_SIZE_VER0");
}

static void check_remap(struct test *t)
{
	struct nestor_translate x;
	struct nestor_mem_read r;
	uint8_t buf[4096];
	int err;

	/* No read since check_cache(): the cache still holds the old page. */
	err = read_remap_page(t, 0, sizeof(r), &r, buf);
	CHECK_EQ(err, 0, "after L1 remapped a page: read it");
	tap(is_pattern(buf, true), "... it shows the new page's data");
	if (!tap(r.gen.root_gen > t->root_gen, "... the root generation moved"))
		diag("  before %llu, now %llu", (unsigned long long)t->root_gen,
		     (unsigned long long)r.gen.root_gen);
	if (!tap(!r.cache_hits && r.nested_walks >= 2,
		 "... L1's write emptied the translation cache: every page walked again"))
		diag("  nested_walks %u cache_hits %u", r.nested_walks, r.cache_hits);
	err = read_remap_page(t, 0, sizeof(r), &r, buf);
	tap(!err && is_pattern(buf, true) && !r.nested_walks && r.cache_hits,
	    "... read again: the new translation is cached (%u hits, %u walks)",
	    r.cache_hits, r.nested_walks);
	err = xlate(t, NESTOR_SPACE_L2_VIRT, V_R2 + REMAP_PAGE * SZ_4K, 0, 0, &x);
	CHECK_EQ(x.l1_phys, D_REMAP, "... translate shows the new L1 page");
	CHECK_EQ(x.gen.root_gen, r.gen.root_gen, "... same generation without changes");
}

/*
 * L1 parks L2 between stages, and the remote checks take long under
 * Bochs: keep the context from expiring meanwhile (the suite loads nestor
 * with a short idle_expiry_ms).  Returns the old value in @saved.  30 s,
 * as identity_l2 uses: the expiry work keeps the period (a quarter) of
 * the value it last saw, so a longer one would delay the next test's.
 */
static void expiry_param(const char *val, char *saved, size_t len)
{
	const char *path = "/sys/module/nestor/parameters/idle_expiry_ms";
	FILE *f;

	if (saved) {
		saved[0] = 0;
		f = fopen(path, "r");
		if (f) {
			if (!fgets(saved, len, f))
				saved[0] = 0;
			fclose(f);
		}
		saved[strcspn(saved, "\n")] = 0;
	}
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s\n", val);
		fclose(f);
	}
}

/* ---- --bench: the figures of selftests/bench/introspect.sh ---- */

/* nestorctl read's largest length (READ_MAX): the tool's chunk. */
#define BENCH_CHUNK	SZ_1M
#define BENCH_CHUNKS	(BENCH_SIZE / BENCH_CHUNK)

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The 64 MiB by L2-virtual address, in 1 MiB segments: one READ call per
 * segment (what nestorctl read does), or all 64 in one call.  @l1phys: by
 * L1-physical address instead, no table walk (what the walks cost).
 */
static int bench_nestor_read(struct test *t, uint8_t *dst, bool one_call, bool l1phys)
{
	struct nestor_mem_seg s[BENCH_CHUNKS];
	int per = one_call ? BENCH_CHUNKS : 1;
	struct nestor_mem_read r;

	memset(s, 0, sizeof(s));
	for (int i = 0; i < BENCH_CHUNKS; i++) {
		s[i].space = l1phys ? NESTOR_SPACE_L1_PHYS : NESTOR_SPACE_L2_VIRT;
		s[i].addr = (l1phys ? BENCH_L1PA : V_BENCH) + i * BENCH_CHUNK;
		s[i].len = BENCH_CHUNK;
		s[i].buf = (uintptr_t)(dst + i * BENCH_CHUNK);
	}
	for (int c = 0; c < BENCH_CHUNKS; c += per) {
		memset(&r, 0, sizeof(r));
		target(t, &r.target);
		r.nr_segs = per;
		r.seg_size = sizeof(s[0]);
		r.segs = (uintptr_t)&s[c];
		if (ioctl(t->fd, NESTOR_IOC_READ, &r))
			return errno;
		if (r.nr_ok != (uint32_t)per)
			return EIO;
	}
	return 0;
}

/* The same backing pages through the VMM's /proc/PID/mem (we are the VMM). */
static int bench_pread(int memfd, uint64_t hva, uint8_t *dst)
{
	for (uint64_t o = 0; o < BENCH_SIZE; o += BENCH_CHUNK) {
		ssize_t n = pread(memfd, dst + o, BENCH_CHUNK, hva + o);

		if (n != (ssize_t)BENCH_CHUNK)
			return n < 0 ? errno : EIO;
	}
	return 0;
}

/*
 * Four ways to read the 64 MiB, interleaved with the order rotated each
 * round; every read is checked against the pattern the host wrote.
 */
static void bench_read(struct test *t, int rounds)
{
	enum { NK = 4, PREAD = 2 };
	static const char *const name[NK] = { "nestor", "nestor-1call", "pread", "nestor-l1phys" };
	uint8_t *dst = malloc(BENCH_SIZE), *ref = malloc(BENCH_SIZE);
	uint64_t hva = (uintptr_t)addr_gpa2hva(t->vm, BENCH_L1PA);
	double *mbps = calloc(NK * rounds, sizeof(double)), m[NK];
	int memfd, err[NK] = { 0 }, bad[NK] = { 0 };
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", getpid());
	memfd = open(path, O_RDONLY | O_CLOEXEC);
	if (!tap(dst && ref && mbps && memfd >= 0, "bench: open %s, buffers", path))
		goto out;
	for (uint64_t o = 0; o < BENCH_SIZE; o += 8)
		*(uint64_t *)(ref + o) = pattern(V_BENCH + o);
	for (int r = 0; r < rounds; r++) {
		for (int j = 0; j < NK; j++) {
			int k = (r + j) % NK, e;
			double t0, dt;

			/* Faults the destination in, outside the timing. */
			memset(dst, 0, BENCH_SIZE);
			t0 = now_s();
			e = k == PREAD ? bench_pread(memfd, hva, dst) :
					 bench_nestor_read(t, dst, k == 1, k == 3);
			dt = now_s() - t0;
			if (e)
				err[k] = e;
			else if (memcmp(dst, ref, BENCH_SIZE))
				bad[k]++;
			mbps[k * rounds + r] = BENCH_SIZE / 1e6 / dt;
			printf("# introbench read config=%s round=%d s=%.6f mbps=%.1f\n",
			       name[k], r, dt, mbps[k * rounds + r]);
		}
	}
	if (!tap(!err[0] && !bad[0], "bench: nestor READ, 64 calls of 1 MiB (L2-virtual), reads the 64 MiB as written"))
		diag("  error %s, %d bad rounds", strerror(err[0]), bad[0]);
	if (!tap(!err[1] && !bad[1], "bench: nestor READ, one call of 64 x 1 MiB, reads the 64 MiB as written"))
		diag("  error %s, %d bad rounds", strerror(err[1]), bad[1]);
	if (!tap(!err[2] && !bad[2], "bench: pread of %s, 1 MiB at a time, reads the same 64 MiB", path))
		diag("  error %s, %d bad rounds", strerror(err[2]), bad[2]);
	if (!tap(!err[3] && !bad[3], "bench: nestor READ by L1-physical address, 64 calls of 1 MiB, reads the same 64 MiB"))
		diag("  error %s, %d bad rounds", strerror(err[3]), bad[3]);
	/* median() sorts: the best round is the last */
	for (int k = 0; k < NK; k++)
		m[k] = median(mbps + k * rounds, rounds);
	printf("# introbench read-summary bytes=%llu rounds=%d nestor_mbps=%.1f nestor1call_mbps=%.1f pread_mbps=%.1f l1phys_mbps=%.1f ratio=%.3f ratio1call=%.3f ratiol1phys=%.3f best_nestor=%.1f best_nestor1call=%.1f best_pread=%.1f best_l1phys=%.1f best_ratio=%.3f\n",
	       BENCH_SIZE, rounds, m[0], m[1], m[2], m[3], m[0] / m[2], m[1] / m[2], m[3] / m[2],
	       mbps[rounds - 1], mbps[2 * rounds - 1], mbps[3 * rounds - 1], mbps[4 * rounds - 1],
	       mbps[rounds - 1] / mbps[3 * rounds - 1]);
out:
	if (memfd >= 0)
		close(memfd);
	free(dst);
	free(ref);
	free(mbps);
}

/*
 * TRANSLATE of L2-virtual addresses, one call each (TRANSLATE bypasses
 * the translation cache: every call walks L2's tables and L1's nested
 * tables):
 * 16384 addresses, one per 4 KiB of the 64 MiB region (2 MiB pages in both
 * stages: 3 + 3 levels), and as many over the 32 permuted 4 KiB pages of
 * region 2 (4 KiB pages in both: 4 + 4 levels).  Each result is checked.
 */
static void bench_translate(struct test *t, int rounds)
{
	enum { NX = BENCH_SIZE / SZ_4K };
	static const char *const name[2] = { "2M/2M", "4K/4K" };
	double *rate = calloc(2 * rounds, sizeof(double));
	uint64_t wrong[2] = { 0, 0 };
	struct nestor_translate x;

	if (!rate)
		return;
	for (int r = 0; r < rounds; r++) {
		for (int j = 0; j < 2; j++) {
			int k = (r + j) % 2;
			double t0, dt;

			t0 = now_s();
			for (uint64_t i = 0; i < NX; i++) {
				uint64_t in = (i * 8) % SZ_4K, va, want;

				if (k == 0) {
					va = V_BENCH + i * SZ_4K + in;
					want = BENCH_L1PA + i * SZ_4K + in;
				} else {
					va = V_R2 + (i % R2_PAGES) * SZ_4K + in;
					want = D_R2 + (R2_PAGES - 1 - perm(i % R2_PAGES)) * SZ_4K + in;
				}
				if (xlate(t, NESTOR_SPACE_L2_VIRT, va, 0, 0, &x) || x.status ||
				    x.l1_phys != want)
					wrong[k]++;
			}
			dt = now_s() - t0;
			rate[k * rounds + r] = NX / dt;
			printf("# introbench translate pages=%s round=%d n=%d s=%.6f per_s=%.0f\n",
			       name[k], r, NX, dt, NX / dt);
		}
	}
	for (int k = 0; k < 2; k++)
		if (!tap(!wrong[k], "bench: %d x %d translations (%s), every one right", rounds, NX, name[k]))
			diag("  %llu wrong", (unsigned long long)wrong[k]);
	printf("# introbench translate-summary n=%d rounds=%d per_s_2m=%.0f per_s_4k=%.0f cache=none\n",
	       NX, rounds, median(rate, rounds), median(rate + rounds, rounds));
	free(rate);
}

/*
 * Translations/s with and without the translation cache, side by side:
 * READ calls of one 8-byte L2-virtual segment each, over the same
 * kind of pages as bench_translate() (16384 pages of 2M/2M; 16 pages of
 * 4K/4K revisited), with F_NOCACHE and without, interleaved.  A call
 * walks L2's tables itself either way (they are not cached across calls:
 * L2 writes them without an exit); what the cache saves is every walk of
 * L1's nested tables, for L2's table pages and for the data page.
 */
static void bench_xlate_cache(struct test *t, int rounds)
{
	enum { NX = BENCH_SIZE / SZ_4K };
	static const char *const name[2] = { "2M/2M", "4K/4K" };
	double *rate = calloc(4 * rounds, sizeof(double));
	uint64_t wrong[4] = { 0 }, walks[4] = { 0 }, hits[4] = { 0 };
	struct nestor_mem_seg s = { .space = NESTOR_SPACE_L2_VIRT, .len = 8 };
	struct nestor_mem_read r;
	uint64_t got;

	if (!rate)
		return;
	s.buf = (uintptr_t)&got;
	for (int rd = 0; rd < rounds; rd++) {
		for (int j = 0; j < 4; j++) {
			int k = (rd + j) % 4, pages = k / 2;
			bool cached = k % 2;
			double t0, dt;

			t0 = now_s();
			for (uint64_t i = 0; i < NX; i++) {
				uint64_t in = (i * 8) % SZ_4K;

				/* region 2's first 16 pages hold the pattern */
				s.addr = pages == 0 ? V_BENCH + i * SZ_4K + in :
					 V_R2 + (i % 16) * SZ_4K + in;
				memset(&r, 0, sizeof(r));
				target(t, &r.target);
				r.flags = cached ? 0 : NESTOR_MEM_F_NOCACHE;
				r.nr_segs = 1;
				r.seg_size = sizeof(s);
				r.segs = (uintptr_t)&s;
				if (ioctl(t->fd, NESTOR_IOC_READ, &r) || s.status ||
				    got != pattern(s.addr))
					wrong[k]++;
				walks[k] += r.nested_walks;
				hits[k] += r.cache_hits;
			}
			dt = now_s() - t0;
			rate[k * rounds + rd] = NX / dt;
			printf("# introbench xcache pages=%s cache=%s round=%d n=%d s=%.6f per_s=%.0f\n",
			       name[pages], cached ? "on" : "off", rd, NX, dt, NX / dt);
		}
	}
	for (int k = 0; k < 4; k++) {
		if (!tap(!wrong[k], "bench: %d x %d cached-or-not reads (%s, cache %s), every one right",
			 rounds, NX, name[k / 2], k % 2 ? "on" : "off"))
			diag("  %llu wrong", (unsigned long long)wrong[k]);
		printf("# introbench xcache-count pages=%s cache=%s nested_walks=%llu cache_hits=%llu\n",
		       name[k / 2], k % 2 ? "on" : "off", (unsigned long long)walks[k],
		       (unsigned long long)hits[k]);
	}
	tap(!hits[0] && !hits[2] && hits[1] && hits[3],
	    "bench: F_NOCACHE never hits the cache, the cached runs do");
	printf("# introbench xcache-summary n=%d rounds=%d off_2m=%.0f on_2m=%.0f off_4k=%.0f on_4k=%.0f\n",
	       NX, rounds, median(rate, rounds), median(rate + rounds, rounds),
	       median(rate + 2 * rounds, rounds), median(rate + 3 * rounds, rounds));
	free(rate);
}

/*
 * The remote part runs in a script (netns, veth, netem, monitord, nestorctl
 * --remote): it gets this L2 and the 1000-node list in its environment.
 */
static void bench_remote(struct test *t, const char *cmd)
{
	const char *keyf = "/tmp/mem_l2-monitor.key";
	char v[64];
	FILE *f;
	int rc, err;

	err = add_monitor_key(t);
	if (!tap(!err || err == EEXIST, "bench: monitor key added"))
		return;
	f = fopen(keyf, "w");
	for (int i = 0; f && i < 32; i++)
		fprintf(f, "%02x", mon_key[i]);
	if (!tap(f && !fclose(f), "bench: monitor key file written"))
		return;
	snprintf(v, sizeof(v), "l2:%u", t->l2_id);
	setenv("NESTOR_BENCH_L2", v, 1);
	snprintf(v, sizeof(v), "%#llx", (unsigned long long)HEAD1);
	setenv("NESTOR_BENCH_HEAD", v, 1);
	snprintf(v, sizeof(v), "%u", MON_KEY_ID);
	setenv("NESTOR_BENCH_KEY_ID", v, 1);
	setenv("NESTOR_BENCH_KEY_FILE", keyf, 1);
	snprintf(v, sizeof(v), "%d", NODES);
	setenv("NESTOR_BENCH_NODES", v, 1);
	/* what ps reads of a task: pid, comm, cred->uid */
	snprintf(v, sizeof(v), "--link-offset %d --field %d:4 --field %d:16 --field %d:4:%d",
		 NODE_LINK, NODE_ID, NODE_NAME, NODE_CRED, CRED_UID);
	setenv("NESTOR_BENCH_WALK", v, 1);
	fflush(stdout);
	rc = system(cmd);
	if (!tap(rc == 0, "bench: %s exited 0", cmd))
		diag("  status %#x", rc);
}

int main(int argc, char *argv[])
{
	char expiry[32] = "";
	struct test t = { .fd = -1 };
	double t0 = now_s();
	const char *bench_cmd = NULL;
	int bench_rounds = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_guard_process();
	alarm(argc > 1 ? atoi(argv[1]) : 300);
	printf("# mem_l2: introspection of one L2 under a selftest L1\n");
	/* mem_l2 TIMEOUT --bench ROUNDS [CMD] */
	if (argc > 3 && !strcmp(argv[2], "--bench")) {
		t.bench = true;
		bench_rounds = atoi(argv[3]) > 0 ? atoi(argv[3]) : 5;
		bench_cmd = argc > 4 ? argv[4] : NULL;
	}

	if (kvm_cpu_has(X86_FEATURE_SVM))
		t.be = BE_SVM;
	else if (kvm_cpu_has(X86_FEATURE_VMX))
		t.be = BE_VMX;
	if (!tap(t.be != BE_NONE, "KVM offers nested SVM or VMX"))
		goto out;
	ept = t.be == BE_VMX;
	diag("backend %s", ept ? "vmx" : "svm");
	t.fd = open(NESTOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (!tap(t.fd >= 0, "open %s", NESTOR_DEVICE_PATH))
		goto out;

	expiry_param("30000", expiry, sizeof(expiry));
	setup(&t);
	if (run_to(&t, 1) < 0)
		goto out;
	if (!tap(t.sh->l2_done && !t.sh->unexpected, "L2 built its tables and data")) {
		diag("  unexpected exit %#llx info %#llx",
		     (unsigned long long)t.sh->unexp_code,
		     (unsigned long long)t.sh->unexp_info);
		goto out;
	}
	if (find_l2(&t))
		goto out;
	if (t.bench) {
		/* The remote runs take minutes with L2 parked. */
		expiry_param("3600000", NULL, 0);
		bench_translate(&t, bench_rounds);
		bench_xlate_cache(&t, bench_rounds);
		bench_read(&t, bench_rounds);
		if (bench_cmd)
			bench_remote(&t, bench_cmd);
		goto out;
	}
	check_translate(&t);
	check_read(&t);
	check_walk(&t);
	check_signed(&t);
	check_nestorctl(&t, argv[0]);
	check_remote(&t, argv[0]);
	check_cache(&t);
	if (run_to(&t, 2) < 0)
		goto out;
	check_remap(&t);
	if (run_to(&t, 0) == 0)
		tap(true, "L1 finished");
out:
	if (*expiry)
		expiry_param(expiry, NULL, 0);
	if (t.vm)
		kvm_vm_free(t.vm);
	diag("total %.3f s", now_s() - t0);
	tap_finish();
	return tap_failed || !tap_n ? 1 : 0;
}
