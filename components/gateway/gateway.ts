import { createHash } from "node:crypto";
import { Lazy } from "cdk8s";
import { Construct } from "constructs";
import { HardenedWorkload } from "../../constructs/hardened-workload";
import * as k8s from "../../constructs/imports/k8s";
import { recommendedLabels } from "../../constructs/labels";
import { NODE_BASE_IMAGE, NODE_UID, RuntimeAsset } from "../../constructs/runtime-asset";
import { GraphNodeProps } from "../../constructs/service-graph";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { MeshComponent } from "../mesh";
import { RedisComponent, REDIS_NODE } from "../redis";
import { ServicesComponent } from "../services";
import { BusinessService } from "../services/business-service";
import { GatewayCircuitBreaker, gatewayConfig, GatewayRateLimits, GatewayRoute, renderGatewayConfig } from "./gateway-config";
import { defaultGatewayJwt, GatewayJwt, gatewayJwtProblems } from "./jwt-settings";

/** Graph id of the API gateway. */
export const GATEWAY_NODE = "gateway";
/** Graph id of the identity provider's key endpoint (shared with the mesh, whose istiod fetches the same keys). */
export const JWKS_ISSUER_NODE = "jwks-issuer";
/** Namespace of the gateway. */
export const GATEWAY_NAMESPACE = "gateway";
/** Name of the ConfigMap that holds `gateway.yaml`. */
export const GATEWAY_CONFIG_MAP = "gateway-config";
const CONFIG_DIR = "/etc/gateway";
const DURATION = /^[0-9]+(ms|s|m|h)$/;

/** Three quarters of the memory limit, in MiB, for V8's old space: the rest is for buffers, sockets and code. */
function heapMiB(limit: string, owner: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(limit);
  if (!m) throw new Error(`${owner}: sizing.gateway.resources.limits.memory is not a quantity (got ${JSON.stringify(limit)})`);
  const bytes = Number(m[1]) * ({ Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, K: 1e3, M: 1e6, G: 1e9, T: 1e12 } as Record<string, number>)[m[2] ?? ""] || Number(m[1]);
  const mib = Math.floor((bytes / 2 ** 20) * 0.75);
  if (mib < 64) throw new Error(`${owner}: sizing.gateway.resources.limits.memory must be at least 86Mi for the gateway (got ${limit})`);
  return mib;
}

/** Props of the API gateway. */
export interface GatewayProps {
  /** Token checking. @default issuer https://auth.<clusterDomain>, JWKS at its well-known path, audience api.<clusterDomain>, RS256 */
  readonly jwt?: Partial<GatewayJwt>;
  /** Default upstream timeout. @default "30s" */
  readonly timeout?: string;
  /** Rate limits. @default 100/s with a burst of 200 per user and per client IP */
  readonly rateLimits?: GatewayRateLimits;
  /** Circuit breaker per upstream. @default 5 failures open it for 30s; 2 successful trials close it */
  readonly circuitBreaker?: GatewayCircuitBreaker;
  /** Largest request body in bytes. @default 1048576 (1 MiB) */
  readonly maxBodyBytes?: number;
  /** Proxies in front of the gateway whose X-Forwarded-For entries are trusted. @default 1 (the Istio ingress gateway) */
  readonly trustedProxyHops?: number;
  /** Routes besides the business services' own (e.g. to a platform UI). @default none */
  readonly routes?: ReadonlyArray<GatewayRoute>;
  /**
   * Keep the rate-limit buckets in the platform's Redis (through its sentinels), so that the limits hold for the
   * whole gateway fleet rather than per replica. When Redis does not answer, requests are let through.
   * @default true when the platform has the Redis component
   */
  readonly distributedRateLimits?: boolean;
}

/**
 * The API gateway (`dist/<env>/gateway.k8s.yaml`): the gateway runtime service as a content-hashed asset on the
 * pinned Node base image, a hardened, autoscaled Deployment with Service, HPA and PDB, and its configuration as a
 * ConfigMap rendered from these props and the business services' routes, checked with the schema the service
 * validates at start-up. In the graph it is `gateway`, calling every routed service and the issuer's JWKS.
 */
