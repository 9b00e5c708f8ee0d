// SPDX-License-Identifier: GPL-2.0
/*
 * nestorctl capture diff: pairs each packet seen before L1 (to-l1) with
 * its counterpart after L1 (from-l1) and reports what L1 did: dropped,
 * modified (which fields), injected, and the NAT translations.
 *
 * Pairing key: what forwarding and NAT leave alone: the IP protocol, the
 * IPv4 id, TCP sequence/ack/flags, the ICMP type, code and sequence, and
 * a hash of the L4 payload.  Addresses, ports (and ICMP ids) may be
 * translated; TTL/hop limit may drop by one (a routing L1) or stay (a
 * bridging one); anything else that changes is reported as modified.
 * Link-local traffic (ARP, IPv6 link-local and multicast, IPv4
 * broadcast/multicast) belongs to one link and is not compared.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "pcapng.h"
#include "nestor_capture.h"

/* ------------------------------------------------------------------ */
/* frame decoding (also for the text output of capture)               */
/* ------------------------------------------------------------------ */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void l4_decode(const uint8_t *p, size_t len, struct frame *f)
{
	size_t hl;

	switch (f->proto) {
	case 6:		/* TCP */
		if (len < 20)
			return;
		hl = (size_t)(p[12] >> 4) * 4;
		if (hl < 20 || hl > len)
			return;
		f->sport = be16(p);
		f->dport = be16(p + 2);
		f->tcp_seq = be32(p + 4);
		f->tcp_ack = be32(p + 8);
		f->tcp_flags = p[13];
		f->tcp_win = be16(p + 14);
		break;
	case 17:	/* UDP */
		if (len < 8)
			return;
		hl = 8;
		f->sport = be16(p);
		f->dport = be16(p + 2);
		break;
	case 1:		/* ICMP */
	case 58:	/* ICMPv6 */
		if (len < 8)
			return;
		hl = 8;
		f->icmp_type = p[0];
		f->icmp_code = p[1];
		f->sport = be16(p + 4);		/* echo id */
		f->icmp_seq = be16(p + 6);
		break;
	default:
		hl = 0;
		break;
	}
	f->l4 = true;
	f->payload = p + hl;
	f->payload_len = len - hl;
}

void frame_decode(const uint8_t *p, size_t len, struct frame *f)
{
	size_t off = 14, hl;

	memset(f, 0, sizeof(*f));
	if (len < 14)
		return;
	f->ethertype = be16(p + 12);
	while ((f->ethertype == 0x8100 || f->ethertype == 0x88a8) &&
	       len >= off + 4) {
		f->ethertype = be16(p + off + 2);
		off += 4;
	}
	p += off;
	len -= off;
	if (f->ethertype == 0x0806 && len >= 8) {
		f->arp_op = be16(p + 6);
		if (len >= 28) {
			memcpy(f->src, p + 14, 4);
			memcpy(f->dst, p + 24, 4);
		}
	} else if (f->ethertype == 0x0800 && len >= 20) {
		hl = (size_t)(p[0] & 15) * 4;
		if (hl < 20 || hl > len)
			return;
		f->family = 4;
		f->tos = p[1];
		f->ip_len = be16(p + 2);
		f->ip_id = be16(p + 4);
		f->df = p[6] & 0x40;
		f->ttl = p[8];
		f->proto = p[9];
		memcpy(f->src, p + 12, 4);
		memcpy(f->dst, p + 16, 4);
		if (f->ip_len >= hl && f->ip_len <= len)
			len = f->ip_len;
		/* Only the first fragment has the L4 header. */
		if (!(be16(p + 6) & 0x1fff))
			l4_decode(p + hl, len - hl, f);
	} else if (f->ethertype == 0x86dd && len >= 40) {
		f->family = 6;
		f->tos = (uint8_t)((be16(p) >> 4) & 0xff);
		f->ip_len = be16(p + 4);
		f->proto = p[6];
		f->ttl = p[7];
		memcpy(f->src, p + 8, 16);
		memcpy(f->dst, p + 24, 16);
		if (40U + f->ip_len <= len)
			len = 40U + f->ip_len;
		l4_decode(p + 40, len - 40, f);
	}
}

const char *ip_proto_name(uint8_t proto)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmp6";
	}
	return "ip";
}

