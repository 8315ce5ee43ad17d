"""The web application's files over real HTTP: served from the web directory
with a content type by extension and the security headers (CSP, nosniff,
no-referrer); nothing outside web/ (no "..", no hidden files, no other
extensions); /v1 404s and 405s unchanged; /docs and /docs/openapi.json without
a token; GET /v1/me."""
import os

from harness import Daemon, Database, http, run, skip_without_pg

skip_without_pg()
db = Database()
daemon = Daemon(db)
daemon.start()
viewer = daemon.token("viewer")
editor = daemon.token("editor", unit="城管办")
ROOT = os.environ.get("PLANTRACK_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def security_headers(r, what):
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'"), what
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"], what
    assert r.headers["X-Content-Type-Options"] == "nosniff", what
    assert r.headers["Referrer-Policy"] == "no-referrer", what


def test_files_with_types_and_headers():
    for path, ctype in (("/", "text/html"), ("/app.js", "text/javascript"), ("/app.css", "text/css"),
                        ("/js/api.js", "text/javascript"), ("/favicon.ico", "image/x-icon"),
                        ("/favicon.svg", "image/svg+xml"), ("/docs/index.html", "text/html"),
                        ("/docs/swagger-ui.css", "text/css")):
        r = http("GET", daemon.url + path)
        assert r.status == 200, (path, r.status)
        assert r.headers["Content-Type"].startswith(ctype), (path, r.headers["Content-Type"])
        security_headers(r, path)
    with open(os.path.join(ROOT, "web", "app.js"), "rb") as f:
        assert http("GET", daemon.url + "/app.js").body == f.read()
    r = http("HEAD", daemon.url + "/app.css")
    assert r.status == 200 and r.body == b""


def test_no_token_in_the_page():
    r = http("GET", daemon.url + "/")
    assert b"plantrack-token" not in r.body and b"Bearer" not in r.body
    assert b"<script>" not in r.body and b" style=" not in r.body and b"<style" not in r.body


def test_nothing_outside_web():
    for path in ("/../CMakeLists.txt", "/..%2fCMakeLists.txt", "/%2e%2e/CMakeLists.txt", "/js/..%2f..%2fREADME.md",
                 "/.git", "/js/.hidden.js", "/docs/LICENSE", "/js/api.js/x",
                 "/a/b/c.js", "/js/", "/nope.js", "/daemon/main.c", "/..", "/%2e%2e%2fetc%2fpasswd"):
        r = http("GET", daemon.url + path)
        assert r.status == 404, (path, r.status, r.body[:100])
        assert r.headers["Content-Type"].startswith("application/problem+json"), path


def test_api_routing_unchanged():
    r = http("GET", daemon.url + "/v1/nothing-here", token=viewer)
    assert r.status == 404 and r.json()["detail"] == "no route for this path"
    r = http("GET", daemon.url + "/v1/app.js", token=viewer)
    assert r.status == 404
    r = http("POST", daemon.url + "/app.js")
    assert r.status == 404, r.status
    r = http("PUT", daemon.url + "/v1/tasks", token=viewer)
    assert r.status == 405


def test_docs_without_token():
    r = http("GET", daemon.url + "/docs")
    assert r.status == 200 and b"swagger-ui" in r.body
    security_headers(r, "/docs")
    r = http("GET", daemon.url + "/docs/openapi.json")
    assert r.status == 200 and r.json()["openapi"].startswith("3.1")
    with open(os.path.join(ROOT, "docs", "openapi.json"), "rb") as f:
        assert r.body == f.read()


def test_me():
    r = http("GET", daemon.url + "/v1/me", token=editor)
    assert r.status == 200, r.body
    me = r.json()
    assert me["role"] == "editor" and len(me["unit_id"]) == 36 and me["name"]
    assert http("GET", daemon.url + "/v1/me").status == 401
    assert http("GET", daemon.url + "/v1/me", token="pt_nope").status == 401


run(globals())
