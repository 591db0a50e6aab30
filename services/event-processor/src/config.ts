import * as fs from "node:fs";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";

/** The event processor's configuration file (YAML or JSON); environment variables fill in the connections. */
export interface ProcessorConfig {
  /** Port Dapr delivers events to (the app port). */
  readonly port: number;
  /** Port of the Prometheus metrics endpoint. */
  readonly metricsPort: number;
  /** Address to listen on. */
  readonly host: string;
  /** Name of the Dapr pub/sub component. */
  readonly pubsubName: string;
  /** Path of the schema bundle generated from the event catalog. */
  readonly catalogFile: string;
  /** The Dapr sidecar: host and HTTP port (DAPR_HTTP_PORT overrides the port). */
  readonly dapr: { readonly host: string; readonly httpPort: number; readonly timeoutMs: number };
  /** Serve `GET /dapr/subscribe` with one subscription per catalog type (instead of declarative Subscriptions). */
  readonly programmaticSubscriptions: boolean;
  /** PostgreSQL connection string (DATABASE_URL, or built from POSTGRES_* variables). */
  readonly databaseUrl: string;
  /** Connections in the pool. */
  readonly poolSize: number;
  /** Timeouts of the database connections, so that a PostgreSQL that stops answering fails deliveries (RETRY). */
  readonly database: {
    /** Opening a connection (TCP, TLS, authentication), ms. @default 5000 */
    readonly connectTimeoutMs: number;
    /** Server-side limit of one statement (statement_timeout), ms. @default 10000 */
    readonly statementTimeoutMs: number;
    /** Client-side limit of waiting for an answer, which also holds when the server is frozen, ms. @default 15000 */
    readonly queryTimeoutMs: number;
    /** Idle time before TCP keep-alive probes start on a connection, ms. @default 10000 */
    readonly keepAliveDelayMs: number;
    /** Longest database check of `/readyz`, ms. @default 2000 */
    readonly readyTimeoutMs: number;
    /** Longest wait at shutdown for the pool to close its connections, ms. @default 5000 */
    readonly closeTimeoutMs: number;
  };
  /** Limits that bound memory and work per request. */
  readonly limits: {
    /** Largest request body of a single delivery, bytes. */
    readonly maxBodyBytes: number;
    /** Largest request body of a bulk delivery, bytes. */
    readonly maxBulkBodyBytes: number;
    /** Most entries in one bulk delivery. */
    readonly maxBulkEntries: number;
    /** Requests handled at once; more get 503 (Dapr retries them). */
    readonly maxInFlight: number;
    /** Largest original event copied into a dead-letter message, bytes; bigger ones are summarised. */
    readonly maxDeadLetterEventBytes: number;
    /** Most events one replay page returns. */
    readonly maxReplayPage: number;
    /** Most bytes of events (as JSON) in one replay page; a page always holds at least one event. */
    readonly maxReplayPageBytes: number;
    /** Replay requests (GET or POST) served at once, each until its answer is sent; more get 503. */
    readonly maxReplaysInFlight: number;
    /** Longest time a replay answer may take to be sent; a reader that stalls longer is cut off, ms. */
    readonly replayAnswerTimeoutMs: number;
  };
  /** Seconds to finish in-flight requests after SIGTERM. */
  readonly drainSeconds: number;
  /** Minimum log level. */
  readonly logLevel: "debug" | "info" | "warn" | "error";
}

const DEFAULTS = {
  port: 8080,
  metricsPort: 9090,
  host: "0.0.0.0",
  pubsubName: "events",
  catalogFile: "/etc/event-processor/catalog.json",
  dapr: { host: "127.0.0.1", httpPort: 3500, timeoutMs: 5000 },
  programmaticSubscriptions: false,
  poolSize: 10,
  database: { connectTimeoutMs: 5000, statementTimeoutMs: 10_000, queryTimeoutMs: 15_000, keepAliveDelayMs: 10_000, readyTimeoutMs: 2000, closeTimeoutMs: 5000 },
  limits: {
    maxBodyBytes: 1024 * 1024,
    maxBulkBodyBytes: 8 * 1024 * 1024,
    maxBulkEntries: 500,
    maxInFlight: 64,
    maxDeadLetterEventBytes: 64 * 1024,
    maxReplayPage: 1000,
    // Dapr's default request size limit, so that republishing a page fits one bulk publish
    maxReplayPageBytes: 4 * 1024 * 1024,
    maxReplaysInFlight: 2,
    replayAnswerTimeoutMs: 60_000,
  },
  drainSeconds: 20,
  logLevel: "info" as const,
};

