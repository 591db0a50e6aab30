import { JsonPatch } from "cdk8s";
import { Construct } from "constructs";
import {
  AuthorizationPolicy, AuthorizationPolicySpecAction, AuthorizationPolicySpecRules,
} from "../../constructs/imports/istio-security.istio.io";
import { GraphEdge, GraphNodeProps, ServiceGraph } from "../../constructs/service-graph";
import { DERIVED_FROM, istioMetadata, principalOf } from "./constants";

/** Props of the graph-derived authorization. */
export interface GraphAuthorizationProps {
  /** The resolved service graph. */
  readonly graph: ServiceGraph;
  /** Namespaces whose workloads run a proxy: each gets a default deny. */
  readonly namespaces: ReadonlyArray<string>;
  /** Whether a node runs a proxy (and so enforces AuthorizationPolicies). */
  readonly meshed: (node: GraphNodeProps) => boolean;
  /** Trust domain of principals. */
  readonly trustDomain: string;
  /** Edges another construct authorizes instead (the edge gateway's token-checked internet traffic). @default none */
  readonly handledElsewhere?: (edge: GraphEdge) => boolean;
}

/** Edges grouped by one end's node id, read once (`ServiceGraph.edges` sorts on every read). */
export function edgesBy(edges: ReadonlyArray<GraphEdge>, end: "from" | "to"): Map<string, GraphEdge[]> {
  const out = new Map<string, GraphEdge[]>();
  for (const e of edges) {
    const list = out.get(e[end]);
    if (list) list.push(e);
    else out.set(e[end], [e]);
  }
  return out;
}

/** Name of the per-namespace default deny. */
export const ALLOW_NOTHING = "allow-nothing";

function targetPorts(node: GraphNodeProps, edge: GraphEdge): string[] {
  return edge.ports.map((name) => {
    const p = node.ports.find((x) => x.name === name);
    if (!p) throw new Error(`mesh: edge ${edge.from} -> ${edge.to} names port '${name}', which '${node.id}' does not expose`);
    return String(p.targetPort ?? p.port);
  });
}

/** The ALLOW rule of one edge: the source's identity (or, for a network outside the cluster, its CIDRs) on the edge's ports. */
export function ruleForEdge(graph: ServiceGraph, edge: GraphEdge, trustDomain: string): AuthorizationPolicySpecRules {
  const source = graph.node(edge.from);
  const target = graph.node(edge.to);
  const to = [{ operation: { ports: targetPorts(target, edge) } }];
  if (source.kind === "external") {
    return {
      from: [{ source: { ipBlocks: [...(source.cidrs ?? [])], notIpBlocks: source.exceptCidrs?.length ? [...source.exceptCidrs] : undefined } }],
      to,
    };
  }
  return { from: [{ source: { principals: [principalOf(source, trustDomain)] } }], to };
}

/**
 * Zero trust in the mesh, derived from the service graph: an empty `allow-nothing` AuthorizationPolicy in every meshed
 * namespace, then per meshed node one ALLOW policy with exactly one rule per declared incoming edge, naming the
 * caller's ServiceAccount principal and the edge's ports. Nothing is allowed by hand.
 */
export class GraphAuthorization extends Construct {
  /** The ALLOW policies by graph node id. */
  readonly allowPolicies = new Map<string, AuthorizationPolicy>();

  constructor(scope: Construct, id: string, props: GraphAuthorizationProps) {
    super(scope, id);
    for (const ns of [...props.namespaces].sort()) {
      const deny = new AuthorizationPolicy(this, `AllowNothing-${ns}`, {
        metadata: istioMetadata(ALLOW_NOTHING, ns, "zero-trust"),
      });
      // An empty spec is Istio's "allow nothing"; cdk8s drops empty objects, so the patch states it explicitly.
      deny.addJsonPatch(JsonPatch.add("/spec", {}));
    }
    const incoming = edgesBy(props.graph.edges, "to");
    for (const node of props.graph.nodes) {
      if (node.kind === "external" || !props.meshed(node)) continue;
      const edges = (incoming.get(node.id) ?? []).filter((e) => !props.handledElsewhere?.(e));
      if (edges.length === 0) continue;
      this.allowPolicies.set(node.id, new AuthorizationPolicy(this, `Allow-${node.id}`, {
        metadata: istioMetadata(`allow-${node.id}`, node.namespace as string, "zero-trust", { [DERIVED_FROM]: "service-graph" }),
        spec: {
          selector: { matchLabels: { ...node.selector } },
          action: AuthorizationPolicySpecAction.ALLOW,
          rules: edges.map((e) => ruleForEdge(props.graph, e, props.trustDomain)),
        },
      }));
    }
  }
}
