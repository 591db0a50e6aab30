import { createHash } from "node:crypto";
import * as http from "node:http";
import { Readable } from "node:stream";
import { HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { taskStatusEvents } from "../../../components/tasks/status-events";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { TASK_STATES, TRANSITIONS } from "../src/lifecycle";
import { TaskHandler } from "../src/worker";
import { eventually, startApp, startFakeDapr, testConfig } from "./support/harness";
import { expectConforms, openapi } from "./support/openapi";
import { startS3, TestS3 } from "./support/s3";

let pg: TestPostgres;
let s3: TestS3;
let dapr: Awaited<ReturnType<typeof startFakeDapr>>;
let h: Awaited<ReturnType<typeof startApp>>;
const MAX_UPLOAD = 12 * 1024 * 1024;

// the batch handler is replaced so that tests steer it: `fail:N` fails the first N runs, `hold` waits for a cancel
const runs = new Map<string, number>();
const controlled: TaskHandler = async (ctx) => {
  const items = (ctx.task.parameters as { items: string[] }).items;
  const n = (runs.get(ctx.task.id) ?? 0) + 1;
  runs.set(ctx.task.id, n);
  const fail = items.find((i) => i.startsWith("fail:"));
  if (fail && n <= Number(fail.slice(5))) throw new Error(`planned failure ${n}`);
  if (items.includes("hold")) {
    ctx.progress(10, "holding");
    await new Promise<void>((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
  }
  ctx.progress(50, "half");
  return { processed: items.length };
};

beforeAll(async () => {
  [pg, s3, dapr] = await Promise.all([startPostgres(), startS3(), startFakeDapr(1)]);
  const config = testConfig(await pg.createDatabase(), {
    storage: { bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint, maxUploadBytes: MAX_UPLOAD },
    events: { enabled: true, daprUrl: dapr.url, pubsub: "tasks-pubsub", pollMs: 20 },
    api: { maxPageSize: 50 },
  });
  h = await startApp(config, { handlers: { batch: controlled }, s3Client: s3.client() });
});

afterAll(async () => {
  await h?.app.stop();
  await Promise.all([pg?.stop(), s3?.stop(), dapr?.stop()]);
});

async function create(body: unknown, headers: Record<string, string> = {}) {
  const r = await h.call("POST", "/v1/tasks", body, headers);
  expectConforms("POST", "/v1/tasks", r.status, r.body);
  return r;
}

async function getTask(id: string) {
  const r = await h.call("GET", `/v1/tasks/${id}`);
  expectConforms("GET", "/v1/tasks/{id}", r.status, r.body);
  return r.body;
}

const until = (id: string, state: string) => eventually(async () => {
  const t = await getTask(id);
  return t.state === state ? t : undefined;
}, 15000, `task ${id} to be ${state}`);

describe("task orchestrator API", () => {
  it("documents every route it serves", () => {
    expect(Object.keys(openapi.paths).sort()).toEqual(
      ["/healthz", "/readyz", "/v1/tasks", "/v1/tasks/{id}", "/v1/tasks/{id}/cancel", "/v1/tasks/{id}/files", "/v1/tasks/{id}/files/{name}", "/v1/tasks/{id}/retry"],
    );
  });

  it("answers health and readiness", async () => {
    const live = await h.call("GET", "/healthz");
    expectConforms("GET", "/healthz", live.status, live.body);
    const ready = await h.call("GET", "/readyz");
    expect(ready.status).toBe(200);
    expectConforms("GET", "/readyz", ready.status, ready.body);
  });

  it("creates a task that a worker runs to completion with its result and progress", async () => {
    const r = await create({ type: "batch", parameters: { items: ["a", "b", "c"] } });
    expect(r.status).toBe(201);
    expect(r.headers.get("location")).toBe(`/v1/tasks/${r.body.id}`);
    expect(r.body).toMatchObject({ type: "batch", state: "pending", attempts: 0, maxRetries: 2 });
    const done = await until(r.body.id, "completed");
    expect(done).toMatchObject({ result: { processed: 3 }, attempts: 1, progress: { percent: 100 } });
  });

  it("retries failures with backoff and fails for good when retries run out", async () => {
    const ok = await create({ type: "batch", parameters: { items: ["fail:2"] }, maxRetries: 2 });
    const done = await until(ok.body.id, "completed");
    expect(done.attempts).toBe(3);
    const bad = await create({ type: "batch", parameters: { items: ["fail:5"] }, maxRetries: 1 });
    const failed = await until(bad.body.id, "failed");
    expect(failed).toMatchObject({ attempts: 2, error: "planned failure 2" });
    // an explicit retry runs it once more
    const retry = await h.call("POST", `/v1/tasks/${bad.body.id}/retry`);
    expectConforms("POST", "/v1/tasks/{id}/retry", retry.status, retry.body);
    expect(retry.body.state).toBe("retrying");
    expect((await until(bad.body.id, "failed")).attempts).toBe(3);
  });

  it("cancels a running task: the worker stops and no result is stored", async () => {
    const r = await create({ type: "batch", parameters: { items: ["hold"] } });
    await until(r.body.id, "running");
    const c = await h.call("POST", `/v1/tasks/${r.body.id}/cancel`);
    expectConforms("POST", "/v1/tasks/{id}/cancel", c.status, c.body);
    expect(c.body.state).toBe("cancelled");
    await new Promise((res) => setTimeout(res, 400)); // a few heartbeats
    expect(await getTask(r.body.id)).toMatchObject({ state: "cancelled", result: null });
  });

  it("refuses illegal transitions with 409 naming both states", async () => {
    const done = await create({ type: "batch", parameters: { items: ["x"] } });
    await until(done.body.id, "completed");
    for (const action of ["cancel", "retry"]) {
      const r = await h.call("POST", `/v1/tasks/${done.body.id}/${action}`);
      expect(r.status).toBe(409);
      expectConforms("POST", `/v1/tasks/{id}/${action}`, r.status, r.body);
      expect(r.body).toMatchObject({ error: "illegal_transition", from: "completed", to: action === "cancel" ? "cancelled" : "retrying" });
    }
    const cancelled = await create({ type: "import", parameters: { file: "in.csv", format: "csv", target: "t" } });
    await h.call("POST", `/v1/tasks/${cancelled.body.id}/cancel`);
    const again = await h.call("POST", `/v1/tasks/${cancelled.body.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.message).toContain("illegal transition cancelled -> cancelled");
    // the API's two transitions are refused exactly where the table says
    for (const from of TASK_STATES) {
      expect(TRANSITIONS[from].includes("cancelled")).toBe(["pending", "running", "retrying"].includes(from));
      expect(TRANSITIONS[from].includes("retrying")).toBe(from === "failed");
    }
  });

  it("answers cancel and retry from every state exactly as the transition table says", async () => {
    const steps: Record<string, string[]> = {
      pending: [], running: ["running"], completed: ["running", "completed"], failed: ["running", "failed"],
      retrying: ["running", "failed", "retrying"], cancelled: ["cancelled"],
    };
    for (const from of TASK_STATES) {
      for (const [action, to] of [["cancel", "cancelled"], ["retry", "retrying"]] as const) {
        // an import task never becomes due by itself (it waits for its file), so workers leave it alone
        const t = await create({ type: "import", parameters: { file: "x.csv", format: "csv", target: "t" } });
        for (const s of steps[from]) await h.app.pool.query("UPDATE tasks SET state = $2 WHERE id = $1", [t.body.id, s]);
        const r = await h.call("POST", `/v1/tasks/${t.body.id}/${action}`);
        expectConforms("POST", `/v1/tasks/{id}/${action}`, r.status, r.body);
        if (TRANSITIONS[from].includes(to)) {
          expect([from, action, r.status, r.body.state]).toEqual([from, action, 200, to]);
        } else {
          expect([from, action, r.status]).toEqual([from, action, 409]);
          expect(r.body).toMatchObject({ error: "illegal_transition", from, to });
        }
      }
    }
  });

  it("answers hostile paths with 4xx, never 500", async () => {
    for (const path of ["/v1/tasks/%E0%A4%A", "/v1/tasks/00000000-0000-4000-8000-000000000000/files/%zz", "/v1/tasks/../../etc/passwd", "/v1/tasks?limit=1e3", "/v1/tasks?limit=-1", "/%00", "/v1/tasks/" + "a".repeat(5000)]) {
      const r = await h.call(path.includes("files") ? "PUT" : "GET", path);
      expect([path, r.status >= 400 && r.status < 500]).toEqual([path, true]);
    }
  });

  it("rejects bad parameters with 400 naming every field", async () => {
    const cases: Array<[unknown, string[]]> = [
      [{ type: "batch", parameters: { items: [] } }, ["parameters.items"]],
      [{ type: "batch", parameters: { items: ["a"], itemDelayMs: -1, extra: 1 } }, ["parameters.itemDelayMs", "parameters.extra"]],
      [{ type: "import", parameters: { format: "xml" } }, ["parameters.file", "parameters.format", "parameters.target"]],
      [{ type: "report", parameters: { name: "r", from: "yesterday", to: "2026-01-01T00:00:00Z" } }, ["parameters.from"]],
      [{ type: "report", parameters: { name: "r", from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" } }, ["parameters.to"]],
      [{ type: "export", parameters: { format: "csv", filter: { state: "done" } } }, ["parameters.filter.state"]],
      [{ type: "sync", parameters: { prefix: "../../etc" } }, []],
      [{ type: "mystery", parameters: {} }, ["type"]],
      [{ parameters: {} }, ["type"]],
      [{ type: "batch" }, ["parameters"]],
      [{ type: "batch", parameters: { items: ["a"] }, priority: 1000, maxRetries: "3", owner: "me" }, ["priority", "maxRetries", "owner"]],
      [[1, 2], ["body"]],
    ];
    for (const [body, fields] of cases) {
      const r = await h.call("POST", "/v1/tasks", body);
      if (fields.length === 0) { expect(r.status).toBe(201); continue; }
      expect(r.status).toBe(400);
      expectConforms("POST", "/v1/tasks", 400, r.body);
      expect(r.body.fields.map((f: { field: string }) => f.field).sort()).toEqual([...fields].sort());
    }
    const malformed = await h.call("POST", "/v1/tasks", "{not json");
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: "malformed_json" });
    const wrongType = await h.call("POST", "/v1/tasks", "type=batch", { "content-type": "application/x-www-form-urlencoded" });
    expect(wrongType.status).toBe(415);
    const huge = await h.call("POST", "/v1/tasks", { type: "batch", parameters: { items: Array.from({ length: 9000 }, () => "x".repeat(200)) } });
    expect(huge.status).toBe(413);
    expectConforms("POST", "/v1/tasks", 413, huge.body);
    expect((await h.call("GET", "/v1/tasks/not-a-uuid")).body.fields).toEqual([{ field: "id", message: "must be a UUID" }]);
    const missing = await h.call("GET", "/v1/tasks/00000000-0000-4000-8000-000000000000");
    expect(missing.status).toBe(404);
    expectConforms("GET", "/v1/tasks/{id}", 404, missing.body);
    expect((await h.call("DELETE", "/v1/tasks")).status).toBe(405);
  });

  it("deduplicates creates by Idempotency-Key", async () => {
    const a = await create({ type: "report", parameters: { name: "daily", from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z" } }, { "idempotency-key": "req-42" });
    const b = await create({ type: "report", parameters: { name: "daily", from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z" } }, { "idempotency-key": "req-42" });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.body.id).toBe(a.body.id);
    const report = await until(a.body.id, "completed");
    expect(report.result.groups.batch).toBeGreaterThan(0);
    expect(report.result.key).toBe(`reports/${a.body.id}/daily.json`);
  });

  it("lists with filters and cursor paging, newest first, without gaps or repeats", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await create({ type: "sync", parameters: { prefix: `p${i}/` } })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/v1/tasks?type=sync&limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const r = await h.call("GET", q);
      expectConforms("GET", "/v1/tasks", r.status, r.body);
      expect(r.body.items.every((t: { type: string }) => t.type === "sync")).toBe(true);
      seen.push(...r.body.items.map((t: { id: string }) => t.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(new Set(seen).size).toBe(seen.length);
    const mine = seen.filter((id) => ids.includes(id));
    expect(mine).toEqual([...ids].reverse());
    const failed = await h.call("GET", "/v1/tasks?state=failed&limit=50");
    expect(failed.body.items.length).toBeGreaterThan(0);
    expect(failed.body.items.every((t: { state: string }) => t.state === "failed")).toBe(true);
    const bad = await h.call("GET", "/v1/tasks?limit=0&state=done&cursor=zzz&sort=asc");
    expect(bad.status).toBe(400);
    expectConforms("GET", "/v1/tasks", 400, bad.body);
    expect(bad.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(["cursor", "limit", "sort", "state"]);
  });

  it("streams an upload to object storage, records its checksum, and then runs the import that waited for it", async () => {
    const t = await create({ type: "import", parameters: { file: "orders.ndjson", format: "ndjson", target: "orders" } });
    expect(t.body.awaitingFile).toBe("orders.ndjson");
    await new Promise((r) => setTimeout(r, 150));
    expect((await getTask(t.body.id)).state).toBe("pending"); // not due until the file is there
    // ~6 MiB (two multipart parts) generated on the fly: neither the client nor the server holds it whole
    const line = JSON.stringify({ order: 1, note: "x".repeat(90) }) + "\n";
    const lines = Math.floor((6 * 1024 * 1024) / line.length);
    const hash = createHash("sha256");
    for (let i = 0; i < lines; i++) hash.update(line);
    const body = Readable.from((function* () { for (let i = 0; i < lines; i++) yield Buffer.from(line); })());
    const r = await rawPut(`/v1/tasks/${t.body.id}/files/orders.ndjson`, body, { "content-type": "application/x-ndjson", "x-checksum-sha256": hash.digest("hex") });
    expect(r.status).toBe(201);
    expectConforms("PUT", "/v1/tasks/{id}/files/{name}", 201, r.body);
    expect(r.body).toMatchObject({ name: "orders.ndjson", size: lines * line.length, key: `tasks/${t.body.id}/orders.ndjson`, contentType: "application/x-ndjson" });
    const obj = await s3.client().send(new HeadObjectCommand({ Bucket: s3.bucket, Key: r.body.key }));
    expect(Number(obj.ContentLength)).toBe(lines * line.length);
    const files = await h.call("GET", `/v1/tasks/${t.body.id}/files`);
    expectConforms("GET", "/v1/tasks/{id}/files", 200, files.body);
    const done = await until(t.body.id, "completed");
    expect(done.result).toMatchObject({ records: lines, rejected: 0, bytes: lines * line.length, target: "orders" });
    // a finished task takes no more files
    const late = await rawPut(`/v1/tasks/${t.body.id}/files/more.csv`, Readable.from([Buffer.from("a\n")]), { "content-type": "text/csv" });
    expect(late.status).toBe(409);
  });

  it("refuses uploads over the size limit with 413, whether declared or streamed, and keeps nothing", async () => {
    const t = await create({ type: "import", parameters: { file: "big.csv", format: "csv", target: "t" } });
    const declared = await rawPut(`/v1/tasks/${t.body.id}/files/big.csv`, Readable.from([Buffer.alloc(1024)]), { "content-type": "text/csv", "content-length": String(MAX_UPLOAD + 1) }, true);
    expect(declared.status).toBe(413);
    expectConforms("PUT", "/v1/tasks/{id}/files/{name}", 413, declared.body);
    const chunk = Buffer.alloc(1024 * 1024, 97);
    const streamed = await rawPut(`/v1/tasks/${t.body.id}/files/big.csv`, Readable.from((function* () { for (let i = 0; i < 20; i++) yield chunk; })()), { "content-type": "text/csv" });
    expect(streamed.status).toBe(413);
    expect(streamed.body).toMatchObject({ error: "payload_too_large", limit: MAX_UPLOAD });
    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `tasks/${t.body.id}/` }));
    expect(listed.Contents ?? []).toEqual([]);
    expect((await getTask(t.body.id)).awaitingFile).toBe("big.csv");
  });

  it("refuses wrong content types, bad names and checksum mismatches", async () => {
    const t = await create({ type: "import", parameters: { file: "a.csv", format: "csv", target: "t" } });
    const put = (name: string, headers: Record<string, string>) => rawPut(`/v1/tasks/${t.body.id}/files/${name}`, Readable.from([Buffer.from("a,b\n1,2\n")]), headers);
    const type = await put("a.csv", { "content-type": "text/html" });
    expect(type.status).toBe(415);
    expectConforms("PUT", "/v1/tasks/{id}/files/{name}", 415, type.body);
    const name = await put(".hidden", { "content-type": "text/csv" });
    expect(name.status).toBe(400);
    expect(name.body.fields[0].field).toBe("name");
    const sum = await put("a.csv", { "content-type": "text/csv", "x-checksum-sha256": "0".repeat(64) });
    expect(sum.status).toBe(400);
    expect(sum.body).toMatchObject({ error: "checksum_mismatch" });
    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `tasks/${t.body.id}/` }));
    expect(listed.Contents ?? []).toEqual([]);
    const digest = createHash("sha256").update("a,b\n1,2\n").digest("base64");
    const ok = await put("a.csv", { "content-type": "text/csv; charset=utf-8", "content-digest": `sha-256=:${digest}:` });
    expect(ok.status).toBe(201);
    const none = await rawPut(`/v1/tasks/00000000-0000-4000-8000-000000000000/files/a.csv`, Readable.from([Buffer.from("x")]), { "content-type": "text/csv" });
    expect(none.status).toBe(404);
  });

  it("publishes status events as CloudEvents through the Dapr publish API, retrying when Dapr fails", async () => {
    const r = await create({ type: "batch", parameters: { items: ["e"] } });
    await until(r.body.id, "completed");
    const events = await eventually(async () => {
      const mine = dapr.published.filter((p) => p.event.subject === r.body.id);
      return mine.some((p) => p.event.type === "task.completed") ? mine : undefined;
    }, 10000, "the completed event");
    expect(events.map((e) => e.event.type)).toEqual(expect.arrayContaining(["task.created", "task.progress", "task.completed"]));
    const completed = events.find((e) => e.event.type === "task.completed")!;
    expect(completed).toMatchObject({ pubsub: "tasks-pubsub", topic: "task.completed", contentType: "application/cloudevents+json" });
    expect(completed.event).toMatchObject({ specversion: "1.0", source: "/stratum/task-orchestrator", datacontenttype: "application/json", data: { id: r.body.id, state: "completed", result: { processed: 1 } } });
    expect(typeof completed.event.id).toBe("string");
    expect(Date.parse(completed.event.time)).not.toBeNaN();
    const types = new Set(dapr.published.map((p) => p.event.type));
    for (const t of ["task.created", "task.progress", "task.completed", "task.failed", "task.cancelled"]) expect(types).toContain(t);
    const ids = dapr.published.map((p) => p.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    // every event's data matches its entry in the event catalog
    const catalog = new Ajv({ allErrors: true, strict: false });
    addFormats(catalog);
    const schemas = new Map(taskStatusEvents("task-orchestrator").map((d) => [d.type, catalog.compile(d.schema)]));
    for (const p of dapr.published) {
      const validate = schemas.get(p.event.type)!;
      if (!validate(p.event.data)) throw new Error(`${p.event.type}: ${catalog.errorsText(validate.errors)} in ${JSON.stringify(p.event.data)}`);
      expect(p.topic).toBe(p.event.type);
    }
  });

  it("exports metrics: transitions by type and state, failures, durations and queue depth", async () => {
    const res = await fetch(`http://127.0.0.1:${h.app.metricsPort}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/tasks_total\{type="batch",state="completed"\} \d+/);
    expect(text).toMatch(/tasks_failed_total\{type="batch"\} [1-9]/);
    expect(text).toMatch(/task_duration_seconds_count\{type="batch",state="completed"\} \d+/);
    expect(text).toMatch(/task_queue_depth\{state="pending"\} \d+/);
    // the fake Dapr refused the first publish: counted, and the event went out on a later attempt
    expect(text).toMatch(/task_events_total\{outcome="error"\} [1-9]/);
    expect(text).toMatch(/task_events_total\{outcome="published"\} [1-9]/);
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/v1\/tasks",status="201"\} \d+/);
    // errors are labelled by route template too, never by id
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/v1\/tasks\/\{id\}",status="404"\} \d+/);
    expect(text).not.toMatch(/route="\/v1\/tasks\/[0-9a-f]{8}-/);
  });
});

/** PUT with a streamed body through node:http (fetch would need duplex streaming); tolerates an early close. */
function rawPut(path: string, body: Readable, headers: Record<string, string>, partial = false): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${h.base}${path}`, { method: "PUT", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let json: any;
        try { json = JSON.parse(text); } catch { json = text; }
        resolve({ status: res.statusCode ?? 0, body: json });
      });
    });
    req.on("error", (e) => reject(e));
    body.on("error", reject);
    if (partial) {
      body.once("data", (c) => req.write(c));
      return;
    }
    body.pipe(req);
  });
}
