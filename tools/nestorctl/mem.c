// SPDX-License-Identifier: GPL-2.0
/*
 * nestorctl translate / read: the translation chain of one address of an
 * L2, and a hex dump of L2 (or L1) memory, through nestor's introspection
 * ioctls.  Exit status as nestorctl's: 0, 1 error, 2 usage.
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
#include "mem.h"

#define READ_MAX	(1u << 20)	/* one nestorctl read: 1 MiB */

/* ---- local or remote (--remote) introspection ---- */

static struct nestor_remote *remote;
static uint64_t local_calls;
/* id:NAME remotely: the name every signed answer must carry. */
static char remote_ident[NESTOR_MEM_IDENT_LEN + 1];

int nctl_remote_active(void)
{
	return remote != NULL;
}

struct nestor_remote *nctl_remote(void)
{
	return remote;
}

int nctl_remote_setup(const char *hostport, const char *key_id,
		      const char *key_file)
{
	uint8_t key[NESTOR_KEY_MAX_LEN];
	char hex[512], *end;
	unsigned long id;
	size_t n, klen;
	FILE *f;
	int err;

	if (!key_id || !key_file) {
		fputs("nestorctl: --remote needs --key-id N and --key-file FILE (the monitor key, hex)\nTry 'nestorctl help'.\n",
		      stderr);
		return 2;
	}
	errno = 0;
	id = strtoul(key_id, &end, 0);
	if (errno || *end || !id || id > UINT32_MAX) {
		fprintf(stderr, "nestorctl: bad --key-id '%s'\nTry 'nestorctl help'.\n",
			key_id);
		return 2;
	}
	f = fopen(key_file, "re");
	if (!f) {
		fprintf(stderr, "nestorctl: %s: %s\n", key_file, strerror(errno));
		return 1;
	}
	n = fread(hex, 1, sizeof(hex) - 1, f);
	fclose(f);
	hex[n] = 0;
	if (nestor_sig_parse_key(hex, key, &klen)) {
		fprintf(stderr, "nestorctl: %s: not a key (16 to 64 bytes in hex)\n",
			key_file);
		return 1;
	}
	err = nestor_remote_open(hostport, id, key, klen, &remote);
	memset(key, 0, sizeof(key));
	memset(hex, 0, sizeof(hex));
	if (err) {
		fprintf(stderr, "nestorctl: cannot connect to %s: %s\n", hostport,
			strerror(-err));
		return 1;
	}
	return -1;
}

int nctl_open_l2(const char *cmd, const char *name, struct nestor **np,
		 uint32_t *id)
{
	int err;

	*np = NULL;
	/* A context id needs no round trip (and no unsigned answer). */
	if (remote && !nestor_parse_l2_name(name, id))
		return -1;
	if (remote) {
		/* Unsigned, but every answer then proves the name (below). */
		if (!strncmp(name, "id:", 3))
			snprintf(remote_ident, sizeof(remote_ident), "%s", name + 3);
		err = nestor_remote_resolve(remote, name, id);
		if (err) {
			fprintf(stderr, "nestorctl: %s: no such L2: %s (%s)\n", cmd,
				name, nestor_remote_error(remote));
			return 1;
		}
		return -1;
	}
	*np = nestor_open_flags(NESTOR_OPEN_DEV | NESTOR_OPEN_GENL, &err);
	if (!*np) {
		fprintf(stderr, "nestorctl: cannot open nestor: %s\n",
			nestor_strerror(err));
		return 1;
	}
	err = nestor_resolve_l2(*np, name, id);
	if (err) {
		fprintf(stderr, "nestorctl: %s: no such L2: %s\n", cmd, name);
		nestor_close(*np);
		return 1;
	}
	return -1;
}

static char ident_err[256];

/* The signed identity must be the one the user named (id:NAME). */
static int check_ident(const struct nestor_mem_sig *sig)
{
	if (!*remote_ident)
		return 0;
	if (sig->ident_len == strlen(remote_ident) &&
	    !memcmp(sig->ident, remote_ident, sig->ident_len) &&
	    (sig->ident_flags & NESTOR_IDENT_F_PRESENT))
		return 0;
	snprintf(ident_err, sizeof(ident_err),
		 "REJECTED: the signed answer is for identity '%.*s', not '%s'",
		 (int)sig->ident_len, sig->ident, remote_ident);
	return -EACCES;
}

