"""systemd files: the unit verifies clean, its sandbox scores 2.0 or lower in
`systemd-analyze security --offline=true`, it carries what the contract needs
(Type=notify, watchdog, reload, migrate before start), the sysusers/tmpfiles
snippets apply to a scratch root, the example config names only known keys
and the manual page (docs/plantrackd.8) describes every one of them.
Needs no PostgreSQL; exits 77 when systemd-analyze is missing."""
import os
import re
import shutil
import subprocess
import tempfile

from harness import run, skip

ROOT = os.environ.get("PLANTRACK_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SYSTEMD = os.path.join(ROOT, "systemd")
UNIT = os.path.join(SYSTEMD, "plantrackd.service")
CHECK_DB = os.path.join(SYSTEMD, "plantrackd-check-db")
SOCKET = os.path.join(SYSTEMD, "plantrackd.socket")
ANALYZE = shutil.which("systemd-analyze")
if not ANALYZE:
    skip("systemd-analyze is not installed")
ENV = dict(os.environ, SYSTEMD_COLORS="0", SYSTEMD_PAGER="", SYSTEMD_LOG_LEVEL="warning")


def unit_settings(path):
    """[(section, key, value)] of a unit file."""
    out, section = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            k, _, v = line.partition("=")
            out.append((section, k.strip(), v.strip()))
    return out


def setting(path, key):
    vals = [v for _, k, v in unit_settings(path) if k == key]
    return vals[-1] if vals else None


def test_unit_has_what_the_daemon_needs():
    s = lambda k: setting(UNIT, k)
    assert s("Type") == "notify"
    assert s("NotifyAccess") == "main"
    assert s("WatchdogSec") == "30"
    assert s("ExecStart") == "/usr/sbin/plantrackd serve --config /etc/plantrack/plantrackd.conf"
    assert s("ExecStartPre") == "/usr/sbin/plantrackd migrate --config /etc/plantrack/plantrackd.conf"
    assert s("ExecReload") == "/bin/kill -HUP $MAINPID"
    assert s("Restart") == "on-failure"
    for key in ("After", "Wants"):
        v = s(key).split()
        assert "network-online.target" in v and "postgresql.service" in v, (key, v)
    assert s("User") == "plantrack" or s("DynamicUser") == "yes"
    assert setting(SOCKET, "ListenStream") == "127.0.0.1:8080"


def test_verify_clean():
    # verify wants the ExecStart binaries to exist: check a copy pointing at one that does.
    binary = os.environ.get("PLANTRACKD")
    if not binary or not os.access(binary, os.X_OK):
        binary = "/bin/true"
    tmp = tempfile.mkdtemp()
    try:
        for src in (UNIT, SOCKET):
            with open(src, encoding="utf-8") as f:
                text = f.read().replace("/usr/sbin/plantrackd", os.path.abspath(binary))
                text = text.replace("/usr/libexec/plantrack/plantrackd-check-db", CHECK_DB)
            with open(os.path.join(tmp, os.path.basename(src)), "w", encoding="utf-8") as f:
                f.write(text)
        p = subprocess.run([ANALYZE, "verify", "plantrackd.service", "plantrackd.socket"], cwd=tmp,
                           capture_output=True, text=True, env=ENV, timeout=60)
        noise = [l for l in (p.stdout + p.stderr).splitlines() if "plantrack" in l]
        assert p.returncode == 0, "systemd-analyze verify exited %d:\n%s%s" % (p.returncode, p.stdout, p.stderr)
        assert not noise, "systemd-analyze verify complains:\n" + "\n".join(noise)
    finally:
        shutil.rmtree(tmp)


def test_security_score():
    p = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager", UNIT],
                       capture_output=True, text=True, env=ENV, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
    assert m, "no overall exposure level in:\n%s%s" % (p.stdout, p.stderr)
    score = float(m.group(1))
    print("exposure %.1f" % score)
    assert score <= 2.0, "exposure %.1f > 2.0:\n%s" % (score, p.stdout)


def test_sysusers_and_tmpfiles_apply():
    sysusers, tmpfiles = shutil.which("systemd-sysusers"), shutil.which("systemd-tmpfiles")
    if not sysusers or not tmpfiles or os.geteuid() != 0:
        print("(skipped: needs root and systemd-sysusers/systemd-tmpfiles)")
        return
    root = tempfile.mkdtemp()
    try:
        os.makedirs(os.path.join(root, "etc"))
        for f in ("passwd", "group"):
            shutil.copy("/etc/" + f, os.path.join(root, "etc", f))
        for kind, src in (("sysusers.d", "plantrack.sysusers.conf"), ("tmpfiles.d", "plantrack.tmpfiles.conf")):
            d = os.path.join(root, "usr", "lib", kind)
            os.makedirs(d)
            shutil.copy(os.path.join(SYSTEMD, src), os.path.join(d, "plantrack.conf"))
        p = subprocess.run([sysusers, "--root=" + root], capture_output=True, text=True, env=ENV)
        assert p.returncode == 0, p.stderr
        with open(os.path.join(root, "etc", "passwd")) as f:
            entry = [l for l in f if l.startswith("plantrack:")]
        assert entry, "systemd-sysusers did not create the plantrack user"
        uid = int(entry[0].split(":")[2])
        p = subprocess.run([tmpfiles, "--root=" + root, "--create"], capture_output=True, text=True, env=ENV)
        assert p.returncode == 0, p.stderr
        st = os.stat(os.path.join(root, "etc", "plantrack"))
        assert oct(st.st_mode & 0o777) == oct(0o750) and st.st_uid == 0, oct(st.st_mode)
        assert uid > 0
    finally:
        shutil.rmtree(root)


def test_no_database_configured_skips_the_start():
    # ExecCondition=: exit 0 starts, 1..254 skips (inactive, not failed), 255 fails.
    assert setting(UNIT, "ExecCondition") == \
        "/usr/libexec/plantrack/plantrackd-check-db /etc/plantrack/plantrackd.conf"
    tmp = tempfile.mkdtemp()
    try:
        conf = os.path.join(tmp, "plantrackd.conf")
        env = {k: v for k, v in os.environ.items() if k != "PLANTRACK_DB"}

        def check(text, extra_env=None):
            with open(conf, "w", encoding="utf-8") as f:
                f.write(text)
            return subprocess.run(["sh", CHECK_DB, conf], capture_output=True, text=True,
                                  env=dict(env, **(extra_env or {})), timeout=30)
        for text in ("[server]\nlisten = 127.0.0.1:8080\n",
                     "[database]\n# conninfo = host=/var/run/postgresql dbname=plantrack\npool = 4\n",
                     "[database]\nconninfo =\n",
                     "[database]\nconninfo = \"\"\n",
                     "[server]\nconninfo = dbname=x\n[database]\n"):
            p = check(text)
            assert p.returncode == 1, (text, p.returncode, p.stderr)
            assert "no database configured in %s" % conf in p.stderr, p.stderr
        for text in ("[database]\nconninfo = host=/var/run/postgresql dbname=plantrack\n",
                     "[ database ]\n  conninfo=dbname=x  \n",
                     "[database]\nconninfo = \"dbname=x user=y\"\n"):
            p = check(text)
            assert p.returncode == 0, (text, p.returncode, p.stderr)
        p = check("[database]\n", {"PLANTRACK_DB": "dbname=x"})
        assert p.returncode == 0, p.stderr
        p = subprocess.run(["sh", CHECK_DB, os.path.join(tmp, "missing.conf")], capture_output=True,
                           text=True, env=env, timeout=30)
        assert p.returncode == 255 and "cannot read" in p.stderr, (p.returncode, p.stderr)
    finally:
        shutil.rmtree(tmp)


KNOWN = {
    "server": {"listen", "workers", "max_body", "max_import_body", "max_headers", "read_timeout",
               "write_timeout", "max_connections", "drain_timeout", "max_connections_per_address",
               "keepalive_timeout", "max_buffered"},
    "database": {"conninfo", "pool", "queue", "statement_timeout_ms", "deadline_ms", "replica", "replica_max_lag_ms"},
    "log": {"level"},
    "lights": {"lag_points", "due_soon_days", "due_soon_progress", "red_lag_points", "working_days"},
    "clock": {"timezone", "today"},
    "ranking": {"on_time_weight", "progress_weight", "red_weight", "list_size"},
    "cache": {"documents"},
    "imports": {"job_rows", "job_timeout_ms", "row_events", "answer_items"},
    "auth": {"token_cache_ttl"},
    "webhooks": {"allow", "per_receiver", "pause_after"},
    "paths": {"migrations", "web", "openapi"},
    "attachments": {"max_size"},
    "workflow": {"create_units", "sign_days", "verify_self"},
    "reminders": {"interval", "due_soon_days", "overdue_level2", "overdue_level3", "quiet_hours"},
}


def test_example_config_names_known_keys():
    section, seen = None, set()
    with open(os.path.join(SYSTEMD, "plantrackd.conf.example"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line[1:line.index("]")]
                assert section in KNOWN, "line %d: unknown section %s" % (n, section)
                continue
            assert "=" in line, "line %d: not key = value" % n
            key = line.split("=", 1)[0].strip()
            assert section and key in KNOWN[section], "line %d: unknown key %s.%s" % (n, section, key)
            seen.add((section, key))
    missing = {(s, k) for s, ks in KNOWN.items() for k in ks} - seen
    assert not missing, "settings not shown in the example: %s" % sorted(missing)


def example_keys():
    """[(section, key)] of the example configuration."""
    section, out = None, []
    with open(os.path.join(SYSTEMD, "plantrackd.conf.example"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line[1:line.index("]")]
            else:
                out.append((section, line.split("=", 1)[0].strip()))
    return out


def test_manual_page_describes_every_setting():
    with open(os.path.join(ROOT, "docs", "plantrackd.8"), encoding="utf-8") as f:
        man = f.read()
    # .SS [section] ... up to the next .SS or .SH
    blocks = {m.group(1): m.group(2) for m in
              re.finditer(r"^\.SS \[(\w+)\]\n(.*?)(?=^\.S[SH] )", man, re.M | re.S)}
    missing = []
    for section, key in example_keys():
        block = blocks.get(section, "")
        # the key as a tagged paragraph's tag: .TP then .B/.BR naming it
        if not re.search(r"^\.TP\n\.BR? (?:[^\n]*[\s\"])?%s\b" % re.escape(key), block, re.M):
            missing.append("%s.%s" % (section, key))
    assert not missing, "docs/plantrackd.8 does not describe: %s" % ", ".join(missing)
    assert len(example_keys()) >= 25, example_keys()


run(globals())
