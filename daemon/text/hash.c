/*
 * hash.c - SHA-256 as hex (see hash.h), on OpenSSL's libcrypto.
 */
#include "plantrack/hash.h"

#include <openssl/sha.h>
#include <stdio.h>

void pt_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(data, len, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[i * 2] = hex[md[i] >> 4];
		out[i * 2 + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}
