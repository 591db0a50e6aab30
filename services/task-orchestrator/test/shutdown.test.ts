import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Pool } from "pg";
import { bundlePath } from "../../../constructs/runtime-asset";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { migrate } from "../src/db";
import { TaskStore } from "../src/store";
import { eventually, startApp, testConfig } from "./support/harness";

// Stopping and starting the real process: SIGTERM bounded by drainSeconds, start failures reported and exit 1.
let pg: TestPostgres;
let url: string;
let pool: Pool;
let store: TaskStore;
let dir: string;
let hung: net.Server;
const sockets = new Set<net.Socket>();
const children: ChildProcess[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase();
  pool = new Pool({ connectionString: url });
  await migrate(pool);
  store = new TaskStore(pool, { retry: { baseDelayMs: 50, maxDelayMs: 1000, jitter: 0 }, defaultMaxRetries: 0, events: false });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-tasks-"));
  // an object store that accepts connections and never answers
  hung = net.createServer((s) => { sockets.add(s); s.on("data", () => undefined); s.on("error", () => undefined); s.on("close", () => sockets.delete(s)); });
  await new Promise<void>((r) => hung.listen(0, "127.0.0.1", r));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const s of sockets) s.destroy();
  await new Promise((r) => hung?.close(r));
  await pool?.end();
  await pg?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function run(config: Record<string, unknown>) {
  const file = path.join(dir, `config-${children.length}.json`);
  fs.writeFileSync(file, JSON.stringify({ database: { url }, metrics: { port: 0 }, events: { enabled: false }, ...config }));
  const child = spawn(process.execPath, [bundlePath("task-orchestrator"), "--config", file], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
  });
  let logs = "";
  child.stdout!.on("data", (d) => (logs += d));
  child.stderr!.on("data", (d) => (logs += d));
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  return { child, exited, logs: () => logs };
}

describe("shutdown and start", () => {
  it("stops within drainSeconds even when a handler ignores the abort", async () => {
    const h = await startApp(testConfig(url, { worker: { concurrency: 1 }, shutdown: { delaySeconds: 0, drainSeconds: 0.5 } }), {
      handlers: { batch: () => new Promise(() => undefined) },
    });
    const { task } = await store.create({ type: "batch", parameters: { items: ["x"] } });
    await eventually(async () => (await store.get(task.id))?.state === "running", 10000, "the task to start");
    const started = Date.now();
    const stopped = await Promise.race([h.app.stop().then(() => true), new Promise((r) => setTimeout(() => r(false), 10000))]);
    expect(stopped).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await store.get(task.id))?.state).toBe("running"); // left to lease expiry
  });

  it("exits after drainSeconds on SIGTERM while a report task waits on an object store that never answers", async () => {
    const endpoint = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    const p = run({
      http: { host: "127.0.0.1", port: 0 },
      storage: { bucket: "tasks", endpoint }, // its timeouts (30 s and more) outlast this test
      worker: { concurrency: 1, leaseSeconds: 5, heartbeatSeconds: 1, pollMs: 20 },
      shutdown: { delaySeconds: 0, drainSeconds: 1 },
    });
    const { task } = await store.create({ type: "report", parameters: { name: "r", from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z" } });
    await eventually(async () => (await store.get(task.id))?.state === "running", 20000, `the report task to start (logs: ${p.logs()})`);
    await eventually(async () => sockets.size > 0, 10000, "the task to reach the object store");
    const sent = Date.now();
    p.child.kill("SIGTERM");
    const exit = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r("still running"), 15000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - sent).toBeLessThan(10000);
    expect(p.logs()).toContain('"msg":"stopped"');
  });

  it("reports a port in use as a start failure naming the reason and exits 1", async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    try {
      const p = run({ http: { host: "127.0.0.1", port: (taken.address() as AddressInfo).port }, worker: { enabled: false } });
      const exit = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r("still running"), 20000))]);
      expect(exit).toEqual({ code: 1, signal: null });
      const failure = p.logs().split("\n").filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return { raw: l }; } });
      expect(failure).toContainEqual(expect.objectContaining({ level: "error", msg: "start failed", code: "EADDRINUSE", reason: expect.stringContaining("EADDRINUSE") }));
      expect(p.logs()).not.toContain("Unhandled 'error' event");
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});
