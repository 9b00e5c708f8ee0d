// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libnestor: /dev/nestor ioctls and the "nestor" generic netlink family.
 *
 * Netlink is spoken through libmnl only.  Replies are validated attribute
 * by attribute (type and length, mnl_attr_validate); attribute types this
 * library does not know are skipped, so a newer module that adds
 * attributes still works with an older library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "libnestor.h"

/*
 * Large enough for any message the kernel builds for us: netlink dumps
 * allocate up to 32 KiB per skb when the reader's buffer allows it, and a
 * reader with a smaller buffer gets MSG_TRUNC.
 */
#define NL_BUFSZ	32768

struct nestor {
	char buf[NL_BUFSZ] __attribute__((aligned(8)));	/* replies */
	int fd;				/* /dev/nestor, or -1 */
	struct mnl_socket *nl;		/* requests */
	unsigned int portid;
	unsigned int seq;
	bool nl_dirty;			/* a reply may be left unread */
	uint16_t family;
	uint32_t events_grp;		/* 0: the module has none */
	struct mnl_socket *ev;		/* events, apart from replies */
	struct nestor_event *evq;	/* events of the last datagram */
	size_t evq_head, evq_len, evq_cap;
	char err[256];
};

static void set_err(struct nestor *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct nestor *n, const char *fmt, ...)
{
	va_list ap;

	if (!n)
		return;
	va_start(ap, fmt);
	vsnprintf(n->err, sizeof(n->err), fmt, ap);
	va_end(ap);
}

static void clear_err(struct nestor *n)
{
	n->err[0] = '\0';
}

const char *nestor_last_error(const struct nestor *n)
{
	return n ? n->err : "";
}

/*
 * Makes room for @want elements of @size bytes in @arr (capacity *cap).
 * Returns the array, maybe moved, or NULL (the old array stays valid).
 */
static void *grow(void *arr, size_t *cap, size_t want, size_t size)
{
	size_t ncap;
	void *np;

	if (want <= *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < want)
		ncap *= 2;
	np = reallocarray(arr, ncap, size);
	if (np)
		*cap = ncap;
	return np;
}

/* GROW(x, cap, want): -ENOMEM or 0, with x updated. */
#define GROW(arr, cap, want) ({					\
	void *__p = grow((arr), (cap), (want), sizeof(*(arr)));	\
	if (__p)						\
		(arr) = __p;					\
	__p ? 0 : -ENOMEM;					\
})

/* ------------------------------------------------------------------ */
/* attribute policies (what this library expects in replies)          */
/* ------------------------------------------------------------------ */

static const enum mnl_attr_data_type top_policy[NESTOR_A_MAX + 1] = {
	[NESTOR_A_UAPI_VERSION]		= MNL_TYPE_U32,
	[NESTOR_A_MODULE_VERSION]	= MNL_TYPE_NUL_STRING,
	[NESTOR_A_BACKEND]		= MNL_TYPE_U32,
	[NESTOR_A_FEATURES]		= MNL_TYPE_U64,
	[NESTOR_A_VM_ID]		= MNL_TYPE_U32,
	[NESTOR_A_VM_PID]		= MNL_TYPE_U32,
	[NESTOR_A_VM_VCPU]		= MNL_TYPE_U32,
	[NESTOR_A_L2_ID]		= MNL_TYPE_U32,
	[NESTOR_A_L2_VMCS12]		= MNL_TYPE_U64,
	[NESTOR_A_L2_ROOT]		= MNL_TYPE_U64,
	[NESTOR_A_L2_TDP]		= MNL_TYPE_FLAG,
	[NESTOR_A_L2_FIRST_SEEN_NS]	= MNL_TYPE_U64,
	[NESTOR_A_L2_LAST_SEEN_NS]	= MNL_TYPE_U64,
	[NESTOR_A_L2_ENTRIES]		= MNL_TYPE_U64,
	[NESTOR_A_L2_VCPU]		= MNL_TYPE_NESTED,
	[NESTOR_A_L2_OLD_ROOT]		= MNL_TYPE_U64,
	[NESTOR_A_STATS_EXIT]		= MNL_TYPE_NESTED,
	[NESTOR_A_ISA]			= MNL_TYPE_U32,
	[NESTOR_A_IDENT_NAME]		= MNL_TYPE_NUL_STRING,
	[NESTOR_A_IDENT_KEY_ID]		= MNL_TYPE_U32,
	[NESTOR_A_IDENT_FLAGS]		= MNL_TYPE_U32,
	[NESTOR_A_IDENT_BOUND_NS]	= MNL_TYPE_U64,
	[NESTOR_A_IDENT_REGISTRATIONS]	= MNL_TYPE_U64,
	[NESTOR_A_IDENT_HOLDER_L2_ID]	= MNL_TYPE_U32,
	[NESTOR_A_VM_L1_HYPERCALLS]	= MNL_TYPE_U64,
};

static const enum mnl_attr_data_type vcpu_policy[NESTOR_A_VCPU_MAX + 1] = {
	[NESTOR_A_VCPU_ID]		= MNL_TYPE_U32,
	[NESTOR_A_VCPU_CR3]		= MNL_TYPE_U64,
	[NESTOR_A_VCPU_CR3_CHANGES]	= MNL_TYPE_U64,
};

static const enum mnl_attr_data_type exit_policy[NESTOR_A_EXIT_MAX + 1] = {
	[NESTOR_A_EXIT_REASON]		= MNL_TYPE_U32,
	[NESTOR_A_EXIT_TOTAL]		= MNL_TYPE_U64,
	[NESTOR_A_EXIT_REFLECTED]	= MNL_TYPE_U64,
	[NESTOR_A_EXIT_NESTOR]		= MNL_TYPE_U64,
};

