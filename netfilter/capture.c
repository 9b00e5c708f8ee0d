// SPDX-License-Identifier: GPL-2.0
/*
 * Packet capture around L1: the packets L0 hands to an L1 VM (to-l1), the
 * packets L1 emits (from-l1) and, optionally, what an L0 uplink receives.
 * Netdev ingress/egress netfilter hooks on L0's side of L1's interfaces
 * (tap, macvtap, veth) feed per-session batches that are multicast on the
 * admin-only "packets" group of the "nestor_cap" generic netlink family.
 *
 * Locking: rtnl, then cap_mutex (sessions, bindings, hook registration),
 * then a session's lock (its batch, counters, L2 map, bindings list as the
 * data path walks it).  cap_list_lock guards the id lookup list, which the
 * netlink release notifier (atomic context) also edits.
 * Documentation/capture.rst has the design.
 */
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/filter.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_macvlan.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/etherdevice.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/workqueue.h>
#include <asm/unaligned.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "nestor.h"
#include "netfilter/capture.h"

#define CAP_MAX_SESSIONS	64

enum cap_kind { CAP_KIND_VETH, CAP_KIND_TAP, CAP_KIND_MACVTAP, CAP_KIND_UPLINK };

struct cap_session;

struct cap_hook {
	struct nf_hook_ops ops;
	struct cap_binding *b;
	struct net_device *dev;		/* held while registered */
	netdevice_tracker tracker;
	u8 point;
	u8 dir;
	bool match_mac;		/* macvtap on its lower device: b->mac only */
	u32 in_batch;		/* packets in the session's open message */
	atomic64_t captured;
	atomic64_t filtered;
	atomic64_t dropped;
};

struct cap_binding {
	struct list_head node;		/* session->bindings */
	struct cap_session *s;
	const struct net_device *key;	/* compared only, never used */
	u32 id;				/* from 1 in the session */
	int ifindex;
	char name[IFNAMSIZ];
	u8 mac[ETH_ALEN];
	u32 vm_id;			/* READ_ONCE: resolved late from pid */
	u32 pid;
	bool gone;
	struct cap_hook hooks[__NESTOR_CAP_POINT_MAX];
};

struct cap_l2map {
	u32 l2_id;
	u8 len;				/* 6: MAC, 4: IPv4, 16: IPv6 */
	u8 addr[16];
};

struct cap_session {
	struct list_head node;		/* cap_sessions or cap_doomed */
	struct list_head all_node;	/* cap_all, under cap_mutex */
	u32 id;
	u32 portid;			/* owner socket */
	struct net *net;		/* owner's netns (not a reference) */
	u32 points, snaplen, batch, flush_ms, bufsize;
	struct bpf_prog *filter;
	bool dead;

	spinlock_t lock;		/* what follows, and the data path */
	struct sk_buff *skb;		/* the message being filled */
	void *hdr;
	u32 qlen;
	u64 next_seq, msg_seq;
	u64 dropped, alloc_fail, overflow, messages;
	struct timer_list timer;
	struct list_head bindings;
	u32 nr_bindings;
	u32 next_binding;
	struct cap_l2map map[NESTOR_CAP_MAX_L2_MAP];
	u32 nr_map;
};

static DEFINE_MUTEX(cap_mutex);
static LIST_HEAD(cap_all);		/* every live session, cap_mutex */
static bool cap_closing;		/* module exit: no new sessions */
static u32 cap_next_id = 1;		/* cap_mutex; ids are never reused */
static u32 cap_nr_sessions;

static DEFINE_SPINLOCK(cap_list_lock);
static LIST_HEAD(cap_sessions);		/* lookup by id */
static LIST_HEAD(cap_doomed);		/* owner gone, to be reaped */

static struct genl_family cap_family;

enum { CAP_GRP_PACKETS };

/* ---------------------------------------------------------------- */
/* batching                                                           */
/* ---------------------------------------------------------------- */

/* Room one packet needs inside a message. */
static size_t cap_pkt_size(unsigned int snap)
{
	return nla_total_size(0) +			/* the nest */
	       2 * nla_total_size_64bit(sizeof(u64)) +	/* seq, tstamp */
	       7 * nla_total_size(sizeof(u32)) +	/* see cap_put_meta */
	       nla_total_size(snap);
}

/*
 * Attribute lengths are 16 bits: a packet's nest must stay below 64 KiB,
 * so longer frames are cut here (ORIG_LEN keeps their length).
 */
#define CAP_SNAP_LIMIT	(U16_MAX - 128)
/* Larger snaps reference the frame's pages instead of copying them. */
#define CAP_ZC_MIN	2048

/* Kept free at a message's end for the attributes added at flush. */
#define CAP_TAIL	nla_total_size_64bit(sizeof(u64))
#define CAP_HEAD	(NLMSG_HDRLEN + GENL_HDRLEN + nla_total_size(4) + \
			 nla_total_size_64bit(sizeof(u64)))

static void cap_lost(struct cap_session *s)
{
	struct cap_binding *b;
	int p;

	s->dropped += s->qlen;
	list_for_each_entry(b, &s->bindings, node)
		for (p = 0; p < __NESTOR_CAP_POINT_MAX; p++)
			if (b->hooks[p].in_batch)
				atomic64_add(b->hooks[p].in_batch,
					     &b->hooks[p].dropped);
}

/* Sends the open message (lock held).  @send false: discard it. */
static void cap_flush(struct cap_session *s, bool send)
{
	struct cap_binding *b;
	struct sk_buff *skb = s->skb;
	int err, p;

	if (!skb)
		return;
	s->skb = NULL;
	if (!send) {
		kfree_skb(skb);
		goto reset;
	}
	/* Room was kept for it (CAP_TAIL). */
	nla_put_u64_64bit(skb, NESTOR_CAP_A_DROPPED, s->dropped,
			  NESTOR_CAP_A_PAD);
	genlmsg_end(skb, s->hdr);
	err = genlmsg_multicast_netns(&cap_family, s->net, skb, 0,
				      CAP_GRP_PACKETS, GFP_ATOMIC);
	s->messages++;
	/* No listener (-ESRCH) or a full receive queue (-ENOBUFS). */
	if (err) {
		s->overflow++;
		cap_lost(s);
	}
reset:
	s->qlen = 0;
	list_for_each_entry(b, &s->bindings, node)
		for (p = 0; p < __NESTOR_CAP_POINT_MAX; p++)
			b->hooks[p].in_batch = 0;
}

