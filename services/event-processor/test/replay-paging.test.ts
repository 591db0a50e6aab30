import { Harness, startHarness } from "./harness";
import { get, validEvent } from "./support";

let h: Harness;
beforeAll(async () => { h = await startHarness({ limits: { maxReplayPageBytes: 250_000 } }); });
afterAll(async () => { await h?.stop(); });
beforeEach(() => h.dapr.heal());

interface Page { events: Array<{ seq: number; cursor: string; event: { id: string } }>; next: string | null }

/** Pages through a query from `after` until next is null; returns the ids in order and the cursor of the last event. */
async function pageThrough(query: string, after?: string): Promise<{ ids: string[]; pages: number; last?: string }> {
  const ids: string[] = [];
  let cursor = after;
  let last = after;
  for (let pages = 1; pages <= 50; pages++) {
    const res = await get(h.app.port, `/replay?${query}${cursor ? `&after=${cursor}` : ""}`);
    expect(res.status).toBe(200);
    const page = res.json as Page;
    ids.push(...page.events.map((e) => e.event.id));
    if (page.events.length) last = page.events[page.events.length - 1].cursor;
    if (page.next === null) return { ids, pages, last };
    cursor = page.next;
  }
  throw new Error(`replay of ${query} did not end within 50 pages`);
}

describe("replay paging", () => {
  it("never returns an event ahead of one still being stored, so resuming from a cursor skips nothing", async () => {
    const type = "customer.registered";
    const early = [validEvent(type), validEvent(type)];
    for (const ev of early) await h.deliver(type, ev);
    const slow = validEvent(type);
    const fast = validEvent(type);
    // the slow event takes its sequence number first but commits last: its forward waits 1.5 s inside the transaction
    h.dapr.slowFor(slow.id, 1500);
    const slowDelivery = h.deliver(type, slow);
    await new Promise((r) => setTimeout(r, 300));
    expect((await h.deliver(type, fast)).json).toEqual({ status: "SUCCESS" });

    const meanwhile = await pageThrough(`type=${type}&limit=1`);
    expect(meanwhile.ids).toEqual(early.map((e) => e.id));

    expect((await slowDelivery).json).toEqual({ status: "SUCCESS" });
    const rest = await pageThrough(`type=${type}&limit=1`, meanwhile.last);
    expect(rest.ids).toEqual([slow.id, fast.id]);
  });

  it("bounds a page by bytes, and returns a larger event alone", async () => {
    const type = "payment.completed";
    const events = Array.from({ length: 5 }, () => validEvent(type, { subject: "s".repeat(100_000) }));
    for (const ev of events) expect((await h.deliver(type, ev)).json).toEqual({ status: "SUCCESS" });
    const all = await pageThrough(`type=${type}&limit=1000`);
    expect(all).toMatchObject({ ids: events.map((e) => e.id), pages: 3 });
    const big = validEvent(type, { subject: "b".repeat(300_000) });
    expect((await h.deliver(type, big)).json).toEqual({ status: "SUCCESS" });
    const last = await get(h.app.port, `/replay?type=${type}&after=${all.last}`);
    expect(last.json.events.map((e: { event: { id: string } }) => e.event.id)).toEqual([big.id]);
  });

  it.each([
    ["from=0", "from must be an RFC 3339 timestamp"],
    ["from=-271821-04-20T00:00:00Z", "from must be an RFC 3339 timestamp"],
    ["from=May%201%202024", "from must be an RFC 3339 timestamp"],
    ["to=2024-02-30T00:00:00Z", "to must be an RFC 3339 timestamp"],
    ["limit=1e1", "limit must be an integer"],
    ["after=12", "after must be the next cursor of a previous page"],
    ["after=", "after must be the next cursor of a previous page"],
    ["type=payment.completed", "type must be given once"],
  ])("refuses %s with 400 naming the parameter", async (param, message) => {
    const res = await get(h.app.port, `/replay?type=order.created&${param}`);
    expect(res.status).toBe(400);
    expect(res.json.details.join("\n")).toContain(message);
  });
});
