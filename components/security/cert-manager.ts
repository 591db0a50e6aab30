import { Construct } from "constructs";
import { HelmAddon } from "../../constructs/helm-addon";
import { Certificate, CertificateSpecPrivateKeyAlgorithm, CertificateSpecPrivateKeyRotationPolicy } from "../../constructs/imports/certmanager-certificate-cert-manager.io";
import { ClusterIssuer } from "../../constructs/imports/certmanager-clusterissuer-cert-manager.io";
import { IRSA_ANNOTATION } from "../../constructs/irsa";
import { recommendedLabels } from "../../constructs/labels";
import { kubeName } from "../../constructs/names";
import { customResourceAnnotations } from "../../constructs/sync";
import type { WorkloadSizing } from "../../stacks/environments/environment";
import { PlatformContext, SyncWave } from "../component";
import { chartPods, INTERNET_HTTPS } from "../../constructs/chart-pods";

/** cert-manager chart, pinned to the app version of the CRDs the platform is validated against. */
export const CERT_MANAGER_CHART = { repoURL: "https://charts.jetstack.io", chart: "cert-manager", version: "v1.16.5" } as const;
/** Namespace of cert-manager. */
export const CERT_MANAGER_NAMESPACE = "cert-manager";
/** The ClusterIssuer every platform certificate is issued by. */
export const PLATFORM_ISSUER = "stratum";

/** A certificate the platform issues: where its Secret lands and which names it covers. */
export interface TlsCertificate {
  /** Certificate and Secret name. */
  readonly secretName: string;
  /** Namespace of the Secret (where the workload that serves it runs). */
  readonly namespace: string;
  /** DNS names it covers. */
  readonly dnsNames: ReadonlyArray<string>;
}

/** Props of a certificate request. */
export interface CertificateRequest {
  /** Certificate and Secret name. */
  readonly name: string;
  /** Namespace of the Secret. */
  readonly namespace: string;
  /** DNS names; exact names only (no wildcard), each inside the cluster domain. */
  readonly dnsNames: ReadonlyArray<string>;
}

/** Props of the cert-manager installation. */
export interface CertManagerProps {
  /** Controller replicas and resources. */
  readonly sizing: WorkloadSizing;
}

/**
 * cert-manager and the platform's ClusterIssuer, chosen by the environment's data: ACME with DNS-01 in Route 53
 * (through an IRSA role scoped to the hosted zone), or a private CA made in the cluster.
 */
export class CertManager extends Construct {
  /** The Helm add-on. */
  readonly addon: HelmAddon;
  private readonly context: PlatformContext;
  private readonly issued = new Map<string, TlsCertificate>();

