// SPDX-License-Identifier: GPL-2.0
/*
 * nestorctl profile: a Linux guest profile from the kernel build's BTF
 * (libbpf's BTF API) and its symbols (the vmlinux symtab through libelf, or
 * a System.map); and the reader of that file for nestorctl ps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gelf.h>
#include <libelf.h>

#include "profile.h"

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Finds @name among the members of struct @id, looking into anonymous
 * struct and union members too (task_struct has some); the offset is in
 * bits from the start of @id.  false if absent, or a bitfield.
 */
static bool btf_member(const struct btf *btf, __u32 id, const char *name,
		       __u32 *bit_off, __u32 *size)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;
	__s64 sz;

	if (!t || (!btf_is_struct(t) && !btf_is_union(t)))
		return false;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		__u32 sub;

		if (mn && *mn) {
			if (strcmp(mn, name))
				continue;
			if (btf_member_bitfield_size(t, i))
				return false;
			sz = btf__resolve_size(btf, m->type);
			if (sz < 0)
				return false;
			*bit_off = btf_member_bit_offset(t, i);
			*size = sz;
			return true;
		}
		sub = btf__resolve_type(btf, m->type);
		if ((int)sub > 0 &&
		    btf_member(btf, sub, name, bit_off, size)) {
			*bit_off += btf_member_bit_offset(t, i);
			return true;
		}
	}
	return false;
}

static int struct_field(const struct btf *btf, const char *sname,
			const char *fname, struct profile_field *f,
			char *err, size_t len)
{
	__s32 id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	__u32 bits, size;

	if (id <= 0)
		return fail(err, len, "BTF has no struct %s", sname);
	if (!btf_member(btf, id, fname, &bits, &size))
		return fail(err, len, "BTF: struct %s has no member %s", sname,
			    fname);
	if (bits % 8)
		return fail(err, len, "BTF: %s.%s is not byte aligned", sname,
			    fname);
	f->offset = bits / 8;
	f->size = size;
	return 0;
}

struct sym_want {
	const char *name;
	uint64_t *addr;
	bool optional;
};

static int syms_from_map(const char *path, struct sym_want *w, size_t nw,
			 char *err, size_t len)
{
	char line[512], name[256], type;
	unsigned long long a;
	FILE *f = fopen(path, "re");

	if (!f)
		return fail(err, len, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3)
			continue;
		for (size_t i = 0; i < nw; i++)
			if (!*w[i].addr && !strcmp(name, w[i].name))
				*w[i].addr = a;
	}
	fclose(f);
	return 0;
}

/* Symbols from the ELF symtab; 0 also when it has none (stripped). */
static int syms_from_elf(Elf *e, struct sym_want *w, size_t nw)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		for (size_t k = 0; k < sh.sh_size / sh.sh_entsize; k++) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(d, k, &s))
				break;
			n = elf_strptr(e, sh.sh_link, s.st_name);
			if (!n)
				continue;
			for (size_t i = 0; i < nw; i++)
				if (!*w[i].addr && !strcmp(n, w[i].name))
					*w[i].addr = s.st_value;
		}
	}
	return 0;
}

