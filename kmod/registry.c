// SPDX-License-Identifier: GPL-2.0
/*
 * The L2 registry: every KVM VM that runs nested guests (an L1), its vCPUs,
 * and its L2 contexts, keyed by (vmcs12/vmcb12 address, EPTP/nCR3).
 *
 * It is fed by KVM's exported nested tracepoints.  Readers (the probes, the
 * divert hook) use RCU; writers (new entries, expiry, VM destruction) take
 * registry_lock.  A struct kvm pointer is a key only: it is never
 * dereferenced, and a destroyed VM's entries are removed before KVM frees
 * it (hook.c calls nestor_registry_vm_destroyed() from kvm_arch_destroy_vm).
 */
#include <linux/hashtable.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>

#include "nestor.h"

unsigned int nestor_idle_expiry_ms = 10000;
module_param_named(idle_expiry_ms, nestor_idle_expiry_ms, uint, 0644);
MODULE_PARM_DESC(idle_expiry_ms,
		 "An L2 context not entered for this long is retired (ms)");

/* Exported by kvm.ko, but declared only in its private trace.h. */
DECLARE_TRACEPOINT(kvm_nested_vmenter);
DECLARE_TRACEPOINT(kvm_nested_vmexit);
DECLARE_TRACEPOINT(kvm_nested_vmexit_inject);

struct nestor_vcpu {
	struct hlist_node hnode;
	struct list_head vm_node;
	const struct kvm_vcpu *vcpu;	/* a key: never dereferenced */
	struct nestor_vm *vm;
	struct nestor_l2ctx __rcu *cur;	/* context last entered */
	struct rcu_head rcu;
};

static DEFINE_SPINLOCK(registry_lock);
static DEFINE_HASHTABLE(vm_hash, 6);
static DEFINE_HASHTABLE(vcpu_hash, 8);
static DEFINE_HASHTABLE(ctx_hash, 8);
static LIST_HEAD(nestor_vms);		/* in id order */
static u32 next_vm_id = 1, next_ctx_id = 1;
static bool registry_live;

static void expiry_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(expiry_work, expiry_fn);

/* ---------------------------------------------------------------- */
/* exit-reason slots                                                  */
/* ---------------------------------------------------------------- */

#define SLOT_OTHER	(NESTOR_EXIT_SLOTS - 1)
#define SVM_LOW_CODES	0xc0	/* 0x000-0x0bf: CRx, DRx, exceptions, ... */
#define SVM_HIGH_BASE	0x400	/* 0x400-0x40f: NPF, AVIC, VMGEXIT */

int nestor_exit_slot(u32 isa, u32 reason)
{
	if (isa == NESTOR_BACKEND_VMX) {
		reason &= 0xffff;
		return reason < SVM_LOW_CODES ? reason : SLOT_OTHER;
	}
	if (reason < SVM_LOW_CODES)
		return reason;
	if (reason - SVM_HIGH_BASE < 16)
		return SVM_LOW_CODES + reason - SVM_HIGH_BASE;
	return SLOT_OTHER;
}

u32 nestor_exit_slot_reason(u32 isa, int slot)
{
	if (slot == SLOT_OTHER)
		return U32_MAX;
	if (isa == NESTOR_BACKEND_SVM && slot >= SVM_LOW_CODES)
		return SVM_HIGH_BASE + slot - SVM_LOW_CODES;
	return slot;
}

/* ---------------------------------------------------------------- */
/* lookups and lifetimes                                              */
/* ---------------------------------------------------------------- */

static u64 ctx_key(const struct nestor_vm *vm, u64 vmcs12, u64 root)
{
	return (u64)(unsigned long)vm ^ vmcs12 ^ (root * 0x9e3779b97f4a7c15ULL);
}

static struct nestor_vcpu *vcpu_lookup(const struct kvm_vcpu *vcpu)
{
	struct nestor_vcpu *nv;

	hash_for_each_possible_rcu(vcpu_hash, nv, hnode, (unsigned long)vcpu)
		if (nv->vcpu == vcpu)
			return nv;
	return NULL;
}

static struct nestor_vm *vm_lookup(const struct kvm *kvm)
{
	struct nestor_vm *vm;

