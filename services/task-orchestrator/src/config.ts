import * as fs from "node:fs";
import Ajv from "ajv";
import type { DatabaseTimeouts } from "../../shared/pg-pool";
import { fieldErrors } from "./task-types";

/** The orchestrator's configuration (file, then environment for connection details). */
export interface Config {
  readonly http: { readonly host: string; readonly port: number; readonly maxBodyBytes: number; readonly requestTimeoutMs: number };
  readonly metrics: { readonly port: number };
  readonly database: DatabaseTimeouts & { readonly url?: string; readonly poolSize: number };
  readonly storage: {
    readonly bucket?: string;
    readonly region: string;
    readonly endpoint?: string;
    readonly maxUploadBytes: number;
    readonly allowedContentTypes: ReadonlyArray<string>;
    readonly partSizeBytes: number;
    readonly queueSize: number;
    /** Longest wait for a connection to the object store, ms. */
    readonly connectTimeoutMs: number;
    /** Longest time from sending a request to the object store to its response headers, ms. */
    readonly requestTimeoutMs: number;
    /** Longest silence on a connection to the object store, ms. */
    readonly socketTimeoutMs: number;
  };
  readonly api: { readonly enabled: boolean; readonly maxPageSize: number; readonly defaultPageSize: number };
  readonly worker: {
    readonly enabled: boolean;
    readonly concurrency: number;
    readonly leaseSeconds: number;
    readonly heartbeatSeconds: number;
    readonly pollMs: number;
    readonly reclaimSeconds: number;
    readonly progressIntervalMs: number;
  };
  readonly retry: { readonly maxRetries: number; readonly baseDelayMs: number; readonly maxDelayMs: number; readonly jitter: number };
  readonly events: {
    /** On, off, or `auto`: on exactly when a Dapr sidecar was injected (it sets DAPR_HTTP_PORT). */
    readonly enabled: boolean;
    readonly daprUrl: string;
    readonly pubsub: string;
    readonly topics: Readonly<Record<string, string>>;
    readonly source: string;
    readonly pollMs: number;
    readonly timeoutMs: number;
  };
  /** On SIGTERM: answer /readyz 503 for `delaySeconds` (endpoints drop the pod) then drain for `drainSeconds`. */
  readonly shutdown: { readonly delaySeconds: number; readonly drainSeconds: number };
  readonly logging: { readonly silent: boolean };
}

const int = (minimum: number, maximum: number, dflt: number) => ({ type: "integer", minimum, maximum, default: dflt });
const obj = (properties: Record<string, unknown>) => ({ type: "object", additionalProperties: false, default: {}, properties });

