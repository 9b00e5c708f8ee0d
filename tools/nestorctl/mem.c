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

#include "libnestor.h"
#include "json.h"
#include "mem.h"

#define READ_MAX	(1u << 20)	/* one nestorctl read: 1 MiB */

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
	*np = nestor_open_flags(NESTOR_OPEN_DEV | NESTOR_OPEN_GENL, &err);
	if (!*np) {
		fprintf(stderr, "nestorctl: cannot open nestor: %s\n",
			nestor_strerror(err));
		return 1;
	}
	err = nestor_resolve_l2(*np, name, &id);
	if (err) {
		fprintf(stderr, "nestorctl: %s: no such L2: %s\n", cmd, name);
		nestor_close(*np);
		return 1;
	}
	memset(t, 0, sizeof(*t));
	t->l2_id = id;
	t->vcpu_id = o->vcpu;
	t->cr3 = o->have_cr3 ? o->cr3 : 0;
	return -1;
}

static int mem_fail(struct nestor *n, const char *cmd, int err)
{
	const char *d = nestor_last_error(n);

	fprintf(stderr, "nestorctl: %s: %s%s%s\n", cmd, nestor_strerror(err),
		*d ? ": " : "", d);
	nestor_close(n);
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
		nestor_close(n);
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
	ret = nestor_read(n, &r);
	if (ret) {
		free(buf);
		return mem_fail(n, argv[0], ret);
	}
	nestor_close(n);
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
