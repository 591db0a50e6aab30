import { Bucket } from "./config";

/** One bucket to draw a token from. */
export interface LimitKey {
  /** Unique key, e.g. `user:alice`. */
  readonly key: string;
  /** Scope for metrics: user, ip or service. */
  readonly scope: string;
  readonly bucket: Bucket;
}

/** The answer for one request. */
export interface LimitDecision {
  readonly allowed: boolean;
  /** The scope that rejected the request. */
  readonly scope?: string;
  /** The most constraining bucket's limit (its burst). */
  readonly limit: number;
  /** Whole tokens left in the most constraining bucket. */
  readonly remaining: number;
  /** Seconds until that bucket is full again. */
  readonly resetSec: number;
  /** Seconds until the request could succeed (when rejected). */
  readonly retryAfterSec: number;
}

/** A rate limiter: the request passes only if every bucket has a token, and then takes one from each. */
export interface RateLimiter {
  take(keys: ReadonlyArray<LimitKey>): Promise<LimitDecision> | LimitDecision;
  close(): Promise<void>;
}

interface State {
  tokens: number;
  at: number;
}

/** Summarises per-bucket results into one decision (shared by the memory and Redis limiters). */
export function decide(keys: ReadonlyArray<LimitKey>, tokens: ReadonlyArray<number>, allowed: boolean): LimitDecision {
  let idx = 0;
  let worst = Infinity;
  keys.forEach((k, i) => {
    const left = tokens[i] / k.bucket.burst;
    if (left < worst) {
      worst = left;
      idx = i;
    }
  });
  const k = keys[idx];
  const t = tokens[idx];
  const blocking = allowed ? -1 : keys.findIndex((_, i) => tokens[i] < 1);
  const retry = allowed ? 0 : Math.max(...keys.map((key, i) => (tokens[i] < 1 ? (1 - tokens[i]) / key.bucket.rate : 0)));
  return {
    allowed,
    scope: blocking >= 0 ? keys[blocking].scope : undefined,
    limit: k.bucket.burst,
    remaining: Math.max(0, Math.floor(t)),
    resetSec: Math.ceil((k.bucket.burst - t) / k.bucket.rate),
    retryAfterSec: Math.max(allowed ? 0 : 1, Math.ceil(retry)),
  };
}

/**
 * Token buckets in memory, one per key, at most `maxKeys` of them: the least recently used bucket is dropped first
 * (a dropped bucket comes back full, so memory stays bounded at the price of leniency for idle keys).
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, State>();

  constructor(private readonly maxKeys: number, private readonly now: () => number = Date.now) {}

  /** Buckets currently held. */
  get size(): number {
    return this.buckets.size;
  }

  take(keys: ReadonlyArray<LimitKey>): LimitDecision {
    const now = this.now();
    const states = keys.map((k) => {
      let s = this.buckets.get(k.key);
      if (s) {
        this.buckets.delete(k.key);
        s.tokens = Math.min(k.bucket.burst, s.tokens + ((now - s.at) / 1000) * k.bucket.rate);
        s.at = now;
      } else {
        s = { tokens: k.bucket.burst, at: now };
      }
      this.buckets.set(k.key, s);
      return s;
    });
    while (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    const allowed = states.every((s) => s.tokens >= 1);
    if (allowed) for (const s of states) s.tokens -= 1;
    return decide(keys, states.map((s) => s.tokens), allowed);
  }

  async close(): Promise<void> {}
}
