"""Defect 5: the deliverer leaked its connection (about 1.4 kB) on every
failed connect.

A webhook points at a closed port on 127.0.0.1 (allowed by [webhooks]
allow); 3,000 events give 3,000 deliveries that each fail to connect, and
their retries fail too. Counted by attempts in webhook_deliveries, the
daemon's RSS may grow at most 150 bytes per failed attempt over the
steady state after the first 500."""
from faultlib import *  # noqa: F401,F403
from faultlib import SANITIZER, Database, closed_port, emit_events, http, rss_kb, run, skip_without_pg, webhook_daemon

skip_without_pg()
WARM, MEASURED = 500, 3000


def attempts(db):
    return int(db.scalar("SELECT coalesce(sum(attempts), 0) FROM webhook_deliveries") or 0)


def test_failed_connects_do_not_leak():
    db = Database()
    # all 32 delivery slots for the one webhook: this is about leaks, not fairness
    d = webhook_daemon(db, conf="[log]\nlevel = error\n",
                       allow="[webhooks]\nallow = 127.0.0.0/8\nper_receiver = 32\npause_after = 0\n")
    admin = d.token("admin")
    r = http("POST", d.url + "/v1/webhooks", token=admin,
             body={"url": "http://127.0.0.1:%d/hook" % closed_port(), "secret": "s" * 20})
    assert r.status == 201, r
    emit_events(db, WARM)
    assert wait_until(lambda: attempts(db) >= WARM, timeout=30, interval=0.2), "deliveries not attempted"
    time.sleep(1)
    base, base_attempts = rss_kb(d.pid), attempts(db)
    emit_events(db, MEASURED)
    assert wait_until(lambda: attempts(db) >= base_attempts + MEASURED, timeout=45, interval=0.2), \
        "only %d attempts" % (attempts(db) - base_attempts)
    time.sleep(1)
    grown, n = rss_kb(d.pid) - base, attempts(db) - base_attempts
    per = grown * 1024.0 / n
    print("%d failed attempts: RSS %d -> %d KiB, %.0f bytes per attempt" % (n, base, base + grown, per))
    if not SANITIZER:  # under ASan, LeakSanitizer fails the stop below instead
        assert per < 150, "RSS grows %.0f bytes per failed webhook connect" % per
    errors = db.scalar("SELECT string_agg(DISTINCT last_error, '; ') FROM webhook_deliveries")
    assert errors and "not allowed" not in errors, "the allow-list refused 127.0.0.1: " + errors
    assert d.stop() == 0


run(globals())