void ip_str(int family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, len))
		snprintf(buf, len, "?");
}

static bool has_ports(const struct frame *f)
{
	return f->l4 && (f->proto == 6 || f->proto == 17);
}

/* "tcp 10.0.0.1:80 > 10.0.0.2:4000" (the flow, no details). */
static void flow_str(const struct frame *f, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	ip_str(f->family, f->src, s, sizeof(s));
	ip_str(f->family, f->dst, d, sizeof(d));
	if (has_ports(f))
		snprintf(buf, len, "%s %s%s%s:%u > %s%s%s:%u",
			 ip_proto_name(f->proto), f->family == 6 ? "[" : "", s,
			 f->family == 6 ? "]" : "", f->sport,
			 f->family == 6 ? "[" : "", d,
			 f->family == 6 ? "]" : "", f->dport);
	else
		snprintf(buf, len, "%s %s > %s", ip_proto_name(f->proto), s,
			 d);
}

void frame_summary(const struct frame *f, char *buf, size_t len)
{
	char flow[160], s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	if (f->ethertype == 0x0806) {
		ip_str(4, f->src, s, sizeof(s));
		ip_str(4, f->dst, d, sizeof(d));
		snprintf(buf, len, "arp %s %s > %s",
			 f->arp_op == 1 ? "request" : f->arp_op == 2 ?
			 "reply" : "op?", s, d);
		return;
	}
	if (!f->family) {
		snprintf(buf, len, "ethertype 0x%04x", f->ethertype);
		return;
	}
	flow_str(f, flow, sizeof(flow));
	if (f->l4 && (f->proto == 1 || f->proto == 58))
		snprintf(buf, len, "%s type %u code %u id %u seq %u ttl %u",
			 flow, f->icmp_type, f->icmp_code, f->sport,
			 f->icmp_seq, f->ttl);
	else if (f->l4 && f->proto == 6)
		snprintf(buf, len, "%s flags 0x%02x seq %u ack %u win %u "
			 "len %zu", flow, f->tcp_flags, f->tcp_seq,
			 f->tcp_ack, f->tcp_win, f->payload_len);
	else
		snprintf(buf, len, "%s len %zu", flow, f->payload_len);
}

/* ------------------------------------------------------------------ */
/* diff                                                               */
/* ------------------------------------------------------------------ */

struct dpkt {
	struct frame f;
	uint64_t ts;
	uint64_t key;
	int point;
	size_t ifid;
	long match;			/* index in the other side, or -1 */
};

static bool link_local(const struct frame *f)
{
	if (!f->family)
		return true;	/* ARP and other non-IP: one link only */
	if (f->family == 4)
		return f->dst[0] >= 224 || f->src[0] == 0;
	return (f->src[0] == 0xfe && (f->src[1] & 0xc0) == 0x80) ||
	       (f->dst[0] == 0xfe && (f->dst[1] & 0xc0) == 0x80) ||
	       f->dst[0] == 0xff;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t pair_key(const struct frame *f)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = fnv(h, &f->family, sizeof(f->family));
	h = fnv(h, &f->proto, 1);
	if (f->family == 4)
		h = fnv(h, &f->ip_id, 2);
	if (f->l4 && f->proto == 6) {
		h = fnv(h, &f->tcp_seq, 4);
		h = fnv(h, &f->tcp_ack, 4);
		h = fnv(h, &f->tcp_flags, 1);
	} else if (f->l4 && (f->proto == 1 || f->proto == 58)) {
		h = fnv(h, &f->icmp_type, 1);
		h = fnv(h, &f->icmp_code, 1);
		h = fnv(h, &f->icmp_seq, 2);
	}
	if (f->l4)
		h = fnv(h, f->payload, f->payload_len);
	return h;
}

/* A counted line of the report: "what" and its first example. */
struct tally {
	char what[200];
	char example[200];
	uint64_t n;
};

struct tallies {
	struct tally *t;
	size_t n, cap;
};

