/**
 * The gateway's configuration file, in the reference architecture's format (snake_case keys). The same types and
 * schema serve the service (validated with ajv at start-up) and the component that renders the ConfigMap.
 * This file has no runtime dependencies so that both sides can import it.
 */

/** A duration such as `500ms`, `30s`, `5m`. */
export type Duration = string;

/** A token bucket: steady refill rate and the burst it may save up. */
export interface BucketConfig {
  readonly requests_per_second: number;
  readonly burst: number;
}

/** Header changes applied in the order remove, rename, add. */
export interface HeaderTransform {
  /** Headers set (replacing any value). */
  readonly add?: Readonly<Record<string, string>>;
  /** Headers removed. */
  readonly remove?: ReadonlyArray<string>;
  /** Headers renamed: `{ from: to }`. */
  readonly rename?: Readonly<Record<string, string>>;
}

/** Authentication and authorisation of one route. */
export interface RouteAuth {
  /** A valid token is required. */
  readonly required: boolean;
  /** The caller needs at least one of these roles. @default any authenticated caller */
  readonly roles?: ReadonlyArray<string>;
  /** Claims the token must carry: each claim must equal the value, or one of the values of a list. */
  readonly claims?: Readonly<Record<string, string | number | boolean | ReadonlyArray<string | number | boolean>>>;
}

/** One route: a path prefix proxied to an upstream service. */
export interface RouteConfig {
  /** Path prefix at the edge, e.g. `/api/orders`; matches the prefix itself and anything below it. */
  readonly path_prefix: string;
  /** Name of the target service (rate limits, breaker and metrics are keyed by it). */
  readonly service: string;
  /** Base URL of the upstream, e.g. `http://order.apps.svc.cluster.local:8080`. */
  readonly upstream: string;
  /** Remove the prefix before proxying. @default false */
  readonly strip_prefix?: boolean;
  /** Authentication. @default { required: true } */
  readonly auth?: RouteAuth;
  /** Upstream timeout. @default gateway.timeout */
  readonly timeout?: Duration;
  /** Largest request body, in bytes. @default gateway.max_body_bytes */
  readonly max_body_bytes?: number;
  /** Allow WebSocket upgrades. @default true */
  readonly websocket?: boolean;
  /** Header transformations. @default none */
  readonly headers?: { readonly request?: HeaderTransform; readonly response?: HeaderTransform };
  /** Token claims forwarded to the upstream as headers: `{ "x-user-id": "sub" }`. @default none */
  readonly claims_to_headers?: Readonly<Record<string, string>>;
}

