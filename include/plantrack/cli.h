/*
 * cli.h - the one-shot commands (token create, import): blocking libpq,
 * never run inside the server.
 */
#ifndef PLANTRACK_CLI_H
#define PLANTRACK_CLI_H

struct config;

struct cli_opts {
	const char *name, *role, *unit, *title, *year;
	char **args;
	int nargs;
};

/* Each returns the process exit code: 0 ok, 1 failure, 2 usage. */
int cli_token_create(const struct config *c, const struct cli_opts *o);
int cli_import(const struct config *c, const struct cli_opts *o);

#endif