/** JSON schema of the config file; every key is optional and has a default. */
export const CONFIG_SCHEMA = obj({
  http: obj({ host: { type: "string", default: "0.0.0.0" }, port: int(0, 65535, 8080), maxBodyBytes: int(1024, 16 * 1024 * 1024, 1024 * 1024), requestTimeoutMs: int(1000, 3600000, 300000) }),
  metrics: obj({ port: int(0, 65535, 9090) }),
  database: obj({
    url: { type: "string", pattern: "^postgres(ql)?://" },
    poolSize: int(1, 200, 10),
    connectTimeoutMs: int(100, 600000, 5000),
    statementTimeoutMs: int(100, 3600000, 30000),
    queryTimeoutMs: int(100, 3600000, 35000),
    keepAliveDelayMs: int(1000, 600000, 10000),
  }),
  storage: obj({
    bucket: { type: "string", pattern: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$" },
    region: { type: "string", default: "us-east-1" },
    endpoint: { type: "string", pattern: "^https?://" },
    // uploads are copied into place with one CopyObject, which S3 allows up to 5 GiB
    maxUploadBytes: int(1, 5 * 1024 * 1024 * 1024, 100 * 1024 * 1024),
    allowedContentTypes: {
      type: "array", minItems: 1, items: { type: "string", pattern: "^[a-z0-9.+-]+/[a-z0-9.+-]+$" },
      default: ["text/csv", "text/plain", "application/json", "application/x-ndjson", "application/octet-stream", "application/gzip", "application/zip"],
    },
    partSizeBytes: int(5 * 1024 * 1024, 512 * 1024 * 1024, 5 * 1024 * 1024),
    queueSize: int(1, 16, 2),
    connectTimeoutMs: int(100, 600000, 5000),
    requestTimeoutMs: int(100, 3600000, 300000),
    socketTimeoutMs: int(100, 3600000, 30000),
  }),
  api: obj({ enabled: { type: "boolean", default: true }, maxPageSize: int(1, 1000, 100), defaultPageSize: int(1, 1000, 20) }),
  worker: obj({
    enabled: { type: "boolean", default: true },
    concurrency: int(1, 256, 4),
    leaseSeconds: { type: "number", exclusiveMinimum: 0, maximum: 3600, default: 30 },
    heartbeatSeconds: { type: "number", exclusiveMinimum: 0, maximum: 600, default: 10 },
    pollMs: int(10, 60000, 500),
    reclaimSeconds: { type: "number", exclusiveMinimum: 0, maximum: 600, default: 5 },
    progressIntervalMs: int(0, 60000, 1000),
  }),
  retry: obj({ maxRetries: int(0, 100, 3), baseDelayMs: int(0, 3600000, 1000), maxDelayMs: int(0, 86400000, 300000), jitter: { type: "number", minimum: 0, maximum: 1, default: 0.2 } }),
  events: obj({
    enabled: { enum: [true, false, "auto"], default: "auto" },
    daprUrl: { type: "string", pattern: "^https?://", default: "http://127.0.0.1:3500" },
    pubsub: { type: "string", minLength: 1, default: "pubsub" },
    topics: { type: "object", additionalProperties: { type: "string", minLength: 1 }, default: {} },
    source: { type: "string", minLength: 1, default: "/stratum/task-orchestrator" },
    pollMs: int(10, 60000, 250),
    timeoutMs: int(100, 60000, 5000),
  }),
  shutdown: obj({ delaySeconds: { type: "number", minimum: 0, maximum: 300, default: 5 }, drainSeconds: { type: "number", minimum: 0, maximum: 3600, default: 25 } }),
  logging: obj({ silent: { type: "boolean", default: false } }),
});

/** A config that does not validate: every problem, each naming its field. */
export class ConfigFileError extends Error {
  constructor(source: string, readonly problems: ReadonlyArray<string>) {
    super(`${source}: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigFileError";
  }
}

/** The PostgreSQL URL from the environment: DATABASE_URL, or the POSTGRES_* variables the platform hands out. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  if (!env.POSTGRES_HOST) return undefined;
  const user = encodeURIComponent(env.POSTGRES_USER ?? "postgres");
  const password = env.POSTGRES_PASSWORD ? `:${encodeURIComponent(env.POSTGRES_PASSWORD)}` : "";
  const db = encodeURIComponent(env.POSTGRES_DATABASE ?? env.POSTGRES_DB ?? "postgres");
  // libpq semantics: `require` encrypts without verifying the pooler's certificate (node-pg alone would verify it)
  const mode = env.POSTGRES_SSLMODE;
  const ssl = !mode ? "" : mode === "verify-full" || mode === "disable" ? `?sslmode=${encodeURIComponent(mode)}` : `?uselibpqcompat=true&sslmode=${encodeURIComponent(mode)}`;
  return `postgres://${user}${password}@${env.POSTGRES_HOST}:${env.POSTGRES_PORT ?? "5432"}/${db}${ssl}`;
}

/** Validates a config object (applying defaults) and fills connection details from the environment. */
export function parseConfig(data: unknown, env: NodeJS.ProcessEnv = {}, source = "config"): Config {
  const copy = JSON.parse(JSON.stringify(data ?? {}));
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  const validate = ajv.compile(CONFIG_SCHEMA);
  if (!validate(copy)) throw new ConfigFileError(source, fieldErrors(validate.errors, "").map((e) => `${e.field || "(root)"}: ${e.message}`));
  const c = copy as { [k: string]: Record<string, unknown> };
  c.database.url ??= databaseUrlFromEnv(env);
  c.storage.bucket ??= env.S3_BUCKET;
  if (env.S3_REGION && !(data as { storage?: { region?: string } })?.storage?.region) c.storage.region = env.S3_REGION;
  c.storage.endpoint ??= env.S3_ENDPOINT || undefined;
  if (c.events.enabled === "auto") c.events.enabled = Boolean(env.DAPR_HTTP_PORT);
  if (env.DAPR_HTTP_PORT && !(data as { events?: { daprUrl?: string } })?.events?.daprUrl) c.events.daprUrl = `http://127.0.0.1:${env.DAPR_HTTP_PORT}`;
  const problems: string[] = [];
  if (!c.database.url) problems.push("database.url: is required (or set DATABASE_URL, or POSTGRES_HOST with POSTGRES_PORT/DATABASE/USER/PASSWORD)");
  const db = c.database as { statementTimeoutMs: number; queryTimeoutMs: number };
  if (db.queryTimeoutMs <= db.statementTimeoutMs) {
    problems.push(`database.queryTimeoutMs: must be greater than database.statementTimeoutMs, so that the server's cancel comes first (${db.queryTimeoutMs} <= ${db.statementTimeoutMs})`);
  }
  const w = c.worker as { heartbeatSeconds: number; leaseSeconds: number };
  if (w.heartbeatSeconds >= w.leaseSeconds) problems.push(`worker.heartbeatSeconds: must be less than worker.leaseSeconds (${w.heartbeatSeconds} >= ${w.leaseSeconds})`);
  const api = c.api as { defaultPageSize: number; maxPageSize: number };
  if (api.defaultPageSize > api.maxPageSize) problems.push(`api.defaultPageSize: must not exceed api.maxPageSize (${api.defaultPageSize} > ${api.maxPageSize})`);
  if (problems.length) throw new ConfigFileError(source, problems);
  return copy as Config;
}

/** Reads a JSON config file (JSON rather than YAML keeps the bundle under the ConfigMap size limit). */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  if (!file) return parseConfig({}, env, "(no config file)");
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigFileError(file, [`cannot be read as JSON: ${(e as Error).message.split("\n")[0]}`]);
  }
  return parseConfig(data, env, file);
}
