// lib.mjs - what the browser tests share: a throwaway database on the
// PostgreSQL cluster scripts/test.sh started (PLANTRACK_TEST_PG), plantrackd
// serving it on a free port (as tests/integration/harness.py does), tokens from
// `plantrackd token create`, the reference plan, Debian's chromium driven by
// puppeteer-core, and a runner that prints "N passed, M failed, K skipped".
//
// Environment (ctest sets the first two):
//   PLANTRACKD            the daemon binary
//   PLANTRACK_SOURCE_DIR  the repository root (the plan is read from ../shared/samples/)
//   PLANTRACK_TEST_PG     libpq conninfo of the cluster (scripts/test.sh)
//   PLANTRACK_BROWSER_OUT where screenshots go (default: the working directory, the build tree)
//   CHROMIUM              the browser (default /usr/bin/chromium)
//   CI=true               a missing chromium or puppeteer-core fails instead of skipping (77)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";

export const SKIP = 77;
const ci = process.env.CI === "true";
export const root = process.env.PLANTRACK_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
export const outDir = process.env.PLANTRACK_BROWSER_OUT || process.cwd();
export const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
export const planFile = path.resolve(root, "../shared/samples/chengdong-2025-plan.txt");

export function skip(why) {
  console.log("skipped: " + why);
  process.exit(SKIP);
}

/** Missing tools: skipped (77) on a developer machine, a failure in CI. */
export function need(what, ok, hint) {
  if (ok) return;
  if (ci) {
    console.error(`FAIL: ${what} is missing (${hint}); CI=true, so this is a failure, not a skip`);
    process.exit(1);
  }
  skip(`${what} is missing (${hint})`);
}

export async function loadPuppeteer() {
  try {
    return (await import("puppeteer-core")).default;
  } catch {
    need("puppeteer-core", false, "run scripts/deps.sh: npm ci in the repository root");
  }
}

export function preflight() {
  if (!process.env.PLANTRACK_TEST_PG) skip("PLANTRACK_TEST_PG is not set (run the tests through scripts/test.sh)");
  if (!process.env.PLANTRACKD) skip("PLANTRACKD is not set (ctest sets it to the daemon binary)");
  need("chromium", existsSync(chromiumPath), "apt-get install chromium, or scripts/deps.sh");
  if (!existsSync(planFile)) throw new Error("the reference plan is missing: " + planFile);
  mkdirSync(outDir, { recursive: true });
}

function psql(conninfo, sql) {
  const p = spawnSync("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql], { encoding: "utf8" });
  if (p.status !== 0) throw new Error("psql failed: " + p.stderr);
  return p.stdout;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => ok(port)); });
    s.on("error", fail);
  });
}

const cleanups = [];
export async function cleanup() {
  while (cleanups.length) { try { await cleanups.pop()(); } catch { /* keep going */ } }
}
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, async () => { await cleanup(); process.exit(130); });