static const enum mnl_attr_data_type ctrl_policy[CTRL_ATTR_MAX + 1] = {
	[CTRL_ATTR_FAMILY_ID]		= MNL_TYPE_U16,
	[CTRL_ATTR_FAMILY_NAME]		= MNL_TYPE_NUL_STRING,
	[CTRL_ATTR_VERSION]		= MNL_TYPE_U32,
	[CTRL_ATTR_MCAST_GROUPS]	= MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type
mcgrp_policy[CTRL_ATTR_MCAST_GRP_MAX + 1] = {
	[CTRL_ATTR_MCAST_GRP_NAME]	= MNL_TYPE_NUL_STRING,
	[CTRL_ATTR_MCAST_GRP_ID]	= MNL_TYPE_U32,
};

/* Names as in Documentation/netlink/specs/nestor.yaml, for messages. */
static const char *const top_attr_names[NESTOR_A_MAX + 1] = {
	[NESTOR_A_UNSPEC]		= "unspec",
	[NESTOR_A_PAD]			= "pad",
	[NESTOR_A_UAPI_VERSION]		= "uapi-version",
	[NESTOR_A_MODULE_VERSION]	= "module-version",
	[NESTOR_A_BACKEND]		= "backend",
	[NESTOR_A_FEATURES]		= "features",
	[NESTOR_A_VM_ID]		= "vm-id",
	[NESTOR_A_VM_PID]		= "vm-pid",
	[NESTOR_A_VM_VCPU]		= "vm-vcpu",
	[NESTOR_A_L2_ID]		= "l2-id",
	[NESTOR_A_L2_VMCS12]		= "l2-vmcs12",
	[NESTOR_A_L2_ROOT]		= "l2-root",
	[NESTOR_A_L2_TDP]		= "l2-tdp",
	[NESTOR_A_L2_FIRST_SEEN_NS]	= "l2-first-seen-ns",
	[NESTOR_A_L2_LAST_SEEN_NS]	= "l2-last-seen-ns",
	[NESTOR_A_L2_ENTRIES]		= "l2-entries",
	[NESTOR_A_L2_VCPU]		= "l2-vcpu",
	[NESTOR_A_L2_OLD_ROOT]		= "l2-old-root",
	[NESTOR_A_STATS_EXIT]		= "stats-exit",
	[NESTOR_A_ISA]			= "isa",
	[NESTOR_A_IDENT_NAME]		= "ident-name",
	[NESTOR_A_IDENT_KEY_ID]		= "ident-key-id",
	[NESTOR_A_IDENT_FLAGS]		= "ident-flags",
	[NESTOR_A_IDENT_BOUND_NS]	= "ident-bound-ns",
	[NESTOR_A_IDENT_REGISTRATIONS]	= "ident-registrations",
	[NESTOR_A_IDENT_HOLDER_L2_ID]	= "ident-holder-l2-id",
	[NESTOR_A_VM_L1_HYPERCALLS]	= "vm-l1-hypercalls",
};

/*
 * Type and length check of one attribute against a policy.
 * Returns 1 for a known, valid attribute; 0 for one to skip (unknown
 * type or padding: forward compatibility); -EPROTO for a malformed one.
 */
static int attr_check(struct nestor *n, const struct nlattr *a,
		      const enum mnl_attr_data_type *pol, unsigned int max,
		      const char *set)
{
	uint16_t type = mnl_attr_get_type(a);

	if (type > max || pol[type] == MNL_TYPE_UNSPEC)
		return 0;
	if (mnl_attr_validate(a, pol[type]) < 0) {
		set_err(n, "malformed reply: %s attribute %u has %u bytes",
			set, type, (unsigned int)mnl_attr_get_payload_len(a));
		return -EPROTO;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* request/reply machinery                                            */
/* ------------------------------------------------------------------ */

struct req {
	struct nestor *n;
	uint16_t type;		/* nlmsg_type of the replies we parse */
	int err;		/* first error: the kernel's or a parse error */
	int (*parse)(const struct nlmsghdr *nlh, struct req *r);
	void *priv;
};

struct extack {
	const char *msg;
	uint32_t miss_type;
	bool has_miss_type;
};

static int extack_attr_cb(const struct nlattr *a, void *data)
{
	struct extack *x = data;

	switch (mnl_attr_get_type(a)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			x->msg = mnl_attr_get_str(a);
		break;
	case NLMSGERR_ATTR_MISS_TYPE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
			x->miss_type = mnl_attr_get_u32(a);
			x->has_miss_type = true;
		}
		break;
	}
	return MNL_CB_OK;
}

/* Records the extended ACK TLVs that start @off bytes into the payload. */
static void parse_extack(struct nestor *n, const struct nlmsghdr *nlh,
			 size_t off)
{
	struct extack x = { 0 };
	const char *name = NULL;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (MNL_ALIGN(off) > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_parse(nlh, off, extack_attr_cb, &x);
	if (x.has_miss_type && x.miss_type <= NESTOR_A_MAX)
		name = top_attr_names[x.miss_type];
	if (x.msg && x.has_miss_type)
		set_err(n, "kernel: %s (missing attribute %u%s%s%s)", x.msg,
			x.miss_type, name ? " \"" : "", name ? name : "",
			name ? "\"" : "");
	else if (x.msg)
		set_err(n, "kernel: %s", x.msg);
	else if (x.has_miss_type)
		set_err(n, "kernel: missing attribute %u", x.miss_type);
}

static int req_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct req *r = data;
	int err;

	/* After a failure keep reading up to the final message. */
	if (r->err || nlh->nlmsg_type != r->type)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct genlmsghdr)) {
		set_err(r->n, "malformed reply: no generic netlink header");
		r->err = -EPROTO;
		return MNL_CB_OK;
	}
	err = r->parse(nlh, r);
	if (err)
		r->err = err;
	return MNL_CB_OK;
}

static int req_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct req *r = data;
	size_t off;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		if (!r->err) {
			set_err(r->n, "malformed netlink error message");
			r->err = -EPROTO;
		}
		return MNL_CB_STOP;
	}
	if (e->error == 0)	/* the ACK of a doit */
		return MNL_CB_STOP;
	if (r->err)
		return MNL_CB_STOP;
	r->err = e->error < 0 ? e->error : -e->error;
	/* The TLVs follow the echoed request, or its header when capped. */
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return MNL_CB_STOP;
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	parse_extack(r->n, nlh, off);
	return MNL_CB_STOP;
}

/* NLMSG_DONE carries the dump's error code, which libmnl ignores. */
static int req_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct req *r = data;
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(err))
		return MNL_CB_STOP;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (err < 0 && !r->err) {
		r->err = err;
		parse_extack(r->n, nlh, sizeof(err));
	}
	return MNL_CB_STOP;
}

/* Not const: mnl_cb_run2() takes a non-const array. */
static mnl_cb_t req_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR]	= req_error_cb,
	[NLMSG_DONE]	= req_done_cb,
};

/* Reads and drops what an aborted request left on the socket. */
static void nl_drain(struct nestor *n)
{
	int fd = mnl_socket_get_fd(n->nl);

	while (recv(fd, n->buf, sizeof(n->buf), MSG_DONTWAIT) > 0)
		;
	n->nl_dirty = false;
}

/*
 * Sends @nlh and feeds every reply to r->parse until the final message:
 * the ACK (a doit sent with NLM_F_ACK), NLMSG_DONE (a dump) or an error.
 */
static int nl_run(struct nestor *n, struct nlmsghdr *nlh, struct req *r)
{
	unsigned int seq;
	ssize_t len;
	int ret;

	if (n->nl_dirty)
		nl_drain(n);
	seq = ++n->seq;
	nlh->nlmsg_seq = seq;
	n->nl_dirty = true;
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		set_err(n, "sending a netlink request: %s", strerror(-ret));
		return ret;
	}
	for (;;) {
		len = mnl_socket_recvfrom(n->nl, n->buf, sizeof(n->buf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			set_err(n, "receiving a netlink reply: %s",
				strerror(-ret));
			return ret;
		}
		ret = mnl_cb_run2(n->buf, len, seq, n->portid, req_data_cb, r,
				  req_ctl_cbs, MNL_ARRAY_SIZE(req_ctl_cbs));
		if (ret < 0) {
			/* Not ours (seq, port), or a dump changed under us. */
			ret = -errno;
			if (ret == -EINTR)
				set_err(n, "the registry changed during a dump");
			else
				set_err(n, "unexpected netlink message: %s",
					strerror(-ret));
			return r->err ? r->err : ret;
		}
		if (ret == MNL_CB_STOP)
			break;
	}
	n->nl_dirty = false;
	return r->err;
}

/* Starts a request of the nestor family in @buf. */
static struct nlmsghdr *genl_put(void *buf, uint16_t type, uint8_t cmd,
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

/* Room for any request we send: a header and a few attributes. */
union reqbuf {
	struct nlmsghdr nlh;
	char b[512];
};

/* ------------------------------------------------------------------ */
/* family resolution                                                  */
/* ------------------------------------------------------------------ */

struct fam {
	struct nestor *n;
	const char *group;
	uint16_t id;
	uint32_t grp;
	int err;
};

static int mcgrp_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int ok = attr_check(NULL, a, mcgrp_policy, CTRL_ATTR_MCAST_GRP_MAX,
			    "mcast group");

	if (ok < 0)
		return MNL_CB_ERROR;
	if (ok)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int mcgrps_cb(const struct nlattr *a, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1] = { NULL };
	struct fam *f = data;

	if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0 ||
	    mnl_attr_parse_nested(a, mcgrp_attr_cb, tb) < 0) {
		set_err(f->n, "malformed reply: bad multicast group entry");
		f->err = -EPROTO;
		return MNL_CB_ERROR;
	}
	if (tb[CTRL_ATTR_MCAST_GRP_NAME] && tb[CTRL_ATTR_MCAST_GRP_ID] &&
	    f->group &&
	    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]), f->group))
		f->grp = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	return MNL_CB_OK;
}

static int ctrl_attr_cb(const struct nlattr *a, void *data)
{
	struct fam *f = data;
	int ok = attr_check(f->n, a, ctrl_policy, CTRL_ATTR_MAX, "nlctrl");

	if (ok < 0) {
		f->err = ok;
		return MNL_CB_ERROR;
	}
	if (!ok)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case CTRL_ATTR_FAMILY_ID:
		f->id = mnl_attr_get_u16(a);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		if (mnl_attr_parse_nested(a, mcgrps_cb, f) < 0)
			return MNL_CB_ERROR;
		break;
	}
	return MNL_CB_OK;
}

static int ctrl_parse(const struct nlmsghdr *nlh, struct req *r)
{
	struct fam *f = r->priv;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), ctrl_attr_cb,
			   f) < 0)
		return f->err ? f->err : -EPROTO;
	return 0;
}

/*
 * Family id of @family and id of its multicast group @group (0 when the
 * family has no such group).  -ENOENT when the family is not registered.
 */
