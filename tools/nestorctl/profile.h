/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Linux guest profiles (profile.c): what nestorctl needs to know about an
 * L2 kernel build to read its process list, taken from that build's BTF
 * and symbols.  The file format is in Documentation/introspection.rst.
 */
#ifndef NESTORCTL_PROFILE_H
#define NESTORCTL_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROFILE_VERSION		1
#define PROFILE_BANNER_MAX	512

/* One member: byte offset from the start of its struct, and its size. */
struct profile_field {
	uint32_t offset;
	uint32_t size;
};

struct linux_profile {
	struct profile_field tasks;	/* task_struct.tasks (list_head) */
	struct profile_field pid;	/* task_struct.pid */
	struct profile_field tgid;	/* task_struct.tgid */
	struct profile_field comm;	/* task_struct.comm */
	struct profile_field real_parent; /* task_struct.real_parent */
	struct profile_field cred;	/* task_struct.cred */
	struct profile_field mm;	/* task_struct.mm */
	struct profile_field uid;	/* cred.uid */
	uint32_t task_struct_size;
	uint64_t init_task;		/* link-time (unrandomized) addresses */
	uint64_t linux_banner;
	uint64_t text;			/* _text */
	/* linux_banner's bytes, when the vmlinux holds them ("" if not) */
	char banner[PROFILE_BANNER_MAX];
};

/*
 * Fills @p from a BTF file (raw, or an ELF with .BTF) and the symbols of
 * @vmlinux's symtab or of @system_map (either may be NULL, not both).
 * The banner comes from @vmlinux, or from @btf_path when it is an ELF.
 * 0, or -1 with a message in @err.
 */
int profile_generate(const char *btf_path, const char *vmlinux,
		     const char *system_map, struct linux_profile *p,
		     char *err, size_t errlen);
int profile_write(FILE *f, const struct linux_profile *p);
/* 0, or -1 with a message (file:line: why) in @err. */
int profile_read(FILE *f, const char *name, struct linux_profile *p,
		 char *err, size_t errlen);

int nestorctl_profile(int argc, char **argv);

#endif