static Elf_Scn *elf_section(Elf *e, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(e, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(e, shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/*
 * Exported symbols, from the kernel's own export table: a stripped vmlinux
 * still has it (Debian's System.map is only a placeholder).  x86-64 uses
 * place-relative entries (CONFIG_HAVE_ARCH_PREL32_RELOCATIONS):
 * { s32 value_offset, name_offset, namespace_offset }, each relative to
 * its own address; names are in __ksymtab_strings.  Entries whose name
 * does not land there mean another layout: they are ignored.
 */
static void syms_from_ksymtab(Elf *e, struct sym_want *w, size_t nw)
{
	static const char *const tabs[] = { "__ksymtab", "__ksymtab_gpl" };
	GElf_Shdr ssh, sh;
	Elf_Scn *sscn, *scn;
	Elf_Data *sd, *d;

	sscn = elf_section(e, "__ksymtab_strings", &ssh);
	sd = sscn ? elf_getdata(sscn, NULL) : NULL;
	if (!sd || !sd->d_buf || sd->d_size != ssh.sh_size)
		return;
	for (size_t t = 0; t < sizeof(tabs) / sizeof(tabs[0]); t++) {
		scn = elf_section(e, tabs[t], &sh);
		d = scn ? elf_getdata(scn, NULL) : NULL;
		if (!d || !d->d_buf || d->d_size != sh.sh_size)
			continue;
		for (size_t o = 0; o + 12 <= d->d_size; o += 12) {
			int32_t rel[2];
			uint64_t at = sh.sh_addr + o, name;
			const char *n;

			memcpy(rel, (const char *)d->d_buf + o, sizeof(rel));
			name = at + 4 + (int64_t)rel[1];
			if (name < ssh.sh_addr || name >= ssh.sh_addr + ssh.sh_size)
				continue;
			n = (const char *)sd->d_buf + (name - ssh.sh_addr);
			if (!memchr(n, 0, ssh.sh_addr + ssh.sh_size - name))
				continue;
			for (size_t i = 0; i < nw; i++)
				if (!*w[i].addr && !strcmp(n, w[i].name))
					*w[i].addr = at + (int64_t)rel[0];
		}
	}
}

/* The NUL-terminated bytes at virtual address @va, from an ALLOC section. */
static void elf_string_at(Elf *e, uint64_t va, char *out, size_t outlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	*out = 0;
	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;
		size_t o, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_ALLOC) || va < sh.sh_addr ||
		    va >= sh.sh_addr + sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		o = va - sh.sh_addr;
		if (!d || !d->d_buf || o >= d->d_size)
			return;
		n = strnlen((const char *)d->d_buf + o, d->d_size - o);
		if (n >= outlen || n == d->d_size - o)
			return;	/* not a string that fits: leave it out */
		memcpy(out, (const char *)d->d_buf + o, n + 1);
		return;
	}
}

static Elf *elf_open(const char *path, int *fd, char *err, size_t len)
{
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		fail(err, len, "libelf: %s", elf_errmsg(-1));
		return NULL;
	}
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		fail(err, len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	e = elf_begin(*fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		if (e)
			elf_end(e);
		close(*fd);
		return NULL;
	}
	return e;
}

int profile_generate(const char *btf_path, const char *vmlinux,
		     const char *system_map, struct linux_profile *p,
		     char *err, size_t errlen)
{
	struct sym_want want[] = {
		{ "init_task", &p->init_task, false },
		{ "linux_banner", &p->linux_banner, true },
		{ "_text", &p->text, true },
	};
	const char *elf_path = vmlinux ? vmlinux : btf_path;
	struct btf *btf;
	__s32 id;
	Elf *e;
	int fd = -1, ret;

	memset(p, 0, sizeof(*p));
	if (!btf_path)
		btf_path = vmlinux;
	/* Our own messages say what failed; libbpf's would be noise. */
	libbpf_set_print(NULL);
	btf = btf__parse(btf_path, NULL);
	if (!btf)
		return fail(err, errlen, "%s: no BTF (%s)", btf_path,
			    strerror(errno));
	ret = struct_field(btf, "task_struct", "tasks", &p->tasks, err, errlen) ||
	      struct_field(btf, "task_struct", "pid", &p->pid, err, errlen) ||
	      struct_field(btf, "task_struct", "tgid", &p->tgid, err, errlen) ||
	      struct_field(btf, "task_struct", "comm", &p->comm, err, errlen) ||
	      struct_field(btf, "task_struct", "real_parent", &p->real_parent,
			   err, errlen) ||
	      struct_field(btf, "task_struct", "cred", &p->cred, err, errlen) ||
	      struct_field(btf, "task_struct", "mm", &p->mm, err, errlen) ||
	      struct_field(btf, "cred", "uid", &p->uid, err, errlen);
	id = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
	if (!ret)
		p->task_struct_size = btf__resolve_size(btf, id);
	btf__free(btf);
	if (ret)
		return -1;
	if (p->pid.size != 4 || p->tgid.size != 4 || p->uid.size != 4 ||
	    p->real_parent.size != 8 || p->cred.size != 8 ||
	    p->tasks.size != 16 || !p->comm.size || p->comm.size > 64)
		return fail(err, errlen, "BTF: unexpected member sizes (pid %u, uid %u, real_parent %u, tasks %u, comm %u): not an x86-64 Linux kernel?",
			    p->pid.size, p->uid.size, p->real_parent.size,
			    p->tasks.size, p->comm.size);

	e = elf_path ? elf_open(elf_path, &fd, err, errlen) : NULL;
	if (!e && vmlinux)
		return fail(err, errlen, "%s: not an ELF file", vmlinux);
	if (e)
		syms_from_elf(e, want, sizeof(want) / sizeof(want[0]));
	if (system_map &&
	    syms_from_map(system_map, want, sizeof(want) / sizeof(want[0]),
			  err, errlen)) {
		ret = -1;
		goto out;
	}
	if (e)
		syms_from_ksymtab(e, want, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (*want[i].addr || want[i].optional)
			continue;
		ret = fail(err, errlen, "symbol %s not found in %s%s", want[i].name,
			   system_map ? system_map : elf_path,
			   system_map ? "" : " (stripped? give --system-map)");
		goto out;
	}
	if (e && p->linux_banner)
		elf_string_at(e, p->linux_banner, p->banner, sizeof(p->banner));
out:
	if (e) {
		elf_end(e);
		close(fd);
	}
	return ret;
}

static const struct {
	const char *key;
	size_t off;
} fields[] = {
	{ "task_struct.tasks", offsetof(struct linux_profile, tasks) },
	{ "task_struct.pid", offsetof(struct linux_profile, pid) },
	{ "task_struct.tgid", offsetof(struct linux_profile, tgid) },
	{ "task_struct.comm", offsetof(struct linux_profile, comm) },
	{ "task_struct.real_parent", offsetof(struct linux_profile, real_parent) },
	{ "task_struct.cred", offsetof(struct linux_profile, cred) },
	{ "task_struct.mm", offsetof(struct linux_profile, mm) },
	{ "cred.uid", offsetof(struct linux_profile, uid) },
};

static const struct {
	const char *key;
	size_t off;
} syms[] = {
	/* the first one is required; the others are optional */
	{ "symbol.init_task", offsetof(struct linux_profile, init_task) },
	{ "symbol.linux_banner", offsetof(struct linux_profile, linux_banner) },
	{ "symbol._text", offsetof(struct linux_profile, text) },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
#define NSYMS (sizeof(syms) / sizeof(syms[0]))

/* The banner, escaped: printable ASCII but '\\' as is, the rest as \xHH. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}

int profile_write(FILE *f, const struct linux_profile *p)
{
	fprintf(f, "# nestor Linux guest profile (Documentation/introspection.rst)\n");
	fprintf(f, "nestor-profile=%d\n", PROFILE_VERSION);
	fprintf(f, "task_struct.size=%u\n", p->task_struct_size);
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct profile_field *fl =
			(const void *)((const char *)p + fields[i].off);

		fprintf(f, "%s.offset=%u\n%s.size=%u\n", fields[i].key,
			fl->offset, fields[i].key, fl->size);
	}
	for (size_t i = 0; i < NSYMS; i++) {
		uint64_t a = *(const uint64_t *)((const char *)p + syms[i].off);

		if (a)
			fprintf(f, "%s=%#" PRIx64 "\n", syms[i].key, a);
	}
	if (*p->banner) {
		fputs("banner=", f);
		put_escaped(f, p->banner);
		fputc('\n', f);
	}
	return fflush(f) || ferror(f) ? -1 : 0;
}

static int unescape(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

	while (*s) {
		unsigned int c = (unsigned char)*s++;

		if (c == '\\') {
			if (s[0] != 'x' || sscanf(s + 1, "%2x", &c) != 1 || !c)
				return -1;
			s += 3;
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	out[n] = 0;
	return 0;
}

static bool parse_num(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end && *v <= max;
}

int profile_read(FILE *f, const char *name, struct linux_profile *p,
		 char *err, size_t errlen)
{
	/* one bit per key: all but the banner and the optional symbols */
	uint64_t seen = 0, need = (1ull << (2 * NFIELDS + 3)) - 1;
	char line[2 * PROFILE_BANNER_MAX];
	unsigned int ln = 0;
	uint64_t v;

	memset(p, 0, sizeof(*p));
	while (fgets(line, sizeof(line), f)) {
		char *eq, *key = line, *val;
		size_t l = strlen(line);
		int bit = -1;

		ln++;
		if (l && line[l - 1] == '\n')
			line[--l] = 0;
		else if (!feof(f))
			return fail(err, errlen, "%s:%u: line too long", name, ln);
		if (!*line || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq)
			return fail(err, errlen, "%s:%u: expected KEY=VALUE", name, ln);
		*eq = 0;
		val = eq + 1;
		if (!strcmp(key, "banner")) {
			if (unescape(val, p->banner, sizeof(p->banner)))
				return fail(err, errlen, "%s:%u: bad banner", name, ln);
			continue;
		}
		if (!strcmp(key, "nestor-profile")) {
			if (!parse_num(val, UINT32_MAX, &v) || v != PROFILE_VERSION)
				return fail(err, errlen, "%s:%u: profile version %s, expected %d",
					    name, ln, val, PROFILE_VERSION);
			bit = 0;
		} else if (!strcmp(key, "task_struct.size")) {
			if (!parse_num(val, UINT32_MAX, &v))
				goto bad;
			p->task_struct_size = v;
			bit = 1;
		}
		for (size_t i = 0; bit < 0 && i < NFIELDS; i++) {
			size_t kl = strlen(fields[i].key);
			struct profile_field *fl = (void *)((char *)p + fields[i].off);

			if (strncmp(key, fields[i].key, kl) || key[kl] != '.')
				continue;
			if (!parse_num(val, UINT32_MAX, &v))
				goto bad;
			if (!strcmp(key + kl, ".offset")) {
				fl->offset = v;
				bit = 2 + 2 * i;
			} else if (!strcmp(key + kl, ".size")) {
				fl->size = v;
				bit = 3 + 2 * i;
			}
		}
		for (size_t i = 0; bit < 0 && i < NSYMS; i++) {
			if (strcmp(key, syms[i].key))
				continue;
			if (!parse_num(val, UINT64_MAX, &v) || !v)
				goto bad;
			*(uint64_t *)((char *)p + syms[i].off) = v;
			bit = 2 + 2 * NFIELDS + i;
		}
		/* Unknown keys are errors: a typo must not go unnoticed. */
		if (bit < 0)
			return fail(err, errlen, "%s:%u: unknown key '%s'", name, ln, key);
		if (seen & (1ull << bit))
			return fail(err, errlen, "%s:%u: '%s' given twice", name, ln, key);
		seen |= 1ull << bit;
		continue;
bad:
		return fail(err, errlen, "%s:%u: bad value '%s' for %s", name, ln, val, key);
	}
	if (ferror(f))
		return fail(err, errlen, "%s: read error", name);
	if ((seen & need) != need)
		return fail(err, errlen, "%s: incomplete profile (%s missing)", name,
			    !(seen & 1) ? "nestor-profile" : "a key");
	if (p->pid.size != 4 || p->tgid.size != 4 || p->uid.size != 4 ||
	    p->real_parent.size != 8 || p->cred.size != 8 ||
	    p->tasks.size != 16 || !p->comm.size || p->comm.size > 64)
		return fail(err, errlen, "%s: unexpected member sizes", name);
	return 0;
}

static int usage_err(const char *msg, const char *arg)
{
	fprintf(stderr, "nestorctl: profile: ");
	fprintf(stderr, msg, arg);
	fputs("\nTry 'nestorctl help'.\n", stderr);
	return 2;
}

int nestorctl_profile(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "vmlinux", required_argument, NULL, 'v' },
		{ "btf", required_argument, NULL, 'b' },
		{ "system-map", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *vmlinux = NULL, *btf = NULL, *map = NULL, *out = NULL;
	struct linux_profile p;
	char err[512];
	FILE *f = stdout;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:", lopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			vmlinux = optarg;
			break;
		case 'b':
			btf = optarg;
			break;
		case 'm':
			map = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case ':':
			return usage_err("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_err("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_err("unexpected argument '%s'", argv[optind]);
	if (!vmlinux && !(btf && map))
		return usage_err("%s", "give --vmlinux FILE, or --btf FILE and --system-map FILE");
	if (profile_generate(btf, vmlinux, map, &p, err, sizeof(err))) {
		fprintf(stderr, "nestorctl: profile: %s\n", err);
		return 1;
	}
	if (out) {
		f = fopen(out, "we");
		if (!f) {
			fprintf(stderr, "nestorctl: profile: %s: %s\n", out,
				strerror(errno));
			return 1;
		}
	}
	if (profile_write(f, &p) || (out && fclose(f))) {
		fprintf(stderr, "nestorctl: profile: cannot write %s\n",
			out ? out : "stdout");
		return 1;
	}
	return 0;
}
