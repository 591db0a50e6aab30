import { Construct } from "constructs";
import { isPortName } from "./names";

/** Application protocol of a port, as Istio and Kubernetes `appProtocol` understand it. */
export type AppProtocol = "http" | "http2" | "grpc" | "tcp" | "tls";

/** A named port that a node exposes. */
export interface ServicePort {
  /** Port name, Istio-style (`http`, `grpc-api`, `tcp-postgres`, `http-metrics`); DNS label, at most 15 characters. */
  readonly name: string;
  /** The Service port. */
  readonly port: number;
  /** The container port, when it differs from `port`. @default port */
  readonly targetPort?: number;
  /** Application protocol. */
  readonly protocol: AppProtocol;
  /** Transport protocol. @default "TCP" */
  readonly transport?: "TCP" | "UDP";
  /** True for a Prometheus metrics port: scraped by the metrics component, never consumed by services. @default false */
  readonly metrics?: boolean;
}

/** An environment variable: a literal, or a reference to a Secret or ConfigMap key (never a secret's value). */
export type EnvValue = string | { readonly secret: string; readonly key: string } | { readonly configMap: string; readonly key: string };

/** Kind of node: a platform component, a business service, or a network outside the cluster. */
export type NodeKind = "component" | "service" | "external";

/** What a node of the service graph declares. */
export interface GraphNodeProps {
  /** Unique id in the graph (`order`, `postgres`). */
  readonly id: string;
  /** Kind of node. */
  readonly kind: NodeKind;
  /** Namespace of its pods (not used for external nodes). */
  readonly namespace?: string;
  /** ServiceAccount its pods run as (the mesh principal). */
  readonly serviceAccount?: string;
  /** Labels that select its pods. */
  readonly selector?: Readonly<Record<string, string>>;
  /** Ports it exposes. */
  readonly ports: ReadonlyArray<ServicePort>;
  /** For external nodes: the CIDRs that stand for it. */
  readonly cidrs?: ReadonlyArray<string>;
  /** CIDRs excluded from `cidrs` (e.g. the cluster's own ranges). */
  readonly exceptCidrs?: ReadonlyArray<string>;
  /** DNS name consumers use to reach it. */
  readonly host?: string;
  /** The construct (chart) where objects derived for this node are written. */
  readonly scope?: Construct;
  /**
   * What a consumer receives to connect to this node: environment variables for the consumer's main container
   * (host, port, database, and credentials only as Secret references). Called once per incoming edge.
   */
  readonly connection?: (consumer: GraphNodeProps) => Readonly<Record<string, EnvValue>>;
  /** Receives the connection details of what this node consumes (workloads wire it to their container env). */
  readonly receive?: (vars: Readonly<Record<string, EnvValue>>, from: GraphNodeProps) => void;
}

/** One declared edge: `from` may open connections to `to` on `ports`. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** Port names of `to`. */
  readonly ports: ReadonlyArray<string>;
}


function checkPorts(id: string, ports: ReadonlyArray<ServicePort>): void {
  const names = new Set<string>();
  for (const p of ports) {
    if (!isPortName(p.name)) throw new Error(`service graph: node '${id}': port name '${p.name}' must be a DNS label of at most 15 characters, with a letter and no '--'`);
    if (names.has(p.name)) throw new Error(`service graph: node '${id}': port name '${p.name}' is used twice`);
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new Error(`service graph: node '${id}': port ${p.name} must be 1-65535 (got ${p.port})`);
    names.add(p.name);
  }
}

/**
 * The single source of truth for traffic: nodes declare what they expose, edges what they consume. NetworkPolicies,
 * AuthorizationPolicies, ServiceMonitors and the diagram are all derived from it; nothing that carries traffic is
 * allowed by hand.
 */
export class ServiceGraph {
  private readonly nodeMap = new Map<string, GraphNodeProps>();
  private readonly edgeList: GraphEdge[] = [];
  private readonly edgeKeys = new Set<string>();
  /** Sorted edges and per-node indexes, rebuilt lazily after the edge list changes. */
  private index?: { sorted: GraphEdge[]; incoming: Map<string, GraphEdge[]>; outgoing: Map<string, GraphEdge[]> };
  private readonly pending: Array<{ from: string; to: string; ports?: ReadonlyArray<string> }> = [];

