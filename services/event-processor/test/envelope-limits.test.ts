import { randomInt } from "node:crypto";
import { Harness, startHarness } from "./harness";
import { validEvent } from "./support";

let h: Harness;
beforeAll(async () => { h = await startHarness({ limits: { maxBodyBytes: 1024 * 1024, maxDeadLetterEventBytes: 4096 } }); });
afterAll(async () => { await h?.stop(); });
beforeEach(() => h.dapr.clear());

/** Random CJK characters: 3 bytes each in UTF-8, and incompressible, so an index entry gets no smaller. */
const cjk = (n: number) => Array.from({ length: n }, () => String.fromCharCode(0x4e00 + randomInt(0x5000))).join("");
const deadLetters = () => h.dapr.on("order.created.dead-letter");

describe("envelope limits", () => {
  it("stores an event at the byte limits of source and id, incompressible, within the index's row limit", async () => {
    const ev = validEvent("order.created", { source: `/${cjk(341)}`, id: `x${cjk(85)}` });
    expect([Buffer.byteLength(ev.source), Buffer.byteLength(ev.id)]).toEqual([1024, 256]);
    expect((await h.deliver("order.created", ev)).json).toEqual({ status: "SUCCESS" });
    expect(h.dapr.on("order.created.validated").map((p) => p.body.id)).toEqual([ev.id]);
  });

  it.each([
    ["source", { source: `/${cjk(342)}` }, "must be at most 1024 bytes in UTF-8 (got 1027)"],
    ["id", { id: cjk(86) }, "must be at most 256 bytes in UTF-8 (got 258)"],
  ])("dead-letters a multi-byte %s over its limit in bytes, naming it", async (field, patch, message) => {
    expect((await h.deliver("order.created", validEvent("order.created", patch))).json).toEqual({ status: "SUCCESS" });
    expect(deadLetters()[0].body.errors).toContainEqual({ field, message });
  });

  it.each(["specversion", "datacontenttype", "dataschema", "subject"])("dead-letters an event whose %s is nested 200,000 deep, describing it by type", async (attr) => {
    const text = JSON.stringify(validEvent("order.created", { [attr]: "__X__" })).replace('"__X__"', `${"[".repeat(200_000)}${"]".repeat(200_000)}`);
    const res = await h.deliver("order.created", text);
    expect(res).toEqual({ status: 200, json: { status: "SUCCESS" } });
    const errors = deadLetters()[0].body.errors;
    expect(errors.find((e: { field: string }) => e.field === attr)?.message).toMatch(/an array of 1\)?$/);
  });

  it("bounds the dead-letter message when every error names a huge path", async () => {
    const ev = validEvent("task.completed");
    let inner: Record<string, unknown> = { a: "\u0000", b: "\u0000", c: "\u0000", d: "\u0000", e: "\u0000" };
    for (let i = 0; i < 45; i++) inner = { [`${"k".repeat(20_000)}${i}`]: inner };
    ev.data.result = inner;
    expect((await h.deliver("task.completed", ev)).json).toEqual({ status: "SUCCESS" });
    const dl = h.dapr.on("task.completed.dead-letter")[0].body;
    expect(Buffer.byteLength(JSON.stringify(dl))).toBeLessThan(4096 + 20 * 1024);
    expect(dl.event).toBeUndefined();
    expect(dl.eventSummary).toMatchObject({ id: ev.id, type: "task.completed" });
    expect(dl.errors[0].field.length).toBeLessThanOrEqual(256 + 3);
  });

  it("bounds the errors of a dead-letter message in count, with a last entry counting the rest", async () => {
    const ev = validEvent("order.created", Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`Bad-${i}`, 1])));
    await h.deliver("order.created", ev);
    const errors = deadLetters()[0].body.errors;
    expect(errors).toHaveLength(21);
    expect(errors[20]).toEqual({ field: "(errors)", message: "20 more not shown" });
  });

  it("dead-letters an entry of a bulk delivery over maxBodyBytes as oversized, as a single delivery would be", async () => {
    const big = validEvent("order.created", { subject: "x".repeat(1024 * 1024 + 1) });
    const small = validEvent("order.created");
    const res = await h.deliverBulk("order.created", [["big", big], ["small", small], ["text", JSON.stringify(big)]]);
    expect(res.json.statuses.map((s: { status: string }) => s.status)).toEqual(["SUCCESS", "SUCCESS", "SUCCESS"]);
    expect(deadLetters().map((p) => p.body.reason)).toEqual(["oversized", "oversized"]);
    expect(deadLetters()[0].body).toMatchObject({ eventSummary: { id: big.id }, errors: [{ field: "(body)", message: expect.stringMatching(/over the limit of 1048576$/) }] });
    expect((await h.sql("SELECT id FROM event_log WHERE id = ANY($1)", [[big.id, small.id]])).map((r) => r.id)).toEqual([small.id]);
  });
});
