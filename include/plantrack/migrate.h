/*
 * migrate.h - the schema migration runner: numbered migrations, each applied
 * exactly once and checksummed, then the repeatable API set (docs/sql-api.md).
 *
 * Sources: the files compiled into the binary (embed.h) when dir is NULL or
 * empty; otherwise dir holds NNNN_name.sql files and the API set is dir/api/
 * when that exists, else dir/../sql/api/ (so PLANTRACK_MIGRATIONS can point
 * at a checkout's migrations/). Both are checked the same way.
 *
 * migrate_run: blocking libpq, for the command line only, never on an event
 * loop. Serialised by an advisory lock, so concurrent migrators are safe. It
 * refuses, changing nothing, when an applied migration's file changed or the
 * database is newer than this binary; each pending migration runs in its own
 * transaction and is recorded in schema_migrations(version, name, checksum);
 * the api schema is dropped and rebuilt in one transaction whenever the API
 * set's checksum differs from api_state.checksum.
 *
 * Ownership: a struct migrate_set is owned by its caller (migrate_set_free).
 */
#ifndef PLANTRACK_MIGRATE_H
#define PLANTRACK_MIGRATE_H

#include <stdio.h>

#define MIGRATE_SHA_HEX 65   /* 64 hex digits and a NUL */

struct migrate_set;

/* Loads the migrations and the API set (dir NULL/"" = embedded); NULL with
 * a message in err. */
struct migrate_set *migrate_set_load(const char *dir, char *err, size_t errlen);
void migrate_set_free(struct migrate_set *s);
/* Highest NNNN in the set; 0 when none. */
int migrate_set_version(const struct migrate_set *s);
/* SHA-256 (hex) of the API set: over each file in name order, its name, a
 * NUL, its bytes, a NUL. */
const char *migrate_set_api_checksum(const struct migrate_set *s);

/* Applies what is pending; progress lines go to out. 0 ok, -1 with message in err. */
int migrate_run(const char *conninfo, const char *dir, FILE *out, char *err, size_t errlen);

#endif
