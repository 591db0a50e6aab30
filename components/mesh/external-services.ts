import { Construct } from "constructs";
import { ServiceEntry, ServiceEntrySpecLocation, ServiceEntrySpecResolution } from "../../constructs/imports/istio-networking.istio.io";
import { AppProtocol, GraphNodeProps } from "../../constructs/service-graph";
import { DERIVED_FROM, istioMetadata } from "./constants";

const PROTOCOL: Record<AppProtocol, string> = { http: "HTTP", http2: "HTTP2", grpc: "GRPC", tcp: "TCP", tls: "TLS" };
const ANYWHERE = "0.0.0.0/0";

/**
 * Registers external graph nodes that stand for specific networks (a managed Kafka or database in the VPC) with the
 * mesh, per consuming namespace: a ServiceEntry for their CIDRs and ports under a synthetic name, so that a proxy
 * with REGISTRY_ONLY still reaches exactly its declared external dependencies. A node known by a DNS name (clients
 * often use its subdomains, as S3 buckets do) or standing for "anywhere" is not registered; its consumers keep
 * ALLOW_ANY, and their NetworkPolicy still limits them to its CIDRs and ports.
 */
export class ExternalServiceEntries extends Construct {
  private readonly hosts = new Map<string, string | undefined>();

  /** The Sidecar egress host (`<namespace>/<host>`) for an external node consumed from `namespace`, or undefined. */
  egressHost(namespace: string, node: GraphNodeProps): string | undefined {
    const key = `${namespace}/${node.id}`;
    if (this.hosts.has(key)) return this.hosts.get(key);
    const host = this.register(namespace, node);
    this.hosts.set(key, host === undefined ? undefined : `${namespace}/${host}`);
    return this.hosts.get(key);
  }

  private register(namespace: string, node: GraphNodeProps): string | undefined {
    const cidrs = node.cidrs ?? [];
    if (node.host !== undefined || cidrs.length === 0 || cidrs.includes(ANYWHERE) || node.exceptCidrs?.length || node.ports.length === 0) return undefined;
    const host = `${node.id}.external.stratum`;
    new ServiceEntry(this, `${namespace}-${node.id}`, {
      metadata: istioMetadata(`external-${node.id}`, namespace, "traffic", { [DERIVED_FROM]: "service-graph" }),
      spec: {
        hosts: [host],
        addresses: [...cidrs],
        ports: node.ports.map((p) => ({ name: p.name, number: p.port, protocol: PROTOCOL[p.protocol] })),
        location: ServiceEntrySpecLocation.MESH_UNDERSCORE_EXTERNAL,
        resolution: ServiceEntrySpecResolution.NONE,
        exportTo: ["."],
      },
    });
    return host;
  }
}
