import type { Catalog, CompiledEvent } from "./catalog";
import { DaprPublisher, PublishError } from "./dapr";
import { decodeBody } from "./body";
import { CloudEvent, ValidationError, validateEvent } from "./envelope";
import { GroupCommit, GroupCommitOptions } from "./group-commit";
import type { Logger } from "./log";
import { DeadLetterReason, ProcessorMetrics } from "./metrics";
import { EventStore, unstorableError } from "./store";

/** Dapr's answers to a delivery: processed, deliver again later, or give up on it. */
export type DeliveryStatus = "SUCCESS" | "RETRY" | "DROP";

/** One entry's answer in a bulk delivery. */
export interface BulkStatus {
  readonly entryId: string;
  readonly status: DeliveryStatus;
}

/** Most errors a dead-letter message lists, and most bytes they take as JSON; a last entry counts the rest. */
const MAX_DEAD_LETTER_ERRORS = 20;
const MAX_DEAD_LETTER_ERROR_BYTES = 16 * 1024;

/** Attributes Dapr adds per delivery; they differ between redeliveries, so they are neither stored nor forwarded. */
const TRANSPORT_ATTRIBUTES = ["pubsubname", "topic", "traceid", "traceparent", "tracestate"];

type Prepared =
  | { readonly ok: true; readonly event: CloudEvent }
  | { readonly ok: false; readonly reason: DeadLetterReason; readonly errors: ValidationError[]; readonly original?: unknown; readonly raw?: string; readonly bytes?: number };

/** Settings of the processing core. */
export interface ProcessorOptions {
  /** Largest original event copied into a dead-letter message, bytes. */
  readonly maxDeadLetterEventBytes: number;
  /** Largest event, bytes: the single delivery's body limit, applied to each entry of a bulk delivery too. */
  readonly maxEventBytes: number;
  /** How concurrent single deliveries share store transactions. */
  readonly groupCommit: GroupCommitOptions;
}

/**
 * The processing core, independent of HTTP: validates each event of a topic against the catalog, stores and forwards
 * valid ones, dead-letters invalid ones with their errors, and decides Dapr's answer. Accounting: every entry that
 * gets SUCCESS or DROP is recorded as exactly one outcome; RETRY is recorded as a retry only.
 */
export class EventProcessor {
  private readonly group: GroupCommit;

  constructor(
    readonly catalog: Catalog,
    private readonly store: EventStore,
    private readonly dapr: DaprPublisher,
    readonly metrics: ProcessorMetrics,
    private readonly log: Logger,
    private readonly options: ProcessorOptions,
  ) {
    this.group = new GroupCommit(store, { ...options.groupCommit, observe: (n) => metrics.groupSize.observe(n) });
  }

  /** Handles one structured-mode CloudEvent delivery; `body` is the raw bytes, or the size when it was too large. */
  async single(route: CompiledEvent, body: Buffer | { oversized: number }, headers: Record<string, string>): Promise<DeliveryStatus> {
    const prepared = Buffer.isBuffer(body) ? this.prepareBytes(route, body) : this.oversized(body.oversized);
    if (!prepared.ok) return this.deadLetterOne(route, prepared, headers);
    let stored: boolean;
    try {
      stored = await this.group.append(prepared.event, (event) => this.dapr.publish(route.validTopic, event, "application/cloudevents+json", headers));
    } catch (e) {
      // PostgreSQL refusing the data itself would refuse every redelivery too: dead-letter instead of retrying
      const refused = unstorableError(e);
      if (refused !== undefined) return this.deadLetterOne(route, this.unstorable(prepared.event, refused), headers);
      return this.failed(route, e, "forward", false);
    }
    this.metrics.outcome(route.type, stored ? "valid" : "duplicate");
    return "SUCCESS";
  }

