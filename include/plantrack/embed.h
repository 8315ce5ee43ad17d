/*
 * embed.h - the SQL files and served documents compiled into the binary.
 *
 * cmake/embed.cmake generates the table at build time from the migrations,
 * the sql/api files, docs/openapi.json and everything under web/, named by their path in the
 * source tree ("migrations/0001_schema.sql", "sql/api/00_helpers.sql",
 * "docs/openapi.json", "web/index.html"), sorted by name.
 *
 * Ownership: everything here is static, read-only data owned by the binary;
 * callers never free it. data[len] is always 0, so text is a C string.
 */
#ifndef PLANTRACK_EMBED_H
#define PLANTRACK_EMBED_H

#include <stddef.h>

struct embed_file {
	const char *name;          /* path in the source tree */
	const unsigned char *data; /* len bytes, then a NUL */
	size_t len;
	const char *content_type;  /* by extension, for serving */
};

/* The generated table (embed_data.c), sorted by name. */
extern const struct embed_file embed_files[];
extern const size_t embed_files_count;

/* The file called name, or NULL. */
const struct embed_file *embed_find(const char *name);
/* The i-th file whose name starts with prefix (0, 1, ...), in name order;
 * NULL past the last. */
const struct embed_file *embed_next(const char *prefix, size_t i);

#endif
