// SPDX-License-Identifier: GPL-2.0
/*
 * The identity uapi (Documentation/identity.rst) with bad input: every
 * field of NESTOR_IOC_KEY_ADD, NESTOR_IOC_KEY_DEL and NESTOR_IOC_IDENT_DEL
 * (numbers, sizes, flags, padding, lengths, trailing bytes, duplicates,
 * bad memory), and the identity netlink attributes and commands (reply-
 * only attributes refused in requests, event commands refused as
 * requests, GET_IDENT only as a dump).  The hypercall side is tested by
 * selftests/nested/identity_l2.  Runs as root in the emulated L0 with
 * nestor.ko loaded; prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/nestor.h>

#include "uapi_nl.h"
#include "uapi_util.h"

#define KEY_ID		0x7e570001U	/* high: not an admin's */
#define KEY_ID2		0x7e570002U

static int dev_fd = -1;
static struct nl nl;

static int ioc(unsigned long nr, void *arg)
{
	return ioctl(dev_fd, nr, arg) ? errno : 0;
}

static void key_init(struct nestor_key_add *a, uint32_t id)
{
	memset(a, 0, sizeof(*a));
	a->kind = NESTOR_KEY_OWNER;
	a->key_id = id;
	a->key_len = 32;
	memset(a->key, 0x5a, 32);
}

static int key_del(uint32_t kind, uint32_t id)
{
	struct nestor_key_del d = { .kind = kind, .key_id = id };

	return ioc(NESTOR_IOC_KEY_DEL, &d);
}

static void test_key_add(void)
{
	struct {
		struct nestor_key_add a;
		unsigned char extra[8];
	} big;
	struct nestor_key_add a;
	char *two;
	long page = sysconf(_SC_PAGESIZE);

	key_del(NESTOR_KEY_OWNER, KEY_ID);
	key_del(NESTOR_KEY_OWNER, KEY_ID2);
	key_del(NESTOR_KEY_MONITOR, KEY_ID);

	key_init(&a, KEY_ID);
	tap_errno(ioc(_IOR(NESTOR_IOC_MAGIC, 0x30, struct nestor_key_add), &a),
		  ENOTTY, "KEY_ADD as _IOR (wrong direction)");
	tap_errno(ioc(_IOWR(NESTOR_IOC_MAGIC, 0x30, struct nestor_key_add), &a),
		  ENOTTY, "KEY_ADD as _IOWR (wrong direction)");
	tap_errno(ioc(_IOC(_IOC_WRITE, NESTOR_IOC_MAGIC, 0x30, 16), &a), EINVAL,
		  "KEY_ADD with size 16 (smaller than v1)");
	tap_errno(ioc(_IOW(NESTOR_IOC_MAGIC, 0x3f, struct nestor_key_add), &a),
		  ENOTTY, "unused nr 0x3f of the identity range");

	key_init(&a, KEY_ID);
	a.flags = 1U << 5;
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), EINVAL, "KEY_ADD flags bit 5");
	key_init(&a, KEY_ID);
	a.flags = 0x80000000U;
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), EINVAL, "KEY_ADD flags bit 31");
	key_init(&a, KEY_ID);
	a.kind = 0;
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), EINVAL, "KEY_ADD kind 0");
	key_init(&a, KEY_ID);
	a.kind = 3;
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), EINVAL, "KEY_ADD kind 3 (unknown)");
	key_init(&a, 0);
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), EINVAL, "KEY_ADD key_id 0");
	key_init(&a, KEY_ID);
	a.key_len = NESTOR_KEY_MIN_LEN - 1;
	memset(a.key + a.key_len, 0, sizeof(a.key) - a.key_len);
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), EINVAL, "KEY_ADD key_len %d (too short)",
		  NESTOR_KEY_MIN_LEN - 1);
	key_init(&a, KEY_ID);
	a.key_len = NESTOR_KEY_MAX_LEN + 1;
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), EINVAL, "KEY_ADD key_len %d (too long)",
		  NESTOR_KEY_MAX_LEN + 1);
	key_init(&a, KEY_ID);
	a.key_len = 0;
	memset(a.key, 0, sizeof(a.key));
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), EINVAL,
		  "KEY_ADD key_len 0 without NESTOR_KEY_F_ALLOW_UNAUTH");
	key_init(&a, KEY_ID);
	a.key[40] = 1;
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), EINVAL, "KEY_ADD with a byte after key_len");
	key_init(&a, KEY_ID);
	a.kind = NESTOR_KEY_MONITOR;
	a.flags = NESTOR_KEY_F_ALLOW_UNAUTH;
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), EINVAL,
		  "KEY_ADD of a monitor key with NESTOR_KEY_F_ALLOW_UNAUTH");

	memset(&big, 0, sizeof(big));
	key_init(&big.a, KEY_ID);
	big.extra[3] = 1;
	tap_errno(ioc(_IOC(_IOC_WRITE, NESTOR_IOC_MAGIC, 0x30, sizeof(big)), &big), E2BIG,
		  "KEY_ADD v1 + 8 bytes, an extra byte nonzero");
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, NULL), EFAULT, "KEY_ADD with a NULL pointer");
	two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	munmap(two + page, page);
	/* The first half is ours; the rest would be in the unmapped page. */
	key_init(&a, KEY_ID);
	memcpy(two + page - sizeof(a) / 2, &a, sizeof(a) / 2);
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, two + page - sizeof(a) / 2), EFAULT,
		  "KEY_ADD running into an unmapped page");
	munmap(two, page);

	/* Valid ones, a duplicate, the same id of the other kind. */
	memset(&big, 0, sizeof(big));
	key_init(&big.a, KEY_ID);
	tap_errno(ioc(_IOC(_IOC_WRITE, NESTOR_IOC_MAGIC, 0x30, sizeof(big)), &big), 0,
		  "KEY_ADD v1 + 8 zero bytes");
	key_init(&a, KEY_ID);
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), EEXIST, "KEY_ADD of an existing (kind, id)");
	key_init(&a, KEY_ID);
	a.kind = NESTOR_KEY_MONITOR;
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), 0, "KEY_ADD of the same id as a monitor key");
	key_init(&a, KEY_ID2);
	a.key_len = 0;
	memset(a.key, 0, sizeof(a.key));
	a.flags = NESTOR_KEY_F_ALLOW_UNAUTH;
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), 0,
		  "KEY_ADD without secret, unauthenticated registration allowed");
	key_init(&a, KEY_ID2 + 1);
	a.key_len = NESTOR_KEY_MAX_LEN;
	memset(a.key, 0x33, sizeof(a.key));
	tap_errno(ioc(NESTOR_IOC_KEY_ADD, &a), 0, "KEY_ADD with a %d-byte key",
		  NESTOR_KEY_MAX_LEN);
}