  /** Adds a node; ids are unique and ports are checked. */
  addNode(node: GraphNodeProps): GraphNodeProps {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(node.id)) throw new Error(`service graph: node id '${node.id}' must be a DNS label`);
    if (this.nodeMap.has(node.id)) throw new Error(`service graph: node '${node.id}' is declared twice`);
    if (node.kind === "external") {
      if (!node.cidrs || node.cidrs.length === 0) throw new Error(`service graph: external node '${node.id}' needs cidrs`);
    } else if (!node.namespace || !node.selector || !node.serviceAccount) {
      throw new Error(`service graph: node '${node.id}' needs namespace, selector and serviceAccount`);
    }
    checkPorts(node.id, node.ports);
    this.nodeMap.set(node.id, node);
    return node;
  }

  /**
   * Adds a port to a node declared earlier, for a container that another component puts in its pods (a sidecar's
   * metrics, say). Call it while connecting, before anything derives from the graph; `node(id)` returns the node
   * with the port, references taken earlier do not see it.
   */
  addPort(id: string, port: ServicePort): GraphNodeProps {
    const node = this.node(id);
    const next = { ...node, ports: [...node.ports, port] };
    checkPorts(id, next.ports);
    this.nodeMap.set(id, next);
    return next;
  }

  /**
   * Declares that `from` consumes `to`. Ports default to every non-metrics port of `to`. Either end may be added
   * later; `resolve()` checks that both exist.
   */
  connect(from: string, to: string, ports?: ReadonlyArray<string>): void {
    this.pending.push({ from, to, ports });
  }

  /** True when a node with this id exists. */
  has(id: string): boolean {
    return this.nodeMap.has(id);
  }

  /** The node with this id; an unknown id is an error that lists the known ones. */
  node(id: string): GraphNodeProps {
    const n = this.nodeMap.get(id);
    if (!n) throw new Error(`service graph: unknown node '${id}'; known: ${[...this.nodeMap.keys()].sort().join(", ")}`);
    return n;
  }

  /** All nodes, sorted by id. */
  get nodes(): GraphNodeProps[] {
    return [...this.nodeMap.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Turns pending `connect` calls into edges, checking both ends and ports. Idempotent. */
  resolve(): ReadonlyArray<GraphEdge> {
    const problems: string[] = [];
    for (const p of this.pending.splice(0)) {
      const from = this.nodeMap.get(p.from);
      const to = this.nodeMap.get(p.to);
      const known = [...this.nodeMap.keys()].sort().join(", ");
      if (!from) { problems.push(`'${p.from}' consumes '${p.to}', but no node '${p.from}' exists; known: ${known}`); continue; }
      if (!to) { problems.push(`'${p.from}' consumes '${p.to}', but no node '${p.to}' exists; known: ${known}`); continue; }
      if (p.from === p.to) { problems.push(`'${p.from}' cannot consume itself`); continue; }
      const consumable = to.ports.filter((x) => !x.metrics).map((x) => x.name);
      const ports = p.ports ?? consumable;
      const bad = ports.filter((x) => !to.ports.some((y) => y.name === x));
      if (bad.length) { problems.push(`'${p.from}' consumes '${p.to}' on unknown port(s) ${bad.join(", ")}; '${p.to}' exposes: ${to.ports.map((x) => x.name).join(", ")}`); continue; }
      if (ports.length === 0) { problems.push(`'${p.from}' consumes '${p.to}', which exposes no consumable port`); continue; }
      const key = `${p.from}\u0000${p.to}`;
      if (this.edgeKeys.has(key)) { problems.push(`'${p.from}' consumes '${p.to}' twice`); continue; }
      this.edgeKeys.add(key);
      this.edgeList.push({ from: p.from, to: p.to, ports: [...ports] });
      this.index = undefined;
    }
    if (problems.length) throw new Error(`service graph:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return this.edges;
  }

  /** Resolved edges, sorted by (from, to). */
  get edges(): GraphEdge[] {
    return [...this.indexed().sorted];
  }

  private indexed(): NonNullable<ServiceGraph["index"]> {
    if (!this.index) {
      const sorted = [...this.edgeList].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
      const incoming = new Map<string, GraphEdge[]>();
      const outgoing = new Map<string, GraphEdge[]>();
      for (const e of sorted) {
        if (!incoming.has(e.to)) incoming.set(e.to, []);
        if (!outgoing.has(e.from)) outgoing.set(e.from, []);
        incoming.get(e.to)!.push(e);
        outgoing.get(e.from)!.push(e);
      }
      this.index = { sorted, incoming, outgoing };
    }
    return this.index;
  }

  /** Edges that end at a node. */
  incoming(id: string): GraphEdge[] {
    return [...(this.indexed().incoming.get(id) ?? [])];
  }

  /** Edges that start at a node. */
  outgoing(id: string): GraphEdge[] {
    return [...(this.indexed().outgoing.get(id) ?? [])];
  }

  /**
   * Hands every consumer the connection details of what it consumes (`connection` of the target, `receive` of the
   * source). Two targets that hand out the same variable name are an error.
   */
  bindConnections(): void {
    const owners = new Map<string, string>();
    for (const e of this.edges) {
      const from = this.node(e.from);
      const to = this.node(e.to);
      if (!to.connection || !from.receive) continue;
      const vars = to.connection(from);
      for (const name of Object.keys(vars)) {
        const key = `${e.from}/${name}`;
        const previous = owners.get(key);
        if (previous) throw new Error(`service graph: '${e.from}' receives ${name} from both '${previous}' and '${e.to}'`);
        owners.set(key, e.to);
      }
      from.receive(vars, to);
    }
  }

  /** Namespaces that hold graph nodes, sorted. */
  get namespaces(): string[] {
    return [...new Set(this.nodes.filter((n) => n.namespace).map((n) => n.namespace as string))].sort();
  }

  /** The graph as a Mermaid flowchart (nodes grouped by namespace, edges labelled with ports). */
  toMermaid(): string {
    const lines = ["flowchart LR"];
    const byNs = new Map<string, GraphNodeProps[]>();
    for (const n of this.nodes) {
      const key = n.namespace ?? "external";
      byNs.set(key, [...(byNs.get(key) ?? []), n]);
    }
    for (const [ns, nodes] of [...byNs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`  subgraph ns_${ns.replace(/-/g, "_")}["${ns}"]`);
      for (const n of nodes) lines.push(`    ${n.id.replace(/-/g, "_")}["${n.id}"]`);
      lines.push("  end");
    }
    for (const e of this.edges) lines.push(`  ${e.from.replace(/-/g, "_")} -->|${e.ports.join(", ")}| ${e.to.replace(/-/g, "_")}`);
    return lines.join("\n") + "\n";
  }
}
