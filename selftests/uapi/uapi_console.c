// SPDX-License-Identifier: GPL-2.0
/*
 * The console ioctls (NESTOR_IOC_CONSOLE_*, 0x20-0x2f): every field's bad
 * values, sizes, directions and bad user memory; the signed I/O on a
 * console file (SREAD, SWRITE: MACs checked with tools/lib/sig.c).  No L2 is needed: fields
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/nestor.h>

#include "libnestor.h"
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
static int sleeper_pipe[2] = { -1, -1 };

/*
 * Waits on a pipe until told to end: pthread_cancel() needs libgcc_s,
 * which the L0 initramfs lacks (it aborts the whole test).
 */
static void *sleeper(void *arg __attribute__((unused)))
{
	char c;

	sleeper_tid = syscall(SYS_gettid);
	while (read(sleeper_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
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
	/* A pid below PID_MAX_LIMIT that names no process: a reaped child's. */
	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, &st, 0);
	ARM(child);
	tap_errno(ioc(NESTOR_IOC_CONSOLE_ENABLE, &e), ESRCH,
		  "arm: no such process (a reaped child's pid)");
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

/* ---- signed I/O on a console file (SREAD, SWRITE) ---- */

#define CON_KEY		0x636f6e01u	/* a monitor key */
#define CON_OWNER	0x636f6e02u	/* an owner key: the wrong kind */
#define CON_NO_KEY	0x636f6e03u

static const uint8_t con_key[32] = "uapi_console monitor key 0123456";

static int fioc(int fd, unsigned long nr, void *arg)
{
	return ioctl(fd, nr, arg) ? errno : 0;
}

static uint8_t sread_buf[NESTOR_CONSOLE_SREAD_MAX];

static struct nestor_console_sread sr(void)
{
	struct nestor_console_sread a;

	memset(&a, 0, sizeof(a));
	a.key_id = CON_KEY;
	memset(a.nonce, 0xa5, sizeof(a.nonce));
	a.nonce[0] = (uint8_t)random();
	a.buf = (uintptr_t)sread_buf;
	a.len = 64;
	return a;
}

/* An SWRITE of @data signed for (@l2_id, @session), @seq. */
static struct nestor_console_swrite sw(const char *data, uint32_t l2_id,
				       const uint8_t *session, uint64_t seq)
{
	struct nestor_console_swrite w;

	memset(&w, 0, sizeof(w));
	w.key_id = CON_KEY;
	w.seq = seq;
	w.buf = (uintptr_t)data;
	w.len = strlen(data);
	nestor_sig_console_in(con_key, sizeof(con_key), l2_id, session, seq,
			      data, w.len, w.mac);
	return w;
}

static void sread_fields(int fd)
{
	struct {
		struct nestor_console_sread a;
		unsigned char extra[8];
	} big;
	struct nestor_console_sread a;
	unsigned long nr = NESTOR_IOC_CONSOLE_SREAD;
	void *ro;

#define SR_CASE(err, what, change) do { a = sr(); change; \
		tap_errno(fioc(fd, nr, &a), err, "sread: " what); } while (0)
	SR_CASE(0, "valid (nothing to read)", (void)0);
	SR_CASE(EINVAL, "flags 1", a.flags = 1);
	SR_CASE(EINVAL, "flag bit 31", a.flags = 1u << 31);
	SR_CASE(EINVAL, "key_id 0", a.key_id = 0);
	SR_CASE(ENOKEY, "no such key", a.key_id = CON_NO_KEY);
	SR_CASE(ENOKEY, "an owner key (wrong kind)", a.key_id = CON_OWNER);
	SR_CASE(EINVAL, "all-zero nonce", memset(a.nonce, 0, sizeof(a.nonce)));
	SR_CASE(EINVAL, "len 0", a.len = 0);
	SR_CASE(EINVAL, "len above NESTOR_CONSOLE_SREAD_MAX",
		a.len = NESTOR_CONSOLE_SREAD_MAX + 1);
	SR_CASE(0, "len NESTOR_CONSOLE_SREAD_MAX", a.len = NESTOR_CONSOLE_SREAD_MAX);
	SR_CASE(EINVAL, "done (out) != 0 on input", a.done = 1);
	SR_CASE(EINVAL, "l2_id (out) != 0 on input", a.l2_id = 1);
	SR_CASE(EINVAL, "eof (out) != 0 on input", a.eof = 1);
	SR_CASE(EINVAL, "pos (out) != 0 on input", a.pos = 1);
	SR_CASE(EINVAL, "dropped (out) != 0 on input", a.dropped = 1);
	SR_CASE(EINVAL, "session (out) != 0 on input", a.session[15] = 1);
	SR_CASE(EINVAL, "mac (out) != 0 on input", a.mac[31] = 1);
	SR_CASE(EFAULT, "buf a bad pointer", a.buf = 16);
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro != MAP_FAILED) {
		SR_CASE(EFAULT, "buf read-only", a.buf = (uintptr_t)ro);
		munmap(ro, 4096);
	}
	tap_errno(fioc(fd, nr, (void *)16), EFAULT, "sread: bad struct pointer");
	a = sr();
	tap_errno(fioc(fd, resize(nr, sizeof(a) - 1), &a), EINVAL,
		  "sread: size one byte short");
	memset(&big, 0, sizeof(big));
	big.a = sr();
	tap_errno(fioc(fd, resize(nr, sizeof(big)), &big), 0,
		  "sread: larger size, extra bytes zero: accepted");
	big.a = sr();
	big.extra[7] = 1;
	tap_errno(fioc(fd, resize(nr, sizeof(big)), &big), E2BIG,
		  "sread: larger size, extra byte set");
	a = sr();
	tap_errno(fioc(fd, redir(nr, _IOC_WRITE), &a), ENOTTY,
		  "sread: _IOW (wrong direction)");
#undef SR_CASE
}

