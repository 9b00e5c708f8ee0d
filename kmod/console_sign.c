// SPDX-License-Identifier: GPL-2.0
/*
 * Signed console I/O (Documentation/console.rst, "Remote access"): the
 * ioctls NESTOR_IOC_CONSOLE_SREAD and _SWRITE on a console file.  They let
 * nestor-monitord relay a console without being trusted: it holds the file
 * but no key.  Output is MACed with a monitor key over the client's nonce,
 * the console's L2, the file's random session value and the stream
 * position, so the remote client sees any change, replay or dropped
 * answer.  Input is taken only with a MAC by that key over the session
 * and a sequence number, so the relay can neither forge it nor replay it
 * (another attach is another session).  The encodings, little-endian and
 * fixed width apart from the data at the end, are in
 * Documentation/uapi.rst; tools/lib/sig.c computes the same.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <crypto/algapi.h>
#include <asm/unaligned.h>

#include "nestor.h"

#define OUT_TAG		"nestor-console-out-v1"
#define IN_TAG		"nestor-console-in-v1"
#define TAG_LEN(t)	(sizeof(t) - 1)		/* no NUL */

static_assert(NESTOR_CONSOLE_MAC_LEN == NESTOR_HMAC_LEN);

/*
 * The file may do @need (EBADF), and @key_id is a monitor key with a
 * secret (ENOKEY: only monitor keys sign for a remote client).  What the
 * MAC names: the console's L2 and the file's session.
 */
static int signer(struct console_client *cl, u32 need, u32 key_id,
		  u32 *l2_id, u8 session[NESTOR_CONSOLE_SESSION_LEN])
{
	u32 flags;
	int err;

	err = nestor_console_who(cl, need, l2_id, session);
	if (err)
		return err;
	if (nestor_key_flags(NESTOR_KEY_MONITOR, key_id, &flags) ||
	    !(flags & NESTOR_KEY_HAS_SECRET))
		return -ENOKEY;
	return 0;
}

/* HMAC-SHA256 with monitor key @key_id over @hdr, then @len bytes of @data. */
static int console_mac(u32 key_id, u8 *hdr, size_t hlen, u8 *data, u32 len,
		       u8 mac[NESTOR_CONSOLE_MAC_LEN])
{
	struct kvec v[2] = {
		{ .iov_base = hdr, .iov_len = hlen },
		{ .iov_base = data, .iov_len = len },
	};

	return nestor_key_hmac(NESTOR_KEY_MONITOR, key_id, v, 2, mac);
}

static long ioc_sread(struct console_client *cl, void __user *argp,
		      size_t usize)
{
	static const u8 zero_nonce[NESTOR_CONSOLE_NONCE_LEN];
	u8 hdr[TAG_LEN(OUT_TAG) + NESTOR_CONSOLE_NONCE_LEN + 4 +
	       NESTOR_CONSOLE_SESSION_LEN + 8 + 4 + 8 + 4];
	u8 session[NESTOR_CONSOLE_SESSION_LEN];
	struct nestor_console_sread a;
	struct nestor_console_taken t;
	void __user *ubuf;
	u8 *data, *p;
	u32 l2_id;
	int err;

	err = nestor_console_get_arg(&a, sizeof(a), argp, usize);
	if (err)
		return err;
	if (a.flags || !a.key_id || !a.len || a.len > NESTOR_CONSOLE_SREAD_MAX ||
	    !memcmp(a.nonce, zero_nonce, sizeof(zero_nonce)) ||
	    memchr_inv(&a.done, 0,
		       sizeof(a) - offsetof(struct nestor_console_sread, done)))
		return -EINVAL;
	err = signer(cl, NESTOR_CONSOLE_ATTACH_READ, a.key_id, &l2_id, session);
	if (err)
		return err;
	/*
	 * Both destinations must take the answer before a byte leaves the
	 * ring: the position moves for good when the bytes are taken.
	 */
	ubuf = u64_to_user_ptr(a.buf);
	if (clear_user(ubuf, a.len) ||
	    put_user(0U, (u32 __user *)(argp +
					offsetof(struct nestor_console_sread,
						 done))))
		return -EFAULT;
	data = kvmalloc(a.len, GFP_KERNEL);
	if (!data)
		return -ENOMEM;
	err = nestor_console_take(cl, data, a.len, &t);
	if (err)
		goto out;
	a.done = t.done;
	a.l2_id = t.l2_id;
	a.eof = t.eof ? NESTOR_CONSOLE_SREAD_EOF : 0;
	a.pos = t.pos;
	a.dropped = t.dropped;
	memcpy(a.session, session, sizeof(session));

	p = hdr;
	memcpy(p, OUT_TAG, TAG_LEN(OUT_TAG));
	p += TAG_LEN(OUT_TAG);
	memcpy(p, a.nonce, sizeof(a.nonce));
	p += sizeof(a.nonce);
	put_unaligned_le32(a.l2_id, p);
	p += 4;
	memcpy(p, a.session, sizeof(a.session));
	p += sizeof(a.session);
	put_unaligned_le64(a.pos, p);
	p += 8;
	put_unaligned_le32(a.done, p);
	p += 4;
	put_unaligned_le64(a.dropped, p);
	p += 8;
	put_unaligned_le32(a.eof, p);
	/* The key was there a moment ago; deleted since, the bytes are lost. */
	err = console_mac(a.key_id, hdr, sizeof(hdr), data, a.done, a.mac);
	if (!err && a.done && copy_to_user(ubuf, data, a.done))
		err = -EFAULT;
	if (!err && copy_to_user(argp, &a, sizeof(a)))
		err = -EFAULT;
out:
	kvfree(data);
	return err;
}

