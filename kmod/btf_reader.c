// SPDX-License-Identifier: GPL-2.0
/*
 * Raw BTF reader; see btf_reader.h.  The format is the stable uapi in
 * include/uapi/linux/btf.h and Documentation/bpf/btf.rst.
 */
#include "btf_reader.h"

#ifdef __KERNEL__
#include <linux/btf.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>
#define btf_alloc_array(n, sz)	kvmalloc_array(n, sz, GFP_KERNEL)
#define btf_free(p)		kvfree(p)
#else
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/btf.h>
#define btf_alloc_array(n, sz)	calloc(n, sz)
#define btf_free(p)		free(p)
#endif

#define KIND(t)		(((t)->info >> 24) & 0x1f)
#define VLEN(t)		((t)->info & 0xffff)
#define KFLAG(t)	((t)->info >> 31)

/* Size of the data that follows a struct btf_type of this kind. */
static long extra_size(const struct btf_type *t)
{
	switch (KIND(t)) {
	case BTF_KIND_INT:
		return sizeof(u32);
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (long)VLEN(t) * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (long)VLEN(t) * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (long)VLEN(t) * sizeof(struct btf_param);
	case BTF_KIND_VAR:
		return sizeof(struct btf_var);
	case BTF_KIND_DATASEC:
		return (long)VLEN(t) * sizeof(struct btf_var_secinfo);
	case BTF_KIND_DECL_TAG:
		return sizeof(struct btf_decl_tag);
	case 19: /* BTF_KIND_ENUM64 */
		return (long)VLEN(t) * 3 * sizeof(u32);
	default:
		return -1;
	}
}

int nestor_btf_open(struct nestor_btf *btf, const void *data, size_t size,
		    const struct nestor_btf *base)
{
	const struct btf_header *hdr = data;
	u32 off, n;

	memset(btf, 0, sizeof(*btf));
	if (size < sizeof(*hdr) || hdr->magic != BTF_MAGIC ||
	    hdr->version != BTF_VERSION || hdr->hdr_len > size)
		return -EINVAL;
	if ((u64)hdr->hdr_len + hdr->type_off + hdr->type_len > size ||
	    (u64)hdr->hdr_len + hdr->str_off + hdr->str_len > size)
		return -EINVAL;

	btf->data = data;
	btf->size = size;
	btf->types = (const u8 *)data + hdr->hdr_len + hdr->type_off;
	btf->types_len = hdr->type_len;
	btf->strs = (const char *)data + hdr->hdr_len + hdr->str_off;
	btf->strs_len = hdr->str_len;
	btf->base = base;
	btf->first_id = base ? base->first_id + base->nr_types : 1;
	btf->first_str = base ? base->first_str + base->strs_len : 0;
	if (!btf->strs_len || btf->strs[btf->strs_len - 1])
		return -EINVAL;

	/* Two passes: count, then index. */
	for (n = 0, off = 0; off < btf->types_len; n++) {
		const struct btf_type *t = (const void *)(btf->types + off);
		long extra;

		if (off + sizeof(*t) > btf->types_len)
			return -EINVAL;
		extra = extra_size(t);
		if (extra < 0)
			return -EINVAL;
		off += sizeof(*t) + extra;
	}
	if (off != btf->types_len)
		return -EINVAL;
	btf->offsets = btf_alloc_array(n ? n : 1, sizeof(u32));
	if (!btf->offsets)
		return -ENOMEM;
	for (n = 0, off = 0; off < btf->types_len; n++) {
		const struct btf_type *t = (const void *)(btf->types + off);

		btf->offsets[n] = off;
		off += sizeof(*t) + extra_size(t);
	}
	btf->nr_types = n;
	return 0;
}

void nestor_btf_close(struct nestor_btf *btf)
{
	btf_free(btf->offsets);
	btf->offsets = NULL;
}

static const struct btf_type *type_by_id(const struct nestor_btf *btf,
					 u32 id)
{
	while (btf && id < btf->first_id)
		btf = btf->base;
	if (!btf || id == 0 || id - btf->first_id >= btf->nr_types)
		return NULL;
	return (const void *)(btf->types + btf->offsets[id - btf->first_id]);
}

static const char *name_at(const struct nestor_btf *btf, u32 off)
{
	while (btf && off < btf->first_str)
		btf = btf->base;
	if (!btf || off - btf->first_str >= btf->strs_len)
		return "";
	return btf->strs + (off - btf->first_str);
}

