/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small reader of raw BTF (include/uapi/linux/btf.h), including split BTF
 * of modules on top of vmlinux's.  The kernel exports no by-name lookup to
 * modules, and nestor must learn KVM's private layouts and prototypes at
 * load time, so it reads /sys/kernel/btf/{vmlinux,kvm,...} itself.  Pure
 * code: the userspace unit tests run it on the BTF of Debian's modules.
 */
#ifndef NESTOR_BTF_READER_H
#define NESTOR_BTF_READER_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
/* Userspace unit tests: selftests/unit/kernel_types.h */
#include "kernel_types.h"
#endif

struct nestor_btf {
	const u8 *data;
	size_t size;
	const u8 *types;
	u32 types_len;
	const char *strs;
	u32 strs_len;
	u32 first_id;		/* 1 for vmlinux; base's end for split BTF */
	u32 first_str;		/* 0 for vmlinux; base's strs_len for split */
	u32 nr_types;
	u32 *offsets;		/* type id - first_id -> offset in types */
	const struct nestor_btf *base;
};

/* Indexes @data (which must stay valid); @base is NULL for vmlinux. */
int nestor_btf_open(struct nestor_btf *btf, const void *data, size_t size,
		    const struct nestor_btf *base);
void nestor_btf_close(struct nestor_btf *btf);

/* Type id of a named type of a BTF kind in @btf itself, or 0. */
u32 nestor_btf_find(const struct nestor_btf *btf, const char *name, u32 kind);
/* Byte offset of @member in struct @struct_id; -ENOENT if absent. */
int nestor_btf_member_offset(const struct nestor_btf *btf, u32 struct_id,
			     const char *member, u32 *offset);
/* The same, and the member's type id (for nestor_btf_describe()). */
int nestor_btf_member(const struct nestor_btf *btf, u32 struct_id,
		      const char *member, u32 *offset, u32 *type_id);
/*
 * Describes a type as nestor's checks name it: "u32", "u64", "s32",
 * "bool", "void", "struct kvm_vcpu *", "void *"...  Typedefs and
 * qualifiers are looked through.
 */
int nestor_btf_describe(const struct nestor_btf *btf, u32 id, char *buf,
			size_t len);
/*
 * Signature of a function prototype: return type and parameters, each
 * described as above.  @proto_id is a FUNC_PROTO (or a FUNC, or a typedef of
 * a pointer to one).  Returns the number of parameters or a negative errno.
 */
int nestor_btf_signature(const struct nestor_btf *btf, u32 proto_id,
			 char *ret, size_t ret_len,
			 char params[][48], int max_params);

#endif /* NESTOR_BTF_READER_H */
