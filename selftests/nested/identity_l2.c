// SPDX-License-Identifier: GPL-2.0-only
/*
 * identity_l2: L2 identity by hypercall (Documentation/identity.rst),
 * checked end to end under a tiny L1 hypervisor.
 *
 * Runs as root in the emulated L0 with nestor loaded and prints TAP. The
 * host side provisions owner keys (libnestor, /dev/nestor); L1 (guest code
 * built with KVM's selftest library) runs two L2s, A and B, on one vCPU;
 * each L2 works through a list of operations the host wrote into its
 * argument block: CHALLENGE + REGISTER with an HMAC-SHA256 proof that the
 * L2 computes itself (sha256 below runs in L2 as well as on the host),
 * QUERY, UNREGISTER, port writes, ordinary hypercalls for L1, and requests
 * broken on purpose. L1 counts every exit it sees; a nestor hypercall that
 * reaches L1 is answered L1_NOT_ANSWERED and counted. After every phase
 * L1 parks in a ucall and the host checks the L2s' results, L1's counters,
 * nestor's registry, identities and events, and optionally nestorctl.
 *
 * L1 also executes a REGISTER hypercall itself (refused: ENOTL2, counted
 * on its VM), runs A at CPL 3 (L1 sets A's CS/SS to ring 3; the L2 page
 * tables are copies of L1's with the U bit set), moves A to a new
 * vmcb12/vmcs12 and then to a new nested root (the identity turns absent
 * until A registers again).
 *
 *   identity_l2 [--timeout S] [--nestorctl PATH] [--bench N]
 *
 * --bench N: no checks of the protocol; A does N registrations (challenge,
 * HMAC in L2, register) and then N hypercalls that L1 answers, each a
 * phase timed by the host; prints "bench ..." lines and the ratio.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ------------------------------------------------------------------ */
/* layout and parameters                                               */
/* ------------------------------------------------------------------ */

#define L2_PORT			0x80
#define HC_OTHER		0x1234
#define HC_DONE			0xd0e
#define L1_HC_ANSWER(x)		((x) * 3 + 0x5000)
#define L1_NOT_ANSWERED		0xffffffffbadc0ffeull

#define NR_L2			2
#define MAX_OPS			16
#define NR_KEYS			3
/* owner key ids; high, so that they do not meet an admin's */
#define KEY_A			0x1d0001
#define KEY_B			0x1d0002
#define KEY_OPEN		0x1d0003	/* no secret, unauthenticated allowed */
#define KEY_UNKNOWN		0x1d0099

#define SLOT1			1
#define SLOT1_GPA		0x40000000ull
#define SLOT1_SIZE		(2ull << 20)
#define SLOT1_PAGES		(SLOT1_SIZE / 4096)
#define L2_STACK_PAGES		4
#define SHARED_OFF		0
#define ARGS_OFF(i)		((8 + (i) * 4) * 4096ull)
#define L2_STACK_OFF(i)		((32 + (i) * (L2_STACK_PAGES + 1)) * 4096ull)
#define UNMAPPED_GVA		0x7f0000000000ull	/* in no page table */
/* idle_expiry_ms while the test runs: L1 parks between phases */
#define EXPIRY_MS		"30000"

enum backend { BE_NONE = 0, BE_VMX = NESTOR_BACKEND_VMX, BE_SVM = NESTOR_BACKEND_SVM };

enum op_kind {
	OP_REGISTER = 1,	/* challenge (unless M_REPLAY) + register */
	OP_QUERY,
	OP_UNREGISTER,
	OP_CHALLENGE,		/* alone, nonce to a GVA */
	OP_IO,			/* n port writes */
	OP_HC,			/* n hypercalls L1 answers */
	OP_RAW,			/* leaf with function key_id */
};

/* OP_REGISTER modifiers */
#define M_BAD_MAC	(1u << 0)	/* one bit of the HMAC flipped */
#define M_REPLAY	(1u << 1)	/* no challenge: the last nonce again */
#define M_UNAUTH	(1u << 2)	/* NESTOR_HC_REG_UNAUTH, no proof */
#define M_BAD_FLAGS	(1u << 3)	/* an unknown flag */
#define M_EMPTY		(1u << 4)	/* name_len 0 */
#define M_BAD_GVA	(1u << 5)	/* request (or nonce) not mapped */

struct op {
	uint64_t kind, mods, key_id, key_slot, n;
	uint64_t name_len;
	char name[NESTOR_IDENT_NAME_MAX];
	/* out */
	uint64_t done, rax, rbx, rcx;
	uint64_t ok_count;		/* OP_REGISTER x n, OP_HC x n: successes */
	char qname[NESTOR_IDENT_NAME_MAX + 8];
};

struct l2_args {
	uint64_t use_vmcall;
	uint64_t nr_ops;
	struct op ops[MAX_OPS];
	uint8_t keys[NR_KEYS][32];
	uint8_t nonce[NESTOR_HC_NONCE_LEN];
	struct nestor_hc_register req;
	uint64_t started, finished;
};

/* What L1 counted for one L2 in one phase. */
struct l1_counts {
	uint64_t entries, io, hc, leaf, done;
	uint64_t unexpected, unexp_code, unexp_info1, unexp_info2, unexp_rip;
};

/* One phase: what L1 does, which L2 runs how. */
struct phase {
	uint64_t run[NR_L2];
	uint64_t a_user;	/* A runs at CPL 3 this phase */
	uint64_t l1_self_call;	/* L1 itself executes REGISTER first */
	uint64_t move_vmcs12;	/* A moves to its second vmcb12/vmcs12 */
	uint64_t root_change;	/* A's current vmcb12/vmcs12 gets root 2 */
};

struct shared {
	uint64_t backend;
	uint64_t l2_entry, l2_user_entry;
	uint64_t stack_top[NR_L2];
	uint64_t args_gva[NR_L2];
	uint64_t l2_cr3[NR_L2];
	uint64_t npt_root[NR_L2];
	uint64_t root2_gpa;
	uint64_t iopm_gpa;
	/* three vmcb12/vmcs12: A, B, and A's second */
	uint64_t svm_gva[3];
	uint64_t vmx_gva[3];
	uint64_t cur[NR_L2];	/* which of the three each L2 uses */
	/* host -> L1 before each phase */
	uint64_t go;		/* 1: run *ph; 0: done */
	struct phase ph;
	/* L1 -> host */
	uint64_t l1_self_rax;
	uint64_t vmcs12_gpa[3];
	uint64_t nested_root[NR_L2];
	struct l1_counts c[NR_L2];
};

/* ------------------------------------------------------------------ */
/* SHA-256 and HMAC (FIPS 180-4, RFC 2104), for L2 and the host         */
/* ------------------------------------------------------------------ */
/* No library calls: this code runs in L2 as well. */

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	uint32_t used;
};

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(struct sha256 *s, const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 64; i++)
		w[i] = w[i - 16] + (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3)) +
		       w[i - 7] + (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10));
	a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
	e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
	for (i = 0; i < 64; i++) {
		t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
	}
	s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
	s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	for (int i = 0; i < 8; i++)
		s->h[i] = iv[i];
	s->len = 0;
	s->used = 0;
}

static void sha_update(struct sha256 *s, const void *data, uint64_t len)
{
	const uint8_t *p = data;

	s->len += len;
	while (len--) {
		s->buf[s->used++] = *p++;
		if (s->used == 64) {
			sha_block(s, s->buf);
			s->used = 0;
		}
	}
}

static void sha_final(struct sha256 *s, uint8_t out[32])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80, zero = 0, lenb[8];
	int i;

	sha_update(s, &pad, 1);
	while (s->used != 56)
		sha_update(s, &zero, 1);
	for (i = 0; i < 8; i++)
		lenb[i] = bits >> (56 - 8 * i);
	sha_update(s, lenb, 8);
	for (i = 0; i < 32; i++)
		out[i] = s->h[i / 4] >> (24 - 8 * (i % 4));
}

