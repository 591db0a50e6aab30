import { Pool, PoolClient, QueryConfig } from "pg";
import type { CloudEvent } from "./envelope";

/** Migrations in order; each runs once, recorded in event_store_migrations. Never edit one that has shipped. */
export const MIGRATIONS: ReadonlyArray<{ readonly version: number; readonly name: string; readonly sql: string }> = [
  {
    version: 1,
    name: "event log",
    sql: `
      CREATE TABLE event_log (
        seq          bigserial   PRIMARY KEY,
        source       text        NOT NULL,
        id           text        NOT NULL,
        type         text        NOT NULL,
        event_time   timestamptz NOT NULL,
        received_at  timestamptz NOT NULL DEFAULT now(),
        envelope     jsonb       NOT NULL,
        CONSTRAINT event_log_source_id UNIQUE (source, id)
      );
      CREATE INDEX event_log_type_time ON event_log (type, event_time, seq);
      CREATE FUNCTION event_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'event_log is append-only: % is not allowed', TG_OP; END $$;
      CREATE TRIGGER event_log_no_update BEFORE UPDATE OR DELETE ON event_log
        FOR EACH ROW EXECUTE FUNCTION event_log_append_only();
      CREATE TRIGGER event_log_no_truncate BEFORE TRUNCATE ON event_log
        FOR EACH STATEMENT EXECUTE FUNCTION event_log_append_only();
    `,
  },
  {
    version: 2,
    name: "replay in commit order, sized",
    // Rows stored before this migration get txid 0: they are all committed (ALTER TABLE waits for every writer), so
    // they sort before every later row by seq alone. The constant default avoids rewriting the table; the real
    // default follows. envelope_bytes is NULL for those rows, and replay measures them itself.
    sql: `
      ALTER TABLE event_log ADD COLUMN txid xid8 NOT NULL DEFAULT '0';
      ALTER TABLE event_log ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
      ALTER TABLE event_log ADD COLUMN envelope_bytes integer;
      CREATE INDEX event_log_type_txid_seq ON event_log (type, txid, seq);
    `,
  },
];

/**
 * SQLSTATEs that say the data itself cannot be stored, so storing it again fails again: class 22 (data_exception:
 * a date PostgreSQL refuses, bad text encoding, numbers out of range) and 54000 (program_limit_exceeded: an index row
 * over the btree limit). Anything else (lost connections, timeouts, serialization failures) may pass next time.
 */
export function unstorableError(error: unknown): string | undefined {
  const e = error as { code?: unknown; severity?: unknown; message?: unknown };
  if (error === null || typeof error !== "object" || typeof e.code !== "string" || e.severity === undefined) return undefined;
  if (!e.code.startsWith("22") && e.code !== "54000") return undefined;
  return `${String(e.message).slice(0, 500)} (SQLSTATE ${e.code})`;
}

/** Arbitrary but fixed key of the advisory lock that serialises migrations across replicas. */
const MIGRATION_LOCK = 7_220_431_001;
/**
 * Client-side limit of one migration statement: indexing a large log takes longer than the pool's query timeout
 * allows a delivery, and a start that always times out would never finish migrating.
 */
const MIGRATION_QUERY_TIMEOUT_MS = 30 * 60 * 1000;

/**
 * Checks a client out of the pool for a transaction. A connection that dies while checked out (for example while
 * the transaction waits for a publish) emits 'error' on the client, which would crash the process without a listener;
 * the failure surfaces through the next query instead, and the broken client is discarded on release.
 */
async function checkout(pool: Pool): Promise<{ client: PoolClient; release: (failed?: Error) => void }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (e: Error) => { broken = e; };
  client.on("error", onError);
  return {
    client,
    release: (failed?: Error) => {
      client.off("error", onError);
      client.release(broken ?? failed);
    },
  };
}

/**
 * Ends a failed transaction. When even ROLLBACK fails (the query timeout fired, the server is gone), the connection
 * is in an unknown state: the error is returned so that the client is discarded rather than pooled.
 */
