// SPDX-License-Identifier: GPL-2.0
/*
 * The exit-divert hook.
 *
 * KVM decides whether an L2 exit goes to L1 in nested_vmx_reflect_vmexit()
 * (VMX) or nested_svm_exit_handled() (SVM).  An ftrace ops with IPMODIFY on
 * that function's entry sends the call to a wrapper here when some service
 * claimed the exit's kind; the wrapper either completes the exit in L0 and
 * returns "handled" (KVM resumes L2, L1 never sees it) or calls KVM's
 * function unchanged.  Livepatch uses the same mechanism, and ftrace allows
 * one IPMODIFY user per function: a conflict is reported at load.
 *
 * Fast path, nothing claimed: the ftrace callback tests a static key and
 * returns, with no lock and no allocation.  With claims, it reads the exit
 * reason (one VMREAD, or one load from the VMCB) and redirects only exits
 * of a claimed kind.
 *
 * Unload: after the ftrace ops is gone, synchronize_rcu_tasks() guarantees
 * no task is between the trampoline and the wrapper's in-flight count; the
 * count then drains (a wrapper may sleep inside KVM's function), and a last
 * synchronize_rcu_tasks() covers the wrapper's return path.
 */
#include <linux/ftrace.h>
#include <linux/jump_label.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/srcu.h>
#include <linux/wait.h>

#include "nestor.h"

const struct nestor_arch_ops *nestor_arch;

static DEFINE_STATIC_KEY_FALSE(divert_active);
static atomic_t claims_per_kind[NESTOR_EXIT_KINDS];
static LIST_HEAD(claims);
static DEFINE_MUTEX(claims_mutex);
DEFINE_STATIC_SRCU(claims_srcu);

static unsigned long divert_addr;
static unsigned long caller_start, caller_size;
static bool divert_registered, destroy_registered;
static DEFINE_MUTEX(hook_mutex);

static atomic_t inflight = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(inflight_wq);

/* ---------------------------------------------------------------- */
/* claims                                                             */
/* ---------------------------------------------------------------- */

int nestor_claim_add(struct nestor_claim *claim)
{
	if (claim->kind <= NESTOR_EXIT_OTHER || claim->kind >= NESTOR_EXIT_KINDS)
		return -EINVAL;
	mutex_lock(&claims_mutex);
	list_add_tail_rcu(&claim->node, &claims);
	atomic_inc(&claims_per_kind[claim->kind]);
	static_branch_inc(&divert_active);
	mutex_unlock(&claims_mutex);
	return 0;
}

void nestor_claim_del(struct nestor_claim *claim)
{
	mutex_lock(&claims_mutex);
	list_del_rcu(&claim->node);
	atomic_dec(&claims_per_kind[claim->kind]);
	static_branch_dec(&divert_active);
	mutex_unlock(&claims_mutex);
	/* Handlers run under SRCU and may sleep. */
	synchronize_srcu(&claims_srcu);
}

static bool claim_matches(const struct nestor_claim *c,
			  const struct nestor_exit_ctx *ec)
{
	if (c->kind != ec->exit.kind)
		return false;
	if (c->l2_id && c->l2_id != ec->ctx->id)
		return false;
	switch (c->kind) {
	case NESTOR_EXIT_HYPERCALL:
		return ec->exit.leaf == c->leaf;
	case NESTOR_EXIT_IO:
		return ec->exit.port >= c->port_first &&
		       ec->exit.port + ec->exit.size - 1 <= c->port_last;
	default:
		return false;
	}
}

/* Returns true when a service completed the exit in L0. */
static bool nestor_divert(struct kvm_vcpu *vcpu)
{
	struct nestor_exit_ctx ec = { .vcpu = vcpu };
	struct nestor_exit_raw raw;
	struct nestor_claim *c;
	bool completed = false;
	int idx;

	nestor_arch->exit_raw(vcpu, &raw);
	if (nestor_decode_exit(&raw, &ec.exit))
		return false;
	ec.ctx = nestor_ctx_get_current(vcpu);
	if (!ec.ctx)
		return false;

	idx = srcu_read_lock(&claims_srcu);
	list_for_each_entry_srcu(c, &claims, node,
				 srcu_read_lock_held(&claims_srcu)) {
		if (!claim_matches(c, &ec))
			continue;
		if (c->handle(&ec, c->priv) == NESTOR_COMPLETED) {
			completed = true;
			break;
		}
	}
	srcu_read_unlock(&claims_srcu, idx);

	if (completed)
		nestor_ctx_count_completed(ec.ctx, ec.exit.reason,
					   !nestor_arch->exit_traced_before_divert);
	nestor_ctx_put(ec.ctx);
	return completed;
}

