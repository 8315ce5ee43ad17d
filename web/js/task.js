// task.js - one task: its document (targets, milestones, units, people), the
// history, attachments, and the actions the signed-in role may take. Writes
// send If-Match (the task's ETag) and an Idempotency-Key per intended action;
// a 412 shows what changed and offers to send again on the fresh version.
import { api, Action, NOT_OPEN } from "./api.js";
import { h, fill, light, bar, pct, fmtDate, fmtTime, LIGHT_NAMES, STATUS_NAMES } from "./dom.js";

const CADENCE = { weekly: "每周", monthly: "每月", quarterly: "每季度", yearly: "每年" };
const DUE_SOURCE = { own: "本任务", parent: "上级任务", plan: "计划年度" };
const PROGRESS_SOURCE = { reported: "填报", targets: "按目标值", milestones: "按节点", children: "按子任务" };
const WRITERS = new Set(["editor", "supervisor", "admin"]);
const SUPERVISORS = new Set(["supervisor", "admin"]);

export async function renderTask(view, ctx, id) {
  const st = { task: null, etag: null };
  const path = `/v1/tasks/${encodeURIComponent(id)}`;
  const res = await api(path);
  st.task = res.body;
  st.etag = res.etag || `"${res.body.version}"`;

  const docBox = h("section.card#task-doc");
  const actionBox = h("section.card#task-actions");
  const attachBox = h("section.card#task-attachments", h("h2", "佐证材料"), h("p.muted", "加载中…"));
  const historyBox = h("section.card#task-history", h("h2", "全过程记录"), h("p.muted", "加载中…"));
  fill(view, h("p.no-print", h("a", { href: "#/board/" + encodeURIComponent(st.task.plan_id) }, "← 返回挂图作战")),
    docBox, actionBox, attachBox, historyBox);

  /** Reads the task again; the action forms are redrawn only when asked, so
   *  what the person typed survives a 412. */
  async function reload(redrawActions = true) {
    const r = await api(path);
    st.task = r.body;
    st.etag = r.etag || `"${r.body.version}"`;
    drawDoc();
    if (redrawActions) drawActions();
    loadHistory();
    return r.body;
  }

  function drawDoc() {
    const t = st.task;
    const fact = (k, v) => h("div", h("dt", k), h("dd", v === null || v === undefined || v === "" ? "—" : v));
    fill(docBox,
      h("div.task-head", light(t.light), h("span.tag", LIGHT_NAMES[t.light] || t.light), h("span.tag", STATUS_NAMES[t.status] || t.status),
        t.code ? h("span.muted", t.code) : null, h("h1#task-title", t.title)),
      h("dl.facts",
        fact("牵头单位", t.lead_unit), fact("配合单位", (t.co_units || []).join("、")),
        fact("责任人", t.owner), fact("分管领导", t.leader),
        fact("开始日期", fmtDate(t.start_date)),
        fact("计划完成", t.effective_due && t.effective_due !== t.due_date
          ? `${fmtDate(t.effective_due)}（按${DUE_SOURCE[t.due_source] || t.due_source || "上级"}）` : fmtDate(t.due_date)),
        fact("调度频次", CADENCE[t.cadence] || t.cadence),
        fact("版本", String(t.version))),
      h("div", h("b#task-progress", "进度 " + pct(t.progress)),
        typeof t.expected_progress === "number" ? h("span.muted", `  序时进度 ${pct(t.expected_progress)}`) : null,
        t.progress_source ? h("span.muted", `（${PROGRESS_SOURCE[t.progress_source] || t.progress_source}）`) : null),
      bar(t.progress, typeof t.expected_progress === "number" ? t.expected_progress : undefined),
      t.light_counts ? h("p.muted", "下属任务：" + Object.entries(t.light_counts).map(([k, v]) => `${LIGHT_NAMES[k] || k} ${v}`).join("，")) : null,
      t.body ? h("p.body-text", t.body) : null,
      (t.targets || []).length ? [h("h3", "目标"), (t.targets || []).map((g) => {
        const share = g.value ? ((Number(g.current) || 0) / Number(g.value)) * 100 : 0;
        return h("div.target", { dataset: { target: g.id } }, h("span", g.label || g.text),
          h("span.num", `${g.current ?? 0} / ${g.comparator === "<=" ? "≤" : ""}${g.value}${g.unit || ""}`), bar(share));
      })] : null,
      (t.milestones || []).length ? [h("h3", "节点"), h("ul", (t.milestones || []).map((m) =>
        h("li", m.done_at ? "✓ " : "○ ", m.title, h("span.muted", `  ${fmtDate(m.due_date)}${m.done_at ? "，完成于 " + fmtDate(m.done_at) : ""}`))))] : null);
  }

  // ---- writes ----

  /** Sends one write with If-Match; on 412 shows the change and offers a retry. */
  async function write(action, box, url, body, what, opts = {}) {
    const out = box.querySelector(".result") || box.appendChild(h("div.result"));
    fill(out);
    const before = st.task;
    try {
      const r = await action.send(url, { method: "POST", body, ifMatch: opts.noIfMatch ? undefined : st.etag });
      if (!r) return null;                                   // a second tap while the first runs
      if (r.body?.task) { st.task = r.body.task; st.etag = r.etag || `"${r.body.task.version}"`; drawDoc(); drawActions(); loadHistory(); }
      else await reload();
      ctx.message(what + "：已提交。", true);
      return r;
    } catch (e) {
      if (e.status === 412) {
        const fresh = await reload(false);
        fill(out, h("div.changed#conflict", h("b", "提交前，这项任务已被他人更新（版本 " + before.version + " → " + fresh.version + "）："),
          h("ul", diff(before, fresh).map((d) => h("li", d))),
          h("p", "您填写的内容仍保留。请核对后按最新版本重新提交。"),
          h("button.btn.primary#retry", { type: "button", onclick: (ev) => { ev.currentTarget.disabled = true; fill(out); retry(box, opts); } }, "按最新版本重新提交")));
        return null;
      }
      if (e.missing) fill(out, h("p.notice", what + "：" + NOT_OPEN + "。"));
      else fill(out, h("p.msg", e.message));
      return null;
    }
  }

  /** Sends the same intended action again on the fresh version: a form is
   *  submitted again (its values re-read), a button pressed again. */
  function retry(box, opts) {
    if (opts.button) opts.button.click();
    else if (box.requestSubmit) box.requestSubmit();
  }

  function drawActions() {
    const t = st.task;
    const role = ctx.me?.role;
    const closed = t.status === "verified" || t.status === "cancelled";
    const parts = [h("h2", "办理")];
    if (!WRITERS.has(role)) parts.push(h("p.muted", "您的令牌只能查看。"));
    else if (closed) parts.push(h("p.muted", "任务已" + (STATUS_NAMES[t.status] || t.status) + "，不再办理。"));
    else {
      if (t.status === "planned") parts.push(signBox());
      if (t.status !== "done") parts.push(reportForm());
      if (t.status === "done" && SUPERVISORS.has(role)) parts.push(verifyBox());
      if (t.status === "done" && !SUPERVISORS.has(role)) parts.push(h("p.muted", "已报办结，等待督查室核查销号。"));
      if (t.status !== "done") parts.push(extensionForm());
    }
    fill(actionBox, parts);
  }

  function signBox() {
    const act = new Action(), ret = new Action();
    const reason = h("input#return-reason", { type: "text", placeholder: "退回理由（不属于本单位职责等）", "aria-label": "退回理由" });
    const box = h("div.card-part#sign-box", h("h3", "签收 / 退回"),
      h("div.actions",
        h("button.btn.good#sign", { type: "button", onclick: (e) => guard(e, () => write(act, box, `${path}/sign`, {}, "签收", { button: e.currentTarget })) }, "签收"),
        reason,
        h("button.btn#return", { type: "button", onclick: (e) => guard(e, () => {
          if (!reason.value.trim()) { ctx.message("请填写退回理由。"); return; }
          return write(ret, box, `${path}/return`, { reason: reason.value.trim() }, "退回", { button: e.currentTarget });
        }) }, "退回")));
    return box;
  }

  function reportForm() {
    const t = st.task;
    const act = new Action();
    const upload = new Map();            // file → Action, so a retried upload reuses its key
    const status = h("select#report-status", { name: "status" },
      [["in_progress", "推进中"], ["blocked", "受阻"], ["done", "已办结（报请核查）"]].map(([v, n]) => { const o = h("option", { value: v }, n); o.selected = v === (t.status === "blocked" ? "blocked" : "in_progress"); return o; }));
    const prog = h("input#report-progress", { type: "number", min: 0, max: 100, step: 1, inputmode: "numeric", value: String(t.progress ?? 0), name: "progress" });
    const range = h("input", { type: "range", min: 0, max: 100, step: 5, value: String(t.progress ?? 0), "aria-label": "进度滑块", oninput: () => { prog.value = range.value; } });
    prog.addEventListener("input", () => { range.value = prog.value; });
    const targetInputs = (t.targets || []).map((g) => ({ g, input: h("input", { type: "number", step: "any", inputmode: "decimal", value: g.current ?? "", name: "target-" + g.id, dataset: { target: g.id } }) }));
    const note = h("textarea#report-note", { name: "note", placeholder: "本期完成了什么（必填）", maxlength: 5000 });
    const problems = h("textarea", { name: "problems", placeholder: "存在问题（可选）", maxlength: 5000 });
    const next = h("textarea", { name: "next_steps", placeholder: "下步打算（可选）", maxlength: 5000 });
    const files = h("input#report-files", { type: "file", multiple: true, accept: "image/*,application/pdf,.doc,.docx,.xls,.xlsx" });
    const submit = h("button.btn.primary#report-submit", { type: "submit" }, "提交填报");
    const form = h("form.report#report-form", {
      onsubmit: async (e) => {
        e.preventDefault();
        if (!note.value.trim()) { ctx.message("请填写本期进展。"); note.focus(); return; }
        const body = { status: status.value, progress: Math.max(0, Math.min(100, Math.round(Number(prog.value) || 0))), note: note.value.trim() };
        if (status.value === st.task.status) delete body.status;
        const now = (g) => (st.task.targets || []).find((x) => x.id === g.id)?.current;
        const tv = targetInputs.filter(({ g, input }) => input.value !== "" && Number(input.value) !== Number(now(g))).map(({ g, input }) => ({ id: g.id, current: Number(input.value) }));
        if (tv.length) body.targets = tv;
        if (problems.value.trim()) body.problems = problems.value.trim();
        if (next.value.trim()) body.next_steps = next.value.trim();
        submit.disabled = true;
        try {
          const ids = [];
          for (const f of files.files) {
            if (!upload.has(f)) upload.set(f, new Action());
            try {
              const r = await upload.get(f).send(`${path}/attachments?filename=${encodeURIComponent(f.name)}`, { method: "POST", raw: true, body: f, contentType: f.type || "application/octet-stream" });
              if (r) ids.push(r.body.id);
            } catch (x) {
              ctx.message(x.missing ? "上传佐证材料：" + NOT_OPEN + "。填报未提交。" : "上传“" + f.name + "”失败：" + x.message);
              return;
            }
          }
          if (ids.length) body.attachments = ids;
          await write(act, form, `${path}/updates`, body, "进度填报");
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h3", "填报进度"),
    h("div.row", h("label", "状态", status), h("label", "总体进度（%）", prog)),
    range,
    targetInputs.length ? h("fieldset.row", h("legend", "目标完成值"), targetInputs.map(({ g, input }) => h("label", `${g.label || g.text}（目标 ${g.value}${g.unit || ""}）`, input))) : null,
    h("label", "本期进展", note), h("label", "存在问题", problems), h("label", "下步打算", next),
    h("label", "佐证材料（照片、文件）", files),
    submit);
    return form;
  }

  function extensionForm() {
    const act = new Action();
    const due = h("input#ext-due", { type: "date", value: st.task.effective_due || st.task.due_date || "" });
    const reason = h("textarea#ext-reason", { placeholder: "申请理由" });
    const form = h("form.report#extension-form", {
      onsubmit: async (e) => {
        e.preventDefault();
        if (!due.value || !reason.value.trim()) { ctx.message("请填写新的完成日期和理由。"); return; }
        const btn = form.querySelector("button[type=submit]");
        btn.disabled = true;
        try { await write(act, form, `${path}/changes`, { changes: { due_date: due.value }, reason: reason.value.trim() }, "延期申请"); }
        finally { btn.disabled = false; }
      },
    }, h("h3", "申请延期"), h("div.row", h("label", "申请完成日期", due)), h("label", "理由", reason),
    h("button.btn#ext-submit", { type: "submit" }, "提交延期申请"));
    return form;
  }

  function verifyBox() {
    const ok = new Action(), back = new Action();
    const note = h("textarea#verify-note", { placeholder: "核查意见" });
    const box = h("form.report#verify-box", { onsubmit: (e) => e.preventDefault() }, h("h3", "核查"), h("label", "核查意见", note),
      h("div.actions",
        h("button.btn.good#verify", { type: "button", onclick: (e) => guard(e, () => write(ok, box, `${path}/updates`, { status: "verified", note: note.value.trim() || "核查通过，同意销号" }, "核查销号", { button: e.currentTarget })) }, "核查通过（销号）"),
        h("button.btn#send-back", { type: "button", onclick: (e) => guard(e, () => {
          if (!note.value.trim()) { ctx.message("退回整改请写明原因。"); return; }
          return write(back, box, `${path}/updates`, { status: "in_progress", note: note.value.trim() }, "退回整改", { button: e.currentTarget });
        }) }, "退回整改")));
    return box;
  }

  async function guard(e, fn) {
    const b = e.currentTarget;
    b.disabled = true;
    try { await fn(); } finally { b.disabled = false; }
  }

  // ---- history and attachments ----

  let histSeq = 0;
  async function loadHistory() {
    const seq = ++histSeq;
    let items = null, updates = null, note = null;
    try {
      items = (await api(`${path}/history?limit=200`)).body.items || [];
    } catch (e) {
      if (!e.missing) throw e;
      note = "逐字段的全过程记录" + NOT_OPEN + "；下面是进度填报记录。";
    }
    try { updates = (await api(`${path}/updates?limit=200`)).body.items || []; } catch { updates = []; }
    if (seq !== histSeq) return;
    const list = h("ol.history");
    if (items) {
      for (const it of items) list.append(h("li", h("div.when", fmtTime(it.at), "  ", it.author || ""),
        h("div", actionName(it.action), it.field ? `：${it.field} ${show(it.old)} → ${show(it.new)}` : ""), it.note ? h("div", it.note) : null));
    } else {
      for (const u of updates) list.append(h("li", h("div.when", fmtTime(u.at), "  ", u.author || ""),
        h("div", u.status_from !== u.status_to ? `${STATUS_NAMES[u.status_from] || u.status_from || ""} → ${STATUS_NAMES[u.status_to] || u.status_to}；` : "",
          u.progress_from !== u.progress ? `进度 ${pct(u.progress_from)} → ${pct(u.progress)}` : `进度 ${pct(u.progress)}`),
        (u.targets || []).length ? h("div.muted", "目标：" + u.targets.map((g) => `${targetName(g)} ${g.current_from ?? ""}${g.current_from !== undefined ? " → " : ""}${g.current}`).join("，")) : null,
        u.note ? h("div", "进展：", u.note) : null, u.problems ? h("div", "问题：", u.problems) : null, u.next_steps ? h("div", "下步：", u.next_steps) : null));
    }
    fill(historyBox, h("h2", "全过程记录"), note ? h("p.notice", note) : null, list.children.length ? list : h("p.muted", "暂无记录。"));
    drawAttachments(updates);
  }

  function targetName(g) {
    const t = (st.task.targets || []).find((x) => x.id === g.id);
    return g.label || (t && (t.label || t.text)) || "目标";
  }

  function drawAttachments(updates) {
    const seen = new Map();
    const add = (a) => { const o = typeof a === "string" ? { id: a } : a; if (o && o.id && !seen.has(o.id)) seen.set(o.id, o); };
    (st.task.attachments || []).forEach(add);
    for (const u of updates || []) (u.attachments || []).forEach(add);
    const items = [...seen.values()];
    fill(attachBox, h("h2", "佐证材料"),
      items.length ? h("ul", items.map((a) => h("li", h("button.btn", { type: "button", onclick: () => download(a) }, a.filename || a.id),
        a.size ? h("span.muted", `  ${Math.ceil(a.size / 1024)} KB`) : null))) : h("p.muted", "暂无佐证材料。"));
  }

  async function download(a) {
    try {
      const r = await api(`/v1/attachments/${encodeURIComponent(a.id)}`, { blob: true });
      const blob = r.body instanceof Blob ? r.body : new Blob([typeof r.body === "string" ? r.body : JSON.stringify(r.body)]);
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: a.filename || a.id });
      document.body.append(link); link.click(); link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      ctx.message(e.missing ? "下载佐证材料：" + NOT_OPEN + "。" : e.message);
    }
  }

  drawDoc();
  drawActions();
  loadHistory().catch((e) => fill(historyBox, h("h2", "全过程记录"), h("p.msg", e.message)));
}

function show(v) { return v === null || v === undefined ? "（空）" : typeof v === "object" ? JSON.stringify(v) : String(v); }
function actionName(a) {
  return ({ create: "立项", import: "导入", assign: "交办", sign: "签收", return: "退回", report: "填报", update: "修改", patch: "修改",
    change_request: "调整申请", change_approved: "调整获批", change_rejected: "调整未批", verify: "销号", cancel: "取消", delete: "删除" })[a] || a || "";
}

/** What differs between two versions of a task, in words. */
export function diff(a, b) {
  const out = [];
  const f = (label, x, y, fmt = (v) => show(v)) => { if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${label}：${fmt(x)} → ${fmt(y)}`); };
  f("状态", a.status, b.status, (v) => STATUS_NAMES[v] || v);
  f("进度", a.progress, b.progress, pct);
  f("计划完成", a.due_date, b.due_date, fmtDate);
  f("任务名称", a.title, b.title);
  f("牵头单位", a.lead_unit, b.lead_unit);
  for (const g of b.targets || []) {
    const old = (a.targets || []).find((x) => x.id === g.id);
    if (old && old.current !== g.current) out.push(`目标“${g.label || g.text}”：${old.current ?? 0} → ${g.current ?? 0}`);
  }
  if (!out.length) out.push("内容没有可见变化（版本号已更新）。");
  return out;
}
