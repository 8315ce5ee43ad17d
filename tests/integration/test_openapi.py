"""docs/openapi.json agrees with the running daemon: GET /v1/openapi.json serves
the document; real responses (task, plan with tree, list pages, progress
report, history, summary, events, imports, export, tokens, webhooks, and
problem+json errors) validate against the schemas the document declares for
that operation and status; the request bodies sent validate against the
documented request schemas, and bodies the schemas reject are rejected by the
daemon too. Every documented operation must be exercised at least once.

The JSON-schema validator is a small subset written here (type incl. type
arrays for null, required, properties, additionalProperties, items, enum,
const, minimum/maximum, minLength/maxLength, pattern, minItems/maxItems,
minProperties, propertyNames, format date/uuid/date-time, $ref, oneOf,
anyOf) so the test needs nothing outside the standard library."""
import datetime
import json
import os
import re
import time
import uuid
from urllib.parse import quote

from harness import Daemon, Database, http, run, skip_without_pg

skip_without_pg()

ROOT = os.environ.get("PLANTRACK_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOC_PATH = os.path.join(ROOT, "docs", "openapi.json")
with open(DOC_PATH, "rb") as f:
    DOC_BYTES = f.read()
DOC = json.loads(DOC_BYTES.decode("utf-8"))

db = Database()
daemon = Daemon(db, config_text="[webhooks]\n# the receivers of these tests listen on 127.0.0.1\nallow = 127.0.0.0/8\n"
                           "[imports]\n# 20 rows or more: a job (GET /v1/jobs/{id})\njob_rows = 20\n")
daemon.start()
admin = daemon.token("admin")
supervisor = daemon.token("supervisor")
viewer = daemon.token("viewer")
editor = daemon.token("editor", unit="社会事务办")
today = datetime.date.today()
state = {}
# (method, path template) -> set of statuses seen, for the coverage check
exercised = {}


def day(offset):
    return (today + datetime.timedelta(days=offset)).isoformat()


# ---------------------------------------------------------------- the validator

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def resolve(ref):
    if not ref.startswith("#/"):
        raise AssertionError("only local $ref supported: %s" % ref)
    node = DOC
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[part]
    return node


def type_ok(value, t):
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    raise AssertionError("unknown type %r in schema" % t)


def format_ok(value, fmt):
    if not isinstance(value, str):
        return True
    if fmt == "uuid":
        return bool(UUID_RE.match(value))
    if fmt == "date":
        if not DATE_RE.match(value):
            return False
        try:
            datetime.date.fromisoformat(value)
            return True
        except ValueError:
            return False
    if fmt == "date-time":
        return bool(DATETIME_RE.match(value))
    return True  # uri and others: not checked


def validate(value, schema, path="$"):
    """A list of "path: problem" strings; empty when value matches schema."""
    errs = []
    if schema is True or schema == {}:
        return errs
    if schema is False:
        return ["%s: no value allowed here" % path]
    if "$ref" in schema:
        errs += validate(value, resolve(schema["$ref"]), path)
    if "oneOf" in schema:
        matches = [s for s in schema["oneOf"] if not validate(value, s, path)]
        if len(matches) != 1:
            errs.append("%s: matches %d of the oneOf alternatives, not exactly one" % (path, len(matches)))
    if "anyOf" in schema:
        if not any(not validate(value, s, path) for s in schema["anyOf"]):
            errs.append("%s: matches none of the anyOf alternatives" % path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(type_ok(value, t) for t in types):
            return errs + ["%s: %r is not of type %s" % (path, value, "/".join(types))]
    if "enum" in schema and value not in schema["enum"]:
        errs.append("%s: %r not in %r" % (path, value, schema["enum"]))
    if "const" in schema and value != schema["const"]:
        errs.append("%s: %r is not %r" % (path, value, schema["const"]))
    if "format" in schema and not format_ok(value, schema["format"]):
        errs.append("%s: %r is not a valid %s" % (path, value, schema["format"]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append("%s: %r < minimum %r" % (path, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            errs.append("%s: %r > maximum %r" % (path, value, schema["maximum"]))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errs.append("%s: shorter than %d" % (path, schema["minLength"]))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errs.append("%s: longer than %d" % (path, schema["maxLength"]))
        if "x-max-bytes" in schema and len(value.encode("utf-8")) > schema["x-max-bytes"]:
            errs.append("%s: more than %d bytes" % (path, schema["x-max-bytes"]))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errs.append("%s: %r does not match %s" % (path, value, schema["pattern"]))
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errs.append("%s: fewer than %d items" % (path, schema["minItems"]))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errs.append("%s: more than %d items" % (path, schema["maxItems"]))
        if "items" in schema:
            for i, item in enumerate(value):
                errs += validate(item, schema["items"], "%s[%d]" % (path, i))
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errs.append("%s: required key %r missing" % (path, key))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            errs.append("%s: fewer than %d keys" % (path, schema["minProperties"]))
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, v in value.items():
            if "propertyNames" in schema:
                errs += validate(key, schema["propertyNames"], "%s{%s}" % (path, key))
            if key in props:
                errs += validate(v, props[key], "%s.%s" % (path, key))
            elif extra is False:
                errs.append("%s: key %r is not in the schema" % (path, key))
            elif isinstance(extra, dict):
                errs += validate(v, extra, "%s.%s" % (path, key))
    return errs


def assert_valid(value, schema, what):
    errs = validate(value, schema)
    assert not errs, "%s does not match its schema:\n  %s\nvalue: %s" % (
        what, "\n  ".join(errs[:20]), json.dumps(value, ensure_ascii=False)[:1500])


def test_validator_itself():
    # The validator must reject what it should, or every check below is vacuous.
    task = DOC["components"]["schemas"]["Task"]
    assert validate({}, task), "empty task accepted"
    assert validate({"x": 1}, {"type": "object", "properties": {}, "additionalProperties": False})
    assert validate(None, {"type": "string"})
    assert not validate(None, {"type": ["string", "null"]})
    assert validate("2025-02-30", {"type": "string", "format": "date"})
    assert validate("nope", {"type": "string", "format": "uuid"})
    assert validate(True, {"type": "integer"})
    assert validate("purple", {"$ref": "#/components/schemas/Light"})
    assert not validate("red", {"$ref": "#/components/schemas/Light"})
    assert validate([1, "a"], {"type": "array", "items": {"type": "integer"}})


def test_document_is_openapi_3_1():
    assert DOC["openapi"].startswith("3.1"), DOC["openapi"]
    try:
        from openapi_spec_validator import validate as validate_spec
    except ImportError:
        return  # optional: the full OpenAPI 3.1 check when the package is installed
    validate_spec(DOC)


# ---------------------------------------------------------------- calling the API

def operation(method, template):
    item = DOC["paths"].get(template)
    assert item is not None, "%s is not in docs/openapi.json" % template
    op = item.get(method.lower())
    assert op is not None, "%s %s is not in docs/openapi.json" % (method, template)
    return op


def media_schema(content, ctype):
    """The schema for a response Content-Type: an exact key, else the same base type."""
    if ctype in content:
        return content[ctype]["schema"]
    base = ctype.split(";")[0].strip().lower()
    for key, media in content.items():
        if key.split(";")[0].strip().lower() == base:
            return media["schema"]
    raise AssertionError("Content-Type %r is not documented (documented: %s)" % (ctype, ", ".join(content)))


def deref(obj):
    while isinstance(obj, dict) and "$ref" in obj:
        obj = resolve(obj["$ref"])
    return obj


def check_request_body(method, template, body, ctype):
    op = operation(method, template)
    rb = deref(op.get("requestBody"))
    assert rb is not None, "%s %s sends a body the document does not describe" % (method, template)
    schema = media_schema(rb["content"], ctype)
    if isinstance(body, (dict, list)):
        assert_valid(body, schema, "request body of %s %s" % (method, template))


def check_response(method, template, r):
    """r's status, headers and body as the document declares for this operation."""
    op = operation(method, template)
    exercised.setdefault((method.lower(), template), set()).add(r.status)
    declared = op["responses"].get(str(r.status))
    assert declared is not None, "%s %s answered %d, which the document does not list: %s" % (
        method, template, r.status, r.body[:300])
    declared = deref(declared)
    assert r.headers.get("X-Request-Id"), "no X-Request-Id on %s %s" % (method, template)
    for name in declared.get("headers", {}):
        if name in ("ETag", "Retry-After", "Allow", "WWW-Authenticate", "Content-Disposition"):
            assert r.headers.get(name), "%s %s %d: documented header %s missing" % (
                method, template, r.status, name)
    content = declared.get("content")
    if not content:
        assert not r.body, "%s %s %d: body %r where none is documented" % (method, template, r.status, r.body[:100])
        return None
    ctype = r.headers.get("Content-Type", "")
    schema = media_schema(content, ctype)
    base = ctype.split(";")[0].strip().lower()
    if base in ("application/json", "application/problem+json"):
        body = r.json()
        assert_valid(body, schema, "%s %s %d" % (method, template, r.status))
        if r.status >= 400:
            assert body["status"] == r.status, body
            assert body["request_id"] == r.headers["X-Request-Id"], body
        return body
    return r.body


def call(method, template, path_params=None, query=None, body=None, token=None, headers=None,
         ctype=None, expect=None, check_body=True):
    """One request to template (with {id} filled from path_params), checked against the document."""
    path = template
    for k, v in (path_params or {}).items():
        path = path.replace("{%s}" % k, quote(str(v), safe=""))
    if query:
        path += "?" + "&".join("%s=%s" % (k, quote(str(v), safe="")) for k, v in query.items())
    hdrs = dict(headers or {})
    if body is not None:
        if ctype is None:
            ctype = "application/json"
        hdrs["Content-Type"] = ctype
        if check_body:
            check_request_body(method, template, body, ctype)
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False).encode("utf-8")
    r = http(method, daemon.url + path, body=body, token=token, headers=hdrs)
    if expect is not None:
        assert r.status == expect, "%s %s: expected %d, got %d: %s" % (method, path, expect, r.status, r.body[:500])
    return r, check_response(method, template, r)


# ---------------------------------------------------------------- the document itself

def test_openapi_json_is_served_unchanged():
    r, body = call("GET", "/v1/openapi.json", token=viewer, expect=200)
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.body == DOC_BYTES, "GET /v1/openapi.json differs from docs/openapi.json"
    assert body == DOC


def test_openapi_json_needs_a_token():
    r, body = call("GET", "/v1/openapi.json", expect=401)
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_service_routes():
    call("GET", "/healthz", expect=200)
    _, ready = call("GET", "/readyz", expect=200)
    assert ready["db"] == "ok" and isinstance(ready["schema"], int)
    r, _ = call("GET", "/metrics", expect=200)
    assert r.headers["Content-Type"].startswith("text/plain")
    assert b"# TYPE" in r.body or b"# HELP" in r.body
    call("GET", "/", expect=200)
    _, me = call("GET", "/v1/me", token=viewer, expect=200)
    assert me["role"] == "viewer" and me["unit_id"] is None
    call("GET", "/v1/me", expect=401)
    r, _ = call("GET", "/docs", expect=200)
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    r, _ = call("GET", "/docs/openapi.json", expect=200)
    assert r.body == DOC_BYTES, "GET /docs/openapi.json differs from docs/openapi.json"
    # no token on the public routes, and HEAD is answered where GET is
    r = http("HEAD", daemon.url + "/healthz")
    assert r.status == 200, r


# ---------------------------------------------------------------- plans and tasks

PLAN = {
    "title": "接口文档测试街道2025年工作计划",
    "year": today.year,
    "org": "测试街道",
    "tasks": [
        {"title": "拓宽民生实事实施路径", "code": "四", "children": [
            {"title": "推进民生实事项目", "lead_unit": "社会事务办", "owner": "王芳", "leader": "李明",
             "co_units": ["财政所"], "tags": ["民生"], "cadence": "monthly",
             "body": "全力推进103项民生实事项目", "start_date": day(-100), "due_date": day(100),
             "targets": [{"label": "民生实事项目", "value": 103, "unit": "项", "comparator": ">=",
                          "text": "103项民生实事项目"}],
             "milestones": [{"title": "完成招标", "due_date": day(30)}, {"title": "全部完工"}]},
            {"title": "逾期事项", "lead_unit": "社会事务办", "start_date": day(-200), "due_date": day(-3)},
        ]},
        {"title": "提升城市品质", "children": [
            {"title": "老旧小区改造", "lead_unit": "城管办", "due_date": day(250),
             "targets": [{"label": "改造面积", "value": 12.6, "unit": "万平方米", "comparator": ">=",
                          "current": 0}]},
        ]},
    ],
}


def find(tasks, title):
    for t in tasks:
        if t["title"] == title:
            return t
        hit = find(t.get("children", []), title)
        if hit:
            return hit
    return None


def test_create_plan_with_tree():
    _, plan = call("POST", "/v1/plans", body=PLAN, token=supervisor, expect=201)
    state["plan"] = plan["id"]
    assert plan["title"] == PLAN["title"] and plan["task_count"] == 5, plan["task_count"]
    assert [t["title"] for t in plan["tasks"]] == ["拓宽民生实事实施路径", "提升城市品质"]
    for title in ("推进民生实事项目", "逾期事项", "老旧小区改造", "拓宽民生实事实施路径"):
        state[title] = find(plan["tasks"], title)["id"]


def test_get_plan_and_tree_and_list():
    _, plan = call("GET", "/v1/plans/{id}", {"id": state["plan"]}, token=viewer, expect=200)
    assert "tasks" not in plan
    assert_valid(plan, DOC["components"]["schemas"]["Plan"], "plan")
    _, tree = call("GET", "/v1/plans/{id}", {"id": state["plan"]}, {"include": "tree"}, token=viewer, expect=200)
    assert_valid(tree, DOC["components"]["schemas"]["PlanWithTree"], "plan with tree")
    leaf = find(tree["tasks"], "推进民生实事项目")
    assert leaf["targets"][0]["value"] == 103 and leaf["children"] == []
    _, page = call("GET", "/v1/plans", query={"limit": 1}, token=viewer, expect=200)
    assert len(page["items"]) == 1
    call("GET", "/v1/plans/{id}", {"id": state["plan"]}, {"include": "everything"}, token=viewer, expect=422)


def test_task_create_get_and_etag():
    body = {"plan_id": state["plan"], "parent_id": state["拓宽民生实事实施路径"], "title": "新增托育托位",
            "lead_unit": "社会事务办", "due_date": day(60),
            "targets": [{"label": "托位", "value": 150, "unit": "个"}],
            "children": [{"title": "选址"}]}
    r, task = call("POST", "/v1/tasks", body=body, token=supervisor, expect=201)
    assert r.headers["ETag"] == '"%d"' % task["version"]
    state["托育"] = task["id"]
    r, got = call("GET", "/v1/tasks/{id}", {"id": task["id"]}, token=viewer, expect=200)
    assert got["id"] == task["id"] and r.headers["ETag"] == '"%d"' % got["version"]
    assert_valid(got, DOC["components"]["schemas"]["Task"], "task")


def test_task_list_page_and_filters():
    _, page = call("GET", "/v1/tasks", query={"plan": state["plan"], "limit": 2}, token=viewer, expect=200)
    assert len(page["items"]) == 2 and page["next_cursor"]
    _, page2 = call("GET", "/v1/tasks", query={"plan": state["plan"], "limit": 2, "cursor": page["next_cursor"]},
                    token=viewer, expect=200)
    assert page2["items"][0]["id"] not in {t["id"] for t in page["items"]}
    _, red = call("GET", "/v1/tasks", query={"plan": state["plan"], "light": "red"}, token=viewer, expect=200)
    assert [t["title"] for t in red["items"]] == ["拓宽民生实事实施路径", "逾期事项"], red
    _, rest = call("GET", "/v1/tasks", query={"plan": state["plan"], "status": "assigned", "unit": "社会事务办",
                                              "due_before": day(365), "due_after": day(-365), "q": "民生"},
                   token=viewer, expect=200)
    assert [t["title"] for t in rest["items"]] == ["推进民生实事项目"], rest


def test_patch_with_if_match():
    tid = state["推进民生实事项目"]
    r, task = call("GET", "/v1/tasks/{id}", {"id": tid}, token=viewer, expect=200)
    etag = r.headers["ETag"]
    r, patched = call("PATCH", "/v1/tasks/{id}", {"id": tid}, body={"owner": "赵六", "tags": ["民生", "重点"]},
                      token=editor, headers={"If-Match": etag}, expect=200)
    assert patched["owner"] == "赵六" and patched["version"] == task["version"] + 1
    call("PATCH", "/v1/tasks/{id}", {"id": tid}, body={"owner": "钱七"}, token=editor,
         headers={"If-Match": etag}, expect=412)


def test_progress_report_and_history():
    tid = state["推进民生实事项目"]
    r, task = call("GET", "/v1/tasks/{id}", {"id": tid}, token=viewer, expect=200)
    target = task["targets"][0]["id"]
    report = {"status": "in_progress", "progress": 40, "targets": [{"id": target, "current": 41}],
              "note": "本月完成5项", "problems": "资金未到位", "next_steps": "6月底前完成招标"}
    _, res = call("POST", "/v1/tasks/{id}/updates", {"id": tid}, body=report, token=editor,
                  headers={"If-Match": r.headers["ETag"], "Idempotency-Key": "oa-report-1"}, expect=201)
    assert res["update"]["status_from"] == "planned" and res["update"]["status_to"] == "in_progress"
    assert res["task"]["progress"] == 40 and res["task"]["targets"][0]["current"] == 41
    # the replay answers the same
    _, again = call("POST", "/v1/tasks/{id}/updates", {"id": tid}, body=report, token=editor,
                    headers={"Idempotency-Key": "oa-report-1"}, expect=201)
    assert again["update"]["id"] == res["update"]["id"]
    call("POST", "/v1/tasks/{id}/updates", {"id": tid}, body={"note": "另一份"}, token=editor,
         headers={"Idempotency-Key": "oa-report-1"}, expect=422)
    _, hist = call("GET", "/v1/tasks/{id}/updates", {"id": tid}, {"limit": 10}, token=viewer, expect=200)
    # the report signed the assigned task in passing (a step in the journal, not a report)
    assert [u["id"] for u in hist["items"]] == [res["update"]["id"]] and hist["next_cursor"] is None
    assert res["task"]["signed_at"] and hist["items"][0]["kind"] == "report", hist
    _, journal = call("GET", "/v1/tasks/{id}/history", {"id": tid}, {"limit": 2}, token=viewer, expect=200)
    assert len(journal["items"]) == 2 and journal["next_cursor"]


def test_invalid_transition_is_409():
    tid = state["老旧小区改造"]
    call("POST", "/v1/tasks/{id}/updates", {"id": tid}, body={"status": "cancelled"}, token=supervisor, expect=201)
    _, p = call("POST", "/v1/tasks/{id}/updates", {"id": tid}, body={"status": "in_progress"}, token=supervisor,
                expect=409)
    assert p["type"].endswith("invalid-transition"), p


def test_summary():
    _, s = call("GET", "/v1/plans/{id}/summary", {"id": state["plan"]}, token=viewer, expect=200)
    assert s["plan_id"] == state["plan"]
    assert [o["title"] for o in s["overdue"]] == ["逾期事项"], s["overdue"]
    assert any(u["unit"] == "社会事务办" for u in s["units"]), s["units"]
    _, rk = call("GET", "/v1/plans/{id}/ranking", {"id": state["plan"]}, {"period": "%dQ%d" % (today.year, (today.month + 2) // 3)},
                 token=viewer, expect=200)
    assert any(u["unit"] == "社会事务办" for u in rk["units"]), rk
    call("GET", "/v1/plans/{id}/ranking", {"id": state["plan"]}, {"period": "2025Q5"}, token=viewer, expect=422)
    _, b = call("GET", "/v1/plans/{id}/bulletin", {"id": state["plan"]}, {"period": "%d-%02d" % (today.year, today.month)},
                token=viewer, expect=200)
    assert b["period"]["label"] == "%d-%02d" % (today.year, today.month), b


def test_events_page():
    # events are numbered by the daemon's publisher shortly after their commit
    wanted = {"plan.created", "task.created", "task.updated", "task.reported"}
    deadline = time.time() + 10
    while True:
        _, page = call("GET", "/v1/events", query={"after": 0, "limit": 500}, token=viewer, expect=200)
        types = {e["type"] for e in page["events"]}
        if wanted <= types or time.time() > deadline:
            break
        time.sleep(0.1)
    assert wanted <= types, types
    _, empty = call("GET", "/v1/events", query={"after": page["next_after"], "wait": 0}, token=viewer, expect=200)
    assert empty["events"] == [] and empty["next_after"] == page["next_after"]
    call("GET", "/v1/events", query={"wait": 61}, token=viewer, expect=422)


def test_delete_task():
    call("DELETE", "/v1/tasks/{id}", {"id": state["托育"]}, token=admin, expect=204)
    call("GET", "/v1/tasks/{id}", {"id": state["托育"]}, token=viewer, expect=404)


# ---------------------------------------------------------------- imports and export

PLAN_TEXT = """东湖街道2025年重点工作安排
一、夯实基层治理基础
1.深化网格化管理。将辖区划分为40个基础网格,3月底前完成人员调配。
2.推进小区协商议事。年内形成议事成果清单不少于60项。
二、办好民生实事
1.完善养老服务。新建社区养老服务中心2处,10月底前投入运营。
"""


def test_plan_import_dry_run_and_create():
    _, preview = call("POST", "/v1/plans/import", query={"dry_run": "true", "year": 2025}, body=PLAN_TEXT,
                      ctype="text/plain; charset=utf-8", token=supervisor, expect=200)
    assert preview["dry_run"] is True and len(preview["tasks"]) == 2
    _, plan = call("POST", "/v1/plans/import", query={"year": 2025}, body=PLAN_TEXT,
                   ctype="text/plain; charset=utf-8", token=supervisor, expect=201)
    assert_valid(plan, DOC["components"]["schemas"]["PlanImported"], "imported plan")
    _, again = call("POST", "/v1/plans/import", query={"year": 2025}, body=PLAN_TEXT,
                    ctype="text/plain; charset=utf-8", token=supervisor, expect=200)
    assert again["id"] == plan["id"]
    state["imported"] = plan["id"]


CSV = ("序号,项目名称,建设内容,牵头单位,责任人,计划完成时间,目标值,单位\r\n"
       "1,新建口袋公园,建设口袋公园3处,城管办,张三,2025年6月底,3,处\r\n"
       "2,\"加装电梯, 一期\",老旧小区加装电梯,社会事务办,李四,2025/9/30,20,部\r\n")


def test_csv_tasks_import_and_export():
    _, res = call("POST", "/v1/plans/{id}/tasks/import", {"id": state["imported"]}, {"year": 2025},
                  body=CSV.encode("utf-8"), ctype="text/csv; charset=utf-8", token=supervisor, expect=201)
    assert res["created"] == 2 and res["items"][1]["title"] == "加装电梯, 一期"
    bad = CSV + "3,,没有名称,城管办,王五,2025年13月1日,1,个\r\n"
    _, p = call("POST", "/v1/plans/{id}/tasks/import", {"id": state["imported"]}, body=bad.encode("utf-8"),
                ctype="text/csv; charset=utf-8", token=supervisor, expect=422)
    assert p["errors"] and all(e["field"].startswith("rows[") for e in p["errors"]), p
    r, _ = call("GET", "/v1/plans/{id}/export.csv", {"id": state["imported"]}, token=viewer, expect=200)
    assert r.headers["Content-Type"].startswith("text/csv") and r.body.startswith(b"\xef\xbb\xbf")
    r, _ = call("GET", "/v1/plans/{id}/export.csv", {"id": state["imported"]}, {"encoding": "gb18030"},
                token=viewer, expect=200)
    assert "gb18030" in r.headers["Content-Type"]
    r, _ = call("GET", "/v1/plans/{id}/ledger.xlsx", {"id": state["imported"]}, {"period": "%d" % today.year},
                token=viewer, expect=200)
    assert r.headers["Content-Type"].startswith("application/vnd.openxmlformats") and r.body.startswith(b"PK")
    r, _ = call("POST", "/v1/plans/{id}/tasks/import", {"id": state["imported"]}, body=b"{}",
                ctype="application/json", token=supervisor, expect=415, check_body=False)
    # the same file again: a replay (200), nothing written
    _, res = call("POST", "/v1/plans/{id}/tasks/import", {"id": state["imported"]}, {"year": 2025},
                  body=CSV.encode("utf-8"), ctype="text/csv; charset=utf-8", token=supervisor, expect=200)
    assert res["replay"] is True and res["created"] == 0, res
    # 20 rows: a job
    big = "序号,项目名称\r\n" + "".join("%d,任务%d\r\n" % (i, i) for i in range(100, 125))
    r, job = call("POST", "/v1/plans/{id}/tasks/import", {"id": state["imported"]}, body=big.encode("utf-8"),
                  ctype="text/csv; charset=utf-8", token=supervisor, expect=202)
    assert r.headers["Location"] == "/v1/jobs/" + job["id"], r.headers
    for _ in range(100):
        _, job = call("GET", "/v1/jobs/{id}", {"id": job["id"]}, token=viewer, expect=200)
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "done" and job["result"]["created"] == 25, job
    call("GET", "/v1/jobs/{id}", {"id": state["imported"]}, token=viewer, expect=404)


# ---------------------------------------------------------------- tokens and webhooks

def test_tokens():
    _, tok = call("POST", "/v1/tokens", body={"name": "oa-test", "role": "editor", "unit": "城管办"}, token=admin,
                  expect=201)
    assert tok["token"] and tok["unit"] == "城管办"
    _, page = call("GET", "/v1/tokens", query={"limit": 500}, token=admin, expect=200)
    assert tok["id"] in {t["id"] for t in page["items"]}
    call("GET", "/v1/tokens", token=supervisor, expect=403)
    call("DELETE", "/v1/tokens/{id}", {"id": tok["id"]}, token=admin, expect=204)
    call("DELETE", "/v1/tokens/{id}", {"id": str(uuid.uuid4())}, token=admin, expect=404)


def test_webhooks():
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["task.reported"], "active": False}
    r, wh = call("POST", "/v1/webhooks", body=body, token=admin, expect=201)
    assert wh["secret"] and wh["event_types"] == ["task.reported"]
    r, got = call("GET", "/v1/webhooks/{id}", {"id": wh["id"]}, token=admin, expect=200)
    assert "secret" not in got
    _, patched = call("PATCH", "/v1/webhooks/{id}", {"id": wh["id"]}, body={"active": False, "event_types": None},
                      token=admin, headers={"If-Match": r.headers["ETag"]}, expect=200)
    assert patched["event_types"] == []
    assert patched["paused"] is False and patched["consecutive_failures"] == 0
    _, resumed = call("POST", "/v1/webhooks/{id}/resume", {"id": wh["id"]}, token=admin, expect=200)
    assert resumed["paused"] is False
    _, page = call("GET", "/v1/webhooks", token=admin, expect=200)
    assert wh["id"] in {w["id"] for w in page["items"]}
    _, deliveries = call("GET", "/v1/webhooks/{id}/deliveries", {"id": wh["id"]}, {"status": "pending"},
                         token=admin, expect=200)
    assert deliveries["items"] == [] and deliveries["next_cursor"] is None
    ftp = {"url": "ftp://example.org/x"}
    assert validate(ftp, DOC["components"]["schemas"]["WebhookCreate"])
    call("POST", "/v1/webhooks", body=ftp, token=admin, expect=422, check_body=False)
    call("DELETE", "/v1/webhooks/{id}", {"id": wh["id"]}, token=admin, expect=204)
    call("GET", "/v1/webhooks/{id}", {"id": wh["id"]}, token=admin, expect=404)


def test_webhook_delivery_log_shape():
    # an active webhook on a port where nothing listens: a report makes a delivery row
    _, wh = call("POST", "/v1/webhooks", body={"url": "http://127.0.0.1:9/hook", "event_types": ["task.reported"]},
                 token=admin, expect=201)
    tid = state["推进民生实事项目"]
    call("POST", "/v1/tasks/{id}/updates", {"id": tid}, body={"note": "触发一次投递"}, token=editor, expect=201)
    # the delivery row appears once the event is published (numbered) by the daemon
    deadline = time.time() + 10
    while True:
        _, page = call("GET", "/v1/webhooks/{id}/deliveries", {"id": wh["id"]}, token=admin, expect=200)
        if page["items"] or time.time() > deadline:
            break
        time.sleep(0.1)
    assert len(page["items"]) == 1 and page["items"][0]["event_type"] == "task.reported", page
    call("DELETE", "/v1/webhooks/{id}", {"id": wh["id"]}, token=admin, expect=204)


# ---------------------------------------------------------------- accountability (issue 11)

def test_units():
    _, units = call("GET", "/v1/units", token=viewer, expect=200)
    assert "社会事务办" in {u["name"] for u in units["items"]}
    r, unit = call("POST", "/v1/units", body={"name": "文明实践站", "parent": "社会事务办", "kind": "专班",
                                              "leader": "李明"}, token=admin, expect=201)
    assert unit["path"] == "社会事务办/文明实践站" and unit["leader"] == "李明"
    call("POST", "/v1/units", body={"name": "文明实践站", "parent": "社会事务办"}, token=admin, expect=409)
    call("POST", "/v1/units", body={"name": "x"}, token=supervisor, expect=403)
    r, got = call("GET", "/v1/units/{id}", {"id": unit["id"]}, token=viewer, expect=200)
    _, patched = call("PATCH", "/v1/units/{id}", {"id": unit["id"]}, body={"kind": "科室"}, token=admin,
                      headers={"If-Match": r.headers["ETag"]}, expect=200)
    assert patched["kind"] == "科室" and patched["version"] == got["version"] + 1
    social = next(u for u in units["items"] if u["name"] == "社会事务办")
    call("PATCH", "/v1/units/{id}", {"id": social["id"]}, body={"parent_id": unit["id"]}, token=admin, expect=422)


def test_sign_return_and_list_filters():
    body = {"plan_id": state["plan"], "parent_id": state["拓宽民生实事实施路径"], "title": "签收测试",
            "lead_unit": "社会事务办", "co_units": ["城管办"], "due_date": day(90)}
    _, a = call("POST", "/v1/tasks", body=body, token=supervisor, expect=201)
    _, b = call("POST", "/v1/tasks", body=dict(body, title="退回测试"), token=supervisor, expect=201)
    assert a["status"] == "assigned" and a["assigned_at"]
    _, page = call("GET", "/v1/tasks", query={"plan": state["plan"], "unsigned": "false", "unit": "城管办",
                                              "role": "co"}, token=viewer, expect=200)
    assert {a["id"], b["id"]} <= {t["id"] for t in page["items"]}
    r, signed = call("POST", "/v1/tasks/{id}/sign", {"id": a["id"]}, body={"note": "已签收"}, token=editor,
                     expect=200)
    assert signed["status"] == "planned" and signed["signed_by"]
    call("POST", "/v1/tasks/{id}/sign", {"id": a["id"]}, body={}, token=editor, expect=409)
    call("POST", "/v1/tasks/{id}/return", {"id": b["id"]}, body={"reason": ""}, token=editor, expect=422,
         check_body=False)
    _, ret = call("POST", "/v1/tasks/{id}/return", {"id": b["id"]}, body={"reason": "不属于本单位职责"},
                  token=editor, expect=200)
    assert ret["lead_unit"] is None and ret["returned"]["reason"] == "不属于本单位职责"


def test_approve_and_change_requests():
    tid = state["推进民生实事项目"]
    _, plan = call("POST", "/v1/plans/{id}/approve", {"id": state["plan"]}, body={"owner": "张书记"},
                   token=supervisor, expect=200)
    assert plan["approved_at"] and plan["owner"] == "张书记"
    call("POST", "/v1/plans/{id}/approve", {"id": state["plan"]}, body={}, token=supervisor, expect=409)
    _, p = call("PATCH", "/v1/tasks/{id}", {"id": tid}, body={"due_date": day(130)}, token=editor, expect=409)
    assert p["type"].endswith("change-control"), p
    _, ch = call("POST", "/v1/tasks/{id}/changes", {"id": tid},
                 body={"changes": {"due_date": day(130)}, "reason": "资金晚到"}, token=editor, expect=201)
    assert ch["state"] == "pending" and ch["changes"]["due_date"] == [day(100), day(130)]
    call("POST", "/v1/tasks/{id}/changes", {"id": tid}, body={"changes": {"due_date": day(140)}, "reason": "再延"},
         token=editor, expect=409)
    _, q = call("GET", "/v1/changes", query={"state": "pending", "plan": state["plan"]}, token=viewer, expect=200)
    assert [c["id"] for c in q["items"]] == [ch["id"]]
    _, done = call("POST", "/v1/changes/{id}/approve", {"id": ch["id"]}, body={"comment": "同意"},
                   token=supervisor, expect=200)
    assert done["state"] == "approved"
    _, t = call("GET", "/v1/tasks/{id}", {"id": tid}, token=viewer, expect=200)
    assert t["due_date"] == day(130) and t["original_due_date"] == day(100)
    _, ch2 = call("POST", "/v1/tasks/{id}/changes", {"id": tid}, body={"changes": {"title": "推进民生实事"},
                  "reason": "简化"}, token=editor, expect=201)
    call("POST", "/v1/changes/{id}/reject", {"id": ch2["id"]}, body={}, token=supervisor, expect=422)
    _, rej = call("POST", "/v1/changes/{id}/reject", {"id": ch2["id"]}, body={"comment": "不改"},
                  token=supervisor, expect=200)
    assert rej["state"] == "rejected"


def test_attachments():
    tid = state["推进民生实事项目"]
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    _, att = call("POST", "/v1/tasks/{id}/attachments", {"id": tid}, {"filename": "现场照片.png"}, body=png,
                  ctype="image/png", token=editor, expect=201)
    assert att["size"] == len(png) and att["update_id"] is None
    r, raw = call("GET", "/v1/attachments/{id}", {"id": att["id"]}, token=viewer, expect=200)
    assert raw == png and r.headers["X-Content-Type-Options"] == "nosniff"
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    call("POST", "/v1/tasks/{id}/attachments", {"id": tid}, {"filename": "x.pdf"}, body=png,
         ctype="application/pdf", token=editor, expect=415)
    _, res = call("POST", "/v1/tasks/{id}/updates", {"id": tid}, body={"note": "附照片", "attachments": [att["id"]]},
                  token=editor, expect=201)
    assert [x["id"] for x in res["update"]["attachments"]] == [att["id"]]


def test_calendar():
    with open(os.path.join(os.environ["PLANTRACK_SOURCE_DIR"], "docs", "examples", "calendar-2025.json"), encoding="utf-8") as f:
        cal = json.load(f)
    _, c = call("PUT", "/v1/calendar/{year}", {"year": 2025}, body=cal, token=supervisor, expect=201)
    assert c["year"] == 2025 and c["workdays"] == 248, c
    with open(os.path.join(os.environ["PLANTRACK_SOURCE_DIR"], "docs", "examples", "calendar-2025.csv"), "rb") as f:
        csv = f.read()
    call("PUT", "/v1/calendar/{year}", {"year": 2025}, body=csv, ctype="text/csv; charset=utf-8", token=supervisor,
         expect=200)
    _, c = call("GET", "/v1/calendar/{year}", {"year": 2025}, token=viewer, expect=200)
    assert c["workdays"] == 248
    call("PUT", "/v1/calendar/{year}", {"year": 2025}, body={"holidays": ["2025-02-30"]}, token=supervisor,
         expect=422, check_body=False)


def test_plan_admin_routes():
    # a plan of its own: rename, archive, unarchive, move, delete, restore (issue 12)
    body = {"title": "计划管理", "tasks": [{"title": "甲", "children": [{"title": "甲一"}]}, {"title": "乙"}]}
    _, plan = call("POST", "/v1/plans", body=body, token=supervisor, expect=201)
    r, got = call("GET", "/v1/plans/{id}", {"id": plan["id"]}, token=viewer, expect=200)
    r, got = call("PATCH", "/v1/plans/{id}", {"id": plan["id"]}, body={"title": "计划管理（改）"}, token=supervisor,
                  headers={"If-Match": r.headers["ETag"]}, expect=200)
    assert got["title"] == "计划管理（改）" and r.headers["ETag"] == '"%d"' % got["version"]
    _, got = call("POST", "/v1/plans/{id}/archive", {"id": plan["id"]}, body={}, token=supervisor, expect=200)
    assert got["archived_at"]
    _, got = call("POST", "/v1/plans/{id}/unarchive", {"id": plan["id"]}, body={}, token=supervisor, expect=200)
    assert got["archived_at"] is None
    kid = plan["tasks"][0]["children"][0]
    _, moved = call("POST", "/v1/tasks/{id}/move", {"id": kid["id"]}, body={"parent_id": plan["tasks"][1]["id"]},
                    token=supervisor, expect=200)
    assert moved["code"] == "2.1", moved["code"]
    call("DELETE", "/v1/plans/{id}", {"id": plan["id"]}, token=supervisor, expect=204)
    call("GET", "/v1/plans/{id}", {"id": plan["id"]}, token=viewer, expect=404)
    call("POST", "/v1/plans/{id}/restore", {"id": plan["id"]}, body={}, token=supervisor, expect=200)


# ---------------------------------------------------------------- errors

def test_problems():
    # 404 for an unknown id and for a route the router does not know
    _, p = call("GET", "/v1/tasks/{id}", {"id": str(uuid.uuid4())}, token=viewer, expect=404)
    assert p["type"].startswith("urn:plantrack:problem:")
    r = http("GET", daemon.url + "/v1/nothing-here", token=viewer)
    assert r.status == 404 and r.headers["Content-Type"].startswith("application/problem+json")
    assert_valid(r.json(), DOC["components"]["schemas"]["Problem"], "404 problem")
    # 405 with Allow on a documented path
    r = http("PUT", daemon.url + "/v1/tasks", body={"title": "x"}, token=admin)
    assert r.status == 405 and "GET" in r.headers["Allow"] and "POST" in r.headers["Allow"], r
    assert_valid(r.json(), DOC["components"]["schemas"]["Problem"], "405 problem")
    # 422 lists every field; the request schema rejects the same body
    bad = {"plan_id": "not-a-uuid", "title": "", "progress": 101, "due_date": "2025-02-30"}
    assert validate(bad, DOC["components"]["schemas"]["TaskCreate"])
    _, p = call("POST", "/v1/tasks", body=bad, token=supervisor, expect=422, check_body=False)
    fields = {e["field"] for e in p["errors"]}
    assert {"plan_id", "title", "progress", "due_date"} <= fields, p
    # an unknown field is 400, and the schema (additionalProperties false) rejects it too
    unknown = {"title": "x", "colour": "red"}
    assert validate(unknown, DOC["components"]["schemas"]["PlanCreate"])
    _, p = call("POST", "/v1/plans", body=unknown, token=supervisor, expect=400, check_body=False)
    assert p["errors"][0]["field"] == "colour", p
    # malformed JSON 400, wrong media type 415
    call("POST", "/v1/plans", body=b"{\"title\":", ctype="application/json", token=supervisor, expect=400,
         check_body=False)
    call("POST", "/v1/plans", body=b"title=x", ctype="application/x-www-form-urlencoded", token=supervisor,
         expect=415, check_body=False)
    # a query parameter out of range
    _, p = call("GET", "/v1/tasks", query={"limit": 501}, token=viewer, expect=422)
    assert p["errors"][0]["field"] == "limit"
    # 403: role too low, and out of the editor's unit
    call("POST", "/v1/plans", body={"title": "x"}, token=editor, expect=403)
    call("PATCH", "/v1/tasks/{id}", {"id": state["老旧小区改造"]}, body={"owner": "x"}, token=editor, expect=403)
    # 401 with an unknown token
    call("GET", "/v1/plans", token="not-a-token", expect=401)


def test_every_documented_operation_was_exercised():
    missing = []
    for path, item in DOC["paths"].items():
        for method in ("get", "put", "post", "delete", "patch", "options"):
            if method not in item:
                continue
            seen = exercised.get((method, path), set())
            if not any(200 <= s < 300 for s in seen):
                missing.append("%s %s" % (method.upper(), path))
    assert not missing, "never answered 2xx in this test: " + ", ".join(missing)


run(globals())