static bool cap_open_msg(struct cap_session *s, size_t need)
{
	size_t want = max_t(size_t, s->bufsize, need + CAP_HEAD + CAP_TAIL);
	struct sk_buff *skb;

	skb = alloc_skb(want, GFP_ATOMIC | __GFP_NOWARN);
	/* Large messages need high-order pages: fall back to one packet. */
	if (!skb && want > need + CAP_HEAD + CAP_TAIL)
		skb = alloc_skb(need + CAP_HEAD + CAP_TAIL,
				GFP_ATOMIC | __GFP_NOWARN);
	if (!skb)
		return false;
	s->hdr = genlmsg_put(skb, 0, 0, &cap_family, 0,
			     NESTOR_CAP_CMD_PACKETS);
	if (!s->hdr || nla_put_u32(skb, NESTOR_CAP_A_SESSION_ID, s->id) ||
	    nla_put_u64_64bit(skb, NESTOR_CAP_A_MSG_SEQ, s->msg_seq,
			      NESTOR_CAP_A_PAD)) {
		kfree_skb(skb);
		return false;
	}
	s->msg_seq++;
	s->skb = skb;
	return true;
}

static void cap_timer_fn(struct timer_list *t)
{
	struct cap_session *s = from_timer(s, t, timer);

	spin_lock_bh(&s->lock);
	/* A dead session's owner is gone: nobody to send to. */
	if (!READ_ONCE(s->dead))
		cap_flush(s, true);
	spin_unlock_bh(&s->lock);
}

/* L2 identity of a frame: its MACs, then its IP addresses (lock held). */
static u32 cap_l2_lookup(struct cap_session *s, const struct sk_buff *skb,
			 int mac_off)
{
	u8 buf[40];
	const u8 *eth, *ip;
	const u8 *addrs[2];
	int alen = 0, i, k;
	u16 proto;

	if (!s->nr_map)
		return 0;
	eth = skb_header_pointer(skb, mac_off, ETH_HLEN, buf);
	if (!eth)
		return 0;
	for (i = 0; i < s->nr_map; i++)
		if (s->map[i].len == ETH_ALEN &&
		    (ether_addr_equal(eth, s->map[i].addr) ||
		     ether_addr_equal(eth + ETH_ALEN, s->map[i].addr)))
			return s->map[i].l2_id;
	proto = get_unaligned_be16(eth + 2 * ETH_ALEN);
	if (proto == ETH_P_IP) {
		ip = skb_header_pointer(skb, mac_off + ETH_HLEN,
					sizeof(struct iphdr), buf);
		if (!ip)
			return 0;
		addrs[0] = ip + offsetof(struct iphdr, saddr);
		addrs[1] = ip + offsetof(struct iphdr, daddr);
		alen = 4;
	} else if (proto == ETH_P_IPV6) {
		ip = skb_header_pointer(skb, mac_off + ETH_HLEN,
					sizeof(struct ipv6hdr), buf);
		if (!ip)
			return 0;
		addrs[0] = ip + offsetof(struct ipv6hdr, saddr);
		addrs[1] = ip + offsetof(struct ipv6hdr, daddr);
		alen = 16;
	}
	if (!alen)
		return 0;
	for (i = 0; i < s->nr_map; i++)
		for (k = 0; k < 2; k++)
			if (s->map[i].len == alen &&
			    !memcmp(addrs[k], s->map[i].addr, alen))
				return s->map[i].l2_id;
	return 0;
}

/* The attributes of a packet before its data (lock held). */
static struct nlattr *cap_put_meta(struct sk_buff *m, struct cap_hook *h,
				   u64 seq, u64 ts, unsigned int len,
				   u32 l2_id)
{
	struct nlattr *nest = nla_nest_start(m, NESTOR_CAP_A_PACKET);

	/* Room was checked by the callers: these cannot fail. */
	nla_put_u64_64bit(m, NESTOR_CAP_PKT_SEQ, seq, NESTOR_CAP_PKT_PAD);
	nla_put_u32(m, NESTOR_CAP_PKT_POINT, h->point);
	nla_put_u32(m, NESTOR_CAP_PKT_DIR, h->dir);
	nla_put_u32(m, NESTOR_CAP_PKT_IFINDEX, h->b->ifindex);
	nla_put_u32(m, NESTOR_CAP_PKT_BINDING, h->b->id);
	nla_put_u64_64bit(m, NESTOR_CAP_PKT_TSTAMP_NS, ts,
			  NESTOR_CAP_PKT_PAD);
	nla_put_u32(m, NESTOR_CAP_PKT_ORIG_LEN, len);
	nla_put_u32(m, NESTOR_CAP_PKT_VM_ID, READ_ONCE(h->b->vm_id));
	if (l2_id)
		nla_put_u32(m, NESTOR_CAP_PKT_L2_ID, l2_id);
	return nest;
}

/*
 * A large packet in a message of its own (lock held, the open message
 * flushed): the linear part, where L1 may rewrite headers in place, is
 * copied; the page fragments are referenced (skb_zerocopy, as
 * nfnetlink_queue does), and stay as they are while the reader has them.
 * Returns 0, or -ENOMEM / the multicast's error.
 */
