import { Harness, startHarness } from "./harness";
import { validEvent } from "./support";

let h: Harness;

// Validation now refuses what PostgreSQL is known to refuse; the safety net is for what it does not know yet. A
// trigger makes the database refuse chosen events the way PostgreSQL refuses data: with a data exception (class 22),
// a program limit (54000, as for an index row over the btree limit), or a transient error (40001).
beforeAll(async () => {
  h = await startHarness({ poolSize: 4 });
  await h.sql(`
    CREATE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id LIKE 'data-%' THEN RAISE EXCEPTION 'date/time field value out of range (test)' USING ERRCODE = '22008'; END IF;
        IF NEW.id LIKE 'limit-%' THEN RAISE EXCEPTION 'index row size exceeds btree maximum (test)' USING ERRCODE = '54000'; END IF;
        IF NEW.id LIKE 'transient-%' THEN RAISE EXCEPTION 'could not serialize access (test)' USING ERRCODE = '40001'; END IF;
        RETURN NEW;
      END $$;
    CREATE TRIGGER refuse_for_test BEFORE INSERT ON event_log FOR EACH ROW EXECUTE FUNCTION refuse_for_test();`);
});
afterAll(async () => { await h?.stop(); });
beforeEach(() => h.dapr.clear());

const stored = async (ids: string[]) => (await h.sql("SELECT id FROM event_log WHERE id = ANY($1)", [ids])).map((r) => r.id).sort();
const event = (id: string) => validEvent("order.created", { id: `${id}-${Math.random().toString(36).slice(2)}` });

describe("events the database refuses", () => {
  it.each([["data-", "22008"], ["limit-", "54000"]])("dead-letters an event refused with %s (SQLSTATE %s) as unstorable, on every delivery", async (prefix, code) => {
    const ev = event(prefix);
    for (let i = 0; i < 2; i++) expect((await h.deliver("order.created", ev)).json).toEqual({ status: "SUCCESS" });
    const dl = h.dapr.on("order.created.dead-letter");
    expect(dl).toHaveLength(2);
    expect(dl[0].body.reason).toBe("unstorable");
    expect(dl[0].body.event.id).toBe(ev.id);
    expect(dl[0].body.errors[0].message).toMatch(new RegExp(`cannot be stored: .*\\(test\\) \\(SQLSTATE ${code}\\)`));
    expect(h.dapr.on("order.created.validated")).toHaveLength(0);
  });

  it("answers RETRY for a transient database error", async () => {
    expect((await h.deliver("order.created", event("transient"))).json).toEqual({ status: "RETRY" });
    expect(h.dapr.on("order.created.dead-letter")).toHaveLength(0);
  });

  it("stores the other entries of a bulk delivery, dead-letters the refused one and retries the transient one", async () => {
    const good = [event("good"), event("good"), event("good")];
    const data = event("data");
    const transient = event("transient");
    const res = await h.deliverBulk("order.created", [["a", good[0]], ["d", data], ["b", good[1]], ["t", transient], ["c", good[2]]]);
    expect(res.json.statuses).toEqual([
      { entryId: "a", status: "SUCCESS" }, { entryId: "d", status: "SUCCESS" }, { entryId: "b", status: "SUCCESS" },
      { entryId: "t", status: "RETRY" }, { entryId: "c", status: "SUCCESS" },
    ]);
    expect(await stored([...good, data, transient].map((e) => e.id))).toEqual(good.map((e) => e.id).sort());
    expect(h.dapr.on("order.created.validated").map((p) => p.body.id).sort()).toEqual(good.map((e) => e.id).sort());
    expect(h.dapr.on("order.created.dead-letter").map((p) => [p.body.reason, p.body.event.id])).toEqual([["unstorable", data.id]]);
  });

  it("isolates a refused event among concurrent single deliveries that share a transaction", async () => {
    h.dapr.delayMs = 50;
    try {
      const events = Array.from({ length: 20 }, (_, i) => event(i === 7 ? "data" : "good"));
      const answers = await Promise.all(events.map((ev) => h.deliver("order.created", ev)));
      expect(answers.map((a) => a.json.status)).toEqual(Array(20).fill("SUCCESS"));
      const good = events.filter((_, i) => i !== 7).map((e) => e.id);
      expect(await stored(events.map((e) => e.id))).toEqual(good.sort());
      expect(h.dapr.on("order.created.dead-letter").map((p) => p.body.event.id)).toEqual([events[7].id]);
    } finally {
      h.dapr.delayMs = 0;
    }
  });
});
