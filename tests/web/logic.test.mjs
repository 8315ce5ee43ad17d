// logic.test.mjs - the page's pure logic under node's test runner (no browser):
// urgency order, the words for what changed before a 412, Idempotency-Key
// generation, and an Action reusing its key only for a retry.
import { test } from "node:test";
import assert from "node:assert/strict";

globalThis.localStorage = { getItem: () => "tok", setItem() {}, removeItem() {} };
const { byUrgency } = await import("../../web/js/mywork.js");
const { diff } = await import("../../web/js/task.js");
const { Action, newKey } = await import("../../web/js/api.js");

test("urgency: red, yellow, green; then the nearest deadline; then the least progress", () => {
  const t = (id, light, due, progress = 0) => ({ id, light, due_date: due, progress });
  const list = [t("g", "green", "2025-03-01"), t("y2", "yellow", "2025-09-01"), t("r", "red", "2025-12-31"),
    t("y1", "yellow", "2025-06-30"), t("n", "green", null), t("y3", "yellow", "2025-06-30", 50)];
  assert.deepEqual(list.sort(byUrgency).map((x) => x.id), ["r", "y1", "y3", "y2", "g", "n"]);
  assert.equal([{ light: "green", effective_due: "2025-01-01", due_date: null }, { light: "green", due_date: "2025-02-01" }]
    .sort(byUrgency)[0].effective_due, "2025-01-01", "effective_due counts when there is one");
});

test("diff names what changed between two versions", () => {
  const a = { status: "in_progress", progress: 20, due_date: "2025-06-30", title: "x", lead_unit: "u", targets: [{ id: "t", label: "驿站", current: 1 }] };
  const b = { ...a, progress: 40, targets: [{ id: "t", label: "驿站", current: 3 }] };
  assert.deepEqual(diff(a, b), ["进度：20% → 40%", "目标“驿站”：1 → 3"]);
  assert.deepEqual(diff(a, { ...a }), ["内容没有可见变化（版本号已更新）。"]);
});

test("keys are UUID v4, with or without crypto.randomUUID", () => {
  assert.match(newKey(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const saved = crypto.randomUUID;
  try {
    Object.defineProperty(crypto, "randomUUID", { value: undefined, configurable: true });
    const k = newKey();
    assert.match(k, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(k, newKey());
  } finally {
    Object.defineProperty(crypto, "randomUUID", { value: saved, configurable: true });
  }
});

test("an Action keeps its key for a retry after no answer, and takes a new one after an answer", async () => {
  const seen = [];
  let fail = 1;
  globalThis.fetch = async (url, init) => {
    seen.push(init.headers["Idempotency-Key"]);
    if (fail-- > 0) throw new TypeError("network");
    return new Response(JSON.stringify({ ok: true }), { status: 201, headers: { "Content-Type": "application/json", ETag: '"2"' } });
  };
  const a = new Action();
  const first = a.key;
  const r = await a.send("/v1/tasks/x/updates", { method: "POST", body: {}, ifMatch: '"1"' });
  assert.equal(r.status, 201);
  assert.deepEqual(seen, [first, first], "the retry reused the key");
  assert.notEqual(a.key, first, "the next action has a new key");
  // a double tap while the first is in flight sends nothing more
  let release;
  globalThis.fetch = (url, init) => { seen.push(init.headers["Idempotency-Key"]); return new Promise((ok) => { release = () => ok(new Response("{}", { status: 201, headers: { "Content-Type": "application/json" } })); }); };
  const p1 = a.send("/x", { method: "POST", body: {} });
  const p2 = await a.send("/x", { method: "POST", body: {} });
  assert.equal(p2, null);
  release();
  await p1;
  assert.equal(seen.length, 3);
  // a 422 is an answer: the person changes the input, the next send is a new action
  globalThis.fetch = async () => new Response(JSON.stringify({ title: "Validation failed", detail: "bad", status: 422 }), { status: 422, headers: { "Content-Type": "application/problem+json" } });
  const k = a.key;
  await assert.rejects(a.send("/x", { method: "POST", body: {} }), (e) => e.status === 422 && /Validation failed：bad/.test(e.message));
  assert.notEqual(a.key, k);
});
