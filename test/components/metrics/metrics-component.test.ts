import { DEFAULT_RULES } from "../../../policies/rules";
import { runPolicies } from "../../../policies/engine";
import { K8sObject } from "../../../policies/types";
import { dev } from "../../../stacks/environments/dev";
import { prod } from "../../../stacks/environments/prod";
import { findAll, findOne } from "../../support/objects";
import { buildMetricsPlatform, STUB_NODES } from "./fixture";

const prodBuild = buildMetricsPlatform(prod);
const devBuild = buildMetricsPlatform(dev, { stubs: false });

function metricsObjects(objects: ReadonlyArray<K8sObject>): K8sObject[] {
  return objects.filter((o) => o.metadata.namespace === "monitoring" || o.apiVersion.startsWith("monitoring.coreos.com") || /prometheus|alertmanager|grafana/.test(o.metadata.name ?? ""));
}

describe("MetricsComponent", () => {
  it("installs only the operator from kube-prometheus-stack, pinned to operator v0.76.2", () => {
    const app = findOne(prodBuild.objects, "Application", "prometheus-operator");
    expect(app.spec.source.chart).toBe("kube-prometheus-stack");
    expect(app.spec.source.targetRevision).toBe("62.7.0");
    const values = app.spec.source.helm.valuesObject;
    expect(values.prometheusOperator.image.tag).toBe("v0.76.2");
    expect(values.prometheusOperator.prometheusConfigReloader.image.tag).toBe("v0.76.2");
    for (const part of ["prometheus", "alertmanager", "grafana", "kubeStateMetrics", "nodeExporter"]) expect(values[part].enabled).toBe(false);
    expect(values.defaultRules.create).toBe(false);
  });

  it("sizes Prometheus by tier: replicas, retention, storage and resources come from the environment", () => {
    const p = findOne(prodBuild.objects, "Prometheus", "stratum", "monitoring");
    expect(p.spec.replicas).toBe(prod.sizing.metrics.prometheus.replicas);
    expect(p.spec.retention).toBe("30d");
    expect(p.spec.storage.volumeClaimTemplate.spec.resources.requests.storage).toBe("200Gi");
    expect(p.spec.resources.limits.memory).toBe("8Gi");
    expect(p.spec.serviceMonitorSelector).toEqual({ matchLabels: { "stratum.dev/monitoring": "stratum" } });
    expect(p.spec.ruleSelector).toEqual(p.spec.serviceMonitorSelector);
    expect(p.spec.alerting.alertmanagers).toEqual([{ namespace: "monitoring", name: "alertmanager-stratum", port: "http-web", apiVersion: "v2" }]);
    const d = findOne(devBuild.objects, "Prometheus", "stratum", "monitoring");
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.retention).toBe("3d");
    expect(findAll(devBuild.objects, "PodDisruptionBudget", "prometheus-stratum")).toHaveLength(0);
    expect(findAll(prodBuild.objects, "PodDisruptionBudget", "prometheus-stratum")).toHaveLength(1);
  });

  it("runs Alertmanager highly available in prod: three gossiping replicas, a PDB and a peer edge for the cluster port", () => {
    const am = findOne(prodBuild.objects, "Alertmanager", "stratum", "monitoring");
    expect(am.spec.replicas).toBe(3);
    expect(am.spec.retention).toBe("240h");
    expect(am.spec.alertmanagerConfiguration.name).toBe("stratum-routing");
    expect(am.spec.alertmanagerConfiguration.global.smtp.authPassword).toEqual({ name: "alertmanager-notifiers", key: "smtp-password" });
    expect(findAll(prodBuild.objects, "PodDisruptionBudget", "alertmanager-stratum")).toHaveLength(1);
    const edge = prodBuild.platform.graph.edges.find((e) => e.from === "alertmanager" && e.to === "alertmanager-peers");
    expect(edge?.ports).toEqual(["tcp-mesh", "udp-mesh"]);
    expect(findOne(devBuild.objects, "Alertmanager", "stratum", "monitoring").spec.replicas).toBe(1);
    expect(devBuild.platform.graph.has("alertmanager-peers")).toBe(false);
  });

  it("scrapes every graph node with a metrics port: one monitor each, and a Prometheus edge on exactly that port", () => {
    const graph = prodBuild.platform.graph;
    const scraped = graph.nodes.filter((n) => n.kind !== "external" && n.ports.some((p) => p.metrics));
    expect(scraped.map((n) => n.id)).toEqual(expect.arrayContaining(["order", "payment", "catalog", "customer", ...STUB_NODES.filter((s) => s.ports.some((p) => "metrics" in p)).map((s) => s.id)]));
    expect(findAll(prodBuild.objects, "PodMonitor")).toHaveLength(0);
    for (const node of scraped) {
      expect(findAll(prodBuild.objects, "ServiceMonitor", node.id, "monitoring")).toHaveLength(1);
      const edge = graph.edges.find((e) => e.from === "prometheus" && e.to === node.id);
      expect(edge?.ports).toEqual(node.ports.filter((p) => p.metrics).map((p) => p.name));
    }
    expect(graph.edges.some((e) => e.from === "prometheus" && e.to === "jaeger")).toBe(false);
  });

  it("every ServiceMonitor selects exactly one Service, in its namespace, that has the scraped port", () => {
    // the kubelet Service is kept by the operator in the cluster, not written by Stratum
    const monitors = findAll(prodBuild.objects, "ServiceMonitor").filter((m) => m.metadata.name !== "kubelet-cadvisor") as Array<K8sObject & Record<string, any>>;
    expect(monitors.length).toBe(13);
    for (const m of monitors) {
      const services = findAll(prodBuild.objects, "Service").filter(
        (s) =>
          m.spec.namespaceSelector.matchNames.includes(s.metadata.namespace) &&
          Object.entries(m.spec.selector.matchLabels as Record<string, string>).every(([k, v]) => s.metadata.labels?.[k] === v),
      ) as Array<K8sObject & Record<string, any>>;
      expect(services).toHaveLength(1);
      for (const ep of m.spec.endpoints) expect(services[0].spec.ports.map((p: { name: string }) => p.name)).toContain(ep.port);
    }
  });

  it("adds a headless metrics Service for a node without one, on the container port number", () => {
    const svc = findOne(prodBuild.objects, "Service", "metrics-redis", "data");
    expect(svc.spec.clusterIP).toBe("None");
    expect(svc.spec.selector).toEqual({ "app.kubernetes.io/name": "redis" });
    expect(svc.spec.ports).toEqual([{ name: "http-metrics", port: 9121, targetPort: 9121, protocol: "TCP", appProtocol: "http" }]);
    expect(findOne(prodBuild.objects, "ServiceMonitor", "redis", "monitoring").spec.selector).toEqual({ matchLabels: { "stratum.dev/metrics-of": "redis" } });
    // a business service is scraped through its own Service
    expect(findAll(prodBuild.objects, "Service", "metrics-order")).toHaveLength(0);
  });

  it("scrapes meshed targets with the mesh's workload certificate, and Prometheus joins the mesh to hold one", () => {
    const meshed = buildMetricsPlatform(prod, { mesh: true });
    const order = findOne(meshed.objects, "ServiceMonitor", "order", "monitoring");
    expect(order.spec.endpoints[0]).toMatchObject({ scheme: "https", tlsConfig: { certFile: "/etc/prom-certs/cert-chain.pem", keyFile: "/etc/prom-certs/key.pem" } });
    const p = findOne(meshed.objects, "Prometheus", "stratum", "monitoring");
    expect(p.spec.podMetadata.annotations["traffic.sidecar.istio.io/includeOutboundIPRanges"]).toBe("");
    expect(p.spec.volumeMounts).toEqual([{ name: "istio-certs", mountPath: "/etc/prom-certs", readOnly: true }]);
    expect(p.spec.alerting.alertmanagers[0].scheme).toBe("https");
    // Istio's own proxy ports stay plaintext
    const gw = buildMetricsPlatform(prod, {
      mesh: true,
      customize: (p) => {
        p.graph.addNode({ id: "edge-proxy", kind: "component", namespace: "apps", serviceAccount: "edge-proxy", selector: { app: "edge-proxy" }, ports: [{ name: "http-envoy-prom", port: 15090, protocol: "http", metrics: true }] });
      },
    });
    expect(findOne(gw.objects, "ServiceMonitor", "edge-proxy", "monitoring").spec.endpoints[0].scheme).toBe("http");
    // without a mesh everything is plain HTTP
    expect(findOne(prodBuild.objects, "ServiceMonitor", "order", "monitoring").spec.endpoints[0].scheme).toBe("http");
  });

  it("scrapes Alertmanager on the web port Prometheus already reaches", () => {
    const m = findOne(prodBuild.objects, "ServiceMonitor", "alertmanager", "monitoring");
    expect(m.spec.endpoints.map((e: { port: string }) => e.port)).toEqual(["http-web"]);
    expect(m.spec.selector.matchLabels["app.kubernetes.io/name"]).toBe("alertmanager");
  });

  it("labels every business service's series with its service and team", () => {
    const m = findOne(prodBuild.objects, "ServiceMonitor", "order", "monitoring");
    expect(m.spec.endpoints[0].relabelings).toEqual([
      { targetLabel: "service", replacement: "order", action: "replace" },
      { targetLabel: "team", replacement: "checkout", action: "replace" },
    ]);
  });

  it("lets Prometheus through each scraped service's NetworkPolicy on its metrics port only", () => {
    const np = findOne(prodBuild.objects, "NetworkPolicy", "allow-order", "apps");
    const fromPrometheus = np.spec.ingress.filter((r: any) => r.from.some((f: any) => f.podSelector?.matchLabels?.prometheus === "stratum"));
    expect(fromPrometheus).toHaveLength(1);
    expect(fromPrometheus[0].ports).toEqual([{ protocol: "TCP", port: 9090 }]);
  });

  it("includes a component's alert group only when its node exists", () => {
    const groups = (build: typeof prodBuild) => build.metrics.ruleSets.flatMap((r) => r.groups.map((g) => g.name));
    expect(groups(prodBuild)).toEqual(expect.arrayContaining(["component.postgres", "component.redis", "component.elasticsearch", "component.events", "component.gateway", "component.tasks", "component.argocd"]));
    expect(groups(devBuild).filter((g) => g.startsWith("component."))).toEqual([]);
    expect(groups(devBuild)).toEqual(expect.arrayContaining(["golden-signals.order", "slo.order", "platform.scrape"]));
  });

  it("declares credentials by reference only and writes no Secret", () => {
    const secrets = prodBuild.platform.secrets.all.filter((s) => s.namespace === "monitoring");
    expect(secrets.map((s) => s.name)).toEqual(["alertmanager-notifiers", "alertmanager-pagerduty", "grafana-admin", "grafana-elasticsearch"]);
    expect(secrets[1].keys).toEqual(["routing-key-checkout", "routing-key-platform", "routing-key-storefront"]);
    expect(findAll(prodBuild.objects, "Secret")).toHaveLength(0);
  });

  it("passes every policy", () => {
    for (const build of [prodBuild, devBuild]) {
      const report = runPolicies(metricsObjects(build.objects), DEFAULT_RULES);
      expect(report.errors.map((e) => `${e.ruleId} ${e.kind}/${e.name}: ${e.field} ${e.message}`)).toEqual([]);
    }
  });

  it("scrapes Argo CD's application controller on 8082 through a metrics-only node on its pods", () => {
    const build = buildMetricsPlatform(dev, {
      stubs: false,
      customize: (p) => {
        p.graph.addNode({ id: "argocd-controller", kind: "component", namespace: "argocd", serviceAccount: "argocd-application-controller", selector: { "app.kubernetes.io/name": "argocd-application-controller" }, ports: [] });
      },
    });
    const view = build.platform.graph.node("argocd-controller-metrics");
    expect(view.selector).toEqual({ "app.kubernetes.io/name": "argocd-application-controller" });
    expect(build.platform.graph.edges.find((e) => e.from === "prometheus" && e.to === "argocd-controller-metrics")?.ports).toEqual(["http-metrics"]);
    expect(findOne(build.objects, "ServiceMonitor", "argocd-controller-metrics", "monitoring").spec.endpoints[0].port).toBe("http-metrics");
    expect(build.metrics.ruleSets.flatMap((r) => r.groups.map((g) => g.name))).toContain("component.argocd");
  });

  it("exports Elasticsearch health through a hardened exporter that reads the cluster as its own user", () => {
    const build = buildMetricsPlatform(prod, { elasticsearch: true });
    const deploy = findOne(build.objects, "Deployment", "elasticsearch-exporter", "monitoring");
    const c = deploy.spec.template.spec.containers[0];
    expect(c.args).toContain("--es.uri=https://elasticsearch-es-http.elasticsearch.svc.cluster.local:9200");
    expect(c.env.find((e: { name: string }) => e.name === "ES_PASSWORD").valueFrom).toEqual({ secretKeyRef: { name: "elasticsearch-exporter", key: "password" } });
    expect(build.platform.graph.edges.find((e) => e.from === "elasticsearch-exporter" && e.to === "elasticsearch")?.ports).toEqual(["https"]);
    expect(findAll(build.objects, "ServiceMonitor", "elasticsearch-exporter", "monitoring")).toHaveLength(1);
    const report = runPolicies(metricsObjects(build.objects), DEFAULT_RULES);
    expect(report.errors.map((e) => `${e.ruleId} ${e.kind}/${e.name}: ${e.field} ${e.message}`)).toEqual([]);
  });

  it("refuses an SLO for a service that is not monitored, naming the known ones", () => {
    expect(() => buildMetricsPlatform(dev, { stubs: false, customize: (_p, m) => m.setSlo("inventory", { availability: 0.99 }) })).toThrow(
      "an SLO or thresholds are set for 'inventory', which is not a monitored business service; known: order, payment, catalog, customer",
    );
  });
});
