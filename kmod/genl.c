// SPDX-License-Identifier: GPL-2.0
/*
 * The "nestor" generic netlink family (Documentation/netlink/specs/nestor.yaml).
 * Every operation and the "events" group need CAP_NET_ADMIN; requests are
 * validated strictly (unknown attributes and wrong lengths are refused).
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include "nestor.h"

static struct genl_family nestor_family;
static bool genl_live;

/* Requests carry only an L2 id; every other attribute is reply-only. */
static const struct nla_policy nestor_policy[NESTOR_A_MAX + 1] = {
	[NESTOR_A_L2_ID] = { .type = NLA_U32 },
};

enum { NESTOR_GRP_EVENTS };

static const struct genl_multicast_group nestor_mcgrps[] = {
	[NESTOR_GRP_EVENTS] = { .name = NESTOR_GENL_MCGRP_EVENTS,
				.flags = GENL_MCAST_CAP_NET_ADMIN },
};

/* ---------------------------------------------------------------- */
/* message bodies                                                     */
/* ---------------------------------------------------------------- */

static int fill_version(struct sk_buff *skb)
{
	if (nla_put_u32(skb, NESTOR_A_UAPI_VERSION, NESTOR_UAPI_VERSION) ||
	    nla_put_string(skb, NESTOR_A_MODULE_VERSION,
			   NESTOR_MODULE_VERSION) ||
	    nla_put_u32(skb, NESTOR_A_BACKEND, nestor_arch->isa) ||
	    nla_put_u64_64bit(skb, NESTOR_A_FEATURES, nestor_features(),
			      NESTOR_A_PAD))
		return -EMSGSIZE;
	return 0;
}

static int fill_vm(struct sk_buff *skb, const struct nestor_vm *vm)
{
	unsigned int bit;

	if (nla_put_u32(skb, NESTOR_A_VM_ID, vm->id) ||
	    nla_put_u32(skb, NESTOR_A_VM_PID, vm->pid))
		return -EMSGSIZE;
	for_each_set_bit(bit, vm->vcpu_ids, NESTOR_MAX_VCPU_ID)
		if (nla_put_u32(skb, NESTOR_A_VM_VCPU, bit))
			return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, NESTOR_A_VM_L1_HYPERCALLS,
			      atomic64_read(&vm->l1_hypercalls), NESTOR_A_PAD))
		return -EMSGSIZE;
	return 0;
}

