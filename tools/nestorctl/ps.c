// SPDX-License-Identifier: GPL-2.0
/*
 * nestorctl ps: the process list of a Linux L2, read from L0 with a
 * profile of its kernel (profile.c).  The KASLR offset is found in L2
 * memory (one vectored read); the list is one LIST_WALK call over
 * init_task.tasks.  --per-datum reads one datum per READ call instead, as
 * a RemoteTrans-style client would, for comparison.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libnestor.h"
#include "json.h"
#include "profile.h"
#include "ps.h"
#include "mem.h"

/*
 * x86-64 KASLR moves the kernel image by a multiple of 2 MiB (the smallest
 * CONFIG_PHYSICAL_ALIGN it accepts), only upwards, and keeps it inside the
 * 1 GiB kernel image area that ends here.
 */
#define KASLR_ALIGN	0x200000ull
#define KERNEL_AREA_END	0xffffffffc0000000ull
/* Linux with PTI: the user half of a process's 8 KiB PGD pair is the
 * second page, so CR3 bit 12 set means a user CR3 without the kernel. */
#define PTI_USER_BIT	0x1000ull

struct ps_ctx {
	struct nestor *n;
	struct nestor_mem_target t;	/* with the CR3 that maps the kernel */
	const struct linux_profile *p;
	uint64_t kaslr;
	uint64_t calls;			/* ioctls made */
	struct nestor_mem_gen gen;	/* of the last call */
	uint32_t mem_flags;		/* NESTOR_MEM_F_NOCACHE or 0 */
	/* the kernel's own counts, summed over the calls (not signed) */
	uint64_t nested_walks, cache_hits;
};

static void count(struct ps_ctx *c, const struct nestor_mem_gen *gen,
		  uint32_t nested_walks, uint32_t cache_hits)
{
	c->gen = *gen;
	c->nested_walks += nested_walks;
	c->cache_hits += cache_hits;
}

struct ps_proc {
	uint64_t task;
	uint32_t pid, tgid, ppid, uid;
	uint32_t bad;			/* fields that could not be read */
	char comm[65];
};

/* One READ of @len bytes at L2-virtual @va into @buf; the segment status. */
static int read1(struct ps_ctx *c, uint64_t va, void *buf, uint64_t len,
		 uint32_t *status)
{
	struct nestor_mem_seg s = {
		.space = NESTOR_SPACE_L2_VIRT, .addr = va, .len = len,
		.buf = (uintptr_t)buf,
	};
	struct nestor_mem_read r = {
		.flags = NESTOR_MEM_F_CR3 | c->mem_flags, .nr_segs = 1,
		.target = c->t, .segs = (uintptr_t)&s, .seg_size = sizeof(s),
	};
	int err = nctl_read(c->n, &r);

	c->calls++;
	if (err)
		return err;
	count(c, &r.gen, r.nested_walks, r.cache_hits);
	*status = s.status;
	return 0;
}

/*
 * Probes every candidate offset in one vectored read: @len bytes at
 * @base + k * 2 MiB must equal @want.  Unmapped candidates fail only their
 * own segment.  Exactly one must match (EEXIST: several, a planted copy;
 * the caller refuses to guess).  Uses the target's CR3 (flags say whether
 * it is the vCPU's current one); -1 when none matched.
 */
