import { Pool } from "pg";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { inTransaction, isConnectionError } from "../src/db";
import { startApp, testConfig } from "./support/harness";
import { expectConforms } from "./support/openapi";

let pg: TestPostgres;
let url: string;

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase();
});

afterAll(async () => {
  await pg?.stop();
});

/** The error node-pg gives when a connection dies between two statements of a transaction. */
async function connectionLostMidTransaction(): Promise<Error> {
  const pool = new Pool({ connectionString: url, max: 1 });
  pool.on("error", () => undefined);
  const admin = new Pool({ connectionString: url, max: 1 });
  try {
    return await inTransaction(pool, async (c) => {
      const pid = (await c.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
      const lost = new Promise((r) => c.once("error", r));
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      await lost;
      await c.query("SELECT 1");
      throw new Error("the query on a dead connection succeeded");
    }).then(() => { throw new Error("unreachable"); }, (e) => e as Error);
  } finally {
    await Promise.all([pool.end(), admin.end()]);
  }
}

describe("database connection errors", () => {
  it("recognises a client whose connection died mid-transaction as a connection error", async () => {
    const e = await connectionLostMidTransaction();
    expect(e.message).toBe("Client has encountered a connection error and is not queryable");
    expect(isConnectionError(e)).toBe(true);
    expect(isConnectionError(Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
  });

  it("answers 503 database_unavailable with Retry-After when the connection dies mid-transaction", async () => {
    const e = await connectionLostMidTransaction();
    const h = await startApp(testConfig(url, { worker: { enabled: false } }));
    try {
      const create = jest.spyOn(h.app.store, "create").mockRejectedValueOnce(e);
      const r = await h.call("POST", "/v1/tasks", { type: "batch", parameters: { items: ["a"] } });
      expect(create).toHaveBeenCalled();
      expect(r.status).toBe(503);
      expectConforms("POST", "/v1/tasks", 503, r.body);
      expect(r.body).toMatchObject({ error: "database_unavailable", retryAfter: 5 });
      expect(r.headers.get("retry-after")).toBe("5");
    } finally {
      await h.app.stop();
    }
  });
});
