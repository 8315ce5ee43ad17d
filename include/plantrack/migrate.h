/*
 * migrate.h - applies migrations/NNNN_name.sql in order, each exactly once.
 *
 * Blocking libpq: for the command line only, never on an event loop.
 * Serialised by an advisory lock, so concurrent migrators are safe; each
 * file runs in its own transaction and is recorded in schema_migrations.
 */
#ifndef PLANTRACK_MIGRATE_H
#define PLANTRACK_MIGRATE_H

#include <stdio.h>

/* Highest NNNN among dir's *.sql files; 0 when none; -1 when dir is unreadable. */
int migrate_latest_version(const char *dir);
/* Applies pending files; progress lines go to out. 0 ok, -1 with message in err. */
int migrate_run(const char *conninfo, const char *dir, FILE *out, char *err, size_t errlen);

#endif
