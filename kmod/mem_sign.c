// SPDX-License-Identifier: GPL-2.0
/*
 * Signed introspection results (NESTOR_MEM_F_SIGN,
 * Documentation/introspection.rst "Signed results"): HMAC-SHA256 with a
 * monitor key over a header (domain tag, request, nonce, L2 identity,
 * generations, result counts) that ends with two SHA-256 digests: one of
 * the per-item metadata, one of the data bytes.  Both streams are fed
 * from the kernel's own copies, so the MAC covers what the kernel wrote
 * to the caller's buffers, not what is there later.  The encoding is
 * little-endian, fixed-width; the one variable field (the identity name)
 * is length-prefixed, and item counts are in the header, so it is
 * unambiguous.  tools/lib/sig.c computes the same for verifiers.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <asm/unaligned.h>

#include "nestor.h"

static_assert(NESTOR_MEM_IDENT_LEN == NESTOR_IDENT_NAME_MAX);
static_assert(NESTOR_MEM_MAC_LEN == NESTOR_HMAC_LEN);

#define SIGN_TAG	"nestor-mem-sig/1"	/* 16 bytes, no NUL */
#define HDR_MAX		320

struct nestor_mem_sign {
	struct nestor_mem_sig *sig;	/* the request's, for the header */
	u32 key_id;
	u32 l2_id;
	struct shash_desc *meta, *data;
	u8 hdr[HDR_MAX];
	unsigned int hlen;
};

/* One transform for every call: descriptors are per call. */
static struct crypto_shash *sha_tfm;
static DEFINE_MUTEX(sha_mutex);

static struct crypto_shash *sha_get(void)
{
	struct crypto_shash *tfm;

	mutex_lock(&sha_mutex);
	if (!sha_tfm) {
		tfm = crypto_alloc_shash("sha256", 0, 0);
		if (!IS_ERR(tfm))
			sha_tfm = tfm;
	}
	tfm = sha_tfm;
	mutex_unlock(&sha_mutex);
	return tfm;
}

void nestor_mem_sign_exit(void)
{
	if (sha_tfm)
		crypto_free_shash(sha_tfm);
	sha_tfm = NULL;
}

static struct shash_desc *desc_new(struct crypto_shash *tfm)
{
	struct shash_desc *d;

	d = kzalloc(sizeof(*d) + crypto_shash_descsize(tfm), GFP_KERNEL);
	if (!d)
		return NULL;
	d->tfm = tfm;
	if (crypto_shash_init(d)) {
		kfree(d);
		return NULL;
	}
	return d;
}

void nestor_mem_sign_free(struct nestor_mem_sign *s)
{
	if (!s)
		return;
	kfree_sensitive(s->meta);
	kfree_sensitive(s->data);
	kfree(s);
}

struct nestor_mem_sign *nestor_mem_sign_begin(const struct nestor_mem_sig *sig,
					      int *err)
{
	static const u8 zero_nonce[NESTOR_MEM_NONCE_LEN];
	struct crypto_shash *tfm;
	struct nestor_mem_sign *s;
	u32 flags;

	*err = -EINVAL;
	if (sig->pad || !sig->key_id ||
	    !memcmp(sig->nonce, zero_nonce, sizeof(zero_nonce)) ||
	    memchr_inv(sig->mac, 0, sizeof(*sig) -
		       offsetof(struct nestor_mem_sig, mac)))
		return NULL;
	/* Only monitor keys sign results; an owner key of that id does not. */
	*err = -ENOKEY;
	if (nestor_key_flags(NESTOR_KEY_MONITOR, sig->key_id, &flags) ||
	    !(flags & NESTOR_KEY_HAS_SECRET))
		return NULL;
	*err = -ENOMEM;
	tfm = sha_get();
	if (IS_ERR_OR_NULL(tfm))
		return NULL;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	s->key_id = sig->key_id;
	s->meta = desc_new(tfm);
	s->data = desc_new(tfm);
	if (!s->meta || !s->data) {
		nestor_mem_sign_free(s);
		return NULL;
	}
	*err = 0;
	return s;
}

void nestor_mem_sign_meta(struct nestor_mem_sign *s, const void *p, size_t len)
{
	/* sha256's update cannot fail */
	crypto_shash_update(s->meta, p, len);
}

void nestor_mem_sign_data(struct nestor_mem_sign *s, const void *p, size_t len)
{
	crypto_shash_update(s->data, p, len);
}

/* header and record encoding: little-endian, fixed width */

static void put32(struct nestor_mem_sign *s, u32 v)
{
	if (WARN_ON_ONCE(s->hlen + 4 > HDR_MAX))
		return;
	put_unaligned_le32(v, s->hdr + s->hlen);
	s->hlen += 4;
}

static void put64(struct nestor_mem_sign *s, u64 v)
{
	if (WARN_ON_ONCE(s->hlen + 8 > HDR_MAX))
		return;
	put_unaligned_le64(v, s->hdr + s->hlen);
	s->hlen += 8;
}

