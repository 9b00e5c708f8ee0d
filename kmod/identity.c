// SPDX-License-Identifier: GPL-2.0
/*
 * L2 identity (Documentation/identity.rst).  An L2 proves a name to L0 by
 * hypercall: CHALLENGE gives it a single-use nonce, REGISTER carries the
 * name, an owner key id and HMAC-SHA256(owner key, nonce || name).  The
 * exits are completed in L0 (hypercall.c dispatches them), so L1 never
 * sees the exchange; L1's own nestor hypercalls are refused here and
 * counted on its VM.
 *
 * A name binds to the L2 context that proved it (registry.c: VM, vmcs12,
 * nested root).  When the context is retired, or a new context of the same
 * VM takes its vmcs12 or nested root (L1 moved the L2), the identity turns
 * absent: the name stays reserved for its owner key, and the L2 gets it
 * back by registering again.
 *
 * Locking: ident_lock (a spinlock, taken inside the registry lock by the
 * registry's hooks and the netlink dumps) guards the identities and the
 * pending challenges; nothing here takes the registry lock while holding
 * it.  Hypercall handlers run on the vCPU thread and may sleep outside it.
 */
#include <linux/ftrace.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <crypto/algapi.h>

#include "nestor.h"

static unsigned int ident_max = 1024;
module_param(ident_max, uint, 0644);
MODULE_PARM_DESC(ident_max, "Most L2 identities L0 holds (default 1024)");

#define NONCE_TTL_NS		(60 * NSEC_PER_SEC)
#define CHALLENGES_MAX		256

struct nestor_ident {
	struct list_head node;		/* idents, in seq order */
	u32 seq;			/* dump cursor, never reused */
	char name[NESTOR_IDENT_NAME_MAX + 1];
	u32 key_id;
	u32 flags;			/* NESTOR_IDENT_F_UUID, _UNAUTH */
	/* Bound context; NULL when absent.  Cleared by the registry hooks. */
	struct nestor_l2ctx *ctx;
	/* the bound context, or the last one */
	u32 l2_id, vm_id;
	u64 vmcs12, root;
	u64 bound_ns;
	u64 registrations;
};

struct nestor_challenge {
	struct list_head node;		/* challenges, oldest first */
	u32 l2_id;
	u64 issued_ns;
	u8 nonce[NESTOR_HC_NONCE_LEN];
};

static DEFINE_SPINLOCK(ident_lock);
static LIST_HEAD(idents);
static LIST_HEAD(challenges);
static unsigned int nr_idents, nr_challenges;
static u32 next_seq = 1;
static bool ident_live;

/* Scratch for KVM's struct x86_exception (size bound checked in BTF). */
#define X86_EXCEPTION_BUF	64

/* ---------------------------------------------------------------- */
/* L2 state: CPL and memory                                           */
/* ---------------------------------------------------------------- */

static int vcpu_cpl(struct kvm_vcpu *vcpu)
{
	/*
	 * vmcb02 / vmcs02 hold L2's state during its exit.  (kvm_x86_ops is
	 * not exported, and a data symbol kallsyms lists only with
	 * CONFIG_KALLSYMS_ALL, which Debian does not set.)
	 */
	return nestor_arch->guest_cpl(vcpu);
}

static int l2_read(struct kvm_vcpu *vcpu, u64 gva, void *buf,
		   unsigned int len)
{
	u64 exc[X86_EXCEPTION_BUF / sizeof(u64)];

	/* X86EMUL_CONTINUE (0) or a fault: never injected, only reported. */
	return kvm_read_guest_virt(vcpu, gva, buf, len,
				   (struct x86_exception *)exc) ? -EFAULT : 0;
}

static int l2_write(struct kvm_vcpu *vcpu, u64 gva, void *buf,
		    unsigned int len)
{
	u64 exc[X86_EXCEPTION_BUF / sizeof(u64)];

	return kvm_write_guest_virt_system(vcpu, gva, buf, len,
					   (struct x86_exception *)exc) ?
		-EFAULT : 0;
}

