// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pieces shared by the nested test programs; see nested_common.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "test_util.h"
#include "nested_common.h"

/* ------------------------------------------------------------------ */
/* L1: entering an L2 with all of its GPRs saved and restored          */
/* ------------------------------------------------------------------ */
/*
 * The library's run_guest() (SVM) keeps one global register set and
 * vmlaunch()/vmresume() (VMX) do not preserve the guest's GPRs at all; with
 * two L2s that L1 alternates between, each needs its own register file.
 *
 * void nested_l2_svm_run(struct l2_gprs *g, uint64_t vmcb_gpa);
 *	RAX/RSP/RIP/RFLAGS are in the VMCB. VMLOAD/VMSAVE as run_guest() does.
 * int nested_l2_vmx_run(struct l2_gprs *g, int launched);
 *	On the current VMCS; returns 0 after a VM exit, 1 when VMLAUNCH/VMRESUME
 *	failed (VMfail). HOST_RSP/HOST_RIP are written here.
 */
asm(
"	.pushsection .text\n"
"	.globl nested_l2_svm_run\n"
"	.type nested_l2_svm_run, @function\n"
"nested_l2_svm_run:\n"
"	push %rbp\n"
"	push %rbx\n"
"	push %r12\n"
"	push %r13\n"
"	push %r14\n"
"	push %r15\n"
"	push %rsi\n"			/* vmcb gpa */
"	push %rdi\n"			/* l2_gprs */
"	mov %rsi, %rax\n"
"	clgi\n"
"	vmload %rax\n"
"	mov 8(%rdi), %rbx\n"
"	mov 16(%rdi), %rcx\n"
"	mov 24(%rdi), %rdx\n"
"	mov 32(%rdi), %rsi\n"
"	mov 48(%rdi), %rbp\n"
"	mov 56(%rdi), %r8\n"
"	mov 64(%rdi), %r9\n"
"	mov 72(%rdi), %r10\n"
"	mov 80(%rdi), %r11\n"
"	mov 88(%rdi), %r12\n"
"	mov 96(%rdi), %r13\n"
"	mov 104(%rdi), %r14\n"
"	mov 112(%rdi), %r15\n"
"	mov 40(%rdi), %rdi\n"
"	vmrun %rax\n"
"	push %rdi\n"
"	mov 8(%rsp), %rdi\n"
"	mov %rbx, 8(%rdi)\n"
"	mov %rcx, 16(%rdi)\n"
"	mov %rdx, 24(%rdi)\n"
"	mov %rsi, 32(%rdi)\n"
"	mov %rbp, 48(%rdi)\n"
"	mov %r8, 56(%rdi)\n"
"	mov %r9, 64(%rdi)\n"
"	mov %r10, 72(%rdi)\n"
"	mov %r11, 80(%rdi)\n"
"	mov %r12, 88(%rdi)\n"
"	mov %r13, 96(%rdi)\n"
"	mov %r14, 104(%rdi)\n"
"	mov %r15, 112(%rdi)\n"
"	pop %rax\n"
"	mov %rax, 40(%rdi)\n"
"	pop %rdi\n"
"	pop %rax\n"
"	vmsave %rax\n"
"	stgi\n"
"	pop %r15\n"
"	pop %r14\n"
"	pop %r13\n"
"	pop %r12\n"
"	pop %rbx\n"
"	pop %rbp\n"
"	ret\n"
"	.size nested_l2_svm_run, . - nested_l2_svm_run\n"
"\n"
"	.globl nested_l2_vmx_run\n"
"	.type nested_l2_vmx_run, @function\n"
"nested_l2_vmx_run:\n"
"	push %rbp\n"
"	push %rbx\n"
"	push %r12\n"
"	push %r13\n"
"	push %r14\n"
"	push %r15\n"
"	push %rdi\n"			/* l2_gprs; HOST_RSP points here */
"	mov $0x6c14, %eax\n"		/* HOST_RSP */
"	vmwrite %rsp, %rax\n"
"	lea 1f(%rip), %rdx\n"
"	mov $0x6c16, %eax\n"		/* HOST_RIP */
"	vmwrite %rdx, %rax\n"
"	test %esi, %esi\n"		/* flags survive the MOVs below */
"	mov 0(%rdi), %rax\n"
"	mov 8(%rdi), %rbx\n"
"	mov 16(%rdi), %rcx\n"
"	mov 24(%rdi), %rdx\n"
"	mov 32(%rdi), %rsi\n"
"	mov 48(%rdi), %rbp\n"
"	mov 56(%rdi), %r8\n"
"	mov 64(%rdi), %r9\n"
"	mov 72(%rdi), %r10\n"
"	mov 80(%rdi), %r11\n"
"	mov 88(%rdi), %r12\n"
"	mov 96(%rdi), %r13\n"
"	mov 104(%rdi), %r14\n"
"	mov 112(%rdi), %r15\n"
"	mov 40(%rdi), %rdi\n"
"	jnz 2f\n"
"	vmlaunch\n"
"	jmp 3f\n"
"2:	vmresume\n"
"3:	pop %rdi\n"			/* VMfail: nothing was saved */
"	mov $1, %eax\n"
"	jmp 4f\n"
"1:	push %rdi\n"			/* VM exit: RSP = HOST_RSP */
"	mov 8(%rsp), %rdi\n"
"	mov %rax, 0(%rdi)\n"
"	mov %rbx, 8(%rdi)\n"
"	mov %rcx, 16(%rdi)\n"
"	mov %rdx, 24(%rdi)\n"
"	mov %rsi, 32(%rdi)\n"
"	mov %rbp, 48(%rdi)\n"
"	mov %r8, 56(%rdi)\n"
"	mov %r9, 64(%rdi)\n"
"	mov %r10, 72(%rdi)\n"
"	mov %r11, 80(%rdi)\n"
"	mov %r12, 88(%rdi)\n"
"	mov %r13, 96(%rdi)\n"
"	mov %r14, 104(%rdi)\n"
"	mov %r15, 112(%rdi)\n"
"	pop %rax\n"
"	mov %rax, 40(%rdi)\n"
"	pop %rdi\n"
"	xor %eax, %eax\n"
"4:	pop %r15\n"
"	pop %r14\n"
"	pop %r13\n"
"	pop %r12\n"
"	pop %rbx\n"
"	pop %rbp\n"
"	ret\n"
"	.size nested_l2_vmx_run, . - nested_l2_vmx_run\n"
"	.popsection\n");


