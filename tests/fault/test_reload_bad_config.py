"""Defect 9: SIGHUP accepted a directory or an empty file as the
configuration: the reload "succeeded" with every setting back at its default.

The daemon runs with max_body = 2048. The file is then replaced by an empty
file, and by a directory; each SIGHUP must be rejected ("reload rejected" in
the log) and a 4 KiB JSON body must still get 413. A valid file afterwards is
applied."""
import shutil
import signal

from faultlib import *  # noqa: F401,F403
from faultlib import Daemon, Database, http, run, skip_without_pg

skip_without_pg()
CONF = "[server]\nmax_body = 2048\n"


def reload_and_wait(d, marker_count):
    d.signal(signal.SIGHUP)
    return wait_until(lambda: d.log().count("reload rejected") + d.log().count("configuration reloaded")
                      > marker_count, timeout=5)


def outcome_count(d):
    return d.log().count("reload rejected") + d.log().count("configuration reloaded")


def big_body_status(d, tok):
    return http("POST", d.url + "/v1/tasks", token=tok, body={"title": "x" * 4096}).status


def test_empty_file_and_directory_are_rejected():
    db = Database()
    d = Daemon(db, config_text=CONF)
    d.start()
    tok = d.token("supervisor")
    assert big_body_status(d, tok) == 413
    for kind in ("empty", "directory"):
        if kind == "empty":
            open(d.config_path, "w").close()
        else:
            os.remove(d.config_path)
            os.mkdir(d.config_path)
        rejected = d.log().count("reload rejected")
        assert reload_and_wait(d, outcome_count(d))
        assert d.log().count("reload rejected") == rejected + 1, "%s config accepted:\n%s" % (kind, d.log_tail(5))
        assert big_body_status(d, tok) == 413, "the %s config replaced the running one" % kind
        if kind == "directory":
            shutil.rmtree(d.config_path)
    d.write_config("[server]\nmax_body = 1048576\n")
    n = outcome_count(d)
    assert reload_and_wait(d, n)
    assert "configuration reloaded" in d.log().splitlines()[-1] or d.log().count("configuration reloaded") >= 1
    assert wait_until(lambda: big_body_status(d, tok) != 413, timeout=3)
    assert d.stop() == 0


run(globals())
