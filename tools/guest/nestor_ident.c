// SPDX-License-Identifier: GPL-2.0
/*
 * nestor_ident: the guest side of nestor's L2 identity
 * (Documentation/identity.rst), for a Linux L2.  It registers the L2's
 * name with L0 by hypercall at load and whenever "1" is written to
 * /sys/kernel/nestor_ident/register:
 *   CHALLENGE -> nonce; REGISTER {name, key id, HMAC-SHA256(key, nonce ||
 *   name)}.
 * Parameters (also writable in /sys/kernel/nestor_ident/): name, key_id,
 * key (hex, 16-64 bytes; write-only), unauth (no proof).  "status" reads
 * the last result, "query" asks L0 what this L2 holds now.
 */
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <asm/processor.h>
#include <crypto/hash.h>
#include <uapi/linux/nestor.h>

static char *name;
module_param(name, charp, 0);
MODULE_PARM_DESC(name, "identifier to register (1-64 printable bytes)");
static unsigned int key_id;
module_param(key_id, uint, 0);
MODULE_PARM_DESC(key_id, "owner key id provisioned in L0");
static char *key;
module_param(key, charp, 0);
MODULE_PARM_DESC(key, "owner key in hex (never readable back)");
static bool unauth;
module_param(unauth, bool, 0);
MODULE_PARM_DESC(unauth, "register without proof (the key must allow it)");

static DEFINE_MUTEX(ident_mutex);
static char cur_name[NESTOR_IDENT_NAME_MAX + 1];
static u32 cur_key_id;
static u8 cur_key[NESTOR_KEY_MAX_LEN];
static unsigned int cur_key_len;
static bool cur_unauth;
static u64 last_status = ~0ULL;
static struct kobject *ident_kobj;

static const char *const status_names[] = {
	"OK", "ENOSYS", "EINVAL", "EFAULT", "ENOTL2", "EPERM", "ENONCE",
	"ENOKEY", "EBADMAC", "EUNAUTH", "EBOUND", "EBUSY", "ENOENT", "ENOSPC",
};

static u64 hypercall(u64 fn, u64 rcx, u64 rdx, u64 *rbx_out, u64 *rcx_out)
{
	u64 rax = NESTOR_HC_LEAF, rbx = fn;

	/* AMD and Hygon use VMMCALL; VMCALL would #UD there. */
	if (boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
	    boot_cpu_data.x86_vendor == X86_VENDOR_HYGON)
		asm volatile("vmmcall" : "+a"(rax), "+b"(rbx), "+c"(rcx),
			     "+d"(rdx) : : "memory");
	else
		asm volatile("vmcall" : "+a"(rax), "+b"(rbx), "+c"(rcx),
			     "+d"(rdx) : : "memory");
	if (rbx_out)
		*rbx_out = rbx;
	if (rcx_out)
		*rcx_out = rcx;
	return rax;
}

static int hmac(const u8 *k, unsigned int klen, const u8 *a, unsigned int alen,
		const u8 *b, unsigned int blen, u8 *out)
{
	struct crypto_shash *tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	int err;

	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	err = crypto_shash_setkey(tfm, k, klen);
	if (!err) {
		SHASH_DESC_ON_STACK(desc, tfm);

		desc->tfm = tfm;
		err = crypto_shash_init(desc) ?:
		      crypto_shash_update(desc, a, alen) ?:
		      crypto_shash_update(desc, b, blen) ?:
		      crypto_shash_final(desc, out);
		shash_desc_zero(desc);
	}
	crypto_free_shash(tfm);
	return err;
}

/* ident_mutex held.  Returns the hypercall status, or ~0 on a local error. */
static u64 do_register(void)
{
	struct nestor_hc_register *r;
	u8 *nonce;
	u64 st = ~0ULL;

	if (!cur_name[0] || (!cur_unauth && !cur_key_len))
		return st;
	/* Heap memory: mapped in the kernel's page tables of every CR3. */
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	nonce = kzalloc(NESTOR_HC_NONCE_LEN, GFP_KERNEL);
	if (!r || !nonce)
		goto out;
	st = hypercall(NESTOR_HC_FN_CHALLENGE, (u64)nonce, 0, NULL, NULL);
	if (st != NESTOR_HC_OK)
		goto out;
	r->key_id = cur_key_id;
	r->name_len = strlen(cur_name);
	memcpy(r->name, cur_name, r->name_len);
	memcpy(r->nonce, nonce, NESTOR_HC_NONCE_LEN);
	if (cur_unauth) {
		r->flags = NESTOR_HC_REG_UNAUTH;
	} else if (hmac(cur_key, cur_key_len, r->nonce, NESTOR_HC_NONCE_LEN,
			r->name, r->name_len, r->mac)) {
		st = ~0ULL;
		goto out;
	}
	st = hypercall(NESTOR_HC_FN_REGISTER, (u64)r, sizeof(*r), NULL, NULL);
out:
	kfree_sensitive(r);
	kfree(nonce);
	return st;
}

