// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libnestor, packet capture: requests to the "nestor_cap" generic netlink
 * family and the packets of its "packets" group, through libmnl.  Replies
 * are checked attribute by attribute; unknown attributes are skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "nestor_capture.h"

/* A message holds up to NESTOR_CAP_BUFSIZE_MAX, or one 64 KiB packet. */
#define CAP_RXBUF	(256 * 1024)
/* Room for bursts while the reader writes its file. */
#define CAP_RCVBUF	(32 * 1024 * 1024)

struct nestor_cap {
	struct mnl_socket *req;		/* owns the sessions */
	struct mnl_socket *pkt;		/* joined to "packets" */
	unsigned int req_portid;
	unsigned int seq;
	uint16_t family;
	uint32_t grp;
	uint32_t session;		/* subscribed session */
	uint64_t next_seq;		/* expected packet sequence number */
	uint64_t lost;
	bool overrun;
	/* packets of the last message, handed out one by one */
	struct nestor_cap_pkt *q;
	size_t qlen, qhead, qcap;
	char err[256];
	/* requests' replies */
	char buf[CAP_RXBUF] __attribute__((aligned(8)));
	/*
	 * The packets message that q points into: apart from buf, so that a
	 * request between two nestor_cap_next() calls (nestorctl reads the
	 * final counters while packets of the last message are queued) does
	 * not overwrite the queued packets' data.
	 */
	char pbuf[CAP_RXBUF] __attribute__((aligned(8)));
};

static void set_err(struct nestor_cap *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct nestor_cap *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

const char *nestor_cap_last_error(const struct nestor_cap *c)
{
	return c ? c->err : "";
}

const char *nestor_cap_point_name(uint32_t point)
{
	switch (point) {
	case NESTOR_CAP_POINT_TO_L1:
		return "to-l1";
	case NESTOR_CAP_POINT_FROM_L1:
		return "from-l1";
	case NESTOR_CAP_POINT_UPLINK:
		return "uplink";
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* requests                                                           */
/* ------------------------------------------------------------------ */

struct xfer {
	struct nestor_cap *c;
	uint16_t type;
	int err;
	int (*parse)(const struct nlmsghdr *nlh, void *priv);
	void *priv;
};

static int extack_cb(const struct nlattr *a, void *data)
{
	struct nestor_cap *c = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		set_err(c, "kernel: %s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct xfer *x = data;
	size_t off = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		x->err = -EPROTO;
		return MNL_CB_STOP;
	}
	if (!e->error)
		return MNL_CB_STOP;
	x->err = e->error < 0 ? e->error : -e->error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    MNL_ALIGN(off) <= mnl_nlmsg_get_payload_len(nlh))
		mnl_attr_parse(nlh, off, extack_cb, x->c);
	return MNL_CB_STOP;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct xfer *x = data;
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0)
			x->err = err;
	}
	return MNL_CB_STOP;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct xfer *x = data;
	int err;

	if (nlh->nlmsg_type != x->type || x->err || !x->parse)
		return MNL_CB_OK;
	err = x->parse(nlh, x->priv);
	if (err)
		x->err = err;
	return MNL_CB_OK;
}

static mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = error_cb,
	[NLMSG_DONE] = done_cb,
};

static struct nlmsghdr *put_req(void *buf, uint16_t type, uint8_t cmd,
				uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = type == GENL_ID_CTRL ? 1 : NESTOR_CAP_GENL_VERSION;
	return nlh;
}

static int xfer(struct nestor_cap *c, struct nlmsghdr *nlh, uint16_t type,
		int (*parse)(const struct nlmsghdr *, void *), void *priv)
{
	struct xfer x = { .c = c, .type = type, .parse = parse, .priv = priv };
	char *buf = c->buf;
	unsigned int seq = ++c->seq;
	ssize_t len;
	int ret;

	c->err[0] = '\0';
	nlh->nlmsg_seq = seq;
	if (!(nlh->nlmsg_flags & NLM_F_DUMP))
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(c->req, nlh, nlh->nlmsg_len) < 0) {
		set_err(c, "sending a request: %s", strerror(errno));
		return -errno;
	}
	for (;;) {
		len = mnl_socket_recvfrom(c->req, buf, CAP_RXBUF);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			set_err(c, "receiving a reply: %s", strerror(errno));
			return -errno;
		}
		ret = mnl_cb_run2(buf, len, seq, c->req_portid, data_cb, &x,
				  ctl_cbs, MNL_ARRAY_SIZE(ctl_cbs));
		if (ret < 0)
			return x.err ? x.err : -errno;
		if (ret == MNL_CB_STOP)
			break;
	}
	return x.err;
}

