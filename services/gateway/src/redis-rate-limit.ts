import Redis from "ioredis";
import { decide, LimitDecision, LimitKey, RateLimiter } from "./rate-limit";

// Token buckets in Redis hashes, updated atomically for all keys of one request. The clock is Redis's own (TIME),
// so replicas with skewed clocks share one notion of time. ARGV: rate1, burst1, rate2, burst2, ...
const SCRIPT = `
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
local n = #KEYS
local tokens = {}
local ok = true
for i = 1, n do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local v = redis.call('HMGET', KEYS[i], 't', 'a')
  local t = tonumber(v[1])
  local a = tonumber(v[2])
  if t == nil or a == nil then t = burst; a = now end
  t = math.min(burst, t + math.max(0, now - a) / 1000 * rate)
  tokens[i] = t
  if t < 1 then ok = false end
end
local out = { ok and 1 or 0 }
for i = 1, n do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  if ok then tokens[i] = tokens[i] - 1 end
  redis.call('HSET', KEYS[i], 't', tostring(tokens[i]), 'a', tostring(now))
  redis.call('PEXPIRE', KEYS[i], math.ceil(burst / rate * 1000) + 1000)
  out[i + 1] = tostring(tokens[i])
end
return out
`;

/** Options of the Redis limiter. */
export interface RedisRateLimiterOptions {
  readonly host: string;
  readonly port: number;
  /** Sentinels to ask for the master (then `host`/`port` are not used). */
  readonly sentinels?: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  /** Master name the sentinels know. @default "mymaster" */
  readonly masterName?: string;
  readonly username?: string;
  readonly password?: string;
  /** Connect with TLS (to Redis and the sentinels). @default false */
  readonly tls?: boolean;
  readonly keyPrefix: string;
  /** Decision when Redis does not answer. */
  readonly onError: "allow" | "deny";
  /** Called when Redis fails a request. */
  readonly onFailure?: (err: Error) => void;
}

/** Cluster-wide token buckets in Redis (one round trip per request, buckets expire once full again). */
export class RedisRateLimiter implements RateLimiter {
  private readonly client: Redis;

  constructor(private readonly options: RedisRateLimiterOptions) {
    const tls = options.tls ? {} : undefined;
    const where = options.sentinels?.length
      ? { sentinels: options.sentinels.map((x) => ({ host: x.host, port: x.port })), name: options.masterName ?? "mymaster", sentinelUsername: options.username, sentinelPassword: options.password, sentinelTLS: tls, enableTLSForSentinelMode: Boolean(tls) }
      : { host: options.host, port: options.port };
    this.client = new Redis({
      ...where,
      username: options.username,
      password: options.password,
      tls,
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 250,
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
    this.client.on("error", (err: Error) => options.onFailure?.(err));
    this.client.defineCommand("stratumTakeTokens", { lua: SCRIPT });
  }

  /** Resolves once connected (or rejects after `timeoutMs`). */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.client.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const where = this.options.sentinels?.length ? `master ${this.options.masterName ?? "mymaster"} via sentinels` : `${this.options.host}:${this.options.port}`;
      const t = setTimeout(() => reject(new Error(`redis ${where} not ready after ${timeoutMs}ms`)), timeoutMs);
      this.client.once("ready", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async take(keys: ReadonlyArray<LimitKey>): Promise<LimitDecision> {
    const argv = keys.flatMap((k) => [String(k.bucket.rate), String(k.bucket.burst)]);
    try {
      const run = (this.client as unknown as { stratumTakeTokens(n: number, ...args: string[]): Promise<string[] | number[]> }).stratumTakeTokens;
      const res = (await run.call(this.client, keys.length, ...keys.map((k) => this.options.keyPrefix + k.key), ...argv)) as Array<string | number>;
      return decide(keys, res.slice(1).map(Number), Number(res[0]) === 1);
    } catch (err) {
      this.options.onFailure?.(err as Error);
      const allowed = this.options.onError === "allow";
      return { allowed, scope: allowed ? undefined : "backend", limit: keys[0]?.bucket.burst ?? 0, remaining: 0, resetSec: 1, retryAfterSec: 1 };
    }
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
