import { stringify } from "yaml";
import type { BucketConfig, GatewayConfigFile, RouteConfig } from "../../services/gateway/src/config-schema";
import { configProblems } from "../../services/gateway/src/config";
import { GatewayJwt } from "./jwt-settings";

/** A token bucket: steady rate and burst. */
export interface RateLimit {
  /** Requests per second the bucket refills. */
  readonly requestsPerSecond: number;
  /** Requests the bucket holds (the burst). */
  readonly burst: number;
}

/** Rate limits of the gateway, by caller and target. */
export interface GatewayRateLimits {
  /** Limit for every key without a more specific one. @default 100/s, burst 200 */
  readonly default?: RateLimit;
  /** Per user (`sub`). @default `default` */
  readonly perUser?: RateLimit;
  /** Per client IP. @default `default` */
  readonly perIp?: RateLimit;
  /** Per target service (all callers together). @default none */
  readonly perService?: RateLimit;
  /** Overrides for single services, by name. @default none */
  readonly services?: Readonly<Record<string, RateLimit>>;
}

/** Circuit breaker settings, per upstream. */
export interface GatewayCircuitBreaker {
  /** Consecutive failures that open it. @default 5 */
  readonly failureThreshold?: number;
  /** How long it stays open before a trial. @default "30s" */
  readonly recoveryTimeout?: string;
  /** Successful trials that close it. @default 2 */
  readonly successThreshold?: number;
}

/** A route in the gateway's own terms (business services' routes are converted into these). */
export interface GatewayRoute {
  /** Path prefix at the edge. */
  readonly pathPrefix: string;
  /** Target service name. */
  readonly service: string;
  /** Upstream base URL. */
  readonly upstream: string;
  /** Whether a token is required. @default true */
  readonly auth?: boolean;
  /** Roles of which the caller needs one. @default any valid token */
  readonly roles?: ReadonlyArray<string>;
  /** Claims the token must carry. @default none */
  readonly claims?: Readonly<Record<string, string | ReadonlyArray<string>>>;
  /** Upstream timeout. @default the gateway's */
  readonly timeout?: string;
  /** Remove the prefix before proxying. @default false */
  readonly stripPrefix?: boolean;
  /** Largest request body on this route, bytes (uploads). @default the gateway's */
  readonly maxBodyBytes?: number;
}

/** Everything the config file is rendered from. */
export interface GatewayConfigInput {
  readonly port: number;
  readonly metricsPort: number;
  readonly timeout: string;
  readonly maxBodyBytes: number;
  readonly trustedProxyHops: number;
  readonly shutdownTimeout: string;
  readonly shutdownDelay: string;
  readonly jwt: GatewayJwt;
  readonly rateLimits: GatewayRateLimits;
  readonly circuitBreaker: GatewayCircuitBreaker;
  readonly routes: ReadonlyArray<GatewayRoute>;
  /** Cluster-wide rate limits in Redis, reached through its sentinels. @default per replica, in memory */
  readonly redis?: {
    readonly sentinels: ReadonlyArray<{ readonly host: string; readonly port: number }>;
    readonly masterName: string;
    readonly username: string;
    /** Environment variable that holds the password (a Secret reference in the pod). */
    readonly passwordEnv: string;
    readonly tls: boolean;
  };
}

const bucket = (r: RateLimit): BucketConfig => ({ requests_per_second: r.requestsPerSecond, burst: r.burst });

/** The gateway's configuration file as data (the reference architecture's format), in a stable order. */
export function gatewayConfig(input: GatewayConfigInput): GatewayConfigFile {
  const rl = input.rateLimits;
  const routes = [...input.routes].sort((a, b) => a.pathPrefix.localeCompare(b.pathPrefix));
  return {
    gateway: {
      port: input.port,
      metrics_port: input.metricsPort,
      timeout: input.timeout,
      max_body_bytes: input.maxBodyBytes,
      trusted_proxy_hops: input.trustedProxyHops,
      shutdown_timeout: input.shutdownTimeout,
      shutdown_delay: input.shutdownDelay,
    },
    authentication: {
      jwt: {
        issuer: input.jwt.issuer,
        audience: input.jwt.audiences.length === 1 ? input.jwt.audiences[0] : [...input.jwt.audiences],
        algorithms: [...(input.jwt.algorithms ?? ["RS256"])],
        jwks_uri: input.jwt.jwksUri,
        clock_skew: input.jwt.clockSkew ?? "30s",
        roles_claim: input.jwt.rolesClaim ?? "roles",
      },
    },
    rate_limiting: {
      default: bucket(rl.default ?? { requestsPerSecond: 100, burst: 200 }),
      ...(rl.perUser ? { per_user: bucket(rl.perUser) } : {}),
      ...(rl.perIp ? { per_ip: bucket(rl.perIp) } : {}),
      ...(rl.perService ? { per_service: bucket(rl.perService) } : {}),
      ...(rl.services && Object.keys(rl.services).length
        ? { overrides: { services: Object.fromEntries(Object.keys(rl.services).sort().map((k) => [k, bucket(rl.services![k])])) } }
        : {}),
      ...(input.redis
        ? {
            redis: {
              sentinels: input.redis.sentinels.map((x) => ({ host: x.host, port: x.port })),
              master_name: input.redis.masterName,
              username: input.redis.username,
              password_env: input.redis.passwordEnv,
              tls: input.redis.tls,
              key_prefix: "gateway:rl:",
              on_error: "allow" as const,
            },
          }
        : {}),
    },
    circuit_breaker: {
      failure_threshold: input.circuitBreaker.failureThreshold ?? 5,
      recovery_timeout: input.circuitBreaker.recoveryTimeout ?? "30s",
      success_threshold: input.circuitBreaker.successThreshold ?? 2,
    },
    routes: routes.map((r): RouteConfig => {
      const required = r.auth ?? true;
      return {
        path_prefix: r.pathPrefix,
        service: r.service,
        upstream: r.upstream,
        ...(r.stripPrefix ? { strip_prefix: true } : {}),
        auth: {
          required,
          ...(r.roles?.length ? { roles: [...r.roles] } : {}),
          ...(r.claims && Object.keys(r.claims).length ? { claims: Object.fromEntries(Object.entries(r.claims).map(([k, v]) => [k, typeof v === "string" ? v : [...v]])) } : {}),
        },
        ...(r.timeout ? { timeout: r.timeout } : {}),
        ...(r.maxBodyBytes !== undefined ? { max_body_bytes: r.maxBodyBytes } : {}),
        ...(required ? { claims_to_headers: { "x-user-id": "sub" } } : {}),
      };
    }),
  };
}

/** The file's text; throws with every problem the gateway itself would report at start-up. */
export function renderGatewayConfig(config: GatewayConfigFile, owner: string): string {
  const problems = configProblems(config);
  if (problems.length) throw new Error(`${owner}: the rendered gateway config is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return `# Rendered by Stratum from the gateway component's props and the business services' routes.\n${stringify(config, { lineWidth: 0 })}`;
}
