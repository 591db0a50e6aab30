import { Chart, Testing } from "cdk8s";
import { EdgeGateway, pathsOf } from "../../../components/mesh/edge-gateway";
import { SecurityComponent } from "../../../components/security";
import { dev, prod } from "../../../stacks/environments";
import { K8sObject } from "../../../policies/types";
import { findAll, findOne } from "../../support/objects";
import { meshPlatform } from "./support";

const JWT = { issuer: "https://auth.example.com", jwksUri: "https://auth.example.com/.well-known/jwks.json", audiences: ["api.example.com"] };

function hostsOf(objects: ReadonlyArray<K8sObject>): string[] {
  return [
    ...findAll(objects, "Gateway").flatMap((g: any) => g.spec.servers.flatMap((s: any) => s.hosts)),
    ...findAll(objects, "VirtualService").flatMap((v: any) => v.spec.hosts),
    ...findAll(objects, "Sidecar").flatMap((s: any) => s.spec.egress.flatMap((e: any) => e.hosts)).filter((h: string) => h !== "istio-system/*"),
  ];
}

describe("the edge", () => {
  const { objects } = meshPlatform(dev, { edge: { jwt: JWT } });

  it("serves exact hosts per environment, never a wildcard", () => {
    const gw = findOne(objects, "Gateway", "edge", "istio-ingress");
    expect(gw.spec.selector).toEqual({ app: "istio-ingressgateway", istio: "ingressgateway" });
    for (const s of gw.spec.servers) expect(s.hosts).toEqual(["istio-ingress/api.dev.stratum.example.com"]);
    const prodGw = findOne(meshPlatform(prod).objects, "Gateway", "edge", "istio-ingress");
    expect(prodGw.spec.servers[0].hosts).toEqual(["istio-ingress/api.prod.stratum.example.com"]);
    const hosts = hostsOf(objects);
    expect(hosts.length).toBeGreaterThan(5);
    expect(hosts.filter((h) => h.includes("*"))).toEqual([]);
  });

  it("redirects HTTP to HTTPS and terminates TLS with the referenced certificate", () => {
    const [http, https] = findOne(objects, "Gateway", "edge", "istio-ingress").spec.servers;
    expect(http).toMatchObject({ port: { number: 80, protocol: "HTTP" }, tls: { httpsRedirect: true } });
    expect(https).toMatchObject({ port: { number: 443, protocol: "HTTPS" }, tls: { mode: "SIMPLE", credentialName: "edge-tls", minProtocolVersion: "TLSV1_2" } });
  });

  it("routes the edge to the API gateway service with the edge timeout", () => {
    const vs = findOne(objects, "VirtualService", "edge", "istio-ingress");
    expect(vs.spec.gateways).toEqual(["istio-ingress/edge"]);
    expect(vs.spec.hosts).toEqual(["api.dev.stratum.example.com"]);
    expect(vs.spec.http).toEqual([{ name: "api-gateway", match: [{ uri: { prefix: "/" } }], route: [{ destination: { host: "gateway.gateway.svc.cluster.local", port: { number: 8080 } } }], timeout: "30s" }]);
  });

  it("checks tokens with the configured issuer, JWKS and audiences, and forwards them", () => {
    const ra = findOne(objects, "RequestAuthentication", "edge-jwt", "istio-ingress");
    expect(ra.spec).toEqual({
      selector: { matchLabels: { app: "istio-ingressgateway", istio: "ingressgateway" } },
      jwtRules: [{ issuer: JWT.issuer, jwks_uri: JWT.jwksUri, audiences: JWT.audiences, forwardOriginalToken: true }],
    });
  });

  it("requires a valid token (and a listed role) on protected routes, none on public ones, and only redirects on port 80", () => {
    const rules = findOne(objects, "AuthorizationPolicy", "edge-access", "istio-ingress").spec.rules;
    expect(rules).toEqual([
      { to: [{ operation: { ports: ["80"] } }] },
      { to: [{ operation: { ports: ["443"], paths: ["/api/catalog", "/api/catalog/*"] } }] },
      {
        from: [{ source: { requestPrincipals: ["https://auth.example.com/*"] } }],
        to: [{ operation: { ports: ["443"], paths: ["/api/orders", "/api/orders/*"] } }],
        when: [{ key: "request.auth.claims[roles]", values: ["customer", "admin"] }],
      },
      {
        from: [{ source: { requestPrincipals: ["https://auth.example.com/*"] } }],
        to: [{ operation: { ports: ["443"], paths: ["/api/payments", "/api/payments/*"] } }],
      },
    ]);
  });

  it("lets istiod fetch the signing keys through a declared edge", () => {
    const o = meshPlatform(dev, { edge: { jwt: JWT } });
    const jwks = o.platform.graph.node("jwks-issuer");
    expect(jwks.host).toBe("auth.example.com");
    expect(jwks.exceptCidrs).toEqual([dev.network.vpcCidr]);
    expect(o.platform.graph.outgoing("istiod").map((e) => e.to)).toContain("jwks-issuer");
  });

  it("derives paths for a prefix and for the root", () => {
    expect(pathsOf("/api/orders/")).toEqual(["/api/orders", "/api/orders/*"]);
    expect(pathsOf("/")).toEqual(["/*"]);
  });

  it("refuses wildcard hosts and a bad certificate name, naming them", () => {
    const chart = () => new Chart(Testing.app(), "t");
    expect(() => new EdgeGateway(chart(), "Edge", { hosts: ["*.example.com"], tls: { certificate: { secretName: "edge-tls" } } }))
      .toThrow('hosts must be exact DNS names without wildcards (got "*.example.com")');
    expect(() => new EdgeGateway(chart(), "Edge", { hosts: ["api.example.com"], tls: { certificate: { secretName: "Edge TLS" } } }))
      .toThrow('tls.certificate.secretName must be a Secret name (got "Edge TLS")');
  });

  it("refuses a public route that names roles", () => {
    expect(() => meshPlatform(dev, { edge: { routes: [{ pathPrefix: "/public", auth: false, roles: ["admin"] }] } }))
      .toThrow("route /public is public but names roles admin");
  });

  it("uses the token configuration the API gateway hands over", () => {
    const o = meshPlatform(dev, {}, (_p, mesh) => mesh.useJwt({ ...JWT, issuer: "https://id.example.org" }));
    expect(findOne(o.objects, "RequestAuthentication", "edge-jwt", "istio-ingress").spec.jwtRules[0].issuer).toBe("https://id.example.org");
  });

  it("has the security component issue the edge certificate for exactly its hosts", () => {
    const o = meshPlatform(prod, {}, undefined, (p) => p.add((scope, context) => new SecurityComponent(scope, "Security", context)));
    const cert = findOne(o.objects, "Certificate", "edge-tls", "istio-ingress");
    expect(cert.spec.secretName).toBe("edge-tls");
    expect(cert.spec.dnsNames).toEqual(["api.prod.stratum.example.com"]);
    expect(findOne(o.objects, "Gateway", "edge", "istio-ingress").spec.servers[1].tls.credentialName).toBe("edge-tls");
  });

  it("uses a certificate reference as given, without issuing one", () => {
    const o = meshPlatform(dev, { edge: { tls: { certificate: { secretName: "shop-tls" }, minProtocolVersion: "TLSV1_3" } } }, undefined, (p) => p.add((scope, context) => new SecurityComponent(scope, "Security", context)));
    expect(findAll(o.objects, "Certificate").filter((c) => c.metadata.namespace === "istio-ingress")).toEqual([]);
    expect(findOne(o.objects, "Gateway", "edge", "istio-ingress").spec.servers[1].tls).toMatchObject({ credentialName: "shop-tls", minProtocolVersion: "TLSV1_3" });
  });
});
