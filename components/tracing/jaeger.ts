import { Construct } from "constructs";
import * as j from "../../constructs/imports/jaeger-jaegertracing.io";
import { recommendedLabels } from "../../constructs/labels";
import { GraphNodeProps, ServicePort } from "../../constructs/service-graph";
import type { WorkloadSizing } from "../../stacks/environments/environment";
import { ElasticsearchTarget, elasticsearchUrl } from "./elasticsearch-target";

/** The user Jaeger's images run as. */
export const JAEGER_UID = 10001;
/** Where the Elasticsearch CA certificate is mounted in Jaeger's pods. */
export const JAEGER_ES_CA_DIR = "/es-tls";

/** Where Jaeger keeps spans. */
export type JaegerStorage =
  | { readonly type: "memory"; /** Traces kept before the oldest are dropped. @default 100000 */ readonly maxTraces?: number }
  | {
      readonly type: "elasticsearch";
      /** The cluster. */
      readonly target: ElasticsearchTarget;
      /** Days of span indices kept; older ones are deleted nightly by the index cleaner. */
      readonly retentionDays: number;
    };

/** Props of the Jaeger instance. */
export interface JaegerInstanceProps {
  /** Name of the Jaeger custom resource; Services are `<name>-collector` and `<name>-query`. @default "jaeger" */
  readonly name?: string;
  /** Namespace (the operator watches it). */
  readonly namespace: string;
  /** Storage. `memory` runs one all-in-one pod; `elasticsearch` runs separate collector and query Deployments. */
  readonly storage: JaegerStorage;
  /** Replicas and resources of the collector and the query service (one replica for in-memory storage). */
  readonly sizing: WorkloadSizing;
}

/** Jaeger's OTLP/gRPC port (collector, or all-in-one). */
export const JAEGER_OTLP_PORT: ServicePort = { name: "grpc-otlp", port: 4317, protocol: "grpc" };
/** Jaeger's query API and UI. */
export const JAEGER_QUERY_PORTS: ReadonlyArray<ServicePort> = [
  { name: "http-query", port: 16686, protocol: "http" },
  { name: "grpc-query", port: 16685, protocol: "grpc" },
];

/**
 * A `Jaeger` custom resource (jaeger-operator): in-memory all-in-one, or the production strategy on Elasticsearch
 * over TLS with credentials by Secret reference and a nightly index cleaner. Every pod the operator creates gets
 * Pod Security "restricted" settings through the common security contexts.
 */
export class JaegerInstance extends Construct {
  /** Name of the custom resource. */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /** OTLP gRPC endpoint (`host:port`) that collectors export to. */
  readonly otlpEndpoint: string;
  /** Base URL of the query API and UI (the Grafana datasource). */
  readonly queryUrl: string;
  /** Labels that select every pod of this instance (collector, query, all-in-one, index cleaner). */
  readonly selector: Record<string, string>;
  /** `allInOne` (in memory) or `production` (Elasticsearch). */
  readonly strategy: "allInOne" | "production";
  /** The custom resource. */
  readonly resource: j.Jaeger;

  constructor(scope: Construct, id: string, props: JaegerInstanceProps) {
    super(scope, id);
    const name = props.name ?? "jaeger";
    const problems: string[] = [];
    if (!Number.isInteger(props.sizing.replicas) || props.sizing.replicas < 1) problems.push(`sizing.replicas must be an integer >= 1 (got ${props.sizing.replicas})`);
    if (props.storage.type === "elasticsearch" && (!Number.isInteger(props.storage.retentionDays) || props.storage.retentionDays < 1)) {
      problems.push(`storage.retentionDays must be an integer >= 1 (got ${props.storage.retentionDays})`);
    }
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);

    this.name = name;
    this.namespace = props.namespace;
    this.otlpEndpoint = `${name}-collector.${props.namespace}.svc.cluster.local:4317`;
    this.queryUrl = `http://${name}-query.${props.namespace}.svc.cluster.local:16686`;
    this.selector = { "app.kubernetes.io/instance": name, "app.kubernetes.io/part-of": "jaeger" };
    this.strategy = props.storage.type === "memory" ? "allInOne" : "production";

    const r = props.sizing.resources;
    const resources = {
      requests: { cpu: j.JaegerSpecResourcesRequests.fromString(r.requests.cpu), memory: j.JaegerSpecResourcesRequests.fromString(r.requests.memory) },
      limits: { cpu: j.JaegerSpecResourcesLimits.fromString(r.limits.cpu), memory: j.JaegerSpecResourcesLimits.fromString(r.limits.memory) },
    };
    const affinity = this.antiAffinity();
    const common = {
      securityContext: { runAsNonRoot: true, runAsUser: JAEGER_UID, runAsGroup: JAEGER_UID, fsGroup: JAEGER_UID, seccompProfile: { type: "RuntimeDefault" } },
      containerSecurityContext: {
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      },
      resources,
      labels: { "app.kubernetes.io/part-of": "jaeger" },
    };
    const metadata = { name, namespace: props.namespace, labels: recommendedLabels({ name, component: "tracing" }) };

