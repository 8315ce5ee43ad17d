/*
 * replica.h - reads from a hot standby (setting database.replica).
 *
 * With database.replica set, every worker keeps a second pool on the standby
 * and sends the plan and task reads there (replica_query decides per call);
 * everything else, and every read it cannot send there, goes to the primary.
 * A read goes to the standby only while
 *   - the call is a plan/task read (the list is in replica.c; single-task
 *     reads, task lists and summaries only with [cache] documents = 0: the
 *     cache is shared by all tokens and fills from the primary),
 *   - the standby pool has a ready connection,
 *   - the standby has replayed every write committed before a moment at most
 *     database.replica_max_lag_ms ago (measured every REPLICA_POLL_MS by
 *     comparing the primary's pg_current_wal_lsn with the standby's
 *     pg_last_wal_replay_lsn), and
 *   - that moment is after the last write of the request's token through this
 *     daemon (read-your-writes: a token that just wrote reads from the primary
 *     until the standby has replayed past its write).
 * A read the standby fails (connection lost, recovery conflict, read-only)
 * runs again on the primary, so a lagging or lost standby never fails a read.
 */
#ifndef PLANTRACK_REPLICA_H
#define PLANTRACK_REPLICA_H

#include "plantrack/db.h"
#include "plantrack/sqlcalls.h"

struct worker;

/* Registers the worker hooks (start, stop). Once, before the workers start. */
void replica_init(void);
/* Runs call for a request of token_id on the standby when the rules above
 * allow, else on the worker's primary pool; same contract as db_query.
 * Worker thread. */
int replica_query(struct worker *w, const char *token_id, enum sql_call call, int n,
		  const char *const *params, db_cb cb, void *arg);
/* A write by token_id committed (call before the reply is sent). Any thread. */
void replica_note_write(const char *token_id);
/* Counters for /metrics: reads sent to the standby, reads retried on the primary. */
unsigned long long replica_reads_total(void);
unsigned long long replica_fallbacks_total(void);

#endif