int nctl_read(struct nestor *n, struct nestor_mem_read *r)
{
	int err;

	*ident_err = 0;
	if (remote) {
		err = nestor_remote_read(remote, r);
		return err ? err : check_ident(&r->sig);
	}
	local_calls++;
	return nestor_read(n, r);
}

int nctl_walk(struct nestor *n, struct nestor_list_walk *w)
{
	int err;

	*ident_err = 0;
	if (remote) {
		err = nestor_remote_walk(remote, w);
		return err ? err : check_ident(&w->sig);
	}
	local_calls++;
	return nestor_list_walk(n, w);
}

const char *nctl_last_error(struct nestor *n)
{
	if (*ident_err)
		return ident_err;
	return remote ? nestor_remote_error(remote) : nestor_last_error(n);
}

void nctl_close(struct nestor *n)
{
	if (n)
		nestor_close(n);
}

uint64_t nctl_round_trips(void)
{
	return remote ? nestor_remote_round_trips(remote) : local_calls;
}

struct mem_opts {
	uint32_t space;
	uint32_t vcpu;
	bool have_cr3;
	uint64_t cr3;
	bool json;
};

static int usage_err(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "nestorctl: %s: ", cmd);
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

/* -1: parsed (optind at the operands), else an exit status. */
static int parse_mem_opts(int argc, char **argv, struct mem_opts *o)
{
	static const struct option lopts[] = {
		{ "space", required_argument, NULL, 's' },
		{ "vcpu", required_argument, NULL, 'c' },
		{ "cr3", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->space = NESTOR_SPACE_L2_VIRT;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->space = nestor_space_parse(optarg);
			if (!o->space)
				return usage_err(argv[0], "bad --space '%s' (l2-virt, l2-phys or l1-phys)",
						 optarg);
			break;
		case 'c':
			if (!parse_u64(optarg, &v) || v > UINT32_MAX)
				return usage_err(argv[0], "bad --vcpu '%s'", optarg);
			o->vcpu = v;
			break;
		case 'r':
			if (!parse_u64(optarg, &o->cr3))
				return usage_err(argv[0], "bad --cr3 '%s'", optarg);
			o->have_cr3 = true;
			break;
		case 'j':
			o->json = true;
			break;
		case ':':
			return usage_err(argv[0], "option '%s' needs a value",
					 argv[optind - 1]);
		default:
			return usage_err(argv[0], "unknown option '%s'",
					 argv[optind - 1]);
		}
	}
	if (o->have_cr3 && o->space != NESTOR_SPACE_L2_VIRT)
		return usage_err(argv[0], "%s", "--cr3 goes with --space l2-virt");
	return -1;
}

static int open_target(const char *cmd, const char *name, struct nestor **np,
		       struct nestor_mem_target *t, const struct mem_opts *o)
{
	uint32_t id;
	int err;

	if (nestor_parse_l2_name(name, &id) < 0)
		return usage_err(cmd, "bad L2 name '%s' (expected N or l2:N)", name);
	err = nctl_open_l2(cmd, name, np, &id);
	if (err >= 0)
		return err;
	memset(t, 0, sizeof(*t));
	t->l2_id = id;
	t->vcpu_id = o->vcpu;
	t->cr3 = o->have_cr3 ? o->cr3 : 0;
	return -1;
}

static int mem_fail(struct nestor *n, const char *cmd, int err)
{
	const char *d = nctl_last_error(n);

	fprintf(stderr, "nestorctl: %s: %s%s%s\n", cmd, nestor_strerror(err),
		*d ? ": " : "", d);
	nctl_close(n);
	return 1;
}

static void perm_str(uint32_t p, char out[5])
{
	out[0] = p & NESTOR_PERM_R ? 'r' : '-';
	out[1] = p & NESTOR_PERM_W ? 'w' : '-';
	out[2] = p & NESTOR_PERM_X ? 'x' : '-';
	out[3] = p & NESTOR_PERM_U ? 'u' : '-';
	out[4] = 0;
}

