"""Accountability over real HTTP (issue 11), walked on the reference plan
(../shared/samples/chengdong-2025-plan.txt) with the clock fixed at
2025-06-25: units as a tree, 交办 → 签收/退回, plan approval → an editor's
PATCH of a due date refused → 延期申请 → approval by another supervisor →
lights and the journal show old and new; 办结 with a 2 MiB photo → the same
supervisor cannot verify (销号), another one can; a co-operating unit's note
lands but its status change is refused; and the reminders task.due_soon and
task.overdue (level 1) reach a webhook receiver exactly once, through a
daemon restart, with two daemons on one database. Every refusal is checked
both ways: the problem names the rule, and nothing was written."""
import hashlib
import json
import os
import random
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

from harness import Daemon, Database, free_port, http, run, skip_without_pg

skip_without_pg()

ROOT = os.environ.get("PLANTRACK_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SAMPLE = os.path.join(ROOT, "..", "shared", "samples", "chengdong-2025-plan.txt")
TODAY = "2025-06-25"   # a Wednesday
# the webhook receivers of these tests listen on 127.0.0.1 ([webhooks] allow)
CONFIG = "[clock]\ntoday = %s\n[reminders]\ninterval = 1\n[webhooks]\nallow = 127.0.0.0/8\n" % TODAY


# ---------------------------------------------------------------- webhook receiver

class Receiver:
    """Records every webhook POST (event JSON)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with receiver.lock:
                    receiver.events.append(json.loads(body.decode("utf-8")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"ok")

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def matching(self, etype, task_id):
        with self.lock:
            return [e for e in self.events if e["type"] == etype and e["task_id"] == task_id]


receiver = Receiver()
db = Database()
d1 = Daemon(db, config_text=CONFIG)
d1.start()
# a second daemon on the same database (its scheduler competes for the same reminders)
d2 = Daemon(db, config_text=CONFIG, migrate=False)
d2.start()
admin = d1.token("admin")
sup1 = d1.token("supervisor", name="督查室张")
sup2 = d1.token("supervisor", name="督查室李")
viewer = d1.token("viewer")
state = {}


def api(method, path, body=None, token=None, headers=None, daemon=None):
    return http(method, (daemon or d1).url + path, body=body, token=token or admin, headers=headers)


def count(sql):
    return int(db.scalar(sql))


def refused(r, status, slug=None):
    assert r.status == status, (r.status, r.body[:400])
    p = r.json()
    assert r.headers["Content-Type"].startswith("application/problem+json") and p["status"] == status, p
    if slug:
        assert p["type"] == "urn:plantrack:problem:" + slug, p
    return p


# ---------------------------------------------------------------- set-up

def test_webhook_for_reminders():
    r = api("POST", "/v1/webhooks", {"url": "http://127.0.0.1:%d/hook" % receiver.port,
                                     "event_types": ["task.due_soon", "task.overdue"]})
    assert r.status == 201, r.body


def test_units_as_a_tree():
    r = api("POST", "/v1/units", {"name": "社会事务办", "kind": "科室", "leader": "王副主任"})
    assert r.status == 201, r.body
    social = r.json()
    r = api("POST", "/v1/units", {"name": "民生科", "parent_id": social["id"], "kind": "科室"})
    assert r.status == 201 and r.json()["path"] == "社会事务办/民生科", r.body
    for name, kind in (("城管办", "科室"), ("东关社区", "社区")):
        assert api("POST", "/v1/units", {"name": name, "kind": kind}).status == 201
    # only an admin writes units; everyone reads them
    refused(api("POST", "/v1/units", {"name": "x"}, token=sup1), 403)
    r = api("GET", "/v1/units", token=viewer)
    paths = [u["path"] for u in r.json()["items"]]
    assert {"东关社区", "城管办", "社会事务办", "社会事务办/民生科"} <= set(paths), paths
    assert paths.index("社会事务办/民生科") == paths.index("社会事务办") + 1, "depth first"
    # a unit cannot move below itself
    kid = next(u for u in r.json()["items"] if u["name"] == "民生科")
    refused(api("PATCH", "/v1/units/" + social["id"], {"parent_id": kid["id"]}), 422)
    state["editor"] = d1.token("editor", unit="社会事务办", name="社会事务办填报")
    state["editor_kid"] = d1.token("editor", unit="民生科", name="民生科填报")
    state["editor_co"] = d1.token("editor", unit="城管办", name="城管办填报")
    state["editor_other"] = d1.token("editor", unit="东关社区", name="东关社区填报")


def test_import_reference_plan_and_assign():
    with open(SAMPLE, "rb") as f:
        text = f.read()
    r = http("POST", d1.url + "/v1/plans/import?year=2025", body=text, token=sup1,
             headers={"Content-Type": "text/plain; charset=utf-8"})
    assert r.status == 201, r.body[:300]
    plan = r.json()
    state["plan"] = plan["id"]
    assert plan["approved_at"] is None
    rows = api("GET", "/v1/tasks?plan=%s&limit=500" % plan["id"]).json()["items"]
    leaves = [t for t in rows if t["parent_id"] and not any(c["parent_id"] == t["id"] for c in rows)]
    assert len(leaves) >= 6, len(leaves)
    x, y, a, b, z, w = leaves[:6]
    state.update(x=x["id"], y=y["id"], a=a["id"], b=b["id"], z=z["id"], w=w["id"])
    # 交办: the supervisor names lead units (and due dates, before approval anything goes)
    plan_for = {
        "x": {"lead_unit": "社会事务办", "co_units": ["城管办"], "due_date": "2025-06-20"},
        "y": {"lead_unit": "民生科"},
        "a": {"lead_unit": "社会事务办", "due_date": "2025-06-27"},    # due in 2 working days
        "b": {"lead_unit": "社会事务办", "due_date": "2025-06-24"},    # 1 day overdue
        "z": {"lead_unit": "社会事务办", "due_date": "2025-12-31"},
        "w": {"lead_unit": "社会事务办", "due_date": "2025-12-31"},
    }
    for k, patch in plan_for.items():
        r = api("PATCH", "/v1/tasks/" + state[k], patch, token=sup1)
        assert r.status == 200, r.body
        assert r.json()["status"] == "assigned" and r.json()["assigned_at"], r.body
    # an editor may not create units by naming them
    p = refused(api("PATCH", "/v1/tasks/" + state["x"], {"co_units": ["城管办", "不存在的单位"]},
                    token=state["editor"]), 422)
    assert p["errors"][0]["field"] == "co_units", p
    assert count("SELECT count(*) FROM units WHERE name = '不存在的单位'") == 0


def test_sign_and_return():
    editor = state["editor"]
    # another unit may not sign; the lead unit (or a unit above it) may
    refused(api("POST", "/v1/tasks/%s/sign" % state["x"], {}, token=state["editor_other"]), 403)
    r = api("POST", "/v1/tasks/%s/sign" % state["x"], {"note": "已签收"}, token=editor)
    assert r.status == 200 and r.json()["status"] == "planned" and r.json()["signed_by"] == "社会事务办填报", r.body
    # the write names its event, so a client can wait for it on the feed
    eid = r.headers.get("X-Event-Id")
    assert eid and eid.isdigit(), r.headers
    r = api("GET", "/v1/events?after=0&limit=1&wait=10&wait_for=%s" % eid, token=viewer)
    assert r.status == 200 and r.json()["published"] is True, r.body
    assert count("SELECT count(*) FROM events WHERE id = %s AND type = 'task.signed'" % eid) == 1
    refused(api("POST", "/v1/tasks/%s/sign" % state["x"], {}, token=editor), 409, "not-assigned")
    # 退回 needs a reason and goes back to the supervisor without a lead unit
    refused(api("POST", "/v1/tasks/%s/return" % state["y"], {"reason": ""}, token=state["editor_kid"]), 422)
    r = api("POST", "/v1/tasks/%s/return" % state["y"], {"reason": "属于城管办职责"}, token=state["editor_kid"])
    assert r.status == 200, r.body
    t = r.json()
    assert t["status"] == "planned" and t["lead_unit"] is None and t["returned"]["unit"] == "民生科"
    assert t["returned"]["reason"] == "属于城管办职责"
    # a progress report by the lead unit on an unsigned task signs it in passing
    r = api("POST", "/v1/tasks/%s/updates" % state["z"], {"progress": 10, "note": "已启动"}, token=editor)
    assert r.status == 201 and r.json()["task"]["status"] == "planned" and r.json()["task"]["signed_at"], r.body
    kinds = [u["kind"] for u in api("GET", "/v1/tasks/%s/updates" % state["z"]).json()["items"]]
    assert kinds == ["report"], kinds
    actions = [(h["action"], h["entity"]) for h in api("GET", "/v1/tasks/%s/history" % state["z"]).json()["items"]]
    assert ("sign", "task") in actions and ("report", "task") in actions, actions
    # the queue of unsigned tasks answers (nothing is late: they were assigned "after" the fixed today)
    r = api("GET", "/v1/tasks?plan=%s&unsigned=true" % state["plan"], token=viewer)
    assert r.status == 200 and r.json()["items"] == [], r.body


def test_approve_plan_fixes_the_list():
    refused(api("POST", "/v1/plans/%s/approve" % state["plan"], {}, token=state["editor"]), 403)
    r = api("POST", "/v1/plans/%s/approve" % state["plan"], {"owner": "街道党工委书记"}, token=sup1)
    assert r.status == 200 and r.json()["approved_at"] and r.json()["owner"] == "街道党工委书记", r.body
    refused(api("POST", "/v1/plans/%s/approve" % state["plan"], {}, token=sup2), 409, "plan-approved")
    t = api("GET", "/v1/tasks/" + state["x"]).json()
    assert t["original_due_date"] == "2025-06-20" and t["light"] == "red"


def test_editor_patch_of_a_due_date_is_refused():
    before = api("GET", "/v1/tasks/" + state["x"]).json()
    p = refused(api("PATCH", "/v1/tasks/" + state["x"], {"due_date": "2025-09-30"}, token=state["editor"]),
                409, "change-control")
    assert "change request" in p["title"] and "due_date" in p["detail"], p
    for patch in ({"title": "改个名"}, {"targets": []}, {"milestones": []}):
        refused(api("PATCH", "/v1/tasks/" + state["x"], patch, token=state["editor"]), 409, "change-control")
    after = api("GET", "/v1/tasks/" + state["x"]).json()
    assert after["due_date"] == "2025-06-20" and after["version"] == before["version"], "nothing written"
    # other fields stay editable, and supervisors still edit directly
    r = api("PATCH", "/v1/tasks/" + state["x"], {"owner": "王芳"}, token=state["editor"])
    assert r.status == 200, r.body


def test_extension_request_and_approval():
    x = state["x"]
    n0 = count("SELECT count(*) FROM change_requests")
    # a task of another unit: 403, nothing written
    refused(api("POST", "/v1/tasks/%s/changes" % x, {"changes": {"due_date": "2025-09-30"}, "reason": "x"},
                token=state["editor_other"]), 403, "out-of-scope")
    assert count("SELECT count(*) FROM change_requests") == n0
    r = api("POST", "/v1/tasks/%s/changes" % x,
            {"changes": {"due_date": "2025-09-30"}, "reason": "资金6月底才到位,申请延期至9月底"}, token=state["editor"])
    assert r.status == 201, r.body
    ch = r.json()
    assert ch["state"] == "pending" and ch["changes"] == {"due_date": ["2025-06-20", "2025-09-30"]}, ch
    # a second pending request for the same field: 409, nothing written
    refused(api("POST", "/v1/tasks/%s/changes" % x, {"changes": {"due_date": "2025-10-31"}, "reason": "再延"},
                token=state["editor"]), 409, "change-pending")
    assert count("SELECT count(*) FROM change_requests") == n0 + 1
    queue = api("GET", "/v1/changes?state=pending", token=sup1).json()["items"]
    assert [c["id"] for c in queue] == [ch["id"]]
    # an editor cannot decide; a supervisor approves with a comment
    refused(api("POST", "/v1/changes/%s/approve" % ch["id"], {}, token=state["editor"]), 403)
    r = api("POST", "/v1/changes/%s/approve" % ch["id"], {"comment": "同意延期"}, token=sup1)
    assert r.status == 200 and r.json()["state"] == "approved" and r.json()["decided_by"] == "督查室张", r.body
    refused(api("POST", "/v1/changes/%s/reject" % ch["id"], {"comment": "晚了"}, token=sup2), 409, "change-decided")
    # lights use the current due date; the original stays visible
    t = api("GET", "/v1/tasks/" + x).json()
    assert t["due_date"] == "2025-09-30" and t["original_due_date"] == "2025-06-20", t
    assert t["light"] != "red", t["light"]
    # the journal shows the request, the decision and the task's old and new due date
    hist = api("GET", "/v1/tasks/%s/history?limit=500" % x).json()["items"]
    applied = [h for h in hist if h["entity"] == "task" and h["action"] == "approve"]
    assert applied and applied[-1]["changes"]["due_date"] == ["2025-06-20", "2025-09-30"], hist
    assert {(h["entity"], h["action"]) for h in hist} >= {("change", "request"), ("change", "approve")}
    assert api("GET", "/v1/changes?state=pending").json()["items"] == []


def test_own_request_cannot_be_approved():
    r = api("POST", "/v1/tasks/%s/changes" % state["x"], {"changes": {"title": "推进基层党建提质"}, "reason": "名称规范"},
            token=sup1)
    assert r.status == 201, r.body
    ch = r.json()
    title = api("GET", "/v1/tasks/" + state["x"]).json()["title"]
    refused(api("POST", "/v1/changes/%s/approve" % ch["id"], {}, token=sup1), 403, "own-request")
    assert api("GET", "/v1/tasks/" + state["x"]).json()["title"] == title, "nothing written"
    assert count("SELECT count(*) FROM change_requests WHERE id = '%s' AND state = 'pending'" % ch["id"]) == 1
    refused(api("POST", "/v1/changes/%s/reject" % ch["id"], {}, token=sup2), 422)
    r = api("POST", "/v1/changes/%s/reject" % ch["id"], {"comment": "原名称已发文"}, token=sup2)
    assert r.status == 200 and r.json()["state"] == "rejected", r.body
    assert api("GET", "/v1/tasks/" + state["x"]).json()["title"] == title


def jpeg(size):
    rnd = random.Random(11)
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return head + bytes(rnd.getrandbits(8) for _ in range(size - len(head) - 2)) + b"\xff\xd9"


def upload(task, data, ctype, filename, token):
    return http("POST", d1.url + "/v1/tasks/%s/attachments?filename=%s" % (task, quote(filename)), body=data,
                token=token, headers={"Content-Type": ctype})


def test_evidence_files():
    x, editor = state["x"], state["editor"]
    photo = jpeg(2 * 1024 * 1024)
    n0 = count("SELECT count(*) FROM attachments")
    # bytes that are not the declared type: 415, nothing stored
    p = refused(upload(x, photo, "image/png", "现场.png", editor), 415, "content-mismatch")
    assert "image/png" in p["detail"]
    refused(upload(x, b"MZ\x90\x00", "application/x-msdownload", "a.exe", editor), 415)
    # over the size limit (20 MiB): 413, nothing stored
    big = b"\xff\xd8\xff" + bytes(20 * 1024 * 1024 - 2)    # the limit + 1 byte
    refused(upload(x, big, "image/jpeg", "big.jpg", editor), 413)
    assert count("SELECT count(*) FROM attachments") == n0
    # another unit may not upload to the task
    refused(upload(x, photo, "image/jpeg", "x.jpg", state["editor_other"]), 403)
    name = '整改前后"对比"\r\nX-Evil: 1.jpg'
    r = upload(x, photo, "image/jpeg", name, editor)
    assert r.status == 201, r.body
    att = r.json()
    assert att["size"] == len(photo) and att["sha256"] == hashlib.sha256(photo).hexdigest()
    assert att["content_type"] == "image/jpeg" and att["filename"] == name
    r = api("GET", "/v1/attachments/" + att["id"], token=viewer)
    assert r.status == 200 and r.body == photo
    assert r.headers["Content-Type"] == "image/jpeg" and r.headers["X-Content-Type-Options"] == "nosniff"
    disp = r.headers["Content-Disposition"]
    assert disp.startswith('attachment; filename="') and "filename*=UTF-8''" in disp, disp
    assert "\r" not in disp and "\n" not in disp and "X-Evil" not in r.headers, r.headers
    assert quote(name, safe="!#$&+-.^_`|~") in disp, disp
    state["photo"] = att["id"]


def test_done_with_evidence_then_verification_by_someone_else():
    x = state["x"]
    # 办结 needs a closing note; nothing written without it
    v0 = api("GET", "/v1/tasks/" + x).json()["version"]
    refused(api("POST", "/v1/tasks/%s/updates" % x, {"status": "done", "attachments": [state["photo"]]}, token=sup1), 422)
    assert api("GET", "/v1/tasks/" + x).json()["version"] == v0
    # verifying a task that is not done: 409, nothing written
    refused(api("POST", "/v1/tasks/%s/updates" % x, {"status": "verified"}, token=sup2), 409, "not-done")
    assert api("GET", "/v1/tasks/" + x).json()["status"] == "planned"
    r = api("POST", "/v1/tasks/%s/updates" % x,
            {"status": "done", "note": "已完成全部整改,附现场照片", "attachments": [state["photo"]]}, token=sup1)
    assert r.status == 201, r.body
    assert r.json()["task"]["done_by"] == "督查室张"
    assert [a["id"] for a in r.json()["update"]["attachments"]] == [state["photo"]]
    # the same supervisor cannot verify (销号) what it reported done
    p = refused(api("POST", "/v1/tasks/%s/updates" % x, {"status": "verified"}, token=sup1), 403, "second-person")
    assert "督查室张" in p["detail"]
    assert api("GET", "/v1/tasks/" + x).json()["status"] == "done"
    r = api("POST", "/v1/tasks/%s/updates" % x, {"status": "verified", "note": "核查属实,同意销号"}, token=sup2)
    assert r.status == 201 and r.json()["task"]["status"] == "verified", r.body
    actions = [h["action"] for h in api("GET", "/v1/tasks/%s/history?limit=500" % x).json()["items"]]
    assert "done" in actions and "verify" in actions, actions


def test_rejection_sends_a_done_task_back_with_a_reason():
    w, editor = state["w"], state["editor"]
    r = api("POST", "/v1/tasks/%s/updates" % w, {"status": "done", "note": "已办结"}, token=editor)
    assert r.status == 201, r.body
    refused(api("POST", "/v1/tasks/%s/updates" % w, {"status": "in_progress"}, token=sup1), 422)
    r = api("POST", "/v1/tasks/%s/updates" % w, {"status": "in_progress", "note": "佐证材料不全,退回补充"}, token=sup1)
    assert r.status == 201 and r.json()["task"]["status"] == "in_progress", r.body
    assert "reject" in [h["action"] for h in api("GET", "/v1/tasks/%s/history" % w).json()["items"]]


def test_co_operating_unit_takes_part():
    z, co = state["z"], state["editor_co"]
    # 城管办 co-operates on x (and is no lead anywhere)
    r = api("PATCH", "/v1/tasks/" + z, {"co_units": ["城管办"]}, token=sup1)
    assert r.status == 200, r.body
    ids = lambda q: [t["id"] for t in api("GET", "/v1/tasks?plan=%s&unit=%s%s" % (state["plan"], quote("城管办"), q),
                                          token=viewer).json()["items"]]
    assert ids("") == [] and ids("&role=lead") == []
    assert set(ids("&role=co")) == {state["x"], z} and set(ids("&role=any")) == {state["x"], z}
    before = api("GET", "/v1/tasks/" + z).json()
    # its note (协办反馈) lands, with a contribution and without touching the lead unit's numbers
    r = api("POST", "/v1/tasks/%s/updates" % z, {"note": "已配合完成沿街整治3处"}, token=co)
    assert r.status == 201, r.body
    u = r.json()["update"]
    assert u["kind"] == "co" and u["unit"] == "城管办" and u["note"] == "已配合完成沿街整治3处"
    after = api("GET", "/v1/tasks/" + z).json()
    assert after["version"] == before["version"] and after["status"] == before["status"]
    # its status change is refused, and nothing is written
    n = count("SELECT count(*) FROM updates WHERE task_id = '%s'" % z)
    p = refused(api("POST", "/v1/tasks/%s/updates" % z, {"status": "done", "note": "完成"}, token=co), 403,
                "co-unit-limit")
    assert "status" in p["detail"]
    refused(api("POST", "/v1/tasks/%s/updates" % z, {"progress": 90}, token=co), 403, "co-unit-limit")
    assert count("SELECT count(*) FROM updates WHERE task_id = '%s'" % z) == n
    assert api("GET", "/v1/tasks/" + z).json()["status"] == before["status"]
    # evidence from the co-operating unit is accepted
    r = upload(z, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "application/pdf", "协办说明.pdf", co)
    assert r.status == 201, r.body
    # the ranking credits lead units only
    units = {u["unit"] for u in api("GET", "/v1/plans/%s/summary" % state["plan"]).json()["units"]}
    assert "城管办" not in units and "社会事务办" in units, units


def test_export_names_the_new_status():
    r = api("GET", "/v1/plans/%s/export.csv?lang=zh" % state["plan"], token=viewer)
    assert r.status == 200 and "待签收" in r.body.decode("utf-8-sig"), r.body[:300]


def wait_for(pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def test_reminders_reach_the_webhook_exactly_once():
    a, b = state["a"], state["b"]
    assert wait_for(lambda: receiver.matching("task.due_soon", a) and receiver.matching("task.overdue", b)), \
        receiver.events[-5:]
    due = receiver.matching("task.due_soon", a)[0]
    assert due["data"]["due_date"] == "2025-06-27" and due["data"]["lead_unit"] == "社会事务办", due
    over = receiver.matching("task.overdue", b)[0]
    assert over["data"]["level"] == 1 and over["data"]["days_overdue"] == 1, over
    # several scheduler runs on two daemons, then a restart of one: still once
    time.sleep(3)
    d1.stop()
    d1.start()
    time.sleep(4)
    assert len(receiver.matching("task.due_soon", a)) == 1, receiver.matching("task.due_soon", a)
    assert len(receiver.matching("task.overdue", b)) == 1, receiver.matching("task.overdue", b)
    assert count("SELECT count(*) FROM events WHERE type = 'task.due_soon' AND task_id = '%s'" % a) == 1
    assert count("SELECT count(*) FROM reminders_sent WHERE task_id = '%s'" % b) == 1
    # x was extended and is done: no reminder for it
    assert not receiver.matching("task.overdue", state["x"]) or \
        all(e["data"]["due_date"] == "2025-06-20" for e in receiver.matching("task.overdue", state["x"]))



def test_quiet_hours_hold_reminder_webhooks():
    # a daemon of its own whose quiet hours cover now, in its [clock] timezone (UTC here)
    now = time.gmtime()
    m = now.tm_hour * 60 + now.tm_min
    window = "%02d:%02d-%02d:%02d" % (((m - 60) % 1440) // 60, (m - 60) % 60, ((m + 60) % 1440) // 60, (m + 60) % 60)
    quiet_db = Database()
    d3 = Daemon(quiet_db, config_text="[clock]\ntoday = %s\ntimezone = UTC\n[reminders]\ninterval = 1\n"
                                      "quiet_hours = %s\n[webhooks]\nallow = 127.0.0.0/8\n" % (TODAY, window))
    d3.start()
    tok = d3.token("admin")
    rec = Receiver()
    r = http("POST", d3.url + "/v1/webhooks", body={"url": "http://127.0.0.1:%d/q" % rec.port,
                                                    "event_types": ["task.overdue", "task.created"]}, token=tok)
    assert r.status == 201, r.body
    r = http("POST", d3.url + "/v1/plans", body={"title": "静默时段", "year": 2025, "tasks": [
        {"title": "逾期事项", "lead_unit": "城管办", "due_date": "2025-06-01"}]}, token=tok)
    assert r.status == 201, r.body
    task = r.json()["tasks"][0]["id"]
    r = http("POST", d3.url + "/v1/tasks", body={"plan_id": r.json()["id"], "title": "普通事件"}, token=tok)
    assert r.status == 201, r.body
    # other events go out; the reminder is written and waits
    assert wait_for(lambda: rec.matching("task.created", r.json()["id"]))
    assert wait_for(lambda: quiet_db.scalar("SELECT count(*) FROM webhook_deliveries WHERE event_type = 'task.overdue' "
                                             "AND status = 'pending'") == "1")
    time.sleep(2)
    assert rec.matching("task.overdue", task) == []
    # the quiet hours end (here: a reload without them): it is delivered, once
    d3.write_config(CONFIG)
    d3.signal(signal.SIGHUP)
    assert wait_for(lambda: rec.matching("task.overdue", task)), rec.events
    time.sleep(1)
    assert len(rec.matching("task.overdue", task)) == 1
    d3.stop()


run(globals())
