import { Construct } from "constructs";
import { HardenedWorkload } from "../../constructs/hardened-workload";
import { AppProtocol, GraphNodeProps } from "../../constructs/service-graph";
import type { Resources, Tier } from "../../stacks/environments/environment";
import { PlatformContext } from "../component";
import { DeliveryProps, deliveryProblems, previewServiceName, rolloutStrategy } from "./delivery";

/** A route the API gateway exposes for a service. */
export interface ServiceRoute {
  /** Path prefix at the edge, e.g. `/api/orders`. */
  readonly pathPrefix: string;
  /** Whether a valid token is required. @default true */
  readonly auth?: boolean;
  /** Roles (token claim `roles`) of which the caller needs one. @default any authenticated caller */
  readonly roles?: ReadonlyArray<string>;
  /** Upstream timeout, e.g. `5s`. @default the gateway's */
  readonly timeout?: string;
}

/** Props of a business service onboarded with `platform.addService`. */
export interface BusinessServiceProps {
  /** Service name: DNS label, unique in the platform. */
  readonly name: string;
  /** Image with an exact version tag or digest. */
  readonly image: string;
  /** Port the service listens on. @default 8080 */
  readonly port?: number;
  /** Protocol of that port. @default "http" */
  readonly protocol?: Extract<AppProtocol, "http" | "http2" | "grpc">;
  /** Port serving Prometheus metrics at /metrics. @default 9090 */
  readonly metricsPort?: number;
  /** Graph ids of what it calls: other services and platform components (`postgres`, `redis`). @default none */
  readonly consumes?: ReadonlyArray<string>;
  /** Replicas per tier. @default the environment's `sizing.services.replicas` */
  readonly replicas?: Partial<Record<Tier, number>>;
  /** Requests and limits. @default the environment's `sizing.services.resources` */
  readonly resources?: Resources;
  /** Routes at the edge. @default none (internal only) */
  readonly routes?: ReadonlyArray<ServiceRoute>;
  /** Literal environment variables. @default none */
  readonly env?: Readonly<Record<string, string>>;
  /** Namespace. @default "apps" */
  readonly namespace?: string;
  /** Owning team, for alert routing. @default "platform" */
  readonly team?: string;
  /** Progressive delivery (Argo Rollouts). @default a plain rolling update */
  readonly delivery?: DeliveryProps;
  /** Horizontal autoscaling bounds per tier; the replica count becomes the minimum. @default fixed replicas */
  readonly maxReplicas?: Partial<Record<Tier, number>>;
}

/** The environment-variable prefix of a name: `order-history` -> `ORDER_HISTORY`. */
export function envPrefix(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
}

/** Default namespace of business services. */
export const APPS_NAMESPACE = "apps";

/** A business service: a hardened workload declared in the service graph with its consumers and routes. */
export class BusinessService extends Construct {
  /** The service name (its graph id). */
  readonly name: string;
  /** Its workload. */
  readonly workload: HardenedWorkload;
  /** Its graph node. */
  readonly graphNode: GraphNodeProps;
  /** Its routes at the edge. */
  readonly routes: ReadonlyArray<ServiceRoute>;
  /** Owning team. */
  readonly team: string;
  /** Progressive delivery, if any. */
  readonly delivery?: DeliveryProps;

  constructor(scope: Construct, id: string, context: PlatformContext, props: BusinessServiceProps) {
    super(scope, id);
    const env = context.environment;
    const namespace = props.namespace ?? APPS_NAMESPACE;
    const port = props.port ?? 8080;
    const metricsPort = props.metricsPort ?? 9090;
    if (metricsPort === port) throw new Error(`${this.node.path}: metricsPort must differ from port (both ${port})`);
    const replicas = props.replicas?.[env.tier] ?? env.sizing.services.replicas;
    this.name = props.name;
    this.routes = props.routes ?? [];
    this.team = props.team ?? "platform";
    this.delivery = props.delivery;
    const deliveryIssues = props.delivery ? deliveryProblems(props.delivery) : [];
    if (deliveryIssues.length) throw new Error(`${this.node.path}: ${deliveryIssues.join("; ")}`);
    const maxReplicas = props.maxReplicas?.[env.tier];
    for (const r of this.routes) {
      if (!/^\/[A-Za-z0-9._~\/-]*$/.test(r.pathPrefix)) throw new Error(`${this.node.path}: route pathPrefix must start with / and use URL path characters (got ${JSON.stringify(r.pathPrefix)})`);
    }
    this.workload = new HardenedWorkload(this, "Workload", {
      name: props.name,
      namespace,
      component: "business-service",
      image: props.image,
      replicas,
      resources: props.resources ?? env.sizing.services.resources,
      spread: { node: env.ha.nodeSpread, zone: env.ha.zoneSpread },
      ports: [
        { name: props.protocol === "grpc" ? "grpc" : "http", port, protocol: props.protocol ?? "http" },
        { name: "http-metrics", port: metricsPort, protocol: "http", metrics: true },
      ],
      env: { PORT: String(port), METRICS_PORT: String(metricsPort), ...props.env },
      podLabels: { "stratum.dev/team": this.team },
      kind: props.delivery ? "Rollout" : "Deployment",
      rolloutStrategy: props.delivery ? rolloutStrategy(props.name, props.delivery, env.sizing.delivery) : undefined,
      autoscaling: maxReplicas ? { maxReplicas } : undefined,
    });
    if (props.delivery?.strategy === "blueGreen") this.workload.addService(previewServiceName(props.name));
    const scheme = props.protocol === "grpc" ? "grpc" : "http";
    const url = `${scheme}://${this.workload.host}:${port}`;
    this.graphNode = context.graph.addNode(
      this.workload.graphNode(props.name, "service", this, { connection: () => ({ [`${envPrefix(props.name)}_URL`]: url }) }),
    );
    for (const target of props.consumes ?? []) context.graph.connect(props.name, target);
  }
}
