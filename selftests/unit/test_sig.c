// SPDX-License-Identifier: GPL-2.0
/*
 * tools/lib/sig.c: SHA-256 against FIPS 180-4 examples, HMAC-SHA256
 * against RFC 4231, the key parser, and the verifiers' refusals of
 * malformed answers (the MAC itself is checked against the kernel's in
 * selftests/nested/mem_l2.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "libnestor.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int sha_is(const void *p, size_t len, size_t split, const char *want)
{
	struct nestor_sha256 s;
	uint8_t d[32];
	char h[65];

	nestor_sha256_init(&s);
	nestor_sha256_update(&s, p, split);
	nestor_sha256_update(&s, (const char *)p + split, len - split);
	nestor_sha256_final(&s, d);
	hex(d, 32, h);
	if (strcmp(h, want))
		printf("#   got %s\n", h);
	return !strcmp(h, want);
}

static int hmac_is(const void *k, size_t kl, const void *m, size_t ml,
		   const char *want)
{
	struct nestor_hmac hm;
	uint8_t d[32];
	char h[65];

	nestor_hmac_sha256_init(&hm, k, kl);
	nestor_hmac_sha256_update(&hm, m, ml);
	nestor_hmac_sha256_final(&hm, d);
	hex(d, 32, h);
	if (strcmp(h, want))
		printf("#   got %s\n", h);
	return !strcmp(h, want);
}

static void le(uint8_t *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = v >> (8 * i);
}

/*
 * The console MACs against the encoding Documentation/uapi.rst gives,
 * built here byte by byte (the kernel's are checked in uapi_console).
 */
static void console_macs(const uint8_t *k, const uint8_t *nonce)
{
	struct nestor_console_sread a;
	uint8_t m[128], mac[32], want[32];
	struct nestor_hmac hm;
	size_t n = 0;

	memset(&a, 0, sizeof(a));
	memcpy(a.nonce, nonce, 16);
	a.len = 8;
	a.done = 3;
	a.l2_id = 0x01020304;
	a.pos = 0x1122334455667788ull;
	a.dropped = 5;
	a.eof = 1;
	memset(a.session, 0x5e, 16);
	memcpy(m, "nestor-console-out-v1", 21);
	n = 21;
	memcpy(m + n, nonce, 16);
	n += 16;
	le(m + n, a.l2_id, 4);
	n += 4;
	memcpy(m + n, a.session, 16);
	n += 16;
	le(m + n, a.pos, 8);
	n += 8;
	le(m + n, a.done, 4);
	n += 4;
	le(m + n, a.dropped, 8);
	n += 8;
	le(m + n, a.eof, 4);
	n += 4;
	memcpy(m + n, "abc", 3);
	n += 3;
	nestor_hmac_sha256_init(&hm, k, 16);
	nestor_hmac_sha256_update(&hm, m, n);
	nestor_hmac_sha256_final(&hm, a.mac);
	TAP_OK(nestor_sig_verify_console_out(k, 16, nonce, &a, "abc") == 0,
	       "console output: the documented encoding verifies");
	TAP_OK(nestor_sig_verify_console_out(k, 16, nonce, &a, "abd") == -EBADMSG,
	       "console output: a changed byte does not");
	a.pos++;
	TAP_OK(nestor_sig_verify_console_out(k, 16, nonce, &a, "abc") == -EBADMSG,
	       "console output: another stream offset does not");
	a.pos--;
	a.nonce[3] ^= 1;
	TAP_OK(nestor_sig_verify_console_out(k, 16, nonce, &a, "abc") == -ESTALE,
	       "console output: an answer to another nonce is a replay");
	a.nonce[3] ^= 1;
	a.done = 9;
	TAP_OK(nestor_sig_verify_console_out(k, 16, nonce, &a, "abc") == -EBADMSG,
	       "console output: more bytes than asked for is refused");

	memcpy(m, "nestor-console-in-v1", 20);
	n = 20;
	le(m + n, 7, 4);
	n += 4;
	memset(m + n, 0x5e, 16);
	n += 16;
	le(m + n, 2, 8);
	n += 8;
	le(m + n, 2, 4);
	n += 4;
	memcpy(m + n, "ls", 2);
	n += 2;
	nestor_hmac_sha256_init(&hm, k, 16);
	nestor_hmac_sha256_update(&hm, m, n);
	nestor_hmac_sha256_final(&hm, want);
	nestor_sig_console_in(k, 16, 7, a.session, 2, "ls", 2, mac);
	TAP_OK(!memcmp(mac, want, 32), "console input: the MAC of the documented encoding");
}

