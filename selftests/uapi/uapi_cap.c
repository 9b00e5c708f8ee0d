// SPDX-License-Identifier: GPL-2.0
/*
 * The "nestor_cap" generic netlink family (packet capture): it resolves
 * with its admin-only "packets" group, and every attribute of every
 * command is refused when malformed or sent to a command that does not
 * take it (EINVAL), or out of range (ERANGE, netlink's policy checks); unprivileged callers get EPERM; a session dies
 * with the socket that created it.  Runs as root in the emulated L0 with
 * nestor.ko loaded; prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/genetlink.h>
#include <linux/nestor.h>

#include "uapi_nl.h"
#include "uapi_util.h"

#define UNKNOWN_SESSION	0xfffffff0U

static struct nl nl;
static uint32_t packets_grp;

static int grp_cb(const struct nlattr *a, void *data)
{
	const struct nlattr *x, *name = NULL, *id = NULL;

	(void)data;
	mnl_attr_for_each_nested(x, a) {
		if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_NAME)
			name = x;
		if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_ID)
			id = x;
	}
	if (name && id && !mnl_attr_validate(name, MNL_TYPE_NUL_STRING) &&
	    !mnl_attr_validate(id, MNL_TYPE_U32) &&
	    !strcmp(mnl_attr_get_str(name), NESTOR_CAP_MCGRP_PACKETS))
		packets_grp = mnl_attr_get_u32(id);
	return MNL_CB_OK;
}

static int fam_attr_cb(const struct nlattr *a, void *data)
{
	uint16_t *family = data;

	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
	    !mnl_attr_validate(a, MNL_TYPE_U16))
		*family = mnl_attr_get_u16(a);
	if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GROUPS &&
	    !mnl_attr_validate(a, MNL_TYPE_NESTED))
		mnl_attr_parse_nested(a, grp_cb, NULL);
	return MNL_CB_OK;
}

static int fam_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), fam_attr_cb, data);
	return MNL_CB_OK;
}

/* Resolves nestor_cap on @c (a socket from nl_open()). */
static int resolve(struct nl *c)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *req;
	uint16_t family = 0;
	int err;

	c->family = GENL_ID_CTRL;
	req = nl_req(c, buf, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(req, CTRL_ATTR_FAMILY_NAME, NESTOR_CAP_GENL_NAME);
	err = nl_xfer(c, req, fam_cb, &family);
	c->family = family;
	return err ? err : family ? 0 : EPROTO;
}

static int session_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == NESTOR_CAP_A_SESSION_ID &&
		    !mnl_attr_validate(a, MNL_TYPE_U32))
			*(uint32_t *)data = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

/* A request of @cmd; @session 0: without session-id. */
static struct nlmsghdr *req(struct nl *c, void *buf, uint8_t cmd,
			    uint32_t session)
{
	struct nlmsghdr *r = nl_req(c, buf, cmd, 0);

	if (session)
		mnl_attr_put_u32(r, NESTOR_CAP_A_SESSION_ID, session);
	return r;
}

static int new_session(struct nl *c, uint32_t points, uint32_t *session)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *r = req(c, buf, NESTOR_CAP_CMD_NEW, 0);

	if (points)
		mnl_attr_put_u32(r, NESTOR_CAP_A_POINTS, points);
	*session = 0;
	return nl_xfer(c, r, session_cb, session);
}

/* NEW with one u32 attribute: the errno. */
static int new_u32(uint16_t type, uint32_t v)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *r = req(&nl, buf, NESTOR_CAP_CMD_NEW, 0);
	uint32_t s = 0;
	int err;

	mnl_attr_put_u32(r, type, v);
	err = nl_xfer(&nl, r, session_cb, &s);
	return err;
}

static int new_filter(const struct sock_filter *f, size_t bytes)
{
	static char buf[40000] __attribute__((aligned(8)));
	struct nlmsghdr *r = req(&nl, buf, NESTOR_CAP_CMD_NEW, 0);
	uint32_t s = 0;

	mnl_attr_put(r, NESTOR_CAP_A_FILTER, bytes, f);
	return nl_xfer(&nl, r, session_cb, &s);
}

