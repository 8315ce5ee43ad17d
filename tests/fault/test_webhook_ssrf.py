"""Defect 6: webhook SSRF. Webhooks were accepted for and delivered to
169.254.169.254 (cloud metadata), [::ffff:169.254.169.254], 127.1,
2130706433, [::1], 0.0.0.0 and localhost.

Without [webhooks] allow, creating a webhook whose host is a literal address
in a refused class (loopback, link-local, unspecified, private RFC 1918 / ULA,
IPv4-mapped forms of those, odd IPv4 spellings) or localhost answers 422; a
public address or a name is accepted. At delivery time the resolved address is
checked: a webhook stored with such a destination (written straight into the
table, as an older daemon could have) never reaches the receiver, and its
attempt fails with "destination not allowed". With allow = 127.0.0.0/8, a
receiver on 127.0.0.1 is reached, and the metadata address is still refused."""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import threading

from faultlib import *  # noqa: F401,F403
from faultlib import Daemon, Database, emit_events, free_port, http, run, skip_without_pg, webhook_daemon

skip_without_pg()

REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://[::1]:8080/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://localhost:8080/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://10.1.2.3/",
    "http://172.16.0.9/",
    "http://192.168.1.1/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://100.64.0.1/",
    "https://127.0.0.1/",
]
ACCEPTED = ["http://93.184.216.34/hook", "https://example.com/hook", "http://[2001:db8::1]/hook"]

hits = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


rx_port = free_port()
rx = ThreadingHTTPServer(("127.0.0.1", rx_port), Handler)
rx.daemon_threads = True
threading.Thread(target=rx.serve_forever, daemon=True).start()

db = Database()
d = Daemon(db)
d.start()
admin = d.token("admin")


def create(url):
    return http("POST", d.url + "/v1/webhooks", token=admin, body={"url": url, "secret": "s" * 20})


def test_literal_and_local_destinations_are_422():
    accepted = [u for u in REFUSED if create(u).status != 422]
    assert not accepted, "accepted at creation: %s" % accepted


def test_public_destinations_are_accepted():
    for u in ACCEPTED:
        r = create(u)
        assert r.status == 201, (u, r)
        http("DELETE", d.url + "/v1/webhooks/" + r.json()["id"], token=admin)


def test_resolved_destination_is_checked_at_delivery():
    paths = ["/via-localhost", "/via-literal", "/via-mapped"]
    urls = ["http://localhost:%d/via-localhost" % rx_port, "http://127.0.0.1:%d/via-literal" % rx_port,
            "http://[::ffff:127.0.0.1]:%d/via-mapped" % rx_port]
    # a name that is looked up (here through /etc/hosts) and lands on loopback
    import socket
    name = socket.gethostname()
    try:
        looked_up = socket.gethostbyname(name).startswith("127.") and "." not in name
    except OSError:
        looked_up = False
    if looked_up:
        paths.append("/via-name")
        urls.append("http://%s:%d/via-name" % (name, rx_port))
    for u in urls:  # as an older daemon (or a hand edit) could have stored them
        db.psql("INSERT INTO webhooks(url, secret) VALUES ('%s', '%s')" % (u, "s" * 20))
    emit_events(db, 3)
    done = wait_until(lambda: int(db.scalar(
        "SELECT count(*) FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
        "WHERE w.url LIKE '%%:%d/%%' AND d.attempts > 0 AND d.last_error IS NOT NULL" % rx_port)) >= 3 * len(urls),
        timeout=20, interval=0.2)
    time.sleep(0.5)
    errors = db.scalar("SELECT string_agg(DISTINCT coalesce(last_error, '-'), ' | ') FROM webhook_deliveries d "
                       "JOIN webhooks w ON w.id = d.webhook_id WHERE w.url LIKE '%%:%d/%%'" % rx_port)
    print("delivery errors: %s; receiver hits: %s" % (errors, hits))
    assert not [p for p in hits if p in paths], "the receiver on 127.0.0.1 was reached: %s" % hits
    assert done and "not allowed" in errors, errors
    if looked_up:
        assert "%s resolves to 127." % name in errors, errors
    db.psql("UPDATE webhooks SET deleted_at = now() WHERE url LIKE '%%:%d/%%'" % rx_port)


def test_allow_list_opens_only_what_it_names():
    other = Database()
    d2 = webhook_daemon(other)
    tok = d2.token("admin")
    r = http("POST", d2.url + "/v1/webhooks", token=tok,
             body={"url": "http://127.0.0.1:%d/allowed" % rx_port, "secret": "s" * 20})
    assert r.status == 201, r
    for u in ("http://169.254.169.254/", "http://[::1]/", "http://10.0.0.1/"):
        r = http("POST", d2.url + "/v1/webhooks", token=tok, body={"url": u, "secret": "s" * 20})
        assert r.status == 422, (u, r)
    emit_events(other, 1)
    assert wait_until(lambda: "/allowed" in hits, timeout=15), "the allowed receiver was not reached"
    assert d2.stop() == 0


run(globals())