struct fam {
	uint16_t id;
	uint32_t grp;
};

static int grp_cb(const struct nlattr *a, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1] = { NULL };
	struct fam *f = data;
	const struct nlattr *x;

	mnl_attr_for_each_nested(x, a) {
		if (mnl_attr_get_type(x) <= CTRL_ATTR_MCAST_GRP_MAX)
			tb[mnl_attr_get_type(x)] = x;
	}
	if (tb[CTRL_ATTR_MCAST_GRP_NAME] && tb[CTRL_ATTR_MCAST_GRP_ID] &&
	    !mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_NAME],
			       MNL_TYPE_NUL_STRING) &&
	    !mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_ID], MNL_TYPE_U32) &&
	    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
		    NESTOR_CAP_MCGRP_PACKETS))
		f->grp = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	return MNL_CB_OK;
}

static int ctrl_attr_cb(const struct nlattr *a, void *data)
{
	struct fam *f = data;

	switch (mnl_attr_get_type(a)) {
	case CTRL_ATTR_FAMILY_ID:
		if (!mnl_attr_validate(a, MNL_TYPE_U16))
			f->id = mnl_attr_get_u16(a);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		if (!mnl_attr_validate(a, MNL_TYPE_NESTED))
			mnl_attr_parse_nested(a, grp_cb, f);
		break;
	}
	return MNL_CB_OK;
}

static int ctrl_parse(const struct nlmsghdr *nlh, void *priv)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), ctrl_attr_cb, priv);
	return 0;
}

static struct mnl_socket *open_sock(unsigned int *portid)
{
	struct mnl_socket *s = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	int one = 1;

	if (!s)
		return NULL;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(s);
		return NULL;
	}
	mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof(one));
	if (portid)
		*portid = mnl_socket_get_portid(s);
	return s;
}

struct nestor_cap *nestor_cap_open(int *err)
{
	struct nestor_cap *c = calloc(1, sizeof(*c));
	char rb[512] __attribute__((aligned(8)));
	struct fam f = { 0 };
	struct nlmsghdr *nlh;
	int ret;

	if (!c) {
		*err = -ENOMEM;
		return NULL;
	}
	c->req = open_sock(&c->req_portid);
	if (!c->req) {
		*err = -errno;
		free(c);
		return NULL;
	}
	nlh = put_req(rb, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, NESTOR_CAP_GENL_NAME);
	ret = xfer(c, nlh, GENL_ID_CTRL, ctrl_parse, &f);
	if (ret || !f.id) {
		*err = ret == -ENOENT || !ret ? -ENODEV : ret;
		nestor_cap_close(c);
		return NULL;
	}
	c->family = f.id;
	c->grp = f.grp;
	return c;
}

void nestor_cap_close(struct nestor_cap *c)
{
	if (!c)
		return;
	if (c->req)
		mnl_socket_close(c->req);
	if (c->pkt)
		mnl_socket_close(c->pkt);
	free(c->q);
	free(c);
}

static int new_parse(const struct nlmsghdr *nlh, void *priv)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == NESTOR_CAP_A_SESSION_ID &&
		    !mnl_attr_validate(a, MNL_TYPE_U32))
			*(uint32_t *)priv = mnl_attr_get_u32(a);
	return 0;
}

int nestor_cap_new(struct nestor_cap *c, const struct nestor_cap_config *cfg,
		   uint32_t *session)
{
	size_t flen = cfg->filter_len * sizeof(struct sock_filter);
	struct nlmsghdr *nlh;
	char *rb;
	int err;

	/* A filter of NESTOR_CAP_FILTER_MAX instructions is 32 KiB. */
	rb = aligned_alloc(8, 1024 + flen + 7);
	if (!rb)
		return -ENOMEM;
	nlh = put_req(rb, c->family, NESTOR_CAP_CMD_NEW, 0);
	if (cfg->points)
		mnl_attr_put_u32(nlh, NESTOR_CAP_A_POINTS, cfg->points);
	if (cfg->snaplen)
		mnl_attr_put_u32(nlh, NESTOR_CAP_A_SNAPLEN, cfg->snaplen);
	if (cfg->batch)
		mnl_attr_put_u32(nlh, NESTOR_CAP_A_BATCH, cfg->batch);
	if (cfg->flush_ms)
		mnl_attr_put_u32(nlh, NESTOR_CAP_A_FLUSH_MS, cfg->flush_ms);
	if (cfg->bufsize)
		mnl_attr_put_u32(nlh, NESTOR_CAP_A_BUFSIZE, cfg->bufsize);
	if (cfg->filter)
		mnl_attr_put(nlh, NESTOR_CAP_A_FILTER, flen, cfg->filter);
	*session = 0;
	err = xfer(c, nlh, c->family, new_parse, session);
	free(rb);
	if (!err && !*session) {
		set_err(c, "malformed reply: no session id");
		err = -EPROTO;
	}
	return err;
}

