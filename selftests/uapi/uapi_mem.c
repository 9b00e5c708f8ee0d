// SPDX-License-Identifier: GPL-2.0
/*
 * Negative tests of the introspection ioctls (NESTOR_IOC_TRANSLATE, _READ,
 * _LIST_WALK): every field is validated before the L2 is looked up, so
 * each bad request fails the same way whether or not an L2 runs.  A valid
 * request for an L2 id that does not exist gets ENOENT, which shows that
 * validation passed.  The positive side runs against a real L2 in
 * selftests/nested/mem_l2.c.  Runs as root in the emulated L0; TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/nestor.h>

#include "uapi_util.h"

#define NO_L2		0x7ffffff0u	/* never a context id in a test */
#define RW(nr, size)	_IOC(_IOC_READ | _IOC_WRITE, NESTOR_IOC_MAGIC, (nr), \
			     (size))

static int dev_fd = -1;

/* Keys of this test (uapi_ident.c uses others). */
#define MON_KEY		0x6d656d01u
#define OWNER_KEY	0x6d656d02u
#define NO_KEY		0x6d656d03u
/* A signed request: the monitor key and a nonzero nonce. */
#define SIGNED(req)	((req).flags |= NESTOR_MEM_F_SIGN,		\
			 (req).sig.key_id = MON_KEY,			\
			 (req).sig.nonce[0] = 0x5a)

static int ioc(unsigned long nr, void *arg)
{
	return ioctl(dev_fd, nr, arg) ? errno : 0;
}

/*
 * A struct that grew: its first size @ver0 is still accepted, less is
 * not; @arg is a valid request (for no L2) followed by 8 zero bytes
 * (@size in all), and @tail one of them.
 */
static void size_cases(unsigned int nr, const char *name, size_t ver0,
		       void *arg, size_t size, unsigned char *tail)
{
	tap_errno(ioc(RW(nr, ver0 - 8), arg), EINVAL,
		  "%s: size %zu (the first size - 8)", name, ver0 - 8);
	tap_errno(ioc(RW(nr, ver0), arg), ENOENT,
		  "%s: the first size, %zu (accepted)", name, ver0);
	tap_errno(ioc(RW(nr, size), arg), ENOENT,
		  "%s: size + 8, zero tail (accepted)", name);
	*tail = 1;
	tap_errno(ioc(RW(nr, size), arg), E2BIG,
		  "%s: size + 8, nonzero tail", name);
}

/* ------------------------------------------------------------------ */
/* NESTOR_IOC_TRANSLATE                                                */
/* ------------------------------------------------------------------ */

static void xl_init(struct nestor_translate *x)
{
	memset(x, 0, sizeof(*x));
	x->space = NESTOR_SPACE_L2_PHYS;
	x->target.l2_id = NO_L2;
	x->addr = 0x1000;
}

#define XL_CASE(expect, what, stmt) do {				\
	struct nestor_translate x;					\
	xl_init(&x);							\
	stmt;								\
	tap_errno(ioc(NESTOR_IOC_TRANSLATE, &x), (expect),		\
		  "TRANSLATE: %s", (what));				\
} while (0)

