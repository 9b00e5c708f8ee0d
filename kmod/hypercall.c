// SPDX-License-Identifier: GPL-2.0
/*
 * nestor's hypercall leaf (Documentation/hypercall.rst).  L2 executes
 * VMCALL/VMMCALL with RAX = NESTOR_HC_LEAF; the exit is completed here in
 * L0 and never reaches L1.  The "ping" function proves the path end to end;
 * the identity functions are in identity.c.
 */
#include <linux/module.h>
#include <linux/mutex.h>

#include "nestor.h"

static bool ping_enabled = true;
static bool hypercall_live;
static bool claimed;
static DEFINE_MUTEX(hypercall_mutex);

static enum nestor_claim_result hypercall_handle(struct nestor_exit_ctx *ec,
						 void *priv)
{
	struct kvm_vcpu *vcpu = ec->vcpu;
	u64 function = nestor_reg_read(vcpu, VCPU_REGS_RBX);
	u64 status;

	switch (function) {
	case NESTOR_HC_FN_PING:
		nestor_reg_write(vcpu, VCPU_REGS_RBX,
				 ~nestor_reg_read(vcpu, VCPU_REGS_RCX));
		nestor_reg_write(vcpu, VCPU_REGS_RCX, NESTOR_UAPI_VERSION);
		status = NESTOR_HC_OK;
		break;
	case NESTOR_HC_FN_CHALLENGE:
	case NESTOR_HC_FN_REGISTER:
	case NESTOR_HC_FN_QUERY:
	case NESTOR_HC_FN_UNREGISTER:
		/* identity.c; it may sleep (guest memory, HMAC) */
		status = nestor_ident_hypercall(ec, function);
		break;
	default:
		status = NESTOR_HC_ENOSYS;
		break;
	}
	nestor_reg_write(vcpu, VCPU_REGS_RAX, status);
	nestor_skip_instruction(vcpu);
	return NESTOR_COMPLETED;
}

static struct nestor_claim hypercall_claim = {
	.kind = NESTOR_EXIT_HYPERCALL,
	.leaf = NESTOR_HC_LEAF,
	.handle = hypercall_handle,
};

/* Claims or releases the leaf to match ping_enabled; hypercall_mutex held. */
static int hypercall_sync(void)
{
	int err = 0;

	if (hypercall_live && ping_enabled && !claimed) {
		err = nestor_claim_add(&hypercall_claim);
		claimed = !err;
	} else if ((!hypercall_live || !ping_enabled) && claimed) {
		nestor_claim_del(&hypercall_claim);
		claimed = false;
	}
	return err;
}

static int ping_param_set(const char *val, const struct kernel_param *kp)
{
	int err;

	mutex_lock(&hypercall_mutex);
	err = param_set_bool(val, kp);
	if (!err)
		err = hypercall_sync();
	mutex_unlock(&hypercall_mutex);
	return err;
}

static const struct kernel_param_ops ping_param_ops = {
	.set = ping_param_set,
	.get = param_get_bool,
};
module_param_cb(hypercall, &ping_param_ops, &ping_enabled, 0644);
MODULE_PARM_DESC(hypercall,
		 "Answer nestor's hypercall leaf from L2 in L0 (default: Y)");

bool nestor_hypercall_claimed(void)
{
	return READ_ONCE(claimed);
}

int nestor_hypercall_init(void)
{
	int err;

	mutex_lock(&hypercall_mutex);
	hypercall_live = true;
	err = hypercall_sync();
	if (err)
		hypercall_live = false;
	mutex_unlock(&hypercall_mutex);
	return err;
}

void nestor_hypercall_exit(void)
{
	mutex_lock(&hypercall_mutex);
	hypercall_live = false;
	hypercall_sync();
	mutex_unlock(&hypercall_mutex);
}