	hash_for_each_possible_rcu(vm_hash, vm, hnode, (unsigned long)kvm)
		if (vm->kvm == kvm)
			return vm;
	return NULL;
}

static struct nestor_l2ctx *ctx_lookup(const struct nestor_vm *vm,
				       u64 vmcs12, u64 root)
{
	struct nestor_l2ctx *ctx;

	hash_for_each_possible_rcu(ctx_hash, ctx, hnode,
				   ctx_key(vm, vmcs12, root))
		if (ctx->vm == vm && ctx->vmcs12 == vmcs12 &&
		    ctx->root == root)
			return ctx;
	return NULL;
}

static void ctx_free_rcu(struct rcu_head *rcu)
{
	struct nestor_l2ctx *ctx = container_of(rcu, struct nestor_l2ctx, rcu);

	kfree(ctx->exits);
	kfree(ctx->xcache);
	kfree(ctx);
}

void nestor_ctx_put(struct nestor_l2ctx *ctx)
{
	if (ctx && refcount_dec_and_test(&ctx->ref))
		call_rcu(&ctx->rcu, ctx_free_rcu);
}

struct nestor_l2ctx *nestor_ctx_get_current(struct kvm_vcpu *vcpu)
{
	struct nestor_vcpu *nv;
	struct nestor_l2ctx *ctx = NULL;

	rcu_read_lock();
	nv = vcpu_lookup(vcpu);
	if (nv) {
		ctx = rcu_dereference(nv->cur);
		if (ctx && !refcount_inc_not_zero(&ctx->ref))
			ctx = NULL;
	}
	rcu_read_unlock();
	return ctx;
}

struct nestor_l2ctx *nestor_ctx_get_by_id(u32 id)
{
	struct nestor_l2ctx *ctx, *found = NULL;
	struct nestor_vm *vm;

	spin_lock(&registry_lock);
	list_for_each_entry(vm, &nestor_vms, node) {
		list_for_each_entry(ctx, &vm->ctxs, vm_node) {
			if (ctx->id == id) {
				refcount_inc(&ctx->ref);
				found = ctx;
				goto out;
			}
		}
	}
out:
	spin_unlock(&registry_lock);
	return found;
}

/* The id the next new context will get: every later one is at least this. */
u32 nestor_registry_next_ctx_id(void)
{
	u32 id;

	spin_lock(&registry_lock);
	id = next_ctx_id;
	spin_unlock(&registry_lock);
	return id;
}

/*
 * Whether @ctx is, by its vmcs12/vmcb12, an L2 that its VM ran before
 * context @floor was made: a context of the same VM with the same vmcs12
 * and a smaller id than @floor (a retired @ctx counts as one).  Called on
 * the vCPU thread that runs @ctx, so its VM is alive.
 */
bool nestor_ctx_ran_before(const struct nestor_l2ctx *ctx, u32 floor)
{
	const struct nestor_l2ctx *other;
	bool seen;

	spin_lock(&registry_lock);
	seen = ctx->dead;
	if (!seen)
		list_for_each_entry(other, &ctx->vm->ctxs, vm_node)
			if (other->vmcs12 == ctx->vmcs12 && other->id < floor)
				seen = true;
	spin_unlock(&registry_lock);
	return seen;
}

/* Unlinks a context; registry_lock held.  Readers may still hold it. */
static void ctx_retire(struct nestor_l2ctx *ctx, bool notify)
{
	struct nestor_vcpu *nv;

	ctx->dead = true;
	nestor_ident_ctx_gone(ctx);
	hash_del_rcu(&ctx->hnode);
	list_del(&ctx->vm_node);
	list_for_each_entry(nv, &ctx->vm->vcpus, vm_node)
		if (rcu_access_pointer(nv->cur) == ctx)
			RCU_INIT_POINTER(nv->cur, NULL);
	if (notify)
		nestor_genl_notify_ctx(NESTOR_CMD_L2_GONE, ctx, 0);
	nestor_ctx_put(ctx);
}

