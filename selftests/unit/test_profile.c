// SPDX-License-Identifier: GPL-2.0
/*
 * nestorctl profile (tools/nestorctl/profile.c) against the Debian vmlinux
 * that the tests boot (prepare-btf.sh puts it, its raw BTF and bpftool's
 * offsets in $NESTOR_BTF_DIR): the offsets agree with bpftool, init_task
 * points at the initial task's "swapper" name in the image, --btf with a
 * System.map gives the same profile, and the reader refuses broken files.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <gelf.h>
#include <libelf.h>

#include "../../tools/nestorctl/profile.h"
#include "tap.h"

static const char *dir;

static char *path(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static const struct profile_field *field(const struct linux_profile *p,
					 const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} f[] = {
		{ "task_struct.tasks", offsetof(struct linux_profile, tasks) },
		{ "task_struct.pid", offsetof(struct linux_profile, pid) },
		{ "task_struct.tgid", offsetof(struct linux_profile, tgid) },
		{ "task_struct.comm", offsetof(struct linux_profile, comm) },
		{ "task_struct.real_parent", offsetof(struct linux_profile, real_parent) },
		{ "task_struct.cred", offsetof(struct linux_profile, cred) },
		{ "task_struct.mm", offsetof(struct linux_profile, mm) },
		{ "cred.uid", offsetof(struct linux_profile, uid) },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (!strcmp(key, f[i].key))
			return (const void *)((const char *)p + f[i].off);
	return NULL;
}

/* The bytes at a link-time address of the vmlinux, read independently. */
static int image_bytes(const char *file, uint64_t va, void *out, size_t len)
{
	int fd = open(file, O_RDONLY), ret = -1;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf *e;

	elf_version(EV_CURRENT);
	if (fd < 0)
		return -1;
	e = elf_begin(fd, ELF_C_READ, NULL);
	while (e && (scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    va < sh.sh_addr || va + len > sh.sh_addr + sh.sh_size)
			continue;
		if (pread(fd, out, len, sh.sh_offset + (va - sh.sh_addr)) == (ssize_t)len)
			ret = 0;
		break;
	}
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

static int read_str(const char *text, struct linux_profile *p, char *err,
		    size_t len)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret = profile_read(f, "test", p, err, len);

	fclose(f);
	return ret;
}

static void reader_rejects(const char *good)
{
	static const struct {
		const char *what, *from, *to;
	} bad[] = {
		{ "an unknown key", "task_struct.mm.size=8", "task_struct.mm.sise=8" },
		{ "a missing key", "task_struct.mm.size=8\n", "" },
		{ "a key given twice", "cred.uid.size=4", "cred.uid.size=4\ncred.uid.size=4" },
		{ "another version", "nestor-profile=1", "nestor-profile=2" },
		{ "a bad number", "task_struct.pid.offset=", "task_struct.pid.offset=x" },
		{ "a negative number", "task_struct.pid.offset=", "task_struct.pid.offset=-" },
		{ "a line without '='", "cred.uid.size=4", "cred.uid.size 4" },
		{ "a wrong member size", "task_struct.pid.size=4", "task_struct.pid.size=8" },
		{ "init_task 0", "symbol.init_task=0x", "symbol.init_task=0x0\n#" },
		{ "a bad banner escape", "nestor-profile=1", "nestor-profile=1\nbanner=a\\q" },
	};
	struct linux_profile p;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *s = malloc(strlen(good) + 256), *at = strstr(good, bad[i].from);

		if (!at) {
			TAP_OK(0, "reader refuses %s (no '%s' in the profile)",
			       bad[i].what, bad[i].from);
			free(s);
			continue;
		}
		sprintf(s, "%.*s%s%s", (int)(at - good), good, bad[i].to,
			at + strlen(bad[i].from));
		err[0] = 0;
		TAP_OK(read_str(s, &p, err, sizeof(err)) && strstr(err, "test"),
		       "reader refuses %s: %s", bad[i].what, err);
		free(s);
	}
}