/** A fresh database and plantrackd serving it; stopped and dropped by cleanup(). */
export async function startDaemon() {
  const server = process.env.PLANTRACK_TEST_PG;
  const name = "pt_browser_" + randomUUID().replace(/-/g, "").slice(0, 12);
  psql(server, `CREATE DATABASE "${name}"`);
  cleanups.push(() => psql(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  const conninfo = server + " dbname=" + name;      // the last dbname wins in a libpq conninfo
  const bin = process.env.PLANTRACKD;
  const m = spawnSync(bin, ["migrate", "--db", conninfo], { encoding: "utf8" });
  if (m.status !== 0) throw new Error("plantrackd migrate: " + m.stderr);
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "plantrack-browser."));
  const log = openSync(path.join(dir, "daemon.log"), "a");
  const env = { ...process.env };
  for (const k of ["PLANTRACK_CONFIG", "PLANTRACK_DB", "PLANTRACK_LISTEN", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID"]) delete env[k];
  const proc = spawn(bin, ["serve", "--db", conninfo, "--listen", `127.0.0.1:${port}`, "--workers", "2"], { stdio: ["ignore", log, log], env });
  const url = `http://127.0.0.1:${port}`;
  cleanups.push(async () => {
    if (proc.exitCode === null) {
      proc.kill("SIGTERM");
      await new Promise((ok) => { const t = setTimeout(() => { proc.kill("SIGKILL"); ok(); }, 5000); proc.on("exit", () => { clearTimeout(t); ok(); }); });
    }
    if (!process.env.PLANTRACK_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error("plantrackd exited during start-up:\n" + readFileSync(path.join(dir, "daemon.log"), "utf8"));
    try { if ((await fetch(url + "/readyz")).status === 200) break; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error("plantrackd not ready within 15 s");
    await new Promise((ok) => setTimeout(ok, 100));
  }
  const token = (role, unit) => {
    const args = ["token", "create", "--name", `browser-${role}-${randomUUID().slice(0, 6)}`, "--role", role, "--db", conninfo];
    if (unit) args.push("--unit", unit);
    const p = spawnSync(bin, args, { encoding: "utf8" });
    if (p.status !== 0) throw new Error("token create: " + p.stderr);
    return p.stdout.trim().split("\n").pop().trim();
  };
  return { url, conninfo, token, log: () => readFileSync(path.join(dir, "daemon.log"), "utf8"), psql: (sql) => psql(conninfo, sql) };
}

/** JSON API call from the test itself (not the browser). */
export async function api(d, tok, method, p, body, headers = {}) {
  const h = { Authorization: "Bearer " + tok, ...headers };
  let b = body;
  if (body !== undefined && typeof body !== "string") { b = JSON.stringify(body); h["Content-Type"] = "application/json"; }
  const r = await fetch(d.url + p, { method, headers: h, body: b });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text, headers: r.headers };
}

/** The reference plan, imported; returns the plan object (with its tree). */
export async function importPlan(d, tok) {
  const text = readFileSync(planFile, "utf8");
  const r = await api(d, tok, "POST", "/v1/plans/import?title=" + encodeURIComponent("城东街道2025年工作谋划") + "&year=2025", text,
    { "Content-Type": "text/plain; charset=utf-8" });
  if (r.status !== 201 && r.status !== 200) throw new Error("import: " + r.status + " " + r.text.slice(0, 300));
  return r.json.plan || r.json;
}

/** A browser page that records console errors, failed requests, dialogs and every
 *  request to another host; page.problems() lists what went wrong. */
export async function newPage(browser, d, { width = 1400, height = 900 } = {}) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width, height });
  const origin = new URL(d.url).origin;
  const log = { console: [], foreign: [], failed: [], dialogs: [], requests: [] };
  page.on("console", (m) => { if (m.type() === "error") log.console.push(m.text() + " @ " + (m.location()?.url || "")); });
  page.on("pageerror", (e) => log.console.push("pageerror: " + e.message));
  page.on("request", (r) => {
    const u = r.url();
    log.requests.push({ method: r.method(), url: u, headers: r.headers(), body: r.postData() });
    if (!/^(data|blob|about):/.test(u) && new URL(u).origin !== origin) log.foreign.push(u);
  });
  page.on("requestfailed", (r) => log.failed.push(r.url() + " " + (r.failure()?.errorText || "")));
  page.on("dialog", async (dlg) => { log.dialogs.push(dlg.message()); await dlg.dismiss(); });
  page.log = log;
  page.closeAll = () => context.close();
  return page;
}

export async function signIn(page, d, tok) {
  await page.goto(d.url + "/", { waitUntil: "networkidle0" });
  await page.evaluate((t) => localStorage.setItem("plantrack-token", t), tok);
  await page.goto("about:blank");      // the next goto loads the application afresh
}

export async function shot(page, name) {
  const file = path.join(outDir, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export function assert(cond, msg) { if (!cond) throw new Error("assertion failed: " + msg); }

/**
 * Runs tests [{name, fn}] in order. fn(t) may call t.pending(reason) to report a
 * case whose route is missing: counted as skipped, never as passed. Prints one
 * line per test and "N passed, M failed, K skipped". Exit: 1 on a failure,
 * 77 when nothing ran but pending cases, 0 otherwise.
 */
export async function run(tests, setup) {
  preflight();
  const puppeteer = await loadPuppeteer();
  let passed = 0, failed = 0, skipped = 0;
  let browser;
  try {
    const env = await setup();
    browser = await puppeteer.launch({
      executablePath: chromiumPath, headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--lang=zh-CN"],
    });
    env.browser = browser;
    const only = process.env.PLANTRACK_BROWSER_ONLY;   // a comma-separated list, for debugging
    for (const t of tests) {
      if (only && !only.split(",").includes(t.name) && !t.always) continue;
      const started = Date.now();
      let pendingWhy = null;
      const ctl = { pending: (why) => { pendingWhy = why; throw Object.assign(new Error("pending"), { pending: true }); } };
      try {
        await t.fn(env, ctl);
        passed++;
        console.log(`ok      ${t.name} (${Date.now() - started} ms)`);
      } catch (e) {
        if (e.pending || pendingWhy) {
          if (process.env.PLANTRACK_BROWSER_REQUIRE_ALL === "1") { failed++; console.log(`FAIL    ${t.name}: pending (${pendingWhy}) but PLANTRACK_BROWSER_REQUIRE_ALL=1`); }
          else { skipped++; console.log(`pending ${t.name}: ${pendingWhy}`); }
        } else {
          failed++;
          console.log(`FAIL    ${t.name}: ${e.stack || e}`);
        }
      }
    }
  } catch (e) {
    failed++;
    console.log("FAIL    setup: " + (e.stack || e));
  } finally {
    if (browser) await browser.close().catch(() => {});
    await cleanup();
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed ? 1 : passed === 0 && skipped > 0 ? SKIP : 0);
}

// Routes that other branches add (issues 10 and 11): until they land the page
// asks for them, gets a 404 and says 此功能尚未开放; Chrome logs each such 404
// as a console error, which the tests accept for exactly these paths.
export const PENDING_ROUTES = [/\/ranking\?/, /\/history\?/, /\/v1\/changes\?/, /\/v1\/units$/, /\/attachments/];

export function consoleErrors(page, expected = []) {
  return page.log.console.filter((m) => !(/status of 404/.test(m) && PENDING_ROUTES.some((r) => r.test(m.split(" @ ")[1] || "")))
    && !expected.some((r) => r.test(m)));
}

/** No console error (but the expected ones), no request to another host, no dialog. */
export function clean(page, expected) {
  const errs = consoleErrors(page, expected);
  assert(errs.length === 0, "console errors: " + JSON.stringify(errs));
  assert(page.log.foreign.length === 0, "requests to other hosts: " + JSON.stringify(page.log.foreign));
  assert(page.log.dialogs.length === 0, "dialogs: " + JSON.stringify(page.log.dialogs));
}

export async function openBoard(env, tok, hash = "#/board") {
  const page = await newPage(env.browser, env.d);
  await signIn(page, env.d, tok);
  await page.goto(env.d.url + "/" + hash, { waitUntil: "networkidle0" });
  await page.waitForSelector("#chart tbody tr");
  return page;
}

export async function findTask(env, q) {
  const r = await api(env.d, env.admin, "GET", "/v1/tasks?limit=50&q=" + encodeURIComponent(q));
  assert(r.status === 200 && r.json.items.length, "task " + q + " not found");
  return r.json.items.find((t) => t.title.includes(q)) || r.json.items[0];
}

// Lead units for the reference plan's items (the text names none), by section,
// so that the ranking and an editor's work list have something to show.
const LEADS = { "一": "党建工作办公室", "二": "经济发展办公室", "三": "城市管理办公室", "四": "社会事务办公室", "五": "平安建设办公室" };

/** The usual setup: daemon, tokens, the reference plan imported, lead units set. */
export async function setupPlan() {
  const d = await startDaemon();
  const admin = d.token("admin");
  const env = { d, admin, supervisor: d.token("supervisor"), supervisor2: d.token("supervisor"), viewer: d.token("viewer") };
  env.plan = await importPlan(d, admin);
  const all = (await api(d, admin, "GET", `/v1/tasks?plan=${env.plan.id}&limit=500`)).json.items;
  const parents = new Set(all.map((t) => t.parent_id).filter(Boolean));
  for (const t of all) {
    const unit = LEADS[(t.code || "").split(".")[0]];
    if (!unit || parents.has(t.id)) continue;
    const r = await api(d, admin, "PATCH", "/v1/tasks/" + t.id, { lead_unit: unit }, { "If-Match": `"${t.version}"` });
    if (r.status !== 200) throw new Error("setting the lead unit: " + r.text);
  }
  env.leads = LEADS;
  return env;
}
