import { ApiObject } from "cdk8s";
import { Construct } from "constructs";
import { customResourceAnnotations } from "../../constructs/sync";
import { ServicePort } from "../../constructs/service-graph";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { ElasticsearchComponent } from "../elasticsearch";
import { CollectorConfig } from "./collector-config";
import { COLLECTOR_HEALTH_PORT, COLLECTOR_METRICS_PORT, OtelCollector } from "./collector";
import { ElasticsearchTarget, retentionDays } from "./elasticsearch-target";
import { NodeInstrumentation } from "./instrumentation";
import { JaegerInstance } from "./jaeger";
import { OPERATOR_WEBHOOK_PORT, TracingOperators } from "./operators";
import { tailSamplingProcessor } from "./sampling";
import { chartPods } from "../../constructs/chart-pods";

/** Namespace of the tracing pipeline (shared with the rest of observability). */
export const OBSERVABILITY_NAMESPACE = "observability";
/** Graph id of the OTLP gateway collector; its Service is `otel-collector.observability` (ports 4317, 4318). */
export const OTEL_COLLECTOR_NODE = "otel-collector";
/** Graph id of the tail-sampling collectors. */
export const OTEL_SAMPLER_NODE = "otel-sampler";
/** Graph id of Jaeger's query API and UI (what Grafana's Jaeger datasource reads). */
export const JAEGER_NODE = "jaeger";
/** Graph id of Jaeger's collector (OTLP in). */
export const JAEGER_COLLECTOR_NODE = "jaeger-collector";
/** Graph id of Jaeger's nightly Elasticsearch index cleaner. */
export const JAEGER_INDEX_CLEANER_NODE = "jaeger-index-cleaner";
/** Graph id of the API server (added by the security component). */
const KUBE_APISERVER_NODE = "kube-apiserver";
/** Components that send spans when they exist, besides every business service. */
export const DEFAULT_TRACED_COMPONENTS: ReadonlyArray<string> = ["istio-ingressgateway", "gateway", "event-processor", "task-orchestrator"];
/** Annotation ArgoCD reads to skip the dry run of a custom resource whose CRD its operator installs in the same sync. */

/** Where spans are sent: the OTLP endpoints of the gateway collector. */
export interface TracingEndpoint {
  /** In-cluster host of the collector Service. */
  readonly host: string;
  /** OTLP/gRPC port (what Istio's OpenTelemetry tracing provider uses). */
  readonly grpcPort: number;
  /** OTLP/HTTP port. */
  readonly httpPort: number;
  /** `http://host:4317`, for SDKs that export OTLP/gRPC (the port every traced workload may reach). */
  readonly otlpGrpcUrl: string;
}

/** Props of the tracing component. */
export interface TracingComponentProps {
  /**
   * The platform's Elasticsearch, for Jaeger's span storage when the environment asks for it.
   * @default the Elasticsearch component's target, if the platform has one; else spans stay in memory
   */
  readonly elasticsearch?: ElasticsearchTarget;
  /** Graph ids of platform components that send spans (those that exist get an edge). @default DEFAULT_TRACED_COMPONENTS */
  readonly tracedComponents?: ReadonlyArray<string>;
}

/**
 * Tracing: the OpenTelemetry and Jaeger operators, a two-layer collector pipeline and Jaeger.
 *
 * Spans arrive at the `otel` gateway collectors (Service `otel-collector`, OTLP gRPC 4317 and HTTP 4318), which
 * refuse data under memory pressure, batch, and route every trace by its id to one `otel-sampler` replica through
 * the sampler's headless Service; tail sampling only decides right when one replica sees the whole trace. The
 * samplers keep errors, slow traces and a tier's percentage of the rest, and export to Jaeger over OTLP. Jaeger keeps
 * spans in Elasticsearch (staging, prod) or in memory (dev). An `Instrumentation` lets Node.js pods be
 * auto-instrumented by one annotation.
 */
export class TracingComponent extends PlatformComponent {
  /** Namespace of the tracing pipeline (`namespace` is the chart's own, left unset). */
  readonly namespaceName: string;
  /** The operators. */
  readonly operators: TracingOperators;
  /** The OTLP gateway collectors. */
  readonly collector: OtelCollector;
  /** The tail-sampling collectors. */
  readonly sampler: OtelCollector;
  /** Jaeger. */
  readonly jaeger: JaegerInstance;
  /** Node.js auto-instrumentation. */
  readonly instrumentation: NodeInstrumentation;
  /** Where workloads send spans. */
  readonly endpoint: TracingEndpoint;
  /** Where spans are stored. */
  readonly storage: "memory" | "elasticsearch";
  private readonly traced: Set<string>;

