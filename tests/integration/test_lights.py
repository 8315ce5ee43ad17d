"""Lights, progress and rankings that tell leaders the truth, as of any day
(issue 10). The reference plan (../shared/samples, read from there) imported
as a 2025 plan with no reports, read as of several days of 2025 and 2026;
effective due dates, 序时进度, progress from targets and children (weights,
cancelled children out), the 季度赛马 ranking reproducible from the journal,
and bad input (as_of before the plan, malformed period, weight <= 0, unknown
query parameters) rejected with nothing written."""
import json
import os

from harness import Daemon, Database, http, run, skip_without_pg

skip_without_pg()
ROOT = os.environ["PLANTRACK_SOURCE_DIR"]
SAMPLE = os.path.join(ROOT, "..", "shared", "samples", "chengdong-2025-plan.txt")
db = Database()
# "today" is pinned like a test clock: reads without as_of measure lights on it
daemon = Daemon(db, env={"PLANTRACK_TODAY": "2026-12-01"})
daemon.start()
admin = daemon.token("admin")
supervisor = daemon.token("supervisor")
state = {}


def api(method, path, body=None, token=None):
    return http(method, daemon.url + path, body=body, token=token or admin)


def get(path):
    r = api("GET", path)
    assert r.status == 200, (path, r.status, r.body[:500])
    return r.json()


def walk(nodes):
    for n in nodes:
        yield n
        yield from walk(n["children"])


def tree(as_of):
    return get("/v1/plans/%s?include=tree&as_of=%s" % (state["plan"], as_of))["tasks"]


RANK = {"red": 2, "yellow": 1}


def check_sections(nodes):
    """Every section's light is the worst of its own and its live items'."""
    for n in walk(nodes):
        live = [c for c in n["children"] if c["status"] != "cancelled"]
        if not live or n["status"] in ("done", "verified", "cancelled"):
            continue
        worst = max([RANK.get(n["own_light"], 0)] + [RANK.get(c["light"], 0) for c in live])
        assert RANK.get(n["light"], 0) == worst, (n["code"], n["light"], [c["light"] for c in live])
        counts = {}
        for d in walk(n["children"]):
            counts[d["light"]] = counts.get(d["light"], 0) + 1
        assert {k: v for k, v in n["light_counts"].items() if v} == counts, (n["code"], n["light_counts"], counts)


def test_import_reference_plan_as_2025():
    if not os.path.exists(SAMPLE):
        print("skip: %s not found" % SAMPLE)
        return
    r = http("POST", daemon.url + "/v1/plans/import?year=2025", body=open(SAMPLE, "rb").read(), token=admin,
             headers={"Content-Type": "text/plain; charset=utf-8"})
    assert r.status == 201, r.body[:500]
    state["plan"] = r.json()["id"]
    nodes = list(walk(r.json()["tasks"]))
    assert len(nodes) == 54
    for n in nodes:
        assert n["effective_due"] and n["due_source"] in ("own", "parent", "plan"), n
        if n["due_date"]:
            assert n["due_source"] == "own" and n["effective_due"] == n["due_date"]
        else:
            assert n["due_source"] in ("parent", "plan")
    assert any(n["due_source"] == "plan" and n["effective_due"] == "2025-12-31" for n in nodes)


def test_as_of_2025_03_01_nothing_red():
    if "plan" not in state:
        return
    nodes = tree("2025-03-01")
    reds = [(n["code"], n["effective_due"]) for n in walk(nodes) if n["light"] == "red"]
    assert not reds, reds
    check_sections(nodes)


def test_as_of_2025_07_15_unreported_year_end_items_yellow():
    if "plan" not in state:
        return
    nodes = tree("2025-07-15")
    year_end = [n for n in walk(nodes) if n["effective_due"] == "2025-12-31" and n["progress"] == 0
                and n["status"] == "planned"]
    assert year_end
    for n in year_end:
        assert n["light"] in ("yellow", "red"), (n["code"], n["light"])
        assert n["own_light"] == "yellow", (n["code"], n["own_light"], n["expected_progress"])
        assert 50 < n["expected_progress"] < 56, n["expected_progress"]
    check_sections(nodes)


def test_as_of_2026_01_05_every_unfinished_item_red():
    if "plan" not in state:
        return
    nodes = tree("2026-01-05")
    for n in walk(nodes):
        if n["status"] not in ("done", "verified", "cancelled"):
            assert n["light"] == "red" and n["late"], (n["code"], n["light"])
    check_sections(nodes)
    s = get("/v1/plans/%s/summary?as_of=2026-01-05" % state["plan"])
    assert s["as_of"] == "2026-01-05" and s["by_light"] == {"red": 54}, s["by_light"]
    for u in s["units"]:
        assert 0 <= u["on_time_rate"] <= 1 and 0 <= u["red_share"] <= 1, u