/* Removes a VM and everything under it; registry_lock held. */
static void vm_remove(struct nestor_vm *vm, bool notify)
{
	struct nestor_l2ctx *ctx, *tmp_ctx;
	struct nestor_vcpu *nv, *tmp_nv;

	list_for_each_entry_safe(ctx, tmp_ctx, &vm->ctxs, vm_node)
		ctx_retire(ctx, notify);
	list_for_each_entry_safe(nv, tmp_nv, &vm->vcpus, vm_node) {
		hash_del_rcu(&nv->hnode);
		list_del(&nv->vm_node);
		kfree_rcu(nv, rcu);
	}
	if (vm->mem) {
		/* kvm_arch_destroy_vm(): the struct kvm is still there. */
		nestor_mem_vm_gone((struct kvm *)vm->kvm, vm->mem);
		vm->mem = NULL;
	}
	hash_del_rcu(&vm->hnode);
	list_del(&vm->node);
	if (notify)
		nestor_genl_notify_vm_gone(vm->id);
	kfree_rcu(vm, rcu);
}

void nestor_registry_vm_destroyed(const struct kvm *kvm)
{
	struct nestor_vm *vm;

	spin_lock(&registry_lock);
	vm = vm_lookup(kvm);
	if (vm)
		vm_remove(vm, true);
	spin_unlock(&registry_lock);
}

/* ---------------------------------------------------------------- */
/* entry slow path: new VM, vCPU or context                           */
/* ---------------------------------------------------------------- */

static struct nestor_vm *vm_get_or_create(const struct kvm *kvm)
{
	struct nestor_vm *vm = vm_lookup(kvm);

	if (vm)
		return vm;
	vm = kzalloc(sizeof(*vm), GFP_ATOMIC | __GFP_NOWARN);
	if (!vm)
		return NULL;
	vm->kvm = kvm;
	vm->id = next_vm_id++;
	/* The vCPU thread belongs to the VMM process. */
	vm->pid = task_tgid_nr(current);
	INIT_LIST_HEAD(&vm->ctxs);
	INIT_LIST_HEAD(&vm->vcpus);
	hash_add_rcu(vm_hash, &vm->hnode, (unsigned long)kvm);
	list_add_tail(&vm->node, &nestor_vms);
	return vm;
}

static struct nestor_vcpu *vcpu_get_or_create(struct kvm_vcpu *vcpu,
					      struct nestor_vm *vm)
{
	struct nestor_vcpu *nv = vcpu_lookup(vcpu);

	if (nv)
		return nv;
	nv = kzalloc(sizeof(*nv), GFP_ATOMIC | __GFP_NOWARN);
	if (!nv)
		return NULL;
	nv->vcpu = vcpu;
	nv->vm = vm;
	hash_add_rcu(vcpu_hash, &nv->hnode, (unsigned long)vcpu);
	list_add_tail(&nv->vm_node, &vm->vcpus);
	if (vcpu->vcpu_id < NESTOR_MAX_VCPU_ID)
		set_bit(vcpu->vcpu_id, vm->vcpu_ids);
	return nv;
}

static struct nestor_l2ctx *ctx_create(struct nestor_vm *vm, u64 vmcs12,
				       u64 root, bool tdp, u32 isa, u64 now,
				       u8 l1_levels)
{
	struct nestor_l2ctx *ctx, *other;

	ctx = kzalloc(sizeof(*ctx), GFP_ATOMIC | __GFP_NOWARN);
	if (!ctx)
		return NULL;
	ctx->exits = kcalloc(NESTOR_EXIT_SLOTS, sizeof(*ctx->exits),
			     GFP_ATOMIC | __GFP_NOWARN);
	if (!ctx->exits) {
		kfree(ctx);
		return NULL;
	}
	refcount_set(&ctx->ref, 1);	/* the registry's reference */
	ctx->vm = vm;
	ctx->vm_id = vm->id;
	ctx->vm_pid = vm->pid;
	ctx->id = next_ctx_id++;
	ctx->isa = isa;
	ctx->vmcs12 = vmcs12;
	ctx->root = root;
	ctx->tdp = tdp;
	ctx->l1_npt_levels = l1_levels;
	ctx->first_seen_ns = now;
	ctx->last_seen_ns = now;
	spin_lock_init(&ctx->vcpu_lock);
	hash_add_rcu(ctx_hash, &ctx->hnode, ctx_key(vm, vmcs12, root));
	list_add_tail(&ctx->vm_node, &vm->ctxs);
	nestor_genl_notify_ctx(NESTOR_CMD_L2_NEW, ctx, 0);
	nestor_ident_ctx_new(ctx);

	/* The same vmcs12 under another root: L1 changed the nested root. */
	list_for_each_entry(other, &vm->ctxs, vm_node) {
		if (other != ctx && other->vmcs12 == vmcs12 &&
		    other->root != root) {
			nestor_genl_notify_ctx(NESTOR_CMD_L2_ROOT_CHANGE, ctx,
					       other->root);
			break;
		}
	}
	return ctx;
}

