import { App, Testing } from "cdk8s";
import { parse } from "yaml";
import { GatewayComponent, GATEWAY_NODE, JWKS_ISSUER_NODE } from "../../../components/gateway";
import { DEFAULT_RULES, runPolicies } from "../../../policies";
import { settingsFrom } from "../../../services/gateway/src/config";
import { dev, Environment, prod } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";
import { findOne } from "../../support/objects";

/** The reference architecture's routes, on services without dependencies (so that this test needs no other component). */
function addReferenceServices(platform: Platform): void {
  const image = (name: string) => `ghcr.io/stratum-platform/samples/${name}-service:1.4.2`;
  platform.addService({ name: "order", image: image("order"), consumes: ["payment", "catalog", "customer"], routes: [{ pathPrefix: "/api/orders", roles: ["customer", "admin"] }] });
  platform.addService({ name: "payment", image: image("payment"), routes: [{ pathPrefix: "/api/payments", roles: ["admin"] }] });
  platform.addService({ name: "catalog", image: image("catalog"), routes: [{ pathPrefix: "/api/catalog", auth: false }] });
  platform.addService({ name: "customer", image: image("customer"), routes: [{ pathPrefix: "/api/customers", roles: ["customer", "admin"] }] });
}

function platformOf(environment: Environment): Platform {
  return new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), environment.name, { environment });
}

function build(environment: Environment, props: ConstructorParameters<typeof GatewayComponent>[3] = {}, services = true) {
  const platform = platformOf(environment);
  const gateway = platform.add((s, c) => new GatewayComponent(s, "Gateway", c, props));
  if (services) addReferenceServices(platform);
  platform.finalize();
  const objects = platform.components.flatMap((c) => Testing.synth(c));
  const own = Testing.synth(gateway);
  return { platform, gateway, objects, own };
}

