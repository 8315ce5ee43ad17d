/*
 * hash.h - SHA-256 (as hex or incremental) and HMAC-SHA256: the digests the
 * daemon, the CLI and the text library use (token hashes, request
 * fingerprints, plan source checksums, migration checksums, webhook
 * signatures). Pure: no I/O, no allocation; the caller owns every buffer.
 */
#ifndef PLANTRACK_HASH_H
#define PLANTRACK_HASH_H

#include <stddef.h>
#include <stdint.h>

#define PT_SHA256_LEN 32

/* An incremental SHA-256, on the caller's stack. */
struct pt_sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};
void pt_sha256_init(struct pt_sha256 *s);
void pt_sha256_update(struct pt_sha256 *s, const void *data, size_t len);
void pt_sha256_final(struct pt_sha256 *s, unsigned char md[PT_SHA256_LEN]);

/* SHA-256 of data as 64 lowercase hex digits + NUL, written to out (caller's buffer). */
void pt_sha256_hex(const void *data, size_t len, char out[65]);

/* len bytes of md as 2 * len lowercase hex digits + NUL into out. */
void pt_hex(const unsigned char *md, size_t len, char *out);

/* HMAC-SHA256 with key over a followed by b (either may be empty). */
void pt_hmac_sha256(const void *key, size_t klen, const void *a, size_t alen, const void *b, size_t blen,
		    unsigned char mac[PT_SHA256_LEN]);

#endif