static void swrite_fields(int fd, uint32_t l2_id, const uint8_t *session)
{
	struct {
		struct nestor_console_swrite w;
		unsigned char extra[8];
	} big;
	struct nestor_console_swrite w;
	unsigned long nr = NESTOR_IOC_CONSOLE_SWRITE;
	static char huge[NESTOR_CONSOLE_SWRITE_MAX + 1];

	/* None of these is taken, or seq 0 would be used up. */
#define SW_CASE(err, what, change) do { w = sw("x", l2_id, session, 0); \
		change; tap_errno(fioc(fd, nr, &w), err, "swrite: " what); } while (0)
	SW_CASE(EINVAL, "flags 1", w.flags = 1);
	SW_CASE(EINVAL, "pad != 0", w.pad = 1);
	SW_CASE(EINVAL, "key_id 0", w.key_id = 0);
	SW_CASE(ENOKEY, "no such key", w.key_id = CON_NO_KEY);
	SW_CASE(ENOKEY, "an owner key (wrong kind)", w.key_id = CON_OWNER);
	SW_CASE(EINVAL, "len 0", w.len = 0);
	memset(huge, 'h', sizeof(huge) - 1);
	/* Not taken either: seq 5 is not the next one. */
	w = sw(huge, l2_id, session, 5);
	tap_errno(fioc(fd, nr, &w), ESTALE,
		  "swrite: len NESTOR_CONSOLE_SWRITE_MAX is valid (ESTALE: seq 5)");
	w.len++;
	tap_errno(fioc(fd, nr, &w), EINVAL, "swrite: len above NESTOR_CONSOLE_SWRITE_MAX");
	SW_CASE(EFAULT, "buf a bad pointer", w.buf = 16);
	tap_errno(fioc(fd, nr, (void *)16), EFAULT, "swrite: bad struct pointer");
	w = sw("x", l2_id, session, 0);
	tap_errno(fioc(fd, resize(nr, sizeof(w) - 1), &w), EINVAL,
		  "swrite: size one byte short");
	memset(&big, 0, sizeof(big));
	big.w = sw("x", l2_id, session, 0);
	big.extra[0] = 1;
	tap_errno(fioc(fd, resize(nr, sizeof(big)), &big), E2BIG,
		  "swrite: larger size, extra byte set");
	tap_errno(fioc(fd, redir(nr, _IOC_READ | _IOC_WRITE), &w), ENOTTY,
		  "swrite: _IOWR (wrong direction)");
	SW_CASE(EBADMSG, "a wrong MAC", w.mac[0] ^= 1);
	SW_CASE(EBADMSG, "a changed byte of data (MAC of another)",
		w.buf = (uintptr_t)"y");
	SW_CASE(EBADMSG, "the MAC of another L2", w = sw("x", l2_id + 1, session, 0));
	SW_CASE(EBADMSG, "a longer len than the MAC covers",
		w.buf = (uintptr_t)"xx"; w.len = 2);
#undef SW_CASE
}