/* ---------------------------------------------------------------- */
/* identities and challenges (ident_lock held)                        */
/* ---------------------------------------------------------------- */

static struct nestor_ident *ident_by_name(const char *name)
{
	struct nestor_ident *id;

	list_for_each_entry(id, &idents, node)
		if (!strcmp(id->name, name))
			return id;
	return NULL;
}

static struct nestor_ident *ident_of_ctx(const struct nestor_l2ctx *ctx)
{
	struct nestor_ident *id;

	list_for_each_entry(id, &idents, node)
		if (id->ctx == ctx)
			return id;
	return NULL;
}

static void ident_snapshot(const struct nestor_ident *id,
			   struct nestor_ident_info *info)
{
	memset(info, 0, sizeof(*info));
	strscpy(info->name, id->name, sizeof(info->name));
	info->key_id = id->key_id;
	info->flags = id->flags | (id->ctx ? NESTOR_IDENT_F_PRESENT : 0);
	info->bound_ns = id->bound_ns;
	info->registrations = id->registrations;
	info->l2_id = id->l2_id;
	info->vm_id = id->vm_id;
	info->vmcs12 = id->vmcs12;
	info->root = id->root;
}

static void ident_absent(struct nestor_ident *id)
{
	struct nestor_ident_info info;

	id->ctx = NULL;
	ident_snapshot(id, &info);
	nestor_genl_notify_ident(NESTOR_CMD_IDENT_ABSENT, &info);
}

static void ident_remove(struct nestor_ident *id)
{
	struct nestor_ident_info info;

	ident_snapshot(id, &info);
	list_del(&id->node);
	nr_idents--;
	kfree(id);
	nestor_genl_notify_ident(NESTOR_CMD_IDENT_GONE, &info);
}

static void challenges_expire(u64 now)
{
	struct nestor_challenge *c, *tmp;

	list_for_each_entry_safe(c, tmp, &challenges, node) {
		if (now - c->issued_ns < NONCE_TTL_NS &&
		    nr_challenges <= CHALLENGES_MAX)
			break;
		list_del(&c->node);
		nr_challenges--;
		kfree_sensitive(c);
	}
}

static void challenges_drop_ctx(u32 l2_id)
{
	struct nestor_challenge *c, *tmp;

	list_for_each_entry_safe(c, tmp, &challenges, node) {
		if (c->l2_id != l2_id)
			continue;
		list_del(&c->node);
		nr_challenges--;
		kfree_sensitive(c);
	}
}

/* ---------------------------------------------------------------- */
/* registry hooks (registry lock held)                                */
/* ---------------------------------------------------------------- */

void nestor_ident_ctx_new(struct nestor_l2ctx *ctx)
{
	struct nestor_ident *id;
	struct nestor_l2ctx *b;

	spin_lock(&ident_lock);
	if (!ident_live)
		goto out;
	/*
	 * A new context that takes a bound context's vmcs12 or nested root
	 * in the same VM: L1 moved that L2 (or gave the place to another).
	 * Either way the proof no longer covers it.
	 */
	list_for_each_entry(id, &idents, node) {
		b = id->ctx;
		if (!b || b == ctx || b->vm != ctx->vm)
			continue;
		if (b->vmcs12 == ctx->vmcs12 || (b->root && b->root == ctx->root))
			ident_absent(id);
	}
out:
	spin_unlock(&ident_lock);
}

void nestor_ident_ctx_gone(struct nestor_l2ctx *ctx)
{
	struct nestor_ident *id;

	spin_lock(&ident_lock);
	if (!ident_live)
		goto out;
	list_for_each_entry(id, &idents, node)
		if (id->ctx == ctx)
			ident_absent(id);
	challenges_drop_ctx(ctx->id);
out:
	spin_unlock(&ident_lock);
}

