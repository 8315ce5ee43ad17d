// board.js - 挂图作战: the plan's tree against the months of its year, each
// cell the task's light at the end of that month; colour counts, overall
// progress against 序时进度, and the ranking (赛马) with red and black lists.
import { api, all, NOT_OPEN } from "./api.js";
import { h, fill, light, bar, pct, fmtDate, LIGHT_NAMES, STATUS_NAMES } from "./dom.js";

const OPEN = new Set(["red", "yellow", "green"]);
const pad = (n) => String(n).padStart(2, "0");
const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const monthEnd = (y, m) => iso(new Date(y, m, 0));       // m is 1..12
const todayIso = () => iso(new Date());

/** The elapsed share of the year at day (序时进度 of a task running all year). */
function yearShare(year, day) {
  const start = Date.UTC(year, 0, 1), end = Date.UTC(year, 11, 31);
  const t = Date.parse(day + "T00:00:00Z");
  return Math.max(0, Math.min(100, ((t - start) / (end - start)) * 100));
}

function flatten(nodes, depth = 0, out = []) {
  for (const n of nodes || []) {
    out.push({ node: n, depth });
    flatten(n.children, depth + 1, out);
  }
  return out;
}

/** Tasks of the plan as of one day: {supported, byId}. supported is false when the
 *  daemon does not know as_of yet (it answers today's lights, without the issue-10 fields). */
async function tasksAsOf(planId, day) {
  try {
    const items = await all(`/v1/tasks?plan=${encodeURIComponent(planId)}&as_of=${day}`);
    const supported = items.length === 0 || items.some((t) => "expected_progress" in t || "effective_due" in t || "as_of" in t);
    return { supported, byId: new Map(items.map((t) => [t.id, t])) };
  } catch (e) {
    if (e.status === 400 || e.status === 422 || e.missing) return { supported: false, byId: new Map() };
    throw e;
  }
}