def test_list_and_export_as_of():
    if "plan" not in state:
        return
    r = get("/v1/tasks?plan=%s&light=red&as_of=2025-03-01&limit=500" % state["plan"])
    assert r["items"] == [] and r["as_of"] == "2025-03-01"
    r = get("/v1/tasks?plan=%s&as_of=2026-01-05&limit=500" % state["plan"])
    assert len(r["items"]) == 54 and all(t["light"] == "red" for t in r["items"])
    r = api("GET", "/v1/plans/%s/export.csv?as_of=2026-01-05" % state["plan"])
    assert r.status == 200 and "red" in r.body.decode("utf-8-sig")
    lines = r.body.decode("utf-8-sig").split("\r\n")
    assert "完成时限 effective_due" in lines[0] and "进度来源 progress_source" in lines[0], lines[0]
    r = api("GET", "/v1/plans/%s/export.csv?as_of=2025-07-15&lang=zh" % state["plan"])
    text = r.body.decode("utf-8-sig")
    head = text.split("\r\n")[0]
    assert r.status == 200 and head.startswith("编号,任务,牵头单位") and "effective_due" not in head, head
    assert ",黄," in text and "计划年底" in text, text[:500]
    r = api("GET", "/v1/plans/%s/export.csv?lang=fr" % state["plan"])
    assert r.status == 422 and r.json()["errors"][0]["field"] == "lang"


UNITS = ["党建办", "经发办", "城管办", "社会事务办", "综治办"]
KEEP = ("title", "body", "code", "seq", "due_date", "start_date", "cadence", "tags", "targets", "milestones", "children")


def with_units(nodes, counter):
    out = []
    for n in nodes:
        m = {k: v for k, v in n.items() if k in KEEP and v is not None}
        # the parser says more about targets and milestones than a plan takes
        m["targets"] = [{k: v for k, v in g.items() if k in ("label", "value", "unit", "comparator", "text", "baseline")}
                        for g in n.get("targets") or [] if g.get("value") is not None]
        m["milestones"] = [{k: v for k, v in x.items() if k in ("title", "due_date")} for x in n.get("milestones") or []]
        if n.get("children"):
            m["children"] = with_units(n["children"], counter)
        else:
            counter[0] += 1
            m["lead_unit"] = UNITS[counter[0] % len(UNITS)]
            if counter[0] % 4 == 0:
                m["status"] = "done"
            elif counter[0] % 3 == 0:
                m["progress"] = 60
        out.append(m)
    return out


def test_ledger_xlsx():
    if "plan" not in state:
        return
    r = api("GET", "/v1/plans/%s/ledger.xlsx?as_of=2025-07-15" % state["plan"])
    assert r.status == 200, r.body[:300]
    assert r.headers["Content-Type"].startswith("application/vnd.openxmlformats") and r.body.startswith(b"PK")
    assert "2025-07-15" in r.headers["Content-Disposition"] and r.headers["Cache-Control"] == "no-store"
    for q in ("as_of=2024-06-30", "period=2025Q9", "as_of=2025-13-01", "colour=red"):
        r = api("GET", "/v1/plans/%s/ledger.xlsx?%s" % (state["plan"], q))
        assert r.status in (400, 422), (q, r.status)
    doc = db.scalar("SELECT body FROM api.pt_plan_ledger('{\"id\":\"%s\",\"cfg\":{\"as_of\":\"2025-07-15\"}}')"
                    % state["plan"])
    doc = json.loads(doc)
    assert doc["as_of"] == "2025-07-15" and len(doc["tasks"]) == 54 and doc["ranking"]["period"] == "2025Q3"
    assert [t["level"] for t in doc["tasks"][:2]] == [1, 2]
    assert {t["progress_source"] for t in doc["tasks"]} <= {"own", "children", "none"}


def test_bulletin():
    if "plan" not in state:
        return
    path = "/v1/plans/%s/bulletin?period=2025-06" % state["plan"]
    b = get(path)
    assert b["as_of"] == "2025-06-30" and b["final"] is True and b["items"] == sum(b["by_light"].values())
    assert all(o["effective_due"] <= "2025-06-30" for o in b["overdue"])
    assert all(x["effective_due"] <= "2025-07-30" for x in b["due_soon"])
    r = http("GET", daemon.url + path, token=admin, headers={"Accept": "text/html"})
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/html"), r.headers
    html = r.body.decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and "2025-06" in html and "红榜" in html and "<script" not in html
    assert api("GET", "/v1/plans/%s/bulletin?period=June" % state["plan"]).status == 422
    assert api("GET", "/v1/plans/%s/bulletin" % state["plan"]).status == 422


