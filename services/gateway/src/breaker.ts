import { BreakerSettings } from "./config";

/** State of a circuit breaker. */
export type BreakerState = "closed" | "open" | "half_open";

/**
 * A circuit breaker for one upstream: closed -> open after `failureThreshold` consecutive failures; open fails fast
 * for `recoveryTimeoutMs`; then half-open lets at most `successThreshold` trial requests through at a time, and
 * `successThreshold` successes close it while any failure opens it again.
 */
export class CircuitBreaker {
  private stateValue: BreakerState = "closed";
  private failures = 0;
  private successes = 0;
  private trials = 0;
  private openedAt = 0;

  constructor(
    private readonly settings: BreakerSettings,
    private readonly onChange: (state: BreakerState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** The current state (an open breaker whose timeout passed reports half-open). */
  get state(): BreakerState {
    if (this.stateValue === "open" && this.now() - this.openedAt >= this.settings.recoveryTimeoutMs) this.transition("half_open");
    return this.stateValue;
  }

  /** Milliseconds until an open breaker lets a trial through (0 when not open). */
  get retryAfterMs(): number {
    return this.state === "open" ? Math.max(0, this.openedAt + this.settings.recoveryTimeoutMs - this.now()) : 0;
  }

  /**
   * Asks to send one request. Returns false when it must fail fast; otherwise the caller must report the outcome
   * exactly once with `success()` or `failure()`, or `release()` when the attempt was abandoned without an outcome.
   */
  tryAcquire(): boolean {
    const s = this.state;
    if (s === "closed") return true;
    if (s === "open") return false;
    if (this.trials >= this.settings.successThreshold) return false;
    this.trials++;
    return true;
  }

  /** Reports a successful request. */
  success(): void {
    if (this.stateValue === "half_open") {
      this.trials = Math.max(0, this.trials - 1);
      if (++this.successes >= this.settings.successThreshold) this.transition("closed");
    } else {
      this.failures = 0;
    }
  }

  /** Reports a failed request (5xx, timeout, connection error). */
  failure(): void {
    if (this.stateValue === "half_open") {
      this.transition("open");
    } else if (this.stateValue === "closed" && ++this.failures >= this.settings.failureThreshold) {
      this.transition("open");
    }
  }

  /** Gives back a trial slot without an outcome (for example the client went away). */
  release(): void {
    if (this.stateValue === "half_open") this.trials = Math.max(0, this.trials - 1);
  }

  private transition(to: BreakerState): void {
    if (to === this.stateValue) return;
    this.stateValue = to;
    this.failures = 0;
    this.successes = 0;
    this.trials = 0;
    if (to === "open") this.openedAt = this.now();
    this.onChange(to);
  }
}