static int kaslr_probe(struct ps_ctx *c, uint32_t flags, uint64_t base,
		       const void *want, size_t len, int *err)
{
	struct nestor_mem_seg *s;
	struct nestor_mem_read r;
	int found = -1, matches = 0;
	uint64_t k, nk;
	char *bufs;

	nk = base < KERNEL_AREA_END ? (KERNEL_AREA_END - base) / KASLR_ALIGN : 0;
	if (nk > NESTOR_MEM_MAX_SEGS)
		nk = NESTOR_MEM_MAX_SEGS;
	*err = 0;
	if (!nk)
		return -1;
	s = calloc(nk, sizeof(*s));
	bufs = calloc(nk, len);
	if (!s || !bufs) {
		free(s);
		free(bufs);
		*err = ENOMEM;
		return -1;
	}
	for (k = 0; k < nk; k++) {
		s[k].space = NESTOR_SPACE_L2_VIRT;
		s[k].addr = base + k * KASLR_ALIGN;
		s[k].len = len;
		s[k].buf = (uintptr_t)(bufs + k * len);
	}
	memset(&r, 0, sizeof(r));
	r.flags = flags | c->mem_flags;
	r.target = c->t;
	r.nr_segs = nk;
	r.seg_size = sizeof(*s);
	r.segs = (uintptr_t)s;
	*err = nctl_read(c->n, &r);
	c->calls++;
	if (!*err) {
		count(c, &r.gen, r.nested_walks, r.cache_hits);
		for (k = 0; k < nk; k++) {
			if (s[k].status || memcmp(bufs + k * len, want, len))
				continue;
			matches++;
			found = k;
		}
		if (matches > 1) {
			*err = EEXIST;
			found = -1;
		}
	}
	free(s);
	free(bufs);
	return found;
}

/*
 * The anchor of the probe: linux_banner's text when the profile has it,
 * else the name of the boot CPU's idle task, init_task.comm, which Linux
 * sets to "swapper/0" at boot (16 bytes, NUL padded).
 */
static void kaslr_anchor(const struct linux_profile *p, uint64_t *va,
			 const void **want, size_t *len)
{
	static const char idle0[] = "swapper/0";

	if (p->linux_banner && *p->banner) {
		*va = p->linux_banner;
		*want = p->banner;
		*len = strlen(p->banner);
	} else {
		*va = p->init_task + p->comm.offset;
		*want = idle0;
		*len = sizeof(idle0);	/* with its NUL */
	}
}

/*
 * Finds the KASLR offset and a CR3 that maps the kernel: the vCPU's
 * current CR3 first; with PTI that may be a user CR3, so then its kernel
 * twin.  Checks the result at init_task: comm "swapper...", pid 0.
 * 0, or an errno (ENOENT: not found; EEXIST: several matches).
 */