static void tally(struct tallies *ts, const char *what, const char *example)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		if (!strcmp(ts->t[i].what, what)) {
			ts->t[i].n++;
			return;
		}
	if (ts->n == ts->cap) {
		size_t ncap = ts->cap ? ts->cap * 2 : 16;
		struct tally *nt = reallocarray(ts->t, ncap, sizeof(*nt));

		if (!nt)
			return;
		ts->t = nt;
		ts->cap = ncap;
	}
	snprintf(ts->t[ts->n].what, sizeof(ts->t[ts->n].what), "%s", what);
	snprintf(ts->t[ts->n].example, sizeof(ts->t[ts->n].example), "%s",
		 example);
	ts->t[ts->n++].n = 1;
}

static void print_tallies(const char *label, const struct tallies *ts,
			  bool with_example)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		printf("%s: %s, %" PRIu64 " packet%s", label, ts->t[i].what,
		       ts->t[i].n, ts->t[i].n == 1 ? "" : "s");
		if (with_example)
			printf(", e.g. %s", ts->t[i].example);
		putchar('\n');
	}
}

static void endpoint(const struct frame *f, bool src, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	bool v6 = f->family == 6;
	uint16_t port = src ? f->sport : f->dport;

	ip_str(f->family, src ? f->src : f->dst, a, sizeof(a));
	if (has_ports(f))
		snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", a, v6 ? "]" : "",
			 port);
	else
		snprintf(buf, len, "%s", a);
}

/* Compares one pair; returns whether anything but NAT/TTL changed. */
static bool compare(const struct frame *b, const struct frame *a,
		    struct tallies *nat, struct tallies *mod)
{
	size_t alen = b->family == 6 ? 16 : 4;
	char what[200], ex[200], x[80], y[80];
	bool modified = false;
	int d;

	flow_str(b, ex, sizeof(ex));
	if (memcmp(b->src, a->src, alen) ||
	    (has_ports(b) && b->sport != a->sport)) {
		endpoint(b, true, x, sizeof(x));
		endpoint(a, true, y, sizeof(y));
		snprintf(what, sizeof(what), "%s src %s -> %s",
			 ip_proto_name(b->proto), x, y);
		tally(nat, what, ex);
	}
	if (memcmp(b->dst, a->dst, alen) ||
	    (has_ports(b) && b->dport != a->dport)) {
		endpoint(b, false, x, sizeof(x));
		endpoint(a, false, y, sizeof(y));
		snprintf(what, sizeof(what), "%s dst %s -> %s",
			 ip_proto_name(b->proto), x, y);
		tally(nat, what, ex);
	}
#define FIELD(cond, name, fmt, ...) do {				\
		if (cond) {						\
			snprintf(what, sizeof(what), name " " fmt,	\
				 __VA_ARGS__);				\
			tally(mod, what, ex);				\
			modified = true;				\
		}							\
	} while (0)
	d = (int)b->ttl - (int)a->ttl;
	FIELD(d != 0 && d != 1, "%s", "%u -> %u",
	      b->family == 6 ? "ip6.hlim" : "ip.ttl", b->ttl, a->ttl);
	FIELD((b->tos >> 2) != (a->tos >> 2), "%s", "0x%02x -> 0x%02x",
	      b->family == 6 ? "ip6.dscp" : "ip.dscp", b->tos >> 2,
	      a->tos >> 2);
	FIELD((b->tos & 3) != (a->tos & 3), "%s", "%u -> %u",
	      b->family == 6 ? "ip6.ecn" : "ip.ecn", b->tos & 3, a->tos & 3);
	FIELD(b->family == 4 && b->df != a->df, "%s", "%d -> %d", "ip.df",
	      b->df, a->df);
	FIELD(b->ip_len != a->ip_len, "%s", "%u -> %u",
	      b->family == 6 ? "ip6.plen" : "ip.len", b->ip_len, a->ip_len);
	FIELD(b->proto == 6 && b->tcp_win != a->tcp_win, "%s", "%u -> %u",
	      "tcp.window", b->tcp_win, a->tcp_win);
	FIELD((b->proto == 1 || b->proto == 58) && b->sport != a->sport &&
	      !memcmp(b->src, a->src, alen), "%s", "%u -> %u", "icmp.id",
	      b->sport, a->sport);
#undef FIELD
	return modified;
}

