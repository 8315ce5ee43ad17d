"""Plans, tasks and progress reports over real HTTP (issue: plans, tasks and
progress reports): creation with nested tasks, filters, pagination, the
state machine, optimistic locking, idempotency, unit scope, history, lights,
roll-up, summary and the change feed."""
import datetime
import json
import threading
import time
from urllib.parse import quote

from harness import Daemon, Database, http, run, skip_without_pg

skip_without_pg()
db = Database()
daemon = Daemon(db)
daemon.start()
admin = daemon.token("admin")
supervisor = daemon.token("supervisor")
viewer = daemon.token("viewer")
# The unit tree: 社会事务办 with 民生科 below it; 城管办 elsewhere.
editor_social = daemon.token("editor", unit="社会事务办")
today = datetime.date.today()


def day(offset):
    return (today + datetime.timedelta(days=offset)).isoformat()


def api(method, path, body=None, token=None, headers=None):
    return http(method, daemon.url + path, body=body, token=token or admin, headers=headers)


PLAN = {
    "title": "测试街道2025年工作谋划",
    "year": today.year,
    "tasks": [
        {"title": "聚力做好党建文章", "children": [
            {"title": "增设网格驿站", "lead_unit": "社会事务办", "owner": "王芳",
             "start_date": day(-100), "due_date": day(100),
             "targets": [{"label": "网格驿站", "value": 10, "unit": "处", "comparator": "="}],
             "milestones": [{"title": "选址完成", "due_date": day(30)}]},
            {"title": "孵化志愿服务团队", "lead_unit": "民生科", "due_date": day(-5), "start_date": day(-200)},
        ]},
        {"title": "提升城市品质", "children": [
            {"title": "老旧小区改造", "lead_unit": "城管办", "start_date": day(-10), "due_date": day(300),
             "targets": [{"label": "改造面积", "value": 8.5, "unit": "万平方米", "comparator": ">="}]},
        ]},
    ],
}

state = {}


def find(tasks, title):
    for t in tasks:
        if t["title"] == title:
            return t
        hit = find(t.get("children", []), title)
        if hit:
            return hit
    return None


def test_create_plan_with_tree():
    r = api("POST", "/v1/plans", PLAN, token=supervisor)
    assert r.status == 201, r.body
    plan = r.json()
    state["plan"] = plan["id"]
    assert plan["title"] == PLAN["title"]
    r = api("GET", "/v1/plans/%s?include=tree" % plan["id"])
    assert r.status == 200, r.body
    tree = r.json()["tasks"]
    assert [t["title"] for t in tree] == ["聚力做好党建文章", "提升城市品质"]
    station = find(tree, "增设网格驿站")
    assert station["lead_unit"] == "社会事务办" and station["owner"] == "王芳"
    assert station["targets"][0]["value"] == 10 and station["targets"][0]["unit"] == "处"
    assert station["milestones"][0]["title"] == "选址完成"
    assert station["code"] and station["version"] >= 1
    for title in ("增设网格驿站", "孵化志愿服务团队", "老旧小区改造", "聚力做好党建文章"):
        state[title] = find(tree, title)["id"]
    r = api("GET", "/v1/plans", token=viewer)
    assert any(p["id"] == plan["id"] for p in r.json()["items"])


def test_make_the_unit_tree():
    # 民生科 sits below 社会事务办, so the 社会事务办 editor may report on its tasks.
    db.psql("UPDATE units SET parent_id = (SELECT id FROM units WHERE name = '社会事务办') "
            "WHERE name = '民生科'")


def test_plan_validation():
    r = api("POST", "/v1/plans", {"title": "x", "tasks": [{"title": "a", "oops": 1}]}, token=supervisor)
    assert r.status == 400 and "tasks[0].oops" in r.body.decode()
    r = api("POST", "/v1/plans", {"title": 3, "year": "2025", "tasks": [{"due_date": "2025-02-30"}]},
            token=supervisor)
    assert r.status == 422, r.body
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"title", "year", "tasks[0].title", "tasks[0].due_date"} <= fields, fields
    r = api("POST", "/v1/plans", {"title": "x"}, token=editor_social)
    assert r.status == 403