static void test_translate(void)
{
	struct {
		struct nestor_translate x;
		unsigned char extra[8];
	} big;

	XL_CASE(ENOENT, "valid request, unknown l2_id", (void)0);
	XL_CASE(ENOENT, "L2_VIRT with F_CR3, unknown l2_id",
		(x.space = NESTOR_SPACE_L2_VIRT, x.flags = NESTOR_MEM_F_CR3,
		 x.target.cr3 = 0x1000));
	XL_CASE(ENOENT, "L1_PHYS, unknown l2_id",
		x.space = NESTOR_SPACE_L1_PHYS);
	XL_CASE(EINVAL, "flags bit 3 (unknown)", x.flags = 8);
	XL_CASE(EINVAL, "F_NOCACHE (translate always walks)",
		x.flags = NESTOR_MEM_F_NOCACHE);
	XL_CASE(EINVAL, "flags bit 31 (unknown)", x.flags = 0x80000000u);
	XL_CASE(EOPNOTSUPP, "flags NESTOR_MEM_F_SIGN (translations are not signed)",
		(x.flags = NESTOR_MEM_F_SIGN, x.sig.key_id = MON_KEY,
		 x.sig.nonce[0] = 1));
	XL_CASE(EINVAL, "space 0", x.space = NESTOR_SPACE_NONE);
	XL_CASE(EINVAL, "space 4", x.space = 4);
	XL_CASE(EINVAL, "space 0xffffffff", x.space = 0xffffffffu);
	XL_CASE(EINVAL, "F_CR3 with space L2_PHYS",
		x.flags = NESTOR_MEM_F_CR3);
	XL_CASE(EINVAL, "target.cr3 set without F_CR3",
		(x.space = NESTOR_SPACE_L2_VIRT, x.target.cr3 = 0x1000));
	XL_CASE(EINVAL, "pad = 1", x.pad = 1);
	XL_CASE(EINVAL, "status (out) = 1 on input", x.status = 1);
	XL_CASE(EINVAL, "l2_levels (out) = 1 on input", x.l2_levels = 1);
	XL_CASE(EINVAL, "nested_levels (out) = 1 on input",
		x.nested_levels = 1);
	XL_CASE(EINVAL, "sig.key_id = 1 without F_SIGN", x.sig.key_id = 1);
	XL_CASE(EINVAL, "sig.pad = 1", x.sig.pad = 1);
	XL_CASE(EINVAL, "sig.nonce[15] = 1 without F_SIGN",
		x.sig.nonce[15] = 1);
	XL_CASE(EINVAL, "sig.mac[0] = 1", x.sig.mac[0] = 1);
	XL_CASE(EINVAL, "sig.vm_id = 1 without F_SIGN", x.sig.vm_id = 1);
	XL_CASE(EINVAL, "sig.ident[63] = 1 without F_SIGN", x.sig.ident[63] = 1);

	memset(&big, 0, sizeof(big));
	xl_init(&big.x);
	tap_errno(ioc(RW(0x10, sizeof(big.x) - 8), &big), EINVAL,
		  "TRANSLATE: size v1 - 8");
	tap_errno(ioc(RW(0x10, sizeof(big)), &big), ENOENT,
		  "TRANSLATE: size v1 + 8, zero tail (accepted)");
	big.extra[7] = 1;
	tap_errno(ioc(RW(0x10, sizeof(big)), &big), E2BIG,
		  "TRANSLATE: size v1 + 8, nonzero tail");
	tap_errno(ioc(_IOR(NESTOR_IOC_MAGIC, 0x10, struct nestor_translate),
		      &big), ENOTTY, "TRANSLATE as _IOR");
	tap_errno(ioc(NESTOR_IOC_TRANSLATE, NULL), EFAULT, "TRANSLATE: NULL");
}

/* ------------------------------------------------------------------ */
/* NESTOR_IOC_READ                                                     */
/* ------------------------------------------------------------------ */

static char rbuf[4096];

static void rd_init(struct nestor_mem_read *r, struct nestor_mem_seg *s,
		    unsigned int n)
{
	memset(r, 0, sizeof(*r));
	memset(s, 0, n * sizeof(*s));
	for (unsigned int i = 0; i < n; i++) {
		s[i].space = NESTOR_SPACE_L2_PHYS;
		s[i].addr = 0x1000 * i;
		s[i].len = 16;
		s[i].buf = (uintptr_t)rbuf;
	}
	r->nr_segs = n;
	r->seg_size = sizeof(*s);
	r->segs = (uintptr_t)s;
	r->target.l2_id = NO_L2;
}