static int cap_send_zc(struct cap_session *s, struct cap_hook *h,
		       struct sk_buff *skb, int mac_off, unsigned int snap,
		       unsigned int len, u64 ts, u64 seq, u32 l2_id)
{
	unsigned int hlen = skb_headlen(skb) - mac_off;
	struct nlattr *nest, *data;
	struct nlmsghdr *nlh;
	struct sk_buff *m;
	void *hdr;
	int err;

	m = alloc_skb(CAP_HEAD + CAP_TAIL + cap_pkt_size(hlen),
		      GFP_ATOMIC | __GFP_NOWARN);
	if (!m)
		return -ENOMEM;
	hdr = genlmsg_put(m, 0, 0, &cap_family, 0, NESTOR_CAP_CMD_PACKETS);
	if (!hdr || nla_put_u32(m, NESTOR_CAP_A_SESSION_ID, s->id) ||
	    nla_put_u64_64bit(m, NESTOR_CAP_A_MSG_SEQ, s->msg_seq,
			      NESTOR_CAP_A_PAD) ||
	    nla_put_u64_64bit(m, NESTOR_CAP_A_DROPPED, s->dropped,
			      NESTOR_CAP_A_PAD)) {
		kfree_skb(m);
		return -ENOMEM;
	}
	s->msg_seq++;
	nest = cap_put_meta(m, h, seq, ts, len, l2_id);
	data = skb_put(m, NLA_HDRLEN);
	data->nla_type = NESTOR_CAP_PKT_DATA;
	data->nla_len = nla_attr_size(snap);
	__skb_push(skb, -mac_off);
	err = skb_zerocopy(m, skb, snap, hlen);
	__skb_pull(skb, -mac_off);
	if (err) {
		kfree_skb(m);
		return -ENOMEM;
	}
	/* The referenced pages count against the reader's buffer. */
	m->truesize += snap > hlen ? snap - hlen : 0;
	/* nla_nest_end() and genlmsg_end() measure the linear part only. */
	nest->nla_len = m->len - ((unsigned char *)nest - m->data);
	nlh = nlmsg_hdr(m);
	nlh->nlmsg_len = m->len;
	s->messages++;
	return genlmsg_multicast_netns(&cap_family, s->net, m, 0,
				       CAP_GRP_PACKETS, GFP_ATOMIC);
}

/* Appends one packet to the open message (lock held). */
static void cap_append(struct cap_session *s, struct cap_hook *h,
		       struct sk_buff *skb, int mac_off, unsigned int snap,
		       unsigned int len, u64 ts)
{
	size_t need = cap_pkt_size(snap);
	struct nlattr *nest, *data;
	u64 seq = s->next_seq++;
	struct sk_buff *m;
	u32 l2_id;
	int err;

	atomic64_inc(&h->captured);
	l2_id = cap_l2_lookup(s, skb, mac_off);
	if (snap >= CAP_ZC_MIN && !skb_has_frag_list(skb) &&
	    skb_headlen(skb) - mac_off < snap) {
		/* Messages keep the packets' order. */
		cap_flush(s, true);
		err = cap_send_zc(s, h, skb, mac_off, snap, len, ts, seq,
				  l2_id);
		if (err) {
			/* The sequence number is spent: the reader sees it. */
			if (err == -ENOMEM)
				s->alloc_fail++;
			else
				s->overflow++;
			s->dropped++;
			atomic64_inc(&h->dropped);
		}
		return;
	}
	if (s->skb && skb_tailroom(s->skb) < need + CAP_TAIL)
		cap_flush(s, true);
	if (!s->skb && !cap_open_msg(s, need)) {
		/* The sequence number is spent: the reader sees the gap. */
		s->alloc_fail++;
		s->dropped++;
		atomic64_inc(&h->dropped);
		return;
	}
	m = s->skb;
	nest = cap_put_meta(m, h, seq, ts, len, l2_id);
	data = __nla_reserve(m, NESTOR_CAP_PKT_DATA, snap);
	if (skb_copy_bits(skb, mac_off, nla_data(data), snap))
		memset(nla_data(data), 0, snap);
	nla_nest_end(m, nest);

	h->in_batch++;
	if (++s->qlen >= s->batch)
		cap_flush(s, true);
	else if (s->qlen == 1)
		mod_timer(&s->timer,
			  jiffies + msecs_to_jiffies(s->flush_ms));
}

static unsigned int cap_hook_fn(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	struct cap_hook *h = priv;
	struct cap_session *s = h->b->s;
	unsigned int len, snap;
	int mac_off = 0;
	u64 ts;

	if (READ_ONCE(s->dead))
		return NF_ACCEPT;
	/* Ingress: data is at the network header; egress: at the MAC one. */
	if (skb_mac_header_was_set(skb))
		mac_off = skb_mac_offset(skb);
	if (mac_off > 0 || skb->len + (unsigned int)-mac_off < ETH_HLEN)
		return NF_ACCEPT;
	len = skb->len - mac_off;
	if (h->match_mac) {
		const u8 *dst = skb_mac_header(skb);

		if (!is_multicast_ether_addr(dst) &&
		    !ether_addr_equal(dst, h->b->mac))
			return NF_ACCEPT;
	}
	snap = min3(len, s->snaplen, (unsigned int)CAP_SNAP_LIMIT);
	if (s->filter) {
		unsigned int res;

		/* The filter sees the frame from its MAC header, as tcpdump's. */
		__skb_push(skb, -mac_off);
		res = bpf_prog_run(s->filter, skb);
		__skb_pull(skb, -mac_off);
		if (!res) {
			atomic64_inc(&h->filtered);
			return NF_ACCEPT;
		}
		snap = min(snap, res);
	}
	ts = ktime_get_real_ns();

	spin_lock_bh(&s->lock);
	if (!s->dead)
		cap_append(s, h, skb, mac_off, snap, len, ts);
	spin_unlock_bh(&s->lock);
	return NF_ACCEPT;
}

/* ---------------------------------------------------------------- */
/* bindings                                                           */
/* ---------------------------------------------------------------- */

static void cap_unhook(struct cap_hook *h)
{
	if (!h->dev)
		return;
	nf_unregister_net_hook(dev_net(h->dev), &h->ops);
	netdev_put(h->dev, &h->tracker);
	h->dev = NULL;
}

static int cap_hook_on(struct cap_binding *b, int point,
		       struct net_device *dev, bool egress, bool match_mac)
{
	struct cap_hook *h = &b->hooks[point];
	int err;

	h->b = b;
	h->point = point;
	h->dir = point == NESTOR_CAP_POINT_TO_L1 ? NESTOR_CAP_DIR_OUT :
						   NESTOR_CAP_DIR_IN;
	h->match_mac = match_mac;
	h->ops.hook = cap_hook_fn;
	h->ops.pf = NFPROTO_NETDEV;
	h->ops.hooknum = egress ? NF_NETDEV_EGRESS : NF_NETDEV_INGRESS;
	/* Last on egress and first on ingress: closest to L1. */
	h->ops.priority = egress ? INT_MAX : INT_MIN;
	h->ops.dev = dev;
	h->ops.priv = h;
	err = nf_register_net_hook(dev_net(dev), &h->ops);
	if (err)
		return err;
	netdev_hold(dev, &h->tracker, GFP_KERNEL);
	h->dev = dev;
	return 0;
}

