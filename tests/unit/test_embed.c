/*
 * test_embed.c - the files compiled into the binary match the source tree
 * (names, bytes, content types), the migration set loads from them with the
 * checksums migrate.h defines, and every connection's parameters carry
 * search_path = api,public without clobbering a user's options.
 */
#include "check.h"
#include "plantrack/db.h"
#include "plantrack/embed.h"
#include "plantrack/fileio.h"
#include "plantrack/migrate.h"

#include <stdlib.h>
#include <string.h>

static void same_as_tree(const char *name)
{
	const char *root = getenv("PLANTRACK_SOURCE_DIR");
	const struct embed_file *f = embed_find(name);
	CHECK(f != NULL);
	if (!f || !root)
		return;
	char path[4096];
	size_t len;
	snprintf(path, sizeof path, "%s/%s", root, name);
	char *disk = fileio_read(path, &len);
	CHECK(disk != NULL);
	CHECK(disk && len == f->len && !memcmp(disk, f->data, len) && f->data[len] == 0);
	free(disk);
}

static const char *options_of(const char *conninfo, char *buf, size_t buflen)
{
	struct db_conn_params p;
	db_conn_params_init(&p, conninfo);
	snprintf(buf, buflen, "%s", p.options ? p.options : "(null)");
	/* the TCP keepalive defaults come first so the conninfo (expanded from
	 * dbname) overrides them, then dbname, then options, then the end */
	int i = 0, keepalives = 0;
	while (p.keys[i] && strcmp(p.keys[i], "dbname")) {
		keepalives += !strcmp(p.keys[i], "keepalives") && !strcmp(p.vals[i], "1");
		i++;
	}
	int ok = keepalives == 1 && p.keys[i] && p.vals[i] && p.keys[i + 1] && !strcmp(p.keys[i + 1], "options") &&
		 !p.keys[i + 2];
	db_conn_params_free(&p);
	return ok ? buf : "(bad arrays)";
}

int main(void)
{
	same_as_tree("migrations/0001_schema.sql");
	same_as_tree("sql/api/00_helpers.sql");
	same_as_tree("docs/openapi.json");
	same_as_tree("web/index.html");
	CHECK(embed_find("nothing/such.sql") == NULL);
	const struct embed_file *f = embed_find("web/index.html");
	CHECK(f && !strcmp(f->content_type, "text/html; charset=utf-8"));
	f = embed_find("docs/openapi.json");
	CHECK(f && !strcmp(f->content_type, "application/json"));
	/* sorted, and embed_next walks one prefix in order */
	for (size_t i = 1; i < embed_files_count; i++)
		CHECK(strcmp(embed_files[i - 1].name, embed_files[i].name) < 0);
	CHECK(embed_next("migrations/", 0) && !strcmp(embed_next("migrations/", 0)->name, "migrations/0001_schema.sql"));
	size_t n = 0;
	while (embed_next("sql/api/", n))
		n++;
	CHECK(n >= 8);

	/* the embedded set and the tree's directory give the same version and API checksum */
	char err[512], dir[4096];
	struct migrate_set *emb = migrate_set_load(NULL, err, sizeof err);
	CHECK(emb != NULL);
	const char *root = getenv("PLANTRACK_SOURCE_DIR");
	if (emb && root) {
		snprintf(dir, sizeof dir, "%s/migrations", root);
		struct migrate_set *disk = migrate_set_load(dir, err, sizeof err);
		CHECK(disk != NULL);
		if (disk) {
			CHECK(migrate_set_version(disk) == migrate_set_version(emb));
			CHECK(!strcmp(migrate_set_api_checksum(disk), migrate_set_api_checksum(emb)));
			CHECK(strlen(migrate_set_api_checksum(disk)) == 64);
			migrate_set_free(disk);
		}
	}
	CHECK(emb && migrate_set_version(emb) >= 4);
	migrate_set_free(emb);
	CHECK(migrate_set_load("/nonexistent/dir", err, sizeof err) == NULL && strstr(err, "/nonexistent/dir"));

	/* search_path on every connection */
	char b[256];
	CHECK(!strcmp(options_of("dbname=x", b, sizeof b), "-c search_path=api,public"));
	CHECK(!strcmp(options_of("", b, sizeof b), "-c search_path=api,public"));
	CHECK(!strcmp(options_of("dbname=x options='-c work_mem=64MB'", b, sizeof b),
		      "-c work_mem=64MB -c search_path=api,public"));
	CHECK(!strcmp(options_of("dbname=x options='-c search_path=mine'", b, sizeof b), "-c search_path=mine"));
	CHECK(!strcmp(options_of("postgresql://h/db?options=-c%20geqo%3Doff", b, sizeof b),
		      "-c geqo=off -c search_path=api,public"));
	return check_summary();
}
