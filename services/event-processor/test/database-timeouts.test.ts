import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Harness, startHarness } from "./harness";
import { validEvent } from "./support";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    drainSeconds: 1,
    database: { connectTimeoutMs: 1000, statementTimeoutMs: 1000, queryTimeoutMs: 1500, readyTimeoutMs: 500, closeTimeoutMs: 1000 },
  });
});
afterAll(async () => { await h?.stop(); });

/** Every process of the test cluster: stopping them all is what a frozen primary or a partition looks like. */
function serverPids(): number[] {
  const postmaster = Number(fs.readFileSync(path.join(h.pg.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  const children = execFileSync("ps", ["-o", "pid=", "--ppid", String(postmaster)], { encoding: "utf8" }).trim().split(/\s+/).map(Number);
  return [postmaster, ...children];
}

/** A request that gives up after `ms`, so a hang fails the test instead of stalling it. */
async function timed(method: string, urlPath: string, ms: number, body?: string): Promise<{ status: number | "no answer"; ms: number }> {
  const started = Date.now();
  try {
    const res = await fetch(`http://127.0.0.1:${h.app.port}${urlPath}`, { method, body, headers: { "content-type": "application/cloudevents+json" }, signal: AbortSignal.timeout(ms) });
    const text = await res.text();
    return { status: method === "POST" && urlPath.startsWith("/events/") ? JSON.parse(text).status : res.status, ms: Date.now() - started };
  } catch {
    return { status: "no answer", ms: Date.now() - started };
  }
}

describe("database timeouts", () => {
  it("answers deliveries, readiness and replay, and stops, while PostgreSQL does not answer", async () => {
    // open pooled connections first: the frozen server then holds established ones, not only new ones
    await Promise.all(Array.from({ length: 4 }, () => h.deliver("order.created", validEvent("order.created"))));
    const pids = serverPids();
    for (const pid of pids) process.kill(pid, "SIGSTOP");
    try {
      const [single, ready, replay] = await Promise.all([
        timed("POST", "/events/order.created", 10_000, JSON.stringify(validEvent("order.created"))),
        timed("GET", "/readyz", 10_000),
        timed("GET", "/replay?type=order.created", 10_000),
      ]);
      expect(single.status).toBe("RETRY");
      expect(ready).toMatchObject({ status: 503 });
      expect(ready.ms).toBeLessThan(1500);
      expect(replay.status).toBe(503);
      const started = Date.now();
      void timed("POST", "/events/order.created", 10_000, JSON.stringify(validEvent("order.created")));
      await new Promise((r) => setTimeout(r, 100));
      await h.app.stop();
      // drainSeconds (1 s) for the delivery in flight, then at most closeTimeoutMs (1 s) for the pool
      expect(Date.now() - started).toBeLessThan(3500);
    } finally {
      for (const pid of pids) process.kill(pid, "SIGCONT");
    }
  });
});
