/*
 * reminders.c - the reminder scheduler (see reminders.h). Worker 0 runs a
 * timer; each tick calls pt_reminders_run(cfg) unless a call is in flight.
 * Several daemons may tick at once: the SQL takes a transaction-level
 * advisory lock (the others return at once) and records each reminder under
 * a unique key, so none is sent twice. The events it writes are published by
 * the feed's own timer, and webhooks deliver them like any event.
 */
#include "plantrack/reminders.h"
#include "plantrack/config.h"
#include "plantrack/db.h"
#include "plantrack/http.h"
#include "plantrack/log.h"
#include "plantrack/sqlcalls.h"
#include "plantrack/worker.h"

#include <event2/event.h>
#include <stdlib.h>

struct scheduler {
	struct worker *w;
	struct event *timer;
	int running;
	int interval;
};

static struct scheduler *sched;   /* worker 0's, touched only on its thread */

static void on_run(PGresult *res, void *arg)
{
	struct scheduler *s = arg;
	s->running = 0;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warn("reminders: run failed: %s", res ? PQresultErrorMessage(res) : "no database connection");
		return;
	}
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) && atoi(PQgetvalue(res, 0, 0)) > 0)
		log_info("reminders: %s sent", PQgetvalue(res, 0, 0));
}

static void arm(struct scheduler *s)
{
	int interval = config_current()->reminders_interval;
	if (interval == s->interval)
		return;
	s->interval = interval;
	event_del(s->timer);
	if (interval > 0) {
		struct timeval tv = { interval, 0 };
		event_add(s->timer, &tv);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	arm(s);  /* a reload may have changed the interval */
	if (s->running || worker_draining(s->w) || s->interval <= 0)
		return;
	json_t *cfg = http_cfg_of(config_current());
	char *text = json_dumps(cfg, JSON_COMPACT);
	json_decref(cfg);
	const char *params[1] = { text };
	if (db_query(worker_db(s->w), sql_stmt(SQL_REMINDERS_RUN), 1, params, on_run, s) == DB_OK)
		s->running = 1;
	free(text);
}

static void start(struct worker *w)
{
	if (worker_index(w) != 0)
		return;
	struct scheduler *s = calloc(1, sizeof *s);
	s->w = w;
	s->timer = event_new(worker_base(w), -1, EV_PERSIST, on_tick, s);
	s->interval = -1;
	arm(s);  /* the first run comes one interval after start-up */
	sched = s;
	worker_set_slot(w, SLOT_REMINDERS, s);
}

static void stop(struct worker *w)
{
	if (worker_index(w) != 0 || !sched)
		return;
	worker_set_slot(w, SLOT_REMINDERS, NULL);
	event_free(sched->timer);
	free(sched);
	sched = NULL;
}

int reminders_register(struct router *r)
{
	(void)r;
	worker_on(WORKER_HOOK_START, start);
	worker_on(WORKER_HOOK_STOP, stop);
	return 0;
}