static int fill_l2(struct sk_buff *skb, const struct nestor_l2ctx *ctx,
		   bool with_vcpus)
{
	struct nestor_ctx_vcpu vcpus[NESTOR_CTX_VCPUS];
	struct nlattr *nest;
	int i, n;

	if (nla_put_u32(skb, NESTOR_A_L2_ID, ctx->id) ||
	    nla_put_u32(skb, NESTOR_A_VM_ID, ctx->vm_id) ||
	    nla_put_u32(skb, NESTOR_A_VM_PID, ctx->vm_pid) ||
	    nla_put_u32(skb, NESTOR_A_ISA, ctx->isa) ||
	    nla_put_u64_64bit(skb, NESTOR_A_L2_VMCS12, ctx->vmcs12,
			      NESTOR_A_PAD) ||
	    nla_put_u64_64bit(skb, NESTOR_A_L2_ROOT, ctx->root, NESTOR_A_PAD) ||
	    (ctx->tdp && nla_put_flag(skb, NESTOR_A_L2_TDP)) ||
	    nla_put_u64_64bit(skb, NESTOR_A_L2_FIRST_SEEN_NS,
			      ctx->first_seen_ns, NESTOR_A_PAD) ||
	    nla_put_u64_64bit(skb, NESTOR_A_L2_LAST_SEEN_NS,
			      READ_ONCE(ctx->last_seen_ns), NESTOR_A_PAD) ||
	    nla_put_u64_64bit(skb, NESTOR_A_L2_ENTRIES,
			      atomic64_read(&ctx->entries), NESTOR_A_PAD) ||
	    nestor_ident_fill_l2(skb, ctx))
		return -EMSGSIZE;
	if (!with_vcpus)
		return 0;

	n = nestor_ctx_vcpus(ctx, vcpus);
	for (i = 0; i < n; i++) {
		nest = nla_nest_start(skb, NESTOR_A_L2_VCPU);
		if (!nest ||
		    nla_put_u32(skb, NESTOR_A_VCPU_ID, vcpus[i].vcpu_id) ||
		    nla_put_u64_64bit(skb, NESTOR_A_VCPU_CR3, vcpus[i].cr3,
				      NESTOR_A_VCPU_PAD) ||
		    nla_put_u64_64bit(skb, NESTOR_A_VCPU_CR3_CHANGES,
				      vcpus[i].cr3_changes, NESTOR_A_VCPU_PAD))
			return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	return 0;
}

static int fill_stats(struct sk_buff *skb, const struct nestor_l2ctx *ctx)
{
	struct nlattr *nest;
	int slot;

	if (nla_put_u32(skb, NESTOR_A_L2_ID, ctx->id) ||
	    nla_put_u32(skb, NESTOR_A_ISA, ctx->isa))
		return -EMSGSIZE;
	for (slot = 0; slot < NESTOR_EXIT_SLOTS; slot++) {
		u64 total = atomic64_read(&ctx->exits[slot][0]);
		u64 reflected = atomic64_read(&ctx->exits[slot][1]);
		u64 completed = atomic64_read(&ctx->exits[slot][2]);

		if (!total && !reflected && !completed)
			continue;
		nest = nla_nest_start(skb, NESTOR_A_STATS_EXIT);
		if (!nest ||
		    nla_put_u32(skb, NESTOR_A_EXIT_REASON,
				nestor_exit_slot_reason(ctx->isa, slot)) ||
		    nla_put_u64_64bit(skb, NESTOR_A_EXIT_TOTAL, total,
				      NESTOR_A_EXIT_PAD) ||
		    nla_put_u64_64bit(skb, NESTOR_A_EXIT_REFLECTED, reflected,
				      NESTOR_A_EXIT_PAD) ||
		    nla_put_u64_64bit(skb, NESTOR_A_EXIT_NESTOR, completed,
				      NESTOR_A_EXIT_PAD))
			return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* doit                                                               */
/* ---------------------------------------------------------------- */

static int get_version(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	void *hdr;

	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &nestor_family, 0,
				NESTOR_CMD_GET_VERSION);
	if (!hdr || fill_version(msg)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static struct nestor_l2ctx *ctx_from_request(struct genl_info *info)
{
	struct nestor_l2ctx *ctx;

	if (GENL_REQ_ATTR_CHECK(info, NESTOR_A_L2_ID)) {
		NL_SET_ERR_MSG(info->extack, "NESTOR_A_L2_ID is required");
		return ERR_PTR(-EINVAL);
	}
	ctx = nestor_ctx_get_by_id(nla_get_u32(info->attrs[NESTOR_A_L2_ID]));
	if (!ctx) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[NESTOR_A_L2_ID],
				    "no such L2 context");
		return ERR_PTR(-ENOENT);
	}
	return ctx;
}

static int reply_ctx(struct genl_info *info, u8 cmd, size_t size,
		     int (*fill)(struct sk_buff *, const struct nestor_l2ctx *))
{
	struct nestor_l2ctx *ctx = ctx_from_request(info);
	struct sk_buff *msg;
	void *hdr;
	int err;

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	msg = genlmsg_new(size, GFP_KERNEL);
	err = -ENOMEM;
	if (!msg)
		goto out;
	hdr = genlmsg_put_reply(msg, info, &nestor_family, 0, cmd);
	err = -EMSGSIZE;
	if (!hdr || fill(msg, ctx)) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
out:
	nestor_ctx_put(ctx);
	return err;
}

static int fill_l2_full(struct sk_buff *skb, const struct nestor_l2ctx *ctx)
{
	return fill_l2(skb, ctx, true);
}

static int get_l2(struct sk_buff *skb, struct genl_info *info)
{
	return reply_ctx(info, NESTOR_CMD_GET_L2, NLMSG_GOODSIZE, fill_l2_full);
}

static int get_stats(struct sk_buff *skb, struct genl_info *info)
{
	/* Up to every slot, each a nest of four attributes. */
	return reply_ctx(info, NESTOR_CMD_GET_STATS,
			 NESTOR_EXIT_SLOTS * 48 + 128, fill_stats);
}

/* ---------------------------------------------------------------- */
/* dumps: cb->args[0] is the next id, cb->args[1] set when done        */
/* ---------------------------------------------------------------- */

struct dump_arg {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	u8 cmd;
};

static void *dump_put(struct dump_arg *a)
{
	return genlmsg_put(a->skb, NETLINK_CB(a->cb->skb).portid,
			   a->cb->nlh->nlmsg_seq, &nestor_family, NLM_F_MULTI,
			   a->cmd);
}

static int dump_vm_one(const struct nestor_vm *vm, void *arg)
{
	struct dump_arg *a = arg;
	void *hdr = dump_put(a);

	if (!hdr)
		return -EMSGSIZE;
	if (fill_vm(a->skb, vm)) {
		genlmsg_cancel(a->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(a->skb, hdr);
	return 0;
}

static int dump_l2_one(const struct nestor_l2ctx *ctx, void *arg)
{
	struct dump_arg *a = arg;
	void *hdr = dump_put(a);

	if (!hdr)
		return -EMSGSIZE;
	if (fill_l2(a->skb, ctx, true)) {
		genlmsg_cancel(a->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(a->skb, hdr);
	return 0;
}

static int dump_finish(struct sk_buff *skb, struct netlink_callback *cb,
		       int err, u32 next_id)
{
	if (err == -EMSGSIZE && skb->len) {
		cb->args[0] = next_id;
		return skb->len;
	}
	if (err)
		return err;
	cb->args[1] = 1;
	return skb->len;
}

static int dump_vm(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct dump_arg a = { skb, cb, NESTOR_CMD_GET_VM };
	u32 next_id = 0;
	int err;

	if (cb->args[1])
		return 0;
	err = nestor_registry_walk_vms(cb->args[0], dump_vm_one, &a, &next_id);
	return dump_finish(skb, cb, err, next_id);
}

static int dump_l2(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct dump_arg a = { skb, cb, NESTOR_CMD_GET_L2 };
	u32 next_id = 0;
	int err;

	if (cb->args[1])
		return 0;
	err = nestor_registry_walk_ctxs(cb->args[0], dump_l2_one, &a,
					&next_id);
	return dump_finish(skb, cb, err, next_id);
}

static int put_ident_full(struct sk_buff *skb,
			  const struct nestor_ident_info *info);

/* L2 identities: cb->args[0] is the next identity's sequence number. */
static int dump_ident_one(const struct nestor_ident_info *info, void *arg)
{
	struct dump_arg *a = arg;
	void *hdr = dump_put(a);

	if (!hdr)
		return -EMSGSIZE;
	if (put_ident_full(a->skb, info)) {
		genlmsg_cancel(a->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(a->skb, hdr);
	return 0;
}

static int dump_ident(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct dump_arg a = { skb, cb, NESTOR_CMD_GET_IDENT };
	u32 next_seq = 0;
	int err;

	if (cb->args[1])
		return 0;
	err = nestor_ident_walk(cb->args[0], dump_ident_one, &a, &next_seq);
	return dump_finish(skb, cb, err, next_seq);
}

static const struct genl_small_ops nestor_ops[] = {
	{
		.cmd = NESTOR_CMD_GET_VERSION,
		.doit = get_version,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NESTOR_CMD_GET_VM,
		.dumpit = dump_vm,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NESTOR_CMD_GET_L2,
		.doit = get_l2,
		.dumpit = dump_l2,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NESTOR_CMD_GET_STATS,
		.doit = get_stats,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NESTOR_CMD_GET_IDENT,
		.dumpit = dump_ident,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family nestor_family __ro_after_init = {
	.name = NESTOR_GENL_NAME,
	.version = NESTOR_GENL_VERSION,
	.maxattr = NESTOR_A_MAX,
	.policy = nestor_policy,
	.module = THIS_MODULE,
	.small_ops = nestor_ops,
	.n_small_ops = ARRAY_SIZE(nestor_ops),
	.mcgrps = nestor_mcgrps,
	.n_mcgrps = ARRAY_SIZE(nestor_mcgrps),
};

/* ---------------------------------------------------------------- */
/* events (called from atomic context, under the registry lock)       */
/* ---------------------------------------------------------------- */

static void notify(u8 cmd, const struct nestor_l2ctx *ctx, u64 old_root,
		   u32 vm_id)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	if (!READ_ONCE(genl_live) ||
	    !genl_has_listeners(&nestor_family, &init_net, NESTOR_GRP_EVENTS))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &nestor_family, 0, cmd);
	if (!hdr)
		goto fail;
	if (ctx)
		err = fill_l2(msg, ctx, false);
	else
		err = nla_put_u32(msg, NESTOR_A_VM_ID, vm_id);
	if (!err && cmd == NESTOR_CMD_L2_ROOT_CHANGE)
		err = nla_put_u64_64bit(msg, NESTOR_A_L2_OLD_ROOT, old_root,
					NESTOR_A_PAD);
	if (err)
		goto fail;
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&nestor_family, msg, 0, NESTOR_GRP_EVENTS,
			  GFP_ATOMIC);
	return;
fail:
	nlmsg_free(msg);
}

void nestor_genl_notify_ctx(u8 cmd, const struct nestor_l2ctx *ctx,
			    u64 old_root)
{
	notify(cmd, ctx, old_root, 0);
}

void nestor_genl_notify_vm_gone(u32 vm_id)
{
	notify(NESTOR_CMD_VM_GONE, NULL, 0, vm_id);
}

/*
 * One event on the events group, built by @fill; atomic context (callers
 * hold their locks), so a failed allocation just drops the event.
 */
typedef int (*event_fill_t)(struct sk_buff *skb, const void *arg);

static void multicast_event(u8 cmd, event_fill_t fill, const void *arg)
{
	struct sk_buff *msg;
	void *hdr;

	if (!READ_ONCE(genl_live) ||
	    !genl_has_listeners(&nestor_family, &init_net, NESTOR_GRP_EVENTS))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &nestor_family, 0, cmd);
	if (!hdr || fill(msg, arg)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&nestor_family, msg, 0, NESTOR_GRP_EVENTS,
			  GFP_ATOMIC);
}

struct tables_event {
	u32 vm_id;
	u64 gen;
	u64 gpa;
};

static int fill_tables(struct sk_buff *skb, const void *arg)
{
	const struct tables_event *ev = arg;

	if (nla_put_u32(skb, NESTOR_A_VM_ID, ev->vm_id) ||
	    nla_put_u64_64bit(skb, NESTOR_A_TABLES_GEN, ev->gen, NESTOR_A_PAD) ||
	    nla_put_u64_64bit(skb, NESTOR_A_TABLES_GPA, ev->gpa, NESTOR_A_PAD))
		return -EMSGSIZE;
	return 0;
}

/* Introspection (mem.c): L1 wrote a page of nested tables of a VM. */
void nestor_genl_notify_tables(u32 vm_id, u64 gen, u64 gpa)
{
	struct tables_event ev = { .vm_id = vm_id, .gen = gen, .gpa = gpa };

	multicast_event(NESTOR_CMD_TABLES_CHANGED, fill_tables, &ev);
}

/*
 * An identity's attributes; in GET_IDENT dumps and events also the context
 * it is bound to (or was last), which GET_L2 messages carry already.
 */
static int put_ident(struct sk_buff *skb, const struct nestor_ident_info *info)
{
	if (nla_put_string(skb, NESTOR_A_IDENT_NAME, info->name) ||
	    nla_put_u32(skb, NESTOR_A_IDENT_KEY_ID, info->key_id) ||
	    nla_put_u32(skb, NESTOR_A_IDENT_FLAGS, info->flags) ||
	    nla_put_u64_64bit(skb, NESTOR_A_IDENT_BOUND_NS, info->bound_ns,
			      NESTOR_A_PAD) ||
	    nla_put_u64_64bit(skb, NESTOR_A_IDENT_REGISTRATIONS,
			      info->registrations, NESTOR_A_PAD))
		return -EMSGSIZE;
	return 0;
}

static int put_ident_ctx(struct sk_buff *skb,
			 const struct nestor_ident_info *info)
{
	if (nla_put_u32(skb, NESTOR_A_L2_ID, info->l2_id) ||
	    nla_put_u32(skb, NESTOR_A_VM_ID, info->vm_id) ||
	    nla_put_u64_64bit(skb, NESTOR_A_L2_VMCS12, info->vmcs12,
			      NESTOR_A_PAD) ||
	    nla_put_u64_64bit(skb, NESTOR_A_L2_ROOT, info->root, NESTOR_A_PAD) ||
	    (info->holder_l2_id &&
	     nla_put_u32(skb, NESTOR_A_IDENT_HOLDER_L2_ID, info->holder_l2_id)))
		return -EMSGSIZE;
	return 0;
}

int nestor_genl_put_ident(struct sk_buff *skb,
			  const struct nestor_ident_info *info)
{
	return put_ident(skb, info);
}

static int put_ident_full(struct sk_buff *skb,
			  const struct nestor_ident_info *info)
{
	return put_ident(skb, info) || put_ident_ctx(skb, info) ? -EMSGSIZE : 0;
}

static int fill_ident(struct sk_buff *skb, const void *arg)
{
	return put_ident_full(skb, arg);
}

/* Atomic context: identity.c calls this under its lock. */
void nestor_genl_notify_ident(u8 cmd, const struct nestor_ident_info *info)
{
	multicast_event(cmd, fill_ident, info);
}

int nestor_genl_init(void)
{
	int err = genl_register_family(&nestor_family);

	if (!err)
		WRITE_ONCE(genl_live, true);
	return err;
}

void nestor_genl_exit(void)
{
	WRITE_ONCE(genl_live, false);
	genl_unregister_family(&nestor_family);
}
