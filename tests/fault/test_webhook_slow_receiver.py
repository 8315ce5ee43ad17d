"""Defect 7: a slow receiver delayed every other receiver. The deliverer runs
at most 32 deliveries at once; a receiver that holds each request for 10 s
and has a backlog took all 32, and a healthy receiver waited.

Receiver A holds every request until released; 60 events go to it first,
then 5 to receiver B. B must get all 5 within 3 s."""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import threading

from faultlib import *  # noqa: F401,F403
from faultlib import Database, emit_events, free_port, http, limit, run, skip_without_pg, webhook_daemon

skip_without_pg()

release = threading.Event()
got = {"/a": 0, "/b": 0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock:
            got[self.path] = got.get(self.path, 0) + 1
        if self.path == "/a":
            release.wait(30)
        try:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
        except OSError:
            pass


def serve():
    port = free_port()
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return port


def test_slow_receiver_does_not_delay_others():
    pa, pb = serve(), serve()
    db = Database()
    d = webhook_daemon(db, conf="[log]\nlevel = warning\n")
    admin = d.token("admin")
    ra = http("POST", d.url + "/v1/webhooks", token=admin,
              body={"url": "http://127.0.0.1:%d/a" % pa, "secret": "s" * 20, "event_types": ["task.updated"]})
    rb = http("POST", d.url + "/v1/webhooks", token=admin,
              body={"url": "http://127.0.0.1:%d/b" % pb, "secret": "s" * 20, "event_types": ["task.reported"]})
    assert ra.status == 201 and rb.status == 201, (ra, rb)
    try:
        emit_events(db, 60, "task.updated")
        assert wait_until(lambda: got["/a"] >= 4, timeout=10), "receiver A never reached"
        t0 = time.time()
        emit_events(db, 5, "task.reported")
        ok = wait_until(lambda: got["/b"] >= 5, timeout=12, interval=0.05)
        took = time.time() - t0
        print("receiver A holds %d requests; B got %d of 5 after %.2f s" % (got["/a"], got["/b"], took))
        if os.environ.get("PLANTRACK_DEBUG_WH"):
            print("\n".join(l[:200] for l in d.log().splitlines() if "webhook" in l and "request" not in l)[-3000:])
        assert ok and took < limit(3.0), "B waited %.2f s behind a slow receiver (got %d of 5)" % (took, got["/b"])
    finally:
        release.set()
    assert d.stop() == 0


run(globals())
