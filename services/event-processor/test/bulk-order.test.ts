import { Harness, startHarness } from "./harness";
import { validEvent } from "./support";

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.stop(); });

describe("concurrent bulk redelivery", () => {
  it("stores and forwards each event once when two bulks carry the same events in opposite order, without deadlock", async () => {
    for (let round = 0; round < 3; round++) {
      h.dapr.clear();
      const events = Array.from({ length: 300 }, () => validEvent("payment.completed"));
      const entries = events.map((e, i) => [`e${i}`, e] as const);
      const [a, b] = await Promise.all([h.deliverBulk("payment.completed", entries), h.deliverBulk("payment.completed", [...entries].reverse())]);
      expect([...a.json.statuses, ...b.json.statuses].filter((s: { status: string }) => s.status !== "SUCCESS")).toEqual([]);
      const forwarded = h.dapr.on("payment.completed.validated").map((p) => p.body.id);
      expect(forwarded.sort()).toEqual(events.map((e) => e.id).sort());
    }
  });
});