static void test_signed(void)
{
	struct nestor_key_add k = { .kind = NESTOR_KEY_MONITOR,
				    .key_id = CON_KEY, .key_len = 32 };
	struct nestor_console_enable e;
	struct nestor_console_attach a;
	struct nestor_console_sread r, r2;
	struct nestor_console_swrite w;
	struct nestor_console_id d;
	struct nestor_key_del kd;
	int rw = -1, ro = -1, wo = -1;
	uint8_t session[NESTOR_CONSOLE_SESSION_LEN];
	char room[NESTOR_CONSOLE_SWRITE_MAX];
	uint32_t l2_id = 0;
	ssize_t n;

	memcpy(k.key, con_key, 32);
	if (!tap_errno(ioc(NESTOR_IOC_KEY_ADD, &k), 0, "signed: add a monitor key"))
		return;
	k.kind = NESTOR_KEY_OWNER;
	k.key_id = CON_OWNER;
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &k), 0, "signed: add an owner key");

	r = sr();
	tap_errno(ioc(NESTOR_IOC_CONSOLE_SREAD, &r), ENOTTY,
		  "sread on /dev/nestor: ENOTTY");
	w = sw("x", 0, (const uint8_t *)"0123456789abcdef", 0);
	tap_errno(ioc(NESTOR_IOC_CONSOLE_SWRITE, &w), ENOTTY,
		  "swrite on /dev/nestor: ENOTTY");

	/* A console armed on this process (no L2): its files. */
	memset(&e, 0, sizeof(e));
	e.flags = NESTOR_CONSOLE_BY_PID;
	e.l1_pid = getpid();
	if (!tap_errno(ioc(NESTOR_IOC_CONSOLE_ENABLE, &e), 0, "signed: arm a console"))
		goto keys;
#define ATTACH(f, fdp) do { memset(&a, 0, sizeof(a)); \
		a.flags = NESTOR_CONSOLE_BY_PID | (f); a.l1_pid = getpid(); \
		*(fdp) = ioc(NESTOR_IOC_CONSOLE_ATTACH, &a) ? -1 : a.fd; } while (0)
	ATTACH(NESTOR_CONSOLE_ATTACH_WRITE, &wo);
	ATTACH(NESTOR_CONSOLE_ATTACH_READ, &ro);
	if (!tap_ok(wo >= 0 && ro >= 0, "signed: a write-only and a read-only file"))
		goto disable;
	r = sr();
	tap_errno(fioc(wo, NESTOR_IOC_CONSOLE_SREAD, &r), EBADF,
		  "sread on a file without READ: EBADF");
	tap_errno(fioc(ro, NESTOR_IOC_CONSOLE_SREAD, &r), 0, "sread on the read-only file");
	memcpy(session, r.session, sizeof(session));
	w = sw("x", r.l2_id, r.session, 0);
	tap_errno(fioc(ro, NESTOR_IOC_CONSOLE_SWRITE, &w), EBADF,
		  "swrite on a file without WRITE: EBADF");
	tap_errno(fioc(ro, _IOWR(NESTOR_IOC_MAGIC, 0x26, struct nestor_console_sread), &r),
		  ENOTTY, "console file: ioctl 0x26: ENOTTY");
	tap_errno(fioc(ro, NESTOR_IOC_CONSOLE_STATUS, &r), ENOTTY,
		  "console file: STATUS (a /dev/nestor ioctl): ENOTTY");
	close(wo);
	wo = -1;
	ATTACH(NESTOR_CONSOLE_ATTACH_ALL, &rw);
	if (!tap_ok(rw >= 0, "signed: a reader+writer file"))
		goto disable;

	sread_fields(rw);
	r = sr();
	if (!tap_errno(fioc(rw, NESTOR_IOC_CONSOLE_SREAD, &r), 0, "sread: nothing there"))
		goto disable;
	tap_ok(r.done == 0 && r.pos == 0 && r.eof == 0 && r.l2_id == 0 &&
	       r.dropped == 0, "sread: 0 bytes at 0, no eof, unbound (l2_id 0)");
	tap_ok(nestor_sig_verify_console_out(con_key, sizeof(con_key), r.nonce,
					     &r, sread_buf) == 0,
	       "sread: the MAC verifies with the monitor key");
	r2 = r;
	r2.pos = 1;
	tap_ok(nestor_sig_verify_console_out(con_key, sizeof(con_key), r.nonce,
					     &r2, sread_buf) == -EBADMSG,
	       "sread: ... and not with another pos");
	r2 = r;
	r2.nonce[1] ^= 1;
	tap_ok(nestor_sig_verify_console_out(con_key, sizeof(con_key), r.nonce,
					     &r2, sread_buf) == -ESTALE,
	       "sread: ... an answer to another nonce is stale");
	tap_ok(memcmp(r.session, session, sizeof(session)) != 0,
	       "sread: each file has its own session");
	l2_id = r.l2_id;
	memcpy(session, r.session, sizeof(session));

	swrite_fields(rw, l2_id, session);
	w = sw("hel", l2_id, session, 1);
	tap_errno(fioc(rw, NESTOR_IOC_CONSOLE_SWRITE, &w), ESTALE,
		  "swrite: seq 1 first (a gap): ESTALE");
	memcpy(r2.session, session, sizeof(session));
	r2.session[0] ^= 0xff;
	w = sw("hel", l2_id, r2.session, 0);
	tap_errno(fioc(rw, NESTOR_IOC_CONSOLE_SWRITE, &w), EBADMSG,
		  "swrite: signed for another session: EBADMSG");
	w = sw("hel", l2_id, session, 0);
	tap_errno(fioc(rw, NESTOR_IOC_CONSOLE_SWRITE, &w), 0, "swrite: seq 0 accepted");
	tap_errno(fioc(rw, NESTOR_IOC_CONSOLE_SWRITE, &w), ESTALE,
		  "swrite: seq 0 again (a replay): ESTALE");
	{
		struct {
			struct nestor_console_swrite w;
			unsigned char extra[8];
		} big;

		memset(&big, 0, sizeof(big));
		big.w = sw("lo", l2_id, session, 1);
		tap_errno(fioc(rw, resize(NESTOR_IOC_CONSOLE_SWRITE, sizeof(big)), &big),
			  0, "swrite: seq 1, larger size with extra bytes zero: accepted");
	}
	w = sw("x", l2_id, session, 3);
	tap_errno(fioc(rw, NESTOR_IOC_CONSOLE_SWRITE, &w), ESTALE,
		  "swrite: seq 3 after 1 (a gap): ESTALE");
	/*
	 * What went in: the input buffer's room.  Only "hel" and "lo" were
	 * taken (the L2 that would read them never comes).
	 */
	memset(room, 'r', sizeof(room));
	fcntl(rw, F_SETFL, O_NONBLOCK);
	n = write(rw, room, sizeof(room));
	tap_ok(n == (ssize_t)sizeof(room) - 5,
	       "the input buffer holds exactly the 5 accepted bytes (write took %zd)", n);
	w = sw("z", l2_id, session, 2);
	tap_errno(fioc(rw, NESTOR_IOC_CONSOLE_SWRITE, &w), EAGAIN,
		  "swrite: buffer full: EAGAIN");
	tap_errno(fioc(rw, NESTOR_IOC_CONSOLE_SWRITE, &w), EAGAIN,
		  "swrite: ... the same seq again: still EAGAIN (seq 2 not used up)");

