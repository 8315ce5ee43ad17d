"""The command line as the contract (API.md) fixes it: --version, --help,
unknown commands, migrate (idempotent, safe when two run at once) and
token create (printed once, stored only as its SHA-256)."""
import hashlib
import os
import re
import subprocess

from harness import Database, daemon_binary, run, skip_without_pg

skip_without_pg()
BIN = daemon_binary()


def cli(*args, timeout=60):
    env = os.environ.copy()
    for k in ("PLANTRACK_DB", "PLANTRACK_CONFIG", "PLANTRACK_LISTEN"):
        env.pop(k, None)
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=timeout, env=env)


def test_version():
    p = cli("--version")
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert re.search(r"\d+\.\d+", p.stdout), "no version number in %r" % p.stdout


def test_help():
    p = cli("--help")
    assert p.returncode == 0, (p.returncode, p.stderr)
    text = p.stdout + p.stderr
    for word in ("serve", "migrate", "token", "import"):
        assert word in text, "--help does not mention %s: %r" % (word, text)


def test_unknown_command_exits_2_with_one_line():
    p = cli("frobnicate")
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, "expected a one-line error, got %r" % p.stderr
    assert "frobnicate" in lines[0], lines


def versions(db):
    return [int(v) for v in db.psql("SELECT version FROM schema_migrations ORDER BY version").split()]


def test_migrate_twice_is_a_noop():
    db = Database()
    p = cli("migrate", "--db", db.conninfo)
    assert p.returncode == 0, p.stderr
    first = versions(db)
    assert first, "no rows in schema_migrations after migrate"
    tables = db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    p = cli("migrate", "--db", db.conninfo)
    assert p.returncode == 0, p.stderr
    assert versions(db) == first
    assert db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == tables


def test_concurrent_migrate():
    db = Database()
    env = os.environ.copy()
    env.pop("PLANTRACK_DB", None)
    procs = [subprocess.Popen([BIN, "migrate", "--db", db.conninfo], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = [(p.wait(120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    for code, err in results:
        assert code == 0, "concurrent migrate exited %d: %s" % (code, err)
    dup = db.psql("SELECT version FROM schema_migrations GROUP BY version HAVING count(*) > 1")
    assert dup.strip() == "", "versions applied twice: %r" % dup
    vs = versions(db)
    assert vs and vs == sorted(set(vs)), vs
    # the same versions a single migrate records
    one = Database()
    assert cli("migrate", "--db", one.conninfo).returncode == 0
    assert versions(one) == vs


def test_token_create_prints_token_and_stores_only_hash():
    db = Database()
    assert cli("migrate", "--db", db.conninfo).returncode == 0
    p = cli("token", "create", "--name", "cli-test", "--role", "viewer", "--db", db.conninfo)
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    assert lines, "token create printed nothing"
    tok = lines[-1]
    assert tok == tok.strip(), "the token line has surrounding blanks: %r" % tok
    assert len(tok) >= 22, "token too short: %r" % tok
    assert re.fullmatch(r"[A-Za-z0-9_\-.~]+", tok), "token is not URL-safe: %r" % tok
    digest = hashlib.sha256(tok.encode()).hexdigest()
    stored = db.psql("SELECT token_sha256 FROM api_tokens WHERE name = 'cli-test'").split()
    assert len(stored) == 1, stored
    s = stored[0].lower()
    if s.startswith("\\x"):  # bytea
        s = s[2:]
    assert s == digest, "api_tokens.token_sha256 %r is not the SHA-256 hex of the token" % stored[0]
    # the plaintext is nowhere in the table, in any column of any row
    hits = db.scalar("SELECT count(*) FROM api_tokens t WHERE strpos(row_to_json(t)::text, '%s') > 0" % tok)
    assert hits == "0", "the plaintext token is stored in api_tokens"
    # two tokens differ
    p2 = cli("token", "create", "--name", "cli-test-2", "--role", "admin", "--db", db.conninfo)
    assert p2.returncode == 0, p2.stderr
    assert p2.stdout.splitlines()[-1] != tok


def test_token_create_rejects_unknown_role():
    db = Database()
    assert cli("migrate", "--db", db.conninfo).returncode == 0
    p = cli("token", "create", "--name", "x", "--role", "emperor", "--db", db.conninfo)
    assert p.returncode != 0
    assert db.scalar("SELECT count(*) FROM api_tokens") == "0"


run(globals())
