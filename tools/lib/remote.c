// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The client of nestor-monitord (Documentation/monitor.rst): READ and
 * LIST_WALK over TCP, one round trip per call, every answer checked with
 * the monitor key before the caller sees it.  The daemon and the network
 * are not trusted: the request's in-fields come from the caller's own
 * copy, only out-fields come from the answer, and the MAC (made in L0's
 * kernel) covers both, a fresh nonce included.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "libnestor.h"

struct nestor_remote {
	int fd;
	uint32_t key_id;
	uint8_t key[NESTOR_KEY_MAX_LEN];
	size_t klen;
	uint64_t round_trips;
	char err[256];
	/* the console (nestor_remote_console_*) */
	uint32_t con_l2_id;
	int con_open, con_verified;
	uint8_t con_session[NESTOR_CONSOLE_SESSION_LEN];
	uint64_t con_next_pos, con_dropped, con_in_seq;
};

static int fail(struct nestor_remote *rm, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rm->err, sizeof(rm->err), fmt, ap);
	va_end(ap);
	return err;
}

const char *nestor_remote_error(const struct nestor_remote *rm)
{
	return rm->err;
}

uint64_t nestor_remote_round_trips(const struct nestor_remote *rm)
{
	return rm->round_trips;
}

int nestor_mon_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

int nestor_mon_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		p += n;
		len -= n;
	}
	return 0;
}

int nestor_remote_open(const char *hostport, uint32_t key_id,
		       const void *key, size_t klen,
		       struct nestor_remote **out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	struct nestor_remote *rm;
	char host[256], *colon;
	int one = 1, fd = -1, err;

	if (klen < NESTOR_KEY_MIN_LEN || klen > NESTOR_KEY_MAX_LEN || !key_id)
		return -EINVAL;
	snprintf(host, sizeof(host), "%s", hostport);
	colon = strrchr(host, ':');
	if (!colon || colon == host || !colon[1])
		return -EINVAL;
	*colon = 0;
	if (host[0] == '[' && colon[-1] == ']') {	/* [v6]:port */
		colon[-1] = 0;
		memmove(host, host + 1, strlen(host));
	}
	err = getaddrinfo(host, colon + 1, &hints, &ai);
	if (err)
		return -EHOSTUNREACH;
	err = -ECONNREFUSED;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0)
			continue;
		if (!connect(fd, a->ai_addr, a->ai_addrlen))
			break;
		err = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return err;
	/* One request, one answer: nothing to gain from Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rm = calloc(1, sizeof(*rm));
	if (!rm) {
		close(fd);
		return -ENOMEM;
	}
	rm->fd = fd;
	rm->key_id = key_id;
	memcpy(rm->key, key, klen);
	rm->klen = klen;
	*out = rm;
	return 0;
}

void nestor_remote_close(struct nestor_remote *rm)
{
	if (!rm)
		return;
	close(rm->fd);
	memset(rm->key, 0, sizeof(rm->key));
	free(rm);
}

/* Sends one request, reads the answer's header; *len its payload size. */
static int exchange(struct nestor_remote *rm, uint32_t type,
		    const void *a, size_t alen, const void *b, size_t blen,
		    uint32_t *len)
{
	struct nestor_mon_hdr h = {
		.magic = NESTOR_MON_MAGIC, .type = type,
		.len = alen + blen,
	};
	int err;

	err = nestor_mon_write_all(rm->fd, &h, sizeof(h));
	if (!err)
		err = nestor_mon_write_all(rm->fd, a, alen);
	if (!err && blen)
		err = nestor_mon_write_all(rm->fd, b, blen);
	if (!err)
		err = nestor_mon_read_all(rm->fd, &h, sizeof(h));
	if (err)
		return fail(rm, err, "connection to the monitor daemon: %s",
			    strerror(-err));
	rm->round_trips++;
	if (h.magic != NESTOR_MON_MAGIC || h.type != (type | NESTOR_MON_REPLY))
		return fail(rm, -EPROTO, "not an answer of nestor-monitord");
	if (h.status)
		return fail(rm, -(int)h.status, "monitor daemon: %s",
			    strerror(h.status));
	*len = h.len;
	return 0;
}

static int read_payload(struct nestor_remote *rm, void *buf, size_t len)
{
	int err = nestor_mon_read_all(rm->fd, buf, len);

	if (err)
		return fail(rm, err, "connection to the monitor daemon: %s",
			    strerror(-err));
	return 0;
}