static void test_new(void)
{
	static struct sock_filter big[NESTOR_CAP_FILTER_MAX + 1];
	struct sock_filter ok_prog[] = { BPF_STMT(BPF_RET | BPF_K, 0xffff) };
	struct sock_filter bad_jump[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_filter no_ret[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0) };
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *r;
	uint32_t s = 0;
	size_t i;

	tap_errno(new_u32(NESTOR_CAP_A_POINTS, 0), EINVAL, "NEW points 0");
	tap_errno(new_u32(NESTOR_CAP_A_POINTS, 1U << __NESTOR_CAP_POINT_MAX),
		  EINVAL, "NEW points with an unknown bit");
	tap_errno(new_u32(NESTOR_CAP_A_SNAPLEN, 0), ERANGE, "NEW snaplen 0");
	tap_errno(new_u32(NESTOR_CAP_A_SNAPLEN, NESTOR_CAP_SNAPLEN_MAX + 1),
		  ERANGE, "NEW snaplen above the maximum");
	tap_errno(new_u32(NESTOR_CAP_A_BATCH, 0), ERANGE, "NEW batch 0");
	tap_errno(new_u32(NESTOR_CAP_A_BATCH, NESTOR_CAP_BATCH_MAX + 1),
		  ERANGE, "NEW batch above the maximum");
	tap_errno(new_u32(NESTOR_CAP_A_FLUSH_MS, 0), ERANGE, "NEW flush-ms 0");
	tap_errno(new_u32(NESTOR_CAP_A_FLUSH_MS, NESTOR_CAP_FLUSH_MS_MAX + 1),
		  ERANGE, "NEW flush-ms above the maximum");
	tap_errno(new_u32(NESTOR_CAP_A_BUFSIZE, NESTOR_CAP_BUFSIZE_MIN - 1),
		  ERANGE, "NEW bufsize below the minimum");
	tap_errno(new_u32(NESTOR_CAP_A_BUFSIZE, NESTOR_CAP_BUFSIZE_MAX + 1),
		  ERANGE, "NEW bufsize above the maximum");
	tap_errno(new_u32(NESTOR_CAP_A_FLAGS, 1), EINVAL,
		  "NEW flags with an unknown bit");
	tap_errno(new_u32(NESTOR_CAP_A_SESSION_ID, 1), EINVAL,
		  "NEW with session-id (not its attribute)");
	tap_errno(new_u32(NESTOR_CAP_A_CAPTURED, 1), EINVAL,
		  "NEW with the reply-only captured");
	tap_errno(new_u32(NESTOR_CAP_A_IFINDEX, 1), EINVAL,
		  "NEW with ifindex (a BIND attribute)");
	tap_errno(new_u32(NESTOR_CAP_A_MAX + 1, 1), EINVAL,
		  "NEW with attribute type NESTOR_CAP_A_MAX + 1");
	r = req(&nl, buf, NESTOR_CAP_CMD_NEW, 0);
	mnl_attr_put_u64(r, NESTOR_CAP_A_SNAPLEN, 100);
	tap_errno(nl_xfer(&nl, r, NULL, NULL), EINVAL, "NEW snaplen as a u64");

	tap_errno(new_filter(ok_prog, 7), EINVAL,
		  "NEW filter of 7 bytes (not whole instructions)");
	tap_errno(new_filter(ok_prog, 0), EINVAL, "NEW empty filter");
	tap_errno(new_filter(bad_jump, sizeof(bad_jump)), EINVAL,
		  "NEW filter jumping out of the program");
	tap_errno(new_filter(no_ret, sizeof(no_ret)), EINVAL,
		  "NEW filter without a return");
	for (i = 0; i < NESTOR_CAP_FILTER_MAX + 1; i++)
		big[i] = ok_prog[0];
	tap_errno(new_filter(big, sizeof(big)), ERANGE,
		  "NEW filter of NESTOR_CAP_FILTER_MAX + 1 instructions");
	if (tap_errno(new_filter(ok_prog, sizeof(ok_prog)), 0,
		      "NEW with a valid filter"))
		tap_diag("(the session ends with this socket)");
	tap_ok(new_session(&nl, 0, &s) == 0 && s != 0,
	       "NEW with defaults returns a session id");
}

