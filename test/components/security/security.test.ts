import { SecurityComponent } from "../../../components/security";
import { dev, mergeOverride, prod, staging } from "../../../stacks/environments";
import { Environment } from "../../../stacks/environments/environment";
import { synthEnvironment } from "../../../stacks/synth";
import { K8sObject } from "../../../policies/types";
import { findAll, findOne } from "../../support/objects";

function synth(env: Environment, customize?: Parameters<typeof synthEnvironment>[1] extends infer O ? (O extends { customize?: infer C } ? C : never) : never) {
  const r = synthEnvironment(env, { customize });
  const security = r.files.find((f) => f.component === "security");
  if (!security) throw new Error("no security file");
  return { ...r, security: security.objects as Array<K8sObject & Record<string, any>> };
}

describe("secrets", () => {
  it("turns every declared credential into an ExternalSecret from the platform's store, with no value in the output", () => {
    const { objects, security } = synth(dev, (p) => {
      p.ensureNamespace({ name: "billing", component: "test" });
      p.secrets.require({ namespace: "billing", name: "billing-db", keys: ["password", "username"], remoteKey: "billing/db", description: "billing database login" });
    });
    const es = findOne(security, "ExternalSecret", "billing-db", "billing");
    expect(es.apiVersion).toBe("external-secrets.io/v1beta1");
    expect(es.spec.secretStoreRef).toEqual({ kind: "ClusterSecretStore", name: "stratum" });
    expect(es.spec.target).toMatchObject({ name: "billing-db", creationPolicy: "Owner", deletionPolicy: "Retain" });
    expect(es.spec.data).toEqual([
      { secretKey: "password", remoteRef: { key: "billing/db", property: "password" } },
      { secretKey: "username", remoteRef: { key: "billing/db", property: "username" } },
    ]);
    expect(findAll(objects, "Secret").filter((s) => s.data || s.stringData)).toEqual([]);
  });

  it("reads AWS Secrets Manager through an IRSA role bound to the operator's ServiceAccount only", () => {
    const { platform, security } = synth(prod);
    const store = findOne(security, "ClusterSecretStore", "stratum");
    expect(store.spec.provider.aws).toEqual({
      service: "SecretsManager",
      region: "eu-west-1",
      prefix: "stratum/prod/",
      auth: { jwt: { serviceAccountRef: { name: "external-secrets", namespace: "external-secrets" } } },
    });
    const role = platform.irsa.all.find((r) => r.purpose === "external-secrets");
    expect(role).toMatchObject({ namespace: "external-secrets", serviceAccount: "external-secrets", roleArn: "arn:aws:iam::333333333333:role/stratum-prod-external-secrets" });
    expect(role?.statements[0].Resource).toEqual(["arn:aws:secretsmanager:eu-west-1:333333333333:secret:stratum/prod/*"]);
    const addon = findOne(security, "Application", "external-secrets", "argocd");
    expect(addon.spec.source).toMatchObject({ chart: "external-secrets", targetRevision: "0.13.0" });
    expect(addon.spec.source.helm.valuesObject.serviceAccount.annotations["eks.amazonaws.com/role-arn"]).toBe(role?.roleArn);
  });

  it("uses a Kubernetes namespace as the store on a local cluster, readable by one ServiceAccount", () => {
    const local = mergeOverride(dev, { cloud: { provider: "local" } });
    const { security, platform } = synth(local);
    expect(findOne(security, "ClusterSecretStore", "stratum").spec.provider.kubernetes).toMatchObject({
      remoteNamespace: "stratum-secrets",
      auth: { serviceAccount: { name: "secret-store-reader", namespace: "external-secrets" } },
    });
    expect(findOne(security, "Role", "secret-store-reader", "stratum-secrets").rules).toEqual([{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] }]);
    expect(platform.irsa.all.map((r) => r.purpose)).not.toContain("external-secrets");
  });

  it("refuses a secret declared after the list was complete", () => {
    expect(() =>
      synth(dev, (p) => p.onFinalize(() => void p.secrets.require({ namespace: "apps", name: "late", keys: ["k"], remoteKey: "late", description: "too late" }), "derive")),
    ).toThrow(/declared after the secret list was complete/);
  });
});

