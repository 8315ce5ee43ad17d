"""Durability: PostgreSQL down for 30 s. Every request meanwhile is answered
503 with Retry-After within a second (reads and writes, never a hang), the
process stays up, /readyz says 503, and within 1 s of PostgreSQL accepting
connections again both reads and writes succeed."""
from faultlib import *  # noqa: F401,F403
from faultlib import Daemon, Database, http, limit, pg_cluster, plan_with_task, run, skip_without_pg

skip_without_pg()
DOWN_SECONDS = 30


def test_postgresql_down_30s():
    with pg_cluster() as pg:
        db = Database(pg.conninfo)
        d = Daemon(db)
        d.start()
        tok = d.token("supervisor")
        plan_id, task_id = plan_with_task(d, tok)
        pg.stop()
        t_end = time.time() + DOWN_SECONDS
        slowest, n = 0.0, 0
        while time.time() < t_end:
            for method, path, body in (("GET", "/v1/tasks/" + task_id, None),
                                       ("POST", "/v1/tasks", {"plan_id": plan_id, "title": "x"}),
                                       ("GET", "/readyz", None)):
                t0 = time.time()
                r = http(method, d.url + path, token=tok, body=body, timeout=5)
                took = time.time() - t0
                slowest = max(slowest, took)
                n += 1
                assert r.status == 503, (method, path, r)
                assert r.headers.get("Retry-After"), (method, path, r.headers)
                assert took < limit(1.0), "%s %s took %.2f s while PostgreSQL was down" % (method, path, took)
            time.sleep(0.25)
        assert d.running()
        pg.start()
        back = time.time()
        read_ok = write_ok = ready_ok = None
        while time.time() < back + 5 and not (read_ok and write_ok and ready_ok):
            if not ready_ok and http("GET", d.url + "/readyz").status == 200:
                ready_ok = time.time() - back
            if not read_ok and http("GET", d.url + "/v1/tasks/" + task_id, token=tok).status == 200:
                read_ok = time.time() - back
            if not write_ok and http("POST", d.url + "/v1/tasks", token=tok, body={
                    "plan_id": plan_id, "title": "after", "lead_unit": "社会事务办"}).status == 201:
                write_ok = time.time() - back
            time.sleep(0.02)
        print("%d requests while down, slowest %.3f s; back after: read %s s, write %s s, /readyz %s s"
              % (n, slowest, read_ok, write_ok, ready_ok))
        assert read_ok is not None and read_ok < limit(1.0), "reads back after %s s" % read_ok
        assert write_ok is not None and write_ok < limit(1.0), "writes back after %s s" % write_ok
        assert ready_ok is not None and ready_ok < limit(1.0), "/readyz 200 after %s s" % ready_ok
        assert d.stop() == 0


run(globals())