/* ---------------------------------------------------------------- */
/* hypercall functions                                                */
/* ---------------------------------------------------------------- */

static u64 hc_challenge(struct nestor_exit_ctx *ec)
{
	struct kvm_vcpu *vcpu = ec->vcpu;
	struct nestor_challenge *c, *old;
	u64 now = ktime_get_boottime_ns();

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return NESTOR_HC_ENOSPC;
	c->l2_id = ec->ctx->id;
	c->issued_ns = now;
	get_random_bytes(c->nonce, sizeof(c->nonce));
	if (l2_write(vcpu, nestor_reg_read(vcpu, VCPU_REGS_RCX), c->nonce,
		     sizeof(c->nonce))) {
		kfree_sensitive(c);
		return NESTOR_HC_EFAULT;
	}

	spin_lock(&ident_lock);
	/* One pending nonce per context: a new challenge voids the last. */
	list_for_each_entry(old, &challenges, node) {
		if (old->l2_id == c->l2_id) {
			list_del(&old->node);
			nr_challenges--;
			kfree_sensitive(old);
			break;
		}
	}
	list_add_tail(&c->node, &challenges);
	nr_challenges++;
	challenges_expire(now);
	spin_unlock(&ident_lock);
	return NESTOR_HC_OK;
}

/* Uses up the context's pending nonce; true when @nonce was it. */
static bool challenge_take(u32 l2_id, const u8 *nonce)
{
	struct nestor_challenge *c;
	u64 now = ktime_get_boottime_ns();
	bool ok = false;

	spin_lock(&ident_lock);
	challenges_expire(now);
	list_for_each_entry(c, &challenges, node) {
		if (c->l2_id != l2_id)
			continue;
		ok = !crypto_memneq(c->nonce, nonce, NESTOR_HC_NONCE_LEN);
		list_del(&c->node);
		nr_challenges--;
		kfree_sensitive(c);
		break;
	}
	spin_unlock(&ident_lock);
	return ok;
}

/* The identifier's text: printable ASCII, or a UUID's canonical form. */
static int request_name(const struct nestor_hc_register *r, char *name)
{
	u32 i;

	if (r->name_len < 1 || r->name_len > NESTOR_IDENT_NAME_MAX)
		return -EINVAL;
	if (memchr_inv(r->name + r->name_len, 0,
		       NESTOR_IDENT_NAME_MAX - r->name_len))
		return -EINVAL;
	if (r->flags & NESTOR_HC_REG_UUID) {
		if (r->name_len != NESTOR_IDENT_UUID_LEN)
			return -EINVAL;
		snprintf(name, NESTOR_IDENT_NAME_MAX + 1, "%pUb", r->name);
		return 0;
	}
	for (i = 0; i < r->name_len; i++)
		if (r->name[i] < 0x21 || r->name[i] > 0x7e)
			return -EINVAL;
	memcpy(name, r->name, r->name_len);
	name[r->name_len] = '\0';
	return 0;
}

static u64 proof_check(const struct nestor_hc_register *r)
{
	u8 mac[NESTOR_HMAC_LEN];
	struct kvec vec[2] = {
		{ .iov_base = (void *)r->nonce, .iov_len = NESTOR_HC_NONCE_LEN },
		{ .iov_base = (void *)r->name, .iov_len = r->name_len },
	};
	u32 kflags;
	u64 st = NESTOR_HC_OK;
	int err;

	if (nestor_key_flags(NESTOR_KEY_OWNER, r->key_id, &kflags))
		return NESTOR_HC_ENOKEY;
	if (r->flags & NESTOR_HC_REG_UNAUTH)
		return kflags & NESTOR_KEY_F_ALLOW_UNAUTH ? NESTOR_HC_OK :
			NESTOR_HC_EUNAUTH;
	err = nestor_key_hmac(NESTOR_KEY_OWNER, r->key_id, vec,
			      ARRAY_SIZE(vec), mac);
	if (err == -ENOKEY)
		st = NESTOR_HC_ENOKEY;
	else if (err)
		st = NESTOR_HC_ENOSPC;
	else if (crypto_memneq(mac, r->mac, NESTOR_HMAC_LEN))
		st = NESTOR_HC_EBADMAC;
	memzero_explicit(mac, sizeof(mac));
	return st;
}

