import { createHash } from "node:crypto";
import { Pool, PoolClient, QueryConfig } from "pg";
import { allowedTransitions, TASK_STATES } from "./lifecycle";
import { TASK_TYPES } from "./task-types";

/** SQLSTATE the database raises for a transition the lifecycle forbids (a custom class, never used by PostgreSQL). */
export const ILLEGAL_TRANSITION_SQLSTATE = "TS409";

const list = (values: ReadonlyArray<string>) => values.map((v) => `'${v}'`).join(", ");

/** The schema; every statement is idempotent so that concurrent replicas can run it at start. */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS task_transitions (
  from_state text NOT NULL,
  to_state text NOT NULL,
  PRIMARY KEY (from_state, to_state)
);
CREATE TABLE IF NOT EXISTS tasks (
  seq bigserial NOT NULL UNIQUE,
  id uuid PRIMARY KEY,
  type text NOT NULL CHECK (type IN (${list(TASK_TYPES)})),
  state text NOT NULL CHECK (state IN (${list(TASK_STATES)})),
  parameters jsonb NOT NULL,
  priority integer NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_retries integer NOT NULL CHECK (max_retries >= 0),
  awaiting_file text,
  run_after timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_token uuid,
  lease_expires_at timestamptz,
  progress_percent integer NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
  progress_message text,
  result jsonb,
  error text,
  idempotency_key text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS lease_token uuid;
CREATE INDEX IF NOT EXISTS tasks_ready ON tasks (priority DESC, run_after, seq) WHERE state IN ('pending', 'retrying');
CREATE INDEX IF NOT EXISTS tasks_leases ON tasks (lease_expires_at) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS tasks_type_state ON tasks (type, state, seq);
CREATE INDEX IF NOT EXISTS tasks_state ON tasks (state, seq);
CREATE TABLE IF NOT EXISTS task_files (
  task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  name text NOT NULL,
  object_key text NOT NULL,
  size_bytes bigint NOT NULL,
  content_type text NOT NULL,
  sha256 text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task_id, name)
);
CREATE TABLE IF NOT EXISTS task_outbox (
  id bigserial PRIMARY KEY,
  event_id uuid NOT NULL,
  type text NOT NULL,
  task_id uuid NOT NULL,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION task_guard_transition() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.state <> 'pending' THEN
      RAISE EXCEPTION 'task %: a task starts pending (got %)', NEW.id, NEW.state USING ERRCODE = '${ILLEGAL_TRANSITION_SQLSTATE}';
    END IF;
  ELSIF NEW.state IS DISTINCT FROM OLD.state
    AND NOT EXISTS (SELECT 1 FROM task_transitions WHERE from_state = OLD.state AND to_state = NEW.state) THEN
    RAISE EXCEPTION 'task %: illegal transition % -> %', OLD.id, OLD.state, NEW.state
      USING ERRCODE = '${ILLEGAL_TRANSITION_SQLSTATE}', DETAIL = OLD.state || '->' || NEW.state;
  END IF;
  RETURN NEW;
END
$fn$;
DROP TRIGGER IF EXISTS task_guard_transition ON tasks;
CREATE TRIGGER task_guard_transition BEFORE INSERT OR UPDATE OF state ON tasks
  FOR EACH ROW EXECUTE FUNCTION task_guard_transition();
`;

/** How long the client waits for a schema change or for another replica's migration (the pool's limit is shorter). */
const MIGRATION_QUERY_TIMEOUT_MS = 3_600_000;
// pg reads query_timeout from a query's config too; its type declarations do not list it
const longQuery = (text: string) => ({ text, query_timeout: MIGRATION_QUERY_TIMEOUT_MS }) as QueryConfig;

/** Creates or updates the schema and loads the transition table from lifecycle.ts (the single source). */
export async function migrate(pool: Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    // schema changes may wait for locks and rewrite a large table: no statement timeout inside this transaction
    await client.query("SET LOCAL statement_timeout = 0");
    // replicas starting together take turns
    await client.query(longQuery("SELECT pg_advisory_xact_lock(727274001)"));
    // the DDL (trigger replacement locks the tasks table) only runs when the schema changed
    const version = createHash("sha256").update(SCHEMA_SQL).digest("hex");
    await client.query("CREATE TABLE IF NOT EXISTS task_schema (version text NOT NULL)");
    const current = await client.query("SELECT version FROM task_schema");
    if (current.rows[0]?.version !== version) {
      await client.query(longQuery(SCHEMA_SQL));
      await client.query("DELETE FROM task_schema");
      await client.query("INSERT INTO task_schema (version) VALUES ($1)", [version]);
    }
    await client.query("DELETE FROM task_transitions");
    const pairs = allowedTransitions();
    await client.query(
      `INSERT INTO task_transitions (from_state, to_state) SELECT * FROM unnest($1::text[], $2::text[])`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
  });
}

/**
 * Checks out a client for `fn`. A connection that dies while checked out (failover, pooler restart) makes the
 * client emit 'error'; without a listener that would crash the process, so it is caught here, the query in flight
 * rejects, and the broken client is destroyed instead of returned to the pool.
 */
export async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (e: Error) => { broken = e; };
  client.on("error", onError);
  try {
    return await fn(client);
  } catch (e) {
    broken ??= isConnectionError(e) ? (e as Error) : undefined;
    throw e;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

/** SQLSTATEs and socket error codes that mean the connection (not the statement) failed. */
const CONNECTION_ERROR_CODES = new Set(["57P01", "57P02", "57P03", "53300", "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

/**
 * True when `e` means the database connection is gone or cannot be had, rather than that a statement was wrong:
 * SQLSTATE class 08 and the shutdown codes, socket errors, and node-pg's own errors, which carry no code (a client
 * whose connection died between two statements answers the next one with "Client has encountered a connection
 * error and is not queryable").
 */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  if (typeof err?.code === "string" && (err.code.startsWith("08") || CONNECTION_ERROR_CODES.has(err.code))) return true;
  const message = typeof err?.message === "string" ? err.message : "";
  // "Query read timeout": the server did not answer within query_timeout; the connection's state is unknown
  return /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection ended unexpectedly|Query read timeout/i.test(message);
}

/** Runs `fn` in a transaction and commits, or rolls back and rethrows. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query("BEGIN");
    try {
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    }
  });
}
