"""The journal (issue 10, part 1): every change to plans, tasks, targets and
milestones is recorded with its author, role and request id, append-only even
for the superuser, and GET /v1/tasks/{id}/history pages through a task's."""
from harness import Daemon, Database, http, run, skip_without_pg

skip_without_pg()
db = Database()
daemon = Daemon(db)
daemon.start()
supervisor = daemon.token("supervisor", name="督查室")
editor = daemon.token("editor", unit="城管办", name="城管办填报")
state = {}


def api(method, path, body=None, token=None, headers=None):
    return http(method, daemon.url + path, body=body, token=token or supervisor, headers=headers)


def test_create_is_journalled():
    r = api("POST", "/v1/plans", {"title": "日志测试", "year": 2025, "tasks": [
        {"title": "一、城市品质", "children": [
            {"title": "老旧小区改造", "lead_unit": "城管办", "due_date": "2025-06-30",
             "targets": [{"label": "改造", "value": 10, "unit": "处", "comparator": ">="}],
             "milestones": [{"title": "开工", "due_date": "2025-03-31"}]}]}]},
            headers={"X-Request-Id": "req-create-1"})
    assert r.status == 201, r.body
    plan = r.json()
    state["plan"] = plan["id"]
    task = plan["tasks"][0]["children"][0]
    state["task"] = task["id"]
    state["target"] = task["targets"][0]["id"]
    rows = db.psql("SELECT entity, action, author, role, request_id FROM journal "
                   "WHERE plan_id = '%s' ORDER BY id" % plan["id"]).split()
    assert "plan|create|督查室|supervisor|req-create-1" in rows, rows
    assert rows.count("task|create|督查室|supervisor|req-create-1") == 2, rows
    assert "target|create|督查室|supervisor|req-create-1" in rows, rows
    assert "milestone|create|督查室|supervisor|req-create-1" in rows, rows


def test_patch_and_report_record_old_and_new():
    r = api("PATCH", "/v1/tasks/" + state["task"], {"due_date": "2025-09-30", "owner": "王芳"},
            headers={"X-Request-Id": "req-patch-1"})
    assert r.status == 200, r.body
    r = api("POST", "/v1/tasks/%s/updates" % state["task"],
            {"status": "in_progress", "progress": 30, "note": "已开工",
             "targets": [{"id": state["target"], "current": 4}]}, token=editor,
            headers={"X-Request-Id": "req-report-1"})
    assert r.status == 201, r.body
    r = api("GET", "/v1/tasks/%s/history" % state["task"])
    assert r.status == 200, r.body
    items = r.json()["items"]
    assert r.json()["next_cursor"] is None
    assert [i["action"] for i in items[:3]] == ["create", "create", "create"], items
    patch = [i for i in items if i["request_id"] == "req-patch-1"]
    assert len(patch) == 1 and patch[0]["action"] == "update", items
    # a due date set through the API says so (due_source, issue 12)
    assert patch[0]["changes"] == {"due_date": ["2025-06-30", "2025-09-30"], "owner": [None, "王芳"],
                                   "due_source": [None, "api"]}, patch
    assert patch[0]["author"] == "督查室" and patch[0]["role"] == "supervisor"
    rep = [i for i in items if i["request_id"] == "req-report-1"]
    # the task was assigned (交办): the report signed it in passing (签收), then reported
    assert {(i["entity"], i["action"]) for i in rep} == {("task", "sign"), ("task", "report"), ("target", "report")}, rep
    sign = [i for i in rep if i["action"] == "sign"][0]
    assert sign["changes"]["status"] == ["assigned", "planned"] and sign["id"] < min(i["id"] for i in rep if i["action"] == "report")
    task_rep = [i for i in rep if i["entity"] == "task" and i["action"] == "report"][0]
    assert task_rep["changes"]["status"] == ["planned", "in_progress"], task_rep
    assert task_rep["changes"]["progress"] == [0, 30], task_rep
    assert "version" not in task_rep["changes"] and "updated_at" not in task_rep["changes"]
    assert task_rep["note"] == "已开工" and task_rep["author"] == "城管办填报" and task_rep["role"] == "editor"
    tgt = [i for i in rep if i["entity"] == "target"][0]
    assert tgt["entity_id"] == state["target"] and tgt["changes"] == {"current": [None, 4]}, tgt
    state["n"] = len(items)


def test_history_pages():
    seen, cursor = [], None
    while True:
        r = api("GET", "/v1/tasks/%s/history?limit=2%s" % (state["task"], "&cursor=" + cursor if cursor else ""))
        assert r.status == 200, r.body
        seen += [i["id"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == state["n"] and seen == sorted(seen), seen
    assert api("GET", "/v1/tasks/%s/history?cursor=nope" % state["task"]).status == 422
    assert api("GET", "/v1/tasks/00000000-0000-0000-0000-000000000000/history").status == 404


def test_deleted_task_keeps_history():
    admin = daemon.token("admin")
    assert api("DELETE", "/v1/tasks/" + state["task"], token=admin).status == 204
    r = api("GET", "/v1/tasks/%s/history" % state["task"])
    assert r.status == 200, r.body
    assert r.json()["items"][-1]["action"] == "delete", r.json()["items"][-1]


def test_journal_is_append_only_for_everyone():
    n = db.scalar("SELECT count(*) FROM journal")
    for sql in ("UPDATE journal SET note = 'x'", "DELETE FROM journal", "TRUNCATE journal"):
        out = db.psql(sql, check=False)
        assert db.scalar("SELECT count(*) FROM journal") == n, sql
    # the superuser too, and a rebuilt api schema leaves the guard in place
    db.psql("DROP SCHEMA api CASCADE")
    try:
        db.psql("DELETE FROM journal")
        assert False, "DELETE succeeded"
    except RuntimeError as e:
        assert "append-only" in str(e), e
    assert db.scalar("SELECT count(*) FROM journal") == n


run(globals())
