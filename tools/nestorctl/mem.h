/* SPDX-License-Identifier: GPL-2.0 */
/* nestorctl's introspection commands (mem.c). */
#ifndef NESTORCTL_MEM_H
#define NESTORCTL_MEM_H

int nestorctl_translate(int argc, char **argv);
int nestorctl_read(int argc, char **argv);
int nestorctl_walk(int argc, char **argv);

#include <stdint.h>
struct nestor;
struct nestor_remote;
struct nestor_mem_read;
struct nestor_list_walk;

/*
 * --remote HOST:PORT (Documentation/monitor.rst): read, walk and ps go to
 * nestor-monitord and every answer is verified with the monitor key.
 * Returns -1 when connected, else an exit status.
 */
int nctl_remote_setup(const char *hostport, const char *key_id,
		      const char *key_file);
int nctl_remote_active(void);
/* The connection (NULL when local): the console uses it too. */
struct nestor_remote *nctl_remote(void);
/* L2 name to id; opens /dev/nestor when local (*np NULL when remote). */
int nctl_open_l2(const char *cmd, const char *name, struct nestor **np,
		 uint32_t *id);
int nctl_read(struct nestor *n, struct nestor_mem_read *r);
int nctl_walk(struct nestor *n, struct nestor_list_walk *w);
const char *nctl_last_error(struct nestor *n);
void nctl_close(struct nestor *n);
/* Round trips to the daemon (remote), or ioctls (local). */
uint64_t nctl_round_trips(void);

#endif
