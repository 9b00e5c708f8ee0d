// SPDX-License-Identifier: GPL-2.0
/*
 * Keys held by L0 (Documentation/identity.rst): (kind, key id) -> an
 * HMAC-SHA256 transform with the secret set, plus flags.  Owner keys prove
 * L2 identities; monitor keys sign results for a remote monitor.  The admin
 * adds and removes keys by ioctl; nothing reads a secret back.  The secret
 * lives only in the transform's context, which the crypto API frees with
 * kfree_sensitive(); the ioctl copies are wiped before they go.
 */
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <crypto/hash.h>

#include "nestor.h"

struct nestor_key {
	struct list_head node;
	refcount_t ref;
	u32 kind;
	u32 key_id;
	u32 flags;
	struct crypto_shash *tfm;	/* NULL: no secret (unauth only) */
};

static LIST_HEAD(keys);
static DEFINE_MUTEX(keys_mutex);
static unsigned int nr_keys;

#define NESTOR_KEYS_MAX		1024

static void nkey_put(struct nestor_key *k)
{
	if (!refcount_dec_and_test(&k->ref))
		return;
	if (k->tfm)
		crypto_free_shash(k->tfm);
	kfree_sensitive(k);
}

/* keys_mutex held. */
static struct nestor_key *nkey_find(u32 kind, u32 key_id)
{
	struct nestor_key *k;

	list_for_each_entry(k, &keys, node)
		if (k->kind == kind && k->key_id == key_id)
			return k;
	return NULL;
}

static struct nestor_key *nkey_get(u32 kind, u32 key_id)
{
	struct nestor_key *k;

	mutex_lock(&keys_mutex);
	k = nkey_find(kind, key_id);
	if (k)
		refcount_inc(&k->ref);
	mutex_unlock(&keys_mutex);
	return k;
}

int nestor_key_flags(u32 kind, u32 key_id, u32 *flags)
{
	struct nestor_key *k = nkey_get(kind, key_id);

	if (!k)
		return -ENOKEY;
	*flags = k->flags;
	if (k->tfm)
		*flags |= NESTOR_KEY_HAS_SECRET;
	nkey_put(k);
	return 0;
}

int nestor_key_hmac(u32 kind, u32 key_id, const struct kvec *vec,
		    unsigned int n, u8 mac[NESTOR_HMAC_LEN])
{
	struct nestor_key *k = nkey_get(kind, key_id);
	unsigned int i;
	int err;

	if (!k)
		return -ENOKEY;
	if (!k->tfm) {
		err = -ENOKEY;
		goto out;
	}
	{
		SHASH_DESC_ON_STACK(desc, k->tfm);

		desc->tfm = k->tfm;
		err = crypto_shash_init(desc);
		for (i = 0; !err && i < n; i++)
			err = crypto_shash_update(desc, vec[i].iov_base,
						  vec[i].iov_len);
		if (!err)
			err = crypto_shash_final(desc, mac);
		shash_desc_zero(desc);
	}
out:
	nkey_put(k);
	return err;
}

static int nkey_add(struct nestor_key_add *a)
{
	struct nestor_key *k;
	u32 i;
	int err;

	if (a->flags & ~NESTOR_KEY_F_ALLOW_UNAUTH)
		return -EINVAL;
	if (a->kind != NESTOR_KEY_OWNER && a->kind != NESTOR_KEY_MONITOR)
		return -EINVAL;
	/* Unauthenticated registration is a property of owner keys only. */
	if (a->kind != NESTOR_KEY_OWNER && (a->flags & NESTOR_KEY_F_ALLOW_UNAUTH))
		return -EINVAL;
	if (!a->key_id || a->key_len > NESTOR_KEY_MAX_LEN)
		return -EINVAL;
	if (a->key_len < NESTOR_KEY_MIN_LEN &&
	    (a->key_len || !(a->flags & NESTOR_KEY_F_ALLOW_UNAUTH)))
		return -EINVAL;
	for (i = a->key_len; i < NESTOR_KEY_MAX_LEN; i++)
		if (a->key[i])
			return -EINVAL;

	k = kzalloc(sizeof(*k), GFP_KERNEL);
	if (!k)
		return -ENOMEM;
	refcount_set(&k->ref, 1);
	k->kind = a->kind;
	k->key_id = a->key_id;
	k->flags = a->flags;
	if (a->key_len) {
		k->tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
		if (IS_ERR(k->tfm)) {
			err = PTR_ERR(k->tfm);
			k->tfm = NULL;
			goto fail;
		}
		err = crypto_shash_setkey(k->tfm, a->key, a->key_len);
		if (err)
			goto fail;
	}

	err = 0;
	mutex_lock(&keys_mutex);
	if (nkey_find(a->kind, a->key_id))
		err = -EEXIST;
	else if (nr_keys >= NESTOR_KEYS_MAX)
		err = -ENOSPC;
	if (!err) {
		list_add_tail(&k->node, &keys);
		nr_keys++;
	}
	mutex_unlock(&keys_mutex);
	if (!err)
		return 0;
fail:
	nkey_put(k);
	return err;
}

static int nkey_del(const struct nestor_key_del *d)
{
	struct nestor_key *k;

	if (d->flags || d->pad)
		return -EINVAL;
	if (d->kind != NESTOR_KEY_OWNER && d->kind != NESTOR_KEY_MONITOR)
		return -EINVAL;
	mutex_lock(&keys_mutex);
	k = nkey_find(d->kind, d->key_id);
	if (k) {
		list_del(&k->node);
		nr_keys--;
	}
	mutex_unlock(&keys_mutex);
	if (!k)
		return -ENOENT;
	/* An HMAC in flight keeps its reference; the secret goes after. */
	nkey_put(k);
	return 0;
}

long nestor_keys_ioctl_add(void __user *argp, size_t usize)
{
	struct nestor_key_add a;
	long err;

	if (usize < sizeof(a))
		return -EINVAL;
	err = copy_struct_from_user(&a, sizeof(a), argp, usize);
	if (!err)
		err = nkey_add(&a);
	memzero_explicit(&a, sizeof(a));
	return err;
}

long nestor_keys_ioctl_del(void __user *argp, size_t usize)
{
	struct nestor_key_del d;
	long err;

	if (usize < sizeof(d))
		return -EINVAL;
	err = copy_struct_from_user(&d, sizeof(d), argp, usize);
	if (err)
		return err;
	return nkey_del(&d);
}

void nestor_keys_exit(void)
{
	struct nestor_key *k, *tmp;

	mutex_lock(&keys_mutex);
	list_for_each_entry_safe(k, tmp, &keys, node) {
		list_del(&k->node);
		nkey_put(k);
	}
	nr_keys = 0;
	mutex_unlock(&keys_mutex);
}
