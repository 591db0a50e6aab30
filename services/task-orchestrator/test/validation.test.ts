import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { parseDateTime } from "../src/task-types";
import { startApp, testConfig } from "./support/harness";
import { expectConforms } from "./support/openapi";

let pg: TestPostgres;
let h: Awaited<ReturnType<typeof startApp>>;

beforeAll(async () => {
  pg = await startPostgres();
  h = await startApp(testConfig(await pg.createDatabase(), { worker: { enabled: false } }));
});

afterAll(async () => {
  await h?.app.stop();
  await pg?.stop();
});

async function refused(body: string) {
  const r = await h.call("POST", "/v1/tasks", body);
  expectConforms("POST", "/v1/tasks", r.status, r.body);
  return r;
}

describe("input PostgreSQL cannot store is refused with 400", () => {
  it("refuses NUL and unpaired surrogates in any string of the parameters, naming the field", async () => {
    const nul = await refused('{"type":"batch","parameters":{"items":["ok","a\\u0000b"]}}');
    expect(nul.status).toBe(400);
    expect(nul.body.error).toBe("invalid_request");
    expect(nul.body.fields).toEqual([{ field: "parameters.items.1", message: "must not contain NUL characters (\\u0000)" }]);
    const lone = await refused('{"type":"batch","parameters":{"items":["\\ud800"]}}');
    expect(lone.status).toBe(400);
    expect(lone.body.fields).toEqual([{ field: "parameters.items.0", message: "must not contain unpaired UTF-16 surrogates (\\ud800-\\udfff)" }]);
    const low = await refused('{"type":"sync","parameters":{"prefix":"x","\\udc00":1}}');
    expect(low.status).toBe(400);
    expect(low.body.fields.map((f: { field: string }) => f.field)).toContain("parameters.\\udc00");
    // a surrogate pair is one character, and fine
    const pair = await refused('{"type":"batch","parameters":{"items":["\\ud83d\\ude00"]}}');
    expect(pair.status).toBe(201);
    expect(pair.body.parameters.items).toEqual(["\u{1F600}"]);
  });

  it("refuses deeply nested parameters with 400 naming the field, instead of exhausting the stack (500)", async () => {
    const depth = 200000;
    for (const nested of [`"x":${"[".repeat(depth)}${"]".repeat(depth)}`, `"items":[${"[".repeat(depth)}${"]".repeat(depth)}]`]) {
      const r = await refused(`{"type":"batch","parameters":{"items":["a"],${nested}}}`.replace('"items":["a"],"items"', '"items"'));
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_request");
      expect(r.body.fields).toContainEqual({ field: expect.stringMatching(/^parameters\.(x|items)(\.0)+$/), message: expect.stringContaining("nested") });
    }
    const ok = await refused(JSON.stringify({ type: "batch", parameters: { items: ["still fine"] } }));
    expect(ok.status).toBe(201);
  });

  it("refuses a cursor beyond the int64 range of sequence numbers, naming the field", async () => {
    const cursor = Buffer.from("s:9999999999999999999").toString("base64url");
    const r = await h.call("GET", `/v1/tasks?cursor=${cursor}`);
    expect(r.status).toBe(400);
    expectConforms("GET", "/v1/tasks", 400, r.body);
    expect(r.body.fields).toEqual([{ field: "cursor", message: "is not a cursor returned by this API" }]);
    const largest = await h.call("GET", `/v1/tasks?cursor=${Buffer.from("s:9223372036854775807").toString("base64url")}`);
    expect(largest.status).toBe(200);
  });

  it("refuses dates PostgreSQL cannot store or that are not real calendar days, naming the field", async () => {
    const report = (from: string, to = "2030-01-01T00:00:00Z") => refused(JSON.stringify({ type: "report", parameters: { name: "r", from, to } }));
    for (const bad of ["0000-01-01T00:00:00Z", "2025-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:00", "2024-01-01T00:00:00+16:00", "10000-01-01T00:00:00Z", "2024-01-01 00:00:00Z"]) {
      const r = await report(bad);
      expect([bad, r.status]).toEqual([bad, 400]);
      expect(r.body.fields).toEqual([{ field: "parameters.from", message: expect.stringContaining("RFC 3339") }]);
    }
    const exp = await refused(JSON.stringify({ type: "export", parameters: { format: "csv", filter: { createdAfter: "0000-12-31T23:59:59Z" } } }));
    expect(exp.status).toBe(400);
    expect(exp.body.fields.map((f: { field: string }) => f.field)).toEqual(["parameters.filter.createdAfter"]);
    for (const good of ["0001-01-01T00:00:00Z", "2024-02-29T12:00:00.123456+15:59", "9999-12-31T23:59:59z", "2016-12-31T23:59:60Z"]) {
      const r = await report(good, "9999-12-31T23:59:59Z");
      expect([good, r.status]).toEqual([good, 201]);
    }
  });

  it("reads RFC 3339 date-times to the millisecond, offsets and years below 100 included", () => {
    expect(parseDateTime("0001-01-01T00:00:00Z")).toBe(Date.parse("0001-01-01T00:00:00Z"));
    expect(parseDateTime("2024-02-29T12:00:00.5+02:30")).toBe(Date.parse("2024-02-29T09:30:00.500Z"));
    expect(parseDateTime("2016-12-31T23:59:60Z")).toBe(Date.parse("2017-01-01T00:00:00Z"));
    expect(parseDateTime("2016-12-31T12:59:60Z")).toBeUndefined();
  });
});
