// SPDX-License-Identifier: GPL-2.0
/*
 * The "nestor" generic netlink family: it resolves, GET_VERSION agrees
 * with the ioctl, and malformed or unprivileged requests get exactly the
 * errno the contract names (strict attribute validation, CAP_NET_ADMIN
 * for every operation and for the events group).  Runs as root in the
 * emulated L0 with nestor.ko loaded; prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/nestor.h>

#include "uapi_nl.h"
#include "uapi_util.h"

/* Ids are allocated from 1 upwards and never reused: this one is free. */
#define UNKNOWN_L2_ID	0xfffffff0U

static struct nl nl;

/* ------------------------------------------------------------------ */

struct version {
	bool has_uapi, has_module, has_backend, has_features;
	uint32_t uapi, backend;
	uint64_t features;
	char module[64];
	bool bad;		/* an attribute of the wrong length */
};

static int version_attr_cb(const struct nlattr *a, void *data)
{
	struct version *v = data;

	switch (mnl_attr_get_type(a)) {
	case NESTOR_A_UAPI_VERSION:
		v->bad |= mnl_attr_validate(a, MNL_TYPE_U32) < 0;
		v->uapi = mnl_attr_get_u32(a);
		v->has_uapi = true;
		break;
	case NESTOR_A_MODULE_VERSION:
		v->bad |= mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0;
		if (!v->bad)
			snprintf(v->module, sizeof(v->module), "%s",
				 mnl_attr_get_str(a));
		v->has_module = true;
		break;
	case NESTOR_A_BACKEND:
		v->bad |= mnl_attr_validate(a, MNL_TYPE_U32) < 0;
		v->backend = mnl_attr_get_u32(a);
		v->has_backend = true;
		break;
	case NESTOR_A_FEATURES:
		v->bad |= mnl_attr_validate(a, MNL_TYPE_U64) < 0;
		v->features = mnl_attr_get_u64(a);
		v->has_features = true;
		break;
	}
	return MNL_CB_OK;
}

static int version_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), version_attr_cb, data);
	return MNL_CB_OK;
}

/* Messages of a dump without the id attribute they must carry. */
struct dump_check {
	uint16_t id_attr;
	int missing;
};

static int has_attr_cb(const struct nlattr *a, void *data)
{
	struct dump_check *d = data;

	if (mnl_attr_get_type(a) == d->id_attr &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		d->id_attr = 0;
	return MNL_CB_OK;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_check *d = data;
	struct dump_check one = { .id_attr = d->id_attr };

	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), has_attr_cb, &one);
	d->missing += one.id_attr != 0;
	return MNL_CB_OK;
}

/* ------------------------------------------------------------------ */

static void test_family(void)
{
	int err;

	err = nl_open(&nl);
	if (err)
		tap_bail("generic netlink socket: %s", strerror(err));
	err = nl_resolve(&nl);
	if (!tap_errno(err, 0, "family \"%s\" resolves", NESTOR_GENL_NAME))
		tap_bail("no \"%s\" family: is nestor.ko loaded?",
			 NESTOR_GENL_NAME);
	if (!tap_ok(nl.family_version == NESTOR_GENL_VERSION,
		    "family version is %d", NESTOR_GENL_VERSION))
		tap_diag("got %u", nl.family_version);
	tap_ok(nl.events_grp != 0, "multicast group \"%s\" is advertised",
	       NESTOR_GENL_MCGRP_EVENTS);
}