def test_get_task_with_etag():
    r = api("GET", "/v1/tasks/" + state["增设网格驿站"], token=viewer)
    assert r.status == 200, r.body
    t = r.json()
    assert r.headers["ETag"] == '"%d"' % t["version"]
    for key in ("id", "plan_id", "parent_id", "code", "title", "body", "status", "progress", "light",
                "lead_unit", "owner", "start_date", "due_date", "targets", "milestones", "version",
                "created_at", "updated_at"):
        assert key in t, key
    # a task with a lead unit starts assigned (交办), awaiting 签收
    assert t["status"] == "assigned" and t["light"] in ("green", "yellow")
    assert api("GET", "/v1/tasks/00000000-0000-0000-0000-000000000000").status == 404
    assert api("GET", "/v1/tasks/not-a-uuid").status == 404


def test_filters():
    plan = state["plan"]
    r = api("GET", "/v1/tasks?plan=%s&unit=%s" % (plan, quote("城管办")))
    assert [t["title"] for t in r.json()["items"]] == ["老旧小区改造"], r.body
    r = api("GET", "/v1/tasks?plan=%s&q=%s" % (plan, quote("志愿")))
    assert [t["title"] for t in r.json()["items"]] == ["孵化志愿服务团队"]
    r = api("GET", "/v1/tasks?plan=%s&light=red" % plan)
    # a section is as bad as its worst item
    assert [t["title"] for t in r.json()["items"]] == ["聚力做好党建文章", "孵化志愿服务团队"], r.body
    r = api("GET", "/v1/tasks?plan=%s&due_before=%s" % (plan, day(0)))
    assert [t["title"] for t in r.json()["items"]] == ["孵化志愿服务团队"]
    r = api("GET", "/v1/tasks?plan=%s&due_after=%s&parent=%s" % (plan, day(0), state["聚力做好党建文章"]))
    assert [t["title"] for t in r.json()["items"]] == ["增设网格驿站"]
    r = api("GET", "/v1/tasks?plan=%s&status=planned" % plan)
    assert len(r.json()["items"]) == 2
    r = api("GET", "/v1/tasks?plan=%s&status=assigned" % plan)
    assert len(r.json()["items"]) == 3
    r = api("GET", "/v1/tasks?status=late&due_before=2025-13-01&limit=0")
    assert r.status == 422
    assert {e["field"] for e in r.json()["errors"]} == {"status", "due_before", "limit"}


def test_pagination_visits_each_row_once():
    tasks = [{"title": "分页%03d" % i} for i in range(57)]
    r = api("POST", "/v1/plans", {"title": "分页", "tasks": tasks}, token=supervisor)
    assert r.status == 201, r.body
    plan = r.json()["id"]
    seen, cursor, pages = [], None, 0
    while True:
        q = "/v1/tasks?plan=%s&limit=10" % plan + ("&cursor=" + cursor if cursor else "")
        page = api("GET", q).json()
        seen += [t["id"] for t in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 20
    assert len(seen) == 57 and len(set(seen)) == 57
    assert pages == 6


def test_report_progress_and_history():
    tid = state["增设网格驿站"]
    t = api("GET", "/v1/tasks/" + tid).json()
    target = t["targets"][0]["id"]
    r = api("POST", "/v1/tasks/%s/updates" % tid,
            {"status": "in_progress", "progress": 40, "targets": [{"id": target, "current": 4}],
             "note": "本月新增4处", "problems": "选址难", "next_steps": "6月底前完成"},
            token=editor_social, headers={"If-Match": '"%d"' % t["version"]})
    assert r.status == 201, r.body
    body = r.json()
    assert body["task"]["status"] == "in_progress" and body["task"]["progress"] == 40
    # the report signed the assigned task in passing: one version for 签收, one for the report
    assert body["task"]["version"] == t["version"] + 2 and body["task"]["signed_at"]
    assert body["task"]["targets"][0]["current"] == 4
    u = body["update"]
    assert u["status_from"] == "planned" and u["status_to"] == "in_progress" and u["note"] == "本月新增4处"
    r = api("GET", "/v1/tasks/%s/updates" % tid, token=viewer)
    items = r.json()["items"]
    assert items[0]["id"] == u["id"] and items[0]["problems"] == "选址难" and items[0]["author"]
    # the progress history holds the report; the journal shows the 签收 as its own step first
    assert [i["kind"] for i in items] == ["report"], items
    steps = [h["action"] for h in api("GET", "/v1/tasks/%s/history" % tid).json()["items"] if h["entity"] == "task"]
    assert steps.index("sign") < steps.index("report"), steps


def test_stale_if_match_is_412():
    tid = state["增设网格驿站"]
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": 50}, headers={"If-Match": '"1"'})
    assert r.status == 412, r.body
    r = api("PATCH", "/v1/tasks/" + tid, {"owner": "李强"}, headers={"If-Match": '"1"'})
    assert r.status == 412


def test_invalid_transition_is_409():
    tid = state["老旧小区改造"]
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"status": "verified"}, token=supervisor)
    assert r.status == 409, r.body
    assert api("GET", "/v1/tasks/" + tid).json()["status"] == "assigned", "nothing written, not even the 签收"


