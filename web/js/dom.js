// dom.js - building elements without innerHTML: every dynamic value becomes a
// text node (textContent), so a task title like <img src=x onerror=…> shows as text.

/** h("div.cls#id", {attrs}, ...children): children are nodes, strings or arrays. */
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i.exec(spec) || [];
  const el = document.createElement(m[1] || "div");
  for (const part of (m[2] || "").match(/[.#][\w-]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value" || k === "checked" || k === "disabled") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces the children of el. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const LIGHT_NAMES = {
  red: "红灯", yellow: "黄灯", green: "绿灯", done: "已办结", verified: "已销号", cancelled: "已取消",
};
export const STATUS_NAMES = {
  planned: "待签收", in_progress: "推进中", blocked: "受阻", done: "已办结", verified: "已销号", cancelled: "已取消",
};
export const ROLE_NAMES = { viewer: "查看", editor: "填报单位", supervisor: "督查室", admin: "管理员" };

/** A coloured dot for a light, with its name for screen readers. */
export function light(l) {
  return h("span.light", { class: "light l-" + (LIGHT_NAMES[l] ? l : "none"), title: LIGHT_NAMES[l] || "无", role: "img", "aria-label": LIGHT_NAMES[l] || "无" });
}

/** A progress bar of 0..100; mark (序时进度) drawn as a tick when given. */
export function bar(p, mark) {
  const v = Math.max(0, Math.min(100, Number(p) || 0));
  const fill = h("span.bar-fill");
  fill.style.width = v + "%";           // CSSOM, allowed by the CSP (no style attribute)
  const b = h("span.bar", { role: "progressbar", "aria-valuenow": v, "aria-valuemin": 0, "aria-valuemax": 100 }, fill);
  if (mark !== undefined && mark !== null) {
    const t = h("span.bar-mark", { title: "序时进度 " + Math.round(mark) + "%" });
    t.style.left = Math.max(0, Math.min(100, mark)) + "%";
    b.append(t);
  }
  return b;
}

export function fmtDate(s) { return s ? String(s).slice(0, 10) : "—"; }
export function fmtTime(s) {
  if (!s) return "—";
  const d = new Date(s);
  if (isNaN(d)) return String(s);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
export function pct(x) { return x === null || x === undefined ? "—" : Math.round(Number(x)) + "%"; }