static int bind_u32(uint32_t session, uint16_t t1, uint32_t v1, uint16_t t2,
		    uint32_t v2)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *r = req(&nl, buf, NESTOR_CAP_CMD_BIND, session);

	if (t1)
		mnl_attr_put_u32(r, t1, v1);
	if (t2)
		mnl_attr_put_u32(r, t2, v2);
	return nl_xfer(&nl, r, NULL, NULL);
}

static void test_bind(void)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *r;
	uint32_t s, su;

	if (!tap_errno(new_session(&nl, 0, &s), 0, "NEW for the BIND tests"))
		return;
	new_session(&nl, NESTOR_CAP_POINTS_ALL, &su);

	tap_errno(bind_u32(0, NESTOR_CAP_A_IFINDEX, 1, 0, 0), EINVAL,
		  "BIND without session-id");
	tap_errno(bind_u32(UNKNOWN_SESSION, NESTOR_CAP_A_IFINDEX, 1, 0, 0),
		  ENOENT, "BIND to an unknown session");
	tap_errno(bind_u32(s, 0, 0, 0, 0), EINVAL,
		  "BIND naming no interface, pid or VM");
	tap_errno(bind_u32(su, NESTOR_CAP_A_IFINDEX, 1, NESTOR_CAP_A_UPLINK, 1),
		  EINVAL, "BIND with both ifindex and uplink");
	tap_errno(bind_u32(s, NESTOR_CAP_A_IFINDEX, 0, 0, 0), ERANGE,
		  "BIND ifindex 0");
	tap_errno(bind_u32(s, NESTOR_CAP_A_IFINDEX, 0x7ffffff0, 0, 0), ENODEV,
		  "BIND an ifindex that does not exist");
	tap_errno(bind_u32(s, NESTOR_CAP_A_IFINDEX, 1, 0, 0), EOPNOTSUPP,
		  "BIND lo (not a tap, macvtap or veth)");
	tap_errno(bind_u32(s, NESTOR_CAP_A_UPLINK, 1, 0, 0), EINVAL,
		  "BIND an uplink to a session without the uplink point");
	tap_errno(bind_u32(su, NESTOR_CAP_A_UPLINK, 0, 0, 0), ERANGE,
		  "BIND uplink 0");
	tap_errno(bind_u32(su, NESTOR_CAP_A_UPLINK, 0x7ffffff0, 0, 0), ENODEV,
		  "BIND an uplink that does not exist");
	tap_errno(bind_u32(su, NESTOR_CAP_A_UPLINK, 1, NESTOR_CAP_A_PID, 1),
		  EINVAL, "BIND an uplink with a pid");
	tap_errno(bind_u32(su, NESTOR_CAP_A_UPLINK, 1, 0, 0), 0,
		  "BIND lo as an uplink");
	tap_errno(bind_u32(su, NESTOR_CAP_A_UPLINK, 1, 0, 0), EEXIST,
		  "BIND the same uplink twice");
	tap_errno(bind_u32(s, NESTOR_CAP_A_PID, 0, 0, 0), ERANGE, "BIND pid 0");
	tap_errno(bind_u32(s, NESTOR_CAP_A_PID, 0x3ffffff0, 0, 0), ESRCH,
		  "BIND a pid that does not exist");
	tap_errno(bind_u32(s, NESTOR_CAP_A_PID, (uint32_t)getpid(), 0, 0),
		  ENOENT, "BIND a pid whose netns has no veth leading out");
	tap_errno(bind_u32(s, NESTOR_CAP_A_VM_ID, 0, 0, 0), ERANGE,
		  "BIND vm-id 0");
	tap_errno(bind_u32(s, NESTOR_CAP_A_VM_ID, 0x7ffffff0, 0, 0), ENOENT,
		  "BIND a VM id the registry does not know");
	tap_errno(bind_u32(s, NESTOR_CAP_A_IFINDEX, 1, NESTOR_CAP_A_L2_ID, 1),
		  EINVAL, "BIND with l2-id (an L2_MAP attribute)");
	tap_errno(bind_u32(s, NESTOR_CAP_A_IFINDEX, 1, NESTOR_CAP_A_MAX + 1, 1),
		  EINVAL, "BIND with attribute type NESTOR_CAP_A_MAX + 1");
	r = req(&nl, buf, NESTOR_CAP_CMD_BIND, s);
	mnl_attr_put_u64(r, NESTOR_CAP_A_IFINDEX, 1);
	tap_errno(nl_xfer(&nl, r, NULL, NULL), EINVAL, "BIND ifindex as a u64");
	r = req(&nl, buf, NESTOR_CAP_CMD_BIND, 0);
	mnl_attr_put_u16(r, NESTOR_CAP_A_SESSION_ID, 1);
	mnl_attr_put_u32(r, NESTOR_CAP_A_IFINDEX, 1);
	tap_errno(nl_xfer(&nl, r, NULL, NULL), EINVAL,
		  "BIND session-id as a u16");
}

