// SPDX-License-Identifier: GPL-2.0
/*
 * as-nobody CMD [ARG...]: runs CMD as uid/gid 65534 with no supplementary
 * groups (and so no capabilities).  The L0 initramfs has no passwd entry
 * for nobody, so su and friends cannot do this there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NOBODY_ID	65534

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: as-nobody CMD [ARG...]\n");
		return 2;
	}
	if (setgroups(0, NULL) || setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID) ||
	    setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID)) {
		fprintf(stderr, "as-nobody: dropping privileges: %s\n",
			strerror(errno));
		return 126;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "as-nobody: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