static int genl_resolve(struct nestor *n, const char *family,
			const char *group, uint16_t *id, uint32_t *grp)
{
	union reqbuf rb;
	struct nlmsghdr *nlh;
	struct fam f = { .n = n, .group = group };
	struct req r = { .n = n, .type = GENL_ID_CTRL, .parse = ctrl_parse,
			 .priv = &f };
	int err;

	nlh = genl_put(rb.b, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, family);
	err = nl_run(n, nlh, &r);
	if (err)
		return err;
	if (!f.id) {
		set_err(n, "malformed reply: no family id for \"%s\"", family);
		return -EPROTO;
	}
	*id = f.id;
	*grp = f.grp;
	return 0;
}

/* ------------------------------------------------------------------ */
/* open / close                                                       */
/* ------------------------------------------------------------------ */

/* The request socket, with extended ACKs on. */
static int genl_socket(struct nestor *n)
{
	int one = 1;

	n->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!n->nl)
		return -errno;
	if (mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	n->portid = mnl_socket_get_portid(n->nl);
	/*
	 * Extended ACKs carry the kernel's reason for a refusal; capped
	 * ACKs do not echo our request back.  Old kernels lack both, which
	 * costs only the detail.
	 */
	mnl_socket_setsockopt(n->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(n->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	n->seq = (unsigned int)time(NULL);
	return 0;
}

static int genl_open(struct nestor *n)
{
	int err;

	err = genl_socket(n);
	if (err)
		return err;
	err = genl_resolve(n, NESTOR_GENL_NAME, NESTOR_GENL_MCGRP_EVENTS,
			   &n->family, &n->events_grp);
	if (err == -ENOENT)
		return -ENODEV;	/* the module registers the family */
	return err;
}

struct nestor *nestor_open_flags(unsigned int flags, int *err)
{
	struct nestor *n;
	int e;

	if (!flags || (flags & ~(NESTOR_OPEN_DEV | NESTOR_OPEN_GENL))) {
		e = -EINVAL;
		goto out;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		e = -ENOMEM;
		goto out;
	}
	n->fd = -1;
	if (flags & NESTOR_OPEN_DEV) {
		n->fd = open(NESTOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (n->fd < 0) {
			e = -errno;
			/* No node, or a stale node without its driver. */
			if (e == -ENOENT || e == -ENXIO)
				e = -ENODEV;
			nestor_close(n);
			goto out;
		}
	}
	if (flags & NESTOR_OPEN_GENL) {
		e = genl_open(n);
		if (e) {
			nestor_close(n);
			goto out;
		}
	}
	if (err)
		*err = 0;
	return n;
out:
	if (err)
		*err = e;
	return NULL;
}

struct nestor *nestor_open(int *err)
{
	return nestor_open_flags(NESTOR_OPEN_DEV | NESTOR_OPEN_GENL, err);
}

void nestor_close(struct nestor *n)
{
	if (!n)
		return;
	if (n->fd >= 0)
		close(n->fd);
	if (n->nl)
		mnl_socket_close(n->nl);
	if (n->ev)
		mnl_socket_close(n->ev);
	free(n->evq);
	free(n);
}

static int need_genl(struct nestor *n)
{
	clear_err(n);
	if (!n->nl) {
		set_err(n, "opened without NESTOR_OPEN_GENL");
		return -ENOTCONN;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* version                                                            */
/* ------------------------------------------------------------------ */

int nestor_version_ioctl(struct nestor *n, struct nestor_version_info *out)
{
	struct nestor_version v;
	int err;

	clear_err(n);
	if (n->fd < 0) {
		set_err(n, "opened without NESTOR_OPEN_DEV");
		return -ENOTCONN;
	}
	memset(&v, 0, sizeof(v));
	if (ioctl(n->fd, NESTOR_IOC_VERSION, &v) < 0) {
		err = -errno;
		set_err(n, "NESTOR_IOC_VERSION: %s", strerror(-err));
		return err;
	}
	memset(out, 0, sizeof(*out));
	out->uapi_version = v.uapi_version;
	out->backend = v.backend;
	out->features = v.features;
	/* The module NUL-terminates it; do not rely on that. */
	memcpy(out->module_version, v.module_version,
	       sizeof(out->module_version) - 1);
	return 0;
}

struct version_parse {
	struct nestor *n;
	struct nestor_version_info *out;
	bool has_uapi;
	int err;
};

static int version_attr_cb(const struct nlattr *a, void *data)
{
	struct version_parse *p = data;
	int ok = attr_check(p->n, a, top_policy, NESTOR_A_MAX, "top-level");

	if (ok < 0) {
		p->err = ok;
		return MNL_CB_ERROR;
	}
	if (!ok)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case NESTOR_A_UAPI_VERSION:
		p->out->uapi_version = mnl_attr_get_u32(a);
		p->has_uapi = true;
		break;
	case NESTOR_A_MODULE_VERSION:
		snprintf(p->out->module_version,
			 sizeof(p->out->module_version), "%s",
			 mnl_attr_get_str(a));
		break;
	case NESTOR_A_BACKEND:
		p->out->backend = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_FEATURES:
		p->out->features = mnl_attr_get_u64(a);
		break;
	}
	return MNL_CB_OK;
}

static int version_parse(const struct nlmsghdr *nlh, struct req *r)
{
	struct version_parse *p = r->priv;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), version_attr_cb,
			   p) < 0)
		return p->err ? p->err : -EPROTO;
	return 0;
}

int nestor_version_genl(struct nestor *n, struct nestor_version_info *out)
{
	struct version_parse p = { .n = n, .out = out };
	struct req r = { .n = n, .parse = version_parse, .priv = &p };
	union reqbuf rb;
	struct nlmsghdr *nlh;
	int err;

	err = need_genl(n);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	r.type = n->family;
	nlh = genl_put(rb.b, n->family, NESTOR_CMD_GET_VERSION,
		       NESTOR_GENL_VERSION, NLM_F_ACK);
	err = nl_run(n, nlh, &r);
	if (err)
		return err;
	if (!p.has_uapi) {
		set_err(n, "malformed reply: GET_VERSION without uapi-version");
		return -EPROTO;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* VMs and L2 contexts                                                */
/* ------------------------------------------------------------------ */

struct vm_list {
	struct nestor_vm *v;
	size_t nr, cap;
};

struct vm_parse {
	struct nestor *n;
	struct nestor_vm *vm;
	size_t vcpu_cap;
	bool has_id;
	int err;
};

static int vm_attr_cb(const struct nlattr *a, void *data)
{
	struct vm_parse *p = data;
	int ok = attr_check(p->n, a, top_policy, NESTOR_A_MAX, "top-level");

	if (ok < 0) {
		p->err = ok;
		return MNL_CB_ERROR;
	}
	if (!ok)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case NESTOR_A_VM_ID:
		p->vm->id = mnl_attr_get_u32(a);
		p->has_id = true;
		break;
	case NESTOR_A_VM_PID:
		p->vm->pid = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_VM_VCPU:
		if (GROW(p->vm->vcpu_ids, &p->vcpu_cap,
			 p->vm->nr_vcpus + 1)) {
			p->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		p->vm->vcpu_ids[p->vm->nr_vcpus++] = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_VM_L1_HYPERCALLS:
		p->vm->l1_hypercalls = mnl_attr_get_u64(a);
		break;
	}
	return MNL_CB_OK;
}

static int vm_parse(const struct nlmsghdr *nlh, struct req *r)
{
	struct vm_list *l = r->priv;
	struct vm_parse p = { .n = r->n };

	if (GROW(l->v, &l->cap, l->nr + 1))
		return -ENOMEM;
	p.vm = &l->v[l->nr];
	memset(p.vm, 0, sizeof(*p.vm));
	/* Counted first, so that a failure below frees what was parsed. */
	l->nr++;
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), vm_attr_cb,
			   &p) < 0)
		return p.err ? p.err : -EPROTO;
	if (!p.has_id) {
		set_err(r->n, "malformed reply: VM without vm-id");
		return -EPROTO;
	}
	return 0;
}

struct l2_parse {
	struct nestor *n;
	struct nestor_l2 *l2;
	size_t vcpu_cap;
	bool has_id;
	int err;
};

struct vcpu_parse {
	struct nestor *n;
	struct nestor_l2_vcpu *v;
	bool has_id;
	int err;
};