static int map(uint32_t session, bool with_id, uint32_t id, uint16_t type,
	       const void *addr, size_t len)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *r = req(&nl, buf, NESTOR_CAP_CMD_L2_MAP, session);

	if (with_id)
		mnl_attr_put_u32(r, NESTOR_CAP_A_L2_ID, id);
	if (type)
		mnl_attr_put(r, type, len, addr);
	return nl_xfer(&nl, r, NULL, NULL);
}

static void test_map(void)
{
	uint8_t a[17] = { 0x02, 0, 0, 0, 0, 1 };
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *r;
	uint32_t s;
	int i, err = 0;

	if (!tap_errno(new_session(&nl, 0, &s), 0, "NEW for the L2_MAP tests"))
		return;
	tap_errno(map(s, false, 0, NESTOR_CAP_A_L2_MAC, a, 6), EINVAL,
		  "L2_MAP without l2-id");
	tap_errno(map(s, true, 0, NESTOR_CAP_A_L2_MAC, a, 6), ERANGE,
		  "L2_MAP l2-id 0");
	tap_errno(map(s, true, 1, 0, NULL, 0), EINVAL,
		  "L2_MAP without an address");
	tap_errno(map(s, true, 1, NESTOR_CAP_A_L2_MAC, a, 5), ERANGE,
		  "L2_MAP l2-mac of 5 bytes");
	tap_errno(map(s, true, 1, NESTOR_CAP_A_L2_MAC, a, 7), ERANGE,
		  "L2_MAP l2-mac of 7 bytes");
	tap_errno(map(s, true, 1, NESTOR_CAP_A_L2_IP, a, 3), ERANGE,
		  "L2_MAP l2-ip of 3 bytes");
	tap_errno(map(s, true, 1, NESTOR_CAP_A_L2_IP, a, 5), EINVAL,
		  "L2_MAP l2-ip of 5 bytes");
	tap_errno(map(s, true, 1, NESTOR_CAP_A_L2_IP, a, 17), ERANGE,
		  "L2_MAP l2-ip of 17 bytes");
	r = req(&nl, buf, NESTOR_CAP_CMD_L2_MAP, s);
	mnl_attr_put_u32(r, NESTOR_CAP_A_L2_ID, 1);
	mnl_attr_put(r, NESTOR_CAP_A_L2_MAC, 6, a);
	mnl_attr_put(r, NESTOR_CAP_A_L2_IP, 4, a);
	tap_errno(nl_xfer(&nl, r, NULL, NULL), EINVAL,
		  "L2_MAP with both l2-mac and l2-ip");
	tap_errno(map(UNKNOWN_SESSION, true, 1, NESTOR_CAP_A_L2_MAC, a, 6),
		  ENOENT, "L2_MAP to an unknown session");
	r = req(&nl, buf, NESTOR_CAP_CMD_L2_MAP, s);
	mnl_attr_put_u32(r, NESTOR_CAP_A_L2_ID, 1);
	mnl_attr_put(r, NESTOR_CAP_A_L2_MAC, 6, a);
	mnl_attr_put_u32(r, NESTOR_CAP_A_IFINDEX, 1);
	tap_errno(nl_xfer(&nl, r, NULL, NULL), EINVAL,
		  "L2_MAP with ifindex (a BIND attribute)");
	tap_errno(map(s, true, 1, NESTOR_CAP_A_L2_IP, a, 4), 0,
		  "L2_MAP an IPv4 address");
	tap_errno(map(s, true, 2, NESTOR_CAP_A_L2_IP, a, 16), 0,
		  "L2_MAP an IPv6 address");
	for (i = 0; i < NESTOR_CAP_MAX_L2_MAP - 2 && !err; i++) {
		a[5] = (uint8_t)(i + 10);
		err = map(s, true, 3, NESTOR_CAP_A_L2_MAC, a, 6);
	}
	tap_errno(err, 0, "L2_MAP up to NESTOR_CAP_MAX_L2_MAP entries");
	a[5] = 200;
	tap_errno(map(s, true, 3, NESTOR_CAP_A_L2_MAC, a, 6), ENOSPC,
		  "L2_MAP one entry too many");
	a[5] = 10;
	tap_errno(map(s, true, 4, NESTOR_CAP_A_L2_MAC, a, 6), 0,
		  "L2_MAP a known address again (remapped)");
}

