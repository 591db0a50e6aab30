import { Construct } from "constructs";
import {
  AuthorizationPolicy, AuthorizationPolicySpecAction, AuthorizationPolicySpecRules, RequestAuthentication,
} from "../../constructs/imports/istio-security.istio.io";
import { Gateway, GatewaySpecServersTlsMinProtocolVersion, GatewaySpecServersTlsMode, VirtualService } from "../../constructs/imports/istio-networking.istio.io";
import { GraphNodeProps } from "../../constructs/service-graph";
import { hostOf, INGRESS_NAMESPACE, INGRESS_SELECTOR, istioMetadata } from "./constants";

/**
 * The TLS certificate of the edge, by reference: the Secret that cert-manager's Certificate writes (the security
 * component issues it for `MeshComponent.certificates`). It must live in the ingress gateway's namespace.
 */
export interface EdgeCertificate {
  /** Name of the kubernetes.io/tls Secret. */
  readonly secretName: string;
}

/** TLS settings of the edge. */
export interface EdgeTls {
  /** The server certificate. */
  readonly certificate: EdgeCertificate;
  /** Oldest TLS version accepted. @default "TLSV1_2" */
  readonly minProtocolVersion?: "TLSV1_2" | "TLSV1_3";
}

/** How tokens are checked at the edge: the same issuer, JWKS and audiences as the API gateway's own config. */
export interface JwtConfig {
  /** Expected `iss` claim (an https URL). */
  readonly issuer: string;
  /** Where the issuer publishes its signing keys (https). */
  readonly jwksUri: string;
  /** Accepted `aud` values; a token must carry one of them. */
  readonly audiences: ReadonlyArray<string>;
}

/** A path at the edge and what it requires. */
export interface EdgeRoute {
  /** Path prefix, e.g. `/api/orders`. */
  readonly pathPrefix: string;
  /** Whether a valid token is required. @default true */
  readonly auth?: boolean;
  /** Roles (claim `roles`) of which the caller needs one. @default any valid token */
  readonly roles?: ReadonlyArray<string>;
  /** Timeout of a request on this route through the edge, for long uploads. @default the edge's */
  readonly timeout?: string;
}

/** Props of the edge. */
export interface EdgeGatewayProps {
  /** Exact public host names (no wildcards). */
  readonly hosts: ReadonlyArray<string>;
  /** TLS. */
  readonly tls: EdgeTls;
}

/** What the edge routes to, known once the graph is complete. */
export interface EdgeUpstream {
  /** The API gateway's graph node. */
  readonly node: GraphNodeProps;
  /** Its port name that receives edge traffic. @default its first non-metrics port */
  readonly port?: string;
  /** Timeout of a request through the edge. */
  readonly timeout: string;
  /** Token checking. */
  readonly jwt: JwtConfig;
  /** The routes, each public or token-protected. */
  readonly routes: ReadonlyArray<EdgeRoute>;
}

const HOST = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;
const GATEWAY_NAME = "edge";

/** The Istio path patterns of a prefix: the prefix itself and everything under it. */
export function pathsOf(prefix: string): string[] {
  const p = prefix.replace(/\/+$/, "");
  return p === "" ? ["/*"] : [p, `${p}/*`];
}

/** Checks a JWT config and returns its problems. */
export function jwtProblems(jwt: JwtConfig): string[] {
  const problems: string[] = [];
  if (!/^https:\/\/[^\s/]+(\/\S*)?$/.test(jwt.issuer)) problems.push(`jwt.issuer must be an https URL (got ${JSON.stringify(jwt.issuer)})`);
  if (!/^https:\/\/[^\s/]+\/\S*$/.test(jwt.jwksUri)) problems.push(`jwt.jwksUri must be an https URL with a path (got ${JSON.stringify(jwt.jwksUri)})`);
  if (jwt.audiences.length === 0 || jwt.audiences.some((a) => a.trim() === "")) problems.push("jwt.audiences must name at least one non-empty audience");
  return problems;
}

/**
 * The public edge: an Istio Gateway on the ingress gateway with TLS from a certificate reference, HTTP redirected to
 * HTTPS, exact host names; then (once the upstream is known) a VirtualService to the API gateway, a
 * RequestAuthentication that checks tokens, and an AuthorizationPolicy that requires a valid token on protected routes.
 */
export class EdgeGateway extends Construct {
  /** The Gateway. */
  readonly gateway: Gateway;
  /** The public host names. */
  readonly hosts: ReadonlyArray<string>;
  /** `<namespace>/<name>` of the Gateway, as VirtualServices bind to it. */
  readonly gatewayRef = `${INGRESS_NAMESPACE}/${GATEWAY_NAME}`;

