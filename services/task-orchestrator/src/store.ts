import { randomUUID } from "node:crypto";
import { Pool, PoolClient } from "pg";
import { ILLEGAL_TRANSITION_SQLSTATE, inTransaction } from "./db";
import { assertTransition, backoffMs, IllegalTransitionError, TaskState } from "./lifecycle";
import { TaskType, UPLOAD_PARAMETERS } from "./task-types";

/** A task as the API returns it. */
export interface Task {
  readonly id: string;
  readonly type: TaskType;
  readonly state: TaskState;
  readonly parameters: Record<string, unknown>;
  readonly priority: number;
  readonly attempts: number;
  readonly maxRetries: number;
  readonly progress: { readonly percent: number; readonly message: string | null };
  readonly result: unknown;
  readonly error: string | null;
  readonly awaitingFile: string | null;
  readonly runAfter: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

/** A file uploaded for a task. */
export interface TaskFile {
  readonly name: string;
  readonly key: string;
  readonly size: number;
  readonly contentType: string;
  readonly sha256: string;
  readonly createdAt: string;
}

/**
 * One claim of a task: the worker that holds it and a token unique to this claim. Worker updates carry the token, so
 * a run whose lease expired can never touch the task again, not even when the same worker claimed it anew.
 */
export interface Lease {
  readonly taskId: string;
  readonly owner: string;
  readonly token: string;
}

/** A claimed task and the lease of this run. */
export interface Claim {
  readonly task: Task;
  readonly lease: Lease;
}

/** Retry policy: retries of a failed run wait base * 2^(n-1), at most maxDelayMs, with +-jitter. */
export interface RetryPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
}

/** Called after a committed state change (metrics hang off it). */
export type TransitionObserver = (task: Task, from: TaskState, to: TaskState) => void;

/** Options of the store. */
export interface TaskStoreOptions {
  readonly retry: RetryPolicy;
  /** Retries of a task that does not name its own. */
  readonly defaultMaxRetries: number;
  /** Write status events to the outbox (delivered through Dapr by the EventRelay). */
  readonly events: boolean;
  readonly onTransition?: TransitionObserver;
}

/** A task that does not exist. */
export class TaskNotFoundError extends Error {
  constructor(readonly taskId: string) {
    super(`task ${taskId} does not exist`);
    this.name = "TaskNotFoundError";
  }
}

/** A request that conflicts with the task's state without being a transition (e.g. an upload to a running task). */
export class TaskConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TaskConflictError";
  }
}

/** What a create request carries. */
export interface CreateTask {
  readonly type: TaskType;
  readonly parameters: Record<string, unknown>;
  readonly priority?: number;
  readonly maxRetries?: number;
  readonly idempotencyKey?: string;
}

/** Filters and paging of a list request. */
export interface ListTasks {
  readonly type?: TaskType;
  readonly state?: TaskState;
  readonly limit: number;
  readonly cursor?: string;
}

type Row = Record<string, any>;

// text columns cannot hold NUL; messages come from handlers and libraries, so they are cleaned rather than refused
const withoutNul = (s: string) => s.replace(/\u0000/g, "");

const iso = (v: Date | null | undefined): string | null => (v ? new Date(v).toISOString() : null);