static void test_key_del(void)
{
	struct nestor_key_del d;
	struct {
		struct nestor_key_del d;
		unsigned char extra[8];
	} big;

	memset(&d, 0, sizeof(d));
	d.kind = NESTOR_KEY_OWNER;
	d.key_id = KEY_ID;
	tap_errno(ioc(_IOR(NESTOR_IOC_MAGIC, 0x31, struct nestor_key_del), &d), ENOTTY,
		  "KEY_DEL as _IOR (wrong direction)");
	tap_errno(ioc(_IOC(_IOC_WRITE, NESTOR_IOC_MAGIC, 0x31, 8), &d), EINVAL,
		  "KEY_DEL with size 8");
	d.flags = 1;
	tap_errno(ioc(NESTOR_IOC_KEY_DEL, &d), EINVAL, "KEY_DEL flags = 1");
	d.flags = 0;
	d.pad = 1;
	tap_errno(ioc(NESTOR_IOC_KEY_DEL, &d), EINVAL, "KEY_DEL pad = 1");
	d.pad = 0;
	d.kind = 7;
	tap_errno(ioc(NESTOR_IOC_KEY_DEL, &d), EINVAL, "KEY_DEL kind 7 (unknown)");
	memset(&big, 0, sizeof(big));
	big.d.kind = NESTOR_KEY_OWNER;
	big.d.key_id = KEY_ID;
	big.extra[0] = 1;
	tap_errno(ioc(_IOC(_IOC_WRITE, NESTOR_IOC_MAGIC, 0x31, sizeof(big)), &big), E2BIG,
		  "KEY_DEL v1 + 8 bytes, an extra byte nonzero");
	tap_errno(key_del(NESTOR_KEY_OWNER, 0x7e57ffffU), ENOENT, "KEY_DEL of an unknown key");
	tap_errno(key_del(NESTOR_KEY_OWNER, KEY_ID), 0, "KEY_DEL of the owner key");
	tap_errno(key_del(NESTOR_KEY_OWNER, KEY_ID), ENOENT, "KEY_DEL of it again");
	tap_errno(key_del(NESTOR_KEY_MONITOR, KEY_ID), 0, "KEY_DEL of the monitor key");
	tap_errno(key_del(NESTOR_KEY_OWNER, KEY_ID2), 0, "KEY_DEL of the key without secret");
	tap_errno(key_del(NESTOR_KEY_OWNER, KEY_ID2 + 1), 0, "KEY_DEL of the 64-byte key");
}