def test_ranking_is_reproducible():
    if not os.path.exists(SAMPLE):
        return
    # the reference plan, its items given lead units (round robin) and a few done
    r = http("POST", daemon.url + "/v1/plans/import?year=2025&dry_run=true", body=open(SAMPLE, "rb").read(),
             token=admin, headers={"Content-Type": "text/plain; charset=utf-8"})
    assert r.status == 200, r.body[:300]
    doc = r.json()
    r = api("POST", "/v1/plans", {"title": doc["title"] + "（赛马）", "year": 2025,
                                  "tasks": with_units(doc["tasks"], [0])}, token=supervisor)
    assert r.status == 201, r.body[:500]
    plan = r.json()["id"]
    path = "/v1/plans/%s/ranking?period=2025Q2" % plan
    before = api("GET", path)
    assert before.status == 200, before.body
    rk = before.json()
    assert rk["units"] and len(rk["units"]) == len(UNITS), rk
    assert rk["period"] == {"label": "2025Q2", "from": "2025-04-01", "to": "2025-06-30"}
    assert rk["as_of"] == "2025-06-30" and rk["final"] is True
    assert rk["units"], rk
    for u in rk["units"]:
        assert 0 <= u["score"] <= 100 and 0 <= u["red_share"] <= 1 and 0 <= u["progress_ratio"] <= 1, u
        assert u["on_time_rate"] is None or 0 <= u["on_time_rate"] <= 1, u
    scores = [u["score"] for u in rk["units"]]
    assert scores == sorted(scores, reverse=True)
    ranks = [u["rank"] for u in rk["units"]]
    assert ranks[0] == 1 and all(ranks[i] == ranks[i - 1] if scores[i] == scores[i - 1] else ranks[i] == i + 1
                                 for i in range(1, len(ranks))), (scores, ranks)
    assert set(rk["red_list"]).isdisjoint(rk["black_list"])
    # later reports, patches and a cancellation do not change 2025Q2
    leaves = [t for t in get("/v1/tasks?plan=%s&limit=500" % plan)["items"]
              if t["lead_unit"] and t["status"] in ("assigned", "planned")]
    for t in leaves[:5]:
        assert api("POST", "/v1/tasks/%s/updates" % t["id"], {"status": "done", "note": "办结"}).status == 201
    assert api("PATCH", "/v1/tasks/" + leaves[6]["id"], {"due_date": "2025-05-31"}).status == 200
    assert api("POST", "/v1/tasks/%s/updates" % leaves[7]["id"], {"status": "cancelled"}).status == 201
    after = api("GET", path)
    assert after.status == 200 and after.body == before.body, (before.body, after.body)
    # the whole year is over too (today is 2026-12-01): final, as of its last day
    year = get("/v1/plans/%s/ranking?period=2025" % plan)
    assert year["as_of"] == "2025-12-31" and year["final"] is True
    assert len(year["red_list"]) >= 1 and len(year["black_list"]) >= 1, year


def test_as_of_reads_the_journal():
    if "plan" not in state:
        return
    items = get("/v1/tasks?plan=%s&limit=500" % state["plan"])["items"]
    leaves = [t for t in items if not any(c["parent_id"] == t["id"] for c in items)]
    # setting up after the import (before any report) counts for the plan's past too
    assert api("PATCH", "/v1/tasks/" + leaves[0]["id"], {"lead_unit": "经发办"}).status == 200
    assert get("/v1/tasks/%s?as_of=2025-03-01" % leaves[0]["id"])["lead_unit"] == "经发办"
    # from the first report on, changes are changes: an earlier day keeps the old due date
    r = api("POST", "/v1/tasks/%s/updates" % leaves[1]["id"], {"progress": 10, "note": "启动"})
    assert r.status == 201, r.body
    tid = [t for t in leaves[2:] if not t["due_date"]][0]["id"]
    assert api("PATCH", "/v1/tasks/" + tid, {"due_date": "2025-04-30", "lead_unit": "城管办"}).status == 200
    now = get("/v1/tasks/" + tid)
    assert now["due_date"] == "2025-04-30" and now["due_source"] == "own"
    then = get("/v1/tasks/%s?as_of=2025-03-01" % tid)
    assert then["due_date"] is None and then["due_source"] in ("parent", "plan") and then["lead_unit"] is None, then
    # the report itself is not in the plan's past either
    assert get("/v1/tasks/%s?as_of=2025-12-31" % leaves[1]["id"])["progress"] == 0
    assert get("/v1/tasks/" + leaves[1]["id"])["progress"] == 10


