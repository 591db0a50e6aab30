import { Testing } from "cdk8s";
import { addGraphNetworkPolicy, NamespaceBaselinePolicies } from "../../constructs/network-policy";
import { GraphNodeProps, ServiceGraph } from "../../constructs/service-graph";

describe("NamespaceBaselinePolicies", () => {
  const chart = Testing.chart();
  new NamespaceBaselinePolicies(chart, "Baseline", { namespace: "apps" });
  const [deny, dns] = Testing.synth(chart);

  it("denies all ingress and egress of every pod by default", () => {
    expect(deny.metadata).toMatchObject({ name: "default-deny", namespace: "apps" });
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("allows DNS to CoreDNS only, over UDP and TCP 53", () => {
    expect(dns.spec.policyTypes).toEqual(["Egress"]);
    expect(dns.spec.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
        ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
      },
    ]);
  });
});

describe("addGraphNetworkPolicy", () => {
  function graph() {
    const chart = Testing.chart();
    const g = new ServiceGraph();
    const svc = (id: string, ns: string): GraphNodeProps => ({
      id, kind: "service", namespace: ns, serviceAccount: id, selector: { "app.kubernetes.io/name": id }, scope: chart,
      ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "http" }, { name: "http-metrics", port: 9090, protocol: "http", metrics: true }],
    });
    g.addNode(svc("order", "apps"));
    g.addNode(svc("payment", "apps"));
    g.addNode(svc("catalog", "apps"));
    g.addNode({ id: "db", kind: "component", namespace: "data", serviceAccount: "db", selector: { app: "db" }, scope: chart, ports: [{ name: "tcp-postgres", port: 5432, protocol: "tcp" }] });
    g.addNode({ id: "s3", kind: "external", cidrs: ["0.0.0.0/0"], exceptCidrs: ["10.0.0.0/8"], ports: [{ name: "https", port: 443, protocol: "tls" }] });
    g.connect("order", "payment");
    g.connect("order", "catalog");
    g.connect("order", "db");
    g.connect("order", "s3");
    g.resolve();
    for (const n of g.nodes) addGraphNetworkPolicy(g, n);
    return Testing.synth(chart);
  }
  const objects = graph();
  const policy = (name: string) => objects.find((o) => o.metadata.name === `allow-${name}`);

  it("writes exactly one egress rule per declared edge of the consumer", () => {
    const order = policy("order");
    expect(order.spec.egress).toHaveLength(4);
    expect(order.spec.ingress).toEqual([]);
    expect(order.spec.egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "data" } }, podSelector: { matchLabels: { app: "db" } } }],
      ports: [{ protocol: "TCP", port: 5432 }],
    });
  });

  it("targets the container port, not the Service port", () => {
    expect(policy("payment").spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "order" } } }],
        ports: [{ protocol: "TCP", port: 8080 }],
      },
    ]);
  });

  it("reaches external nodes by CIDR with the exceptions kept", () => {
    expect(policy("order").spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }], ports: [{ protocol: "TCP", port: 443 }] });
  });

  it("writes nothing for a node without edges", () => {
    const lonely = Testing.chart();
    const g = new ServiceGraph();
    const n = g.addNode({ id: "x", kind: "service", namespace: "a", serviceAccount: "x", selector: { a: "x" }, scope: lonely, ports: [] });
    g.resolve();
    expect(addGraphNetworkPolicy(g, n)).toBeUndefined();
    expect(Testing.synth(lonely)).toEqual([]);
  });
});
