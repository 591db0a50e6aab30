import { dev, prod, staging } from "../../../stacks/environments";
import { ISTIO_NAMESPACE, INGRESS_NAMESPACE, ISTIOD, ISTIOD_XDS, INGRESS_GATEWAY, JWKS_ISSUER, PUBLIC_CLIENTS } from "../../../components/mesh";
import { findAll, findOne } from "../../support/objects";
import { meshPlatform } from "./support";

const CHARTS = "https://istio-release.storage.googleapis.com/charts";

function app(objects: ReturnType<typeof meshPlatform>["objects"], name: string) {
  return findOne(objects, "Application", name, "argocd");
}

describe("MeshComponent", () => {
  const { platform, mesh, objects } = meshPlatform(dev);

  it("installs base, CNI, istiod and the ingress gateway at exactly 1.24.6, in that order", () => {
    const releases = ["istio-base", "istio-cni", "istiod", "istio-ingressgateway"].map((n) => app(objects, n));
    for (const a of releases) {
      expect(a.spec.source.repoURL).toBe(CHARTS);
      expect(a.spec.source.targetRevision).toBe("1.24.6");
    }
    expect(releases.map((a) => a.spec.source.chart)).toEqual(["base", "cni", "istiod", "gateway"]);
    const waves = releases.map((a) => Number(a.metadata.annotations?.["argocd.argoproj.io/sync-wave"]));
    expect([...waves].sort((a, b) => a - b)).toEqual(waves);
    expect(new Set(waves).size).toBe(4);
  });

  it("configures JSON access logs and the OpenTelemetry provider at the tracing collector", () => {
    const values = app(objects, "istiod").spec.source.helm.valuesObject;
    expect(values.meshConfig.accessLogFile).toBe("/dev/stdout");
    expect(values.meshConfig.accessLogEncoding).toBe("JSON");
    expect(values.meshConfig.extensionProviders).toEqual([{ name: "otel-tracing", opentelemetry: { service: "otel-collector.observability.svc.cluster.local", port: 4317 } }]);
    expect(values.meshConfig.defaultProviders).toEqual({ tracing: ["otel-tracing"] });
    expect(values.cni).toEqual({ enabled: true });
    const telemetry = findOne(objects, "Telemetry", "mesh-default", ISTIO_NAMESPACE);
    expect(telemetry.spec.tracing[0]).toEqual({ providers: [{ name: "otel-tracing" }], randomSamplingPercentage: 100 });
  });

  it.each([
    ["dev", dev, 1, 2, 1, 2],
    ["staging", staging, 2, 3, 2, 4],
    ["prod", prod, 3, 5, 3, 10],
  ] as const)("sizes istiod and the ingress gateway from the %s environment", (_name, env, iMin, iMax, gMin, gMax) => {
    const o = meshPlatform(env).objects;
    const istiod = app(o, "istiod").spec.source.helm.valuesObject;
    expect([istiod.autoscaleMin, istiod.autoscaleMax, istiod.replicaCount]).toEqual([iMin, iMax, iMin]);
    expect(istiod.resources).toEqual(env.sizing.mesh.istiod.resources);
    expect(istiod.global.proxy.resources).toEqual(env.sizing.mesh.proxy);
    const gw = app(o, "istio-ingressgateway").spec.source.helm.valuesObject;
    expect(gw.autoscaling).toEqual({ enabled: true, minReplicas: gMin, maxReplicas: gMax, targetCPUUtilizationPercentage: env.sizing.mesh.ingressGateway.targetCpuUtilization });
    expect(gw.resources).toEqual(env.sizing.mesh.ingressGateway.resources);
  });

  it("spreads the control plane and gateway as hard as the environment asks", () => {
    const gw = app(meshPlatform(prod).objects, "istio-ingressgateway").spec.source.helm.valuesObject;
    expect(gw.topologySpreadConstraints.map((t: any) => t.whenUnsatisfiable)).toEqual(["DoNotSchedule", "DoNotSchedule"]);
    const devGw = app(objects, "istio-ingressgateway").spec.source.helm.valuesObject;
    expect(devGw.topologySpreadConstraints.map((t: any) => t.whenUnsatisfiable)).toEqual(["ScheduleAnyway", "ScheduleAnyway"]);
  });

  it("runs the ingress gateway restricted: non-root, seccomp, no capabilities, only the port sysctl", () => {
    const gw = app(objects, "istio-ingressgateway").spec.source.helm.valuesObject;
    expect(gw.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }] });
    expect(gw.containerSecurityContext.capabilities).toEqual({ drop: ["ALL"] });
    expect(gw.containerSecurityContext.allowPrivilegeEscalation).toBe(false);
  });

  it("enforces STRICT mTLS mesh-wide from the root namespace, with no namespace-wide exception", () => {
    const pa = findOne(objects, "PeerAuthentication", "default", ISTIO_NAMESPACE);
    expect(pa.spec).toEqual({ mtls: { mode: "STRICT" } });
    const wide = findAll(objects, "PeerAuthentication").filter((p: any) => !p.spec?.selector);
    expect(wide.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual([`${ISTIO_NAMESPACE}/default`]);
  });

  it("labels every platform namespace that carries graph traffic for injection, and only those", () => {
    expect(mesh.meshedNamespaces).toEqual(["apps", "gateway", INGRESS_NAMESPACE]);
    const labelled = findAll(objects, "Namespace").filter((n) => n.metadata.labels?.["istio-injection"] === "enabled").map((n) => n.metadata.name);
    expect(labelled.sort()).toEqual(["apps", "gateway", INGRESS_NAMESPACE]);
    expect(findOne(objects, "Namespace", ISTIO_NAMESPACE).metadata.labels?.["istio-injection"]).toBeUndefined();
  });

  it("keeps injected namespaces restricted and gives only the CNI namespace a reasoned privileged exception", () => {
    for (const ns of ["apps", "gateway", INGRESS_NAMESPACE, ISTIO_NAMESPACE]) {
      expect(findOne(objects, "Namespace", ns).metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    }
    const cni = findOne(objects, "Namespace", "istio-cni");
    expect(cni.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    expect(cni.metadata.annotations?.["stratum.dev/pod-security-exception"]).toMatch(/CNI/);
  });

  it("declares istiod, its xDS endpoint and the ingress gateway in the graph, and routes the edge to the API gateway", () => {
    const g = platform.graph;
    expect(g.has(ISTIOD) && g.has(ISTIOD_XDS) && g.has(INGRESS_GATEWAY)).toBe(true);
    expect(g.edges.filter((e) => e.to === "gateway").map((e) => e.from)).toEqual([INGRESS_GATEWAY]);
    expect(g.incoming(INGRESS_GATEWAY).map((e) => [e.from, e.ports])).toEqual([[PUBLIC_CLIENTS, ["http2", "https", "status-port"]]]);
  });

  it("connects every proxy to istiod's xDS port, and the API server to istiod's webhook", () => {
    const g = platform.graph;
    const proxies = g.incoming(ISTIOD_XDS).map((e) => e.from).sort();
    expect(proxies).toEqual(["catalog", "gateway", INGRESS_GATEWAY, "order", "payment"]);
    expect(g.incoming(ISTIOD).map((e) => [e.from, e.ports])).toEqual([["kube-apiserver", ["https-webhook"]]]);
    expect(g.outgoing(ISTIOD).map((e) => e.to).sort()).toEqual([JWKS_ISSUER, "kube-apiserver"]);
  });

  it("derives istiod's NetworkPolicy from those edges: 15012 from each proxy, 15017 from the API server", () => {
    const xds = findOne(objects, "NetworkPolicy", "allow-istiod-xds", ISTIO_NAMESPACE);
    expect(xds.spec.ingress).toHaveLength(5);
    for (const rule of xds.spec.ingress) expect(rule.ports).toEqual([{ protocol: "TCP", port: 15012 }]);
    const istiod = findOne(objects, "NetworkPolicy", "allow-istiod", ISTIO_NAMESPACE);
    expect(istiod.spec.ingress).toEqual([{ from: dev.network.apiServer.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: 15017 }] }]);
  });

  it("exposes the edge certificate it needs for the security component", () => {
    expect(mesh.certificates).toEqual([{ namespace: INGRESS_NAMESPACE, secretName: "edge-tls", dnsNames: ["api.dev.stratum.example.com"] }]);
  });

  it("marks every Istio resource for the custom-resources wave and a dry run that tolerates missing CRDs", () => {
    const istio = objects.filter((o) => o.apiVersion.includes("istio.io"));
    expect(istio.length).toBeGreaterThan(15);
    for (const o of istio) {
      expect(o.metadata.annotations?.["argocd.argoproj.io/sync-wave"]).toBe("10");
      expect(o.metadata.annotations?.["argocd.argoproj.io/sync-options"]).toBe("SkipDryRunOnMissingResource=true");
      expect(o.apiVersion).toMatch(/\/v1$/);
    }
  });

  it("names an unknown service in configureService", () => {
    expect(() => meshPlatform(dev, {}, (_p, m) => m.configureService("ordr", { timeout: "5s" }))).toThrow("configureService names unknown business service(s) ordr");
  });

  it("rejects a token issuer that is not https", () => {
    expect(() => meshPlatform(dev, { edge: { jwt: { issuer: "http://auth.example.com", jwksUri: "https://auth.example.com/jwks", audiences: ["api"] } } }))
      .toThrow('jwt.issuer must be an https URL (got "http://auth.example.com")');
  });
});