static int vcpu_attr_cb(const struct nlattr *a, void *data)
{
	struct vcpu_parse *p = data;
	int ok = attr_check(p->n, a, vcpu_policy, NESTOR_A_VCPU_MAX, "vcpu");

	if (ok < 0) {
		p->err = ok;
		return MNL_CB_ERROR;
	}
	if (!ok)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case NESTOR_A_VCPU_ID:
		p->v->vcpu_id = mnl_attr_get_u32(a);
		p->has_id = true;
		break;
	case NESTOR_A_VCPU_CR3:
		p->v->cr3 = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_VCPU_CR3_CHANGES:
		p->v->cr3_changes = mnl_attr_get_u64(a);
		break;
	}
	return MNL_CB_OK;
}

static int l2_vcpu(struct l2_parse *p, const struct nlattr *nest)
{
	struct nestor_l2 *l2 = p->l2;
	struct vcpu_parse vp = { .n = p->n };

	if (GROW(l2->vcpus, &p->vcpu_cap, l2->nr_vcpus + 1))
		return -ENOMEM;
	vp.v = &l2->vcpus[l2->nr_vcpus];
	memset(vp.v, 0, sizeof(*vp.v));
	if (mnl_attr_parse_nested(nest, vcpu_attr_cb, &vp) < 0)
		return vp.err ? vp.err : -EPROTO;
	if (!vp.has_id) {
		set_err(p->n, "malformed reply: l2-vcpu without vcpu-id");
		return -EPROTO;
	}
	l2->nr_vcpus++;
	return 0;
}

static int l2_attr_cb(const struct nlattr *a, void *data)
{
	struct l2_parse *p = data;
	int ok = attr_check(p->n, a, top_policy, NESTOR_A_MAX, "top-level");

	if (ok < 0) {
		p->err = ok;
		return MNL_CB_ERROR;
	}
	if (!ok)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case NESTOR_A_L2_ID:
		p->l2->id = mnl_attr_get_u32(a);
		p->has_id = true;
		break;
	case NESTOR_A_VM_ID:
		p->l2->vm_id = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_VM_PID:
		p->l2->vm_pid = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_ISA:
		p->l2->isa = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_L2_VMCS12:
		p->l2->vmcs12 = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_L2_ROOT:
		p->l2->nested_root = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_L2_TDP:
		p->l2->tdp = 1;
		break;
	case NESTOR_A_L2_FIRST_SEEN_NS:
		p->l2->first_seen_ns = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_L2_LAST_SEEN_NS:
		p->l2->last_seen_ns = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_L2_ENTRIES:
		p->l2->entries = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_L2_VCPU:
		p->err = l2_vcpu(p, a);
		if (p->err)
			return MNL_CB_ERROR;
		break;
	case NESTOR_A_IDENT_NAME:
		snprintf(p->l2->ident, sizeof(p->l2->ident), "%s",
			 mnl_attr_get_str(a));
		break;
	case NESTOR_A_IDENT_KEY_ID:
		p->l2->ident_key_id = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_IDENT_FLAGS:
		p->l2->ident_flags = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

/* Parses one L2 message into @l2 (zeroed here); frees on failure. */
static int l2_parse_one(struct nestor *n, const struct nlmsghdr *nlh,
			struct nestor_l2 *l2)
{
	struct l2_parse p = { .n = n, .l2 = l2 };
	int err = 0;

	memset(l2, 0, sizeof(*l2));
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), l2_attr_cb,
			   &p) < 0)
		err = p.err ? p.err : -EPROTO;
	else if (!p.has_id) {
		set_err(n, "malformed reply: L2 without l2-id");
		err = -EPROTO;
	}
	if (err)
		nestor_free_l2(l2);
	return err;
}

struct l2_list {
	struct nestor_l2 *v;
	size_t nr, cap;
};

static int l2_list_parse(const struct nlmsghdr *nlh, struct req *r)
{
	struct l2_list *l = r->priv;
	int err;

	if (GROW(l->v, &l->cap, l->nr + 1))
		return -ENOMEM;
	err = l2_parse_one(r->n, nlh, &l->v[l->nr]);
	if (err)
		return err;
	l->nr++;
	return 0;
}

struct l2_one {
	struct nestor_l2 *out;
	bool got;
};

static int l2_one_parse(const struct nlmsghdr *nlh, struct req *r)
{
	struct l2_one *o = r->priv;
	int err;

	if (o->got)	/* one reply expected; ignore extras */
		return 0;
	err = l2_parse_one(r->n, nlh, o->out);
	if (!err)
		o->got = true;
	return err;
}

static int dump(struct nestor *n, uint8_t cmd,
		int (*parse)(const struct nlmsghdr *, struct req *), void *priv)
{
	struct req r = { .n = n, .type = n->family, .parse = parse,
			 .priv = priv };
	union reqbuf rb;
	struct nlmsghdr *nlh;

	nlh = genl_put(rb.b, n->family, cmd, NESTOR_GENL_VERSION, NLM_F_DUMP);
	return nl_run(n, nlh, &r);
}

static int vm_cmp(const void *a, const void *b)
{
	const struct nestor_vm *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int l2_cmp(const void *a, const void *b)
{
	const struct nestor_l2 *x = a, *y = b;

	if (x->vm_id != y->vm_id)
		return (x->vm_id > y->vm_id) - (x->vm_id < y->vm_id);
	return (x->id > y->id) - (x->id < y->id);
}

int nestor_list(struct nestor *n, struct nestor_vm **vms, size_t *nr_vms,
		struct nestor_l2 **l2s, size_t *nr_l2s)
{
	struct vm_list vl = { 0 };
	struct l2_list ll = { 0 };
	size_t i, j;
	int tries = 0;
	int err;

	err = need_genl(n);
	if (err)
		return err;
again:
	err = dump(n, NESTOR_CMD_GET_VM, vm_parse, &vl);
	if (!err)
		err = dump(n, NESTOR_CMD_GET_L2, l2_list_parse, &ll);
	if (err) {
		nestor_free_list(vl.v, vl.nr, ll.v, ll.nr);
		memset(&vl, 0, sizeof(vl));
		memset(&ll, 0, sizeof(ll));
		/* A dump interrupted by a change is simply taken again. */
		if (err == -EINTR && ++tries < 4)
			goto again;
		return err;
	}
	qsort(vl.v, vl.nr, sizeof(*vl.v), vm_cmp);
	qsort(ll.v, ll.nr, sizeof(*ll.v), l2_cmp);
	/* Fill in the VMM's pid where the L2 message did not carry it. */
	for (i = 0; i < ll.nr; i++) {
		if (ll.v[i].vm_pid)
			continue;
		for (j = 0; j < vl.nr; j++)
			if (vl.v[j].id == ll.v[i].vm_id)
				ll.v[i].vm_pid = vl.v[j].pid;
	}
	*vms = vl.v;
	*nr_vms = vl.nr;
	*l2s = ll.v;
	*nr_l2s = ll.nr;
	return 0;
}

void nestor_free_l2(struct nestor_l2 *l2)
{
	if (!l2)
		return;
	free(l2->vcpus);
	l2->vcpus = NULL;
	l2->nr_vcpus = 0;
}

void nestor_free_list(struct nestor_vm *vms, size_t nr_vms,
		      struct nestor_l2 *l2s, size_t nr_l2s)
{
	size_t i;

	for (i = 0; vms && i < nr_vms; i++)
		free(vms[i].vcpu_ids);
	free(vms);
	for (i = 0; l2s && i < nr_l2s; i++)
		nestor_free_l2(&l2s[i]);
	free(l2s);
}

int nestor_l2_get(struct nestor *n, uint32_t l2_id, struct nestor_l2 *out)
{
	struct l2_one o = { .out = out };
	struct req r = { .n = n, .parse = l2_one_parse, .priv = &o };
	union reqbuf rb;
	struct nlmsghdr *nlh;
	int err;

	err = need_genl(n);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	r.type = n->family;
	nlh = genl_put(rb.b, n->family, NESTOR_CMD_GET_L2,
		       NESTOR_GENL_VERSION, NLM_F_ACK);
	mnl_attr_put_u32(nlh, NESTOR_A_L2_ID, l2_id);
	err = nl_run(n, nlh, &r);
	if (err) {
		if (o.got)
			nestor_free_l2(out);
		return err;
	}
	if (!o.got) {
		set_err(n, "malformed reply: GET_L2 answered without data");
		return -EPROTO;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* stats                                                              */
/* ------------------------------------------------------------------ */

struct stats_parse {
	struct nestor *n;
	struct nestor_stats *s;
	size_t cap;
	bool got;
	int err;
};

struct exit_parse {
	struct nestor *n;
	struct nestor_exit_count *e;
	bool has_reason;
	int err;
};

static int exit_attr_cb(const struct nlattr *a, void *data)
{
	struct exit_parse *p = data;
	int ok = attr_check(p->n, a, exit_policy, NESTOR_A_EXIT_MAX, "exit");

	if (ok < 0) {
		p->err = ok;
		return MNL_CB_ERROR;
	}
	if (!ok)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case NESTOR_A_EXIT_REASON:
		p->e->reason = mnl_attr_get_u32(a);
		p->has_reason = true;
		break;
	case NESTOR_A_EXIT_TOTAL:
		p->e->total = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_EXIT_REFLECTED:
		p->e->reflected = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_EXIT_NESTOR:
		p->e->nestor = mnl_attr_get_u64(a);
		break;
	}
	return MNL_CB_OK;
}

static int stats_exit(struct stats_parse *p, const struct nlattr *nest)
{
	struct nestor_stats *s = p->s;
	struct exit_parse ep = { .n = p->n };

	if (GROW(s->exits, &p->cap, s->nr_exits + 1))
		return -ENOMEM;
	ep.e = &s->exits[s->nr_exits];
	memset(ep.e, 0, sizeof(*ep.e));
	if (mnl_attr_parse_nested(nest, exit_attr_cb, &ep) < 0)
		return ep.err ? ep.err : -EPROTO;
	if (!ep.has_reason) {
		set_err(p->n, "malformed reply: stats-exit without reason");
		return -EPROTO;
	}
	s->nr_exits++;
	return 0;
}

static int stats_attr_cb(const struct nlattr *a, void *data)
{
	struct stats_parse *p = data;
	int ok = attr_check(p->n, a, top_policy, NESTOR_A_MAX, "top-level");

	if (ok < 0) {
		p->err = ok;
		return MNL_CB_ERROR;
	}
	if (!ok)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case NESTOR_A_L2_ID:
		p->s->l2_id = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_ISA:
		p->s->isa = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_STATS_EXIT:
		p->err = stats_exit(p, a);
		if (p->err)
			return MNL_CB_ERROR;
		break;
	}
	return MNL_CB_OK;
}

static int stats_parse(const struct nlmsghdr *nlh, struct req *r)
{
	struct stats_parse *p = r->priv;

	if (p->got)
		return 0;
	p->got = true;
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), stats_attr_cb,
			   p) < 0)
		return p->err ? p->err : -EPROTO;
	return 0;
}

