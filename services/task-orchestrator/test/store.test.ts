import { Pool } from "pg";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { ILLEGAL_TRANSITION_SQLSTATE, migrate } from "../src/db";
import { IllegalTransitionError, TASK_STATES, TaskState, TRANSITIONS } from "../src/lifecycle";
import { jsonLogger } from "../src/logger";
import { TaskStore } from "../src/store";
import { TaskHandler, Worker } from "../src/worker";
import { eventually } from "./support/harness";

let pg: TestPostgres;
let pool: Pool;
let store: TaskStore;
const transitions: string[] = [];
const log = jsonLogger("test", true);

beforeAll(async () => {
  pg = await startPostgres();
  pool = new Pool({ connectionString: await pg.createDatabase(), max: 20 });
  pool.on("error", () => undefined); // idle clients killed by the fault test
  await migrate(pool);
  await migrate(pool); // idempotent: replicas run it at every start
  store = new TaskStore(pool, {
    retry: { baseDelayMs: 200, maxDelayMs: 5000, jitter: 0 },
    defaultMaxRetries: 2,
    events: true,
    onTransition: (t, from, to) => transitions.push(`${t.id}:${from}->${to}`),
  });
});

afterAll(async () => {
  await pool?.end();
  await pg?.stop();
});

const batch = (items = ["a"]) => ({ type: "batch" as const, parameters: { items } });
const worker = (handlers: Record<string, TaskHandler>, id: string, extra: Partial<ConstructorParameters<typeof Worker>[2]> = {}) =>
  new Worker(store, handlers, { id, concurrency: 2, leaseMs: 1000, heartbeatMs: 100, pollMs: 10, reclaimMs: 100, progressIntervalMs: 0, ...extra }, log);

async function stateOf(id: string): Promise<TaskState> {
  return (await store.get(id))!.state;
}