static void test_get_del(void)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *r;
	uint32_t s, got = 0;

	if (!tap_errno(new_session(&nl, 0, &s), 0, "NEW for GET/DEL"))
		return;
	tap_errno(nl_xfer(&nl, req(&nl, buf, NESTOR_CAP_CMD_GET, 0), NULL,
			  NULL), EINVAL, "GET without session-id");
	tap_errno(nl_xfer(&nl, req(&nl, buf, NESTOR_CAP_CMD_GET,
				   UNKNOWN_SESSION), NULL, NULL), ENOENT,
		  "GET an unknown session");
	r = req(&nl, buf, NESTOR_CAP_CMD_GET, s);
	mnl_attr_put_u32(r, NESTOR_CAP_A_POINTS, 1);
	tap_errno(nl_xfer(&nl, r, NULL, NULL), EINVAL,
		  "GET with points (a NEW attribute)");
	tap_errno(nl_xfer(&nl, req(&nl, buf, NESTOR_CAP_CMD_GET, s),
			  session_cb, &got), 0, "GET a session");
	tap_ok(got == s, "GET replies with its session-id");
	tap_errno(nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CAP_CMD_GET,
				      NLM_F_DUMP), NULL, NULL), 0, "GET dump");
	tap_ok(nl.nmsgs >= 1, "GET dump lists the sessions (%d)", nl.nmsgs);
	tap_errno(nl_xfer(&nl, req(&nl, buf, NESTOR_CAP_CMD_DEL,
				   UNKNOWN_SESSION), NULL, NULL), ENOENT,
		  "DEL an unknown session");
	tap_errno(nl_xfer(&nl, req(&nl, buf, NESTOR_CAP_CMD_DEL, 0), NULL,
			  NULL), EINVAL, "DEL without session-id");
	tap_errno(nl_xfer(&nl, req(&nl, buf, NESTOR_CAP_CMD_DEL, s), NULL,
			  NULL), 0, "DEL a session");
	tap_errno(nl_xfer(&nl, req(&nl, buf, NESTOR_CAP_CMD_GET, s), NULL,
			  NULL), ENOENT, "GET after DEL");
	tap_errno(nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CAP_CMD_PACKETS, 0),
			  NULL, NULL), EOPNOTSUPP, "PACKETS as a request");
	tap_errno(nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CAP_CMD_UNSPEC, 0),
			  NULL, NULL), EOPNOTSUPP, "command UNSPEC");
	tap_errno(nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CAP_CMD_MAX + 1, 0),
			  NULL, NULL), EOPNOTSUPP, "command NESTOR_CAP_CMD_MAX + 1");
}

