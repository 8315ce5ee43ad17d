"""Webhooks over real HTTP (issue: integration with office systems): the
admin-only /v1/webhooks routes and their validation, and the deliverer
against a local receiver: signatures, retries with backoff after 500s, each
event once after success, event type filters, giving up after 24 hours, and
deliveries pending or in flight across a daemon restart."""
import hashlib
import hmac
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import os
import ssl
import subprocess
import tempfile
import threading
import time
import uuid

from harness import Daemon, Database, free_port, http, run, skip_without_pg

skip_without_pg()
db = Database()
daemon = Daemon(db, config_text="[webhooks]\n# the receivers of these tests listen on 127.0.0.1\nallow = 127.0.0.0/8\n")
daemon.start()
admin = daemon.token("admin")
supervisor = daemon.token("supervisor")
editor = daemon.token("editor", unit="社会事务办")
viewer = daemon.token("viewer")

SECRET = "s3cret-for-tests-0123456789"


# ---------------------------------------------------------------- receiver

class Receiver:
    """HTTP server on 127.0.0.1 recording every POST; per path a queue of
    answers (status code, or "hang" to hold the request until released)."""

    def __init__(self, tls=None):
        self.scheme = "https" if tls else "http"
        self.lock = threading.Lock()
        self.calls = []          # (path, headers dict lowercased, body bytes, time)
        self.plans = {}          # path -> [status | "hang", ...]
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with receiver.lock:
                    plan = receiver.plans.get(self.path) or []
                    answer = plan.pop(0) if plan else 200
                    receiver.calls.append((self.path, {k.lower(): v for k, v in self.headers.items()},
                                           body, time.time(), answer))
                if answer == "hang":
                    receiver.release.wait(60)
                    answer = 200
                try:
                    self.send_response(answer)
                    self.send_header("Content-Length", "2")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def plan(self, path, answers):
        with self.lock:
            self.plans[path] = list(answers)

    def got(self, path):
        with self.lock:
            return [c for c in self.calls if c[0] == path]

    def wait(self, path, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            calls = self.got(path)
            if len(calls) >= n:
                return calls
            time.sleep(0.05)
        raise AssertionError("%s: %d calls after %d s, wanted %d" % (path, len(self.got(path)), timeout, n))


rx = Receiver()


def api(method, path, body=None, token=None, headers=None):
    return http(method, daemon.url + path, body=body, token=token or admin, headers=headers)


def check_signature(headers, body, secret=SECRET):
    sig = headers["x-plantrack-signature"]
    parts = dict(p.split("=", 1) for p in sig.split(","))
    t = int(parts["t"])
    assert abs(time.time() - t) < 120, sig
    want = hmac.new(secret.encode(), ("%d." % t).encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["sha256"], want), (sig, want)


def emit(type_="task.updated", data=None):
    """Writes one event row the way the pt_* functions do (unnumbered), publishes
    it the way the daemon does (pt_events_publish), and returns its feed seq."""
    payload = json.dumps(data or {"n": uuid.uuid4().hex}).replace("'", "''")
    event_id = int(db.scalar("INSERT INTO events(type, payload) VALUES ('%s', '%s'::jsonb) RETURNING id"
                             % (type_, payload)).splitlines()[0])
    for _ in range(100):
        seq = db.scalar("SELECT pt_events_publish(); SELECT seq FROM events WHERE id = %d" % event_id)
        seq = seq.splitlines()[-1].strip() if seq else ""
        if seq:
            return int(seq)
        time.sleep(0.05)
    raise AssertionError("event %d was never published" % event_id)


def create_hook(path, **fields):
    body = {"url": rx.url(path), "secret": SECRET}
    body.update(fields)
    r = api("POST", "/v1/webhooks", body)
    assert r.status == 201, r
    return r.json()


def deliveries(hook_id, **query):
    qs = "&".join("%s=%s" % kv for kv in query.items())
    r = api("GET", "/v1/webhooks/%s/deliveries%s" % (hook_id, "?" + qs if qs else ""))
    assert r.status == 200, r
    return r.json()["items"]


def wait_status(hook_id, seq, status, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        items = [d for d in deliveries(hook_id) if d["event_seq"] == seq]
        if items and items[0]["status"] == status:
            return items[0]
        time.sleep(0.1)
    raise AssertionError("delivery of %d not %s: %r" % (seq, status, deliveries(hook_id)))


state = {}


# ---------------------------------------------------------------- routes

def test_admin_only():
    for tok in (editor, viewer, supervisor):
        assert api("GET", "/v1/webhooks", token=tok).status == 403
        r = api("POST", "/v1/webhooks", {"url": rx.url("/x")}, token=tok)
        assert r.status == 403, r
        assert r.headers["Content-Type"].startswith("application/problem+json")
    assert http("GET", daemon.url + "/v1/webhooks").status == 401


def test_validation():
    def post(body, raw=None):
        if raw is not None:
            return http("POST", daemon.url + "/v1/webhooks", body=raw, token=admin,
                        headers={"Content-Type": "application/json"})
        return api("POST", "/v1/webhooks", body)

    assert post(None, raw="{not json").status == 400
    r = post({"url": rx.url("/x"), "colour": "red"})
    assert r.status == 400 and r.json()["errors"][0]["field"] == "colour", r
    for body, field in [
        ({}, "url"),
        ({"url": 42}, "url"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "/relative"}, "url"),
        ({"url": "http://"}, "url"),
        ({"url": rx.url("/x"), "secret": "short"}, "secret"),
        ({"url": rx.url("/x"), "event_types": ["task.exploded"]}, "event_types[0]"),
        ({"url": rx.url("/x"), "event_types": "task.created"}, "event_types"),
        ({"url": rx.url("/x"), "active": "yes"}, "active"),
    ]:
        r = post(body)
        assert r.status == 422, (body, r)
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    assert api("GET", "/v1/webhooks/not-a-uuid").status == 404
    assert api("GET", "/v1/webhooks/%s" % uuid.uuid4()).status == 404
    assert api("PATCH", "/v1/webhooks/%s" % uuid.uuid4(), {"active": False}).status == 404
    assert api("DELETE", "/v1/webhooks/%s" % uuid.uuid4()).status == 404
    assert api("GET", "/v1/webhooks?limit=0").status == 422
    assert api("GET", "/v1/webhooks?cursor=zzz").status == 422
    r = api("PUT", "/v1/webhooks")
    assert r.status == 405 and "GET" in r.headers["Allow"], r


def test_create_get_list_patch():
    r = api("POST", "/v1/webhooks", {"url": rx.url("/crud"), "event_types": ["task.created"], "active": False})
    assert r.status == 201, r
    hook = r.json()
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) >= 32, hook
    assert hook["url"] == rx.url("/crud") and hook["event_types"] == ["task.created"] and hook["active"] is False
    r = api("GET", "/v1/webhooks/%s" % hook["id"])
    assert r.status == 200 and "secret" not in r.json(), r
    etag = r.headers["ETag"]
    r = api("GET", "/v1/webhooks")
    assert hook["id"] in [h["id"] for h in r.json()["items"]]
    assert all("secret" not in h for h in r.json()["items"])
    r = api("PATCH", "/v1/webhooks/%s" % hook["id"], {"url": "gopher://x"})
    assert r.status == 422, r
    r = api("PATCH", "/v1/webhooks/%s" % hook["id"], {}, headers={"If-Match": etag})
    assert r.status == 422, r
    r = api("PATCH", "/v1/webhooks/%s" % hook["id"], {"event_types": None}, headers={"If-Match": etag})
    assert r.status == 200 and r.json()["event_types"] == [], r
    r = api("PATCH", "/v1/webhooks/%s" % hook["id"], {"active": True}, headers={"If-Match": etag})
    assert r.status == 412, r
    # Pagination: two more, then page by one.
    for _ in range(2):
        api("POST", "/v1/webhooks", {"url": rx.url("/page"), "active": False})
    seen, cursor = [], None
    while True:
        r = api("GET", "/v1/webhooks?limit=1" + ("&cursor=" + cursor if cursor else ""))
        assert r.status == 200, r
        seen += [h["id"] for h in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 3 and hook["id"] in seen
    # Idempotency-Key: the replay answers the same webhook (and secret), creating nothing.
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = api("POST", "/v1/webhooks", {"url": rx.url("/idem"), "active": False}, headers=key)
    again = api("POST", "/v1/webhooks", {"url": rx.url("/idem"), "active": False}, headers=key)
    assert first.status == again.status == 201, (first, again)
    assert first.json()["id"] == again.json()["id"] and first.json()["secret"] == again.json()["secret"]
    other = api("POST", "/v1/webhooks", {"url": rx.url("/idem2"), "active": False}, headers=key)
    assert other.status == 422, other
    r = api("DELETE", "/v1/webhooks/%s" % hook["id"])
    assert r.status == 204, r
    assert api("GET", "/v1/webhooks/%s" % hook["id"]).status == 404
    assert api("DELETE", "/v1/webhooks/%s" % hook["id"]).status == 404


# ---------------------------------------------------------------- delivery

def test_signed_delivery_retried_after_500s():
    hook = create_hook("/retry")
    state["retry"] = hook
    rx.plan("/retry", [500, 500, 503])
    seq = emit("task.reported", {"note": "本月完成5项"})
    calls = rx.wait("/retry", 4, timeout=30)
    ids = {c[1]["x-plantrack-delivery"] for c in calls}
    assert len(ids) == 1, ids
    for path, headers, body, at, answer in calls:
        check_signature(headers, body)
        assert headers["content-type"] == "application/json"
        assert headers["x-plantrack-event"] == "task.reported"
        event = json.loads(body)
        assert event["seq"] == seq and event["type"] == "task.reported", event
        assert event["data"] == {"note": "本月完成5项"}, event
    gaps = [calls[i + 1][3] - calls[i][3] for i in range(3)]
    # Backoff: about 1 s, 2 s, 4 s (±25 % jitter, plus up to a 1 s poll).
    assert 0.6 < gaps[0] < 2.5 and 1.4 < gaps[1] < 3.8 and 2.9 < gaps[2] < 6.5, gaps
    d = wait_status(hook["id"], seq, "delivered")
    assert d["attempts"] == 4 and d["last_status"] == 200 and d["delivered_at"], d
    time.sleep(2.5)
    assert len(rx.got("/retry")) == 4, "delivered twice after success"
    failed_before = deliveries(hook["id"], status="failed")
    assert failed_before == []


def test_each_event_once_and_filters():
    all_hook = create_hook("/all")
    only = create_hook("/only", event_types=["task.created"])
    seqs = [emit("task.updated") for _ in range(5)] + [emit("task.created")]
    calls = rx.wait("/all", 6)
    only_calls = rx.wait("/only", 1)
    time.sleep(2.5)
    calls, only_calls = rx.got("/all"), rx.got("/only")
    got = sorted(json.loads(c[2])["seq"] for c in calls)
    assert got == sorted(seqs), (got, seqs)
    assert len({c[1]["x-plantrack-delivery"] for c in calls}) == 6
    assert [json.loads(c[2])["type"] for c in only_calls] == ["task.created"], only_calls
    for c in calls + only_calls:
        check_signature(c[1], c[2])
    items = deliveries(all_hook["id"])
    assert {d["status"] for d in items} == {"delivered"} and len(items) == 6
    r = api("GET", "/v1/webhooks/%s/deliveries?limit=2" % all_hook["id"])
    page = r.json()
    assert len(page["items"]) == 2 and page["next_cursor"], page
    r = api("GET", "/v1/webhooks/%s/deliveries?limit=5&cursor=%s" % (all_hook["id"], page["next_cursor"]))
    assert len(r.json()["items"]) == 4 and r.json()["next_cursor"] is None, r
    assert api("GET", "/v1/webhooks/%s/deliveries?status=lost" % all_hook["id"]).status == 422
    # Inactive and deleted hooks get nothing new.
    api("PATCH", "/v1/webhooks/%s" % only["id"], {"active": False})
    api("DELETE", "/v1/webhooks/%s" % all_hook["id"])
    emit("task.created")
    time.sleep(2.5)
    assert len(rx.got("/all")) == 6 and len(rx.got("/only")) == 1


def test_api_write_is_delivered():
    hook = create_hook("/api", event_types=["plan.created"])
    r = api("POST", "/v1/plans", {"title": "网格化治理专项", "year": 2025, "tasks": [{"title": "增设网格驿站"}]},
            token=supervisor)
    assert r.status == 201, r
    plan_id = r.json()["id"]
    calls = rx.wait("/api", 1)
    event = json.loads(calls[0][2])
    assert event["type"] == "plan.created" and event["plan_id"] == plan_id, event
    check_signature(calls[0][1], calls[0][2])
    api("DELETE", "/v1/webhooks/%s" % hook["id"])


def test_gives_up_after_24_hours():
    hook = create_hook("/giveup")
    rx.plan("/giveup", [500] * 100)
    seq = emit("task.deleted")
    rx.wait("/giveup", 1)
    db.psql("UPDATE webhook_deliveries SET created_at = now() - interval '25 hours', next_attempt_at = now() "
            "WHERE event_seq = %d AND webhook_id = '%s'" % (seq, hook["id"]))
    d = wait_status(hook["id"], seq, "failed", timeout=15)
    assert d["last_status"] == 500 and d["last_error"], d
    n = len(rx.got("/giveup"))
    time.sleep(2.5)
    assert len(rx.got("/giveup")) == n
    api("DELETE", "/v1/webhooks/%s" % hook["id"])


def test_pending_and_in_flight_survive_restart():
    # Pending: failed once, waiting for its retry, when the daemon stops.
    hook = create_hook("/restart")
    rx.plan("/restart", [500])
    seq1 = emit("task.updated")
    rx.wait("/restart", 1)
    assert daemon.stop() == 0
    seq2 = emit("task.updated")   # written while no daemon runs
    daemon.start()
    rx.wait("/restart", 3, timeout=20)
    wait_status(hook["id"], seq1, "delivered")
    wait_status(hook["id"], seq2, "delivered")
    api("DELETE", "/v1/webhooks/%s" % hook["id"])

    # In flight: the receiver holds the request while the daemon stops; the
    # lease runs out and the next daemon delivers it.
    hook = create_hook("/inflight")
    rx.release.clear()
    rx.plan("/inflight", ["hang"])
    seq = emit("task.updated")
    rx.wait("/inflight", 1)
    t0 = time.time()
    assert daemon.stop() == 0
    assert time.time() - t0 < 8, "drain waited for an outgoing delivery"
    rx.release.set()
    daemon.start()
    calls = rx.wait("/inflight", 2, timeout=40)
    assert calls[0][1]["x-plantrack-delivery"] == calls[1][1]["x-plantrack-delivery"]
    d = wait_status(hook["id"], seq, "delivered")
    assert d["attempts"] == 2, d
    time.sleep(1.5)
    assert len(rx.got("/inflight")) == 2



def test_https_verified_against_the_store():
    """Last: it stops the main daemon. A self-signed certificate for 127.0.0.1
    is refused by default and accepted once it is in the trust store."""
    tmp = tempfile.mkdtemp(prefix="plantrack-tls.")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print("no openssl command; https part skipped: " + p.stderr.strip())
        return
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    tls = Receiver(tls=ctx)
    r = api("POST", "/v1/webhooks", {"url": tls.url("/untrusted"), "secret": SECRET})
    assert r.status == 201, r
    untrusted = r.json()
    seq = emit("task.updated")
    deadline = time.time() + 15
    while time.time() < deadline:
        items = [d for d in deliveries(untrusted["id"]) if d["event_seq"] == seq]
        if items and items[0]["attempts"] >= 1 and items[0]["last_error"]:
            break
        time.sleep(0.1)
    assert items[0]["status"] == "pending" and "certificate" in items[0]["last_error"], items
    assert tls.got("/untrusted") == []
    api("DELETE", "/v1/webhooks/%s" % untrusted["id"])

    assert daemon.stop() == 0
    trusting = Daemon(db, env={"SSL_CERT_FILE": cert}, config_text="[webhooks]\nallow = 127.0.0.0/8\n")
    trusting.start()
    r = http("POST", trusting.url + "/v1/webhooks", body={"url": tls.url("/tls"), "secret": SECRET}, token=admin)
    assert r.status == 201, r
    seq = emit("task.created")
    calls = tls.wait("/tls", 1, timeout=15)
    check_signature(calls[0][1], calls[0][2])
    assert json.loads(calls[0][2])["seq"] == seq
    assert trusting.stop() == 0
    subprocess.run(["rm", "-rf", tmp])


run(globals())