static void ident_bind(struct nestor_ident *id, struct nestor_l2ctx *ctx,
		       u32 flags)
{
	struct nestor_ident_info info;

	id->ctx = ctx;
	id->l2_id = ctx->id;
	id->vm_id = ctx->vm_id;
	id->vmcs12 = ctx->vmcs12;
	id->root = ctx->root;
	id->flags = flags;
	id->bound_ns = ktime_get_boottime_ns();
	id->registrations++;
	ident_snapshot(id, &info);
	nestor_genl_notify_ident(NESTOR_CMD_IDENT_BOUND, &info);
}

static void ident_conflict(const struct nestor_ident *holder,
			   const struct nestor_l2ctx *ctx, u32 key_id)
{
	struct nestor_ident_info info;

	memset(&info, 0, sizeof(info));
	strscpy(info.name, holder->name, sizeof(info.name));
	info.key_id = key_id;
	info.l2_id = ctx->id;
	info.vm_id = ctx->vm_id;
	info.vmcs12 = ctx->vmcs12;
	info.root = ctx->root;
	info.holder_l2_id = holder->ctx ? holder->ctx->id : 0;
	nestor_genl_notify_ident(NESTOR_CMD_IDENT_CONFLICT, &info);
}

static u64 bind_name(struct nestor_l2ctx *ctx, const char *name, u32 key_id,
		     u32 flags)
{
	struct nestor_ident *id, *held, *new;
	u64 st = NESTOR_HC_OK;

	new = kzalloc(sizeof(*new), GFP_KERNEL);
	spin_lock(&ident_lock);
	/* Retired meanwhile (its hook already ran): nothing to bind to. */
	if (READ_ONCE(ctx->dead)) {
		st = NESTOR_HC_ENOENT;
		goto out;
	}
	held = ident_of_ctx(ctx);
	id = ident_by_name(name);
	if (id) {
		if (id->key_id != key_id || (id->ctx && id->ctx != ctx)) {
			/* Bound elsewhere, or reserved for another owner. */
			ident_conflict(id, ctx, key_id);
			st = NESTOR_HC_EBOUND;
		} else if (held && held != id) {
			st = NESTOR_HC_EBUSY;
		} else {
			/* Same context again, or the absent name's owner. */
			ident_bind(id, ctx, flags);
		}
		goto out;
	}
	if (held) {
		st = NESTOR_HC_EBUSY;
		goto out;
	}
	if (!new || nr_idents >= READ_ONCE(ident_max)) {
		st = NESTOR_HC_ENOSPC;
		goto out;
	}
	strscpy(new->name, name, sizeof(new->name));
	new->key_id = key_id;
	new->seq = next_seq++;
	list_add_tail(&new->node, &idents);
	nr_idents++;
	ident_bind(new, ctx, flags);
	new = NULL;
out:
	spin_unlock(&ident_lock);
	kfree(new);
	return st;
}

