"""`plantrackd status`: reads /readyz and /metrics of a running daemon and
prints one screen; exit 0 when ready, 1 when answering but not ready, 2 when
nothing answers."""
import os
import re
import subprocess
import threading
import time

from harness import Daemon, Database, conninfo_with, daemon_binary, free_port, http, run, skip_without_pg

skip_without_pg()
BIN = daemon_binary()


def status(*args, env=None):
    e = os.environ.copy()
    for k in ("PLANTRACK_DB", "PLANTRACK_CONFIG", "PLANTRACK_LISTEN"):
        e.pop(k, None)
    e.update(env or {})
    return subprocess.run([BIN, "status"] + list(args), capture_output=True, text=True, timeout=60, env=e)


def rows(out):
    """'  label   value' lines as a dict."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^  (\S.*?)\s{2,}(.*)$", out, re.M)}


_db = Database()
_daemon = Daemon(_db).start()


def test_ready_daemon_on_one_screen():
    p = status("--listen", "127.0.0.1:%d" % _daemon.port)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert p.stdout.splitlines()[0] == "plantrackd at 127.0.0.1:%d: ready" % _daemon.port, p.stdout
    r = rows(p.stdout)
    ready = http("GET", _daemon.url + "/readyz").json()
    assert r["schema version"] == str(ready["schema_version"]), r
    assert re.fullmatch(r"[0-9a-f]{64}", ready["api_checksum"]) and r["api checksum"] == ready["api_checksum"], r
    version = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.split()[-1]
    assert ready["version"] == version and r["version"] == version, (version, ready, r)
    assert r["database"] == "reachable", r
    # two workers with a pool of 4 each
    assert re.match(r"\d+ busy of 8 connections \(8 ready\), \d+ queries waiting$", r["pool"]), r
    assert re.match(r"\d+\.\d \(over 1\.\d s", r["requests/s"]), r
    for key in ("version", "schema version", "api checksum", "webhook backlog", "last reminder run"):
        assert key in r, (key, r)
    # what the daemon does not expose yet says so
    assert r["webhook backlog"] == "n/a" and r["last reminder run"] == "n/a", r
    assert len(p.stdout.splitlines()) <= 24, "more than one screen:\n" + p.stdout


def test_requests_per_second_counts_traffic():
    stop = time.time() + 2.5
    def load():
        while time.time() < stop:
            http("GET", _daemon.url + "/healthz")
    t = threading.Thread(target=load)
    t.start()
    time.sleep(0.2)
    p = status("--listen", "127.0.0.1:%d" % _daemon.port)
    t.join()
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    rps = float(rows(p.stdout)["requests/s"].split()[0])
    assert rps > 5, p.stdout


def test_address_from_the_config_file():
    conf = os.path.join(_daemon.dir, "status.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write("[server]\nlisten = 127.0.0.1:%d\n" % _daemon.port)
    p = status("--config", conf)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    p = status(env={"PLANTRACK_CONFIG": conf})
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    # a daemon listening on every address is asked on loopback
    with open(conf, "w", encoding="utf-8") as f:
        f.write("[server]\nlisten = 0.0.0.0:%d\n" % _daemon.port)
    p = status("--config", conf)
    assert p.returncode == 0 and "127.0.0.1:%d" % _daemon.port in p.stdout, (p.returncode, p.stdout)


def test_not_ready_exits_1_with_the_reason():
    missing = conninfo_with(os.environ["PLANTRACK_TEST_PG"], dbname="pt_status_no_such_db",
                            connect_timeout="2")
    d = Daemon(None, conninfo=missing, migrate=False).start(wait_ready=False)
    try:
        p = status("--listen", "127.0.0.1:%d" % d.port)
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        first = p.stdout.splitlines()[0]
        assert "NOT READY" in first, p.stdout
        assert rows(p.stdout)["database"] == "NOT reachable", p.stdout
    finally:
        d.stop()


def test_unreachable_exits_2():
    port = free_port()
    p = status("--listen", "127.0.0.1:%d" % port)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "unreachable" in p.stdout and "127.0.0.1:%d" % port in p.stdout, p.stdout


def test_bad_usage_exits_2():
    p = status("--listen", "nonsense")
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    p = status("extra-argument", "--listen", "127.0.0.1:1")
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)


run(globals())
