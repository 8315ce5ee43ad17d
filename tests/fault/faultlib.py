"""Fault-injection helpers on top of tests/integration/harness.py (Python 3
standard library only). Every tests/fault/test_*.py imports this first:

    from faultlib import *           # everything harness.py exports, plus:

    rss_kb(pid)                       resident set size of a process, in KiB
    Load(fn, clients=16)              fn(client_index, n) called in a loop by N threads
    plan_with_task(d, token)          (plan id, task id) of a fresh one-task plan
    pg_postgres_pids(cluster)         the postmaster and its children (for SIGSTOP)
    pg_ctl(cluster, "restart", "-m", "immediate")
    raw_exchange(port, data)          bytes in, the response bytes out, on one socket
    wait_until(pred, timeout)         polls pred() until true; returns its last value

A fault test reproduces one defect against the real daemon in at most a
minute; it exits 0 when the daemon behaves, 1 when it does not, 77 without a
PostgreSQL (ctest: skipped).
"""
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from harness import *  # noqa: E402,F401,F403
from harness import Daemon, Database, http, pg_cluster, psql, run, skip, skip_without_pg  # noqa: E402,F401

PG_BINDIR = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")

# scripts/test.sh sets this in sanitizer builds: "asan" or "tsan" ("" otherwise).
# There the daemon is several times slower and its RSS says nothing (shadow
# memory, quarantine), so time limits are scaled and RSS limits not checked
# (LeakSanitizer reports leaks at exit instead, which fails the daemon's stop).
SANITIZER = os.environ.get("PLANTRACK_SANITIZER", "")
TIME_FACTOR = {"asan": 3.0, "tsan": 8.0}.get(SANITIZER, 1.0)


def limit(seconds):
    """A time limit measured on a Release build, scaled for sanitizer builds."""
    return seconds * TIME_FACTOR


def rss_kb(pid):
    """VmRSS of pid in KiB (0 when the process is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return 0
    return 0


def wait_until(pred, timeout=10.0, interval=0.05):
    deadline = time.time() + timeout
    value = pred()
    while not value and time.time() < deadline:
        time.sleep(interval)
        value = pred()
    return value


class Load:
    """clients threads each calling fn(i, n) (n counts that client's calls)
    until stop(); fn's return values are collected in .results (thread safe)."""

    def __init__(self, fn, clients=16):
        self.fn = fn
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.results = []
        self.errors = []
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(clients)]

    def _loop(self, i):
        n = 0
        while not self.stopping.is_set():
            try:
                out = self.fn(i, n)
            except Exception as e:  # a bug in the test, not in the daemon
                with self.lock:
                    self.errors.append(repr(e))
                return
            with self.lock:
                self.results.append(out)
            n += 1

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self, timeout=30):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout)
        assert not self.errors, self.errors[:3]
        return self.results


def plan_with_task(d, token, title="故障测试计划"):
    """Creates a plan with one task through the API; returns (plan_id, task_id)."""
    import datetime
    year = datetime.date.today().year
    r = http("POST", d.url + "/v1/plans", token=token, body={
        "title": title + " " + str(time.time()), "year": year,
        "tasks": [{"title": "一号任务", "lead_unit": "社会事务办"}]})
    assert r.status == 201, r
    plan = r.json()
    return plan["id"], plan["tasks"][0]["id"]


def _pg_owner():
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def pg_ctl(cluster, *args, timeout=90):
    """pg_ctl -D <cluster data> ARGS as the cluster's owner; returns the CompletedProcess."""
    data = os.path.join(cluster.dir, "data")
    log = os.path.join(cluster.dir, "postgresql.log")
    cmd = _pg_owner() + [os.path.join(PG_BINDIR, "pg_ctl"), "-D", data, "-l", log, "-w", "-t", "60"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/")


def pg_postgres_pids(cluster):
    """The postmaster pid and every process whose parent it is."""
    with open(os.path.join(cluster.dir, "data", "postmaster.pid")) as f:
        pm = int(f.readline())
    pids = [pm]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pm:
            pids.append(int(entry))
    return pids


def pg_ready(cluster):
    p = subprocess.run([os.path.join(PG_BINDIR, "pg_isready"), "-q", "-h", os.path.join(cluster.dir, "sock"),
                        "-p", str(cluster.port), "-U", "postgres", "-d", "postgres"], timeout=10)
    return p.returncode == 0


def raw_exchange(port, data, host="127.0.0.1", timeout=5.0, source=None):
    """Sends data on a fresh connection and returns everything read until the
    peer closes or timeout passes (b"" on reset)."""
    s = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0) if source else None)
    out = b""
    try:
        s.sendall(data)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(body) >= int(line.split(b":")[1]):
                            return out
    finally:
        s.close()
    return out


def status_of(raw):
    """The status code of a raw HTTP response, 0 when there is none."""
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def raise_nofile(n=8192):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(max(soft, n), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


ALLOW_LOOPBACK = "[webhooks]\nallow = 127.0.0.0/8\n"


def webhook_daemon(db, conf="", allow=ALLOW_LOOPBACK, **kw):
    """A started daemon whose webhooks may reach the given allow-list (the
    receivers of these tests listen on 127.0.0.1). A daemon from before the
    destination policy rejects [webhooks] allow; it is started without it."""
    d = Daemon(db, config_text=conf + allow, **kw)
    try:
        return d.start()
    except AssertionError as e:
        if "webhooks.allow" not in str(e):
            raise
    d.write_config(conf)
    return d.start()


def emit_events(db, n, type_="task.updated"):
    """n unnumbered events, then published (numbered and fanned out to
    webhooks) the way the daemon does it."""
    db.psql("INSERT INTO events(type, payload) SELECT '%s', jsonb_build_object('n', g) "
            "FROM generate_series(1, %d) g; SELECT pt_events_publish();" % (type_, n))


def closed_port():
    """A TCP port on 127.0.0.1 that refuses connections."""
    return harness.free_port()


# CSV imports (test_import_large, test_import_backlog)
CSV_HEAD = "序号,项目名称,建设内容,牵头单位,责任人,计划完成时间,目标值,单位\n"


def csv_rows(n):
    return CSV_HEAD + "".join("%d,项目%06d,内容,城管办,,2025-12-31,1,项\n" % (i, i) for i in range(1, n + 1))


def import_rows(d, tok, plan, parent, n):
    t0 = time.time()
    r = http("POST", d.url + "/v1/plans/%s/tasks/import?parent=%s" % (plan, parent), token=tok,
             body=csv_rows(n), headers={"Content-Type": "text/csv; charset=utf-8"}, timeout=120)
    if r.status == 202:  # a job: follow it
        loc = r.headers.get("Location")
        assert loc, r.headers
        while time.time() - t0 < limit(60):
            j = http("GET", d.url + loc, token=tok).json()
            if j.get("status") in ("done", "failed"):
                return j.get("status") == "done", time.time() - t0, j
            time.sleep(0.2)  # the import's time, not the poll's
    return r.status == 201, time.time() - t0, r