describe("certificates", () => {
  it("issues from a private CA in dev", () => {
    const { security } = synth(dev);
    expect(findOne(security, "ClusterIssuer", "stratum-selfsigned").spec).toEqual({ selfSigned: {} });
    expect(findOne(security, "Certificate", "stratum-root-ca", "cert-manager").spec).toMatchObject({ isCA: true, secretName: "stratum-root-ca" });
    expect(findOne(security, "ClusterIssuer", "stratum").spec).toEqual({ ca: { secretName: "stratum-root-ca" } });
  });

  it.each([
    [staging, "https://acme-staging-v02.api.letsencrypt.org/directory"],
    [prod, "https://acme-v02.api.letsencrypt.org/directory"],
  ])("issues by ACME DNS-01 in Route 53 in %s", (env, server) => {
    const { security, platform } = synth(env);
    const acme = findOne(security, "ClusterIssuer", "stratum").spec.acme;
    expect(acme.server).toBe(server);
    expect(acme.solvers).toEqual([{ selector: { dnsZones: [env.clusterDomain] }, dns01: { route53: { region: "eu-west-1", hostedZoneID: env.certificates.hostedZoneId } } }]);
    const role = platform.irsa.all.find((r) => r.purpose === "cert-manager");
    expect(role?.statements.flatMap((s) => s.Resource)).toContain(`arn:aws:route53:::hostedzone/${env.certificates.hostedZoneId}`);
  });

  it("issues exact names inside the cluster domain only", () => {
    let names: string[] = [];
    const { security } = synth(prod, (p) => {
      const sec = p.find(SecurityComponent)!;
      names = [...sec.addCertificate({ name: "edge", namespace: "cert-manager", dnsNames: ["api.prod.stratum.example.com"] }).dnsNames];
      expect(() => sec.addCertificate({ name: "w", namespace: "cert-manager", dnsNames: ["*.prod.stratum.example.com"] })).toThrow(/dnsNames must be exact names inside prod\.stratum\.example\.com/);
      expect(() => sec.addCertificate({ name: "o", namespace: "cert-manager", dnsNames: ["evil.example.org"] })).toThrow(/exact names inside/);
    });
    expect(names).toEqual(["api.prod.stratum.example.com"]);
    expect(findOne(security, "Certificate", "edge", "cert-manager").spec).toMatchObject({ secretName: "edge", issuerRef: { name: "stratum", kind: "ClusterIssuer" } });
  });
});

describe("operator traffic", () => {
  it("lets cert-manager reach the API server and public HTTPS, and the API server reach its webhook, nothing more", () => {
    const { security } = synth(prod);
    const cm = findOne(security, "NetworkPolicy", "allow-cert-manager", "cert-manager");
    // only Prometheus may come in, to scrape the controller's metrics port
    expect(cm.spec.ingress.flatMap((r: any) => r.from.map((f: any) => f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]))).toEqual(["monitoring"]);
    expect(cm.spec.ingress.flatMap((r: any) => r.ports)).toEqual([{ protocol: "TCP", port: 9402 }]);
    const blocks = cm.spec.egress.filter((r: any) => r.to[0].ipBlock);
    expect(blocks).toEqual([
      { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] } }], ports: [{ protocol: "TCP", port: 443 }] },
      { to: [{ ipBlock: { cidr: "10.30.0.0/16" } }], ports: [{ protocol: "TCP", port: 443 }] },
    ]);
    const webhook = findOne(security, "NetworkPolicy", "allow-cert-manager-webhook", "cert-manager");
    expect(webhook.spec.ingress).toContainEqual({ from: [{ ipBlock: { cidr: "10.30.0.0/16" } }], ports: [{ protocol: "TCP", port: 10250 }] });
    expect(webhook.spec.ingress.filter((r: any) => r.from[0].ipBlock)).toHaveLength(1);
  });
});
