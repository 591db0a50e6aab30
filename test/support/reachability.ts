import { GraphNodeProps, ServiceGraph } from "../../constructs/service-graph";
import { K8sObject } from "../../policies/types";

type Labels = Readonly<Record<string, string>>;
type Selector = { matchLabels?: Labels; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined;

/** Label selector semantics of Kubernetes (matchLabels and matchExpressions). */
export function matches(selector: Selector, labels: Labels): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = (e.values ?? []).includes(labels[e.key]);
    if (e.operator === "In" && !(has && inValues)) return false;
    if (e.operator === "NotIn" && has && inValues) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/** A pod as NetworkPolicies see it. */
export interface PodView {
  readonly namespace: string;
  readonly labels: Labels;
}

/** An ipBlock peer. */
export interface IpBlock {
  readonly cidr: string;
  readonly except?: ReadonlyArray<string>;
}

function sameBlock(a: IpBlock | undefined, b: IpBlock): boolean {
  return Boolean(a) && a!.cidr === b.cidr && JSON.stringify([...(a!.except ?? [])].sort()) === JSON.stringify([...(b.except ?? [])].sort());
}

interface Port {
  readonly port: number;
  readonly protocol: string;
}

function portAllowed(ports: Array<{ port?: number | string; protocol?: string; endPort?: number }> | undefined, p: Port): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((x) => (x.protocol ?? "TCP") === p.protocol && (x.port === undefined || x.port === p.port || (x.endPort !== undefined && typeof x.port === "number" && p.port >= x.port && p.port <= x.endPort)));
}

/**
 * Evaluates NetworkPolicies as a cluster would: a pod selected by a policy of a direction is isolated in that
 * direction and reachable only through some rule that matches the peer and the port.
 */
export class NetworkPolicyModel {
  private readonly policies: Array<K8sObject & Record<string, any>>;
  private readonly namespaceLabels = new Map<string, Labels>();

  constructor(objects: ReadonlyArray<K8sObject>) {
    this.policies = objects.filter((o) => o.kind === "NetworkPolicy") as Array<K8sObject & Record<string, any>>;
    for (const ns of objects.filter((o) => o.kind === "Namespace")) {
      this.namespaceLabels.set(ns.metadata.name as string, { ...(ns.metadata.labels ?? {}), "kubernetes.io/metadata.name": ns.metadata.name as string });
    }
  }

  private peerMatches(peer: Record<string, any>, policyNs: string, src: PodView): boolean {
    if (peer.ipBlock) return false;
    const nsLabels = this.namespaceLabels.get(src.namespace) ?? { "kubernetes.io/metadata.name": src.namespace };
    const nsOk = peer.namespaceSelector ? matches(peer.namespaceSelector, nsLabels) : src.namespace === policyNs;
    return nsOk && (peer.podSelector ? matches(peer.podSelector, src.labels) : true);
  }

  private selecting(pod: PodView, type: "Ingress" | "Egress") {
    return this.policies.filter((p) => p.metadata.namespace === pod.namespace && matches(p.spec.podSelector, pod.labels) && (p.spec.policyTypes ?? ["Ingress"]).includes(type));
  }

  /** Whether `dst` accepts `src` on the port. */
  ingress(src: PodView, dst: PodView, port: Port): boolean {
    const pols = this.selecting(dst, "Ingress");
    if (pols.length === 0) return true;
    return pols.some((p) => (p.spec.ingress ?? []).some((r: any) => portAllowed(r.ports, port) && (!r.from || r.from.length === 0 || r.from.some((peer: any) => this.peerMatches(peer, p.metadata.namespace as string, src)))));
  }

  /** Whether `src` may open a connection to the pod `dst` on the port. */
  egress(src: PodView, dst: PodView, port: Port): boolean {
    const pols = this.selecting(src, "Egress");
    if (pols.length === 0) return true;
    return pols.some((p) => (p.spec.egress ?? []).some((r: any) => portAllowed(r.ports, port) && (!r.to || r.to.length === 0 || r.to.some((peer: any) => this.peerMatches(peer, p.metadata.namespace as string, dst)))));
  }

  /** Whether `src` may open a connection to the IP block exactly as declared (an external node: CIDR and exceptions). */
  egressToBlock(src: PodView, block: IpBlock, port: Port): boolean {
    const pols = this.selecting(src, "Egress");
    if (pols.length === 0) return true;
    return pols.some((p) => (p.spec.egress ?? []).some((r: any) => portAllowed(r.ports, port) && (r.to ?? []).some((peer: any) => sameBlock(peer.ipBlock, block))));
  }

