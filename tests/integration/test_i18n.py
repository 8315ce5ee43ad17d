"""Problems in Chinese over real HTTP (issue 14 item 7): with Accept-Language
preferring zh, 412, 422 (naming the field), 404, 401, 403, 400 (malformed
JSON), 405 and the SQL-raised problems come back with Chinese title and
detail, detail_en and errors[].message_en keep the English, the type is the
same, Content-Language says zh-CN and Vary names Accept-Language; without the
header (or preferring en) everything stays English."""
import datetime

from harness import Daemon, Database, http, run, skip_without_pg

skip_without_pg()
db = Database()
daemon = Daemon(db)
daemon.start()
admin = daemon.token("admin")
supervisor = daemon.token("supervisor")
viewer = daemon.token("viewer")
editor = daemon.token("editor", unit="社会事务办")
today = datetime.date.today()
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
state = {}


def api(method, path, body=None, token=None, headers=None):
    return http(method, daemon.url + path, body=body, token=token or admin, headers=headers)


def has_cjk(s):
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


def both(method, path, body=None, token=None, headers=None, zh=None):
    """The same request in English and in Chinese; checks what every problem
    shares and returns (english, chinese) bodies."""
    en_r = api(method, path, body, token, headers)
    zh_r = api(method, path, body, token, dict(headers or {}, **(zh or ZH)))
    assert en_r.status == zh_r.status and en_r.status >= 400, (en_r, zh_r)
    for r in (en_r, zh_r):
        assert r.headers["Content-Type"] == "application/problem+json", r.headers
        assert "Accept-Language" in r.headers.get("Vary", ""), r.headers
    assert en_r.headers["Content-Language"] == "en"
    assert zh_r.headers["Content-Language"] == "zh-CN"
    en, zh_ = en_r.json(), zh_r.json()
    assert en["type"] == zh_["type"] and en["status"] == zh_["status"], (en, zh_)
    assert not has_cjk(en["title"]) and "detail_en" not in en, en
    assert has_cjk(zh_["title"]) and has_cjk(zh_["detail"]), zh_
    assert zh_["detail_en"] == en["detail"], (en, zh_)
    return en, zh_


def test_setup():
    r = api("POST", "/v1/plans", {"title": "语言测试计划", "year": today.year, "tasks": [
        {"title": "增设网格驿站", "lead_unit": "社会事务办"},
        {"title": "老旧小区改造", "lead_unit": "城管办"},
    ]}, token=supervisor)
    assert r.status == 201, r.body
    r = api("GET", "/v1/plans/%s?include=tree" % r.json()["id"])
    for t in r.json()["tasks"]:
        state[t["title"]] = t["id"]


def test_412_version_conflict():
    tid = state["增设网格驿站"]
    assert api("PATCH", "/v1/tasks/" + tid, {"owner": "王芳"}, headers={"If-Match": '"1"'}).status == 200
    en, zh = both("PATCH", "/v1/tasks/" + tid, {"owner": "李强"}, headers={"If-Match": '"1"'})
    assert en["type"] == "urn:plantrack:problem:precondition-failed"
    assert en["title"] == "Precondition failed" and "version 2" in en["detail"], en
    assert "该任务已被他人修改（版本 2）" in zh["detail"], zh
    # a malformed If-Match (answered in C) too
    en, zh = both("PATCH", "/v1/tasks/" + tid, {"owner": "李强"}, headers={"If-Match": "nonsense"})
    assert "If-Match" in zh["detail"] and "ETag" in zh["detail"], zh


def test_422_names_the_field():
    tid = state["增设网格驿站"]
    en, zh = both("PATCH", "/v1/tasks/" + tid, {"title": ""})
    assert en["type"] == "urn:plantrack:problem:validation-failed"
    assert any(e["field"] == "title" for e in en["errors"]), en
    assert "字段 title：不能为空" in zh["detail"], zh
    e = [x for x in zh["errors"] if x["field"] == "title"][0]
    assert e["message"] == "不能为空" and e["message_en"] == "must not be empty" and e["rule"] == "empty", e
    # several fields from the C validator, each named, with parameters
    en, zh = both("POST", "/v1/tasks/%s/updates" % tid, {"progress": 140, "status": "nope"}, token=supervisor)
    assert "字段 progress：必须在 0 到 100 之间" in zh["detail"], zh
    assert "字段 status：必须是以下之一" in zh["detail"], zh
    # one field from SQL (pt_fail422 with the rule read off its message)
    en, zh = both("GET", "/v1/tasks?due_before=2025-13-01")
    assert "字段 due_before" in zh["detail"], zh


