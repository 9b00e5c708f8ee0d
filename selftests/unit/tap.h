/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal TAP for the userspace unit tests. */
#ifndef NESTOR_UNIT_TAP_H
#define NESTOR_UNIT_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define TAP_OK(cond, ...) do {						\
	int ok_ = !!(cond);						\
	printf("%sok %d - ", ok_ ? "" : "not ", ++tap_n);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!ok_) {							\
		tap_failed++;						\
		printf("#   failed: %s (%s:%d)\n", #cond, __FILE__,	\
		       __LINE__);					\
	}								\
} while (0)

#define TAP_SKIP(...) do {						\
	printf("ok %d - ", ++tap_n);					\
	printf(__VA_ARGS__);						\
	printf(" # SKIP\n");						\
} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
