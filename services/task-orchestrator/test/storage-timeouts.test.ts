import * as net from "node:net";
import { AddressInfo } from "node:net";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { eventually, startApp, testConfig } from "./support/harness";
import { expectConforms } from "./support/openapi";

// An object store that accepts connections, reads every request and never answers.
let pg: TestPostgres;
let hung: net.Server;
let endpoint: string;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
  pg = await startPostgres();
  hung = net.createServer((s) => { sockets.add(s); s.on("data", () => undefined); s.on("error", () => undefined); s.on("close", () => sockets.delete(s)); });
  await new Promise<void>((r) => hung.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => hung?.close(r));
  await pg?.stop();
});

/** An app on the silent store; `timeoutMs` sets every storage timeout (default: the config's). */
async function app(timeoutMs?: number) {
  const timeouts = timeoutMs ? { connectTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs, socketTimeoutMs: timeoutMs } : {};
  return startApp(testConfig(await pg.createDatabase(), {
    storage: { bucket: "tasks", endpoint, ...timeouts },
    worker: { concurrency: 1 },
    retry: { maxRetries: 0 },
  }));
}

describe("an object store that never answers", () => {
  it("times uploads and report tasks out instead of waiting forever", async () => {
    const h = await app(300);
    try {
      const t = await h.call("POST", "/v1/tasks", { type: "import", parameters: { file: "d.csv", format: "csv", target: "t" } });
      const started = Date.now();
      const res = await fetch(`${h.base}/v1/tasks/${t.body.id}/files/d.csv`, { method: "PUT", headers: { "content-type": "text/csv" }, body: "a,b\n", signal: AbortSignal.timeout(20000) });
      const body = await res.json();
      expect(res.status).toBe(503);
      expectConforms("PUT", "/v1/tasks/{id}/files/{name}", 503, body);
      expect(body).toMatchObject({ error: "storage_unavailable", retryAfter: 5 });
      expect(Date.now() - started).toBeLessThan(15000);
      const r = await h.call("POST", "/v1/tasks", { type: "report", parameters: { name: "r", from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z" } });
      const failed = await eventually(async () => {
        const cur = (await h.call("GET", `/v1/tasks/${r.body.id}`)).body;
        return cur.state === "failed" ? cur : undefined;
      }, 20000, "the report task to fail");
      expect(failed.error).toMatch(/time/i);
    } finally {
      await h.app.stop();
    }
  });

  it("frees the worker slot promptly when a task waiting on it is cancelled", async () => {
    const h = await app(); // timeouts far longer than this test
    try {
      const r = await h.call("POST", "/v1/tasks", { type: "report", parameters: { name: "r", from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z" } });
      await eventually(async () => (await h.call("GET", `/v1/tasks/${r.body.id}`)).body.state === "running", 10000, "the report task to start");
      await new Promise((res) => setTimeout(res, 300)); // it now waits on the object store
      expect((await h.call("POST", `/v1/tasks/${r.body.id}/cancel`)).status).toBe(200);
      await eventually(async () => h.app.worker!.active === 0, 5000, "the cancelled run to free its slot");
      // concurrency is 1: the next task only runs once the slot is free
      const b = await h.call("POST", "/v1/tasks", { type: "batch", parameters: { items: ["x"] } });
      await eventually(async () => (await h.call("GET", `/v1/tasks/${b.body.id}`)).body.state === "completed", 5000, "the next task to run");
    } finally {
      await h.app.stop();
    }
  });
});
