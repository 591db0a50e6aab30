import { Construct } from "constructs";
import { Telemetry } from "../../constructs/imports/istio-telemetry.istio.io";
import { PeerAuthentication } from "../../constructs/imports/istio-security.istio.io";
import { PlatformNamespace } from "../../constructs/namespace";
import { GraphNodeProps } from "../../constructs/service-graph";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { SecurityComponent } from "../security";
import { ServicesComponent } from "../services/services";
import { edgesBy, GraphAuthorization } from "./authorization";
import {
  API_GATEWAY, CNI_NAMESPACE, INGRESS_GATEWAY, INGRESS_NAMESPACE, INGRESS_SELECTOR, ISTIO_NAMESPACE, istioMetadata, ISTIOD, ISTIOD_SELECTOR, ISTIOD_XDS,
  KUBE_APISERVER, OTEL_COLLECTOR, TRACING_PROVIDER,
} from "./constants";
import { ExternalServiceEntries } from "./external-services";
import { EdgeGateway, EdgeRoute, EdgeTls, JwtConfig, jwtProblems } from "./edge-gateway";
import { IstioInstallation } from "./istio-installation";
import { MeshMutualTls, MtlsException } from "./mutual-tls";
import { ServiceTrafficPolicy, ServiceTrafficProps } from "./service-traffic";

/** Graph id of the public clients of the edge (any address; the cloud load balancer's health checks included). */
export const PUBLIC_CLIENTS = "public-clients";
/** Name of the edge's certificate and its Secret. */
export const EDGE_CERTIFICATE = "edge-tls";
/** Graph id of the token issuer's key endpoint, which istiod fetches. */
export const JWKS_ISSUER = "jwks-issuer";

/** Where the tracing component's OpenTelemetry collector listens. */
export interface MeshTracingProps {
  /** Namespace of the collector. @default "observability" */
  readonly namespace?: string;
  /** Service name of the collector. @default "otel-collector" */
  readonly service?: string;
  /** OTLP gRPC port. @default 4317 */
  readonly port?: number;
}

/** The public edge. */
export interface MeshEdgeProps {
  /** Exact public host names. @default [`api.<clusterDomain>`] */
  readonly hosts?: ReadonlyArray<string>;
  /** TLS of the edge. @default certificate `edge-tls` issued by the security component for the hosts, TLS 1.2 and newer */
  readonly tls?: EdgeTls;
  /** Token checking. @default issuer `https://auth.<clusterDomain>`, its `/.well-known/jwks.json`, audience `api.<clusterDomain>` */
  readonly jwt?: JwtConfig;
  /** Timeout of a request through the edge. @default "30s" */
  readonly timeout?: string;
  /** Routes besides the business services' own. @default none */
  readonly routes?: ReadonlyArray<EdgeRoute>;
}

/** Props of the mesh. */
export interface MeshProps {
  /** Trust domain of workload identities. @default "cluster.local" */
  readonly trustDomain?: string;
  /** The tracing collector the proxies export spans to. @default otel-collector.observability:4317 */
  readonly tracing?: MeshTracingProps;
  /** The public edge. @default see MeshEdgeProps */
  readonly edge?: MeshEdgeProps;
  /** Traffic defaults of every business service (each may be overridden with `configureService`). @default see ServiceTrafficProps */
  readonly serviceDefaults?: ServiceTrafficProps;
  /** Namespaces that carry traffic but get no sidecars. @default none */
  readonly excludeNamespaces?: ReadonlyArray<string>;
  /** Type of the ingress gateway's Service. @default "LoadBalancer" */
  readonly ingressServiceType?: "LoadBalancer" | "NodePort" | "ClusterIP";
}

/** A certificate the edge needs; the security component issues it with cert-manager. */
export interface CertificateRequest {
  /** Namespace of the Secret (the ingress gateway's). */
  readonly namespace: string;
  /** Name of the kubernetes.io/tls Secret. */
  readonly secretName: string;
  /** DNS names it must cover. */
  readonly dnsNames: ReadonlyArray<string>;
}

