import { Construct } from "constructs";
import { HardenedWorkload } from "../../constructs/hardened-workload";
import type { SecretKeyRef } from "../../constructs/secret-ref";
import { GraphNodeProps } from "../../constructs/service-graph";
import type { SpreadMode } from "../../stacks/environments/environment";

/** prometheus-community elasticsearch_exporter, which the Elasticsearch alerts and dashboard read. */
export const ELASTICSEARCH_EXPORTER_IMAGE = "quay.io/prometheuscommunity/elasticsearch-exporter:v1.8.0";

/** Props of the Elasticsearch exporter. */
export interface ElasticsearchExporterProps {
  /** Namespace (the metrics namespace). */
  readonly namespace: string;
  /** `https://host:port` of the cluster. */
  readonly url: string;
  /** User and password (a user with the `monitor` cluster privilege), by reference. */
  readonly username: SecretKeyRef;
  readonly password: SecretKeyRef;
  /** The cluster's HTTP CA certificate, by reference. */
  readonly ca: SecretKeyRef;
  /** Spread of its pod. */
  readonly spread: { readonly node: SpreadMode; readonly zone: SpreadMode };
}

const CA_DIR = "/etc/elasticsearch-ca";

/**
 * Exports Elasticsearch cluster health, node, JVM, filesystem and index statistics as Prometheus metrics: one hardened
 * pod that reads the cluster over TLS (verifying its CA) with a client user by reference. Its metrics port makes it
 * a scraped graph node like any other.
 */
export class ElasticsearchExporter extends Construct {
  /** The workload. */
  readonly workload: HardenedWorkload;

  constructor(scope: Construct, id: string, props: ElasticsearchExporterProps) {
    super(scope, id);
    if (!/^https:\/\/[^\s/]+$/.test(props.url)) throw new Error(`${this.node.path}: url must be https://host:port (got ${JSON.stringify(props.url)})`);
    this.workload = new HardenedWorkload(this, "Workload", {
      name: "elasticsearch-exporter",
      namespace: props.namespace,
      component: "metrics-exporter",
      image: ELASTICSEARCH_EXPORTER_IMAGE,
      replicas: 1,
      resources: { requests: { cpu: "20m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
      spread: props.spread,
      ports: [{ name: "http-metrics", port: 9114, protocol: "http", metrics: true }],
      args: [`--es.uri=${props.url}`, `--es.ca=${CA_DIR}/${props.ca.key}`, "--es.indices", "--es.timeout=10s", "--web.listen-address=:9114"],
      // the exporter reads its credentials from these variables, so they never appear in arguments
      env: { ES_USERNAME: { secret: props.username.name, key: props.username.key }, ES_PASSWORD: { secret: props.password.name, key: props.password.key } },
      volumes: [{ name: "elasticsearch-ca", mountPath: CA_DIR, secret: props.ca.name }],
      // a TCP check either way; liveness at half the rate, so a stall takes the pod out of the endpoints before it
      // restarts it
      readiness: { port: "http-metrics" },
      liveness: { port: "http-metrics", periodSeconds: 20 },
    });
  }

  /** Its graph node. */
  graphNode(id: string, scope: Construct): GraphNodeProps {
    return this.workload.graphNode(id, "component", scope);
  }
}
