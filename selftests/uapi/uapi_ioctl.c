// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/nestor: who may open it, and NESTOR_IOC_VERSION's handling of ioctl
 * numbers, structure sizes (older, newer), reserved fields and bad user
 * memory.  Runs as root in the emulated L0 with nestor.ko loaded; prints
 * TAP.
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
#include <sys/stat.h>
#include <linux/capability.h>
#include <linux/nestor.h>

#include "uapi_util.h"

#define V1_SIZE		sizeof(struct nestor_version)
#define IOC_RW(size)	_IOC(_IOC_READ | _IOC_WRITE, NESTOR_IOC_MAGIC, \
			     _IOC_NR(NESTOR_IOC_VERSION), (size))

/* A v1 structure followed by bytes from a future version. */
struct version_big {
	struct nestor_version v;
	unsigned char extra[16];
};

static int dev_fd = -1;
static long page;

/* 0 or the errno of the ioctl. */
static int ioc(unsigned long nr, void *arg)
{
	return ioctl(dev_fd, nr, arg) ? errno : 0;
}

static int try_open(void *arg)
{
	int fd;

	(void)arg;
	fd = open(NESTOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void test_open(void)
{
	struct stat st;
	int expected;

	dev_fd = open(NESTOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (!tap_errno(dev_fd < 0 ? errno : 0, 0,
		       "open " NESTOR_DEVICE_PATH " as root"))
		tap_bail(NESTOR_DEVICE_PATH " cannot be opened: is nestor.ko "
			 "loaded?");

	/* uid 0 keeps the node's permissions: only the module says no. */
	tap_errno(run_dropped(DROP_CAP, CAP_SYS_ADMIN, try_open, NULL), EPERM,
		  "open as uid 0 without CAP_SYS_ADMIN");

	/*
	 * As nobody the node's mode decides first: the VFS refuses with
	 * EACCES when others may not open it, the module with EPERM.
	 */
	expected = EPERM;
	if (stat(NESTOR_DEVICE_PATH, &st) == 0 &&
	    (st.st_mode & (S_IROTH | S_IWOTH)) != (S_IROTH | S_IWOTH))
		expected = EACCES;
	tap_errno(run_dropped(DROP_TO_NOBODY, 0, try_open, NULL), expected,
		  "open as uid %d (node mode %04o)", NOBODY_ID,
		  (unsigned int)(st.st_mode & 07777));
}

static void test_version(void)
{
	struct nestor_version v;
	size_t len;

	memset(&v, 0, sizeof(v));
	if (!tap_errno(ioc(NESTOR_IOC_VERSION, &v), 0, "NESTOR_IOC_VERSION"))
		return;
	if (!tap_ok(v.uapi_version == NESTOR_UAPI_VERSION,
		    "uapi_version is %d", NESTOR_UAPI_VERSION))
		tap_diag("got %u", v.uapi_version);
	if (!tap_ok(v.backend == NESTOR_BACKEND_VMX ||
		    v.backend == NESTOR_BACKEND_SVM, "backend is VMX or SVM"))
		tap_diag("got %u", v.backend);
	if (!tap_ok(v.features & NESTOR_FEAT_REGISTRY,
		    "features include NESTOR_FEAT_REGISTRY"))
		tap_diag("got 0x%llx", (unsigned long long)v.features);
	len = strnlen(v.module_version, sizeof(v.module_version));
	if (!tap_ok(len > 0 && len < sizeof(v.module_version),
		    "module_version is NUL-terminated and not empty"))
		tap_diag("length %zu", len);
	tap_ok(v.flags == 0 && v.pad == 0, "flags and pad come back zero");
}

static void test_numbers(void)
{
	struct version_big b;

	memset(&b, 0, sizeof(b));
	tap_errno(ioc(_IOWR(NESTOR_IOC_MAGIC, 0x7f, struct nestor_version),
		      &b), ENOTTY, "unknown nr 0x7f in our magic");
	tap_errno(ioc(_IO(NESTOR_IOC_MAGIC, 0x7f), NULL), ENOTTY,
		  "unknown _IO nr 0x7f in our magic");
	tap_errno(ioc(_IOWR(NESTOR_IOC_MAGIC + 1, 0x00,
			    struct nestor_version), &b), ENOTTY,
		  "VERSION's nr and size under another magic");
	tap_errno(ioc(_IOR(NESTOR_IOC_MAGIC, 0x00, struct nestor_version),
		      &b), ENOTTY, "VERSION as _IOR (wrong direction)");
	tap_errno(ioc(_IOW(NESTOR_IOC_MAGIC, 0x00, struct nestor_version),
		      &b), ENOTTY, "VERSION as _IOW (wrong direction)");
	tap_errno(ioc(_IO(NESTOR_IOC_MAGIC, 0x00), &b), ENOTTY,
		  "VERSION as _IO (no direction)");
}

static void test_sizes(void)
{
	struct nestor_version ref;
	struct version_big b;
	size_t i;
	bool zero;

	memset(&b, 0, sizeof(b));
	tap_errno(ioc(IOC_RW(8), &b), EINVAL, "size 8 (smaller than v1)");
	tap_errno(ioc(IOC_RW(0), &b), EINVAL, "size 0");
	tap_errno(ioc(IOC_RW(V1_SIZE - 1), &b), EINVAL, "size v1 - 1");

	memset(&ref, 0, sizeof(ref));
	ioc(NESTOR_IOC_VERSION, &ref);
	memset(&b, 0, sizeof(b));
	if (tap_errno(ioc(IOC_RW(sizeof(b)), &b), 0,
		      "size v1 + 16, extra bytes zero")) {
		for (zero = true, i = 0; i < sizeof(b.extra); i++)
			zero = zero && !b.extra[i];
		tap_ok(!memcmp(&b.v, &ref, V1_SIZE) && zero,
		       "... same answer as v1, extra bytes still zero");
	} else {
		tap_skip("the call failed", "... same answer as v1");
	}

	memset(&b, 0, sizeof(b));
	b.extra[0] = 1;
	tap_errno(ioc(IOC_RW(sizeof(b)), &b), E2BIG,
		  "size v1 + 16, first extra byte nonzero");
	memset(&b, 0, sizeof(b));
	b.extra[sizeof(b.extra) - 1] = 0x80;
	tap_errno(ioc(IOC_RW(sizeof(b)), &b), E2BIG,
		  "size v1 + 16, last extra byte nonzero");
}

static void test_fields(void)
{
	struct nestor_version v;

	memset(&v, 0, sizeof(v));
	v.flags = 1;
	tap_errno(ioc(NESTOR_IOC_VERSION, &v), EINVAL, "flags = 1");
	memset(&v, 0, sizeof(v));
	v.flags = 0x80000000U;
	tap_errno(ioc(NESTOR_IOC_VERSION, &v), EINVAL, "flags = 0x80000000");
	memset(&v, 0, sizeof(v));
	v.pad = 1;
	tap_errno(ioc(NESTOR_IOC_VERSION, &v), EINVAL, "pad = 1");
	/* Output fields are outputs: garbage in them is ignored. */
	memset(&v, 0, sizeof(v));
	v.uapi_version = 0xdead;
	v.backend = 0xbeef;
	v.features = ~0ULL;
	memset(v.module_version, 'x', sizeof(v.module_version));
	tap_errno(ioc(NESTOR_IOC_VERSION, &v), 0,
		  "garbage in the output fields is overwritten");
}

static void test_bad_memory(void)
{
	struct nestor_version *v;
	char *two;

	tap_errno(ioc(NESTOR_IOC_VERSION, NULL), EFAULT, "NULL pointer");

	/* Two pages: the second unmapped, the first read-only later. */
	two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	munmap(two + page, page);

	tap_errno(ioc(NESTOR_IOC_VERSION, two + page), EFAULT,
		  "pointer to an unmapped page");
	v = (struct nestor_version *)(two + page - V1_SIZE / 2);
	memset(v, 0, V1_SIZE / 2);
	tap_errno(ioc(NESTOR_IOC_VERSION, v), EFAULT,
		  "structure running into an unmapped page");
	/* v1 fits; the extra bytes of a larger size are unmapped. */
	v = (struct nestor_version *)(two + page - V1_SIZE);
	memset(v, 0, V1_SIZE);
	tap_errno(ioc(IOC_RW(V1_SIZE + 16), v), EFAULT,
		  "larger size whose extra bytes are unmapped");

	/* Readable, so the input is accepted; the answer cannot be written. */
	memset(two, 0, page);
	mprotect(two, page, PROT_READ);
	tap_errno(ioc(NESTOR_IOC_VERSION, two), EFAULT,
		  "read-only structure (the answer cannot be written)");
	munmap(two, page);
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	test_open();
	test_version();
	test_numbers();
	test_sizes();
	test_fields();
	test_bad_memory();
	close(dev_fd);
	return tap_done();
}
