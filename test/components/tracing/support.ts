import { App, Testing } from "cdk8s";
import { ElasticsearchTarget } from "../../../components/tracing/elasticsearch-target";
import { Environment } from "../../../stacks/environments/environment";
import { Platform } from "../../../stacks/platform";

/** A platform of one environment, outside the full stack, for component tests. */
export function testPlatform(environment: Environment): Platform {
  const app = new App({ outdir: "unused", recordConstructMetadata: false });
  return new Platform(app, environment.name, { environment });
}

/**
 * A stand-in for the Elasticsearch component: an `elasticsearch` graph node and a target that declares the client's
 * Secrets through the platform's secret registry, as the real one does.
 */
export function fakeElasticsearch(platform: Platform): ElasticsearchTarget {
  platform.graph.addNode({
    id: "elasticsearch",
    kind: "component",
    namespace: "data",
    serviceAccount: "elasticsearch",
    selector: { "elasticsearch.k8s.elastic.co/cluster-name": "stratum" },
    ports: [{ name: "https", port: 9200, protocol: "tls" }],
    host: "stratum-es-http.data.svc.cluster.local",
  });
  return {
    graphNode: "elasticsearch",
    host: "stratum-es-http.data.svc.cluster.local",
    port: 9200,
    logsIlmPolicy: "stratum-logs",
    credentials: ({ namespace, name, keys }) => {
      const k = keys ?? { username: "username", password: "password" };
      const refs = platform.secrets.require({ namespace, name, keys: [k.username, k.password], remoteKey: `stratum/test/elasticsearch/${name}`, description: "test credentials" });
      return { secretName: name, username: refs[k.username], password: refs[k.password] };
    },
    caCertificate: (namespace) => platform.secrets.require({ namespace, name: "elasticsearch-ca", keys: ["ca.crt"], remoteKey: "stratum/test/elasticsearch/ca", description: "test CA" })["ca.crt"],
  };
}

/** Every object of a chart, synthesized after the platform is finalized. */
export function synthChart(platform: Platform, chart: Parameters<typeof Testing.synth>[0]): any[] {
  platform.finalize();
  return Testing.synth(chart);
}
