// SPDX-License-Identifier: GPL-2.0
/*
 * nestorctl capture's pcapng writer and reader, and capture diff, on
 * frames made here: a NATed echo request and its reply, a rewritten DSCP,
 * a TTL a routing L1 lowered, a dropped SYN, an injected datagram and an
 * ARP that is not compared.  TAP on stdout.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../tools/nestorctl/pcapng.h"
#include "../../tools/nestorctl/capture.h"

static int n, failed;

static void ok(bool c, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", c ? "" : "not ", ++n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failed |= !c;
}

/* An Ethernet + IPv4 frame; @l4 is the L4 header and payload. */
static size_t ip4(uint8_t *f, const char *src, const char *dst, uint8_t proto,
		  uint8_t tos, uint8_t ttl, uint16_t id, const uint8_t *l4,
		  size_t l4len)
{
	unsigned int a[4], b[4];
	size_t len = 14 + 20 + l4len;

	memset(f, 0, 14);
	f[0] = 2;
	f[6] = 2;
	f[11] = 1;
	f[12] = 0x08;
	sscanf(src, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]);
	sscanf(dst, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]);
	memset(f + 14, 0, 20);
	f[14] = 0x45;
	f[15] = tos;
	f[16] = (uint8_t)((20 + l4len) >> 8);
	f[17] = (uint8_t)(20 + l4len);
	f[18] = (uint8_t)(id >> 8);
	f[19] = (uint8_t)id;
	f[20] = 0x40;			/* DF */
	f[22] = ttl;
	f[23] = proto;
	for (int i = 0; i < 4; i++) {
		f[26 + i] = (uint8_t)a[i];
		f[30 + i] = (uint8_t)b[i];
	}
	memcpy(f + 34, l4, l4len);
	return len;
}

static const uint8_t echo[16] = { 8, 0, 0, 0, 0, 7, 0, 1, 'p', 'i', 'n', 'g' };
static const uint8_t reply[16] = { 0, 0, 0, 0, 0, 7, 0, 1, 'p', 'i', 'n', 'g' };
static const uint8_t syn[20] = { 0x9c, 0x40, 0x14, 0x52, 0, 0, 0, 1, 0, 0, 0,
				 0, 0x50, 0x02, 0xff, 0xff };
static const uint8_t udp[12] = { 0x13, 0x88, 0x17, 0x70, 0, 12, 0, 0, 'd', 'a',
				 't', 'a' };

