// SPDX-License-Identifier: GPL-2.0
/*
 * kmod/btf_reader.c in userspace, on the BTF of the Debian kernel that the
 * emulated L0 boots (extracted by prepare-btf.sh into $NESTOR_BTF_DIR), and
 * on corrupted copies of it.  The offsets it finds are compared against
 * bpftool's by prepare-btf.sh's expectations file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/btf.h>
#include "../../kmod/btf_reader.h"
#include "tap.h"

static void *slurp(const char *dir, const char *name, size_t *size)
{
	char path[512];
	FILE *f;
	void *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s.btf", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = n;
	return buf;
}

static int sig_is(const struct nestor_btf *btf, u32 id, const char *ret,
		  int n, const char *const *params)
{
	char r[48], p[12][48];
	int got = nestor_btf_signature(btf, id, r, sizeof(r), p, 12), i;

	if (got != n || strcmp(r, ret)) {
		printf("#   got %d params returning %s\n", got, r);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(p[i], params[i])) {
			printf("#   param %d is %s\n", i, p[i]);
			return 0;
		}
	}
	return 1;
}

/* Expected member offsets "struct.member=offset" written by bpftool. */
static long expected_offset(const char *dir, const char *key)
{
	char path[512], line[256];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/expected-offsets", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		if (eq && (size_t)(eq - line) == strlen(key) &&
		    !strncmp(line, key, eq - line))
			val = strtol(eq + 1, NULL, 0);
	}
	fclose(f);
	return val;
}

