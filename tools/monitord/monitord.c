// SPDX-License-Identifier: GPL-2.0
/*
 * nestor-monitord: relays introspection requests from the network to
 * /dev/nestor on L0 (Documentation/monitor.rst).  It needs no trust: it
 * accepts only signed requests (NESTOR_MEM_F_SIGN), and the kernel signs
 * the answers with a monitor key that this process never sees.  A whole
 * batch (a READ with many segments, a LIST_WALK) is one request, so a
 * remote `nestorctl ps` costs one round trip for its list.
 *
 *   nestor-monitord --listen ADDR:PORT [--quiet]
 *
 * The console of an L2 goes the same way (CONSOLE_OPEN, _READ, _WRITE):
 * the kernel signs its output and verifies its input with the monitor key
 * (NESTOR_IOC_CONSOLE_SREAD/_SWRITE on the console file this process
 * holds), so console bytes need no trust here either.
 *
 * One process per connection (fork); requests on a connection are served
 * in order.  Exit status: 1 when it cannot listen, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "libnestor.h"

static bool quiet;

static int reply(int fd, uint32_t type, uint32_t status, const void *a,
		 size_t alen, const void *b, size_t blen)
{
	struct nestor_mon_hdr h = {
		.magic = NESTOR_MON_MAGIC, .type = type | NESTOR_MON_REPLY,
		.len = status ? 0 : alen + blen, .status = status,
	};
	int err = nestor_mon_write_all(fd, &h, sizeof(h));

	if (!err && !status && alen)
		err = nestor_mon_write_all(fd, a, alen);
	if (!err && !status && blen)
		err = nestor_mon_write_all(fd, b, blen);
	return err;
}

static int do_read(struct nestor *n, int fd, uint8_t *p, uint32_t len)
{
	struct nestor_mem_read r;
	struct nestor_mem_seg *s;
	uint64_t total = 0, off = 0;
	uint8_t *data = NULL;
	uint32_t i;
	int err;

	if (len < sizeof(r))
		return reply(fd, NESTOR_MON_READ, EINVAL, NULL, 0, NULL, 0);
	memcpy(&r, p, sizeof(r));
	s = (void *)(p + sizeof(r));
	if (r.seg_size != sizeof(*s) || r.nr_segs > NESTOR_MEM_MAX_SEGS ||
	    len != sizeof(r) + (uint64_t)r.nr_segs * sizeof(*s))
		return reply(fd, NESTOR_MON_READ, EINVAL, NULL, 0, NULL, 0);
	/* Unsigned answers would be worthless to the other side. */
	if (!(r.flags & NESTOR_MEM_F_SIGN))
		return reply(fd, NESTOR_MON_READ, EPERM, NULL, 0, NULL, 0);
	for (i = 0; i < r.nr_segs; i++) {
		total += s[i].len;
		if (s[i].len > NESTOR_MEM_MAX_BYTES ||
		    total > NESTOR_MEM_MAX_BYTES)
			return reply(fd, NESTOR_MON_READ, E2BIG, NULL, 0,
				     NULL, 0);
	}
	data = malloc(total ? total : 1);
	if (!data)
		return reply(fd, NESTOR_MON_READ, ENOMEM, NULL, 0, NULL, 0);
	for (i = 0; i < r.nr_segs; i++) {
		s[i].buf = (uintptr_t)(data + off);
		off += s[i].len;
	}
	r.segs = (uintptr_t)s;
	err = nestor_read(n, &r);
	if (err) {
		free(data);
		return reply(fd, NESTOR_MON_READ, -err, NULL, 0, NULL, 0);
	}
	/* Compact: each segment's done bytes, in order. */
	for (i = 0, off = 0, total = 0; i < r.nr_segs; i++) {
		memmove(data + total, data + off, s[i].done);
		off += s[i].len;
		total += s[i].done;
	}
	memcpy(p, &r, sizeof(r));
	err = reply(fd, NESTOR_MON_READ, 0, p, len, data, total);
	free(data);
	return err;
}

static int do_walk(struct nestor *n, int fd, uint8_t *p, uint32_t len)
{
	struct nestor_list_walk w;
	uint8_t *rec;
	int err;

	if (len < sizeof(w))
		return reply(fd, NESTOR_MON_WALK, EINVAL, NULL, 0, NULL, 0);
	memcpy(&w, p, sizeof(w));
	if (w.nr_fields > NESTOR_WALK_MAX_FIELDS ||
	    len != sizeof(w) + w.nr_fields * sizeof(struct nestor_walk_field))
		return reply(fd, NESTOR_MON_WALK, EINVAL, NULL, 0, NULL, 0);
	if (!(w.flags & NESTOR_MEM_F_SIGN))
		return reply(fd, NESTOR_MON_WALK, EPERM, NULL, 0, NULL, 0);
	if (w.records_len > NESTOR_MEM_MAX_BYTES)
		return reply(fd, NESTOR_MON_WALK, E2BIG, NULL, 0, NULL, 0);
	rec = malloc(w.records_len ? w.records_len : 1);
	if (!rec)
		return reply(fd, NESTOR_MON_WALK, ENOMEM, NULL, 0, NULL, 0);
	w.fields = w.nr_fields ? (uintptr_t)(p + sizeof(w)) : 0;
	w.records = (uintptr_t)rec;
	err = nestor_list_walk(n, &w);
	if (err)
		err = reply(fd, NESTOR_MON_WALK, -err, NULL, 0, NULL, 0);
	else
		err = reply(fd, NESTOR_MON_WALK, 0, &w, sizeof(w), rec,
			    (size_t)w.nr_nodes * w.record_size);
	free(rec);
	return err;
}