  constructor(scope: Construct, id: string, context: PlatformContext, props: TracingComponentProps = {}) {
    super(scope, id, context, { name: "tracing", syncWave: SyncWave.CUSTOM_RESOURCES });
    const env = context.environment;
    const sizing = env.sizing.tracing;
    const spread = { node: env.ha.nodeSpread, zone: env.ha.zoneSpread };
    this.traced = new Set(props.tracedComponents ?? DEFAULT_TRACED_COMPONENTS);
    this.namespaceName = context.ensureNamespace({ name: OBSERVABILITY_NAMESPACE, component: "observability" });
    const ns = this.namespaceName;

    this.operators = new TracingOperators(this, "Operators", { namespace: ns, project: context.gitopsProject, syncWave: SyncWave.OPERATORS });

    const elasticsearch = props.elasticsearch ?? context.find(ElasticsearchComponent)?.target;
    const wantsEs = sizing.jaegerStorage === "elasticsearch";
    this.storage = wantsEs && elasticsearch ? "elasticsearch" : "memory";
    this.jaeger = new JaegerInstance(this, "Jaeger", {
      namespace: ns,
      sizing: sizing.jaeger,
      storage:
        this.storage === "elasticsearch" && elasticsearch
          ? { type: "elasticsearch", target: elasticsearch, retentionDays: retentionDays(sizing.retention, `${this.node.path}: sizing.tracing`) }
          : { type: "memory" },
    });
    if (wantsEs && !elasticsearch) {
      this.jaeger.resource.metadata.addAnnotation("stratum.dev/storage-fallback", "the environment asks for Elasticsearch storage, but the platform has no Elasticsearch component: spans are kept in memory");
    }

    const samplerName = "otel-sampler";
    const samplerHeadless = `${samplerName}-collector-headless.${ns}.svc.cluster.local`;
    const otlpGrpc: ServicePort = { name: "grpc-otlp", port: 4317, protocol: "grpc" };
    const otlpHttp: ServicePort = { name: "http-otlp", port: 4318, protocol: "http" };
    const metrics: ServicePort = { name: "http-metrics", port: COLLECTOR_METRICS_PORT, protocol: "http", metrics: true };

    this.sampler = new OtelCollector(this, "Sampler", {
      name: samplerName,
      namespace: ns,
      replicas: sizing.sampler.replicas,
      resources: sizing.sampler.resources,
      spread,
      ports: [otlpGrpc, metrics],
      config: samplerConfig({
        samplingPercentage: sizing.samplingPercentage,
        slowTraceThresholdMs: sizing.slowTraceThresholdMs,
        jaegerOtlpEndpoint: this.jaeger.otlpEndpoint,
      }),
    });
    this.collector = new OtelCollector(this, "Collector", {
      name: "otel",
      namespace: ns,
      replicas: sizing.collector.replicas,
      resources: sizing.collector.resources,
      spread,
      ports: [otlpGrpc, otlpHttp, metrics],
      config: gatewayConfig({ samplerHeadlessHost: samplerHeadless }),
    });
    if (this.collector.serviceName !== OTEL_COLLECTOR_NODE) throw new Error(`${this.node.path}: the gateway's Service must be '${OTEL_COLLECTOR_NODE}' (got ${this.collector.serviceName})`);
    this.endpoint = { host: this.collector.host, grpcPort: otlpGrpc.port, httpPort: otlpHttp.port, otlpGrpcUrl: `http://${this.collector.host}:${otlpGrpc.port}` };

    this.instrumentation = new NodeInstrumentation(this, "NodeInstrumentation", {
      namespace: ns,
      otlpGrpcEndpoint: this.endpoint.otlpGrpcUrl,
      resourceAttributes: { "deployment.environment": env.name },
    });

    for (const obj of [this.collector.resource, this.sampler.resource, this.jaeger.resource, this.instrumentation.resource]) afterOperators(obj);

    const graph = context.graph;
    graph.addNode(this.collector.graphNode(OTEL_COLLECTOR_NODE, this));
    graph.addNode(this.sampler.graphNode(OTEL_SAMPLER_NODE, this));
    graph.addNode(this.jaeger.queryNode(JAEGER_NODE, this));
    graph.addNode(this.jaeger.collectorNode(JAEGER_COLLECTOR_NODE, this));
    const cleaner = this.jaeger.indexCleanerNode(JAEGER_INDEX_CLEANER_NODE, this);
    if (cleaner) graph.addNode(cleaner);
    graph.addNode(chartPods({
      id: "otel-operator", namespace: ns, name: "opentelemetry-operator", instance: "opentelemetry-operator", serviceAccount: "opentelemetry-operator",
      // Its metrics endpoint needs a token and client TLS (controller-runtime's secure serving): not scraped.
      ports: [OPERATOR_WEBHOOK_PORT],
      scope: this,
    }));
    graph.addNode(chartPods({
      id: "jaeger-operator", namespace: ns, name: "jaeger-operator", instance: "jaeger-operator", serviceAccount: "jaeger-operator",
      ports: [OPERATOR_WEBHOOK_PORT, { name: "http-metrics", port: 8383, protocol: "http", metrics: true }],
      scope: this,
    }));
    graph.connect(OTEL_COLLECTOR_NODE, OTEL_SAMPLER_NODE, ["grpc-otlp"]);
    graph.connect(OTEL_SAMPLER_NODE, JAEGER_COLLECTOR_NODE, ["grpc-otlp"]);
    if (this.storage === "elasticsearch" && elasticsearch) {
      for (const id of [JAEGER_COLLECTOR_NODE, JAEGER_NODE, JAEGER_INDEX_CLEANER_NODE]) graph.connect(id, elasticsearch.graphNode);
    }

    context.onFinalize(() => {
      // Resolve first, so that edges other components declared (the mesh connects every sidecar) are seen.
      graph.resolve();
      for (const node of graph.nodes) {
        const sends = node.kind === "service" || this.traced.has(node.id);
        if (sends && node.id !== OTEL_COLLECTOR_NODE && !graph.outgoing(node.id).some((e) => e.to === OTEL_COLLECTOR_NODE)) {
          graph.connect(node.id, OTEL_COLLECTOR_NODE, ["grpc-otlp"]);
        }
      }
      if (graph.has(KUBE_APISERVER_NODE)) {
        const has = (from: string, to: string) => graph.outgoing(from).some((e) => e.to === to);
        for (const op of ["otel-operator", "jaeger-operator"]) {
          if (!has(op, KUBE_APISERVER_NODE)) graph.connect(op, KUBE_APISERVER_NODE);
          if (!has(KUBE_APISERVER_NODE, op)) graph.connect(KUBE_APISERVER_NODE, op, ["https-webhook"]);
        }
      }
    });
  }

