// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Signed introspection results, the verifier's side: SHA-256 (FIPS 180-4),
 * HMAC-SHA256 (RFC 2104) and the encoding kmod/mem_sign.c MACs
 * (Documentation/introspection.rst, "Signed results").  Small and
 * dependency-free so that every tool and test links it the same way.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "libnestor.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++)
		w[i] = w[i - 16] + w[i - 7] +
		       (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3)) +
		       (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10));
	a = h[0]; b = h[1]; c = h[2]; d = h[3];
	e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
		     ((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
		     ((a & b) ^ (a & c) ^ (b & c));
		hh = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void nestor_sha256_init(struct nestor_sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->n = 0;
}

void nestor_sha256_update(struct nestor_sha256 *s, const void *data,
			  size_t len)
{
	const uint8_t *p = data;
	size_t k;

	s->len += len;
	if (s->n) {
		k = 64 - s->n < len ? 64 - s->n : len;
		memcpy(s->buf + s->n, p, k);
		s->n += k;
		p += k;
		len -= k;
		if (s->n < 64)
			return;
		sha256_block(s->h, s->buf);
		s->n = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha256_block(s->h, p);
	memcpy(s->buf, p, len);
	s->n = len;
}

void nestor_sha256_final(struct nestor_sha256 *s,
			 uint8_t out[NESTOR_SHA256_LEN])
{
	uint64_t bits = s->len * 8;
	uint8_t pad[72];
	size_t padlen = (s->n < 56 ? 56 : 120) - s->n;
	int i;

	memset(pad, 0, sizeof(pad));
	pad[0] = 0x80;
	for (i = 0; i < 8; i++)
		pad[padlen + i] = bits >> (56 - 8 * i);
	nestor_sha256_update(s, pad, padlen + 8);
	for (i = 0; i < 8; i++) {
		out[4 * i] = s->h[i] >> 24;
		out[4 * i + 1] = s->h[i] >> 16;
		out[4 * i + 2] = s->h[i] >> 8;
		out[4 * i + 3] = s->h[i];
	}
	memset(s, 0, sizeof(*s));
}

void nestor_hmac_sha256_init(struct nestor_hmac *h, const void *key,
			     size_t klen)
{
	uint8_t k[64], ipad[64];
	int i;

	memset(k, 0, sizeof(k));
	if (klen > 64) {
		nestor_sha256_init(&h->inner);
		nestor_sha256_update(&h->inner, key, klen);
		nestor_sha256_final(&h->inner, k);
	} else {
		memcpy(k, key, klen);
	}
	for (i = 0; i < 64; i++) {
		ipad[i] = k[i] ^ 0x36;
		h->opad[i] = k[i] ^ 0x5c;
	}
	nestor_sha256_init(&h->inner);
	nestor_sha256_update(&h->inner, ipad, 64);
	memset(k, 0, sizeof(k));
	memset(ipad, 0, sizeof(ipad));
}

void nestor_hmac_sha256_update(struct nestor_hmac *h, const void *data,
			       size_t len)
{
	nestor_sha256_update(&h->inner, data, len);
}

void nestor_hmac_sha256_final(struct nestor_hmac *h,
			      uint8_t out[NESTOR_SHA256_LEN])
{
	struct nestor_sha256 o;
	uint8_t d[NESTOR_SHA256_LEN];

	nestor_sha256_final(&h->inner, d);
	nestor_sha256_init(&o);
	nestor_sha256_update(&o, h->opad, 64);
	nestor_sha256_update(&o, d, sizeof(d));
	nestor_sha256_final(&o, out);
	memset(h, 0, sizeof(*h));
}

/* ---- the encoding of kmod/mem_sign.c ---- */

struct hdr {
	uint8_t b[320];
	size_t n;
	int overflow;
};

static void put(struct hdr *h, const void *p, size_t len)
{
	if (h->n + len > sizeof(h->b)) {
		h->overflow = 1;
		return;
	}
	memcpy(h->b + h->n, p, len);
	h->n += len;
}

static void le(uint8_t *b, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		b[i] = v >> (8 * i);
}

static void put32(struct hdr *h, uint32_t v)
{
	uint8_t b[4];

	le(b, v, 4);
	put(h, b, 4);
}

static void put64(struct hdr *h, uint64_t v)
{
	uint8_t b[8];

	le(b, v, 8);
	put(h, b, 8);
}

static void put_head(struct hdr *h, uint32_t op, uint32_t l2_id,
		     const struct nestor_mem_sig *sig,
		     const uint8_t nonce[NESTOR_MEM_NONCE_LEN])
{
	put(h, "nestor-mem-sig/1", 16);
	put32(h, op);
	put32(h, sig->key_id);
	put(h, nonce, NESTOR_MEM_NONCE_LEN);
	put32(h, sig->vm_id);
	put32(h, l2_id);
	put32(h, sig->ident_flags);
	put32(h, sig->ident_key_id);
	put32(h, sig->ident_len);
	put(h, sig->ident, sig->ident_len);
}

static void put_gen(struct hdr *h, const struct nestor_mem_gen *g)
{
	put64(h, g->root);
	put64(h, g->root_gen);
	put64(h, g->cr3);
	put64(h, g->cr3_gen);
	put32(h, g->changed);
}

/* Constant time: a verifier should not tell how much of a MAC matched. */
static int mac_differs(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;

	for (int i = 0; i < NESTOR_MEM_MAC_LEN; i++)
		d |= a[i] ^ b[i];
	return d != 0;
}

static int finish(struct hdr *h, const struct nestor_mem_sig *sig,
		  const uint8_t nonce[NESTOR_MEM_NONCE_LEN],
		  struct nestor_sha256 *meta, struct nestor_sha256 *data,
		  const void *key, size_t klen)
{
	uint8_t dg[2 * NESTOR_SHA256_LEN], mac[NESTOR_SHA256_LEN];
	struct nestor_hmac hm;

	nestor_sha256_final(meta, dg);
	nestor_sha256_final(data, dg + NESTOR_SHA256_LEN);
	if (h->overflow)
		return -EBADMSG;
	/* An answer to another request: replayed (the MAC covers the nonce). */
	if (memcmp(sig->nonce, nonce, NESTOR_MEM_NONCE_LEN))
		return -ESTALE;
	nestor_hmac_sha256_init(&hm, key, klen);
	nestor_hmac_sha256_update(&hm, h->b, h->n);
	nestor_hmac_sha256_update(&hm, dg, sizeof(dg));
	nestor_hmac_sha256_final(&hm, mac);
	if (mac_differs(mac, sig->mac))
		return -EBADMSG;
	return 0;
}

int nestor_sig_verify_read(const void *key, size_t klen,
			   const uint8_t nonce[NESTOR_MEM_NONCE_LEN],
			   const struct nestor_mem_read *r,
			   const struct nestor_mem_seg *segs)
{
	struct nestor_sha256 meta, data;
	struct hdr h = { .n = 0 };
	uint8_t b[44];

	if (!(r->flags & NESTOR_MEM_F_SIGN) ||
	    r->sig.ident_len > NESTOR_MEM_IDENT_LEN)
		return -EBADMSG;
	nestor_sha256_init(&meta);
	nestor_sha256_init(&data);
	for (uint32_t i = 0; i < r->nr_segs; i++) {
		const struct nestor_mem_seg *s = &segs[i];

		if (s->done > s->len)
			return -EBADMSG;
		le(b, s->space, 4);
		le(b + 4, s->flags, 4);
		le(b + 8, s->addr, 8);
		le(b + 16, s->len, 8);
		le(b + 24, s->status, 4);
		le(b + 28, s->done, 8);
		le(b + 36, s->fail_addr, 8);
		nestor_sha256_update(&meta, b, sizeof(b));
		nestor_sha256_update(&data, (const void *)(uintptr_t)s->buf,
				     s->done);
	}
	put_head(&h, 0x11, r->target.l2_id, &r->sig, nonce);
	put32(&h, r->flags);
	put32(&h, r->target.vcpu_id);
	put64(&h, r->target.cr3);
	put32(&h, r->nr_segs);
	put32(&h, r->seg_size);
	put32(&h, r->nr_ok);
	put64(&h, r->bytes);
	put_gen(&h, &r->gen);
	return finish(&h, &r->sig, nonce, &meta, &data, key, klen);
}

int nestor_sig_verify_walk(const void *key, size_t klen,
			   const uint8_t nonce[NESTOR_MEM_NONCE_LEN],
			   const struct nestor_list_walk *w,
			   const struct nestor_walk_field *f,
			   const void *records)
{
	struct nestor_sha256 meta, data;
	struct hdr h = { .n = 0 };
	uint8_t b[12];

	if (!(w->flags & NESTOR_MEM_F_SIGN) ||
	    w->sig.ident_len > NESTOR_MEM_IDENT_LEN ||
	    (uint64_t)w->nr_nodes * w->record_size > w->records_len)
		return -EBADMSG;
	nestor_sha256_init(&meta);
	nestor_sha256_init(&data);
	for (uint32_t i = 0; i < w->nr_fields; i++) {
		le(b, (uint32_t)f[i].offset, 4);
		le(b + 4, f[i].size, 2);
		le(b + 6, f[i].flags, 2);
		le(b + 8, (uint32_t)f[i].deref_offset, 4);
		nestor_sha256_update(&meta, b, sizeof(b));
	}
	nestor_sha256_update(&data, records,
			     (size_t)w->nr_nodes * w->record_size);
	put_head(&h, 0x12, w->target.l2_id, &w->sig, nonce);
	put32(&h, w->flags);
	put32(&h, w->space);
	put32(&h, w->target.vcpu_id);
	put64(&h, w->target.cr3);
	put64(&h, w->head);
	put32(&h, w->link_offset);
	put32(&h, w->next_offset);
	put32(&h, w->nr_fields);
	put32(&h, w->max_nodes);
	put64(&h, w->records_len);
	put32(&h, w->record_size);
	put32(&h, w->nr_nodes);
	put32(&h, w->nr_bad);
	put32(&h, w->end);
	put_gen(&h, &w->gen);
	return finish(&h, &w->sig, nonce, &meta, &data, key, klen);
}

/* ---- the console's signed I/O (kmod/console_sign.c) ---- */

static void hmac_hdr_data(const void *key, size_t klen, const struct hdr *h,
			  const void *data, size_t len,
			  uint8_t mac[NESTOR_SHA256_LEN])
{
	struct nestor_hmac hm;

	nestor_hmac_sha256_init(&hm, key, klen);
	nestor_hmac_sha256_update(&hm, h->b, h->n);
	nestor_hmac_sha256_update(&hm, data, len);
	nestor_hmac_sha256_final(&hm, mac);
}

int nestor_sig_verify_console_out(const void *key, size_t klen,
				  const uint8_t nonce[NESTOR_CONSOLE_NONCE_LEN],
				  const struct nestor_console_sread *a,
				  const void *data)
{
	uint8_t mac[NESTOR_SHA256_LEN];
	struct hdr h = { .n = 0 };

	if (a->done > a->len)
		return -EBADMSG;
	/* An answer to another request: replayed (the MAC covers the nonce). */
	if (memcmp(a->nonce, nonce, NESTOR_CONSOLE_NONCE_LEN))
		return -ESTALE;
	put(&h, "nestor-console-out-v1", 21);
	put(&h, nonce, NESTOR_CONSOLE_NONCE_LEN);
	put32(&h, a->l2_id);
	put(&h, a->session, NESTOR_CONSOLE_SESSION_LEN);
	put64(&h, a->pos);
	put32(&h, a->done);
	put64(&h, a->dropped);
	put32(&h, a->eof);
	hmac_hdr_data(key, klen, &h, data, a->done, mac);
	return mac_differs(mac, a->mac) ? -EBADMSG : 0;
}

void nestor_sig_console_in(const void *key, size_t klen, uint32_t l2_id,
			   const uint8_t session[NESTOR_CONSOLE_SESSION_LEN],
			   uint64_t seq, const void *data, uint32_t len,
			   uint8_t mac[NESTOR_CONSOLE_MAC_LEN])
{
	struct hdr h = { .n = 0 };

	put(&h, "nestor-console-in-v1", 20);
	put32(&h, l2_id);
	put(&h, session, NESTOR_CONSOLE_SESSION_LEN);
	put64(&h, seq);
	put32(&h, len);
	hmac_hdr_data(key, klen, &h, data, len, mac);
}

int nestor_sig_nonce(uint8_t nonce[NESTOR_MEM_NONCE_LEN])
{
	static const uint8_t zero[NESTOR_MEM_NONCE_LEN];

	do {
		if (getrandom(nonce, NESTOR_MEM_NONCE_LEN, 0) !=
		    NESTOR_MEM_NONCE_LEN)
			return -errno ? -errno : -EIO;
	} while (!memcmp(nonce, zero, sizeof(zero)));
	return 0;
}

int nestor_sig_parse_key(const char *hex, uint8_t *key, size_t *len)
{
	size_t n = 0;
	int hi = -1, v;

	for (const char *p = hex; *p; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			return -EINVAL;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == NESTOR_KEY_MAX_LEN)
			return -EINVAL;
		key[n++] = hi << 4 | v;
		hi = -1;
	}
	if (hi >= 0 || n < NESTOR_KEY_MIN_LEN)
		return -EINVAL;
	*len = n;
	return 0;
}