static int do_resolve(struct nestor *n, int fd, uint8_t *p, uint32_t len)
{
	char name[128];
	uint32_t id;
	int err;

	if (!len || len >= sizeof(name) || memchr(p, 0, len))
		return reply(fd, NESTOR_MON_RESOLVE, EINVAL, NULL, 0, NULL, 0);
	memcpy(name, p, len);
	name[len] = 0;
	err = nestor_resolve_l2(n, name, &id);
	return reply(fd, NESTOR_MON_RESOLVE, err ? -err : 0, &id, sizeof(id),
		     NULL, 0);
}

/* How long a CONSOLE_READ waits for output before it answers empty. */
#define CONSOLE_WAIT_MS	200

/* One console per connection: attached for reading, and writing unless read-only. */
static int do_console_open(struct nestor *n, int fd, uint8_t *p, uint32_t len,
			   int *cfd)
{
	uint32_t flags, id, attach = NESTOR_CONSOLE_ATTACH_READ;
	char name[128];
	int err;

	if (*cfd >= 0)
		return reply(fd, NESTOR_MON_CONSOLE_OPEN, EBUSY, NULL, 0, NULL, 0);
	if (len <= 4 || len - 4 >= sizeof(name) || memchr(p + 4, 0, len - 4))
		return reply(fd, NESTOR_MON_CONSOLE_OPEN, EINVAL, NULL, 0, NULL, 0);
	memcpy(&flags, p, 4);
	if (flags & ~NESTOR_MON_CONSOLE_F_READ_ONLY)
		return reply(fd, NESTOR_MON_CONSOLE_OPEN, EINVAL, NULL, 0, NULL, 0);
	memcpy(name, p + 4, len - 4);
	name[len - 4] = 0;
	err = nestor_resolve_l2(n, name, &id);
	if (!(flags & NESTOR_MON_CONSOLE_F_READ_ONLY))
		attach |= NESTOR_CONSOLE_ATTACH_WRITE;
	if (!err)
		err = nestor_console_attach(n, id, attach, cfd);
	return reply(fd, NESTOR_MON_CONSOLE_OPEN, err ? -err : 0, &id,
		     sizeof(id), NULL, 0);
}

static int do_console_read(int fd, uint8_t *p, uint32_t len, int cfd)
{
	struct nestor_console_sread a;
	struct pollfd pfd = { .fd = cfd, .events = POLLIN };
	uint8_t *data;
	int err;

	if (cfd < 0)
		return reply(fd, NESTOR_MON_CONSOLE_READ, ENOTCONN, NULL, 0, NULL, 0);
	if (len != sizeof(a))
		return reply(fd, NESTOR_MON_CONSOLE_READ, EINVAL, NULL, 0, NULL, 0);
	memcpy(&a, p, sizeof(a));
	if (!a.len || a.len > NESTOR_CONSOLE_SREAD_MAX)
		return reply(fd, NESTOR_MON_CONSOLE_READ, EINVAL, NULL, 0, NULL, 0);
	data = malloc(a.len);
	if (!data)
		return reply(fd, NESTOR_MON_CONSOLE_READ, ENOMEM, NULL, 0, NULL, 0);
	/* Short polling from the client's side: wait a little for output. */
	poll(&pfd, 1, CONSOLE_WAIT_MS);
	a.buf = (uintptr_t)data;
	if (ioctl(cfd, NESTOR_IOC_CONSOLE_SREAD, &a))
		err = reply(fd, NESTOR_MON_CONSOLE_READ, errno, NULL, 0, NULL, 0);
	else
		err = reply(fd, NESTOR_MON_CONSOLE_READ, 0, &a, sizeof(a), data,
			    a.done);
	free(data);
	return err;
}