static int kaslr_find(struct ps_ctx *c, const char **why)
{
	struct nestor_mem_seg s[2];
	struct nestor_mem_read r;
	const void *want;
	char comm[8];
	uint32_t pid;
	uint64_t va;
	size_t len;
	int k, err;

	kaslr_anchor(c->p, &va, &want, &len);
	k = kaslr_probe(c, 0, va, want, len, &err);
	if (err)
		goto fail;
	c->t.cr3 = c->gen.cr3;
	if (k < 0 && (c->gen.cr3 & PTI_USER_BIT)) {
		c->t.cr3 = c->gen.cr3 & ~PTI_USER_BIT;
		k = kaslr_probe(c, NESTOR_MEM_F_CR3, va, want, len, &err);
		if (err)
			goto fail;
	}
	if (k < 0) {
		*why = "the kernel's anchor was not found in the kernel image area (wrong profile?)";
		return ENOENT;
	}
	c->kaslr = (uint64_t)k * KASLR_ALIGN;
	memset(s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	s[0].space = s[1].space = NESTOR_SPACE_L2_VIRT;
	s[0].addr = c->p->init_task + c->kaslr + c->p->comm.offset;
	s[0].len = sizeof(comm);
	s[0].buf = (uintptr_t)comm;
	s[1].addr = c->p->init_task + c->kaslr + c->p->pid.offset;
	s[1].len = sizeof(pid);
	s[1].buf = (uintptr_t)&pid;
	r.flags = NESTOR_MEM_F_CR3 | c->mem_flags;
	r.target = c->t;
	r.nr_segs = 2;
	r.seg_size = sizeof(s[0]);
	r.segs = (uintptr_t)s;
	err = nctl_read(c->n, &r);
	c->calls++;
	if (err)
		goto fail;
	count(c, &r.gen, r.nested_walks, r.cache_hits);
	if (r.nr_ok != 2 || memcmp(comm, "swapper", 7) || pid) {
		*why = "init_task is not the idle task at the offset found (wrong profile?)";
		return ENOENT;
	}
	return 0;
fail:
	*why = err == EEXIST ? "the kernel's anchor was found at several offsets: refusing to guess" : "";
	return err;
}

static void *field_at(uint8_t *rec, const uint32_t *off, int i)
{
	return rec + sizeof(struct nestor_walk_record) + off[i];
}

/* The batched way: one LIST_WALK over init_task.tasks. */
static int ps_walk(struct ps_ctx *c, uint32_t max, struct ps_proc **out,
		   uint32_t *nr, uint32_t *end)
{
	const struct linux_profile *p = c->p;
	struct nestor_walk_field f[5] = {
		{ .offset = p->pid.offset, .size = 4 },
		{ .offset = p->tgid.offset, .size = 4 },
		{ .offset = p->comm.offset, .size = p->comm.size },
		{ .offset = p->real_parent.offset, .size = 4,
		  .flags = NESTOR_FIELD_F_DEREF, .deref_offset = p->tgid.offset },
		{ .offset = p->cred.offset, .size = 4,
		  .flags = NESTOR_FIELD_F_DEREF, .deref_offset = p->uid.offset },
	};
	uint32_t off[5], rsz = sizeof(struct nestor_walk_record);
	struct nestor_list_walk w;
	struct ps_proc *procs;
	uint8_t *recs;
	int err;

	for (int i = 0; i < 5; i++) {
		off[i] = rsz - sizeof(struct nestor_walk_record);
		rsz += (f[i].size + 7) & ~7u;
	}
	recs = calloc(max, rsz);
	procs = calloc(max, sizeof(*procs));
	if (!recs || !procs) {
		free(recs);
		free(procs);
		return ENOMEM;
	}
	memset(&w, 0, sizeof(w));
	w.flags = NESTOR_MEM_F_CR3 | c->mem_flags;
	w.space = NESTOR_SPACE_L2_VIRT;
	w.target = c->t;
	w.head = p->init_task + c->kaslr + p->tasks.offset;
	w.link_offset = p->tasks.offset;
	w.next_offset = 0;	/* list_head.next */
	w.nr_fields = 5;
	w.max_nodes = max;
	w.fields = (uintptr_t)f;
	w.records = (uintptr_t)recs;
	w.records_len = (uint64_t)max * rsz;
	err = nctl_walk(c->n, &w);
	c->calls++;
	if (err) {
		free(recs);
		free(procs);
		return err;
	}
	if (w.record_size != rsz) {
		free(recs);
		free(procs);
		return EPROTO;
	}
	count(c, &w.gen, w.nested_walks, w.cache_hits);
	for (uint32_t i = 0; i < w.nr_nodes; i++) {
		uint8_t *rec = recs + (size_t)i * rsz;
		struct nestor_walk_record *h = (void *)rec;
		struct ps_proc *q = &procs[i];

		q->task = h->node;
		q->bad = h->bad_fields;
		memcpy(&q->pid, field_at(rec, off, 0), 4);
		memcpy(&q->tgid, field_at(rec, off, 1), 4);
		memcpy(q->comm, field_at(rec, off, 2), p->comm.size);
		memcpy(&q->ppid, field_at(rec, off, 3), 4);
		memcpy(&q->uid, field_at(rec, off, 4), 4);
	}
	*out = procs;
	*nr = w.nr_nodes;
	*end = w.end;
	free(recs);
	return 0;
}

/*
 * The per-datum way: every pointer and every field is its own READ call,
 * with the same stop rules as the walk (head, NULL, limit, unreadable
 * link); a cycle ends at the limit.
 */
static int ps_per_datum(struct ps_ctx *c, uint32_t max, struct ps_proc **out,
			uint32_t *nr, uint32_t *end)
{
	const struct linux_profile *p = c->p;
	uint64_t head = p->init_task + c->kaslr + p->tasks.offset, link, ptr;
	struct ps_proc *procs = calloc(max, sizeof(*procs));
	uint32_t n = 0, st;
	int err;

	if (!procs)
		return ENOMEM;
	err = read1(c, head, &link, 8, &st);
	if (err)
		goto out;
	*end = NESTOR_WALK_END_UNREADABLE;
	if (st)
		goto done;
	for (;;) {
		struct ps_proc *q;
		uint64_t node;

		if (link == head) {
			*end = NESTOR_WALK_END_HEAD;
			break;
		}
		if (!link) {
			*end = NESTOR_WALK_END_NULL;
			break;
		}
		if (n == max) {
			*end = NESTOR_WALK_END_LIMIT;
			break;
		}
		q = &procs[n++];
		node = link - p->tasks.offset;
		q->task = node;
#define DATUM(bit, va, dst, len) do {					\
		err = read1(c, (va), (dst), (len), &st);		\
		if (err)						\
			goto out;					\
		if (st)							\
			q->bad |= 1u << (bit);				\
	} while (0)
		DATUM(0, node + p->pid.offset, &q->pid, 4);
		DATUM(1, node + p->tgid.offset, &q->tgid, 4);
		DATUM(2, node + p->comm.offset, q->comm, p->comm.size);
		ptr = 0;
		DATUM(3, node + p->real_parent.offset, &ptr, 8);
		if (!(q->bad & 8))
			DATUM(3, ptr + p->tgid.offset, &q->ppid, 4);
		ptr = 0;
		DATUM(4, node + p->cred.offset, &ptr, 8);
		if (!(q->bad & 16))
			DATUM(4, ptr + p->uid.offset, &q->uid, 4);
#undef DATUM
		err = read1(c, link, &link, 8, &st);
		if (err)
			goto out;
		if (st) {
			*end = NESTOR_WALK_END_UNREADABLE;
			break;
		}
	}
done:
	*out = procs;
	*nr = n;
	return 0;
out:
	free(procs);
	return err;
}

