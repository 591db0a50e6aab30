import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { LimitKey } from "../src/rate-limit";
import { RedisRateLimiter } from "../src/redis-rate-limit";
import { cleanTmp, request, startGateway, startUpstream } from "./support";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe("rate limits shared through Redis", () => {
  let redis: ChildProcess;
  let port: number;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gateway-redis-"));
    port = await freePort();
    redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, "127.0.0.1", () => {
          s.destroy();
          resolve(true);
        });
        s.on("error", () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("redis-server did not start");
  });

  afterAll(async () => {
    redis?.kill("SIGTERM");
    await new Promise((r) => redis?.once("exit", r));
    fs.rmSync(dir, { recursive: true, force: true });
    cleanTmp();
  });

  const key = (k: string, rate = 0.01, burst = 4): LimitKey => ({ key: k, scope: "user", bucket: { rate, burst } });

  it("shares one bucket between gateway replicas, exact to the token", async () => {
    const a = new RedisRateLimiter({ host: "127.0.0.1", port, keyPrefix: "t1:", onError: "deny" });
    const b = new RedisRateLimiter({ host: "127.0.0.1", port, keyPrefix: "t1:", onError: "deny" });
    try {
      await Promise.all([a.ready(), b.ready()]);
      const results = [];
      for (let i = 0; i < 6; i++) results.push((await (i % 2 ? b : a).take([key("user:alice")])).allowed);
      expect(results).toEqual([true, true, true, true, false, false]);
      const refused = await a.take([key("user:alice")]);
      expect(refused).toMatchObject({ allowed: false, limit: 4, remaining: 0, scope: "user" });
      expect(refused.retryAfterSec).toBeGreaterThan(90);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("charges every bucket of a request or none", async () => {
    const a = new RedisRateLimiter({ host: "127.0.0.1", port, keyPrefix: "t2:", onError: "deny" });
    try {
      await a.ready();
      expect((await a.take([key("ip:1", 0.01, 10), key("user:bob", 0.01, 1)])).allowed).toBe(true);
      expect((await a.take([key("ip:1", 0.01, 10), key("user:bob", 0.01, 1)])).allowed).toBe(false);
      const ip = await a.take([key("ip:1", 0.01, 10)]);
      expect(ip.remaining).toBe(8);
    } finally {
      await a.close();
    }
  });

  it("finds the master through Redis Sentinel", async () => {
    const sentinelPort = await freePort();
    const conf = path.join(dir, "sentinel.conf");
    fs.writeFileSync(conf, `port ${sentinelPort}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor shop 127.0.0.1 ${port} 1\n`);
    const sentinel = spawn("redis-sentinel", [conf], { stdio: "ignore" });
    try {
      const limiter = new RedisRateLimiter({ host: "unused", port: 1, sentinels: [{ host: "127.0.0.1", port: sentinelPort }], masterName: "shop", keyPrefix: "t3:", onError: "deny" });
      try {
        await limiter.ready(10000);
        const results = [];
        for (let i = 0; i < 5; i++) results.push((await limiter.take([key("user:carol")])).allowed);
        expect(results).toEqual([true, true, true, true, false]);
      } finally {
        await limiter.close();
      }
    } finally {
      sentinel.kill("SIGTERM");
      await new Promise((r) => sentinel.once("exit", r));
    }
  });

  it("falls back to the configured decision when Redis is unreachable", async () => {
    const dead = await freePort();
    const allow = new RedisRateLimiter({ host: "127.0.0.1", port: dead, keyPrefix: "x:", onError: "allow" });
    const deny = new RedisRateLimiter({ host: "127.0.0.1", port: dead, keyPrefix: "x:", onError: "deny" });
    try {
      expect((await allow.take([key("k")])).allowed).toBe(true);
      expect((await deny.take([key("k")])).allowed).toBe(false);
    } finally {
      await allow.close();
      await deny.close();
    }
  });

  it("warns about a Redis that is down once per interval, not once per request", async () => {
    const upstream = await startUpstream();
    const dead = await freePort();
    const gw = await startGateway({
      rate_limiting: { default: { requests_per_second: 100, burst: 100 }, redis: { host: "127.0.0.1", port: dead, key_prefix: "gw:", on_error: "allow" } },
      routes: [{ path_prefix: "/", service: "up", upstream: upstream.url, auth: { required: false } }],
    });
    try {
      for (let i = 0; i < 20; i++) expect((await request(`${gw.url}/x`)).status).toBe(200);
      const warnings = gw.stdout().split("\n").filter((l) => l.includes("rate limit backend failed"));
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.length).toBeLessThanOrEqual(2);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it("limits across two gateway processes", async () => {
    const upstream = await startUpstream();
    const config = {
      rate_limiting: { default: { requests_per_second: 0.01, burst: 3 }, redis: { host: "127.0.0.1", port, key_prefix: "gw:" } },
      routes: [{ path_prefix: "/", service: "up", upstream: upstream.url, auth: { required: false } }],
    };
    const [g1, g2] = await Promise.all([startGateway(config), startGateway(config)]);
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await request(`${(i % 2 ? g2 : g1).url}/x`)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await Promise.all([g1.stop(), g2.stop()]);
      await upstream.close();
    }
  });
});