static void test_ident_del(void)
{
	struct nestor_ident_del d;

	memset(&d, 0, sizeof(d));
	strcpy(d.name, "no-such-identity");
	tap_errno(ioc(_IOR(NESTOR_IOC_MAGIC, 0x32, struct nestor_ident_del), &d), ENOTTY,
		  "IDENT_DEL as _IOR (wrong direction)");
	tap_errno(ioc(_IOC(_IOC_WRITE, NESTOR_IOC_MAGIC, 0x32, 8), &d), EINVAL,
		  "IDENT_DEL with size 8");
	tap_errno(ioc(NESTOR_IOC_IDENT_DEL, &d), ENOENT, "IDENT_DEL of an unknown name");
	d.flags = 1;
	tap_errno(ioc(NESTOR_IOC_IDENT_DEL, &d), EINVAL, "IDENT_DEL flags = 1");
	d.flags = 0;
	d.pad = 1;
	tap_errno(ioc(NESTOR_IOC_IDENT_DEL, &d), EINVAL, "IDENT_DEL pad = 1");
	d.pad = 0;
	d.name[30] = 'x';
	tap_errno(ioc(NESTOR_IOC_IDENT_DEL, &d), EINVAL, "IDENT_DEL with a byte after the NUL");
	memset(d.name, 0, sizeof(d.name));
	tap_errno(ioc(NESTOR_IOC_IDENT_DEL, &d), EINVAL, "IDENT_DEL with an empty name");
	memset(d.name, 'n', NESTOR_IDENT_NAME_MAX + 1);
	tap_errno(ioc(NESTOR_IOC_IDENT_DEL, &d), EINVAL, "IDENT_DEL with a %d-byte name",
		  NESTOR_IDENT_NAME_MAX + 1);
	tap_errno(ioc(NESTOR_IOC_IDENT_DEL, NULL), EFAULT, "IDENT_DEL with a NULL pointer");
}

/* ------------------------------------------------------------------ */
/* netlink                                                            */
/* ------------------------------------------------------------------ */

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(int *)data;
	return MNL_CB_OK;
}

static void test_genl(void)
{
	static const struct {
		int type, len;
		const char *name;
	} reply_only[] = {
		{ NESTOR_A_IDENT_NAME, 0, "ident-name" },
		{ NESTOR_A_IDENT_KEY_ID, 4, "ident-key-id" },
		{ NESTOR_A_IDENT_FLAGS, 4, "ident-flags" },
		{ NESTOR_A_IDENT_BOUND_NS, 8, "ident-bound-ns" },
		{ NESTOR_A_IDENT_REGISTRATIONS, 8, "ident-registrations" },
		{ NESTOR_A_IDENT_HOLDER_L2_ID, 4, "ident-holder-l2-id" },
		{ NESTOR_A_VM_L1_HYPERCALLS, 8, "vm-l1-hypercalls" },
	};
	static const struct {
		int cmd;
		const char *name;
	} events[] = {
		{ NESTOR_CMD_IDENT_BOUND, "IDENT_BOUND" },
		{ NESTOR_CMD_IDENT_ABSENT, "IDENT_ABSENT" },
		{ NESTOR_CMD_IDENT_CONFLICT, "IDENT_CONFLICT" },
		{ NESTOR_CMD_IDENT_GONE, "IDENT_GONE" },
	};
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *req;
	int n = 0, err;
	size_t i;

	err = nl_open(&nl);
	if (err || nl_resolve(&nl))
		tap_bail("no \"%s\" family: is nestor.ko loaded?", NESTOR_GENL_NAME);

	req = nl_req(&nl, buf, NESTOR_CMD_GET_IDENT, NLM_F_DUMP);
	tap_errno(nl_xfer(&nl, req, count_cb, &n), 0, "GET_IDENT dump");
	tap_diag("%d identities", n);
	tap_errno(nl_xfer(&nl, nl_req(&nl, buf, NESTOR_CMD_GET_IDENT, 0), NULL, NULL),
		  EOPNOTSUPP, "GET_IDENT as a doit (it has none)");
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		tap_errno(nl_xfer(&nl, nl_req(&nl, buf, events[i].cmd, 0), NULL, NULL),
			  EOPNOTSUPP, "an event command (%s) as a request", events[i].name);

	for (i = 0; i < sizeof(reply_only) / sizeof(reply_only[0]); i++) {
		req = nl_req(&nl, buf, NESTOR_CMD_GET_L2, 0);
		mnl_attr_put_u32(req, NESTOR_A_L2_ID, 1);
		if (reply_only[i].len == 0)
			mnl_attr_put_strz(req, reply_only[i].type, "a");
		else if (reply_only[i].len == 4)
			mnl_attr_put_u32(req, reply_only[i].type, 1);
		else
			mnl_attr_put_u64(req, reply_only[i].type, 1);
		tap_errno(nl_xfer(&nl, req, NULL, NULL), EINVAL,
			  "GET_L2 with the reply-only %s", reply_only[i].name);
		req = nl_req(&nl, buf, NESTOR_CMD_GET_IDENT, NLM_F_DUMP);
		mnl_attr_put_u32(req, reply_only[i].type, 1);
		err = nl_xfer(&nl, req, NULL, NULL);
		tap_errno(err, EINVAL, "GET_IDENT dump with the reply-only %s",
			  reply_only[i].name);
	}
	nl_close(&nl);
}

int main(void)
{
	dev_fd = open(NESTOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev_fd < 0)
		tap_bail(NESTOR_DEVICE_PATH " cannot be opened: is nestor.ko loaded?");
	test_key_add();
	test_key_del();
	test_ident_del();
	close(dev_fd);
	test_genl();
	return tap_done();
}
