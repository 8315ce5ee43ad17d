/*
 * main.c - the command line: serve, migrate, token create, import, status.
 *
 * Configuration precedence: defaults < ini file < environment < flags.
 * Only serve runs event loops; the other commands use blocking libpq.
 */
#include "plantrack/auth.h"
#include "plantrack/cli.h"
#include "plantrack/config.h"
#include "plantrack/log.h"
#include "plantrack/db.h"
#include "plantrack/migrate.h"
#include "plantrack/routes.h"
#include "plantrack/router.h"
#include "plantrack/metrics.h"
#include "plantrack/server.h"
#include "plantrack/xalloc.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: plantrackd COMMAND [OPTIONS]\n"
	"\n"
	"commands:\n"
	"  serve   [--config FILE] [--db CONNINFO] [--listen HOST:PORT] [--workers N] [--pool N]\n"
	"  migrate [--config FILE] [--db CONNINFO]      apply pending migrations (idempotent)\n"
	"  token create --name NAME --role ROLE [--unit UNIT] [--config FILE] [--db CONNINFO]\n"
	"                                                print a new API token (last line)\n"
	"  import FILE [--title T] [--year Y] [--config FILE] [--db CONNINFO]\n"
	"                                                plan text -> plan; prints the plan id (last line)\n"
	"  status  [--config FILE] [--listen HOST:PORT]  the running daemon on one screen\n"
	"                                                (exit 0 ready, 1 not ready, 2 unreachable)\n"
	"  --version | --help\n"
	"\n"
	"roles: viewer, editor, supervisor, admin\n"
	"environment: PLANTRACK_DB, PLANTRACK_LISTEN, PLANTRACK_CONFIG, PLANTRACK_MIGRATIONS\n";

/* Flags kept as settings so a reload re-applies them over the new file. */
struct flag_setting {
	const char *section, *key;
	char *value;
};

static struct flag_setting flag_settings[16];
static int nflag_settings;
static const char *config_path;

static void remember_flag(const char *section, const char *key, const char *value)
{
	if (nflag_settings < (int)(sizeof flag_settings / sizeof flag_settings[0]))
		flag_settings[nflag_settings++] = (struct flag_setting){ section, key, xstrdup(value) };
}

static int load_config(struct config *c, char *err, size_t errlen)
{
	config_init_defaults(c);
	const char *path = config_path ? config_path : getenv("PLANTRACK_CONFIG");
	if (path && *path && config_load_file(c, path, err, errlen)) {
		config_free(c);
		return -1;
	}
	config_apply_env(c);
	for (int i = 0; i < nflag_settings; i++) {
		if (config_set(c, flag_settings[i].section, flag_settings[i].key, flag_settings[i].value, err, errlen)) {
			config_free(c);
			return -1;
		}
	}
	config_resolve_paths(c);
	if (config_validate(c, err, errlen)) {
		config_free(c);
		return -1;
	}
	return 0;
}

/* Parses the common flags; leaves positional arguments and command flags
 * to the caller through cli_opts. Returns 0, or 2 on a usage error. */
static int parse_flags(int argc, char **argv, struct cli_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' }, { "workers", required_argument, NULL, 'w' },
		{ "pool", required_argument, NULL, 'p' }, { "name", required_argument, NULL, 'n' },
		{ "role", required_argument, NULL, 'r' }, { "unit", required_argument, NULL, 'u' },
		{ "title", required_argument, NULL, 't' }, { "year", required_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int ch;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'd': remember_flag("database", "conninfo", optarg); break;
		case 'l': remember_flag("server", "listen", optarg); break;
		case 'w': remember_flag("server", "workers", optarg); break;
		case 'p': remember_flag("database", "pool", optarg); break;
		case 'n': o->name = optarg; break;
		case 'r': o->role = optarg; break;
		case 'u': o->unit = optarg; break;
		case 't': o->title = optarg; break;
		case 'y': o->year = optarg; break;
		case 'h': fputs(usage, stdout); exit(0);
		case ':':
			fprintf(stderr, "plantrackd: option %s needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "plantrackd: unknown option %s (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	return 0;
}

static int cmd_serve(struct config *c)
{
	/* Readiness wants the schema version and the API checksum this binary
	 * ships (or the PLANTRACK_MIGRATIONS / paths.migrations directory's). */
	char err[512];
	struct migrate_set *set = migrate_set_load(c->migrations_dir, err, sizeof err);
	int schema = 0;
	if (set) {
		schema = migrate_set_version(set);
		db_expect_api_checksum(migrate_set_api_checksum(set));
		migrate_set_free(set);
	} else {
		log_warn("%s; readiness will not check the schema version or the API checksum", err);
	}
	struct config *published = xmalloc(sizeof *published);
	config_copy(published, c);
	config_publish(published);
	struct router *router = routes_build();
	if (!router) {
		log_error("cannot build the route table");
		return 1;
	}
	metrics_init(router);
	log_info("plantrackd %s starting (schema version %d expected)", PLANTRACK_VERSION, schema);
	int rc = server_run(router, schema, load_config);
	router_free(router);
	config_release_all();
	return rc;
}

static int cmd_migrate(struct config *c)
{
	char err[1024];
	if (migrate_run(c->db, c->migrations_dir, stdout, err, sizeof err)) {
		fprintf(stderr, "plantrackd migrate: %s\n", err);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	log_init();
	/* One out-of-memory policy (xalloc.h), for jansson's allocations too. */
	json_set_alloc_funcs(xmalloc, free);
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("plantrackd %s\n", PLANTRACK_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	int sub = !strcmp(cmd, "token");
	if (strcmp(cmd, "serve") && strcmp(cmd, "migrate") && strcmp(cmd, "import") && strcmp(cmd, "status") && !sub) {
		fprintf(stderr, "plantrackd: unknown command \"%s\" (see --help)\n", cmd);
		return 2;
	}
	struct cli_opts o = { 0 };
	int skip = sub ? 2 : 1;
	if (sub && (argc < 3 || strcmp(argv[2], "create"))) {
		fprintf(stderr, "plantrackd: usage: plantrackd token create --name NAME --role ROLE [--unit UNIT]\n");
		return 2;
	}
	if (parse_flags(argc - skip, argv + skip, &o))
		return 2;
	struct config c;
	char err[1024];
	if (load_config(&c, err, sizeof err)) {
		fprintf(stderr, "plantrackd: %s\n", err);
		return 2;
	}
	log_set_level((enum log_level)c.log_level);
	int rc;
	if (!strcmp(cmd, "serve"))
		rc = o.nargs ? (fprintf(stderr, "plantrackd serve: unexpected argument %s\n", o.args[0]), 2) : cmd_serve(&c);
	else if (!strcmp(cmd, "migrate"))
		rc = cmd_migrate(&c);
	else if (!strcmp(cmd, "status"))
		rc = cli_status(&c, &o);
	else if (sub)
		rc = cli_token_create(&c, &o);
	else
		rc = cli_import(&c, &o);
	config_free(&c);
	for (int i = 0; i < nflag_settings; i++)
		free(flag_settings[i].value);
	return rc;
}
