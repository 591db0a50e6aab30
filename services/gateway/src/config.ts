import * as fs from "node:fs";
import Ajv, { ErrorObject } from "ajv";
import { parseDocument } from "yaml";
import { BucketConfig, GatewayConfigFile, gatewayConfigSchema, HeaderTransform } from "./config-schema";
import { durationMs } from "./duration";

/** A configuration that cannot be used; `problems` names every error by path. */
export class ConfigError extends Error {
  constructor(readonly source: string, readonly problems: ReadonlyArray<string>) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** A token bucket in runtime units. */
export interface Bucket {
  readonly rate: number;
  readonly burst: number;
}

/** Header changes, normalised to lower-case names. */
export interface Transform {
  readonly remove: ReadonlyArray<string>;
  readonly rename: ReadonlyArray<readonly [string, string]>;
  readonly add: ReadonlyArray<readonly [string, string]>;
}

/** One route, ready to serve. */
export interface Route {
  readonly pathPrefix: string;
  readonly service: string;
  readonly upstream: URL;
  readonly stripPrefix: boolean;
  readonly authRequired: boolean;
  readonly roles: ReadonlyArray<string>;
  readonly claims: ReadonlyArray<readonly [string, ReadonlyArray<string | number | boolean>]>;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly websocket: boolean;
  readonly requestHeaders: Transform;
  readonly responseHeaders: Transform;
  readonly claimsToHeaders: ReadonlyArray<readonly [string, string]>;
}

/** JWT verification settings. */
export interface JwtSettings {
  readonly issuer: string;
  readonly audience: string[];
  readonly algorithms: string[];
  readonly jwksUri: string;
  readonly clockSkewSec: number;
  readonly rolesClaim: string;
  readonly jwksCacheMaxAgeMs: number;
  readonly jwksCooldownMs: number;
  readonly jwksTimeoutMs: number;
  readonly tokenCacheSize: number;
}

/** Rate limiting settings. */
export interface RateLimitSettings {
  readonly enabled: boolean;
  readonly perUser: Bucket;
  readonly perIp: Bucket;
  readonly perService?: Bucket;
  readonly users: ReadonlyMap<string, Bucket>;
  readonly ips: ReadonlyMap<string, Bucket>;
  readonly services: ReadonlyMap<string, Bucket>;
  readonly maxKeys: number;
  readonly redis?: {
    readonly host: string;
    readonly port: number;
    readonly sentinels?: ReadonlyArray<{ readonly host: string; readonly port: number }>;
    readonly masterName: string;
    readonly username?: string;
    readonly password?: string;
    readonly tls: boolean;
    readonly keyPrefix: string;
    readonly onError: "allow" | "deny";
  };
}

/** Circuit breaker settings. */
export interface BreakerSettings {
  readonly failureThreshold: number;
  readonly recoveryTimeoutMs: number;
  readonly successThreshold: number;
}

/** The validated configuration in runtime units. */
export interface Settings {
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly maxHeaderBytes: number;
  readonly trustedProxyHops: number;
  readonly shutdownTimeoutMs: number;
  readonly shutdownDelayMs: number;
  readonly upstreamMaxIdleSockets: number;
  readonly jwt?: JwtSettings;
  readonly rateLimit: RateLimitSettings;
  readonly breaker: BreakerSettings;
  /** Longest prefix first. */
  readonly routes: ReadonlyArray<Route>;
}

/** Largest configuration file read. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_CLOCK_SKEW_SEC = 300;

let compiled: ReturnType<Ajv["compile"]> | undefined;
function validator() {
  compiled ??= new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true }).compile(gatewayConfigSchema);
  return compiled;
}

function pathOf(instancePath: string): string {
  if (!instancePath) return "(root)";
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, seg) => (/^[0-9]+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

function shown(value: unknown): string {
  const s = JSON.stringify(value);
  if (s === undefined) return String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function valueAt(root: unknown, instancePath: string): unknown {
  let v: unknown = root;
  for (const seg of instancePath.split("/").slice(1)) {
    if (v === null || typeof v !== "object") return undefined;
    v = Object.prototype.hasOwnProperty.call(v, seg) ? (v as Record<string, unknown>)[seg.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  }
  return v;
}

/** Turns ajv errors into `path: message (got value)` lines; oneOf noise collapses into its branches' errors. */
export function describeErrors(errors: ReadonlyArray<ErrorObject>, data: unknown): string[] {
  const out = new Set<string>();
  for (const e of errors) {
    const at = pathOf(e.instancePath);
    switch (e.keyword) {
      case "additionalProperties":
        out.add(`${at}: unknown key '${(e.params as { additionalProperty: string }).additionalProperty}'`);
        break;
      case "required":
        out.add(`${e.instancePath ? `${at}.` : ""}${(e.params as { missingProperty: string }).missingProperty}: is required`);
        break;
      case "oneOf":
        break;
      case "enum":
        out.add(`${at}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")} (got ${shown(valueAt(data, e.instancePath))})`);
        break;
      case "propertyNames":
        break;
      case "pattern": {
        const description = (e.parentSchema as { description?: string } | undefined)?.description;
        out.add(`${at}: must be ${description ?? `a string matching ${(e.params as { pattern: string }).pattern}`} (got ${shown(valueAt(data, e.instancePath))})`);
        break;
      }
      default:
        out.add(`${at}: ${e.message ?? e.keyword} (got ${shown(valueAt(data, e.instancePath))})`);
    }
  }
  return [...out];
}

function transform(t: HeaderTransform | undefined): Transform {
  return {
    remove: (t?.remove ?? []).map((h) => h.toLowerCase()),
    rename: Object.entries(t?.rename ?? {}).map(([a, b]) => [a.toLowerCase(), b.toLowerCase()] as const),
    add: Object.entries(t?.add ?? {}).map(([a, b]) => [a.toLowerCase(), b] as const),
  };
}

const bucketOf = (b: BucketConfig): Bucket => ({ rate: b.requests_per_second, burst: b.burst });
const bucketMap = (m: Readonly<Record<string, BucketConfig>> | undefined) => new Map(Object.entries(m ?? {}).map(([k, v]) => [k, bucketOf(v)]));

/** Checks beyond the schema: consistency between sections. */
function semanticProblems(c: GatewayConfigFile): string[] {
  const problems: string[] = [];
  const metricsPort = c.gateway.metrics_port ?? 9090;
  if (metricsPort !== 0 && metricsPort === c.gateway.port) problems.push(`gateway.metrics_port: must differ from gateway.port (both ${c.gateway.port})`);
  const seen = new Map<string, number>();
  c.routes.forEach((r, i) => {
    const key = r.path_prefix.replace(/\/+$/, "") || "/";
    const prev = seen.get(key);
    if (prev !== undefined) problems.push(`routes[${i}].path_prefix: ${JSON.stringify(r.path_prefix)} is already routed by routes[${prev}]`);
    else seen.set(key, i);
    if (/(^|\/)\.\.?(\/|$)/.test(r.path_prefix)) problems.push(`routes[${i}].path_prefix: must not contain . or .. segments (got ${JSON.stringify(r.path_prefix)})`);
    if ((r.auth?.required ?? true) && !c.authentication) problems.push(`routes[${i}].auth.required: needs the authentication.jwt section`);
    if ((r.auth?.roles?.length || Object.keys(r.auth?.claims ?? {}).length) && r.auth?.required === false) {
      problems.push(`routes[${i}].auth: roles and claims need required: true`);
    }
    if (Object.keys(r.claims_to_headers ?? {}).length && !c.authentication) problems.push(`routes[${i}].claims_to_headers: needs the authentication.jwt section`);
    try {
      new URL(r.upstream);
    } catch {
      problems.push(`routes[${i}].upstream: not a URL (got ${JSON.stringify(r.upstream)})`);
    }
  });
  const skew = c.authentication?.jwt.clock_skew;
  if (skew && durationMs(skew) > MAX_CLOCK_SKEW_SEC * 1000) problems.push(`authentication.jwt.clock_skew: must be at most 5m (got ${JSON.stringify(skew)})`);
  return problems;
}

/** Problems of the process environment the configuration refers to. */
function environmentProblems(c: GatewayConfigFile): string[] {
  const redis = c.rate_limiting?.redis;
  if (redis?.password_env && process.env[redis.password_env] === undefined) {
    return [`rate_limiting.redis.password_env: environment variable ${redis.password_env} is not set`];
  }
  return [];
}

/**
 * Every problem of a configuration (schema, then consistency between sections), without looking at the process
 * environment: what the component checks at synth time, before it writes the ConfigMap.
 */
export function configProblems(data: unknown): string[] {
  const validate = validator();
  if (!validate(data)) return describeErrors(validate.errors ?? [], data);
  return semanticProblems(data as GatewayConfigFile);
}

/** Validates a parsed configuration and converts it into runtime settings; throws ConfigError naming every problem. */
export function settingsFrom(data: unknown, source = "config"): Settings {
  const problems = configProblems(data);
  if (problems.length) throw new ConfigError(source, problems);
  const c = data as GatewayConfigFile;
  const envProblems = environmentProblems(c);
  if (envProblems.length) throw new ConfigError(source, envProblems);
  const g = c.gateway;
  const timeoutMs = durationMs(g.timeout);
  const maxBodyBytes = g.max_body_bytes ?? 1024 * 1024;
  const j = c.authentication?.jwt;
  const rl = c.rate_limiting;
  const def = rl ? bucketOf(rl.default) : { rate: 100, burst: 200 };
  const routes: Route[] = c.routes.map((r) => ({
    pathPrefix: r.path_prefix.length > 1 ? r.path_prefix.replace(/\/+$/, "") : r.path_prefix,
    service: r.service,
    upstream: new URL(r.upstream),
    stripPrefix: r.strip_prefix ?? false,
    authRequired: r.auth?.required ?? true,
    roles: [...(r.auth?.roles ?? [])],
    claims: Object.entries(r.auth?.claims ?? {}).map(([k, v]) => [k, Array.isArray(v) ? [...v] : [v as string | number | boolean]] as const),
    timeoutMs: r.timeout ? durationMs(r.timeout) : timeoutMs,
    maxBodyBytes: r.max_body_bytes ?? maxBodyBytes,
    websocket: r.websocket ?? true,
    requestHeaders: transform(r.headers?.request),
    responseHeaders: transform(r.headers?.response),
    claimsToHeaders: Object.entries(r.claims_to_headers ?? {}).map(([h, claim]) => [h.toLowerCase(), claim] as const),
  }));
  routes.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
  const cb = c.circuit_breaker;
  return {
    host: g.host ?? "0.0.0.0",
    port: g.port,
    metricsPort: g.metrics_port ?? 9090,
    timeoutMs,
    maxBodyBytes,
    maxHeaderBytes: g.max_header_bytes ?? 16384,
    trustedProxyHops: g.trusted_proxy_hops ?? 1,
    shutdownTimeoutMs: g.shutdown_timeout ? durationMs(g.shutdown_timeout) : 25_000,
    shutdownDelayMs: g.shutdown_delay ? durationMs(g.shutdown_delay) : 0,
    upstreamMaxIdleSockets: g.upstream_max_idle_sockets ?? 64,
    jwt: j && {
      issuer: j.issuer,
      audience: typeof j.audience === "string" ? [j.audience] : [...j.audience],
      algorithms: [...j.algorithms],
      jwksUri: j.jwks_uri,
      clockSkewSec: Math.floor(durationMs(j.clock_skew ?? "30s") / 1000),
      rolesClaim: j.roles_claim ?? "roles",
      jwksCacheMaxAgeMs: durationMs(j.jwks_cache_max_age ?? "10m"),
      jwksCooldownMs: durationMs(j.jwks_cooldown ?? "30s"),
      jwksTimeoutMs: durationMs(j.jwks_timeout ?? "5s"),
      tokenCacheSize: j.token_cache_size ?? 10_000,
    },
    rateLimit: {
      enabled: rl ? rl.enabled ?? true : false,
      perUser: rl?.per_user ? bucketOf(rl.per_user) : def,
      perIp: rl?.per_ip ? bucketOf(rl.per_ip) : def,
      perService: rl?.per_service ? bucketOf(rl.per_service) : undefined,
      users: bucketMap(rl?.overrides?.users),
      ips: bucketMap(rl?.overrides?.ips),
      services: bucketMap(rl?.overrides?.services),
      maxKeys: rl?.max_keys ?? 100_000,
      redis: rl?.redis && {
        host: rl.redis.host ?? "localhost",
        port: rl.redis.port ?? 6379,
        sentinels: rl.redis.sentinels?.map((x) => ({ host: x.host, port: x.port })),
        masterName: rl.redis.master_name ?? "mymaster",
        username: rl.redis.username,
        password: rl.redis.password_env ? process.env[rl.redis.password_env] : undefined,
        tls: rl.redis.tls ?? false,
        keyPrefix: rl.redis.key_prefix ?? "gateway:rl:",
        onError: rl.redis.on_error ?? "allow",
      },
    },
    breaker: {
      failureThreshold: cb?.failure_threshold ?? 5,
      recoveryTimeoutMs: durationMs(cb?.recovery_timeout ?? "30s"),
      successThreshold: cb?.success_threshold ?? 2,
    },
    routes,
  };
}

/** Parses YAML (or JSON) text; syntax errors are reported with line and column. */
export function parseConfigText(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) throw new ConfigError(source, doc.errors.map((e) => `syntax: ${e.message.split("\n")[0].replace(/:$/, "")}`));
  return doc.toJS({ maxAliasCount: 50 });
}

/** Reads, parses and validates a configuration file. */
export function loadConfig(file: string): Settings {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new ConfigError(file, ["not a regular file"]);
    if (stat.size > MAX_FILE_BYTES) throw new ConfigError(file, [`file is ${stat.size} bytes; at most ${MAX_FILE_BYTES} are read`]);
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(file, [`cannot read: ${(e as Error).message}`]);
  }
  return settingsFrom(parseConfigText(text, file), file);
}