static u64 hc_register(struct nestor_exit_ctx *ec)
{
	struct kvm_vcpu *vcpu = ec->vcpu;
	u64 size = nestor_reg_read(vcpu, VCPU_REGS_RDX);
	char name[NESTOR_IDENT_NAME_MAX + 1];
	struct nestor_hc_register *r;
	u32 flags;
	u64 st;

	if (size < sizeof(*r) || size > PAGE_SIZE)
		return NESTOR_HC_EINVAL;
	r = kzalloc(size, GFP_KERNEL);
	if (!r)
		return NESTOR_HC_ENOSPC;
	if (l2_read(vcpu, nestor_reg_read(vcpu, VCPU_REGS_RCX), r, size)) {
		st = NESTOR_HC_EFAULT;
		goto out;
	}
	st = NESTOR_HC_EINVAL;
	if (memchr_inv((u8 *)r + sizeof(*r), 0, size - sizeof(*r)) ||
	    (r->flags & ~(NESTOR_HC_REG_UNAUTH | NESTOR_HC_REG_UUID)) ||
	    r->pad || request_name(r, name))
		goto out;
	if ((r->flags & NESTOR_HC_REG_UNAUTH) &&
	    memchr_inv(r->mac, 0, sizeof(r->mac)))
		goto out;

	/* A well-formed request uses the nonce up, whatever follows. */
	if (!challenge_take(ec->ctx->id, r->nonce)) {
		st = NESTOR_HC_ENONCE;
		goto out;
	}
	st = proof_check(r);
	if (st != NESTOR_HC_OK)
		goto out;
	flags = (r->flags & NESTOR_HC_REG_UUID ? NESTOR_IDENT_F_UUID : 0) |
		(r->flags & NESTOR_HC_REG_UNAUTH ? NESTOR_IDENT_F_UNAUTH : 0);
	st = bind_name(ec->ctx, name, r->key_id, flags);
out:
	kfree_sensitive(r);
	return st;
}

static u64 hc_query(struct nestor_exit_ctx *ec)
{
	struct kvm_vcpu *vcpu = ec->vcpu;
	u64 size = nestor_reg_read(vcpu, VCPU_REGS_RDX);
	struct nestor_ident_info info;
	struct nestor_ident *id;
	size_t len;

	spin_lock(&ident_lock);
	id = ident_of_ctx(ec->ctx);
	if (id)
		ident_snapshot(id, &info);
	spin_unlock(&ident_lock);
	if (!id)
		return NESTOR_HC_ENOENT;
	len = strlen(info.name) + 1;
	if (size < len)
		return NESTOR_HC_EINVAL;
	if (l2_write(vcpu, nestor_reg_read(vcpu, VCPU_REGS_RCX), info.name,
		     len))
		return NESTOR_HC_EFAULT;
	nestor_reg_write(vcpu, VCPU_REGS_RBX, info.flags);
	nestor_reg_write(vcpu, VCPU_REGS_RCX, info.key_id);
	return NESTOR_HC_OK;
}

static u64 hc_unregister(struct nestor_exit_ctx *ec)
{
	struct nestor_ident *id;

	spin_lock(&ident_lock);
	id = ident_of_ctx(ec->ctx);
	if (id)
		ident_remove(id);
	spin_unlock(&ident_lock);
	return id ? NESTOR_HC_OK : NESTOR_HC_ENOENT;
}

u64 nestor_ident_hypercall(struct nestor_exit_ctx *ec, u64 function)
{
	struct kvm_vcpu *vcpu = ec->vcpu;

	/* The divert hook runs for L2 exits only; say so if that changes. */
	if (WARN_ON_ONCE(!(vcpu->arch.hflags & HF_GUEST_MASK)))
		return NESTOR_HC_ENOTL2;
	/* L2's user space must not speak for its kernel. */
	if (vcpu_cpl(vcpu) != 0)
		return NESTOR_HC_EPERM;

	switch (function) {
	case NESTOR_HC_FN_CHALLENGE:
		return hc_challenge(ec);
	case NESTOR_HC_FN_REGISTER:
		return hc_register(ec);
	case NESTOR_HC_FN_QUERY:
		return hc_query(ec);
	case NESTOR_HC_FN_UNREGISTER:
		return hc_unregister(ec);
	default:
		return NESTOR_HC_ENOSYS;
	}
}

/* ---------------------------------------------------------------- */
/* netlink and the admin                                              */
/* ---------------------------------------------------------------- */