/**
 * The subsets and route a canary Rollout (Argo Rollouts' Istio traffic routing) drives: all traffic on `stable` at
 * first, and subsets without labels, because the Rollouts controller writes each subset's pod-template hash itself.
 */
export const ROLLOUT_CANARY: ServiceTrafficProps["canary"] = { weight: 0, stableLabels: {}, canaryLabels: {} };

function rolloutCanary(service: object | undefined): Pick<ServiceTrafficProps, "canary"> {
  // Read structurally: a business service released as a canary by the delivery component says so in `delivery`.
  const delivery = (service as { readonly delivery?: { readonly strategy?: string } } | undefined)?.delivery;
  return delivery?.strategy === "canary" ? { canary: ROLLOUT_CANARY } : {};
}

/** The label that turns on sidecar injection in a namespace. */
export const INJECTION_LABEL = { "istio-injection": "enabled" } as const;

/**
 * The Istio service mesh (L3): Istio 1.24.6 installed by Helm add-ons, STRICT mTLS everywhere, zero-trust
 * AuthorizationPolicies derived from the service graph, per-service traffic policy, and the public edge with TLS and
 * token checks. Sidecars are injected into every platform namespace that carries graph traffic.
 */
export class MeshComponent extends PlatformComponent {
  /** The Helm add-ons. */
  readonly installation: IstioInstallation;
  /** Mesh-wide mutual TLS. */
  readonly mtls: MeshMutualTls;
  /** The public edge. */
  readonly edge: EdgeGateway;
  /** The trust domain of principals. */
  readonly trustDomain: string;
  /** Certificates the edge needs (for the security component). */
  readonly certificates: ReadonlyArray<CertificateRequest>;
  /** The control plane's graph node. */
  readonly istiod: GraphNodeProps;
  /** istiod as the proxies reach it (xDS configuration and workload certificates on 15012). */
  readonly istiodXds: GraphNodeProps;
  /** The ingress gateway's graph node. */
  readonly ingressGateway: GraphNodeProps;
  private readonly serviceTraffic = new Map<string, ServiceTrafficProps>();
  private readonly extraRoutes: EdgeRoute[];
  private readonly excluded: ReadonlySet<string>;
  private readonly serviceDefaults: ServiceTrafficProps;
  private readonly edgeTimeout: string;
  private jwt: JwtConfig;
  private meshed?: ReadonlySet<string>;

  constructor(scope: Construct, id: string, context: PlatformContext, props: MeshProps = {}) {
    super(scope, id, context, { name: "mesh", syncWave: SyncWave.OPERATORS });
    const env = context.environment;
    const domain = env.clusterDomain;
    this.trustDomain = props.trustDomain ?? "cluster.local";
    this.excluded = new Set(props.excludeNamespaces ?? []);
    this.extraRoutes = [...(props.edge?.routes ?? [])];
    this.serviceDefaults = props.serviceDefaults ?? {};
    this.edgeTimeout = props.edge?.timeout ?? "30s";
    this.jwt = props.edge?.jwt ?? { issuer: `https://auth.${domain}`, jwksUri: `https://auth.${domain}/.well-known/jwks.json`, audiences: [`api.${domain}`] };
    const problems = jwtProblems(this.jwt);
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);

    context.ensureNamespace({ name: ISTIO_NAMESPACE, component: "mesh" });
    context.ensureNamespace({ name: INGRESS_NAMESPACE, component: "mesh" });
    context.ensureNamespace({
      name: CNI_NAMESPACE,
      component: "mesh",
      podSecurityException: {
        level: "privileged",
        reason: "the Istio CNI node agent writes the CNI config on every node (hostPath) so that application pods need no privileged init container",
      },
    });

