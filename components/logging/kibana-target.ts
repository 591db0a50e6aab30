import type { ElasticsearchComponent } from "../elasticsearch";
import { KibanaTarget } from "./data-views-job";

/**
 * Kibana as the Elasticsearch component runs it (ECK): HTTPS on 5601 with ECK's self-signed certificate, whose CA is
 * in `<kibana>-kb-http-certs-public`, and the `elastic` user (the only one with Kibana privileges at bootstrap).
 */
export function kibanaTargetOf(es: ElasticsearchComponent, kibanaNode = "kibana"): KibanaTarget | undefined {
  const graph = es.context.graph;
  if (!graph.has(kibanaNode)) return undefined;
  const node = graph.node(kibanaNode);
  const port = node.ports.find((p) => !p.metrics)?.port ?? 5601;
  if (!node.namespace || !node.host) return undefined;
  const kibanaName = node.host.split(".")[0].replace(/-kb-http$/, "");
  return {
    graphNode: kibanaNode,
    namespace: node.namespace,
    url: `https://${node.host}:${port}`,
    caCertificate: { name: `${kibanaName}-kb-http-certs-public`, key: "ca.crt" },
    username: "elastic",
    password: es.endpoint.adminSecret,
  };
}
