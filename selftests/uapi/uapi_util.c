// SPDX-License-Identifier: GPL-2.0
/* Helpers of the uapi negative tests (see uapi_util.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "uapi_util.h"

static int tap_count, tap_failed;

static void tap_line(bool ok, const char *fmt, va_list ap)
{
	printf("%sok %d - ", ok ? "" : "not ", ++tap_count);
	vprintf(fmt, ap);
}

bool tap_ok(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_line(ok, fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		tap_failed++;
	fflush(stdout);
	return ok;
}

void tap_skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_line(true, fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void tap_bail(const char *fmt, ...)
{
	va_list ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	printf("1..%d\n", tap_count);
	fflush(stdout);
	exit(1);
}

int tap_done(void)
{
	printf("1..%d\n", tap_count);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

const char *errname(int err)
{
	const char *name;

	if (err == 0)
		return "0";
	name = strerrorname_np(err < 0 ? -err : err);
	return name ? name : "unknown";
}

bool tap_errno(int got, int expected, const char *fmt, ...)
{
	bool ok = got == expected;
	va_list ap;

	va_start(ap, fmt);
	tap_line(ok, fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok) {
		tap_failed++;
		if (got < 0)
			printf("# the check could not run (see above), "
			       "expected %s\n",
			       expected ? errname(expected) : "success");
		else if (got == 0)
			printf("# got success, expected errno %d (%s)\n",
			       expected, errname(expected));
		else if (expected == 0)
			printf("# got errno %d (%s), expected success\n", got,
			       errname(got));
		else
			printf("# got errno %d (%s), expected %d (%s)\n", got,
			       errname(got), expected, errname(expected));
	}
	fflush(stdout);
	return ok;
}

/* Removes @cap from the effective, permitted and inheritable sets. */
static int drop_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int i = CAP_TO_INDEX(cap);
	__u32 mask = CAP_TO_MASK(cap);

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[i].effective &= ~mask;
	data[i].permitted &= ~mask;
	data[i].inheritable &= ~mask;
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

static int drop_to_nobody(void)
{
	/* Groups first: without CAP_SETGID nothing could drop them later. */
	if (setgroups(0, NULL) ||
	    setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID) ||
	    setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID))
		return -errno;
	return 0;
}

/* Exit statuses of the child that are not an errno. */
#define CHILD_SETUP_FAILED	254

int run_dropped(enum drop how, int cap, int (*fn)(void *arg), void *arg)
{
	int status, err;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		tap_diag("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		err = how == DROP_TO_NOBODY ? drop_to_nobody() : drop_cap(cap);
		if (err) {
			tap_diag("child: dropping privileges failed: %s",
				 strerror(-err));
			fflush(stdout);
			_exit(CHILD_SETUP_FAILED);
		}
		err = fn(arg);
		fflush(stdout);
		/* errno values fit in an exit status (all below 254). */
		_exit(err > 0 && err < CHILD_SETUP_FAILED ? err :
		      err ? CHILD_SETUP_FAILED - 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0) {
		tap_diag("waitpid: %s", strerror(errno));
		return -1;
	}
	if (WIFSIGNALED(status)) {
		tap_diag("child killed by signal %d", WTERMSIG(status));
		return -1;
	}
	if (WEXITSTATUS(status) == CHILD_SETUP_FAILED)
		return -1;
	return WEXITSTATUS(status);
}
