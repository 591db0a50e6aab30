import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Pool } from "pg";
import { bundlePath } from "../../../constructs/runtime-asset";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { migrate } from "../src/db";
import { TaskStore } from "../src/store";
import { eventually } from "./support/harness";

// Runs the real bundle (what the asset ships and `npm run start:task-orchestrator` starts) as worker processes.
let pg: TestPostgres;
let pool: Pool;
let store: TaskStore;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  const url = await pg.createDatabase();
  pool = new Pool({ connectionString: url });
  await migrate(pool);
  store = new TaskStore(pool, { retry: { baseDelayMs: 50, maxDelayMs: 1000, jitter: 0 }, defaultMaxRetries: 2, events: false });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-tasks-"));
  fs.writeFileSync(path.join(dir, "worker.json"), JSON.stringify({
    http: { host: "127.0.0.1", port: 0 },
    metrics: { port: 0 },
    database: { url },
    worker: { concurrency: 2, leaseSeconds: 1, heartbeatSeconds: 0.2, pollMs: 20, reclaimSeconds: 0.2, progressIntervalMs: 0 },
    retry: { baseDelayMs: 50, maxDelayMs: 500, jitter: 0 },
    shutdown: { delaySeconds: 0.2, drainSeconds: 10 },
  }));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await pool?.end();
  await pg?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function startWorker(): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null }>; logs: string[] } {
  const logs: string[] = [];
  const child = spawn(process.execPath, [bundlePath("task-orchestrator"), "--config", path.join(dir, "worker.json"), "--role", "worker"], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d) => logs.push(String(d)));
  child.stderr!.on("data", (d) => logs.push(String(d)));
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  return { child, exited, logs };
}

describe("task orchestrator worker process", () => {
  it("loses nothing when a worker is SIGKILLed mid-task: the lease expires and another worker finishes it", async () => {
    const items = Array.from({ length: 12 }, (_, i) => `item-${i}`);
    const { task } = await store.create({ type: "batch", parameters: { items, itemDelayMs: 150 }, maxRetries: 2 });
    const a = startWorker();
    await eventually(async () => {
      const t = await store.get(task.id);
      return t?.state === "running" && t.progress.percent > 0 ? t : undefined;
    }, 40000, `worker A to make progress (logs: ${a.logs.join("")})`);
    a.child.kill("SIGKILL");
    expect((await a.exited).signal).toBe("SIGKILL");
    expect((await store.get(task.id))!.state).toBe("running"); // nobody has noticed yet

    const b = startWorker();
    const done = await eventually(async () => {
      const t = await store.get(task.id);
      return t?.state === "completed" ? t : undefined;
    }, 40000, `worker B to finish the task (logs: ${b.logs.join("")})`);
    expect(done).toMatchObject({ attempts: 2, result: { processed: items.length } });

    // SIGTERM drains and exits cleanly
    b.child.kill("SIGTERM");
    expect(await b.exited).toEqual({ code: 0, signal: null });
    expect(b.logs.join("")).toContain("\"msg\":\"stopped\"");
  });

  it("drains on SIGTERM: the running task finishes in this process, then it exits 0", async () => {
    const items = Array.from({ length: 8 }, (_, i) => `item-${i}`);
    const { task } = await store.create({ type: "batch", parameters: { items, itemDelayMs: 100 }, maxRetries: 0 });
    const w = startWorker();
    await eventually(async () => (await store.get(task.id))?.state === "running", 40000, `the worker to start the task (logs: ${w.logs.join("")})`);
    w.child.kill("SIGTERM");
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(await store.get(task.id)).toMatchObject({ state: "completed", attempts: 1, result: { processed: items.length } });
    expect(w.logs.join("")).toMatch(/not ready; waiting before draining[\s\S]*draining[\s\S]*task completed[\s\S]*stopped/);
  });

  it("refuses a bad config file with the field names and exit code 2", async () => {
    fs.writeFileSync(path.join(dir, "bad.json"), JSON.stringify({ worker: { concurrency: 0, leaseSeconds: "long" }, surprise: true }));
    const child = spawn(process.execPath, [bundlePath("task-orchestrator"), "--config", path.join(dir, "bad.json")], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH } });
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    const code = await new Promise((r) => child.once("exit", r));
    expect(code).toBe(2);
    expect(err).toContain("worker.concurrency: must be >= 1");
    expect(err).toContain("worker.leaseSeconds: must be number");
    expect(err).toContain("surprise: is not allowed");
  });
});