def plan_with(tasks):
    r = api("POST", "/v1/plans", {"title": "进度来源", "year": 2025, "tasks": tasks}, token=supervisor)
    assert r.status == 201, r.body
    return r.json()


def test_progress_from_targets_and_parent_follows():
    p = plan_with([{"title": "一、章节", "children": [
        {"title": "新增网格驿站", "lead_unit": "城管办", "due_date": "2025-12-31",
         "targets": [{"label": "网格驿站", "value": 10, "unit": "处", "comparator": ">="}]}]}])
    sec = p["tasks"][0]
    item = sec["children"][0]
    r = api("POST", "/v1/tasks/%s/updates" % item["id"],
            {"targets": [{"id": item["targets"][0]["id"], "current": 5}]})
    assert r.status == 201, r.body
    t = get("/v1/tasks/" + item["id"])
    assert t["progress"] == 50 and t["progress_source"] == "targets", t
    s = get("/v1/tasks/" + sec["id"])
    assert s["progress"] == 50 and s["progress_source"] == "children", s
    # a decrease by 5 % against a baseline
    p = plan_with([{"title": "PM2.5浓度下降5%", "lead_unit": "生态办", "targets": [
        {"label": "PM2.5浓度下降", "value": 5, "unit": "%", "comparator": ">=", "baseline": 40,
         "text": "PM2.5浓度下降5%"}]}])
    t = p["tasks"][0]
    assert api("POST", "/v1/tasks/%s/updates" % t["id"],
               {"targets": [{"id": t["targets"][0]["id"], "current": 39}]}).status == 201
    t = get("/v1/tasks/" + t["id"])
    assert t["progress"] == 50 and t["targets"][0]["baseline"] == 40, t


def test_weights_and_cancelled_children():
    p = plan_with([{"title": "二、章节", "children": [
        {"title": "大项", "weight": 3, "progress": 100, "lead_unit": "甲"},
        {"title": "小项", "progress": 0, "lead_unit": "乙"},
        {"title": "作废", "progress": 0, "lead_unit": "丙"}]}])
    sec = p["tasks"][0]
    assert sec["progress"] == 60, sec  # (3*100 + 0 + 0) / 5
    gone = sec["children"][2]["id"]
    assert api("POST", "/v1/tasks/%s/updates" % gone, {"status": "cancelled"}).status == 201
    sec = get("/v1/tasks/" + sec["id"])
    assert sec["progress"] == 75 and sec["light_counts"]["cancelled"] == 1, sec  # (300 + 0) / 4
    assert api("PATCH", "/v1/tasks/" + p["tasks"][0]["children"][0]["id"], {"weight": 1}).status == 200
    assert get("/v1/tasks/" + p["tasks"][0]["id"])["progress"] == 50


def test_finished_after_due_is_late():
    p = plan_with([{"title": "早该完成", "lead_unit": "甲", "due_date": "2025-03-31"}])
    t = p["tasks"][0]
    assert api("POST", "/v1/tasks/%s/updates" % t["id"], {"status": "done", "note": "办结"}).status == 201
    t = get("/v1/tasks/" + t["id"])
    assert t["light"] == "done" and t["late"] is True, t
    s = get("/v1/plans/%s/summary" % p["id"])
    assert s["units"][0]["on_time_rate"] == 0, s