static int exit_cmp(const void *a, const void *b)
{
	const struct nestor_exit_count *x = a, *y = b;

	return (x->reason > y->reason) - (x->reason < y->reason);
}

int nestor_stats(struct nestor *n, uint32_t l2_id, struct nestor_stats *out)
{
	struct stats_parse p = { .n = n, .s = out };
	struct req r = { .n = n, .parse = stats_parse, .priv = &p };
	union reqbuf rb;
	struct nlmsghdr *nlh;
	int err;

	err = need_genl(n);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	r.type = n->family;
	nlh = genl_put(rb.b, n->family, NESTOR_CMD_GET_STATS,
		       NESTOR_GENL_VERSION, NLM_F_ACK);
	mnl_attr_put_u32(nlh, NESTOR_A_L2_ID, l2_id);
	err = nl_run(n, nlh, &r);
	if (!err && !p.got) {
		set_err(n, "malformed reply: GET_STATS answered without data");
		err = -EPROTO;
	}
	if (err) {
		nestor_free_stats(out);
		return err;
	}
	out->l2_id = l2_id;
	qsort(out->exits, out->nr_exits, sizeof(*out->exits), exit_cmp);
	return 0;
}

void nestor_free_stats(struct nestor_stats *s)
{
	if (!s)
		return;
	free(s->exits);
	s->exits = NULL;
	s->nr_exits = 0;
}

/* ------------------------------------------------------------------ */
/* L2 names                                                           */
/* ------------------------------------------------------------------ */

/* Plain decimal u32: no sign, no spaces, no base prefix. */
static int parse_u32_dec(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/*
 * The forms of an L2 name.  A scheme either decodes the id from the name
 * itself (@parse) or will ask the kernel (a future "id:NAME" for names
 * registered by hypercall: add a @lookup and an entry here).  The bare
 * form has the empty prefix and stays last.
 */
struct l2_scheme {
	const char *prefix;
	int (*parse)(const char *val, uint32_t *l2_id);
	int (*lookup)(struct nestor *n, const char *val, uint32_t *l2_id);
};

static int lookup_ident(struct nestor *n, const char *val, uint32_t *l2_id);

static const struct l2_scheme l2_schemes[] = {
	{ .prefix = "l2:", .parse = parse_u32_dec },
	{ .prefix = "id:", .lookup = lookup_ident },
	{ .prefix = "", .parse = parse_u32_dec },
};

static const struct l2_scheme *l2_scheme(const char *name, const char **val)
{
	size_t i, len;

	for (i = 0; i < MNL_ARRAY_SIZE(l2_schemes); i++) {
		len = strlen(l2_schemes[i].prefix);
		if (!strncmp(name, l2_schemes[i].prefix, len)) {
			*val = name + len;
			return &l2_schemes[i];
		}
	}
	return NULL;
}

int nestor_parse_l2_name(const char *name, uint32_t *l2_id)
{
	const struct l2_scheme *s;
	const char *val;

	if (!name)
		return -EINVAL;
	s = l2_scheme(name, &val);
	if (!s)
		return -EINVAL;
	if (s->parse)
		return s->parse(val, l2_id);
	/* Well-formed, but only the kernel knows the id. */
	return *val && strlen(val) <= NESTOR_IDENT_NAME_MAX ? 1 : -EINVAL;
}

int nestor_resolve_l2(struct nestor *n, const char *name, uint32_t *l2_id)
{
	const struct l2_scheme *s;
	struct nestor_l2 l2;
	const char *val;
	uint32_t id;
	int err;

	clear_err(n);
	err = nestor_parse_l2_name(name, &id);
	if (err < 0) {
		set_err(n, "malformed L2 name \"%s\" (expected N, l2:N or id:NAME)",
			name ? name : "");
		return err;
	}
	if (err > 0) {
		s = l2_scheme(name, &val);
		err = s->lookup(n, val, &id);
		if (err)
			return err;
	}
	/* The id must name a live context. */
	err = nestor_l2_get(n, id, &l2);
	if (err == -ENOENT) {
		set_err(n, "no L2 context with id %u", id);
		return err;
	}
	if (err)
		return err;
	nestor_free_l2(&l2);
	*l2_id = id;
	return 0;
}

/* ------------------------------------------------------------------ */
/* L2 identity                                                        */
/* ------------------------------------------------------------------ */

struct ident_list {
	struct nestor_ident *v;
	size_t nr, cap;
};

struct ident_parse {
	struct nestor *n;
	struct nestor_ident *id;
	bool has_name;
	int err;
};

static int ident_attr_cb(const struct nlattr *a, void *data)
{
	struct ident_parse *p = data;
	int ok = attr_check(p->n, a, top_policy, NESTOR_A_MAX, "top-level");

	if (ok < 0) {
		p->err = ok;
		return MNL_CB_ERROR;
	}
	if (!ok)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case NESTOR_A_IDENT_NAME:
		snprintf(p->id->name, sizeof(p->id->name), "%s",
			 mnl_attr_get_str(a));
		p->has_name = true;
		break;
	case NESTOR_A_IDENT_KEY_ID:
		p->id->key_id = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_IDENT_FLAGS:
		p->id->flags = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_IDENT_BOUND_NS:
		p->id->bound_ns = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_IDENT_REGISTRATIONS:
		p->id->registrations = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_L2_ID:
		p->id->l2_id = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_VM_ID:
		p->id->vm_id = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_L2_VMCS12:
		p->id->vmcs12 = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_L2_ROOT:
		p->id->nested_root = mnl_attr_get_u64(a);
		break;
	}
	return MNL_CB_OK;
}

