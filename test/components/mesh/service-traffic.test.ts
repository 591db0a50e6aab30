import { Chart, Testing } from "cdk8s";
import { ROLLOUT_CANARY } from "../../../components/mesh";
import { ServiceTrafficPolicy, ServiceTrafficPolicyProps } from "../../../components/mesh/service-traffic";
import { GraphNodeProps } from "../../../constructs/service-graph";
import { dev } from "../../../stacks/environments";
import { findOne } from "../../support/objects";
import { meshPlatform } from "./support";

function node(id: string, extra: Partial<GraphNodeProps> = {}): GraphNodeProps {
  return {
    id, kind: "service", namespace: "apps", serviceAccount: id, selector: { "app.kubernetes.io/name": id },
    host: `${id}.apps.svc.cluster.local`, ports: [{ name: "http", port: 8080, protocol: "http" }], ...extra,
  };
}

function synth(props: Partial<ServiceTrafficPolicyProps>) {
  const chart = new Chart(Testing.app(), "test");
  new ServiceTrafficPolicy(chart, "Traffic", { node: node("order"), dependencies: [], ...props });
  return chart.toJson();
}

describe("ServiceTrafficPolicy", () => {
  it("requires Istio mutual TLS and sets the connection pool and outlier detection from the circuit breaker", () => {
    const dr = findOne(synth({ circuitBreaker: { maxConnections: 20, maxPendingRequests: 5, maxRequests: 50, consecutive5xxErrors: 3, interval: "5s", baseEjectionTime: "1m", maxEjectionPercent: 30 } }), "DestinationRule", "order", "apps");
    expect(dr.spec.host).toBe("order.apps.svc.cluster.local");
    expect(dr.spec.trafficPolicy.tls).toEqual({ mode: "ISTIO_MUTUAL" });
    expect(dr.spec.trafficPolicy.connectionPool).toEqual({
      tcp: { maxConnections: 20, connectTimeout: "2s" },
      http: { http1MaxPendingRequests: 5, http2MaxRequests: 50, maxRetries: 20 },
    });
    expect(dr.spec.trafficPolicy.outlierDetection).toEqual({ consecutive5xxErrors: 3, interval: "5s", baseEjectionTime: "1m", maxEjectionPercent: 30 });
    expect(dr.spec.subsets).toBeUndefined();
  });

  it("sets the timeout and retries with retryOn", () => {
    const vs = findOne(synth({ timeout: "5s", retries: { attempts: 3, perTryTimeout: "1s", retryOn: ["connect-failure", "5xx"] } }), "VirtualService", "order", "apps");
    expect(vs.spec.hosts).toEqual(["order.apps.svc.cluster.local"]);
    expect(vs.spec.http).toEqual([{
      name: "default",
      route: [{ destination: { host: "order.apps.svc.cluster.local" } }],
      timeout: "5s",
      retries: { attempts: 3, perTryTimeout: "1s", retryOn: "connect-failure,5xx" },
    }]);
  });

  it("retries by default only where nothing reached the application", () => {
    const vs = findOne(synth({}), "VirtualService", "order", "apps");
    expect(vs.spec.http[0].retries.retryOn).toBe("connect-failure,refused-stream,unavailable,cancelled");
    expect(vs.spec.http[0].timeout).toBe("15s");
  });

  it("routes canary traffic by the weight to the stable and canary subsets", () => {
    const objects = synth({ canary: { weight: 10 } });
    const vs = findOne(objects, "VirtualService", "order", "apps");
    expect(vs.spec.http[0].route).toEqual([
      { destination: { host: "order.apps.svc.cluster.local", subset: "stable" }, weight: 90 },
      { destination: { host: "order.apps.svc.cluster.local", subset: "canary" }, weight: 10 },
    ]);
    const dr = findOne(objects, "DestinationRule", "order", "apps");
    expect(dr.spec.subsets).toEqual([
      { name: "stable", labels: { "stratum.dev/track": "stable" } },
      { name: "canary", labels: { "stratum.dev/track": "canary" } },
    ]);
  });

  it("limits the proxy's egress to the declared dependencies and the control plane", () => {
    const sidecar = findOne(synth({ dependencies: [node("payment"), node("postgres", { kind: "component", namespace: "data", host: "postgres-rw.data.svc.cluster.local" })] }), "Sidecar", "order", "apps");
    expect(sidecar.spec).toEqual({
      workloadSelector: { labels: { "app.kubernetes.io/name": "order" } },
      egress: [{ hosts: ["apps/payment.apps.svc.cluster.local", "data/postgres-rw.data.svc.cluster.local", "istio-system/*"] }],
      outboundTrafficPolicy: { mode: "REGISTRY_ONLY" },
    });
  });

  it("keeps ALLOW_ANY for a service with a dependency outside the cluster (its NetworkPolicy names the CIDRs)", () => {
    const ext: GraphNodeProps = { id: "s3", kind: "external", cidrs: ["52.0.0.0/8"], ports: [{ name: "https", port: 443, protocol: "tls" }] };
    const sidecar = findOne(synth({ dependencies: [ext] }), "Sidecar", "order", "apps");
    expect(sidecar.spec.outboundTrafficPolicy).toEqual({ mode: "ALLOW_ANY" });
    expect(sidecar.spec.egress[0].hosts).toEqual(["istio-system/*"]);
  });

  it("names every bad value with the service", () => {
    expect(() => synth({ canary: { weight: 120 } })).toThrow("service 'order': canary.weight must be an integer 0-100 (got 120)");
    expect(() => synth({ timeout: "2s", retries: { perTryTimeout: "5s" } })).toThrow("retries.perTryTimeout 5s must not exceed timeout 2s");
    expect(() => synth({ timeout: "soon" })).toThrow('timeout must be a duration such as 500ms, 2s or 1m (got "soon")');
    expect(() => synth({ circuitBreaker: { maxConnections: 0 } })).toThrow("circuitBreaker.maxConnections must be an integer >= 1 (got 0)");
  });

  it("applies platform defaults and per-service overrides to the business services", () => {
    const { objects, platform } = meshPlatform(dev, { serviceDefaults: { timeout: "10s" } }, (_p, mesh) => mesh.configureService("payment", { canary: { weight: 25 }, timeout: "3s" }));
    expect(findOne(objects, "VirtualService", "order", "apps").spec.http[0].timeout).toBe("10s");
    const payment = findOne(objects, "VirtualService", "payment", "apps").spec.http[0];
    expect(payment.timeout).toBe("3s");
    expect(payment.route.map((r: any) => r.weight)).toEqual([75, 25]);
    const orderSidecar = findOne(objects, "Sidecar", "order", "apps");
    const deps = platform.graph.outgoing("order").map((e) => e.to).filter((t) => t !== "istiod-xds");
    expect(orderSidecar.spec.egress[0].hosts).toEqual([...deps.map((d) => `apps/${d}.apps.svc.cluster.local`), "istio-system/*"].sort());
  });

  it("gives a service released by a canary Rollout unlabelled subsets and all traffic on stable", () => {
    const { objects } = meshPlatform(dev, {}, (p) => {
      // what the delivery component's business-service prop says; read structurally by the mesh
      Object.assign(p.services.find((s) => s.name === "payment")!, { delivery: { strategy: "canary" } });
    });
    const dr = findOne(objects, "DestinationRule", "payment", "apps");
    expect(dr.spec.subsets).toEqual([{ name: "stable", labels: {} }, { name: "canary", labels: {} }]);
    const route = findOne(objects, "VirtualService", "payment", "apps").spec.http[0];
    expect(route.name).toBe("default");
    expect(route.route.map((r: any) => [r.destination.subset, r.weight])).toEqual([["stable", 100], ["canary", 0]]);
    expect(findOne(objects, "DestinationRule", "order", "apps").spec.subsets).toBeUndefined();
    expect(ROLLOUT_CANARY?.weight).toBe(0);
  });

  it("registers an external network the service consumes, so that its proxy stays REGISTRY_ONLY", () => {
    const { objects } = meshPlatform(dev, {}, (p) => {
      p.graph.addNode({ id: "kafka", kind: "external", cidrs: ["10.10.0.0/16"], ports: [{ name: "tls-kafka", port: 9096, protocol: "tls" }] });
      p.graph.connect("order", "kafka");
    });
    const entry = findOne(objects, "ServiceEntry", "external-kafka", "apps");
    expect(entry.spec).toEqual({
      hosts: ["kafka.external.stratum"],
      addresses: ["10.10.0.0/16"],
      ports: [{ name: "tls-kafka", number: 9096, protocol: "TLS" }],
      location: "MESH_EXTERNAL",
      resolution: "NONE",
      exportTo: ["."],
    });
    const sidecar = findOne(objects, "Sidecar", "order", "apps");
    expect(sidecar.spec.egress[0].hosts).toContain("apps/kafka.external.stratum");
    expect(sidecar.spec.outboundTrafficPolicy).toEqual({ mode: "REGISTRY_ONLY" });
  });

  it("does not register an external service known by name (its subdomains would be cut off)", () => {
    const { objects } = meshPlatform(dev, {}, (p) => {
      p.graph.addNode({ id: "s3", kind: "external", host: "s3.eu-west-1.amazonaws.com", cidrs: ["0.0.0.0/0"], ports: [{ name: "https", port: 443, protocol: "tls" }] });
      p.graph.connect("catalog", "s3");
    });
    expect(objects.filter((o) => o.kind === "ServiceEntry")).toEqual([]);
    expect(findOne(objects, "Sidecar", "catalog", "apps").spec.outboundTrafficPolicy).toEqual({ mode: "ALLOW_ANY" });
  });
});