export async function renderBoard(view, ctx, planId) {
  const plans = await all("/v1/plans");
  if (!plans.length) {
    fill(view, h("div.card", h("h2", "挂图作战"), h("p", "还没有工作计划。请督查室先导入年度工作谋划（POST /v1/plans/import）。")));
    return;
  }
  const plan = plans.find((p) => p.id === planId) || plans[0];
  const year = plan.year || new Date().getFullYear();
  const today = todayIso();
  const defaultAsOf = today.slice(0, 4) > String(year) ? `${year}-12-31` : today < `${year}-01-01` ? `${year}-01-01` : today;
  const state = view._board && view._board.planId === plan.id ? view._board : { planId: plan.id, asOf: defaultAsOf, period: null, folded: new Set() };
  view._board = state;
  const q = Math.floor((Number(state.asOf.slice(5, 7)) - 1) / 3) + 1;
  state.period = state.period || `${year}Q${q}`;

  // controls
  const planSel = h("select#plan", { "aria-label": "工作计划", onchange: () => ctx.go("#/board/" + encodeURIComponent(planSel.value)) },
    plans.map((p) => { const o = h("option", { value: p.id }, `${p.title}${p.year ? "（" + p.year + "）" : ""}`); o.selected = p.id === plan.id; return o; }));
  const asOfIn = h("input#as-of", { type: "date", value: state.asOf, min: `${year}-01-01`, max: `${year}-12-31`,
    onchange: () => { if (asOfIn.value) { state.asOf = asOfIn.value; renderBoard(view, ctx, plan.id); } } });
  const periods = [String(year), ...[1, 2, 3, 4].map((n) => `${year}Q${n}`), ...Array.from({ length: 12 }, (_, i) => `${year}-${pad(i + 1)}`)];
  const periodSel = h("select#period", { "aria-label": "考核期间", onchange: () => { state.period = periodSel.value; loadRanking(); } },
    periods.map((p) => { const o = h("option", { value: p }, periodName(p)); o.selected = p === state.period; return o; }));

  const countsBox = h("div.counts", h("span.muted", "加载中…"));
  const overallBox = h("div", h("span.muted", "加载中…"));
  const rankBox = h("div", h("span.muted", "加载中…"));
  const chartBox = h("div", h("span.muted", "加载中…"));
  const detailBox = h("div#cell-detail.detail.muted", "将鼠标移到格子上（手机上轻点格子）查看当月进度和最新情况。");

  fill(view,
    h("div.card.no-print", h("div.controls",
      h("label", "工作计划", planSel),
      h("label", "截至日期", asOfIn),
      h("label", "赛马期间", periodSel),
      h("button.btn", { type: "button", onclick: () => window.print() }, "打印挂图"))),
    h("h1.print-title", { hidden: true }, plan.title),
    h("div.grid",
      h("section.card", h("h2", "红黄绿灯（截至 " + state.asOf + "）"), countsBox),
      h("section.card", h("h2", "总体进度与序时进度"), overallBox)),
    h("section.card", h("h2", "单位赛马"), rankBox),
    h("section.card#wallchart", h("h2", `${plan.title} · 挂图作战（${year}年）`),
      h("div.legend", ["red", "yellow", "green", "done", "verified", "cancelled"].map((l) => h("span", light(l), LIGHT_NAMES[l])),
        h("span", "框线：当前月份")),
      detailBox, chartBox));

  // data: the tree (today), the summary, and one list per month up to the as-of day
  const [treeRes, summaryRes] = await Promise.all([
    api(`/v1/plans/${encodeURIComponent(plan.id)}?include=tree`),
    api(`/v1/plans/${encodeURIComponent(plan.id)}/summary?as_of=${state.asOf}`),
  ]);
  const rows = flatten(treeRes.body.tasks);
  const summary = summaryRes.body;
  const asOfMonth = state.asOf.startsWith(String(year)) ? Number(state.asOf.slice(5, 7)) : 12;
  const days = [];
  for (let m = 1; m <= 12; m++) days.push(m < asOfMonth ? monthEnd(year, m) : m === asOfMonth ? state.asOf : null);
  const first = await tasksAsOf(plan.id, days[asOfMonth - 1]);
  const months = new Array(12).fill(null);
  if (first.supported) {
    months[asOfMonth - 1] = first.byId;
    const rest = await Promise.all(days.map((d, i) => (d && i !== asOfMonth - 1 ? tasksAsOf(plan.id, d) : null)));
    rest.forEach((r, i) => { if (r) months[i] = r.byId; });
  }
  const asOfSupported = first.supported;

  // colour counts over every task of the plan, as the summary counts them: as of the
  // day when the daemon knows as_of, else today's summary
  let counts = {};
  if (asOfSupported) for (const { node } of rows) { const t = months[asOfMonth - 1].get(node.id); if (t) counts[t.light] = (counts[t.light] || 0) + 1; }
  else counts = summary.by_light || {};
  fill(countsBox, ["red", "yellow", "green", "done", "verified", "cancelled"].map((l) =>
    h("span.count", { dataset: { light: l } }, light(l), h("span", LIGHT_NAMES[l]), h("b", String(counts[l] || 0)))),
  asOfSupported ? null : h("p.notice", "按日期回看的灯色" + NOT_OPEN + "，这里显示今天的灯色。"));

  // overall progress against 序时进度
  const tops = (treeRes.body.tasks || []).map((t) => (asOfSupported && months[asOfMonth - 1].get(t.id)) || t);
  const expected = tops.length && tops.every((t) => typeof t.expected_progress === "number")
    ? tops.reduce((s, t) => s + t.expected_progress, 0) / tops.length : yearShare(year, state.asOf);
  const progress = asOfSupported && tops.length ? tops.reduce((s, t) => s + (t.progress || 0), 0) / tops.length : summary.progress;
  fill(overallBox,
    h("div", h("span.big#overall-progress", pct(progress)), h("span.muted", `  序时进度 ${pct(expected)}（截至 ${state.asOf}）`)),
    bar(progress, expected),
    h("p.muted", `共 ${summary.tasks} 项任务；${progress + 0.5 < expected - 20 ? "明显滞后于序时进度" : progress + 0.5 < expected ? "略慢于序时进度" : "达到序时进度"}。`));

  async function loadRanking() {
    fill(rankBox, h("span.muted", "加载中…"));
    try {
      const { body } = await api(`/v1/plans/${encodeURIComponent(plan.id)}/ranking?period=${state.period}`);
      const list = (items, cls, title) => h("div", { class: cls }, h("h3", title),
        items && items.length ? h("ol", items.map((u) => h("li", typeof u === "string" ? u : u.unit || u.title || JSON.stringify(u)))) : h("p.muted", "无"));
      fill(rankBox,
        h("table#ranking", h("thead", h("tr", ["名次", "单位", "得分", "按期完成率", "进度差", "红灯占比", "任务"].map((c) => h("th", c)))),
          h("tbody", (body.units || []).map((u) => h("tr",
            h("td.num", u.rank), h("td", u.unit), h("td.num", u.score === undefined ? "—" : Number(u.score).toFixed(1)),
            h("td.num", pct((u.on_time_rate || 0) * 100)), h("td.num", u.progress_gap === undefined ? "—" : (u.progress_gap > 0 ? "+" : "") + Math.round(u.progress_gap)),
            h("td.num", pct((u.red_share || 0) * 100)), h("td.num", u.tasks))))),
        h("div.lists", list(body.red_list, "redlist", "红榜"), list(body.black_list, "blacklist", "黑榜")));
    } catch (e) {
      if (!e.missing) { fill(rankBox, h("p.msg", e.message)); return; }
      fill(rankBox,
        h("p.notice", `按期间（${periodName(state.period)}）排名${NOT_OPEN}；下表为今天的赛马排名，红榜、黑榜待开放。`),
        h("table#ranking", h("thead", h("tr", ["名次", "单位", "任务", "完成", "按期率", "平均进度", "红灯"].map((c) => h("th", c)))),
          h("tbody", (summary.units || []).length ? null : h("tr", h("td", { colspan: 7 }, "暂无牵头单位的数据。")), (summary.units || []).map((u) => h("tr",
            h("td.num", u.rank), h("td", u.unit), h("td.num", u.tasks), h("td.num", u.done),
            h("td.num", pct(u.on_time_rate)), h("td", bar(u.avg_progress), " ", pct(u.avg_progress)), h("td.num", u.red))))));
    }
  }
  loadRanking();

  // the wall chart
  const currentMonth = today.startsWith(String(year)) ? Number(today.slice(5, 7)) : asOfMonth;
  function drawChart() {
    const head = h("tr", h("th", "编号"), h("th", "任务"), h("th", "牵头单位"),
      Array.from({ length: 12 }, (_, i) => h("th.m", { class: "m" + (i + 1 === currentMonth ? " current" : ""), scope: "col" }, `${i + 1}月`)),
      h("th.m", { title: "今天的灯色" }, "现状"));
    const body = h("tbody");
    const hiddenUnder = new Set();
    for (const { node, depth } of rows) {
      const hidden = node.parent_id && hiddenUnder.has(node.parent_id);
      const kids = (node.children || []).length;
      if (hidden || (kids && state.folded.has(node.id))) hiddenUnder.add(node.id);
      if (hidden) continue;
      const fold = kids ? h("button.fold", { type: "button", "aria-expanded": String(!state.folded.has(node.id)), title: state.folded.has(node.id) ? "展开" : "折叠",
        onclick: () => { state.folded.has(node.id) ? state.folded.delete(node.id) : state.folded.add(node.id); drawChart(); } }, state.folded.has(node.id) ? "▸" : "▾") : null;
      const tr = h("tr", { class: kids ? "section" : "item", dataset: { task: node.id } },
        h("td", node.code || ""),
        h("td.t", { class: "t indent-" + Math.min(depth, 4), title: node.title }, fold, h("a", { href: "#/task/" + encodeURIComponent(node.id) }, node.title)),
        h("td", node.lead_unit || ""));
      for (let m = 1; m <= 12; m++) {
        const td = h("td.m", { class: "m" + (m === currentMonth ? " current" : "") });
        if (!days[m - 1]) td.classList.add("future");
        else if (!asOfSupported) td.append(h("button.cell.na", { type: "button", title: NOT_OPEN, "aria-label": `${m}月：${NOT_OPEN}`, onclick: () => fill(detailBox, `${m}月的历史灯色${NOT_OPEN}。`) }, "·"));
        else {
          const t = months[m - 1] && months[m - 1].get(node.id);
          if (t) td.append(cellButton(t, node, m, days[m - 1]));
        }
        tr.append(td);
      }
      tr.append(h("td.m", cellButton(node, node, 0, today)));
      body.append(tr);
    }
    fill(chartBox,
      asOfSupported ? null : h("p.notice", "各月月末的灯色需要按日期回看（as_of），" + NOT_OPEN + "；“现状”列是今天的灯色。"),
      h("div.chart-wrap", h("table.chart#chart",
        h("colgroup", h("col.c-code"), h("col.c-title"), h("col.c-unit"), Array.from({ length: 12 }, () => h("col.c-month")), h("col.c-now")),
        h("thead", head), body)));
  }

  function cellButton(t, node, m, day) {
    const label = `${m ? m + "月末" : "今天"}：${LIGHT_NAMES[t.light] || "—"}，进度 ${pct(t.progress)}`;
    const show = () => showCell(t, node, m, day);
    return h("button.cell", { type: "button", class: "cell l-" + (t.light || "none"), title: label, "aria-label": `${node.title} ${label}`,
      dataset: { light: t.light || "", month: String(m) }, onclick: show, onmouseenter: show, onfocus: show }, pct(t.progress).replace("%", ""));
  }

  let detailSeq = 0;
  async function showCell(t, node, m, day) {
    const seq = ++detailSeq;
    const head = h("div", light(t.light), " ", h("b", node.title), ` · ${m ? m + "月末（" + day + "）" : "今天"} · ${LIGHT_NAMES[t.light] || ""} · ${STATUS_NAMES[t.status] || t.status || ""} · 进度 ${pct(t.progress)}`,
      typeof t.expected_progress === "number" ? ` · 序时进度 ${pct(t.expected_progress)}` : "", ` · 计划完成 ${fmtDate(t.effective_due || t.due_date)}`);
    const note = h("div.muted", "最新情况：加载中…");
    fill(detailBox, head, note);
    try {
      const { body } = await api(`/v1/tasks/${encodeURIComponent(node.id)}/updates?limit=100`);
      if (seq !== detailSeq) return;
      const until = day + "T23:59:59";
      const u = (body.items || []).find((x) => x.note && (!m || String(x.at).slice(0, 19) <= until));
      fill(note, u ? `最新情况（${fmtDate(u.at)}）：${u.note}` : "最新情况：暂无填报。");
    } catch (e) {
      if (seq === detailSeq) fill(note, "最新情况：" + e.message);
    }
  }
  drawChart();
}

function periodName(p) {
  if (/^\d{4}$/.test(p)) return p + "年";
  if (/Q\d$/.test(p)) return p.slice(0, 4) + "年第" + "一二三四"[Number(p.slice(-1)) - 1] + "季度";
  return p.slice(0, 4) + "年" + Number(p.slice(5)) + "月";
}