def test_404():
    en, zh = both("GET", "/v1/tasks/00000000-0000-0000-0000-000000000000")
    assert en["type"] == "urn:plantrack:problem:not-found"
    assert zh["title"] == "未找到" and zh["detail"] == "该任务不存在", zh
    en, zh = both("GET", "/v1/tasks/not-a-uuid")
    assert zh["detail"] == "该任务不存在", zh
    en, zh = both("GET", "/v1/no-such-route")
    assert en["detail"] == "no route for this path" and zh["detail"] == "没有这个路径", (en, zh)


def test_401():
    r = http("GET", daemon.url + "/v1/plans", headers=ZH)
    assert r.status == 401 and r.headers["Content-Language"] == "zh-CN"
    assert "WWW-Authenticate" in r.headers
    p = r.json()
    assert p["type"] == "urn:plantrack:problem:unauthorized" and p["title"] == "未授权", p
    assert "Authorization" in p["detail"] and "Bearer" in p["detail"], p
    en, zh = both("GET", "/v1/plans", token="pt_" + "0" * 40)
    assert zh["detail"] == "该令牌不存在或已被管理员吊销，请向管理员索取新令牌", zh


def test_403():
    # the role floor (auth.c)
    en, zh = both("POST", "/v1/plans", {"title": "x"}, token=editor)
    assert en["type"] == "urn:plantrack:problem:forbidden"
    assert zh["title"] == "无权操作" and zh["detail"] == "此操作需要 supervisor（督查室）权限", zh
    # scope and role inside SQL
    en, zh = both("POST", "/v1/tasks/%s/updates" % state["老旧小区改造"], {"note": "越权"}, token=editor)
    assert "牵头单位" in zh["detail"], zh


def test_400_malformed_json_and_415_405():
    tid = state["增设网格驿站"]
    en, zh = both("PATCH", "/v1/tasks/" + tid, "{oops", headers={"Content-Type": "application/json"})
    assert en["type"] == "urn:plantrack:problem:malformed-json"
    assert zh["detail"].startswith("请求体不是合法的 JSON（第 1 行"), zh
    en, zh = both("PATCH", "/v1/tasks/" + tid, "x", headers={"Content-Type": "text/plain"})
    assert "application/json" in zh["detail"], zh
    en, zh = both("PUT", "/v1/tasks")
    assert en["type"] == "urn:plantrack:problem:method-not-allowed" and "GET" in zh["detail"], zh


def test_409_transition_names_the_states():
    tid = state["增设网格驿站"]
    en, zh = both("POST", "/v1/tasks/%s/updates" % tid, {"status": "verified"}, token=supervisor)
    assert en["type"] == "urn:plantrack:problem:invalid-transition", en
    assert "已销号" in zh["detail"], zh


def test_negotiation_over_http():
    path = "/v1/tasks/00000000-0000-0000-0000-000000000000"
    cases = [
        (None, "en"), ("en", "en"), ("zh", "zh-CN"), ("zh-TW", "zh-CN"), ("zh-Hant", "zh-CN"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"), ("en;q=0.5,zh;q=0.6", "zh-CN"), ("zh;q=0", "en"),
        ("fr, zh;q=0.1", "zh-CN"), ("*", "en"), ("zh;q=bogus", "en"),
    ]
    for value, want in cases:
        r = api("GET", path, headers={"Accept-Language": value} if value else None)
        assert r.status == 404 and r.headers["Content-Language"] == want, (value, r.headers)
        assert r.json()["type"] == "urn:plantrack:problem:not-found"
    # successful answers are unaffected
    r = api("GET", "/v1/tasks/" + state["增设网格驿站"], headers=ZH)
    assert r.status == 200 and "Content-Language" not in r.headers


run(globals())
