/*
 * status.c - `plantrackd status`: one screen about a running daemon, read
 * from its /readyz and /metrics over plain blocking HTTP/1.0 (see cli.h).
 * Only this command uses it; the server never does.
 */
#include "plantrack/cli.h"
#include "plantrack/config.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define STATUS_TIMEOUT_S 5
#define STATUS_MAX_BODY (8 * 1024 * 1024)

struct reply {
	int status;
	char *body;      /* NUL-terminated */
};

/* GET path; 0 with the reply filled, -1 with err set when nothing answered. */
static int http_get(const char *host, const char *port, const char *path, struct reply *out,
		    char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	int fd = -1;
	snprintf(err, errlen, "no address for %s", host);
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		struct timeval tv = { STATUS_TIMEOUT_S, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return -1;
	char req[512];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: plantrackd-status\r\n"
			 "Connection: close\r\n\r\n", path, host);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		snprintf(err, errlen, "sending the request: %s", strerror(errno));
		close(fd);
		return -1;
	}
	size_t len = 0, cap = 16384;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap >= STATUS_MAX_BODY)
				break;
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		ssize_t got = recv(fd, buf + len, cap - len, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "reading the answer: %s", strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = 0;
	int status = 0;
	char *body = strstr(buf, "\r\n\r\n");
	if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1 || !body) {
		snprintf(err, errlen, "not an HTTP answer");
		free(buf);
		return -1;
	}
	out->status = status;
	out->body = strdup(body + 4);
	free(buf);
	return 0;
}

struct sample {
	int ok;
	double requests;                  /* sum of plantrack_http_requests_total */
	double pool_size, pool_ready, pool_busy, pool_waiting;
	int have_pool;
	char backlog[64], reminder[64];   /* "" when the daemon does not expose them */
};

/* Value of "name{labels} value" or "name value" lines. */
static int metric_line(const char *line, const char *name, double *v)
{
	size_t n = strlen(name);
	if (strncmp(line, name, n) || (line[n] != ' ' && line[n] != '{'))
		return 0;
	const char *p = line[n] == '{' ? strchr(line + n, '}') : line + n;
	if (!p)
		return 0;
	if (*p == '}')
		p++;
	*v = strtod(p, NULL);
	return 1;
}