/** The whole file. */
export interface GatewayConfigFile {
  readonly gateway: {
    /** Port of the proxy. */
    readonly port: number;
    /** Default upstream timeout. */
    readonly timeout: Duration;
    /** Port of /metrics (and /healthz, /readyz). @default 9090 */
    readonly metrics_port?: number;
    /** Address to listen on. @default "0.0.0.0" */
    readonly host?: string;
    /** Largest request body, in bytes. @default 1048576 */
    readonly max_body_bytes?: number;
    /** Largest request head (request line and headers), in bytes. @default 16384 */
    readonly max_header_bytes?: number;
    /** Proxies in front of the gateway whose X-Forwarded-For entries are trusted. @default 1 */
    readonly trusted_proxy_hops?: number;
    /** How long shutdown waits for in-flight requests. @default 25s */
    readonly shutdown_timeout?: Duration;
    /** How long the gateway keeps accepting (while reporting not ready) after SIGTERM, so that load balancers stop
     * sending before the listener closes. @default 0s */
    readonly shutdown_delay?: Duration;
    /**
     * Idle keep-alive sockets kept per upstream for WebSocket upgrades (node:http). Plain HTTP goes through undici's
     * pool, which keeps every connection it opened and closes one after 30 s idle. @default 64
     */
    readonly upstream_max_idle_sockets?: number;
  };
  readonly authentication?: {
    readonly jwt: {
      readonly issuer: string;
      readonly audience: string | ReadonlyArray<string>;
      /** Asymmetric algorithms only; HS* and none are never accepted. */
      readonly algorithms: ReadonlyArray<string>;
      readonly jwks_uri: string;
      /** Tolerated clock difference for exp/nbf. @default 30s, at most 5m */
      readonly clock_skew?: Duration;
      /** Claim holding the caller's roles (dotted path). @default "roles" */
      readonly roles_claim?: string;
      /** How long a fetched key set is trusted before it is fetched again. @default 10m */
      readonly jwks_cache_max_age?: Duration;
      /** Least time between two key set fetches (an unknown `kid` triggers one). @default 30s */
      readonly jwks_cooldown?: Duration;
      /** Timeout of a key set fetch. @default 5s */
      readonly jwks_timeout?: Duration;
      /** Verified tokens remembered (until their exp). @default 10000 */
      readonly token_cache_size?: number;
    };
  };
  readonly rate_limiting?: {
    /** @default true */
    readonly enabled?: boolean;
    /** Limit applied to every key unless a more specific one is given. */
    readonly default: BucketConfig;
    /** Limit per user (`sub`). @default default */
    readonly per_user?: BucketConfig;
    /** Limit per client IP. @default default */
    readonly per_ip?: BucketConfig;
    /** Limit per target service. @default none (no service-wide limit) */
    readonly per_service?: BucketConfig;
    /** Overrides for single users, IPs or services. */
    readonly overrides?: {
      readonly users?: Readonly<Record<string, BucketConfig>>;
      readonly ips?: Readonly<Record<string, BucketConfig>>;
      readonly services?: Readonly<Record<string, BucketConfig>>;
    };
    /** Buckets held in memory; the least recently used are dropped beyond it. @default 100000 */
    readonly max_keys?: number;
    /** A Redis server that makes the limits cluster-wide. @default in memory, per replica */
    readonly redis?: {
      /** Redis host (without sentinels), or a fallback name when sentinels are given. */
      readonly host?: string;
      readonly port?: number;
      /** Sentinels that name the current master; the gateway follows failovers through them. @default none */
      readonly sentinels?: ReadonlyArray<{ readonly host: string; readonly port: number }>;
      /** Master name the sentinels know. @default "mymaster" */
      readonly master_name?: string;
      /** ACL user. @default the default user */
      readonly username?: string;
      /** Environment variable that holds the password. @default none */
      readonly password_env?: string;
      /** Connect with TLS. @default false */
      readonly tls?: boolean;
      /** Key prefix. @default "gateway:rl:" */
      readonly key_prefix?: string;
      /** What to do when Redis is unreachable. @default "allow" */
      readonly on_error?: "allow" | "deny";
    };
  };
  readonly circuit_breaker?: {
    readonly failure_threshold: number;
    readonly recovery_timeout: Duration;
    readonly success_threshold: number;
  };
  readonly routes: ReadonlyArray<RouteConfig>;
}

/** Algorithms the gateway accepts: asymmetric only. */
export const ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;

const DURATION = "^[0-9]+(ms|s|m|h)$";
const HEADER_NAME = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$";
const duration = { type: "string", pattern: DURATION, description: "a duration such as 500ms, 30s, 5m" };
const port = { type: "integer", minimum: 0, maximum: 65535, description: "a TCP port (0 binds any free port)" };
const bucket = {
  type: "object",
  additionalProperties: false,
  required: ["requests_per_second", "burst"],
  properties: {
    requests_per_second: { type: "number", exclusiveMinimum: 0, maximum: 1000000 },
    burst: { type: "integer", minimum: 1, maximum: 10000000 },
  },
};
const headerMap = { type: "object", maxProperties: 64, propertyNames: { pattern: HEADER_NAME, maxLength: 256 }, additionalProperties: { type: "string", maxLength: 4096, pattern: "^[\\t\\u0020-\\u007e\\u0080-\\u00ff]*$" } };
const headerTransform = {
  type: "object",
  additionalProperties: false,
  properties: {
    add: headerMap,
    remove: { type: "array", maxItems: 64, items: { type: "string", pattern: HEADER_NAME, maxLength: 256 } },
    rename: { type: "object", maxProperties: 64, propertyNames: { pattern: HEADER_NAME, maxLength: 256 }, additionalProperties: { type: "string", pattern: HEADER_NAME, maxLength: 256 } },
  },
};
const claimValue = { type: ["string", "number", "boolean"] };

