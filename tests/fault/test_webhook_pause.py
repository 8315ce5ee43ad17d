"""Defect 7, second half: a webhook whose receiver keeps failing was retried
for 24 hours with nobody told. After webhooks.pause_after failed attempts in
a row it is paused: its deliveries are no longer attempted, a webhook.paused
event is published, GET shows paused: true, and POST
/v1/webhooks/{id}/resume (admin only) starts it again."""
from faultlib import *  # noqa: F401,F403
from faultlib import Database, closed_port, emit_events, http, limit, run, skip_without_pg, webhook_daemon

skip_without_pg()


def test_failing_webhook_is_paused_and_resumed():
    db = Database()
    d = webhook_daemon(db, allow="[webhooks]\nallow = 127.0.0.0/8\npause_after = 3\n")
    admin = d.token("admin")
    r = http("POST", d.url + "/v1/webhooks", token=admin,
             body={"url": "http://127.0.0.1:%d/down" % closed_port(), "secret": "s" * 20,
                   "event_types": ["task.updated"]})
    assert r.status == 201, r
    hook = r.json()["id"]
    emit_events(db, 5, "task.updated")

    def paused():
        return http("GET", d.url + "/v1/webhooks/" + hook, token=admin).json().get("paused")

    assert wait_until(paused, timeout=limit(15), interval=0.2), "not paused after 3 failures"
    attempts = db.scalar("SELECT sum(attempts) FROM webhook_deliveries WHERE webhook_id = '%s'" % hook)
    events = db.scalar("SELECT count(*) FROM events WHERE type = 'webhook.paused' AND payload->>'webhook_id' = '%s'"
                       % hook)
    time.sleep(3)
    later = db.scalar("SELECT sum(attempts) FROM webhook_deliveries WHERE webhook_id = '%s'" % hook)
    print("paused after %s attempts; %s webhook.paused event(s); %s attempts 3 s later" % (attempts, events, later))
    assert events == "1", events
    assert int(later) <= int(attempts) + 2, "still attempted while paused: %s -> %s" % (attempts, later)
    viewer = d.token("viewer")
    assert http("POST", d.url + "/v1/webhooks/%s/resume" % hook, token=viewer).status == 403
    r = http("POST", d.url + "/v1/webhooks/%s/resume" % hook, token=admin)
    assert r.status == 200 and r.json()["paused"] is False and r.json()["consecutive_failures"] == 0, r
    assert wait_until(lambda: int(db.scalar("SELECT sum(attempts) FROM webhook_deliveries WHERE webhook_id = '%s'"
                                            % hook)) > int(later), timeout=limit(5)), "not attempted after resume"
    assert d.stop() == 0


run(globals())