  /** Whether the pod accepts connections from the IP block on the port. */
  ingressFromBlock(dst: PodView, block: IpBlock, port: Port): boolean {
    const pols = this.selecting(dst, "Ingress");
    if (pols.length === 0) return true;
    return pols.some((p) => (p.spec.ingress ?? []).some((r: any) => portAllowed(r.ports, port) && (r.from ?? []).some((peer: any) => sameBlock(peer.ipBlock, block))));
  }
}

const podOf = (n: GraphNodeProps): PodView => ({ namespace: n.namespace as string, labels: { ...n.selector } });

/**
 * The name under which NetworkPolicies can tell a node apart: external nodes with the same CIDRs are one network,
 * and nodes whose selectors pick the same pods (one contains the other, same namespace) are one set of pods.
 */
function canonicalNames(graph: ServiceGraph): Map<string, string> {
  const nodes = graph.nodes;
  const parent = new Map(nodes.map((n) => [n.id, n.id]));
  const find = (id: string): string => (parent.get(id) === id ? id : find(parent.get(id)!));
  const union = (a: string, b: string) => {
    const [x, y] = [find(a), find(b)].sort();
    parent.set(y, x);
  };
  const blocks = (n: GraphNodeProps) => JSON.stringify([[...(n.cidrs ?? [])].sort(), [...(n.exceptCidrs ?? [])].sort()]);
  for (const a of nodes) {
    for (const b of nodes) {
      if (a.id >= b.id) continue;
      if (a.kind === "external" && b.kind === "external" && blocks(a) === blocks(b)) union(a.id, b.id);
      if (a.kind !== "external" && b.kind !== "external" && a.namespace === b.namespace) {
        const sa = { ...a.selector };
        const sb = { ...b.selector };
        if (matches({ matchLabels: sa }, sb) || matches({ matchLabels: sb }, sa)) union(a.id, b.id);
      }
    }
  }
  return new Map(nodes.map((n) => [n.id, find(n.id)]));
}

/**
 * Reachability between graph nodes computed from NetworkPolicies alone, as `from -> to:port` strings, next to what the
 * graph declares, both over the nodes NetworkPolicies can tell apart (see `canonicalNames`).
 */
export function networkReachability(graph: ServiceGraph, objects: ReadonlyArray<K8sObject>): { allowed: string[]; declared: string[] } {
  const model = new NetworkPolicyModel(objects);
  const canon = canonicalNames(graph);
  const nodes = graph.nodes;
  const allowed = new Set<string>();
  const declared = new Set<string>();
  for (const e of graph.edges) {
    if (canon.get(e.from) === canon.get(e.to)) continue;
    const to = graph.node(e.to);
    for (const name of e.ports) {
      const p = to.ports.find((x) => x.name === name)!;
      declared.add(`${canon.get(e.from)} -> ${canon.get(e.to)}:${p.targetPort ?? p.port}`);
    }
  }
  for (const a of nodes) {
    for (const b of nodes) {
      if (canon.get(a.id) === canon.get(b.id)) continue;
      if (a.kind === "external" && b.kind === "external") continue;
      for (const p of b.ports) {
        const port = { port: p.targetPort ?? p.port, protocol: p.transport ?? "TCP" };
        let ok: boolean;
        const blocks = (n: GraphNodeProps) => (n.cidrs ?? []).map((cidr) => ({ cidr, except: n.exceptCidrs }));
        if (b.kind === "external") ok = blocks(b).every((c) => model.egressToBlock(podOf(a), c, port));
        else if (a.kind === "external") ok = blocks(a).every((c) => model.ingressFromBlock(podOf(b), c, port));
        else ok = model.egress(podOf(a), podOf(b), port) && model.ingress(podOf(a), podOf(b), port);
        if (ok) allowed.add(`${canon.get(a.id)} -> ${canon.get(b.id)}:${port.port}`);
      }
    }
  }
  return { allowed: [...allowed].sort(), declared: [...declared].sort() };
}

/** Root namespace of the mesh: its AuthorizationPolicies apply everywhere. */
const MESH_ROOT = "istio-system";
/** Ports the Istio agent serves itself (health 15021, merged stats 15020): no Envoy listener, no authorization. */
const AGENT_PORTS = new Set([15020, 15021]);

/**
 * Evaluates Istio AuthorizationPolicies for plain TCP/HTTP connections: DENY first, then a workload with any ALLOW
 * policy is reachable only through a matching rule. Conditions on requests (paths, JWT principals) are taken as
 * satisfiable, since reachability asks whether any request can get through.
 */