int nestor_ident_fill_l2(struct sk_buff *skb, const struct nestor_l2ctx *ctx)
{
	struct nestor_ident_info info;
	struct nestor_ident *id;

	spin_lock(&ident_lock);
	id = ident_of_ctx(ctx);
	if (id)
		ident_snapshot(id, &info);
	spin_unlock(&ident_lock);
	if (!id)
		return 0;
	return nestor_genl_put_ident(skb, &info);
}

int nestor_ident_of_ctx(const struct nestor_l2ctx *ctx,
			struct nestor_ident_info *info)
{
	struct nestor_ident *id;

	spin_lock(&ident_lock);
	id = ident_of_ctx(ctx);
	if (id)
		ident_snapshot(id, info);
	spin_unlock(&ident_lock);
	return id ? 0 : -ENOENT;
}

int nestor_ident_walk(u32 start_seq,
		      int (*fn)(const struct nestor_ident_info *info, void *arg),
		      void *arg, u32 *next_seq)
{
	struct nestor_ident_info info;
	struct nestor_ident *id;
	int err = 0;

	spin_lock(&ident_lock);
	list_for_each_entry(id, &idents, node) {
		if (id->seq < start_seq)
			continue;
		ident_snapshot(id, &info);
		err = fn(&info, arg);
		if (err) {
			*next_seq = id->seq;
			break;
		}
	}
	spin_unlock(&ident_lock);
	return err;
}

long nestor_ident_ioctl_del(void __user *argp, size_t usize)
{
	struct nestor_ident_del d;
	struct nestor_ident *id;
	size_t len;
	int err;

	if (usize < sizeof(d))
		return -EINVAL;
	err = copy_struct_from_user(&d, sizeof(d), argp, usize);
	if (err)
		return err;
	if (d.flags || d.pad)
		return -EINVAL;
	len = strnlen(d.name, sizeof(d.name));
	if (!len || len > NESTOR_IDENT_NAME_MAX ||
	    memchr_inv(d.name + len, 0, sizeof(d.name) - len))
		return -EINVAL;

	spin_lock(&ident_lock);
	id = ident_by_name(d.name);
	if (id)
		ident_remove(id);
	spin_unlock(&ident_lock);
	return id ? 0 : -ENOENT;
}

/* ---------------------------------------------------------------- */
/* L1's own nestor hypercalls                                         */
/* ---------------------------------------------------------------- */
/*
 * L1's VMCALL/VMMCALL exits to L0 KVM's kvm_emulate_hypercall(), not to the
 * divert hook, which sees L2 exits only.  An IPMODIFY ftrace ops on that
 * function sends calls with nestor's leaf from outside guest mode to
 * l1_hypercall(): refused with NESTOR_HC_ENOTL2 and counted on the VM.
 * Every other hypercall, and any call in guest mode (an L2 VMMCALL that L1
 * does not intercept on SVM), goes to KVM unchanged.
 */
static unsigned long emulate_hc_addr;
static bool l1_hook_registered;

static int l1_hypercall(struct kvm_vcpu *vcpu)
{
	nestor_registry_note_l1_call(vcpu);
	nestor_reg_write(vcpu, VCPU_REGS_RAX, NESTOR_HC_ENOTL2);
	return nestor_skip_instruction(vcpu);
}

static void notrace l1_hc_thunk(unsigned long ip, unsigned long parent_ip,
				struct ftrace_ops *op,
				struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct kvm_vcpu *vcpu = (struct kvm_vcpu *)regs->di;

	if (vcpu->arch.hflags & HF_GUEST_MASK)
		return;
	if (vcpu->arch.regs[VCPU_REGS_RAX] != NESTOR_HC_LEAF)
		return;
	regs->ip = (unsigned long)l1_hypercall;
}

static struct ftrace_ops l1_hc_ops = {
	.func = l1_hc_thunk,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY,
};

