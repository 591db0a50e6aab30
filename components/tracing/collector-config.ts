/** One pipeline of a collector: where telemetry comes from, what touches it in order, and where it goes. */
export interface CollectorPipeline {
  /** Receiver (or connector) ids. */
  readonly receivers: ReadonlyArray<string>;
  /** Processor ids, applied in this order. */
  readonly processors?: ReadonlyArray<string>;
  /** Exporter (or connector) ids. */
  readonly exporters: ReadonlyArray<string>;
}

/**
 * An OpenTelemetry Collector configuration, as the `OpenTelemetryCollector` custom resource (v1beta1) carries it.
 * Component settings stay open records (each receiver, processor and exporter has its own schema upstream); the
 * structure that ties them together is typed and checked by {@link collectorConfigProblems}.
 */
export interface CollectorConfig {
  readonly receivers: Readonly<Record<string, unknown>>;
  readonly processors?: Readonly<Record<string, unknown>>;
  readonly exporters: Readonly<Record<string, unknown>>;
  readonly extensions?: Readonly<Record<string, unknown>>;
  readonly connectors?: Readonly<Record<string, unknown>>;
  readonly service: {
    readonly extensions?: ReadonlyArray<string>;
    readonly pipelines: Readonly<Record<string, CollectorPipeline>>;
    readonly telemetry?: Readonly<Record<string, unknown>>;
  };
}

const SIGNALS = ["traces", "metrics", "logs"];
/** A component id is `type` or `type/name`; the type is a lower-case identifier. */
const COMPONENT_ID = /^[a-z][a-z0-9_]*(\/[A-Za-z0-9_.-]+)?$/;

/**
 * Everything the collector would refuse at start-up, checked at synth time: every id a pipeline names exists in its
 * section (connectors count as both receiver and exporter), every service extension is defined, pipeline names are
 * `<signal>` or `<signal>/<name>`, each pipeline has a receiver and an exporter, and nothing is listed twice. It also
 * flags what the collector silently accepts but is wrong here: a component defined and never used, and a
 * `memory_limiter` that is not the first processor (it must refuse data before anything else buffers it).
 */
export function collectorConfigProblems(config: CollectorConfig): string[] {
  const problems: string[] = [];
  const receivers = new Set(Object.keys(config.receivers));
  const processors = new Set(Object.keys(config.processors ?? {}));
  const exporters = new Set(Object.keys(config.exporters));
  const extensions = new Set(Object.keys(config.extensions ?? {}));
  const connectors = new Set(Object.keys(config.connectors ?? {}));
  for (const [section, ids] of [["receivers", receivers], ["processors", processors], ["exporters", exporters], ["extensions", extensions], ["connectors", connectors]] as const) {
    for (const id of ids) if (!COMPONENT_ID.test(id)) problems.push(`${section}: '${id}' is not a valid component id (type or type/name)`);
  }
  const used = { receivers: new Set<string>(), processors: new Set<string>(), exporters: new Set<string>(), connectors: new Set<string>() };
  const pipelines = Object.entries(config.service.pipelines);
  if (pipelines.length === 0) problems.push("service.pipelines: at least one pipeline is needed");
  for (const [name, p] of pipelines) {
    const where = `service.pipelines.${name}`;
    if (!SIGNALS.includes(name.split("/")[0]) || !COMPONENT_ID.test(name)) problems.push(`${where}: the name must be <signal> or <signal>/<name> with signal one of ${SIGNALS.join(", ")}`);
    if (p.receivers.length === 0) problems.push(`${where}.receivers: at least one receiver is needed`);
    if (p.exporters.length === 0) problems.push(`${where}.exporters: at least one exporter is needed`);
    const check = (list: ReadonlyArray<string>, field: string, known: Set<string>, alsoConnector: boolean) => {
      const seen = new Set<string>();
      for (const id of list) {
        if (seen.has(id)) problems.push(`${where}.${field}: '${id}' is listed twice`);
        seen.add(id);
        if (known.has(id)) (used as Record<string, Set<string>>)[field].add(id);
        else if (alsoConnector && connectors.has(id)) used.connectors.add(id);
        else problems.push(`${where}.${field}: '${id}' is not defined in ${field}${alsoConnector ? " or connectors" : ""} (defined: ${[...known].sort().join(", ") || "none"})`);
      }
    };
    check(p.receivers, "receivers", receivers, true);
    check(p.processors ?? [], "processors", processors, false);
    check(p.exporters, "exporters", exporters, true);
    const limiter = (p.processors ?? []).findIndex((id) => id.split("/")[0] === "memory_limiter");
    if (limiter > 0) problems.push(`${where}.processors: memory_limiter must come first (found at position ${limiter + 1})`);
  }
  for (const id of config.service.extensions ?? []) {
    if (!extensions.has(id)) problems.push(`service.extensions: '${id}' is not defined in extensions (defined: ${[...extensions].sort().join(", ") || "none"})`);
  }
  for (const id of extensions) {
    if (!(config.service.extensions ?? []).includes(id)) problems.push(`extensions: '${id}' is defined but not enabled in service.extensions`);
  }
  for (const [section, ids] of [["receivers", receivers], ["processors", processors], ["exporters", exporters], ["connectors", connectors]] as const) {
    for (const id of ids) if (!used[section].has(id)) problems.push(`${section}: '${id}' is defined but no pipeline uses it`);
  }
  return problems;
}