static int point_of(const struct pcapng_file *pf, const struct pcapng_pkt *p)
{
	const char *desc = pf->ifs[p->ifid].desc;

	if (strstr(desc, "point=to-l1") || strstr(p->comment, "point=to-l1"))
		return NESTOR_CAP_POINT_TO_L1;
	if (strstr(desc, "point=from-l1") ||
	    strstr(p->comment, "point=from-l1"))
		return NESTOR_CAP_POINT_FROM_L1;
	if (strstr(desc, "point=uplink") || strstr(p->comment, "point=uplink"))
		return NESTOR_CAP_POINT_UPLINK;
	return -1;
}

int cmd_capture_diff(int argc, char **argv)
{
	struct tallies nat = { 0 }, mod = { 0 }, dropped = { 0 },
		       injected = { 0 };
	size_t i, j, nb = 0, na = 0, skipped = 0, other = 0;
	uint64_t forwarded = 0, modified = 0, ndropped = 0, ninjected = 0;
	struct dpkt *before, *after;
	struct pcapng_file pf;
	char err[256], flow[200];
	FILE *f;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: nestorctl capture diff FILE.pcapng\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "nestorctl: capture diff: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	if (pcapng_read(f, &pf, err, sizeof(err))) {
		fprintf(stderr, "nestorctl: capture diff: %s: %s\n", argv[1],
			err);
		fclose(f);
		pcapng_free(&pf);
		return 1;
	}
	fclose(f);
	before = calloc(pf.nr_pkts + 1, sizeof(*before));
	after = calloc(pf.nr_pkts + 1, sizeof(*after));
	if (!before || !after) {
		fprintf(stderr, "nestorctl: capture diff: out of memory\n");
		return 1;
	}
	for (i = 0; i < pf.nr_pkts; i++) {
		const struct pcapng_pkt *p = &pf.pkts[i];
		int point = point_of(&pf, p);
		struct dpkt d = { .ts = p->ts_ns, .point = point,
				  .ifid = p->ifid, .match = -1 };

		frame_decode(p->data, p->caplen, &d.f);
		if (point != NESTOR_CAP_POINT_TO_L1 &&
		    point != NESTOR_CAP_POINT_FROM_L1) {
			other++;
			continue;
		}
		if (link_local(&d.f)) {
			skipped++;
			continue;
		}
		d.key = pair_key(&d.f);
		if (point == NESTOR_CAP_POINT_TO_L1)
			before[nb++] = d;
		else
			after[na++] = d;
	}
	/*
	 * Packets are in capture order; each one before L1 takes the first
	 * unpaired one after L1 with its key, no earlier than itself.
	 */
	for (i = 0; i < nb; i++) {
		for (j = 0; j < na; j++) {
			if (after[j].match >= 0 || after[j].key != before[i].key ||
			    after[j].ts + 1000000 < before[i].ts)
				continue;
			after[j].match = (long)i;
			before[i].match = (long)j;
			break;
		}
	}
	for (i = 0; i < nb; i++) {
		if (before[i].match < 0) {
			flow_str(&before[i].f, flow, sizeof(flow));
			tally(&dropped, flow, flow);
			ndropped++;
			continue;
		}
		forwarded++;
		if (compare(&before[i].f, &after[before[i].match].f, &nat,
			    &mod))
			modified++;
	}
	for (j = 0; j < na; j++) {
		if (after[j].match >= 0)
			continue;
		flow_str(&after[j].f, flow, sizeof(flow));
		tally(&injected, flow, flow);
		ninjected++;
	}

	printf("before L1 (to-l1): %zu packets; after L1 (from-l1): %zu "
	       "packets; link-local, not compared: %zu; other points: %zu\n",
	       nb, na, skipped, other);
	if (pf.isb_drops)
		printf("warning: the capture dropped %" PRIu64 " packets "
		       "(statistics blocks): unpaired packets may be capture "
		       "losses\n", pf.isb_drops);
	print_tallies("nat", &nat, false);
	print_tallies("modified", &mod, true);
	print_tallies("dropped", &dropped, false);
	print_tallies("injected", &injected, false);
	printf("summary: forwarded %" PRIu64 " (modified %" PRIu64 "), "
	       "dropped %" PRIu64 ", injected %" PRIu64 ", nat translations "
	       "%zu\n", forwarded, modified, ndropped, ninjected, nat.n);
	free(nat.t);
	free(mod.t);
	free(dropped.t);
	free(injected.t);
	free(before);
	free(after);
	pcapng_free(&pf);
	return fflush(stdout) || ferror(stdout) ? 1 : 0;
}