int main(void)
{
	static const char *const vcpu_ptr[] = { "struct kvm_vcpu *" };
	static const char *const svm_ptr[] = { "struct vcpu_svm *" };
	static const char *const vmenter[] = { "void *", "u64", "u64", "u64",
		"u32", "u32", "bool", "u64", "u64", "u32" };
	const char *dir = getenv("NESTOR_BTF_DIR");
	struct nestor_btf base, kvm, amd, intel, bad;
	size_t sz_base, sz_kvm, sz_amd, sz_intel;
	void *d_base, *d_kvm, *d_amd, *d_intel;
	u32 id, off, type = 0;
	char desc[64] = "";
	long want;

	if (!dir) {
		printf("not ok 1 - NESTOR_BTF_DIR is not set (run prepare-btf.sh)\n1..1\n");
		return 1;
	}
	d_base = slurp(dir, "vmlinux", &sz_base);
	d_kvm = slurp(dir, "kvm", &sz_kvm);
	d_amd = slurp(dir, "kvm_amd", &sz_amd);
	d_intel = slurp(dir, "kvm_intel", &sz_intel);
	TAP_OK(d_base && d_kvm && d_amd && d_intel, "BTF files read from %s",
	       dir);
	if (!(d_base && d_kvm && d_amd && d_intel))
		return tap_done();

	TAP_OK(!nestor_btf_open(&base, d_base, sz_base, NULL) &&
	       base.nr_types > 10000, "vmlinux BTF indexed (%u types)",
	       base.nr_types);
	TAP_OK(!nestor_btf_open(&kvm, d_kvm, sz_kvm, &base) &&
	       kvm.first_id == base.nr_types + 1, "kvm split BTF indexed");
	TAP_OK(!nestor_btf_open(&amd, d_amd, sz_amd, &base),
	       "kvm_amd split BTF indexed");
	TAP_OK(!nestor_btf_open(&intel, d_intel, sz_intel, &base),
	       "kvm_intel split BTF indexed");

	id = nestor_btf_find(&amd, "vcpu_svm", BTF_KIND_STRUCT);
	TAP_OK(id && !nestor_btf_member_offset(&amd, id, "vcpu", &off) &&
	       off == 0, "vcpu_svm.vcpu at 0");
	TAP_OK(id && !nestor_btf_member_offset(&amd, id, "vmcb", &off) &&
	       off > 0, "vcpu_svm.vmcb found at %u", off);
	want = expected_offset(dir, "vcpu_svm.vmcb");
	TAP_OK(want == (long)off, "vcpu_svm.vmcb agrees with bpftool (%ld)",
	       want);
	TAP_OK(!nestor_btf_member(&amd, id, "next_rip", &off, &type) &&
	       !nestor_btf_describe(&amd, type, desc, sizeof(desc)) &&
	       !strcmp(desc, "u64"), "vcpu_svm.next_rip is %s at %u", desc,
	       off);
	want = expected_offset(dir, "vcpu_svm.next_rip");
	TAP_OK(want == (long)off, "vcpu_svm.next_rip agrees with bpftool (%ld)",
	       want);
	TAP_OK(!nestor_btf_member(&amd, id, "vmcb", &off, &type) &&
	       !nestor_btf_describe(&amd, type, desc, sizeof(desc)) &&
	       !strcmp(desc, "struct vmcb *"), "vcpu_svm.vmcb is %s", desc);
	/* A bitfield has no type to check: refused when one is asked for. */
	TAP_OK(nestor_btf_member(&amd, id, "nrips_enabled", &off, &type) ==
	       -EINVAL, "bitfield member refused with its type");
	TAP_OK(nestor_btf_member_offset(&amd, id, "no_such_member", &off) ==
	       -ENOENT, "missing member is -ENOENT");

	id = nestor_btf_find(&intel, "vcpu_vmx", BTF_KIND_STRUCT);
	TAP_OK(id && !nestor_btf_member_offset(&intel, id, "fail", &off) &&
	       off > 0, "vcpu_vmx.fail found at %u", off);
	want = expected_offset(dir, "vcpu_vmx.fail");
	TAP_OK(want == (long)off, "vcpu_vmx.fail agrees with bpftool (%ld)",
	       want);

	id = nestor_btf_find(&intel, "nested_vmx_reflect_vmexit",
			     BTF_KIND_FUNC);
	TAP_OK(id && sig_is(&intel, id, "bool", 1, vcpu_ptr),
	       "nested_vmx_reflect_vmexit is bool (struct kvm_vcpu *)");
	id = nestor_btf_find(&amd, "nested_svm_exit_handled", BTF_KIND_FUNC);
	TAP_OK(id && sig_is(&amd, id, "s32", 1, svm_ptr),
	       "nested_svm_exit_handled is int (struct vcpu_svm *)");
	TAP_OK(id && !sig_is(&amd, id, "s32", 1, vcpu_ptr),
	       "a different parameter type is told apart");
	id = nestor_btf_find(&kvm, "btf_trace_kvm_nested_vmenter",
			     BTF_KIND_TYPEDEF);
	TAP_OK(id && sig_is(&kvm, id, "void", 10, vmenter),
	       "kvm_nested_vmenter tracepoint prototype");
	TAP_OK(!nestor_btf_find(&kvm, "no_such_function", BTF_KIND_FUNC),
	       "unknown function not found");

	/* Corruptions are refused. */
	TAP_OK(nestor_btf_open(&bad, d_base, 8, NULL) == -EINVAL,
	       "truncated header refused");
	((struct btf_header *)d_kvm)->magic ^= 1;
	TAP_OK(nestor_btf_open(&bad, d_kvm, sz_kvm, &base) == -EINVAL,
	       "bad magic refused");
	((struct btf_header *)d_kvm)->magic ^= 1;
	((struct btf_header *)d_kvm)->type_len += 4;
	TAP_OK(nestor_btf_open(&bad, d_kvm, sz_kvm, &base) == -EINVAL,
	       "type section overrunning the types refused");
	((struct btf_header *)d_kvm)->type_len -= 4;
	TAP_OK(nestor_btf_open(&bad, d_kvm, sz_kvm - 1, &base) == -EINVAL,
	       "string section cut short refused");

	nestor_btf_close(&intel);
	nestor_btf_close(&amd);
	nestor_btf_close(&kvm);
	nestor_btf_close(&base);
	free(d_base);
	free(d_kvm);
	free(d_amd);
	free(d_intel);
	return tap_done();
}