  /** Declares that the component with this graph id sends spans (an edge to the collector, if the node exists). */
  addTracedWorkload(id: string): void {
    this.traced.add(id);
  }

  /** Base URL of Jaeger's query API and UI (the Grafana datasource). */
  get jaegerQueryUrl(): string {
    return this.jaeger.queryUrl;
  }
}

/** Custom resources sync after their operators, and ArgoCD skips their dry run while the CRD is not there yet. */
function afterOperators(obj: ApiObject): void {
  for (const [k, v] of Object.entries(customResourceAnnotations(SyncWave.CUSTOM_RESOURCES))) obj.metadata.addAnnotation(k, v);
}

const HEALTH_CHECK = { health_check: { endpoint: `0.0.0.0:${COLLECTOR_HEALTH_PORT}` } };
const TELEMETRY = { metrics: { readers: [{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: COLLECTOR_METRICS_PORT } } } }] } };
const MEMORY_LIMITER = { check_interval: "1s", limit_percentage: 80, spike_limit_percentage: 25 };

/** Settings of the gateway collectors' configuration. */
export interface GatewayConfigProps {
  /** DNS name of the samplers' headless Service: one A record per sampler pod. */
  readonly samplerHeadlessHost: string;
}

/**
 * The gateway: OTLP gRPC and HTTP in; memory limiter, batch; the load-balancing exporter routes by trace id to the
 * samplers, so each trace's spans meet in one replica.
 */
export function gatewayConfig(props: GatewayConfigProps): CollectorConfig {
  return {
    receivers: { otlp: { protocols: { grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } } } },
    processors: { memory_limiter: MEMORY_LIMITER, batch: { send_batch_size: 8192, send_batch_max_size: 16384, timeout: "2s" } },
    exporters: {
      loadbalancing: {
        routing_key: "traceID",
        protocol: { otlp: { tls: { insecure: true }, timeout: "5s" } },
        resolver: { dns: { hostname: props.samplerHeadlessHost, port: 4317 } },
      },
    },
    extensions: HEALTH_CHECK,
    service: {
      extensions: ["health_check"],
      pipelines: { traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["loadbalancing"] } },
      telemetry: TELEMETRY,
    },
  };
}

/** Settings of the samplers' configuration. */
export interface SamplerConfigProps {
  /** Percentage of ordinary traces kept. */
  readonly samplingPercentage: number;
  /** Traces slower than this are always kept. */
  readonly slowTraceThresholdMs: number;
  /** Jaeger's OTLP gRPC endpoint (`host:port`). */
  readonly jaegerOtlpEndpoint: string;
}

/** The samplers: OTLP gRPC in; memory limiter, tail sampling, batch; OTLP to Jaeger with a retrying queue. */
export function samplerConfig(props: SamplerConfigProps): CollectorConfig {
  return {
    receivers: { otlp: { protocols: { grpc: { endpoint: "0.0.0.0:4317" } } } },
    processors: {
      memory_limiter: MEMORY_LIMITER,
      tail_sampling: tailSamplingProcessor({ percentage: props.samplingPercentage, slowerThanMs: props.slowTraceThresholdMs }),
      batch: { send_batch_size: 8192, send_batch_max_size: 16384, timeout: "5s" },
    },
    exporters: {
      "otlp_grpc/jaeger": {
        endpoint: props.jaegerOtlpEndpoint,
        tls: { insecure: true },
        sending_queue: { enabled: true, num_consumers: 4, queue_size: 5000 },
        retry_on_failure: { enabled: true, initial_interval: "5s", max_interval: "30s", max_elapsed_time: "300s" },
      },
    },
    extensions: HEALTH_CHECK,
    service: {
      extensions: ["health_check"],
      pipelines: { traces: { receivers: ["otlp"], processors: ["memory_limiter", "tail_sampling", "batch"], exporters: ["otlp_grpc/jaeger"] } },
      telemetry: TELEMETRY,
    },
  };
}