int main(void)
{
	static const char abc2[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t key[200], nonce[16], zero[16] = { 0 }, k[64];
	struct nestor_mem_read r;
	struct nestor_list_walk w;
	char *million;
	size_t kl;

	TAP_OK(sha_is("", 0, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	       "sha256 of the empty string");
	TAP_OK(sha_is("abc", 3, 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	       "sha256(\"abc\"), fed in two pieces");
	TAP_OK(sha_is(abc2, 56, 55, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
	       "sha256 of 56 bytes (padding into a second block)");
	million = malloc(1000000);
	memset(million, 'a', 1000000);
	TAP_OK(sha_is(million, 1000000, 333333, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
	       "sha256 of a million 'a'");
	free(million);

	memset(key, 0x0b, 20);
	TAP_OK(hmac_is(key, 20, "Hi There", 8, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
	       "HMAC-SHA256, RFC 4231 case 1");
	TAP_OK(hmac_is("Jefe", 4, "what do ya want for nothing?", 28,
		       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
	       "HMAC-SHA256, RFC 4231 case 2");
	memset(key, 0xaa, 131);
	TAP_OK(hmac_is(key, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
		       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
	       "HMAC-SHA256, RFC 4231 case 6 (key longer than a block)");

	TAP_OK(!nestor_sig_parse_key("00112233445566778899aabbccddeeff\n", k, &kl) && kl == 16 &&
	       k[15] == 0xff, "a 16-byte hex key parses");
	TAP_OK(nestor_sig_parse_key("0011", k, &kl) == -EINVAL, "a short key is refused");
	TAP_OK(nestor_sig_parse_key("00112233445566778899aabbccddeefg", k, &kl) == -EINVAL,
	       "a non-hex key is refused");
	TAP_OK(!nestor_sig_nonce(nonce) && memcmp(nonce, zero, 16), "a random nonce");

	memset(&r, 0, sizeof(r));
	memcpy(r.sig.nonce, nonce, 16);
	TAP_OK(nestor_sig_verify_read(k, 16, nonce, &r, NULL) == -EBADMSG,
	       "an unsigned READ answer is refused");
	r.flags = NESTOR_MEM_F_SIGN;
	r.sig.ident_len = 65;
	TAP_OK(nestor_sig_verify_read(k, 16, nonce, &r, NULL) == -EBADMSG,
	       "an identity longer than 64 bytes is refused");
	r.sig.ident_len = 0;
	r.sig.nonce[0] ^= 1;
	TAP_OK(nestor_sig_verify_read(k, 16, nonce, &r, NULL) == -ESTALE,
	       "an answer to another nonce is a replay");
	r.sig.nonce[0] ^= 1;
	TAP_OK(nestor_sig_verify_read(k, 16, nonce, &r, NULL) == -EBADMSG,
	       "a zero MAC does not verify");
	memset(&w, 0, sizeof(w));
	w.flags = NESTOR_MEM_F_SIGN;
	w.nr_nodes = 2;
	w.record_size = 16;
	w.records_len = 16;
	memcpy(w.sig.nonce, nonce, 16);
	TAP_OK(nestor_sig_verify_walk(k, 16, nonce, &w, NULL, NULL) == -EBADMSG,
	       "a walk with more records than its buffer is refused");
	console_macs(k, nonce);
	return tap_done();
}