export class GatewayComponent extends PlatformComponent {
  /** The workload. */
  readonly workload: HardenedWorkload;
  /** The bundle asset. */
  readonly asset: RuntimeAsset;
  /** Its graph node. */
  readonly graphNode: GraphNodeProps;
  /** The token settings (the mesh's RequestAuthentication uses the same). */
  readonly jwt: GatewayJwt;
  private readonly extraRoutes: GatewayRoute[];
  private readonly props: GatewayProps;
  private readonly mesh?: MeshComponent;
  private readonly redis?: RedisComponent;
  private renderedConfig?: string;

  constructor(scope: Construct, id: string, context: PlatformContext, props: GatewayProps = {}) {
    super(scope, id, context, { name: "gateway", syncWave: SyncWave.WORKLOADS });
    const env = context.environment;
    this.jwt = { ...defaultGatewayJwt(env), ...props.jwt };
    const problems = gatewayJwtProblems(this.jwt);
    const timeout = props.timeout ?? "30s";
    if (!DURATION.test(timeout)) problems.push(`timeout must be a duration such as 30s (got ${JSON.stringify(timeout)})`);
    if (props.maxBodyBytes !== undefined && (!Number.isInteger(props.maxBodyBytes) || props.maxBodyBytes < 0)) problems.push(`maxBodyBytes must be an integer >= 0 (got ${props.maxBodyBytes})`);
    if (props.trustedProxyHops !== undefined && (!Number.isInteger(props.trustedProxyHops) || props.trustedProxyHops < 0 || props.trustedProxyHops > 10)) {
      problems.push(`trustedProxyHops must be an integer 0-10 (got ${props.trustedProxyHops})`);
    }
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);
    this.props = { ...props, timeout };
    this.extraRoutes = [];
    // The edge checks tokens with exactly these settings, and knows the gateway's own routes besides the services'.
    this.mesh = context.find(MeshComponent);
    this.mesh?.useJwt({ issuer: this.jwt.issuer, jwksUri: this.jwt.jwksUri, audiences: this.jwt.audiences });
    for (const r of props.routes ?? []) this.addRoute(r);

