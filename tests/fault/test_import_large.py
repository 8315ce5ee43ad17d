"""Defect 8 (not fixed: in FAULT_XFAIL, run it by hand): large CSV imports never succeed. A 100,000-row task list hits
statement_timeout (it is one INSERT ... plus the 10,000-task-per-second
rendering of the answer), and with a backlog of pending webhook deliveries
even 5,000 rows failed.

Expected: 100,000 rows are imported in under 10 s, or, above a size,
accepted as a job (202 + Location: /v1/jobs/{id}) that finishes all or
nothing; 5,000 rows succeed with 20,000 pending webhook deliveries.

State (issue 15): imports of [imports] job_rows rows or more are jobs with
their own statement timeout, and a big import emits one import.finished event
instead of one per row, so the webhook backlog no longer matters (5,000 rows:
1.6 s at load average 5). The 100,000-row job finishes, but in 22-25 s at load
average 5 and 36 s at 7 on the shared 2-core machine, not 10 s: the writes
themselves (rows, foreign-key checks, trigram indexes, journal snapshots) are
the cost; see docs/operations.md, "Big CSV imports". Without the journal's
sort of the tasks, each field read once and generic plans in pt_tasks_insert:
16.7 s at load average 2 (18.3 s before), 24 to 29 s at 2 to 6 (44 s before
at 3 to 6), still not 10 s. December 2026, with the job's argument no longer
rebuilt by `||` (1.3 s of backend CPU) and the sheet read on the job thread
(the upload answers 202 in 0.3 s; the same 1.4 s of reading, now off the
event loop): 14.9 and 16.5 s at a load average under 1. Since the job reads
the sheet straight into COPY text and COPYs it into a typed stage that
pt_csv_import writes with one INSERT per table: 10.4 to 14 s on the idle
machine (the SQL alone 8.4 to 12 s, varying that much between minutes). What
is left is the database's own per-row work (the row, nine index entries,
four foreign keys, a journal snapshot per task and per target), measured per
part in docs/operations.md ("Big CSV imports"). `bash bench/run.sh --only
import` shows PostgreSQL's own COPY of the same rows into the same tables
taking 8.7 to 14.3 s here (the import 0.87 to 0.99 of that speed). Since
a job checks its foreign keys once per referenced row (api.pt_bulk_begin;
the harness connects as a superuser, so it may): 7.7 to 12.2 s over 13
runs (median 10.2 s), 8.4 s and under on good minutes; the journal's
snapshots (208 of the import's 366 MB of WAL) are most of what is left.
Still a coin toss against 10 s on a bad minute, so still in FAULT_XFAIL."""
from faultlib import *  # noqa: F401,F403
from faultlib import Database, import_rows, limit, plan_with_task, run, skip_without_pg, webhook_daemon

skip_without_pg()


def test_100k_rows():
    db = Database()
    d = webhook_daemon(db, conf="[server]\nmax_import_body = 33554432\n")
    tok = d.token("supervisor")
    plan, parent = plan_with_task(d, tok)
    ok, took, what = import_rows(d, tok, plan, parent, 100000)
    print("100,000 rows: %s after %.1f s" % ("imported" if ok else "failed", took))
    with open(d.log_path, encoding="utf-8", errors="replace") as f:  # the job's own parts
        print("".join(line for line in f if "import job" in line).strip())
    assert ok and took < limit(10), "100,000 rows: %r after %.1f s" % (what, took)


run(globals())
