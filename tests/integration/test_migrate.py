"""plantrackd migrate as docs/sql-api.md and docs/operations.md describe it:
numbered migrations are checksummed and immutable, the api schema is rebuilt
whenever the sql/api set changes, a database made by release b3c5c60 upgrades
to the same schema a fresh install has, a database newer than the binary is
refused, the binary carries its SQL (migrates from any directory), and
readiness checks the API checksum."""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
import types

from harness import Daemon, Database, conninfo_with, daemon_binary, http, psql, run, skip_without_pg

skip_without_pg()
BIN = daemon_binary()
SRC = os.environ.get("PLANTRACK_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(SRC, "tests", "fixtures", "release-b3c5c60")
LATEST = max(int(f[:4]) for f in os.listdir(os.path.join(SRC, "migrations")) if re.match(r"\d{4}_.*\.sql$", f))


def migrate(db, migrations=None, binary=BIN, cwd=None):
    env = os.environ.copy()
    for k in ("PLANTRACK_DB", "PLANTRACK_CONFIG", "PLANTRACK_LISTEN", "PLANTRACK_MIGRATIONS"):
        env.pop(k, None)
    if migrations:
        env["PLANTRACK_MIGRATIONS"] = migrations
    return subprocess.run([binary, "migrate", "--db", db.conninfo], capture_output=True, text=True,
                          timeout=120, env=env, cwd=cwd)


def schema_dump(db):
    """pg_dump --schema-only, normalised: no comments, SET lines or blank lines."""
    p = subprocess.run(["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "-d", db.conninfo],
                       capture_output=True, text=True, timeout=120, check=True)
    keep = []
    for line in p.stdout.splitlines():
        if not line.strip() or line.startswith("--") or line.startswith("\\"):
            continue
        if re.match(r"^(SET|SELECT pg_catalog\.set_config)\b", line):
            continue
        keep.append(line)
    return "\n".join(keep)


def state(db):
    """Everything migrate may change: the schema and its bookkeeping rows."""
    return (schema_dump(db),
            db.psql("SELECT version, name, checksum FROM schema_migrations ORDER BY version"),
            db.psql("SELECT checksum, applied_at FROM api_state"))


def source_copy():
    """A PLANTRACK_MIGRATIONS directory: migrations/*.sql plus api/ (sql/api/*.sql)."""
    d = tempfile.mkdtemp(prefix="pt-migrations.")
    for f in os.listdir(os.path.join(SRC, "migrations")):
        shutil.copy(os.path.join(SRC, "migrations", f), d)
    shutil.copytree(os.path.join(SRC, "sql", "api"), os.path.join(d, "api"))
    return d


def make_release_b3c5c60_db():
    """A database as release b3c5c60's migrate left it: its three files, each in
    one transaction, recorded in its schema_migrations (no checksum column)."""
    db = Database()
    db.psql("CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())")
    for name in sorted(os.listdir(FIXTURE)):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", db.conninfo,
                        "-f", os.path.join(FIXTURE, name)], check=True, capture_output=True, timeout=120)
        db.psql("INSERT INTO schema_migrations(version, name) VALUES (%d, '%s')" % (int(name[:4]), name))
    return db


def test_fixture_is_release_b3c5c60():
    # exact copies of `git show b3c5c60:migrations/...`
    want = {
        "0001_schema.sql": "1e0c1d4f3a1e99c6db6aeb08b58ad2ef35ebca717e94f07d233124692851f91f",
        "0002_api.sql": "94b3061d2202d341f65aed743326b88fc099df9903f006e0dcd77fe81a8351af",
        "0003_webhooks.sql": "dc3d5f2a9a743327c98fd003b577d725c304a96a4c5d588fda864b70a7f9449a",
    }
    got = {f: hashlib.sha256(open(os.path.join(FIXTURE, f), "rb").read()).hexdigest()
           for f in os.listdir(FIXTURE)}
    assert got == want, got
    # 0001 is kept byte-identical
    assert open(os.path.join(SRC, "migrations", "0001_schema.sql"), "rb").read() == \
        open(os.path.join(FIXTURE, "0001_schema.sql"), "rb").read()


