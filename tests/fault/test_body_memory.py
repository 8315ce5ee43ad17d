"""Defect 2: unauthenticated memory exhaustion. The daemon buffered every
request body (up to 16 MiB, on every path) before it routed or authenticated
the request, so 80 clients without a token could pin more than a gigabyte.

80 connections without a token each announce a 15 MiB plan import and send
half of it, then hold; the same against a JSON route. Meanwhile the daemon's
RSS must stay below 64 MB and another client must still be served; after the
clients go, RSS must be back within 10 % of the baseline. An authenticated
import of a few MiB must still succeed."""
import socket
import threading

from faultlib import *  # noqa: F401,F403
from faultlib import SANITIZER, Daemon, Database, http, raise_nofile, rss_kb, run, skip_without_pg, status_of

skip_without_pg()
raise_nofile(4096)
CLIENTS = 80
ANNOUNCED = 15 * 1024 * 1024
SENT = ANNOUNCED // 2
LIMIT_KB = 64 * 1024

db = Database()
d = Daemon(db)
d.start()
admin = d.token("admin")


def warm_up():
    for _ in range(50):
        assert http("GET", d.url + "/v1/tasks", token=admin).status == 200


def half_uploads(path, content_type, token=None):
    """CLIENTS sockets that each send headers announcing ANNOUNCED bytes and
    then SENT bytes (as far as the daemon takes them). Returns the sockets and
    the threads still sending."""
    socks, threads = [], []
    chunk = b"x" * 65536

    def feed(s):
        sent = 0
        try:
            while sent < SENT:
                sent += s.send(chunk)
        except OSError:
            pass

    for _ in range(CLIENTS):
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n" % (path, content_type, ANNOUNCED))
        if token:
            head += "Authorization: Bearer %s\r\n" % token
        s.sendall((head + "\r\n").encode())
        t = threading.Thread(target=feed, args=(s,), daemon=True)
        t.start()
        socks.append(s)
        threads.append(t)
    for t in threads:
        t.join(20)
    return socks


def check_flood(path, content_type, token=None):
    warm_up()
    base = rss_kb(d.pid)
    socks = half_uploads(path, content_type, token)
    time.sleep(0.5)
    peak = rss_kb(d.pid)
    other = http("GET", d.url + "/v1/tasks", token=admin, timeout=5)
    for s in socks:
        s.close()
    wait_until(lambda: rss_kb(d.pid) <= base * 1.1, timeout=10, interval=0.2)
    after = rss_kb(d.pid)
    print("%s: RSS baseline %d KiB, with %d half-sent 15 MiB uploads %d KiB, after %d KiB"
          % (path, base, CLIENTS, peak, after))
    assert other.status == 200, "another client was not served during the flood: %r" % other
    if SANITIZER:
        return  # RSS means nothing under a sanitizer
    assert peak < LIMIT_KB, "RSS %d KiB with %d half-sent uploads (limit %d KiB)" % (peak, CLIENTS, LIMIT_KB)
    assert after <= base * 1.1 + 1024, "RSS %d KiB after the flood, baseline %d KiB" % (after, base)


def test_unauthenticated_import_flood():
    check_flood("/v1/plans/import", "text/plain; charset=utf-8")


def test_bogus_token_import_flood():
    check_flood("/v1/plans/import", "text/plain; charset=utf-8", token="pt_" + "A" * 43)


def test_json_route_flood():
    check_flood("/v1/tasks", "application/json", token=admin)


def test_announced_too_large_is_413_before_the_body():
    raw = raw_exchange(d.port, b"POST /v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Authorization: Bearer " + admin.encode() + b"\r\nContent-Length: 15000000\r\n\r\n", timeout=3)
    assert status_of(raw) == 413, raw[:200]


def test_authenticated_large_import_still_works():
    text = open(os.path.join(harness._ROOT, "docs", "examples", "example-plan.txt"), encoding="utf-8").read()
    body = text + "\n" + ("\n" * (3 * 1024 * 1024))  # padded beyond max_body
    r = http("POST", d.url + "/v1/plans/import?dry_run=true", token=d.token("supervisor"),
             body=body, headers={"Content-Type": "text/plain; charset=utf-8"}, timeout=30)
    assert r.status == 200, r


def test_daemon_wide_budget_is_503_beyond_it():
    other = Daemon(db, config_text="[server]\nmax_buffered = 4194304\n")
    other.start()
    tok = other.token("supervisor")
    assert http("GET", other.url + "/v1/plans", token=tok).status == 200  # token cached
    socks, answers = [], []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", other.port), timeout=5)
        s.sendall(("POST /v1/plans/import HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                   "Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n" % (tok, 3 * 1024 * 1024)).encode())
        s.sendall(b"x" * 65536)
        socks.append(s)
    time.sleep(0.5)
    for s in socks:
        s.settimeout(0.5)
        try:
            answers.append(s.recv(4096))
        except OSError:
            answers.append(b"")
        s.close()
    refused = [a for a in answers if status_of(a) == 503]
    print("3 x 3 MiB announced with max_buffered 4 MiB: %s" % [status_of(a) for a in answers])
    assert len(refused) == 2 and all(b"\r\nRetry-After:" in a for a in refused), answers
    assert wait_until(lambda: "plantrack_request_body_bytes 0" in http("GET", other.url + "/metrics").text, 5)
    assert other.stop() == 0


run(globals())
