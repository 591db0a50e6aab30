import { Testing } from "cdk8s";
import { DATA_VIEWS_NODE, KibanaTarget, LoggingComponent, LOGGING_NAMESPACE, FLUENT_BIT_NODE } from "../../../components/logging";
import { fluentBitConfigProblems } from "../../../components/logging/fluent-bit-config";
import { logPipeline } from "../../../components/logging/fluent-bit";
import { KibanaDataViewsJob } from "../../../components/logging/data-views-job";
import { formatFinding, runPolicies } from "../../../policies";
import { DEFAULT_RULES } from "../../../policies/rules";
import { dev } from "../../../stacks/environments/dev";
import { prod } from "../../../stacks/environments/prod";
import { Environment } from "../../../stacks/environments/environment";
import { findOne } from "../../support/objects";
import { fakeElasticsearch, synthChart, testPlatform } from "../tracing/support";

function fakeKibana(platform: ReturnType<typeof testPlatform>): KibanaTarget {
  platform.graph.addNode({
    id: "kibana", kind: "component", namespace: "data", serviceAccount: "kibana", selector: { "kibana.k8s.elastic.co/name": "kibana" },
    ports: [{ name: "https", port: 5601, protocol: "tls" }],
  });
  return {
    graphNode: "kibana", namespace: "data", url: "https://kibana-kb-http.data.svc.cluster.local:5601",
    caCertificate: { name: "kibana-kb-http-certs-public", key: "ca.crt" }, username: "elastic", password: { name: "stratum-es-elastic-user", key: "elastic" },
  };
}

function build(env: Environment, withEs = true, withKibana = false) {
  const platform = testPlatform(env);
  const es = withEs ? fakeElasticsearch(platform) : undefined;
  const kibana = withKibana ? fakeKibana(platform) : undefined;
  const logging = platform.add((scope, ctx) => new LoggingComponent(scope, "Logging", ctx, { elasticsearch: es, kibana }));
  platform.addService({ name: "order", image: "ghcr.io/acme/order:1.0.0" });
  const objects = synthChart(platform, logging);
  const namespaces = Testing.synth(platform.namespaces);
  return { platform, logging, objects, namespaces, values: logging.fluentBit?.addon.definition.values as any };
}

