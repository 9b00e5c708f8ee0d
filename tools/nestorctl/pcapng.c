// SPDX-License-Identifier: GPL-2.0
/* pcapng writer and reader for nestorctl capture (see pcapng.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "pcapng.h"

#define BT_SHB	0x0A0D0D0AU
#define BT_IDB	0x00000001U
#define BT_EPB	0x00000006U
#define BT_ISB	0x00000005U
#define MAGIC	0x1A2B3C4DU

#define OPT_END		0
#define OPT_COMMENT	1
#define SHB_USERAPPL	4
#define IF_NAME		2
#define IF_DESCRIPTION	3
#define IF_TSRESOL	9
#define EPB_FLAGS	2
#define ISB_STARTTIME	2
#define ISB_ENDTIME	3
#define ISB_IFRECV	4
#define ISB_IFDROP	5
#define ISB_FILTERACCEPT 6
#define ISB_OSDROP	7

#define PAD4(x)	(((x) + 3U) & ~3U)

void pcapng_w_init(struct pcapng_w *w, FILE *f)
{
	w->f = f;
	w->err = false;
}

static void put(struct pcapng_w *w, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, w->f) != n)
		w->err = true;
}

static void put32(struct pcapng_w *w, uint32_t v)
{
	put(w, &v, 4);
}

static void put_pad(struct pcapng_w *w, size_t n)
{
	static const uint8_t zero[4];

	put(w, zero, PAD4(n) - n);
}

static size_t opt_size(size_t len)
{
	return 4 + PAD4(len);
}

static void put_opt(struct pcapng_w *w, uint16_t code, const void *v,
		    size_t len)
{
	uint16_t h[2] = { code, (uint16_t)len };

	put(w, h, 4);
	put(w, v, len);
	put_pad(w, len);
}

static size_t str_opt_size(const char *s)
{
	return s && *s ? opt_size(strlen(s)) : 0;
}

static void put_str_opt(struct pcapng_w *w, uint16_t code, const char *s)
{
	if (s && *s)
		put_opt(w, code, s, strlen(s));
}

void pcapng_w_shb(struct pcapng_w *w, const char *app, const char *comment)
{
	size_t opts = str_opt_size(app) + str_opt_size(comment) + 4;
	uint32_t len = 28 + opts;
	uint16_t ver[2] = { 1, 0 };
	int64_t section_len = -1;

	put32(w, BT_SHB);
	put32(w, len);
	put32(w, MAGIC);
	put(w, ver, 4);
	put(w, &section_len, 8);
	put_str_opt(w, OPT_COMMENT, comment);
	put_str_opt(w, SHB_USERAPPL, app);
	put_opt(w, OPT_END, NULL, 0);
	put32(w, len);
}

void pcapng_w_idb(struct pcapng_w *w, uint32_t snaplen, const char *name,
		  const char *desc)
{
	size_t opts = str_opt_size(name) + str_opt_size(desc) + opt_size(1) + 4;
	uint32_t len = 20 + opts;
	uint16_t lt[2] = { PCAPNG_LINKTYPE_ETHERNET, 0 };
	uint8_t tsresol = 9;		/* 10^-9 s */

	put32(w, BT_IDB);
	put32(w, len);
	put(w, lt, 4);
	put32(w, snaplen);
	put_str_opt(w, IF_NAME, name);
	put_str_opt(w, IF_DESCRIPTION, desc);
	put_opt(w, IF_TSRESOL, &tsresol, 1);
	put_opt(w, OPT_END, NULL, 0);
	put32(w, len);
}

/* Above this, a packet's data goes to the file without stdio's copy. */
#define DIRECT_MIN	8192

