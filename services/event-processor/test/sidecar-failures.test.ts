import { Harness, startHarness } from "./harness";
import { get, validEvent } from "./support";

let h: Harness;
beforeAll(async () => {
  // a pool of 4: grouped single deliveries may hold 2 connections, the other 2 are for bulk, replay and probes
  h = await startHarness({ poolSize: 4, database: { connectTimeoutMs: 3000, readyTimeoutMs: 1000 } });
});
afterAll(async () => { await h?.stop(); });
beforeEach(() => { h.dapr.heal(); h.dapr.clear(); h.dapr.delayMs = 0; });

async function count(ids: string[]): Promise<number> {
  return (await h.sql("SELECT count(*)::int AS n FROM event_log WHERE id = ANY($1)", [ids]))[0].n;
}

describe("sidecar failing during group commit", () => {
  it("keeps half of the pool free while a failed group is retried, so probes and bulk deliveries still get connections", async () => {
    h.dapr.delayMs = 800;
    h.dapr.fail(500, (t) => t.endsWith(".validated"));
    const events = Array.from({ length: 40 }, () => validEvent("order.created"));
    const answers = Promise.all(events.map((ev) => h.deliver("order.created", ev)));
    // while the groups and their retries are in flight, the database answers the readiness probe
    await new Promise((r) => setTimeout(r, 1200));
    const probes = await Promise.all([0, 300, 600, 900].map((ms) => new Promise((r) => setTimeout(r, ms)).then(() => get(h.app.port, "/readyz"))));
    expect(probes.map((p) => p.status)).toEqual([200, 200, 200, 200]);
    expect((await answers).map((a) => a.json.status)).toEqual(Array(40).fill("RETRY"));
    expect(await count(events.map((e) => e.id))).toBe(0);
    h.dapr.heal();
    h.dapr.delayMs = 0;
    expect((await Promise.all(events.map((ev) => h.deliver("order.created", ev)))).map((a) => a.json.status)).toEqual(Array(40).fill("SUCCESS"));
    expect(await count(events.map((e) => e.id))).toBe(40);
    expect(h.dapr.on("order.created.validated").map((p) => p.body.id).sort()).toEqual(events.map((e) => e.id).sort());
  }, 60_000);
});

describe("slow sidecar under bulk load", () => {
  it("leaves connections for grouped single deliveries and probes while bulk deliveries wait on the sidecar", async () => {
    h.dapr.delayMs = 1500;
    // more concurrent bulks than the pool has connections (maxInFlight 64 allows 8)
    const bulks = Promise.all(Array.from({ length: 8 }, () => h.deliverBulk("order.created", [["a", validEvent("order.created")], ["b", validEvent("order.created")]])));
    await new Promise((r) => setTimeout(r, 300));
    const probe = await get(h.app.port, "/readyz");
    const single = await h.deliver("order.created", validEvent("order.created"));
    const statuses = (await bulks).map((b) => b.status === 200 ? b.json.statuses.map((s: { status: string }) => s.status).join() : String(b.status));
    expect(probe.status).toBe(200);
    expect(single.json).toEqual({ status: "SUCCESS" });
    // a bulk that finds no free slot is refused with 503 (Dapr delivers it again), never left waiting on the pool
    expect(statuses.filter((s) => s !== "SUCCESS,SUCCESS" && s !== "503")).toEqual([]);
  }, 60_000);
});