static int ident_parse(const struct nlmsghdr *nlh, struct req *r)
{
	struct ident_list *l = r->priv;
	struct ident_parse p = { .n = r->n };

	if (GROW(l->v, &l->cap, l->nr + 1))
		return -ENOMEM;
	p.id = &l->v[l->nr];
	memset(p.id, 0, sizeof(*p.id));
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), ident_attr_cb,
			   &p) < 0)
		return p.err ? p.err : -EPROTO;
	if (!p.has_name) {
		set_err(r->n, "malformed reply: identity without ident-name");
		return -EPROTO;
	}
	l->nr++;
	return 0;
}

int nestor_idents(struct nestor *n, struct nestor_ident **out, size_t *nr)
{
	struct ident_list l = { 0 };
	int tries = 0;
	int err;

	err = need_genl(n);
	if (err)
		return err;
again:
	err = dump(n, NESTOR_CMD_GET_IDENT, ident_parse, &l);
	if (err) {
		free(l.v);
		memset(&l, 0, sizeof(l));
		if (err == -EINTR && ++tries < 4)
			goto again;
		return err;
	}
	*out = l.v;
	*nr = l.nr;
	return 0;
}

/* "id:NAME": the context that holds NAME now. */
static int lookup_ident(struct nestor *n, const char *val, uint32_t *l2_id)
{
	struct nestor_ident *ids = NULL;
	size_t nr = 0, i;
	int err;

	err = nestor_idents(n, &ids, &nr);
	if (err)
		return err;
	err = -ENOENT;
	for (i = 0; i < nr; i++) {
		if (strcmp(ids[i].name, val))
			continue;
		if (ids[i].flags & NESTOR_IDENT_F_PRESENT) {
			*l2_id = ids[i].l2_id;
			err = 0;
		} else {
			set_err(n, "identity \"%s\" is absent (last on L2 context %u): its L2 must register again",
				val, ids[i].l2_id);
		}
		break;
	}
	if (err && i == nr)
		set_err(n, "no L2 registered the identity \"%s\"", val);
	free(ids);
	return err;
}

static int need_dev(struct nestor *n)
{
	clear_err(n);
	if (n->fd < 0) {
		set_err(n, "opened without NESTOR_OPEN_DEV");
		return -ENOTCONN;
	}
	return 0;
}

static int dev_ioctl(struct nestor *n, unsigned long nr, void *arg,
		     const char *what)
{
	int err;

	if (ioctl(n->fd, nr, arg) == 0)
		return 0;
	err = -errno;
	set_err(n, "%s: %s", what, strerror(-err));
	return err;
}

int nestor_key_add(struct nestor *n, uint32_t kind, uint32_t key_id,
		   uint32_t flags, const void *key, size_t len)
{
	struct nestor_key_add a;
	int err;

	err = need_dev(n);
	if (err)
		return err;
	if (len > sizeof(a.key) || (len && !key)) {
		set_err(n, "a key has at most %d bytes", NESTOR_KEY_MAX_LEN);
		return -EINVAL;
	}
	memset(&a, 0, sizeof(a));
	a.flags = flags;
	a.kind = kind;
	a.key_id = key_id;
	a.key_len = (uint32_t)len;
	if (len)
		memcpy(a.key, key, len);
	err = dev_ioctl(n, NESTOR_IOC_KEY_ADD, &a, "NESTOR_IOC_KEY_ADD");
	explicit_bzero(&a, sizeof(a));
	return err;
}

int nestor_console_attach(struct nestor *n, uint32_t l2_id, uint32_t flags,
			  int *fd)
{
	struct nestor_console_attach a;
	int err;

	err = need_dev(n);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.l2_id = l2_id;
	a.flags = flags;
	err = dev_ioctl(n, NESTOR_IOC_CONSOLE_ATTACH, &a,
			"NESTOR_IOC_CONSOLE_ATTACH");
	if (!err)
		*fd = a.fd;
	return err;
}

int nestor_key_del(struct nestor *n, uint32_t kind, uint32_t key_id)
{
	struct nestor_key_del d;
	int err;

	err = need_dev(n);
	if (err)
		return err;
	memset(&d, 0, sizeof(d));
	d.kind = kind;
	d.key_id = key_id;
	return dev_ioctl(n, NESTOR_IOC_KEY_DEL, &d, "NESTOR_IOC_KEY_DEL");
}

int nestor_ident_del(struct nestor *n, const char *name)
{
	struct nestor_ident_del d;
	int err;

	err = need_dev(n);
	if (err)
		return err;
	memset(&d, 0, sizeof(d));
	if (!name || !*name || strlen(name) > NESTOR_IDENT_NAME_MAX) {
		set_err(n, "an identity name has 1 to %d bytes",
			NESTOR_IDENT_NAME_MAX);
		return -EINVAL;
	}
	memcpy(d.name, name, strlen(name));
	return dev_ioctl(n, NESTOR_IOC_IDENT_DEL, &d, "NESTOR_IOC_IDENT_DEL");
}

const char *nestor_hc_status_name(uint64_t status)
{
	static const char *const names[] = {
		[NESTOR_HC_OK] = "OK",
		[NESTOR_HC_ENOSYS] = "ENOSYS",
		[NESTOR_HC_EINVAL] = "EINVAL",
		[NESTOR_HC_EFAULT] = "EFAULT",
		[NESTOR_HC_ENOTL2] = "ENOTL2",
		[NESTOR_HC_EPERM] = "EPERM",
		[NESTOR_HC_ENONCE] = "ENONCE",
		[NESTOR_HC_ENOKEY] = "ENOKEY",
		[NESTOR_HC_EBADMAC] = "EBADMAC",
		[NESTOR_HC_EUNAUTH] = "EUNAUTH",
		[NESTOR_HC_EBOUND] = "EBOUND",
		[NESTOR_HC_EBUSY] = "EBUSY",
		[NESTOR_HC_ENOENT] = "ENOENT",
		[NESTOR_HC_ENOSPC] = "ENOSPC",
	};

	return status < MNL_ARRAY_SIZE(names) ? names[status] : NULL;
}

/* ------------------------------------------------------------------ */
/* events                                                             */
/* ------------------------------------------------------------------ */

