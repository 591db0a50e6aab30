import { K8sObject } from "../../../policies/types";
import { dev } from "../../../stacks/environments";
import { synthEnvironment } from "../../../stacks/synth";
import { findOne } from "../../support/objects";

describe("Dapr sidecar metrics", () => {
  const objects = synthEnvironment(dev).objects as Array<K8sObject & Record<string, any>>;

  it.each([["event-processor", "events"], ["order", "apps"]])("scrapes the %s pod's daprd metrics port next to the app's, through the mesh", (app, namespace) => {
    const monitor = findOne(objects, "ServiceMonitor", app, "monitoring");
    const dapr = monitor.spec.endpoints.find((e: { port: string }) => e.port === "dapr-metrics");
    expect(dapr).toMatchObject({ scheme: "https", tlsConfig: { certFile: "/etc/prom-certs/cert-chain.pem" } });
    expect(monitor.spec.endpoints.map((e: { port: string }) => e.port)).toContain("http-metrics");
    // the port is the sidecar's, so a headless metrics Service names it on the app's pods
    const svc = findOne(objects, "Service", `metrics-${app}`, namespace);
    expect(svc.spec.ports).toContainEqual(expect.objectContaining({ name: "dapr-metrics", port: 9095, targetPort: 9095 }));
    const workload = objects.find((o) => ["Deployment", "Rollout"].includes(o.kind) && o.metadata.name === app && o.metadata.namespace === namespace)!;
    expect(workload.spec.template.metadata.annotations["dapr.io/metrics-port"]).toBe("9095");
  });

  it("lets only Prometheus reach it: NetworkPolicy and AuthorizationPolicy", () => {
    const np = findOne(objects, "NetworkPolicy", "allow-event-processor", "events");
    const fromPrometheus = np.spec.ingress.find((r: { from: Array<{ podSelector?: { matchLabels?: Record<string, string> } }> }) => r.from.some((f) => f.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "prometheus"));
    expect(fromPrometheus.ports).toContainEqual({ port: 9095, protocol: "TCP" });
    const authz = findOne(objects, "AuthorizationPolicy", "allow-event-processor", "events");
    const rule = authz.spec.rules.find((r: { to?: Array<{ operation: { ports: string[] } }> }) => r.to?.some((t) => t.operation.ports.includes("9095")));
    expect(rule.from[0].source.principals).toEqual(["cluster.local/ns/monitoring/sa/prometheus-stratum"]);
  });
});