#define RD_CASE(expect, what, stmt) do {				\
	struct nestor_mem_seg s[2];					\
	struct nestor_mem_read r;					\
	rd_init(&r, s, 2);						\
	stmt;								\
	tap_errno(ioc(NESTOR_IOC_READ, &r), (expect), "READ: %s", (what)); \
} while (0)

static void test_read(void)
{
	struct nestor_mem_seg *many;
	struct nestor_mem_read r;
	struct {
		struct nestor_mem_seg s;
		unsigned char extra[8];
	} bigseg[1];
	char *two;

	RD_CASE(ENOENT, "valid request, unknown l2_id", (void)0);
	RD_CASE(EINVAL, "nr_segs = 0", r.nr_segs = 0);
	RD_CASE(EINVAL, "flags bit 3 (unknown)", r.flags = 8);
	RD_CASE(ENOENT, "F_NOCACHE (accepted)", r.flags = NESTOR_MEM_F_NOCACHE);
	RD_CASE(ENOENT, "F_NOCACHE | F_SIGN (accepted)",
		(SIGNED(r), r.flags |= NESTOR_MEM_F_NOCACHE));
	RD_CASE(ENOENT, "F_SIGN, monitor key, nonce (accepted)", SIGNED(r));
	RD_CASE(EINVAL, "F_SIGN with key_id 0", (SIGNED(r), r.sig.key_id = 0));
	RD_CASE(ENOKEY, "F_SIGN with an unknown key id",
		(SIGNED(r), r.sig.key_id = NO_KEY));
	RD_CASE(ENOKEY, "F_SIGN with an owner key (wrong kind)",
		(SIGNED(r), r.sig.key_id = OWNER_KEY));
	RD_CASE(EINVAL, "F_SIGN with an all-zero nonce",
		(SIGNED(r), r.sig.nonce[0] = 0));
	RD_CASE(EINVAL, "F_SIGN, sig.pad = 1", (SIGNED(r), r.sig.pad = 1));
	RD_CASE(EINVAL, "F_SIGN, sig.mac[31] (out) = 1",
		(SIGNED(r), r.sig.mac[31] = 1));
	RD_CASE(EINVAL, "F_SIGN, sig.vm_id (out) = 1",
		(SIGNED(r), r.sig.vm_id = 1));
	RD_CASE(EINVAL, "F_SIGN, sig.ident_flags (out) = 1",
		(SIGNED(r), r.sig.ident_flags = 1));
	RD_CASE(EINVAL, "F_SIGN, sig.ident_key_id (out) = 1",
		(SIGNED(r), r.sig.ident_key_id = 1));
	RD_CASE(EINVAL, "F_SIGN, sig.ident_len (out) = 1",
		(SIGNED(r), r.sig.ident_len = 1));
	RD_CASE(EINVAL, "F_SIGN, sig.ident[0] (out) = 'a'",
		(SIGNED(r), r.sig.ident[0] = 'a'));
	RD_CASE(EINVAL, "sig.ident_len = 1 without F_SIGN", r.sig.ident_len = 1);
	RD_CASE(EINVAL, "sig.nonce[0] = 1 without F_SIGN", r.sig.nonce[0] = 1);
	RD_CASE(EINVAL, "sig.key_id = 1 without F_SIGN", r.sig.key_id = 1);
	RD_CASE(EINVAL, "target.cr3 set without F_CR3", r.target.cr3 = 0x1000);
	RD_CASE(EINVAL, "nr_ok (out) = 1 on input", r.nr_ok = 1);
	RD_CASE(EINVAL, "bytes (out) = 1 on input", r.bytes = 1);
	RD_CASE(EINVAL, "nested_walks (out) = 1 on input", r.nested_walks = 1);
	RD_CASE(EINVAL, "cache_hits (out) = 1 on input", r.cache_hits = 1);
	RD_CASE(EINVAL, "seg_size = sizeof - 8",
		r.seg_size = sizeof(struct nestor_mem_seg) - 8);
	RD_CASE(EINVAL, "seg_size = 0", r.seg_size = 0);
	RD_CASE(EINVAL, "seg_size = 8192 (more than a page)",
		r.seg_size = 8192);
	RD_CASE(EFAULT, "segs = NULL", r.segs = 0);
	RD_CASE(EINVAL, "segment 1: space 0", s[1].space = 0);
	RD_CASE(EINVAL, "segment 1: space 4", s[1].space = 4);
	RD_CASE(EINVAL, "segment 0: flags = 1", s[0].flags = 1);
	RD_CASE(EINVAL, "segment 1: pad = 1", s[1].pad = 1);
	RD_CASE(E2BIG, "segment 0: len = NESTOR_MEM_MAX_BYTES + 1",
		s[0].len = NESTOR_MEM_MAX_BYTES + 1);
	RD_CASE(E2BIG, "two segments adding up to MAX_BYTES + 1",
		(s[0].len = NESTOR_MEM_MAX_BYTES, s[1].len = 1));
	RD_CASE(ENOENT, "two segments adding up to MAX_BYTES exactly",
		(s[0].len = NESTOR_MEM_MAX_BYTES - 16, s[1].len = 16));
	RD_CASE(E2BIG, "lengths that wrap around 2^64 when added",
		(s[0].len = 1ULL << 63, s[1].len = 1ULL << 63));
	RD_CASE(ENOENT, "out fields of segments are ignored on input",
		(s[0].done = 5, s[0].status = 9, s[1].fail_addr = 1));

	many = calloc(NESTOR_MEM_MAX_SEGS + 1, sizeof(*many));
	if (!many)
		tap_bail("calloc");
	rd_init(&r, many, NESTOR_MEM_MAX_SEGS + 1);
	tap_errno(ioc(NESTOR_IOC_READ, &r), E2BIG,
		  "READ: nr_segs = NESTOR_MEM_MAX_SEGS + 1");
	rd_init(&r, many, NESTOR_MEM_MAX_SEGS);
	tap_errno(ioc(NESTOR_IOC_READ, &r), ENOENT,
		  "READ: nr_segs = NESTOR_MEM_MAX_SEGS (accepted)");
	free(many);

	/* Segments of a newer, larger layout: the tail must be zero. */
	memset(bigseg, 0, sizeof(bigseg));
	rd_init(&r, &bigseg[0].s, 1);
	r.seg_size = sizeof(bigseg[0]);
	tap_errno(ioc(NESTOR_IOC_READ, &r), ENOENT,
		  "READ: seg_size = sizeof + 8, zero tail (accepted)");
	bigseg[0].extra[0] = 1;
	tap_errno(ioc(NESTOR_IOC_READ, &r), E2BIG,
		  "READ: seg_size = sizeof + 8, nonzero tail");

	/* The struct's own sizes: the first layout, and a newer one. */
	{
		struct {
			struct nestor_mem_read r;
			unsigned char extra[8];
		} big;
		struct nestor_mem_seg s1[1];

		memset(&big, 0, sizeof(big));
		rd_init(&big.r, s1, 1);
		size_cases(0x11, "READ", NESTOR_MEM_READ_SIZE_VER0, &big,
			   sizeof(big), &big.extra[0]);
	}

	/* The segment array runs into an unmapped page. */
	two = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED)
		tap_bail("mmap");
	munmap(two + 4096, 4096);
	rd_init(&r, (struct nestor_mem_seg *)(two + 4096 -
					      sizeof(struct nestor_mem_seg)), 1);
	r.nr_segs = 2;
	tap_errno(ioc(NESTOR_IOC_READ, &r), EFAULT,
		  "READ: second segment in an unmapped page");
	munmap(two, 4096);
	tap_errno(ioc(NESTOR_IOC_READ, NULL), EFAULT, "READ: NULL");
}

