import { App, Testing } from "cdk8s";
import { GatewayComponent } from "../../../components/gateway";
import { MeshComponent } from "../../../components/mesh";
import { K8sObject } from "../../../policies/types";
import { dev } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";
import { findAll } from "../../support/objects";

function meshAndGateway(props: ConstructorParameters<typeof GatewayComponent>[3] = {}) {
  const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), dev.name, { environment: dev });
  platform.add((s, c) => new MeshComponent(s, "Mesh", c));
  const gateway = platform.add((s, c) => new GatewayComponent(s, "Gateway", c, props));
  platform.addService({ name: "order", image: "ghcr.io/acme/order:1.0.0", routes: [{ pathPrefix: "/api/orders", roles: ["customer"] }] });
  platform.addService({ name: "catalog", image: "ghcr.io/acme/catalog:1.0.0", routes: [{ pathPrefix: "/api/catalog", auth: false }] });
  platform.finalize();
  const objects = platform.components.flatMap((c) => Testing.synth(c)) as Array<K8sObject & Record<string, any>>;
  return { platform, gateway, objects };
}

describe("GatewayComponent with the mesh", () => {
  it("hands the mesh its token settings, so the edge and the gateway check the same issuer, keys and audiences", () => {
    const jwt = { issuer: "https://login.example.com/", jwksUri: "https://login.example.com/keys", audiences: ["shop"] };
    const { objects, gateway } = meshAndGateway({ jwt });
    const ra = findAll(objects, "RequestAuthentication") as Array<Record<string, any>>;
    expect(ra.length).toBeGreaterThan(0);
    for (const r of ra) expect(r.spec.jwtRules).toEqual([expect.objectContaining({ issuer: jwt.issuer, jwks_uri: jwt.jwksUri, audiences: jwt.audiences, forwardOriginalToken: true })]);
    expect(gateway.configText).toContain("jwks_uri: https://login.example.com/keys");
  });

  it("is reached from the ingress gateway and reaches the routed services, through the graph", () => {
    const { platform } = meshAndGateway();
    expect(platform.graph.incoming("gateway").map((e) => e.from)).toContain("istio-ingressgateway");
    expect(platform.graph.outgoing("gateway").map((e) => e.to)).toEqual(expect.arrayContaining(["order", "catalog", "jwks-issuer"]));
    expect(platform.graph.incoming("jwks-issuer").map((e) => e.from).sort()).toEqual(["gateway", "istiod"]);
  });

  it("passes its extra routes to the edge", () => {
    const { objects } = meshAndGateway({ routes: [{ pathPrefix: "/admin", service: "order", upstream: "http://order.apps.svc.cluster.local:8080", roles: ["admin"] }] });
    const text = JSON.stringify(findAll(objects, "AuthorizationPolicy").concat(findAll(objects, "VirtualService")));
    expect(text).toContain("/admin");
  });
});