export class AuthorizationModel {
  private readonly policies: Array<K8sObject & Record<string, any>>;
  private readonly meshedNamespaces = new Set<string>();

  constructor(objects: ReadonlyArray<K8sObject>) {
    this.policies = objects.filter((o) => o.kind === "AuthorizationPolicy") as Array<K8sObject & Record<string, any>>;
    for (const ns of objects.filter((o) => o.kind === "Namespace")) {
      const labels = ns.metadata.labels ?? {};
      if (labels["istio-injection"] === "enabled" || labels["istio.io/rev"]) this.meshedNamespaces.add(ns.metadata.name as string);
    }
  }

  /** Whether pods of the namespace run a sidecar (and so enforce AuthorizationPolicies). */
  meshed(namespace: string | undefined): boolean {
    return namespace !== undefined && this.meshedNamespaces.has(namespace);
  }

  private applying(dst: PodView, action: string) {
    return this.policies.filter(
      (p) => (p.metadata.namespace === dst.namespace || p.metadata.namespace === MESH_ROOT) && (p.spec?.action ?? "ALLOW") === action && matches(p.spec?.selector, dst.labels),
    );
  }

  private ruleMatches(rule: Record<string, any>, src: { principal?: string; namespace?: string; cidrs?: ReadonlyArray<string> }, port: number): boolean {
    const fromOk = !rule.from || rule.from.some((f: any) => {
      const s = f.source ?? {};
      if (s.principals && !(src.principal && s.principals.some((p: string) => p === "*" || p === src.principal))) return false;
      if (s.namespaces && !(src.namespace && s.namespaces.includes(src.namespace))) return false;
      if (s.ipBlocks && !(src.cidrs && src.cidrs.every((c) => s.ipBlocks.includes(c)))) return false;
      if (s.notPrincipals && src.principal && s.notPrincipals.includes(src.principal)) return false;
      return true;
    });
    const toOk = !rule.to || rule.to.some((t: any) => !t.operation?.ports || t.operation.ports.includes(String(port)));
    return fromOk && toOk;
  }

  /** Whether a connection from `src` reaches `dst` on `port` past the mesh's authorization. */
  allows(src: { principal?: string; namespace?: string; cidrs?: ReadonlyArray<string> }, dst: PodView, port: number): boolean {
    if (!this.meshed(dst.namespace) || AGENT_PORTS.has(port)) return true;
    if (this.applying(dst, "DENY").some((p) => (p.spec.rules ?? []).some((r: any) => this.ruleMatches(r, src, port)))) return false;
    const allow = this.applying(dst, "ALLOW");
    if (allow.length === 0) return true;
    return allow.some((p) => (p.spec?.rules ?? []).some((r: any) => this.ruleMatches(r, src, port)));
  }
}

/**
 * Reachability from NetworkPolicies and AuthorizationPolicies together (a connection needs both), next to the
 * declared edges, over the nodes the policies can tell apart; plus the declared edges the mesh alone would refuse.
 */
export function fullReachability(graph: ServiceGraph, objects: ReadonlyArray<K8sObject>): { allowed: string[]; declared: string[]; refusedByMesh: string[] } {
  const net = networkReachability(graph, objects);
  const authz = new AuthorizationModel(objects);
  const canon = canonicalNames(graph);
  const source = (n: GraphNodeProps) =>
    n.kind === "external"
      ? { cidrs: n.cidrs }
      : { namespace: n.namespace, principal: authz.meshed(n.namespace) ? `cluster.local/ns/${n.namespace}/sa/${n.serviceAccount}` : undefined };
  const byCanon = new Map<string, GraphNodeProps[]>();
  for (const n of graph.nodes) byCanon.set(canon.get(n.id)!, [...(byCanon.get(canon.get(n.id)!) ?? []), n]);
  const meshAllows = (fromCanon: string, toCanon: string, port: number) =>
    (byCanon.get(fromCanon) ?? []).some((a) => (byCanon.get(toCanon) ?? []).some((b) => b.kind === "external" || authz.allows(source(a), podOf(b), port)));
  const parse = (k: string) => {
    const m = /^(.*) -> (.*):(\d+)$/.exec(k)!;
    return [m[1], m[2], Number(m[3])] as const;
  };
  const allowed = net.allowed.filter((k) => meshAllows(...parse(k)));
  const refusedByMesh = net.declared.filter((k) => !meshAllows(...parse(k)));
  return { allowed, declared: net.declared, refusedByMesh };
}
