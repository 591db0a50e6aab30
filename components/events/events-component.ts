import { Construct } from "constructs";
import * as crypto from "node:crypto";
import { Configuration } from "../../constructs/imports/dapr-configuration-dapr.io";
import * as k8s from "../../constructs/imports/k8s";
import { SYNC_WAVE } from "../../constructs/helm-addon";
import { recommendedLabels } from "../../constructs/labels";
import { EnvValue, GraphNodeProps } from "../../constructs/service-graph";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { EventCatalog, EventDefinition } from "./catalog";
import { annotateDaprWorkloads, daprAnnotations, SIDECAR_METRICS_PORT } from "./dapr-app";
import { DAPR_OPERATOR_NODE, DAPR_SENTRY_NODE, DaprControlPlane } from "./dapr-control-plane";
import { DaprNamespace } from "./dapr-namespace";
import { CATALOG_CONFIGMAP, EVENT_PROCESSOR, EventProcessorWorkload } from "./event-processor";
import { pubsubSpec } from "./pubsub";
import { SAMPLE_EVENTS } from "./sample-catalog";
import { TASK_EVENTS, TASK_ORCHESTRATOR } from "./task-events";

/** Graph ids this component reads when they exist (agreed platform-wide). */
const REDIS = "redis";
const REDIS_SENTINEL = "redis-sentinel";
const POSTGRES = "postgres";
const OTEL_COLLECTOR = "otel-collector";
const KUBE_APISERVER = "kube-apiserver";
/** Graph id of an external Kafka cluster (prod broker). */
export const KAFKA_NODE = "kafka";

/** Props of the events component. */
export interface EventsComponentProps {
  /** The event catalog. @default the reference architecture's events (SAMPLE_EVENTS) */
  readonly events?: ReadonlyArray<EventDefinition>;
  /** Namespace of the event processor. @default "events" */
  readonly namespace?: string;
  /** Namespace of the Dapr control plane. @default "dapr-system" */
  readonly controlPlaneNamespace?: string;
  /** Name of the pub/sub Component in every namespace. @default "events" */
  readonly pubsubName?: string;
}

/**
 * Events (L3): Dapr (HelmAddon, mTLS, tracing, resiliency), a pub/sub broker per tier, the typed event catalog and
 * everything derived from it (Subscriptions with dead-letter topics, topic scopes, the validator's schema bundle,
 * the catalog page), and the event processor. Producers and consumers are graph nodes; at finalize each gets a
 * daprd sidecar (pod annotations), the namespace's Dapr objects, and edges to the broker and the control plane.
 */
export class EventsComponent extends PlatformComponent {
  /** The event catalog (grows through `addEvent` until the platform is finalized). */
  readonly catalog: EventCatalog;
  /** The Dapr control plane. */
  readonly controlPlane: DaprControlPlane;
  /** The event processor's deployment. */
  readonly processor: EventProcessorWorkload;
  /** Name of the pub/sub Component. */
  readonly pubsubName: string;
  /** Catalog apps that are not graph nodes (left out of scopes and wiring); filled at finalize. */
  readonly missingApps: string[] = [];
  /** Why something could not be wired (for example no broker in the graph); filled at finalize. */
  readonly warnings: string[] = [];
  /** Namespace of the event processor. */
  readonly processorNamespace: string;

  constructor(scope: Construct, id: string, context: PlatformContext, props: EventsComponentProps = {}) {
    super(scope, id, context, { name: "events", syncWave: SyncWave.WORKLOADS });
    const env = context.environment;
    const sizing = env.sizing.events;
    const problems: string[] = [];
    if (sizing.processor.maxReplicas < sizing.processor.replicas) problems.push(`sizing.events.processor.maxReplicas (${sizing.processor.maxReplicas}) must be >= replicas (${sizing.processor.replicas})`);
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);

