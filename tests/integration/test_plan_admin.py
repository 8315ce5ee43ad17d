"""Plan administration and what the parser reads, over real HTTP (issue 12):
the reference plan (../shared/samples/chengdong-2025-plan.txt) imported
stores its facts (原有119支志愿服务队伍 …), due sources, target verbs and
milestone targets, and task documents show them; a plan is renamed
(If-Match, journaled, plan.updated), archived (hidden from lists, no
reminders) and unarchived; deleted without reports, refused with reports
until an admin confirms with its title, restored; a task moved under another
parent renumbers codes of old and new siblings and descendants and is
journaled; a move into its own subtree or another plan is refused with
nothing written. Every refusal is checked both ways: the problem names the
field or rule, and nothing changed."""
import json
import os
from urllib.parse import quote

from harness import Daemon, Database, http, run, skip_without_pg

skip_without_pg()

ROOT = os.environ.get("PLANTRACK_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SAMPLE = os.path.join(ROOT, "..", "shared", "samples", "chengdong-2025-plan.txt")
CONFIG = "[clock]\ntoday = 2025-06-25\n"
SNAP = ("SELECT string_agg(id::text || coalesce(parent_id::text, '-') || coalesce(code, '') || coalesce(seq::text, ''),"
        " ',' ORDER BY id) FROM tasks WHERE plan_id = '%s'")

db = Database()
d = Daemon(db, config_text=CONFIG)
d.start()
admin = d.token("admin", name="管理员")
sup = d.token("supervisor", name="督查室张")
editor = d.token("editor", unit="社会事务办", name="社会事务办填报")
viewer = d.token("viewer")
state = {}


def api(method, path, body=None, token=None, headers=None):
    return http(method, d.url + path, body=body, token=token or sup, headers=headers)


def count(sql):
    return int(db.scalar(sql))


def refused(r, status, slug=None):
    assert r.status == status, (r.status, r.body[:400])
    p = r.json()
    assert r.headers["Content-Type"].startswith("application/problem+json") and p["status"] == status, p
    if slug:
        assert p["type"] == "urn:plantrack:problem:" + slug, p
    return p


def field_error(p, field, rule=None):
    errs = [e for e in p.get("errors", []) if e["field"] == field]
    assert errs, p
    if rule:
        assert errs[0].get("rule") == rule, p


def tasks_of(plan, token=None, extra=""):
    r = api("GET", "/v1/tasks?plan=%s&limit=500%s" % (plan, extra), token=token or viewer)
    assert r.status == 200, r.body[:300]
    return r.json()["items"]


def leaves(rows):
    parents = {t["parent_id"] for t in rows}
    return [t for t in rows if t["parent_id"] and t["id"] not in parents]


def journal_rows(task):
    return int(db.scalar("SELECT count(*) FROM journal WHERE task_id = '%s'" % task))


# ---------------------------------------------------------------- what the parser reads

def test_import_stores_facts_verbs_and_due_sources():
    with open(SAMPLE, "rb") as f:
        text = f.read()
    r = http("POST", d.url + "/v1/plans/import?year=2025", body=text, token=sup,
             headers={"Content-Type": "text/plain; charset=utf-8"})
    assert r.status == 201, r.body[:300]
    state["plan"] = r.json()["id"]
    rows = tasks_of(state["plan"])
    hit = [t for t in rows for f in t["facts"] if f["value"] == 119 and "原有119支志愿服务队伍" in (f["text"] or "")]
    assert hit, [t["facts"] for t in rows if t["facts"]][:3]
    task = hit[0]
    # facts are shown, never scored: the targets of that task do not include them
    assert all(g["value"] != 119 for g in task["targets"]), task["targets"]
    # the task document (GET, the cache's path) shows them too
    got = api("GET", "/v1/tasks/" + task["id"], token=viewer).json()
    assert got["facts"] == task["facts"] and "note" in got and "due_date_source" in got, got
    # target verbs, strive and milestone targets as the parser emitted them
    preview = http("POST", d.url + "/v1/plans/import?year=2025&dry_run=true&title=x", body=text, token=sup,
                   headers={"Content-Type": "text/plain; charset=utf-8"}).json()

    def walk(ts):
        for t in ts:
            yield t
            yield from walk(t.get("children") or [])
    parsed = list(walk(preview["tasks"]))
    same = next(t for t in parsed if t["code"] == task["code"])
    assert [f["value"] for f in same["facts"]] == [f["value"] for f in task["facts"]], (same["facts"], task["facts"])
    verbs = sum(1 for t in parsed for g in t.get("targets", []) if g.get("verb"))
    strive = sum(1 for t in parsed for g in t.get("targets", []) if g.get("strive"))
    ms_targets = sum(1 for t in parsed for m in t.get("milestones", []) if m.get("target"))
    sources = sum(1 for t in parsed if t.get("due_source"))
    facts = sum(len(t.get("facts", [])) for t in parsed)
    pid = state["plan"]
    of_plan = "JOIN tasks t ON t.id = x.task_id WHERE t.plan_id = '%s'" % pid
    assert verbs > 0 and count("SELECT count(*) FROM targets x %s AND x.verb IS NOT NULL" % of_plan) == verbs
    assert count("SELECT count(*) FROM targets x %s AND x.strive" % of_plan) == strive
    assert count("SELECT count(*) FROM milestones x %s AND x.target IS NOT NULL" % of_plan) == ms_targets
    assert count("SELECT count(*) FROM tasks WHERE plan_id = '%s' AND due_source IS NOT NULL" % pid) == sources
    assert count("SELECT coalesce(sum(jsonb_array_length(facts)), 0) FROM tasks WHERE plan_id = '%s'" % pid) == facts
    docs = [g for t in rows for g in t["targets"]]
    assert sum(1 for g in docs if g["verb"]) == verbs and all(isinstance(g["strive"], bool) for g in docs)


def test_note_and_facts_through_the_api():
    leaf = leaves(tasks_of(state["plan"]))[0]
    r = api("PATCH", "/v1/tasks/" + leaf["id"], {"note": "备注一", "facts": [{"label": "网格", "value": 12, "unit": "个"}]})
    assert r.status == 200, r.body
    assert r.json()["note"] == "备注一" and r.json()["facts"][0]["value"] == 12, r.body
    # a bad fact: 422 naming the field, nothing written
    version = r.json()["version"]
    p = refused(api("PATCH", "/v1/tasks/" + leaf["id"], {"note": "x", "facts": [{"value": "many"}]}), 422)
    field_error(p, "facts[0].value")
    p = refused(api("PATCH", "/v1/tasks/" + leaf["id"], {"facts": "many"}), 422)
    field_error(p, "facts")
    got = api("GET", "/v1/tasks/" + leaf["id"]).json()
    assert got["version"] == version and got["note"] == "备注一", got


# ---------------------------------------------------------------- rename, archive

def test_rename_with_if_match():
    pid = state["plan"]
    r = api("GET", "/v1/plans/" + pid, token=viewer)
    etag = r.headers["ETag"]
    # a stale ETag: 412, nothing written
    p = refused(api("PATCH", "/v1/plans/" + pid, {"title": "新标题"}, headers={"If-Match": '"99"'}), 412)
    assert "version" in p["detail"], p
    assert api("GET", "/v1/plans/" + pid).json()["title"] != "新标题"
    # empty title, unknown field, wrong role: refused, nothing written
    field_error(refused(api("PATCH", "/v1/plans/" + pid, {"title": ""}), 422), "title")
    refused(api("PATCH", "/v1/plans/" + pid, {"year": 2026}), 400)
    refused(api("PATCH", "/v1/plans/" + pid, {"title": "x"}, token=editor), 403)
    assert api("GET", "/v1/plans/" + pid).headers["ETag"] == etag
    r = api("PATCH", "/v1/plans/" + pid, {"title": "城东街道2025年工作计划（修订）"}, headers={"If-Match": etag})
    assert r.status == 200 and r.json()["title"] == "城东街道2025年工作计划（修订）", r.body
    assert r.headers["ETag"] != etag and r.headers.get("X-Event-Id"), r.headers
    assert count("SELECT count(*) FROM events WHERE id = %s AND type = 'plan.updated'" % r.headers["X-Event-Id"]) == 1
    assert count("SELECT count(*) FROM journal WHERE plan_id = '%s' AND entity = 'plan' AND action = 'update'"
                 " AND changes ? 'title'" % pid) == 1


def test_archive_hides_from_lists():
    pid = state["plan"]
    other = api("POST", "/v1/plans", {"title": "另一个计划", "tasks": [{"title": "事项", "due_date": "2025-06-26"}]}).json()
    state["other"] = other["id"]
    refused(api("POST", "/v1/plans/%s/archive" % pid, {}, token=editor), 403)
    r = api("POST", "/v1/plans/%s/archive" % pid, {})
    assert r.status == 200 and r.json()["archived_at"] and r.json()["archived_by"] == "督查室张", r.body
    assert count("SELECT count(*) FROM events WHERE plan_id = '%s' AND type = 'plan.archived'" % pid) == 1
    ids = [p["id"] for p in api("GET", "/v1/plans?limit=500", token=viewer).json()["items"]]
    assert pid not in ids and other["id"] in ids, ids
    ids = [p["id"] for p in api("GET", "/v1/plans?archived=true&limit=500", token=viewer).json()["items"]]
    assert pid in ids, ids
    refused(api("GET", "/v1/plans?archived=maybe", token=viewer), 422)
    # tasks: hidden from the cross-plan list, shown when the plan is named or archived=true
    everything = api("GET", "/v1/tasks?limit=500", token=viewer).json()["items"]
    assert all(t["plan_id"] != pid for t in everything)
    assert tasks_of(pid) and api("GET", "/v1/plans/" + pid, token=viewer).status == 200
    # no reminders for an archived plan (its tasks are overdue on the fixed day)
    leaf = leaves(tasks_of(pid))[0]
    r = api("PATCH", "/v1/tasks/" + leaf["id"], {"due_date": "2025-06-20", "lead_unit": "社会事务办"})
    assert r.status == 200, r.body
    db.psql("SELECT pt_reminders_run('{\"today\": \"2025-06-25\"}')")
    assert count("SELECT count(*) FROM events WHERE task_id = '%s' AND type LIKE 'task.%%'"
                 " AND type IN ('task.overdue', 'task.due_soon', 'task.unsigned')" % leaf["id"]) == 0
    # while the other plan's overdue task is reminded of
    assert count("SELECT count(*) FROM events WHERE plan_id = '%s' AND type = 'task.due_soon'" % other["id"]) == 1
    # archiving twice changes nothing; unarchive brings it back
    assert api("POST", "/v1/plans/%s/archive" % pid, {}).status == 200
    assert count("SELECT count(*) FROM events WHERE plan_id = '%s' AND type = 'plan.archived'" % pid) == 1
    r = api("POST", "/v1/plans/%s/unarchive" % pid, {})
    assert r.status == 200 and r.json()["archived_at"] is None, r.body
    assert pid in [p["id"] for p in api("GET", "/v1/plans?limit=500").json()["items"]]
    assert count("SELECT count(*) FROM events WHERE plan_id = '%s' AND type = 'plan.unarchived'" % pid) == 1


# ---------------------------------------------------------------- delete, restore

def test_delete_without_reports_and_restore():
    oid = state["other"]
    task = tasks_of(oid)[0]
    refused(api("DELETE", "/v1/plans/" + oid, token=editor), 403)
    r = api("DELETE", "/v1/plans/" + oid)
    assert r.status == 204, r.body
    assert count("SELECT count(*) FROM plans WHERE id = '%s' AND deleted_at IS NOT NULL AND deleted_by = '督查室张'" % oid) == 1
    refused(api("GET", "/v1/plans/" + oid, token=viewer), 404)
    refused(api("GET", "/v1/tasks/" + task["id"], token=viewer), 404)
    refused(api("PATCH", "/v1/tasks/" + task["id"], {"note": "x"}), 404)
    assert oid not in [p["id"] for p in api("GET", "/v1/plans?archived=true&limit=500").json()["items"]]
    assert all(t["plan_id"] != oid for t in api("GET", "/v1/tasks?archived=true&limit=500").json()["items"])
    # restore: supervisor or admin; a live plan is 409, an unknown one 404
    refused(api("POST", "/v1/plans/%s/restore" % oid, {}, token=editor), 403)
    r = api("POST", "/v1/plans/%s/restore" % oid, {})
    assert r.status == 200 and r.json()["id"] == oid, r.body
    assert api("GET", "/v1/tasks/" + task["id"], token=viewer).status == 200
    refused(api("POST", "/v1/plans/%s/restore" % oid, {}), 409, "not-deleted")
    refused(api("POST", "/v1/plans/00000000-0000-0000-0000-000000000000/restore", {}), 404)
    types = db.psql("SELECT string_agg(type, ',' ORDER BY seq NULLS LAST, id) FROM events WHERE plan_id = '%s'" % oid)
    assert "plan.deleted" in types and "plan.restored" in types, types


def test_delete_with_reports_needs_admin_confirmation():
    pid = state["plan"]
    title = api("GET", "/v1/plans/" + pid).json()["title"]
    leaf = next(t for t in leaves(tasks_of(pid)) if t["lead_unit"] == "社会事务办")
    r = api("POST", "/v1/tasks/%s/updates" % leaf["id"], {"progress": 20, "note": "已启动"}, token=editor)
    assert r.status == 201, r.body
    # the supervisor, and an admin without confirmation: 409 naming the rule, nothing written
    p = refused(api("DELETE", "/v1/plans/" + pid), 409, "plan-has-reports")
    assert "confirm" in p["detail"], p
    refused(api("DELETE", "/v1/plans/%s?confirm=%s" % (pid, quote(title))), 409, "plan-has-reports")
    refused(api("DELETE", "/v1/plans/" + pid, token=admin), 409, "plan-has-reports")
    zh = refused(api("DELETE", "/v1/plans/" + pid, headers={"Accept-Language": "zh-CN"}), 409, "plan-has-reports")
    assert zh["title"] == "计划已有进度填报" and "1 条进度填报" in zh["detail"], zh
    zh = refused(api("POST", "/v1/tasks/%s/move" % leaf["id"], {"parent_id": leaf["id"]},
                     headers={"Accept-Language": "zh-CN"}), 422)
    assert "不能是该任务本身或其下级任务" in json.dumps(zh, ensure_ascii=False), zh
    # the wrong title: 422 naming confirm
    p = refused(api("DELETE", "/v1/plans/%s?confirm=%s" % (pid, quote("别的计划")), token=admin), 422)
    field_error(p, "confirm", "confirm")
    assert count("SELECT count(*) FROM plans WHERE id = '%s' AND deleted_at IS NULL" % pid) == 1
    assert count("SELECT count(*) FROM events WHERE plan_id = '%s' AND type = 'plan.deleted'" % pid) == 0
    r = api("DELETE", "/v1/plans/%s?confirm=%s" % (pid, quote(title)), token=admin)
    assert r.status == 204, r.body
    refused(api("GET", "/v1/plans/" + pid), 404)
    assert api("POST", "/v1/plans/%s/restore" % pid, {}).status == 200
    # older than 30 days: not restorable, purged by the periodic run
    oid = state["other"]
    assert api("DELETE", "/v1/plans/" + oid).status == 204
    db.psql("UPDATE plans SET deleted_at = now() - interval '31 days' WHERE id = '%s'" % oid)
    refused(api("POST", "/v1/plans/%s/restore" % oid, {}), 404)
    db.psql("SELECT pt_reminders_run('{\"today\": \"2025-06-25\"}')")
    assert count("SELECT count(*) FROM plans WHERE id = '%s'" % oid) == 0
    assert count("SELECT count(*) FROM plans WHERE id = '%s'" % pid) == 1


# ---------------------------------------------------------------- moving a task

def test_move_renumbers_codes_and_journals():
    pid = state["plan"]
    rows = tasks_of(pid)
    tops = [t for t in rows if t["parent_id"] is None]
    assert len(tops) >= 2, [t["code"] for t in tops]
    a, b = tops[0], tops[1]
    kids_a = [t for t in rows if t["parent_id"] == a["id"]]
    kids_b = [t for t in rows if t["parent_id"] == b["id"]]
    assert len(kids_a) >= 2, kids_a
    mover = kids_a[0]
    below = [t for t in rows if t["parent_id"] == mover["id"]]
    before = journal_rows(mover["id"])
    r = api("POST", "/v1/tasks/%s/move" % mover["id"], {"parent_id": b["id"], "position": 1})
    assert r.status == 200, r.body
    moved = r.json()
    assert moved["parent_id"] == b["id"] and moved["code"] == b["code"] + ".1" and moved["seq"] == 1, moved
    eid = r.headers.get("X-Event-Id")
    assert eid and count("SELECT count(*) FROM events WHERE id = %s AND type = 'task.moved'" % eid) == 1
    after = {t["id"]: t for t in tasks_of(pid)}
    # old siblings close the gap, new siblings move down one, descendants follow
    for i, t in enumerate(kids_a[1:], 1):
        assert after[t["id"]]["code"] == "%s.%d" % (a["code"], i) and after[t["id"]]["seq"] == i, after[t["id"]]
    for i, t in enumerate(kids_b, 2):
        assert after[t["id"]]["code"] == "%s.%d" % (b["code"], i), after[t["id"]]
    for t in below:
        assert after[t["id"]]["code"].startswith(moved["code"] + "."), after[t["id"]]
    # document order: the moved task first under b
    kids = [t["id"] for t in tasks_of(pid) if t["parent_id"] == b["id"]]
    assert kids[0] == mover["id"], kids
    # journaled: parent_id and code changes with action move
    assert journal_rows(mover["id"]) > before
    assert count("SELECT count(*) FROM journal WHERE task_id = '%s' AND action = 'move'"
                 " AND changes ? 'parent_id'" % mover["id"]) == 1
    assert count("SELECT count(*) FROM journal WHERE task_id = '%s' AND action = 'move'"
                 " AND changes ? 'code'" % mover["id"]) == 1
    if below:
        assert count("SELECT count(*) FROM journal WHERE task_id = '%s' AND action = 'move'"
                     " AND changes ? 'code'" % below[0]["id"]) == 1
    hist = api("GET", "/v1/tasks/%s/history?limit=500" % mover["id"]).json()["items"]
    assert any(h["action"] == "move" for h in hist), hist
    # back to the top level, last
    r = api("POST", "/v1/tasks/%s/move" % mover["id"], {"parent_id": None})
    assert r.status == 200 and r.json()["parent_id"] is None, r.body
    assert r.json()["seq"] == len(tops) + 1, r.json()["seq"]
    state["mover"] = mover["id"]


def test_bad_moves_change_nothing():
    pid = state["plan"]
    rows = tasks_of(pid)
    mover = next(t for t in rows if t["id"] == state["mover"])
    kid = next((t for t in rows if t["parent_id"] == mover["id"]), None)
    snapshot = db.psql(SNAP % pid)
    moves = "SELECT count(*) FROM events WHERE type = 'task.moved'"
    events = count(moves)
    p = refused(api("POST", "/v1/tasks/%s/move" % mover["id"], {"parent_id": mover["id"]}), 422)
    field_error(p, "parent_id", "cycle")
    if kid:
        field_error(refused(api("POST", "/v1/tasks/%s/move" % mover["id"], {"parent_id": kid["id"]}), 422),
                    "parent_id", "cycle")
    other = api("POST", "/v1/plans", {"title": "第三个计划", "tasks": [{"title": "外部"}]}).json()
    p = refused(api("POST", "/v1/tasks/%s/move" % mover["id"], {"parent_id": other["tasks"][0]["id"]}), 422)
    field_error(p, "parent_id", "same-plan")
    field_error(refused(api("POST", "/v1/tasks/%s/move" % mover["id"], {}), 422), "parent_id")
    field_error(refused(api("POST", "/v1/tasks/%s/move" % mover["id"], {"parent_id": None, "position": 0}), 422),
                "position")
    refused(api("POST", "/v1/tasks/%s/move" % mover["id"], {"parent_id": None}, headers={"If-Match": '"999"'}), 412)
    refused(api("POST", "/v1/tasks/%s/move" % mover["id"], {"parent_id": None}, token=editor), 403)
    assert db.psql(SNAP % pid) == snapshot
    assert count(moves) == events
    assert count("SELECT count(*) FROM journal WHERE task_id = '%s' AND action = 'move'"
                 " AND changes ? 'parent_id'" % mover["id"]) == 2


run(globals())