/* HMAC-SHA256(key, a || b); keys up to 64 bytes. */
static void hmac2(const uint8_t *key, uint64_t klen, const void *a, uint64_t alen,
		  const void *b, uint64_t blen, uint8_t out[32])
{
	uint8_t pad[64], inner[32];
	struct sha256 s;
	int i;

	for (i = 0; i < 64; i++)
		pad[i] = (i < (int)klen ? key[i] : 0) ^ 0x36;
	sha_init(&s);
	sha_update(&s, pad, 64);
	sha_update(&s, a, alen);
	sha_update(&s, b, blen);
	sha_final(&s, inner);
	for (i = 0; i < 64; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	sha_init(&s);
	sha_update(&s, pad, 64);
	sha_update(&s, inner, 32);
	sha_final(&s, out);
}

/* ------------------------------------------------------------------ */
/* L2                                                                  */
/* ------------------------------------------------------------------ */

static inline uint64_t l2_call(struct l2_args *a, uint64_t fn, uint64_t rcx,
			       uint64_t rdx, uint64_t *rbx_out, uint64_t *rcx_out)
{
	uint64_t rax = NESTOR_HC_LEAF, rbx = fn;

	l2_hypercall(a->use_vmcall, &rax, &rbx, &rcx, &rdx);
	if (rbx_out)
		*rbx_out = rbx;
	if (rcx_out)
		*rcx_out = rcx;
	return rax;
}

static void l2_copy(void *dst, const void *src, uint64_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
}

static void l2_zero(void *dst, uint64_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = 0;
}

/* One registration; returns the status of the last hypercall. */
static uint64_t l2_register(struct l2_args *a, struct op *o)
{
	struct nestor_hc_register *r = &a->req;
	uint64_t st;

	if (!(o->mods & M_REPLAY)) {
		st = l2_call(a, NESTOR_HC_FN_CHALLENGE, (uint64_t)a->nonce, 0, NULL, NULL);
		if (st != NESTOR_HC_OK)
			return st;
	}
	l2_zero(r, sizeof(*r));
	r->key_id = o->key_id;
	r->name_len = (o->mods & M_EMPTY) ? 0 : o->name_len;
	l2_copy(r->name, o->name, o->name_len);
	l2_copy(r->nonce, a->nonce, sizeof(r->nonce));
	if (o->mods & M_UNAUTH)
		r->flags |= NESTOR_HC_REG_UNAUTH;
	else
		hmac2(a->keys[o->key_slot], 32, r->nonce, sizeof(r->nonce),
		      r->name, o->name_len, r->mac);
	if (o->mods & M_BAD_MAC)
		r->mac[7] ^= 0x10;
	if (o->mods & M_BAD_FLAGS)
		r->flags |= 1u << 7;
	return l2_call(a, NESTOR_HC_FN_REGISTER,
		       (o->mods & M_BAD_GVA) ? UNMAPPED_GVA : (uint64_t)r,
		       sizeof(*r), NULL, NULL);
}

static void l2_run_op(struct l2_args *a, struct op *o)
{
	uint64_t i, rax, rbx, rcx, rdx;

	switch (o->kind) {
	case OP_REGISTER:
		for (i = 0; i < (o->n ? o->n : 1); i++) {
			o->rax = l2_register(a, o);
			o->ok_count += o->rax == NESTOR_HC_OK;
		}
		break;
	case OP_QUERY:
		l2_zero(o->qname, sizeof(o->qname));
		o->rax = l2_call(a, NESTOR_HC_FN_QUERY, (uint64_t)o->qname,
				 sizeof(o->qname), &o->rbx, &o->rcx);
		break;
	case OP_UNREGISTER:
		o->rax = l2_call(a, NESTOR_HC_FN_UNREGISTER, 0, 0, NULL, NULL);
		break;
	case OP_CHALLENGE:
		o->rax = l2_call(a, NESTOR_HC_FN_CHALLENGE,
				 (o->mods & M_BAD_GVA) ? UNMAPPED_GVA : (uint64_t)a->nonce,
				 0, NULL, NULL);
		break;
	case OP_RAW:
		o->rax = l2_call(a, o->key_id, 0, 0, &o->rbx, NULL);
		break;
	case OP_IO:
		for (i = 0; i < o->n; i++)
			asm volatile("outb %b0, %w1" : : "a"((uint8_t)i), "Nd"((uint16_t)L2_PORT) : "memory");
		o->ok_count = o->n;
		break;
	case OP_HC:
		for (i = 0; i < o->n; i++) {
			rax = HC_OTHER;
			rbx = i;
			rcx = rdx = 0;
			l2_hypercall(a->use_vmcall, &rax, &rbx, &rcx, &rdx);
			o->ok_count += rax == L1_HC_ANSWER(i);
		}
		break;
	}
	o->done = 1;
}

static void __attribute__((__noreturn__)) l2_done(struct l2_args *a)
{
	uint64_t rax, rbx, rcx, rdx;

	a->finished = 1;
	for (;;) {
		rax = HC_DONE;
		rbx = rcx = rdx = 0;
		l2_hypercall(a->use_vmcall, &rax, &rbx, &rcx, &rdx);
	}
}

/* Entered by VMRUN/VMLAUNCH with RDI = its struct l2_args. */
static void __attribute__((__noinline__, __used__)) l2_main(struct l2_args *a)
{
	a->started = 1;
	for (uint64_t i = 0; i < a->nr_ops; i++)
		l2_run_op(a, &a->ops[i]);
	l2_done(a);
}

/* The same, entered at CPL 3: only hypercalls, which nestor must refuse. */
static void __attribute__((__noinline__, __used__)) l2_user_main(struct l2_args *a)
{
	a->started = 1;
	for (uint64_t i = 0; i < a->nr_ops; i++) {
		struct op *o = &a->ops[i];

		if (o->kind == OP_CHALLENGE)
			o->rax = l2_call(a, NESTOR_HC_FN_CHALLENGE, (uint64_t)a->nonce, 0, NULL, NULL);
		else if (o->kind == OP_REGISTER)
			o->rax = l2_call(a, NESTOR_HC_FN_REGISTER, (uint64_t)&a->req,
					 sizeof(a->req), NULL, NULL);
		else if (o->kind == OP_QUERY)
			o->rax = l2_call(a, NESTOR_HC_FN_QUERY, (uint64_t)o->qname,
					 sizeof(o->qname), NULL, NULL);
		o->done = 1;
	}
	l2_done(a);
}

/* ------------------------------------------------------------------ */
/* L1                                                                  */
/* ------------------------------------------------------------------ */

static struct l2_gprs l1_gprs[NR_L2];
static int l1_launched[3];
static int l1_cur_vmcs = -1;
/* A's ring-0 segments, put back after a CPL 3 phase */
static struct vmcb_seg l1_saved_cs, l1_saved_ss;
static uint8_t l1_saved_cpl;
static uint64_t l1_saved_vmx[4];

static void l1_svm_setup_one(struct shared *sh, int slot, int l2)
{
	struct svm_test_data *svm = (void *)sh->svm_gva[slot];
	struct vmcb *vmcb = svm->vmcb;

	generic_svm_setup(svm, (void *)sh->l2_entry, (void *)sh->stack_top[l2]);
	vmcb->control.intercept |= (1ULL << INTERCEPT_IOIO_PROT) |
				   (1ULL << INTERCEPT_SHUTDOWN) |
				   (1ULL << INTERCEPT_HLT);
	vmcb->control.iopm_base_pa = sh->iopm_gpa;
	vmcb->control.asid = 1 + slot;
	vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ASID;
	vmcb->control.nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	vmcb->control.nested_cr3 = sh->npt_root[l2];
	vmcb->save.cr3 = sh->l2_cr3[l2];
	sh->vmcs12_gpa[slot] = svm->vmcb_gpa;
}

static void l1_vmx_load(struct shared *sh, int slot)
{
	struct vmx_pages *vmx = (void *)sh->vmx_gva[slot];

	if (l1_cur_vmcs != slot) {
		GUEST_ASSERT(!vmptrld(vmx->vmcs_gpa));
		l1_cur_vmcs = slot;
	}
}

static void l1_vmx_setup_one(struct shared *sh, int slot, int l2)
{
	struct vmx_pages *vmx = (void *)sh->vmx_gva[slot];

	GUEST_ASSERT(load_vmcs(vmx));
	l1_cur_vmcs = slot;
	l1_launched[slot] = 0;
	prepare_vmcs(vmx, (void *)sh->l2_entry, (void *)sh->stack_top[l2]);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL,
		vmreadz(CPU_BASED_VM_EXEC_CONTROL) | CPU_BASED_UNCOND_IO_EXITING);
	vmwrite(GUEST_CR3, sh->l2_cr3[l2]);
	sh->vmcs12_gpa[slot] = vmx->vmcs_gpa;
}

