// SPDX-License-Identifier: GPL-2.0
/*
 * The console ioctls (NESTOR_IOC_CONSOLE_*, 0x20-0x2f): every field's bad
 * values, sizes, directions and bad user memory.  No L2 is needed: fields
 * are checked before the L2 is looked up, and a console armed by pid
 * (NESTOR_CONSOLE_BY_PID) waits for an L2 that never comes here.  The
 * paths that need a running L2 (EEXIST, second writer EBUSY, ENXIO, an
 * armed console binding) are in selftests/nested/console_l2.
 * Runs as root in the emulated L0 with nestor.ko loaded; prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/nestor.h>

#include "uapi_util.h"

#define NO_L2	0xfffffff0u	/* context ids start at 1 and grow slowly */

static int dev_fd = -1;

static int ioc(unsigned long nr, void *arg)
{
	return ioctl(dev_fd, nr, arg) ? errno : 0;
}

/* Same nr and direction as @nr, another size. */
static unsigned long resize(unsigned long nr, size_t size)
{
	return _IOC(_IOC_DIR(nr), NESTOR_IOC_MAGIC, _IOC_NR(nr), size);
}

static unsigned long redir(unsigned long nr, unsigned int dir)
{
	return _IOC(dir, NESTOR_IOC_MAGIC, _IOC_NR(nr), _IOC_SIZE(nr));
}

static struct nestor_console_enable en(void)
{
	struct nestor_console_enable e;

	memset(&e, 0, sizeof(e));
	e.l2_id = NO_L2;
	return e;
}

static void test_enable(void)
{
	struct {
		struct nestor_console_enable e;
		unsigned char extra[8];
	} big;
	struct nestor_console_enable e;
	unsigned long nr = NESTOR_IOC_CONSOLE_ENABLE;

	e = en();
	tap_errno(ioc(nr, &e), ENOENT, "enable: unknown l2_id");
	e = en();
	e.l2_id = 0;
	tap_errno(ioc(nr, &e), ENOENT, "enable: l2_id 0");
	e = en();
	e.flags = NESTOR_CONSOLE_F_ALL + 1;
	tap_errno(ioc(nr, &e), EINVAL, "enable: unknown flag bit");
	e = en();
	e.flags = 1u << 31;
	tap_errno(ioc(nr, &e), EINVAL, "enable: flag bit 31");
	e = en();
	e.pad = 1;
	tap_errno(ioc(nr, &e), EINVAL, "enable: pad != 0");
	e = en();
	e.pad2 = 1ull << 63;
	tap_errno(ioc(nr, &e), EINVAL, "enable: pad2 != 0");
	e = en();
	e.port = 0x3f9;
	tap_errno(ioc(nr, &e), EINVAL, "enable: port not a multiple of 8");
	e = en();
	e.port = 0x2f8;
	tap_errno(ioc(nr, &e), ENOENT, "enable: port 0x2f8 is valid");
	e = en();
	e.ring_size = 3 * 4096;
	tap_errno(ioc(nr, &e), EINVAL, "enable: ring_size not a power of 2");
	e = en();
	e.ring_size = NESTOR_CONSOLE_MIN_RING / 2;
	tap_errno(ioc(nr, &e), EINVAL, "enable: ring_size below the minimum");
	e = en();
	e.ring_size = NESTOR_CONSOLE_MAX_RING * 2;
	tap_errno(ioc(nr, &e), EINVAL, "enable: ring_size above the maximum");
	e = en();
	e.ring_size = NESTOR_CONSOLE_MIN_RING;
	tap_errno(ioc(nr, &e), ENOENT, "enable: ring_size at the minimum is valid");
	e = en();
	tap_errno(ioc(resize(nr, sizeof(e) - 1), &e), EINVAL,
		  "enable: size one byte short");
	memset(&big, 0, sizeof(big));
	big.e = en();
	tap_errno(ioc(resize(nr, sizeof(big)), &big), ENOENT,
		  "enable: larger size, extra bytes zero: accepted");
	big.extra[7] = 1;
	tap_errno(ioc(resize(nr, sizeof(big)), &big), E2BIG,
		  "enable: larger size, extra byte set");
	tap_errno(ioc(redir(nr, _IOC_READ | _IOC_WRITE), &e), ENOTTY,
		  "enable: _IOWR (wrong direction)");
	tap_errno(ioc(redir(nr, _IOC_READ), &e), ENOTTY,
		  "enable: _IOR (wrong direction)");
	tap_errno(ioc(nr, (void *)16), EFAULT, "enable: bad pointer");
}

