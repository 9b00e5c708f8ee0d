/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libnestor, packet capture: the "nestor_cap" generic netlink family
 * (Documentation/capture.rst).  Calls return 0 or a negative errno;
 * nestor_cap_last_error() has the detail (the kernel's extack message).
 *
 * A handle holds two sockets: one for requests, which owns the sessions it
 * creates (they end when it closes, or when the process dies), and one
 * joined to the "packets" group.  Not thread-safe.
 */
#ifndef NESTOR_CAPTURE_H
#define NESTOR_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>
#include <linux/nestor.h>

struct nestor_cap;

struct nestor_cap_config {
	uint32_t points;		/* 1 << NESTOR_CAP_POINT_*; 0: default */
	uint32_t snaplen;		/* 0: kernel default */
	uint32_t batch;			/* 0: kernel default */
	uint32_t flush_ms;		/* 0: kernel default */
	uint32_t bufsize;		/* 0: kernel default */
	const struct sock_filter *filter;	/* NULL: none */
	size_t filter_len;		/* instructions */
};

/* What a BIND names: exactly one of ifindex, uplink, or pid / vm_id. */
struct nestor_cap_target {
	uint32_t ifindex;
	uint32_t uplink;
	uint32_t pid;
	uint32_t vm_id;
};

struct nestor_cap_ifstats {
	uint32_t binding;		/* id in the session, from 1 */
	uint32_t ifindex;		/* in the interface's own netns */
	char name[16];
	uint32_t point;
	uint32_t vm_id;
	uint32_t pid;
	int gone;
	uint64_t captured, filtered, dropped;
};

struct nestor_cap_stats {
	uint32_t session;
	uint32_t owner_portid;
	uint32_t points, snaplen, batch, flush_ms, bufsize;
	uint64_t msg_seq;
	uint64_t captured, filtered, dropped, alloc_fail, overflow, messages;
	size_t nr_ifs;
	struct nestor_cap_ifstats *ifs;
};

struct nestor_cap_pkt {
	uint64_t seq;
	uint32_t point;
	uint32_t dir;
	uint32_t ifindex;
	uint32_t binding;
	uint64_t tstamp_ns;
	uint32_t orig_len;
	uint32_t vm_id;
	uint32_t l2_id;			/* 0: no mapping matched */
	uint32_t caplen;
	const uint8_t *data;		/* valid until the next nestor_cap_next() */
	uint64_t lost_before;		/* sequence numbers skipped before it */
};

/* -ENODEV when the module (the family) is not there. */
struct nestor_cap *nestor_cap_open(int *err);
void nestor_cap_close(struct nestor_cap *c);
const char *nestor_cap_last_error(const struct nestor_cap *c);

int nestor_cap_new(struct nestor_cap *c, const struct nestor_cap_config *cfg,
		   uint32_t *session);
int nestor_cap_bind(struct nestor_cap *c, uint32_t session,
		    const struct nestor_cap_target *t);
/* @addr: 6 bytes (MAC), 4 (IPv4) or 16 (IPv6). */
int nestor_cap_l2_map(struct nestor_cap *c, uint32_t session, uint32_t l2_id,
		      const void *addr, size_t len);
int nestor_cap_get(struct nestor_cap *c, uint32_t session,
		   struct nestor_cap_stats *out);
void nestor_cap_free_stats(struct nestor_cap_stats *s);
/* Every session (GET dump); free with nestor_cap_free_list(). */
int nestor_cap_list(struct nestor_cap *c, struct nestor_cap_stats **out,
		    size_t *nr);
void nestor_cap_free_list(struct nestor_cap_stats *v, size_t nr);
int nestor_cap_del(struct nestor_cap *c, uint32_t session);

/*
 * Joins "packets"; only @session's packets are returned.  @rcvbuf: the
 * socket's receive buffer in bytes (0: 32 MiB).
 */
int nestor_cap_subscribe(struct nestor_cap *c, uint32_t session,
			 uint32_t rcvbuf);
/*
 * Next packet, waiting up to @timeout_ms (-1: forever).  -ETIMEDOUT: none
 * came; -ENOBUFS: the socket overran (messages were lost; the next packet
 * tells how many sequence numbers by lost_before).
 */
int nestor_cap_next(struct nestor_cap *c, struct nestor_cap_pkt *pkt,
		    int timeout_ms);
/* Sequence numbers never seen so far (gaps), for the statistics. */
uint64_t nestor_cap_lost(const struct nestor_cap *c);
/* The packets socket's fd, for poll(). */
int nestor_cap_fd(const struct nestor_cap *c);

/* "to-l1", "from-l1", "uplink", or "?". */
const char *nestor_cap_point_name(uint32_t point);

#endif /* NESTOR_CAPTURE_H */