    const tracingNs = props.tracing?.namespace ?? "observability";
    const tracingSvc = props.tracing?.service ?? OTEL_COLLECTOR;
    this.installation = new IstioInstallation(this, "Istio", {
      sizing: env.sizing.mesh,
      ha: env.ha,
      project: context.gitopsProject,
      tracing: { service: `${tracingSvc}.${tracingNs}.svc.cluster.local`, port: props.tracing?.port ?? 4317 },
      trustDomain: this.trustDomain,
      ingressServiceType: props.ingressServiceType,
    });
    this.mtls = new MeshMutualTls(this, "MutualTls");
    new Telemetry(this, "Telemetry", {
      metadata: istioMetadata("mesh-default", ISTIO_NAMESPACE, "observability"),
      spec: {
        tracing: [{ providers: [{ name: TRACING_PROVIDER }], randomSamplingPercentage: env.sizing.mesh.tracingSamplingPercent }],
        accessLogging: [{ providers: [{ name: "envoy" }] }],
      },
    });

    const hosts = props.edge?.hosts ?? [`api.${domain}`];
    // Without an explicit certificate reference, the security component (added earlier) issues one for the hosts.
    const security = context.find(SecurityComponent);
    const tls: EdgeTls = props.edge?.tls
      ?? { certificate: security ? security.addCertificate({ name: EDGE_CERTIFICATE, namespace: INGRESS_NAMESPACE, dnsNames: [...new Set(hosts)].sort() }) : { secretName: EDGE_CERTIFICATE } };
    this.edge = new EdgeGateway(this, "Edge", { hosts, tls });
    this.certificates = [{ namespace: INGRESS_NAMESPACE, secretName: tls.certificate.secretName, dnsNames: [...this.edge.hosts] }];

    const graph = context.graph;
    this.istiod = graph.addNode({
      id: ISTIOD,
      kind: "component",
      namespace: ISTIO_NAMESPACE,
      serviceAccount: "istiod",
      selector: { ...ISTIOD_SELECTOR },
      host: `istiod.${ISTIO_NAMESPACE}.svc.cluster.local`,
      ports: [
        { name: "https-webhook", port: 443, targetPort: 15017, protocol: "tls" },
        { name: "http-monitoring", port: 15014, protocol: "http", metrics: true },
      ],
      scope: this,
    });
    // The same pods, seen as the proxies' xDS and certificate endpoint: a node of its own so that the data plane's
    // edges never collide with other components' edges to istiod (a scraper's, for instance).
    this.istiodXds = graph.addNode({ ...this.istiod, id: ISTIOD_XDS, ports: [{ name: "tls-xds", port: 15012, protocol: "grpc" }] });
    this.ingressGateway = graph.addNode({
      id: INGRESS_GATEWAY,
      kind: "component",
      namespace: INGRESS_NAMESPACE,
      serviceAccount: INGRESS_GATEWAY,
      selector: { ...INGRESS_SELECTOR },
      host: `${INGRESS_GATEWAY}.${INGRESS_NAMESPACE}.svc.cluster.local`,
      ports: [
        { name: "http2", port: 80, protocol: "http" },
        { name: "https", port: 443, protocol: "tls" },
        { name: "status-port", port: 15021, protocol: "http" },
        { name: "http-envoy-prom", port: 15090, protocol: "http", metrics: true },
      ],
      scope: this,
    });
    graph.addNode({ id: PUBLIC_CLIENTS, kind: "external", cidrs: ["0.0.0.0/0"], ports: [] });
    graph.connect(PUBLIC_CLIENTS, INGRESS_GATEWAY, ["http2", "https", "status-port"]);
    // istiod watches the API; the API server calls istiod's injection and validation webhooks.
    graph.connect(ISTIOD, KUBE_APISERVER);
    graph.connect(KUBE_APISERVER, ISTIOD, ["https-webhook"]);