describe("TaskStore", () => {
  it("creates tasks pending and walks pending -> running -> completed, storing the result", async () => {
    const { task } = await store.create(batch());
    expect(task.state).toBe("pending");
    const [{ task: claimed, lease }] = await store.claim("w1", 100, 10000);
    expect(claimed).toMatchObject({ id: task.id, state: "running", attempts: 1 });
    expect(await store.progress(lease, 40, "half way", 10000)).toBe(true);
    expect((await store.get(task.id))!.progress).toEqual({ percent: 40, message: "half way" });
    expect(await store.complete({ ...lease, owner: "w2" }, { no: 1 })).toBe(false); // not the lease holder
    expect(await store.complete(lease, { rows: 3 })).toBe(true);
    const done = (await store.get(task.id))!;
    expect(done).toMatchObject({ state: "completed", result: { rows: 3 }, progress: { percent: 100 } });
    expect(done.finishedAt).not.toBeNull();
    expect(transitions.filter((t) => t.startsWith(task.id))).toEqual([`${task.id}:pending->running`, `${task.id}:running->completed`]);
  });

  it("retries a failed run with exponential backoff, then fails for good after max retries", async () => {
    const { task } = await store.create({ ...batch(), maxRetries: 2 });
    const runAfter: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [{ task: t, lease }] = await eventually(async () => {
        const c = await store.claim("w1", 1, 10000);
        return c.length ? c : undefined;
      }, 10000, `attempt ${attempt} to become due`);
      expect(t).toMatchObject({ id: task.id, attempts: attempt });
      const before = Date.now();
      expect(await store.fail(lease, `boom ${attempt}`)).toBe(true);
      const after = (await store.get(task.id))!;
      if (attempt < 3) {
        expect(after.state).toBe("retrying");
        const delay = Date.parse(after.runAfter) - before;
        runAfter.push(delay);
        // 200ms then 400ms (clock skew between node and the server tolerated)
        expect(delay).toBeGreaterThan(200 * 2 ** (attempt - 1) - 150);
        expect(delay).toBeLessThan(200 * 2 ** (attempt - 1) + 150);
        expect(await store.claim("w1", 10, 10000)).toEqual([]); // not due yet
      } else {
        expect(after).toMatchObject({ state: "failed", error: "boom 3", attempts: 3 });
      }
    }
    expect(transitions.filter((t) => t.startsWith(task.id)).map((t) => t.split(":")[1])).toEqual([
      "pending->running", "running->failed", "failed->retrying",
      "retrying->running", "running->failed", "failed->retrying",
      "retrying->running", "running->failed",
    ]);
    // an explicit retry gives one more run
    expect((await store.retry(task.id)).state).toBe("retrying");
    await expect(store.retry(task.id)).rejects.toThrow(IllegalTransitionError);
  });

  it("refuses every transition the table does not allow, in the database itself", async () => {
    const legal = (from: TaskState) => TRANSITIONS[from];
    let refused = 0;
    for (const from of TASK_STATES) {
      const { task } = await store.create(batch());
      // force the row into `from` through legal steps
      const path: Record<TaskState, TaskState[]> = {
        pending: [], running: ["running"], completed: ["running", "completed"], failed: ["running", "failed"],
        retrying: ["running", "failed", "retrying"], cancelled: ["cancelled"],
      };
      for (const s of path[from]) await pool.query("UPDATE tasks SET state = $2 WHERE id = $1", [task.id, s]);
      for (const to of TASK_STATES) {
        if (to === from || legal(from).includes(to)) continue;
        const err = await pool.query("UPDATE tasks SET state = $2 WHERE id = $1", [task.id, to]).then(() => undefined, (e) => e);
        expect(err).toMatchObject({ code: ILLEGAL_TRANSITION_SQLSTATE });
        expect(err.message).toContain(`illegal transition ${from} -> ${to}`);
        refused++;
      }
    }
    expect(refused).toBe(36 - 8 - 6);
    const err = await pool.query("INSERT INTO tasks (id, type, state, parameters, max_retries) VALUES (gen_random_uuid(), 'batch', 'running', '{}', 0)").then(() => undefined, (e) => e);
    expect(err?.message).toContain("a task starts pending");
  });

  it("cancels waiting tasks at once and refuses to cancel finished ones", async () => {
    const { task } = await store.create(batch());
    expect((await store.cancel(task.id)).state).toBe("cancelled");
    await expect(store.cancel(task.id)).rejects.toThrow("illegal transition cancelled -> cancelled");
    const { task: t2 } = await store.create(batch());
    const claims = await store.claim("w1", 100, 10000);
    await store.complete(claims.find((c) => c.task.id === t2.id)!.lease, null);
    await expect(store.cancel(t2.id)).rejects.toThrow(IllegalTransitionError);
  });

  it("stops a running task when it is cancelled and discards its result", async () => {
    let observedAbort = false;
    const w = worker({
      batch: async (ctx) => {
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
        observedAbort = true;
        return { late: true };
      },
    }, "cancel-worker");
    const { task } = await store.create(batch());
    w.start();
    await eventually(async () => (await stateOf(task.id)) === "running");
    expect((await store.cancel(task.id)).state).toBe("cancelled");
    await eventually(async () => observedAbort, 5000, "the handler to see the abort");
    await w.stop(1000);
    expect(await store.get(task.id)).toMatchObject({ state: "cancelled", result: null });
  });

  it("reclaims the task of a worker whose lease expired and runs it elsewhere", async () => {
    const { task } = await store.create({ ...batch(), maxRetries: 1 });
    // a worker claims the task and then goes silent (no heartbeats), as if killed
    const deadLease = (await store.claim("dead-worker", 100, 300)).find((c) => c.task.id === task.id)!.lease;
    expect(await stateOf(task.id)).toBe("running");
    const ran: string[] = [];
    const w = worker({ batch: async (ctx) => { ran.push(ctx.task.id); return { by: "alive" }; } }, "alive-worker");
    w.start();
    const done = await eventually(async () => {
      const t = await store.get(task.id);
      return t?.state === "completed" ? t : undefined;
    }, 10000, "the reclaimed task to complete");
    await w.stop(1000);
    expect(done).toMatchObject({ attempts: 2, result: { by: "alive" } });
    expect(ran).toEqual([task.id]);
    expect(await store.complete(deadLease, { by: "dead" })).toBe(false);
    expect(transitions.filter((t) => t.startsWith(task.id)).map((t) => t.split(":")[1])).toEqual([
      "pending->running", "running->failed", "failed->retrying", "retrying->running", "running->completed",
    ]);
  });

  it("lets N workers run M tasks so that every task completes exactly once", async () => {
    await pool.query("UPDATE tasks SET state = 'cancelled' WHERE state IN ('pending', 'retrying')");
    const M = 200;
    const runs = new Map<string, number>();
    const handler: TaskHandler = async (ctx) => {
      runs.set(ctx.task.id, (runs.get(ctx.task.id) ?? 0) + 1);
      await new Promise((r) => setImmediate(r));
      return { ok: true };
    };
    const ids = new Set<string>();
    for (let i = 0; i < M; i++) ids.add((await store.create(batch([String(i)]))).task.id);
    const workers = Array.from({ length: 6 }, (_, i) => worker({ batch: handler }, `w${i}`, { concurrency: 4 }));
    workers.forEach((w) => w.start());
    await eventually(async () => {
      const r = await pool.query("SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) AND state = 'completed'", [[...ids]]);
      return r.rows[0].n === M;
    }, 30000, "every task to complete");
    await Promise.all(workers.map((w) => w.stop(1000)));
    expect(runs.size).toBe(M);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    const attempts = await pool.query("SELECT max(attempts)::int AS m FROM tasks WHERE id = ANY($1::uuid[])", [[...ids]]);
    expect(attempts.rows[0].m).toBe(1);
  });

  it("claims higher priority first, then the longest waiting", async () => {
    await pool.query("UPDATE tasks SET state = 'cancelled' WHERE state IN ('pending', 'retrying')");
    const low = (await store.create({ ...batch(), priority: -5 })).task;
    const first = (await store.create(batch())).task;
    const second = (await store.create(batch())).task;
    const high = (await store.create({ ...batch(), priority: 10 })).task;
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await store.claim("w1", 1, 10000))[0].task.id);
    expect(order).toEqual([high.id, first.id, second.id, low.id]);
  });

  it("keeps working when its database connections are killed (failover, pooler restart)", async () => {
    const w = worker({ batch: async () => ({ ok: true }) }, "survivor");
    w.start();
    const a = (await store.create(batch())).task;
    await eventually(async () => (await stateOf(a.id)) === "completed");
    const admin = new Pool({ connectionString: pg.url, max: 1 });
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname <> 'postgres' AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
    await admin.end();
    const b = await eventually(async () => (await store.create(batch())).task, 10000, "the store to reconnect");
    await eventually(async () => (await stateOf(b.id)) === "completed", 15000, "the worker to recover");
    await w.stop(1000);
  });

  it("returns the first task for a repeated idempotency key", async () => {
    const a = await store.create({ ...batch(), idempotencyKey: "k-1" });
    const b = await store.create({ ...batch(["other"]), idempotencyKey: "k-1" });
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.task.id).toBe(a.task.id);
  });

  it("writes a status event to the outbox in the transaction of each change", async () => {
    const { task } = await store.create(batch());
    await store.cancel(task.id);
    const r = await pool.query("SELECT type, data FROM task_outbox WHERE task_id = $1 ORDER BY id", [task.id]);
    expect(r.rows.map((x) => x.type)).toEqual(["task.created", "task.cancelled"]);
    expect(r.rows[1].data).toMatchObject({ id: task.id, state: "cancelled", from: "pending" });
  });

  it("records a failure whose message jsonb cannot hold as written (a pair cut at the length limit, a lone surrogate)", async () => {
    for (const message of ["x".repeat(1999) + "\u{1F600}", "bad input \ud800 here"]) {
      const { task } = await store.create({ ...batch(), maxRetries: 0 });
      const claim = (await store.claim("w-surrogate", 100, 10000)).find((c) => c.task.id === task.id)!;
      await expect(store.fail(claim.lease, message)).resolves.toBe(true);
      const failed = await store.get(task.id);
      expect(failed).toMatchObject({ state: "failed" });
      expect(failed!.error!.startsWith(message.slice(0, 9))).toBe(true);
      const r = await pool.query("SELECT data FROM task_outbox WHERE task_id = $1 AND type = 'task.failed'", [task.id]);
      expect(r.rows.map((x) => x.data.error)).toEqual([failed!.error]);
    }
  });
});