/*
 * At the nested-entry tracepoint KVM still holds L1's state: its paging
 * levels are those of an SVM nested page table (APM: the host's mode).
 */
static u8 l1_paging_levels(const struct kvm_vcpu *vcpu)
{
	if (!(vcpu->arch.efer & EFER_LMA))
		return 0;
	return (vcpu->arch.cr4 & X86_CR4_LA57) ? 5 : 4;
}

static struct nestor_l2ctx *enter_slow(struct kvm_vcpu *vcpu, u64 vmcs12,
				       u64 root, bool tdp, u32 isa, u64 now)
{
	struct nestor_l2ctx *ctx = NULL;
	struct nestor_vcpu *nv;
	struct nestor_vm *vm;

	spin_lock(&registry_lock);
	if (!registry_live)
		goto out;
	vm = vm_get_or_create(vcpu->kvm);
	nv = vm ? vcpu_get_or_create(vcpu, vm) : NULL;
	if (!nv)
		goto fail;
	ctx = ctx_lookup(vm, vmcs12, root);
	if (!ctx)
		ctx = ctx_create(vm, vmcs12, root, tdp, isa, now,
				 l1_paging_levels(vcpu));
	if (!ctx)
		goto fail;
	rcu_assign_pointer(nv->cur, ctx);
	goto out;
fail:
	/* The L2 runs on; it is only missing from the registry: say so. */
	pr_warn_ratelimited("nestor: out of memory: an L2 context of VM pid %d is not tracked\n",
			    task_tgid_nr(current));
out:
	spin_unlock(&registry_lock);
	return ctx;
}

/* L1 itself executed nestor's hypercall (identity.c refused it). */
void nestor_registry_note_l1_call(struct kvm_vcpu *vcpu)
{
	struct nestor_vm *vm;

	spin_lock(&registry_lock);
	/* Listed even before it runs an L2: the attempt is the news. */
	vm = registry_live ? vm_get_or_create(vcpu->kvm) : NULL;
	if (vm)
		atomic64_inc(&vm->l1_hypercalls);
	spin_unlock(&registry_lock);
	if (!vm)
		pr_warn_ratelimited("nestor: L1 (pid %d) made a nestor hypercall that is not counted\n",
				    task_tgid_nr(current));
}

/* ---------------------------------------------------------------- */
/* per-vCPU CR3                                                       */
/* ---------------------------------------------------------------- */

/*
 * @l2_regs: the vCPU holds L2's state (the exit tracepoint), so its paging
 * controls are L2's and are recorded too.  KVM keeps CR0.PG, CR4.LA57/PAE
 * and EFER in vcpu->arch (none of them is ever guest-owned), so these are
 * L0's view of L2, not what L1 claims in vmcs12/vmcb12.
 */
