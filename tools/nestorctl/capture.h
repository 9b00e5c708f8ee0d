/* SPDX-License-Identifier: GPL-2.0 */
/* nestorctl capture and capture diff (capture.c, capdiff.c). */
#ifndef NESTORCTL_CAPTURE_H
#define NESTORCTL_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the text output and the diff need from a frame. */
struct frame {
	uint16_t ethertype;		/* after VLAN tags */
	int family;			/* 4, 6, or 0 */
	uint8_t src[16], dst[16];	/* IP addresses (4 or 16 bytes) */
	uint8_t proto;			/* IP protocol / IPv6 next header */
	uint8_t tos;			/* IPv4 TOS / IPv6 traffic class */
	uint8_t ttl;			/* TTL / hop limit */
	uint16_t ip_id;
	bool df;
	uint16_t ip_len;
	uint16_t sport, dport;		/* TCP/UDP ports, ICMP id in sport */
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_win;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_seq;
	bool l4;			/* the L4 header was decoded */
	const uint8_t *payload;		/* after the L4 header */
	size_t payload_len;
	uint16_t arp_op;
};

void frame_decode(const uint8_t *p, size_t len, struct frame *f);
/* "tcp 10.0.0.1:80 > 10.0.0.2:4000", "icmp 10.0.0.1 > ...", "arp ..." */
void frame_summary(const struct frame *f, char *buf, size_t len);
const char *ip_proto_name(uint8_t proto);
void ip_str(int family, const uint8_t *a, char *buf, size_t len);

int cmd_capture(int argc, char **argv);
int cmd_capture_diff(int argc, char **argv);

#endif /* NESTORCTL_CAPTURE_H */
