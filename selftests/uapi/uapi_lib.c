// SPDX-License-Identifier: GPL-2.0
/*
 * libnestor against the real module: the calls nestorctl makes, their
 * errors, and what nestor_strerror() makes of them.  Runs as root in the
 * emulated L0 with nestor.ko loaded; prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>

#include "libnestor.h"
#include "uapi_util.h"

#define UNKNOWN_L2_ID	0xfffffff0U

static struct nestor *n;

/* libnestor returns negative errnos; the checks take positive ones. */
static int pos(int err)
{
	return err < 0 ? -err : err;
}

static void test_version(void)
{
	struct nestor_version_info vi, vg;
	int err;

	err = nestor_version_ioctl(n, &vi);
	tap_errno(pos(err), 0, "nestor_version_ioctl");
	err = nestor_version_genl(n, &vg);
	tap_errno(pos(err), 0, "nestor_version_genl");
	if (!tap_ok(vi.uapi_version == vg.uapi_version &&
		    vi.backend == vg.backend && vi.features == vg.features &&
		    !strcmp(vi.module_version, vg.module_version),
		    "ioctl and netlink versions agree"))
		tap_diag("ioctl %u/%u/0x%llx/%s netlink %u/%u/0x%llx/%s",
			 vi.uapi_version, vi.backend,
			 (unsigned long long)vi.features, vi.module_version,
			 vg.uapi_version, vg.backend,
			 (unsigned long long)vg.features, vg.module_version);
}

/* Returns the number of L2 contexts listed, or -1. */
static int test_list(void)
{
	struct nestor_vm *vms;
	struct nestor_l2 *l2s;
	size_t nr_vms, nr_l2s, i, j;
	int err, orphans = 0;

	err = nestor_list(n, &vms, &nr_vms, &l2s, &nr_l2s);
	if (!tap_errno(pos(err), 0, "nestor_list")) {
		tap_diag("%s", nestor_last_error(n));
		return -1;
	}
	for (i = 0; i < nr_l2s; i++) {
		for (j = 0; j < nr_vms && vms[j].id != l2s[i].vm_id; j++)
			;
		orphans += j == nr_vms;
	}
	tap_ok(orphans == 0, "every L2 belongs to a listed VM "
	       "(%zu VMs, %zu L2s)", nr_vms, nr_l2s);
	nestor_free_list(vms, nr_vms, l2s, nr_l2s);
	return (int)nr_l2s;
}

static void test_missing_l2(void)
{
	struct nestor_stats s;
	struct nestor_l2 l2;
	char name[32];
	uint32_t id;
	int err;

	err = nestor_stats(n, UNKNOWN_L2_ID, &s);
	tap_errno(pos(err), ENOENT, "nestor_stats of an unknown L2");
	if (!tap_ok(strstr(nestor_strerror(err), "no such L2") != NULL,
		    "... nestor_strerror says \"no such L2\""))
		tap_diag("\"%s\"", nestor_strerror(err));
	tap_diag("last error: %s", nestor_last_error(n));

	err = nestor_l2_get(n, UNKNOWN_L2_ID, &l2);
	tap_errno(pos(err), ENOENT, "nestor_l2_get of an unknown L2");

	snprintf(name, sizeof(name), "l2:%u", UNKNOWN_L2_ID);
	err = nestor_resolve_l2(n, name, &id);
	tap_errno(pos(err), ENOENT, "nestor_resolve_l2(\"%s\")", name);
	err = nestor_resolve_l2(n, "abc", &id);
	tap_errno(pos(err), EINVAL, "nestor_resolve_l2(\"abc\")");
}

static void test_events(int nr_l2s)
{
	struct nestor_event ev;
	int err;

	err = nestor_events_subscribe(n);
	if (!tap_errno(pos(err), 0, "nestor_events_subscribe"))
		return;
	err = nestor_event_next(n, &ev, 200);
	if (nr_l2s == 0)
		tap_errno(pos(err), ETIMEDOUT,
			  "no L2 running: no event within 200 ms");
	else
		tap_skip("L2 contexts exist, events may come",
			 "no event within 200 ms");
}

static int nobody_open(void *arg)
{
	struct nestor *h;
	int err;

	(void)arg;
	h = nestor_open(&err);
	if (h) {
		nestor_close(h);
		return 0;
	}
	if (!strstr(nestor_strerror(err), "permission"))
		tap_diag("child: message \"%s\" does not say permission",
			 nestor_strerror(err));
	return pos(err);
}

/* With netlink only: the family resolves, the operations are refused. */
static int nobody_genl(void *arg)
{
	struct nestor_version_info v;
	struct nestor *h;
	int err;

	h = nestor_open_flags(NESTOR_OPEN_GENL, &err);
	if (!h) {
		tap_diag("child: nestor_open_flags(GENL): %s",
			 nestor_strerror(err));
		return ENOTRECOVERABLE;
	}
	err = arg ? nestor_events_subscribe(h) : nestor_version_genl(h, &v);
	nestor_close(h);
	return pos(err);
}

int main(void)
{
	int err, nr_l2s;

	n = nestor_open(&err);
	if (!tap_errno(pos(err), 0, "nestor_open as root"))
		tap_bail("%s", nestor_strerror(err));
	test_version();
	nr_l2s = test_list();
	test_missing_l2();
	test_events(nr_l2s);
	nestor_close(n);

	/* /dev/nestor is mode 0600: the VFS says EACCES before the module. */
	err = run_dropped(DROP_TO_NOBODY, 0, nobody_open, NULL);
	if (!tap_ok(err == EACCES || err == EPERM,
		    "nestor_open as uid %d is refused with a permission error",
		    NOBODY_ID))
		tap_diag("got %d (%s)", err, errname(err));
	tap_errno(run_dropped(DROP_TO_NOBODY, 0, nobody_genl, NULL), EPERM,
		  "nestor_version_genl as uid %d", NOBODY_ID);
	tap_errno(run_dropped(DROP_TO_NOBODY, 0, nobody_genl, (void *)1),
		  EPERM, "nestor_events_subscribe as uid %d", NOBODY_ID);
	tap_errno(run_dropped(DROP_CAP, CAP_SYS_ADMIN, nobody_open, NULL),
		  EPERM, "nestor_open as uid 0 without CAP_SYS_ADMIN");
	return tap_done();
}
