import { BreakerState, CircuitBreaker } from "../src/breaker";

describe("CircuitBreaker", () => {
  let t = 0;
  let changes: BreakerState[];
  let b: CircuitBreaker;
  beforeEach(() => {
    t = 0;
    changes = [];
    b = new CircuitBreaker({ failureThreshold: 3, recoveryTimeoutMs: 1000, successThreshold: 2 }, (s) => changes.push(s), () => t);
  });

  it("opens after failure_threshold consecutive failures only", () => {
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe("closed");
    b.failure();
    expect(b.state).toBe("open");
    expect(b.tryAcquire()).toBe(false);
    expect(b.retryAfterMs).toBe(1000);
  });

  it("half-opens after recovery_timeout and closes after success_threshold successes", () => {
    for (let i = 0; i < 3; i++) b.failure();
    t = 999;
    expect(b.state).toBe("open");
    t = 1000;
    expect(b.state).toBe("half_open");
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // at most success_threshold trials at once
    b.success();
    expect(b.state).toBe("half_open");
    b.success();
    expect(b.state).toBe("closed");
    expect(changes).toEqual(["open", "half_open", "closed"]);
  });

  it("opens again on a failed trial and restarts the recovery timeout", () => {
    for (let i = 0; i < 3; i++) b.failure();
    t = 1500;
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.state).toBe("open");
    t = 2400;
    expect(b.state).toBe("open");
    t = 2500;
    expect(b.state).toBe("half_open");
  });

  it("gives back a trial slot that ended without an outcome", () => {
    for (let i = 0; i < 3; i++) b.failure();
    t = 1000;
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(true);
    b.release();
    expect(b.tryAcquire()).toBe(true);
  });
});
