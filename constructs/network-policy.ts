import { Construct } from "constructs";
import * as k8s from "./imports/k8s";
import { recommendedLabels } from "./labels";
import { GraphEdge, GraphNodeProps, ServiceGraph } from "./service-graph";

const NS_LABEL = "kubernetes.io/metadata.name";

/** Where cluster DNS runs; the defaults are those of EKS, kubeadm and kind (CoreDNS labelled k8s-app=kube-dns). */
export interface DnsEndpoint {
  /** Namespace of the DNS pods. @default "kube-system" */
  readonly namespace?: string;
  /** Labels of the DNS pods. @default { "k8s-app": "kube-dns" } */
  readonly selector?: Record<string, string>;
}

/** Props of the per-namespace baseline policies. */
export interface NamespaceBaselinePoliciesProps {
  /** The namespace. */
  readonly namespace: string;
  /** Cluster DNS. @default CoreDNS in kube-system */
  readonly dns?: DnsEndpoint;
}

/** Default-deny of all ingress and egress in a namespace, plus egress to cluster DNS: the zero-trust baseline. */
export class NamespaceBaselinePolicies extends Construct {
  constructor(scope: Construct, id: string, props: NamespaceBaselinePoliciesProps) {
    super(scope, id);
    const labels = recommendedLabels({ name: "network-policy", component: "zero-trust", instance: props.namespace });
    new k8s.KubeNetworkPolicy(this, "DefaultDeny", {
      metadata: { name: "default-deny", namespace: props.namespace, labels },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    const dnsNs = props.dns?.namespace ?? "kube-system";
    new k8s.KubeNetworkPolicy(this, "AllowDns", {
      metadata: { name: "allow-dns", namespace: props.namespace, labels },
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { [NS_LABEL]: dnsNs } }, podSelector: { matchLabels: props.dns?.selector ?? { "k8s-app": "kube-dns" } } }],
            ports: [
              { protocol: "UDP", port: k8s.IntOrString.fromNumber(53) },
              { protocol: "TCP", port: k8s.IntOrString.fromNumber(53) },
            ],
          },
        ],
      },
    });
  }
}

function peer(node: GraphNodeProps): k8s.NetworkPolicyPeer[] {
  if (node.kind === "external") {
    return (node.cidrs ?? []).map((cidr) => ({ ipBlock: { cidr, except: node.exceptCidrs ? [...node.exceptCidrs] : undefined } }));
  }
  return [{ namespaceSelector: { matchLabels: { [NS_LABEL]: node.namespace as string } }, podSelector: { matchLabels: { ...node.selector } } }];
}

function ports(target: GraphNodeProps, edge: GraphEdge): k8s.NetworkPolicyPort[] {
  return edge.ports.map((name) => {
    const p = target.ports.find((x) => x.name === name)!;
    return { protocol: p.transport ?? "TCP", port: k8s.IntOrString.fromNumber(p.targetPort ?? p.port) };
  });
}

/**
 * The NetworkPolicy of one graph node: its pods accept exactly the declared incoming edges and may open exactly the
 * declared outgoing edges, one rule per edge. Written into the node's own scope, so it lands in its component's file.
 */
export function addGraphNetworkPolicy(graph: ServiceGraph, node: GraphNodeProps): k8s.KubeNetworkPolicy | undefined {
  if (node.kind === "external" || !node.scope) return undefined;
  const ingress = graph.incoming(node.id).map((e) => ({ from: peer(graph.node(e.from)), ports: ports(node, e) }));
  const egress = graph.outgoing(node.id).map((e) => {
    const target = graph.node(e.to);
    return { to: peer(target), ports: ports(target, e) };
  });
  if (ingress.length === 0 && egress.length === 0) return undefined;
  return new k8s.KubeNetworkPolicy(node.scope, `NetworkPolicy-${node.id}`, {
    metadata: {
      name: `allow-${node.id}`,
      namespace: node.namespace,
      labels: recommendedLabels({ name: "network-policy", component: "zero-trust", instance: node.id }),
      annotations: { "stratum.dev/derived-from": "service-graph" },
    },
    spec: {
      podSelector: { matchLabels: { ...node.selector } },
      policyTypes: ["Ingress", "Egress"],
      ingress,
      egress,
    },
  });
}
