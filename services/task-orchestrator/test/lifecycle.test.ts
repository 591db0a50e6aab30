import { allowedTransitions, assertTransition, backoffMs, canTransition, IllegalTransitionError, TASK_STATES, TRANSITIONS } from "../src/lifecycle";

describe("task lifecycle", () => {
  it("allows exactly pending->running->completed|failed|cancelled, failed->retrying->running, and cancelling a waiting task", () => {
    expect(allowedTransitions().map(([a, b]) => `${a}->${b}`).sort()).toEqual(
      [
        "pending->running", "pending->cancelled",
        "running->completed", "running->failed", "running->cancelled",
        "failed->retrying",
        "retrying->running", "retrying->cancelled",
      ].sort(),
    );
  });

  it("refuses every other pair with an error naming both states and what is allowed", () => {
    let refused = 0;
    for (const from of TASK_STATES) {
      for (const to of TASK_STATES) {
        if (TRANSITIONS[from].includes(to)) continue;
        expect(canTransition(from, to)).toBe(false);
        expect(() => assertTransition("t1", from, to)).toThrow(IllegalTransitionError);
        refused++;
      }
    }
    expect(refused).toBe(36 - 8);
    expect(() => assertTransition("t1", "completed", "running")).toThrow("task t1: illegal transition completed -> running; allowed from completed: none");
  });

  it("backs off exponentially up to the cap, jitter staying within its fraction", () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const jittered = { ...policy, jitter: 0.5 };
    expect(backoffMs(3, jittered, () => 0)).toBe(200);
    expect(backoffMs(3, jittered, () => 1)).toBe(600);
  });
});
