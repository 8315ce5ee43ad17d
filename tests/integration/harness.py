"""Integration test harness: Python 3 standard library only.

Every tests/integration/test_*.py imports this. ctest runs each file with
    PLANTRACKD            the daemon binary
    PLANTRACK_SOURCE_DIR  the repository root
and scripts/test.sh adds
    PLANTRACK_TEST_PG     libpq conninfo of a throwaway cluster (database postgres, superuser)
    PLANTRACK_TEST_PG_DIR its scripts/pg.sh directory
    PLANTRACK_SCRIPTS     the scripts directory (pg.sh)
A test file calls skip_without_pg() first: without PLANTRACK_TEST_PG it exits 77
(ctest: skipped).

    db = Database()                       fresh database, dropped at exit
    d = Daemon(db); d.start()             migrate + serve on a free port, stopped at exit
    tok = d.token("editor", unit="城管办")
    r = http("GET", d.url + "/v1/tasks", token=tok); r.status, r.headers["ETag"], r.json()
    run(globals())                        every test_* in order; "N passed, M failed"
"""
import atexit
import http.client as _httpclient
import json as _json
import os
import signal as _signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import uuid

SKIP = 77
_ROOT = os.environ.get("PLANTRACK_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
_SCRIPTS = os.environ.get("PLANTRACK_SCRIPTS") or os.path.join(_ROOT, "scripts")

# Daemons started by this process, so a failing test can show their logs.
_daemons = []


def skip(reason):
    print("skipped: " + reason)
    sys.stdout.flush()
    sys.exit(SKIP)


def skip_without_pg():
    """Exit 77 (skipped) unless scripts/test.sh provided a PostgreSQL cluster."""
    if not os.environ.get("PLANTRACK_TEST_PG"):
        skip("PLANTRACK_TEST_PG is not set (run the tests through scripts/test.sh)")
    if not os.environ.get("PLANTRACKD"):
        skip("PLANTRACKD is not set (ctest sets it to the daemon binary)")


def daemon_binary():
    path = os.environ.get("PLANTRACKD")
    if not path:
        raise RuntimeError("PLANTRACKD is not set")
    return path


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


# ---------------------------------------------------------------- conninfo

def _conninfo_parse(conninfo):
    """key=value conninfo to a dict (values may be single-quoted)."""
    out, i, n = {}, 0, len(conninfo)
    while i < n:
        while i < n and conninfo[i].isspace():
            i += 1
        if i >= n:
            break
        eq = conninfo.index("=", i)
        key = conninfo[i:eq].strip()
        i = eq + 1
        while i < n and conninfo[i].isspace():
            i += 1
        val = []
        if i < n and conninfo[i] == "'":
            i += 1
            while i < n and conninfo[i] != "'":
                if conninfo[i] == "\\" and i + 1 < n:
                    i += 1
                val.append(conninfo[i])
                i += 1
            i += 1
        else:
            while i < n and not conninfo[i].isspace():
                if conninfo[i] == "\\" and i + 1 < n:
                    i += 1
                val.append(conninfo[i])
                i += 1
        out[key] = "".join(val)
    return out


def _conninfo_format(params):
    def q(v):
        v = str(v)
        if v and all(c not in v for c in " '\\"):
            return v
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return " ".join("%s=%s" % (k, q(v)) for k, v in params.items())


def conninfo_with(conninfo, **changes):
    """The conninfo with some keys replaced, e.g. conninfo_with(c, dbname="x")."""
    if conninfo.startswith(("postgres://", "postgresql://")):
        raise ValueError("harness expects key=value conninfo, not a URI")
    params = _conninfo_parse(conninfo)
    params.update({k: v for k, v in changes.items() if v is not None})
    return _conninfo_format(params)


def psql(conninfo, sql, check=True):
    """Run SQL with psql (unaligned, tuples only); return stdout as text.
    search_path = api, public, as on every daemon connection."""
    env = dict(os.environ, PGOPTIONS="-c search_path=api,public")
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                        "-c", sql], capture_output=True, text=True, timeout=60, env=env)
    if check and p.returncode != 0:
        raise RuntimeError("psql failed (%d): %s\nSQL: %s" % (p.returncode, p.stderr.strip(), sql))
    return p.stdout


# ---------------------------------------------------------------- database

