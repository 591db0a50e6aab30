import { Construct } from "constructs";
import { HelmAddon } from "../../constructs/helm-addon";
import { ClusterSecretStoreV1Beta1, ClusterSecretStoreV1Beta1SpecProviderAwsService, ClusterSecretStoreV1Beta1SpecProviderKubernetesServerCaProviderType } from "../../constructs/imports/eso-clustersecretstore-external-secrets.io";
import { ExternalSecretV1Beta1, ExternalSecretV1Beta1SpecSecretStoreRefKind, ExternalSecretV1Beta1SpecTargetCreationPolicy, ExternalSecretV1Beta1SpecTargetDeletionPolicy } from "../../constructs/imports/eso-externalsecret-external-secrets.io";
import * as k8s from "../../constructs/imports/k8s";
import { IRSA_ANNOTATION } from "../../constructs/irsa";
import { recommendedLabels } from "../../constructs/labels";
import { SecretRequirement } from "../../constructs/secret-ref";
import { customResourceAnnotations } from "../../constructs/sync";
import type { WorkloadSizing } from "../../stacks/environments/environment";
import { PlatformContext, SyncWave } from "../component";
import { chartPods, INTERNET_HTTPS } from "../../constructs/chart-pods";

/** External Secrets Operator chart, pinned to the app version of the CRDs the platform is validated against. */
export const EXTERNAL_SECRETS_CHART = { repoURL: "https://charts.external-secrets.io", chart: "external-secrets", version: "0.13.0" } as const;
/** Namespace of the operator. */
export const EXTERNAL_SECRETS_NAMESPACE = "external-secrets";
/** Name of the platform's ClusterSecretStore. */
export const SECRET_STORE = "stratum";
/** Namespace that holds the source Secrets when the store is Kubernetes-backed (a local cluster). */
export const LOCAL_SECRETS_NAMESPACE = "stratum-secrets";
const LOCAL_READER = "secret-store-reader";

/** Props of the External Secrets installation. */
export interface ExternalSecretsProps {
  /** Operator replicas and resources. */
  readonly sizing: WorkloadSizing;
  /** How often every ExternalSecret re-reads its source. @default "1h" */
  readonly refreshInterval?: string;
}

function chartResources(s: WorkloadSizing) {
  return { requests: { ...s.resources.requests }, limits: { ...s.resources.limits } };
}

/**
 * External Secrets Operator, the platform's ClusterSecretStore (AWS Secrets Manager through IRSA in the cloud, a
 * Kubernetes namespace on a local cluster) and one ExternalSecret per credential the components declared.
 */
export class ExternalSecrets extends Construct {
  /** The Helm add-on. */
  readonly addon: HelmAddon;
  private readonly context: PlatformContext;
  private readonly refreshInterval: string;

  constructor(scope: Construct, id: string, context: PlatformContext, props: ExternalSecretsProps) {
    super(scope, id);
    this.context = context;
    this.refreshInterval = props.refreshInterval ?? "1h";
    const env = context.environment;
    const aws = env.cloud.provider === "aws";
    const ns = context.ensureNamespace({ name: EXTERNAL_SECRETS_NAMESPACE, component: "security" });
    const role = aws
      ? context.irsa.bind({
          purpose: "external-secrets",
          namespace: ns,
          serviceAccount: "external-secrets",
          description: "External Secrets reads the platform's credentials from AWS Secrets Manager",
          statements: [
            {
              Effect: "Allow",
              Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"],
              Resource: [`arn:aws:secretsmanager:${env.cloud.region}:${env.cloud.accountId}:secret:stratum/${env.name}/*`],
            },
          ],
        })
      : undefined;
    const replicas = props.sizing.replicas;
    const resources = chartResources(props.sizing);
    this.addon = new HelmAddon(this, "Addon", {
      release: "external-secrets",
      ...EXTERNAL_SECRETS_CHART,
      namespace: ns,
      project: context.gitopsProject,
      syncWave: SyncWave.OPERATORS,
      values: {
        installCRDs: true,
        replicaCount: replicas,
        leaderElect: replicas > 1,
        resources,
        podDisruptionBudget: { enabled: replicas > 1, minAvailable: 1 },
        serviceAccount: { create: true, name: "external-secrets", annotations: role ? { [IRSA_ANNOTATION]: role.roleArn } : {} },
        webhook: { replicaCount: replicas, resources, podDisruptionBudget: { enabled: replicas > 1, minAvailable: 1 } },
        certController: { replicaCount: 1, resources },
        serviceMonitor: { enabled: false },
      },
    });

    const graph = context.graph;
    graph.addNode(chartPods({ id: "external-secrets", namespace: ns, name: "external-secrets", instance: "external-secrets", serviceAccount: "external-secrets", scope: this }));
    graph.addNode(chartPods({
      id: "external-secrets-webhook", namespace: ns, name: "external-secrets-webhook", instance: "external-secrets", serviceAccount: "external-secrets-webhook", scope: this,
      ports: [{ name: "https-webhook", port: 443, targetPort: 10250, protocol: "tls" }],
    }));
    graph.addNode(chartPods({ id: "external-secrets-certs", namespace: ns, name: "external-secrets-cert-controller", instance: "external-secrets", serviceAccount: "external-secrets-cert-controller", scope: this }));
    for (const from of ["external-secrets", "external-secrets-webhook", "external-secrets-certs"]) graph.connect(from, "kube-apiserver");
    graph.connect("kube-apiserver", "external-secrets-webhook");
    if (aws) graph.connect("external-secrets", INTERNET_HTTPS);

    new ClusterSecretStoreV1Beta1(this, "Store", {
      metadata: { name: SECRET_STORE, labels: recommendedLabels({ name: SECRET_STORE, component: "security" }), annotations: customResourceAnnotations() },
      spec: {
        provider: aws
          ? { aws: { service: ClusterSecretStoreV1Beta1SpecProviderAwsService.SECRETS_MANAGER, region: env.cloud.region, prefix: `stratum/${env.name}/`, auth: { jwt: { serviceAccountRef: { name: "external-secrets", namespace: ns } } } } }
          : {
              kubernetes: {
                remoteNamespace: LOCAL_SECRETS_NAMESPACE,
                server: { caProvider: { type: ClusterSecretStoreV1Beta1SpecProviderKubernetesServerCaProviderType.CONFIG_MAP, name: "kube-root-ca.crt", key: "ca.crt", namespace: ns } },
                auth: { serviceAccount: { name: LOCAL_READER, namespace: ns } },
              },
            },
        refreshInterval: 300,
      },
    });
    if (!aws) this.localReader(ns);
    context.onFinalize(() => this.materialise(), "derive");
  }

