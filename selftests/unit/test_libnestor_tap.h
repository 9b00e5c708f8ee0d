/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP output for the libnestor unit tests: "ok N - name",
 * "not ok N - name" with "# " diagnostics, and the plan "1..N" at the end.
 */
#ifndef TEST_LIBNESTOR_TAP_H
#define TEST_LIBNESTOR_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static __attribute__((format(printf, 2, 3), unused))
int tap_ok(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		tap_failed++;
	fflush(stdout);
	return ok;
}

static __attribute__((format(printf, 2, 3), unused))
void tap_skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	printf("ok %d - ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

/* Returns 0, so that "tap_ok(...) || tap_diag(...)" reads well. */
static __attribute__((format(printf, 1, 2), unused))
int tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return 0;
}

/* Integer equality with a diagnostic line on failure. */
#define TAP_EQ(got, exp, ...) ({					\
	long long __g = (long long)(got), __e = (long long)(exp);	\
	int __ok = tap_ok(__g == __e, __VA_ARGS__);			\
	if (!__ok)							\
		tap_diag("got %lld, expected %lld", __g, __e);		\
	__ok;								\
})

/* String equality with a diagnostic line on failure. */
#define TAP_STREQ(got, exp, ...) ({					\
	const char *__g = (got), *__e = (exp);				\
	int __ok = tap_ok(__g && __e && !strcmp(__g, __e), __VA_ARGS__);\
	if (!__ok)							\
		tap_diag("got \"%s\", expected \"%s\"",			\
			 __g ? __g : "(null)", __e ? __e : "(null)");	\
	__ok;								\
})

/* Substring check with a diagnostic line on failure. */
#define TAP_CONTAINS(got, needle, ...) ({				\
	const char *__g = (got), *__n = (needle);			\
	int __ok = tap_ok(__g && strstr(__g, __n) != NULL, __VA_ARGS__);\
	if (!__ok)							\
		tap_diag("\"%s\" does not contain \"%s\"",		\
			 __g ? __g : "(null)", __n);			\
	__ok;								\
})

static __attribute__((unused)) int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif /* TEST_LIBNESTOR_TAP_H */
