import { LimitKey, MemoryRateLimiter } from "../src/rate-limit";

describe("MemoryRateLimiter", () => {
  let t = 0;
  const key = (k: string, rate = 2, burst = 5, scope = "ip"): LimitKey => ({ key: k, scope, bucket: { rate, burst } });

  beforeEach(() => (t = 0));

  it("allows the burst, then exactly the steady rate, to the token", () => {
    const rl = new MemoryRateLimiter(100, () => t);
    const allowed = (n: number) => Array.from({ length: n }, () => rl.take([key("a")]).allowed).filter(Boolean).length;
    expect(allowed(10)).toBe(5);
    for (let second = 1; second <= 5; second++) {
      t = second * 1000;
      expect(allowed(10)).toBe(2);
    }
    t = 5250;
    expect(allowed(10)).toBe(0); // half a token
    t = 5500;
    expect(allowed(10)).toBe(1);
    t = 100_000;
    expect(allowed(10)).toBe(5); // never more than the burst
  });

  it("reports limit, remaining, reset and Retry-After", () => {
    const rl = new MemoryRateLimiter(100, () => t);
    const first = rl.take([key("a")]);
    expect(first).toMatchObject({ allowed: true, limit: 5, remaining: 4, resetSec: 1 });
    for (let i = 0; i < 4; i++) rl.take([key("a")]);
    t = 200;
    const refused = rl.take([key("a")]);
    expect(refused).toMatchObject({ allowed: false, scope: "ip", remaining: 0, retryAfterSec: 1 });
    const slow = new MemoryRateLimiter(100, () => t);
    slow.take([key("s", 0.1, 1)]);
    expect(slow.take([key("s", 0.1, 1)]).retryAfterSec).toBe(10);
  });

  it("takes a token from every bucket or from none", () => {
    const rl = new MemoryRateLimiter(100, () => t);
    const user = key("user:alice", 1, 1, "user");
    expect(rl.take([key("ip:1"), user]).allowed).toBe(true);
    const refused = rl.take([key("ip:1"), user]);
    expect(refused).toMatchObject({ allowed: false, scope: "user" });
    // the ip bucket was not charged for the refused request: 4 of 5 left
    expect([1, 2, 3, 4, 5].map(() => rl.take([key("ip:1")]).allowed)).toEqual([true, true, true, true, false]);
  });

  it("holds at most max_keys buckets, dropping the least recently used", () => {
    const rl = new MemoryRateLimiter(3, () => t);
    for (const k of ["a", "b", "c"]) rl.take([key(k, 1, 1)]);
    rl.take([key("a", 1, 1)]); // a is now the most recent
    rl.take([key("d", 1, 1)]);
    expect(rl.size).toBe(3);
    expect(rl.take([key("a", 1, 1)]).allowed).toBe(false); // a kept its empty bucket
    expect(rl.take([key("b", 1, 1)]).allowed).toBe(true); // b was dropped and comes back full
  });
});
