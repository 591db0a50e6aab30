import { timestampProblem } from "../../shared/timestamp";
import { Harness, startHarness } from "./harness";
import { validEvent } from "./support";

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.stop(); });
beforeEach(() => h.dapr.clear());

/**
 * Date-times the old check passed: PostgreSQL refuses all but hour 24 (RFC 3339 has hours 00-23 only, PostgreSQL
 * reads 24:00:00 as the next midnight), and the refused ones were retried forever.
 */
const UNSTORABLE = [
  "2024-02-30T12:00:00Z",
  "2023-02-29T12:00:00Z",
  "1900-02-29T12:00:00Z",
  "2024-04-31T12:00:00Z",
  "0000-01-01T00:00:00Z",
  "2024-05-01T24:00:00Z",
  "2024-05-01T12:00:00+16:00",
  "2024-05-01T12:00:00-20:00",
  "2024-05-01T12:00:00+23:59",
];
const STORABLE = [
  "2024-02-29T12:00:00Z",
  "2000-02-29T00:00:00Z",
  "2024-05-01t12:00:00z",
  "2024-05-01T12:00:00.123456789Z",
  "2024-05-01T23:59:60Z",
  "2024-05-01T12:00:00+15:59",
  "2024-05-01T12:00:00-00:00",
  "0001-01-01T00:00:00+15:59",
  "9999-12-31T23:59:59-15:59",
];

describe("event time", () => {
  it("accepts RFC 3339 date-times only when PostgreSQL stores them, and all of those", async () => {
    const verdicts = await Promise.all([...UNSTORABLE, ...STORABLE].map(async (t) => {
      const pg = await h.sql("SELECT $1::timestamptz AS t", [t]).then(() => true, () => false);
      return { t, pg, validator: timestampProblem(t) === undefined };
    }));
    expect(verdicts.filter((v) => v.validator && !v.pg)).toEqual([]);
    expect(verdicts.filter((v) => v.validator).map((v) => v.t)).toEqual(STORABLE);
  });

  it.each(UNSTORABLE)("dead-letters an event at %s instead of retrying it forever", async (time) => {
    const ev = validEvent("order.created", { time });
    expect((await h.deliver("order.created", ev)).json).toEqual({ status: "SUCCESS" });
    const dl = h.dapr.on("order.created.dead-letter");
    expect(dl).toHaveLength(1);
    expect(dl[0].body.reason).toBe("envelope");
    expect(dl[0].body.errors[0]).toMatchObject({ field: "time", message: expect.stringContaining(JSON.stringify(time)) });
  });

  it("names what is wrong with the date-time", () => {
    expect(timestampProblem("2023-02-29T12:00:00Z")).toBe("has day 29, but 2023-02 has 28 days");
    expect(timestampProblem("2024-05-01T12:00:00+16:00")).toBe("has UTC offset hour 16; offsets beyond ±15:59 cannot be stored");
    expect(timestampProblem("2024-05-01 12:00:00Z")).toMatch(/is not an RFC 3339 date-time/);
  });

  it("stores the other entries of a bulk delivery that holds one such event", async () => {
    const good = [validEvent("order.created"), validEvent("order.created")];
    const bad = validEvent("order.created", { time: "2024-02-30T12:00:00Z" });
    const res = await h.deliverBulk("order.created", [["g1", good[0]], ["bad", bad], ["g2", good[1]]]);
    expect(res.json.statuses.map((s: { status: string }) => s.status)).toEqual(["SUCCESS", "SUCCESS", "SUCCESS"]);
    const rows = await h.sql("SELECT id FROM event_log WHERE id = ANY($1)", [[...good, bad].map((e) => e.id)]);
    expect(rows.map((r) => r.id).sort()).toEqual(good.map((e) => e.id).sort());
    expect(h.dapr.on("order.created.dead-letter").map((p) => p.body.errors[0].field)).toEqual(["time"]);
  });
});