describe("GatewayComponent", () => {
  it("renders the reference services' routes into a config the gateway itself accepts", () => {
    const { own, gateway } = build(prod);
    const cm = findOne(own, "ConfigMap", "gateway-config", "gateway");
    const config = parse(cm.data["gateway.yaml"]);
    expect(config.gateway).toEqual({ port: 8080, metrics_port: 9090, timeout: "30s", max_body_bytes: 1048576, trusted_proxy_hops: 1, shutdown_timeout: "25s", shutdown_delay: "5s" });
    expect(config.authentication.jwt).toEqual({
      issuer: "https://auth.prod.stratum.example.com",
      audience: "api.prod.stratum.example.com",
      algorithms: ["RS256"],
      jwks_uri: "https://auth.prod.stratum.example.com/.well-known/jwks.json",
      clock_skew: "30s",
      roles_claim: "roles",
    });
    expect(config.circuit_breaker).toEqual({ failure_threshold: 5, recovery_timeout: "30s", success_threshold: 2 });
    expect(config.rate_limiting).toEqual({ default: { requests_per_second: 100, burst: 200 } });
    expect(config.routes.map((r: { path_prefix: string }) => r.path_prefix)).toEqual(["/api/catalog", "/api/customers", "/api/orders", "/api/payments"]);
    expect(config.routes[2]).toEqual({
      path_prefix: "/api/orders",
      service: "order",
      upstream: "http://order.apps.svc.cluster.local:8080",
      auth: { required: true, roles: ["customer", "admin"] },
      claims_to_headers: { "x-user-id": "sub" },
    });
    expect(config.routes[0].auth).toEqual({ required: false });
    const settings = settingsFrom(config, "rendered");
    expect(settings.routes).toHaveLength(4);
    expect(gateway.configText).toBe(cm.data["gateway.yaml"]);
  });

  it("takes typed JWT, rate limit and breaker props", () => {
    const { gateway } = build(dev, {
      jwt: { issuer: "https://login.example.com/", audiences: ["shop", "admin"], jwksUri: "https://login.example.com/keys", algorithms: ["RS256", "ES256"] },
      rateLimits: { default: { requestsPerSecond: 20, burst: 40 }, perUser: { requestsPerSecond: 5, burst: 10 }, services: { payment: { requestsPerSecond: 50, burst: 50 } } },
      circuitBreaker: { failureThreshold: 3, recoveryTimeout: "10s" },
      timeout: "10s",
    });
    const config = parse(gateway.configText);
    expect(config.authentication.jwt).toMatchObject({ issuer: "https://login.example.com/", audience: ["shop", "admin"], algorithms: ["RS256", "ES256"], jwks_uri: "https://login.example.com/keys" });
    expect(config.rate_limiting).toEqual({
      default: { requests_per_second: 20, burst: 40 },
      per_user: { requests_per_second: 5, burst: 10 },
      overrides: { services: { payment: { requests_per_second: 50, burst: 50 } } },
    });
    expect(config.circuit_breaker).toEqual({ failure_threshold: 3, recovery_timeout: "10s", success_threshold: 2 });
    expect(config.gateway.timeout).toBe("10s");
  });

  it("refuses bad props with the construct path, the prop and the value", () => {
    expect(() => build(dev, { jwt: { issuer: "http://insecure" } })).toThrow('dev/Gateway: jwt.issuer must be an https URL (got "http://insecure")');
    expect(() => build(dev, { jwt: { algorithms: ["HS256" as never] } })).toThrow("jwt.algorithms must be asymmetric");
    expect(() => build(dev, { timeout: "soon" })).toThrow('timeout must be a duration such as 30s (got "soon")');
  });

  it("names every problem of a config the gateway would refuse, at synth time", () => {
    expect(() =>
      build(dev, { rateLimits: { default: { requestsPerSecond: 0, burst: 0 } }, routes: [{ pathPrefix: "/api/orders", service: "x", upstream: "http://x:1" }] }),
    ).toThrow(/the rendered gateway config is invalid:\n {2}- rate_limiting\.default\.requests_per_second: must be > 0 \(got 0\)\n {2}- rate_limiting\.default\.burst: must be >= 1 \(got 0\)/);
    expect(() => build(dev, { routes: [{ pathPrefix: "/api/orders", service: "x", upstream: "http://x:1" }] })).toThrow(/routes\[\d\]\.path_prefix: "\/api\/orders" is already routed/);
  });

  it("deploys the bundle as a hardened, autoscaled Deployment with Service, HPA and PDB that pass the policies", () => {
    const { own, gateway, objects } = build(prod);
    const deploy = findOne(own, "Deployment", "gateway", "gateway");
    const pod = deploy.spec.template.spec;
    const main = pod.containers[0];
    expect(main.image).toBe("docker.io/library/node:20.18.1-bookworm-slim");
    expect(main.command).toEqual(["node", "--enable-source-maps", "/opt/stratum/boot.js", "--config", "/etc/gateway/gateway.yaml"]);
    expect(main.volumeMounts).toContainEqual({ name: "config", mountPath: "/etc/gateway", readOnly: true });
    expect(pod.volumes).toContainEqual({ name: "config", configMap: { name: "gateway-config" } });
    expect(pod.volumes).toContainEqual({ name: "bundle", configMap: { name: gateway.asset.configMapName } });
    expect(pod.securityContext.runAsUser).toBe(65532);
    expect(main.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(pod.terminationGracePeriodSeconds).toBe(35);
    expect(main.env).toContainEqual({ name: "NODE_OPTIONS", value: "--max-old-space-size=192" }); // 3/4 of 256Mi
    expect(deploy.spec.template.metadata.annotations["stratum.dev/config-sha256"]).toMatch(/^[0-9a-f]{10}$/);
    expect(deploy.spec.template.metadata.annotations["stratum.dev/asset-sha256"]).toBe(gateway.asset.hash);
    const hpa = findOne(own, "HorizontalPodAutoscaler", "gateway", "gateway");
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    expect(hpa.spec.metrics[0].resource.target.averageUtilization).toBe(65);
    findOne(own, "PodDisruptionBudget", "gateway", "gateway");
    const svc = findOne(own, "Service", "gateway", "gateway");
    expect(svc.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port])).toEqual([["http", 8080], ["http-metrics", 9090]]);
    const report = runPolicies(objects, DEFAULT_RULES);
    expect(report.errors.filter((f) => f.namespace === "gateway")).toEqual([]);
  });

  it("rolls the pods when the routes change", () => {
    const hash = (extra: boolean) => {
      const platform = platformOf(dev);
      const gw = platform.add((s, c) => new GatewayComponent(s, "Gateway", c));
      addReferenceServices(platform);
      if (extra) platform.addService({ name: "search", image: "ghcr.io/acme/search:1.0.0", routes: [{ pathPrefix: "/api/search", auth: false }] });
      platform.finalize();
      return findOne(Testing.synth(gw), "Deployment", "gateway").spec.template.metadata.annotations["stratum.dev/config-sha256"];
    };
    expect(hash(false)).toBe(hash(false));
    expect(hash(true)).not.toBe(hash(false));
  });

  it("is graph node gateway, calling every routed service and the issuer's JWKS", () => {
    const { platform } = build(dev);
    const node = platform.graph.node(GATEWAY_NODE);
    expect(node.namespace).toBe("gateway");
    expect(node.ports.map((p) => [p.name, p.port, Boolean(p.metrics)])).toEqual([["http", 8080, false], ["http-metrics", 9090, true]]);
    expect(platform.graph.outgoing(GATEWAY_NODE).map((e) => `${e.to}:${e.ports.join(",")}`)).toEqual(["catalog:http", "customer:http", JWKS_ISSUER_NODE + ":https", "order:http", "payment:http"]);
    const jwks = platform.graph.node(JWKS_ISSUER_NODE);
    expect(jwks).toMatchObject({ kind: "external", host: "auth.dev.stratum.example.com", cidrs: ["0.0.0.0/0"], exceptCidrs: [dev.network.vpcCidr] });
  });

  it("lets only the gateway's NetworkPolicy reach the routed services", () => {
    const { objects } = build(dev);
    const np = findOne(objects, "NetworkPolicy", "allow-gateway", "gateway");
    const egressNamespaces = np.spec.egress.flatMap((r: any) => (r.to ?? []).map((t: any) => t.podSelector?.matchLabels?.["app.kubernetes.io/name"] ?? t.ipBlock?.cidr));
    expect(egressNamespaces).toEqual(expect.arrayContaining(["catalog", "customer", "order", "payment", "0.0.0.0/0"]));
    const order = findOne(objects, "NetworkPolicy", "allow-order", "apps");
    const from = order.spec.ingress.flatMap((r: any) => r.from.map((f: any) => f.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"]));
    expect(from).toContain("gateway");
  });

  it("refuses routes to a gRPC service", () => {
    const platform = platformOf(dev);
    platform.add((s, c) => new GatewayComponent(s, "Gateway", c));
    platform.addService({ name: "rpc", image: "ghcr.io/acme/rpc:1.0.0", protocol: "grpc", routes: [{ pathPrefix: "/rpc" }] });
    expect(() => platform.finalize()).toThrow("dev/Gateway: service 'rpc' has routes, but the gateway proxies HTTP and its port is grpc");
  });
});
