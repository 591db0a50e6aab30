import * as net from "node:net";
import { DaprPublisher } from "../src/dapr";

/** Milliseconds until `p` settles, and whether it was rejected. */
async function settle(p: Promise<unknown>): Promise<{ ms: number; rejected: boolean }> {
  const t0 = Date.now();
  const rejected = await p.then(() => false, () => true);
  return { ms: Date.now() - t0, rejected };
}

describe("DaprPublisher timeout", () => {
  it("fails a publish whose answer trickles in after timeoutMs, though the socket is never idle that long", async () => {
    // answers the status line, then one byte every 100 ms of a 1,000-byte body
    const server = net.createServer((s) => s.once("data", () => {
      s.write("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n");
      const t = setInterval(() => s.write("a"), 100);
      s.on("close", () => clearInterval(t));
      s.on("error", () => undefined);
    }));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const dapr = new DaprPublisher("127.0.0.1", (server.address() as net.AddressInfo).port, "events", 400);
    try {
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("hung")), 3000); });
      const r = await settle(Promise.race([dapr.publish("t", { a: 1 }, "application/json"), hung]));
      clearTimeout(timer);
      expect(r.rejected).toBe(true);
      expect(r.ms).toBeLessThan(1500);
    } finally {
      dapr.close();
      server.close();
    }
  });

  it("counts waiting for a pooled connection within timeoutMs, so many publishes to a hung sidecar all fail in time", async () => {
    // a sidecar that takes every request and never answers
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => { sockets.add(s); s.on("error", () => undefined); s.on("close", () => sockets.delete(s)); });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const dapr = new DaprPublisher("127.0.0.1", (server.address() as net.AddressInfo).port, "events", 300);
    try {
      // more publishes than the agent's 64 sockets, as one group commit of 100 events and a bulk delivery make
      const results = await Promise.all(Array.from({ length: 200 }, () => settle(dapr.publish("t", { a: 1 }, "application/json"))));
      expect(results.every((r) => r.rejected)).toBe(true);
      expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(800);
    } finally {
      dapr.close();
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
