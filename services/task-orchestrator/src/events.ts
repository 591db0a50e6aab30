import { Pool } from "pg";
import { withClient } from "./db";
import { Logger } from "./logger";
import { Metrics } from "./metrics";

/** Where status events go: the Dapr sidecar's publish API. */
export interface EventsConfig {
  /** Publish events at all; without Dapr, leave off so that nothing piles up in the outbox. */
  readonly enabled: boolean;
  /** The Dapr sidecar's HTTP endpoint. @default http://127.0.0.1:3500 */
  readonly daprUrl: string;
  /** The Dapr pub/sub component name. */
  readonly pubsub: string;
  /** Topic per event type; a type missing here publishes to a topic named like the type. */
  readonly topics: Readonly<Record<string, string>>;
  /** CloudEvents `source`. */
  readonly source: string;
  /** Pause between outbox polls when it is empty. */
  readonly pollMs: number;
  /** Timeout of one publish call. */
  readonly timeoutMs: number;
}

/** Status event types the orchestrator publishes (they are declared in the event catalog). */
export const TASK_EVENT_TYPES = ["task.created", "task.progress", "task.completed", "task.failed", "task.cancelled"] as const;

/**
 * Delivers the outbox: status events are written in the same transaction as the state change they describe, and this
 * relay publishes them to Dapr as CloudEvents 1.0 and deletes them once Dapr accepted them. An event is never lost
 * (at-least-once; the event id is stable, so consumers deduplicate on (source, id)).
 */
export class EventRelay {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(private readonly pool: Pool, private readonly config: EventsConfig, private readonly log: Logger, private readonly metrics?: Metrics) {}

  start(): void {
    if (this.running || !this.config.enabled) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = undefined; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = undefined; resolve(); };
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.deliverBatch(100);
        failures = 0;
      } catch (e) {
        failures++;
        this.metrics?.events.inc({ outcome: "error" });
        this.log.warn("event delivery failed; will retry", { error: String(e) });
      }
      if (sent === 0 && this.running) await this.sleep(failures ? Math.min(30000, this.config.pollMs * 2 ** Math.min(failures, 7)) : this.config.pollMs);
    }
  }

  /** Publishes up to `n` events in order and removes them; returns how many were delivered. */
  async deliverBatch(n: number): Promise<number> {
    return withClient(this.pool, async (client) => {
      await client.query("BEGIN");
      try {
        const r = await client.query("SELECT * FROM task_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", [n]);
        const done: string[] = [];
        let failure: unknown;
        for (const row of r.rows) {
          try {
            await this.publish(row);
          } catch (e) {
            failure = e;
            break;
          }
          done.push(row.id);
          this.metrics?.events.inc({ outcome: "published" });
        }
        if (done.length) await client.query("DELETE FROM task_outbox WHERE id = ANY($1::bigint[])", [done]);
        await client.query("COMMIT");
        if (failure) throw failure;
        return done.length;
      } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw e;
      }
    });
  }

  private async publish(row: { event_id: string; type: string; task_id: string; data: unknown; created_at: Date }): Promise<void> {
    const topic = this.config.topics[row.type] ?? row.type;
    const event = {
      specversion: "1.0",
      id: row.event_id,
      source: this.config.source,
      type: row.type,
      time: new Date(row.created_at).toISOString(),
      subject: row.task_id,
      datacontenttype: "application/json",
      data: row.data,
    };
    const url = `${this.config.daprUrl}/v1.0/publish/${encodeURIComponent(this.config.pubsub)}/${encodeURIComponent(topic)}`;
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(this.config.timeoutMs),
    });
    if (!res.ok) throw new Error(`Dapr publish to ${topic} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    await res.arrayBuffer().catch(() => undefined);
  }
}
