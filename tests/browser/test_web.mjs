// test_web.mjs - the web application in Debian's chromium (puppeteer-core),
// against plantrackd on a throwaway database with the reference plan
// (shared/samples/chengdong-2025-plan.txt). Run by ctest as browser.web.
// Every case saves a screenshot into the build directory (PLANTRACK_BROWSER_OUT).
import { api, assert, clean, findTask, newPage, openBoard, run, setupPlan, shot, signIn } from "./lib.mjs";


const tests = [
  { name: "load_reference_plan", always: true, fn: async (env) => {
    assert(env.plan.id && env.plan.year === 2025, "plan imported: " + JSON.stringify(env.plan).slice(0, 200));
    const r = await api(env.d, env.admin, "GET", `/v1/tasks?plan=${env.plan.id}&limit=500`);
    env.tasks = r.json.items;
    assert(env.tasks.length >= 17, "at least the 17 items of the plan, got " + env.tasks.length);
    const page = await openBoard(env, env.admin);
    assert(await page.$eval("#plan", (s) => s.selectedOptions[0].textContent.includes("城东街道")), "the plan is selected");
    await shot(page, "browser-load_reference_plan");
    clean(page);
    await page.closeAll();
  } },

  { name: "signin_bad_and_revoked_token", fn: async (env) => {
    const page = await newPage(env.browser, env.d);
    await page.goto(env.d.url + "/", { waitUntil: "networkidle0" });
    await page.waitForSelector("#token-input");
    await page.type("#token-input", "pt_this-is-not-a-token");
    await page.click("form.signin button[type=submit]");
    await page.waitForSelector("#signin-error:not([hidden])");
    const text = await page.$eval("#signin-error", (e) => e.textContent);
    assert(/令牌无效或已被吊销/.test(text), "clear message, got " + text);
    assert(!(await page.evaluate(() => localStorage.getItem("plantrack-token"))), "a bad token is not kept");
    // a revoked token
    const created = await api(env.d, env.admin, "POST", "/v1/tokens", { name: "to-revoke", role: "viewer" });
    assert(created.status === 201, "token created: " + created.text);
    const del = await api(env.d, env.admin, "DELETE", "/v1/tokens/" + created.json.id);
    assert(del.status === 200 || del.status === 204, "revoked: " + del.status);
    await page.$eval("#token-input", (e) => { e.value = ""; });
    await page.type("#token-input", created.json.token);
    await page.click("form.signin button[type=submit]");
    await page.waitForFunction(() => /令牌无效或已被吊销/.test(document.querySelector("#signin-error")?.textContent || "") && document.querySelector("#signin-error").textContent.length > 10);
    await shot(page, "browser-signin_bad_token");
    // a token kept from an earlier visit and revoked since: the same message, the form again
    await page.evaluate((t) => localStorage.setItem("plantrack-token", t), created.json.token);
    await page.goto("about:blank");
    await page.goto(env.d.url + "/#/board", { waitUntil: "networkidle0" });
    await page.waitForSelector("#token-input");
    assert(/令牌无效或已被吊销/.test(await page.$eval("#view", (e) => e.textContent)), "a revoked stored token is explained");
    assert(!(await page.evaluate(() => localStorage.getItem("plantrack-token"))), "and forgotten");
    assert(!page.log.requests.some((r) => r.url.includes("pt_")), "no token in any URL");
    await page.closeAll();
  } },

  { name: "signin_good_token_shows_board", fn: async (env) => {
    const page = await newPage(env.browser, env.d);
    await page.goto(env.d.url + "/", { waitUntil: "networkidle0" });
    const html = await page.content();
    assert(!html.includes(env.admin), "no token in the page HTML");
    await page.type("#token-input", env.viewer);
    await page.click("form.signin button[type=submit]");
    await page.waitForSelector("#chart tbody tr");
    assert((await page.evaluate(() => localStorage.getItem("plantrack-token"))) === env.viewer, "kept in localStorage");
    assert(!page.url().includes(env.viewer), "not in the URL");
    assert(page.log.requests.every((r) => !r.url.includes(env.viewer)), "never in a request URL");
    const who = await page.$eval("#who", (e) => e.textContent);
    assert(who.includes("查看"), "role shown: " + who);
    await shot(page, "browser-signin_good_token");
    clean(page);
    await page.closeAll();
  } },

  { name: "wall_chart_rows_and_12_months", fn: async (env) => {
    const page = await openBoard(env, env.admin);
    const months = await page.$$eval("#chart thead th.m", (ths) => ths.map((t) => t.textContent));
    const monthCols = months.filter((m) => /^\d+月$/.test(m));
    assert(monthCols.length === 12 && monthCols[0] === "1月" && monthCols[11] === "12月", "12 month columns: " + months);
    assert((await page.$$("#chart thead th.current")).length === 1, "the current month is marked");
    const rows = await page.$$eval("#chart tbody tr", (trs) => trs.map((t) => t.dataset.task));
    assert(rows.length === env.tasks.length, `a row per task: ${rows.length} vs ${env.tasks.length}`);
    const cells = await page.$$eval("#chart tbody tr:first-child td.m", (tds) => tds.length);
    assert(cells === 13, "12 months and today in every row, got " + cells);
    // sections fold
    const before = rows.length;
    await page.click("#chart tbody tr.section .fold");
    const after = await page.$$eval("#chart tbody tr", (trs) => trs.length);
    assert(after < before, `folding the first section hides its rows (${before} → ${after})`);
    await page.click("#chart tbody tr.section .fold");
    // a cell shows progress and the latest note on hover / tap
    await page.click("#chart tbody tr:first-child td.m:last-child button.cell");
    await page.waitForFunction(() => /最新情况/.test(document.querySelector("#cell-detail").textContent));
    // counts and overall progress
    const red = await page.$eval('.count[data-light="red"] b', (b) => Number(b.textContent));
    assert(red >= 1, "red count shown");
    assert(/%/.test(await page.$eval("#overall-progress", (e) => e.textContent)), "overall progress");
    assert(await page.$("#ranking"), "the ranking table");
    await shot(page, "browser-board");
    clean(page);
    // print view fits A4 landscape (297 mm - 16 mm margins at 96 dpi ≈ 1062 px)
    await page.setViewport({ width: 1062, height: 750 });
    await page.emulateMediaType("print");
    const fit = await page.evaluate(() => ({ chart: document.querySelector("#chart").getBoundingClientRect().width, nav: getComputedStyle(document.querySelector("#nav")).display }));
    assert(fit.chart <= 1062, "the chart fits A4 landscape in print: " + fit.chart);
    assert(fit.nav === "none", "navigation hidden in print");
    await shot(page, "browser-board-print");
    await page.closeAll();
  } },

  { name: "hostile_title_is_text", fn: async (env) => {
    const evil = "<img src=x onerror=alert(1)>";
    const r = await api(env.d, env.admin, "POST", "/v1/tasks", { plan_id: env.plan.id, title: evil, body: "<script>alert(2)</script>", lead_unit: "<b>x</b>" });
    assert(r.status === 201, "task created: " + r.text);
    env.tasks.push(r.json);
    const page = await openBoard(env, env.admin);
    const shown = await page.$$eval("#chart td.t a", (as) => as.map((a) => a.textContent));
    assert(shown.includes(evil), "the title is shown as text on the board");
    await page.goto(env.d.url + "/#/task/" + r.json.id, { waitUntil: "networkidle0" });
    await page.waitForSelector("#task-title");
    assert((await page.$eval("#task-title", (e) => e.textContent)) === evil, "the title is text on the task page");
    assert((await page.$$("img")).length === 0, "no img element anywhere");
    assert((await page.$$("main script")).length === 0, "no script element from data");
    assert(await page.$eval("#task-doc", (e) => e.textContent.includes("<b>x</b>") && e.textContent.includes("<script>alert(2)</script>")), "unit and body shown as text");
    await new Promise((ok) => setTimeout(ok, 300));
    assert(page.log.dialogs.length === 0, "no dialog");
    await shot(page, "browser-hostile_title");
    clean(page);
    await page.closeAll();
  } },

  { name: "report_progress_with_target", fn: async (env) => {
    const task = await findTask(env, "睦邻社区");
    assert(task.targets.length >= 1, "the task has targets");
    const page = await newPage(env.browser, env.d, { width: 1200, height: 900 });
    await signIn(page, env.d, env.supervisor);
    await page.goto(env.d.url + "/#/task/" + task.id, { waitUntil: "networkidle0" });
    await page.waitForSelector("#report-form");
    await page.$eval("#report-progress", (e) => { e.value = ""; });
    await page.type("#report-progress", "35");
    const tid = task.targets[0].id;
    await page.type(`input[data-target="${tid}"]`, "4");
    await page.type("#report-note", "新增网格驿站4处");
    // a double tap: two clicks, one report
    await page.evaluate(() => { const b = document.querySelector("#report-submit"); b.click(); b.click(); });
    await page.waitForFunction(() => /35%/.test(document.querySelector("#task-progress")?.textContent || ""));
    const posts = page.log.requests.filter((q) => q.method === "POST" && q.url.endsWith(`/v1/tasks/${task.id}/updates`));
    assert(posts.length === 1, "one POST for a double tap, got " + posts.length);
    const hd = posts[0].headers;
    assert(/^"\d+"$/.test(hd["if-match"] || ""), "If-Match sent: " + hd["if-match"]);
    assert(/^[0-9a-f-]{36}$/.test(hd["idempotency-key"] || ""), "Idempotency-Key sent: " + hd["idempotency-key"]);
    assert(hd["accept-language"] === "zh-CN", "Accept-Language: zh-CN");
    const body = JSON.parse(posts[0].body);
    assert(body.targets && body.targets[0].id === tid && body.targets[0].current === 4, "target value sent: " + posts[0].body);
    const after = await api(env.d, env.admin, "GET", "/v1/tasks/" + task.id);
    assert(after.json.progress === 35 && after.json.targets.find((g) => g.id === tid).current === 4, "stored: " + after.text.slice(0, 300));
    const ups = await api(env.d, env.admin, "GET", `/v1/tasks/${task.id}/updates`);
    assert(ups.json.items.length === 1, "exactly one history row, got " + ups.json.items.length);
    await page.waitForFunction(() => /新增网格驿站4处/.test(document.querySelector("#task-history").textContent));
    await shot(page, "browser-task");
    clean(page);
    await page.closeAll();
  } },

  { name: "retry_after_lost_answer_reuses_key", fn: async (env) => {
    // The first report reaches the server but its answer is lost (connection
    // reset): the page sends it again with the same Idempotency-Key, the server
    // answers the first outcome, and the history has one report.
    const task = await findTask(env, "推进睦邻社区建设");
    const page = await newPage(env.browser, env.d);
    await signIn(page, env.d, env.supervisor);
    await page.goto(env.d.url + "/#/task/" + task.id, { waitUntil: "networkidle0" });
    await page.waitForSelector("#report-form");
    const before = (await api(env.d, env.admin, "GET", `/v1/tasks/${task.id}/updates`)).json.items.length;
    await page.setRequestInterception(true);
    let lost = false;
    page.on("request", async (req) => {
      if (!lost && req.method() === "POST" && req.url().endsWith("/updates")) {
        lost = true;
        const h = req.headers();
        const keep = ["authorization", "content-type", "if-match", "idempotency-key", "accept-language"];
        await fetch(req.url(), { method: "POST", body: req.postData(), headers: Object.fromEntries(keep.filter((k) => h[k]).map((k) => [k, h[k]])) });
        return req.abort("connectionreset");
      }
      return req.continue();
    });
    await page.$eval("#report-progress", (e) => { e.value = "45"; });
    await page.type("#report-note", "答复丢失后重试");
    await page.click("#report-submit");
    await page.waitForFunction(() => /45%/.test(document.querySelector("#task-progress").textContent));
    const posts = page.log.requests.filter((q) => q.method === "POST" && q.url.endsWith("/updates"));
    assert(posts.length === 2 && posts[0].headers["idempotency-key"] === posts[1].headers["idempotency-key"], "the retry reused the key");
    const after = (await api(env.d, env.admin, "GET", `/v1/tasks/${task.id}/updates`)).json.items.length;
    assert(after === before + 1, `one report for one action: ${before} → ${after}`);
    await shot(page, "browser-retry");
    clean(page, [/ERR_CONNECTION_RESET/]);
    await page.closeAll();
  } },

  { name: "stale_version_412_shows_change_and_retries", fn: async (env) => {
    const task = await findTask(env, "城东合伙人");
    const page = await newPage(env.browser, env.d);
    await signIn(page, env.d, env.supervisor);
    await page.goto(env.d.url + "/#/task/" + task.id, { waitUntil: "networkidle0" });
    await page.waitForSelector("#report-form");
    // someone else reports meanwhile
    const other = await api(env.d, env.admin, "POST", `/v1/tasks/${task.id}/updates`, { progress: 20, note: "别人先填报" }, { "If-Match": `"${task.version}"` });
    assert(other.status === 201, "the other report: " + other.text);
    await page.$eval("#report-progress", (e) => { e.value = "50"; });
    await page.type("#report-note", "我的填报");
    await page.click("#report-submit");
    await page.waitForSelector("#conflict", { timeout: 5000 }).catch(async (e) => { console.log(page.log.console, page.log.requests.filter((q) => q.method === "POST").map((q) => q.url)); await shot(page, "debug412"); throw e; });
    const text = await page.$eval("#conflict", (e) => e.textContent);
    assert(/进度：0% → 20%/.test(text), "the change is shown: " + text);
    assert((await page.$eval("#report-note", (e) => e.value)) === "我的填报", "what was typed survives");
    await shot(page, "browser-conflict");
    await page.click("#retry");
    await page.waitForFunction(() => /50%/.test(document.querySelector("#task-progress").textContent));
    const posts = page.log.requests.filter((q) => q.method === "POST" && q.url.endsWith("/updates"));
    assert(posts.length === 2 && posts[0].headers["if-match"] !== posts[1].headers["if-match"], "the retry used the fresh version");
    const ups = await api(env.d, env.admin, "GET", `/v1/tasks/${task.id}/updates`);
    assert(ups.json.items.length === 2, "two reports in all");
    clean(page, [/status of 412 .*\/updates$/]);     // the one stale report, on purpose
    await page.closeAll();
  } },

  { name: "my_work_lists", fn: async (env) => {
    const page = await newPage(env.browser, env.d);
    await signIn(page, env.d, env.supervisor);
    await page.goto(env.d.url + "/#/mine", { waitUntil: "networkidle0" });
    await page.waitForFunction(() => !/加载中/.test(document.querySelector("#queue-unsigned").textContent));
    assert(/未签收任务/.test(await page.$eval("#queue-unsigned", (e) => e.textContent)), "the supervisor's queue");
    await shot(page, "browser-my_work_supervisor");
    clean(page);
    // an editor of a lead unit: its tasks, most urgent (red) first
    const editor = env.d.token("editor", env.leads["一"]);
    await signIn(page, env.d, editor);
    await page.goto(env.d.url + "/#/mine", { waitUntil: "networkidle0" });
    await page.waitForSelector("#worklist li");
    const items = await page.$$eval("#worklist li", (lis) => lis.map((l) => ({ id: l.dataset.task, light: l.querySelector(".light").className })));
    const mine = (await api(env.d, env.admin, "GET", "/v1/tasks?limit=500&unit=" + encodeURIComponent(env.leads["一"]))).json.items
      .filter((t) => !["done", "verified", "cancelled"].includes(t.status));
    assert(items.length === mine.length && items.length >= 2, `the unit's open tasks: ${items.length} vs ${mine.length}`);
    assert(/l-red/.test(items[0].light), "red first: " + items[0].light);
    await shot(page, "browser-my_work_editor");
    clean(page);
    await page.closeAll();
  } },

  { name: "phone_375_task_page", fn: async (env) => {
    const task = await findTask(env, "睦邻社区");
    const page = await newPage(env.browser, env.d, { width: 375, height: 812 });
    await signIn(page, env.d, env.supervisor);
    await page.goto(env.d.url + "/#/task/" + task.id, { waitUntil: "networkidle0" });
    await page.waitForSelector("#report-form");
    const m = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, w: window.innerWidth,
      btn: document.querySelector("#report-submit").getBoundingClientRect().height,
      input: document.querySelector("#report-progress").getBoundingClientRect().height }));
    assert(m.sw <= m.w, `no horizontal scroll at 375 px: scrollWidth ${m.sw} > ${m.w}`);
    assert(m.btn >= 44 && m.input >= 44, "large tap targets: " + JSON.stringify(m));
    await shot(page, "browser-phone_task");
    // the board on a phone: the chart scrolls inside its own box, the page does not
    await page.goto(env.d.url + "/#/board", { waitUntil: "networkidle0" });
    await page.waitForSelector("#chart tbody tr");
    const b = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert(b, "the board page itself does not scroll sideways at 375 px");
    await shot(page, "browser-phone_board");
    clean(page);
    await page.closeAll();
  } },

  { name: "headers_favicon_and_no_foreign_requests", fn: async (env) => {
    for (const p of ["/", "/app.js", "/app.css", "/js/api.js", "/favicon.ico", "/favicon.svg", "/docs"]) {
      const r = await fetch(env.d.url + p);
      assert(r.status === 200, p + " → " + r.status);
      assert(r.headers.get("content-security-policy")?.startsWith("default-src 'self'"), p + " CSP");
      assert(r.headers.get("x-content-type-options") === "nosniff", p + " nosniff");
      assert(r.headers.get("referrer-policy") === "no-referrer", p + " Referrer-Policy");
    }
    const page = await openBoard(env, env.admin);
    await page.goto(env.d.url + "/#/mine", { waitUntil: "networkidle0" });
    await page.goto(env.d.url + "/#/task/" + env.tasks[0].id, { waitUntil: "networkidle0" });
    await page.waitForSelector("#task-title");
    await shot(page, "browser-headers");
    clean(page);
    assert(page.log.failed.length === 0, "failed requests: " + page.log.failed);
    await page.closeAll();
  } },

  { name: "docs_offline", fn: async (env) => {
    const page = await newPage(env.browser, env.d);
    await page.goto(env.d.url + "/docs", { waitUntil: "networkidle0" });
    await page.waitForSelector(".swagger-ui .info .title", { timeout: 20000 });
    const title = await page.$eval(".swagger-ui .info .title", (e) => e.textContent);
    assert(title.includes("plantrack"), "the API title: " + title);
    const ops = await page.$$eval(".opblock", (o) => o.length);
    assert(ops >= 20, "operations rendered: " + ops);
    await shot(page, "browser-docs");
    clean(page);
    await page.closeAll();
  } },
];

run(tests, setupPlan);