/* The block around large data, written with one writev(). */
static void epb_direct(struct pcapng_w *w, const void *head, size_t hlen,
		       const void *data, size_t dlen, const void *tail,
		       size_t tlen)
{
	struct iovec iov[3] = {
		{ (void *)head, hlen }, { (void *)data, dlen },
		{ (void *)tail, tlen },
	};
	size_t total = hlen + dlen + tlen, done = 0;
	ssize_t n;
	int i = 0;

	if (fflush(w->f)) {
		w->err = true;
		return;
	}
	while (done < total) {
		n = writev(fileno(w->f), iov + i, 3 - i);
		if (n <= 0) {
			w->err = true;
			return;
		}
		done += (size_t)n;
		while (i < 3 && (size_t)n >= iov[i].iov_len) {
			n -= (ssize_t)iov[i].iov_len;
			iov[i++].iov_len = 0;
		}
		if (i < 3) {
			iov[i].iov_base = (char *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
}

void pcapng_w_epb(struct pcapng_w *w, uint32_t ifid, uint64_t ts_ns,
		  const void *data, uint32_t caplen, uint32_t origlen,
		  uint32_t flags, const char *comment)
{
	size_t opts = opt_size(4) + str_opt_size(comment) + 4;
	uint32_t len = 32 + PAD4(caplen) + opts;

	if (caplen >= DIRECT_MIN && opts <= 512) {
		uint32_t head[7] = { BT_EPB, len, ifid, (uint32_t)(ts_ns >> 32),
				     (uint32_t)ts_ns, caplen, origlen };
		uint8_t tail[4 + 512 + 4] = { 0 }, *t = tail + PAD4(caplen) -
							 caplen;
		uint16_t h[2] = { EPB_FLAGS, 4 };
		size_t cl = comment ? strlen(comment) : 0;

		/* The padding of the data, the options, the length again. */
		memcpy(t, h, 4);
		memcpy(t + 4, &flags, 4);
		t += 8;
		if (cl) {
			h[0] = OPT_COMMENT;
			h[1] = (uint16_t)cl;
			memcpy(t, h, 4);
			memcpy(t + 4, comment, cl);
			t += 4 + PAD4(cl);
		}
		memset(t, 0, 4);		/* opt_endofopt */
		memcpy(t + 4, &len, 4);
		t += 8;
		epb_direct(w, head, sizeof(head), data, caplen, tail,
			   (size_t)(t - tail));
		return;
	}

	put32(w, BT_EPB);
	put32(w, len);
	put32(w, ifid);
	put32(w, (uint32_t)(ts_ns >> 32));
	put32(w, (uint32_t)ts_ns);
	put32(w, caplen);
	put32(w, origlen);
	put(w, data, caplen);
	put_pad(w, caplen);
	put_opt(w, EPB_FLAGS, &flags, 4);
	put_str_opt(w, OPT_COMMENT, comment);
	put_opt(w, OPT_END, NULL, 0);
	put32(w, len);
}

static void put_ts_opt(struct pcapng_w *w, uint16_t code, uint64_t ts)
{
	uint32_t v[2] = { (uint32_t)(ts >> 32), (uint32_t)ts };

	put_opt(w, code, v, 8);
}

void pcapng_w_isb(struct pcapng_w *w, uint32_t ifid, uint64_t ts_ns,
		  uint64_t start_ns, uint64_t recv, uint64_t drop,
		  uint64_t osdrop, uint64_t accepted, const char *comment)
{
	size_t opts = 6 * opt_size(8) + str_opt_size(comment) + 4;
	uint32_t len = 24 + opts;

	put32(w, BT_ISB);
	put32(w, len);
	put32(w, ifid);
	put32(w, (uint32_t)(ts_ns >> 32));
	put32(w, (uint32_t)ts_ns);
	put_str_opt(w, OPT_COMMENT, comment);
	put_ts_opt(w, ISB_STARTTIME, start_ns);
	put_ts_opt(w, ISB_ENDTIME, ts_ns);
	put_opt(w, ISB_IFRECV, &recv, 8);
	put_opt(w, ISB_IFDROP, &drop, 8);
	put_opt(w, ISB_FILTERACCEPT, &accepted, 8);
	put_opt(w, ISB_OSDROP, &osdrop, 8);
	put_opt(w, OPT_END, NULL, 0);
	put32(w, len);
}

/* ------------------------------------------------------------------ */
/* reader                                                             */
/* ------------------------------------------------------------------ */

struct rd {
	bool swap;
	char *err;
	size_t errlen;
};

static int rd_err(struct rd *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int rd_err(struct rd *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t g32(const struct rd *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t g16(const struct rd *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

/* Calls @fn for each option in [p, end). */
static void each_opt(const struct rd *r, const uint8_t *p, const uint8_t *end,
		     void (*fn)(uint16_t code, const uint8_t *v, uint16_t len,
				void *arg), void *arg)
{
	while (p + 4 <= end) {
		uint16_t code = g16(r, p), len = g16(r, p + 2);

		if (code == OPT_END || p + 4 + len > end)
			break;
		fn(code, p + 4, len, arg);
		p += 4 + PAD4(len);
	}
}

static void cpy_str(char *dst, size_t dlen, const uint8_t *v, uint16_t len)
{
	size_t n = len < dlen - 1 ? len : dlen - 1;

	memcpy(dst, v, n);
	dst[n] = '\0';
}

static void idb_opt(uint16_t code, const uint8_t *v, uint16_t len, void *arg)
{
	struct pcapng_if *i = arg;

	if (code == IF_NAME)
		cpy_str(i->name, sizeof(i->name), v, len);
	else if (code == IF_DESCRIPTION)
		cpy_str(i->desc, sizeof(i->desc), v, len);
}

struct epb_ctx {
	const struct rd *r;
	struct pcapng_pkt *p;
};

static void epb_opt(uint16_t code, const uint8_t *v, uint16_t len, void *arg)
{
	struct epb_ctx *e = arg;

	if (code == EPB_FLAGS && len == 4)
		e->p->flags = g32(e->r, v);
	else if (code == OPT_COMMENT)
		cpy_str(e->p->comment, sizeof(e->p->comment), v, len);
}

static void isb_opt(uint16_t code, const uint8_t *v, uint16_t len, void *arg)
{
	uint64_t *drops = arg, d;

	if (code == ISB_IFDROP && len == 8) {
		memcpy(&d, v, 8);
		*drops += d;
	}
}

int pcapng_read(FILE *f, struct pcapng_file *out, char *err, size_t errlen)
{
	struct rd r = { .err = err, .errlen = errlen };
	uint8_t hdr[8], *body = NULL;
	size_t cap_ifs = 0, cap_pkts = 0;
	bool seen_shb = false;

	memset(out, 0, sizeof(*out));
	while (fread(hdr, 1, 8, f) == 8) {
		uint32_t type, len;

		memcpy(&type, hdr, 4);
		if (type == BT_SHB) {
			uint8_t m[4];
			uint32_t magic;

			if (fread(m, 1, 4, f) != 4)
				return rd_err(&r, "truncated section header");
			memcpy(&magic, m, 4);
			if (magic != MAGIC &&
			    magic != __builtin_bswap32(MAGIC))
				return rd_err(&r, "bad byte-order magic");
			r.swap = magic != MAGIC;
			len = g32(&r, hdr + 4);
			if (len < 28 || len % 4)
				return rd_err(&r, "bad section header length");
			if (fseek(f, len - 12, SEEK_CUR))
				return rd_err(&r, "truncated section header");
			seen_shb = true;
			continue;
		}
		if (!seen_shb)
			return rd_err(&r, "not a pcapng file");
		type = g32(&r, hdr);
		len = g32(&r, hdr + 4);
		if (len < 12 || len % 4 || len > (1U << 26))
			return rd_err(&r, "bad block length %u", len);
		body = realloc(body, len);
		if (!body || fread(body, 1, len - 8, f) != len - 8) {
			free(body);
			return rd_err(&r, "truncated block");
		}
		if (type == BT_IDB && len >= 20) {
			struct pcapng_if *i;

			if (out->nr_ifs == cap_ifs) {
				cap_ifs = cap_ifs ? 2 * cap_ifs : 16;
				out->ifs = reallocarray(out->ifs, cap_ifs,
							sizeof(*i));
				if (!out->ifs)
					return rd_err(&r, "out of memory");
			}
			i = &out->ifs[out->nr_ifs++];
			memset(i, 0, sizeof(*i));
			i->linktype = g16(&r, body);
			each_opt(&r, body + 8, body + len - 12, idb_opt, i);
		} else if (type == BT_EPB && len >= 32) {
			struct pcapng_pkt *p;
			struct epb_ctx e = { &r, NULL };
			uint32_t caplen = g32(&r, body + 12);

			if (20 + PAD4(caplen) > len - 12) {
				free(body);
				return rd_err(&r, "bad packet block");
			}
			if (out->nr_pkts == cap_pkts) {
				cap_pkts = cap_pkts ? 2 * cap_pkts : 256;
				out->pkts = reallocarray(out->pkts, cap_pkts,
							 sizeof(*p));
				if (!out->pkts)
					return rd_err(&r, "out of memory");
			}
			p = &out->pkts[out->nr_pkts];
			memset(p, 0, sizeof(*p));
			p->ifid = g32(&r, body);
			p->ts_ns = (uint64_t)g32(&r, body + 4) << 32 |
				   g32(&r, body + 8);
			p->caplen = caplen;
			p->origlen = g32(&r, body + 16);
			p->data = malloc(caplen ? caplen : 1);
			if (!p->data)
				return rd_err(&r, "out of memory");
			memcpy(p->data, body + 20, caplen);
			e.p = p;
			each_opt(&r, body + 20 + PAD4(caplen), body + len - 12,
				 epb_opt, &e);
			if (p->ifid >= out->nr_ifs) {
				free(body);
				return rd_err(&r, "packet on undeclared "
					      "interface %u", p->ifid);
			}
			out->nr_pkts++;
		} else if (type == BT_ISB && len >= 24) {
			each_opt(&r, body + 12, body + len - 12, isb_opt,
				 &out->isb_drops);
		}
	}
	free(body);
	if (!seen_shb)
		return rd_err(&r, "empty or not a pcapng file");
	return 0;
}

void pcapng_free(struct pcapng_file *pf)
{
	size_t i;

	for (i = 0; i < pf->nr_pkts; i++)
		free(pf->pkts[i].data);
	free(pf->pkts);
	free(pf->ifs);
	memset(pf, 0, sizeof(*pf));
}
