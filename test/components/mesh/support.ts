import { App } from "cdk8s";
import { MeshComponent, MeshProps } from "../../../components/mesh";
import { Environment } from "../../../stacks/environments/environment";
import { Platform } from "../../../stacks/platform";
import { K8sObject } from "../../../policies/types";
import { findAll } from "../../support/objects";

/** A platform with only the mesh, the reference-like services and a stand-in API gateway: fast and isolated. */
export interface MeshFixture {
  readonly platform: Platform;
  readonly mesh: MeshComponent;
  readonly objects: K8sObject[];
}

/** Adds a stand-in for the gateway component (graph node `gateway` in namespace `gateway`, port http 8080). */
export function addGatewayStandIn(platform: Platform): void {
  platform.ensureNamespace({ name: "gateway", component: "gateway" });
  platform.graph.addNode({
    id: "gateway",
    kind: "component",
    namespace: "gateway",
    serviceAccount: "gateway",
    selector: { "app.kubernetes.io/name": "gateway" },
    host: "gateway.gateway.svc.cluster.local",
    ports: [{ name: "http", port: 8080, protocol: "http" }, { name: "http-metrics", port: 9090, protocol: "http", metrics: true }],
    scope: platform.namespaces,
  });
}

/** Builds and finalizes a mesh platform; `before` adds components ahead of the mesh, `customize` runs before finalize. */
export function meshPlatform(environment: Environment, props: MeshProps = {}, customize?: (p: Platform, mesh: MeshComponent) => void, before?: (p: Platform) => void): MeshFixture {
  const app = new App({ outdir: "unused", recordConstructMetadata: false });
  const platform = new Platform(app, environment.name, { environment });
  before?.(platform);
  const mesh = platform.add((scope, context) => new MeshComponent(scope, "Mesh", context, props));
  platform.addService({ name: "order", image: "ghcr.io/acme/order:1.0.0", consumes: ["payment", "catalog"], routes: [{ pathPrefix: "/api/orders", roles: ["customer", "admin"] }] });
  platform.addService({ name: "payment", image: "ghcr.io/acme/payment:1.0.0", routes: [{ pathPrefix: "/api/payments" }] });
  platform.addService({ name: "catalog", image: "ghcr.io/acme/catalog:1.0.0", routes: [{ pathPrefix: "/api/catalog", auth: false }] });
  addGatewayStandIn(platform);
  platform.graph.connect("gateway", "order");
  platform.graph.connect("gateway", "payment");
  platform.graph.connect("gateway", "catalog");
  customize?.(platform, mesh);
  platform.finalize();
  const objects = platform.components.flatMap((c) => c.toJson() as K8sObject[]);
  return { platform, mesh, objects };
}

function workload(namespace: string, labels: Readonly<Record<string, string>>): string {
  return `${namespace}/${Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(",")}`;
}

/**
 * Reads the AuthorizationPolicies alone (as a cluster would) and answers which principal may call which workload
 * (namespace and pod labels) on which port: `principal -> namespace/labels:port`.
 */
export function allowedCalls(objects: ReadonlyArray<K8sObject>): string[] {
  const out = new Set<string>();
  for (const p of findAll(objects, "AuthorizationPolicy") as Array<K8sObject & Record<string, any>>) {
    if (!p.spec?.selector || p.spec.action !== "ALLOW") continue;
    const target = workload(p.metadata.namespace as string, p.spec.selector.matchLabels);
    for (const rule of p.spec.rules ?? []) {
      for (const principal of rule.from?.flatMap((f: any) => f.source.principals ?? []) ?? []) {
        for (const port of rule.to.flatMap((t: any) => t.operation.ports)) out.add(`${principal} -> ${target}:${port}`);
      }
    }
  }
  return [...out].sort();
}

/** The same, computed from the service graph: every edge from a caller inside the cluster to a meshed workload. */
export function expectedCalls(platform: Platform, meshedNamespaces: ReadonlyArray<string>): string[] {
  const meshed = new Set(meshedNamespaces);
  const out = new Set<string>();
  for (const e of platform.graph.edges) {
    const from = platform.graph.node(e.from);
    const to = platform.graph.node(e.to);
    if (from.kind === "external" || !to.namespace || !meshed.has(to.namespace)) continue;
    for (const name of e.ports) {
      const port = to.ports.find((p) => p.name === name)!;
      out.add(`cluster.local/ns/${from.namespace}/sa/${from.serviceAccount} -> ${workload(to.namespace, to.selector ?? {})}:${port.targetPort ?? port.port}`);
    }
  }
  return [...out].sort();
}