def test_bad_input_is_rejected_and_writes_nothing():
    p = plan_with([{"title": "坏输入", "lead_unit": "甲", "due_date": "2025-06-30"}])
    t = p["tasks"][0]
    n = db.scalar("SELECT count(*) FROM journal")
    # as_of before the plan existed (its year starts 2025-01-01)
    for path in ("/v1/tasks/%s?as_of=2024-12-31" % t["id"], "/v1/plans/%s/summary?as_of=2024-12-31" % p["id"],
                 "/v1/plans/%s?include=tree&as_of=2024-12-31" % p["id"],
                 "/v1/tasks?plan=%s&as_of=2024-12-31" % p["id"]):
        r = api("GET", path)
        assert r.status == 422 and r.json()["errors"][0]["field"] == "as_of", (path, r.body)
    r = api("GET", "/v1/plans/%s/summary?as_of=2025-02-30" % p["id"])
    assert r.status == 422 and r.json()["errors"][0]["field"] == "as_of", r.body
    # malformed or too early periods
    for period in ("2025Q5", "2025-13", "25Q1", ""):
        r = api("GET", "/v1/plans/%s/ranking?period=%s" % (p["id"], period))
        assert r.status == 422 and r.json()["errors"][0]["field"] == "period", (period, r.body)
    r = api("GET", "/v1/plans/%s/ranking?period=2024Q4" % p["id"])
    assert r.status == 422 and r.json()["errors"][0]["field"] == "period", r.body
    # unknown query parameters name themselves (a typo never silently means today)
    for path in ("/v1/plans/%s/summary?asof=2025-06-30" % p["id"], "/v1/tasks/%s?as_off=2025-06-30" % t["id"],
                 "/v1/tasks?plan=%s&lite=red" % p["id"], "/v1/plans/%s/ranking?period=2025Q2&x=1" % p["id"]):
        r = api("GET", path)
        assert r.status == 400, (path, r.body)
        assert r.json()["errors"][0]["field"] in ("asof", "as_off", "lite", "x"), r.body
    # weight <= 0
    for w in (0, -1):
        r = api("PATCH", "/v1/tasks/" + t["id"], {"weight": w, "title": "改了"})
        assert r.status == 422 and r.json()["errors"][0]["field"] == "weight", r.body
        r = api("POST", "/v1/tasks", {"plan_id": p["id"], "title": "新的", "weight": w}, token=supervisor)
        assert r.status == 422 and r.json()["errors"][0]["field"].endswith("weight"), r.body
    assert get("/v1/tasks/" + t["id"])["title"] == "坏输入"
    assert db.scalar("SELECT count(*) FROM tasks WHERE title = '新的'") == "0"
    assert db.scalar("SELECT count(*) FROM journal") == n
    # the good halves (after a first report, so the plan's past is fixed)
    assert api("POST", "/v1/tasks/%s/updates" % t["id"], {"progress": 5}).status == 201
    assert api("PATCH", "/v1/tasks/" + t["id"], {"weight": 2.5}).status == 200
    assert get("/v1/tasks/%s?as_of=2025-01-01" % t["id"])["weight"] is None
    assert get("/v1/tasks/" + t["id"])["weight"] == 2.5
    assert get("/v1/plans/%s/ranking?period=2025-06" % p["id"])["period"]["label"] == "2025-06"
    assert get("/v1/plans/%s/ranking?period=2025W27" % p["id"])["period"]["from"] == "2025-06-30"


def test_today_is_the_pinned_clock():
    p = plan_with([{"title": "时钟", "lead_unit": "甲", "due_date": "2026-11-30"}])
    t = get("/v1/tasks/" + p["tasks"][0]["id"])
    assert t["light"] == "red" and t["late"], t  # PLANTRACK_TODAY=2026-12-01
    assert get("/v1/plans/%s/summary" % p["id"])["today"] == "2026-12-01"


def test_working_day_calendar_drives_expected_progress():
    with open(os.path.join(ROOT, "docs", "examples", "calendar-2025.json"), encoding="utf-8") as f:
        cal = json.load(f)
    r = api("PUT", "/v1/calendar/2025", cal, token=supervisor)
    assert r.status == 201 and r.json()["workdays"] == 248, r.body
    n = db.scalar("SELECT count(*) FROM calendar_days")
    bad = dict(cal, workdays=[{"date": "2025-01-27", "name": "周一"}])
    r = api("PUT", "/v1/calendar/2025", bad, token=supervisor)
    assert r.status == 422 and r.json()["errors"][0]["field"].startswith("workdays"), r.body
    assert db.scalar("SELECT count(*) FROM calendar_days") == n
    assert api("PUT", "/v1/calendar/2025", dict(cal, year=2026), token=supervisor).status == 422
    assert api("GET", "/v1/calendar/2024").status == 404
    # 1/20..2/14: 26 calendar days, 16 working days (春节); as of 1/31: 12 of 26 days, 7 of 16 working days
    p = plan_with([{"title": "春节前后", "lead_unit": "甲", "start_date": "2025-01-20", "due_date": "2025-02-14"}])
    tid = p["tasks"][0]["id"]
    assert get("/v1/tasks/%s?as_of=2025-01-31" % tid)["expected_progress"] == round(100 * 12 / 26, 1)
    wd = Daemon(db, config_text="[lights]\nworking_days = on\n")
    wd.start()
    t = http("GET", wd.url + "/v1/tasks/%s?as_of=2025-01-31" % tid, token=admin).json()
    assert t["expected_progress"] == round(100 * 7 / 16, 1), t  # 1/20-24, 1/26 (调休), 1/27
    wd.stop()


run(globals())