  private async deadLetterOne(route: CompiledEvent, prepared: Extract<Prepared, { ok: false }>, headers: Record<string, string>): Promise<DeliveryStatus> {
    try {
      await this.deadLetter(route, [prepared], headers);
    } catch (e) {
      return this.failed(route, e, prepared.reason, true);
    }
    this.metrics.outcome(route.type, { deadLetter: prepared.reason });
    return "SUCCESS";
  }

  /**
   * Handles a bulk delivery (`{ entries: [{ entryId, event, contentType }] }`): one transaction stores the valid
   * entries, one bulk publish forwards the new ones, one bulk publish dead-letters the invalid ones. Returns a status
   * for every entry, or a 400 reason when the body is not a bulk delivery at all.
   */
  async bulk(route: CompiledEvent, body: unknown, maxEntries: number, headers: Record<string, string>): Promise<{ statuses: BulkStatus[] } | { error: ValidationError[] }> {
    const shape = this.bulkShape(body, maxEntries);
    if ("error" in shape) return shape;
    const entries = shape.entries;
    this.metrics.batchSize.observe(entries.length);
    const prepared = entries.map((e) => this.prepareEntry(route, e.event));
    const status = new Map<number, DeliveryStatus>();

    const validIdx = prepared.map((p, i) => (p.ok ? i : -1)).filter((i) => i >= 0);
    const invalidIdx = prepared.map((p, i) => (p.ok ? -1 : i)).filter((i) => i >= 0);
    const forward = (fresh: CloudEvent[]) =>
      this.dapr.publishBulk(route.validTopic, fresh.map((ev) => ({ entryId: `${ev.source} ${ev.id}`, event: ev, contentType: "application/cloudevents+json" })), headers);
    const storedAs = (i: number, fresh: boolean) => {
      this.metrics.outcome(route.type, fresh ? "valid" : "duplicate");
      status.set(i, "SUCCESS");
    };

    if (validIdx.length) {
      try {
        const stored = await this.store.appendAndForward(validIdx.map((i) => (prepared[i] as { event: CloudEvent }).event), forward);
        validIdx.forEach((i, k) => storedAs(i, stored[k]));
      } catch (e) {
        if (unstorableError(e) === undefined) for (const i of validIdx) status.set(i, this.failed(route, e, "forward", false));
        else {
          // one entry PostgreSQL refuses fails the whole transaction: store entry by entry to find it, so that the
          // others are stored and only it is dead-lettered (rare, so the extra transactions do not matter)
          for (const i of validIdx) {
            const event = (prepared[i] as { event: CloudEvent }).event;
            try {
              storedAs(i, (await this.store.appendAndForward([event], forward))[0]);
            } catch (one) {
              const refused = unstorableError(one);
              if (refused === undefined) status.set(i, this.failed(route, one, "forward", false));
              else {
                prepared[i] = this.unstorable(event, refused);
                invalidIdx.push(i);
              }
            }
          }
        }
      }
    }
    if (invalidIdx.length) {
      try {
        await this.deadLetter(route, invalidIdx.map((i) => prepared[i] as Extract<Prepared, { ok: false }>), headers);
        for (const i of invalidIdx) {
          this.metrics.outcome(route.type, { deadLetter: (prepared[i] as { reason: DeadLetterReason }).reason });
          status.set(i, "SUCCESS");
        }
      } catch (e) {
        for (const i of invalidIdx) status.set(i, this.failed(route, e, (prepared[i] as { reason: DeadLetterReason }).reason, true));
      }
    }
    return { statuses: entries.map((e, i) => ({ entryId: e.entryId, status: status.get(i) ?? "RETRY" })) };
  }