    this.catalog = new EventCatalog(props.events ?? SAMPLE_EVENTS);
    this.pubsubName = props.pubsubName ?? "events";
    this.processorNamespace = context.ensureNamespace({ name: props.namespace ?? "events", component: "events" });
    const cpNamespace = context.ensureNamespace({ name: props.controlPlaneNamespace ?? "dapr-system", component: "events" });

    this.controlPlane = new DaprControlPlane(this, "Dapr", {
      namespace: cpNamespace,
      ha: sizing.controlPlane.ha,
      resources: sizing.controlPlane.resources,
      project: context.gitopsProject,
    });
    // mTLS between sidecars is a control plane setting: the `daprsystem` Configuration in the control plane namespace
    new Configuration(this, "SystemConfiguration", {
      metadata: {
        name: "daprsystem",
        namespace: cpNamespace,
        labels: recommendedLabels({ name: "dapr", component: "events", instance: "daprsystem" }),
        annotations: { [SYNC_WAVE]: String(SyncWave.CUSTOM_RESOURCES) },
      },
      spec: { mtls: { enabled: true, workloadCertTtl: "24h", allowedClockSkew: "15m", controlPlaneTrustDomain: "cluster.local", sentryAddress: this.controlPlane.sentryAddress } },
    });
    this.controlPlane.addToGraph(context.graph, this, context.graph.has(KUBE_APISERVER) ? KUBE_APISERVER : undefined);

    this.processor = new EventProcessorWorkload(this, "Processor", {
      namespace: this.processorNamespace,
      pubsubName: this.pubsubName,
      sizing,
      spread: { node: env.ha.nodeSpread, zone: env.ha.zoneSpread },
    });
    context.graph.addNode(this.processor.workload.graphNode(EVENT_PROCESSOR, "component", this));

