"""Foundation over real HTTP: health, readiness across a PostgreSQL restart,
auth (401/403), routing (404/405), limits (413/415), metrics, request ids,
reload and drain."""
import os
import signal
import subprocess
import threading
import time

from harness import Daemon, Database, http, pg_cluster, run, skip_without_pg

skip_without_pg()
db = Database()
daemon = Daemon(db)
daemon.start()
admin = daemon.token("admin")
viewer = daemon.token("viewer")


def test_healthz_and_readyz():
    r = http("GET", daemon.url + "/healthz")
    assert r.status == 200, r.body
    r = http("GET", daemon.url + "/readyz")
    assert r.status == 200, r.body
    assert r.json()["db"] == "ok"
    assert r.json()["schema"] >= 1


def test_request_id_on_every_response():
    r = http("GET", daemon.url + "/healthz")
    assert len(r.headers["X-Request-Id"]) >= 16
    r = http("GET", daemon.url + "/healthz", headers={"X-Request-Id": "abc-123"})
    assert r.headers["X-Request-Id"] == "abc-123"
    r = http("GET", daemon.url + "/nope")
    assert r.headers["X-Request-Id"]


def test_401_without_or_with_unknown_token():
    r = http("GET", daemon.url + "/v1/tasks")
    assert r.status == 401
    assert r.headers["Content-Type"].startswith("application/problem+json")
    p = r.json()
    assert p["status"] == 401 and p["type"] and p["title"]
    r = http("GET", daemon.url + "/v1/tasks", token="pt_not-a-real-token")
    assert r.status == 401
    r = http("GET", daemon.url + "/v1/tasks", headers={"Authorization": "Basic abc"})
    assert r.status == 401


def test_tasks_list_is_protected_and_answers():
    r = http("GET", daemon.url + "/v1/tasks", token=viewer)
    assert r.status == 200, r.body
    assert "items" in r.json() and "next_cursor" in r.json()


def test_403_when_role_too_low():
    r = http("DELETE", daemon.url + "/v1/tasks/00000000-0000-0000-0000-000000000000", token=viewer)
    assert r.status == 403, r.body
    r = http("GET", daemon.url + "/v1/tokens", token=viewer)
    assert r.status == 403


def test_404_and_405():
    r = http("GET", daemon.url + "/v1/nothing-here", token=admin)
    assert r.status == 404
    assert r.headers["Content-Type"].startswith("application/problem+json")
    r = http("PUT", daemon.url + "/v1/tasks", token=admin)
    assert r.status == 405
    allow = r.headers["Allow"]
    assert "GET" in allow and "POST" in allow and "PUT" not in allow
    r = http("PATCH", daemon.url + "/healthz")
    assert r.status == 405


def test_413_body_too_large():
    body = b'{"title":"' + b"a" * (1024 * 1024 + 10) + b'"}'
    r = http("POST", daemon.url + "/v1/tasks", body=body, token=admin,
             headers={"Content-Type": "application/json"})
    assert r.status == 413, r.status
    assert r.json()["status"] == 413