int nestor_events_subscribe(struct nestor *n)
{
	unsigned int grp;
	int err;

	err = need_genl(n);
	if (err)
		return err;
	if (n->ev)
		return 0;
	if (!n->events_grp) {
		set_err(n, "the module has no \"%s\" multicast group",
			NESTOR_GENL_MCGRP_EVENTS);
		return -EOPNOTSUPP;
	}
	/* Its own socket, so that events never mix with replies. */
	n->ev = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!n->ev)
		return -errno;
	grp = n->events_grp;
	if (mnl_socket_bind(n->ev, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(n->ev, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0) {
		err = -errno;
		set_err(n, "joining the \"%s\" group: %s",
			NESTOR_GENL_MCGRP_EVENTS, strerror(-err));
		mnl_socket_close(n->ev);
		n->ev = NULL;
		return err;
	}
	return 0;
}

struct ev_parse {
	struct nestor *n;
	struct nestor_event *ev;
	int err;
};

static int ev_attr_cb(const struct nlattr *a, void *data)
{
	struct ev_parse *p = data;
	int ok = attr_check(p->n, a, top_policy, NESTOR_A_MAX, "top-level");

	if (ok < 0) {
		p->err = ok;
		return MNL_CB_ERROR;
	}
	if (!ok)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case NESTOR_A_VM_ID:
		p->ev->vm_id = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_L2_ID:
		p->ev->l2_id = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_L2_VMCS12:
		p->ev->vmcs12 = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_L2_ROOT:
		p->ev->nested_root = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_L2_OLD_ROOT:
		p->ev->old_root = mnl_attr_get_u64(a);
		break;
	case NESTOR_A_IDENT_NAME:
		snprintf(p->ev->ident, sizeof(p->ev->ident), "%s",
			 mnl_attr_get_str(a));
		break;
	case NESTOR_A_IDENT_FLAGS:
		p->ev->ident_flags = mnl_attr_get_u32(a);
		break;
	case NESTOR_A_IDENT_HOLDER_L2_ID:
		p->ev->holder_l2_id = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

/* Parses one event message of the family and queues it. */
static int ev_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ev_parse *p = data;
	struct nestor *n = p->n;
	const struct genlmsghdr *g;
	struct nestor_event ev;

	if (nlh->nlmsg_type != n->family)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g)) {
		set_err(n, "malformed event: no generic netlink header");
		p->err = -EPROTO;
		return MNL_CB_ERROR;
	}
	g = mnl_nlmsg_get_payload(nlh);
	memset(&ev, 0, sizeof(ev));
	ev.cmd = g->cmd;
	p->ev = &ev;
	if (mnl_attr_parse(nlh, sizeof(*g), ev_attr_cb, p) < 0) {
		if (!p->err)
			p->err = -EPROTO;
		return MNL_CB_ERROR;
	}
	if (GROW(n->evq, &n->evq_cap, n->evq_len + 1)) {
		p->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	n->evq[n->evq_len++] = ev;
	return MNL_CB_OK;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nestor_event_next(struct nestor *n, struct nestor_event *ev,
		      int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	struct ev_parse p = { .n = n };
	struct pollfd pfd;
	ssize_t len;
	int wait, ret;

	clear_err(n);
	if (!n->ev) {
		set_err(n, "not subscribed to events");
		return -ENOTCONN;
	}
	pfd.fd = mnl_socket_get_fd(n->ev);
	pfd.events = POLLIN;
	for (;;) {
		if (n->evq_head < n->evq_len) {
			*ev = n->evq[n->evq_head++];
			if (n->evq_head == n->evq_len)
				n->evq_head = n->evq_len = 0;
			return 0;
		}
		wait = -1;
		if (timeout_ms >= 0) {
			int64_t left = deadline - now_ms();

			wait = left > 0 ? (int)left : 0;
		}
		ret = poll(&pfd, 1, wait);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (ret == 0)
			return -ETIMEDOUT;
		len = recv(pfd.fd, n->buf, sizeof(n->buf), MSG_DONTWAIT);
		if (len < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			ret = -errno;
			if (ret == -ENOBUFS)
				set_err(n, "events were lost: the socket's "
					"receive buffer overran");
			return ret;
		}
		p.err = 0;
		ret = mnl_cb_run(n->buf, len, 0, 0, ev_data_cb, &p);
		if (ret < 0)
			return p.err ? p.err : -errno;
	}
}

/* ------------------------------------------------------------------ */
/* names and messages                                                 */
/* ------------------------------------------------------------------ */

const char *nestor_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case ENODEV:
		return "nestor module not loaded (no " NESTOR_DEVICE_PATH
		       " or no \"" NESTOR_GENL_NAME "\" netlink family)";
	case EPERM:
	case EACCES:
		return "permission denied: nestor needs CAP_SYS_ADMIN for "
		       NESTOR_DEVICE_PATH " and CAP_NET_ADMIN for netlink "
		       "(run as root)";
	case ENOENT:
		return "no such L2 context";
	case EINVAL:
		return "invalid argument";
	case EPROTO:
		return "unexpected reply from the nestor module "
		       "(library and module out of step?)";
	case ENOTCONN:
		return "handle opened without the channel this call needs";
	case ETIMEDOUT:
		return "timed out";
	case ENOBUFS:
		return "events were lost (receive buffer overrun)";
	case EOPNOTSUPP:
		return "not supported by this nestor module";
	default:
		return strerror(err);
	}
}

const char *nestor_backend_name(uint32_t backend)
{
	switch (backend) {
	case NESTOR_BACKEND_NONE:
		return "none";
	case NESTOR_BACKEND_VMX:
		return "vmx";
	case NESTOR_BACKEND_SVM:
		return "svm";
	default:
		return "unknown";
	}
}

const char *nestor_event_name(uint8_t cmd)
{
	switch (cmd) {
	case NESTOR_CMD_L2_NEW:
		return "L2_NEW";
	case NESTOR_CMD_L2_GONE:
		return "L2_GONE";
	case NESTOR_CMD_L2_ROOT_CHANGE:
		return "L2_ROOT_CHANGE";
	case NESTOR_CMD_IDENT_BOUND:
		return "IDENT_BOUND";
	case NESTOR_CMD_IDENT_ABSENT:
		return "IDENT_ABSENT";
	case NESTOR_CMD_IDENT_CONFLICT:
		return "IDENT_CONFLICT";
	case NESTOR_CMD_IDENT_GONE:
		return "IDENT_GONE";
	case NESTOR_CMD_VM_GONE:
		return "VM_GONE";
	case NESTOR_CMD_TABLES_CHANGED:
		return "TABLES_CHANGED";
	default:
		return NULL;
	}
}

/* VMX basic exit reasons: Intel SDM vol. 3, appendix C. */
static const char *const vmx_exit_names[] = {
	[0]  = "EXCEPTION_NMI",
	[1]  = "EXTERNAL_INTERRUPT",
	[2]  = "TRIPLE_FAULT",
	[3]  = "INIT_SIGNAL",
	[4]  = "SIPI",
	[5]  = "IO_SMI",
	[6]  = "OTHER_SMI",
	[7]  = "INTERRUPT_WINDOW",
	[8]  = "NMI_WINDOW",
	[9]  = "TASK_SWITCH",
	[10] = "CPUID",
	[11] = "GETSEC",
	[12] = "HLT",
	[13] = "INVD",
	[14] = "INVLPG",
	[15] = "RDPMC",
	[16] = "RDTSC",
	[17] = "RSM",
	[18] = "VMCALL",
	[19] = "VMCLEAR",
	[20] = "VMLAUNCH",
	[21] = "VMPTRLD",
	[22] = "VMPTRST",
	[23] = "VMREAD",
	[24] = "VMRESUME",
	[25] = "VMWRITE",
	[26] = "VMXOFF",
	[27] = "VMXON",
	[28] = "CR_ACCESS",
	[29] = "DR_ACCESS",
	[30] = "IO_INSTRUCTION",
	[31] = "MSR_READ",
	[32] = "MSR_WRITE",
	[33] = "INVALID_GUEST_STATE",
	[34] = "MSR_LOADING",
	[36] = "MWAIT",
	[37] = "MONITOR_TRAP_FLAG",
	[39] = "MONITOR",
	[40] = "PAUSE",
	[41] = "MCE_DURING_VMENTRY",
	[43] = "TPR_BELOW_THRESHOLD",
	[44] = "APIC_ACCESS",
	[45] = "EOI_INDUCED",
	[46] = "GDTR_IDTR",
	[47] = "LDTR_TR",
	[48] = "EPT_VIOLATION",
	[49] = "EPT_MISCONFIG",
	[50] = "INVEPT",
	[51] = "RDTSCP",
	[52] = "PREEMPTION_TIMER",
	[53] = "INVVPID",
	[54] = "WBINVD",
	[55] = "XSETBV",
	[56] = "APIC_WRITE",
	[57] = "RDRAND",
	[58] = "INVPCID",
	[59] = "VMFUNC",
	[60] = "ENCLS",
	[61] = "RDSEED",
	[62] = "PML_FULL",
	[63] = "XSAVES",
	[64] = "XRSTORS",
	[65] = "PCONFIG",
	[66] = "SPP",
	[67] = "UMWAIT",
	[68] = "TPAUSE",
	[69] = "LOADIWKEY",
	[70] = "ENCLV",
	[72] = "ENQCMD_PASID",
	[73] = "ENQCMDS_PASID",
	[74] = "BUS_LOCK",
	[75] = "INSTRUCTION_TIMEOUT",
	[76] = "SEAMCALL",
	[77] = "TDCALL",
};

/* SVM exit codes: AMD APM vol. 2, appendix C. */
#define SVM_CR_DR(i)						\
	[0x00 + (i)] = "CR" #i "_READ",				\
	[0x10 + (i)] = "CR" #i "_WRITE",			\
	[0x20 + (i)] = "DR" #i "_READ",				\
	[0x30 + (i)] = "DR" #i "_WRITE",			\
	[0x90 + (i)] = "CR" #i "_WRITE_TRAP"
#define SVM_EXCP(vec, name)	[0x40 + (vec)] = "EXCP_" name