static int verdict(struct nestor_remote *rm, int err)
{
	if (err == -ESTALE)
		return fail(rm, err, "REJECTED: the answer is not for this request's nonce (replayed)");
	if (err)
		return fail(rm, err, "REJECTED: the answer's HMAC does not verify (tampered, or another key)");
	return 0;
}

int nestor_remote_read(struct nestor_remote *rm, struct nestor_mem_read *r)
{
	struct nestor_mem_seg *mine = (void *)(uintptr_t)r->segs, *got = NULL;
	uint8_t nonce[NESTOR_MEM_NONCE_LEN];
	struct nestor_mem_read req = *r, ans;
	uint64_t total = 0;
	uint32_t len, i;
	int err;

	if (r->seg_size != sizeof(*mine) || !r->nr_segs ||
	    r->nr_segs > NESTOR_MEM_MAX_SEGS)
		return fail(rm, -EINVAL, "bad segment array");
	err = nestor_sig_nonce(nonce);
	if (err)
		return fail(rm, err, "no random nonce");
	req.flags |= NESTOR_MEM_F_SIGN;
	memset(&req.sig, 0, sizeof(req.sig));
	req.sig.key_id = rm->key_id;
	memcpy(req.sig.nonce, nonce, sizeof(nonce));
	err = exchange(rm, NESTOR_MON_READ, &req, sizeof(req), mine,
		       (size_t)r->nr_segs * sizeof(*mine), &len);
	if (err)
		return err;
	err = -EPROTO;
	if (len < sizeof(ans) + (size_t)r->nr_segs * sizeof(*got))
		goto bad_len;
	got = calloc(r->nr_segs, sizeof(*got));
	if (!got)
		return fail(rm, -ENOMEM, "out of memory");
	err = read_payload(rm, &ans, sizeof(ans));
	if (!err)
		err = read_payload(rm, got, (size_t)r->nr_segs * sizeof(*got));
	if (err)
		goto out;
	len -= sizeof(ans) + r->nr_segs * sizeof(*got);
	/* In-fields are ours; out-fields and data are the answer's. */
	for (i = 0; i < r->nr_segs; i++) {
		if (got[i].done > mine[i].len) {
			err = fail(rm, -EPROTO, "segment %u: more data than asked", i);
			goto out;
		}
		total += got[i].done;
	}
	if (total != len) {
		free(got);
		goto bad_len;
	}
	for (i = 0; i < r->nr_segs; i++) {
		err = read_payload(rm, (void *)(uintptr_t)mine[i].buf,
				   got[i].done);
		if (err)
			goto out;
		mine[i].status = got[i].status;
		mine[i].done = got[i].done;
		mine[i].fail_addr = got[i].fail_addr;
	}
	req.nr_ok = ans.nr_ok;
	req.bytes = ans.bytes;
	req.gen = ans.gen;
	/* diagnostics: not covered by the MAC, and not checked */
	req.nested_walks = ans.nested_walks;
	req.cache_hits = ans.cache_hits;
	memcpy(req.sig.nonce, ans.sig.nonce, sizeof(nonce));	/* echo */
	memcpy(req.sig.mac, ans.sig.mac, sizeof(req.sig.mac));
	req.sig.vm_id = ans.sig.vm_id;
	req.sig.ident_flags = ans.sig.ident_flags;
	req.sig.ident_key_id = ans.sig.ident_key_id;
	req.sig.ident_len = ans.sig.ident_len;
	memcpy(req.sig.ident, ans.sig.ident, sizeof(req.sig.ident));
	err = verdict(rm, nestor_sig_verify_read(rm->key, rm->klen, nonce,
						 &req, mine));
	if (!err)
		*r = req;
out:
	free(got);
	return err;
bad_len:
	/* The stream is out of step now: nothing more can be read on it. */
	return fail(rm, -EPROTO, "answer of the wrong length");
}