async function rollback(client: PoolClient, failure: unknown): Promise<Error | undefined> {
  // after a client-side timeout the connection still waits for the timed-out answer, and ROLLBACK would queue behind
  // it until it timed out too: discard the connection at once (the server rolls back when it goes)
  if ((failure as Error)?.message === "Query read timeout") return failure as Error;
  return client.query("ROLLBACK").then(() => undefined, (e: Error) => e);
}

/** A stored event as replay returns it. */
export interface StoredEvent {
  readonly seq: number;
  /** Resumes a replay right after this event (as `after`). */
  readonly cursor: string;
  readonly receivedAt: string;
  readonly event: CloudEvent;
}

/** Where a replay page ends: the storing transaction's id and the sequence number of its last event. */
export interface ReplayCursor {
  readonly txid: string;
  readonly seq: string;
}

const CURSOR = /^(\d{1,20})-(\d{1,19})$/;

/** The opaque text form of a cursor (what replay answers as `next`). */
export function formatCursor(c: ReplayCursor): string {
  return `${c.txid}-${c.seq}`;
}

/** Reads a cursor written by formatCursor; undefined when the text is not one. */
export function parseCursor(text: string): ReplayCursor | undefined {
  const m = CURSOR.exec(text);
  if (!m || BigInt(m[1]) > 2n ** 64n - 1n || BigInt(m[2]) > 2n ** 63n - 1n) return undefined;
  return { txid: m[1], seq: m[2] };
}

/** A replay query: one type, an optional half-open time range [from, to), paged in commit order. */
export interface ReplayQuery {
  readonly type: string;
  readonly from?: Date;
  readonly to?: Date;
  /** Return events after this cursor (the previous page's `next`). */
  readonly after?: ReplayCursor;
  /** Most events in the page. */
  readonly limit: number;
  /** Most bytes of events (as JSON) in the page; a first event larger than that is returned alone. */
  readonly maxBytes: number;
}

/**
 * The immutable event log in PostgreSQL: append-only (triggers refuse UPDATE, DELETE and TRUNCATE) and idempotent
 * on (source, id), so a redelivered event is stored once.
 */
export class EventStore {
  constructor(private readonly pool: Pool) {}

