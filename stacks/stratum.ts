import { App } from "cdk8s";
import { EventsComponent } from "../components/events";
import { LoggingComponent } from "../components/logging";
import { MeshComponent } from "../components/mesh";
import { MetricsComponent } from "../components/metrics";
import { ObjectStorage } from "../components/object-storage";
import { Postgres } from "../components/postgres";
import { RedisComponent } from "../components/redis";
import { ElasticsearchComponent } from "../components/elasticsearch";
import { GitOpsComponent } from "../components/gitops";
import { SecurityComponent } from "../components/security";
import { TracingComponent } from "../components/tracing";
import { GatewayComponent } from "../components/gateway";
import { TasksComponent } from "../components/tasks";
import { DeliveryComponent } from "../components/delivery";
import { Environment } from "./environments/environment";
import { Platform } from "./platform";
import { addReferenceServices } from "./reference-services";

/** Options of the standard platform build. */
export interface BuildOptions {
  /** Onboard the reference architecture's business services. @default true */
  readonly referenceServices?: boolean;
  /** Adds more to the platform (extra services, components) before it is finalized. @default nothing */
  readonly customize?: (platform: Platform) => void;
}

/** Builds the complete platform of one environment: every component, then the business services. */
export function buildPlatform(environment: Environment, options: BuildOptions = {}): Platform {
  const app = new App({ outdir: "unused", recordConstructMetadata: false });
  const platform = new Platform(app, environment.name, { environment });
  // Components in dependency order: each may `find` the ones added before it; later ones wire through the graph.
  // security, gitops, mesh, object-storage, postgres, redis, elasticsearch, metrics, tracing, logging, events,
  // gateway, tasks, delivery.
  platform.add((scope, context) => new SecurityComponent(scope, "Security", context));
  platform.add((scope, context) => new GitOpsComponent(scope, "GitOps", context));
  platform.add((scope, context) => new MeshComponent(scope, "Mesh", context));
  platform.add((scope, context) => new ObjectStorage(scope, "ObjectStorage", context));
  platform.add((scope, context) => new Postgres(scope, "Postgres", context));
  platform.add((scope, context) => new RedisComponent(scope, "Redis", context));
  const elasticsearch = platform.add((scope, context) => new ElasticsearchComponent(scope, "Elasticsearch", context));
  platform.add((scope, context) => new MetricsComponent(scope, "Metrics", context));
  platform.add((scope, context) => new TracingComponent(scope, "Tracing", context, { elasticsearch: elasticsearch.target }));
  platform.add((scope, context) => new LoggingComponent(scope, "Logging", context, { elasticsearch: elasticsearch.target }));
  platform.add((scope, context) => new EventsComponent(scope, "Events", context));
  platform.add((scope, context) => new GatewayComponent(scope, "Gateway", context));
  platform.add((scope, context) => new TasksComponent(scope, "Tasks", context));
  platform.add((scope, context) => new DeliveryComponent(scope, "Delivery", context, { services: () => platform.services }));
  if (options.referenceServices ?? true) addReferenceServices(platform);
  options.customize?.(platform);
  platform.finalize();
  return platform;
}
