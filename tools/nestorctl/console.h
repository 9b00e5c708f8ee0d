/* SPDX-License-Identifier: GPL-2.0 */
/* nestorctl console (console.c). */
#ifndef NESTORCTL_CONSOLE_H
#define NESTORCTL_CONSOLE_H

int cmd_console(int argc, char **argv);

#endif