u32 nestor_btf_find(const struct nestor_btf *btf, const char *name, u32 kind)
{
	u32 i;

	for (i = 0; i < btf->nr_types; i++) {
		const struct btf_type *t =
			(const void *)(btf->types + btf->offsets[i]);

		if (KIND(t) == kind && !strcmp(name_at(btf, t->name_off), name))
			return btf->first_id + i;
	}
	return 0;
}

/* Looks through typedefs and qualifiers; returns the id it ends on. */
static u32 skip_mods(const struct nestor_btf *btf, u32 id)
{
	int depth;

	for (depth = 0; depth < 32; depth++) {
		const struct btf_type *t = type_by_id(btf, id);

		if (!t)
			return id;
		switch (KIND(t)) {
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default:
			return id;
		}
	}
	return id;
}

int nestor_btf_member_offset(const struct nestor_btf *btf, u32 struct_id,
			     const char *member, u32 *offset)
{
	return nestor_btf_member(btf, struct_id, member, offset, NULL);
}

int nestor_btf_member(const struct nestor_btf *btf, u32 struct_id,
		      const char *member, u32 *offset, u32 *type_id)
{
	const struct btf_type *t = type_by_id(btf, struct_id);
	const struct btf_member *m;
	u32 i;

	if (!t || (KIND(t) != BTF_KIND_STRUCT && KIND(t) != BTF_KIND_UNION))
		return -EINVAL;
	m = (const void *)(t + 1);
	for (i = 0; i < VLEN(t); i++, m++) {
		/* With kind_flag, the low 24 bits are the bit offset. */
		u32 bits = KFLAG(t) ? m->offset & 0xffffff : m->offset;

		if (strcmp(name_at(btf, m->name_off), member))
			continue;
		if (bits % 8)
			return -EINVAL;
		/* A bitfield's type does not say how it is stored. */
		if (type_id && KFLAG(t) && m->offset >> 24)
			return -EINVAL;
		*offset = bits / 8;
		if (type_id)
			*type_id = m->type;
		return 0;
	}
	return -ENOENT;
}

int nestor_btf_describe(const struct nestor_btf *btf, u32 id, char *buf,
			size_t len)
{
	const struct btf_type *t;
	u32 enc;
	int n;

	id = skip_mods(btf, id);
	if (id == 0)
		return snprintf(buf, len, "void") >= (int)len ? -ENOSPC : 0;
	t = type_by_id(btf, id);
	if (!t)
		return -EINVAL;

	switch (KIND(t)) {
	case BTF_KIND_INT:
		enc = *(const u32 *)(t + 1);
		if (BTF_INT_ENCODING(enc) & BTF_INT_BOOL)
			n = snprintf(buf, len, "bool");
		else
			n = snprintf(buf, len, "%c%u",
				     BTF_INT_ENCODING(enc) & BTF_INT_SIGNED ?
				     's' : 'u', t->size * 8);
		break;
	case BTF_KIND_ENUM:
		n = snprintf(buf, len, "enum %s", name_at(btf, t->name_off));
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_FWD:
		n = snprintf(buf, len, "%s %s",
			     KIND(t) == BTF_KIND_UNION ? "union" : "struct",
			     name_at(btf, t->name_off));
		break;
	case BTF_KIND_PTR: {
		char inner[64];
		int err = nestor_btf_describe(btf, t->type, inner,
					      sizeof(inner));

		if (err)
			return err;
		n = snprintf(buf, len, "%s *", inner);
		break;
	}
	default:
		n = snprintf(buf, len, "kind%u", KIND(t));
		break;
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int nestor_btf_signature(const struct nestor_btf *btf, u32 proto_id,
			 char *ret, size_t ret_len,
			 char params[][48], int max_params)
{
	const struct btf_type *t = type_by_id(btf, proto_id);
	const struct btf_param *p;
	int i, err;

	/* FUNC -> FUNC_PROTO; typedef of a pointer to FUNC_PROTO -> PROTO. */
	if (t && KIND(t) == BTF_KIND_FUNC)
		t = type_by_id(btf, t->type);
	if (t && KIND(t) == BTF_KIND_TYPEDEF) {
		t = type_by_id(btf, skip_mods(btf, t->type));
		if (t && KIND(t) == BTF_KIND_PTR)
			t = type_by_id(btf, skip_mods(btf, t->type));
	}
	if (!t || KIND(t) != BTF_KIND_FUNC_PROTO)
		return -EINVAL;

	err = nestor_btf_describe(btf, t->type, ret, ret_len);
	if (err)
		return err;
	p = (const void *)(t + 1);
	for (i = 0; i < (int)VLEN(t); i++, p++) {
		if (i >= max_params)
			return -E2BIG;
		err = nestor_btf_describe(btf, p->type, params[i], 48);
		if (err)
			return err;
	}
	return VLEN(t);
}