int tap_n, tap_failed;
static volatile sig_atomic_t finished;

bool tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		tap_failed++;
	return ok;
}

void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}


void tap_finish(void)
{
	finished = 1;
	printf("1..%d\n", tap_n);
	if (tap_failed)
		diag("%d of %d checks failed", tap_failed, tap_n);
	fflush(stdout);
}

/* The library's TEST_ASSERT ends the process with exit(254); keep TAP whole. */
static void at_exit(void)
{
	if (finished)
		return;
	tap(false, "no assertion of KVM's selftest library failed (see stderr)");
	tap_finish();
	_exit(1);
}

static void on_alarm(int sig)
{
	char buf[128];
	int len;

	(void)sig;
	finished = 1;
	/* stdout is line-buffered, so nothing is pending in it. */
	len = snprintf(buf, sizeof(buf), "not ok %d - finished within the time limit\n1..%d\n",
		       tap_n + 1, tap_n + 1);
	if (write(STDOUT_FILENO, buf, len) < 0)
		_exit(1);
	_exit(1);
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void tap_guard_process(void)
{
	atexit(at_exit);
	signal(SIGALRM, on_alarm);
}

/* ------------------------------------------------------------------ */
/* Host: nested page tables                                            */
/* ------------------------------------------------------------------ */

vm_paddr_t alloc_table(struct kvm_vm *vm)
{
	vm_paddr_t pa = vm_alloc_page_table(vm);

	memset(addr_gpa2hva(vm, pa), 0, vm->page_size);
	return pa;
}

/*
 * AMD NPT uses the long-mode page-table format; every access counts as a
 * user access, so U/S is set at every level. A/D are preset so the walk
 * never has to write to these tables.
 */
void npt_map(struct kvm_vm *vm, vm_paddr_t root, uint64_t gpa,
		    uint64_t size, int level)
{
	uint64_t step = PG_LEVEL_SIZE(level);

	TEST_ASSERT(!(gpa % step) && !(size % step), "npt_map: misaligned %#lx+%#lx", gpa, size);
	for (uint64_t a = gpa; a < gpa + size; a += step) {
		uint64_t *table = addr_gpa2hva(vm, root);

		for (int l = PG_LEVEL_512G; l > level; l--) {
			uint64_t *e = &table[(a >> PG_LEVEL_SHIFT(l)) & 511];

			if (!(*e & PTE_P))
				*e = alloc_table(vm) | PTE_P | PTE_RW | PTE_US | PTE_A;
			TEST_ASSERT(!(*e & PTE_PS), "npt_map: %#lx already under a large page", a);
			table = addr_gpa2hva(vm, *e & PTE_ADDR);
		}
		uint64_t *e = &table[(a >> PG_LEVEL_SHIFT(level)) & 511];

		TEST_ASSERT(!(*e & PTE_P), "npt_map: %#lx mapped twice", a);
		*e = a | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D |
		     (level > PG_LEVEL_4K ? PTE_PS : 0);
	}
}

/*
 * Level of the leaf that maps gpa in a nested table (NPT, or EPT: both keep
 * the next address in bits 51:12 and the large-page flag in bit 7), and the
 * address it maps to; 0 when gpa is not mapped.
 */
int nested_leaf(struct kvm_vm *vm, vm_paddr_t root, bool ept,
		       uint64_t gpa, uint64_t *pa)
{
	uint64_t *table = addr_gpa2hva(vm, root);

	for (int l = PG_LEVEL_512G; l >= PG_LEVEL_4K; l--) {
		uint64_t e = table[(gpa >> PG_LEVEL_SHIFT(l)) & 511];
		uint64_t mask = PG_LEVEL_SIZE(l) - 1;

		if (!(ept ? (e & 7) : (e & PTE_P)))
			return 0;
		if (l == PG_LEVEL_4K || (e & PTE_PS)) {
			*pa = (e & PTE_ADDR & ~mask) | (gpa & mask);
			return l;
		}
		table = addr_gpa2hva(vm, e & PTE_ADDR);
	}
	return 0;
}


/* ---- helper processes (monitord and the test proxies) ---- */

int run_capture(const char *cmd, char *out, size_t len)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(out, 1, len - 1, f);
	out[n] = 0;
	return pclose(f);
}

void loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return;
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

pid_t spawn_quiet(const char *path, char *const argv[], const char *err_path)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		if (err_path) {
			int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (err >= 0)
				dup2(err, 2);
		}
		execv(path, argv);
		_exit(127);
	}
	return pid;
}

bool port_open(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	for (int i = 0; i < 100; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		bool ok = fd >= 0 && !connect(fd, (void *)&sa, sizeof(sa));

		if (fd >= 0)
			close(fd);
		if (ok)
			return true;
		usleep(50000);
	}
	return false;
}

void bin_dir(const char *self, char *dir, size_t len)
{
	char *slash;

	snprintf(dir, len, "%s", self);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, len, ".");
}