/* ---------------------------------------------------------------- */
/* register access for handlers                                       */
/* ---------------------------------------------------------------- */

static bool is_plain_gpr(int reg)
{
	/* RSP and RIP are cached lazily by KVM; handlers never need them. */
	return reg >= VCPU_REGS_RAX && reg <= VCPU_REGS_R15 &&
	       reg != VCPU_REGS_RSP;
}

u64 nestor_reg_read(struct kvm_vcpu *vcpu, int reg)
{
	return is_plain_gpr(reg) ? vcpu->arch.regs[reg] : 0;
}

void nestor_reg_write(struct kvm_vcpu *vcpu, int reg, u64 val)
{
	if (!is_plain_gpr(reg))
		return;
	vcpu->arch.regs[reg] = val;
	vcpu->arch.regs_avail |= BIT(reg);
	vcpu->arch.regs_dirty |= BIT(reg);
}

int nestor_skip_instruction(struct kvm_vcpu *vcpu)
{
	return kvm_skip_emulated_instruction(vcpu);
}

int nestor_skip_io_instruction(struct kvm_vcpu *vcpu)
{
	/*
	 * KVM's skip keeps its side effects either way (interrupt shadow
	 * cleared, single-step trap); only how it finds the next RIP changes.
	 */
	if (nestor_arch->io_next_rip)
		nestor_arch->io_next_rip(vcpu);
	return kvm_skip_emulated_instruction(vcpu);
}

/* ---------------------------------------------------------------- */
/* wrappers that ftrace jumps to                                      */
/* ---------------------------------------------------------------- */

static void inflight_put(void)
{
	if (atomic_dec_and_test(&inflight))
		wake_up(&inflight_wq);
}

/* Same prototype as nested_vmx_reflect_vmexit(); true: handled. */
static bool nestor_vmx_wrapper(struct kvm_vcpu *vcpu)
{
	bool (*reflect)(struct kvm_vcpu *vcpu) = (void *)divert_addr;
	bool ret;

	atomic_inc(&inflight);
	ret = nestor_divert(vcpu) || reflect(vcpu);
	inflight_put();
	return ret;
}

/* NESTED_EXIT_DONE in KVM's SVM code: the exit needs nothing more. */
#define NESTOR_SVM_EXIT_DONE	1

/* Same prototype as nested_svm_exit_handled(struct vcpu_svm *). */
static int nestor_svm_wrapper(void *svm)
{
	int (*handled)(void *svm) = (void *)divert_addr;
	int ret;

	atomic_inc(&inflight);
	/* struct vcpu_svm begins with its struct kvm_vcpu (checked in BTF). */
	if (nestor_divert(svm))
		ret = NESTOR_SVM_EXIT_DONE;
	else
		ret = handled(svm);
	inflight_put();
	return ret;
}

static void notrace divert_thunk(unsigned long ip, unsigned long parent_ip,
				 struct ftrace_ops *op,
				 struct ftrace_regs *fregs)
{
	struct pt_regs *regs;
	struct kvm_vcpu *vcpu;
	enum nestor_exit_kind kind;

	if (!static_branch_unlikely(&divert_active))
		return;
	/* Our own wrappers calling KVM's function: let it run. */
	if (within_module(parent_ip, THIS_MODULE))
		return;
	/* Not a real exit (SVM: the emulator's intercept checks). */
	if (caller_size && parent_ip - caller_start >= caller_size)
		return;

	regs = ftrace_get_regs(fregs);
	vcpu = (struct kvm_vcpu *)regs->di;
	kind = nestor_exit_kind_of(nestor_arch->isa,
				   nestor_arch->exit_reason(vcpu));
	if (kind == NESTOR_EXIT_OTHER || !atomic_read(&claims_per_kind[kind]))
		return;
	regs->ip = nestor_arch->isa == NESTOR_BACKEND_VMX ?
		(unsigned long)nestor_vmx_wrapper :
		(unsigned long)nestor_svm_wrapper;
}