function toTask(r: Row): Task {
  return {
    id: r.id,
    type: r.type,
    state: r.state,
    parameters: r.parameters,
    priority: r.priority,
    attempts: r.attempts,
    maxRetries: r.max_retries,
    progress: { percent: r.progress_percent, message: r.progress_message ?? null },
    result: r.result ?? null,
    error: r.error ?? null,
    awaitingFile: r.awaiting_file ?? null,
    runAfter: iso(r.run_after)!,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}

const MAX_SEQ = 2n ** 63n - 1n;

/** Cursor of a list page: the last row's sequence number, opaque to clients. */
export function encodeCursor(seq: string): string {
  return Buffer.from(`s:${seq}`).toString("base64url");
}

/** The sequence number in a cursor, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): string | undefined {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const m = /^s:([0-9]{1,19})$/.exec(text);
  // seq is a bigint column: a larger number is not one we handed out, and PostgreSQL would refuse it
  return m && BigInt(m[1]) <= MAX_SEQ ? m[1] : undefined;
}

/** The WHERE clause of every worker update ($1 task id, $2 owner, $3 lease token): only the current claim matches. */
const HELD = "id = $1 AND lease_owner = $2 AND lease_token = $3 AND state = 'running'";

function rethrowTransition(e: unknown, id: string, from: TaskState, to: TaskState): never {
  if ((e as { code?: string }).code === ILLEGAL_TRANSITION_SQLSTATE) throw new IllegalTransitionError(id, from, to);
  throw e;
}

/**
 * The durable queue and the task records in PostgreSQL. Every state change goes through the lifecycle table
 * (checked here, and again by the database trigger); worker updates are guarded by the lease, so a worker that lost
 * its task (cancelled, or reclaimed after its lease expired) can never overwrite it.
 */
export class TaskStore {
  constructor(readonly pool: Pool, private readonly options: TaskStoreOptions) {}

  private changed(task: Task, from: TaskState, to: TaskState): void {
    try {
      this.options.onTransition?.(task, from, to);
    } catch {
      // an observer never breaks a committed change
    }
  }

  private async emit(client: PoolClient, type: string, task: Task, extra: Record<string, unknown> = {}): Promise<void> {
    if (!this.options.events) return;
    const data = { id: task.id, type: task.type, state: task.state, attempts: task.attempts, ...extra };
    await client.query("INSERT INTO task_outbox (event_id, type, task_id, data) VALUES ($1, $2, $3, $4)", [randomUUID(), type, task.id, data]);
  }

  /** Creates a pending task; with an idempotency key a repeated request returns the first task (`created` false). */
  async create(req: CreateTask): Promise<{ task: Task; created: boolean }> {
    const awaitingParam = UPLOAD_PARAMETERS[req.type];
    const awaiting = awaitingParam ? String(req.parameters[awaitingParam]) : null;
    return inTransaction(this.pool, async (c) => {
      const r = await c.query(
        `INSERT INTO tasks (id, type, state, parameters, priority, max_retries, awaiting_file, idempotency_key)
         VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
        [randomUUID(), req.type, req.parameters, req.priority ?? 0, req.maxRetries ?? this.options.defaultMaxRetries, awaiting, req.idempotencyKey ?? null],
      );
      if (r.rowCount === 0) {
        const existing = await c.query("SELECT * FROM tasks WHERE idempotency_key = $1", [req.idempotencyKey]);
        return { task: toTask(existing.rows[0]), created: false };
      }
      const task = toTask(r.rows[0]);
      await this.emit(c, "task.created", task, { parameters: task.parameters });
      return { task, created: true };
    });
  }

  /** The task, or undefined. */
  async get(id: string): Promise<Task | undefined> {
    const r = await this.pool.query("SELECT * FROM tasks WHERE id = $1", [id]);
    return r.rows[0] ? toTask(r.rows[0]) : undefined;
  }

  /** A page of tasks, newest first, and the cursor of the next page (null on the last). */
  async list(q: ListTasks): Promise<{ items: Task[]; nextCursor: string | null }> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.type) { args.push(q.type); where.push(`type = $${args.length}`); }
    if (q.state) { args.push(q.state); where.push(`state = $${args.length}`); }
    if (q.cursor) { args.push(q.cursor); where.push(`seq < $${args.length}`); }
    args.push(q.limit + 1);
    const r = await this.pool.query(
      `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT $${args.length}`,
      args,
    );
    const rows = r.rows.slice(0, q.limit);
    const more = r.rows.length > q.limit;
    return { items: rows.map(toTask), nextCursor: more ? encodeCursor(String(rows[rows.length - 1].seq)) : null };
  }

  /** Cancels a waiting or running task; a running task's worker loses its lease and stops at its next heartbeat. */
  async cancel(id: string): Promise<Task> {
    const { task, from } = await inTransaction(this.pool, async (c) => {
      const cur = await c.query("SELECT * FROM tasks WHERE id = $1 FOR UPDATE", [id]);
      if (!cur.rows[0]) throw new TaskNotFoundError(id);
      const from = cur.rows[0].state as TaskState;
      assertTransition(id, from, "cancelled");
      const r = await c
        .query(
          `UPDATE tasks SET state = 'cancelled', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now()
           WHERE id = $1 RETURNING *`,
          [id],
        )
        .catch((e) => rethrowTransition(e, id, from, "cancelled"));
      const task = toTask(r.rows[0]);
      await this.emit(c, "task.cancelled", task, { from });
      return { task, from };
    });
    this.changed(task, from, "cancelled");
    return task;
  }

  /** Retries a failed task once more (failed -> retrying, due now). */
  async retry(id: string): Promise<Task> {
    const task = await inTransaction(this.pool, async (c) => {
      const cur = await c.query("SELECT * FROM tasks WHERE id = $1 FOR UPDATE", [id]);
      if (!cur.rows[0]) throw new TaskNotFoundError(id);
      const from = cur.rows[0].state as TaskState;
      assertTransition(id, from, "retrying");
      const r = await c
        .query(
          `UPDATE tasks SET state = 'retrying', run_after = now(), max_retries = GREATEST(max_retries, attempts), finished_at = NULL, updated_at = now()
           WHERE id = $1 RETURNING *`,
          [id],
        )
        .catch((e) => rethrowTransition(e, id, from, "retrying"));
      return toTask(r.rows[0]);
    });
    this.changed(task, "failed", "retrying");
    return task;
  }

  /**
   * Claims up to `n` due tasks for `owner` (pending or retrying -> running) without waiting on rows others hold; each
   * claim gets a new lease token.
   */
  async claim(owner: string, n: number, leaseMs: number): Promise<Claim[]> {
    const r = await this.pool.query(
      `WITH next AS (
         SELECT id, state AS previous FROM tasks
         WHERE state IN ('pending', 'retrying') AND run_after <= now() AND awaiting_file IS NULL
         ORDER BY priority DESC, run_after, seq
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       UPDATE tasks t SET state = 'running', attempts = t.attempts + 1, lease_owner = $1, lease_token = gen_random_uuid(),
         lease_expires_at = now() + make_interval(secs => $3::double precision / 1000), started_at = now(), finished_at = NULL,
         error = NULL, progress_percent = 0, progress_message = NULL, updated_at = now()
       FROM next WHERE t.id = next.id
       RETURNING t.*, next.previous`,
      [owner, n, leaseMs],
    );
    const claims = r.rows.map((row) => ({ task: toTask(row), lease: { taskId: row.id, owner, token: row.lease_token } }));
    r.rows.forEach((row, i) => this.changed(claims[i].task, row.previous, "running"));
    return claims;
  }

  /** Extends the lease; false when this claim no longer holds the task (cancelled, or reclaimed and claimed again). */
  async heartbeat(lease: Lease, leaseMs: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE tasks SET lease_expires_at = now() + make_interval(secs => $4::double precision / 1000)
       WHERE ${HELD}`,
      [lease.taskId, lease.owner, lease.token, leaseMs],
    );
    return r.rowCount === 1;
  }

  /** Records progress (and extends the lease); false when this claim no longer holds the task. */
  async progress(lease: Lease, percent: number, message: string | null, leaseMs: number): Promise<boolean> {
    const pct = Math.max(0, Math.min(100, Math.round(percent)));
    return inTransaction(this.pool, async (c) => {
      const r = await c.query(
        `UPDATE tasks SET progress_percent = $4, progress_message = $5, updated_at = now(),
           lease_expires_at = now() + make_interval(secs => $6::double precision / 1000)
         WHERE ${HELD} RETURNING *`,
        [lease.taskId, lease.owner, lease.token, pct, message === null ? null : withoutNul(message).slice(0, 500), leaseMs],
      );
      if (r.rowCount !== 1) return false;
      const task = toTask(r.rows[0]);
      await this.emit(c, "task.progress", task, { percent: pct, message: task.progress.message });
      return true;
    });
  }

  /** Stores the result (running -> completed); false when this claim no longer holds the task. */
  async complete(lease: Lease, result: unknown): Promise<boolean> {
    const id = lease.taskId;
    // one statement (one round trip), the outbox row included: this is the hottest path of the queue
    const r = await this.pool
      .query(
        `WITH t AS (
           UPDATE tasks SET state = 'completed', result = $4, progress_percent = 100, lease_owner = NULL, lease_token = NULL,
             lease_expires_at = NULL, finished_at = now(), updated_at = now()
           WHERE ${HELD} RETURNING *
         ), o AS (
           INSERT INTO task_outbox (event_id, type, task_id, data)
           SELECT $5, 'task.completed', t.id, jsonb_build_object('id', t.id, 'type', t.type, 'state', t.state, 'attempts', t.attempts, 'result', t.result)
           FROM t WHERE $6
         )
         SELECT * FROM t`,
        [id, lease.owner, lease.token, JSON.stringify(result ?? null), randomUUID(), this.options.events],
      )
      .catch((e) => rethrowTransition(e, id, "running", "completed"));
    if (r.rowCount !== 1) return false;
    this.changed(toTask(r.rows[0]), "running", "completed");
    return true;
  }

  /**
   * Records a failed run (running -> failed) and, while retries remain, schedules the next one with exponential
   * backoff (failed -> retrying). False when this claim no longer holds the task.
   */
  async fail(lease: Lease, error: string): Promise<boolean> {
    const changes = await inTransaction(this.pool, async (c) => {
      const cur = await c.query(`SELECT * FROM tasks WHERE ${HELD} FOR UPDATE`, [lease.taskId, lease.owner, lease.token]);
      if (!cur.rows[0]) return undefined;
      return this.failLocked(c, cur.rows[0], error);
    });
    if (!changes) return false;
    for (const [task, from, to] of changes) this.changed(task, from, to);
    return true;
  }

  private async failLocked(c: PoolClient, row: Row, error: string): Promise<Array<[Task, TaskState, TaskState]>> {
    const id = row.id as string;
    const msg = withoutNul(error).slice(0, 2000);
    const failed = await c
      .query(
        `UPDATE tasks SET state = 'failed', error = $2, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, msg],
      )
      .catch((e) => rethrowTransition(e, id, row.state, "failed"));
    const failedTask = toTask(failed.rows[0]);
    const changes: Array<[Task, TaskState, TaskState]> = [[failedTask, "running", "failed"]];
    // the event carries the message as stored: the text column took a surrogate without its pair (one cut in two by
    // the length limit, or a handler's) as U+FFFD, which jsonb would refuse, losing the failure with its transaction
    const stored = failedTask.error;
    const willRetry = failedTask.attempts <= failedTask.maxRetries;
    if (!willRetry) {
      await this.emit(c, "task.failed", failedTask, { error: stored, willRetry: false });
      return changes;
    }
    const delay = backoffMs(failedTask.attempts, this.options.retry);
    const retrying = await c
      .query(
        `UPDATE tasks SET state = 'retrying', run_after = now() + make_interval(secs => $2::double precision / 1000), finished_at = NULL, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, delay],
      )
      .catch((e) => rethrowTransition(e, id, "failed", "retrying"));
    const task = toTask(retrying.rows[0]);
    await this.emit(c, "task.failed", failedTask, { error: stored, willRetry: true, retryAt: task.runAfter });
    changes.push([task, "failed", "retrying"]);
    return changes;
  }

  /** Fails every running task whose lease expired (its worker died or hung), so that it is retried. */
  async reclaimExpired(limit = 100): Promise<number> {
    const changes = await inTransaction(this.pool, async (c) => {
      const r = await c.query(
        `SELECT * FROM tasks WHERE state = 'running' AND lease_expires_at < now() ORDER BY lease_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      const all: Array<[Task, TaskState, TaskState]> = [];
      for (const row of r.rows) all.push(...(await this.failLocked(c, row, `lease of worker ${row.lease_owner} expired`)));
      return all;
    });
    for (const [task, from, to] of changes) this.changed(task, from, to);
    return changes.filter(([, , to]) => to === "failed").length;
  }

  /** Checks that a file may be added: the task exists and still waits to run. */
  async assertAcceptsFiles(id: string): Promise<Task> {
    const task = await this.get(id);
    if (!task) throw new TaskNotFoundError(id);
    if (task.state !== "pending" && task.state !== "retrying") {
      throw new TaskConflictError(`task ${id} is ${task.state}; files are inputs and can only be added while the task waits (pending or retrying)`);
    }
    return task;
  }

  /**
   * Records an uploaded file; a task waiting for this file becomes due. `publish` (which puts the object in place)
   * runs after the record is written and before it is committed, while the task's row is locked: a task that no
   * longer accepts files refuses before anything is published, a failed publish records nothing, uploads of one task
   * take turns (so the last record and the last object are the same upload), and no worker can claim the task until
   * both are there.
   */
  async addFile(id: string, file: Omit<TaskFile, "createdAt">, publish: () => Promise<void> = async () => undefined): Promise<TaskFile> {
    return inTransaction(this.pool, async (c) => {
      const cur = await c.query("SELECT state FROM tasks WHERE id = $1 FOR UPDATE", [id]);
      if (!cur.rows[0]) throw new TaskNotFoundError(id);
      if (cur.rows[0].state !== "pending" && cur.rows[0].state !== "retrying") throw new TaskConflictError(`task ${id} is ${cur.rows[0].state}; it no longer accepts files`);
      const r = await c.query(
        `INSERT INTO task_files (task_id, name, object_key, size_bytes, content_type, sha256) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (task_id, name) DO UPDATE SET object_key = EXCLUDED.object_key, size_bytes = EXCLUDED.size_bytes,
           content_type = EXCLUDED.content_type, sha256 = EXCLUDED.sha256, created_at = now()
         RETURNING *`,
        [id, file.name, file.key, file.size, file.contentType, file.sha256],
      );
      await c.query("UPDATE tasks SET awaiting_file = NULL, updated_at = now() WHERE id = $1 AND awaiting_file = $2", [id, file.name]);
      await publish();
      return toFile(r.rows[0]);
    });
  }

  /** The files of a task. */
  async files(id: string): Promise<TaskFile[]> {
    const r = await this.pool.query("SELECT * FROM task_files WHERE task_id = $1 ORDER BY name", [id]);
    return r.rows.map(toFile);
  }

  /** Tasks waiting (pending, retrying) and running, by state. */
  async depth(): Promise<Record<"pending" | "retrying" | "running", number>> {
    const r = await this.pool.query(
      "SELECT state, count(*)::int AS n FROM tasks WHERE state IN ('pending', 'retrying', 'running') GROUP BY state",
    );
    const out = { pending: 0, retrying: 0, running: 0 };
    for (const row of r.rows) out[row.state as keyof typeof out] = row.n;
    return out;
  }
}

function toFile(r: Row): TaskFile {
  return { name: r.name, key: r.object_key, size: Number(r.size_bytes), contentType: r.content_type, sha256: r.sha256, createdAt: iso(r.created_at)! };
}