  private bulkShape(body: unknown, maxEntries: number): { entries: Array<{ entryId: string; event: unknown }> } | { error: ValidationError[] } {
    if (body === null || typeof body !== "object" || Array.isArray(body)) return { error: [{ field: "(body)", message: "must be a bulk delivery object with entries" }] };
    const entries = (body as { entries?: unknown }).entries;
    if (!Array.isArray(entries)) return { error: [{ field: "entries", message: "must be an array" }] };
    if (entries.length > maxEntries) return { error: [{ field: "entries", message: `must have at most ${maxEntries} entries (got ${entries.length})` }] };
    const errors: ValidationError[] = [];
    const ids = new Set<string>();
    entries.forEach((e, i) => {
      if (e === null || typeof e !== "object") { errors.push({ field: `entries/${i}`, message: "must be an object" }); return; }
      const id = (e as { entryId?: unknown }).entryId;
      if (typeof id !== "string" || id.length === 0 || id.length > 256) errors.push({ field: `entries/${i}/entryId`, message: "must be a non-empty string of at most 256 characters" });
      else if (ids.has(id)) errors.push({ field: `entries/${i}/entryId`, message: `'${id}' is used twice` });
      else ids.add(id);
    });
    if (errors.length) return { error: errors.slice(0, 20) };
    return { entries: entries as Array<{ entryId: string; event: unknown }> };
  }

  private prepareBytes(route: CompiledEvent, body: Buffer): Prepared {
    const decoded = decodeBody(body);
    if ("error" in decoded) return { ok: false, reason: "malformed", errors: [{ field: "(body)", message: decoded.error }], bytes: body.length };
    return this.prepareText(route, decoded.text);
  }

  /** A bulk entry: the event as JSON text or as an object, held to the single delivery's size limit. */
  private prepareEntry(route: CompiledEvent, event: unknown): Prepared {
    let bytes: number | undefined;
    if (typeof event === "string") bytes = Buffer.byteLength(event);
    else {
      // a value nested too deep to serialise is refused by validation (nesting), not measured here
      try { bytes = Buffer.byteLength(JSON.stringify(event) ?? ""); } catch { bytes = undefined; }
    }
    if (bytes !== undefined && bytes > this.options.maxEventBytes) return { ...this.oversized(bytes), original: typeof event === "string" ? undefined : event };
    return typeof event === "string" ? this.prepareText(route, event) : this.prepareObject(route, event);
  }

  private unstorable(event: CloudEvent, reason: string): Extract<Prepared, { ok: false }> {
    return { ok: false, reason: "unstorable", errors: [{ field: "(event)", message: `cannot be stored: ${reason}` }], original: event };
  }