def test_state_machine_walk():
    tid = state["老旧小区改造"]
    # 办结 needs a closing note, 退回 a reason, and 销号 a second supervisor
    other = daemon.token("supervisor")
    for status, code, who in (("in_progress", 201, supervisor), ("blocked", 201, supervisor),
                              ("in_progress", 201, supervisor), ("done", 201, supervisor),
                              ("in_progress", 201, supervisor), ("done", 201, supervisor),
                              ("verified", 201, other), ("in_progress", 409, supervisor)):
        r = api("POST", "/v1/tasks/%s/updates" % tid, {"status": status, "note": "第%s步" % status}, token=who)
        assert r.status == code, (status, r.body)
    t = api("GET", "/v1/tasks/" + tid).json()
    assert t["status"] == "verified" and t["light"] == "verified" and t["progress"] == 100


def test_editor_scope_and_verified_role():
    r = api("POST", "/v1/tasks/%s/updates" % state["老旧小区改造"], {"note": "越权"}, token=editor_social)
    assert r.status == 403, r.body
    r = api("POST", "/v1/tasks/%s/updates" % state["孵化志愿服务团队"], {"progress": 10, "note": "下级单位"},
            token=editor_social)
    assert r.status == 201, r.body
    tid = state["增设网格驿站"]
    assert api("POST", "/v1/tasks/%s/updates" % tid, {"status": "done", "note": "已办结"},
               token=editor_social).status == 201
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"status": "verified"}, token=editor_social)
    assert r.status == 403, r.body
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"note": "x"}, token=viewer)
    assert r.status == 403


def test_report_validation():
    tid = state["孵化志愿服务团队"]
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": 140, "status": "finished", "targets": [{"id": 1}]})
    assert r.status == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"progress", "status", "targets[0].id", "targets[0].current"} <= fields, fields
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"mood": "good"})
    assert r.status == 400 and r.json()["errors"][0]["field"] == "mood"
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"problems": "only problems"})
    assert r.status == 422
    json_hdr = {"Content-Type": "application/json"}
    r = api("POST", "/v1/tasks/%s/updates" % tid, b'{"note":"\xff\xfe"}', headers=json_hdr)
    assert r.status == 400, "invalid UTF-8 is malformed JSON"
    r = api("POST", "/v1/tasks/%s/updates" % tid, b'{"note":"\\ud800"}', headers=json_hdr)
    assert r.status == 400, "a lone surrogate is not a string"