static void putb(struct nestor_mem_sign *s, const void *p, unsigned int len)
{
	if (WARN_ON_ONCE(s->hlen + len > HDR_MAX))
		return;
	memcpy(s->hdr + s->hlen, p, len);
	s->hlen += len;
}

void nestor_mem_sign_seg(struct nestor_mem_sign *s,
			 const struct nestor_mem_seg *seg)
{
	u8 b[48];

	put_unaligned_le32(seg->space, b);
	put_unaligned_le32(seg->flags, b + 4);
	put_unaligned_le64(seg->addr, b + 8);
	put_unaligned_le64(seg->len, b + 16);
	put_unaligned_le32(seg->status, b + 24);
	put_unaligned_le64(seg->done, b + 28);
	put_unaligned_le64(seg->fail_addr, b + 36);
	nestor_mem_sign_meta(s, b, 44);
}

void nestor_mem_sign_ident(struct nestor_mem_sign *s,
			   const struct nestor_l2ctx *ctx, u32 vm_id,
			   struct nestor_mem_sig *sig)
{
	struct nestor_ident_info info;

	s->l2_id = ctx->id;
	sig->vm_id = vm_id;
	if (nestor_ident_of_ctx(ctx, &info))
		return;
	sig->ident_len = strnlen(info.name, NESTOR_MEM_IDENT_LEN);
	memcpy(sig->ident, info.name, sig->ident_len);
	sig->ident_flags = info.flags;
	sig->ident_key_id = info.key_id;
}

/* tag, op, key, nonce, identity: the start of every header */
static void put_head(struct nestor_mem_sign *s, u32 op,
		     const struct nestor_mem_sig *sig)
{
	s->hlen = 0;
	putb(s, SIGN_TAG, 16);
	put32(s, op);
	put32(s, sig->key_id);
	putb(s, sig->nonce, NESTOR_MEM_NONCE_LEN);
	put32(s, sig->vm_id);
	put32(s, s->l2_id);
	put32(s, sig->ident_flags);
	put32(s, sig->ident_key_id);
	put32(s, sig->ident_len);
	putb(s, sig->ident, sig->ident_len);
}

static void put_gen(struct nestor_mem_sign *s, const struct nestor_mem_gen *g)
{
	put64(s, g->root);
	put64(s, g->root_gen);
	put64(s, g->cr3);
	put64(s, g->cr3_gen);
	put32(s, g->changed);
}

static int sign_finish(struct nestor_mem_sign *s, struct nestor_mem_sig *sig)
{
	u8 digests[2 * SHA256_DIGEST_SIZE];
	struct kvec v[2];
	int err;

	err = crypto_shash_final(s->meta, digests);
	if (!err)
		err = crypto_shash_final(s->data, digests + SHA256_DIGEST_SIZE);
	if (!err) {
		v[0].iov_base = s->hdr;
		v[0].iov_len = s->hlen;
		v[1].iov_base = digests;
		v[1].iov_len = sizeof(digests);
		err = nestor_key_hmac(NESTOR_KEY_MONITOR, s->key_id, v, 2,
				      sig->mac);
	}
	memzero_explicit(digests, sizeof(digests));
	nestor_mem_sign_free(s);
	return err;
}

int nestor_mem_sign_read(struct nestor_mem_sign *s, struct nestor_mem_read *r)
{
	put_head(s, _IOC_NR(NESTOR_IOC_READ), &r->sig);
	put32(s, r->flags);
	put32(s, r->target.vcpu_id);
	put64(s, r->target.cr3);
	put32(s, r->nr_segs);
	put32(s, r->seg_size);
	put32(s, r->nr_ok);
	put64(s, r->bytes);
	put_gen(s, &r->gen);
	return sign_finish(s, &r->sig);
}

int nestor_mem_sign_walk(struct nestor_mem_sign *s, struct nestor_list_walk *w,
			 const struct nestor_walk_field *f)
{
	u8 b[12];
	u32 i;

	for (i = 0; i < w->nr_fields; i++) {
		put_unaligned_le32(f[i].offset, b);
		put_unaligned_le16(f[i].size, b + 4);
		put_unaligned_le16(f[i].flags, b + 6);
		put_unaligned_le32(f[i].deref_offset, b + 8);
		nestor_mem_sign_meta(s, b, sizeof(b));
	}
	put_head(s, _IOC_NR(NESTOR_IOC_LIST_WALK), &w->sig);
	put32(s, w->flags);
	put32(s, w->space);
	put32(s, w->target.vcpu_id);
	put64(s, w->target.cr3);
	put64(s, w->head);
	put32(s, w->link_offset);
	put32(s, w->next_offset);
	put32(s, w->nr_fields);
	put32(s, w->max_nodes);
	put64(s, w->records_len);
	put32(s, w->record_size);
	put32(s, w->nr_nodes);
	put32(s, w->nr_bad);
	put32(s, w->end);
	put_gen(s, &w->gen);
	return sign_finish(s, &w->sig);
}
