import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { Catalog } from "../src/catalog";
import { resolveConfig } from "../src/config";
import { silentLogger } from "../src/log";
import { RunningProcessor, startProcessor } from "../src/server";
import { FakeDapr } from "./fake-dapr";
import { bundle, get, post, validEvent } from "./support";

const spec = parse(fs.readFileSync(path.join(__dirname, "..", "openapi.yaml"), "utf8"));
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ components: spec.components }, "spec");
const schemaOf = (p: string, method: string, status: string) => {
  const s = spec.paths[p][method].responses[status].content["application/json"].schema;
  return ajv.compile(JSON.parse(JSON.stringify(s).replace(/"#\/components/g, '"spec#/components')));
};

let pg: TestPostgres;
let dapr: FakeDapr;
let app: RunningProcessor;

beforeAll(async () => {
  pg = await startPostgres();
  dapr = await new FakeDapr().start();
  app = await startProcessor(resolveConfig({ port: 0, metricsPort: 0, host: "127.0.0.1", dapr: { httpPort: dapr.port } }, { DATABASE_URL: await pg.createDatabase() }), silentLogger, new Catalog(bundle));
});
afterAll(async () => {
  await app?.stop();
  await dapr?.stop();
  await pg?.stop();
});

describe("openapi.yaml", () => {
  it("documents the answers the processor gives", async () => {
    const single = await post(app.port, "/events/order.created", JSON.stringify(validEvent("order.created")));
    expect(schemaOf("/events/{type}", "post", "200")(single.json)).toBe(true);
    const bulk = await post(app.port, "/bulk/order.created", JSON.stringify({ entries: [{ entryId: "1", event: validEvent("order.created") }] }));
    expect(schemaOf("/bulk/{type}", "post", "200")(bulk.json)).toBe(true);
    const bad = await post(app.port, "/bulk/order.created", "{}");
    expect(schemaOf("/bulk/{type}", "post", "400")(bad.json)).toBe(true);
    const page = await get(app.port, "/replay?type=order.created");
    const check = schemaOf("/replay", "get", "200");
    expect(check(page.json) ? [] : check.errors).toEqual([]);
    expect(page.json.events.length).toBe(2);
    expect(schemaOf("/events/{type}", "post", "404")((await post(app.port, "/events/nope.nope", "{}")).json)).toBe(true);
  });

  it("lists every route the server answers", () => {
    expect(Object.keys(spec.paths).sort()).toEqual(["/bulk/{type}", "/dapr/subscribe", "/events/{type}", "/healthz", "/readyz", "/replay"]);
  });
});