static void test_version(void)
{
	char buf[512] __attribute__((aligned(8)));
	struct nestor_version iv;
	struct version v = { 0 };
	int fd, err;

	err = nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CMD_GET_VERSION, 0),
		      version_cb, &v);
	if (!tap_errno(err, 0, "GET_VERSION"))
		return;
	tap_ok(nl.nmsgs == 1 && !v.bad && v.has_uapi && v.has_module &&
	       v.has_backend && v.has_features,
	       "GET_VERSION: one reply with the four attributes, well formed");

	memset(&iv, 0, sizeof(iv));
	fd = open(NESTOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, NESTOR_IOC_VERSION, &iv)) {
		tap_ok(false, "GET_VERSION equals NESTOR_IOC_VERSION");
		tap_diag("ioctl path: %s", strerror(errno));
	} else if (!tap_ok(v.uapi == iv.uapi_version &&
			   v.backend == iv.backend &&
			   v.features == iv.features &&
			   !strncmp(v.module, iv.module_version,
				    sizeof(iv.module_version)),
			   "GET_VERSION equals NESTOR_IOC_VERSION")) {
		tap_diag("netlink: uapi %u backend %u features 0x%llx \"%s\"",
			 v.uapi, v.backend, (unsigned long long)v.features,
			 v.module);
		tap_diag("ioctl:   uapi %u backend %u features 0x%llx "
			 "\"%.32s\"",
			 iv.uapi_version, iv.backend,
			 (unsigned long long)iv.features, iv.module_version);
	}
	if (fd >= 0)
		close(fd);
}

static void test_dumps(void)
{
	char buf[512] __attribute__((aligned(8)));
	struct dump_check d;
	int err;

	d = (struct dump_check){ .id_attr = NESTOR_A_VM_ID };
	err = nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CMD_GET_VM, NLM_F_DUMP),
		      dump_cb, &d);
	if (tap_errno(err, 0, "GET_VM dump"))
		tap_ok(d.missing == 0, "GET_VM dump: %d VMs, each with vm-id",
		       nl.nmsgs);

	d = (struct dump_check){ .id_attr = NESTOR_A_L2_ID };
	err = nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CMD_GET_L2, NLM_F_DUMP),
		      dump_cb, &d);
	if (tap_errno(err, 0, "GET_L2 dump"))
		tap_ok(d.missing == 0, "GET_L2 dump: %d L2s, each with l2-id",
		       nl.nmsgs);
}