  constructor(scope: Construct, id: string, props: EdgeGatewayProps) {
    super(scope, id);
    const problems: string[] = [];
    if (props.hosts.length === 0) problems.push("hosts must name at least one host");
    for (const h of props.hosts) if (!HOST.test(h)) problems.push(`hosts must be exact DNS names without wildcards (got ${JSON.stringify(h)})`);
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(props.tls.certificate.secretName)) problems.push(`tls.certificate.secretName must be a Secret name (got ${JSON.stringify(props.tls.certificate.secretName)})`);
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);
    this.hosts = [...new Set(props.hosts)].sort();
    const serverHosts = this.hosts.map((h) => `${INGRESS_NAMESPACE}/${h}`);
    this.gateway = new Gateway(this, "Gateway", {
      metadata: istioMetadata(GATEWAY_NAME, INGRESS_NAMESPACE, "edge"),
      spec: {
        selector: { ...INGRESS_SELECTOR },
        servers: [
          { name: "http", port: { number: 80, name: "http", protocol: "HTTP" }, hosts: serverHosts, tls: { httpsRedirect: true } },
          {
            name: "https",
            port: { number: 443, name: "https", protocol: "HTTPS" },
            hosts: serverHosts,
            tls: {
              mode: GatewaySpecServersTlsMode.SIMPLE,
              credentialName: props.tls.certificate.secretName,
              minProtocolVersion: props.tls.minProtocolVersion === "TLSV1_3" ? GatewaySpecServersTlsMinProtocolVersion.TLSV1_UNDERSCORE_3 : GatewaySpecServersTlsMinProtocolVersion.TLSV1_UNDERSCORE_2,
            },
          },
        ],
      },
    });
  }

  /** Routes the edge to the API gateway and guards it with token checks; called once, when the graph is complete. */
  routeTo(upstream: EdgeUpstream): void {
    const problems = jwtProblems(upstream.jwt);
    const seen = new Set<string>();
    for (const r of upstream.routes) {
      if (!/^\/[A-Za-z0-9._~\/-]*$/.test(r.pathPrefix)) problems.push(`route pathPrefix must start with / and use URL path characters (got ${JSON.stringify(r.pathPrefix)})`);
      if (seen.has(r.pathPrefix)) problems.push(`route ${r.pathPrefix} is declared twice`);
      seen.add(r.pathPrefix);
      if (r.auth === false && r.roles?.length) problems.push(`route ${r.pathPrefix} is public but names roles ${r.roles.join(", ")}`);
    }
    const port = upstream.port
      ? upstream.node.ports.find((p) => p.name === upstream.port)
      : upstream.node.ports.find((p) => !p.metrics);
    if (!port) problems.push(`upstream '${upstream.node.id}' has no port ${upstream.port ?? "(non-metrics)"}`);
    if (problems.length || !port) throw new Error(`${this.node.path}: ${problems.join("; ")}`);

    new VirtualService(this, "VirtualService", {
      metadata: istioMetadata(GATEWAY_NAME, INGRESS_NAMESPACE, "edge"),
      spec: {
        hosts: [...this.hosts],
        gateways: [this.gatewayRef],
        http: [
          // routes with their own timeout first (Istio takes the first match), on segment boundaries only
          ...[...upstream.routes]
            .filter((r) => r.timeout !== undefined && r.timeout !== upstream.timeout)
            .sort((a, b) => b.pathPrefix.length - a.pathPrefix.length || a.pathPrefix.localeCompare(b.pathPrefix))
            .map((r) => ({
              name: `api-gateway-${r.pathPrefix.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "").toLowerCase()}`,
              match: [{ uri: { exact: r.pathPrefix } }, { uri: { prefix: `${r.pathPrefix.replace(/\/+$/, "")}/` } }],
              route: [{ destination: { host: hostOf(upstream.node), port: { number: port.port } } }],
              timeout: r.timeout,
            })),
          {
            name: "api-gateway",
            match: [{ uri: { prefix: "/" } }],
            route: [{ destination: { host: hostOf(upstream.node), port: { number: port.port } } }],
            timeout: upstream.timeout,
          },
        ],
      },
    });

    new RequestAuthentication(this, "RequestAuthentication", {
      metadata: istioMetadata("edge-jwt", INGRESS_NAMESPACE, "edge"),
      spec: {
        selector: { matchLabels: { ...INGRESS_SELECTOR } },
        jwtRules: [{
          issuer: upstream.jwt.issuer,
          jwksUri: upstream.jwt.jwksUri,
          audiences: [...upstream.jwt.audiences],
          // The API gateway checks the token again (roles, claims); it needs the original header.
          forwardOriginalToken: true,
        }],
      },
    });

    const https = ["443"];
    const validToken = [`${upstream.jwt.issuer}/*`];
    const sorted = [...upstream.routes].sort((a, b) => a.pathPrefix.localeCompare(b.pathPrefix));
    const publicPaths = sorted.filter((r) => r.auth === false).flatMap((r) => pathsOf(r.pathPrefix));
    const rules: AuthorizationPolicySpecRules[] = [
      // Plain HTTP only ever answers with the redirect to HTTPS.
      { to: [{ operation: { ports: ["80"] } }] },
    ];
    if (publicPaths.length) rules.push({ to: [{ operation: { ports: https, paths: publicPaths } }] });
    for (const r of sorted.filter((x) => x.auth !== false)) {
      rules.push({
        from: [{ source: { requestPrincipals: validToken } }],
        to: [{ operation: { ports: https, paths: pathsOf(r.pathPrefix) } }],
        when: r.roles?.length ? [{ key: "request.auth.claims[roles]", values: [...r.roles] }] : undefined,
      });
    }
    new AuthorizationPolicy(this, "Access", {
      metadata: istioMetadata("edge-access", INGRESS_NAMESPACE, "edge"),
      spec: { selector: { matchLabels: { ...INGRESS_SELECTOR } }, action: AuthorizationPolicySpecAction.ALLOW, rules },
    });
  }
}
