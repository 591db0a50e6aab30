import Ajv from "ajv";
import addFormats from "ajv-formats";

/** A JSON schema (draft-07, as ajv compiles it by default). */
export type JsonSchemaObject = Readonly<Record<string, unknown>>;

/** An app that consumes an event type from its validated topic. */
export interface EventConsumer {
  /** Dapr app id (the graph node id of the service), e.g. `payment`. */
  readonly app: string;
  /** HTTP route in the app that Dapr delivers to. @default `/events/<type>` */
  readonly route?: string;
  /** Receive events in bulk (Dapr bulk subscribe). @default false */
  readonly bulk?: boolean;
}

/** One event type of the catalog. */
export interface EventDefinition {
  /** CloudEvents `type`: lower-case, dotted `<domain>.<what-happened>`, e.g. `order.created`. */
  readonly type: string;
  /** Version of the data schema (a major version: a new version is a breaking change). */
  readonly version: number;
  /** What happened, one sentence (goes to the catalog page). */
  readonly description: string;
  /** JSON schema of the event's `data`; compiled in strict mode, so typos fail the build. */
  readonly schema: JsonSchemaObject;
  /** A valid `data` example; checked against the schema, shown on the catalog page, used by tests. */
  readonly example: Readonly<Record<string, unknown>>;
  /** Dapr app ids allowed to publish it (graph node ids). */
  readonly producers: ReadonlyArray<string>;
  /** Apps that receive it once validated. @default none */
  readonly consumers?: ReadonlyArray<string | EventConsumer>;
}

/** Where one event type flows. */
export interface EventTopics {
  /** Producers publish here; the event processor subscribes. */
  readonly topic: string;
  /** The processor forwards valid events here; consumers subscribe. */
  readonly validTopic: string;
  /** Invalid events (with their errors) and events the processor could not take. */
  readonly deadLetterTopic: string;
}

/** The schema bundle the event processor loads (format shared with services/event-processor/src/catalog.ts). */
export interface SchemaBundle {
  readonly format: "stratum.dev/event-schema-bundle/v1";
  readonly events: ReadonlyArray<EventTopics & { readonly type: string; readonly version: number; readonly schemaId: string; readonly schema: JsonSchemaObject }>;
}

const TYPE = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9-]*)+$/;
const APP_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The `dataschema` URI of a type's version. */
export function schemaId(type: string, version: number): string {
  return `urn:stratum:events:${type}:v${version}`;
}

/** The topics of an event type: `<type>`, `<type>.validated`, `<type>.dead-letter`. */
export function topicsOf(type: string): EventTopics {
  return { topic: type, validTopic: `${type}.validated`, deadLetterTopic: `${type}.dead-letter` };
}

/** The dead-letter topic of one consumer's subscription. */
export function consumerDeadLetterTopic(type: string, app: string): string {
  return `${type}.validated.${app}.dead-letter`;
}

/**
 * The typed event catalog: each event type with its version, data schema, producers and consumers. Everything about
 * events is derived from it: Dapr Subscriptions with their dead-letter topics, the pub/sub scopes, the processor's
 * schema bundle, and the catalog page. Definitions are checked when added (schema compiles, example is valid).
 */
export class EventCatalog {
  private readonly byType = new Map<string, EventDefinition>();
  private readonly ajv: Ajv;

  constructor(definitions: ReadonlyArray<EventDefinition> = []) {
    this.ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(this.ajv);
    for (const d of definitions) this.add(d);
  }