static void l1_note_root(struct shared *sh, int l2)
{
	if (sh->backend == BE_SVM) {
		sh->nested_root[l2] = ((struct svm_test_data *)sh->svm_gva[sh->cur[l2]])->vmcb->control.nested_cr3;
	} else {
		l1_vmx_load(sh, sh->cur[l2]);
		sh->nested_root[l2] = vmreadz(EPT_POINTER);
	}
}

static void l1_reset_l2(struct shared *sh, int i, bool user)
{
	uint64_t rsp = sh->stack_top[i] - 8;
	uint64_t rip = user ? sh->l2_user_entry : sh->l2_entry;
	int slot = sh->cur[i];

	memset(&l1_gprs[i], 0, sizeof(l1_gprs[i]));
	l1_gprs[i].rdi = sh->args_gva[i];
	if (sh->backend == BE_SVM) {
		struct vmcb *vmcb = ((struct svm_test_data *)sh->svm_gva[slot])->vmcb;

		vmcb->save.rip = rip;
		vmcb->save.rsp = rsp;
		vmcb->save.rflags = 2;
		vmcb->save.rax = 0;
		if (user) {
			/* 64-bit ring 3 code and stack (attrib: G L P DPL S type). */
			l1_saved_cs = vmcb->save.cs;
			l1_saved_ss = vmcb->save.ss;
			l1_saved_cpl = vmcb->save.cpl;
			vmcb->save.cs.selector = 0x1b;
			vmcb->save.cs.attrib = 0xafb;
			vmcb->save.ss.selector = 0x23;
			vmcb->save.ss.attrib = 0xcf3;
			vmcb->save.cpl = 3;
			vmcb->control.clean = 0;
		}
	} else {
		l1_vmx_load(sh, slot);
		vmwrite(GUEST_RIP, rip);
		vmwrite(GUEST_RSP, rsp);
		vmwrite(GUEST_RFLAGS, 2);
		if (user) {
			l1_saved_vmx[0] = vmreadz(GUEST_CS_SELECTOR);
			l1_saved_vmx[1] = vmreadz(GUEST_CS_AR_BYTES);
			l1_saved_vmx[2] = vmreadz(GUEST_SS_SELECTOR);
			l1_saved_vmx[3] = vmreadz(GUEST_SS_AR_BYTES);
			vmwrite(GUEST_CS_SELECTOR, 0x1b);
			vmwrite(GUEST_CS_AR_BYTES, 0xa0fb);
			vmwrite(GUEST_SS_SELECTOR, 0x23);
			vmwrite(GUEST_SS_AR_BYTES, 0xc0f3);
		}
	}
}

