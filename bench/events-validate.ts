// Validation alone, for bench/events.bench.js: the processor's own catalog and envelope code, compiled once.
import { Catalog } from "../services/event-processor/src/catalog";
import { validateEvent } from "../services/event-processor/src/envelope";

/** Validates every event against its type; returns how many were invalid. */
export function validateAll(bundle: unknown, events: ReadonlyArray<{ type: string }>): number {
  const catalog = new Catalog(bundle);
  let invalid = 0;
  for (const e of events) if (validateEvent(e, catalog.get(e.type)!).length) invalid++;
  return invalid;
}
