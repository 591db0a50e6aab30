import { Construct } from "constructs";
import {
  DestinationRule, DestinationRuleSpecTrafficPolicyTlsMode, Sidecar, SidecarSpecOutboundTrafficPolicyMode, VirtualService,
} from "../../constructs/imports/istio-networking.istio.io";
import { GraphNodeProps } from "../../constructs/service-graph";
import { DERIVED_FROM, hostOf, ISTIO_NAMESPACE, istioMetadata } from "./constants";

/** Conditions on which a proxy retries a request (Envoy's `retry_on` values). */
export type RetryOn =
  | "5xx" | "gateway-error" | "reset" | "connect-failure" | "envoy-ratelimited" | "retriable-4xx" | "refused-stream"
  | "retriable-status-codes" | "retriable-headers" | "cancelled" | "deadline-exceeded" | "internal" | "resource-exhausted"
  | "unavailable";

/** Circuit breaking of calls to a service: connection-pool limits and outlier ejection. */
export interface CircuitBreaker {
  /** TCP connections one caller's proxy keeps to the service at most. @default 100 */
  readonly maxConnections?: number;
  /** Requests waiting for a connection at most (HTTP/1.1); more fail fast with 503. @default 64 */
  readonly maxPendingRequests?: number;
  /** Concurrent requests at most (HTTP/2 and gRPC). @default 1000 */
  readonly maxRequests?: number;
  /** TCP connect timeout. @default "2s" */
  readonly connectTimeout?: string;
  /** Consecutive 5xx responses after which an endpoint is ejected. @default 5 */
  readonly consecutive5xxErrors?: number;
  /** How often endpoints are scanned for ejection. @default "10s" */
  readonly interval?: string;
  /** Minimum ejection time (grows with each ejection). @default "30s" */
  readonly baseEjectionTime?: string;
  /** Share of endpoints that may be ejected at once, in percent. @default 50 */
  readonly maxEjectionPercent?: number;
}

/** Retries of failed calls. */
export interface RetryPolicy {
  /** Attempts after the first; 0 disables retries. @default 2 */
  readonly attempts?: number;
  /** Timeout of each attempt. @default "2s" */
  readonly perTryTimeout?: string;
  /** When to retry; the default list is safe for non-idempotent requests (nothing reached the application). @default connect-failure, refused-stream, unavailable, cancelled */
  readonly retryOn?: ReadonlyArray<RetryOn>;
}

/** A canary release: part of the traffic goes to the pods labelled as canary. */
export interface CanaryRelease {
  /** Percentage of requests sent to the canary (0-100). */
  readonly weight: number;
  /** Labels of the stable pods. @default { "stratum.dev/track": "stable" } */
  readonly stableLabels?: Readonly<Record<string, string>>;
  /** Labels of the canary pods. @default { "stratum.dev/track": "canary" } */
  readonly canaryLabels?: Readonly<Record<string, string>>;
}

/** How the mesh treats calls to one service. */
export interface ServiceTrafficProps {
  /** Timeout of a whole call, retries included. @default "15s" */
  readonly timeout?: string;
  /** Retries. @default see RetryPolicy */
  readonly retries?: RetryPolicy;
  /** Circuit breaking. @default see CircuitBreaker */
  readonly circuitBreaker?: CircuitBreaker;
  /** A canary release with weighted subsets `stable` and `canary`. @default none: one destination, no subsets */
  readonly canary?: CanaryRelease;
}

/** Props of one service's traffic policy. */
export interface ServiceTrafficPolicyProps extends ServiceTrafficProps {
  /** The service's graph node. */
  readonly node: GraphNodeProps;
  /** The nodes it consumes (its outgoing edges' targets). */
  readonly dependencies: ReadonlyArray<GraphNodeProps>;
  /** The Sidecar egress host of an external dependency registered with the mesh, or undefined. @default none registered */
  readonly externalHost?: (dependency: GraphNodeProps) => string | undefined;
}

const DURATION = /^[0-9]+(ms|s|m|h)$/;
const DEFAULT_RETRY_ON: ReadonlyArray<RetryOn> = ["connect-failure", "refused-stream", "unavailable", "cancelled"];
/** Subset names of a canary release. */
export const STABLE_SUBSET = "stable";
export const CANARY_SUBSET = "canary";

function millis(d: string): number {
  const n = parseInt(d, 10);
  if (d.endsWith("ms")) return n;
  if (d.endsWith("s")) return n * 1000;
  if (d.endsWith("m")) return n * 60_000;
  return n * 3_600_000;
}

/**
 * The mesh side of one service: a DestinationRule (ISTIO_MUTUAL, connection pool and outlier detection from the
 * circuit breaker), a VirtualService (timeout, retries, weighted stable/canary subsets) and a Sidecar that lets its
 * proxy reach only the declared dependencies and the control plane.
 */
export class ServiceTrafficPolicy extends Construct {
  readonly destinationRule: DestinationRule;
  readonly virtualService: VirtualService;
  readonly sidecar: Sidecar;