static void l1_restore_ring0(struct shared *sh, int i)
{
	int slot = sh->cur[i];

	if (sh->backend == BE_SVM) {
		struct vmcb *vmcb = ((struct svm_test_data *)sh->svm_gva[slot])->vmcb;

		vmcb->save.cs = l1_saved_cs;
		vmcb->save.ss = l1_saved_ss;
		vmcb->save.cpl = l1_saved_cpl;
		vmcb->control.clean = 0;
	} else {
		l1_vmx_load(sh, slot);
		vmwrite(GUEST_CS_SELECTOR, l1_saved_vmx[0]);
		vmwrite(GUEST_CS_AR_BYTES, l1_saved_vmx[1]);
		vmwrite(GUEST_SS_SELECTOR, l1_saved_vmx[2]);
		vmwrite(GUEST_SS_AR_BYTES, l1_saved_vmx[3]);
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

static uint64_t l1_hypercall(struct l1_counts *c, uint64_t code, uint64_t rax,
			     uint64_t rbx, bool *keep, uint64_t rip)
{
	*keep = true;
	switch (rax) {
	case NESTOR_HC_LEAF:
		c->leaf++;
		return L1_NOT_ANSWERED;
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

static bool l1_svm_step(struct shared *sh, int i)
{
	struct svm_test_data *svm = (void *)sh->svm_gva[sh->cur[i]];
	struct vmcb *vmcb = svm->vmcb;
	struct l1_counts *c = &sh->c[i];
	uint64_t code, info1, info2;
	bool keep;

	c->entries++;
	nested_l2_svm_run(&l1_gprs[i], svm->vmcb_gpa);
	code = vmcb->control.exit_code | ((uint64_t)vmcb->control.exit_code_hi << 32);
	info1 = vmcb->control.exit_info_1;
	info2 = vmcb->control.exit_info_2;
	switch (code) {
	case SVM_EXIT_IOIO:
		if ((info1 >> 16) == L2_PORT && !(info1 & 1))
			c->io++;
		else
			l1_unexpected(c, code, info1, info2, vmcb->save.rip);
		vmcb->save.rip = info2;	/* no nrip-save under TCG */
		return true;
	case SVM_EXIT_VMMCALL:
		vmcb->save.rax = l1_hypercall(c, code, vmcb->save.rax, l1_gprs[i].rbx,
					      &keep, vmcb->save.rip);
		vmcb->save.rip += 3;
		return keep;
	default:
		l1_unexpected(c, code, info1, info2, vmcb->save.rip);
		return false;
	}
}

static bool l1_vmx_step(struct shared *sh, int i)
{
	struct l1_counts *c = &sh->c[i];
	int slot = sh->cur[i];
	uint64_t reason, qual, rip, len;
	bool keep;

	l1_vmx_load(sh, slot);
	c->entries++;
	if (nested_l2_vmx_run(&l1_gprs[i], l1_launched[slot])) {
		l1_unexpected(c, 0xfffffffful, vmreadz(VM_INSTRUCTION_ERROR), l1_launched[slot], 0);
		return false;
	}
	l1_launched[slot] = 1;
	reason = vmreadz(VM_EXIT_REASON);
	qual = vmreadz(EXIT_QUALIFICATION);
	rip = vmreadz(GUEST_RIP);
	len = vmreadz(VM_EXIT_INSTRUCTION_LEN);
	switch (reason) {
	case EXIT_REASON_IO_INSTRUCTION:
		if ((qual >> 16) == L2_PORT && !(qual & 8))
			c->io++;
		else
			l1_unexpected(c, reason, qual, len, rip);
		vmwrite(GUEST_RIP, rip + len);
		return true;
	case EXIT_REASON_VMCALL:
		l1_gprs[i].rax = l1_hypercall(c, reason, l1_gprs[i].rax, l1_gprs[i].rbx,
					      &keep, rip);
		vmwrite(GUEST_RIP, rip + len);
		return keep;
	default:
		l1_unexpected(c, reason, qual, len, rip);
		return false;
	}
}

static bool l1_invept(uint64_t type, uint64_t eptp)
{
	struct { uint64_t eptp, reserved; } desc = { eptp, 0 };
	uint8_t fail;

	asm volatile("invept %[desc], %[type]; setbe %[fail]"
		     : [fail] "=q"(fail) : [desc] "m"(desc), [type] "r"(type)
		     : "cc", "memory");
	return !fail;
}

/* A's current vmcb12/vmcs12 gets the second nested root (as nested_l2). */
static void l1_switch_root(struct shared *sh)
{
	if (sh->backend == BE_SVM) {
		struct vmcb *vmcb = ((struct svm_test_data *)sh->svm_gva[sh->cur[0]])->vmcb;

		vmcb->control.nested_cr3 = sh->root2_gpa;
		vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ASID;
		vmcb->control.clean = 0;
	} else {
		uint64_t eptp, type;

		l1_vmx_load(sh, sh->cur[0]);
		eptp = (vmreadz(EPT_POINTER) & 0xfffull) | sh->root2_gpa;
		GUEST_ASSERT(!vmwrite(EPT_POINTER, eptp));
		type = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) & (1ull << 25) ? 1 : 2;
		GUEST_ASSERT(l1_invept(type, eptp));
	}
}

/* L1's own REGISTER: nestor must refuse it. */
static uint64_t l1_self_register(struct shared *sh)
{
	uint64_t rax = NESTOR_HC_LEAF, rbx = NESTOR_HC_FN_REGISTER;
	uint64_t rcx = sh->args_gva[0] + offsetof(struct l2_args, req);
	uint64_t rdx = sizeof(struct nestor_hc_register);

	l2_hypercall(sh->backend == BE_VMX, &rax, &rbx, &rcx, &rdx);
	return rax;
}

static void l1_guest_code(struct shared *sh)
{
	if (sh->backend == BE_VMX)
		GUEST_ASSERT(prepare_for_vmx_operation((void *)sh->vmx_gva[0]));
	for (int slot = 0; slot < 3; slot++) {
		int l2 = slot == 1 ? 1 : 0;

		if (sh->backend == BE_SVM)
			l1_svm_setup_one(sh, slot, l2);
		else
			l1_vmx_setup_one(sh, slot, l2);
	}
	sh->cur[0] = 0;
	sh->cur[1] = 1;
	for (int i = 0; i < NR_L2; i++)
		l1_note_root(sh, i);
	GUEST_SYNC(0);

	while (*(volatile uint64_t *)&sh->go) {
		struct phase *ph = &sh->ph;
		bool running[NR_L2];
		uint64_t budget = 100000;

		if (ph->l1_self_call)
			sh->l1_self_rax = l1_self_register(sh);
		if (ph->move_vmcs12)
			sh->cur[0] = 2;
		if (ph->root_change)
			l1_switch_root(sh);
		for (int i = 0; i < NR_L2; i++) {
			memset(&sh->c[i], 0, sizeof(sh->c[i]));
			running[i] = ph->run[i];
			if (running[i])
				l1_reset_l2(sh, i, i == 0 && ph->a_user);
		}
		for (int i = 0; running[0] || running[1]; i ^= 1) {
			if (!running[i])
				continue;
			running[i] = sh->backend == BE_SVM ? l1_svm_step(sh, i) : l1_vmx_step(sh, i);
			if (!--budget) {
				l1_unexpected(&sh->c[i], 0xfffffffeul, 0, 0, 0);
				break;
			}
		}
		if (ph->a_user && ph->run[0])
			l1_restore_ring0(sh, 0);
		for (int i = 0; i < NR_L2; i++)
			l1_note_root(sh, i);
		GUEST_SYNC(1);
	}
	GUEST_DONE();
}

/* ------------------------------------------------------------------ */
/* host                                                                */
/* ------------------------------------------------------------------ */

struct test {
	enum backend be;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct shared *sh;
	struct l2_args *args[NR_L2];
	uint8_t keys[NR_KEYS][32];
	struct nestor *n;
	const char *nestorctl;
	uint64_t bench;
	int phase;
	uint32_t ctx[NR_L2];		/* current context ids, from the registry */
	uint32_t vm_id;
	char saved_expiry[32];
};

static const char *const l2n[NR_L2] = { "A", "B" };

static const char *st_name(uint64_t st)
{
	const char *s = nestor_hc_status_name(st);

	if (st == L1_NOT_ANSWERED)
		return "reached L1";
	return s ? s : "?";
}

/* Host-side ops: a builder for each L2's list. */
static struct op *add_op(struct test *t, int i, uint64_t kind)
{
	struct l2_args *a = t->args[i];
	struct op *o;

	TEST_ASSERT(a->nr_ops < MAX_OPS, "too many ops");
	o = &a->ops[a->nr_ops++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	return o;
}

static struct op *add_reg(struct test *t, int i, const char *name, uint64_t key_id,
			  int key_slot, uint64_t mods)
{
	struct op *o = add_op(t, i, OP_REGISTER);

	o->name_len = strlen(name);
	memcpy(o->name, name, o->name_len);
	o->key_id = key_id;
	o->key_slot = key_slot;
	o->mods = mods;
	return o;
}

static void reset_ops(struct test *t)
{
	for (int i = 0; i < NR_L2; i++) {
		struct l2_args *a = t->args[i];

		a->nr_ops = 0;
		a->started = a->finished = 0;
		memset(a->ops, 0, sizeof(a->ops));
	}
	memset(&t->sh->ph, 0, sizeof(t->sh->ph));
	/* Both L2s enter in every phase, so that neither context idles out. */
	t->sh->ph.run[0] = t->sh->ph.run[1] = 1;
}

static int run_to_sync(struct test *t, int want)
{
	struct kvm_run *run = t->vcpu->run;
	struct ucall uc;
	int rc = _vcpu_run(t->vcpu);

	if (rc) {
		tap(false, "KVM_RUN of L1 succeeds (stage %d)", want);
		diag("  %s", strerror(errno));
		return -1;
	}
	if (run->exit_reason != KVM_EXIT_IO) {
		tap(false, "L1 reaches stage %d", want);
		diag("  unexpected KVM exit %u (%s)", run->exit_reason,
		     exit_reason_str(run->exit_reason));
		return -1;
	}
	switch (get_ucall(t->vcpu, &uc)) {
	case UCALL_SYNC:
		return (int)uc.args[1] == want ? want : -1;
	case UCALL_DONE:
		return want == -2 ? -2 : -1;
	case UCALL_ABORT:
		tap(false, "L1 reaches stage %d", want);
		diag("  L1 assertion failed: %s at %s:%lu",
		     (const char *)uc.args[GUEST_ERROR_STRING],
		     (const char *)uc.args[GUEST_FILE], uc.args[GUEST_LINE]);
		return -1;
	default:
		tap(false, "L1 reaches stage %d", want);
		return -1;
	}
}

/* Runs the phase the host set up; false (and a not-ok) when L1 failed. */
static bool run_phase(struct test *t, const char *what)
{
	struct shared *sh = t->sh;
	bool ok = true;

	t->phase++;
	sh->go = 1;
	if (run_to_sync(t, 1) != 1) {
		tap(false, "phase %d (%s): L1 parks after it", t->phase, what);
		return false;
	}
	for (int i = 0; i < NR_L2; i++) {
		struct l1_counts *c = &sh->c[i];

		if (!sh->ph.run[i])
			continue;
		if (!tap(c->unexpected == 0 && t->args[i]->finished && c->done == 1,
			 "phase %d (%s) %s: ran to its end, no unexpected exit in L1",
			 t->phase, what, l2n[i])) {
			diag("  unexpected %lu: code %#lx info1 %#lx info2 %#lx rip %#lx; finished %lu done %lu",
			     c->unexpected, c->unexp_code, c->unexp_info1, c->unexp_info2,
			     c->unexp_rip, t->args[i]->finished, c->done);
			ok = false;
		}
		if (!CHECK_EQ(c->leaf, 0, "phase %d (%s) %s: no nestor hypercall reached L1",
			      t->phase, what, l2n[i]))
			ok = false;
	}
	return ok;
}

static void check_op(struct test *t, int i, int k, uint64_t want, const char *what)
{
	struct op *o = &t->args[i]->ops[k];

	if (!tap(o->done && o->rax == want, "phase %d %s: %s -> %s", t->phase, l2n[i], what,
		 st_name(want)))
		diag("  done %lu, got %#lx (%s)", o->done, o->rax, st_name(o->rax));
}

/* The registry's contexts of this VM: the current one of each L2. */
static bool find_ctxs(struct test *t, struct nestor_l2 *out)
{
	struct nestor_vm *vms = NULL;
	struct nestor_l2 *l2s = NULL;
	size_t nr_vms = 0, nr_l2s = 0;
	bool found[NR_L2] = { false, false };
	int err;

	err = nestor_list(t->n, &vms, &nr_vms, &l2s, &nr_l2s);
	if (err) {
		diag("  nestor_list: %s", nestor_strerror(err));
		return false;
	}
	for (size_t k = 0; k < nr_l2s; k++) {
		for (int i = 0; i < NR_L2; i++) {
			if (l2s[k].vm_pid != (uint32_t)getpid() ||
			    l2s[k].vmcs12 != t->sh->vmcs12_gpa[t->sh->cur[i]] ||
			    l2s[k].nested_root != t->sh->nested_root[i])
				continue;
			out[i] = l2s[k];
			out[i].vcpus = NULL;
			out[i].nr_vcpus = 0;
			found[i] = true;
			t->ctx[i] = l2s[k].id;
			t->vm_id = l2s[k].vm_id;
		}
	}
	nestor_free_list(vms, nr_vms, l2s, nr_l2s);
	return found[0] && found[1];
}

static uint64_t vm_l1_hypercalls(struct test *t)
{
	struct nestor_vm *vms = NULL;
	struct nestor_l2 *l2s = NULL;
	size_t nr_vms = 0, nr_l2s = 0;
	uint64_t v = ~0ull;

	if (nestor_list(t->n, &vms, &nr_vms, &l2s, &nr_l2s))
		return v;
	for (size_t k = 0; k < nr_vms; k++)
		if (vms[k].pid == (uint32_t)getpid())
			v = vms[k].l1_hypercalls;
	nestor_free_list(vms, nr_vms, l2s, nr_l2s);
	return v;
}

/* Checks that L2 i's current context holds @name ("" for none). */
static void check_names(struct test *t, const char *a, const char *b)
{
	struct nestor_l2 ctx[NR_L2];
	const char *want[NR_L2] = { a, b };

	memset(ctx, 0, sizeof(ctx));
	if (!tap(find_ctxs(t, ctx), "phase %d: the registry lists A's and B's current contexts",
		 t->phase))
		return;
	for (int i = 0; i < NR_L2; i++) {
		if (!tap(!strcmp(ctx[i].ident, want[i]),
			 "phase %d: %s's context %u shows identity \"%s\"", t->phase, l2n[i],
			 ctx[i].id, want[i]))
			diag("  got \"%s\"", ctx[i].ident);
	}
}

/* The identity @name in GET_IDENT: -1 unknown, 0 absent, 1 present. */
static int ident_state(struct test *t, const char *name, struct nestor_ident *out)
{
	struct nestor_ident *ids = NULL;
	size_t nr = 0;
	int st = -1, err;

	err = nestor_idents(t->n, &ids, &nr);
	if (err) {
		diag("  nestor_idents: %s", nestor_strerror(err));
		return -2;
	}
	for (size_t k = 0; k < nr; k++) {
		if (strcmp(ids[k].name, name))
			continue;
		st = !!(ids[k].flags & NESTOR_IDENT_F_PRESENT);
		if (out)
			*out = ids[k];
	}
	free(ids);
	return st;
}

/* Drains events; counts the @cmd ones about @name. */
static int count_events(struct test *t, uint8_t cmd, const char *name,
			struct nestor_event *last)
{
	struct nestor_event ev;
	int n = 0;

	while (nestor_event_next(t->n, &ev, 200) == 0) {
		if (ev.cmd == cmd && !strcmp(ev.ident, name)) {
			n++;
			if (last)
				*last = ev;
		}
	}
	return n;
}

/* Runs a nestorctl command; true when a line of its output has both. */
static bool nestorctl_has(struct test *t, const char *args, const char *n1,
			  const char *n2)
{
	char cmd[512], out[64][256];
	bool found = false;
	int nr = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", t->nestorctl, args);
	f = popen(cmd, "r");
	if (!f)
		return false;
	while (nr < 64 && fgets(out[nr], sizeof(out[nr]), f)) {
		out[nr][strcspn(out[nr], "\n")] = '\0';
		if (strstr(out[nr], n1) && strstr(out[nr], n2))
			found = true;
		nr++;
	}
	pclose(f);
	if (!found) {
		diag("  nestorctl %s: no line with \"%s\" and \"%s\":", args, n1, n2);
		for (int k = 0; k < nr; k++)
			diag("  | %s", out[k]);
	}
	return found;
}

static void write_param(const char *name, const char *val, char *saved, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/nestor/parameters/%s", name);
	if (saved) {
		f = fopen(path, "r");
		if (f) {
			if (!fgets(saved, len, f))
				saved[0] = '\0';
			fclose(f);
			saved[strcspn(saved, "\n")] = '\0';
		}
	}
	f = fopen(path, "w");
	TEST_ASSERT(f, "cannot open %s", path);
	fprintf(f, "%s\n", val);
	fclose(f);
}

/* Copies L1's 4-level page tables with U set everywhere (for CPL 3). */
static vm_paddr_t copy_tables_user(struct kvm_vm *vm, vm_paddr_t src, int level)
{
	vm_paddr_t dst = alloc_table(vm);
	uint64_t *s = addr_gpa2hva(vm, src), *d = addr_gpa2hva(vm, dst);

	for (int k = 0; k < 512; k++) {
		if (!(s[k] & PTE_P))
			continue;
		if (level == PG_LEVEL_4K || (s[k] & PTE_PS))
			d[k] = s[k] | PTE_US;
		else
			d[k] = copy_tables_user(vm, s[k] & PTE_ADDR, level - 1) |
			       (s[k] & ~PTE_ADDR) | PTE_US;
	}
	return dst;
}

static void setup_vm(struct test *t)
{
	struct kvm_vm *vm;
	struct shared *sh;
	vm_vaddr_t gva;
	uint64_t slot0_size;
	struct vmx_pages ept2 = { 0 };

	t->vm = vm = vm_create_with_one_vcpu(&t->vcpu, l1_guest_code);
	ucall_init(vm, NULL);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SLOT1_GPA, SLOT1, SLOT1_PAGES, 0);
	virt_map(vm, SLOT1_GPA, SLOT1_GPA, SLOT1_PAGES);
	sh = t->sh = addr_gpa2hva(vm, SLOT1_GPA + SHARED_OFF);
	memset(sh, 0, sizeof(*sh));
	TEST_ASSERT(sizeof(*sh) <= ARGS_OFF(0), "struct shared too large");
	TEST_ASSERT(sizeof(struct l2_args) <= 4 * 4096, "struct l2_args too large");
	sh->backend = t->be;
	sh->l2_entry = (uint64_t)l2_main;
	sh->l2_user_entry = (uint64_t)l2_user_main;
	for (int i = 0; i < NR_L2; i++) {
		sh->stack_top[i] = SLOT1_GPA + L2_STACK_OFF(i) + L2_STACK_PAGES * 4096ull;
		sh->args_gva[i] = SLOT1_GPA + ARGS_OFF(i);
		t->args[i] = addr_gpa2hva(vm, sh->args_gva[i]);
		memset(t->args[i], 0, sizeof(struct l2_args));
		t->args[i]->use_vmcall = t->be == BE_VMX;
		memcpy(t->args[i]->keys, t->keys, sizeof(t->keys));
	}

	if (t->be == BE_SVM) {
		for (int s = 0; s < 3; s++) {
			vcpu_alloc_svm(vm, &gva);
			sh->svm_gva[s] = gva;
		}
		gva = vm_vaddr_alloc(vm, 3 * 4096, KVM_UTIL_MIN_VADDR);
		sh->iopm_gpa = addr_gva2gpa(vm, gva);
		TEST_ASSERT(addr_gva2gpa(vm, gva + 8192) == sh->iopm_gpa + 8192,
			    "IOPM is not physically contiguous");
		memset(addr_gva2hva(vm, gva), 0xff, 3 * 4096);
		for (int i = 0; i < NR_L2; i++)
			sh->npt_root[i] = alloc_table(vm);
		sh->root2_gpa = alloc_table(vm);
	} else {
		for (int s = 0; s < 3; s++) {
			struct vmx_pages *vmx = vcpu_alloc_vmx(vm, &gva);

			sh->vmx_gva[s] = gva;
			if (s < 2)
				prepare_eptp(vmx, vm, 0);
		}
		/* A's second vmcs12 shares A's EPT. */
		{
			struct vmx_pages *a = addr_gva2hva(vm, sh->vmx_gva[0]);
			struct vmx_pages *a2 = addr_gva2hva(vm, sh->vmx_gva[2]);

			a2->eptp = a->eptp;
			a2->eptp_hva = a->eptp_hva;
			a2->eptp_gpa = a->eptp_gpa;
			ept2 = *a;
			prepare_eptp(&ept2, vm, 0);
			sh->root2_gpa = ept2.eptp_gpa;
		}
	}
	for (int i = 0; i < NR_L2; i++)
		sh->l2_cr3[i] = copy_tables_user(vm, vm->pgd, PG_LEVEL_512G);

	slot0_size = memslot2region(vm, 0)->region.memory_size;
	slot0_size = (slot0_size + 4095) & ~4095ull;
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
	if (t->be == BE_SVM) {
		npt_map(vm, sh->root2_gpa, 0, slot0_size, PG_LEVEL_4K);
		npt_map(vm, sh->root2_gpa, SLOT1_GPA, SLOT1_SIZE, PG_LEVEL_2M);
	} else {
		nested_map(&ept2, vm, 0, 0, slot0_size);
		__nested_map(&ept2, vm, SLOT1_GPA, SLOT1_GPA, SLOT1_SIZE, PG_LEVEL_2M);
	}
	TEST_ASSERT(memslot2region(vm, 0)->region.memory_size <= slot0_size, "memslot 0 grew");
	vcpu_args_set(t->vcpu, 1, (uint64_t)SLOT1_GPA + SHARED_OFF);
}

static void cleanup_kernel_state(struct test *t)
{
	static const char *const names[] = { "a", "b", "u", "bench" };

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		nestor_ident_del(t->n, names[k]);
	nestor_key_del(t->n, NESTOR_KEY_OWNER, KEY_A);
	nestor_key_del(t->n, NESTOR_KEY_OWNER, KEY_B);
	nestor_key_del(t->n, NESTOR_KEY_OWNER, KEY_OPEN);
}

static bool provision(struct test *t)
{
	static const uint8_t rfc_key[] = "Jefe";
	static const char rfc_data[] = "what do ya want for nothing?";
	static const uint8_t rfc_mac[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
		0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	uint8_t mac[32];
	FILE *f;
	int err;

	/* RFC 4231 test case 2: the proof code L2 uses is HMAC-SHA256. */
	hmac2(rfc_key, 4, rfc_data, 28, "", 0, mac);
	tap(!memcmp(mac, rfc_mac, 32), "the test's HMAC-SHA256 passes RFC 4231 test case 2");

	f = fopen("/dev/urandom", "r");
	TEST_ASSERT(f && fread(t->keys, sizeof(t->keys), 1, f) == 1, "/dev/urandom");
	fclose(f);
	cleanup_kernel_state(t);
	err = nestor_key_add(t->n, NESTOR_KEY_OWNER, KEY_A, 0, t->keys[0], 32);
	if (!err)
		err = nestor_key_add(t->n, NESTOR_KEY_OWNER, KEY_B, 0, t->keys[1], 32);
	if (!err)
		err = nestor_key_add(t->n, NESTOR_KEY_OWNER, KEY_OPEN,
				     NESTOR_KEY_F_ALLOW_UNAUTH, NULL, 0);
	if (!tap(err == 0, "owner keys provisioned through /dev/nestor")) {
		diag("  %s (%s)", nestor_strerror(err), nestor_last_error(t->n));
		return false;
	}
	return true;
}

static uint64_t exits_of(struct test *t, const char *name, uint32_t reason, bool *ok)
{
	struct nestor_stats s;
	uint32_t id;
	uint64_t v = 0;
	int err;

	*ok = false;
	err = nestor_resolve_l2(t->n, name, &id);
	if (err) {
		diag("  resolve %s: %s (%s)", name, nestor_strerror(err), nestor_last_error(t->n));
		return 0;
	}
	err = nestor_stats(t->n, id, &s);
	if (err)
		return 0;
	for (size_t k = 0; k < s.nr_exits; k++)
		if (s.exits[k].reason == reason)
			v = s.exits[k].total;
	nestor_free_stats(&s);
	*ok = true;
	return v;
}

static void test_protocol(struct test *t)
{
	struct shared *sh = t->sh;
	struct nestor_ident id;
	struct nestor_event ev;
	uint32_t old_ctx, rid;
	char buf[128];
	bool ok;
	int k;

	/* 1: L1's own call; A and B register with their proofs. */
	reset_ops(t);
	sh->ph.run[0] = sh->ph.run[1] = 1;
	sh->ph.l1_self_call = 1;
	add_reg(t, 0, "a", KEY_A, 0, 0);
	add_op(t, 0, OP_QUERY);
	add_reg(t, 1, "b", KEY_B, 1, 0);
	if (!run_phase(t, "register"))
		return;
	if (!CHECK_EQ(sh->l1_self_rax, NESTOR_HC_ENOTL2, "phase 1: L1's own REGISTER is refused (ENOTL2)"))
		diag("  got %s", st_name(sh->l1_self_rax));
	CHECK_EQ(vm_l1_hypercalls(t), 1, "phase 1: nestor counted L1's own hypercall on its VM");
	check_op(t, 0, 0, NESTOR_HC_OK, "REGISTER \"a\" with a correct proof");
	check_op(t, 0, 1, NESTOR_HC_OK, "QUERY");
	tap(!strcmp(t->args[0]->ops[1].qname, "a") &&
	    t->args[0]->ops[1].rbx == NESTOR_IDENT_F_PRESENT && t->args[0]->ops[1].rcx == KEY_A,
	    "phase 1 A: QUERY names \"a\", present, key %#x", KEY_A);
	check_op(t, 1, 0, NESTOR_HC_OK, "REGISTER \"b\" with a correct proof");
	check_names(t, "a", "b");
	CHECK_EQ(count_events(t, NESTOR_CMD_IDENT_BOUND, "a", NULL), 1,
		 "phase 1: one IDENT_BOUND event for \"a\"");
	if (t->nestorctl) {
		snprintf(buf, sizeof(buf), "l2 %u ", t->ctx[0]);
		tap(nestorctl_has(t, "list", buf, " id:a "),
		    "phase 1: nestorctl list shows id:a on A's context %u", t->ctx[0]);
		snprintf(buf, sizeof(buf), "l2 %u ", t->ctx[1]);
		tap(nestorctl_has(t, "list", buf, " id:b "),
		    "phase 1: nestorctl list shows id:b on B's context %u", t->ctx[1]);
		tap(nestorctl_has(t, "list", "l1-nestor-hypercalls 1", "refused"),
		    "phase 1: nestorctl list shows L1's refused hypercall");
	}

	/* 2: every refusal. */
	reset_ops(t);
	sh->ph.run[0] = sh->ph.run[1] = 1;
	add_reg(t, 0, "a", KEY_A, 0, M_BAD_MAC);
	add_reg(t, 0, "a", KEY_A, 0, 0);
	add_reg(t, 0, "a", KEY_A, 0, M_REPLAY);
	add_reg(t, 0, "a", KEY_UNKNOWN, 0, 0);
	add_reg(t, 0, "zz", KEY_A, 0, 0);
	add_reg(t, 0, "a", KEY_A, 0, M_UNAUTH);
	add_reg(t, 0, "a", KEY_A, 0, M_BAD_FLAGS);
	add_reg(t, 0, "a", KEY_A, 0, M_EMPTY);
	add_reg(t, 0, "a", KEY_A, 0, M_BAD_GVA);
	add_op(t, 0, OP_CHALLENGE)->mods = M_BAD_GVA;
	add_op(t, 0, OP_RAW)->key_id = 99;
	add_reg(t, 1, "a", KEY_B, 1, 0);
	add_reg(t, 1, "a", KEY_A, 0, 0);
	if (!run_phase(t, "refusals"))
		return;
	k = 0;
	check_op(t, 0, k++, NESTOR_HC_EBADMAC, "REGISTER with a wrong HMAC");
	check_op(t, 0, k++, NESTOR_HC_OK, "REGISTER again from the same context");
	check_op(t, 0, k++, NESTOR_HC_ENONCE, "REGISTER with the nonce just used (replay)");
	check_op(t, 0, k++, NESTOR_HC_ENOKEY, "REGISTER with an unknown key id");
	check_op(t, 0, k++, NESTOR_HC_EBUSY, "REGISTER of a second name");
	check_op(t, 0, k++, NESTOR_HC_EUNAUTH, "unauthenticated REGISTER under a key that does not allow it");
	check_op(t, 0, k++, NESTOR_HC_EINVAL, "REGISTER with an unknown flag");
	check_op(t, 0, k++, NESTOR_HC_EINVAL, "REGISTER with an empty name");
	check_op(t, 0, k++, NESTOR_HC_EFAULT, "REGISTER with an unmapped request");
	check_op(t, 0, k++, NESTOR_HC_EFAULT, "CHALLENGE to an unmapped buffer");
	check_op(t, 0, k++, NESTOR_HC_ENOSYS, "unknown function 99");
	check_op(t, 1, 0, NESTOR_HC_EBOUND, "REGISTER of A's name \"a\" (other key)");
	check_op(t, 1, 1, NESTOR_HC_EBOUND, "REGISTER of A's name \"a\" (A's key, correct proof)");
	check_names(t, "a", "b");
	memset(&ev, 0, sizeof(ev));
	CHECK_EQ(count_events(t, NESTOR_CMD_IDENT_CONFLICT, "a", &ev), 2,
		 "phase 2: two IDENT_CONFLICT events for \"a\"");
	if (!tap(ev.l2_id == t->ctx[1] && ev.holder_l2_id == t->ctx[0],
		 "phase 2: the conflict names B's context as claimer, A's as holder"))
		diag("  claimer %u holder %u; B %u A %u", ev.l2_id, ev.holder_l2_id, t->ctx[1], t->ctx[0]);

	/* 3: B releases "b"; the table is full (ident_max = 1). */
	reset_ops(t);
	sh->ph.run[1] = 1;
	write_param("ident_max", "1", NULL, 0);
	add_op(t, 1, OP_UNREGISTER);
	add_op(t, 1, OP_QUERY);
	add_op(t, 1, OP_UNREGISTER);
	add_reg(t, 1, "u", KEY_OPEN, 0, M_UNAUTH);
	ok = run_phase(t, "release, full table");
	write_param("ident_max", "1024", NULL, 0);
	if (!ok)
		return;
	check_op(t, 1, 0, NESTOR_HC_OK, "UNREGISTER");
	check_op(t, 1, 1, NESTOR_HC_ENOENT, "QUERY without an identity");
	check_op(t, 1, 2, NESTOR_HC_ENOENT, "UNREGISTER without an identity");
	check_op(t, 1, 3, NESTOR_HC_ENOSPC, "REGISTER with L0's table full (ident_max 1)");
	CHECK_EQ(ident_state(t, "b", NULL), -1, "phase 3: \"b\" is gone");

	/* 4: unauthenticated registration where the key allows it. */
	reset_ops(t);
	sh->ph.run[1] = 1;
	add_reg(t, 1, "u", KEY_OPEN, 0, M_UNAUTH);
	add_op(t, 1, OP_QUERY);
	add_op(t, 1, OP_UNREGISTER);
	add_reg(t, 1, "b", KEY_B, 1, 0);
	if (!run_phase(t, "unauthenticated"))
		return;
	check_op(t, 1, 0, NESTOR_HC_OK, "unauthenticated REGISTER under a key that allows it");
	tap(t->args[1]->ops[1].rbx == (NESTOR_IDENT_F_PRESENT | NESTOR_IDENT_F_UNAUTH),
	    "phase 4 B: QUERY flags the identity as unauthenticated");
	check_op(t, 1, 2, NESTOR_HC_OK, "UNREGISTER");
	check_op(t, 1, 3, NESTOR_HC_OK, "REGISTER \"b\" again");
	check_names(t, "a", "b");

	/* 5: CPL 3 in A. */
	reset_ops(t);
	sh->ph.run[0] = 1;
	sh->ph.a_user = 1;
	add_op(t, 0, OP_CHALLENGE);
	add_op(t, 0, OP_REGISTER);
	add_op(t, 0, OP_QUERY);
	if (!run_phase(t, "CPL 3"))
		return;
	check_op(t, 0, 0, NESTOR_HC_EPERM, "CHALLENGE from CPL 3");
	check_op(t, 0, 1, NESTOR_HC_EPERM, "REGISTER from CPL 3");
	check_op(t, 0, 2, NESTOR_HC_EPERM, "QUERY from CPL 3");
	check_names(t, "a", "b");

	/* 6, 7: A moves to a new vmcb12/vmcs12; absent until it registers. */
	old_ctx = t->ctx[0];
	reset_ops(t);
	sh->ph.run[0] = 1;
	sh->ph.move_vmcs12 = 1;
	add_op(t, 0, OP_QUERY);
	if (!run_phase(t, "new vmcs12"))
		return;
	check_op(t, 0, 0, NESTOR_HC_ENOENT, "QUERY on the new context");
	check_names(t, "", "b");
	tap(t->ctx[0] != old_ctx, "phase %d: A has a new context (%u, was %u)", t->phase, t->ctx[0], old_ctx);
	memset(&id, 0, sizeof(id));
	CHECK_EQ(ident_state(t, "a", &id), 0, "phase %d: \"a\" is listed absent", t->phase);
	CHECK_EQ(id.l2_id, old_ctx, "phase %d: ... last on A's old context", t->phase);
	CHECK_EQ(count_events(t, NESTOR_CMD_IDENT_ABSENT, "a", NULL), 1,
		 "phase %d: one IDENT_ABSENT event for \"a\"", t->phase);
	tap(nestor_resolve_l2(t->n, "id:a", &rid) == -ENOENT, "phase %d: id:a resolves to nothing", t->phase);

	reset_ops(t);
	sh->ph.run[0] = 1;
	add_reg(t, 0, "a", KEY_A, 0, 0);
	if (!run_phase(t, "register again"))
		return;
	check_op(t, 0, 0, NESTOR_HC_OK, "REGISTER \"a\" on the new context");
	check_names(t, "a", "b");
	CHECK_EQ(ident_state(t, "a", NULL), 1, "phase %d: \"a\" is present again", t->phase);

	/* 8, 9: A's nested root changes. */
	old_ctx = t->ctx[0];
	reset_ops(t);
	sh->ph.run[0] = 1;
	sh->ph.root_change = 1;
	add_op(t, 0, OP_QUERY);
	if (!run_phase(t, "new nested root"))
		return;
	check_op(t, 0, 0, NESTOR_HC_ENOENT, "QUERY on the new context");
	check_names(t, "", "b");
	tap(t->ctx[0] != old_ctx && sh->nested_root[0] != 0,
	    "phase %d: A has a new context (%u, was %u)", t->phase, t->ctx[0], old_ctx);
	CHECK_EQ(ident_state(t, "a", NULL), 0, "phase %d: \"a\" is listed absent", t->phase);

	reset_ops(t);
	sh->ph.run[0] = 1;
	add_reg(t, 0, "a", KEY_A, 0, 0);
	if (!run_phase(t, "register again"))
		return;
	check_op(t, 0, 0, NESTOR_HC_OK, "REGISTER \"a\" on the new context");
	check_names(t, "a", "b");

	/* 10: commands by name reach the right L2. */
	reset_ops(t);
	sh->ph.run[0] = sh->ph.run[1] = 1;
	add_op(t, 0, OP_IO)->n = 7;
	add_op(t, 1, OP_IO)->n = 13;
	if (!run_phase(t, "port writes"))
		return;
	{
		uint32_t io = t->be == BE_SVM ? SVM_EXIT_IOIO : EXIT_REASON_IO_INSTRUCTION;
		uint64_t va = exits_of(t, "id:a", io, &ok);

		tap(ok && va == 7, "phase %d: stats of id:a count A's 7 port writes", t->phase);
		if (!ok || va != 7)
			diag("  got %lu", va);
		va = exits_of(t, "id:b", io, &ok);
		tap(ok && va == 13, "phase %d: stats of id:b count B's 13 port writes", t->phase);
		if (!ok || va != 13)
			diag("  got %lu", va);
		if (t->nestorctl)
			tap(nestorctl_has(t, "stats id:a", t->be == BE_SVM ? "IOIO" : "IO_INSTRUCTION",
					  "           7 "),
			    "phase %d: nestorctl stats id:a shows 7 port writes", t->phase);
	}

	/*
	 * 11: contexts that vanish leave their names absent, not free. The
	 * expiry work runs every idle_expiry_ms / 4 as it was when it last
	 * ran: wait for both names to turn absent.
	 */
	write_param("idle_expiry_ms", "300", NULL, 0);
	for (k = 0; k < 200; k++) {
		if (ident_state(t, "a", NULL) == 0 && ident_state(t, "b", NULL) == 0)
			break;
		usleep(100 * 1000);
	}
	write_param("idle_expiry_ms", EXPIRY_MS, NULL, 0);
	CHECK_EQ(ident_state(t, "a", NULL), 0, "phase %d: \"a\" absent after its context expired", t->phase);
	CHECK_EQ(ident_state(t, "b", NULL), 0, "phase %d: \"b\" absent after its context expired", t->phase);
	reset_ops(t);
	sh->ph.run[0] = sh->ph.run[1] = 1;
	add_reg(t, 0, "b", KEY_A, 0, 0);
	add_reg(t, 0, "a", KEY_A, 0, 0);
	add_reg(t, 1, "b", KEY_B, 1, 0);
	if (!run_phase(t, "after expiry"))
		return;
	check_op(t, 0, 0, NESTOR_HC_EBOUND, "REGISTER of absent \"b\" under another key");
	check_op(t, 0, 1, NESTOR_HC_OK, "REGISTER \"a\" on its new context");
	check_op(t, 1, 0, NESTOR_HC_OK, "REGISTER \"b\" on its new context");
	check_names(t, "a", "b");
	if (t->nestorctl)
		tap(nestorctl_has(t, "list", " id:b ", t->be == BE_SVM ? "svm" : "vmx"),
		    "phase %d: nestorctl list shows id:b on a context", t->phase);
}

static void run_bench(struct test *t)
{
	struct shared *sh = t->sh;
	double t0, reg_s, hc_s;
	uint64_t n = t->bench;

	/* Warm-up: the context exists and "bench" is bound. */
	reset_ops(t);
	sh->ph.run[0] = 1;
	add_reg(t, 0, "bench", KEY_A, 0, 0);
	add_op(t, 0, OP_HC)->n = 10;
	if (!run_phase(t, "warm-up"))
		return;
	check_op(t, 0, 0, NESTOR_HC_OK, "REGISTER \"bench\"");

	reset_ops(t);
	sh->ph.run[0] = 1;
	add_reg(t, 0, "bench", KEY_A, 0, 0)->n = n;
	t0 = now_s();
	if (!run_phase(t, "registrations"))
		return;
	reg_s = now_s() - t0;
	CHECK_EQ(t->args[0]->ops[0].ok_count, n, "bench: %lu registrations accepted", n);

	reset_ops(t);
	sh->ph.run[0] = 1;
	add_op(t, 0, OP_HC)->n = n;
	t0 = now_s();
	if (!run_phase(t, "L1 hypercalls"))
		return;
	hc_s = now_s() - t0;
	CHECK_EQ(t->args[0]->ops[0].ok_count, n, "bench: %lu hypercalls answered by L1", n);
	printf("bench identity %s registrations %lu total_s %.6f per_us %.1f\n",
	       t->be == BE_SVM ? "svm" : "vmx", n, reg_s, reg_s / n * 1e6);
	printf("bench identity %s l1_hypercalls %lu total_s %.6f per_us %.1f\n",
	       t->be == BE_SVM ? "svm" : "vmx", n, hc_s, hc_s / n * 1e6);
	printf("bench identity %s ratio %.2f\n", t->be == BE_SVM ? "svm" : "vmx",
	       reg_s / hc_s);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--timeout S] [--nestorctl PATH] [--bench N]\n", argv0);
	exit(2);
}

int main(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "nestorctl", required_argument, NULL, 'c' },
		{ "bench", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct test t = { 0 };
	unsigned int timeout = 600;
	int opt, err = 0;

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 't': timeout = strtoul(optarg, NULL, 0); break;
		case 'c': t.nestorctl = optarg; break;
		case 'b': t.bench = strtoull(optarg, NULL, 0); break;
		default: usage(argv[0]);
		}
	}
	if (optind != argc)
		usage(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_guard_process();
	alarm(timeout);
	printf("# identity_l2: L2 identity by hypercall, two L2s under a selftest L1%s\n",
	       t.bench ? " (benchmark)" : "");

	if (kvm_cpu_has(X86_FEATURE_SVM))
		t.be = BE_SVM;
	else if (kvm_cpu_has(X86_FEATURE_VMX))
		t.be = BE_VMX;
	if (!tap(t.be != BE_NONE, "KVM offers nested SVM or VMX to its guests"))
		goto out;
	t.n = nestor_open(&err);
	if (!tap(t.n != NULL, "nestor_open"))
		goto out;
	if (!provision(&t))
		goto out;
	/* L1 parks between phases: no context may expire meanwhile. */
	write_param("idle_expiry_ms", EXPIRY_MS, t.saved_expiry, sizeof(t.saved_expiry));
	if (!t.bench && !tap(nestor_events_subscribe(t.n) == 0, "subscribed to nestor's events"))
		goto out;

	setup_vm(&t);
	if (run_to_sync(&t, 0) != 0) {
		tap(false, "L1 sets up its three vmcb12/vmcs12");
		goto out;
	}
	if (t.bench)
		run_bench(&t);
	else
		test_protocol(&t);
	t.sh->go = 0;
	tap(run_to_sync(&t, -2) == -2, "L1 finishes");
	kvm_vm_free(t.vm);
out:
	if (t.n) {
		cleanup_kernel_state(&t);
		if (t.saved_expiry[0])
			write_param("idle_expiry_ms", t.saved_expiry, NULL, 0);
		nestor_close(t.n);
	}
	tap_finish();
	return tap_failed ? 1 : 0;
}