int main(void)
{
	struct linux_profile p, q, r;
	char err[512], line[256], comm[16], *text;
	const char *vmlinux;
	size_t tlen;
	FILE *f;
	int n = 0, ok = 1;

	dir = getenv("NESTOR_BTF_DIR");
	if (!dir || access(path("expected-profile"), R_OK)) {
		printf("not ok 1 - NESTOR_BTF_DIR/expected-profile missing (run prepare-btf.sh)\n1..1\n");
		return 1;
	}
	vmlinux = path("vmlinux");

	TAP_OK(!profile_generate(NULL, vmlinux, NULL, &p, err, sizeof(err)),
	       "profile from the vmlinux alone (BTF + exported symbols) %s", err);

	f = fopen(path("expected-profile"), "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');
		const struct profile_field *fl;

		if (!eq)
			continue;
		*eq = 0;
		fl = field(&p, line);
		n++;
		if (!fl || fl->offset != strtoul(eq + 1, NULL, 0)) {
			printf("# %s: bpftool says %s", line, eq + 1);
			ok = 0;
		}
	}
	if (f)
		fclose(f);
	TAP_OK(ok && n == 8, "the 8 offsets agree with bpftool's (%d compared)", n);
	TAP_OK(p.comm.size == 16 && p.pid.size == 4 && p.uid.size == 4 &&
	       p.tasks.size == 16 && p.task_struct_size > p.comm.offset,
	       "member sizes: comm 16, pid 4, uid 4, tasks 16 (task_struct %u bytes)",
	       p.task_struct_size);
	TAP_OK(!image_bytes(vmlinux, p.init_task + p.comm.offset, comm, sizeof(comm)) &&
	       !memcmp(comm, "swapper", 8),
	       "init_task (%#llx) holds the initial task: comm \"swapper\" in the image",
	       (unsigned long long)p.init_task);

	/* Round trip through the file format. */
	f = open_memstream(&text, &tlen);
	TAP_OK(!profile_write(f, &p), "profile written");
	fclose(f);
	TAP_OK(!read_str(text, &q, err, sizeof(err)) && !memcmp(&p, &q, sizeof(p)),
	       "profile read back equal %s", err);

	/* Raw BTF plus a System.map gives the same profile. */
	f = fopen("/tmp/nestor-test-profile.map", "w");
	fprintf(f, "ffffffff81000000 T _text\n%llx D init_task\nffffffff81e00100 D linux_banner\n",
		(unsigned long long)p.init_task);
	fclose(f);
	TAP_OK(!profile_generate(path("vmlinux.btf"), NULL, "/tmp/nestor-test-profile.map",
				 &r, err, sizeof(err)) &&
	       !memcmp(&r.tasks, &p.tasks, offsetof(struct linux_profile, init_task) -
		       offsetof(struct linux_profile, tasks)) &&
	       r.init_task == p.init_task && r.text == 0xffffffff81000000ull &&
	       r.linux_banner == 0xffffffff81e00100ull && !*r.banner,
	       "--btf RAW --system-map MAP: same offsets, the map's symbols %s", err);
	f = fopen("/tmp/nestor-test-profile.map", "w");
	fprintf(f, "ffffffff81000000 T _text\n");
	fclose(f);
	err[0] = 0;
	TAP_OK(profile_generate(path("vmlinux.btf"), NULL, "/tmp/nestor-test-profile.map",
				&r, err, sizeof(err)) && strstr(err, "init_task"),
	       "a map without init_task is refused: %s", err);
	unlink("/tmp/nestor-test-profile.map");
	err[0] = 0;
	TAP_OK(profile_generate(path("expected-profile"), NULL, NULL, &r, err,
				sizeof(err)) && strstr(err, "no BTF"),
	       "a file without BTF is refused: %s", err);
	/* BTF of something else: no task_struct. */
	{
		struct btf *b = btf__new_empty();
		const void *raw;
		__u32 sz;

		btf__add_int(b, "int", 4, BTF_INT_SIGNED);
		raw = btf__raw_data(b, &sz);
		f = fopen("/tmp/nestor-test-profile.btf", "w");
		fwrite(raw, 1, sz, f);
		fclose(f);
		btf__free(b);
	}
	err[0] = 0;
	TAP_OK(profile_generate("/tmp/nestor-test-profile.btf", NULL, NULL, &r, err,
				sizeof(err)) && strstr(err, "task_struct"),
	       "BTF without task_struct is refused: %s", err);
	unlink("/tmp/nestor-test-profile.btf");

	reader_rejects(text);
	free(text);
	return tap_done();
}