def test_415_and_400():
    r = http("POST", daemon.url + "/v1/plans", body=b"title=x", token=admin,
             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 415, r.body
    r = http("POST", daemon.url + "/v1/plans", body=b'{"title":', token=admin,
             headers={"Content-Type": "application/json"})
    assert r.status == 400
    r = http("POST", daemon.url + "/v1/plans", body=b'{"title":"a","title":"b"}', token=admin,
             headers={"Content-Type": "application/json"})
    assert r.status == 400, "duplicate keys are malformed JSON"


def test_metrics_prometheus_text():
    r = http("GET", daemon.url + "/metrics")
    assert r.status == 200
    text = r.body.decode()
    assert 'plantrack_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "plantrack_http_request_duration_seconds_bucket" in text
    assert "plantrack_db_pool_busy" in text and "plantrack_db_pool_waiting" in text
    assert "plantrack_db_errors_total" in text


def test_one_log_line_per_request():
    http("GET", daemon.url + "/healthz", headers={"X-Request-Id": "log-line-check"})
    time.sleep(0.2)
    lines = [l for l in daemon.log().splitlines() if "log-line-check" in l]
    assert len(lines) == 1, lines
    assert '"status":200' in lines[0] and '"route":"/healthz"' in lines[0]


def admin_of(d):
    return d.token("admin")


def test_readiness_follows_postgresql():
    with pg_cluster() as pg:
        other = Database(pg.conninfo)
        d = Daemon(other)
        d.start()
        assert http("GET", d.url + "/readyz").status == 200
        pg.stop()
        deadline = time.time() + 5
        while time.time() < deadline and http("GET", d.url + "/readyz").status != 503:
            time.sleep(0.1)
        r = http("GET", d.url + "/readyz")
        assert r.status == 503 and r.json()["reason"], r.body
        assert http("GET", d.url + "/healthz").status == 200
        r = http("GET", d.url + "/v1/tasks", token="x")
        assert r.status == 503 and r.headers["Retry-After"]
        pg.start()
        t0 = time.time()
        streak = 0
        while time.time() < t0 + 5 and streak < 6:
            streak = streak + 1 if http("GET", d.url + "/readyz").status == 200 else 0
            time.sleep(0.05)
        assert streak >= 6, "every worker ready within 5 s after PostgreSQL came back"
        assert http("GET", d.url + "/v1/tasks", token=admin_of(d)).status == 200
        assert d.stop() == 0


def test_unreachable_database_at_start():
    d = Daemon(None, conninfo="host=127.0.0.1 port=1 dbname=nothing connect_timeout=1", migrate=False)
    d.start(wait_ready=False)
    time.sleep(1)
    assert http("GET", d.url + "/healthz").status == 200
    r = http("GET", d.url + "/readyz")
    assert r.status == 503
    assert d.stop() == 0


def test_schema_behind_is_not_ready():
    fresh = Database()
    d = Daemon(fresh, migrate=False)
    d.start(wait_ready=False)
    time.sleep(0.5)
    r = http("GET", d.url + "/readyz")
    assert r.status == 503 and "schema" in r.json()["reason"], r.body
    subprocess.run([os.environ["PLANTRACKD"], "migrate", "--db", fresh.conninfo], check=True,
                   capture_output=True)
    deadline = time.time() + 6
    while time.time() < deadline and http("GET", d.url + "/readyz").status != 200:
        time.sleep(0.2)
    assert http("GET", d.url + "/readyz").status == 200
    assert d.stop() == 0


def test_reload_keeps_serving_on_broken_config():
    d = Daemon(db, config_text="[log]\nlevel = info\n")
    d.start()
    d.write_config("[log]\nlevel = loud\n")
    d.signal(signal.SIGHUP)
    time.sleep(0.5)
    assert "reload rejected" in d.log()
    assert http("GET", d.url + "/healthz").status == 200
    d.write_config("[log]\nlevel = debug\n[lights]\nlag_points = 30\n")
    d.signal(signal.SIGHUP)
    time.sleep(0.5)
    assert "configuration reloaded" in d.log()
    assert http("GET", d.url + "/readyz").status == 200
    assert d.stop() == 0


def test_reload_classes_and_refusals():
    d = Daemon(db, config_text="[log]\nlevel = info\n")
    d.start()
    d.write_config("[log]\nlevel = info\n[paths]\nweb = /nonexistent-web\nopenapi = /nonexistent.json\n"
                   "[database]\nqueue = 77\n")
    d.signal(signal.SIGHUP)
    time.sleep(0.5)
    log = d.log()
    assert "paths.web changed, takes effect after restart" in log, log
    assert "paths.openapi changed, takes effect after restart" in log, log
    assert "database.queue changed" in log, log
    # The running document stays: restart keys keep their running value.
    assert http("GET", d.url + "/v1/openapi.json", token=d.token("viewer")).status == 200
    d.write_config("")
    d.signal(signal.SIGHUP)
    time.sleep(0.5)
    assert "empty file" in d.log()
    # SIGHUP storm: every reload hands a snapshot over while requests run.
    d.write_config("[lights]\nlag_points = 31\n")
    for _ in range(20):
        d.signal(signal.SIGHUP)
        assert http("GET", d.url + "/healthz").status == 200
    time.sleep(0.3)
    assert http("GET", d.url + "/readyz").status == 200
    assert d.stop() == 0


def test_drain_finishes_request_in_flight():
    d = Daemon(db)
    d.start()
    tok = d.token("viewer")
    result = {}

    def poll():
        result["r"] = http("GET", d.url + "/v1/events?after=999999999&wait=20", token=tok)

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    t0 = time.time()
    code = d.stop()
    t.join(5)
    assert code == 0
    assert result["r"].status == 200, "long poll answered early on drain"
    assert time.time() - t0 < 5


run(globals())
