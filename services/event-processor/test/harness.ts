import { Client } from "pg";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { Catalog } from "../src/catalog";
import { resolveConfig } from "../src/config";
import { silentLogger } from "../src/log";
import { RunningProcessor, startProcessor } from "../src/server";
import { FakeDapr } from "./fake-dapr";
import { bundle, post } from "./support";

/** A processor on loopback with its own PostgreSQL and stand-in sidecar, for one test file. */
export interface Harness {
  readonly pg: TestPostgres;
  readonly dapr: FakeDapr;
  readonly app: RunningProcessor;
  readonly dbUrl: string;
  /** POSTs one event (an object, or text as is) to `/events/{type}`. */
  deliver(type: string, event: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any }>;
  /** POSTs a bulk delivery of `[entryId, event]` pairs to `/bulk/{type}`. */
  deliverBulk(type: string, entries: ReadonlyArray<readonly [string, unknown]>): Promise<{ status: number; json: any }>;
  /** Runs SQL on the processor's database. */
  sql(text: string, values?: unknown[]): Promise<any[]>;
  stop(): Promise<void>;
}

/** Starts PostgreSQL, the fake sidecar and a processor whose config is `config` over loopback defaults. */
export async function startHarness(config: Record<string, unknown> = {}): Promise<Harness> {
  const pg = await startPostgres();
  const dapr = await new FakeDapr().start();
  const dbUrl = await pg.createDatabase();
  const app = await startProcessor(
    resolveConfig({ port: 0, metricsPort: 0, host: "127.0.0.1", ...config, dapr: { httpPort: dapr.port, timeoutMs: 2000 } }, { DATABASE_URL: dbUrl }),
    silentLogger,
    new Catalog(bundle),
  );
  return {
    pg,
    dapr,
    app,
    dbUrl,
    deliver: (type, event, headers = {}) => post(app.port, `/events/${type}`, typeof event === "string" ? event : JSON.stringify(event), headers),
    deliverBulk: (type, entries) =>
      post(app.port, `/bulk/${type}`, JSON.stringify({ entries: entries.map(([entryId, event]) => ({ entryId, event, contentType: "application/cloudevents+json" })) }), { "content-type": "application/json" }),
    async sql(text, values = []) {
      const c = new Client({ connectionString: dbUrl });
      await c.connect();
      try {
        return (await c.query(text, values)).rows;
      } finally {
        await c.end();
      }
    },
    async stop() {
      await app.stop();
      await dapr.stop();
      await pg.stop();
    },
  };
}
