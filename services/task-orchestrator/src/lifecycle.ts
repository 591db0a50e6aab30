/** The states of a task. */
export const TASK_STATES = ["pending", "running", "completed", "failed", "retrying", "cancelled"] as const;
/** A task's state. */
export type TaskState = (typeof TASK_STATES)[number];

/**
 * The one transition table of the lifecycle: pending -> running -> completed | failed | cancelled;
 * failed -> retrying -> running (a failure past max retries stays failed). Waiting tasks (pending, retrying) may be
 * cancelled. The API checks it, every store update checks it, and the database enforces the same table with a
 * trigger (see db.ts), so no path can move a task any other way.
 */
export const TRANSITIONS: Readonly<Record<TaskState, ReadonlyArray<TaskState>>> = {
  pending: ["running", "cancelled"],
  running: ["completed", "failed", "cancelled"],
  failed: ["retrying"],
  retrying: ["running", "cancelled"],
  completed: [],
  cancelled: [],
};

/** States a task never leaves on its own (failed only leaves through an explicit retry). */
export const TERMINAL_STATES: ReadonlyArray<TaskState> = ["completed", "failed", "cancelled"];

/** True when the lifecycle allows moving from `from` to `to`. */
export function canTransition(from: TaskState, to: TaskState): boolean {
  return TRANSITIONS[from]?.includes(to) ?? false;
}

/** Every (from, to) pair the lifecycle allows. */
export function allowedTransitions(): Array<[TaskState, TaskState]> {
  return TASK_STATES.flatMap((from) => TRANSITIONS[from].map((to) => [from, to] as [TaskState, TaskState]));
}

/** A refused state change: the API answers it with 409. */
export class IllegalTransitionError extends Error {
  constructor(readonly taskId: string, readonly from: TaskState, readonly to: TaskState) {
    super(`task ${taskId}: illegal transition ${from} -> ${to}; allowed from ${from}: ${TRANSITIONS[from].join(", ") || "none"}`);
    this.name = "IllegalTransitionError";
  }
}

/** Throws IllegalTransitionError unless the lifecycle allows the move. */
export function assertTransition(taskId: string, from: TaskState, to: TaskState): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(taskId, from, to);
}

/** Delay before retry number `attempt` (1-based): base * 2^(attempt-1), capped, with +-jitter as a fraction. */
export function backoffMs(attempt: number, policy: { baseDelayMs: number; maxDelayMs: number; jitter: number }, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const spread = exp * policy.jitter;
  return Math.max(0, Math.round(exp - spread + random() * 2 * spread));
}
