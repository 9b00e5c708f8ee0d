/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pieces shared by the nested test programs (nested_l2 and the services'
 * own tests): entering an L2 with its own register file from a tiny L1,
 * L2's hypercall, nested page tables built by the host, and TAP output.
 * Built against KVM's selftest library (build-kvm-selftest-lib.sh).
 */
#ifndef NESTED_COMMON_H
#define NESTED_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kvm_util.h"
#include "processor.h"
#include "vmx.h"

/* L2 general-purpose registers while L1 runs; RSP/RIP live in the VMCB/VMCS
 * (and on SVM, RAX too). Offsets are used by the entry code below. */
struct l2_gprs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};
_Static_assert(offsetof(struct l2_gprs, rdi) == 40, "l2_gprs layout");
_Static_assert(offsetof(struct l2_gprs, r15) == 112, "l2_gprs layout");
_Static_assert(HOST_RSP == 0x6c14 && HOST_RIP == 0x6c16, "VMCS encodings");

/*
 * Entering an L2 from L1 with all of its GPRs saved and restored
 * (nested_common.c has the details).
 */
void nested_l2_svm_run(struct l2_gprs *g, uint64_t vmcb_gpa);
int nested_l2_vmx_run(struct l2_gprs *g, int launched);

/* L2: VMCALL (vmx != 0) or VMMCALL with RAX, RBX, RCX, RDX in and out. */
static inline void l2_hypercall(uint64_t vmx, uint64_t *rax, uint64_t *rbx,
				uint64_t *rcx, uint64_t *rdx)
{
	uint64_t rsi = 0;

	if (vmx)
		asm volatile("vmcall"
			     : "+a"(*rax), "+b"(*rbx), "+c"(*rcx), "+d"(*rdx), "+S"(rsi)
			     : : "memory");
	else
		asm volatile("vmmcall"
			     : "+a"(*rax), "+b"(*rbx), "+c"(*rcx), "+d"(*rdx), "+S"(rsi)
			     : : "memory");
}

/* TAP on stdout: "ok N - ..." lines, the plan at the end. */
extern int tap_n, tap_failed;
bool tap(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define CHECK_EQ(got, want, ...) ({						\
	uint64_t _g = (got), _w = (want);					\
	bool _ok = tap(_g == _w, __VA_ARGS__);					\
	if (!_ok)								\
		diag("  got %#llx (%llu), want %#llx (%llu)",			\
		     (unsigned long long)_g, (unsigned long long)_g,		\
		     (unsigned long long)_w, (unsigned long long)_w);		\
	_ok;									\
})

/* Prints the plan; call once at the end. */
void tap_finish(void);
/*
 * Keeps the TAP whole when the process ends early: the library's
 * TEST_ASSERT exits (a failing check is added), and SIGALRM (alarm())
 * ends the run with a "finished within the time limit" failure.
 */
void tap_guard_process(void);

double now_s(void);		/* CLOCK_MONOTONIC */
uint64_t boottime_ns(void);	/* CLOCK_BOOTTIME */

/* Host-built nested page tables (NPT format; EPT shares the walk). */
#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_US		(1ull << 2)
#define PTE_A		(1ull << 5)
#define PTE_D		(1ull << 6)
#define PTE_PS		(1ull << 7)
#define PTE_ADDR	0x000ffffffffff000ull

vm_paddr_t alloc_table(struct kvm_vm *vm);
void npt_map(struct kvm_vm *vm, vm_paddr_t root, uint64_t gpa,
	     uint64_t size, int level);
int nested_leaf(struct kvm_vm *vm, vm_paddr_t root, bool ept,
		uint64_t gpa, uint64_t *pa);

/* Helper processes: nestor-monitord, nestorctl, the test proxies. */
/* Runs @cmd (sh); its stdout (at most @len - 1 bytes) and wait status. */
int run_capture(const char *cmd, char *out, size_t len);
/* The initramfs leaves lo down. */
void loopback_up(void);
/* fork+execv, stdout to /dev/null, stderr to @err_path unless NULL. */
pid_t spawn_quiet(const char *path, char *const argv[], const char *err_path);
/* Whether 127.0.0.1:@port accepts a connection (tries for 5 s). */
bool port_open(int port);
/* The directory of the program @self (argv[0]): its sibling binaries. */
void bin_dir(const char *self, char *dir, size_t len);

#endif /* NESTED_COMMON_H */
