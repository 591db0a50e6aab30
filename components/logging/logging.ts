import { Construct } from "constructs";
import { PodSecurityException } from "../../constructs/namespace";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { ElasticsearchComponent } from "../elasticsearch";
import { ElasticsearchTarget, retentionDays } from "../tracing/elasticsearch-target";
import { KibanaDataViewsJob, KibanaTarget } from "./data-views-job";
import { FLUENT_BIT_METRICS_PORT, FluentBit, logPipeline } from "./fluent-bit";
import { kibanaTargetOf } from "./kibana-target";
import { chartPods } from "../../constructs/chart-pods";

/** Namespace of the log shippers: the only one with a relaxed Pod Security level. */
export const LOGGING_NAMESPACE = "logging";
/** Graph id of the Fluent Bit DaemonSet. */
export const FLUENT_BIT_NODE = "fluent-bit";
/** Prefix of the daily log indices (`logs-k8s-YYYY.MM.DD`). */
export const LOG_INDEX_PREFIX = "logs-k8s";
/** Graph id of the Job that creates Kibana's data view. */
export const DATA_VIEWS_NODE = "kibana-data-views";
const KUBE_APISERVER_NODE = "kube-apiserver";

/**
 * Why the logging namespace enforces `privileged`: Pod Security `baseline` already forbids every hostPath volume,
 * and a node's container logs can only be read from the node.
 */
export const LOGGING_POD_SECURITY_EXCEPTION: PodSecurityException = {
  level: "privileged",
  reason:
    "Fluent Bit reads every container's log files on its node (hostPath /var/log, read-only) and keeps its read positions and buffer there (hostPath /var/lib/fluent-bit); Pod Security baseline forbids any hostPath volume, so only privileged admits it. The container still drops all capabilities, cannot escalate privileges and has a read-only root filesystem; nothing else runs in this namespace.",
};

/** Props of the logging component. */
export interface LoggingComponentProps {
  /** The platform's Elasticsearch. @default the Elasticsearch component's target, if the platform has one; else none */
  readonly elasticsearch?: ElasticsearchTarget;
  /** Kibana, to create the log data view in. @default the Elasticsearch component's Kibana, if any; else no Job */
  readonly kibana?: KibanaTarget;
}

/**
 * Logging: Fluent Bit on every node ships container logs, with Kubernetes metadata and JSON fields lifted, to
 * Elasticsearch over verified TLS, one index per day under the ILM policy of the Elasticsearch component. It lives
 * alone in the `logging` namespace, whose Pod Security exception is typed and explains itself; every other namespace
 * stays `restricted`. An idempotent Job creates Kibana's data view for the log indices. Without an Elasticsearch
 * component nothing is installed (`enabled` is false).
 */
export class LoggingComponent extends PlatformComponent {
  /** True when logs are shipped (the platform has an Elasticsearch). */
  readonly enabled: boolean;
  /** Namespace, when enabled (`namespace` is the chart's own, left unset). */
  readonly namespaceName?: string;
  /** Fluent Bit, when enabled. */
  readonly fluentBit?: FluentBit;
  /** Index pattern of the log indices (what Kibana's data view and the ILM template match). */
  readonly indexPattern = `${LOG_INDEX_PREFIX}-*`;
  /** Days log indices are kept (the environment's `sizing.logging.retention`). */
  readonly retentionDays: number;
  /** The Job that creates Kibana's data view, when Kibana is given. */
  readonly dataViews?: KibanaDataViewsJob;

  constructor(scope: Construct, id: string, context: PlatformContext, props: LoggingComponentProps = {}) {
    super(scope, id, context, { name: "logging", syncWave: SyncWave.WORKLOADS });
    const env = context.environment;
    this.retentionDays = retentionDays(env.sizing.logging.retention, `${this.node.path}: sizing.logging`);
    const esComponent = context.find(ElasticsearchComponent);
    const es = props.elasticsearch ?? esComponent?.target;
    const kibana = props.kibana ?? (esComponent ? kibanaTargetOf(esComponent) : undefined);
    this.enabled = es !== undefined;
    if (!es) return;

    const ns = context.ensureNamespace({ name: LOGGING_NAMESPACE, component: "logging", podSecurityException: LOGGING_POD_SECURITY_EXCEPTION });
    this.namespaceName = ns;
    const credentials = es.credentials({ namespace: ns, name: "fluent-bit-es-credentials" });
    this.fluentBit = new FluentBit(this, "FluentBit", {
      namespace: ns,
      project: context.gitopsProject,
      syncWave: SyncWave.OPERATORS,
      pipeline: logPipeline({ host: es.host, port: es.port, indexPrefix: LOG_INDEX_PREFIX, environment: env.name, namespace: ns }),
      credentials,
      caCertificate: es.caCertificate(ns),
      resources: env.sizing.logging.fluentBit,
    });

    const graph = context.graph;
    graph.addNode(chartPods({
      id: FLUENT_BIT_NODE, namespace: ns, name: "fluent-bit", instance: "fluent-bit", serviceAccount: "fluent-bit",
      ports: [{ name: "http-metrics", port: FLUENT_BIT_METRICS_PORT, protocol: "http", metrics: true }],
      scope: this,
    }));
    graph.connect(FLUENT_BIT_NODE, es.graphNode);
    if (kibana) {
      this.dataViews = new KibanaDataViewsJob(this, "DataViews", {
        kibana,
        config: {
          dataViews: [{ id: LOG_INDEX_PREFIX, title: this.indexPattern, name: `Kubernetes logs (${env.name})`, timeFieldName: "@timestamp" }],
          defaultId: LOG_INDEX_PREFIX,
          deadlineSeconds: 900,
          maxBackoffMs: 30000,
        },
      });
      graph.addNode({
        id: DATA_VIEWS_NODE,
        kind: "component",
        namespace: kibana.namespace,
        serviceAccount: this.dataViews.name,
        selector: this.dataViews.selector,
        ports: [],
        scope: this,
      });
      graph.connect(DATA_VIEWS_NODE, kibana.graphNode);
    }
    // The kubernetes filter reads pod metadata from the API server.
    context.onFinalize(() => {
      if (graph.has(KUBE_APISERVER_NODE) && !graph.outgoing(FLUENT_BIT_NODE).some((e) => e.to === KUBE_APISERVER_NODE)) graph.connect(FLUENT_BIT_NODE, KUBE_APISERVER_NODE);
    });
  }
}
