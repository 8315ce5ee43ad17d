"""Defect 10: tests/integration test_change_feed_long_poll was flaky: it read
the starting seq before an event written earlier had been published, so the
long poll returned that older event instead of its own. Clients had no way
to wait for their own write's event.

A write's response names its event (X-Event-Id), and
GET /v1/events?after=SEQ&wait=S&wait_for=ID answers as soon as that event is
published, with it in the page. Checked 20 times in a row, with another
writer adding events meanwhile."""
import threading

from faultlib import *  # noqa: F401,F403
from faultlib import Daemon, Database, http, limit, plan_with_task, run, skip_without_pg

skip_without_pg()
db = Database()
d = Daemon(db)
d.start()
sup = d.token("supervisor")
_, task_id = plan_with_task(d, sup)
_, other_task = plan_with_task(d, sup)


def tail_seq():
    last = 0
    while True:
        page = http("GET", d.url + "/v1/events?after=%d&limit=500" % last, token=sup).json()
        if not page["events"]:
            return last
        last = page["next_after"]


def test_wait_for_own_event_20_times():
    stop = threading.Event()

    def noise():
        while not stop.is_set():
            http("POST", d.url + "/v1/tasks/%s/updates" % other_task, token=sup, body={"note": "noise"})

    t = threading.Thread(target=noise, daemon=True)
    t.start()
    try:
        for i in range(20):
            start = tail_seq()
            r = http("POST", d.url + "/v1/tasks/%s/updates" % task_id, token=sup, body={"note": "第%d次" % i})
            assert r.status == 201, r
            eid = r.headers.get("X-Event-Id")
            assert eid and eid.isdigit(), "no X-Event-Id on the write: %s" % r.headers
            t0 = time.time()
            page = http("GET", d.url + "/v1/events?after=%d&limit=500&wait=10&wait_for=%s" % (start, eid), token=sup)
            assert page.status == 200, page
            took = time.time() - t0
            ids = [e.get("id") for e in page.json()["events"]]
            mine = [e for e in page.json()["events"] if str(e.get("id")) == eid]
            assert took < limit(3), "waited %.2f s for event %s" % (took, eid)
            assert mine and mine[0]["type"] == "task.reported", (eid, ids[-5:])
    finally:
        stop.set()
        t.join(5)


def test_wait_for_validation():
    assert http("GET", d.url + "/v1/events?wait_for=abc", token=sup).status == 422


run(globals())
