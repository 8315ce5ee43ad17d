"""Defect 11, the smaller ones: a draining 503 without Retry-After;
duplicate or conflicting Content-Length accepted; Transfer-Encoding together
with Content-Length accepted; %00 in the decoded path or query accepted; the
plan import ?title= not length-checked; editors creating arbitrary units by
naming them in co_units (units come from a units API or a supervisor's
import: an editor naming an unknown unit gets 422)."""
import signal
import socket
import threading
import urllib.parse

from faultlib import *  # noqa: F401,F403
from faultlib import Daemon, Database, http, plan_with_task, raw_exchange, run, skip_without_pg, status_of

skip_without_pg()
db = Database()
d = Daemon(db)
d.start()
admin = d.token("admin")
supervisor = d.token("supervisor")
AUTH = b"Authorization: Bearer " + admin.encode() + b"\r\n"


def send(raw):
    return raw_exchange(d.port, raw, timeout=3)


def test_conflicting_content_length_is_400():
    raw = send(b"POST /v1/tasks HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Type: application/json\r\n"
               b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}")
    assert status_of(raw) == 400, raw[:300]


def test_duplicate_content_length_is_400():
    raw = send(b"POST /v1/tasks HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Type: application/json\r\n"
               b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}")
    assert status_of(raw) == 400, raw[:300]


def test_transfer_encoding_with_content_length_is_400():
    raw = send(b"POST /v1/tasks HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Type: application/json\r\n"
               b"Content-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    assert status_of(raw) == 400, raw[:300]


def test_nul_in_path_or_query_is_400():
    for target in ("/v1/tasks%00", "/v1/tasks/%00abc", "/v1/tasks?status=%00", "/v1/tasks?q%00=1"):
        r = http("GET", d.url + target, token=admin)
        assert r.status == 400, (target, r)


def test_plan_import_title_is_length_checked():
    text = open(os.path.join(harness._ROOT, "docs", "examples", "example-plan.txt"), encoding="utf-8").read()
    r = http("POST", d.url + "/v1/plans/import?dry_run=true&title=" + urllib.parse.quote("长" * 600),
             token=supervisor, body=text, headers={"Content-Type": "text/plain; charset=utf-8"})
    assert r.status == 422, r


def test_editor_cannot_invent_units():
    _, task_id = plan_with_task(d, supervisor)
    editor = d.token("editor", unit="社会事务办")
    r = http("GET", d.url + "/v1/tasks/" + task_id, token=editor)
    assert r.status == 200, r
    name = "编造单位" + str(int(time.time() * 1000))
    r = http("PATCH", d.url + "/v1/tasks/" + task_id, token=editor, body={"co_units": [name]},
             headers={"If-Match": r.headers["ETag"]})
    assert r.status == 422, r
    assert db.scalar("SELECT count(*) FROM units WHERE name = '%s'" % name) == "0"


def test_draining_503_has_retry_after():
    # A request held in flight by a frozen PostgreSQL keeps the daemon draining
    # while a keep-alive connection asks for more.
    import signal as sig
    from faultlib import pg_cluster, pg_postgres_pids
    with pg_cluster() as pg:
        other = Database(pg.conninfo)
        d2 = Daemon(other, workers=1)  # the held request and the keep-alive connection share a worker
        d2.start()
        tok = d2.token("viewer")
        assert http("GET", d2.url + "/v1/tasks", token=tok).status == 200
        s = socket.create_connection(("127.0.0.1", d2.port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(4096)
        pids = pg_postgres_pids(pg)
        for p in pids:
            os.kill(p, sig.SIGSTOP)
        try:
            held = threading.Thread(target=http, args=("GET", d2.url + "/v1/tasks"), kwargs={"token": tok})
            held.start()
            time.sleep(0.3)
            d2.signal(sig.SIGTERM)
            time.sleep(0.3)
            s.sendall(b"GET /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.encode() + b"\r\n\r\n")
            raw = s.recv(4096)
            s.close()
        finally:
            for p in pids:
                os.kill(p, sig.SIGCONT)
        held.join(15)
        d2.stop(timeout=15)
    assert status_of(raw) == 503, raw[:300]
    assert b"\r\nretry-after:" in raw.lower(), raw[:400]


run(globals())
