import { Pool, PoolClient } from "pg";
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
];

/** Arbitrary but fixed key of the advisory lock that serialises migrations across replicas. */
const MIGRATION_LOCK = 7_220_431_001;

/**
 * Checks a client out of the pool for a transaction. A connection that dies while checked out (for example while
 * the transaction waits for a publish) emits 'error' on the client, which would crash the process without a listener;
 * the failure surfaces through the next query instead, and the broken client is discarded on release.
 */
async function checkout(pool: Pool): Promise<{ client: PoolClient; release: () => void }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (e: Error) => { broken = e; };
  client.on("error", onError);
  return {
    client,
    release: () => {
      client.off("error", onError);
      client.release(broken);
    },
  };
}

/** A stored event as replay returns it. */
export interface StoredEvent {
  readonly seq: number;
  readonly receivedAt: string;
  readonly event: CloudEvent;
}

/** A replay query: one type, an optional half-open time range [from, to), paged by sequence number. */
export interface ReplayQuery {
  readonly type: string;
  readonly from?: Date;
  readonly to?: Date;
  /** Return events after this sequence number (the previous page's `next`). */
  readonly after?: number;
  readonly limit: number;
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
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await client.query(`CREATE TABLE IF NOT EXISTS event_store_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ version: number }>("SELECT version FROM event_store_migrations");
      const done = new Set(rows.map((r) => r.version));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await client.query(m.sql);
        await client.query("INSERT INTO event_store_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
        applied.push(m.version);
      }
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      release();
    }
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
    const { client, release } = await checkout(this.pool);
    try {
      await client.query("BEGIN");
      // one jsonb array parameter: PostgreSQL parses it once, and nothing is escaped element by element
      const { rows } = await client.query<{ source: string; id: string }>(
        `INSERT INTO event_log (source, id, type, event_time, envelope)
         SELECT e->>'source', e->>'id', e->>'type', (e->>'time')::timestamptz, e
           FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n
         ON CONFLICT ON CONSTRAINT event_log_source_id DO NOTHING
         RETURNING source, id`,
        [JSON.stringify(events)],
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
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      release();
    }
  }

  /** Stored events of one type in a time range, oldest first, with the cursor of the next page. */
  async replay(q: ReplayQuery): Promise<{ events: StoredEvent[]; next: number | null }> {
    const { rows } = await this.pool.query<{ seq: string; received_at: Date; envelope: CloudEvent }>(
      `SELECT seq, received_at, envelope FROM event_log
        WHERE type = $1
          AND ($2::timestamptz IS NULL OR event_time >= $2)
          AND ($3::timestamptz IS NULL OR event_time < $3)
          AND seq > $4
        ORDER BY seq
        LIMIT $5`,
      [q.type, q.from ?? null, q.to ?? null, q.after ?? 0, q.limit + 1],
    );
    const page = rows.slice(0, q.limit).map((r) => ({ seq: Number(r.seq), receivedAt: r.received_at.toISOString(), event: r.envelope }));
    return { events: page, next: rows.length > q.limit ? page[page.length - 1].seq : null };
  }

  /** True when the database answers. */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query("SELECT 1");
      return true;
    } catch {
      return false;
    }
  }
}
