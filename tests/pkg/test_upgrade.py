"""Package install, upgrade and purge in a throwaway root (see run.sh).

The old package is built from PINNED - the first commit that builds a
package - with `git archive`, the new one from this tree (or given as the
first argument). No systemd runs here, so the test does what the unit does:
it reads ExecCondition=, ExecStartPre= and ExecStart= from the *installed*
plantrackd.service, maps their paths into the root, and runs them; a restart
is SIGTERM (the daemon drains), then the same three again. The upgrade runs
`plantrackd migrate` through the new unit's ExecStartPre= (debhelper's
postinst restarts the service after an upgrade; the test checks that the
postinst says so)."""
import glob
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("PLANTRACK_SOURCE_DIR", ROOT)
os.environ.setdefault("PLANTRACK_SCRIPTS", os.path.join(ROOT, "scripts"))
from harness import conninfo_with, free_port, http, pg_cluster, psql, run, skip  # noqa: E402

# The first commit on the pkg branch that builds a package.
PINNED = "c6a629affc9135fb7e6e9ff4bc454dcd9129c209"
REFERENCE = os.path.join(ROOT, "..", "shared", "samples", "chengdong-2025-plan.txt")
PLAN = REFERENCE if os.path.exists(REFERENCE) else os.path.join(ROOT, "docs", "examples", "example-plan.txt")
CONF = "/etc/plantrack/plantrackd.conf"
UNIT = "/lib/systemd/system/plantrackd.service"

if subprocess.run(["git", "-C", ROOT, "rev-parse", "--verify", "-q", PINNED + "^{commit}"],
                  capture_output=True).returncode != 0:
    skip("the pinned commit %s is not in this clone (shallow clone? `git fetch --unshallow`); "
         "cannot build the older package" % PINNED)

WORK = tempfile.mkdtemp(prefix="plantrack-pkgtest.")
os.chmod(WORK, 0o755)
R = os.path.join(WORK, "root")
S = {}


def sh(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 600)
    return subprocess.run(args, **kw)


def build(src_dir, version=None):
    env = dict(os.environ)
    if version:
        env["PLANTRACK_DEB_VERSION"] = version
    p = sh(["bash", os.path.join(src_dir, "scripts", "package.sh"), "--out", os.path.join(WORK, "debs"),
            "--no-lintian"], env=env)
    assert p.returncode == 0, "package.sh in %s failed:\n%s%s" % (src_dir, p.stdout, p.stderr[-3000:])
    deb = p.stdout.strip().splitlines()[-1]
    assert re.search(r"/plantrack_[^_]+_[a-z0-9]+\.deb$", deb) and os.path.exists(deb), deb
    return deb


def dpkg(*args):
    # Maintainer scripts run here with DPKG_ROOT=R; systemctl and
    # deb-systemd-invoke are shims so nothing can reach the host's systemd.
    env = dict(os.environ, PATH=os.path.join(WORK, "shims") + ":" + os.environ["PATH"])
    p = sh(["dpkg", "--root=" + R, "--force-script-chrootless", "--force-depends",
            "--force-confdef", "--force-confold"] + list(args), env=env)
    assert p.returncode == 0, "dpkg %s failed:\n%s%s" % (" ".join(args), p.stdout, p.stderr)
    return p


def files_in_root():
    out = set()
    for d, dirs, files in os.walk(R):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(d, n), R))
    return out


def unit_command(key):
    """The unit's KEY= command line with its absolute paths moved into R."""
    with open(R + UNIT, encoding="utf-8") as f:
        lines = [l.strip() for l in f if l.strip().startswith(key + "=")]
    assert lines, "%s has no %s=" % (UNIT, key)
    cmd = lines[-1].split("=", 1)[1].lstrip("-@:+!")
    return [R + a if a.startswith(("/usr/", "/etc/", "/lib/")) else a for a in cmd.split()]


def unit_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PLANTRACK_", "NOTIFY_", "LISTEN_", "WATCHDOG_"))}
    return env