static int do_console_write(int fd, uint8_t *p, uint32_t len, int cfd)
{
	struct nestor_console_swrite w;

	if (cfd < 0)
		return reply(fd, NESTOR_MON_CONSOLE_WRITE, ENOTCONN, NULL, 0, NULL, 0);
	if (len < sizeof(w))
		return reply(fd, NESTOR_MON_CONSOLE_WRITE, EINVAL, NULL, 0, NULL, 0);
	memcpy(&w, p, sizeof(w));
	if (w.len != len - sizeof(w))
		return reply(fd, NESTOR_MON_CONSOLE_WRITE, EINVAL, NULL, 0, NULL, 0);
	w.buf = (uintptr_t)(p + sizeof(w));
	return reply(fd, NESTOR_MON_CONSOLE_WRITE,
		     ioctl(cfd, NESTOR_IOC_CONSOLE_SWRITE, &w) ? errno : 0,
		     NULL, 0, NULL, 0);
}

/* One connection: requests until EOF or a framing error. */
static void serve(int fd, const char *peer)
{
	struct nestor_mon_hdr h;
	struct nestor *n;
	uint64_t served = 0;
	int err, cfd = -1;
	uint8_t *p;

	n = nestor_open_flags(NESTOR_OPEN_DEV | NESTOR_OPEN_GENL, &err);
	if (!n) {
		fprintf(stderr, "nestor-monitord: %s: cannot open nestor: %s\n",
			peer, nestor_strerror(err));
		return;
	}
	while (!nestor_mon_read_all(fd, &h, sizeof(h))) {
		if (h.magic != NESTOR_MON_MAGIC || h.status ||
		    h.len > NESTOR_MON_MAX_PAYLOAD) {
			fprintf(stderr, "nestor-monitord: %s: not our protocol, closing\n",
				peer);
			break;
		}
		p = malloc(h.len ? h.len : 1);
		if (!p || nestor_mon_read_all(fd, p, h.len)) {
			free(p);
			break;
		}
		switch (h.type) {
		case NESTOR_MON_READ:
			err = do_read(n, fd, p, h.len);
			break;
		case NESTOR_MON_WALK:
			err = do_walk(n, fd, p, h.len);
			break;
		case NESTOR_MON_RESOLVE:
			err = do_resolve(n, fd, p, h.len);
			break;
		case NESTOR_MON_CONSOLE_OPEN:
			err = do_console_open(n, fd, p, h.len, &cfd);
			break;
		case NESTOR_MON_CONSOLE_READ:
			err = do_console_read(fd, p, h.len, cfd);
			break;
		case NESTOR_MON_CONSOLE_WRITE:
			err = do_console_write(fd, p, h.len, cfd);
			break;
		default:
			err = reply(fd, h.type, EOPNOTSUPP, NULL, 0, NULL, 0);
			break;
		}
		free(p);
		if (err)
			break;
		served++;
	}
	if (!quiet)
		fprintf(stderr, "nestor-monitord: %s: %llu requests\n", peer,
			(unsigned long long)served);
	if (cfd >= 0)
		close(cfd);
	nestor_close(n);
}

static int listen_on(const char *hostport)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE }, *ai, *a;
	char host[256], *colon;
	int fd = -1, one = 1;

	snprintf(host, sizeof(host), "%s", hostport);
	colon = strrchr(host, ':');
	if (!colon || !colon[1])
		return -EINVAL;
	*colon = 0;
	if (host[0] == '[' && colon > host && colon[-1] == ']') {
		colon[-1] = 0;
		memmove(host, host + 1, strlen(host));
	}
	if (getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai))
		return -EINVAL;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, a->ai_addr, a->ai_addrlen) && !listen(fd, 16))
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd < 0 ? -errno : fd;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_storage ss;
	const char *addr = NULL;
	char peer[NI_MAXHOST + NI_MAXSERV + 2], h[NI_MAXHOST], s[NI_MAXSERV];
	socklen_t sl;
	int c, lfd, fd, one = 1;

	while ((c = getopt_long(argc, argv, "l:qh", lopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			addr = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			puts("usage: nestor-monitord --listen ADDR:PORT [--quiet]");
			return 0;
		default:
			return 2;
		}
	}
	if (!addr || optind != argc) {
		fputs("usage: nestor-monitord --listen ADDR:PORT [--quiet]\n",
		      stderr);
		return 2;
	}
	lfd = listen_on(addr);
	if (lfd < 0) {
		fprintf(stderr, "nestor-monitord: cannot listen on %s: %s\n",
			addr, strerror(-lfd));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);	/* children reap themselves */
	signal(SIGPIPE, SIG_IGN);
	if (!quiet)
		fprintf(stderr, "nestor-monitord: listening on %s\n", addr);
	for (;;) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("nestor-monitord: accept");
			return 1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), s,
				sizeof(s), NI_NUMERICHOST | NI_NUMERICSERV))
			snprintf(peer, sizeof(peer), "?");
		else
			snprintf(peer, sizeof(peer), "%s:%s", h, s);
		switch (fork()) {
		case 0:
			close(lfd);
			serve(fd, peer);
			_exit(0);
		case -1:
			perror("nestor-monitord: fork");
			break;
		}
		close(fd);
	}
}