static long ioc_swrite(struct console_client *cl, void __user *argp,
		       size_t usize)
{
	u8 hdr[TAG_LEN(IN_TAG) + 4 + NESTOR_CONSOLE_SESSION_LEN + 8 + 4];
	u8 session[NESTOR_CONSOLE_SESSION_LEN];
	u8 mac[NESTOR_CONSOLE_MAC_LEN];
	struct nestor_console_swrite a;
	u8 *data, *p;
	u32 l2_id;
	int err;

	err = nestor_console_get_arg(&a, sizeof(a), argp, usize);
	if (err)
		return err;
	if (a.flags || a.pad || !a.key_id || !a.len ||
	    a.len > NESTOR_CONSOLE_SWRITE_MAX)
		return -EINVAL;
	err = signer(cl, NESTOR_CONSOLE_ATTACH_WRITE, a.key_id, &l2_id, session);
	if (err)
		return err;
	data = kmalloc(a.len, GFP_KERNEL);
	if (!data)
		return -ENOMEM;
	err = -EFAULT;
	if (copy_from_user(data, u64_to_user_ptr(a.buf), a.len))
		goto out;

	p = hdr;
	memcpy(p, IN_TAG, TAG_LEN(IN_TAG));
	p += TAG_LEN(IN_TAG);
	put_unaligned_le32(l2_id, p);
	p += 4;
	memcpy(p, session, sizeof(session));
	p += sizeof(session);
	put_unaligned_le64(a.seq, p);
	p += 8;
	put_unaligned_le32(a.len, p);
	err = console_mac(a.key_id, hdr, sizeof(hdr), data, a.len, mac);
	if (err)
		goto out;
	/* The sequence is checked only for a message the key made. */
	if (crypto_memneq(mac, a.mac, sizeof(mac)))
		err = -EBADMSG;
	else
		err = nestor_console_give(cl, data, a.len, a.seq);
	memzero_explicit(mac, sizeof(mac));
out:
	kfree(data);
	return err;
}

long nestor_console_sign_ioctl(struct console_client *cl, unsigned int cmd,
			       void __user *argp)
{
	unsigned int dir = _IOC_DIR(cmd);
	size_t usize = _IOC_SIZE(cmd);

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(NESTOR_IOC_CONSOLE_SREAD):
		return dir == (_IOC_READ | _IOC_WRITE) ?
			ioc_sread(cl, argp, usize) : -ENOTTY;
	case _IOC_NR(NESTOR_IOC_CONSOLE_SWRITE):
		return dir == _IOC_WRITE ? ioc_swrite(cl, argp, usize) : -ENOTTY;
	default:
		return -ENOTTY;
	}
}