static int l1_hook_init(void)
{
	static const char *const params[] = { "struct kvm_vcpu *" };
	int err;

	err = nestor_layout_check_func("kvm", "kvm_emulate_hypercall", "s32",
				       ARRAY_SIZE(params), params);
	if (err)
		return err;
	emulate_hc_addr = nestor_ksym_lookup("kvm_emulate_hypercall");
	if (!emulate_hc_addr) {
		pr_err("nestor: symbol kvm_emulate_hypercall not found\n");
		return -ENOENT;
	}
	err = ftrace_set_filter_ip(&l1_hc_ops, emulate_hc_addr, 0, 0);
	if (err) {
		pr_err("nestor: kvm_emulate_hypercall cannot be traced (%d)\n",
		       err);
		return err;
	}
	err = register_ftrace_function(&l1_hc_ops);
	if (err) {
		pr_err("nestor: cannot hook kvm_emulate_hypercall (%d)%s\n", err,
		       err == -EBUSY ?
		       ": another IPMODIFY user (livepatch?) holds it" : "");
		ftrace_set_filter_ip(&l1_hc_ops, emulate_hc_addr, 1, 0);
		return err;
	}
	WRITE_ONCE(l1_hook_registered, true);
	return 0;
}

static void l1_hook_exit(void)
{
	if (!l1_hook_registered)
		return;
	unregister_ftrace_function(&l1_hc_ops);
	ftrace_set_filter_ip(&l1_hc_ops, emulate_hc_addr, 1, 0);
	WRITE_ONCE(l1_hook_registered, false);
	/*
	 * l1_hypercall() never sleeps: once every task has passed a
	 * voluntary switch, none is between the trampoline and its return.
	 */
	synchronize_rcu_tasks();
}

/* ---------------------------------------------------------------- */
/* setup                                                              */
/* ---------------------------------------------------------------- */

static int check_kvm_exports(void)
{
	static const char *const rw[] = {
		"struct kvm_vcpu *", "u64", "void *", "u32",
		"struct x86_exception *",
	};
	u32 off;
	int err;

	err = nestor_layout_check_func("kvm", "kvm_read_guest_virt", "s32",
				       ARRAY_SIZE(rw), rw);
	if (!err)
		err = nestor_layout_check_func("kvm",
					       "kvm_write_guest_virt_system",
					       "s32", ARRAY_SIZE(rw), rw);
	if (err)
		return err;
	/* Its last member must end well inside our scratch buffer. */
	err = nestor_layout_member_offset("kvm", "x86_exception",
					  "async_page_fault", &off);
	if (err)
		return err;
	if (off + sizeof(u64) > X86_EXCEPTION_BUF) {
		pr_err("nestor: kvm: struct x86_exception is larger than %d bytes\n",
		       X86_EXCEPTION_BUF);
		return -EINVAL;
	}
	return 0;
}

bool nestor_ident_ready(void)
{
	return READ_ONCE(l1_hook_registered);
}

int nestor_ident_init(void)
{
	int err = check_kvm_exports();

	if (err)
		return err;
	err = l1_hook_init();
	if (err)
		return err;
	spin_lock(&ident_lock);
	ident_live = true;
	spin_unlock(&ident_lock);
	return 0;
}

void nestor_ident_exit(void)
{
	struct nestor_challenge *c, *ctmp;
	struct nestor_ident *id, *tmp;

	l1_hook_exit();
	spin_lock(&ident_lock);
	ident_live = false;
	list_for_each_entry_safe(id, tmp, &idents, node) {
		list_del(&id->node);
		kfree(id);
	}
	list_for_each_entry_safe(c, ctmp, &challenges, node) {
		list_del(&c->node);
		kfree_sensitive(c);
	}
	nr_idents = 0;
	nr_challenges = 0;
	spin_unlock(&ident_lock);
}