def test_twenty_concurrent_reports_all_land():
    tid = state["孵化志愿服务团队"]
    before = api("GET", "/v1/tasks/" + tid).json()["version"]
    codes = []

    def report(i):
        r = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": i + 1, "note": "并发%d" % i})
        codes.append(r.status)

    threads = [threading.Thread(target=report, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [201] * 20, codes
    after = api("GET", "/v1/tasks/" + tid).json()
    assert after["version"] == before + 20
    history = api("GET", "/v1/tasks/%s/updates?limit=500" % tid).json()["items"]
    notes = {h["note"] for h in history}
    assert all("并发%d" % i in notes for i in range(20))


def test_idempotency_key_replay():
    tid = state["孵化志愿服务团队"]
    key = {"Idempotency-Key": "report-%f" % time.time()}
    body = {"progress": 77, "note": "幂等"}
    first = api("POST", "/v1/tasks/%s/updates" % tid, body, headers=key)
    assert first.status == 201, first.body
    version = api("GET", "/v1/tasks/" + tid).json()["version"]
    again = api("POST", "/v1/tasks/%s/updates" % tid, body, headers=key)
    assert again.status == 201
    assert again.json()["update"]["id"] == first.json()["update"]["id"]
    assert api("GET", "/v1/tasks/" + tid).json()["version"] == version, "replay changed the task"
    other = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": 78}, headers=key)
    assert other.status == 422, other.body
    # Keys are scoped to the token that sent them.
    mine = api("POST", "/v1/tasks/%s/updates" % tid, body, headers=key, token=supervisor)
    assert mine.status == 201 and mine.json()["update"]["id"] != first.json()["update"]["id"]


def _fresh_task(title):
    r = api("POST", "/v1/tasks", {"plan_id": state["plan"], "parent_id": state["聚力做好党建文章"],
                                  "title": title, "lead_unit": "社会事务办", "due_date": day(60)}, token=supervisor)
    assert r.status == 201, r.body
    return r.json()["id"]


def count(sql):
    return int(db.psql(sql).strip())


def test_report_return_minimal():
    """Prefer: return=minimal (RFC 7240): 204 without a body, the new version as
    ETag, the event's id and Preference-Applied; the same write as a full report:
    history row, journal, event, version, and the cached task document dropped."""
    tid = _fresh_task("简报任务")
    before = api("GET", "/v1/tasks/" + tid).json()   # (cached now)
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": 30, "note": "简报"},
            token=editor_social, headers={"Prefer": "return=minimal"})
    assert r.status == 204 and r.body == b"", r
    assert r.headers["Preference-Applied"] == "return=minimal", r.headers
    after = api("GET", "/v1/tasks/" + tid).json()
    assert after["version"] > before["version"] and r.headers["ETag"] == '"%d"' % after["version"], r.headers
    assert after["progress"] == 30 and after["status"] == "planned" and after["signed_at"]
    event = r.headers["X-Event-Id"]
    assert count("SELECT count(*) FROM events WHERE id = %s AND type = 'task.reported' AND task_id = '%s' "
                 "AND (payload->>'version')::int = %d AND (payload->>'progress')::int = 30"
                 % (event, tid, after["version"])) == 1
    items = api("GET", "/v1/tasks/%s/updates" % tid).json()["items"]
    assert [(i["progress_from"], i["progress"], i["note"]) for i in items] == [(0, 30, "简报")], items
    steps = [h["action"] for h in api("GET", "/v1/tasks/%s/history" % tid).json()["items"] if h["entity"] == "task"]
    assert "sign" in steps and "report" in steps, steps
    # the default and return=representation answer as before, the latter saying so
    full = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": 35}, token=editor_social)
    assert full.status == 201 and "Preference-Applied" not in full.headers
    assert full.json()["task"]["progress"] == 35 and full.json()["update"]["progress_from"] == 30
    rep = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": 40},
              headers={"Prefer": "return=representation"})
    assert rep.status == 201 and rep.headers["Preference-Applied"] == "return=representation"
    assert rep.json()["task"]["version"] == full.json()["task"]["version"] + 1
    assert rep.headers["ETag"] == '"%d"' % rep.json()["task"]["version"]
    # other preferences, case, quotes and parameters (RFC 7240 section 2)
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"status": "in_progress"},
            headers={"Prefer": 'respond-async, RETURN = "minimal"; x=1'})
    assert r.status == 204 and r.headers["ETag"] == '"%d"' % (rep.json()["task"]["version"] + 1), r


def test_report_return_minimal_errors_and_replay():
    """A refused report with return=minimal is the same problem+json as without;
    with Idempotency-Key a replay answers 204 again and writes nothing, and the
    same key asking for the full answer is another request (422)."""
    tid = _fresh_task("简报错误")
    minimal = {"Prefer": "return=minimal"}
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": 140}, headers=minimal)
    assert r.status == 422 and r.headers["Content-Type"] == "application/problem+json", r
    assert "Preference-Applied" not in r.headers and r.json()["errors"][0]["field"] == "progress"
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"status": "verified"}, token=supervisor, headers=minimal)
    assert r.status == 409 and r.headers["Content-Type"] == "application/problem+json", r
    r = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": 5}, headers=dict(minimal, **{"If-Match": '"999"'}))
    assert r.status == 412 and r.headers["Content-Type"] == "application/problem+json", r
    assert count("SELECT count(*) FROM updates WHERE task_id = '%s'" % tid) == 0, "nothing written"
    key = dict(minimal, **{"Idempotency-Key": "minimal-%f" % time.time()})
    first = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": 12}, headers=key)
    assert first.status == 204 and first.headers["ETag"], first
    again = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": 12}, headers=key)
    assert again.status == 204 and again.headers["ETag"] == first.headers["ETag"], again
    assert count("SELECT count(*) FROM updates WHERE task_id = '%s'" % tid) == 1, "the replay wrote nothing"
    other = api("POST", "/v1/tasks/%s/updates" % tid, {"progress": 12},
                headers={"Idempotency-Key": key["Idempotency-Key"]})
    assert other.status == 422, other


