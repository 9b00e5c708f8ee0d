// SPDX-License-Identifier: GPL-2.0
/*
 * monitor_proxy: a hostile relay between `nestorctl --remote` and
 * nestor-monitord, for tests only (selftests/nested/mem_l2.c).  It stands
 * for a compromised daemon or network:
 *
 *   monitor_proxy --listen ADDR:PORT --to HOST:PORT
 *                 --mode pass|tamper|replay|replay-input
 *
 *   pass    relays every message unchanged;
 *   tamper  flips one bit in the last byte of every READ, WALK and
 *           CONSOLE_READ answer's payload (the data of a READ, the last
 *           record of a walk, the last console byte, or the MAC's last
 *           byte when the answer has no data);
 *   replay  relays the first READ (WALK, CONSOLE_READ) answer, then
 *           answers every later such request with a copy of it (its
 *           nonce is old);
 *   replay-input  relays every CONSOLE_WRITE and its answer, then sends
 *           the same request to the daemon again and prints the status
 *           of that second answer on stderr ("monitor_proxy: replayed
 *           CONSOLE_WRITE: status N (ENAME)"): the kernel must refuse it.
 * Other messages pass unchanged.
 *
 * Connections are served one after the other, in one process, so that the
 * replayed answer survives from one client to the next.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "libnestor.h"

static int sock_to(const char *hostport, int listening)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = listening ? AI_PASSIVE : 0 }, *ai;
	char host[256], *colon;
	int fd, one = 1;

	snprintf(host, sizeof(host), "%s", hostport);
	colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = 0;
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd >= 0 && listening) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 4)) {
			close(fd);
			fd = -1;
		}
	} else if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* One message: header and payload (malloc'd). */
static int get_msg(int fd, struct nestor_mon_hdr *h, uint8_t **p)
{
	if (nestor_mon_read_all(fd, h, sizeof(*h)) ||
	    h->len > NESTOR_MON_MAX_PAYLOAD)
		return -1;
	*p = malloc(h->len ? h->len : 1);
	if (!*p || nestor_mon_read_all(fd, *p, h->len))
		return -1;
	return 0;
}

static int put_msg(int fd, const struct nestor_mon_hdr *h, const uint8_t *p)
{
	if (nestor_mon_write_all(fd, h, sizeof(*h)))
		return -1;
	return nestor_mon_write_all(fd, p, h->len);
}

int main(int argc, char **argv)
{
	const char *listen_at = NULL, *to = NULL, *mode = "pass";
	struct nestor_mon_hdr h, req, saved_h[NESTOR_MON_CONSOLE_WRITE + 1];
	uint8_t *p, *q, *saved[NESTOR_MON_CONSOLE_WRITE + 1] = { NULL };
	int lfd, cfd, sfd, i, k;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--listen"))
			listen_at = argv[i + 1];
		else if (!strcmp(argv[i], "--to"))
			to = argv[i + 1];
		else if (!strcmp(argv[i], "--mode"))
			mode = argv[i + 1];
	}
	if (!listen_at || !to || i != argc ||
	    (strcmp(mode, "pass") && strcmp(mode, "tamper") &&
	     strcmp(mode, "replay") && strcmp(mode, "replay-input"))) {
		fputs("usage: monitor_proxy --listen ADDR:PORT --to HOST:PORT --mode pass|tamper|replay|replay-input\n",
		      stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = sock_to(listen_at, 1);
	if (lfd < 0) {
		perror("monitor_proxy: listen");
		return 1;
	}
	for (;;) {
		cfd = accept(lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		sfd = sock_to(to, 0);
		if (sfd < 0) {
			close(cfd);
			continue;
		}
		while (!get_msg(cfd, &h, &p)) {
			if (put_msg(sfd, &h, p))
				break;
			req = h;
			q = p;
			if (get_msg(sfd, &h, &p))
				break;
			k = h.type & ~NESTOR_MON_REPLY;
			/* The reply first: the replay must not overtake it. */
			if (k == NESTOR_MON_CONSOLE_WRITE &&
			    !strcmp(mode, "replay-input")) {
				struct nestor_mon_hdr h2;
				uint8_t *p2;

				if (put_msg(cfd, &h, p) || put_msg(sfd, &req, q) ||
				    get_msg(sfd, &h2, &p2))
					break;
				fprintf(stderr, "monitor_proxy: replayed CONSOLE_WRITE: status %u (%s)\n",
					h2.status, h2.status ?
					strerrorname_np(h2.status) : "accepted");
				free(p2);
				free(p);
				free(q);
				continue;
			}
			free(q);
			if (k != NESTOR_MON_READ && k != NESTOR_MON_WALK &&
			    k != NESTOR_MON_CONSOLE_READ)
				k = 0;
			if (k && !strcmp(mode, "tamper") && h.len)
				p[h.len - 1] ^= 0x01;
			if (k && !strcmp(mode, "replay") && !saved[k]) {
				saved_h[k] = h;
				saved[k] = malloc(h.len ? h.len : 1);
				if (saved[k])
					memcpy(saved[k], p, h.len);
			} else if (k && !strcmp(mode, "replay")) {
				free(p);
				h = saved_h[k];
				p = malloc(h.len ? h.len : 1);
				if (!p)
					break;
				memcpy(p, saved[k], h.len);
			}
			if (put_msg(cfd, &h, p))
				break;
			free(p);
		}
		close(sfd);
		close(cfd);
	}
}