int main(void)
{
	char path[] = "/tmp/test_capture_XXXXXX", out[] = "/tmp/test_diff_XXXXXX";
	uint8_t f[128], arp[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0,
				    0, 0, 1, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1 };
	struct pcapng_file pf;
	struct pcapng_w w;
	char err[128], line[512], text[4096] = "";
	int fd = mkstemp(path), ofd = mkstemp(out), saved, rc;
	uint64_t t = 1763800000000000000ULL;
	FILE *fp = fdopen(fd, "w"), *o;
	struct frame fr;
	size_t len;

	pcapng_w_init(&w, fp);
	pcapng_w_shb(&w, "test", NULL);
	pcapng_w_idb(&w, 65535, "c0", "nestor point=to-l1 binding=1");
	pcapng_w_idb(&w, 65535, "eth0", "nestor point=from-l1 binding=2");
	pcapng_w_idb(&w, 65535, "eth0", "nestor point=to-l1 binding=2");
	pcapng_w_idb(&w, 65535, "c0", "nestor point=from-l1 binding=1");
	/* echo request, DNAT 10.1.0.2 -> 10.2.0.2, TTL - 1 */
	len = ip4(f, "10.0.0.2", "10.1.0.2", 1, 0, 64, 100, echo, 12);
	pcapng_w_epb(&w, 0, t, f, len, len, PCAPNG_FLAG_OUT, "nestor point=to-l1 seq=0");
	len = ip4(f, "10.0.0.2", "10.2.0.2", 1, 0, 63, 100, echo, 12);
	pcapng_w_epb(&w, 1, t + 1000, f, len, len, PCAPNG_FLAG_IN, "nestor point=from-l1 seq=1");
	/* reply, un-NAT, TTL - 1 */
	len = ip4(f, "10.2.0.2", "10.0.0.2", 1, 0, 64, 200, reply, 12);
	pcapng_w_epb(&w, 2, t + 2000, f, len, len, PCAPNG_FLAG_OUT, "nestor point=to-l1 seq=2");
	len = ip4(f, "10.1.0.2", "10.0.0.2", 1, 0, 63, 200, reply, 12);
	pcapng_w_epb(&w, 3, t + 3000, f, len, len, PCAPNG_FLAG_IN, "nestor point=from-l1 seq=3");
	/* datagram to 6000 with its DSCP rewritten, TTL kept (bridging) */
	len = ip4(f, "10.0.0.2", "10.1.0.2", 17, 0, 64, 300, udp, 12);
	pcapng_w_epb(&w, 0, t + 4000, f, len, len, PCAPNG_FLAG_OUT, "nestor point=to-l1 seq=4");
	len = ip4(f, "10.0.0.2", "10.2.0.2", 17, 0x48, 64, 300, udp, 12);
	pcapng_w_epb(&w, 1, t + 5000, f, len, len, PCAPNG_FLAG_IN, "nestor point=from-l1 seq=5");
	/* a SYN L1 drops, an ARP, and a datagram L1 makes up */
	len = ip4(f, "10.0.0.2", "10.1.0.2", 6, 0, 64, 400, syn, 20);
	pcapng_w_epb(&w, 0, t + 6000, f, len, len, PCAPNG_FLAG_OUT, "nestor point=to-l1 seq=6");
	pcapng_w_epb(&w, 0, t + 7000, arp, sizeof(arp), 60, PCAPNG_FLAG_OUT, "nestor point=to-l1 seq=7");
	len = ip4(f, "10.2.0.9", "10.0.0.2", 17, 0, 64, 500, udp, 12);
	pcapng_w_epb(&w, 3, t + 8000, f, len, len, PCAPNG_FLAG_IN, "nestor point=from-l1 seq=8");
	/* a large frame: its data goes around stdio (writev) */
	static uint8_t big[9000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	big[12] = 0x88;
	big[13] = 0xb5;
	pcapng_w_epb(&w, 0, t + 8500, big, sizeof(big), 9100, PCAPNG_FLAG_OUT,
		     "nestor point=to-l1 seq=9");
	pcapng_w_isb(&w, 0, t + 9000, t, 8, 3, 0, 8, "drops");
	ok(!w.err && !fclose(fp), "pcapng written");

	fp = fopen(path, "rb");
	rc = fp ? pcapng_read(fp, &pf, err, sizeof(err)) : -1;
	ok(rc == 0, "pcapng read back%s%s", rc ? ": " : "", rc ? err : "");
	ok(pf.nr_ifs == 4 && pf.nr_pkts == 10, "4 interfaces, 10 packets (%zu, %zu)",
	   pf.nr_ifs, pf.nr_pkts);
	ok(pf.nr_pkts > 7 && pf.pkts[7].caplen == 42 && pf.pkts[7].origlen == 60,
	   "snap length and original length kept");
	ok(pf.nr_pkts && pf.pkts[0].ts_ns == t && pf.pkts[1].ts_ns == t + 1000,
	   "nanosecond timestamps kept");
	ok(pf.nr_pkts && pf.pkts[0].flags == PCAPNG_FLAG_OUT &&
	   pf.pkts[1].flags == PCAPNG_FLAG_IN, "direction flags kept");
	ok(pf.nr_pkts && !strcmp(pf.pkts[1].comment, "nestor point=from-l1 seq=1"),
	   "comment kept");
	ok(pf.nr_ifs && !strcmp(pf.ifs[1].desc, "nestor point=from-l1 binding=2"),
	   "interface description kept");
	ok(pf.nr_pkts == 10 && pf.pkts[9].caplen == sizeof(big) &&
	   pf.pkts[9].origlen == 9100 && !memcmp(pf.pkts[9].data, big, sizeof(big)) &&
	   !strcmp(pf.pkts[9].comment, "nestor point=to-l1 seq=9"),
	   "a large packet (written with writev) reads back whole");
	ok(pf.isb_drops == 3, "statistics block drops read (%llu)",
	   (unsigned long long)pf.isb_drops);
	if (pf.nr_pkts > 6) {
		frame_decode(pf.pkts[6].data, pf.pkts[6].caplen, &fr);
		ok(fr.family == 4 && fr.proto == 6 && fr.dport == 5202 &&
		   fr.tcp_flags == 2 && fr.ip_id == 400, "frame_decode of a SYN");
	}
	pcapng_free(&pf);
	if (fp)
		fclose(fp);

	/* capture diff, its stdout into a file */
	fflush(stdout);
	saved = dup(1);
	dup2(ofd, 1);
	rc = cmd_capture_diff(2, (char *[]){ "diff", path, NULL });
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	o = fopen(out, "r");
	while (o && fgets(line, sizeof(line), o)) {
		strncat(text, line, sizeof(text) - strlen(text) - 1);
		printf("# %s", line);
	}
	if (o)
		fclose(o);
	ok(rc == 0, "capture diff exits 0");
	ok(strstr(text, "nat: icmp dst 10.1.0.2 -> 10.2.0.2, 1 packet\n") &&
	   strstr(text, "nat: icmp src 10.2.0.2 -> 10.1.0.2, 1 packet\n") &&
	   strstr(text, "nat: udp dst 10.1.0.2:6000 -> 10.2.0.2:6000, 1 packet\n"),
	   "diff: the NAT of both directions");
	ok(strstr(text, "modified: ip.dscp 0x00 -> 0x12, 1 packet, e.g. udp "
			"10.0.0.2:5000 > 10.1.0.2:6000\n") &&
	   !strstr(text, "ip.ttl"),
	   "diff: the DSCP rewrite, and no TTL change (0 or -1 is forwarding)");
	ok(strstr(text, "dropped: tcp 10.0.0.2:40000 > 10.1.0.2:5202, 1 packet\n") != NULL,
	   "diff: the dropped SYN");
	ok(strstr(text, "injected: udp 10.2.0.9:5000 > 10.0.0.2:6000, 1 packet\n") != NULL,
	   "diff: the injected datagram");
	ok(strstr(text, "link-local, not compared: 2;") &&
	   strstr(text, "warning: the capture dropped 3 packets"),
	   "diff: ARP not compared, capture drops warned about");
	ok(strstr(text, "summary: forwarded 3 (modified 1), dropped 1, "
			"injected 1, nat translations 3\n") != NULL,
	   "diff: the summary");
	unlink(path);
	unlink(out);
	printf("1..%d\n", n);
	return failed;
}