  constructor(scope: Construct, id: string, context: PlatformContext, props: CertManagerProps) {
    super(scope, id);
    this.context = context;
    const env = context.environment;
    const certs = env.certificates;
    const acme = certs.issuer === "acme-dns01";
    if (acme && !certs.hostedZoneId) throw new Error(`${this.node.path}: certificates.hostedZoneId is required for the acme-dns01 issuer (got "")`);
    const ns = context.ensureNamespace({ name: CERT_MANAGER_NAMESPACE, component: "security" });
    const role = acme
      ? context.irsa.bind({
          purpose: "cert-manager",
          namespace: ns,
          serviceAccount: "cert-manager",
          description: "cert-manager answers ACME DNS-01 challenges in the cluster's hosted zone",
          statements: [
            { Effect: "Allow", Action: ["route53:GetChange"], Resource: ["arn:aws:route53:::change/*"] },
            { Effect: "Allow", Action: ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"], Resource: [`arn:aws:route53:::hostedzone/${certs.hostedZoneId}`] },
            { Effect: "Allow", Action: ["route53:ListHostedZonesByName"], Resource: ["*"] },
          ],
        })
      : undefined;
    const s = props.sizing;
    const resources = { requests: { ...s.resources.requests }, limits: { ...s.resources.limits } };
    const pdb = { enabled: s.replicas > 1, minAvailable: 1 };
    this.addon = new HelmAddon(this, "Addon", {
      release: "cert-manager",
      ...CERT_MANAGER_CHART,
      namespace: ns,
      project: context.gitopsProject,
      syncWave: SyncWave.OPERATORS,
      values: {
        crds: { enabled: true, keep: true },
        replicaCount: s.replicas,
        resources,
        podDisruptionBudget: pdb,
        // the projected IRSA token must be readable by the non-root controller
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, fsGroup: 1001 },
        serviceAccount: { create: true, name: "cert-manager", annotations: role ? { [IRSA_ANNOTATION]: role.roleArn } : {} },
        // DNS-01 self-checks go through the cluster resolver, which the namespace baseline already allows
        extraArgs: ["--dns01-recursive-nameservers-only"],
        webhook: { replicaCount: s.replicas, resources, podDisruptionBudget: pdb },
        cainjector: { replicaCount: s.replicas, resources, podDisruptionBudget: pdb },
        startupapicheck: { enabled: false },
        prometheus: { enabled: true, servicemonitor: { enabled: false } },
      },
    });

    const graph = context.graph;
    graph.addNode(chartPods({
      id: "cert-manager", namespace: ns, name: "cert-manager", instance: "cert-manager", serviceAccount: "cert-manager", scope: this,
      ports: [{ name: "http-metrics", port: 9402, protocol: "http", metrics: true }],
    }));
    graph.addNode(chartPods({
      id: "cert-manager-webhook", namespace: ns, name: "webhook", instance: "cert-manager", serviceAccount: "cert-manager-webhook", scope: this,
      ports: [{ name: "https-webhook", port: 443, targetPort: 10250, protocol: "tls" }],
    }));
    graph.addNode(chartPods({ id: "cert-manager-cainjector", namespace: ns, name: "cainjector", instance: "cert-manager", serviceAccount: "cert-manager-cainjector", scope: this }));
    for (const from of ["cert-manager", "cert-manager-webhook", "cert-manager-cainjector"]) graph.connect(from, "kube-apiserver");
    graph.connect("kube-apiserver", "cert-manager-webhook");
    if (acme) graph.connect("cert-manager", INTERNET_HTTPS);

    const meta = (name: string) => ({ name, labels: recommendedLabels({ name, component: "security" }), annotations: customResourceAnnotations() });
    if (acme) {
      new ClusterIssuer(this, "Issuer", {
        metadata: meta(PLATFORM_ISSUER),
        spec: {
          acme: {
            server: certs.acmeServer,
            email: certs.email,
            privateKeySecretRef: { name: "stratum-acme-account" },
            solvers: [{ selector: { dnsZones: [env.clusterDomain] }, dns01: { route53: { region: env.cloud.region, hostedZoneId: certs.hostedZoneId } } }],
          },
        },
      });
    } else {
      new ClusterIssuer(this, "Bootstrap", { metadata: meta("stratum-selfsigned"), spec: { selfSigned: {} } });
      new Certificate(this, "RootCa", {
        metadata: { ...meta("stratum-root-ca"), namespace: ns },
        spec: {
          isCa: true,
          commonName: `Stratum ${env.name} root CA`,
          secretName: "stratum-root-ca",
          duration: "87600h",
          renewBefore: "720h",
          privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA, size: 256, rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS },
          issuerRef: { name: "stratum-selfsigned", kind: "ClusterIssuer", group: "cert-manager.io" },
        },
      });
      new ClusterIssuer(this, "Issuer", { metadata: meta(PLATFORM_ISSUER), spec: { ca: { secretName: "stratum-root-ca" } } });
    }
  }

  /** Issues a certificate for exact names inside the cluster domain; asking twice for one name returns the first. */
  addCertificate(req: CertificateRequest): TlsCertificate {
    const domain = this.context.environment.clusterDomain;
    const bad = req.dnsNames.filter((n) => n.includes("*") || !(n === domain || n.endsWith(`.${domain}`)));
    if (bad.length || req.dnsNames.length === 0) {
      throw new Error(`${this.node.path}: certificate ${req.name}: dnsNames must be exact names inside ${domain} (got ${JSON.stringify(req.dnsNames)})`);
    }
    const key = `${req.namespace}/${req.name}`;
    const existing = this.issued.get(key);
    if (existing) return existing;
    new Certificate(this, kubeName(["cert", req.namespace, req.name]), {
      metadata: { name: req.name, namespace: req.namespace, labels: recommendedLabels({ name: req.name, component: "security" }), annotations: customResourceAnnotations() },
      spec: {
        secretName: req.name,
        dnsNames: [...req.dnsNames],
        duration: "2160h",
        renewBefore: "360h",
        privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA, size: 256, rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS },
        issuerRef: { name: PLATFORM_ISSUER, kind: "ClusterIssuer", group: "cert-manager.io" },
      },
    });
    const cert: TlsCertificate = { secretName: req.name, namespace: req.namespace, dnsNames: [...req.dnsNames] };
    this.issued.set(key, cert);
    return cert;
  }
}