static void cap_binding_free(struct cap_binding *b)
{
	int p;

	for (p = 0; p < __NESTOR_CAP_POINT_MAX; p++)
		cap_unhook(&b->hooks[p]);
	kfree(b);
}

static int cap_kind(const struct net_device *dev, enum cap_kind *kind)
{
	const char *k = dev->rtnl_link_ops ? dev->rtnl_link_ops->kind : NULL;

	if (dev->type != ARPHRD_ETHER || !k)
		return -EOPNOTSUPP;
	if (!strcmp(k, "veth"))
		*kind = CAP_KIND_VETH;
	else if (!strcmp(k, "tun"))
		*kind = CAP_KIND_TAP;
	else if (!strcmp(k, "macvtap"))
		*kind = CAP_KIND_MACVTAP;
	else
		return -EOPNOTSUPP;
	return 0;
}

/* rtnl and cap_mutex held. */
static int cap_bind_dev(struct cap_session *s, struct net_device *dev,
			enum cap_kind kind, u32 vm_id, u32 pid,
			struct netlink_ext_ack *extack)
{
	struct cap_binding *b;
	bool uplink = kind == CAP_KIND_UPLINK;
	int err = 0;

	list_for_each_entry(b, &s->bindings, node) {
		if (b->key == dev && !b->gone &&
		    !!b->hooks[NESTOR_CAP_POINT_UPLINK].dev == uplink) {
			NL_SET_ERR_MSG(extack, "interface already bound");
			return -EEXIST;
		}
	}
	if (s->nr_bindings >= NESTOR_CAP_MAX_BINDINGS) {
		NL_SET_ERR_MSG(extack, "too many interfaces in this session");
		return -ENOSPC;
	}
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->s = s;
	b->key = dev;
	b->id = ++s->next_binding;
	b->ifindex = dev->ifindex;
	strscpy(b->name, dev->name, sizeof(b->name));
	ether_addr_copy(b->mac, dev->dev_addr);
	b->vm_id = vm_id;
	b->pid = pid;

	if (uplink) {
		err = cap_hook_on(b, NESTOR_CAP_POINT_UPLINK, dev, false,
				  false);
	} else if (kind == CAP_KIND_MACVTAP) {
		/* L1's frames leave through the macvtap's own transmit;
		 * frames for L1 arrive on the lower device.
		 */
		if (s->points & BIT(NESTOR_CAP_POINT_FROM_L1))
			err = cap_hook_on(b, NESTOR_CAP_POINT_FROM_L1, dev,
					  true, false);
		if (!err && (s->points & BIT(NESTOR_CAP_POINT_TO_L1)))
			err = cap_hook_on(b, NESTOR_CAP_POINT_TO_L1,
					  macvlan_dev_real_dev(dev), false,
					  true);
	} else {
		/* tap, veth: L0 transmits toward L1, receives from it. */
		if (s->points & BIT(NESTOR_CAP_POINT_TO_L1))
			err = cap_hook_on(b, NESTOR_CAP_POINT_TO_L1, dev, true,
					  false);
		if (!err && (s->points & BIT(NESTOR_CAP_POINT_FROM_L1)))
			err = cap_hook_on(b, NESTOR_CAP_POINT_FROM_L1, dev,
					  false, false);
	}
	if (err) {
		NL_SET_ERR_MSG(extack, "registering the netfilter hook failed");
		cap_binding_free(b);
		return err;
	}
	spin_lock_bh(&s->lock);
	list_add_tail(&b->node, &s->bindings);
	s->nr_bindings++;
	spin_unlock_bh(&s->lock);
	return 0;
}

/* ---------------------------------------------------------------- */
/* sessions                                                           */
/* ---------------------------------------------------------------- */

/* cap_mutex held; @s is off the lookup list.  @send: flush to readers. */
static void cap_session_destroy(struct cap_session *s, bool send)
{
	struct cap_binding *b, *tmp;

	spin_lock_bh(&cap_list_lock);
	list_del_init(&s->node);
	spin_unlock_bh(&cap_list_lock);
	list_del(&s->all_node);
	cap_nr_sessions--;

	WRITE_ONCE(s->dead, true);
	/* After this no hook runs for @s (synchronize_net). */
	list_for_each_entry(b, &s->bindings, node) {
		int p;

		for (p = 0; p < __NESTOR_CAP_POINT_MAX; p++)
			cap_unhook(&b->hooks[p]);
	}
	del_timer_sync(&s->timer);
	spin_lock_bh(&s->lock);
	cap_flush(s, send);
	spin_unlock_bh(&s->lock);
	list_for_each_entry_safe(b, tmp, &s->bindings, node) {
		list_del(&b->node);
		cap_binding_free(b);
	}
	if (s->filter)
		bpf_prog_destroy(s->filter);
	kfree(s);
}

static struct cap_session *cap_lookup(u32 id)
{
	struct cap_session *s, *found = NULL;

	spin_lock_bh(&cap_list_lock);
	list_for_each_entry(s, &cap_sessions, node)
		if (s->id == id) {
			found = s;
			break;
		}
	spin_unlock_bh(&cap_list_lock);
	return found;
}

/* cap_mutex held: a session found here stays until cap_mutex drops. */
static struct cap_session *cap_from_request(struct genl_info *info)
{
	struct cap_session *s;

	if (GENL_REQ_ATTR_CHECK(info, NESTOR_CAP_A_SESSION_ID)) {
		NL_SET_ERR_MSG(info->extack, "session-id is required");
		return ERR_PTR(-EINVAL);
	}
	s = cap_lookup(nla_get_u32(info->attrs[NESTOR_CAP_A_SESSION_ID]));
	if (!s) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[NESTOR_CAP_A_SESSION_ID],
				    "no such capture session");
		return ERR_PTR(-ENOENT);
	}
	return s;
}

static void cap_reap_fn(struct work_struct *work)
{
	struct cap_session *s, *tmp;
	LIST_HEAD(doomed);

	mutex_lock(&cap_mutex);
	spin_lock_bh(&cap_list_lock);
	list_splice_init(&cap_doomed, &doomed);
	spin_unlock_bh(&cap_list_lock);
	list_for_each_entry_safe(s, tmp, &doomed, node)
		cap_session_destroy(s, false);
	mutex_unlock(&cap_mutex);
}

static DECLARE_WORK(cap_reap_work, cap_reap_fn);

