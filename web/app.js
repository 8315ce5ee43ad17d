// app.js - the plantrack web application: sign-in, the 挂图作战 board, task
// pages with reporting, my work. Hash routes (#/board/PLAN, #/task/ID, #/mine,
// #/signin) so the server answers only files; the token never enters a URL.
import { api, ApiError, clearToken, getToken, setToken, setUnauthorizedHandler } from "./js/api.js";
import { h, fill, ROLE_NAMES } from "./js/dom.js";
import { renderBoard } from "./js/board.js";
import { renderTask } from "./js/task.js";
import { renderMine } from "./js/mywork.js";

const $ = (id) => document.getElementById(id);
const ctx = { me: null, message, clearMessage, go };

function message(text, ok = false) {
  const m = $("msg");
  m.textContent = text;
  m.classList.toggle("ok", ok);
  m.hidden = !text;
}
function clearMessage() { message(""); }
function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }

setUnauthorizedHandler((err) => {
  clearToken();
  ctx.me = null;
  signin("令牌无效或已被吊销，请重新输入令牌。（" + err.message + "）");
});

function signin(text) {
  $("nav").hidden = true;
  $("signout").hidden = true;
  $("who").textContent = "";
  const input = h("input#token-input", { type: "password", autocomplete: "off", spellcheck: "false", placeholder: "粘贴管理员发给您的令牌", "aria-label": "令牌" });
  const err = h("p#signin-error.msg", { role: "alert", hidden: true });
  const form = h("form.card.signin", {
    onsubmit: async (e) => {
      e.preventDefault();
      const token = input.value.trim();
      err.hidden = true;
      if (!token) { err.textContent = "请先粘贴令牌。"; err.hidden = false; return; }
      const btn = form.querySelector("button");
      btn.disabled = true;
      try {
        const { body } = await api("/v1/me", { token, noAuthRedirect: true });
        setToken(token);
        ctx.me = body;
        clearMessage();
        showWho();
        if (!location.hash || location.hash.startsWith("#/signin")) go("#/board"); else route();
      } catch (x) {
        err.textContent = x.status === 401 ? "令牌无效或已被吊销：" + (x.problem.detail || x.message) : x.message;
        err.hidden = false;
      } finally {
        btn.disabled = false;
      }
    },
  },
  h("h2", "登录"),
  h("p.muted", "请粘贴一次令牌。令牌只保存在本浏览器（localStorage），不会出现在网址中。"),
  text ? h("p.msg", text) : null,
  input, err,
  h("p", h("button.btn.primary", { type: "submit" }, "登录")));
  clearMessage();
  fill($("view"), form);
  input.focus();
}

function showWho() {
  const me = ctx.me;
  $("nav").hidden = false;
  $("signout").hidden = false;
  $("who").textContent = me ? `${me.name}（${ROLE_NAMES[me.role] || me.role}）` : "";
}

async function route() {
  if (!getToken()) return signin();
  if (!ctx.me) {
    try {
      ctx.me = (await api("/v1/me", { noAuthRedirect: true })).body;
    } catch (e) {
      if (e.status === 401) { clearToken(); return signin("令牌无效或已被吊销，请重新输入令牌。"); }
      fill($("view"), h("p.msg", e.message));
      return;
    }
    showWho();
  }
  const [, page, arg] = (location.hash || "#/board").split("/");
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("on", a.dataset.nav === page);
  clearMessage();
  const view = $("view");
  try {
    if (page === "task" && arg) await renderTask(view, ctx, decodeURIComponent(arg));
    else if (page === "mine") await renderMine(view, ctx);
    else if (page === "signin") signin();
    else await renderBoard(view, ctx, arg ? decodeURIComponent(arg) : null);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;   // handled: back to sign-in
    fill(view, h("p.msg", e instanceof ApiError ? e.message : "页面出错：" + e.message));
    if (!(e instanceof ApiError)) console.error(e);
  }
}

$("signout").addEventListener("click", () => { clearToken(); ctx.me = null; signin("已退出。"); });
window.addEventListener("hashchange", route);
route();