const port = { type: "integer", minimum: 0, maximum: 65535 };
const positive = { type: "integer", minimum: 1 };
const FILE_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    port,
    metricsPort: port,
    host: { type: "string", minLength: 1 },
    pubsubName: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
    catalogFile: { type: "string", minLength: 1 },
    dapr: {
      type: "object",
      additionalProperties: false,
      properties: { host: { type: "string", minLength: 1 }, httpPort: port, timeoutMs: positive },
    },
    programmaticSubscriptions: { type: "boolean" },
    databaseUrl: { type: "string", pattern: "^postgres(ql)?://" },
    poolSize: { type: "integer", minimum: 1, maximum: 100 },
    database: {
      type: "object",
      additionalProperties: false,
      properties: {
        connectTimeoutMs: positive,
        statementTimeoutMs: positive,
        queryTimeoutMs: positive,
        keepAliveDelayMs: positive,
        readyTimeoutMs: positive,
        closeTimeoutMs: positive,
      },
    },
    limits: {
      type: "object",
      additionalProperties: false,
      properties: {
        maxBodyBytes: positive,
        maxBulkBodyBytes: positive,
        maxBulkEntries: { type: "integer", minimum: 1, maximum: 10000 },
        maxInFlight: { type: "integer", minimum: 1, maximum: 10000 },
        maxDeadLetterEventBytes: positive,
        maxReplayPage: { type: "integer", minimum: 1, maximum: 100000 },
        maxReplayPageBytes: positive,
        maxReplaysInFlight: { type: "integer", minimum: 1, maximum: 1000 },
        replayAnswerTimeoutMs: { type: "integer", minimum: 100, maximum: 3600000 },
      },
    },
    drainSeconds: { type: "integer", minimum: 0, maximum: 600 },
    logLevel: { enum: ["debug", "info", "warn", "error"] },
  },
};

/** A configuration problem: every message names the field. */
export class ConfigError extends Error {}

/** Builds the database URL from DATABASE_URL or the POSTGRES_* variables the platform's service graph hands out. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  if (!env.POSTGRES_HOST) return undefined;
  const user = encodeURIComponent(env.POSTGRES_USER ?? "postgres");
  const password = env.POSTGRES_PASSWORD ? `:${encodeURIComponent(env.POSTGRES_PASSWORD)}` : "";
  const db = encodeURIComponent(env.POSTGRES_DATABASE ?? env.POSTGRES_DB ?? "postgres");
  const ssl = env.POSTGRES_SSLMODE ? `?sslmode=${encodeURIComponent(env.POSTGRES_SSLMODE)}` : "";
  return `postgres://${user}${password}@${env.POSTGRES_HOST}:${env.POSTGRES_PORT ?? "5432"}/${db}${ssl}`;
}

/** Merges a parsed config object with defaults and the environment; throws ConfigError naming every bad field. */
export function resolveConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, source = "config"): ProcessorConfig {
  const ajv = new Ajv({ allErrors: true });
  const validate = ajv.compile(FILE_SCHEMA);
  const input = raw ?? {};
  if (!validate(input)) {
    const lines = (validate.errors ?? []).map((e) => {
      const field = (e.instancePath || "").replace(/^\//, "").replace(/\//g, ".") || (e.params as { additionalProperty?: string }).additionalProperty || "(root)";
      const extra = e.keyword === "additionalProperties" ? `unknown field '${(e.params as { additionalProperty: string }).additionalProperty}'` : e.message;
      return `  - ${field}: ${extra}`;
    });
    throw new ConfigError(`${source}: ${lines.length} problem(s):\n${lines.join("\n")}`);
  }
  const c = input as Partial<ProcessorConfig> & { dapr?: Partial<ProcessorConfig["dapr"]>; limits?: Partial<ProcessorConfig["limits"]>; database?: Partial<ProcessorConfig["database"]> };
  const database = { ...DEFAULTS.database, ...c.database };
  // a server-side timeout that cannot fire before the client gives up would leave statements running unseen
  if (database.queryTimeoutMs <= database.statementTimeoutMs) {
    throw new ConfigError(`${source}: database.queryTimeoutMs must be greater than database.statementTimeoutMs (got ${database.queryTimeoutMs} <= ${database.statementTimeoutMs})`);
  }
  const daprPortEnv = env.DAPR_HTTP_PORT;
  let daprPort = c.dapr?.httpPort ?? DEFAULTS.dapr.httpPort;
  if (daprPortEnv !== undefined) {
    const n = Number(daprPortEnv);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ConfigError(`${source}: DAPR_HTTP_PORT must be a port 1-65535 (got ${JSON.stringify(daprPortEnv)})`);
    daprPort = n;
  }
  const databaseUrl = c.databaseUrl ?? databaseUrlFromEnv(env);
  if (!databaseUrl) throw new ConfigError(`${source}: databaseUrl is missing; set DATABASE_URL or POSTGRES_HOST (with POSTGRES_PORT, POSTGRES_DATABASE, POSTGRES_USER, POSTGRES_PASSWORD)`);
  return {
    port: c.port ?? DEFAULTS.port,
    metricsPort: c.metricsPort ?? DEFAULTS.metricsPort,
    host: c.host ?? DEFAULTS.host,
    pubsubName: c.pubsubName ?? DEFAULTS.pubsubName,
    catalogFile: env.EVENT_CATALOG_FILE ?? c.catalogFile ?? DEFAULTS.catalogFile,
    dapr: { host: c.dapr?.host ?? DEFAULTS.dapr.host, httpPort: daprPort, timeoutMs: c.dapr?.timeoutMs ?? DEFAULTS.dapr.timeoutMs },
    programmaticSubscriptions: c.programmaticSubscriptions ?? DEFAULTS.programmaticSubscriptions,
    databaseUrl,
    poolSize: c.poolSize ?? DEFAULTS.poolSize,
    database,
    limits: { ...DEFAULTS.limits, ...c.limits },
    drainSeconds: c.drainSeconds ?? DEFAULTS.drainSeconds,
    logLevel: c.logLevel ?? DEFAULTS.logLevel,
  };
}

/** Reads and resolves a config file (YAML or JSON). */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): ProcessorConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`${file}: cannot read (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid YAML or JSON (${(e as Error).message})`);
  }
  return resolveConfig(raw, env, file);
}