  /** Adds an event type; an invalid definition is an error naming the type and every problem. */
  add(def: EventDefinition): this {
    const name = `event catalog: '${def.type}'`;
    const problems: string[] = [];
    if (!TYPE.test(def.type)) problems.push(`type must be lower-case and dotted like 'order.created' (got ${JSON.stringify(def.type)})`);
    if (this.byType.has(def.type)) problems.push("is declared twice");
    if (!Number.isInteger(def.version) || def.version < 1) problems.push(`version must be an integer >= 1 (got ${def.version})`);
    if (!def.description || def.description.trim().length < 10) problems.push("description must say what happened, in a sentence");
    if (def.producers.length === 0) problems.push("needs at least one producer");
    const apps = [...def.producers, ...this.consumersOf(def).map((c) => c.app)];
    for (const app of apps) if (!APP_ID.test(app)) problems.push(`app id '${app}' must be a DNS label`);
    const consumerApps = this.consumersOf(def).map((c) => c.app);
    const dup = consumerApps.find((a, i) => consumerApps.indexOf(a) !== i);
    if (dup) problems.push(`consumer '${dup}' is listed twice`);
    for (const c of this.consumersOf(def)) {
      if (c.route !== undefined && !/^\/[A-Za-z0-9._~\/-]*$/.test(c.route)) problems.push(`consumer '${c.app}': route must be an absolute path (got ${JSON.stringify(c.route)})`);
    }
    if (def.schema.type !== "object") problems.push("schema must describe an object (type: object)");
    try {
      const validate = this.ajv.compile(def.schema);
      if (!validate(def.example)) {
        problems.push(`example does not match the schema: ${(validate.errors ?? []).map((e) => `data${e.instancePath} ${e.message}`).join("; ")}`);
      }
    } catch (e) {
      problems.push(`schema does not compile: ${(e as Error).message}`);
    }
    if (problems.length) throw new Error(`${name}: ${problems.join("; ")}`);
    this.byType.set(def.type, def);
    return this;
  }

  /** Every definition, sorted by type. */
  get definitions(): EventDefinition[] {
    return [...this.byType.values()].sort((a, b) => a.type.localeCompare(b.type));
  }

  /** True when the type is declared. */
  has(type: string): boolean {
    return this.byType.has(type);
  }

  /** The definition of a type; an unknown type lists the known ones. */
  get(type: string): EventDefinition {
    const d = this.byType.get(type);
    if (!d) throw new Error(`event catalog: unknown type '${type}'; known: ${[...this.byType.keys()].sort().join(", ")}`);
    return d;
  }

  /** Consumers of a definition with their defaults applied. */
  consumersOf(def: EventDefinition): Array<Required<EventConsumer>> {
    return (def.consumers ?? []).map((c) => (typeof c === "string" ? { app: c } : c)).map((c) => ({ app: c.app, route: c.route ?? `/events/${def.type}`, bulk: c.bulk ?? false }));
  }

  /** Every app id that produces or consumes some event, sorted. */
  get apps(): string[] {
    return [...new Set(this.definitions.flatMap((d) => [...d.producers, ...this.consumersOf(d).map((c) => c.app)]))].sort();
  }

  /** The validator's schema bundle (the processor compiles it once at start). */
  schemaBundle(): SchemaBundle {
    return {
      format: "stratum.dev/event-schema-bundle/v1",
      events: this.definitions.map((d) => ({ type: d.type, version: d.version, schemaId: schemaId(d.type, d.version), ...topicsOf(d.type), schema: d.schema })),
    };
  }

  /**
   * Topic-level scopes for the pub/sub component: who may publish and subscribe to which topic. Producers publish
   * only their raw topics; the processor subscribes to raw topics and publishes validated and dead-letter topics;
   * consumers subscribe to validated topics (and publish their own dead-letter topic, which their sidecar does).
   */
  scopes(processorApp: string): { publishing: Map<string, string[]>; subscription: Map<string, string[]>; topics: string[] } {
    const publishing = new Map<string, Set<string>>();
    const subscription = new Map<string, Set<string>>();
    const add = (m: Map<string, Set<string>>, app: string, topic: string) => m.set(app, (m.get(app) ?? new Set()).add(topic));
    for (const d of this.definitions) {
      const t = topicsOf(d.type);
      for (const p of d.producers) add(publishing, p, t.topic);
      add(subscription, processorApp, t.topic);
      add(publishing, processorApp, t.validTopic);
      add(publishing, processorApp, t.deadLetterTopic);
      for (const c of this.consumersOf(d)) {
        add(subscription, c.app, t.validTopic);
        add(publishing, c.app, consumerDeadLetterTopic(d.type, c.app));
      }
    }
    const sorted = (m: Map<string, Set<string>>) => new Map([...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));
    const p = sorted(publishing);
    const s = sorted(subscription);
    const topics = [...new Set([...p.values(), ...s.values()].flat())].sort();
    return { publishing: p, subscription: s, topics };
  }
}
