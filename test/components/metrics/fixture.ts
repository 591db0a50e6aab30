import { App } from "cdk8s";
import { ElasticsearchComponent } from "../../../components/elasticsearch";
import { MeshComponent } from "../../../components/mesh";
import { MetricsComponent, MetricsComponentProps } from "../../../components/metrics";
import { Environment } from "../../../stacks/environments/environment";
import { Platform } from "../../../stacks/platform";
import { K8sObject } from "../../../policies/types";

/** Stand-ins for nodes other components declare, each with a metrics port (pods without a Stratum-made Service). */
export const STUB_NODES = [
  { id: "postgres", namespace: "data", ports: [{ name: "tcp-pg", port: 5432, protocol: "tcp" as const }, { name: "metrics", port: 9127, protocol: "http" as const, metrics: true }] },
  { id: "redis", namespace: "data", ports: [{ name: "tcp-redis", port: 6379, protocol: "tcp" as const }, { name: "http-metrics", port: 9121, protocol: "http" as const, metrics: true }] },
  { id: "elasticsearch", namespace: "logging", ports: [{ name: "https", port: 9200, protocol: "tls" as const }, { name: "http-metrics", port: 9114, protocol: "http" as const, metrics: true }] },
  { id: "jaeger", namespace: "tracing", ports: [{ name: "http-query", port: 16686, protocol: "http" as const }, { name: "grpc-otlp", port: 4317, protocol: "grpc" as const }] },
  { id: "gateway", namespace: "gateway", ports: [{ name: "http", port: 8080, protocol: "http" as const }, { name: "http-metrics", port: 9090, protocol: "http" as const, metrics: true }] },
  { id: "event-processor", namespace: "events", ports: [{ name: "http", port: 8080, protocol: "http" as const }, { name: "http-metrics", port: 9090, protocol: "http" as const, metrics: true }] },
  { id: "task-orchestrator", namespace: "tasks", ports: [{ name: "http", port: 8080, protocol: "http" as const }, { name: "http-metrics", port: 9090, protocol: "http" as const, metrics: true }] },
  { id: "argocd", namespace: "argocd", ports: [{ name: "https", port: 443, protocol: "tls" as const }, { name: "http-metrics", port: 8082, protocol: "http" as const, metrics: true }] },
];

/** Four business services of two teams, independent of the reference architecture's (which consume other components). */
function addServices(platform: Platform): void {
  const image = (name: string) => `ghcr.io/stratum-platform/samples/${name}-service:1.4.2`;
  platform.addService({ name: "order", image: image("order"), consumes: ["payment", "catalog", "customer"], team: "checkout" });
  platform.addService({ name: "payment", image: image("payment"), team: "checkout" });
  platform.addService({ name: "catalog", image: image("catalog"), team: "storefront" });
  platform.addService({ name: "customer", image: image("customer"), team: "storefront" });
}

/** A platform with the metrics component, the reference services and (optionally) stand-ins for the other components. */
export function buildMetricsPlatform(
  environment: Environment,
  options: { stubs?: boolean; mesh?: boolean; elasticsearch?: boolean; props?: MetricsComponentProps; customize?: (p: Platform, m: MetricsComponent) => void } = {},
): { platform: Platform; metrics: MetricsComponent; objects: K8sObject[] } {
  const app = new App({ outdir: "unused", recordConstructMetadata: false });
  const platform = new Platform(app, environment.name, { environment });
  if (options.mesh) platform.add((scope, context) => new MeshComponent(scope, "Mesh", context));
  if (options.elasticsearch) platform.add((scope, context) => new ElasticsearchComponent(scope, "Elasticsearch", context));
  const metrics = platform.add((scope, context) => new MetricsComponent(scope, "Metrics", context, options.props));
  addServices(platform);
  if (options.stubs ?? true) {
    for (const s of STUB_NODES.filter((x) => !(options.elasticsearch && x.id === "elasticsearch"))) {
      platform.graph.addNode({
        ...s,
        kind: "component",
        serviceAccount: s.id,
        selector: { "app.kubernetes.io/name": s.id },
        host: `${s.id}.${s.namespace}.svc.cluster.local`,
      });
    }
  }
  options.customize?.(platform, metrics);
  platform.finalize();
  const objects = platform.components.flatMap((c) => c.toJson() as K8sObject[]);
  return { platform, metrics, objects };
}
