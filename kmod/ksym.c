// SPDX-License-Identifier: GPL-2.0
/*
 * Addresses of KVM's non-exported functions.  kallsyms_lookup_name() is not
 * exported to modules since 5.7; registering a kprobe by symbol name makes
 * the kprobe core resolve the name, which is the supported way left.
 */
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "nestor.h"

unsigned long nestor_ksym_lookup(const char *name)
{
	struct kprobe kp = { .symbol_name = name };
	unsigned long addr;

	if (register_kprobe(&kp))
		return 0;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return addr;
}

/* Size of the function at @addr, from "name+0x0/0xsize [module]". */
int nestor_ksym_size(unsigned long addr, unsigned long *size)
{
	char buf[KSYM_SYMBOL_LEN];
	char *slash;

	sprint_symbol(buf, addr);
	slash = strchr(buf, '/');
	if (!slash || !strstr(buf, "+0x0/"))
		return -ENOENT;
	if (sscanf(slash + 1, "%lx", size) != 1 || !*size)
		return -EINVAL;
	return 0;
}
