import type { EventDefinition } from "./catalog";

/** Graph id and Dapr app id of the task orchestrator (services/task-orchestrator). */
export const TASK_ORCHESTRATOR = "task-orchestrator";

const taskFields = {
  id: { type: "string", format: "uuid", description: "task id" },
  type: { type: "string", enum: ["import", "export", "batch", "report", "sync"] },
  state: { type: "string", enum: ["pending", "running", "completed", "failed", "retrying", "cancelled"] },
  attempts: { type: "integer", minimum: 0 },
} as const;
const required = ["id", "type", "state", "attempts"];

function taskEvent(what: string, description: string, extra: Record<string, unknown>, extraRequired: string[], example: Record<string, unknown>): EventDefinition {
  return {
    type: `task.${what}`,
    version: 1,
    description,
    producers: [TASK_ORCHESTRATOR],
    schema: { type: "object", required: [...required, ...extraRequired], properties: { ...taskFields, ...extra } },
    example: { id: "0b7c6f0e-2a51-4c9e-8d3b-5f0a1c2d3e4f", type: "import", attempts: 0, ...example },
  };
}

/**
 * The task orchestrator's status events (its outbox publishes them to the topic named like the type). The events
 * component adds them to the catalog when the platform has a `task-orchestrator` node and they are not declared yet.
 * Extra fields are allowed: the orchestrator may add detail without breaking consumers.
 */
export const TASK_EVENTS: ReadonlyArray<EventDefinition> = [
  taskEvent("created", "A task was accepted and waits in the queue.", { parameters: { type: "object" } }, ["parameters"], { state: "pending", parameters: { source: "s3://imports/a.csv" } }),
  taskEvent("progress", "A running task reported progress.", { percent: { type: "number", minimum: 0, maximum: 100 }, message: { type: ["string", "null"], maxLength: 1000 } }, ["percent"], { state: "running", attempts: 1, percent: 40, message: "4 of 10 files" }),
  taskEvent("completed", "A task finished; its result is stored.", { result: {} }, [], { state: "completed", attempts: 1, result: { rows: 1200 } }),
  taskEvent("failed", "A task attempt failed; it is retried with backoff or has failed for good.", { error: { type: "string", maxLength: 4000 }, willRetry: { type: "boolean" }, retryAt: { type: ["string", "null"] } }, ["error", "willRetry"], { state: "retrying", attempts: 1, error: "upstream timed out", willRetry: true, retryAt: "2024-05-01T12:01:00.000Z" }),
  taskEvent("cancelled", "A task was cancelled before it finished.", { from: { type: "string" } }, [], { state: "cancelled", from: "running" }),
];