static const char *const svm_exit_names[] = {
	SVM_CR_DR(0), SVM_CR_DR(1), SVM_CR_DR(2), SVM_CR_DR(3),
	SVM_CR_DR(4), SVM_CR_DR(5), SVM_CR_DR(6), SVM_CR_DR(7),
	SVM_CR_DR(8), SVM_CR_DR(9), SVM_CR_DR(10), SVM_CR_DR(11),
	SVM_CR_DR(12), SVM_CR_DR(13), SVM_CR_DR(14), SVM_CR_DR(15),
	SVM_EXCP(0, "DE"), SVM_EXCP(1, "DB"), SVM_EXCP(2, "NMI"),
	SVM_EXCP(3, "BP"), SVM_EXCP(4, "OF"), SVM_EXCP(5, "BR"),
	SVM_EXCP(6, "UD"), SVM_EXCP(7, "NM"), SVM_EXCP(8, "DF"),
	SVM_EXCP(9, "9"), SVM_EXCP(10, "TS"), SVM_EXCP(11, "NP"),
	SVM_EXCP(12, "SS"), SVM_EXCP(13, "GP"), SVM_EXCP(14, "PF"),
	SVM_EXCP(15, "15"), SVM_EXCP(16, "MF"), SVM_EXCP(17, "AC"),
	SVM_EXCP(18, "MC"), SVM_EXCP(19, "XF"), SVM_EXCP(20, "20"),
	SVM_EXCP(21, "CP"), SVM_EXCP(22, "22"), SVM_EXCP(23, "23"),
	SVM_EXCP(24, "24"), SVM_EXCP(25, "25"), SVM_EXCP(26, "26"),
	SVM_EXCP(27, "27"), SVM_EXCP(28, "HV"), SVM_EXCP(29, "VC"),
	SVM_EXCP(30, "SX"), SVM_EXCP(31, "31"),
	[0x60] = "INTR",
	[0x61] = "NMI",
	[0x62] = "SMI",
	[0x63] = "INIT",
	[0x64] = "VINTR",
	[0x65] = "CR0_SEL_WRITE",
	[0x66] = "IDTR_READ",
	[0x67] = "GDTR_READ",
	[0x68] = "LDTR_READ",
	[0x69] = "TR_READ",
	[0x6a] = "IDTR_WRITE",
	[0x6b] = "GDTR_WRITE",
	[0x6c] = "LDTR_WRITE",
	[0x6d] = "TR_WRITE",
	[0x6e] = "RDTSC",
	[0x6f] = "RDPMC",
	[0x70] = "PUSHF",
	[0x71] = "POPF",
	[0x72] = "CPUID",
	[0x73] = "RSM",
	[0x74] = "IRET",
	[0x75] = "SWINT",
	[0x76] = "INVD",
	[0x77] = "PAUSE",
	[0x78] = "HLT",
	[0x79] = "INVLPG",
	[0x7a] = "INVLPGA",
	[0x7b] = "IOIO",
	[0x7c] = "MSR",
	[0x7d] = "TASK_SWITCH",
	[0x7e] = "FERR_FREEZE",
	[0x7f] = "SHUTDOWN",
	[0x80] = "VMRUN",
	[0x81] = "VMMCALL",
	[0x82] = "VMLOAD",
	[0x83] = "VMSAVE",
	[0x84] = "STGI",
	[0x85] = "CLGI",
	[0x86] = "SKINIT",
	[0x87] = "RDTSCP",
	[0x88] = "ICEBP",
	[0x89] = "WBINVD",
	[0x8a] = "MONITOR",
	[0x8b] = "MWAIT",
	[0x8c] = "MWAIT_CONDITIONAL",
	[0x8d] = "XSETBV",
	[0x8e] = "RDPRU",
	[0x8f] = "EFER_WRITE_TRAP",
	[0xa0] = "INVLPGB",
	[0xa1] = "INVLPGB_ILLEGAL",
	[0xa2] = "INVPCID",
	[0xa3] = "MCOMMIT",
	[0xa4] = "TLBSYNC",
	[0xa5] = "BUSLOCK",
};

static const char *svm_exit_name_high(uint32_t code)
{
	switch (code) {
	case 0x400:
		return "NPF";
	case 0x401:
		return "AVIC_INCOMPLETE_IPI";
	case 0x402:
		return "AVIC_NOACCEL";
	case 0x403:
		return "VMGEXIT";
	case 0xffffffffU:	/* -1 in the 64-bit EXITCODE */
		return "INVALID";
	case 0xfffffffeU:
		return "BUSY";
	default:
		return NULL;
	}
}

const char *nestor_exit_name(uint32_t backend, uint32_t reason)
{
	const char *name = NULL;

	switch (backend) {
	case NESTOR_BACKEND_VMX:
		/* Bits 31:16 are flags (entry failure, enclave mode...). */
		reason &= 0xffff;
		if (reason < MNL_ARRAY_SIZE(vmx_exit_names))
			name = vmx_exit_names[reason];
		break;
	case NESTOR_BACKEND_SVM:
		if (reason < MNL_ARRAY_SIZE(svm_exit_names))
			name = svm_exit_names[reason];
		else
			name = svm_exit_name_high(reason);
		break;
	}
	return name ? name : "UNKNOWN";
}

/* ------------------------------------------------------------------ */
/* introspection                                                       */
/* ------------------------------------------------------------------ */

static int mem_ioctl(struct nestor *n, unsigned long nr, const char *name,
		     void *arg)
{
	int err;

	clear_err(n);
	if (n->fd < 0) {
		set_err(n, "opened without NESTOR_OPEN_DEV");
		return -ENOTCONN;
	}
	if (ioctl(n->fd, nr, arg) < 0) {
		err = -errno;
		switch (err) {
		case -ENOENT:
			set_err(n, "%s: no such L2 context", name);
			break;
		case -ESRCH:
			set_err(n, "%s: that vCPU has not run this L2 (or the VM is going away)",
				name);
			break;
		case -E2BIG:
			set_err(n, "%s: request over the limits (segments, bytes, nodes or fields)",
				name);
			break;
		default:
			set_err(n, "%s: %s", name, strerror(-err));
		}
		return err;
	}
	return 0;
}

int nestor_translate(struct nestor *n, struct nestor_translate *x)
{
	return mem_ioctl(n, NESTOR_IOC_TRANSLATE, "NESTOR_IOC_TRANSLATE", x);
}

int nestor_read(struct nestor *n, struct nestor_mem_read *r)
{
	return mem_ioctl(n, NESTOR_IOC_READ, "NESTOR_IOC_READ", r);
}

int nestor_list_walk(struct nestor *n, struct nestor_list_walk *w)
{
	return mem_ioctl(n, NESTOR_IOC_LIST_WALK, "NESTOR_IOC_LIST_WALK", w);
}

const char *nestor_mem_status_name(uint32_t status)
{
	static const char *const names[] = {
		[NESTOR_MEM_OK] = "OK",
		[NESTOR_MEM_L2_FAULT] = "L2_FAULT",
		[NESTOR_MEM_NESTED_FAULT] = "NESTED_FAULT",
		[NESTOR_MEM_L1_UNBACKED] = "L1_UNBACKED",
		[NESTOR_MEM_NONCANONICAL] = "NONCANONICAL",
		[NESTOR_MEM_UNSUPPORTED] = "UNSUPPORTED",
		[NESTOR_MEM_BAD_BUFFER] = "BAD_BUFFER",
		[NESTOR_MEM_RANGE] = "RANGE",
	};

	if (status < sizeof(names) / sizeof(names[0]) && names[status])
		return names[status];
	return "UNKNOWN";
}

const char *nestor_walk_end_name(uint32_t end)
{
	static const char *const names[] = {
		[NESTOR_WALK_END_HEAD] = "HEAD",
		[NESTOR_WALK_END_NULL] = "NULL",
		[NESTOR_WALK_END_LIMIT] = "LIMIT",
		[NESTOR_WALK_END_CYCLE] = "CYCLE",
		[NESTOR_WALK_END_UNREADABLE] = "UNREADABLE",
		[NESTOR_WALK_END_FULL] = "FULL",
	};

	if (end < sizeof(names) / sizeof(names[0]) && names[end])
		return names[end];
	return "UNKNOWN";
}

uint32_t nestor_space_parse(const char *s)
{
	if (!strcmp(s, "l2-virt") || !strcmp(s, "v"))
		return NESTOR_SPACE_L2_VIRT;
	if (!strcmp(s, "l2-phys") || !strcmp(s, "p"))
		return NESTOR_SPACE_L2_PHYS;
	if (!strcmp(s, "l1-phys") || !strcmp(s, "l1"))
		return NESTOR_SPACE_L1_PHYS;
	return NESTOR_SPACE_NONE;
}

const char *nestor_space_name(uint32_t space)
{
	switch (space) {
	case NESTOR_SPACE_L2_VIRT:
		return "l2-virt";
	case NESTOR_SPACE_L2_PHYS:
		return "l2-phys";
	case NESTOR_SPACE_L1_PHYS:
		return "l1-phys";
	default:
		return "unknown";
	}
}