int nestor_remote_walk(struct nestor_remote *rm, struct nestor_list_walk *w)
{
	const struct nestor_walk_field *f = (void *)(uintptr_t)w->fields;
	uint8_t nonce[NESTOR_MEM_NONCE_LEN];
	struct nestor_list_walk req = *w, ans;
	uint32_t len;
	uint64_t n;
	int err;

	if (w->nr_fields > NESTOR_WALK_MAX_FIELDS || (w->nr_fields && !f))
		return fail(rm, -EINVAL, "bad field array");
	err = nestor_sig_nonce(nonce);
	if (err)
		return fail(rm, err, "no random nonce");
	req.flags |= NESTOR_MEM_F_SIGN;
	memset(&req.sig, 0, sizeof(req.sig));
	req.sig.key_id = rm->key_id;
	memcpy(req.sig.nonce, nonce, sizeof(nonce));
	err = exchange(rm, NESTOR_MON_WALK, &req, sizeof(req), f,
		       (size_t)w->nr_fields * sizeof(*f), &len);
	if (err)
		return err;
	if (len < sizeof(ans))
		return fail(rm, -EPROTO, "answer of the wrong length");
	err = read_payload(rm, &ans, sizeof(ans));
	if (err)
		return err;
	n = (uint64_t)ans.nr_nodes * ans.record_size;
	if (n != len - sizeof(ans) || n > w->records_len)
		return fail(rm, -EPROTO, "answer of the wrong length");
	err = read_payload(rm, (void *)(uintptr_t)w->records, n);
	if (err)
		return err;
	req.record_size = ans.record_size;
	req.nr_nodes = ans.nr_nodes;
	req.nr_bad = ans.nr_bad;
	req.end = ans.end;
	req.gen = ans.gen;
	req.nested_walks = ans.nested_walks;	/* not covered by the MAC */
	req.cache_hits = ans.cache_hits;
	memcpy(req.sig.nonce, ans.sig.nonce, sizeof(nonce));
	memcpy(req.sig.mac, ans.sig.mac, sizeof(req.sig.mac));
	req.sig.vm_id = ans.sig.vm_id;
	req.sig.ident_flags = ans.sig.ident_flags;
	req.sig.ident_key_id = ans.sig.ident_key_id;
	req.sig.ident_len = ans.sig.ident_len;
	memcpy(req.sig.ident, ans.sig.ident, sizeof(req.sig.ident));
	err = verdict(rm, nestor_sig_verify_walk(rm->key, rm->klen, nonce,
						 &req, f,
						 (void *)(uintptr_t)w->records));
	if (!err)
		*w = req;
	return err;
}

int nestor_remote_resolve(struct nestor_remote *rm, const char *name,
			  uint32_t *l2_id)
{
	uint32_t len, id;
	int err;

	err = exchange(rm, NESTOR_MON_RESOLVE, name, strlen(name), NULL, 0,
		       &len);
	if (err)
		return err;
	if (len != sizeof(id))
		return fail(rm, -EPROTO, "answer of the wrong length");
	err = read_payload(rm, &id, sizeof(id));
	if (!err)
		*l2_id = id;
	return err;
}

/* ---- the console ---- */

int nestor_remote_console_open(struct nestor_remote *rm, uint32_t l2_id,
			       uint32_t flags)
{
	uint8_t msg[4 + 16];
	uint32_t len, id;
	int n, err;

	if (rm->con_open)
		return fail(rm, -EBUSY, "a console is open on this connection");
	memcpy(msg, &flags, 4);
	/* A number: the signed answers name it (an id:NAME would not be). */
	n = snprintf((char *)msg + 4, sizeof(msg) - 4, "%u", l2_id);
	err = exchange(rm, NESTOR_MON_CONSOLE_OPEN, msg, 4 + n, NULL, 0, &len);
	if (err)
		return err;
	if (len != sizeof(id))
		return fail(rm, -EPROTO, "answer of the wrong length");
	err = read_payload(rm, &id, sizeof(id));
	if (err)
		return err;
	if (id != l2_id)
		return fail(rm, -EPROTO, "the daemon opened the console of L2 %u, not %u",
			    id, l2_id);
	rm->con_open = 1;
	rm->con_verified = 0;
	rm->con_l2_id = l2_id;
	rm->con_in_seq = 0;
	return 0;
}

/* The signed answer against what this connection saw before. */
static int console_follows(struct nestor_remote *rm,
			   const struct nestor_console_sread *a,
			   uint64_t *skipped)
{
	uint64_t gap;

	*skipped = 0;
	if (a->l2_id != rm->con_l2_id)
		return fail(rm, -EBADMSG, "REJECTED: the signed answer is for L2 %u, not %u",
			    a->l2_id, rm->con_l2_id);
	if (!rm->con_verified)
		return 0;
	if (memcmp(a->session, rm->con_session, sizeof(rm->con_session)))
		return fail(rm, -EBADMSG, "REJECTED: the answer is from another console session");
	if (a->pos < rm->con_next_pos || a->dropped < rm->con_dropped)
		return fail(rm, -EBADMSG, "REJECTED: the answer repeats output (stream offset %llu, expected %llu)",
			    (unsigned long long)a->pos,
			    (unsigned long long)rm->con_next_pos);
	gap = a->pos - rm->con_next_pos;
	/* Only the console's own drops (drop-oldest, signed) explain a gap. */
	if (gap > a->dropped - rm->con_dropped)
		return fail(rm, -EBADMSG, "REJECTED: %llu bytes of output before stream offset %llu were withheld",
			    (unsigned long long)gap,
			    (unsigned long long)a->pos);
	*skipped = gap;
	return 0;
}