static void ctx_note_cr3(struct nestor_l2ctx *ctx, const struct kvm_vcpu *vcpu,
			 u64 cr3, bool l2_regs)
{
	u64 cr0 = l2_regs ? vcpu->arch.cr0 : 0;
	u64 cr4 = l2_regs ? vcpu->arch.cr4 : 0;
	u64 efer = l2_regs ? vcpu->arch.efer : 0;
	u32 vcpu_id = vcpu->vcpu_id;
	struct nestor_ctx_vcpu *slot;
	int i;

	/* Lockless fast path: the vCPU's slot already holds this state. */
	for (i = 0; i < NESTOR_CTX_VCPUS; i++) {
		slot = &ctx->vcpus[i];
		if (READ_ONCE(slot->used) && READ_ONCE(slot->vcpu_id) == vcpu_id &&
		    READ_ONCE(slot->cr3) == cr3 &&
		    (!l2_regs || (READ_ONCE(slot->regs_known) &&
				  READ_ONCE(slot->cr0) == cr0 &&
				  READ_ONCE(slot->cr4) == cr4 &&
				  READ_ONCE(slot->efer) == efer)))
			return;
	}

	spin_lock(&ctx->vcpu_lock);
	for (i = 0; i < NESTOR_CTX_VCPUS; i++) {
		slot = &ctx->vcpus[i];
		if (!slot->used) {
			slot->vcpu_id = vcpu_id;
			slot->cr3 = cr3;
			WRITE_ONCE(slot->used, true);
		} else if (slot->vcpu_id != vcpu_id) {
			continue;
		} else if (slot->cr3 != cr3) {
			WRITE_ONCE(slot->cr3, cr3);
			slot->cr3_changes++;
		}
		if (l2_regs) {
			WRITE_ONCE(slot->cr0, cr0);
			WRITE_ONCE(slot->cr4, cr4);
			WRITE_ONCE(slot->efer, efer);
			WRITE_ONCE(slot->regs_known, true);
		}
		break;
	}
	spin_unlock(&ctx->vcpu_lock);
}

int nestor_ctx_vcpus(const struct nestor_l2ctx *ctx,
		     struct nestor_ctx_vcpu *out)
{
	struct nestor_l2ctx *c = (struct nestor_l2ctx *)ctx;
	int i, n = 0;

	spin_lock(&c->vcpu_lock);
	for (i = 0; i < NESTOR_CTX_VCPUS; i++)
		if (c->vcpus[i].used)
			out[n++] = c->vcpus[i];
	spin_unlock(&c->vcpu_lock);
	return n;
}

/* ---------------------------------------------------------------- */
/* tracepoint probes                                                  */
/* ---------------------------------------------------------------- */

static void probe_vmenter(void *data, u64 rip, u64 vmcb, u64 nested_rip,
			  u32 int_ctl, u32 event_inj, bool tdp_enabled,
			  u64 guest_tdp_pgd, u64 guest_cr3, u32 isa)
{
	struct kvm_vcpu *vcpu = kvm_get_running_vcpu();
	u64 root = tdp_enabled ? guest_tdp_pgd : 0;
	u64 now = ktime_get_boottime_ns();
	struct nestor_l2ctx *ctx;
	struct nestor_vcpu *nv;

	if (!vcpu)
		return;
	rcu_read_lock();
	nv = vcpu_lookup(vcpu);
	ctx = nv ? rcu_dereference(nv->cur) : NULL;
	if (!ctx || ctx->vmcs12 != vmcb || ctx->root != root || ctx->dead)
		ctx = enter_slow(vcpu, vmcb, root, tdp_enabled, isa, now);
	if (ctx) {
		atomic64_inc(&ctx->entries);
		WRITE_ONCE(ctx->last_seen_ns, now);
		ctx_note_cr3(ctx, vcpu, guest_cr3, false);
	}
	rcu_read_unlock();
}

static struct nestor_l2ctx *current_ctx_rcu(const struct kvm_vcpu *vcpu)
{
	struct nestor_vcpu *nv = vcpu_lookup(vcpu);

	return nv ? rcu_dereference(nv->cur) : NULL;
}

static void probe_vmexit(void *data, struct kvm_vcpu *vcpu, u32 isa)
{
	struct nestor_l2ctx *ctx;

	rcu_read_lock();
	ctx = current_ctx_rcu(vcpu);
	if (ctx) {
		u32 reason = nestor_arch->exit_reason(vcpu);

		atomic64_inc(&ctx->exits[nestor_exit_slot(ctx->isa, reason)][0]);
		ctx_note_cr3(ctx, vcpu, nestor_arch->guest_cr3(vcpu), true);
	}
	rcu_read_unlock();
}

static void probe_vmexit_inject(void *data, u32 exit_code, u64 info1,
				u64 info2, u32 int_info, u32 int_info_err,
				u32 isa)
{
	struct kvm_vcpu *vcpu = kvm_get_running_vcpu();
	struct nestor_l2ctx *ctx;

	if (!vcpu)
		return;
	rcu_read_lock();
	ctx = current_ctx_rcu(vcpu);
	if (ctx)
		atomic64_inc(&ctx->exits[nestor_exit_slot(ctx->isa,
							  exit_code)][1]);
	rcu_read_unlock();
}