disable:
	memset(&d, 0, sizeof(d));
	d.flags = NESTOR_CONSOLE_BY_PID;
	d.l1_pid = getpid();
	tap_errno(ioc(NESTOR_IOC_CONSOLE_DISABLE, &d), 0, "signed: disable");
	if (rw >= 0) {
		w = sw("z", l2_id, session, 2);
		tap_errno(fioc(rw, NESTOR_IOC_CONSOLE_SWRITE, &w), EPIPE,
			  "swrite after disable: EPIPE");
		r = sr();
		tap_errno(fioc(rw, NESTOR_IOC_CONSOLE_SREAD, &r), 0,
			  "sread after disable");
		tap_ok(r.done == 0 && r.eof == NESTOR_CONSOLE_SREAD_EOF &&
		       nestor_sig_verify_console_out(con_key, sizeof(con_key),
						     r.nonce, &r, sread_buf) == 0,
		       "sread after disable: eof, signed");
		close(rw);
	}
	if (ro >= 0)
		close(ro);
	if (wo >= 0)
		close(wo);
#undef ATTACH
keys:
	memset(&kd, 0, sizeof(kd));
	kd.kind = NESTOR_KEY_MONITOR;
	kd.key_id = CON_KEY;
	tap_errno(ioc(NESTOR_IOC_KEY_DEL, &kd), 0, "signed: delete the monitor key");
	kd.kind = NESTOR_KEY_OWNER;
	kd.key_id = CON_OWNER;
	ioc(NESTOR_IOC_KEY_DEL, &kd);
}

static void test_numbers(void)
{
	unsigned char buf[64] = { 0 };
	unsigned int n;
	int bad = 0;

	/* 0x24 and 0x25 are console-file ioctls (test_signed): not here. */
	for (n = 0x24; n <= 0x2f; n++)
		bad += ioc(_IOWR(NESTOR_IOC_MAGIC, n, struct nestor_console_id),
			   buf) != ENOTTY;
	tap_ok(!bad, "console numbers 0x24-0x2f on /dev/nestor: ENOTTY");
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
		    "features include NESTOR_FEAT_CONSOLE_ARM") ||
	    !tap_ok(v.features & NESTOR_FEAT_CONSOLE_SIGNED,
		    "features include NESTOR_FEAT_CONSOLE_SIGNED"))
		tap_diag("features 0x%llx", (unsigned long long)v.features);
	test_enable();
	test_disable();
	test_attach();
	test_status();
	test_by_pid();
	test_signed();
	test_numbers();
	close(dev_fd);
	return tap_done();
}