    context.onFinalize(() => this.wire());
  }

  /** Adds an event type to the catalog (for components added later, e.g. the task orchestrator's status events). */
  addEvent(def: EventDefinition): this {
    this.catalog.add(def);
    return this;
  }

  /** Pod annotations for a Dapr app (components that build their own workloads put them on their pods). */
  daprAnnotations(appId: string, appPort?: number): Record<string, string> {
    return daprAnnotations({ appId, appPort, sidecar: this.context.environment.sizing.events.sidecar });
  }

  /** Runs at finalize: the catalog is complete and every app is in the graph. */
  private wire(): void {
    const { graph, secrets, environment } = this.context;
    graph.resolve();
    if (graph.has(TASK_ORCHESTRATOR)) for (const d of TASK_EVENTS) if (!this.catalog.has(d.type)) this.catalog.add(d);
    const bundle = this.catalog.schemaBundle();
    const bundleText = JSON.stringify(bundle, null, 2);
    const hash = crypto.createHash("sha256").update(bundleText).digest("hex").slice(0, 16);
    new k8s.KubeConfigMap(this, "CatalogBundle", {
      metadata: {
        name: CATALOG_CONFIGMAP,
        namespace: this.processorNamespace,
        labels: recommendedLabels({ name: EVENT_PROCESSOR, component: "event-catalog" }),
        annotations: { "stratum.dev/catalog-sha256": hash },
      },
      data: { "catalog.json": bundleText },
    });
    // a catalog change rolls the processor, which compiles the schemas once at start
    annotateDaprWorkloads(this.processor, this.processor.workload.selector, { "stratum.dev/catalog-sha256": hash });

    const apps = [EVENT_PROCESSOR, ...this.catalog.apps.filter((a) => a !== EVENT_PROCESSOR)];
    const present: GraphNodeProps[] = [];
    for (const id of apps) {
      if (graph.has(id) && graph.node(id).kind !== "external") present.push(graph.node(id));
      else this.missingApps.push(id);
    }
    const connectOnce = (from: string, to: string, ports?: string[]) => {
      if (!graph.has(to) || graph.outgoing(from).some((e) => e.to === to)) return;
      graph.connect(from, to, ports);
    };

    const broker = environment.sizing.events.pubsub;
    if (broker.kind === "kafka" && !graph.has(KAFKA_NODE)) {
      const ports = [...new Set(broker.brokers.map((b) => Number(b.split(":")[1])))].sort((a, b) => a - b);
      graph.addNode({ id: KAFKA_NODE, kind: "external", cidrs: [...broker.cidrs], ports: ports.map((port) => ({ name: `tls-kafka-${port}`.slice(0, 15), port, protocol: "tls" as const })) });
    }
    const otel = graph.has(OTEL_COLLECTOR) ? graph.node(OTEL_COLLECTOR) : undefined;
    const otlpPort = otel?.ports.find((p) => p.port === 4317) ?? otel?.ports.find((p) => p.protocol === "grpc");
    const otlpEndpoint = otel?.host && otlpPort ? `${otel.host}:${otlpPort.port}` : "otel-collector.observability.svc.cluster.local:4317";
    const samplingPercent = (environment.sizing as { mesh?: { tracingSamplingPercent?: number } }).mesh?.tracingSamplingPercent ?? 100;

    if (broker.kind === "redis-streams" && !graph.has(REDIS)) this.warnings.push("no 'redis' node in the service graph: no pub/sub Component rendered");
    const byNamespace = new Map<string, GraphNodeProps[]>();
    for (const n of present) byNamespace.set(n.namespace!, [...(byNamespace.get(n.namespace!) ?? []), n]);
    for (const [ns, nodes] of [...byNamespace.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      let redis: Readonly<Record<string, EnvValue>> | undefined;
      let kafkaSecret: string | undefined;
      if (broker.kind === "redis-streams" && graph.has(REDIS)) redis = graph.node(REDIS).connection?.(nodes[0]);
      if (broker.kind === "kafka") {
        kafkaSecret = secrets.require({
          namespace: ns, name: "events-kafka", keys: ["username", "password"], remoteKey: broker.credentialsRemoteKey,
          description: "SASL/SCRAM credentials the Dapr sidecars use for the Kafka pub/sub broker",
        }).password.name;
      }
      new DaprNamespace(this, `Dapr-${ns}`, {
        namespace: ns,
        apps: nodes.map((n) => n.id),
        catalog: this.catalog,
        processorApp: EVENT_PROCESSOR,
        pubsubName: this.pubsubName,
        pubsub: broker.kind === "redis-streams" && !redis ? undefined : pubsubSpec(broker, redis, kafkaSecret),
        otlpEndpoint,
        samplingRate: Math.min(1, Math.max(0, samplingPercent / 100)),
      });
    }

    for (const n of present) {
      // the daprd sidecar's own metrics (pub/sub, resiliency, mTLS) are scraped like the app's, through the mesh
      graph.addPort(n.id, { name: "dapr-metrics", port: SIDECAR_METRICS_PORT, protocol: "http", metrics: true });
      // the daprd sidecar shares the pod's network: it reaches the broker, the control plane and the collector
      connectOnce(n.id, DAPR_OPERATOR_NODE, ["grpc-api"]);
      connectOnce(n.id, DAPR_SENTRY_NODE);
      if (broker.kind === "redis-streams") { connectOnce(n.id, REDIS); connectOnce(n.id, REDIS_SENTINEL); }
      else connectOnce(n.id, KAFKA_NODE);
      if (otel && otlpPort) connectOnce(n.id, OTEL_COLLECTOR, [otlpPort.name]);
      if (n.id !== EVENT_PROCESSOR && n.scope && n.selector) {
        annotateDaprWorkloads(n.scope, n.selector, daprAnnotations({ appId: n.id, appPort: appPort(n), sidecar: environment.sizing.events.sidecar }));
      }
    }
    connectOnce(EVENT_PROCESSOR, POSTGRES);
  }
}

/** The port Dapr delivers to: the node's first HTTP port that is not for metrics. */
function appPort(n: GraphNodeProps): number | undefined {
  const p = n.ports.find((x) => !x.metrics && (x.protocol === "http" || x.protocol === "http2"));
  return p ? p.targetPort ?? p.port : undefined;
}