/* A session whose socket closes is freed (asynchronously). */
static void test_owner(void)
{
	char buf[512] __attribute__((aligned(8)));
	static struct nl other;
	uint32_t s = 0;
	int err = 0, i;

	if (nl_open(&other) || resolve(&other) ||
	    new_session(&other, 0, &s)) {
		tap_ok(false, "a second socket creates a session");
		return;
	}
	tap_errno(nl_xfer(&nl, req(&nl, buf, NESTOR_CAP_CMD_GET, s), NULL,
			  NULL), 0, "another socket sees the session");
	nl_close(&other);
	for (i = 0; i < 50; i++) {
		err = nl_xfer(&nl, req(&nl, buf, NESTOR_CAP_CMD_GET, s), NULL,
			      NULL);
		if (err)
			break;
		usleep(20000);
	}
	tap_errno(err, ENOENT, "the session is gone once its socket closed");
}

static int unpriv_new(void *arg)
{
	static struct nl c;
	uint32_t s;
	int err;

	(void)arg;
	err = nl_open(&c);
	if (!err)
		err = resolve(&c);
	if (err)
		return ENOTRECOVERABLE;
	err = new_session(&c, 0, &s);
	nl_close(&c);
	return err;
}

static int unpriv_join(void *arg)
{
	struct mnl_socket *s = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	unsigned int grp = packets_grp;
	int err = 0;

	(void)arg;
	if (!s)
		return errno;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(s, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0)
		err = errno;
	mnl_socket_close(s);
	return err;
}

static void test_unprivileged(void)
{
	tap_errno(run_dropped(DROP_TO_NOBODY, 0, unpriv_new, NULL), EPERM,
		  "NEW as uid %d", NOBODY_ID);
	tap_errno(run_dropped(DROP_CAP, CAP_NET_ADMIN, unpriv_new, NULL),
		  EPERM, "NEW as uid 0 without CAP_NET_ADMIN");
	tap_errno(run_dropped(DROP_TO_NOBODY, 0, unpriv_join, NULL), EPERM,
		  "join \"%s\" as uid %d", NESTOR_CAP_MCGRP_PACKETS, NOBODY_ID);
	tap_errno(run_dropped(DROP_CAP, CAP_NET_ADMIN, unpriv_join, NULL),
		  EPERM, "join \"%s\" as uid 0 without CAP_NET_ADMIN",
		  NESTOR_CAP_MCGRP_PACKETS);
	tap_errno(unpriv_join(NULL), 0, "join \"%s\" as root",
		  NESTOR_CAP_MCGRP_PACKETS);
}

int main(void)
{
	int err = nl_open(&nl);

	if (err)
		tap_bail("generic netlink socket: %s", strerror(err));
	err = resolve(&nl);
	if (!tap_errno(err, 0, "family \"%s\" resolves", NESTOR_CAP_GENL_NAME))
		tap_bail("no \"%s\" family: is nestor.ko loaded?",
			 NESTOR_CAP_GENL_NAME);
	tap_ok(packets_grp != 0, "multicast group \"%s\" is advertised",
	       NESTOR_CAP_MCGRP_PACKETS);
	test_new();
	test_bind();
	test_map();
	test_get_del();
	test_owner();
	test_unprivileged();
	nl_close(&nl);
	return tap_done();
}
