import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { isConnectionError } from "./db";
import { Logger } from "./logger";
import { Claim, Lease, Task, TaskStore } from "./store";
import { TaskType } from "./task-types";

/** What a handler receives for one run of a task. */
export interface TaskContext {
  readonly task: Task;
  /**
   * Aborted when the run loses the task (cancelled, lease lost) or the worker shuts down past its drain time. Pass it
   * to every call that waits: the worker stops waiting for the handler at the abort and frees its slot.
   */
  readonly signal: AbortSignal;
  /** Reports progress (0-100); written at most once per progress interval, the latest value wins. */
  progress(percent: number, message?: string): void;
}

/** Runs one task; its resolved value is stored as the task's result, a rejection fails the run. */
export type TaskHandler = (ctx: TaskContext) => Promise<unknown>;

/** Options of a worker. */
export interface WorkerOptions {
  /** Lease owner id. @default `<hostname>-<random>` */
  readonly id?: string;
  /** Tasks run at the same time. */
  readonly concurrency: number;
  /** Lease length; a task whose lease expires is reclaimed and retried. */
  readonly leaseMs: number;
  /** How often a running task's lease is extended. */
  readonly heartbeatMs: number;
  /** Pause between polls when the queue is empty. */
  readonly pollMs: number;
  /** How often expired leases are looked for. */
  readonly reclaimMs: number;
  /** Minimum time between two progress writes of one task. */
  readonly progressIntervalMs: number;
}

/**
 * A queue worker: claims due tasks (`FOR UPDATE SKIP LOCKED`, so workers never claim the same task), holds a lease
 * on each with heartbeats, runs the handler of its type, and stores the result or the failure. It also reclaims
 * tasks whose lease expired, which is how the work of a killed worker gets retried. Runs are tracked by lease
 * token, not task id: a task reclaimed and claimed again by this worker is a second run, and the first one, which
 * lost its lease, is aborted at its next heartbeat and stops counting against the concurrency.
 */
