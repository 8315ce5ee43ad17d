/*
 * hash.h - SHA-256 as hex: the one digest the daemon, the CLI and the text
 * library use (token hashes, request fingerprints, plan source checksums).
 * Pure: no I/O, no allocation.
 */
#ifndef PLANTRACK_HASH_H
#define PLANTRACK_HASH_H

#include <stddef.h>

/* SHA-256 of data as 64 lowercase hex digits + NUL, written to out (caller's buffer). */
void pt_sha256_hex(const void *data, size_t len, char out[65]);

#endif
