import type { EventDefinition } from "../events/catalog";
import { TASK_STATES } from "../../services/task-orchestrator/src/lifecycle";
import { TASK_TYPES } from "../../services/task-orchestrator/src/task-types";

const ID = "5b3c0a52-8f2e-4c1e-9b8a-2f6d1e7c9a10";

/** Fields every status event's data carries (services/task-orchestrator/src/store.ts writes them). */
function schema(required: string[], extra: Record<string, unknown>): Record<string, unknown> {
  return {
    type: "object",
    required: ["id", "type", "state", "attempts", ...required],
    additionalProperties: false,
    properties: {
      id: { type: "string", format: "uuid" },
      type: { type: "string", enum: [...TASK_TYPES] },
      state: { type: "string", enum: [...TASK_STATES] },
      attempts: { type: "integer", minimum: 0 },
      ...extra,
    },
  };
}

/**
 * The task orchestrator's status events, for the event catalog: published through Dapr (topic = type) by
 * `task-orchestrator`, from its outbox, so each is sent at least once with a stable CloudEvents id.
 */
export function taskStatusEvents(producer: string): EventDefinition[] {
  const base = { version: 1, producers: [producer] };
  return [
    {
      ...base,
      type: "task.created",
      description: "A task was accepted and queued (pending); an import task waits for its file.",
      schema: schema(["parameters"], { parameters: { type: "object" } }),
      example: { id: ID, type: "batch", state: "pending", attempts: 0, parameters: { items: ["a", "b"] } },
    },
    {
      ...base,
      type: "task.progress",
      description: "A running task reported progress (at most one event per task per progress interval).",
      schema: schema(["percent", "message"], { percent: { type: "integer", minimum: 0, maximum: 100 }, message: { type: ["string", "null"], maxLength: 500 } }),
      example: { id: ID, type: "import", state: "running", attempts: 1, percent: 40, message: "40000 records" },
    },
    {
      ...base,
      type: "task.completed",
      description: "A task finished and its result is stored.",
      schema: schema(["result"], { result: {} }),
      example: { id: ID, type: "import", state: "completed", attempts: 1, result: { records: 100000, rejected: 0 } },
    },
    {
      ...base,
      type: "task.failed",
      description: "A run of a task failed: it is retried after a backoff (willRetry) or failed for good.",
      schema: schema(["error", "willRetry"], { error: { type: "string", maxLength: 2000 }, willRetry: { type: "boolean" }, retryAt: { type: "string", format: "date-time" } }),
      example: { id: ID, type: "export", state: "failed", attempts: 1, error: "lease of worker w-1 expired", willRetry: true, retryAt: "2024-05-01T12:00:02Z" },
    },
    {
      ...base,
      type: "task.cancelled",
      description: "A waiting or running task was cancelled; a running task's result is discarded.",
      schema: schema(["from"], { from: { type: "string", enum: ["pending", "running", "retrying"] } }),
      example: { id: ID, type: "batch", state: "cancelled", attempts: 1, from: "running" },
    },
  ];
}