void nestor_ctx_count_completed(struct nestor_l2ctx *ctx, u32 reason,
				bool count_seen)
{
	int slot = nestor_exit_slot(ctx->isa, reason);

	if (count_seen)
		atomic64_inc(&ctx->exits[slot][0]);
	atomic64_inc(&ctx->exits[slot][2]);
	/*
	 * L0 resumes L2 itself after a completed exit, with no nested entry
	 * from L1: an L2 whose exits nestor serves (a console being written)
	 * is busy, not idle, and must not be retired under its service.
	 */
	WRITE_ONCE(ctx->last_seen_ns, ktime_get_boottime_ns());
}

/* ---------------------------------------------------------------- */
/* idle expiry                                                        */
/* ---------------------------------------------------------------- */

static unsigned long expiry_period(void)
{
	unsigned int ms = max(READ_ONCE(nestor_idle_expiry_ms) / 4, 100U);

	return msecs_to_jiffies(ms);
}

static void expiry_fn(struct work_struct *work)
{
	u64 now = ktime_get_boottime_ns();
	u64 idle_ns = (u64)READ_ONCE(nestor_idle_expiry_ms) * NSEC_PER_MSEC;
	struct nestor_l2ctx *ctx, *tmp;
	struct nestor_vm *vm;

	spin_lock(&registry_lock);
	list_for_each_entry(vm, &nestor_vms, node) {
		list_for_each_entry_safe(ctx, tmp, &vm->ctxs, vm_node) {
			if (now - READ_ONCE(ctx->last_seen_ns) > idle_ns)
				ctx_retire(ctx, true);
		}
	}
	if (registry_live)
		schedule_delayed_work(&expiry_work, expiry_period());
	spin_unlock(&registry_lock);
}

/* ---------------------------------------------------------------- */
/* introspection: pinning a VM                                        */
/* ---------------------------------------------------------------- */

struct kvm *nestor_ctx_get_kvm(struct nestor_l2ctx *ctx,
			       struct nestor_mem_vm **mv,
			       struct nestor_mem_vm **spare)
{
	struct kvm *kvm = NULL;
	struct nestor_vm *vm;

	spin_lock(&registry_lock);
	if (ctx->dead)
		goto out;
	vm = ctx->vm;
	/*
	 * A listed VM has not reached kvm_arch_destroy_vm(), so its struct
	 * kvm is allocated; kvm_get_kvm_safe() refuses one whose last user
	 * is gone (its destruction is on the way).
	 */
	kvm = (struct kvm *)vm->kvm;
	if (!kvm_get_kvm_safe(kvm)) {
		kvm = NULL;
		goto out;
	}
	if (!vm->mem && *spare) {
		vm->mem = *spare;
		*spare = NULL;
		nestor_mem_vm_attach(kvm, vm->mem, vm->id);
	}
	*mv = vm->mem;
out:
	spin_unlock(&registry_lock);
	return kvm;
}

struct nestor_mem_vm *nestor_registry_detach_mem(struct kvm **kvmp)
{
	struct nestor_mem_vm *mv = NULL;
	struct nestor_vm *vm;
	struct kvm *kvm;

	spin_lock(&registry_lock);
	list_for_each_entry(vm, &nestor_vms, node) {
		if (!vm->mem)
			continue;
		kvm = (struct kvm *)vm->kvm;
		if (!kvm_get_kvm_safe(kvm)) {
			/* Dying: no vCPU is left to call us; unlink now. */
			nestor_mem_vm_gone(kvm, vm->mem);
			vm->mem = NULL;
			continue;
		}
		mv = vm->mem;
		vm->mem = NULL;
		*kvmp = kvm;
		break;
	}
	spin_unlock(&registry_lock);
	return mv;
}

/* ---------------------------------------------------------------- */
/* dumps                                                              */
/* ---------------------------------------------------------------- */

int nestor_registry_walk_vms(u32 start_id,
			     int (*fn)(const struct nestor_vm *vm, void *arg),
			     void *arg, u32 *next_id)
{
	struct nestor_vm *vm;
	int err = 0;

	spin_lock(&registry_lock);
	list_for_each_entry(vm, &nestor_vms, node) {
		if (vm->id < start_id)
			continue;
		err = fn(vm, arg);
		if (err) {
			*next_id = vm->id;
			break;
		}
	}
	spin_unlock(&registry_lock);
	return err;
}