int nestor_cap_bind(struct nestor_cap *c, uint32_t session,
		    const struct nestor_cap_target *t)
{
	char rb[512] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_req(rb, c->family, NESTOR_CAP_CMD_BIND, 0);

	mnl_attr_put_u32(nlh, NESTOR_CAP_A_SESSION_ID, session);
	if (t->ifindex)
		mnl_attr_put_u32(nlh, NESTOR_CAP_A_IFINDEX, t->ifindex);
	if (t->uplink)
		mnl_attr_put_u32(nlh, NESTOR_CAP_A_UPLINK, t->uplink);
	if (t->pid)
		mnl_attr_put_u32(nlh, NESTOR_CAP_A_PID, t->pid);
	if (t->vm_id)
		mnl_attr_put_u32(nlh, NESTOR_CAP_A_VM_ID, t->vm_id);
	return xfer(c, nlh, c->family, NULL, NULL);
}

int nestor_cap_l2_map(struct nestor_cap *c, uint32_t session, uint32_t l2_id,
		      const void *addr, size_t len)
{
	char rb[512] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_req(rb, c->family, NESTOR_CAP_CMD_L2_MAP, 0);

	mnl_attr_put_u32(nlh, NESTOR_CAP_A_SESSION_ID, session);
	mnl_attr_put_u32(nlh, NESTOR_CAP_A_L2_ID, l2_id);
	mnl_attr_put(nlh, len == 6 ? NESTOR_CAP_A_L2_MAC : NESTOR_CAP_A_L2_IP,
		     len, addr);
	return xfer(c, nlh, c->family, NULL, NULL);
}

int nestor_cap_del(struct nestor_cap *c, uint32_t session)
{
	char rb[512] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_req(rb, c->family, NESTOR_CAP_CMD_DEL, 0);

	mnl_attr_put_u32(nlh, NESTOR_CAP_A_SESSION_ID, session);
	return xfer(c, nlh, c->family, NULL, NULL);
}

static uint64_t get_u64(const struct nlattr *a)
{
	return mnl_attr_validate(a, MNL_TYPE_U64) ? 0 : mnl_attr_get_u64(a);
}

static uint32_t get_u32(const struct nlattr *a)
{
	return mnl_attr_validate(a, MNL_TYPE_U32) ? 0 : mnl_attr_get_u32(a);
}

static int if_parse(const struct nlattr *nest, struct nestor_cap_ifstats *f)
{
	const struct nlattr *a;

	memset(f, 0, sizeof(*f));
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case NESTOR_CAP_IF_IFINDEX:
			f->ifindex = get_u32(a);
			break;
		case NESTOR_CAP_IF_BINDING:
			f->binding = get_u32(a);
			break;
		case NESTOR_CAP_IF_NAME:
			if (!mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
				snprintf(f->name, sizeof(f->name), "%s",
					 mnl_attr_get_str(a));
			break;
		case NESTOR_CAP_IF_POINT:
			f->point = get_u32(a);
			break;
		case NESTOR_CAP_IF_VM_ID:
			f->vm_id = get_u32(a);
			break;
		case NESTOR_CAP_IF_PID:
			f->pid = get_u32(a);
			break;
		case NESTOR_CAP_IF_GONE:
			f->gone = 1;
			break;
		case NESTOR_CAP_IF_CAPTURED:
			f->captured = get_u64(a);
			break;
		case NESTOR_CAP_IF_FILTERED:
			f->filtered = get_u64(a);
			break;
		case NESTOR_CAP_IF_DROPPED:
			f->dropped = get_u64(a);
			break;
		}
	}
	return 0;
}