export class Worker {
  readonly id: string;
  private readonly inflight = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private reclaimTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: TaskStore,
    private readonly handlers: Readonly<Partial<Record<TaskType, TaskHandler>>>,
    private readonly options: WorkerOptions,
    private readonly log: Logger,
  ) {
    this.id = options.id ?? `${hostname()}-${randomBytes(4).toString("hex")}`;
  }

  /** Runs in progress now. */
  get active(): number {
    return this.inflight.size;
  }

  /** Starts polling and reclaiming. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.pollLoop();
    this.reclaimTimer = setInterval(() => {
      this.store.reclaimExpired().then(
        (n) => n && this.log.warn("reclaimed tasks with expired leases", { count: n, worker: this.id }),
        (e) => this.log.error("reclaim failed", { error: String(e) }),
      );
    }, this.options.reclaimMs);
    this.reclaimTimer.unref();
  }

  /**
   * Stops claiming and waits up to `drainMs` for running tasks; those still running are aborted and left to lease
   * expiry (another worker retries them).
   */
  async stop(drainMs: number): Promise<void> {
    this.running = false;
    if (this.reclaimTimer) clearInterval(this.reclaimTimer);
    this.wake?.();
    await this.loop;
    const all = Promise.all([...this.inflight.values()].map((f) => f.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), drainMs)))]);
    clearTimeout(timer);
    if (timedOut) {
      for (const f of this.inflight.values()) f.controller.abort(new Error("worker shutting down"));
      await all;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = undefined; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = undefined; resolve(); };
    });
  }

  private async pollLoop(): Promise<void> {
    let errors = 0;
    while (this.running) {
      const free = this.options.concurrency - this.inflight.size;
      if (free <= 0) { await this.sleep(this.options.pollMs); continue; }
      let claims: Claim[] = [];
      try {
        claims = await this.store.claim(this.id, free, this.options.leaseMs);
        errors = 0;
      } catch (e) {
        errors++;
        this.log.error("claim failed", { error: String(e), worker: this.id });
        await this.sleep(Math.min(30000, this.options.pollMs * 2 ** Math.min(errors, 6)));
        continue;
      }
      for (const c of claims) this.run(c);
      if (claims.length < free && this.running) await this.sleep(this.options.pollMs);
    }
  }

  private run({ task, lease }: Claim): void {
    const controller = new AbortController();
    const done = this.execute(task, lease, controller).finally(() => {
      this.inflight.delete(lease.token);
      this.wake?.();
    });
    this.inflight.set(lease.token, { controller, done });
  }

  /**
   * Stores a run's result. A lost database connection is retried a few times while the run still holds its lease, so
   * that a blip between a handler's success and its commit is not recorded as the task's failure. A result the
   * database refuses fails at once, and the caller records that as the task's failure.
   */
  private async saveResult(lease: Lease, result: unknown, lost: () => boolean): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.store.complete(lease, result);
      } catch (e) {
        if (!isConnectionError(e) || attempt >= SAVE_ATTEMPTS || lost()) throw e;
        this.log.warn("saving a task result failed; retrying", { task: lease.taskId, attempt, error: String(e) });
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  private async execute(task: Task, lease: Lease, controller: AbortController): Promise<void> {
    const { leaseMs } = this.options;
    let lost = false;
    const loseLease = (held: boolean) => {
      if (held || lost) return;
      lost = true;
      controller.abort(new Error(`task ${task.id} is no longer held by this run of ${this.id} (cancelled, or reclaimed after its lease expired)`));
    };
    const heartbeat = setInterval(() => {
      this.store.heartbeat(lease, leaseMs).then(loseLease, (e) => this.log.warn("heartbeat failed", { task: task.id, error: String(e) }));
    }, this.options.heartbeatMs);
    // the first write waits a full interval too: a task that finishes quickly costs no progress writes
    let lastWrite = Date.now();
    let pending: { percent: number; message?: string } | undefined;
    let flushTimer: NodeJS.Timeout | undefined;
    let writing: Promise<unknown> = Promise.resolve();
    const flush = () => {
      flushTimer = undefined;
      if (!pending || lost) return;
      const p = pending;
      pending = undefined;
      lastWrite = Date.now();
      // writes are chained, so they land in order and before the task's end state
      writing = writing
        .then(() => this.store.progress(lease, p.percent, p.message ?? null, leaseMs))
        .then(loseLease, (e) => this.log.warn("progress write failed", { task: task.id, error: String(e) }));
    };
    const ctx = {
      task,
      signal: controller.signal,
      progress: (percent: number, message?: string) => {
        if (!Number.isFinite(percent)) return;
        pending = { percent, message };
        const wait = this.options.progressIntervalMs - (Date.now() - lastWrite);
        if (wait <= 0) flush();
        else flushTimer ??= setTimeout(flush, wait);
      },
    };
    const started = Date.now();
    try {
      const handler = this.handlers[task.type];
      if (!handler) throw new Error(`no handler for task type ${task.type}`);
      const result = await untilAborted(Promise.resolve().then(() => handler(ctx)), controller.signal);
      if (controller.signal.aborted) throw controller.signal.reason;
      clearTimeout(flushTimer);
      await writing;
      const stored = await this.saveResult(lease, result, () => lost);
      this.log.info(stored ? "task completed" : "task result discarded: lease lost", { task: task.id, type: task.type, attempt: task.attempts, ms: Date.now() - started });
    } catch (e) {
      clearTimeout(flushTimer);
      await writing;
      if (lost) {
        this.log.info("task stopped: lease lost", { task: task.id, type: task.type, attempt: task.attempts });
      } else if (controller.signal.aborted) {
        // shutting down: the lease expires and another worker retries the task
        this.log.warn("task aborted at shutdown", { task: task.id, type: task.type });
      } else {
        const message = e instanceof Error ? e.message : String(e);
        await this.store.fail(lease, message).catch((err) => this.log.error("recording failure failed", { task: task.id, error: String(err) }));
        this.log.warn("task run failed", { task: task.id, type: task.type, attempt: task.attempts, error: message });
      }
    } finally {
      clearInterval(heartbeat);
    }
  }
}

/** Tries at saving a run's result when the database connection is lost (about 3 s in all). */
const SAVE_ATTEMPTS = 5;

/**
 * Settles like `run`, or rejects with the signal's reason as soon as it is aborted: a handler that ignores the signal
 * (or waits on something that does) cannot keep a run, its slot, or a shutdown waiting. Its eventual outcome is
 * ignored; the lease is gone or going, so it can no longer change the task.
 */
function untilAborted<T>(run: Promise<T>, signal: AbortSignal): Promise<T> {
  run.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    run.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