def test_patch_create_delete():
    r = api("POST", "/v1/tasks", {"plan_id": state["plan"], "parent_id": state["聚力做好党建文章"],
                                  "title": "新增任务", "due_date": day(20)}, token=supervisor)
    assert r.status == 201, r.body
    t = r.json()
    r = api("PATCH", "/v1/tasks/" + t["id"], {"owner": "赵敏", "lead_unit": "城管办"},
            headers={"If-Match": r.headers["ETag"]}, token=supervisor)
    assert r.status == 200, r.body
    assert r.json()["owner"] == "赵敏" and r.json()["version"] == t["version"] + 1
    assert api("PATCH", "/v1/tasks/" + t["id"], {"id": "x"}).status == 400
    assert api("PATCH", "/v1/tasks/" + t["id"], {}).status == 422
    assert api("DELETE", "/v1/tasks/" + t["id"], token=supervisor).status == 403
    assert api("DELETE", "/v1/tasks/" + t["id"]).status == 204
    assert api("GET", "/v1/tasks/" + t["id"]).status == 404
    ids = [x["id"] for x in api("GET", "/v1/tasks?plan=%s&limit=500" % state["plan"]).json()["items"]]
    assert t["id"] not in ids
    assert db.psql("SELECT count(*) FROM updates WHERE task_id = '%s'" % t["id"]).strip() != ""


def test_rollup_parent_progress():
    parent = api("GET", "/v1/tasks/" + state["聚力做好党建文章"]).json()
    kids = api("GET", "/v1/tasks?parent=%s" % state["聚力做好党建文章"]).json()["items"]
    avg = round(sum(k["progress"] for k in kids) / len(kids))
    assert abs(parent["progress"] - avg) <= 1, (parent["progress"], [k["progress"] for k in kids])


def test_summary():
    r = api("GET", "/v1/plans/%s/summary" % state["plan"], token=viewer)
    assert r.status == 200, r.body
    s = r.json()
    assert sum(s["by_status"].values()) == s["tasks"]
    assert sum(s["by_light"].values()) == s["tasks"]
    assert 0 <= s["progress"] <= 100
    assert isinstance(s["overdue"], list)
    units = {u["unit"]: u for u in s["units"]}
    assert "社会事务办" in units and "城管办" in units
    ranks = sorted(u["rank"] for u in s["units"])
    assert ranks[0] == 1
    for u in s["units"]:
        for key in ("tasks", "done", "on_time_rate", "avg_progress", "red", "rank"):
            assert key in u, key


def test_change_feed_long_poll():
    # Writes publish their events asynchronously (after the reply), so an
    # earlier test's event may still be unnumbered: wait for the newest one,
    # by the id its write returned, before reading the starting seq.
    r = api("POST", "/v1/tasks/%s/updates" % state["孵化志愿服务团队"], {"note": "起点"})
    assert r.status == 201 and r.headers.get("X-Event-Id"), r.headers
    r = api("GET", "/v1/events?after=0&limit=1&wait=10&wait_for=%s" % r.headers["X-Event-Id"], token=viewer)
    assert r.status == 200 and r.json()["published"] is True, r.body
    r = api("GET", "/v1/events?after=0&limit=500", token=viewer)
    assert r.status == 200
    page = r.json()
    assert page["events"] and page["next_after"] >= page["events"][-1]["seq"]
    last = page["next_after"]
    while page["events"]:
        page = api("GET", "/v1/events?after=%d&limit=500" % last).json()
        last = page["next_after"]
    result = {}

    def waiter():
        t0 = time.time()
        result["r"] = api("GET", "/v1/events?after=%d&wait=10" % last, token=viewer)
        result["t"] = time.time() - t0

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.5)
    rep = api("POST", "/v1/tasks/%s/updates" % state["孵化志愿服务团队"], {"note": "唤醒"})
    th.join(12)
    assert result["r"].status == 200
    events = result["r"].json()["events"]
    assert events and events[0]["seq"] > last and events[0]["type"] == "task.reported", events
    assert events[0]["id"] == int(rep.headers["X-Event-Id"]), (events[0], rep.headers)
    assert result["t"] < 5, "long poll was not woken by the report"
    r = api("GET", "/v1/events?after=%d&wait=1" % (last + 10 ** 6))
    assert r.status == 200 and r.json()["events"] == []
    assert api("GET", "/v1/events?wait=999").status == 422


run(globals())
