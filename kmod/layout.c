// SPDX-License-Identifier: GPL-2.0
/*
 * Load-time checks of KVM's private layouts and prototypes against the
 * running kernel's BTF (/sys/kernel/btf/).  nestor hard-codes no private
 * offset: it reads them here, and refuses to load, naming the symbol,
 * when one is missing or differs from what the code was written for.
 */
#include <linux/kernel.h>
#include <linux/kernel_read_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/btf.h>

#include "nestor.h"
#include "btf_reader.h"

#define NESTOR_BTF_MAX_SIZE	(64 << 20)
#define NESTOR_BTF_CACHED	4

struct loaded_btf {
	char module[32];
	void *data;
	struct nestor_btf btf;
};

static struct loaded_btf vmlinux_btf;
static struct loaded_btf module_btfs[NESTOR_BTF_CACHED];

static int load_one(struct loaded_btf *lb, const char *module,
		    const struct nestor_btf *base)
{
	char path[64];
	size_t file_size = 0;
	ssize_t n;
	int err;

	snprintf(path, sizeof(path), "/sys/kernel/btf/%s", module);
	n = kernel_read_file_from_path(path, 0, &lb->data, NESTOR_BTF_MAX_SIZE,
				       &file_size, READING_UNKNOWN);
	if (n < 0) {
		pr_err("nestor: cannot read %s (%zd): is %s loaded, with BTF?\n",
		       path, n, module);
		lb->data = NULL;
		return n;
	}
	err = nestor_btf_open(&lb->btf, lb->data, n, base);
	if (err) {
		pr_err("nestor: %s is not BTF this module understands (%d)\n",
		       path, err);
		vfree(lb->data);
		lb->data = NULL;
		return err;
	}
	strscpy(lb->module, module, sizeof(lb->module));
	return 0;
}

static const struct nestor_btf *btf_of(const char *module)
{
	int i;

	if (!vmlinux_btf.data && load_one(&vmlinux_btf, "vmlinux", NULL))
		return NULL;
	if (!strcmp(module, "vmlinux"))
		return &vmlinux_btf.btf;
	for (i = 0; i < NESTOR_BTF_CACHED; i++) {
		if (module_btfs[i].data &&
		    !strcmp(module_btfs[i].module, module))
			return &module_btfs[i].btf;
	}
	for (i = 0; i < NESTOR_BTF_CACHED; i++) {
		if (!module_btfs[i].data) {
			if (load_one(&module_btfs[i], module, &vmlinux_btf.btf))
				return NULL;
			return &module_btfs[i].btf;
		}
	}
	return NULL;
}

int nestor_layout_init(void)
{
	return btf_of("vmlinux") ? 0 : -ENOENT;
}

void nestor_layout_exit(void)
{
	int i;

	for (i = 0; i < NESTOR_BTF_CACHED; i++) {
		if (!module_btfs[i].data)
			continue;
		nestor_btf_close(&module_btfs[i].btf);
		vfree(module_btfs[i].data);
		module_btfs[i].data = NULL;
	}
	if (vmlinux_btf.data) {
		nestor_btf_close(&vmlinux_btf.btf);
		vfree(vmlinux_btf.data);
		vmlinux_btf.data = NULL;
	}
}

int nestor_layout_member_offset(const char *module, const char *struct_name,
				const char *member, u32 *offset_bytes)
{
	return nestor_layout_member_typed(module, struct_name, member, NULL,
					  offset_bytes);
}

/* @type_name NULL: any type (and bitfields are not refused). */
int nestor_layout_member_typed(const char *module, const char *struct_name,
			       const char *member, const char *type_name,
			       u32 *offset_bytes)
{
	const struct nestor_btf *btf = btf_of(module);
	char type[64];
	u32 id, type_id;
	int err;

	if (!btf)
		return -ENOENT;
	id = nestor_btf_find(btf, struct_name, BTF_KIND_STRUCT);
	if (!id) {
		pr_err("nestor: %s: struct %s not found in BTF\n", module,
		       struct_name);
		return -ENOENT;
	}
	err = nestor_btf_member(btf, id, member, offset_bytes,
				type_name ? &type_id : NULL);
	if (err) {
		pr_err("nestor: %s: struct %s has no usable member %s (%d)\n",
		       module, struct_name, member, err);
		return err;
	}
	if (!type_name)
		return 0;
	err = nestor_btf_describe(btf, type_id, type, sizeof(type));
	if (err || strcmp(type, type_name)) {
		pr_err("nestor: %s: %s.%s is %s, expected %s\n", module,
		       struct_name, member, err ? "unreadable" : type,
		       type_name);
		return -EINVAL;
	}
	return 0;
}

static int check_btf_signature(const struct nestor_btf *btf, u32 id,
			       const char *what, const char *ret_name,
			       int nr_params, const char *const *param_names)
{
	char ret[48], params[12][48];
	int n, i;

	n = nestor_btf_signature(btf, id, ret, sizeof(ret), params,
				 ARRAY_SIZE(params));
	if (n < 0) {
		pr_err("nestor: %s: unreadable prototype (%d)\n", what, n);
		return n;
	}
	if (ret_name && strcmp(ret, ret_name)) {
		pr_err("nestor: %s returns %s, expected %s\n", what, ret,
		       ret_name);
		return -EINVAL;
	}
	if (n != nr_params) {
		pr_err("nestor: %s takes %d parameters, expected %d\n", what,
		       n, nr_params);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(params[i], param_names[i])) {
			pr_err("nestor: %s parameter %d is %s, expected %s\n",
			       what, i, params[i], param_names[i]);
			return -EINVAL;
		}
	}
	return 0;
}

int nestor_layout_check_func(const char *module, const char *func,
			     const char *ret_name, int nr_params,
			     const char *const *param_names)
{
	const struct nestor_btf *btf = btf_of(module);
	u32 id;

	if (!btf)
		return -ENOENT;
	id = nestor_btf_find(btf, func, BTF_KIND_FUNC);
	if (!id) {
		pr_err("nestor: %s: function %s not found in BTF\n", module,
		       func);
		return -ENOENT;
	}
	return check_btf_signature(btf, id, func, ret_name, nr_params,
			       param_names);
}

int nestor_layout_check_tracepoint(const char *tp, int nr_args,
				   const char *const *arg_names)
{
	const struct nestor_btf *btf = btf_of("kvm");
	char name[64];
	u32 id;

	if (!btf)
		return -ENOENT;
	/* Every tracepoint has a "btf_trace_<name>" typedef of its probe. */
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = nestor_btf_find(btf, name, BTF_KIND_TYPEDEF);
	if (!id) {
		pr_err("nestor: kvm: tracepoint %s not found in BTF\n", tp);
		return -ENOENT;
	}
	return check_btf_signature(btf, id, tp, "void", nr_args, arg_names);
}