    // Registered from inside a callback registered from inside a callback: it runs after every other component's
    // `connect` callbacks, deferred ones included, so it sees their nodes (all of whose proxies need the control
    // plane) and their edges (so that it adds only missing ones).
    context.onFinalize(() => this.connectDataPlane(), "data-plane");
    context.onFinalize(() => this.derive(), "derive");
  }

  /** Overrides the traffic policy of one business service (timeouts, retries, circuit breaker, canary). */
  configureService(name: string, traffic: ServiceTrafficProps): void {
    this.serviceTraffic.set(name, { ...this.serviceTraffic.get(name), ...traffic });
  }

  /** Declares a justified plaintext exception to STRICT mTLS on some ports of some pods. */
  addMtlsException(exception: MtlsException): PeerAuthentication {
    return this.mtls.addException(exception);
  }

  /** Uses this token configuration at the edge (the API gateway component passes its own, so both check the same). */
  useJwt(jwt: JwtConfig): void {
    const problems = jwtProblems(jwt);
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);
    this.jwt = jwt;
  }

  /** Adds a route at the edge besides the business services' own. */
  addEdgeRoute(route: EdgeRoute): void {
    this.extraRoutes.push(route);
  }

  /** The namespaces that run sidecars (known once the platform is finalized). */
  get meshedNamespaces(): string[] {
    return [...(this.meshed ?? [])].sort();
  }

  private platformNamespaces(): Map<string, PlatformNamespace> {
    const root = this.node.scope ?? this;
    const out = new Map<string, PlatformNamespace>();
    for (const c of root.node.findAll()) if (c instanceof PlatformNamespace) out.set(c.name, c);
    return out;
  }

  private computeMeshed(): ReadonlySet<string> {
    const owned = this.platformNamespaces();
    return new Set(this.context.graph.namespaces.filter((ns) => owned.has(ns) && ns !== ISTIO_NAMESPACE && ns !== CNI_NAMESPACE && !this.excluded.has(ns)));
  }

  private isMeshed(node: GraphNodeProps, meshed: ReadonlySet<string>): boolean {
    return node.kind !== "external" && node.namespace !== undefined && meshed.has(node.namespace);
  }

  /** Edges the proxies need: every meshed workload to istiod (and to the collector), the edge to the API gateway. */
  private connectDataPlane(): void {
    const graph = this.context.graph;
    // One snapshot of the edges: `graph.edges` sorts on every read, and this runs once per node.
    const pairs = new Set(graph.resolve().map((e) => `${e.from}>${e.to}`));
    const has = (from: string, to: string) => pairs.has(`${from}>${to}`);
    const meshed = this.computeMeshed();
    const collector = graph.has(OTEL_COLLECTOR) ? graph.node(OTEL_COLLECTOR) : undefined;
    const otlp = collector?.ports.find((p) => p.port === 4317 && !p.metrics);
    for (const node of graph.nodes) {
      if (!this.isMeshed(node, meshed)) continue;
      if (!has(node.id, ISTIOD_XDS)) graph.connect(node.id, ISTIOD_XDS);
      if (collector && otlp && node.id !== OTEL_COLLECTOR && !has(node.id, OTEL_COLLECTOR)) graph.connect(node.id, OTEL_COLLECTOR, [otlp.name]);
    }
    if (graph.has(API_GATEWAY) && !has(INGRESS_GATEWAY, API_GATEWAY)) graph.connect(INGRESS_GATEWAY, API_GATEWAY);
    // istiod fetches the issuer's signing keys for RequestAuthentication.
    const jwks = new URL(this.jwt.jwksUri);
    if (!graph.has(JWKS_ISSUER)) {
      const vpc = this.context.environment.network.vpcCidr;
      graph.addNode({ id: JWKS_ISSUER, kind: "external", cidrs: ["0.0.0.0/0"], exceptCidrs: [vpc], host: jwks.hostname, ports: [{ name: "https", port: Number(jwks.port || 443), protocol: "tls" }] });
    }
    if (!has(ISTIOD, JWKS_ISSUER)) graph.connect(ISTIOD, JWKS_ISSUER);
  }

  /** Everything read from the complete graph: injection labels, authorization, per-service traffic, the edge routes. */
  private derive(): void {
    const graph = this.context.graph;
    const edges = graph.edges;
    const incoming = edgesBy(edges, "to");
    const outgoing = edgesBy(edges, "from");
    const meshed = this.computeMeshed();
    this.meshed = meshed;
    const owned = this.platformNamespaces();
    for (const ns of meshed) owned.get(ns)?.addLabels(INJECTION_LABEL);

    new GraphAuthorization(this, "Authorization", {
      graph,
      namespaces: [...meshed],
      meshed: (n) => this.isMeshed(n, meshed),
      trustDomain: this.trustDomain,
      // Internet traffic into the ingress gateway is authorized by token (EdgeGateway), not by address.
      handledElsewhere: (e) => e.to === INGRESS_GATEWAY && graph.node(e.from).kind === "external",
    });

    // A caller outside the mesh (the API server calling a webhook) cannot present a mesh certificate: the ports of
    // such declared edges accept plaintext too; the AuthorizationPolicy still admits only the caller's CIDRs there.
    for (const node of graph.nodes) {
      if (!this.isMeshed(node, meshed) || node.id === INGRESS_GATEWAY) continue;
      const external = (incoming.get(node.id) ?? []).filter((e) => graph.node(e.from).kind === "external");
      if (external.length === 0) continue;
      const ports = [...new Set(external.flatMap((e) => e.ports.map((name) => {
        const p = node.ports.find((x) => x.name === name)!;
        return p.targetPort ?? p.port;
      })))];
      this.mtls.addException({
        name: `plaintext-${node.id}`,
        namespace: node.namespace as string,
        selector: node.selector ?? {},
        ports,
        reason: `declared callers outside the mesh (${external.map((e) => e.from).join(", ")}) cannot present a mesh certificate`,
      });
    }

    const services = this.context.find(ServicesComponent)?.services ?? [];
    const externals = new ExternalServiceEntries(this, "External");
    for (const node of graph.nodes.filter((n) => n.kind === "service" && this.isMeshed(n, meshed))) {
      const traffic = { ...this.serviceDefaults, ...rolloutCanary(services.find((s) => s.name === node.id)), ...this.serviceTraffic.get(node.id) };
      // a canary Rollout moves the weights and adds its pod-template hash to the subsets' labels at run time, so the
      // subsets start empty (every pod) and the canary at 0%
      const rollout = services.find((s) => s.name === node.id)?.delivery?.strategy === "canary";
      const canary = traffic.canary ?? (rollout ? { weight: 0, stableLabels: {}, canaryLabels: {} } : undefined);
      new ServiceTrafficPolicy(this, `Traffic-${node.id}`, {
        ...traffic,
        canary,
        node,
        dependencies: (outgoing.get(node.id) ?? []).map((e) => graph.node(e.to)).filter((d) => d.namespace !== ISTIO_NAMESPACE),
        externalHost: (d) => externals.egressHost(node.namespace as string, d),
      });
    }
    const unknown = [...this.serviceTraffic.keys()].filter((n) => !graph.has(n) || graph.node(n).kind !== "service");
    if (unknown.length) throw new Error(`${this.node.path}: configureService names unknown business service(s) ${unknown.join(", ")}`);

    if (graph.has(API_GATEWAY)) {
      const routes: EdgeRoute[] = [
        ...services.flatMap((s) => s.routes.map((r) => ({ pathPrefix: r.pathPrefix, auth: r.auth, roles: r.roles }))),
        ...this.extraRoutes,
      ];
      this.edge.routeTo({ node: graph.node(API_GATEWAY), timeout: this.edgeTimeout, jwt: this.jwt, routes });
    }
  }

}