/* ------------------------------------------------------------------ */
/* NESTOR_IOC_LIST_WALK                                                */
/* ------------------------------------------------------------------ */

static char records[65536];

static void lw_init(struct nestor_list_walk *w, struct nestor_walk_field *f)
{
	memset(w, 0, sizeof(*w));
	memset(f, 0, 2 * sizeof(*f));
	f[0].offset = 8;
	f[0].size = 4;
	f[1].offset = 16;
	f[1].size = 16;
	w->space = NESTOR_SPACE_L2_VIRT;
	w->target.l2_id = NO_L2;
	w->head = 0x1000;
	w->nr_fields = 2;
	w->fields = (uintptr_t)f;
	w->max_nodes = 16;
	w->records = (uintptr_t)records;
	w->records_len = sizeof(records);
}

#define LW_CASE(expect, what, stmt) do {				\
	struct nestor_walk_field f[2];					\
	struct nestor_list_walk w;					\
	lw_init(&w, f);							\
	stmt;								\
	tap_errno(ioc(NESTOR_IOC_LIST_WALK, &w), (expect),		\
		  "LIST_WALK: %s", (what));				\
} while (0)

static void test_walk(void)
{
	LW_CASE(ENOENT, "valid request, unknown l2_id", (void)0);
	LW_CASE(ENOENT, "no fields at all (node addresses only)",
		(w.nr_fields = 0, w.fields = 0));
	LW_CASE(ENOENT, "DEREF field with a negative deref_offset",
		(f[1].flags = NESTOR_FIELD_F_DEREF, f[1].deref_offset = -8));
	LW_CASE(EINVAL, "flags bit 3 (unknown)", w.flags = 8);
	LW_CASE(ENOENT, "F_NOCACHE (accepted)", w.flags = NESTOR_MEM_F_NOCACHE);
	LW_CASE(ENOENT, "F_SIGN, monitor key, nonce (accepted)", SIGNED(w));
	LW_CASE(EINVAL, "F_SIGN with key_id 0", (SIGNED(w), w.sig.key_id = 0));
	LW_CASE(ENOKEY, "F_SIGN with an unknown key id",
		(SIGNED(w), w.sig.key_id = NO_KEY));
	LW_CASE(ENOKEY, "F_SIGN with an owner key (wrong kind)",
		(SIGNED(w), w.sig.key_id = OWNER_KEY));
	LW_CASE(EINVAL, "F_SIGN with an all-zero nonce",
		(SIGNED(w), w.sig.nonce[0] = 0));
	LW_CASE(EINVAL, "F_SIGN, sig.pad = 1", (SIGNED(w), w.sig.pad = 1));
	LW_CASE(EINVAL, "F_SIGN, sig.mac[0] (out) = 1",
		(SIGNED(w), w.sig.mac[0] = 1));
	LW_CASE(EINVAL, "F_SIGN, sig.ident[63] (out) = 1",
		(SIGNED(w), w.sig.ident[63] = 1));
	LW_CASE(EINVAL, "F_SIGN and an invalid field: fields first",
		(SIGNED(w), f[0].size = 0));
	LW_CASE(EINVAL, "sig.mac[31] = 1", w.sig.mac[31] = 1);
	LW_CASE(EINVAL, "space 0", w.space = 0);
	LW_CASE(EINVAL, "space 4", w.space = 4);
	LW_CASE(EINVAL, "F_CR3 with space L1_PHYS",
		(w.space = NESTOR_SPACE_L1_PHYS, w.flags = NESTOR_MEM_F_CR3));
	LW_CASE(EINVAL, "target.cr3 set without F_CR3", w.target.cr3 = 0x2000);
	LW_CASE(EINVAL, "max_nodes = 0", w.max_nodes = 0);
	LW_CASE(E2BIG, "max_nodes = NESTOR_WALK_MAX_NODES + 1",
		w.max_nodes = NESTOR_WALK_MAX_NODES + 1);
	LW_CASE(E2BIG, "nr_fields = NESTOR_WALK_MAX_FIELDS + 1",
		w.nr_fields = NESTOR_WALK_MAX_FIELDS + 1);
	LW_CASE(EINVAL, "nr_fields = 2 with fields = NULL", w.fields = 0);
	LW_CASE(EFAULT, "fields in unmapped memory", w.fields = 8);
	LW_CASE(EINVAL, "field 1: size 0", f[1].size = 0);
	LW_CASE(EINVAL, "field 1: size NESTOR_WALK_MAX_FIELD + 1",
		f[1].size = NESTOR_WALK_MAX_FIELD + 1);
	LW_CASE(ENOENT, "field 1: size NESTOR_WALK_MAX_FIELD (accepted)",
		f[1].size = NESTOR_WALK_MAX_FIELD);
	LW_CASE(EINVAL, "field 0: flags bit 1 (unknown)", f[0].flags = 2);
	LW_CASE(EINVAL, "field 0: pad = 1", f[0].pad = 1);
	LW_CASE(EINVAL, "field 0: deref_offset without DEREF",
		f[0].deref_offset = 4);
	LW_CASE(EINVAL, "records_len smaller than one record (16 + 8 + 16)",
		w.records_len = 39);
	LW_CASE(ENOENT, "records_len of exactly one record",
		w.records_len = 40);
	LW_CASE(EINVAL, "record_size (out) = 1 on input", w.record_size = 1);
	LW_CASE(EINVAL, "nr_nodes (out) = 1 on input", w.nr_nodes = 1);
	LW_CASE(EINVAL, "nr_bad (out) = 1 on input", w.nr_bad = 1);
	LW_CASE(EINVAL, "end (out) = 1 on input", w.end = 1);
	LW_CASE(EINVAL, "nested_walks (out) = 1 on input", w.nested_walks = 1);
	LW_CASE(EINVAL, "cache_hits (out) = 1 on input", w.cache_hits = 1);
	{
		struct {
			struct nestor_list_walk w;
			unsigned char extra[8];
		} big;
		struct nestor_walk_field f[2];

		memset(&big, 0, sizeof(big));
		lw_init(&big.w, f);
		size_cases(0x12, "LIST_WALK", NESTOR_LIST_WALK_SIZE_VER0, &big,
			   sizeof(big), &big.extra[7]);
	}
	tap_errno(ioc(NESTOR_IOC_LIST_WALK, NULL), EFAULT, "LIST_WALK: NULL");
	tap_errno(ioc(_IOW(NESTOR_IOC_MAGIC, 0x12, struct nestor_list_walk),
		      records), ENOTTY, "LIST_WALK as _IOW");
}

