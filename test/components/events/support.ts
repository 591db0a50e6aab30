import { App, Testing } from "cdk8s";
import { EventsComponent, EventsComponentProps } from "../../../components/events";
import type { Environment } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";
import type { K8sObject } from "../../../policies/types";

const image = (name: string) => `ghcr.io/stratum-platform/samples/${name}-service:1.4.2`;

/**
 * Stand-ins for the data-layer and tracing nodes with the agreed ids and connection variables, so that these tests
 * need no other component.
 */
export function addDataLayerNodes(platform: Platform): void {
  const node = (id: string, namespace: string, port: number, name: string) => ({
    id, kind: "component" as const, namespace, serviceAccount: id, selector: { "app.kubernetes.io/name": id }, ports: [{ name, port, protocol: "tcp" as const }],
    host: `${id}.${namespace}.svc.cluster.local`,
  });
  platform.graph.addNode({
    ...node("redis", "redis", 6379, "tcp-redis"),
    connection: (consumer) => ({
      REDIS_HOST: "redis.redis.svc.cluster.local", REDIS_PORT: "6379", REDIS_SENTINEL_HOST: "redis-sentinel.redis.svc.cluster.local", REDIS_SENTINEL_PORT: "26379",
      REDIS_MASTER_NAME: "stratum", REDIS_USERNAME: "app", REDIS_PASSWORD: { secret: `redis-user-app-${consumer.namespace}`, key: "password" },
    }),
  });
  platform.graph.addNode(node("redis-sentinel", "redis", 26379, "tcp-sentinel"));
  platform.graph.addNode({
    ...node("postgres", "postgres", 5432, "tcp-postgres"),
    connection: () => ({ POSTGRES_HOST: "postgres-rw.postgres.svc.cluster.local", POSTGRES_PORT: "5432", POSTGRES_DATABASE: "app", POSTGRES_USER: "app", POSTGRES_PASSWORD: { secret: "postgres-app", key: "password" }, POSTGRES_SSLMODE: "require" }),
  });
  platform.graph.addNode({ ...node("otel-collector", "observability", 4317, "grpc-otlp"), ports: [{ name: "grpc-otlp", port: 4317, protocol: "grpc" }, { name: "http-otlp", port: 4318, protocol: "http" }] });
}

/** The reference services without their mutual calls. */
export function addServices(platform: Platform): void {
  for (const name of ["order", "payment", "catalog", "customer"]) platform.addService({ name, image: image(name) });
}

/** Builds a platform with the events component (and stand-ins), finalized. */
export function build(environment: Environment, props: EventsComponentProps = {}, options: { dataLayer?: boolean; before?: (p: Platform) => void; after?: (p: Platform, e: EventsComponent) => void } = {}) {
  const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), environment.name, { environment });
  if (options.dataLayer ?? true) addDataLayerNodes(platform);
  options.before?.(platform);
  const events = platform.add((s, c) => new EventsComponent(s, "Events", c, props));
  addServices(platform);
  options.after?.(platform, events);
  platform.finalize();
  const own = Testing.synth(events) as Array<K8sObject & Record<string, any>>;
  const all = platform.components.flatMap((c) => Testing.synth(c)) as Array<K8sObject & Record<string, any>>;
  return { platform, events, own, all };
}