class Database:
    """A fresh database with a unique name on PLANTRACK_TEST_PG (or on the given
    server conninfo), dropped when the test process exits."""

    def __init__(self, server_conninfo=None, name=None):
        self.server = server_conninfo or os.environ.get("PLANTRACK_TEST_PG")
        if not self.server:
            skip("PLANTRACK_TEST_PG is not set")
        script = os.path.splitext(os.path.basename(sys.argv[0] or "t"))[0]
        safe = "".join(c if c.isalnum() else "_" for c in script.lower())[:30]
        self.name = name or "pt_%s_%s" % (safe, uuid.uuid4().hex[:10])
        self.conninfo = conninfo_with(self.server, dbname=self.name)
        psql(self.server, 'CREATE DATABASE "%s"' % self.name)
        self._dropped = False
        atexit.register(self.drop)

    def psql(self, sql, check=True):
        """Run SQL in this database; returns psql's stdout (unaligned, no headers)."""
        return psql(self.conninfo, sql, check=check)

    def scalar(self, sql):
        return self.psql(sql).strip()

    def drop(self):
        if self._dropped:
            return
        self._dropped = True
        try:
            psql(self.server, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name, check=False)
        except Exception:
            pass

    def __repr__(self):
        return "Database(%s)" % self.name


def token(conninfo, role, unit=None, name=None):
    """`plantrackd token create`; returns the token (the last stdout line)."""
    args = [daemon_binary(), "token", "create", "--name", name or "test-%s-%s" % (role, uuid.uuid4().hex[:6]),
            "--role", role]
    if unit is not None:
        args += ["--unit", unit]
    args += ["--db", conninfo]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("token create failed (%d): %s" % (p.returncode, p.stderr.strip()))
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if not lines:
        raise RuntimeError("token create printed nothing")
    return lines[-1].strip()


