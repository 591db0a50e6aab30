import { Client } from "pg";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { Catalog } from "../src/catalog";
import { resolveConfig } from "../src/config";
import { silentLogger } from "../src/log";
import { RunningProcessor, startProcessor } from "../src/server";
import { FakeDapr } from "./fake-dapr";
import { bundle, get, metricSum, post, sampleCatalog, validEvent } from "./support";

let pg: TestPostgres;
let dapr: FakeDapr;
let app: RunningProcessor;
let dbUrl: string;
const TYPES = sampleCatalog.definitions.map((d) => d.type);

beforeAll(async () => {
  pg = await startPostgres();
  dbUrl = await pg.createDatabase();
  dapr = await new FakeDapr().start();
  const config = resolveConfig(
    { port: 0, metricsPort: 0, host: "127.0.0.1", dapr: { httpPort: dapr.port, timeoutMs: 2000 }, limits: { maxBodyBytes: 64 * 1024, maxBulkEntries: 50, maxDeadLetterEventBytes: 4096 } },
    { DATABASE_URL: dbUrl },
  );
  app = await startProcessor(config, silentLogger, new Catalog(bundle));
});

afterAll(async () => {
  await app?.stop();
  await dapr?.stop();
  await pg?.stop();
});

beforeEach(() => {
  dapr.heal();
  dapr.clear();
});

const deliver = (type: string, event: unknown, headers: Record<string, string> = {}) =>
  post(app.port, `/events/${type}`, typeof event === "string" ? event : JSON.stringify(event), headers);

async function stored(source: string, id: string): Promise<number> {
  const c = new Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const { rows } = await c.query("SELECT count(*)::int AS n FROM event_log WHERE source = $1 AND id = $2", [source, id]);
    return rows[0].n;
  } finally {
    await c.end();
  }
}