class Service:
    """plantrackd.service as systemd would run it: condition, pre, main."""

    def __init__(self):
        self.proc = None
        self.log = os.path.join(WORK, "service.log")

    def start(self):
        cond = sh(unit_command("ExecCondition"), env=unit_env(), timeout=30)
        if cond.returncode != 0:
            return "skipped", cond
        pre = sh(unit_command("ExecStartPre"), env=unit_env(), timeout=120)
        assert pre.returncode == 0, "ExecStartPre failed: %s%s" % (pre.stdout, pre.stderr)
        S.setdefault("migrate_runs", []).append(pre.stdout)
        S["migrate_output"] = pre.stdout
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(unit_command("ExecStart"), env=unit_env(), stdout=logf, stderr=logf,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            assert self.proc.poll() is None, "plantrackd exited %s:\n%s" % (self.proc.returncode, self.tail())
            if http("GET", S["url"] + "/readyz", timeout=2).status == 200:
                return "started", pre
            time.sleep(0.1)
        raise AssertionError("plantrackd not ready within 20 s:\n" + self.tail())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            code = self.proc.wait(30)
            assert code == 0, "plantrackd exited %d on SIGTERM:\n%s" % (code, self.tail())
        self.proc = None

    def tail(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")[-3000:]


SERVICE = Service()


# Values the new release computes by new rules on purpose (issue 10: an item
# without its own due date runs to its parent's or the plan's end, progress has
# a source): stored data must survive, these are recomputed.
RECOMPUTED = {"light", "progress"}


def semantic_subset(old, new, where="$"):
    """Every value the old version answered is answered the same by the new one
    (new fields are allowed; RECOMPUTED ones must exist but may differ)."""
    if isinstance(old, dict):
        assert isinstance(new, dict), where
        for k, v in old.items():
            assert k in new, "%s.%s missing after the upgrade" % (where, k)
            if k in RECOMPUTED:
                continue
            semantic_subset(v, new[k], where + "." + k)
    elif isinstance(old, list):
        assert isinstance(new, list) and len(old) == len(new), "%s: %r -> %r" % (where, old, new)
        for i, (a, b) in enumerate(zip(old, new)):
            semantic_subset(a, b, "%s[%d]" % (where, i))
    else:
        assert old == new, "%s: %r -> %r" % (where, old, new)


def snapshot():
    tok = S["token"]
    out = {"plan": http("GET", S["url"] + "/v1/plans/" + S["plan"], token=tok).json()}
    items, cursor = [], None
    while True:
        r = http("GET", S["url"] + "/v1/tasks?plan=%s&limit=500%s" % (S["plan"], "&cursor=" + cursor if cursor else ""),
                 token=tok)
        assert r.status == 200, r.body
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    for t in items:
        out["task " + t["id"]] = http("GET", S["url"] + "/v1/tasks/" + t["id"], token=tok).json()
        out["updates " + t["id"]] = http("GET", S["url"] + "/v1/tasks/%s/updates?limit=500" % t["id"], token=tok).json()
    return out, items


# ---------------------------------------------------------------- tests

def test_build_old_and_new_packages():
    count = sh(["git", "-C", ROOT, "rev-list", "--count", PINNED]).stdout.strip()
    src = os.path.join(WORK, "old-src")
    os.makedirs(src)
    arch = subprocess.Popen(["git", "-C", ROOT, "archive", PINNED], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", src], stdin=arch.stdout, check=True)
    assert arch.wait() == 0
    base = sh(["dpkg-parsechangelog", "-l", os.path.join(src, "debian", "changelog"), "-SVersion"]).stdout.strip()
    S["old"] = build(src, "%s+git%s.g%s" % (base, count, PINNED[:8]))
    S["new"] = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else build(ROOT)
    v = [sh(["dpkg-deb", "-f", S[k], "Version"]).stdout.strip() for k in ("old", "new")]
    assert sh(["dpkg", "--compare-versions", v[1], "gt", v[0]]).returncode == 0, \
        "the new package %s is not newer than the old %s" % (v[1], v[0])
    S["versions"] = v
    print("old %s, new %s" % tuple(v))


def test_install_creates_user_and_directories_and_starts_nothing():
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc"):
        os.makedirs(os.path.join(R, d), exist_ok=True)
    for f in ("var/lib/dpkg/status", "var/lib/dpkg/available"):
        open(os.path.join(R, f), "w").close()
    for f in ("passwd", "group", "shadow", "gshadow"):
        if os.path.exists("/etc/" + f):
            shutil.copy2("/etc/" + f, os.path.join(R, "etc", f))
    shims = os.path.join(WORK, "shims")
    os.makedirs(shims)
    for tool in ("systemctl", "deb-systemd-invoke"):
        with open(os.path.join(shims, tool), "w") as f:
            f.write("#!/bin/sh\necho \"%s $*\" >> %s/systemd-calls.log\nexit 0\n" % (tool, WORK))
        os.chmod(os.path.join(shims, tool), 0o755)
    S["before_install"] = files_in_root()
    dpkg("-i", S["old"])
    with open(os.path.join(R, "etc", "passwd")) as f:
        entry = [l for l in f if l.startswith("plantrack:")]
    assert entry and entry[0].rstrip().endswith(":/nonexistent:/usr/sbin/nologin"), entry
    gid = int(entry[0].split(":")[3])
    st = os.stat(R + "/etc/plantrack")
    assert (st.st_mode & 0o777, st.st_uid, st.st_gid) == (0o750, 0, gid), (oct(st.st_mode), st.st_uid, st.st_gid)
    st = os.stat(R + CONF)
    assert (st.st_mode & 0o777, st.st_gid) == (0o640, gid), oct(st.st_mode)
    with open(R + "/var/lib/dpkg/info/plantrack.conffiles") as f:
        assert CONF in f.read().split()
    assert os.path.islink(R + "/etc/systemd/system/multi-user.target.wants/plantrackd.service")
    assert not os.path.exists(R + "/etc/systemd/system/sockets.target.wants/plantrackd.socket")
    # no database configured: the unit's start is skipped, and says why
    how, p = SERVICE.start()
    assert how == "skipped" and p.returncode == 1, (how, p.returncode, p.stderr)
    assert "no database configured in %s%s" % (R, CONF) in p.stderr, p.stderr
    assert SERVICE.proc is None


def test_configure_and_serve_the_old_version():
    cluster = pg_cluster(WORK)
    psql(cluster.conninfo, "CREATE DATABASE plantrack ENCODING 'UTF8' TEMPLATE template0")
    S["conninfo"] = conninfo_with(cluster.conninfo, dbname="plantrack")
    S["cluster"] = cluster
    port = free_port()
    S["url"] = "http://127.0.0.1:%d" % port
    with open(R + CONF, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"^# conninfo = .*$", "conninfo = " + S["conninfo"], text, count=1, flags=re.M)
    text = re.sub(r"^listen = .*$", "listen = 127.0.0.1:%d" % port, text, count=1, flags=re.M)
    text = re.sub(r"^workers = .*$", "workers = 1", text, count=1, flags=re.M)
    # the binary's built-in data paths are /usr/share/plantrack: inside R here
    text = re.sub(r"^(\w+ = )(/usr/share/plantrack)", lambda m: m.group(1) + R + m.group(2), text, flags=re.M)
    with open(R + CONF, "w", encoding="utf-8") as f:
        f.write(text)
    S["conf_sha"] = hashlib.sha256(text.encode()).hexdigest()
    how, _ = SERVICE.start()
    assert how == "started"
    p = sh([R + "/usr/sbin/plantrackd", "token", "create", "--config", R + CONF, "--name", "pkgtest",
            "--role", "admin"], env=unit_env())
    assert p.returncode == 0, p.stderr
    S["token"] = p.stdout.strip().splitlines()[-1]
    with open(PLAN, "rb") as f:
        r = http("POST", S["url"] + "/v1/plans/import?year=2025", body=f.read(), token=S["token"],
                 headers={"Content-Type": "text/plain; charset=utf-8"})
    assert r.status == 201, r.body[:300]
    S["plan"] = r.json()["id"]
    _, tasks = snapshot()
    for i, t in enumerate(tasks[::4]):
        g = http("GET", S["url"] + "/v1/tasks/" + t["id"], token=S["token"])
        r = http("POST", S["url"] + "/v1/tasks/%s/updates" % t["id"], token=S["token"],
                 body={"status": "in_progress", "progress": 10 + i, "note": "升级前报送%d" % i},
                 headers={"If-Match": g.headers["ETag"]})
        assert r.status == 201, r.body[:300]
    S["before"], _ = snapshot()
    S["reports"] = int(psql(S["conninfo"], "SELECT count(*) FROM updates").strip())
    assert S["reports"] > 0


def test_upgrade_keeps_configuration_migrates_once_and_restarts():
    migrations_before = psql(S["conninfo"], "SELECT version FROM schema_migrations ORDER BY 1").split()
    dpkg("-i", S["new"])    # the old daemon keeps serving meanwhile, as with systemd
    assert http("GET", S["url"] + "/readyz").status == 200
    with open(R + "/var/lib/dpkg/status") as f:
        assert "Version: %s" % S["versions"][1] in f.read()
    with open(R + CONF, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == S["conf_sha"], "the upgrade changed " + CONF
    # the packaged configuration changed since the pinned package ([paths]
    # empty now, new settings): dpkg keeps the edited one and puts the new
    # one beside it, as .dpkg-dist, and nothing else
    leftovers = glob.glob(R + CONF + ".dpkg-*")
    assert leftovers in ([], [R + CONF + ".dpkg-dist"]), leftovers
    if leftovers:
        with open(leftovers[0], encoding="utf-8") as f:
            assert re.search(r"^migrations =\s*$", f.read(), re.M), "the new packaged configuration names migrations"
    # debhelper's postinst restarts (not stop + start) the service on upgrade
    with open(R + "/var/lib/dpkg/info/plantrack.postinst") as f:
        postinst = f.read()
    assert "_dh_action=restart" in postinst and "'plantrackd.service'" in postinst, postinst
    # the restart: SIGTERM drains the old daemon; the new unit migrates, then serves
    runs = len(S["migrate_runs"])
    SERVICE.stop()
    how, _ = SERVICE.start()
    assert how == "started"
    assert len(S["migrate_runs"]) == runs + 1, "migrate ran %d times" % (len(S["migrate_runs"]) - runs)
    after = psql(S["conninfo"], "SELECT version FROM schema_migrations ORDER BY 1").split()
    assert after[:len(migrations_before)] == migrations_before and len(set(after)) == len(after), after
    # the old package read its migrations from /usr/share/plantrack (its
    # configuration, kept as a conffile, still names them; they are gone now);
    # the new binary migrated with its own and checksummed every row
    assert not os.path.exists(R + "/usr/share/plantrack/migrations"), "the new package ships migration files"
    rows = psql(S["conninfo"], "SELECT version || ' ' || coalesce(checksum, '-') FROM schema_migrations"
                " ORDER BY version").split("\n")
    rows = [r.split() for r in rows if r.strip()]
    assert rows and all(re.fullmatch(r"[0-9a-f]{64}", c) for _, c in rows), rows
    m = re.search(r"^schema is at version (\d+) \(.*\), api ([0-9a-f]{12})", S["migrate_output"], re.M)
    assert m, "migrate did not say where the schema is:\n" + S["migrate_output"]
    binary_schema, binary_api = int(m.group(1)), m.group(2)
    assert int(after[-1]) == binary_schema, (after, S["migrate_output"])
    ready = http("GET", S["url"] + "/readyz").json()
    assert ready["schema_version"] == binary_schema, (ready, binary_schema)
    assert re.fullmatch(r"[0-9a-f]{64}", ready["api_checksum"] or "") and ready["api_checksum"].startswith(binary_api), \
        (ready, binary_api)
    version = sh([R + "/usr/sbin/plantrackd", "--version"]).stdout.split()[-1]
    assert S["versions"][1].startswith(version) and ready["version"] == version, (ready, version, S["versions"])
    S["schema"] = binary_schema
    print("schema versions %s -> %s (api %s), every row checksummed" % (migrations_before[-1], after[-1], binary_api))


def test_data_and_api_answers_survive():
    after, tasks = snapshot()
    assert sorted(after) == sorted(S["before"])
    for k, v in S["before"].items():
        semantic_subset(v, after[k], k)
    assert int(psql(S["conninfo"], "SELECT count(*) FROM updates").strip()) == S["reports"]
    # and the new version writes
    t = tasks[1]
    g = http("GET", S["url"] + "/v1/tasks/" + t["id"], token=S["token"])
    r = http("POST", S["url"] + "/v1/tasks/%s/updates" % t["id"], token=S["token"],
             body={"status": "in_progress", "progress": 50, "note": "升级后报送"}, headers={"If-Match": g.headers["ETag"]})
    assert r.status == 201, r.body[:300]
    p = sh([R + "/usr/sbin/plantrackd", "status", "--config", R + CONF], env=unit_env(), timeout=60)
    if "status" in sh([R + "/usr/sbin/plantrackd", "--help"]).stdout:
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)


def test_migrate_refuses_a_newer_schema():
    """A database a newer release migrated: the unit's ExecStartPre= refuses to
    downgrade it and changes nothing, so the service does not start. (The
    pinned old package predates the refusal, so installing it over the new one
    would not show it: a newer schema is recorded by hand instead.)"""
    SERVICE.stop()
    newer = S["schema"] + 1
    psql(S["conninfo"], "INSERT INTO schema_migrations(version, name, checksum) VALUES "
         "(%d, '%04d_from_the_future.sql', repeat('0', 64))" % (newer, newer))
    dump = ("SELECT (SELECT string_agg(version || ' ' || name || ' ' || checksum, ', ' ORDER BY version)"
            " FROM schema_migrations), (SELECT checksum FROM api_state),"
            " (SELECT count(*) FROM pg_proc WHERE pronamespace = 'api'::regnamespace),"
            " (SELECT count(*) FROM updates)")
    before = psql(S["conninfo"], dump)
    try:
        pre = sh(unit_command("ExecStartPre"), env=unit_env(), timeout=120)
        assert pre.returncode == 1, (pre.returncode, pre.stdout, pre.stderr)
        assert ("the database schema is at version %d (%04d_from_the_future.sql), newer than this binary knows (%d): "
                "refusing to downgrade" % (newer, newer, S["schema"])) in pre.stderr, pre.stderr
        assert psql(S["conninfo"], dump) == before, "the refused migrate changed the database"
    finally:
        psql(S["conninfo"], "DELETE FROM schema_migrations WHERE version = %d" % newer)
    how, _ = SERVICE.start()
    assert how == "started"
    assert http("GET", S["url"] + "/readyz").json()["schema_version"] == S["schema"]


def test_purge_removes_what_it_created_and_nothing_else():
    SERVICE.stop()
    # something the administrator put there: purge must leave it
    with open(R + "/etc/plantrack/pgpass", "w") as f:
        f.write("*:*:*:plantrack:secret\n")
    dpkg("--purge", "plantrack")
    assert os.path.exists(R + "/etc/plantrack/pgpass")
    os.unlink(R + "/etc/plantrack/pgpass")
    os.rmdir(R + "/etc/plantrack")
    left = files_in_root() - S["before_install"]
    # dpkg's own records, and the (empty) directories deb-systemd-helper keeps
    # its state in; the system user stays, as Debian packages leave them
    # (the user database's backups and lock, written when the user was made)
    left = {p for p in left if not p.startswith("var/lib/dpkg/")
            and p not in ("etc/.pwd.lock", "etc/passwd-", "etc/group-", "etc/shadow-", "etc/gshadow-")}
    stray = [p for p in sorted(left)
             if not (os.path.isdir(os.path.join(R, p)) and not os.listdir(os.path.join(R, p)))
             and not os.path.isdir(os.path.join(R, p))]
    assert not stray, "purge left: %s" % stray
    assert not glob.glob(R + "/etc/systemd/system/*/plantrackd*"), glob.glob(R + "/etc/systemd/system/*/*")
    assert not glob.glob(R + "/var/lib/systemd/deb-systemd-helper-enabled/**/plantrackd*", recursive=True)
    print("left after purge (empty directories): %s" % (sorted(left) or "nothing"))
    if os.path.exists(os.path.join(WORK, "systemd-calls.log")):
        with open(os.path.join(WORK, "systemd-calls.log")) as f:
            print("systemd calls the scripts made (shimmed): " + f.read().replace("\n", "; "))


try:
    run(globals())
finally:
    try:
        SERVICE.stop()
    except Exception as e:  # noqa: BLE001
        print("stopping the service: %s" % e)
    if "cluster" in S:
        S["cluster"].destroy()
    if not os.environ.get("PLANTRACK_KEEP_LOGS"):
        shutil.rmtree(WORK, ignore_errors=True)
