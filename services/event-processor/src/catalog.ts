import * as fs from "node:fs";
import Ajv, { ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

/** Format marker of the schema bundle the events component generates from the event catalog. */
export const BUNDLE_FORMAT = "stratum.dev/event-schema-bundle/v1";

/** One event type of the bundle: where it flows and the JSON schema of its `data`. */
export interface BundleEvent {
  /** CloudEvents `type`, e.g. `order.created`. */
  readonly type: string;
  /** Schema version (major). */
  readonly version: number;
  /** The `dataschema` URI of this version; an event that names another is refused. */
  readonly schemaId: string;
  /** Topic producers publish to (the processor subscribes to it). */
  readonly topic: string;
  /** Topic valid events are forwarded to (consumers subscribe to it). */
  readonly validTopic: string;
  /** Topic invalid events are published to, with the validation errors. */
  readonly deadLetterTopic: string;
  /** JSON schema of the event's `data`. */
  readonly schema: Record<string, unknown>;
}

/** The schema bundle: every catalog type the processor validates. */
export interface SchemaBundle {
  readonly format: typeof BUNDLE_FORMAT;
  readonly events: ReadonlyArray<BundleEvent>;
}

/** A catalog type with its data validator, compiled once at start. */
export interface CompiledEvent extends BundleEvent {
  /** Stops at the first error: the fast path every event takes. */
  readonly validate: ValidateFunction;
  /** Collects every error: run only for events that failed, to tell the producer everything at once. */
  readonly explain: ValidateFunction;
}

const TOPIC = "^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$";
const BUNDLE_SCHEMA = {
  type: "object",
  required: ["format", "events"],
  additionalProperties: false,
  properties: {
    format: { const: BUNDLE_FORMAT },
    events: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["type", "version", "schemaId", "topic", "validTopic", "deadLetterTopic", "schema"],
        properties: {
          type: { type: "string", pattern: "^[a-z][a-z0-9]*(\\.[a-z][a-z0-9-]*)+$" },
          version: { type: "integer", minimum: 1 },
          schemaId: { type: "string", minLength: 1 },
          topic: { type: "string", pattern: TOPIC },
          validTopic: { type: "string", pattern: TOPIC },
          deadLetterTopic: { type: "string", pattern: TOPIC },
          schema: { type: "object" },
        },
      },
    },
  },
};

/** The catalog the processor validates against: one compiled validator per type. */
export class Catalog {
  private readonly byType = new Map<string, CompiledEvent>();

  constructor(bundle: unknown, source = "schema bundle") {
    const check = new Ajv({ allErrors: true }).compile(BUNDLE_SCHEMA);
    if (!check(bundle)) {
      const problems = (check.errors ?? []).map((e) => `${e.instancePath || "(root)"}: ${e.message}`);
      throw new Error(`${source}: not a valid schema bundle: ${problems.join("; ")}`);
    }
    // strict mode turns schema typos into start-up errors instead of silent acceptance
    const fast = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
    const full = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(fast);
    addFormats(full);
    for (const e of (bundle as unknown as SchemaBundle).events) {
      if (this.byType.has(e.type)) throw new Error(`${source}: event type '${e.type}' appears twice`);
      let validate: ValidateFunction;
      let explain: ValidateFunction;
      try {
        validate = fast.compile(e.schema);
        explain = full.compile(e.schema);
      } catch (err) {
        throw new Error(`${source}: schema of '${e.type}' does not compile: ${(err as Error).message}`);
      }
      this.byType.set(e.type, { ...e, validate, explain });
    }
  }

  /** Reads and compiles a bundle file. */
  static fromFile(file: string): Catalog {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`${file}: cannot read the schema bundle (${(e as Error).message})`);
    }
    return new Catalog(raw, file);
  }

  /** The compiled type, or undefined. */
  get(type: string): CompiledEvent | undefined {
    return this.byType.get(type);
  }

  /** Every type, sorted. */
  get events(): CompiledEvent[] {
    return [...this.byType.values()].sort((a, b) => a.type.localeCompare(b.type));
  }
}