static void test_disable(void)
{
	struct nestor_console_id d = { .l2_id = NO_L2 };
	unsigned long nr = NESTOR_IOC_CONSOLE_DISABLE;

	tap_errno(ioc(nr, &d), ENOENT, "disable: no console on that L2");
	d.flags = 1;
	tap_errno(ioc(nr, &d), EINVAL, "disable: flags != 0");
	d.flags = 0;
	tap_errno(ioc(resize(nr, 4), &d), EINVAL, "disable: size 4");
	tap_errno(ioc(redir(nr, _IOC_READ | _IOC_WRITE), &d), ENOTTY,
		  "disable: wrong direction");
	tap_errno(ioc(nr, (void *)16), EFAULT, "disable: bad pointer");
}

static void test_attach(void)
{
	struct nestor_console_attach a;
	unsigned long nr = NESTOR_IOC_CONSOLE_ATTACH;

#define A(f) do { memset(&a, 0, sizeof(a)); a.l2_id = NO_L2; \
		  a.flags = (f); } while (0)
	A(NESTOR_CONSOLE_ATTACH_READ);
	tap_errno(ioc(nr, &a), ENOENT, "attach: unknown L2");
	tap_ok(a.fd == 0, "attach: failed attach leaves fd alone");
	A(NESTOR_CONSOLE_ATTACH_ALL);
	a.l2_id = 0;
	tap_errno(ioc(nr, &a), ENOENT, "attach: l2_id 0");
	A(0);
	tap_errno(ioc(nr, &a), EINVAL, "attach: neither READ nor WRITE");
	A(NESTOR_CONSOLE_ATTACH_ALL + 1);
	tap_errno(ioc(nr, &a), EINVAL, "attach: unknown flag bit");
	A(NESTOR_CONSOLE_ATTACH_READ);
	a.pad = 1;
	tap_errno(ioc(nr, &a), EINVAL, "attach: pad != 0");
	A(NESTOR_CONSOLE_ATTACH_READ);
	a.fd = 3;
	tap_errno(ioc(nr, &a), EINVAL, "attach: fd (out) != 0 on input");
	A(NESTOR_CONSOLE_ATTACH_READ);
	tap_errno(ioc(resize(nr, 8), &a), EINVAL, "attach: size 8");
	tap_errno(ioc(redir(nr, _IOC_WRITE), &a), ENOTTY,
		  "attach: _IOW (wrong direction)");
	tap_errno(ioc(nr, (void *)16), EFAULT, "attach: bad pointer");
#undef A
}

static void test_status(void)
{
	struct nestor_console_status s;
	unsigned long nr = NESTOR_IOC_CONSOLE_STATUS;
	void *ro;

	memset(&s, 0, sizeof(s));
	s.l2_id = NO_L2;
	tap_errno(ioc(nr, &s), ENOENT, "status: unknown L2");
	s.flags = 1;
	tap_errno(ioc(nr, &s), EINVAL, "status: flags != 0");
	s.flags = 1u << 31;
	tap_errno(ioc(nr, &s), EINVAL, "status: flag bit 31");
	s.flags = 0;
	/* Former padding, now out-fields: a reused struct is not refused. */
	s.serving_l2_id = 1;
	s.armed_pid = 1;
	s.tx_bytes = 1;
	tap_errno(ioc(nr, &s), ENOENT,
		  "status: out-fields nonzero on input are ignored (ENOENT)");
	memset(&s, 0, sizeof(s));
	s.l2_id = NO_L2;
	tap_errno(ioc(resize(nr, 16), &s), EINVAL, "status: size 16");
	tap_errno(ioc(redir(nr, _IOC_READ), &s), ENOTTY,
		  "status: _IOR (wrong direction)");
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	tap_errno(ioc(nr, (void *)16), EFAULT, "status: bad pointer");
	if (ro != MAP_FAILED) {
		/* Zero-filled and readable: the lookup runs, ENOENT for id 0. */
		tap_errno(ioc(nr, ro), ENOENT,
			  "status: read-only zeroed memory, l2_id 0");
		munmap(ro, 4096);
	}
}