  constructor(scope: Construct, id: string, props: ServiceTrafficPolicyProps) {
    super(scope, id);
    const node = props.node;
    const cb = props.circuitBreaker ?? {};
    const retries = props.retries ?? {};
    const timeout = props.timeout ?? "15s";
    const attempts = retries.attempts ?? 2;
    const perTryTimeout = retries.perTryTimeout ?? "2s";
    const problems: string[] = [];
    for (const [name, value] of Object.entries({ timeout, perTryTimeout, connectTimeout: cb.connectTimeout, interval: cb.interval, baseEjectionTime: cb.baseEjectionTime })) {
      if (value !== undefined && !DURATION.test(value)) problems.push(`${name} must be a duration such as 500ms, 2s or 1m (got ${JSON.stringify(value)})`);
    }
    for (const [name, value] of Object.entries({ maxConnections: cb.maxConnections, maxPendingRequests: cb.maxPendingRequests, maxRequests: cb.maxRequests, consecutive5xxErrors: cb.consecutive5xxErrors })) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) problems.push(`circuitBreaker.${name} must be an integer >= 1 (got ${value})`);
    }
    if (cb.maxEjectionPercent !== undefined && (cb.maxEjectionPercent < 0 || cb.maxEjectionPercent > 100)) problems.push(`circuitBreaker.maxEjectionPercent must be 0-100 (got ${cb.maxEjectionPercent})`);
    if (!Number.isInteger(attempts) || attempts < 0 || attempts > 10) problems.push(`retries.attempts must be 0-10 (got ${attempts})`);
    if (attempts > 0 && DURATION.test(perTryTimeout) && DURATION.test(timeout) && millis(perTryTimeout) > millis(timeout)) {
      problems.push(`retries.perTryTimeout ${perTryTimeout} must not exceed timeout ${timeout}`);
    }
    if (retries.retryOn && retries.retryOn.length === 0) problems.push("retries.retryOn must name at least one condition (set attempts to 0 to disable retries)");
    const canary = props.canary;
    if (canary && (!Number.isFinite(canary.weight) || canary.weight < 0 || canary.weight > 100 || !Number.isInteger(canary.weight))) {
      problems.push(`canary.weight must be an integer 0-100 (got ${canary.weight})`);
    }
    if (problems.length) throw new Error(`${this.node.path}: service '${node.id}': ${problems.join("; ")}`);

    const host = hostOf(node);
    const namespace = node.namespace as string;
    const meta = (name: string) => istioMetadata(name, namespace, "traffic", { [DERIVED_FROM]: "service-graph" });
    const stableLabels = canary?.stableLabels ?? { "stratum.dev/track": STABLE_SUBSET };
    const canaryLabels = canary?.canaryLabels ?? { "stratum.dev/track": CANARY_SUBSET };

    this.destinationRule = new DestinationRule(this, "DestinationRule", {
      metadata: meta(node.id),
      spec: {
        host,
        trafficPolicy: {
          tls: { mode: DestinationRuleSpecTrafficPolicyTlsMode.ISTIO_UNDERSCORE_MUTUAL },
          connectionPool: {
            tcp: { maxConnections: cb.maxConnections ?? 100, connectTimeout: cb.connectTimeout ?? "2s" },
            http: { http1MaxPendingRequests: cb.maxPendingRequests ?? 64, http2MaxRequests: cb.maxRequests ?? 1000, maxRetries: Math.max(attempts, 1) * 10 },
          },
          outlierDetection: {
            consecutive5XxErrors: cb.consecutive5xxErrors ?? 5,
            interval: cb.interval ?? "10s",
            baseEjectionTime: cb.baseEjectionTime ?? "30s",
            maxEjectionPercent: cb.maxEjectionPercent ?? 50,
          },
        },
        subsets: canary ? [{ name: STABLE_SUBSET, labels: { ...stableLabels } }, { name: CANARY_SUBSET, labels: { ...canaryLabels } }] : undefined,
      },
    });

    const route = canary
      ? [
        { destination: { host, subset: STABLE_SUBSET }, weight: 100 - canary.weight },
        { destination: { host, subset: CANARY_SUBSET }, weight: canary.weight },
      ]
      : [{ destination: { host } }];
    this.virtualService = new VirtualService(this, "VirtualService", {
      metadata: meta(node.id),
      spec: {
        hosts: [host],
        http: [{
          name: "default",
          route,
          timeout,
          retries: attempts === 0
            ? { attempts: 0 }
            : { attempts, perTryTimeout, retryOn: (retries.retryOn ?? DEFAULT_RETRY_ON).join(",") },
        }],
      },
    });

    // A dependency outside the cluster without a registry entry would be dropped by REGISTRY_ONLY, so such a service
    // keeps ALLOW_ANY and relies on its NetworkPolicy (which names the external CIDRs and ports) for egress control.
    const externals = props.dependencies.filter((d) => d.kind === "external").map((d) => props.externalHost?.(d));
    const external = externals.some((h) => h === undefined);
    const hosts = [...new Set([
      `${ISTIO_NAMESPACE}/*`,
      ...props.dependencies.filter((d) => d.kind !== "external").map((d) => `${d.namespace}/${hostOf(d)}`),
      ...externals.filter((h): h is string => h !== undefined),
    ])].sort();
    this.sidecar = new Sidecar(this, "Sidecar", {
      metadata: meta(node.id),
      spec: {
        workloadSelector: { labels: { ...node.selector } },
        egress: [{ hosts }],
        outboundTrafficPolicy: { mode: external ? SidecarSpecOutboundTrafficPolicyMode.ALLOW_UNDERSCORE_ANY : SidecarSpecOutboundTrafficPolicyMode.REGISTRY_UNDERSCORE_ONLY },
      },
    });
  }
}
