import { ServiceGraph, GraphNodeProps } from "../../constructs/service-graph";

function node(id: string, extra: Partial<GraphNodeProps> = {}): GraphNodeProps {
  return {
    id,
    kind: "service",
    namespace: "apps",
    serviceAccount: id,
    selector: { "app.kubernetes.io/name": id },
    ports: [
      { name: "http", port: 8080, protocol: "http" },
      { name: "http-metrics", port: 9090, protocol: "http", metrics: true },
    ],
    ...extra,
  };
}

describe("ServiceGraph", () => {
  it("turns consumes into edges on the consumable ports, never the metrics port", () => {
    const g = new ServiceGraph();
    g.addNode(node("order"));
    g.connect("order", "payment");
    g.addNode(node("payment"));
    expect(g.resolve()).toEqual([{ from: "order", to: "payment", ports: ["http"] }]);
    expect(g.incoming("payment")).toHaveLength(1);
    expect(g.outgoing("payment")).toHaveLength(0);
  });

  it("adds a sidecar's port to a declared node, checked like the node's own", () => {
    const g = new ServiceGraph();
    g.addNode(node("order"));
    g.addPort("order", { name: "dapr-metrics", port: 9095, protocol: "http", metrics: true });
    expect(g.node("order").ports.map((p) => p.name)).toEqual(["http", "http-metrics", "dapr-metrics"]);
    g.addNode(node("prometheus"));
    g.connect("prometheus", "order", ["dapr-metrics"]);
    expect(g.resolve()).toEqual([{ from: "prometheus", to: "order", ports: ["dapr-metrics"] }]);
    expect(() => g.addPort("order", { name: "http", port: 8081, protocol: "http" })).toThrow("service graph: node 'order': port name 'http' is used twice");
    expect(() => g.addPort("order", { name: "x", port: 70000, protocol: "http" })).toThrow("port x must be 1-65535 (got 70000)");
    expect(() => g.addPort("nobody", { name: "x", port: 1, protocol: "http" })).toThrow("unknown node 'nobody'");
  });

  it("names the unknown node and lists the known ones", () => {
    const g = new ServiceGraph();
    g.addNode(node("order"));
    g.connect("order", "paymnet");
    expect(() => g.resolve()).toThrow("'order' consumes 'paymnet', but no node 'paymnet' exists; known: order");
  });

  it("rejects unknown ports, self edges and duplicate edges", () => {
    const g = new ServiceGraph();
    g.addNode(node("a"));
    g.addNode(node("b"));
    g.connect("a", "b", ["grpc"]);
    g.connect("a", "a");
    g.connect("b", "a");
    g.connect("b", "a");
    expect(() => g.resolve()).toThrow(/unknown port\(s\) grpc; 'b' exposes: http, http-metrics[\s\S]*'a' cannot consume itself[\s\S]*'b' consumes 'a' twice/);
  });

  it("rejects duplicate ids, bad port names and incomplete nodes", () => {
    const g = new ServiceGraph();
    g.addNode(node("a"));
    expect(() => g.addNode(node("a"))).toThrow("node 'a' is declared twice");
    expect(() => g.addNode(node("b", { ports: [{ name: "a-very-long-port-name", port: 1, protocol: "tcp" }] }))).toThrow(/at most 15 characters/);
    expect(() => g.addNode(node("c", { namespace: undefined }))).toThrow("node 'c' needs namespace, selector and serviceAccount");
    expect(() => g.addNode({ id: "ext", kind: "external", ports: [] })).toThrow("external node 'ext' needs cidrs");
  });

  it("hands each consumer the connection details of what it consumes", () => {
    const g = new ServiceGraph();
    const received: Record<string, unknown> = {};
    g.addNode(node("order", { receive: (vars) => Object.assign(received, vars) }));
    g.addNode(node("db", { connection: (consumer) => ({ DB_NAME: consumer.id, DB_PASSWORD: { secret: `${consumer.id}-db`, key: "password" } }) }));
    g.connect("order", "db");
    g.resolve();
    g.bindConnections();
    expect(received).toEqual({ DB_NAME: "order", DB_PASSWORD: { secret: "order-db", key: "password" } });
  });

  it("refuses two targets that hand out the same variable to one consumer", () => {
    const g = new ServiceGraph();
    g.addNode(node("order", { receive: () => undefined }));
    g.addNode(node("a", { connection: () => ({ HOST: "a" }) }));
    g.addNode(node("b", { connection: () => ({ HOST: "b" }) }));
    g.connect("order", "a");
    g.connect("order", "b");
    g.resolve();
    expect(() => g.bindConnections()).toThrow("'order' receives HOST from both 'a' and 'b'");
  });

  it("draws the graph as Mermaid, grouped by namespace, with port labels", () => {
    const g = new ServiceGraph();
    g.addNode(node("order-api"));
    g.addNode(node("db", { namespace: "data" }));
    g.connect("order-api", "db");
    g.resolve();
    const m = g.toMermaid();
    expect(m).toContain('subgraph ns_data["data"]');
    expect(m).toContain("order_api -->|http| db");
  });
});