    const namespace = context.ensureNamespace({ name: GATEWAY_NAMESPACE, component: "api-gateway" });
    const sizing = env.sizing.gateway;
    this.asset = new RuntimeAsset(this, "Asset", { service: "gateway", namespace });
    this.workload = new HardenedWorkload(this, "Workload", {
      name: "gateway",
      namespace,
      component: "api-gateway",
      image: NODE_BASE_IMAGE,
      runAsUser: NODE_UID,
      command: [...this.asset.command, "--config", `${CONFIG_DIR}/gateway.yaml`],
      ports: [
        { name: "http", port: 8080, protocol: "http" },
        { name: "http-metrics", port: 9090, protocol: "http", metrics: true },
      ],
      replicas: sizing.minReplicas,
      autoscaling: { maxReplicas: sizing.maxReplicas, targetCpuUtilization: sizing.targetCpuUtilization },
      resources: sizing.resources,
      spread: { node: env.ha.nodeSpread, zone: env.ha.zoneSpread },
      volumes: [this.asset.volume, { name: "config", configMap: GATEWAY_CONFIG_MAP, mountPath: CONFIG_DIR }],
      env: { NODE_ENV: "production", NODE_OPTIONS: `--max-old-space-size=${heapMiB(sizing.resources.limits.memory, this.node.path)}` },
      podAnnotations: {
        "stratum.dev/asset-sha256": this.asset.hash,
        // A change of the routes or settings changes this hash and so rolls the pods onto the new file.
        "stratum.dev/config-sha256": Lazy.any({ produce: () => this.configHash() }) as unknown as string,
      },
      // shutdown_delay (5s) + shutdown_timeout (25s) fit in the grace period.
      terminationGracePeriodSeconds: 35,
    });
    this.graphNode = context.graph.addNode(this.workload.graphNode(GATEWAY_NODE, "component", this));
    const redis = context.find(RedisComponent);
    if (props.distributedRateLimits && !redis) throw new Error(`${this.node.path}: distributedRateLimits needs the Redis component, added before the gateway`);
    if (redis && (props.distributedRateLimits ?? true)) {
      // The graph hands the gateway REDIS_PASSWORD (a Secret reference) and the Redis component adds the sentinels.
      this.redis = redis;
      context.graph.connect(GATEWAY_NODE, REDIS_NODE);
    }
    context.onFinalize(() => this.connect(), "connect");
  }

  /** Adds a route besides the business services' own. */
  addRoute(route: GatewayRoute): void {
    this.extraRoutes.push(route);
    this.mesh?.addEdgeRoute({ pathPrefix: route.pathPrefix, auth: route.auth, roles: route.roles, timeout: route.timeout });
  }

  /** The rendered `gateway.yaml` (available once the platform is finalized). */
  get configText(): string {
    if (this.renderedConfig === undefined) throw new Error(`${this.node.path}: the gateway config is rendered when the platform is finalized`);
    return this.renderedConfig;
  }

  /** Every route: the business services' (with their upstream from the graph) and the extra ones. */
  routes(): GatewayRoute[] {
    const services: BusinessService[] = this.context.find(ServicesComponent)?.services ?? [];
    const fromServices = services.flatMap((svc) => {
      if (svc.routes.length === 0) return [];
      const port = svc.graphNode.ports.find((p) => !p.metrics);
      if (!port || port.protocol === "grpc" || port.protocol === "tcp" || port.protocol === "tls") {
        throw new Error(`${this.node.path}: service '${svc.name}' has routes, but the gateway proxies HTTP and its port is ${port ? port.protocol : "missing"}`);
      }
      const upstream = `http://${svc.workload.host}:${port.port}`;
      return svc.routes.map((r): GatewayRoute => ({ pathPrefix: r.pathPrefix, service: svc.name, upstream, auth: r.auth, roles: r.roles, timeout: r.timeout }));
    });
    return [...fromServices, ...this.extraRoutes];
  }

  private connect(): void {
    const graph = this.context.graph;
    const routes = this.routes();
    for (const target of [...new Set(routes.map((r) => r.service))].sort()) {
      if (graph.has(target)) graph.connect(GATEWAY_NODE, target);
    }
    // The gateway fetches the issuer's signing keys itself; the mesh adds the same node for istiod when it is present.
    if (!graph.has(JWKS_ISSUER_NODE)) {
      const jwks = new URL(this.jwt.jwksUri);
      graph.addNode({
        id: JWKS_ISSUER_NODE,
        kind: "external",
        cidrs: ["0.0.0.0/0"],
        exceptCidrs: [this.context.environment.network.vpcCidr],
        host: jwks.hostname,
        ports: [{ name: "https", port: Number(jwks.port || 443), protocol: "tls" }],
      });
    }
    graph.connect(GATEWAY_NODE, JWKS_ISSUER_NODE);

    const p = this.props;
    const config = gatewayConfig({
      port: 8080,
      metricsPort: 9090,
      timeout: p.timeout ?? "30s",
      maxBodyBytes: p.maxBodyBytes ?? 1024 * 1024,
      trustedProxyHops: p.trustedProxyHops ?? 1,
      shutdownTimeout: "25s",
      shutdownDelay: "5s",
      jwt: this.jwt,
      rateLimits: p.rateLimits ?? {},
      circuitBreaker: p.circuitBreaker ?? {},
      routes,
      redis: this.redis && {
        sentinels: [{ host: this.redis.endpoint.sentinelHost, port: this.redis.endpoint.sentinelPort }],
        masterName: this.redis.endpoint.masterName,
        username: this.redis.endpoint.username,
        passwordEnv: "REDIS_PASSWORD",
        tls: this.redis.endpoint.tls,
      },
    });
    this.renderedConfig = renderGatewayConfig(config, this.node.path);
    new k8s.KubeConfigMap(this, "Config", {
      metadata: {
        name: GATEWAY_CONFIG_MAP,
        namespace: this.workload.namespace,
        labels: recommendedLabels({ name: "gateway", component: "api-gateway", instance: GATEWAY_CONFIG_MAP }),
        annotations: { "stratum.dev/config-sha256": this.configHash() },
      },
      data: { "gateway.yaml": this.renderedConfig },
    });
  }

  private configHash(): string {
    return createHash("sha256").update(this.configText).digest("hex").slice(0, 10);
  }
}
