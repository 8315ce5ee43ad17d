"""Defect 1: SIGHUP under load lost replies and could corrupt the heap. The
main thread called event_active() on worker event bases created with
EVENT_BASE_FLAG_NOLOCK while the workers ran them.

16 clients read tasks while SIGHUP arrives every few milliseconds for 10 s,
alternating two valid configurations (different limits and log levels).
Every request must be answered 200, the daemon must survive, keep serving
and apply the last configuration; a ThreadSanitizer build (scripts/test.sh
--tsan) must report no data race."""
import http.client as httpclient
import signal
import threading

from faultlib import *  # noqa: F401,F403
from faultlib import Daemon, Database, Load, http, plan_with_task, run, skip_without_pg

skip_without_pg()
STORM_SECONDS = float(os.environ.get("PLANTRACK_STORM_SECONDS", "10"))
CONF_A = "[log]\nlevel = warning\n[server]\nmax_body = 1048576\n[lights]\nlag_points = 20\n"
CONF_B = "[log]\nlevel = error\n[server]\nmax_body = 2097152\n[lights]\nlag_points = 30\n[database]\npool = 3\n"


def test_reload_storm_under_load():
    db = Database()
    d = Daemon(db, config_text=CONF_A)
    d.start()
    tok = d.token("viewer")
    _, task_id = plan_with_task(d, d.token("supervisor"))

    local = threading.local()

    def read(i, n):
        # keep-alive, so the worker loops are busy with socket events all the time
        if not getattr(local, "conn", None):
            local.conn = httpclient.HTTPConnection("127.0.0.1", d.port, timeout=5)
        path = "/v1/tasks/" + task_id if n % 32 == 0 else "/healthz"
        try:
            local.conn.request("GET", path, headers={"Authorization": "Bearer " + tok})
            r = local.conn.getresponse()
            r.read()
            return r.status
        except (OSError, httpclient.HTTPException) as e:
            local.conn.close()
            local.conn = None
            return type(e).__name__

    load = Load(read, 16).start()
    t_end = time.time() + STORM_SECONDS
    hups = 0
    while time.time() < t_end and d.running():
        if hups % 50 == 0:
            d.write_config(CONF_A if hups % 100 else CONF_B)
        d.signal(signal.SIGHUP)
        hups += 1
        time.sleep(0.0005)
    statuses = load.stop()
    alive = d.running()
    bad = [s for s in statuses if s != 200]
    print("%d SIGHUPs, %d requests, %d not 200 (%s)" % (hups, len(statuses), len(bad), sorted(set(map(str, bad)))))
    assert alive, "the daemon died during the reload storm:\n" + d.log_tail()
    assert len(statuses) > 200, "the load did not get going"
    assert not bad, "%d of %d requests not answered 200 during the storm" % (len(bad), len(statuses))
    time.sleep(0.5)
    assert http("GET", d.url + "/v1/tasks/" + task_id, token=tok).status == 200
    assert "ThreadSanitizer" not in d.log(), harness.log_excerpt(d.log())
    assert d.stop() == 0


run(globals())