describe("single delivery", () => {
  it.each(TYPES)("forwards a schema-valid %s event to its validated topic and stores it", async (type) => {
    const ev = validEvent(type, { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", pubsubname: "events", topic: type });
    const res = await deliver(type, ev, { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
    expect(res).toEqual({ status: 200, json: { status: "SUCCESS" } });
    const fwd = dapr.on(`${type}.validated`);
    expect(fwd).toHaveLength(1);
    expect(fwd[0].contentType).toBe("application/cloudevents+json");
    expect(fwd[0].body.id).toBe(ev.id);
    expect(fwd[0].body.data).toEqual(ev.data);
    // per-delivery transport attributes are not forwarded; trace context travels as a header
    expect(fwd[0].body.pubsubname).toBeUndefined();
    expect(fwd[0].headers.traceparent).toBe(ev.traceparent);
    expect(await stored(ev.source, ev.id)).toBe(1);
  });

  it.each(TYPES)("dead-letters a %s event whose data breaks the schema, naming the field", async (type) => {
    const ev = validEvent(type);
    const required = (sampleCatalog.get(type).schema.required as string[])[0];
    delete ev.data[required];
    ev.data.unexpected = true;
    const res = await deliver(type, ev);
    expect(res.json).toEqual({ status: "SUCCESS" });
    expect(dapr.on(`${type}.validated`)).toHaveLength(0);
    const dl = dapr.on(`${type}.dead-letter`);
    expect(dl).toHaveLength(1);
    expect(dl[0].contentType).toBe("application/json");
    expect(dl[0].body.reason).toBe("schema");
    expect(dl[0].body.event.id).toBe(ev.id);
    const messages = dl[0].body.errors.map((e: { field: string; message: string }) => `${e.field} ${e.message}`);
    expect(messages).toContain(`data must have required property '${required}'`);
    if (sampleCatalog.get(type).schema.additionalProperties === false) expect(messages).toContain("data must NOT have additional properties 'unexpected'");
    expect(await stored(ev.source, ev.id)).toBe(0);
  });

  it.each(["specversion", "id", "source", "type", "time"])("dead-letters an event without %s", async (field) => {
    const ev = validEvent("order.created");
    delete ev[field];
    await deliver("order.created", ev);
    const dl = dapr.on("order.created.dead-letter");
    expect(dl).toHaveLength(1);
    expect(dl[0].body.reason).toBe("envelope");
    expect(dl[0].body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it.each([
    ["specversion 0.3", { specversion: "0.3" }, "specversion"],
    ["a time that is not RFC 3339", { time: "yesterday" }, "time"],
    ["a type other than the topic's", { type: "payment.completed" }, "type"],
    ["a different schema version", { dataschema: "urn:stratum:events:order.created:v2" }, "dataschema"],
    ["a non-JSON content type", { datacontenttype: "text/plain" }, "datacontenttype"],
    ["data_base64", { data_base64: "e30=" }, "data_base64"],
    ["an invalid extension name", { "Bad-Name": "x" }, "Bad-Name"],
    ["a fractional extension number (CloudEvents Integers are whole)", { priority: 1.5 }, "priority"],
    ["an extension number beyond 32 bits", { priority: 2 ** 31 }, "priority"],
    ["an id longer than 256", { id: "x".repeat(300) }, "id"],
    ["a NUL character (PostgreSQL cannot store it)", { subject: "a\u0000b" }, "/subject"],
    ["a lone surrogate (PostgreSQL cannot store it)", { data: { ...validEvent("order.created").data, customerId: "\ud800" } }, "/data/customerId"],
  ])("dead-letters an event with %s", async (_what, patch, field) => {
    const ev = { ...validEvent("order.created"), ...patch };
    expect((await deliver("order.created", ev)).json).toEqual({ status: "SUCCESS" });
    const dl = dapr.on("order.created.dead-letter");
    expect(dl).toHaveLength(1);
    expect(dl[0].body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it("dead-letters a number too large for a 64-bit float instead of storing it as null", async () => {
    const event = validEvent("order.created");
    const text = JSON.stringify({ ...event, data: { ...event.data, note: "__HUGE__" }, rank: "__HUGE__" }).replace(/"__HUGE__"/g, "1e400");
    expect((await deliver("order.created", text)).json).toEqual({ status: "SUCCESS" });
    const dl = dapr.on("order.created.dead-letter")[0];
    expect(dl.body.reason).toBe("envelope");
    expect(dl.body.errors).toContainEqual({ field: "rank", message: "must be a CloudEvents Integer, a whole number from -2147483648 to 2147483647 (got Infinity)" });
    expect(dl.body.errors).toContainEqual({ field: "/data/note", message: "is a number beyond the range of a 64-bit float, which would be stored as null" });
    expect(await stored(event.source, event.id)).toBe(0);
  });

  it("dead-letters deeply nested data instead of crashing or retrying", async () => {
    const text = JSON.stringify(validEvent("order.created")).replace(/"data":\{.*\}\}$/, `"data":${"[".repeat(5000)}"leaf"${"]".repeat(5000)}}`);
    const res = await deliver("order.created", text);
    expect(res.json).toEqual({ status: "SUCCESS" });
    const dl = dapr.on("order.created.dead-letter")[0];
    expect(dl.body.errors.some((e: { message: string }) => /nested deeper than 64/.test(e.message))).toBe(true);
  });

  it.each([
    ["malformed JSON", "{\"specversion\": \"1.0\", "],
    ["a JSON array", "[1, 2, 3]"],
    ["JSON null", "null"],
    ["an empty body", ""],
  ])("dead-letters %s with the raw body attached", async (_what, body) => {
    expect((await deliver("order.created", body)).json).toEqual({ status: "SUCCESS" });
    const dl = dapr.on("order.created.dead-letter");
    expect(dl).toHaveLength(1);
    expect(["malformed", "envelope"]).toContain(dl[0].body.reason);
  });

  it("dead-letters an oversized payload with its size and without reading it into memory", async () => {
    const ev = validEvent("order.created", { subject: "x".repeat(100 * 1024) });
    expect((await deliver("order.created", ev)).json).toEqual({ status: "SUCCESS" });
    const dl = dapr.on("order.created.dead-letter")[0];
    expect(dl.body.reason).toBe("oversized");
    expect(dl.body.bytes).toBeGreaterThan(100 * 1024);
    expect(dl.body.event).toBeUndefined();
  });

  it("summarises a large invalid event in the dead letter instead of copying it", async () => {
    const ev = validEvent("order.created", { subject: "y".repeat(8 * 1024) });
    ev.data.orderId = "not-a-uuid";
    await deliver("order.created", ev);
    const dl = dapr.on("order.created.dead-letter")[0];
    expect(dl.body.event).toBeUndefined();
    expect(dl.body.eventSummary).toMatchObject({ id: ev.id, source: ev.source, type: "order.created" });
  });

  it("stores and forwards a redelivered event once", async () => {
    const ev = validEvent("payment.completed");
    for (let i = 0; i < 3; i++) expect((await deliver("payment.completed", ev)).json).toEqual({ status: "SUCCESS" });
    expect(dapr.on("payment.completed.validated")).toHaveLength(1);
    expect(await stored(ev.source, ev.id)).toBe(1);
  });

  it("forwards once when the same event is delivered concurrently", async () => {
    const ev = validEvent("order.created");
    const answers = await Promise.all(Array.from({ length: 12 }, () => deliver("order.created", ev)));
    expect(answers.every((a) => a.json.status === "SUCCESS")).toBe(true);
    expect(dapr.on("order.created.validated")).toHaveLength(1);
    expect(await stored(ev.source, ev.id)).toBe(1);
  });

  it("stores concurrent single deliveries in shared transactions, each forwarded with its own trace context", async () => {
    dapr.delayMs = 40;
    try {
      const events = Array.from({ length: 30 }, () => validEvent("order.created"));
      const trace = (i: number) => `00-${"0".repeat(24)}${String(i + 1).padStart(8, "0")}-b7ad6b7169203331-01`;
      const groups = async () => {
        const text = (await get(app.metricsPort, "/metrics")).text;
        return { count: metricSum(text, "event_processor_single_group_events_count"), sum: metricSum(text, "event_processor_single_group_events_sum") };
      };
      const before = await groups();
      const answers = await Promise.all(events.map((ev, i) => deliver("order.created", ev, { traceparent: trace(i) })));
      const after = await groups();
      expect(answers.every((a) => a.json.status === "SUCCESS")).toBe(true);
      for (const ev of events) expect(await stored(ev.source, ev.id)).toBe(1);
      const fwd = dapr.on("order.created.validated");
      expect(fwd).toHaveLength(30);
      events.forEach((ev, i) => expect(fwd.find((f) => f.body.id === ev.id)?.headers.traceparent).toBe(trace(i)));
      // 30 events, at most poolSize/2 transactions in flight while each waits 40 ms on its publishes
      expect(after.sum - before.sum).toBe(30);
      expect(after.count - before.count).toBeLessThan(15);
    } finally {
      dapr.delayMs = 0;
    }
  });

  it("fails only the deliveries whose forward is refused when they shared a transaction with others", async () => {
    dapr.delayMs = 20;
    dapr.fail(500, (t) => t === "payment.completed.validated");
    try {
      const good = Array.from({ length: 10 }, () => validEvent("order.created"));
      const bad = Array.from({ length: 10 }, () => validEvent("payment.completed"));
      const answers = await Promise.all([...good.map((ev) => deliver("order.created", ev)), ...bad.map((ev) => deliver("payment.completed", ev))]);
      expect(answers.slice(0, 10).map((a) => a.json.status)).toEqual(Array(10).fill("SUCCESS"));
      expect(answers.slice(10).map((a) => a.json.status)).toEqual(Array(10).fill("RETRY"));
      for (const ev of good) expect(await stored(ev.source, ev.id)).toBe(1);
      for (const ev of bad) expect(await stored(ev.source, ev.id)).toBe(0);
    } finally {
      dapr.delayMs = 0;
      dapr.heal();
    }
  });

  it("treats the same id from another source as a different event", async () => {
    const a = validEvent("order.created");
    const b = { ...a, source: "/services/order-eu" };
    await deliver("order.created", a);
    await deliver("order.created", b);
    expect(dapr.on("order.created.validated")).toHaveLength(2);
  });

  it("answers RETRY and stores nothing while the sidecar cannot publish, then forwards on redelivery", async () => {
    const ev = validEvent("order.created");
    dapr.fail(500);
    expect((await deliver("order.created", ev)).json).toEqual({ status: "RETRY" });
    expect(await stored(ev.source, ev.id)).toBe(0);
    dapr.heal();
    expect((await deliver("order.created", ev)).json).toEqual({ status: "SUCCESS" });
    expect(dapr.on("order.created.validated")).toHaveLength(1);
    expect(await stored(ev.source, ev.id)).toBe(1);
  });

  it("answers RETRY when the dead-letter publish fails transiently, DROP when the sidecar refuses it", async () => {
    const bad = { ...validEvent("order.created"), time: "never" };
    dapr.fail(503, (t) => t.endsWith(".dead-letter"));
    expect((await deliver("order.created", bad)).json).toEqual({ status: "RETRY" });
    dapr.fail(403, (t) => t.endsWith(".dead-letter"));
    expect((await deliver("order.created", bad)).json).toEqual({ status: "DROP" });
  });

  it("answers RETRY when the sidecar is unreachable", async () => {
    const down = new FakeDapr();
    // a port with nothing listening: start and stop a server to get one
    await down.start();
    const port = down.port;
    await down.stop();
    const config = resolveConfig({ port: 0, metricsPort: 0, host: "127.0.0.1", dapr: { httpPort: port } }, { DATABASE_URL: dbUrl });
    const other = await startProcessor(config, silentLogger, new Catalog(bundle));
    try {
      const res = await post(other.port, "/events/order.created", JSON.stringify(validEvent("order.created")));
      expect(res.json).toEqual({ status: "RETRY" });
    } finally {
      await other.stop();
    }
  });
});

describe("database failure", () => {
  it("answers RETRY and reports not ready while PostgreSQL is down, without crashing", async () => {
    const own = await startPostgres();
    const config = resolveConfig({ port: 0, metricsPort: 0, host: "127.0.0.1", dapr: { httpPort: dapr.port } }, { DATABASE_URL: await own.createDatabase() });
    const other = await startProcessor(config, silentLogger, new Catalog(bundle));
    try {
      expect((await post(other.port, "/events/order.created", JSON.stringify(validEvent("order.created")))).json).toEqual({ status: "SUCCESS" });
      await own.stop();
      expect((await post(other.port, "/events/order.created", JSON.stringify(validEvent("order.created")))).json).toEqual({ status: "RETRY" });
      expect((await get(other.port, "/readyz")).status).toBe(503);
      expect((await get(other.port, "/healthz")).status).toBe(200);
    } finally {
      await other.stop();
      await own.stop();
    }
  });
});

describe("bulk delivery", () => {
  const entry = (entryId: string, event: unknown) => ({ entryId, event, contentType: "application/cloudevents+json", metadata: {} });
  const deliverBulk = (type: string, entries: unknown[]) =>
    post(app.port, `/bulk/${type}`, JSON.stringify({ id: "b1", entries, metadata: {}, pubsubname: "events", topic: type, type: "com.dapr.event.sent.bulk" }), { "content-type": "application/json" });

  it("answers per entry: valid ones forwarded once, invalid ones dead-lettered, duplicates acknowledged", async () => {
    const known = validEvent("customer.registered");
    await deliver("customer.registered", known);
    dapr.clear();
    const fresh = validEvent("customer.registered");
    const bad = validEvent("customer.registered");
    bad.data.email = "not-an-email";
    const res = await deliverBulk("customer.registered", [
      entry("1", fresh),
      entry("2", bad),
      entry("3", known),
      entry("4", fresh),
      entry("5", JSON.stringify(validEvent("customer.registered"))),
      entry("6", "{not json"),
    ]);
    expect(res.status).toBe(200);
    expect(res.json.statuses).toEqual(["1", "2", "3", "4", "5", "6"].map((entryId) => ({ entryId, status: "SUCCESS" })));
    const fwd = dapr.on("customer.registered.validated");
    expect(fwd.map((p) => p.body.id).sort()).toEqual([fresh.id, JSON.parse(JSON.stringify(fwd.find((p) => p.body.id !== fresh.id)?.body)).id].sort());
    expect(fwd.every((p) => p.bulk)).toBe(true);
    const dl = dapr.on("customer.registered.dead-letter");
    expect(dl.map((p) => p.body.reason).sort()).toEqual(["malformed", "schema"]);
    expect(dl.find((p) => p.body.reason === "schema")!.body.errors[0]).toEqual({ field: "data/email", message: 'must match format "email"' });
  });

  it("answers RETRY for the valid entries when forwarding fails, and stores none of them", async () => {
    const a = validEvent("order.created");
    const b = validEvent("order.created");
    const bad = { ...validEvent("order.created"), specversion: "2.0" };
    dapr.fail(500, (t) => t.endsWith(".validated"));
    const res = await deliverBulk("order.created", [entry("a", a), entry("b", b), entry("x", bad)]);
    expect(res.json.statuses).toEqual([{ entryId: "a", status: "RETRY" }, { entryId: "b", status: "RETRY" }, { entryId: "x", status: "SUCCESS" }]);
    expect(await stored(a.source, a.id)).toBe(0);
    dapr.heal();
    const again = await deliverBulk("order.created", [entry("a", a), entry("b", b)]);
    expect(again.json.statuses.map((s: { status: string }) => s.status)).toEqual(["SUCCESS", "SUCCESS"]);
    expect(dapr.on("order.created.validated")).toHaveLength(2);
  });

  it.each([
    ["not JSON", "{", "bulk delivery is not valid JSON"],
    ["without entries", JSON.stringify({ id: "x" }), "not a bulk delivery"],
    ["with duplicate entry ids", JSON.stringify({ entries: [entry("1", {}), entry("1", {})] }), "not a bulk delivery"],
    ["with too many entries", JSON.stringify({ entries: Array.from({ length: 51 }, (_, i) => entry(String(i), {})) }), "not a bulk delivery"],
  ])("refuses a bulk body %s with 400", async (_what, body, error) => {
    const res = await post(app.port, "/bulk/order.created", body, { "content-type": "application/json" });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe(error);
  });
});

describe("routes", () => {
  it("answers 404 for a type outside the catalog, so Dapr drops instead of retrying", async () => {
    const res = await post(app.port, "/events/order.shipped", JSON.stringify(validEvent("order.created")));
    expect(res.status).toBe(404);
    expect(res.json.error).toBe("no catalog event type 'order.shipped'");
  });

  it("declares no programmatic subscriptions (the platform ships declarative ones)", async () => {
    expect((await get(app.port, "/dapr/subscribe")).json).toEqual([]);
  });

  it("is live and ready while the database answers", async () => {
    expect((await get(app.port, "/healthz")).status).toBe(200);
    expect((await get(app.port, "/readyz")).json).toEqual({ status: "ready" });
  });
});

describe("replay", () => {
  it("returns stored events of one type in a time range, oldest first, in pages", async () => {
    const times = ["2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z", "2030-01-03T00:00:00Z", "2030-01-04T00:00:00Z"];
    const events = times.map((time) => validEvent("payment.completed", { time }));
    for (const ev of events) await deliver("payment.completed", ev);
    const q = "type=payment.completed&from=2030-01-02T00:00:00Z&to=2030-01-04T00:00:00Z&limit=1";
    const first = await get(app.port, `/replay?${q}`);
    expect(first.status).toBe(200);
    expect(first.json.events.map((e: { event: { id: string } }) => e.event.id)).toEqual([events[1].id]);
    const second = await get(app.port, `/replay?${q}&after=${first.json.next}`);
    expect(second.json.events.map((e: { event: { id: string } }) => e.event.id)).toEqual([events[2].id]);
    expect(second.json.next).toBeNull();
    const all = await get(app.port, "/replay?type=payment.completed&from=2030-01-01T00:00:00Z");
    expect(all.json.events.map((e: { event: { id: string } }) => e.event.id)).toEqual(events.map((e) => e.id));
  });

  it("publishes a stored range again to the validated topic, page by page", async () => {
    const events = ["2031-02-01T00:00:00Z", "2031-02-02T00:00:00Z", "2031-02-03T00:00:00Z"].map((time) => validEvent("order.created", { time }));
    for (const ev of events) await deliver("order.created", ev);
    dapr.clear();
    const q = "type=order.created&from=2031-02-01T00:00:00Z&to=2031-03-01T00:00:00Z&limit=2";
    const first = await post(app.port, `/replay?${q}`, "");
    expect(first.json).toMatchObject({ republished: 2, topic: "order.created.validated" });
    const second = await post(app.port, `/replay?${q}&after=${first.json.next}`, "");
    expect(second.json).toEqual({ republished: 1, topic: "order.created.validated", next: null });
    expect(dapr.on("order.created.validated").map((p) => p.body.id)).toEqual(events.map((e) => e.id));
    dapr.fail(500);
    expect((await post(app.port, `/replay?${q}`, "")).status).toBe(502);
  });

  it("refuses a bad query naming every parameter", async () => {
    const res = await get(app.port, "/replay?type=nope&from=soon&limit=0");
    expect(res.status).toBe(400);
    expect(res.json.details.join("\n")).toMatch(/type must be a catalog event type[\s\S]*from must be an RFC 3339 timestamp[\s\S]*limit must be an integer/);
  });
});

describe("event store", () => {
  it.each([
    ["UPDATE", "UPDATE event_log SET type = 'x'"],
    ["DELETE", "DELETE FROM event_log"],
    ["TRUNCATE", "TRUNCATE event_log"],
  ])("is append-only: %s is refused", async (_op, sql) => {
    await deliver("order.created", validEvent("order.created"));
    const c = new Client({ connectionString: dbUrl });
    await c.connect();
    try {
      await expect(c.query(sql)).rejects.toThrow("event_log is append-only");
    } finally {
      await c.end();
    }
  });
});

describe("metrics", () => {
  it("keeps received = valid + dead-lettered + duplicates, per type and in total, and exports the gap as 0", async () => {
    const res = await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`);
    const text = await res.text();
    const received = metricSum(text, "event_processor_events_received_total");
    expect(received).toBeGreaterThan(50);
    const parts = ["event_processor_events_valid_total", "event_processor_events_dead_lettered_total", "event_processor_events_duplicate_total"];
    expect(parts.reduce((s, m) => s + metricSum(text, m), 0)).toBe(received);
    for (const type of TYPES) {
      const r = metricSum(text, "event_processor_events_received_total", { type });
      expect(parts.reduce((s, m) => s + metricSum(text, m, { type }), 0)).toBe(r);
    }
    expect(metricSum(text, "event_processor_events_duplicate_total")).toBeGreaterThan(0);
    expect(metricSum(text, "event_processor_deliveries_retried_total")).toBeGreaterThan(0);
    expect(text).toMatch(/^event_processor_accounting_gap 0$/m);
  });
});

describe("load limits", () => {
  it("answers 503 with Retry-After beyond maxInFlight, so Dapr retries instead of the process queueing without bound", async () => {
    const slow = await new FakeDapr().start();
    slow.delayMs = 300;
    const config = resolveConfig({ port: 0, metricsPort: 0, host: "127.0.0.1", dapr: { httpPort: slow.port }, limits: { maxInFlight: 2 } }, { DATABASE_URL: dbUrl });
    const other = await startProcessor(config, silentLogger, new Catalog(bundle));
    try {
      const first = [post(other.port, "/events/order.created", JSON.stringify(validEvent("order.created"))), post(other.port, "/events/order.created", JSON.stringify(validEvent("order.created")))];
      await new Promise((r) => setTimeout(r, 100));
      const res = await fetch(`http://127.0.0.1:${other.port}/events/order.created`, { method: "POST", body: JSON.stringify(validEvent("order.created")), headers: { "content-type": "application/cloudevents+json" } });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect((await Promise.all(first)).map((r) => r.json.status)).toEqual(["SUCCESS", "SUCCESS"]);
    } finally {
      await other.stop();
      await slow.stop();
    }
  });
});