int nestor_remote_console_read(struct nestor_remote *rm, void *buf,
			       uint32_t len,
			       struct nestor_remote_console_out *out)
{
	uint8_t nonce[NESTOR_CONSOLE_NONCE_LEN];
	struct nestor_console_sread req, ans;
	uint32_t plen;
	int err;

	if (!rm->con_open)
		return fail(rm, -EINVAL, "no console is open on this connection");
	if (!len || len > NESTOR_CONSOLE_SREAD_MAX)
		return fail(rm, -EINVAL, "bad length");
	err = nestor_sig_nonce(nonce);
	if (err)
		return fail(rm, err, "no random nonce");
	memset(&req, 0, sizeof(req));
	req.key_id = rm->key_id;
	memcpy(req.nonce, nonce, sizeof(nonce));
	req.len = len;
	err = exchange(rm, NESTOR_MON_CONSOLE_READ, &req, sizeof(req), NULL, 0,
		       &plen);
	if (err)
		return err;
	if (plen < sizeof(ans))
		return fail(rm, -EPROTO, "answer of the wrong length");
	err = read_payload(rm, &ans, sizeof(ans));
	if (err)
		return err;
	if (ans.done > len || plen - sizeof(ans) != ans.done)
		return fail(rm, -EPROTO, "answer of the wrong length");
	err = read_payload(rm, buf, ans.done);
	if (err)
		return err;
	/* In-fields are ours; out-fields and data are the answer's. */
	req.done = ans.done;
	req.l2_id = ans.l2_id;
	req.eof = ans.eof;
	req.pos = ans.pos;
	req.dropped = ans.dropped;
	memcpy(req.session, ans.session, sizeof(req.session));
	memcpy(req.mac, ans.mac, sizeof(req.mac));
	memcpy(req.nonce, ans.nonce, sizeof(req.nonce));	/* echo */
	err = verdict(rm, nestor_sig_verify_console_out(rm->key, rm->klen,
							nonce, &req, buf));
	if (!err)
		err = console_follows(rm, &req, &out->skipped);
	if (err)
		return err;
	memcpy(rm->con_session, req.session, sizeof(rm->con_session));
	rm->con_verified = 1;
	rm->con_next_pos = req.pos + req.done;
	rm->con_dropped = req.dropped;
	out->done = req.done;
	out->eof = !!(req.eof & NESTOR_CONSOLE_SREAD_EOF);
	out->pos = req.pos;
	return 0;
}

int nestor_remote_console_write(struct nestor_remote *rm, const void *buf,
				uint32_t len)
{
	struct nestor_console_swrite w;
	uint32_t plen;
	int err;

	if (!rm->con_verified)
		return fail(rm, -EINVAL, "no verified console output yet (read first)");
	if (!len || len > NESTOR_CONSOLE_SWRITE_MAX)
		return fail(rm, -EINVAL, "bad length");
	memset(&w, 0, sizeof(w));
	w.key_id = rm->key_id;
	w.seq = rm->con_in_seq;
	w.len = len;
	nestor_sig_console_in(rm->key, rm->klen, rm->con_l2_id,
			      rm->con_session, w.seq, buf, len, w.mac);
	err = exchange(rm, NESTOR_MON_CONSOLE_WRITE, &w, sizeof(w), buf, len,
		       &plen);
	if (err == -ESTALE)
		return fail(rm, err, "REJECTED: the console refused input message %llu as out of sequence (an earlier one was lost or replayed on the way)",
			    (unsigned long long)w.seq);
	if (err == -EBADMSG)
		return fail(rm, err, "REJECTED: the console did not verify the input's MAC (altered on the way, or another key)");
	if (err)
		return err;
	if (plen)
		return fail(rm, -EPROTO, "answer of the wrong length");
	rm->con_in_seq++;
	return 0;
}