static void parse_metrics(const char *text, struct sample *s)
{
	memset(s, 0, sizeof *s);
	s->ok = 1;
	double backlog = 0, reminder = 0;
	int have_backlog = 0, have_reminder = 0;
	const char *line = text;
	while (line && *line) {
		const char *eol = strchr(line, '\n');
		double v;
		if (*line != '#') {
			if (metric_line(line, "plantrack_http_requests_total", &v))
				s->requests += v;
			else if (metric_line(line, "plantrack_db_pool_size", &v))
				s->pool_size = v, s->have_pool = 1;
			else if (metric_line(line, "plantrack_db_pool_ready", &v))
				s->pool_ready = v;
			else if (metric_line(line, "plantrack_db_pool_busy", &v))
				s->pool_busy = v;
			else if (metric_line(line, "plantrack_db_pool_waiting", &v))
				s->pool_waiting = v;
			else if (metric_line(line, "plantrack_webhook_backlog", &v) ||
				 metric_line(line, "plantrack_webhook_deliveries_pending", &v))
				backlog += v, have_backlog = 1;
			else if (metric_line(line, "plantrack_reminder_last_run_timestamp_seconds", &v))
				reminder = v, have_reminder = 1;
		}
		line = eol ? eol + 1 : NULL;
	}
	if (have_backlog)
		snprintf(s->backlog, sizeof s->backlog, "%.0f", backlog);
	if (have_reminder && reminder > 0) {
		time_t t = (time_t)reminder;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(s->reminder, sizeof s->reminder, "%Y-%m-%d %H:%M:%S UTC", &tm);
	} else if (have_reminder) {
		snprintf(s->reminder, sizeof s->reminder, "never");
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sample_metrics(const char *host, const char *port, struct sample *s)
{
	struct reply r = { 0 };
	char err[256];
	memset(s, 0, sizeof *s);
	if (http_get(host, port, "/metrics", &r, err, sizeof err))
		return -1;
	if (r.status == 200)
		parse_metrics(r.body, s);
	free(r.body);
	return 0;
}

static void row(const char *label, const char *value)
{
	printf("  %-18s %s\n", label, value);
}

int cli_status(const struct config *c, const struct cli_opts *o)
{
	if (o->nargs) {
		fprintf(stderr, "plantrackd status: unexpected argument %s\n", o->args[0]);
		return 2;
	}
	char host[256], port[16];
	int portn;
	if (config_parse_listen(c->listen, host, sizeof host, &portn)) {
		fprintf(stderr, "plantrackd status: listen: expected HOST:PORT, got \"%s\"\n", c->listen);
		return 2;
	}
	/* A daemon listening on every address answers on loopback. */
	if (!strcmp(host, "0.0.0.0") || !*host)
		snprintf(host, sizeof host, "127.0.0.1");
	else if (!strcmp(host, "::"))
		snprintf(host, sizeof host, "::1");
	snprintf(port, sizeof port, "%d", portn);
	char where[300];
	if (strchr(host, ':'))
		snprintf(where, sizeof where, "[%s]:%s", host, port);
	else
		snprintf(where, sizeof where, "%s:%s", host, port);

	/* Two /metrics samples a second apart, then /readyz: between the samples
	 * the only request of ours is the first /metrics, subtracted below. */
	struct sample m1, m2;
	char err[256];
	double t1 = now_s();
	if (sample_metrics(host, port, &m1)) {
		struct reply r = { 0 };
		if (http_get(host, port, "/readyz", &r, err, sizeof err)) {
			printf("plantrackd at %s: unreachable (%s)\n", where, err);
			return 2;
		}
		free(r.body);
	}
	sleep(1);
	double t2 = now_s();
	if (sample_metrics(host, port, &m2))
		m2.ok = 0;
	struct reply ready = { 0 };
	if (http_get(host, port, "/readyz", &ready, err, sizeof err)) {
		printf("plantrackd at %s: unreachable (%s)\n", where, err);
		return 2;
	}
	json_t *doc = json_loads(ready.body, 0, NULL);
	int is_ready = ready.status == 200;
	const char *reason = json_string_value(json_object_get(doc, "reason"));
	printf("plantrackd at %s: %s%s%s\n", where, is_ready ? "ready" : "NOT READY",
	       !is_ready && reason ? " - " : "", !is_ready && reason ? reason : "");

	char buf[256];
	const char *version = json_string_value(json_object_get(doc, "version"));
	if (version)
		row("version", version);
	else {
		snprintf(buf, sizeof buf, "n/a (not in /readyz; this binary is %s)", PLANTRACK_VERSION);
		row("version", buf);
	}
	json_t *schema = json_object_get(doc, "schema_version");
	if (!json_is_integer(schema))
		schema = json_object_get(doc, "schema");    /* daemons before schema_version */
	if (json_is_integer(schema))
		snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(schema));
	else
		snprintf(buf, sizeof buf, "n/a");
	row("schema version", buf);
	/* Checksums, when this daemon's /readyz carries them (any key naming one). */
	int checksums = 0;
	const char *key;
	json_t *val;
	json_object_foreach(doc, key, val) {
		if (!strstr(key, "checksum") && !strstr(key, "sha256"))
			continue;
		char label[64];
		snprintf(label, sizeof label, "%s", key);
		for (char *p = label; *p; p++)
			if (*p == '_')
				*p = ' ';
		if (json_is_string(val))
			row(label, json_string_value(val));
		else if (json_is_null(val))
			row(label, "n/a (unknown)");
		else {
			char *text = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
			row(label, text ? text : "?");
			free(text);
		}
		checksums++;
	}
	if (!checksums)
		row("api checksum", "n/a");
	const char *db = json_string_value(json_object_get(doc, "db"));
	snprintf(buf, sizeof buf, "%s", db && !strcmp(db, "ok") ? "reachable"
		 : db ? "NOT reachable" : "n/a (no answer from /readyz)");
	row("database", buf);
	if (m2.ok && m2.have_pool)
		snprintf(buf, sizeof buf, "%.0f busy of %.0f connections (%.0f ready), %.0f queries waiting",
			 m2.pool_busy, m2.pool_size, m2.pool_ready, m2.pool_waiting);
	else
		snprintf(buf, sizeof buf, "n/a");
	row("pool", buf);
	if (m1.ok && m2.ok && t2 > t1) {
		double delta = m2.requests - m1.requests - 1;
		snprintf(buf, sizeof buf, "%.1f (over %.1f s, not counting these)", delta > 0 ? delta / (t2 - t1) : 0.0,
			 t2 - t1);
	} else
		snprintf(buf, sizeof buf, "n/a");
	row("requests/s", buf);
	row("webhook backlog", m2.ok && m2.backlog[0] ? m2.backlog : "n/a");
	row("last reminder run", m2.ok && m2.reminder[0] ? m2.reminder : "n/a");
	json_decref(doc);
	free(ready.body);
	return is_ready ? 0 : 1;
}