def migrate(conninfo, check=True):
    p = subprocess.run([daemon_binary(), "migrate", "--db", conninfo],
                       capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise RuntimeError("migrate failed (%d): %s" % (p.returncode, p.stderr.strip()))
    return p


# ---------------------------------------------------------------- daemon

class Daemon:
    """plantrackd serve on 127.0.0.1:<free port> with --workers 2.

    Daemon(db)                            migrate db, then serve it
    Daemon(db, migrate=False)             serve as is
    Daemon(None, conninfo="host=...")     serve an arbitrary conninfo
    Daemon(db, extra_args=[...], env={...}, config_text="[log]\\nlevel=debug\\n")
    """

    def __init__(self, db, extra_args=(), env=None, config_text=None, migrate=True,
                 conninfo=None, workers=2, port=None):
        self.db = db
        self.conninfo = conninfo or (db.conninfo if db is not None else None)
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.migrate = migrate
        self.workers = workers
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.dir = tempfile.mkdtemp(prefix="plantrackd-test.")
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.config_path = None
        if config_text is not None:
            self.config_path = os.path.join(self.dir, "plantrackd.conf")
            self.write_config(config_text)
        self.proc = None
        self.exit_code = None
        self._logf = None
        _daemons.append(self)
        atexit.register(self._atexit)

    def write_config(self, text):
        if self.config_path is None:
            self.config_path = os.path.join(self.dir, "plantrackd.conf")
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(text)

    def command(self):
        args = [daemon_binary(), "serve"]
        if self.config_path:
            args += ["--config", self.config_path]
        if self.conninfo:
            args += ["--db", self.conninfo]
        args += ["--listen", "127.0.0.1:%d" % self.port, "--workers", str(self.workers)]
        return args + self.extra_args

    def start(self, wait_ready=True, timeout=15):
        """Start serving; wait for /readyz 200 (or /healthz 200 when wait_ready=False)."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("daemon already running")
        if self.migrate and self.conninfo:
            p = migrate(self.conninfo, check=False)
            if p.returncode != 0:
                raise AssertionError("plantrackd migrate exited %d:\n%s" % (p.returncode, p.stderr))
        env = os.environ.copy()
        # A test must not inherit systemd's or the caller's settings by accident.
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
                  "LISTEN_FDNAMES", "PLANTRACK_CONFIG", "PLANTRACK_DB", "PLANTRACK_LISTEN", "JOURNAL_STREAM"):
            env.pop(k, None)
        env.update(self.env)
        self._logf = open(self.log_path, "ab")
        self.exit_code = None
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=self._logf, env=env)
        path = "/readyz" if wait_ready else "/healthz"
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("plantrackd exited %d during start-up:\n%s"
                                     % (self.proc.returncode, self.log_tail()))
            r = http("GET", self.url + path, timeout=2)
            last = r
            if r.status == 200:
                return self
            time.sleep(0.05)
        raise AssertionError("plantrackd not answering 200 on %s within %d s (last: %s %r)\n%s"
                             % (path, timeout, last.status if last else None,
                                last.body[:200] if last else None, self.log_tail()))

    def signal(self, sig):
        self.proc.send_signal(sig)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=_signal.SIGTERM, timeout=10):
        """Send sig and wait; returns the exit code (negative: killed by a signal).
        After timeout the process is killed and AssertionError raised."""
        if self.proc is None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._close_log()
                raise AssertionError("plantrackd did not exit within %d s of signal %d\n%s"
                                     % (timeout, sig, self.log_tail()))
        self.exit_code = self.proc.returncode
        self._close_log()
        return self.exit_code

    def _close_log(self):
        if self._logf:
            self._logf.close()
            self._logf = None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=40):
        text = self.log().splitlines()
        return "\n".join(text[-lines:])

    def token(self, role, unit=None, name=None):
        if not self.conninfo:
            raise RuntimeError("no database for this daemon")
        return token(self.conninfo, role, unit=unit, name=name)

    def _atexit(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
        except Exception:
            pass
        self._close_log()
        if not os.environ.get("PLANTRACK_KEEP_LOGS"):
            subprocess.run(["rm", "-rf", self.dir])


# ---------------------------------------------------------------- HTTP

class Headers:
    """Case-insensitive response headers; repeated headers joined with ', '."""

    def __init__(self, pairs):
        self._items = list(pairs)
        self._map = {}
        for k, v in self._items:
            lk = k.lower()
            self._map[lk] = self._map[lk] + ", " + v if lk in self._map else v

    def __getitem__(self, key):
        return self._map[key.lower()]

    def get(self, key, default=None):
        return self._map.get(key.lower(), default)

    def __contains__(self, key):
        return key.lower() in self._map

    def get_all(self, key):
        return [v for k, v in self._items if k.lower() == key.lower()]

    def items(self):
        return list(self._items)

    def __repr__(self):
        return "Headers(%r)" % self._items


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def json(self):
        return _json.loads(self.body.decode("utf-8"))

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<Response %s %r>" % (self.status, self.body[:300])


def http(method, url, body=None, headers=None, token=None, raw=False, timeout=30):
    """One HTTP/1.1 request on a new connection; never raises on 4xx/5xx.

    dict/list bodies are sent as JSON (Content-Type: application/json unless given);
    str bodies as UTF-8. token adds Authorization: Bearer. On a connection error
    (nothing listening, reset) the response has status 0 and the error as body,
    unless raw=True, in which case the exception propagates.
    """
    u = urllib.parse.urlsplit(url)
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    hdrs = {}
    if isinstance(body, (dict, list)):
        body = _json.dumps(body, ensure_ascii=False).encode("utf-8")
        hdrs["Content-Type"] = "application/json"
    elif isinstance(body, str):
        body = body.encode("utf-8")
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    for k, v in (headers or {}).items():
        for existing in list(hdrs):
            if existing.lower() == k.lower():
                del hdrs[existing]
        hdrs[k] = v
    cls = http_client_class(u.scheme)
    conn = cls(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.reason, Headers(resp.getheaders()), data)
    except (ConnectionError, socket.timeout, _httpclient.HTTPException, OSError) as e:
        if raw:
            raise
        return Response(0, type(e).__name__, Headers([]), str(e).encode())
    finally:
        conn.close()


def http_client_class(scheme):
    return _httpclient.HTTPSConnection if scheme == "https" else _httpclient.HTTPConnection


# ---------------------------------------------------------------- extra cluster

class PgCluster:
    """A private PostgreSQL cluster run by scripts/pg.sh, for tests that stop and
    restart PostgreSQL. .conninfo, .stop(), .start(), .destroy(); a context manager."""

    def __init__(self, tmpdir=None, fast=True):
        if tmpdir is None:
            tmpdir = tempfile.mkdtemp(prefix="plantrack-pg.")
            self._own_tmp = tmpdir
        else:
            self._own_tmp = None
        os.chmod(tmpdir, 0o755)  # the postgres user must enter it when we are root
        self.dir = os.path.join(tmpdir, "pg")
        self.port = free_port()
        self.fast = fast
        self.conninfo = None
        self._destroyed = False
        atexit.register(self.destroy)
        self.start()

    def _pgsh(self, *args):
        p = subprocess.run(["bash", os.path.join(_SCRIPTS, "pg.sh")] + list(args),
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("pg.sh %s failed (%d): %s" % (args[0], p.returncode, p.stderr.strip()))
        return p.stdout

    def start(self):
        args = ["start", self.dir, str(self.port)] + (["--fast"] if self.fast else [])
        self.conninfo = self._pgsh(*args).strip().splitlines()[-1]
        return self.conninfo

    def stop(self):
        self._pgsh("stop", self.dir)

    def destroy(self):
        if self._destroyed:
            return
        self._destroyed = True
        try:
            self._pgsh("destroy", self.dir)
        except Exception as e:
            print("harness: %s" % e, file=sys.stderr)
        if self._own_tmp:
            subprocess.run(["rm", "-rf", self._own_tmp])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()
        return False


def pg_cluster(tmpdir=None, fast=True):
    """Start an extra private cluster (scripts/pg.sh); destroyed at exit or on leaving a with block."""
    return PgCluster(tmpdir, fast=fast)


# ---------------------------------------------------------------- runner

_REPORT_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "WARNING: ThreadSanitizer", "AddressSanitizer:DEADLYSIGNAL")


def log_excerpt(text, lines=30, report_lines=60):
    """The last lines of a log; when it holds a sanitizer report, the few lines
    before it and the report's first lines up to its SUMMARY (the stack, not the
    shadow-byte map)."""
    all_lines = text.splitlines()
    first = next((i for i, l in enumerate(all_lines) if any(m in l for m in _REPORT_MARKERS)), None)
    if first is None:
        return "\n".join(all_lines[-lines:])
    out = all_lines[max(0, first - 5):first]
    for l in all_lines[first:first + report_lines]:
        out.append(l)
        if l.startswith("SUMMARY:") or l.startswith("Shadow bytes around"):
            break
    summary = [l for l in all_lines[first:] if l.startswith("SUMMARY:")]
    if summary and summary[0] not in out:
        out.append(summary[0])
    return "\n".join(out)


def _print_daemon_logs():
    for d in _daemons:
        text = log_excerpt(d.log(), 40)
        if text:
            print("---- plantrackd log (%s, pid %s), last lines:" % (d.url, d.pid))
            print(text)
            print("----")


def run(namespace):
    """Run every test_* function of namespace (pass globals()) in definition order."""
    tests = [(name, fn) for name, fn in namespace.items()
             if name.startswith("test_") and callable(fn)
             and getattr(fn, "__module__", None) == namespace.get("__name__")]
    only = os.environ.get("PLANTRACK_TEST_ONLY")  # comma-separated names, for debugging
    if only:
        wanted = set(only.split(","))
        tests = [(n, f) for n, f in tests if n in wanted]
    passed = failed = 0
    for name, fn in tests:
        t0 = time.time()
        logged = {id(d): len(d.log()) for d in _daemons}
        try:
            fn()
        except Exception:  # AssertionError included
            failed += 1
            print("FAIL %s (%.2fs)" % (name, time.time() - t0))
            traceback.print_exc(file=sys.stdout)
            for d in _daemons:
                text = d.log()
                start = logged.get(id(d), 0)
                excerpt = log_excerpt(text[start:]) if start < len(text) else ""
                if excerpt:
                    state = ""
                    if d.proc is not None and d.proc.poll() is not None and d.exit_code is None:
                        state = ", exited %d" % d.proc.returncode
                    print("---- plantrackd log (%s%s) during %s:" % (d.url, state, name))
                    print(excerpt)
                    print("----")
        else:
            passed += 1
            print("ok   %s (%.2fs)" % (name, time.time() - t0))
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    sys.exit(1 if failed else 0)


def _excepthook(etype, value, tb):
    # A failure outside any test (e.g. at set-up): show the daemon logs too.
    traceback.print_exception(etype, value, tb)
    _print_daemon_logs()
    sys.stdout.flush()


sys.excepthook = _excepthook