/* A socket closed: its sessions go (atomic context, hence the work). */
static int cap_netlink_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct netlink_notify *n = ptr;
	struct cap_session *s, *tmp;
	bool any = false;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !n->portid)
		return NOTIFY_DONE;
	spin_lock_bh(&cap_list_lock);
	list_for_each_entry_safe(s, tmp, &cap_sessions, node) {
		if (s->portid == n->portid && net_eq(s->net, n->net)) {
			WRITE_ONCE(s->dead, true);
			list_move_tail(&s->node, &cap_doomed);
			any = true;
		}
	}
	spin_unlock_bh(&cap_list_lock);
	if (any)
		schedule_work(&cap_reap_work);
	return NOTIFY_DONE;
}

static struct notifier_block cap_netlink_nb = {
	.notifier_call = cap_netlink_event,
};

/* An interface went away (or left its netns): drop its hooks. */
static int cap_netdev_event(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct cap_session *s;
	struct cap_binding *b;
	int p;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	mutex_lock(&cap_mutex);
	list_for_each_entry(s, &cap_all, all_node) {
		list_for_each_entry(b, &s->bindings, node) {
			bool left = false;

			for (p = 0; p < __NESTOR_CAP_POINT_MAX; p++) {
				if (b->hooks[p].dev == dev)
					cap_unhook(&b->hooks[p]);
				left |= !!b->hooks[p].dev;
			}
			if (!left)
				b->gone = true;
		}
	}
	mutex_unlock(&cap_mutex);
	return NOTIFY_DONE;
}

static struct notifier_block cap_netdev_nb = {
	.notifier_call = cap_netdev_event,
};

/* ---------------------------------------------------------------- */
/* registry: VM id <-> VMM pid                                        */
/* ---------------------------------------------------------------- */

struct vm_match {
	u32 vm_id;
	u32 pid;
	bool found;
};

static int vm_match_one(const struct nestor_vm *vm, void *arg)
{
	struct vm_match *m = arg;

	if ((m->vm_id && vm->id == m->vm_id) ||
	    (!m->vm_id && m->pid && vm->pid == m->pid)) {
		m->vm_id = vm->id;
		m->pid = vm->pid;
		m->found = true;
		return 1;
	}
	return 0;
}

/* Fills the other half of (vm_id, pid) from the registry. */
static bool cap_vm_resolve(u32 *vm_id, u32 *pid)
{
	struct vm_match m = { .vm_id = *vm_id, .pid = *pid };
	u32 next;

	nestor_registry_walk_vms(0, vm_match_one, &m, &next);
	if (m.found) {
		*vm_id = m.vm_id;
		*pid = m.pid;
	}
	return m.found;
}

/* A VMM's pid that the registry learnt after the bind (cap_mutex). */
static void cap_refresh_vm_ids(struct cap_session *s)
{
	struct cap_binding *b;

	list_for_each_entry(b, &s->bindings, node) {
		u32 vm_id = 0, pid = b->pid;

		if (!b->vm_id && pid && cap_vm_resolve(&vm_id, &pid))
			WRITE_ONCE(b->vm_id, vm_id);
	}
}

/* ---------------------------------------------------------------- */
/* requests                                                           */
/* ---------------------------------------------------------------- */

static u32 attr_u32(struct genl_info *info, int type, u32 def)
{
	return info->attrs[type] ? nla_get_u32(info->attrs[type]) : def;
}

static int cap_new(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *fa = info->attrs[NESTOR_CAP_A_FILTER];
	struct cap_session *s;
	struct sk_buff *msg;
	void *hdr;
	int err;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->points = attr_u32(info, NESTOR_CAP_A_POINTS,
			     BIT(NESTOR_CAP_POINT_TO_L1) |
			     BIT(NESTOR_CAP_POINT_FROM_L1));
	s->snaplen = attr_u32(info, NESTOR_CAP_A_SNAPLEN,
			      NESTOR_CAP_SNAPLEN_DEFAULT);
	s->batch = attr_u32(info, NESTOR_CAP_A_BATCH,
			    NESTOR_CAP_BATCH_DEFAULT);
	s->flush_ms = attr_u32(info, NESTOR_CAP_A_FLUSH_MS,
			       NESTOR_CAP_FLUSH_MS_DEFAULT);
	s->bufsize = attr_u32(info, NESTOR_CAP_A_BUFSIZE,
			      NESTOR_CAP_BUFSIZE_DEFAULT);
	if (!s->points) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[NESTOR_CAP_A_POINTS],
				    "no capture point selected");
		err = -EINVAL;
		goto free;
	}
	if (fa) {
		struct sock_fprog_kern fprog;

		if (!nla_len(fa) || nla_len(fa) % sizeof(struct sock_filter)) {
			NL_SET_ERR_MSG_ATTR(info->extack, fa,
					    "filter length is not a multiple of 8 bytes");
			err = -EINVAL;
			goto free;
		}
		fprog.len = nla_len(fa) / sizeof(struct sock_filter);
		fprog.filter = nla_data(fa);
		err = bpf_prog_create(&s->filter, &fprog);
		if (err) {
			NL_SET_ERR_MSG_ATTR(info->extack, fa,
					    "classic BPF filter refused by the kernel's checker");
			err = -EINVAL;
			goto free;
		}
	}
	s->portid = info->snd_portid;
	s->net = genl_info_net(info);
	spin_lock_init(&s->lock);
	timer_setup(&s->timer, cap_timer_fn, 0);
	INIT_LIST_HEAD(&s->bindings);
	INIT_LIST_HEAD(&s->node);

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto free;
	}
	mutex_lock(&cap_mutex);
	if (cap_closing || cap_nr_sessions >= CAP_MAX_SESSIONS) {
		mutex_unlock(&cap_mutex);
		nlmsg_free(msg);
		NL_SET_ERR_MSG(info->extack, "too many capture sessions");
		err = -ENOSPC;
		goto free;
	}
	s->id = cap_next_id++;
	cap_nr_sessions++;
	list_add_tail(&s->all_node, &cap_all);
	spin_lock_bh(&cap_list_lock);
	list_add_tail(&s->node, &cap_sessions);
	spin_unlock_bh(&cap_list_lock);
	hdr = genlmsg_put_reply(msg, info, &cap_family, 0, NESTOR_CAP_CMD_NEW);
	if (!hdr || nla_put_u32(msg, NESTOR_CAP_A_SESSION_ID, s->id)) {
		cap_session_destroy(s, false);
		mutex_unlock(&cap_mutex);
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	mutex_unlock(&cap_mutex);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
free:
	if (s->filter)
		bpf_prog_destroy(s->filter);
	kfree(s);
	return err;
}

