import { Pool } from "pg";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { migrate } from "../src/db";
import { jsonLogger } from "../src/logger";
import { TaskStore } from "../src/store";
import { TaskHandler, Worker } from "../src/worker";
import { eventually } from "./support/harness";

let pg: TestPostgres;
let pool: Pool;
let store: TaskStore;

beforeAll(async () => {
  pg = await startPostgres();
  pool = new Pool({ connectionString: await pg.createDatabase(), max: 10 });
  await migrate(pool);
  store = new TaskStore(pool, { retry: { baseDelayMs: 0, maxDelayMs: 0, jitter: 0 }, defaultMaxRetries: 3, events: false });
});

afterAll(async () => {
  await pool?.end();
  await pg?.stop();
});

const batch = { type: "batch" as const, parameters: { items: ["a"] } };
const expireLease = (id: string) => pool.query("UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [id]);

describe("leases", () => {
  it("gives each claim its own token, so a stale claim of the same worker can neither heartbeat nor finish the task", async () => {
    const { task } = await store.create(batch);
    const [first] = await store.claim("w1", 1, 60000);
    await expireLease(task.id);
    expect(await store.reclaimExpired()).toBe(1);
    const [second] = await store.claim("w1", 1, 60000);
    expect(second.task).toMatchObject({ id: task.id, attempts: 2 });
    expect(second.lease.owner).toBe(first.lease.owner);
    expect(second.lease.token).not.toBe(first.lease.token);
    expect(await store.heartbeat(first.lease, 60000)).toBe(false);
    expect(await store.progress(first.lease, 50, "stale", 60000)).toBe(false);
    expect(await store.fail(first.lease, "stale")).toBe(false);
    expect(await store.complete(first.lease, { by: "first" })).toBe(false);
    expect(await store.heartbeat(second.lease, 60000)).toBe(true);
    expect(await store.complete(second.lease, { by: "second" })).toBe(true);
    expect(await store.get(task.id)).toMatchObject({ state: "completed", attempts: 2, result: { by: "second" } });
  });

  it("stops the run that lost its lease when the same worker claims the task again, and never runs more than its concurrency", async () => {
    let running = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const aborted: number[] = [];
    // every run holds until released; it only stops early when its signal is aborted
    const handler: TaskHandler = async (ctx) => {
      running++;
      peak = Math.max(peak, running);
      try {
        await new Promise<void>((resolve, reject) => {
          releases.push(resolve);
          ctx.signal.addEventListener("abort", () => { aborted.push(ctx.task.attempts); reject(ctx.signal.reason); });
        });
        return { attempt: ctx.task.attempts };
      } finally {
        running--;
      }
    };
    const w = new Worker(store, { batch: handler }, { id: "same-worker", concurrency: 2, leaseMs: 60000, heartbeatMs: 100, pollMs: 10, reclaimMs: 50, progressIntervalMs: 0 }, jsonLogger("test", true));
    const { task: a } = await store.create(batch);
    w.start();
    try {
      await eventually(async () => running === 1, 10000, "the first run of A");
      // the lease runs out while the run goes on (as when heartbeats failed for a lease's length)
      await expireLease(a.id);
      await eventually(async () => (await store.get(a.id))?.attempts === 2, 10000, "the worker to claim A again");
      await eventually(async () => aborted.includes(1), 5000, "the stale run to be aborted");
      const { task: b } = await store.create(batch);
      const { task: c } = await store.create(batch);
      await eventually(async () => (await store.get(b.id))?.state === "running" || (await store.get(c.id))?.state === "running", 10000, "B or C to start");
      await new Promise((r) => setTimeout(r, 300));
      expect(peak).toBeLessThanOrEqual(2);
      expect(w.active).toBe(2);
      while ((await store.get(b.id))?.state !== "completed" || (await store.get(c.id))?.state !== "completed") {
        releases.splice(0).forEach((r) => r());
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(peak).toBeLessThanOrEqual(2);
      expect(await store.get(a.id)).toMatchObject({ state: "completed", attempts: 2, result: { attempt: 2 } });
    } finally {
      releases.splice(0).forEach((r) => r());
      await w.stop(1000);
    }
  });

  it("retries saving a result when the database connection drops, instead of recording the successful run as failed", async () => {
    const dropped = () => new Error("Connection terminated unexpectedly");
    const complete = store.complete.bind(store);
    const spy = jest.spyOn(store, "complete");
    const w = new Worker(store, { batch: async () => ({ done: true }) }, { id: "saver", concurrency: 1, leaseMs: 60000, heartbeatMs: 1000, pollMs: 10, reclaimMs: 1000, progressIntervalMs: 0 }, jsonLogger("test", true));
    try {
      // two drops, then the database is back: the result is saved, on the first attempt of a task with no retries
      spy.mockRejectedValueOnce(dropped()).mockRejectedValueOnce(dropped()).mockImplementation(complete);
      const { task: saved } = await store.create({ ...batch, maxRetries: 0 });
      w.start();
      await eventually(async () => (await store.get(saved.id))?.state === "completed", 10000, "the result to be saved");
      expect(await store.get(saved.id)).toMatchObject({ state: "completed", attempts: 1, result: { done: true } });
      // a connection that never comes back: after a few tries the run is recorded as failed, as before
      spy.mockReset().mockRejectedValue(dropped());
      const { task: lostTask } = await store.create({ ...batch, maxRetries: 0 });
      await eventually(async () => (await store.get(lostTask.id))?.state === "failed", 15000, "the run to be recorded as failed");
      expect(spy.mock.calls.filter(([lease]) => lease.taskId === lostTask.id)).toHaveLength(5);
    } finally {
      spy.mockRestore();
      await w.stop(1000);
    }
  });
});
