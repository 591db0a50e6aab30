import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { TaskState } from "./lifecycle";
import { Task, TaskStore } from "./store";

/** The orchestrator's Prometheus metrics, in their own registry. */
export class Metrics {
  readonly registry = new Registry();
  /** State changes: tasks that entered `state`. */
  readonly tasks: Counter<"type" | "state">;
  /** Failed runs (including those that will be retried). */
  readonly failed: Counter<"type">;
  /** Run time of a task's run, from claim to its end state. */
  readonly duration: Histogram<"type" | "state">;
  readonly http: Counter<"method" | "route" | "status">;
  readonly uploadBytes: Counter<string>;
  readonly events: Counter<"outcome">;

  constructor(store: TaskStore | undefined, options: { defaults?: boolean } = {}) {
    if (options.defaults ?? true) collectDefaultMetrics({ register: this.registry });
    this.tasks = new Counter({ name: "tasks_total", help: "Task state changes, by type and the state entered.", labelNames: ["type", "state"], registers: [this.registry] });
    this.failed = new Counter({ name: "tasks_failed_total", help: "Failed task runs, by type (retried or not).", labelNames: ["type"], registers: [this.registry] });
    this.duration = new Histogram({
      name: "task_duration_seconds",
      help: "Duration of a task run, from claim to completed, failed or cancelled.",
      labelNames: ["type", "state"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers: [this.registry],
    });
    this.http = new Counter({ name: "http_requests_total", help: "HTTP requests, by route and status.", labelNames: ["method", "route", "status"], registers: [this.registry] });
    this.uploadBytes = new Counter({ name: "task_upload_bytes_total", help: "Bytes uploaded to object storage.", registers: [this.registry] });
    this.events = new Counter({ name: "task_events_total", help: "Status events handed to Dapr, by outcome.", labelNames: ["outcome"], registers: [this.registry] });
    new Gauge({
      name: "task_queue_depth",
      help: "Tasks waiting (pending, retrying) or running, by state, read from the queue at scrape time.",
      labelNames: ["state"],
      registers: [this.registry],
      async collect() {
        if (!store) return;
        try {
          const d = await store.depth();
          for (const [state, n] of Object.entries(d)) this.set({ state }, n);
        } catch {
          // the database is down: keep the last values rather than fail the scrape
        }
      },
    });
  }

  /** The store's transition observer. */
  readonly observe = (task: Task, from: TaskState, to: TaskState): void => {
    this.tasks.inc({ type: task.type, state: to });
    if (to === "failed") this.failed.inc({ type: task.type });
    if (from === "running" && task.startedAt) {
      this.duration.observe({ type: task.type, state: to }, Math.max(0, (Date.parse(task.updatedAt) - Date.parse(task.startedAt)) / 1000));
    }
  };
}