  private prepareText(route: CompiledEvent, text: string): Prepared {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return { ok: false, reason: "malformed", errors: [{ field: "(body)", message: `is not valid JSON: ${(e as Error).message.slice(0, 200)}` }], raw: text, bytes: Buffer.byteLength(text) };
    }
    return this.prepareObject(route, parsed);
  }

  private prepareObject(route: CompiledEvent, input: unknown): Prepared {
    let event = input;
    if (event !== null && typeof event === "object" && !Array.isArray(event) && TRANSPORT_ATTRIBUTES.some((a) => a in (event as object))) {
      const copy: Record<string, unknown> = { ...(event as Record<string, unknown>) };
      for (const a of TRANSPORT_ATTRIBUTES) delete copy[a];
      event = copy;
    }
    const errors = validateEvent(event, route);
    if (errors.length === 0) return { ok: true, event: event as CloudEvent };
    const envelope = errors.some((e) => !e.field.startsWith("data/") && e.field !== "data");
    return { ok: false, reason: envelope ? "envelope" : "schema", errors, original: event };
  }

  private oversized(bytes: number): Extract<Prepared, { ok: false }> {
    return { ok: false, reason: "oversized", errors: [{ field: "(body)", message: `is ${bytes} bytes, over the limit of ${this.options.maxEventBytes}` }], bytes };
  }

  /**
   * The dead-letter message: why, the errors, and the original event (or a summary when it is too big). Its size is
   * bounded: the event or raw body by maxDeadLetterEventBytes, the errors by count and bytes, the summary's strings
   * by length, so a hostile event cannot produce a message (or log line) larger than it allows.
   */
  private deadLetterMessage(route: CompiledEvent, p: Extract<Prepared, { ok: false }>): Record<string, unknown> {
    const message: Record<string, unknown> = { reason: p.reason, type: route.type, topic: route.topic, errors: boundedErrors(p.errors), deadLetteredAt: new Date().toISOString() };
    const limit = this.options.maxDeadLetterEventBytes;
    if (p.original !== undefined) {
      let text: string | undefined;
      try { text = JSON.stringify(p.original); } catch { text = undefined; }
      if (text !== undefined && Buffer.byteLength(text) <= limit) message.event = p.original;
      else message.eventSummary = summary(p.original, text ? Buffer.byteLength(text) : p.bytes);
    } else if (p.raw !== undefined) {
      const raw = Buffer.from(p.raw);
      message.raw = raw.length > limit ? `${raw.subarray(0, limit).toString("utf8")}...` : p.raw;
      message.bytes = p.bytes;
    } else if (p.bytes !== undefined) {
      message.bytes = p.bytes;
    }
    return message;
  }

  private async deadLetter(route: CompiledEvent, items: ReadonlyArray<Extract<Prepared, { ok: false }>>, headers: Record<string, string>): Promise<void> {
    const messages = items.map((p) => this.deadLetterMessage(route, p));
    for (const [i, m] of messages.entries()) {
      const id = (m.event as { id?: unknown } | undefined)?.id ?? (m.eventSummary as { id?: unknown } | undefined)?.id;
      this.log.log("warn", "event dead-lettered", { type: route.type, reason: items[i].reason, errors: (m.errors as ValidationError[]).slice(0, 5), id: typeof id === "string" ? id.slice(0, 256) : undefined });
    }
    if (messages.length === 1) await this.dapr.publish(route.deadLetterTopic, messages[0], "application/json", headers);
    else await this.dapr.publishBulk(route.deadLetterTopic, messages.map((m, i) => ({ entryId: String(i), event: m, contentType: "application/json" })), headers);
  }

  /**
   * The answer when storing or publishing failed: RETRY for transient failures; DROP when the sidecar refused a
   * dead-letter publish outright (a 4xx: retrying cannot help), which is final and so counted as dead-lettered.
   */
  private failed(route: CompiledEvent, error: unknown, reason: string, deadLettering: boolean): DeliveryStatus {
    const permanent = deadLettering && error instanceof PublishError && !error.retryable;
    this.log.log(permanent ? "error" : "warn", permanent ? "dead-letter publish refused; dropping" : "delivery failed; asking Dapr to retry", { type: route.type, reason, error: (error as Error).message });
    if (permanent) {
      this.metrics.outcome(route.type, { deadLetter: reason as DeadLetterReason });
      return "DROP";
    }
    this.metrics.retries.inc({ type: route.type, reason });
    return "RETRY";
  }
}

/** The errors of a dead-letter message, bounded in count, in each string's length and in total bytes. */
function boundedErrors(errors: ReadonlyArray<ValidationError>): ValidationError[] {
  const out: ValidationError[] = [];
  let bytes = 0;
  for (const e of errors) {
    const cut = { field: clip(e.field, 256), message: clip(e.message, 512) };
    bytes += Buffer.byteLength(JSON.stringify(cut));
    if (out.length >= MAX_DEAD_LETTER_ERRORS || bytes > MAX_DEAD_LETTER_ERROR_BYTES) {
      out.push({ field: "(errors)", message: `${errors.length - out.length} more not shown` });
      break;
    }
    out.push(cut);
  }
  return out;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function summary(original: unknown, bytes: number | undefined): Record<string, unknown> {
  const o = original !== null && typeof original === "object" && !Array.isArray(original) ? (original as Record<string, unknown>) : {};
  const pick = (k: string) => (typeof o[k] === "string" ? (o[k] as string).slice(0, 256) : undefined);
  return { id: pick("id"), source: pick("source"), type: pick("type"), time: pick("time"), bytes };
}