static int get_parse(const struct nlmsghdr *nlh, void *priv)
{
	struct nestor_cap_stats *s = priv;
	struct nestor_cap_ifstats *ifs;
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case NESTOR_CAP_A_SESSION_ID:
			s->session = get_u32(a);
			break;
		case NESTOR_CAP_A_OWNER_PORTID:
			s->owner_portid = get_u32(a);
			break;
		case NESTOR_CAP_A_POINTS:
			s->points = get_u32(a);
			break;
		case NESTOR_CAP_A_SNAPLEN:
			s->snaplen = get_u32(a);
			break;
		case NESTOR_CAP_A_BATCH:
			s->batch = get_u32(a);
			break;
		case NESTOR_CAP_A_FLUSH_MS:
			s->flush_ms = get_u32(a);
			break;
		case NESTOR_CAP_A_BUFSIZE:
			s->bufsize = get_u32(a);
			break;
		case NESTOR_CAP_A_MSG_SEQ:
			s->msg_seq = get_u64(a);
			break;
		case NESTOR_CAP_A_CAPTURED:
			s->captured = get_u64(a);
			break;
		case NESTOR_CAP_A_FILTERED:
			s->filtered = get_u64(a);
			break;
		case NESTOR_CAP_A_DROPPED:
			s->dropped = get_u64(a);
			break;
		case NESTOR_CAP_A_ALLOC_FAIL:
			s->alloc_fail = get_u64(a);
			break;
		case NESTOR_CAP_A_OVERFLOW:
			s->overflow = get_u64(a);
			break;
		case NESTOR_CAP_A_MESSAGES:
			s->messages = get_u64(a);
			break;
		case NESTOR_CAP_A_IFSTATS:
			if (mnl_attr_validate(a, MNL_TYPE_NESTED))
				return -EPROTO;
			ifs = reallocarray(s->ifs, s->nr_ifs + 1, sizeof(*ifs));
			if (!ifs)
				return -ENOMEM;
			s->ifs = ifs;
			if_parse(a, &s->ifs[s->nr_ifs++]);
			break;
		}
	}
	return 0;
}

int nestor_cap_get(struct nestor_cap *c, uint32_t session,
		   struct nestor_cap_stats *out)
{
	char rb[512] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_req(rb, c->family, NESTOR_CAP_CMD_GET, 0);
	int err;

	memset(out, 0, sizeof(*out));
	mnl_attr_put_u32(nlh, NESTOR_CAP_A_SESSION_ID, session);
	err = xfer(c, nlh, c->family, get_parse, out);
	if (err)
		nestor_cap_free_stats(out);
	return err;
}

struct list_parse {
	struct nestor_cap_stats *v;
	size_t n;
};

