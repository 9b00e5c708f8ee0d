/* SPDX-License-Identifier: GPL-2.0 */
/* nestorctl ps (ps.c): the process list of a Linux L2. */
#ifndef NESTORCTL_PS_H
#define NESTORCTL_PS_H

int nestorctl_ps(int argc, char **argv);

#endif