  /** A ServiceAccount that may read exactly the source namespace's Secrets, for the Kubernetes-backed store. */
  private localReader(ns: string): void {
    const source = this.context.ensureNamespace({ name: LOCAL_SECRETS_NAMESPACE, component: "security" });
    const labels = recommendedLabels({ name: LOCAL_READER, component: "security" });
    new k8s.KubeServiceAccount(this, "Reader", { metadata: { name: LOCAL_READER, namespace: ns, labels }, automountServiceAccountToken: false });
    new k8s.KubeRole(this, "ReaderRole", {
      metadata: { name: LOCAL_READER, namespace: source, labels },
      rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] }],
    });
    new k8s.KubeRoleBinding(this, "ReaderBinding", {
      metadata: { name: LOCAL_READER, namespace: source, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: LOCAL_READER },
      subjects: [{ kind: "ServiceAccount", name: LOCAL_READER, namespace: ns }],
    });
    new k8s.KubeClusterRole(this, "ReaderReview", {
      metadata: { name: `stratum-${LOCAL_READER}`, labels },
      rules: [{ apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectrulesreviews"], verbs: ["create"] }],
    });
    new k8s.KubeClusterRoleBinding(this, "ReaderReviewBinding", {
      metadata: { name: `stratum-${LOCAL_READER}`, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `stratum-${LOCAL_READER}` },
      subjects: [{ kind: "ServiceAccount", name: LOCAL_READER, namespace: ns }],
    });
  }

  /** One ExternalSecret per declared credential. */
  private materialise(): void {
    for (const req of this.context.secrets.all) this.externalSecret(req);
  }

  private externalSecret(req: SecretRequirement): void {
    new ExternalSecretV1Beta1(this, `ES-${req.namespace}-${req.name}`, {
      metadata: {
        name: req.name,
        namespace: req.namespace,
        labels: recommendedLabels({ name: req.name, component: "credentials" }),
        annotations: { ...customResourceAnnotations(), "stratum.dev/description": req.description },
      },
      spec: {
        refreshInterval: this.refreshInterval,
        secretStoreRef: { kind: ExternalSecretV1Beta1SpecSecretStoreRefKind.CLUSTER_SECRET_STORE, name: SECRET_STORE },
        target: {
          name: req.name,
          creationPolicy: ExternalSecretV1Beta1SpecTargetCreationPolicy.OWNER,
          deletionPolicy: ExternalSecretV1Beta1SpecTargetDeletionPolicy.RETAIN,
          template: {
            type: req.type ?? "Opaque",
            metadata: { labels: { ...recommendedLabels({ name: req.name, component: "credentials" }), ...req.labels } },
          },
        },
        data: [...req.keys].sort().map((key) => ({ secretKey: key, remoteRef: { key: req.remoteKey, property: key } })),
      },
    });
  }
}