  /** Applies pending migrations under an advisory lock, so replicas starting together do not race. */
  async migrate(): Promise<number[]> {
    const { client, release } = await checkout(this.pool);
    const applied: number[] = [];
    const query = <R extends object>(text: string, values?: unknown[]) => client.query<R>({ text, values, query_timeout: MIGRATION_QUERY_TIMEOUT_MS } as QueryConfig);
    try {
      await query("BEGIN");
      await query("SET LOCAL statement_timeout = 0");
      await query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await query(`CREATE TABLE IF NOT EXISTS event_store_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await query<{ version: number }>("SELECT version FROM event_store_migrations");
      const done = new Set(rows.map((r) => r.version));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await query(m.sql);
        await query("INSERT INTO event_store_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
        applied.push(m.version);
      }
      await query("COMMIT");
    } catch (e) {
      release(await rollback(client, e));
      throw e;
    }
    release();
    return applied;
  }

  /**
   * Appends events in one transaction and, before committing, hands the newly stored ones to `forward` (which
   * publishes them). If `forward` throws, nothing is stored and the error propagates, so a redelivery is forwarded
   * again; a concurrent redelivery of the same event waits on the unique key and then sees a duplicate.
   * Returns, per input event, true when it was stored now and false when it was a duplicate.
   */
  async appendAndForward(events: ReadonlyArray<CloudEvent>, forward: (stored: CloudEvent[]) => Promise<void>): Promise<boolean[]> {
    if (events.length === 0) return [];
    // Rows are inserted in (source, id) order whatever the delivery's order: two transactions that store the same
    // events then take their key locks in the same order, so the second waits and sees duplicates instead of
    // deadlocking (a redelivery of a bulk in another order, or two replicas).
    const sorted = [...events].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const { client, release } = await checkout(this.pool);
    try {
      await client.query("BEGIN");
      // one jsonb array parameter: PostgreSQL parses it once, and nothing is escaped element by element
      const { rows } = await client.query<{ source: string; id: string }>(
        `INSERT INTO event_log (source, id, type, event_time, envelope, envelope_bytes)
         SELECT e->>'source', e->>'id', e->>'type', (e->>'time')::timestamptz, e, octet_length(e::text)
           FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n
         ON CONFLICT ON CONSTRAINT event_log_source_id DO NOTHING
         RETURNING source, id`,
        [JSON.stringify(sorted)],
      );
      const inserted = new Set(rows.map((r) => JSON.stringify([r.source, r.id])));
      // the same (source, id) twice in one batch is stored once: the first occurrence counts, the rest are duplicates
      const seen = new Set<string>();
      const result = events.map((e) => {
        const key = JSON.stringify([e.source, e.id]);
        const fresh = inserted.has(key) && !seen.has(key);
        seen.add(key);
        return fresh;
      });
      const stored = events.filter((_, i) => result[i]);
      if (stored.length) await forward(stored);
      await client.query("COMMIT");
      release();
      return result;
    } catch (e) {
      release(await rollback(client, e));
      throw e;
    }
  }

  /**
   * Stored events of one type in a time range in commit order, with the cursor of the next page.
   *
   * Why (txid, seq) and the horizon: seq is taken at insert but a row becomes visible at commit, which waits for the
   * publish, so paging by seq alone skips a row whose transaction commits after a later one was returned. Every
   * row records the transaction that inserted it, and a page holds only rows of transactions older than the
   * snapshot's xmin, the oldest transaction still running. Those transactions have all ended, so that set of rows
   * is final; a transaction that commits later has a txid >= that xmin, which is above every cursor handed out so
   * far (cursors only come from rows below it). Ordering by (txid, seq) and resuming after the cursor therefore
   * never skips a row: it only defers rows until their transaction and every older one have ended. A long-running
   * transaction anywhere in the cluster holds the horizon back, delaying (never losing) newer rows.
   */
  async replay(q: ReplayQuery): Promise<{ events: StoredEvent[]; next: string | null }> {
    const { rows } = await this.pool.query<{ seq: string; txid: string; received_at: Date; fits: boolean; envelope: CloudEvent | null }>(
      `WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
       page AS (
         SELECT seq, txid, received_at, envelope, COALESCE(envelope_bytes, octet_length(envelope::text)) AS bytes
           FROM event_log
          WHERE type = $1
            AND ($2::timestamptz IS NULL OR event_time >= $2)
            AND ($3::timestamptz IS NULL OR event_time < $3)
            AND (txid, seq) > ($4::xid8, $5::bigint)
            AND txid < (SELECT xmin FROM horizon)
          ORDER BY txid, seq
          LIMIT $6),
       sized AS (
         SELECT *, sum(bytes) OVER w <= $7 OR row_number() OVER w = 1 AS fits
           FROM page WINDOW w AS (ORDER BY txid, seq ROWS UNBOUNDED PRECEDING))
       SELECT seq, txid::text AS txid, received_at, fits, CASE WHEN fits THEN envelope END AS envelope
         FROM sized ORDER BY txid, seq`,
      [q.type, q.from ?? null, q.to ?? null, q.after?.txid ?? "0", q.after?.seq ?? "0", q.limit + 1, q.maxBytes],
    );
    // the running sum only grows, so the rows that fit are a prefix, and the first row always fits
    const fitting = rows.filter((r) => r.fits).slice(0, q.limit);
    const events = fitting.map((r) => ({ seq: Number(r.seq), cursor: formatCursor(r), receivedAt: r.received_at.toISOString(), event: r.envelope as CloudEvent }));
    return { events, next: rows.length > fitting.length ? events[events.length - 1].cursor : null };
  }

  /** True when the database answers within `timeoutMs`. */
  async ping(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
    // the timer also covers waiting for a free connection, which the pool's query timeout does not
    const answer = this.pool.query("SELECT 1").then(() => true, () => false);
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