describe("LoggingComponent", () => {
  it("installs nothing, and relaxes no namespace, when the platform has no Elasticsearch", () => {
    const { logging, objects, platform } = build(dev, false);
    expect(logging.enabled).toBe(false);
    expect(objects).toEqual([]);
    expect(platform.namespaceNames).not.toContain(LOGGING_NAMESPACE);
    expect(platform.graph.has(FLUENT_BIT_NODE)).toBe(false);
  });

  it("puts Fluent Bit alone in the logging namespace, whose privileged level is explicit and justified, and every other namespace stays restricted", () => {
    const { namespaces } = build(prod);
    const ns = (name: string) => findOne(namespaces, "Namespace", name);
    expect(ns("logging").metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    expect(ns("logging").metadata.annotations?.["stratum.dev/pod-security-exception"]).toMatch(/hostPath \/var\/log, read-only.*baseline forbids any hostPath volume/);
    expect(ns("logging").metadata.labels?.["pod-security.kubernetes.io/warn"]).toBe("restricted");
    expect(ns("apps").metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(findOne(namespaces, "NetworkPolicy", "default-deny", "logging").spec.policyTypes).toEqual(["Ingress", "Egress"]);
  });

  it("pins the chart and the image, and runs the DaemonSet on every node", () => {
    const { logging, values } = build(dev);
    const def = logging.fluentBit!.addon.definition;
    expect([def.chart, def.version, def.namespace, def.release]).toEqual(["fluent-bit", "0.47.0", "logging", "fluent-bit"]);
    expect(values.kind).toBe("DaemonSet");
    expect(values.image).toEqual({ repository: "cr.fluentbit.io/fluent/fluent-bit", tag: "3.1.0", pullPolicy: "IfNotPresent" });
    expect(values.tolerations).toEqual([{ operator: "Exists" }]);
    expect(values.podAnnotations).toEqual({ "sidecar.istio.io/inject": "false" });
    expect(values.resources).toEqual(dev.sizing.logging.fluentBit);
    expect(values.testFramework).toEqual({ enabled: false });
  });

  it("mounts only /var/log (read-only) and its own state directory from the node, and hardens the container", () => {
    const { values } = build(prod);
    expect(values.daemonSetVolumes).toEqual([
      { name: "varlog", hostPath: { path: "/var/log", type: "Directory" } },
      { name: "state", hostPath: { path: "/var/lib/fluent-bit", type: "DirectoryOrCreate" } },
    ]);
    expect(values.daemonSetVolumeMounts).toEqual([
      { name: "varlog", mountPath: "/var/log", readOnly: true },
      { name: "state", mountPath: "/var/lib/fluent-bit", readOnly: false },
    ]);
    expect(values.securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } });
    expect(values.podSecurityContext).toEqual({ seccompProfile: { type: "RuntimeDefault" } });
  });

  it("gives Fluent Bit its Elasticsearch credentials and CA only by Secret reference", () => {
    const { platform, values } = build(prod);
    expect(values.env).toEqual([
      { name: "ES_USER", valueFrom: { secretKeyRef: { name: "fluent-bit-es-credentials", key: "username" } } },
      { name: "ES_PASSWORD", valueFrom: { secretKeyRef: { name: "fluent-bit-es-credentials", key: "password" } } },
    ]);
    expect(values.extraVolumes).toEqual([{ name: "es-ca", secret: { secretName: "elasticsearch-ca", items: [{ key: "ca.crt", path: "ca.crt" }] } }]);
    expect(values.extraVolumeMounts).toEqual([{ name: "es-ca", mountPath: "/fluent-bit/tls", readOnly: true }]);
    expect(platform.secrets.all.filter((s) => s.namespace === "logging").map((s) => s.name)).toEqual(["elasticsearch-ca", "fluent-bit-es-credentials"]);
  });

  it("tails container logs with the CRI parser, adds Kubernetes metadata, lifts JSON logs, and ships over verified TLS to one index per day", () => {
    const { values } = build(prod);
    expect(values.config.inputs).toMatch(/\n    multiline.parser +cri, docker\n/);
    expect(values.config.inputs).toMatch(/\n    DB +\/var\/lib\/fluent-bit\/tail-containers\.db\n/);
    expect(values.config.inputs).toMatch(/Exclude_Path +\/var\/log\/containers\/fluent-bit-\*_logging_\*\.log/);
    expect(values.config.filters).toMatch(/\[FILTER\]\n    Name +kubernetes\n    Match +kube\.\*/);
    expect(values.config.filters).toMatch(/Merge_Log +On\n    Merge_Log_Key +app\n    Keep_Log +Off/);
    expect(values.config.filters).toMatch(/Add +environment prod/);
    const out = values.config.outputs as string;
    for (const line of [
      /Name +es\n/,
      /Host +stratum-es-http\.data\.svc\.cluster\.local\n/,
      /Port +9200\n/,
      /HTTP_User +\$\{ES_USER\}\n/,
      /HTTP_Passwd +\$\{ES_PASSWORD\}\n/,
      /tls +On\n/,
      /tls\.verify +On\n/,
      /tls\.ca_file +\/fluent-bit\/tls\/ca\.crt\n/,
      /Logstash_Format +On\n/,
      /Logstash_Prefix +logs-k8s\n/,
      /Logstash_DateFormat +%Y\.%m\.%d\n/,
      /Suppress_Type_Name +On\n/,
    ]) expect(out).toMatch(line);
    expect(values.config.service).toMatch(/Parsers_File +\/fluent-bit\/etc\/conf\/custom_parsers\.conf/);
    // its own metrics at /metrics, where the metrics component scrapes
    expect(values.config.inputs).toMatch(/Name +fluentbit_metrics\n    Alias +self-metrics\n    Tag +internal_metrics/);
    expect(out).toMatch(/Name +prometheus_exporter\n    Alias +metrics\n    Match +internal_metrics\n    Host +0\.0\.0\.0\n    Port +2021\n/);
  });

  it("emits a pipeline in which every filter and output is reached and every parser exists", () => {
    expect(fluentBitConfigProblems(logPipeline({ host: "es", port: 9200, indexPrefix: "logs-k8s", environment: "dev", namespace: "logging" }))).toEqual([]);
  });

  it("declares its traffic: Fluent Bit to Elasticsearch and to the API server, Prometheus may scrape its metrics port", () => {
    const { platform, objects } = build(dev);
    expect(platform.graph.outgoing(FLUENT_BIT_NODE).map((e) => e.to)).toEqual(["elasticsearch", "kube-apiserver"]);
    expect(platform.graph.node(FLUENT_BIT_NODE).ports).toEqual([{ name: "http-metrics", port: 2021, protocol: "http", metrics: true }]);
    const policy = findOne(objects, "NetworkPolicy", "allow-fluent-bit", "logging");
    expect(policy.spec.egress).toHaveLength(2);
  });

  it("creates Kibana's log data view with an idempotent, hardened Job next to Kibana, its password by reference", () => {
    const { platform, objects, logging } = build(prod, true, true);
    const job = objects.find((o) => o.kind === "Job");
    expect(job.metadata.name).toBe(`kibana-data-views-${logging.dataViews!.hash}`);
    expect(job.metadata.namespace).toBe("data");
    const pod = job.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(job.spec.template.metadata.annotations).toEqual({ "sidecar.istio.io/inject": "false" });
    const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.KIBANA_URL).toBe("https://kibana-kb-http.data.svc.cluster.local:5601");
    expect(env.KIBANA_PASSWORD).toEqual({ secretKeyRef: { name: "stratum-es-elastic-user", key: "elastic" } });
    const config = JSON.parse(findOne(objects, "ConfigMap", job.metadata.name, "data").data["config.json"]);
    expect(config.dataViews).toEqual([{ id: "logs-k8s", title: "logs-k8s-*", name: "Kubernetes logs (prod)", timeFieldName: "@timestamp" }]);
    expect(platform.graph.outgoing(DATA_VIEWS_NODE).map((e) => e.to)).toEqual(["kibana"]);
    expect(findOne(objects, "NetworkPolicy", "allow-kibana-data-views", "data").spec.egress).toHaveLength(1);
  });

  it("refuses a default data view that is not among those it creates", () => {
    const platform = testPlatform(dev);
    expect(() => new KibanaDataViewsJob(platform, "Views", {
      kibana: { graphNode: "kibana", namespace: "data", url: "https://kibana:5601", caCertificate: { name: "ca", key: "ca.crt" }, username: "elastic", password: { name: "p", key: "k" } },
      config: { dataViews: [{ id: "a", title: "a-*", name: "A", timeFieldName: "@timestamp" }], defaultId: "b", deadlineSeconds: 60, maxBackoffMs: 1000 },
    })).toThrow("dev/Views: config.defaultId 'b' is not one of the data views (a)");
  });

  it("passes every policy rule", () => {
    const { objects, namespaces } = build(prod, true, true);
    expect(runPolicies([...objects, ...namespaces], DEFAULT_RULES).errors.map(formatFinding)).toEqual([]);
  });
});