static int list_one(const struct nlmsghdr *nlh, void *priv)
{
	struct list_parse *l = priv;
	struct nestor_cap_stats *v;

	v = reallocarray(l->v, l->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	memset(&v[l->n], 0, sizeof(*v));
	return get_parse(nlh, &v[l->n++]);
}

int nestor_cap_list(struct nestor_cap *c, struct nestor_cap_stats **out,
		    size_t *nr)
{
	char rb[512] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = put_req(rb, c->family, NESTOR_CAP_CMD_GET,
				       NLM_F_DUMP);
	struct list_parse l = { NULL, 0 };
	int err;

	err = xfer(c, nlh, c->family, list_one, &l);
	if (err) {
		nestor_cap_free_list(l.v, l.n);
		return err;
	}
	*out = l.v;
	*nr = l.n;
	return 0;
}

void nestor_cap_free_list(struct nestor_cap_stats *v, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		nestor_cap_free_stats(&v[i]);
	free(v);
}

void nestor_cap_free_stats(struct nestor_cap_stats *s)
{
	free(s->ifs);
	s->ifs = NULL;
	s->nr_ifs = 0;
}

/* ------------------------------------------------------------------ */
/* packets                                                            */
/* ------------------------------------------------------------------ */

int nestor_cap_fd(const struct nestor_cap *c)
{
	return c->pkt ? mnl_socket_get_fd(c->pkt) : -1;
}

uint64_t nestor_cap_lost(const struct nestor_cap *c)
{
	return c->lost;
}

int nestor_cap_subscribe(struct nestor_cap *c, uint32_t session,
			 uint32_t rcvbuf)
{
	int sz = rcvbuf ? (int)rcvbuf : CAP_RCVBUF, fd;

	if (!c->grp) {
		set_err(c, "the module has no \"%s\" group",
			NESTOR_CAP_MCGRP_PACKETS);
		return -EPROTO;
	}
	c->pkt = open_sock(NULL);
	if (!c->pkt)
		return -errno;
	fd = mnl_socket_get_fd(c->pkt);
	/* Root may go past rmem_max; others get what they may. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (mnl_socket_setsockopt(c->pkt, NETLINK_ADD_MEMBERSHIP, &c->grp,
				  sizeof(c->grp)) < 0) {
		int err = -errno;

		set_err(c, "joining \"%s\": %s", NESTOR_CAP_MCGRP_PACKETS,
			strerror(errno));
		mnl_socket_close(c->pkt);
		c->pkt = NULL;
		return err;
	}
	c->session = session;
	c->next_seq = 0;
	return 0;
}

static int pkt_parse(struct nestor_cap *c, const struct nlattr *nest,
		     struct nestor_cap_pkt *p)
{
	const struct nlattr *a;
	bool has_seq = false, has_data = false;

	memset(p, 0, sizeof(*p));
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case NESTOR_CAP_PKT_SEQ:
			p->seq = get_u64(a);
			has_seq = true;
			break;
		case NESTOR_CAP_PKT_POINT:
			p->point = get_u32(a);
			break;
		case NESTOR_CAP_PKT_DIR:
			p->dir = get_u32(a);
			break;
		case NESTOR_CAP_PKT_IFINDEX:
			p->ifindex = get_u32(a);
			break;
		case NESTOR_CAP_PKT_BINDING:
			p->binding = get_u32(a);
			break;
		case NESTOR_CAP_PKT_TSTAMP_NS:
			p->tstamp_ns = get_u64(a);
			break;
		case NESTOR_CAP_PKT_ORIG_LEN:
			p->orig_len = get_u32(a);
			break;
		case NESTOR_CAP_PKT_VM_ID:
			p->vm_id = get_u32(a);
			break;
		case NESTOR_CAP_PKT_L2_ID:
			p->l2_id = get_u32(a);
			break;
		case NESTOR_CAP_PKT_DATA:
			p->data = mnl_attr_get_payload(a);
			p->caplen = mnl_attr_get_payload_len(a);
			has_data = true;
			break;
		}
	}
	if (!has_seq || !has_data) {
		set_err(c, "malformed packet: no %s", has_seq ? "data" : "seq");
		return -EPROTO;
	}
	return 0;
}

/* Queues the packets of one message of our session. */
static int msg_parse(struct nestor_cap *c, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;
	uint32_t session = 0;
	int err;

	if (nlh->nlmsg_type != c->family ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*g) ||
	    g->cmd != NESTOR_CAP_CMD_PACKETS)
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(*g))
		if (mnl_attr_get_type(a) == NESTOR_CAP_A_SESSION_ID)
			session = get_u32(a);
	if (session != c->session)
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		struct nestor_cap_pkt *p;

		if (mnl_attr_get_type(a) != NESTOR_CAP_A_PACKET)
			continue;
		if (c->qlen == c->qcap) {
			size_t ncap = c->qcap ? c->qcap * 2 : 256;

			p = reallocarray(c->q, ncap, sizeof(*p));
			if (!p)
				return -ENOMEM;
			c->q = p;
			c->qcap = ncap;
		}
		p = &c->q[c->qlen];
		err = pkt_parse(c, a, p);
		if (err)
			return err;
		c->qlen++;
	}
	return 0;
}

int nestor_cap_next(struct nestor_cap *c, struct nestor_cap_pkt *pkt,
		    int timeout_ms)
{
	struct pollfd pfd;
	ssize_t len;
	int err;

	if (!c->pkt)
		return -ENOTCONN;
	while (c->qhead == c->qlen) {
		const struct nlmsghdr *nlh;
		int left;

		c->qhead = c->qlen = 0;
		pfd.fd = mnl_socket_get_fd(c->pkt);
		/* Under load the next message is there: poll only when not. */
		len = recv(pfd.fd, c->pbuf, CAP_RXBUF, MSG_DONTWAIT | MSG_TRUNC);
		if (len < 0 && (errno == EAGAIN || errno == EINTR)) {
			pfd.events = POLLIN;
			err = poll(&pfd, 1, timeout_ms);
			if (err < 0 && errno == EINTR)
				continue;
			if (err < 0)
				return -errno;
			if (!err)
				return -ETIMEDOUT;
			continue;
		}
		if (len < 0) {
			if (errno == ENOBUFS) {
				c->overrun = true;
				return -ENOBUFS;
			}
			return -errno;
		}
		if (len > CAP_RXBUF) {
			set_err(c, "a message of %zd bytes was truncated", len);
			return -EMSGSIZE;
		}
		left = (int)len;
		for (nlh = (void *)c->pbuf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			err = msg_parse(c, nlh);
			if (err)
				return err;
		}
	}
	*pkt = c->q[c->qhead++];
	/* A gap is always counted, however it came about. */
	if (pkt->seq > c->next_seq) {
		pkt->lost_before = pkt->seq - c->next_seq;
		c->lost += pkt->lost_before;
	}
	if (pkt->seq >= c->next_seq)
		c->next_seq = pkt->seq + 1;
	return 0;
}