static void test_bad_requests(void)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *req;
	struct genlmsghdr *g;
	int err;

	req = nl_req(&nl, buf, NESTOR_CMD_GET_STATS, 0);
	err = nl_xfer(&nl, req, NULL, NULL);
	tap_errno(err, EINVAL, "GET_STATS without l2-id");
	if (!tap_ok(err == EINVAL && nl.extack[0],
		    "... with an extack message"))
		tap_diag("extack \"%s\"", nl.extack);
	else
		tap_diag("extack: %s", nl.extack);

	req = nl_req(&nl, buf, NESTOR_CMD_GET_STATS, 0);
	mnl_attr_put_u32(req, NESTOR_A_L2_ID, UNKNOWN_L2_ID);
	tap_errno(nl_xfer(&nl, req, NULL, NULL), ENOENT,
		  "GET_STATS with an unknown l2-id");

	req = nl_req(&nl, buf, NESTOR_CMD_GET_L2, 0);
	mnl_attr_put_u32(req, NESTOR_A_L2_ID, UNKNOWN_L2_ID);
	tap_errno(nl_xfer(&nl, req, NULL, NULL), ENOENT,
		  "GET_L2 doit with an unknown l2-id");

	/* Strict validation: unknown attribute types are refused. */
	req = nl_req(&nl, buf, NESTOR_CMD_GET_VERSION, 0);
	mnl_attr_put_u32(req, NESTOR_A_MAX + 1, 0);
	tap_errno(nl_xfer(&nl, req, NULL, NULL), EINVAL,
		  "GET_VERSION with attribute type NESTOR_A_MAX + 1");
	req = nl_req(&nl, buf, NESTOR_CMD_GET_STATS, 0);
	mnl_attr_put_u32(req, NESTOR_A_L2_ID, UNKNOWN_L2_ID);
	mnl_attr_put_u32(req, NESTOR_A_MAX + 1, 0);
	tap_errno(nl_xfer(&nl, req, NULL, NULL), EINVAL,
		  "GET_STATS with attribute type NESTOR_A_MAX + 1 "
		  "(validated before the lookup)");

	/* Reply-only attributes are refused in requests, not ignored. */
	req = nl_req(&nl, buf, NESTOR_CMD_GET_STATS, 0);
	mnl_attr_put_u32(req, NESTOR_A_L2_ID, UNKNOWN_L2_ID);
	mnl_attr_put_u32(req, NESTOR_A_VM_ID, 1);
	tap_errno(nl_xfer(&nl, req, NULL, NULL), EINVAL,
		  "GET_STATS with the reply-only vm-id");
	req = nl_req(&nl, buf, NESTOR_CMD_GET_VERSION, 0);
	mnl_attr_put_u32(req, NESTOR_A_UAPI_VERSION, 1);
	tap_errno(nl_xfer(&nl, req, NULL, NULL), EINVAL,
		  "GET_VERSION with the reply-only uapi-version");

	/* introspection's event attributes are reply-only too */
	req = nl_req(&nl, buf, NESTOR_CMD_GET_VERSION, 0);
	mnl_attr_put_u64(req, NESTOR_A_TABLES_GEN, 1);
	tap_errno(nl_xfer(&nl, req, NULL, NULL), EINVAL,
		  "GET_VERSION with the reply-only tables-gen");
	req = nl_req(&nl, buf, NESTOR_CMD_GET_STATS, 0);
	mnl_attr_put_u32(req, NESTOR_A_L2_ID, UNKNOWN_L2_ID);
	mnl_attr_put_u64(req, NESTOR_A_TABLES_GPA, 0x1000);
	tap_errno(nl_xfer(&nl, req, NULL, NULL), EINVAL,
		  "GET_STATS with the reply-only tables-gpa");

	req = nl_req(&nl, buf, NESTOR_CMD_GET_STATS, 0);
	mnl_attr_put_u64(req, NESTOR_A_L2_ID, UNKNOWN_L2_ID);
	tap_errno(nl_xfer(&nl, req, NULL, NULL), EINVAL,
		  "GET_STATS with l2-id as a u64");
	req = nl_req(&nl, buf, NESTOR_CMD_GET_L2, 0);
	mnl_attr_put_u64(req, NESTOR_A_L2_ID, UNKNOWN_L2_ID);
	tap_errno(nl_xfer(&nl, req, NULL, NULL), EINVAL,
		  "GET_L2 with l2-id as a u64");
	req = nl_req(&nl, buf, NESTOR_CMD_GET_L2, 0);
	mnl_attr_put_u16(req, NESTOR_A_L2_ID, 1);
	tap_errno(nl_xfer(&nl, req, NULL, NULL), EINVAL,
		  "GET_L2 with l2-id as a u16");

	/* genl header checks (the family validates every command). */
	req = nl_req(&nl, buf, NESTOR_CMD_GET_VERSION, 0);
	g = mnl_nlmsg_get_payload(req);
	g->reserved = 1;
	tap_errno(nl_xfer(&nl, req, NULL, NULL), EINVAL,
		  "GET_VERSION with genlmsghdr.reserved != 0");

	tap_errno(nl_xfer(&nl, nl_req(&nl, buf, 0xf0, 0), NULL, NULL),
		  EOPNOTSUPP, "unknown command 0xf0");
	tap_errno(nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CMD_MAX + 1, 0), NULL,
			  NULL), EOPNOTSUPP, "command NESTOR_CMD_MAX + 1");
	tap_errno(nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CMD_UNSPEC, 0), NULL,
			  NULL), EOPNOTSUPP, "command UNSPEC");
	tap_errno(nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CMD_L2_NEW, 0), NULL,
			  NULL), EOPNOTSUPP,
		  "an event command (L2_NEW) as a request");
	tap_errno(nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CMD_TABLES_CHANGED, 0),
			  NULL, NULL), EOPNOTSUPP,
		  "an event command (TABLES_CHANGED) as a request");
	tap_errno(nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CMD_GET_STATS,
				      NLM_F_DUMP), NULL, NULL), EOPNOTSUPP,
		  "GET_STATS as a dump (it has none)");
}

