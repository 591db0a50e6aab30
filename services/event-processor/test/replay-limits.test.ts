// Replays in flight are bounded: each may hold a large page until a slow reader takes it.
import * as net from "node:net";
import { Harness, startHarness } from "./harness";
import { get, validEvent } from "./support";

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ limits: { maxReplaysInFlight: 1, replayAnswerTimeoutMs: 2500, maxReplayPage: 5000, maxReplayPageBytes: 64 * 1024 * 1024, maxBodyBytes: 64 * 1024 } });
  // about 12 MB of events: more than loopback buffers hold, so an unread page stays in flight
  const pad = "x".repeat(4000);
  for (let b = 0; b < 6; b++) {
    const entries = Array.from({ length: 500 }, (_, i) => [`e${b}-${i}`, { ...validEvent("order.created"), pad }] as const);
    const res = await h.deliverBulk("order.created", entries);
    expect(res.status).toBe(200);
  }
}, 60000);

afterAll(async () => {
  await h?.stop();
});

describe("replay limits", () => {
  it("answers 503 with Retry-After while the allowed replays are in flight, and serves again once they are done", async () => {
    // a reader that asks for a large page and does not read it
    const slow = net.connect(h.app.port, "127.0.0.1");
    slow.write("GET /replay?type=order.created&limit=3000 HTTP/1.1\r\nHost: p\r\n\r\n");
    slow.pause();
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const refused = await fetch(`http://127.0.0.1:${h.app.port}/replay?type=order.created&limit=1`);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(await refused.json()).toEqual({ error: "too many replays in flight (at most 1)" });
    } finally {
      slow.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    const served = await get(h.app.port, "/replay?type=order.created&limit=1");
    expect(served.status).toBe(200);
    expect(served.json.events).toHaveLength(1);
  });

  it("cuts off a reader that stalls past replayAnswerTimeoutMs, freeing its slot", async () => {
    const slow = net.connect(h.app.port, "127.0.0.1");
    slow.on("error", () => undefined);
    const started = Date.now();
    slow.write("GET /replay?type=order.created&limit=3000 HTTP/1.1\r\nHost: p\r\n\r\n");
    slow.pause();
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect((await fetch(`http://127.0.0.1:${h.app.port}/replay?type=order.created&limit=1`)).status).toBe(503);
      // past the answer timeout (2.5 s) the stalled reader has been cut off and the next replay is served
      await new Promise((r) => setTimeout(r, Math.max(0, started + 3200 - Date.now())));
      expect((await get(h.app.port, "/replay?type=order.created&limit=1")).status).toBe(200);
    } finally {
      slow.destroy();
    }
  });
});
