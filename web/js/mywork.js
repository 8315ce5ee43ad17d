// mywork.js - 我的工作: an editor's tasks (its unit and the units below it, as
// lead or co-operating unit) by urgency; a supervisor's queue (extension and
// change requests, tasks reported done awaiting verification, unsigned tasks).
import { api, all, Action, NOT_OPEN } from "./api.js";
import { h, fill, light, bar, pct, fmtDate, fmtTime, LIGHT_NAMES, STATUS_NAMES } from "./dom.js";

const CLOSED = new Set(["done", "verified", "cancelled"]);
const LIGHT_RANK = { red: 0, yellow: 1, green: 2 };

/** Most urgent first: red, yellow, green; then the nearest deadline; then the least progress. */
export function byUrgency(a, b) {
  const l = (LIGHT_RANK[a.light] ?? 3) - (LIGHT_RANK[b.light] ?? 3);
  if (l) return l;
  const da = a.effective_due || a.due_date || "9999-12-31", db = b.effective_due || b.due_date || "9999-12-31";
  if (da !== db) return da < db ? -1 : 1;
  return (a.progress || 0) - (b.progress || 0);
}

function taskItem(t, extra) {
  return h("li", { dataset: { task: t.id } }, light(t.light),
    h("div", h("a", { href: "#/task/" + encodeURIComponent(t.id) }, t.title), extra || null,
      h("div.muted", `${t.code || ""} ${t.lead_unit || ""} · ${STATUS_NAMES[t.status] || t.status} · 计划完成 ${fmtDate(t.effective_due || t.due_date)}`)),
    h("div", { title: "进度" }, pct(t.progress)));
}

export async function renderMine(view, ctx) {
  const me = ctx.me;
  if (me.role === "editor") return editorWork(view, me);
  if (me.role === "supervisor" || me.role === "admin") return supervisorQueue(view, ctx);
  fill(view, h("div.card", h("h2", "我的工作"), h("p", "查看令牌没有待办事项。请从挂图作战查看任务。")));
}

async function editorWork(view, me) {
  if (!me.unit_id) {
    fill(view, h("div.card", h("h2", "我的工作"), h("p.msg", "这个令牌没有绑定单位，请联系管理员。")));
    return;
  }
  const tasks = await all(`/v1/tasks?unit=${encodeURIComponent(me.unit_id)}`);
  // which names are this unit and the units below it (lead vs co-operating), when /v1/units exists
  let mine = null;
  try {
    const units = (await api("/v1/units")).body;
    const list = Array.isArray(units) ? units : units.items || [];
    const ids = new Set([me.unit_id]);
    for (let grew = true; grew;) { grew = false; for (const u of list) if (u.parent_id && ids.has(u.parent_id) && !ids.has(u.id)) { ids.add(u.id); grew = true; } }
    mine = new Set(list.filter((u) => ids.has(u.id)).map((u) => u.name));
  } catch { mine = null; }
  const open = tasks.filter((t) => !CLOSED.has(t.status)).sort(byUrgency);
  const closed = tasks.length - open.length;
  fill(view, h("section.card", h("h2", `我的工作（${open.length} 项待办${closed ? "，" + closed + " 项已办结" : ""}）`),
    h("p.muted", "按紧急程度排列：红灯、黄灯在前，其次是临近的完成期限。"),
    open.length ? h("ol.worklist#worklist", open.map((t) => taskItem(t, mine ? h("span.tag", mine.has(t.lead_unit) ? "牵头" : "配合") : null)))
      : h("p", "没有待办任务。")));
}

async function supervisorQueue(view, ctx) {
  const changesBox = h("section.card#queue-changes", h("h2", "延期 / 调整申请"), h("p.muted", "加载中…"));
  const verifyBox = h("section.card#queue-verify", h("h2", "待核查销号"), h("p.muted", "加载中…"));
  const unsignedBox = h("section.card#queue-unsigned", h("h2", "未签收任务"), h("p.muted", "加载中…"));
  fill(view, changesBox, verifyBox, unsignedBox);

  const loadChanges = async () => {
    try {
      const { body } = await api("/v1/changes?state=pending&limit=200");
      const items = body.items || [];
      fill(changesBox, h("h2", `延期 / 调整申请（${items.length}）`),
        items.length ? h("ul.queue", items.map((c) => changeItem(c))) : h("p.muted", "没有待审批的申请。"));
    } catch (e) {
      fill(changesBox, h("h2", "延期 / 调整申请"), h("p.notice", e.missing ? "审批延期和调整申请" + NOT_OPEN + "。" : e.message));
    }
  };
  const changeItem = (c) => {
    const comment = h("input", { type: "text", placeholder: "审批意见", "aria-label": "审批意见" });
    const approve = new Action(), reject = new Action();
    const out = h("div.result");
    const decide = async (act, verb, btn) => {
      btn.disabled = true;
      try {
        await act.send(`/v1/changes/${encodeURIComponent(c.id)}/${verb}`, { method: "POST", body: { comment: comment.value.trim() || (verb === "approve" ? "同意" : "不同意") } });
        ctx.message(verb === "approve" ? "已批准。" : "已驳回。", true);
        loadChanges();
      } catch (e) {
        fill(out, h("p.msg", e.missing ? NOT_OPEN : e.message));
      } finally { btn.disabled = false; }
    };
    const what = Object.entries(c.changes || {}).map(([k, v]) => `${k === "due_date" ? "完成日期改为" : k + " → "}${typeof v === "object" ? JSON.stringify(v) : v}`).join("；");
    return h("li", { dataset: { change: c.id } },
      h("div", h("a", { href: "#/task/" + encodeURIComponent(c.task_id) }, c.task_title || c.task?.title || c.task_id), "：", what),
      h("div.muted", `理由：${c.reason || "—"} · ${c.requested_by || c.author || ""} ${fmtTime(c.created_at || c.at)}`),
      h("div.actions", comment,
        h("button.btn.good.approve", { type: "button", onclick: (e) => decide(approve, "approve", e.currentTarget) }, "批准"),
        h("button.btn.reject", { type: "button", onclick: (e) => decide(reject, "reject", e.currentTarget) }, "驳回")), out);
  };

  const [done, planned] = await Promise.all([all("/v1/tasks?status=done"), all("/v1/tasks?status=planned"), loadChanges()]);
  fill(verifyBox, h("h2", `待核查销号（${done.length}）`), done.length ? h("ol.worklist", done.sort(byUrgency).map((t) => taskItem(t))) : h("p.muted", "没有待核查的任务。"));
  const unsigned = planned.filter((t) => !("signed_at" in t) || !t.signed_at).sort(byUrgency);
  fill(unsignedBox, h("h2", `未签收任务（${unsigned.length}）`), unsigned.length ? h("ol.worklist", unsigned.slice(0, 200).map((t) => taskItem(t))) : h("p.muted", "没有未签收的任务。"));
}