static void log_status(u64 st)
{
	if (st < ARRAY_SIZE(status_names))
		pr_info("nestor_ident: register \"%s\": %s\n", cur_name,
			status_names[st]);
	else
		pr_warn("nestor_ident: register \"%s\": no answer from nestor in L0 (0x%llx)\n",
			cur_name, st);
}

static int set_key_hex(const char *hex)
{
	size_t len = strcspn(hex, "\n");

	if (len % 2 || len / 2 < NESTOR_KEY_MIN_LEN ||
	    len / 2 > NESTOR_KEY_MAX_LEN)
		return -EINVAL;
	if (hex2bin(cur_key, hex, len / 2)) {
		memzero_explicit(cur_key, sizeof(cur_key));
		return -EINVAL;
	}
	cur_key_len = len / 2;
	return 0;
}

/* ---- sysfs ---- */

static ssize_t register_store(struct kobject *k, struct kobj_attribute *a,
			      const char *buf, size_t n)
{
	mutex_lock(&ident_mutex);
	last_status = do_register();
	log_status(last_status);
	mutex_unlock(&ident_mutex);
	return last_status == NESTOR_HC_OK ? n : -EIO;
}

static ssize_t status_show(struct kobject *k, struct kobj_attribute *a,
			   char *buf)
{
	u64 st = READ_ONCE(last_status);

	if (st < ARRAY_SIZE(status_names))
		return sysfs_emit(buf, "%s\n", status_names[st]);
	return sysfs_emit(buf, "none\n");
}

static ssize_t query_show(struct kobject *k, struct kobj_attribute *a,
			  char *buf)
{
	char *qname = kzalloc(NESTOR_IDENT_NAME_MAX + 8, GFP_KERNEL);
	u64 st, flags, kid;
	ssize_t ret;

	if (!qname)
		return -ENOMEM;
	st = hypercall(NESTOR_HC_FN_QUERY, (u64)qname, NESTOR_IDENT_NAME_MAX + 8,
		       &flags, &kid);
	if (st == NESTOR_HC_OK)
		ret = sysfs_emit(buf, "%s key %llu flags 0x%llx\n", qname, kid,
				 flags);
	else if (st < ARRAY_SIZE(status_names))
		ret = sysfs_emit(buf, "%s\n", status_names[st]);
	else
		ret = sysfs_emit(buf, "no nestor\n");
	kfree(qname);
	return ret;
}

static ssize_t name_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", cur_name);
}

static ssize_t name_store(struct kobject *k, struct kobj_attribute *a,
			  const char *buf, size_t n)
{
	size_t len = strcspn(buf, "\n");

	if (!len || len > NESTOR_IDENT_NAME_MAX)
		return -EINVAL;
	mutex_lock(&ident_mutex);
	memcpy(cur_name, buf, len);
	cur_name[len] = '\0';
	mutex_unlock(&ident_mutex);
	return n;
}

static ssize_t key_id_show(struct kobject *k, struct kobj_attribute *a,
			   char *buf)
{
	return sysfs_emit(buf, "%u\n", cur_key_id);
}

static ssize_t key_id_store(struct kobject *k, struct kobj_attribute *a,
			    const char *buf, size_t n)
{
	int err = kstrtou32(buf, 0, &cur_key_id);

	return err ? err : n;
}

static ssize_t key_store(struct kobject *k, struct kobj_attribute *a,
			 const char *buf, size_t n)
{
	int err;

	mutex_lock(&ident_mutex);
	err = set_key_hex(buf);
	mutex_unlock(&ident_mutex);
	return err ? err : n;
}

static struct kobj_attribute attrs[] = {
	__ATTR_WO(register),
	__ATTR_RO(status),
	__ATTR_RO(query),
	__ATTR_RW(name),
	__ATTR_RW(key_id),
	__ATTR_WO(key),
};

static struct attribute *attr_list[ARRAY_SIZE(attrs) + 1];

static const struct attribute_group attr_group = {
	.attrs = attr_list,
};

static int __init nestor_ident_init(void)
{
	int i, err;

	for (i = 0; i < ARRAY_SIZE(attrs); i++)
		attr_list[i] = &attrs[i].attr;
	if (name)
		strscpy(cur_name, name, sizeof(cur_name));
	cur_key_id = key_id;
	cur_unauth = unauth;
	if (key && set_key_hex(key))
		pr_warn("nestor_ident: key must be 16-64 bytes in hex\n");
	if (key)
		memzero_explicit(key, strlen(key));

	ident_kobj = kobject_create_and_add("nestor_ident", kernel_kobj);
	if (!ident_kobj)
		return -ENOMEM;
	err = sysfs_create_group(ident_kobj, &attr_group);
	if (err) {
		kobject_put(ident_kobj);
		return err;
	}
	/* Register at load when configured; the result is in "status". */
	if (cur_name[0]) {
		mutex_lock(&ident_mutex);
		last_status = do_register();
		log_status(last_status);
		mutex_unlock(&ident_mutex);
	}
	return 0;
}

static void __exit nestor_ident_exit(void)
{
	kobject_put(ident_kobj);
	memzero_explicit(cur_key, sizeof(cur_key));
}

module_init(nestor_ident_init);
module_exit(nestor_ident_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Registers this L2's identity with nestor in L0");
