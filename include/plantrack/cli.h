/*
 * cli.h - the one-shot commands (token create, import, status): blocking
 * libpq or sockets, never run inside the server.
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
/* status.c: /readyz and /metrics of the daemon at c->listen on one screen.
 * 0 ready, 1 answering but not ready, 2 unreachable (or usage). */
int cli_status(const struct config *c, const struct cli_opts *o);

#endif
