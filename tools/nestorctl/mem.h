/* SPDX-License-Identifier: GPL-2.0 */
/* nestorctl's introspection commands (mem.c). */
#ifndef NESTORCTL_MEM_H
#define NESTORCTL_MEM_H

int nestorctl_translate(int argc, char **argv);
int nestorctl_read(int argc, char **argv);

#endif