int nestor_registry_walk_ctxs(u32 start_id,
			      int (*fn)(const struct nestor_l2ctx *ctx,
					void *arg),
			      void *arg, u32 *next_id)
{
	struct nestor_l2ctx *ctx;
	struct nestor_vm *vm;
	int err = 0;

	/* Context ids grow with time, but VMs interleave: visit all. */
	spin_lock(&registry_lock);
	list_for_each_entry(vm, &nestor_vms, node) {
		list_for_each_entry(ctx, &vm->ctxs, vm_node) {
			if (ctx->id < start_id)
				continue;
			err = fn(ctx, arg);
			if (err) {
				*next_id = ctx->id;
				goto out;
			}
		}
	}
out:
	spin_unlock(&registry_lock);
	return err;
}

/* ---------------------------------------------------------------- */
/* setup                                                              */
/* ---------------------------------------------------------------- */

static int check_tracepoints(void)
{
	static const char *const vmenter[] = {
		"void *", "u64", "u64", "u64", "u32", "u32", "bool", "u64",
		"u64", "u32",
	};
	static const char *const vmexit[] = {
		"void *", "struct kvm_vcpu *", "u32",
	};
	static const char *const inject[] = {
		"void *", "u32", "u64", "u64", "u32", "u32", "u32",
	};
	int err;

	err = nestor_layout_check_tracepoint("kvm_nested_vmenter",
					     ARRAY_SIZE(vmenter), vmenter);
	if (!err)
		err = nestor_layout_check_tracepoint("kvm_nested_vmexit",
						     ARRAY_SIZE(vmexit), vmexit);
	if (!err)
		err = nestor_layout_check_tracepoint("kvm_nested_vmexit_inject",
						     ARRAY_SIZE(inject), inject);
	return err;
}

int nestor_registry_init(void)
{
	int err;

	err = check_tracepoints();
	if (err)
		return err;

	spin_lock(&registry_lock);
	registry_live = true;
	spin_unlock(&registry_lock);

	err = tracepoint_probe_register(&__tracepoint_kvm_nested_vmenter,
					probe_vmenter, NULL);
	if (err)
		goto fail;
	err = tracepoint_probe_register(&__tracepoint_kvm_nested_vmexit,
					probe_vmexit, NULL);
	if (err)
		goto fail_vmenter;
	err = tracepoint_probe_register(&__tracepoint_kvm_nested_vmexit_inject,
					probe_vmexit_inject, NULL);
	if (err)
		goto fail_vmexit;
	schedule_delayed_work(&expiry_work, expiry_period());
	return 0;

fail_vmexit:
	tracepoint_probe_unregister(&__tracepoint_kvm_nested_vmexit,
				    probe_vmexit, NULL);
fail_vmenter:
	tracepoint_probe_unregister(&__tracepoint_kvm_nested_vmenter,
				    probe_vmenter, NULL);
fail:
	pr_err("nestor: cannot attach to KVM's nested tracepoints (%d)\n", err);
	registry_live = false;
	tracepoint_synchronize_unregister();
	return err;
}

void nestor_registry_exit(void)
{
	struct nestor_vm *vm, *tmp;

	tracepoint_probe_unregister(&__tracepoint_kvm_nested_vmexit_inject,
				    probe_vmexit_inject, NULL);
	tracepoint_probe_unregister(&__tracepoint_kvm_nested_vmexit,
				    probe_vmexit, NULL);
	tracepoint_probe_unregister(&__tracepoint_kvm_nested_vmenter,
				    probe_vmenter, NULL);
	tracepoint_synchronize_unregister();

	spin_lock(&registry_lock);
	registry_live = false;
	spin_unlock(&registry_lock);
	cancel_delayed_work_sync(&expiry_work);

	spin_lock(&registry_lock);
	list_for_each_entry_safe(vm, tmp, &nestor_vms, node)
		vm_remove(vm, false);
	spin_unlock(&registry_lock);
	/* Wait for kfree_rcu()/call_rcu() of what was just removed. */
	rcu_barrier();
}

