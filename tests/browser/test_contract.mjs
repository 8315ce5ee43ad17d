// test_contract.mjs - the page's handling of the issue-10/11 routes, with those
// routes answered inside the browser (request interception) in the shapes the
// issues give, the rest by the real daemon. It checks that the page renders
// and sends what it should (no JavaScript error, no 此功能尚未开放); it does not
// stand in for test_pending.mjs, which runs the same features against the
// real routes once they land.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { api, assert, clean, findTask, newPage, outDir, run, setupPlan, shot, signIn } from "./lib.mjs";

const json = (body, status = 200, headers = {}) => ({ status, contentType: "application/json", headers, body: JSON.stringify(body) });

/** Intercepts requests: routes [{method, re, reply(req, match) → response or Promise}]. */
async function fake(page, env, routes) {
  await page.setRequestInterception(true);
  page.faked = [];
  page.on("request", async (req) => {
    const u = new URL(req.url());
    const target = u.pathname + u.search;
    for (const r of routes) {
      const m = req.method() === r.method && r.re.exec(target);
      if (m) {
        page.faked.push({ method: req.method(), target, body: req.postData(), headers: req.headers() });
        return req.respond(await r.reply(req, m));
      }
    }
    return req.continue();
  });
}

/** The real answer for this request from the daemon (to be changed and returned). */
async function real(env, req) {
  const h = req.headers();
  const r = await fetch(req.url(), { headers: { authorization: h.authorization } });
  return r.json();
}

