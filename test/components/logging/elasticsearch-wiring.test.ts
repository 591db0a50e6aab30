import { Testing } from "cdk8s";
import { ElasticsearchComponent } from "../../../components/elasticsearch";
import { LoggingComponent } from "../../../components/logging";
import { TracingComponent } from "../../../components/tracing";
import { prod } from "../../../stacks/environments/prod";
import { findOne } from "../../support/objects";
import { testPlatform } from "../tracing/support";

describe("tracing and logging with the platform's Elasticsearch component", () => {
  const platform = testPlatform(prod);
  const es = platform.add((scope, ctx) => new ElasticsearchComponent(scope, "Elasticsearch", ctx));
  const tracing = platform.add((scope, ctx) => new TracingComponent(scope, "Tracing", ctx));
  const logging = platform.add((scope, ctx) => new LoggingComponent(scope, "Logging", ctx));
  platform.finalize();
  const tracingObjects = Testing.synth(tracing);
  const loggingObjects = Testing.synth(logging);
  const esNs = es.resource.metadata.namespace as string;

  it("finds it without being told, and stores spans there over TLS", () => {
    expect(tracing.storage).toBe("elasticsearch");
    const jaeger = findOne(tracingObjects, "Jaeger", "jaeger", "observability");
    expect(jaeger.spec.storage.options["es.server-urls"]).toBe(`https://${es.endpoint.host}:9200`);
    expect(jaeger.spec.volumes[0].secret.secretName).toBe("elasticsearch-ca");
    expect(platform.graph.incoming("elasticsearch").map((e) => e.from)).toEqual(expect.arrayContaining(["jaeger", "jaeger-collector", "jaeger-index-cleaner", "fluent-bit"]));
  });

  it("ships logs there, with a user the bootstrap creates for each client", () => {
    expect(logging.enabled).toBe(true);
    const users = es.resources.filter((r) => r.kind === "user").map((r) => r.name);
    expect(users).toEqual(["fluent-bit-es-credentials", "jaeger-es-credentials"]);
    expect(platform.secrets.all.filter((s) => ["observability", "logging"].includes(s.namespace)).map((s) => `${s.namespace}/${s.name}`)).toEqual([
      "logging/elasticsearch-ca", "logging/fluent-bit-es-credentials", "observability/elasticsearch-ca", "observability/jaeger-es-credentials",
    ]);
    expect(platform.graph.outgoing("fluent-bit").map((e) => e.to)).toEqual(["elasticsearch", "kube-apiserver"]);
  });

  it("writes log indices that the component's lifecycle covers", () => {
    const logs = es.families.find((f) => f.name === "logs");
    expect(logs?.indexPatterns).toContain(logging.indexPattern);
    expect(es.target.logsIlmPolicy).toBeTruthy();
  });

  it("creates the data view in Kibana's namespace, trusting ECK's Kibana CA", () => {
    const job = loggingObjects.find((o) => o.kind === "Job");
    expect(job.metadata.namespace).toBe(esNs);
    const vol = job.spec.template.spec.volumes.find((v: any) => v.name === "ca");
    expect(vol.secret.secretName).toBe("kibana-kb-http-certs-public");
    const env = Object.fromEntries(job.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.KIBANA_URL).toBe(`https://kibana-kb-http.${esNs}.svc.cluster.local:5601`);
    expect(env.KIBANA_PASSWORD).toEqual({ secretKeyRef: { name: es.endpoint.adminSecret.name, key: es.endpoint.adminSecret.key } });
    expect(platform.graph.outgoing("kibana-data-views").map((e) => e.to)).toEqual(["kibana"]);
  });
});