/* Binds the L0 side of every veth in @pid's netns. rtnl, cap_mutex. */
static int cap_bind_pid(struct cap_session *s, u32 pid, u32 vm_id,
			struct netlink_ext_ack *extack)
{
	struct net *pnet = get_net_ns_by_pid(pid);
	struct net_device *dev, *peer;
	int n = 0, err = 0;

	if (IS_ERR(pnet)) {
		NL_SET_ERR_MSG(extack, "no such process");
		return -ESRCH;
	}
	for_each_netdev(pnet, dev) {
		enum cap_kind kind;

		if (cap_kind(dev, &kind) || kind != CAP_KIND_VETH ||
		    !dev->netdev_ops->ndo_get_peer_dev)
			continue;
		rcu_read_lock();
		peer = dev->netdev_ops->ndo_get_peer_dev(dev);
		rcu_read_unlock();
		/* rtnl keeps @peer alive: unregistering needs it. */
		if (!peer || net_eq(dev_net(peer), pnet))
			continue;
		err = cap_bind_dev(s, peer, CAP_KIND_VETH, vm_id, pid, extack);
		if (err)
			break;
		n++;
	}
	put_net(pnet);
	if (!err && !n) {
		NL_SET_ERR_MSG(extack,
			       "no veth leads into that process's network namespace");
		err = -ENOENT;
	}
	return err;
}

static int cap_bind(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct net *net = genl_info_net(info);
	u32 vm_id = attr_u32(info, NESTOR_CAP_A_VM_ID, 0);
	u32 pid = attr_u32(info, NESTOR_CAP_A_PID, 0);
	struct net_device *dev;
	struct cap_session *s;
	enum cap_kind kind;
	int how, err;

	how = !!a[NESTOR_CAP_A_IFINDEX] + !!a[NESTOR_CAP_A_UPLINK];
	if (how > 1 || (!how && !pid && !vm_id)) {
		NL_SET_ERR_MSG(info->extack,
			       "give one of ifindex, uplink, pid or vm-id");
		return -EINVAL;
	}
	if (a[NESTOR_CAP_A_UPLINK] && (pid || vm_id)) {
		NL_SET_ERR_MSG(info->extack, "an uplink belongs to no VM");
		return -EINVAL;
	}

	rtnl_lock();
	mutex_lock(&cap_mutex);
	s = cap_from_request(info);
	if (IS_ERR(s)) {
		err = PTR_ERR(s);
		goto out;
	}
	if (vm_id && !cap_vm_resolve(&vm_id, &pid)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[NESTOR_CAP_A_VM_ID],
				    "no such VM");
		err = -ENOENT;
		goto out;
	}
	if (!vm_id && pid)
		cap_vm_resolve(&vm_id, &pid);	/* may be unknown yet */

	if (a[NESTOR_CAP_A_UPLINK]) {
		if (!(s->points & BIT(NESTOR_CAP_POINT_UPLINK))) {
			NL_SET_ERR_MSG(info->extack,
				       "the session has no uplink point");
			err = -EINVAL;
			goto out;
		}
		dev = __dev_get_by_index(net, nla_get_u32(a[NESTOR_CAP_A_UPLINK]));
		if (!dev) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[NESTOR_CAP_A_UPLINK],
					    "no such interface");
			err = -ENODEV;
			goto out;
		}
		err = cap_bind_dev(s, dev, CAP_KIND_UPLINK, 0, 0,
				   info->extack);
	} else if (a[NESTOR_CAP_A_IFINDEX]) {
		if (!(s->points & (BIT(NESTOR_CAP_POINT_TO_L1) |
				   BIT(NESTOR_CAP_POINT_FROM_L1)))) {
			NL_SET_ERR_MSG(info->extack,
				       "the session has neither to-l1 nor from-l1");
			err = -EINVAL;
			goto out;
		}
		dev = __dev_get_by_index(net,
					 nla_get_u32(a[NESTOR_CAP_A_IFINDEX]));
		if (!dev) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[NESTOR_CAP_A_IFINDEX],
					    "no such interface");
			err = -ENODEV;
			goto out;
		}
		if (cap_kind(dev, &kind)) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[NESTOR_CAP_A_IFINDEX],
					    "not a tap, macvtap or veth interface");
			err = -EOPNOTSUPP;
			goto out;
		}
		err = cap_bind_dev(s, dev, kind, vm_id, pid, info->extack);
	} else {
		if (!pid) {
			NL_SET_ERR_MSG(info->extack,
				       "the VM's pid is not known");
			err = -ESRCH;
			goto out;
		}
		err = cap_bind_pid(s, pid, vm_id, info->extack);
	}
out:
	mutex_unlock(&cap_mutex);
	rtnl_unlock();
	return err;
}

static int cap_l2_map(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *mac = info->attrs[NESTOR_CAP_A_L2_MAC];
	struct nlattr *ip = info->attrs[NESTOR_CAP_A_L2_IP];
	struct nlattr *addr = mac ? mac : ip;
	struct cap_session *s;
	struct cap_l2map e = { };
	int i, err = 0;

	if (GENL_REQ_ATTR_CHECK(info, NESTOR_CAP_A_L2_ID)) {
		NL_SET_ERR_MSG(info->extack, "l2-id is required");
		return -EINVAL;
	}
	if (!mac == !ip) {
		NL_SET_ERR_MSG(info->extack, "give one of l2-mac or l2-ip");
		return -EINVAL;
	}
	if (ip && nla_len(ip) != 4 && nla_len(ip) != 16) {
		NL_SET_ERR_MSG_ATTR(info->extack, ip,
				    "l2-ip must have 4 or 16 bytes");
		return -EINVAL;
	}
	e.l2_id = nla_get_u32(info->attrs[NESTOR_CAP_A_L2_ID]);
	e.len = nla_len(addr);
	memcpy(e.addr, nla_data(addr), e.len);

	mutex_lock(&cap_mutex);
	s = cap_from_request(info);
	if (IS_ERR(s)) {
		err = PTR_ERR(s);
		goto out;
	}
	spin_lock_bh(&s->lock);
	for (i = 0; i < s->nr_map; i++)
		if (s->map[i].len == e.len &&
		    !memcmp(s->map[i].addr, e.addr, e.len))
			break;
	if (i == NESTOR_CAP_MAX_L2_MAP) {
		NL_SET_ERR_MSG(info->extack, "the L2 map is full");
		err = -ENOSPC;
	} else {
		s->map[i] = e;		/* a known address is remapped */
		if (i == s->nr_map)
			s->nr_map++;
	}
	spin_unlock_bh(&s->lock);
out:
	mutex_unlock(&cap_mutex);
	return err;
}

