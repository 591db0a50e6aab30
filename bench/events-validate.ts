// The processor's parts alone, for bench/events.bench.js: its own catalog, envelope and store code.
import { Pool } from "pg";
import { Catalog } from "../services/event-processor/src/catalog";
import { CloudEvent, validateEvent } from "../services/event-processor/src/envelope";
import { EventStore } from "../services/event-processor/src/store";

/**
 * Validates every event against its type with a catalog compiled beforehand (as the processor does at start-up),
 * after one untimed pass so that the figure is the JIT-compiled steady state. Returns events/s and how many were
 * invalid.
 */
export function validationRate(bundle: unknown, events: ReadonlyArray<{ type: string }>): { perSecond: number; invalid: number } {
  const catalog = new Catalog(bundle);
  const pass = () => {
    let invalid = 0;
    for (const e of events) if (validateEvent(e, catalog.get(e.type)!).length) invalid++;
    return invalid;
  };
  pass();
  const t0 = process.hrtime.bigint();
  const invalid = pass();
  return { perSecond: events.length / (Number(process.hrtime.bigint() - t0) / 1e9), invalid };
}

/**
 * The event store alone: `concurrency` callers append batches of `batch` fresh events for `seconds` through the
 * processor's own EventStore (one transaction per batch, forwarding to nowhere), against the database at `url`.
 * This is the ceiling that storing puts on the processor, whatever HTTP and validation cost.
 */
export async function storeRate(url: string, makeEvent: () => CloudEvent, batch: number, concurrency: number, seconds: number): Promise<number> {
  const pool = new Pool({ connectionString: url, max: concurrency });
  try {
    const store = new EventStore(pool);
    await store.migrate();
    const end = Date.now() + seconds * 1000;
    const t0 = process.hrtime.bigint();
    let stored = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const events = Array.from({ length: batch }, makeEvent);
        await store.appendAndForward(events, async () => undefined);
        stored += events.length;
      }
    }));
    return stored / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    await pool.end();
  }
}
