import { Construct } from "constructs";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { CertificateRequest, CertManager, TlsCertificate } from "./cert-manager";
import { INTERNET_HTTPS, PRIVATE_RANGES } from "../../constructs/chart-pods";
import { ExternalSecrets } from "./external-secrets";

/** Props of the security component. */
export interface SecurityComponentProps {
  /** How often ExternalSecrets re-read their source. @default "1h" */
  readonly secretRefreshInterval?: string;
}

/**
 * Secrets and certificates: External Secrets (every credential the platform declares becomes an ExternalSecret; the
 * output holds no secret value) and cert-manager with a ClusterIssuer per tier. Also the graph's public HTTPS node,
 * the only way out to the internet, for the workloads that declare it.
 */
export class SecurityComponent extends PlatformComponent {
  /** External Secrets Operator and the ClusterSecretStore. */
  readonly externalSecrets: ExternalSecrets;
  /** cert-manager and the ClusterIssuer. */
  readonly certManager: CertManager;

  constructor(scope: Construct, id: string, context: PlatformContext, props: SecurityComponentProps = {}) {
    super(scope, id, context, { name: "security", syncWave: SyncWave.OPERATORS });
    const env = context.environment;
    context.graph.addNode({
      id: INTERNET_HTTPS,
      kind: "external",
      cidrs: ["0.0.0.0/0"],
      // the VPC is excluded too, unless a private range already covers it
      exceptCidrs: PRIVATE_RANGES.some((r) => contains(r, env.network.vpcCidr)) ? [...PRIVATE_RANGES] : [...PRIVATE_RANGES, env.network.vpcCidr],
      ports: [{ name: "https", port: 443, protocol: "tls" }],
    });
    const sizing = env.sizing.operators;
    this.externalSecrets = new ExternalSecrets(this, "ExternalSecrets", context, { sizing, refreshInterval: props.secretRefreshInterval });
    this.certManager = new CertManager(this, "CertManager", context, { sizing });
  }

  /** Issues a TLS certificate from the platform's ClusterIssuer (see `CertManager.addCertificate`). */
  addCertificate(req: CertificateRequest): TlsCertificate {
    return this.certManager.addCertificate(req);
  }
}

function toInt(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

/** True when CIDR `outer` contains CIDR `inner`. */
function contains(outer: string, inner: string): boolean {
  const [oip, obits] = outer.split("/");
  const [iip, ibits] = inner.split("/");
  if (Number(ibits) < Number(obits)) return false;
  const size = 2 ** (32 - Number(obits));
  return Math.floor(toInt(iip) / size) === Math.floor(toInt(oip) / size);
}