def test_upgrade_from_release_b3c5c60_equals_fresh_install():
    old = make_release_b3c5c60_db()
    old.psql("INSERT INTO plans (title) VALUES ('kept across the upgrade')")
    p = migrate(old)
    assert p.returncode == 0, p.stderr
    assert "b3c5c60" in p.stdout, p.stdout
    fresh = Database()
    p = migrate(fresh)
    assert p.returncode == 0, p.stderr
    a, b = schema_dump(old), schema_dump(fresh)
    if a != b:
        import difflib
        diff = "\n".join(list(difflib.unified_diff(b.splitlines(), a.splitlines(), "fresh", "upgraded",
                                                   lineterm=""))[:80])
        raise AssertionError("upgraded schema differs from a fresh install:\n" + diff)
    rows = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
    assert old.psql(rows) == fresh.psql(rows)
    assert old.scalar("SELECT checksum FROM api_state") == fresh.scalar("SELECT checksum FROM api_state")
    assert old.scalar("SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
                      " AND proname LIKE 'pt\\_%'") == "0"
    assert old.scalar("SELECT title FROM plans") == "kept across the upgrade"
    # and it serves
    d = Daemon(old, migrate=False).start()
    r = http("GET", d.url + "/readyz")
    assert r.status == 200 and r.json()["api_checksum"] == fresh.scalar("SELECT checksum FROM api_state")
    d.stop()
    # a second run has nothing to do
    p = migrate(old)
    assert p.returncode == 0 and "nothing to do" in p.stdout, (p.stdout, p.stderr)


def test_changed_applied_migration_is_refused():
    db = Database()
    assert migrate(db).returncode == 0
    before = state(db)
    d = source_copy()
    with open(os.path.join(d, "0002_child_count.sql"), "a") as f:
        f.write("\n-- edited after it was applied\n")
    with open(os.path.join(d, "0099_pending.sql"), "w") as f:
        f.write("CREATE TABLE must_not_exist (id int);\n")
    p = migrate(db, migrations=d)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "0002_child_count.sql" in p.stderr and "immutable" in p.stderr, p.stderr
    assert state(db) == before, "a refused migrate changed the database"
    assert db.scalar("SELECT to_regclass('public.must_not_exist') IS NULL") == "t"
    shutil.rmtree(d)


