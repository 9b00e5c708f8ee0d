// SPDX-License-Identifier: GPL-2.0
/*
 * nestor: services for L2 guests, offered by L0 from outside the untrusted
 * L1 hypervisor.  Module setup; Documentation/architecture.rst has the
 * design.
 */
#include <linux/module.h>

#include "nestor.h"
#include "netfilter/capture.h"

u64 nestor_features(void)
{
	u64 features = NESTOR_FEAT_REGISTRY | NESTOR_FEAT_MEM;

	if (nestor_hook_armed())
		features |= NESTOR_FEAT_DIVERT;
	if (nestor_hook_armed() && nestor_hypercall_claimed())
		features |= NESTOR_FEAT_PING;
	if (nestor_hook_armed())
		features |= NESTOR_FEAT_CONSOLE | NESTOR_FEAT_CONSOLE_ARM |
			    NESTOR_FEAT_CONSOLE_SIGNED;
	if (nestor_hook_armed() && nestor_hypercall_claimed() &&
	    nestor_ident_ready())
		features |= NESTOR_FEAT_IDENTITY;
	return features;
}

static const struct nestor_arch_ops *pick_arch(void)
{
	if (nestor_ksym_lookup(nestor_vmx_ops.divert_symbol))
		return &nestor_vmx_ops;
	if (nestor_ksym_lookup(nestor_svm_ops.divert_symbol))
		return &nestor_svm_ops;
	return NULL;
}

static int __init nestor_init(void)
{
	int err;

	err = nestor_layout_init();
	if (err) {
		pr_err("nestor: needs the kernel's BTF (CONFIG_DEBUG_INFO_BTF)\n");
		return err;
	}
	nestor_arch = pick_arch();
	if (!nestor_arch) {
		pr_err("nestor: neither kvm_intel nor kvm_amd is loaded\n");
		err = -ENODEV;
		goto out_layout;
	}
	err = nestor_arch->init();
	if (err)
		goto out_layout;

	err = nestor_genl_init();
	if (err)
		goto out_layout;
	err = nestor_registry_init();
	if (err)
		goto out_genl;
	err = nestor_hook_init();
	if (err)
		goto out_registry;
	err = nestor_ident_init();
	if (err)
		goto out_hook;
	err = nestor_hypercall_init();
	if (err)
		goto out_ident;
	err = nestor_chardev_init();
	if (err)
		goto out_hypercall;
	err = nestor_capture_init();
	if (err)
		goto out_chardev;

	nestor_layout_exit();
	pr_info("nestor %s: %s backend, exit diversion armed\n",
		NESTOR_MODULE_VERSION, nestor_arch->name);
	return 0;

out_chardev:
	nestor_chardev_exit();
out_hypercall:
	nestor_hypercall_exit();
out_ident:
	nestor_ident_exit();
	nestor_keys_exit();
out_hook:
	nestor_hook_exit();
out_registry:
	nestor_registry_exit();
out_genl:
	nestor_genl_exit();
out_layout:
	nestor_layout_exit();
	return err;
}

static void __exit nestor_exit(void)
{
	nestor_capture_exit();
	nestor_chardev_exit();
	nestor_console_exit();
	/* Needs the destroy hook to still be armed. */
	nestor_mem_exit();
	nestor_hypercall_exit();
	nestor_ident_exit();
	nestor_keys_exit();
	nestor_hook_exit();
	nestor_registry_exit();
	nestor_genl_exit();
}

module_init(nestor_init);
module_exit(nestor_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Services for nested L2 guests from L0, outside L1");
MODULE_VERSION(NESTOR_MODULE_VERSION);
MODULE_SOFTDEP("pre: kvm");
