import type { CloudEvent } from "./envelope";
import { EventStore, unstorableError } from "./store";

/** Publishes one stored event to its consumer topic, with the headers of the delivery that brought it. */
export type Forward = (event: CloudEvent) => Promise<void>;

interface Waiting {
  readonly event: CloudEvent;
  readonly forward: Forward;
  readonly resolve: (stored: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/** How single deliveries are grouped. */
export interface GroupCommitOptions {
  /** Most events stored in one transaction. */
  readonly maxEvents: number;
  /** Transactions in flight at once; deliveries that arrive meanwhile wait and go together in the next one. */
  readonly maxConcurrent: number;
  /** Told the size of every group as it is taken from the queue. */
  readonly observe?: (events: number) => void;
}

/**
 * Group commit for single deliveries: Dapr delivers one event per request by default, and one transaction per event
 * spends the database's time on BEGIN/COMMIT round trips rather than on rows. While `maxConcurrent` transactions are
 * in flight, arriving events queue; each free slot takes up to `maxEvents` of them into one transaction, in which
 * every newly stored event is forwarded with its own delivery's headers (trace context) before the commit. A lone
 * event at low load goes at once, without waiting for company.
 *
 * If forwarding fails for some events of a group, those deliveries fail and the rest of the group is stored again in
 * a new transaction, so one event's failure (its publish refused, say) fails only its own delivery. If PostgreSQL
 * refuses one event's data, the group's events are stored one by one, in turn, to find it. Either way a group holds
 * one connection at a time: retries never take the connections the pool keeps for bulk deliveries and probes. Events
 * of the failed group may be forwarded twice; delivery to consumers is at least once in any case.
 */
export class GroupCommit {
  private readonly queue: Waiting[] = [];
  private active = 0;

  constructor(private readonly store: EventStore, private readonly options: GroupCommitOptions) {}

  /** Stores the event (true) or finds it already stored (false), forwarding it when it is new. */
  append(event: CloudEvent, forward: Forward): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, forward, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.active < this.options.maxConcurrent && this.queue.length > 0) {
      const group = this.queue.splice(0, this.options.maxEvents);
      this.options.observe?.(group.length);
      this.active++;
      void this.commit(group).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private async commit(group: Waiting[]): Promise<void> {
    const waiting = new Map<CloudEvent, Waiting>(group.map((w) => [w.event, w]));
    // every forward is awaited, so that the failed ones are known and only their deliveries fail
    const refused = new Map<Waiting, unknown>();
    const forward = async (fresh: CloudEvent[]) => {
      const results = await Promise.allSettled(fresh.map((e) => (waiting.get(e) as Waiting).forward(e)));
      results.forEach((r, i) => { if (r.status === "rejected") refused.set(waiting.get(fresh[i]) as Waiting, r.reason); });
      if (refused.size) throw refused.values().next().value;
    };
    try {
      const stored = await this.store.appendAndForward(group.map((w) => w.event), forward);
      group.forEach((w, i) => w.resolve(stored[i]));
    } catch (error) {
      if (refused.size) {
        for (const [w, e] of refused) w.reject(e);
        const rest = group.filter((w) => !refused.has(w));
        if (rest.length) await this.commit(rest);
        return;
      }
      // a lost connection or a timeout fails every event alike; only data PostgreSQL refuses is one event's fault
      if (group.length === 1 || unstorableError(error) === undefined) return group.forEach((w) => w.reject(error));
      for (const w of group) await this.store.appendAndForward([w.event], () => w.forward(w.event)).then((s) => w.resolve(s[0]), w.reject);
    }
  }
}
