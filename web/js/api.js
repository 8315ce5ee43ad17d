// api.js - the JSON API with the token from localStorage ("plantrack-token").
// The token travels only in the Authorization header: never in a URL, never logged.
// Every request says Accept-Language: zh-CN; problems (application/problem+json)
// become ApiError with the server's title and detail.

const KEY = "plantrack-token";

export function getToken() { return localStorage.getItem(KEY) || ""; }
export function setToken(t) { localStorage.setItem(KEY, t); }
export function clearToken() { localStorage.removeItem(KEY); }

export class ApiError extends Error {
  constructor(status, problem, headers) {
    const title = problem?.title || (status ? "请求失败（" + status + "）" : "无法连接服务器");
    super(problem?.detail && problem.detail !== title ? title + "：" + problem.detail : title);
    this.status = status;
    this.problem = problem || {};
    this.headers = headers;
  }
  /** The route is not there yet (a later release adds it). Used where the
   *  resource itself is known to exist, so a 404 or 405 means the route. */
  get missing() { return this.status === 404 || this.status === 405 || this.status === 501; }
}

export const NOT_OPEN = "此功能尚未开放";

/** A UUID v4 for Idempotency-Key; crypto.randomUUID needs a secure context. */
export function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

/**
 * api(path, {method, body, ifMatch, key, raw, contentType})
 * → {status, body, etag, headers}. Throws ApiError on 4xx/5xx or no connection.
 */
export async function api(path, opts = {}) {
  const headers = { "Accept-Language": "zh-CN", Accept: "application/json, application/problem+json" };
  const token = opts.token ?? getToken();
  if (token) headers.Authorization = "Bearer " + token;
  let body = opts.body;
  if (body !== undefined && !opts.raw) {
    body = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  } else if (opts.raw) {
    headers["Content-Type"] = opts.contentType || "application/octet-stream";
  }
  if (opts.ifMatch) headers["If-Match"] = opts.ifMatch;
  if (opts.key) headers["Idempotency-Key"] = opts.key;
  let r;
  try {
    r = await fetch(path, { method: opts.method || "GET", headers, body, cache: "no-store", credentials: "omit" });
  } catch (e) {
    throw new ApiError(0, { title: "无法连接服务器", detail: "网络中断或服务器未运行，请稍后重试" });
  }
  const type = r.headers.get("Content-Type") || "";
  let data = null;
  if (type.includes("json")) {
    try { data = await r.json(); } catch { data = null; }
  } else if (opts.blob) {
    data = await r.blob();
  } else {
    data = await r.text();
  }
  if (!r.ok) {
    const err = new ApiError(r.status, data && typeof data === "object" ? data : null, r.headers);
    if (r.status === 401 && !opts.noAuthRedirect) onUnauthorized(err);
    throw err;
  }
  return { status: r.status, body: data, etag: r.headers.get("ETag"), headers: r.headers };
}

/** Every page of a keyset-paginated list. */
export async function all(path, max = 5000) {
  const out = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const { body } = await api(path + sep + "limit=500" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    out.push(...(body.items || []));
    cursor = body.next_cursor;
  } while (cursor && out.length < max);
  return out;
}

/**
 * One intended write (a button press): the Idempotency-Key is made once and
 * reused when the same action is retried after a lost answer, so a double tap
 * or a retry never writes twice. After a definite answer (success or a 4xx that
 * the person must act on) the next press is a new action with a new key.
 */
export class Action {
  constructor() { this.key = newKey(); this.busy = false; }
  async send(path, opts) {
    if (this.busy) return null;           // a double tap while the first is in flight
    this.busy = true;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await api(path, { ...opts, key: this.key });
          this.key = newKey();
          return res;
        } catch (e) {
          // no answer, the server busy, or the first send of this key still running
          const transient = e.status === 0 || e.status === 503 ||
            (e.status === 409 && String(e.problem.type || "").endsWith(":idempotency-conflict"));
          if (transient && attempt < 2) {
            await new Promise((ok) => setTimeout(ok, 600 * (attempt + 1)));
            continue;                       // same key: the server answers the first outcome
          }
          if (!transient) this.key = newKey();
          throw e;
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