static void print_steps(const char *stage, const struct nestor_xlate_step *s,
			unsigned int n)
{
	char p[5];

	for (unsigned int i = 0; i < n; i++) {
		perm_str(s[i].perm, p);
		printf("  %-6s L%u table %#018llx entry %#018llx %s%s\n",
		       stage, s[i].level, (unsigned long long)s[i].table,
		       (unsigned long long)s[i].entry, p,
		       s[i].leaf ? " leaf" : "");
	}
}

static void json_steps(struct json *j, const char *key,
		       const struct nestor_xlate_step *s, unsigned int n)
{
	json_key(j, key);
	json_arr_begin(j);
	for (unsigned int i = 0; i < n; i++) {
		json_obj_begin(j);
		json_key(j, "level");
		json_u64(j, s[i].level);
		json_key(j, "table");
		json_hex(j, s[i].table);
		json_key(j, "entry");
		json_hex(j, s[i].entry);
		json_key(j, "perm");
		json_u64(j, s[i].perm);
		json_key(j, "leaf");
		json_bool(j, s[i].leaf);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void json_gen(struct json *j, const struct nestor_mem_gen *g)
{
	json_key(j, "gen");
	json_obj_begin(j);
	json_key(j, "root");
	json_hex(j, g->root);
	json_key(j, "root_gen");
	json_u64(j, g->root_gen);
	json_key(j, "cr3");
	json_hex(j, g->cr3);
	json_key(j, "cr3_gen");
	json_u64(j, g->cr3_gen);
	json_key(j, "changed");
	json_u64(j, g->changed);
	json_obj_end(j);
}

int nestorctl_translate(int argc, char **argv)
{
	struct nestor_translate x;
	struct mem_opts o;
	struct nestor *n;
	struct json j;
	uint64_t addr;
	char p[5];
	int ret;

	ret = parse_mem_opts(argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (nctl_remote_active())
		return usage_err(argv[0], "%s", "not offered with --remote (results of translate are not signed)");
	if (argc - optind != 2)
		return usage_err(argv[0], "%s", "expected: L2 ADDRESS");
	if (!parse_u64(argv[optind + 1], &addr))
		return usage_err(argv[0], "bad address '%s'", argv[optind + 1]);
	memset(&x, 0, sizeof(x));
	ret = open_target(argv[0], argv[optind], &n, &x.target, &o);
	if (ret >= 0)
		return ret;
	x.flags = o.have_cr3 ? NESTOR_MEM_F_CR3 : 0;
	x.space = o.space;
	x.addr = addr;
	ret = nestor_translate(n, &x);
	if (ret)
		return mem_fail(n, argv[0], ret);
	nestor_close(n);

	if (o.json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "space");
		json_str(&j, nestor_space_name(x.space));
		json_key(&j, "addr");
		json_hex(&j, x.addr);
		json_key(&j, "status");
		json_str(&j, nestor_mem_status_name(x.status));
		json_key(&j, "l2_phys");
		json_hex(&j, x.l2_phys);
		json_key(&j, "l1_phys");
		json_hex(&j, x.l1_phys);
		json_key(&j, "l2_page_size");
		json_u64(&j, x.l2_page_size);
		json_key(&j, "nested_page_size");
		json_u64(&j, x.nested_page_size);
		json_steps(&j, "l2", x.l2, x.l2_levels);
		json_steps(&j, "nested", x.nested, x.nested_levels);
		json_gen(&j, &x.gen);
		json_obj_end(&j);
		putchar('\n');
	} else {
		printf("%s %#llx: %s\n", nestor_space_name(x.space),
		       (unsigned long long)x.addr,
		       nestor_mem_status_name(x.status));
		print_steps("l2", x.l2, x.l2_levels);
		print_steps("nested", x.nested, x.nested_levels);
		if (x.space == NESTOR_SPACE_L2_VIRT && !x.status) {
			perm_str(x.l2_perm, p);
			printf("  l2-phys %#llx (page %llu, %s)\n",
			       (unsigned long long)x.l2_phys,
			       (unsigned long long)x.l2_page_size, p);
		}
		if (!x.status) {
			perm_str(x.nested_perm, p);
			printf("  l1-phys %#llx (page %llu, %s)\n",
			       (unsigned long long)x.l1_phys,
			       (unsigned long long)x.nested_page_size, p);
		}
		printf("  root %#llx gen %llu, cr3 %#llx gen %llu%s\n",
		       (unsigned long long)x.gen.root,
		       (unsigned long long)x.gen.root_gen,
		       (unsigned long long)x.gen.cr3,
		       (unsigned long long)x.gen.cr3_gen,
		       x.gen.changed ? ", CHANGED during the call" : "");
	}
	if (fflush(stdout) || ferror(stdout))
		return 1;
	return x.status ? 1 : 0;
}

static void hexdump(uint64_t addr, const uint8_t *b, uint64_t len)
{
	for (uint64_t o = 0; o < len; o += 16) {
		printf("%016" PRIx64 " ", addr + o);
		for (uint64_t i = 0; i < 16; i++) {
			if (o + i < len)
				printf(" %02x", b[o + i]);
			else
				fputs("   ", stdout);
		}
		fputs("  |", stdout);
		for (uint64_t i = 0; i < 16 && o + i < len; i++)
			putchar(b[o + i] >= 0x20 && b[o + i] < 0x7f ? b[o + i] : '.');
		puts("|");
	}
}

int nestorctl_read(int argc, char **argv)
{
	struct nestor_mem_seg s;
	struct nestor_mem_read r;
	struct mem_opts o;
	struct nestor *n;
	uint64_t addr, len;
	uint8_t *buf;
	int ret;

	ret = parse_mem_opts(argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (o.json)
		return usage_err(argv[0], "%s", "--json is not offered: the output is a hex dump");
	if (argc - optind != 3)
		return usage_err(argv[0], "%s", "expected: L2 ADDRESS LENGTH");
	if (!parse_u64(argv[optind + 1], &addr))
		return usage_err(argv[0], "bad address '%s'", argv[optind + 1]);
	if (!parse_u64(argv[optind + 2], &len) || !len || len > READ_MAX)
		return usage_err(argv[0], "bad length '%s' (1 to 1048576)",
				 argv[optind + 2]);
	memset(&r, 0, sizeof(r));
	ret = open_target(argv[0], argv[optind], &n, &r.target, &o);
	if (ret >= 0)
		return ret;
	buf = calloc(1, len);
	if (!buf) {
		nctl_close(n);
		return 1;
	}
	memset(&s, 0, sizeof(s));
	s.space = o.space;
	s.addr = addr;
	s.len = len;
	s.buf = (uintptr_t)buf;
	r.flags = o.have_cr3 ? NESTOR_MEM_F_CR3 : 0;
	r.nr_segs = 1;
	r.seg_size = sizeof(s);
	r.segs = (uintptr_t)&s;
	ret = nctl_read(n, &r);
	if (ret) {
		free(buf);
		return mem_fail(n, argv[0], ret);
	}
	nctl_close(n);
	hexdump(addr, buf, s.done);
	free(buf);
	if (r.gen.changed)
		fprintf(stderr, "nestorctl: read: the tables changed during the read (flags %#x)\n",
			r.gen.changed);
	if (s.status) {
		fprintf(stderr, "nestorctl: read: %s at %#llx after %llu bytes\n",
			nestor_mem_status_name(s.status),
			(unsigned long long)s.fail_addr,
			(unsigned long long)s.done);
		return 1;
	}
	return fflush(stdout) || ferror(stdout) ? 1 : 0;
}

/* ---- nestorctl walk ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* OFF:SIZE or OFF:SIZE:DEREF_OFF (the field at *(node + OFF) + DEREF_OFF) */
static bool parse_field(const char *s, struct nestor_walk_field *f)
{
	long long off, size, deref;
	int n = 0, k;

	memset(f, 0, sizeof(*f));
	k = sscanf(s, "%lli:%lli%n:%lli%n", &off, &size, &n, &deref, &n);
	if (k < 2 || s[n] || off < INT32_MIN || off > INT32_MAX || size < 1 ||
	    size > NESTOR_WALK_MAX_FIELD)
		return false;
	f->offset = off;
	f->size = size;
	if (k == 3) {
		if (deref < INT32_MIN || deref > INT32_MAX)
			return false;
		f->flags = NESTOR_FIELD_F_DEREF;
		f->deref_offset = deref;
	}
	return true;
}

static int read_datum(struct nestor *n, const struct nestor_mem_target *t,
		      uint32_t flags, uint32_t space, uint64_t addr, void *buf,
		      uint64_t len, uint32_t *status)
{
	struct nestor_mem_seg s = { .space = space, .addr = addr, .len = len,
				    .buf = (uintptr_t)buf };
	struct nestor_mem_read r = { .flags = flags, .nr_segs = 1,
				     .target = *t, .segs = (uintptr_t)&s,
				     .seg_size = sizeof(s) };
	int err = nctl_read(n, &r);

	*status = s.status;
	return err;
}

/*
 * The per-datum way: the same walk with one READ per pointer and field
 * (the records the kernel would have built).  A cycle ends at the limit.
 */
static int walk_per_datum(struct nestor *n, struct nestor_list_walk *w,
			  const struct nestor_walk_field *f, uint8_t *recs)
{
	uint64_t link, next, ptr;
	uint32_t st, i, off;
	int err;

	err = read_datum(n, &w->target, w->flags, w->space, w->head, &link, 8,
			 &st);
	if (err)
		return err;
	w->record_size = sizeof(struct nestor_walk_record);
	for (i = 0; i < w->nr_fields; i++)
		w->record_size += (f[i].size + 7) & ~7u;
	if (st) {
		w->end = NESTOR_WALK_END_UNREADABLE;
		return 0;
	}
	for (;;) {
		uint8_t *rec = recs + (size_t)w->nr_nodes * w->record_size;
		struct nestor_walk_record *h = (void *)rec;

		if (!link || link == w->head || w->nr_nodes == w->max_nodes ||
		    (uint64_t)(w->nr_nodes + 1) * w->record_size > w->records_len) {
			w->end = !link ? NESTOR_WALK_END_NULL :
				 link == w->head ? NESTOR_WALK_END_HEAD :
				 w->nr_nodes == w->max_nodes ?
				 NESTOR_WALK_END_LIMIT : NESTOR_WALK_END_FULL;
			return 0;
		}
		memset(rec, 0, w->record_size);
		h->node = link - w->link_offset;
		off = sizeof(*h);
		for (i = 0; i < w->nr_fields; i++) {
			uint64_t a = h->node + f[i].offset;

			st = 0;
			if (f[i].flags & NESTOR_FIELD_F_DEREF) {
				ptr = 0;
				err = read_datum(n, &w->target, w->flags,
						 w->space, a, &ptr, 8, &st);
				if (err)
					return err;
				a = ptr + f[i].deref_offset;
			}
			if (!st) {
				err = read_datum(n, &w->target, w->flags,
						 w->space, a, rec + off,
						 f[i].size, &st);
				if (err)
					return err;
			}
			if (st) {
				memset(rec + off, 0, f[i].size);
				h->bad_fields |= 1u << i;
				if (!h->status)
					h->status = st;
			}
			off += (f[i].size + 7) & ~7u;
		}
		w->nr_bad += h->status != 0;
		w->nr_nodes++;
		err = read_datum(n, &w->target, w->flags, w->space,
				 link + w->next_offset, &next, 8, &st);
		if (err)
			return err;
		if (st) {
			w->end = NESTOR_WALK_END_UNREADABLE;
			return 0;
		}
		link = next;
	}
}

int nestorctl_walk(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "space", required_argument, NULL, 's' },
		{ "vcpu", required_argument, NULL, 'c' },
		{ "cr3", required_argument, NULL, 'r' },
		{ "link-offset", required_argument, NULL, 'L' },
		{ "next-offset", required_argument, NULL, 'N' },
		{ "field", required_argument, NULL, 'f' },
		{ "max", required_argument, NULL, 'm' },
		{ "per-datum", no_argument, NULL, 'd' },
		{ "stats", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct nestor_walk_field f[NESTOR_WALK_MAX_FIELDS];
	uint64_t v, head, t0, t1, rt0;
	struct nestor_list_walk w;
	bool per_datum = false, stats = false;
	struct mem_opts o;
	struct nestor *n;
	uint8_t *recs;
	uint32_t nf = 0, max = 1024;
	int c, ret;

	memset(&o, 0, sizeof(o));
	memset(&w, 0, sizeof(w));
	o.space = NESTOR_SPACE_L2_VIRT;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.space = nestor_space_parse(optarg);
			if (!o.space)
				return usage_err(argv[0], "bad --space '%s'", optarg);
			break;
		case 'c':
			if (!parse_u64(optarg, &v) || v > UINT32_MAX)
				return usage_err(argv[0], "bad --vcpu '%s'", optarg);
			o.vcpu = v;
			break;
		case 'r':
			if (!parse_u64(optarg, &o.cr3))
				return usage_err(argv[0], "bad --cr3 '%s'", optarg);
			o.have_cr3 = true;
			break;
		case 'L':
		case 'N':
			if (!parse_u64(optarg, &v) || v > UINT32_MAX)
				return usage_err(argv[0], "bad offset '%s'", optarg);
			if (c == 'L')
				w.link_offset = v;
			else
				w.next_offset = v;
			break;
		case 'f':
			if (nf == NESTOR_WALK_MAX_FIELDS || !parse_field(optarg, &f[nf]))
				return usage_err(argv[0], "bad --field '%s' (OFF:SIZE[:DEREF_OFF], at most 32)",
						 optarg);
			nf++;
			break;
		case 'm':
			if (!parse_u64(optarg, &v) || !v || v > NESTOR_WALK_MAX_NODES)
				return usage_err(argv[0], "bad --max '%s' (1 to 65536)", optarg);
			max = v;
			break;
		case 'd':
			per_datum = true;
			break;
		case 'S':
			stats = true;
			break;
		case ':':
			return usage_err(argv[0], "option '%s' needs a value",
					 argv[optind - 1]);
		default:
			return usage_err(argv[0], "unknown option '%s'",
					 argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return usage_err(argv[0], "%s", "expected: L2 HEAD");
	if (!parse_u64(argv[optind + 1], &head))
		return usage_err(argv[0], "bad head address '%s'", argv[optind + 1]);
	if (o.have_cr3 && o.space != NESTOR_SPACE_L2_VIRT)
		return usage_err(argv[0], "%s", "--cr3 goes with --space l2-virt");
	ret = open_target(argv[0], argv[optind], &n, &w.target, &o);
	if (ret >= 0)
		return ret;
	w.flags = o.have_cr3 ? NESTOR_MEM_F_CR3 : 0;
	w.space = o.space;
	w.head = head;
	w.nr_fields = nf;
	w.fields = nf ? (uintptr_t)f : 0;
	w.max_nodes = max;
	w.records_len = (uint64_t)max * (sizeof(struct nestor_walk_record) +
					 nf * NESTOR_WALK_MAX_FIELD);
	recs = calloc(1, w.records_len);
	if (!recs) {
		nctl_close(n);
		return 1;
	}
	w.records = (uintptr_t)recs;
	rt0 = nctl_round_trips();
	t0 = mono_ns();
	ret = per_datum ? walk_per_datum(n, &w, f, recs) : nctl_walk(n, &w);
	t1 = mono_ns();
	if (ret) {
		free(recs);
		return mem_fail(n, argv[0], ret);
	}
	for (uint32_t i = 0; i < w.nr_nodes; i++) {
		uint8_t *rec = recs + (size_t)i * w.record_size;
		struct nestor_walk_record *h = (void *)rec;
		uint32_t off = sizeof(*h);

		printf("%#018llx %s", (unsigned long long)h->node,
		       h->status ? nestor_mem_status_name(h->status) : "OK");
		for (uint32_t k = 0; k < nf; k++) {
			putchar(' ');
			for (uint32_t b = 0; b < f[k].size; b++)
				printf("%02x", rec[off + b]);
			off += (f[k].size + 7) & ~7u;
		}
		putchar('\n');
	}
	printf("# %u nodes, end %s, %u unreadable\n", w.nr_nodes,
	       nestor_walk_end_name(w.end), w.nr_bad);
	if (stats)
		fprintf(stderr, "nestorctl: walk: %u nodes, %s%s: %llu round trips in %llu us\n",
			w.nr_nodes, per_datum ? "per-datum" : "one LIST_WALK",
			nctl_remote_active() ? " (remote, verified)" : "",
			(unsigned long long)(nctl_round_trips() - rt0),
			(unsigned long long)((t1 - t0) / 1000));
	free(recs);
	nctl_close(n);
	return fflush(stdout) || ferror(stdout) ? 1 : 0;
}
