// SPDX-License-Identifier: GPL-2.0
/* A small generic netlink client for the uapi tests (see uapi_nl.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/nestor.h>

#include "uapi_nl.h"

struct xfer {
	struct nl *nl;
	uint16_t type;
	mnl_cb_t cb;
	void *data;
	int err;		/* positive errno from the kernel */
};

static int extack_cb(const struct nlattr *a, void *data)
{
	struct nl *nl = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(nl->extack, sizeof(nl->extack), "%s",
			 mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static void parse_extack(struct nl *nl, const struct nlmsghdr *nlh,
			 size_t off)
{
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    MNL_ALIGN(off) <= mnl_nlmsg_get_payload_len(nlh))
		mnl_attr_parse(nlh, off, extack_cb, nl);
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct xfer *x = data;
	size_t off = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		x->err = EPROTO;
		return MNL_CB_STOP;
	}
	if (e->error == 0)
		return MNL_CB_STOP;
	x->err = e->error < 0 ? -e->error : e->error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	parse_extack(x->nl, nlh, off);
	return MNL_CB_STOP;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct xfer *x = data;
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0) {
			x->err = -err;
			parse_extack(x->nl, nlh, sizeof(err));
		}
	}
	return MNL_CB_STOP;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct xfer *x = data;

	if (nlh->nlmsg_type != x->type)
		return MNL_CB_OK;
	x->nl->nmsgs++;
	return x->cb ? x->cb(nlh, x->data) : MNL_CB_OK;
}

static mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = error_cb,
	[NLMSG_DONE] = done_cb,
};

int nl_open(struct nl *nl)
{
	int one = 1;

	memset(nl, 0, offsetof(struct nl, buf));
	nl->sock = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!nl->sock)
		return errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		nl_close(nl);
		return err;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static struct nlmsghdr *req_start(void *buf, uint16_t type, uint8_t cmd,
				  uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

struct nlmsghdr *nl_req(struct nl *nl, void *buf, uint8_t cmd,
			uint16_t flags)
{
	return req_start(buf, nl->family, cmd, NESTOR_GENL_VERSION, flags);
}

static int xfer(struct nl *nl, struct nlmsghdr *req, uint16_t type,
		mnl_cb_t cb, void *data)
{
	struct xfer x = { .nl = nl, .type = type, .cb = cb, .data = data };
	unsigned int seq = ++nl->seq;
	ssize_t len;
	int ret;

	nl->extack[0] = '\0';
	nl->nmsgs = 0;
	if (!(req->nlmsg_flags & NLM_F_DUMP))
		req->nlmsg_flags |= NLM_F_ACK;
	req->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return errno;
	do {
		len = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (len < 0)
			return errno;
		ret = mnl_cb_run2(nl->buf, len, seq, nl->portid, data_cb, &x,
				  ctl_cbs, MNL_ARRAY_SIZE(ctl_cbs));
	} while (ret > MNL_CB_STOP);
	if (ret < 0 && !x.err)
		return errno;
	return x.err;
}

int nl_xfer(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	return xfer(nl, req, nl->family, cb, data);
}

static int grp_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= CTRL_ATTR_MCAST_GRP_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int grps_cb(const struct nlattr *a, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1] = { NULL };
	struct nl *nl = data;

	mnl_attr_parse_nested(a, grp_attr_cb, tb);
	if (tb[CTRL_ATTR_MCAST_GRP_NAME] && tb[CTRL_ATTR_MCAST_GRP_ID] &&
	    !mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_NAME],
			       MNL_TYPE_NUL_STRING) &&
	    !mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_ID], MNL_TYPE_U32) &&
	    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
		    NESTOR_GENL_MCGRP_EVENTS))
		nl->events_grp = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	return MNL_CB_OK;
}

static int family_attr_cb(const struct nlattr *a, void *data)
{
	struct nl *nl = data;

	switch (mnl_attr_get_type(a)) {
	case CTRL_ATTR_FAMILY_ID:
		if (!mnl_attr_validate(a, MNL_TYPE_U16))
			nl->family = mnl_attr_get_u16(a);
		break;
	case CTRL_ATTR_VERSION:
		if (!mnl_attr_validate(a, MNL_TYPE_U32))
			nl->family_version = mnl_attr_get_u32(a);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		if (!mnl_attr_validate(a, MNL_TYPE_NESTED))
			mnl_attr_parse_nested(a, grps_cb, nl);
		break;
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, data);
	return MNL_CB_OK;
}

int nl_resolve(struct nl *nl)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *req;
	int err;

	req = req_start(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
	mnl_attr_put_strz(req, CTRL_ATTR_FAMILY_NAME, NESTOR_GENL_NAME);
	err = xfer(nl, req, GENL_ID_CTRL, family_cb, nl);
	if (!err && !nl->family)
		err = EPROTO;
	return err;
}

int nl_join_events(struct nl *nl)
{
	struct mnl_socket *s;
	unsigned int grp = nl->events_grp;
	int err = 0;

	s = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!s)
		return errno;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(s, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0)
		err = errno;
	mnl_socket_close(s);
	return err;
}
