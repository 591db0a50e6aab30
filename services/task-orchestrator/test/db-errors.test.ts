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

describe("database timeouts", () => {
  it("refuses a query timeout that would not leave the server's statement timeout to act first", () => {
    expect(() => testConfig("postgres://h/db", { database: { statementTimeoutMs: 5000, queryTimeoutMs: 5000 } })).toThrow(
      "database.queryTimeoutMs: must be greater than database.statementTimeoutMs, so that the server's cancel comes first (5000 <= 5000)",
    );
  });

  it("answers 503 database_timeout with Retry-After when a statement waits past statement_timeout, and serves again after", async () => {
    const h = await startApp(testConfig(url, { worker: { enabled: false }, database: { statementTimeoutMs: 300, queryTimeoutMs: 2000 } }));
    const locker = new Pool({ connectionString: url, max: 1 });
    try {
      const created = await h.call("POST", "/v1/tasks", { type: "batch", parameters: { items: ["a"] } });
      expect(created.status).toBe(201);
      const id = created.body.id;
      const c = await locker.connect();
      await c.query("BEGIN");
      await c.query("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", [id]);
      const started = Date.now();
      const r = await h.call("POST", `/v1/tasks/${id}/cancel`);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(r.status).toBe(503);
      expectConforms("POST", "/v1/tasks/{id}/cancel", 503, r.body);
      expect(r.body).toMatchObject({ error: "database_timeout", retryAfter: 5 });
      expect(r.headers.get("retry-after")).toBe("5");
      await c.query("ROLLBACK");
      c.release();
      expect((await h.call("POST", `/v1/tasks/${id}/cancel`)).status).toBe(200);
    } finally {
      await locker.end();
      await h.app.stop();
    }
  });
});
