/*
 * test_hash.c - SHA-256 and HMAC-SHA256 (hash.h) against the FIPS 180-4 and
 * RFC 4231 vectors, fed whole and in pieces of every size.
 */
#include "check.h"
#include "plantrack/hash.h"

#include <stdlib.h>
#include <string.h>

static int sha_is(const void *data, size_t len, const char *want)
{
	char out[65];
	pt_sha256_hex(data, len, out);
	if (strcmp(out, want)) {
		fprintf(stderr, "  sha256 of %zu bytes = %s, want %s\n", len, out, want);
		return 0;
	}
	return 1;
}

/* The same digest fed in pieces of `step` bytes. */
static int pieces_agree(const unsigned char *data, size_t len, size_t step)
{
	struct pt_sha256 s;
	unsigned char md[PT_SHA256_LEN];
	char whole[65], parts[65];
	pt_sha256_init(&s);
	for (size_t o = 0; o < len; o += step)
		pt_sha256_update(&s, data + o, len - o < step ? len - o : step);
	pt_sha256_final(&s, md);
	pt_hex(md, sizeof md, parts);
	pt_sha256_hex(data, len, whole);
	return !strcmp(whole, parts);
}

static int hmac_is(const void *key, size_t klen, const char *a, const char *b, const char *want)
{
	unsigned char mac[PT_SHA256_LEN];
	char hex[65];
	pt_hmac_sha256(key, klen, a, strlen(a), b, strlen(b), mac);
	pt_hex(mac, sizeof mac, hex);
	if (strcmp(hex, want)) {
		fprintf(stderr, "  hmac = %s, want %s\n", hex, want);
		return 0;
	}
	return 1;
}

int main(void)
{
	CHECK(sha_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK(sha_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	CHECK(sha_is(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
	unsigned char *million = malloc(1000000);
	memset(million, 'a', 1000000);
	CHECK(sha_is(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
	for (size_t step = 1; step <= 130; step++)
		CHECK(pieces_agree(million, 55 + step * 3, step));
	free(million);

	unsigned char k1[20], k2[131];
	memset(k1, 0x0b, sizeof k1);
	memset(k2, 0xaa, sizeof k2);
	CHECK(hmac_is(k1, sizeof k1, "Hi ", "There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
	CHECK(hmac_is(k2, sizeof k2, "Test Using Larger Than Block-Size Key - Hash Key First", "",
		      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
	CHECK(hmac_is("whsec_x", 7, "1700000000.", "{\"a\":1}",
		      "b3438763ab46d9634b9844c8722818eaf523f803db1327484c6067462a5fd6d1"));
	return check_summary();
}
