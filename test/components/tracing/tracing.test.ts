import { TracingComponent, OTEL_COLLECTOR_NODE, JAEGER_NODE, JAEGER_COLLECTOR_NODE } from "../../../components/tracing";
import { collectorConfigProblems } from "../../../components/tracing/collector-config";
import { dev } from "../../../stacks/environments/dev";
import { prod } from "../../../stacks/environments/prod";
import { staging } from "../../../stacks/environments/staging";
import { Environment } from "../../../stacks/environments/environment";
import { findOne } from "../../support/objects";
import { fakeElasticsearch, synthChart, testPlatform } from "./support";

function build(env: Environment, options: { es?: boolean; services?: string[] } = {}) {
  const platform = testPlatform(env);
  const es = options.es ? fakeElasticsearch(platform) : undefined;
  const tracing = platform.add((scope, ctx) => new TracingComponent(scope, "Tracing", ctx, { elasticsearch: es }));
  for (const name of options.services ?? []) platform.addService({ name, image: `ghcr.io/acme/${name}:1.0.0` });
  const objects = synthChart(platform, tracing);
  return { platform, tracing, objects };
}

const collectorCr = (objects: any[], name: string) => findOne(objects, "OpenTelemetryCollector", name, "observability");

describe("TracingComponent", () => {
  it("names the gateway so that its Service is otel-collector.observability, the address the mesh sends spans to", () => {
    const { platform, tracing, objects } = build(dev);
    expect(collectorCr(objects, "otel").apiVersion).toBe("opentelemetry.io/v1beta1");
    expect(tracing.endpoint).toEqual({ host: "otel-collector.observability.svc.cluster.local", grpcPort: 4317, httpPort: 4318, otlpGrpcUrl: "http://otel-collector.observability.svc.cluster.local:4317" });
    const node = platform.graph.node(OTEL_COLLECTOR_NODE);
    expect(node.host).toBe("otel-collector.observability.svc.cluster.local");
    expect(node.ports.map((p) => [p.name, p.port])).toEqual([["grpc-otlp", 4317], ["http-otlp", 4318], ["http-metrics", 8888]]);
    expect(node.selector).toEqual({
      "app.kubernetes.io/managed-by": "opentelemetry-operator",
      "app.kubernetes.io/instance": "observability.otel",
      "app.kubernetes.io/part-of": "opentelemetry",
      "app.kubernetes.io/component": "opentelemetry-collector",
    });
  });

  it.each([
    [dev, 100, 500],
    [staging, 25, 1000],
    [prod, 10, 1000],
  ])("samples the tier's percentage and always keeps errors and slow traces (%#)", (env, percentage, slowMs) => {
    const { objects } = build(env);
    const ts = collectorCr(objects, "otel-sampler").spec.config.processors.tail_sampling;
    expect(ts.policies).toEqual([
      { name: "keep-errors", type: "status_code", status_code: { status_codes: ["ERROR"] } },
      { name: "keep-slow", type: "latency", latency: { threshold_ms: slowMs } },
      { name: "keep-percentage", type: "probabilistic", probabilistic: { sampling_percentage: percentage } },
    ]);
    expect(ts.decision_wait).toBe("10s");
  });

  it("sizes both collector layers from the environment", () => {
    const { objects } = build(prod);
    expect(collectorCr(objects, "otel").spec.replicas).toBe(prod.sizing.tracing.collector.replicas);
    expect(collectorCr(objects, "otel-sampler").spec.replicas).toBe(prod.sizing.tracing.sampler.replicas);
    expect(collectorCr(objects, "otel-sampler").spec.resources).toEqual(prod.sizing.tracing.sampler.resources);
    expect(collectorCr(objects, "otel-sampler").spec.env).toEqual([{ name: "GOMEMLIMIT", value: "819MiB" }]);
    expect(collectorCr(objects, "otel").spec.env).toEqual([{ name: "GOMEMLIMIT", value: "409MiB" }]);
    const when = (m: string) => (m === "hard" ? "DoNotSchedule" : "ScheduleAnyway");
    expect(collectorCr(objects, "otel").spec.topologySpreadConstraints.map((c: any) => [c.topologyKey, c.whenUnsatisfiable])).toEqual([
      ["topology.kubernetes.io/zone", when(prod.ha.zoneSpread)],
      ["kubernetes.io/hostname", when(prod.ha.nodeSpread)],
    ]);
  });

  it("routes each trace by id to one sampler through the samplers' headless Service, and the samplers export OTLP to Jaeger", () => {
    const { objects } = build(dev);
    const gateway = collectorCr(objects, "otel").spec.config;
    expect(gateway.service.pipelines.traces).toEqual({ receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["loadbalancing"] });
    expect(gateway.exporters.loadbalancing.routing_key).toBe("traceID");
    expect(gateway.exporters.loadbalancing.resolver.dns).toEqual({ hostname: "otel-sampler-collector-headless.observability.svc.cluster.local", port: 4317 });
    expect(Object.keys(gateway.receivers.otlp.protocols)).toEqual(["grpc", "http"]);
    const sampler = collectorCr(objects, "otel-sampler").spec.config;
    expect(sampler.service.pipelines.traces).toEqual({ receivers: ["otlp"], processors: ["memory_limiter", "tail_sampling", "batch"], exporters: ["otlp_grpc/jaeger"] });
    expect(sampler.exporters["otlp_grpc/jaeger"].endpoint).toBe("jaeger-collector.observability.svc.cluster.local:4317");
    expect(sampler.exporters["otlp_grpc/jaeger"].retry_on_failure.enabled).toBe(true);
  });

  it("emits collector configurations whose pipelines reference only defined components", () => {
    const { objects } = build(prod, { es: true });
    for (const name of ["otel", "otel-sampler"]) expect(collectorConfigProblems(collectorCr(objects, name).spec.config)).toEqual([]);
  });

  it("gives the collector pods Pod Security 'restricted' settings and no operator-made NetworkPolicy", () => {
    const { objects } = build(staging);
    for (const name of ["otel", "otel-sampler"]) {
      const spec = collectorCr(objects, name).spec;
      expect(spec.podSecurityContext).toEqual({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } });
      expect(spec.securityContext).toMatchObject({ allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } });
      expect(spec.networkPolicy).toEqual({ enabled: false });
      expect(spec.podDisruptionBudget).toEqual({ maxUnavailable: 1 });
      expect(spec.image).toMatch(/:0\.158\.0$/);
    }
  });

  it("keeps spans in memory in dev with one all-in-one Jaeger", () => {
    const { platform, tracing, objects } = build(dev);
    const jaeger = findOne(objects, "Jaeger", "jaeger", "observability");
    expect(jaeger.spec.strategy).toBe("allInOne");
    expect(jaeger.spec.storage).toEqual({ type: "memory" });
    expect(tracing.storage).toBe("memory");
    expect(platform.graph.outgoing(JAEGER_NODE)).toEqual([]);
    // one all-in-one pod: both graph nodes select it, and only the query node declares its metrics port
    expect(platform.graph.node(JAEGER_NODE).selector).toEqual(platform.graph.node(JAEGER_COLLECTOR_NODE).selector);
    expect(platform.graph.node(JAEGER_NODE).ports.filter((p) => p.metrics).map((p) => p.port)).toEqual([14269]);
    expect(platform.graph.node(JAEGER_COLLECTOR_NODE).ports.map((p) => p.port)).toEqual([4317]);
    expect(platform.graph.has("jaeger-index-cleaner")).toBe(false);
  });

  it("stores spans in Elasticsearch over TLS with credentials and CA by reference when the platform has one", () => {
    const { platform, objects } = build(prod, { es: true });
    const jaeger = findOne(objects, "Jaeger", "jaeger", "observability");
    expect(jaeger.spec.strategy).toBe("production");
    expect(jaeger.spec.collector.replicas).toBe(3);
    expect(jaeger.spec.query.replicas).toBe(3);
    expect(jaeger.spec.storage).toMatchObject({
      type: "elasticsearch",
      secretName: "jaeger-es-credentials",
      options: { "es.server-urls": "https://stratum-es-http.data.svc.cluster.local:9200", "es.tls.enabled": "true", "es.tls.ca": "/es-tls/ca.crt" },
      esIndexCleaner: { enabled: true, numberOfDays: 14 },
      dependencies: { enabled: false },
    });
    expect(jaeger.spec.volumes).toEqual([{ name: "es-ca", secret: { secretName: "elasticsearch-ca", items: [{ key: "ca.crt", path: "ca.crt" }] } }]);
    expect(jaeger.spec.volumeMounts).toEqual([{ name: "es-ca", mountPath: "/es-tls", readOnly: true }]);
    expect(platform.secrets.all.find((s) => s.name === "jaeger-es-credentials")).toMatchObject({ namespace: "observability", keys: ["ES_USERNAME", "ES_PASSWORD"] });
    for (const id of [JAEGER_NODE, JAEGER_COLLECTOR_NODE, "jaeger-index-cleaner"]) expect(platform.graph.outgoing(id).map((e) => e.to)).toEqual(["elasticsearch"]);
    expect(platform.graph.node(JAEGER_COLLECTOR_NODE).selector).toEqual({ "app.kubernetes.io/instance": "jaeger", "app.kubernetes.io/part-of": "jaeger", "app.kubernetes.io/component": "collector" });
    expect(platform.graph.node(JAEGER_NODE).ports.map((p) => [p.name, p.port])).toEqual([["http-query", 16686], ["grpc-query", 16685], ["http-admin", 16687]]);
    expect(platform.graph.node(JAEGER_NODE).host).toBe("jaeger-query.observability.svc.cluster.local");
    expect(JSON.stringify(objects)).not.toMatch(/password"\s*:\s*"[^"]/i);
  });

  it("falls back to memory, visibly, when the environment asks for Elasticsearch and there is none", () => {
    const { tracing, objects } = build(staging);
    const jaeger = findOne(objects, "Jaeger", "jaeger", "observability");
    expect(tracing.storage).toBe("memory");
    expect(jaeger.metadata.annotations?.["stratum.dev/storage-fallback"]).toMatch(/no Elasticsearch component/);
  });

  it("runs every Jaeger pod restricted", () => {
    const { objects } = build(prod, { es: true });
    const spec = findOne(objects, "Jaeger", "jaeger", "observability").spec;
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(spec.containerSecurityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
  });

  it("lets every business service send spans to the collector, and nothing else reaches it", () => {
    const { platform, objects } = build(dev, { services: ["order", "payment"] });
    expect(platform.graph.incoming(OTEL_COLLECTOR_NODE).map((e) => [e.from, e.ports])).toEqual([
      ["order", ["grpc-otlp"]],
      ["payment", ["grpc-otlp"]],
    ]);
    const policy = findOne(objects, "NetworkPolicy", "allow-otel-collector", "observability");
    expect(policy.spec.ingress).toHaveLength(2);
    expect(policy.spec.egress).toEqual([expect.objectContaining({ ports: [{ protocol: "TCP", port: 4317 }] })]);
    expect(platform.graph.incoming("otel-sampler").map((e) => e.from)).toEqual(["otel-collector"]);
    expect(platform.graph.incoming(JAEGER_COLLECTOR_NODE).map((e) => e.from)).toEqual(["otel-sampler"]);
  });

  it("adds no second edge where another component's finalizer (the mesh's) already connected a workload", () => {
    const platform = testPlatform(dev);
    platform.addService({ name: "order", image: "ghcr.io/acme/order:1.0.0" });
    platform.onFinalize(() => platform.graph.connect("order", OTEL_COLLECTOR_NODE, ["grpc-otlp"]));
    platform.add((scope, ctx) => new TracingComponent(scope, "Tracing", ctx));
    platform.finalize();
    expect(platform.graph.incoming(OTEL_COLLECTOR_NODE)).toEqual([{ from: "order", to: OTEL_COLLECTOR_NODE, ports: ["grpc-otlp"] }]);
  });

  it("connects the traced platform components that exist, and only those", () => {
    const platform = testPlatform(dev);
    platform.graph.addNode({ id: "gateway", kind: "component", namespace: "edge", serviceAccount: "gateway", selector: { app: "gateway" }, ports: [{ name: "http", port: 8080, protocol: "http" }] });
    platform.add((scope, ctx) => new TracingComponent(scope, "Tracing", ctx));
    platform.finalize();
    expect(platform.graph.incoming(OTEL_COLLECTOR_NODE).map((e) => e.from)).toEqual(["gateway"]);
  });

  it("offers Node.js auto-instrumentation that exports OTLP/gRPC to the collector and records every span for the tail sampler", () => {
    const { tracing, objects } = build(dev);
    const inst = findOne(objects, "Instrumentation", "nodejs", "observability");
    expect(inst.spec.exporter).toEqual({ endpoint: "http://otel-collector.observability.svc.cluster.local:4317" });
    expect(inst.spec.nodejs.env).toEqual([{ name: "OTEL_EXPORTER_OTLP_PROTOCOL", value: "grpc" }]);
    expect(inst.spec.sampler).toEqual({ type: "parentbased_always_on" });
    expect(inst.spec.propagators).toEqual(["tracecontext", "baggage", "b3multi"]);
    expect(inst.spec.initContainerSecurityContext).toMatchObject({ allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
    expect(inst.spec.resource.resourceAttributes).toEqual({ "deployment.environment": "dev" });
    expect(tracing.instrumentation.injectAnnotationValue).toBe("observability/nodejs");
  });

  it("installs both operators pinned to the versions of the CRDs, before the custom resources", () => {
    const { tracing, objects } = build(dev);
    const [otelOp, jaegerOp] = tracing.addons.map((a) => a.definition);
    expect([otelOp.chart, otelOp.version, otelOp.namespace]).toEqual(["opentelemetry-operator", "0.122.0", "observability"]);
    expect((otelOp.values as any).manager.image.tag).toBe("0.158.0");
    expect((otelOp.values as any).manager.featureGatesMap).toEqual({ "operator.networkpolicy": false });
    expect([jaegerOp.chart, jaegerOp.version]).toEqual(["jaeger-operator", "2.57.0"]);
    expect((jaegerOp.values as any).image.tag).toBe("1.62.0");
    for (const kind of ["OpenTelemetryCollector", "Jaeger", "Instrumentation"]) {
      for (const o of objects.filter((x) => x.kind === kind)) {
        expect(o.metadata.annotations["argocd.argoproj.io/sync-wave"]).toBe("10");
        expect(o.metadata.annotations["argocd.argoproj.io/sync-options"]).toBe("SkipDryRunOnMissingResource=true");
      }
    }
    const apps = objects.filter((o) => o.kind === "Application").map((o) => o.metadata.annotations["argocd.argoproj.io/sync-wave"]);
    expect(apps).toEqual(["0", "0"]);
  });

  it("lets the operators reach the API server and its webhooks be called", () => {
    const platform = testPlatform(dev);
    expect(platform.graph.has("kube-apiserver")).toBe(true);
    platform.add((scope, ctx) => new TracingComponent(scope, "Tracing", ctx));
    platform.finalize();
    expect(platform.graph.outgoing("otel-operator").map((e) => e.to)).toEqual(["kube-apiserver"]);
    expect(platform.graph.incoming("jaeger-operator")).toEqual([{ from: "kube-apiserver", to: "jaeger-operator", ports: ["https-webhook"] }]);
  });
});