static int cap_del(struct sk_buff *skb, struct genl_info *info)
{
	struct cap_session *s;

	mutex_lock(&cap_mutex);
	s = cap_from_request(info);
	if (!IS_ERR(s))
		cap_session_destroy(s, true);
	mutex_unlock(&cap_mutex);
	return PTR_ERR_OR_ZERO(s);
}

/* cap_mutex held. */
static int cap_fill(struct sk_buff *msg, struct cap_session *s)
{
	u64 dropped, alloc_fail, overflow, messages, captured, msg_seq;
	u64 filtered = 0;
	struct cap_binding *b;
	struct nlattr *nest;
	int p;

	cap_refresh_vm_ids(s);
	list_for_each_entry(b, &s->bindings, node)
		for (p = 0; p < __NESTOR_CAP_POINT_MAX; p++)
			filtered += atomic64_read(&b->hooks[p].filtered);
	spin_lock_bh(&s->lock);
	dropped = s->dropped;
	alloc_fail = s->alloc_fail;
	overflow = s->overflow;
	messages = s->messages;
	captured = s->next_seq;
	msg_seq = s->msg_seq;
	spin_unlock_bh(&s->lock);

	if (nla_put_u32(msg, NESTOR_CAP_A_SESSION_ID, s->id) ||
	    nla_put_u32(msg, NESTOR_CAP_A_OWNER_PORTID, s->portid) ||
	    nla_put_u32(msg, NESTOR_CAP_A_POINTS, s->points) ||
	    nla_put_u32(msg, NESTOR_CAP_A_SNAPLEN, s->snaplen) ||
	    nla_put_u32(msg, NESTOR_CAP_A_BATCH, s->batch) ||
	    nla_put_u32(msg, NESTOR_CAP_A_FLUSH_MS, s->flush_ms) ||
	    nla_put_u32(msg, NESTOR_CAP_A_BUFSIZE, s->bufsize) ||
	    nla_put_u64_64bit(msg, NESTOR_CAP_A_MSG_SEQ, msg_seq,
			      NESTOR_CAP_A_PAD) ||
	    nla_put_u64_64bit(msg, NESTOR_CAP_A_CAPTURED, captured,
			      NESTOR_CAP_A_PAD) ||
	    nla_put_u64_64bit(msg, NESTOR_CAP_A_FILTERED, filtered,
			      NESTOR_CAP_A_PAD) ||
	    nla_put_u64_64bit(msg, NESTOR_CAP_A_DROPPED, dropped,
			      NESTOR_CAP_A_PAD) ||
	    nla_put_u64_64bit(msg, NESTOR_CAP_A_ALLOC_FAIL, alloc_fail,
			      NESTOR_CAP_A_PAD) ||
	    nla_put_u64_64bit(msg, NESTOR_CAP_A_OVERFLOW, overflow,
			      NESTOR_CAP_A_PAD) ||
	    nla_put_u64_64bit(msg, NESTOR_CAP_A_MESSAGES, messages,
			      NESTOR_CAP_A_PAD))
		return -EMSGSIZE;
	list_for_each_entry(b, &s->bindings, node) {
		for (p = 0; p < __NESTOR_CAP_POINT_MAX; p++) {
			struct cap_hook *h = &b->hooks[p];

			if (!h->b)	/* never hooked at this point */
				continue;
			nest = nla_nest_start(msg, NESTOR_CAP_A_IFSTATS);
			if (!nest ||
			    nla_put_u32(msg, NESTOR_CAP_IF_IFINDEX, b->ifindex) ||
			    nla_put_u32(msg, NESTOR_CAP_IF_BINDING, b->id) ||
			    nla_put_string(msg, NESTOR_CAP_IF_NAME, b->name) ||
			    nla_put_u32(msg, NESTOR_CAP_IF_POINT, p) ||
			    nla_put_u32(msg, NESTOR_CAP_IF_VM_ID,
					READ_ONCE(b->vm_id)) ||
			    nla_put_u32(msg, NESTOR_CAP_IF_PID, b->pid) ||
			    (!h->dev && nla_put_flag(msg, NESTOR_CAP_IF_GONE)) ||
			    nla_put_u64_64bit(msg, NESTOR_CAP_IF_CAPTURED,
					      atomic64_read(&h->captured),
					      NESTOR_CAP_IF_PAD) ||
			    nla_put_u64_64bit(msg, NESTOR_CAP_IF_FILTERED,
					      atomic64_read(&h->filtered),
					      NESTOR_CAP_IF_PAD) ||
			    nla_put_u64_64bit(msg, NESTOR_CAP_IF_DROPPED,
					      atomic64_read(&h->dropped),
					      NESTOR_CAP_IF_PAD))
				return -EMSGSIZE;
			nla_nest_end(msg, nest);
		}
	}
	return 0;
}

/* Every binding and point fits: 32 * 3 nests of about 100 bytes. */
#define CAP_GET_SIZE	16384

static int cap_get(struct sk_buff *skb, struct genl_info *info)
{
	struct cap_session *s;
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(CAP_GET_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&cap_mutex);
	s = cap_from_request(info);
	if (IS_ERR(s)) {
		err = PTR_ERR(s);
		goto fail;
	}
	hdr = genlmsg_put_reply(msg, info, &cap_family, 0, NESTOR_CAP_CMD_GET);
	err = -EMSGSIZE;
	if (!hdr || cap_fill(msg, s))
		goto fail;
	mutex_unlock(&cap_mutex);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
fail:
	mutex_unlock(&cap_mutex);
	nlmsg_free(msg);
	return err;
}

