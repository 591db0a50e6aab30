import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Why an event went to the dead-letter topic; `unstorable` when PostgreSQL refused the data itself. */
export type DeadLetterReason = "malformed" | "envelope" | "schema" | "oversized" | "unstorable";

/**
 * The processor's counters. Every delivery that gets a final answer (SUCCESS or DROP) is received once and lands in
 * exactly one of valid, dead-lettered or duplicate, so received = valid + dead_lettered + duplicates always; a
 * delivery answered RETRY is counted in `retries` only, because Dapr delivers it again.
 */
export class ProcessorMetrics {
  readonly registry = new Registry();
  readonly received: Counter<"type">;
  readonly valid: Counter<"type">;
  readonly deadLettered: Counter<"type" | "reason">;
  readonly duplicates: Counter<"type">;
  readonly retries: Counter<"type" | "reason">;
  readonly replayed: Counter<"type">;
  readonly batchSize: Histogram;
  readonly groupSize: Histogram;
  readonly handleSeconds: Histogram<"mode">;
  private readonly totals = { received: 0, valid: 0, deadLettered: 0, duplicates: 0 };

  constructor(types: ReadonlyArray<string>, defaultMetrics = true) {
    const registers = [this.registry];
    this.received = new Counter({ name: "event_processor_events_received_total", help: "Events that got a final answer, by type.", labelNames: ["type"], registers });
    this.valid = new Counter({ name: "event_processor_events_valid_total", help: "Events that passed validation and were stored and forwarded.", labelNames: ["type"], registers });
    this.deadLettered = new Counter({ name: "event_processor_events_dead_lettered_total", help: "Events sent to the dead-letter topic, by reason.", labelNames: ["type", "reason"], registers });
    this.duplicates = new Counter({ name: "event_processor_events_duplicate_total", help: "Redelivered events already in the store (not forwarded again).", labelNames: ["type"], registers });
    this.retries = new Counter({ name: "event_processor_deliveries_retried_total", help: "Deliveries answered RETRY (not counted as received).", labelNames: ["type", "reason"], registers });
    this.replayed = new Counter({ name: "event_processor_events_replayed_total", help: "Events returned by replay.", labelNames: ["type"], registers });
    this.batchSize = new Histogram({ name: "event_processor_bulk_entries", help: "Entries per bulk delivery.", buckets: [1, 5, 10, 25, 50, 100, 250, 500], registers });
    this.groupSize = new Histogram({ name: "event_processor_single_group_events", help: "Single deliveries stored together in one transaction (group commit).", buckets: [1, 2, 5, 10, 25, 50, 100], registers });
    this.handleSeconds = new Histogram({ name: "event_processor_delivery_seconds", help: "Time to answer a delivery.", labelNames: ["mode"], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers });
    const totals = this.totals;
    new Gauge({
      name: "event_processor_accounting_gap",
      help: "received - (valid + dead_lettered + duplicates); the invariant says it is always 0.",
      registers,
      collect() { this.set(totals.received - totals.valid - totals.deadLettered - totals.duplicates); },
    });
    // zero series for every catalog type, so dashboards and the invariant see each type before its first event
    for (const type of types) {
      this.received.inc({ type }, 0); this.valid.inc({ type }, 0); this.duplicates.inc({ type }, 0);
    }
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "event_processor_" });
  }

  /** Records the final outcome of one event. */
  outcome(type: string, kind: "valid" | "duplicate" | { deadLetter: DeadLetterReason }): void {
    this.received.inc({ type });
    this.totals.received++;
    if (kind === "valid") { this.valid.inc({ type }); this.totals.valid++; }
    else if (kind === "duplicate") { this.duplicates.inc({ type }); this.totals.duplicates++; }
    else { this.deadLettered.inc({ type, reason: kind.deadLetter }); this.totals.deadLettered++; }
  }

  /** The totals across types (what the invariant is checked on). */
  snapshot(): { received: number; valid: number; deadLettered: number; duplicates: number } {
    return { ...this.totals };
  }
}