static volatile pid_t sleeper_tid;
static int sleeper_pipe[2];

/* A thread that waits for its pipe (no pthread_cancel: it needs libgcc_s). */
static void *sleeper(void *arg __attribute__((unused)))
{
	char c;

	sleeper_tid = syscall(SYS_gettid);
	if (read(sleeper_pipe[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

/* NESTOR_CONSOLE_BY_PID on each ioctl; no L2 ever comes. */
static void test_by_pid(void)
{
	struct nestor_console_enable e;
	struct nestor_console_status s;
	struct nestor_console_attach a;
	struct nestor_console_id d;
	pthread_t thread;
	struct pollfd pfd;
	pid_t child;
	char c;
	int st;

#define ARM(pid) do { e = en(); e.flags = NESTOR_CONSOLE_BY_PID; \
		      e.l1_pid = (pid); } while (0)
#define STATUS(pid) do { memset(&s, 0, sizeof(s)); \
			 s.flags = NESTOR_CONSOLE_BY_PID; \
			 s.l1_pid = (pid); } while (0)
#define ID(pid) do { memset(&d, 0, sizeof(d)); \
		     d.flags = NESTOR_CONSOLE_BY_PID; \
		     d.l1_pid = (pid); } while (0)
#define ATTACH(pid, f) do { memset(&a, 0, sizeof(a)); \
			    a.flags = NESTOR_CONSOLE_BY_PID | (f); \
			    a.l1_pid = (pid); } while (0)
	ARM(0);
	tap_errno(ioc(NESTOR_IOC_CONSOLE_ENABLE, &e), ESRCH, "arm: pid 0");
	ARM(0x3ffffff0);
	tap_errno(ioc(NESTOR_IOC_CONSOLE_ENABLE, &e), ESRCH,
		  "arm: no such process");
	ARM(NO_L2);
	tap_errno(ioc(NESTOR_IOC_CONSOLE_ENABLE, &e), ESRCH,
		  "arm: pid beyond PID_MAX_LIMIT");
	if (!pipe(sleeper_pipe) &&
	    !pthread_create(&thread, NULL, sleeper, NULL)) {
		while (!sleeper_tid)
			usleep(1000);
		ARM(sleeper_tid);
		tap_errno(ioc(NESTOR_IOC_CONSOLE_ENABLE, &e), ESRCH,
			  "arm: a thread's id (not a process)");
		close(sleeper_pipe[1]);
		pthread_join(thread, NULL);
		close(sleeper_pipe[0]);
	} else {
		tap_ok(0, "arm: a thread's id (pthread_create failed)");
	}
	ARM(getpid());
	e.port = 0x3f9;
	tap_errno(ioc(NESTOR_IOC_CONSOLE_ENABLE, &e), EINVAL,
		  "arm: fields are checked too (port 0x3f9)");
	ARM(getpid());
	e.pad2 = 1;
	tap_errno(ioc(NESTOR_IOC_CONSOLE_ENABLE, &e), EINVAL, "arm: pad2 != 0");

	STATUS(getpid());
	tap_errno(ioc(NESTOR_IOC_CONSOLE_STATUS, &s), ENOENT,
		  "status by pid, nothing armed: ENOENT");
	ATTACH(getpid(), NESTOR_CONSOLE_ATTACH_READ);
	tap_errno(ioc(NESTOR_IOC_CONSOLE_ATTACH, &a), ENOENT,
		  "attach by pid, nothing armed: ENOENT");
	ATTACH(getpid(), 0);
	tap_errno(ioc(NESTOR_IOC_CONSOLE_ATTACH, &a), EINVAL,
		  "attach by pid with neither READ nor WRITE");
	ID(getpid());
	tap_errno(ioc(NESTOR_IOC_CONSOLE_DISABLE, &d), ENOENT,
		  "disable by pid, nothing armed: ENOENT");

	/* Armed on this process, which runs no VM: it waits. */
	ARM(getpid());
	e.flags |= NESTOR_CONSOLE_F_DROP_OLDEST;
	if (!tap_errno(ioc(NESTOR_IOC_CONSOLE_ENABLE, &e), 0,
		       "arm on this process"))
		return;
	ARM(getpid());
	tap_errno(ioc(NESTOR_IOC_CONSOLE_ENABLE, &e), EEXIST,
		  "arm again while it waits: EEXIST");
	STATUS(getpid());
	tap_errno(ioc(NESTOR_IOC_CONSOLE_STATUS, &s), 0, "status by pid");
	tap_ok(s.armed_pid == (__u32)getpid() && s.serving_l2_id == 0 &&
	       s.l1_pid == (__u32)getpid() &&
	       s.flags == NESTOR_CONSOLE_BY_PID,
	       "status: armed on this pid, bound to no L2, input kept");
	tap_ok(s.console_flags == NESTOR_CONSOLE_F_DROP_OLDEST &&
	       s.port == NESTOR_CONSOLE_DEFAULT_PORT &&
	       s.ring_size == NESTOR_CONSOLE_DEFAULT_RING && s.tx_bytes == 0,
	       "status: drop-oldest, default port and ring, nothing sent");
	memset(&s, 0, sizeof(s));
	s.l2_id = (__u32)getpid();
	tap_errno(ioc(NESTOR_IOC_CONSOLE_STATUS, &s), ENOENT,
		  "the same number without BY_PID names an L2: ENOENT");
	ATTACH(getpid(), NESTOR_CONSOLE_ATTACH_ALL);
	if (tap_errno(ioc(NESTOR_IOC_CONSOLE_ATTACH, &a), 0,
		      "attach by pid before any L2")) {
		fcntl(a.fd, F_SETFL, O_NONBLOCK);
		tap_ok(read(a.fd, &c, 1) < 0 && errno == EAGAIN,
		       "read: nothing yet (EAGAIN)");
		pfd = (struct pollfd){ .fd = a.fd, .events = POLLIN | POLLOUT };
		tap_ok(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLOUT,
		       "poll: writable, nothing to read");
		tap_ok(write(a.fd, "x", 1) == 1,
		       "input waits for the L2 (write accepted)");
		ID(getpid());
		tap_errno(ioc(NESTOR_IOC_CONSOLE_DISABLE, &d), 0,
			  "disable by pid");
		tap_ok(read(a.fd, &c, 1) == 0, "the client sees EOF");
		tap_ok(write(a.fd, "x", 1) < 0 && errno == EPIPE,
		       "... and EPIPE on write");
		close(a.fd);
	}
	STATUS(getpid());
	tap_errno(ioc(NESTOR_IOC_CONSOLE_STATUS, &s), ENOENT,
		  "status by pid after disable: ENOENT");

	/* The number still names the console after its process is gone. */
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	ARM(child);
	tap_errno(ioc(NESTOR_IOC_CONSOLE_ENABLE, &e), 0, "arm on a child");
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	STATUS(child);
	tap_errno(ioc(NESTOR_IOC_CONSOLE_STATUS, &s), 0,
		  "the child is gone: its console is still named by its pid");
	ID(child);
	tap_errno(ioc(NESTOR_IOC_CONSOLE_DISABLE, &d), 0,
		  "... and disabled by it");
	tap_errno(ioc(NESTOR_IOC_CONSOLE_DISABLE, &d), ENOENT,
		  "disable again: ENOENT");
#undef ARM
#undef STATUS
#undef ID
#undef ATTACH
}

static void test_numbers(void)
{
	unsigned char buf[64] = { 0 };
	unsigned int n;
	int bad = 0;

	for (n = 0x24; n <= 0x2f; n++)
		bad += ioc(_IOWR(NESTOR_IOC_MAGIC, n, struct nestor_console_id),
			   buf) != ENOTTY;
	tap_ok(!bad, "unused console numbers 0x24-0x2f: ENOTTY");
}

int main(void)
{
	struct nestor_version v = { 0 };

	dev_fd = open(NESTOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev_fd < 0)
		tap_bail(NESTOR_DEVICE_PATH " cannot be opened");
	if (!tap_errno(ioc(NESTOR_IOC_VERSION, &v), 0, "version") ||
	    !tap_ok(v.features & NESTOR_FEAT_CONSOLE,
		    "features include NESTOR_FEAT_CONSOLE") ||
	    !tap_ok(v.features & NESTOR_FEAT_CONSOLE_ARM,
		    "features include NESTOR_FEAT_CONSOLE_ARM"))
		tap_diag("features 0x%llx", (unsigned long long)v.features);
	test_enable();
	test_disable();
	test_attach();
	test_status();
	test_by_pid();
	test_numbers();
	close(dev_fd);
	return tap_done();
}