int main(void)
{
	dev_fd = open(NESTOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev_fd < 0)
		tap_bail(NESTOR_DEVICE_PATH ": %s", strerror(errno));
	{
		struct nestor_key_add a = { .kind = NESTOR_KEY_MONITOR,
					    .key_id = MON_KEY, .key_len = 16 };

		memset(a.key, 0x42, 16);
		if (ioc(NESTOR_IOC_KEY_ADD, &a))
			tap_bail("KEY_ADD monitor: %s", strerror(errno));
		a.kind = NESTOR_KEY_OWNER;
		a.key_id = OWNER_KEY;
		if (ioc(NESTOR_IOC_KEY_ADD, &a))
			tap_bail("KEY_ADD owner: %s", strerror(errno));
	}
	test_translate();
	test_read();
	test_walk();
	{
		struct nestor_key_del d = { .kind = NESTOR_KEY_MONITOR,
					    .key_id = MON_KEY };

		tap_errno(ioc(NESTOR_IOC_KEY_DEL, &d), 0, "monitor key removed");
		d.kind = NESTOR_KEY_OWNER;
		d.key_id = OWNER_KEY;
		tap_errno(ioc(NESTOR_IOC_KEY_DEL, &d), 0, "owner key removed");
	}
	close(dev_fd);
	return tap_done();
}
