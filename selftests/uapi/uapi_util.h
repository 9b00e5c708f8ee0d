/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the uapi negative tests: TAP output, errno checks that say
 * what they got, and running a check in a child process with fewer
 * privileges (uid 65534, or uid 0 minus one capability).
 */
#ifndef NESTOR_UAPI_UTIL_H
#define NESTOR_UAPI_UTIL_H

#include <stdbool.h>

#define NOBODY_ID	65534

/* TAP: "ok N - name", "not ok N - name"; the plan comes last. */
bool tap_ok(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tap_skip(const char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "Bail out! why" and the plan so far, exits 1. */
void tap_bail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* Prints the plan; returns the exit status (1 if anything failed). */
int tap_done(void);

/* "EPERM" for EPERM, "0" for 0. */
const char *errname(int err);

/*
 * One check of an errno: @got is 0 for success or a positive errno,
 * @expected likewise (@got < 0: the check could not run).  On failure
 * prints
 * "# got errno X (NAME), expected Y (NAME)".
 */
bool tap_errno(int got, int expected, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* How a child drops privileges before it runs the check. */
enum drop {
	DROP_TO_NOBODY,		/* no groups, gid and uid 65534 */
	DROP_CAP,		/* stay uid 0, lose one capability */
};

/*
 * Runs @fn(@arg) in a forked child after dropping privileges as @how
 * says (@cap: the capability for DROP_CAP).  @fn returns 0 or a positive
 * errno, which is returned here; -1 when the child could not drop its
 * privileges or died (a "# ..." line says why).
 */
int run_dropped(enum drop how, int cap, int (*fn)(void *arg), void *arg);

#endif /* NESTOR_UAPI_UTIL_H */
