import * as net from "node:net";
import { Harness, startHarness } from "./harness";
import { post, validEvent } from "./support";

let h: Harness;
beforeAll(async () => { h = await startHarness({ limits: { maxInFlight: 4 } }); });
afterAll(async () => { await h?.stop(); });
beforeEach(() => h.dapr.clear());

const storedIds = async (ids: string[]) => (await h.sql("SELECT id FROM event_log WHERE id = ANY($1)", [ids])).map((r) => r.id);

describe("request bodies", () => {
  it("dead-letters a body that is not valid UTF-8 as malformed instead of storing replacement characters", async () => {
    const ev = validEvent("customer.registered");
    ev.data.customerId = "c-\u00ff\u00fe";
    const res = await post(h.app.port, "/events/customer.registered", Buffer.from(JSON.stringify(ev), "latin1"));
    expect(res.json).toEqual({ status: "SUCCESS" });
    const dl = h.dapr.on("customer.registered.dead-letter");
    expect(dl.map((p) => p.body.reason)).toEqual(["malformed"]);
    expect(dl[0].body.errors[0]).toEqual({ field: "(body)", message: expect.stringMatching(/^is not valid UTF-8 \(first bad byte at offset \d+\)$/) });
    expect(await storedIds([ev.id])).toEqual([]);
  });

  it("stores an event that starts with a UTF-8 byte order mark", async () => {
    const ev = validEvent("customer.registered");
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(ev))]);
    expect((await post(h.app.port, "/events/customer.registered", body)).json).toEqual({ status: "SUCCESS" });
    expect(await storedIds([ev.id])).toEqual([ev.id]);
  });

  it.each(["application/cloudevents+json", "application/json", "application/json; charset=utf-8", "application/cloudevents+json;charset=\"UTF-8\""])("accepts content-type %s", async (type) => {
    expect((await h.deliver("order.created", validEvent("order.created"), { "content-type": type })).json).toEqual({ status: "SUCCESS" });
  });

  it.each(["text/plain", "application/cloudevents+json; charset=iso-8859-1", "application/cloudevents-batch+json", "application/x-www-form-urlencoded"])("refuses content-type %s with 415", async (type) => {
    const res = await h.deliver("order.created", validEvent("order.created"), { "content-type": type });
    expect(res.status).toBe(415);
    expect(res.json.error).toMatch(/^content-type must be application\/cloudevents\+json or application\/json/);
    expect(h.dapr.published).toHaveLength(0);
  });

  it.each(["text/plain", "application/cloudevents-batch+json", "application/json; charset=iso-8859-1", "multipart/form-data; boundary=x"])("refuses a bulk delivery with content-type %s with 415", async (type) => {
    const body = JSON.stringify({ entries: [{ entryId: "1", event: validEvent("order.created") }] });
    const res = await post(h.app.port, "/bulk/order.created", body, { "content-type": type });
    expect(res.status).toBe(415);
    expect(res.json.error).toMatch(/^content-type of a bulk delivery must be application\/json/);
    expect(h.dapr.published).toHaveLength(0);
    const ok = await post(h.app.port, "/bulk/order.created", body, { "content-type": "application/json; charset=utf-8" });
    expect(ok.json.statuses).toEqual([{ entryId: "1", status: "SUCCESS" }]);
  });

  it.each(["/events/%E0%A4%A", "/bulk/%"])("answers 400 for malformed percent-encoding in %s", async (path) => {
    const res = await post(h.app.port, path, "{}");
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/is not valid percent-encoding$/);
  });

  it("serves deliveries while more clients than maxInFlight trickle their bodies", async () => {
    const sockets = Array.from({ length: 8 }, () => {
      const s = net.connect(h.app.port, "127.0.0.1");
      s.on("error", () => undefined);
      s.write("POST /events/order.created HTTP/1.1\r\nHost: x\r\nContent-Type: application/cloudevents+json\r\nContent-Length: 100000\r\n\r\n{");
      return s;
    });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const res = await h.deliver("order.created", validEvent("order.created"));
      expect(res).toEqual({ status: 200, json: { status: "SUCCESS" } });
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