/* ------------------------------------------------------------------ */
/* without CAP_NET_ADMIN (each in a child, see run_dropped())         */
/* ------------------------------------------------------------------ */

/* One request on a socket opened after the drop. */
static int unpriv_request(void *arg)
{
	char buf[512] __attribute__((aligned(8)));
	static struct nl c;
	struct nlmsghdr *req;
	int cmd = (long)arg & 0xff;
	bool dump = (long)arg & 0x100;
	int err;

	err = nl_open(&c);
	if (!err)
		err = nl_resolve(&c);	/* nlctrl needs no privilege */
	if (err) {
		tap_diag("child: resolving the family: %s", strerror(err));
		return ENOTRECOVERABLE;
	}
	req = nl_req(&c, buf, cmd, dump ? NLM_F_DUMP : 0);
	if (cmd == NESTOR_CMD_GET_STATS)
		mnl_attr_put_u32(req, NESTOR_A_L2_ID, UNKNOWN_L2_ID);
	err = nl_xfer(&c, req, NULL, NULL);
	nl_close(&c);
	return err;
}

static int unpriv_join(void *arg)
{
	(void)arg;
	return nl_join_events(&nl);
}

#define REQ(cmd, dump)	((void *)(long)((cmd) | ((dump) ? 0x100 : 0)))

static void test_unprivileged(void)
{
	tap_errno(run_dropped(DROP_TO_NOBODY, 0, unpriv_request,
			      REQ(NESTOR_CMD_GET_VERSION, false)), EPERM,
		  "GET_VERSION as uid %d", NOBODY_ID);
	tap_errno(run_dropped(DROP_TO_NOBODY, 0, unpriv_request,
			      REQ(NESTOR_CMD_GET_VM, true)), EPERM,
		  "GET_VM dump as uid %d", NOBODY_ID);
	tap_errno(run_dropped(DROP_TO_NOBODY, 0, unpriv_request,
			      REQ(NESTOR_CMD_GET_L2, true)), EPERM,
		  "GET_L2 dump as uid %d", NOBODY_ID);
	/* EPERM, not ENOENT: the permission check comes first. */
	tap_errno(run_dropped(DROP_TO_NOBODY, 0, unpriv_request,
			      REQ(NESTOR_CMD_GET_STATS, false)), EPERM,
		  "GET_STATS as uid %d", NOBODY_ID);
	tap_errno(run_dropped(DROP_CAP, CAP_NET_ADMIN, unpriv_request,
			      REQ(NESTOR_CMD_GET_VERSION, false)), EPERM,
		  "GET_VERSION as uid 0 without CAP_NET_ADMIN");
	tap_errno(run_dropped(DROP_CAP, CAP_SYS_ADMIN, unpriv_request,
			      REQ(NESTOR_CMD_GET_VERSION, false)), 0,
		  "GET_VERSION as uid 0 without CAP_SYS_ADMIN (not needed)");

	if (!nl.events_grp) {
		tap_skip("no events group", "join \"events\" as uid %d",
			 NOBODY_ID);
		return;
	}
	tap_errno(run_dropped(DROP_TO_NOBODY, 0, unpriv_join, NULL), EPERM,
		  "join \"%s\" as uid %d", NESTOR_GENL_MCGRP_EVENTS, NOBODY_ID);
	tap_errno(run_dropped(DROP_CAP, CAP_NET_ADMIN, unpriv_join, NULL),
		  EPERM, "join \"%s\" as uid 0 without CAP_NET_ADMIN",
		  NESTOR_GENL_MCGRP_EVENTS);
	tap_errno(nl_join_events(&nl), 0, "join \"%s\" as root",
		  NESTOR_GENL_MCGRP_EVENTS);
}

int main(void)
{
	test_family();
	test_version();
	test_dumps();
	test_bad_requests();
	test_unprivileged();
	nl_close(&nl);
	return tap_done();
}