static int usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "nestorctl: ps: ");
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'nestorctl help'.\n", stderr);
	return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && !*end;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int nestorctl_ps(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "vcpu", required_argument, NULL, 'c' },
		{ "max", required_argument, NULL, 'm' },
		{ "per-datum", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "stats", no_argument, NULL, 's' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pfile = getenv("NESTOR_PROFILE"), *why = "";
	bool per_datum = false, json = false, stats = false;
	uint64_t v, t0, t1, kcalls;
	uint32_t max = 32768, nr = 0, end = 0, id;
	struct ps_proc *procs = NULL;
	struct linux_profile p;
	struct ps_ctx c;
	char err[512];
	struct json j;
	FILE *f;
	int c_, ret;

	memset(&c, 0, sizeof(c));
	opterr = 0;
	optind = 1;
	while ((c_ = getopt_long(argc, argv, ":", lopts, NULL)) != -1) {
		switch (c_) {
		case 'p':
			pfile = optarg;
			break;
		case 'c':
			if (!parse_u64(optarg, &v) || v > UINT32_MAX)
				return usage_err("bad --vcpu '%s'", optarg);
			c.t.vcpu_id = v;
			break;
		case 'm':
			if (!parse_u64(optarg, &v) || !v || v > NESTOR_WALK_MAX_NODES)
				return usage_err("bad --max '%s' (1 to 65536)", optarg);
			max = v;
			break;
		case 'd':
			per_datum = true;
			break;
		case 'j':
			json = true;
			break;
		case 's':
			stats = true;
			break;
		case 'n':
			c.mem_flags = NESTOR_MEM_F_NOCACHE;
			break;
		case ':':
			return usage_err("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_err("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return usage_err("%s", "expected: L2");
	if (!pfile)
		return usage_err("%s", "no profile: give --profile FILE (see 'nestorctl profile') or set NESTOR_PROFILE");
	if (nestor_parse_l2_name(argv[optind], &id) < 0)
		return usage_err("bad L2 name '%s' (expected N or l2:N)", argv[optind]);
	f = fopen(pfile, "re");
	if (!f) {
		fprintf(stderr, "nestorctl: ps: %s: %s\n", pfile, strerror(errno));
		return 1;
	}
	ret = profile_read(f, pfile, &p, err, sizeof(err));
	fclose(f);
	if (ret) {
		fprintf(stderr, "nestorctl: ps: %s\n", err);
		return 1;
	}
	c.p = &p;
	ret = nctl_open_l2("ps", argv[optind], &c.n, &id);
	if (ret >= 0)
		return ret;
	c.t.l2_id = id;
	t0 = now_ns();
	ret = kaslr_find(&c, &why);
	kcalls = c.calls;
	t1 = now_ns();
	if (!ret)
		ret = per_datum ? ps_per_datum(&c, max, &procs, &nr, &end) :
				  ps_walk(&c, max, &procs, &nr, &end);
	if (ret) {
		const char *d = nctl_last_error(c.n);

		fprintf(stderr, "nestorctl: ps: %s%s%s%s%s\n", nestor_strerror(ret),
			*why ? ": " : "", why, *d ? ": " : "", d);
		nctl_close(c.n);
		free(procs);
		return 1;
	}
	nctl_close(c.n);
	v = now_ns();
	if (json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "kaslr_offset");
		json_hex(&j, c.kaslr);
		json_key(&j, "cr3");
		json_hex(&j, c.t.cr3);
		json_key(&j, "mode");
		json_str(&j, per_datum ? "per-datum" : "walk");
		json_key(&j, "calls");
		json_u64(&j, c.calls - kcalls);
		json_key(&j, "remote");
		json_bool(&j, nctl_remote_active());
		json_key(&j, "ns");
		json_u64(&j, v - t1);
		json_key(&j, "kaslr_calls");
		json_u64(&j, kcalls);
		json_key(&j, "kaslr_ns");
		json_u64(&j, t1 - t0);
		json_key(&j, "end");
		json_str(&j, nestor_walk_end_name(end));
		json_key(&j, "root_gen");
		json_u64(&j, c.gen.root_gen);
		json_key(&j, "changed");
		json_u64(&j, c.gen.changed);
		json_key(&j, "cache");
		json_bool(&j, !c.mem_flags);
		json_key(&j, "nested_walks");
		json_u64(&j, c.nested_walks);
		json_key(&j, "cache_hits");
		json_u64(&j, c.cache_hits);
		json_key(&j, "processes");
		json_arr_begin(&j);
		for (uint32_t i = 0; i < nr; i++) {
			json_obj_begin(&j);
			json_key(&j, "pid");
			json_u64(&j, procs[i].pid);
			json_key(&j, "ppid");
			json_u64(&j, procs[i].ppid);
			json_key(&j, "uid");
			json_u64(&j, procs[i].uid);
			json_key(&j, "comm");
			json_str(&j, procs[i].comm);
			json_key(&j, "task");
			json_hex(&j, procs[i].task);
			if (procs[i].bad) {
				json_key(&j, "bad_fields");
				json_u64(&j, procs[i].bad);
			}
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		putchar('\n');
	} else {
		printf("%7s %7s %6s %s\n", "PID", "PPID", "UID", "COMM");
		for (uint32_t i = 0; i < nr; i++)
			printf("%7u %7u %6u %s%s\n", procs[i].pid, procs[i].ppid,
			       procs[i].uid, procs[i].comm,
			       procs[i].bad ? " (unreadable fields)" : "");
	}
	free(procs);
	if (stats)
		fprintf(stderr, "nestorctl: ps: %u processes, %s: %" PRIu64 " calls in %" PRIu64 " us; KASLR offset %#" PRIx64 ": %" PRIu64 " calls in %" PRIu64 " us; walk end %s; nested walks %" PRIu64 ", cache hits %" PRIu64 "%s\n",
			nr, per_datum ? "per-datum" : "walk", c.calls - kcalls,
			(v - t1) / 1000, c.kaslr, kcalls, (t1 - t0) / 1000,
			nestor_walk_end_name(end), c.nested_walks, c.cache_hits,
			c.mem_flags ? " (--no-cache)" : "");
	if (c.gen.changed)
		fprintf(stderr, "nestorctl: ps: the tables changed during the walk (flags %#x)\n",
			c.gen.changed);
	if (fflush(stdout) || ferror(stdout))
		return 1;
	return end == NESTOR_WALK_END_HEAD ? 0 : 1;
}