static struct ftrace_ops divert_ops = {
	.func = divert_thunk,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY,
};

/* ---------------------------------------------------------------- */
/* VM destruction: drop registry entries before KVM frees the VM      */
/* ---------------------------------------------------------------- */

static void notrace destroy_thunk(unsigned long ip, unsigned long parent_ip,
				  struct ftrace_ops *op,
				  struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	nestor_registry_vm_destroyed((const struct kvm *)regs->di);
}

static struct ftrace_ops destroy_ops = {
	.func = destroy_thunk,
	.flags = FTRACE_OPS_FL_SAVE_REGS,
};

static int hook_function(struct ftrace_ops *ops, const char *symbol,
			 unsigned long *addr_out)
{
	unsigned long addr = nestor_ksym_lookup(symbol);
	int err;

	if (!addr) {
		pr_err("nestor: symbol %s not found\n", symbol);
		return -ENOENT;
	}
	err = ftrace_set_filter_ip(ops, addr, 0, 0);
	if (err) {
		pr_err("nestor: %s cannot be traced (%d)\n", symbol, err);
		return err;
	}
	err = register_ftrace_function(ops);
	if (err) {
		pr_err("nestor: cannot hook %s (%d)%s\n", symbol, err,
		       err == -EBUSY ?
		       ": another IPMODIFY user (livepatch?) holds it" : "");
		ftrace_set_filter_ip(ops, addr, 1, 0);
		return err;
	}
	if (addr_out)
		*addr_out = addr;
	return 0;
}

static void divert_disarm(void)
{
	mutex_lock(&hook_mutex);
	if (divert_registered) {
		unregister_ftrace_function(&divert_ops);
		ftrace_set_filter_ip(&divert_ops, divert_addr, 1, 0);
		divert_registered = false;
		synchronize_rcu_tasks();
		wait_event(inflight_wq, !atomic_read(&inflight));
		synchronize_rcu_tasks();
	}
	mutex_unlock(&hook_mutex);
}

bool nestor_hook_armed(void)
{
	return READ_ONCE(divert_registered);
}

/*
 * ftrace drops a module's call sites when the module goes: disarm before
 * kvm_intel/kvm_amd does, so the ops is never left without its function.
 */
static int module_event(struct notifier_block *nb, unsigned long action,
			void *data)
{
	struct module *mod = data;

	if (action == MODULE_STATE_GOING && nestor_arch &&
	    !strcmp(mod->name, nestor_arch->module)) {
		pr_warn("nestor: %s is unloading: exit diversion disarmed\n",
			mod->name);
		divert_disarm();
	}
	return NOTIFY_OK;
}

static struct notifier_block module_nb = {
	.notifier_call = module_event,
};

int nestor_hook_init(void)
{
	static const char *const destroy_params[] = { "struct kvm *" };
	unsigned long caller;
	int err;

	err = nestor_layout_check_func("kvm", "kvm_arch_destroy_vm", "void", 1,
				       destroy_params);
	if (err)
		return err;

	if (nestor_arch->exit_caller_symbol) {
		caller = nestor_ksym_lookup(nestor_arch->exit_caller_symbol);
		if (!caller || nestor_ksym_size(caller, &caller_size)) {
			pr_err("nestor: symbol %s not found\n",
			       nestor_arch->exit_caller_symbol);
			return -ENOENT;
		}
		caller_start = caller;
	}

	err = register_module_notifier(&module_nb);
	if (err)
		return err;
	err = hook_function(&destroy_ops, "kvm_arch_destroy_vm", NULL);
	if (err)
		goto fail_notifier;
	destroy_registered = true;

	err = hook_function(&divert_ops, nestor_arch->divert_symbol,
			    &divert_addr);
	if (err)
		goto fail_destroy;
	divert_registered = true;
	return 0;

fail_destroy:
	unregister_ftrace_function(&destroy_ops);
	destroy_registered = false;
fail_notifier:
	unregister_module_notifier(&module_nb);
	return err;
}

void nestor_hook_exit(void)
{
	divert_disarm();
	unregister_module_notifier(&module_nb);
	if (destroy_registered) {
		unregister_ftrace_function(&destroy_ops);
		destroy_registered = false;
		synchronize_rcu_tasks();
	}
}