def test_two_migrators_serialise_one_applies():
    db = Database()
    procs = [subprocess.Popen([BIN, "migrate", "--db", db.conninfo], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    applied = [out for out, _ in outs if "applied 0001_schema.sql" in out]
    assert len(applied) == 1, outs
    assert sum("applied sql/api" in out for out, _ in outs) == 1, outs
    assert db.scalar("SELECT count(*) FROM api_state") == "1"


def test_binary_migrates_from_anywhere():
    # the binary carries its SQL: a copy elsewhere, run from another directory
    d = tempfile.mkdtemp(prefix="pt-elsewhere.")
    copy = os.path.join(d, "plantrackd")
    shutil.copy(BIN, copy)
    db = Database()
    p = migrate(db, binary=copy, cwd="/")
    assert p.returncode == 0, p.stderr
    fresh = Database()
    assert migrate(fresh).returncode == 0
    assert schema_dump(db) == schema_dump(fresh)
    shutil.rmtree(d)


def test_migrate_notes_a_role_without_the_bulk_privilege():
    """A role that owns its database but may not set
    session_replication_role migrates fine, and migrate says once that big
    import jobs will check foreign keys per row and how to grant it; with
    the grant (or as superuser) it says nothing. The last line still says
    where the schema is."""
    db = Database()
    role = "pt_owner_" + db.name[-10:]
    db.psql('CREATE ROLE "%s" LOGIN; ALTER DATABASE "%s" OWNER TO "%s"; '
            'ALTER SCHEMA public OWNER TO "%s"' % (role, db.name, role, role))
    try:
        as_owner = types.SimpleNamespace(conninfo=conninfo_with(db.conninfo, user=role))
        p = migrate(as_owner)
        assert p.returncode == 0, p.stderr
        assert ("note: role %s may not set session_replication_role" % role) in p.stdout, p.stdout
        assert "GRANT SET ON PARAMETER session_replication_role TO %s" % role in p.stdout, p.stdout
        assert p.stdout.strip().splitlines()[-1].startswith("schema is at version"), p.stdout
        assert db.scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'journal'") == "1"
        db.psql('GRANT SET ON PARAMETER session_replication_role TO "%s"' % role)
        p = migrate(as_owner)
        assert p.returncode == 0 and "note:" not in p.stdout, p.stdout
        assert "note:" not in migrate(db).stdout
    finally:
        db.drop()
        psql(db.server, 'DROP OWNED BY "%s"; DROP ROLE IF EXISTS "%s"' % (role, role), check=False)


def test_downgrade_is_refused():
    db = Database()
    assert migrate(db).returncode == 0
    db.psql("INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, '9999_future.sql', 'x')")
    db.psql("UPDATE api_state SET checksum = 'from-a-newer-release'")
    before = state(db)
    p = migrate(db)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "9999" in p.stderr and "newer" in p.stderr and "downgrade" in p.stderr, p.stderr
    assert state(db) == before


def test_changed_api_set_is_reapplied():
    db = Database()
    assert migrate(db).returncode == 0
    sum0 = db.scalar("SELECT checksum FROM api_state")
    d = source_copy()
    with open(os.path.join(d, "api", "99_extra.sql"), "w") as f:
        f.write("CREATE FUNCTION api.pt_extra() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;\n")
    p = migrate(db, migrations=d)
    assert p.returncode == 0, p.stderr
    assert "applied sql/api" in p.stdout and "applied 0" not in p.stdout, p.stdout
    assert db.scalar("SELECT pt_extra()") == "42"
    assert db.scalar("SELECT checksum FROM api_state") != sum0
    # back to the binary's set: rebuilt again, the extra function is gone
    p = migrate(db)
    assert p.returncode == 0 and "applied sql/api" in p.stdout, (p.stdout, p.stderr)
    assert db.scalar("SELECT to_regproc('api.pt_extra') IS NULL") == "t"
    assert db.scalar("SELECT checksum FROM api_state") == sum0
    shutil.rmtree(d)


def test_readiness_false_on_api_checksum_mismatch():
    db = Database()
    assert migrate(db).returncode == 0
    want = db.scalar("SELECT checksum FROM api_state")
    db.psql("UPDATE api_state SET checksum = 'deadbeef0000'")
    d = Daemon(db, migrate=False).start(wait_ready=False)
    deadline = time.time() + 10
    r = None
    while time.time() < deadline:
        r = http("GET", d.url + "/readyz")
        if r.status == 503 and r.json().get("api_checksum"):
            break
        time.sleep(0.1)
    assert r.status == 503, (r.status, r.body)
    body = r.json()
    assert body["api_checksum"] == "deadbeef0000" and body["schema_version"] == LATEST, body
    assert "API checksum" in body["reason"] and "plantrackd migrate" in body["reason"], body
    assert "database API checksum deadbeef0000, this binary expects %s" % want[:12] in d.log(), d.log_tail()
    # migrate fixes it; the daemon becomes ready on its next attempt
    assert migrate(db).returncode == 0
    deadline = time.time() + 40
    while time.time() < deadline and http("GET", d.url + "/readyz").status != 200:
        time.sleep(0.2)
    r = http("GET", d.url + "/readyz")
    assert r.status == 200 and r.json()["api_checksum"] == want, (r.status, r.body)
    d.stop()


run(globals())