    if (props.storage.type === "memory") {
      this.resource = new j.Jaeger(this, "Resource", {
        metadata,
        spec: {
          strategy: "allInOne",
          ...common,
          allInOne: { options: { "memory.max-traces": String(props.storage.maxTraces ?? 100000) } },
          storage: { type: "memory" },
          ingress: { enabled: false },
        },
      });
      return;
    }

    const es = props.storage.target;
    const creds = es.credentials({ namespace: props.namespace, name: `${name}-es-credentials`, keys: { username: "ES_USERNAME", password: "ES_PASSWORD" } });
    const ca = es.caCertificate(props.namespace);
    this.resource = new j.Jaeger(this, "Resource", {
      metadata,
      spec: {
        strategy: "production",
        ...common,
        affinity,
        volumes: [{ name: "es-ca", secret: { secretName: ca.name, items: [{ key: ca.key, path: "ca.crt" }] } }],
        volumeMounts: [{ name: "es-ca", mountPath: JAEGER_ES_CA_DIR, readOnly: true }],
        collector: { replicas: props.sizing.replicas, autoscale: false },
        query: { replicas: props.sizing.replicas },
        storage: {
          type: "elasticsearch",
          secretName: creds.secretName,
          options: {
            "es.server-urls": elasticsearchUrl(es),
            "es.tls.enabled": "true",
            "es.tls.ca": `${JAEGER_ES_CA_DIR}/ca.crt`,
          },
          esIndexCleaner: { enabled: true, numberOfDays: props.storage.retentionDays, schedule: "55 23 * * *", successfulJobsHistoryLimit: 1, backoffLimit: 2 },
          dependencies: { enabled: false },
        },
        ingress: { enabled: false },
      },
    });
  }

  /**
   * The graph node of the query API and UI (the all-in-one pod in memory mode). Its metrics are on the admin port:
   * 16687 for a query Deployment, 14269 for all-in-one.
   */
  queryNode(id: string, scope: Construct): GraphNodeProps {
    const allInOne = this.strategy === "allInOne";
    return {
      id,
      kind: "component",
      namespace: this.namespace,
      serviceAccount: this.name,
      selector: { ...this.selector, "app.kubernetes.io/component": allInOne ? "all-in-one" : "query" },
      ports: [...JAEGER_QUERY_PORTS, { name: "http-admin", port: allInOne ? 14269 : 16687, protocol: "http", metrics: true }],
      host: `${this.name}-query.${this.namespace}.svc.cluster.local`,
      scope,
    };
  }

  /** The graph node of the collector that receives OTLP (in memory mode the same pod as the query node, scraped once there). */
  collectorNode(id: string, scope: Construct): GraphNodeProps {
    const allInOne = this.strategy === "allInOne";
    return {
      id,
      kind: "component",
      namespace: this.namespace,
      serviceAccount: this.name,
      selector: { ...this.selector, "app.kubernetes.io/component": allInOne ? "all-in-one" : "collector" },
      ports: allInOne ? [JAEGER_OTLP_PORT] : [JAEGER_OTLP_PORT, { name: "http-admin", port: 14269, protocol: "http", metrics: true }],
      host: `${this.name}-collector.${this.namespace}.svc.cluster.local`,
      scope,
    };
  }

  /** The graph node of the nightly index cleaner's pods (Elasticsearch storage only). */
  indexCleanerNode(id: string, scope: Construct): GraphNodeProps | undefined {
    if (this.strategy === "allInOne") return undefined;
    return {
      id,
      kind: "component",
      namespace: this.namespace,
      serviceAccount: this.name,
      selector: { ...this.selector, "app.kubernetes.io/component": "cronjob-es-index-cleaner" },
      ports: [],
      scope,
    };
  }

  /**
   * Preferred (never required) anti-affinity: the selector spans collector and query pods alike, so a hard rule would
   * keep a collector and a query pod off the same node for no reason.
   */
  private antiAffinity(): j.JaegerSpecAffinity {
    const preferred = (topologyKey: string) => ({ weight: 100, podAffinityTerm: { topologyKey, labelSelector: { matchLabels: this.selector } } });
    return { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [preferred("kubernetes.io/hostname"), preferred("topology.kubernetes.io/zone")] } };
  }
}