/** JSON schema of the configuration file (draft 2020-12 subset that ajv compiles). */
export const gatewayConfigSchema = {
  $id: "https://stratum.dev/schemas/gateway-config.json",
  type: "object",
  additionalProperties: false,
  required: ["gateway", "routes"],
  properties: {
    gateway: {
      type: "object",
      additionalProperties: false,
      required: ["port", "timeout"],
      properties: {
        port,
        timeout: duration,
        metrics_port: port,
        host: { type: "string", minLength: 1, maxLength: 255 },
        max_body_bytes: { type: "integer", minimum: 0, maximum: 1073741824 },
        max_header_bytes: { type: "integer", minimum: 1024, maximum: 1048576 },
        trusted_proxy_hops: { type: "integer", minimum: 0, maximum: 10 },
        shutdown_timeout: duration,
        shutdown_delay: duration,
        upstream_max_idle_sockets: { type: "integer", minimum: 1, maximum: 10000 },
      },
    },
    authentication: {
      type: "object",
      additionalProperties: false,
      required: ["jwt"],
      properties: {
        jwt: {
          type: "object",
          additionalProperties: false,
          required: ["issuer", "audience", "algorithms", "jwks_uri"],
          properties: {
            issuer: { type: "string", minLength: 1, maxLength: 2048 },
            audience: {
              oneOf: [
                { type: "string", minLength: 1, maxLength: 2048 },
                { type: "array", minItems: 1, maxItems: 32, items: { type: "string", minLength: 1, maxLength: 2048 } },
              ],
            },
            algorithms: { type: "array", minItems: 1, uniqueItems: true, items: { enum: [...ALLOWED_ALGORITHMS] } },
            jwks_uri: { type: "string", pattern: "^https?://[^\\s]+$", maxLength: 2048, description: "an http(s) URL" },
            clock_skew: duration,
            roles_claim: { type: "string", pattern: "^[A-Za-z0-9_:/.-]+$", maxLength: 256 },
            jwks_cache_max_age: duration,
            jwks_cooldown: duration,
            jwks_timeout: duration,
            token_cache_size: { type: "integer", minimum: 0, maximum: 1000000 },
          },
        },
      },
    },
    rate_limiting: {
      type: "object",
      additionalProperties: false,
      required: ["default"],
      properties: {
        enabled: { type: "boolean" },
        default: bucket,
        per_user: bucket,
        per_ip: bucket,
        per_service: bucket,
        overrides: {
          type: "object",
          additionalProperties: false,
          properties: {
            users: { type: "object", maxProperties: 10000, additionalProperties: bucket },
            ips: { type: "object", maxProperties: 10000, additionalProperties: bucket },
            services: { type: "object", maxProperties: 10000, additionalProperties: bucket },
          },
        },
        max_keys: { type: "integer", minimum: 1, maximum: 10000000 },
        redis: {
          type: "object",
          additionalProperties: false,
          anyOf: [{ required: ["host"] }, { required: ["sentinels"] }],
          properties: {
            host: { type: "string", minLength: 1, maxLength: 255 },
            port,
            sentinels: {
              type: "array",
              minItems: 1,
              maxItems: 16,
              items: { type: "object", additionalProperties: false, required: ["host", "port"], properties: { host: { type: "string", minLength: 1, maxLength: 255 }, port } },
            },
            master_name: { type: "string", pattern: "^[A-Za-z0-9._-]+$", maxLength: 128 },
            username: { type: "string", minLength: 1, maxLength: 128 },
            tls: { type: "boolean" },
            password_env: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
            key_prefix: { type: "string", maxLength: 128 },
            on_error: { enum: ["allow", "deny"] },
          },
        },
      },
    },
    circuit_breaker: {
      type: "object",
      additionalProperties: false,
      required: ["failure_threshold", "recovery_timeout", "success_threshold"],
      properties: {
        failure_threshold: { type: "integer", minimum: 1, maximum: 10000 },
        recovery_timeout: duration,
        success_threshold: { type: "integer", minimum: 1, maximum: 10000 },
      },
    },
    routes: {
      type: "array",
      maxItems: 1000,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["path_prefix", "service", "upstream"],
        properties: {
          path_prefix: { type: "string", pattern: "^/[A-Za-z0-9._~/-]*$", maxLength: 1024, description: "a path starting with / (letters, digits, . _ ~ / -)" },
          service: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 63, description: "a DNS label such as order" },
          upstream: { type: "string", pattern: "^https?://[^\\s/?#]+/?$", maxLength: 2048, description: "an http(s) base URL without a path, e.g. http://order.apps.svc.cluster.local:8080" },
          strip_prefix: { type: "boolean" },
          auth: {
            type: "object",
            additionalProperties: false,
            required: ["required"],
            properties: {
              required: { type: "boolean" },
              roles: { type: "array", maxItems: 256, items: { type: "string", minLength: 1, maxLength: 256 } },
              claims: {
                type: "object",
                maxProperties: 64,
                additionalProperties: { oneOf: [claimValue, { type: "array", minItems: 1, maxItems: 256, items: claimValue }] },
              },
            },
          },
          timeout: duration,
          max_body_bytes: { type: "integer", minimum: 0, maximum: 1073741824 },
          websocket: { type: "boolean" },
          headers: {
            type: "object",
            additionalProperties: false,
            properties: { request: headerTransform, response: headerTransform },
          },
          claims_to_headers: { type: "object", maxProperties: 32, propertyNames: { pattern: HEADER_NAME, maxLength: 256 }, additionalProperties: { type: "string", pattern: "^[A-Za-z0-9_:/.-]+$", maxLength: 256 } },
        },
      },
    },
  },
} as const;