/* cb->args[0]: next session id to dump. */
static int cap_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct cap_session *s;
	void *hdr;
	int err = 0;

	mutex_lock(&cap_mutex);
	list_for_each_entry(s, &cap_all, all_node) {
		if (s->id < cb->args[0] || READ_ONCE(s->dead))
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &cap_family, NLM_F_MULTI,
				  NESTOR_CAP_CMD_GET);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		if (cap_fill(skb, s)) {
			genlmsg_cancel(skb, hdr);
			err = -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = s->id + 1;
	}
	mutex_unlock(&cap_mutex);
	if (err && !skb->len)
		return err;
	return skb->len;
}

/* ---------------------------------------------------------------- */
/* family                                                             */
/* ---------------------------------------------------------------- */

static struct netlink_range_validation snaplen_range = {
	.min = 1, .max = NESTOR_CAP_SNAPLEN_MAX,
};

static struct netlink_range_validation batch_range = {
	.min = 1, .max = NESTOR_CAP_BATCH_MAX,
};

static struct netlink_range_validation flush_range = {
	.min = 1, .max = NESTOR_CAP_FLUSH_MS_MAX,
};

static struct netlink_range_validation bufsize_range = {
	.min = NESTOR_CAP_BUFSIZE_MIN, .max = NESTOR_CAP_BUFSIZE_MAX,
};

static struct netlink_range_validation nonzero_range = {
	.min = 1, .max = U32_MAX,
};

/* Each command accepts only its own attributes (strict validation). */
static const struct nla_policy new_policy[NESTOR_CAP_A_MAX + 1] = {
	[NESTOR_CAP_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, 0),
	[NESTOR_CAP_A_POINTS] = NLA_POLICY_MASK(NLA_U32, NESTOR_CAP_POINTS_ALL),
	[NESTOR_CAP_A_SNAPLEN] = NLA_POLICY_FULL_RANGE(NLA_U32, &snaplen_range),
	[NESTOR_CAP_A_FILTER] = { .type = NLA_BINARY,
				  .len = NESTOR_CAP_FILTER_MAX *
					 sizeof(struct sock_filter) },
	[NESTOR_CAP_A_BATCH] = NLA_POLICY_FULL_RANGE(NLA_U32, &batch_range),
	[NESTOR_CAP_A_FLUSH_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &flush_range),
	[NESTOR_CAP_A_BUFSIZE] = NLA_POLICY_FULL_RANGE(NLA_U32, &bufsize_range),
};

static const struct nla_policy bind_policy[NESTOR_CAP_A_MAX + 1] = {
	[NESTOR_CAP_A_SESSION_ID] = { .type = NLA_U32 },
	[NESTOR_CAP_A_IFINDEX] = NLA_POLICY_FULL_RANGE(NLA_U32, &nonzero_range),
	[NESTOR_CAP_A_UPLINK] = NLA_POLICY_FULL_RANGE(NLA_U32, &nonzero_range),
	[NESTOR_CAP_A_PID] = NLA_POLICY_FULL_RANGE(NLA_U32, &nonzero_range),
	[NESTOR_CAP_A_VM_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &nonzero_range),
};

static const struct nla_policy map_policy[NESTOR_CAP_A_MAX + 1] = {
	[NESTOR_CAP_A_SESSION_ID] = { .type = NLA_U32 },
	[NESTOR_CAP_A_L2_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &nonzero_range),
	[NESTOR_CAP_A_L2_MAC] = NLA_POLICY_ETH_ADDR,
	[NESTOR_CAP_A_L2_IP] = NLA_POLICY_RANGE(NLA_BINARY, 4, 16),
};

static const struct nla_policy id_policy[NESTOR_CAP_A_MAX + 1] = {
	[NESTOR_CAP_A_SESSION_ID] = { .type = NLA_U32 },
};

static const struct genl_ops cap_ops[] = {
	{
		.cmd = NESTOR_CAP_CMD_NEW,
		.doit = cap_new,
		.policy = new_policy,
		.maxattr = NESTOR_CAP_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NESTOR_CAP_CMD_BIND,
		.doit = cap_bind,
		.policy = bind_policy,
		.maxattr = NESTOR_CAP_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NESTOR_CAP_CMD_L2_MAP,
		.doit = cap_l2_map,
		.policy = map_policy,
		.maxattr = NESTOR_CAP_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NESTOR_CAP_CMD_GET,
		.doit = cap_get,
		.dumpit = cap_dump,
		.policy = id_policy,
		.maxattr = NESTOR_CAP_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NESTOR_CAP_CMD_DEL,
		.doit = cap_del,
		.policy = id_policy,
		.maxattr = NESTOR_CAP_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group cap_mcgrps[] = {
	[CAP_GRP_PACKETS] = { .name = NESTOR_CAP_MCGRP_PACKETS,
			      .flags = GENL_MCAST_CAP_NET_ADMIN },
};

static struct genl_family cap_family __ro_after_init = {
	.name = NESTOR_CAP_GENL_NAME,
	.version = NESTOR_CAP_GENL_VERSION,
	.maxattr = NESTOR_CAP_A_MAX,
	.module = THIS_MODULE,
	.ops = cap_ops,
	.n_ops = ARRAY_SIZE(cap_ops),
	.mcgrps = cap_mcgrps,
	.n_mcgrps = ARRAY_SIZE(cap_mcgrps),
};

int nestor_capture_init(void)
{
	int err;

	err = register_netdevice_notifier(&cap_netdev_nb);
	if (err)
		return err;
	err = netlink_register_notifier(&cap_netlink_nb);
	if (err)
		goto out_netdev;
	err = genl_register_family(&cap_family);
	if (err)
		goto out_netlink;
	return 0;

out_netlink:
	netlink_unregister_notifier(&cap_netlink_nb);
out_netdev:
	unregister_netdevice_notifier(&cap_netdev_nb);
	return err;
}

void nestor_capture_exit(void)
{
	struct cap_session *s, *tmp;

	/*
	 * Sessions go first: their hooks and timers send on the family,
	 * whose group ids may be reused once it is unregistered.
	 */
	mutex_lock(&cap_mutex);
	cap_closing = true;
	list_for_each_entry_safe(s, tmp, &cap_all, all_node)
		cap_session_destroy(s, false);
	mutex_unlock(&cap_mutex);
	genl_unregister_family(&cap_family);
	netlink_unregister_notifier(&cap_netlink_nb);
	flush_work(&cap_reap_work);
	unregister_netdevice_notifier(&cap_netdev_nb);
}