const tests = [
  { name: "board_with_as_of_and_ranking", fn: async (env) => {
    const page = await newPage(env.browser, env.d);
    await fake(page, env, [
      { method: "GET", re: /^\/v1\/tasks\?plan=[^&]+&as_of=(\d{4})-(\d\d)-(\d\d)/, reply: async (req, m) => {
        const body = await real(env, req);
        const month = Number(m[2]);
        for (const t of body.items) {
          t.expected_progress = Math.round((month / 12) * 100);
          t.effective_due = t.due_date || "2025-12-31";
          t.light = month >= 7 && t.due_date ? "yellow" : "green";
        }
        return json(body);
      } },
      { method: "GET", re: /^\/v1\/plans\/[^/]+\/ranking\?period=(\w+-?\w*)/, reply: (req, m) => json({
        period: m[1],
        units: [{ unit: "城市管理办公室", rank: 1, score: 92.5, on_time_rate: 0.9, progress_gap: 4, red_share: 0, tasks: 10 },
                { unit: "经济发展办公室", rank: 2, score: 71, on_time_rate: 0.5, progress_gap: -18, red_share: 0.3, tasks: 14 }],
        red_list: [{ unit: "城市管理办公室", rank: 1 }], black_list: [{ unit: "经济发展办公室", rank: 2 }] }) },
    ]);
    await signIn(page, env.d, env.admin);
    await page.goto(env.d.url + "/#/board/" + env.plan.id, { waitUntil: "networkidle0" });
    await page.$eval("#as-of", (e) => { e.value = "2025-07-15"; e.dispatchEvent(new Event("change")); });
    await page.waitForFunction(() => /截至 2025-07-15/.test(document.body.textContent) && document.querySelector("#chart tbody tr"));
    await page.waitForSelector("#ranking tbody tr");
    const row = await page.$$eval("#chart tbody tr.item", (trs) => {
      const tr = trs.find((t) => t.querySelectorAll("td.m button.cell[data-light=yellow]").length);
      return tr ? [...tr.querySelectorAll("td.m")].map((td) => td.classList.contains("future") ? "future" : td.querySelector("button")?.dataset.light) : null;
    });
    assert(row, "a row with yellow months");
    assert(row.slice(0, 6).every((l) => l === "green") && row[6] === "yellow" && row.slice(7, 12).every((l) => l === "future"),
      "months up to July as of 2025-07-15, the rest empty: " + row);
    assert(!(await page.$eval("main", (e) => /尚未开放/.test(e.textContent))), "no 尚未开放 with the routes there");
    assert((await page.$eval('.count[data-light="yellow"] b', (b) => Number(b.textContent))) > 0, "yellow counted as of the day");
    assert(/序时进度 58%/.test(await page.$eval("main", (e) => e.textContent)), "序时进度 from the tasks' expected_progress");
    const lists = await page.$$eval(".lists li", (lis) => lis.map((l) => l.textContent));
    assert(lists.includes("城市管理办公室") && lists.includes("经济发展办公室"), "red and black lists: " + lists);
    await page.select("#period", "2025-06");
    await page.waitForFunction(() => document.querySelector("#ranking"));
    assert(page.faked.some((f) => f.target.includes("period=2025-06")), "the ranking follows the period");
    await shot(page, "contract-board");
    clean(page);
    await page.closeAll();
  } },

  { name: "task_history_attachments_and_evidence", fn: async (env) => {
    const task = await findTask(env, "全力实施路网提升工程");
    const page = await newPage(env.browser, env.d, { width: 375, height: 812 });
    const bytes = Buffer.from("89504e470d0a1a0a", "hex");
    await fake(page, env, [
      { method: "GET", re: new RegExp(`^/v1/tasks/${task.id}/history\\?`), reply: () => json({ items: [
        { at: "2025-06-30T08:00:00Z", author: "城管办 张三", request_id: "r1", action: "report", field: "progress", old: 20, new: 40, note: "完成窝良路提升1.2万平方米" },
        { at: "2025-03-01T08:00:00Z", author: "督查室", request_id: "r0", action: "sign", field: "status", old: "planned", new: "in_progress", note: null },
      ], next_cursor: null }) },
      { method: "GET", re: new RegExp(`^/v1/tasks/${task.id}$`), reply: async (req) => {
        const body = await real(env, req);
        body.attachments = [{ id: "0b8f1c1e-0000-4000-8000-000000000001", filename: "现场照片.png", size: 2048, content_type: "image/png" }];
        body.expected_progress = 50; body.effective_due = "2025-12-31"; body.due_source = "plan"; body.progress_source = "reported";
        return json(body, 200, { ETag: `"${body.version}"` });
      } },
      { method: "GET", re: /^\/v1\/attachments\/[0-9a-f-]+$/, reply: () => ({ status: 200, contentType: "image/png", body: bytes }) },
      { method: "POST", re: new RegExp(`^/v1/tasks/${task.id}/attachments\\?filename=`), reply: () =>
        json({ id: "0b8f1c1e-0000-4000-8000-000000000002", sha256: "0".repeat(64), size: 8, content_type: "image/png", filename: "evidence.png" }, 201) },
      { method: "POST", re: new RegExp(`^/v1/tasks/${task.id}/updates$`), reply: async (req) => {
        const body = await real(env, req);
        body.progress = 60;
        return json({ update: { id: "u1", note: "x" }, task: body }, 201, { ETag: `"${body.version}"` });
      } },
    ]);
    await signIn(page, env.d, env.supervisor);
    await page.goto(env.d.url + "/#/task/" + task.id, { waitUntil: "networkidle0" });
    await page.waitForFunction(() => /完成窝良路提升1.2万平方米/.test(document.querySelector("#task-history").textContent));
    assert(!(await page.$eval("#task-history", (e) => /尚未开放/.test(e.textContent))), "the full history, no notice");
    assert(/现场照片\.png/.test(await page.$eval("#task-attachments", (e) => e.textContent)), "attachments listed");
    assert(/序时进度 50%/.test(await page.$eval("#task-doc", (e) => e.textContent)), "序时进度 shown");
    assert(/按计划年度/.test(await page.$eval("#task-doc", (e) => e.textContent)), "where the deadline comes from");
    await page.click("#task-attachments button");
    await new Promise((ok) => setTimeout(ok, 300));
    assert(page.faked.some((f) => f.target.startsWith("/v1/attachments/")), "the download asked with the token");
    // evidence upload, then the report naming it
    const file = path.join(outDir, "evidence.png");
    writeFileSync(file, bytes);
    await (await page.$("#report-files")).uploadFile(file);
    await page.type("#report-note", "附现场照片");
    await page.click("#report-submit");
    await page.waitForFunction(() => { const m = document.querySelector("#msg"); return m && !m.hidden && m.classList.contains("ok"); });
    const up = page.faked.find((f) => f.method === "POST" && f.target.includes("/attachments?filename=evidence.png"));
    assert(up && up.headers["content-type"] === "image/png" && up.headers["idempotency-key"], "upload with its type and a key");
    const rep = page.faked.find((f) => f.method === "POST" && f.target.endsWith("/updates"));
    assert(JSON.parse(rep.body).attachments?.[0] === "0b8f1c1e-0000-4000-8000-000000000002", "the report names the upload: " + rep.body);
    await shot(page, "contract-task");
    clean(page);
    await page.closeAll();
  } },

  { name: "sign_return_extension_and_queue", fn: async (env) => {
    const task = await findTask(env, "一线人员讲经验");
    const page = await newPage(env.browser, env.d, { width: 375, height: 812 });
    const change = { id: "c0000000-0000-4000-8000-000000000001", task_id: task.id, task_title: task.title, state: "pending",
      changes: { due_date: "2026-03-31" }, reason: "场地改造延期", requested_by: "社会事务办公室", created_at: "2025-09-01T02:00:00Z" };
    await fake(page, env, [
      { method: "POST", re: new RegExp(`^/v1/tasks/${task.id}/(sign|return|changes)$`), reply: async (req, m) => {
        const body = await real(env, req);
        if (m[1] === "changes") return json(change, 201);
        body.status = m[1] === "sign" ? "in_progress" : "planned";
        body.version += 1;
        return json(body, 200, { ETag: `"${body.version}"` });
      } },
      { method: "GET", re: /^\/v1\/changes\?state=pending/, reply: () => json({ items: [change], next_cursor: null }) },
      { method: "POST", re: /^\/v1\/changes\/[^/]+\/(approve|reject)$/, reply: () => json({ ...change, state: "approved" }) },
    ]);
    const editor = env.d.token("editor", env.leads["四"]);
    await signIn(page, env.d, editor);
    await page.goto(env.d.url + "/#/task/" + task.id, { waitUntil: "networkidle0" });
    await page.waitForSelector("#sign");
    await page.type("#return-reason", "不属于本单位职责");
    await page.click("#return");
    await page.waitForFunction(() => /退回：已提交/.test(document.querySelector("#msg").textContent));
    await page.click("#sign");
    await page.waitForFunction(() => /签收：已提交/.test(document.querySelector("#msg").textContent));
    await page.$eval("#ext-due", (e) => { e.value = "2026-03-31"; });
    await page.type("#ext-reason", "场地改造延期");
    await page.click("#ext-submit");
    await page.waitForFunction(() => /延期申请：已提交/.test(document.querySelector("#msg").textContent));
    const sent = page.faked.filter((f) => f.method === "POST");
    assert(sent.length === 3 && sent.every((f) => f.headers["if-match"] && /^[0-9a-f-]{36}$/.test(f.headers["idempotency-key"])), "If-Match and a key on each");
    assert(new Set(sent.map((f) => f.headers["idempotency-key"])).size === 3, "a new key per action");
    assert(sent[0].target.endsWith("/return") && JSON.parse(sent[0].body).reason === "不属于本单位职责", "the return reason");
    assert(JSON.parse(sent[2].body).changes.due_date === "2026-03-31", "the extension asks for the date");
    await shot(page, "contract-sign_return_extension");
    clean(page);
    await signIn(page, env.d, env.supervisor);
    await page.goto(env.d.url + "/#/mine", { waitUntil: "networkidle0" });
    await page.waitForSelector("#queue-changes li[data-change] .approve");
    assert(/场地改造延期/.test(await page.$eval("#queue-changes", (e) => e.textContent)), "the request and its reason");
    await page.click("#queue-changes .approve");
    await page.waitForFunction(() => /已批准/.test(document.querySelector("#msg").textContent));
    assert(page.faked.some((f) => f.method === "POST" && /\/v1\/changes\/[^/]+\/approve$/.test(f.target)), "approved");
    await shot(page, "contract-queue");
    clean(page);
    await page.closeAll();
  } },
];

run(tests, setupPlan);
