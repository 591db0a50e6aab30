import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { IrsaRole } from "../../constructs/irsa";
import { StackSettings } from "./settings";

/** Args of the cluster. */
export interface ClusterArgs {
  readonly version: string;
  readonly privateSubnetIds: pulumi.Input<string>[];
  readonly nodeGroup: StackSettings["nodeGroup"];
  readonly privateEndpoint: boolean;
  readonly publicAccessCidrs: ReadonlyArray<string>;
  /** The IAM roles the platform's ServiceAccounts need (from the platform's IRSA registry). */
  readonly irsa: ReadonlyArray<IrsaRole>;
  readonly tags: Record<string, string>;
}

/** Root CA thumbprint of the EKS OIDC issuers (the Starfield root used by all regions). */
export const EKS_OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";
const CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

/** The trust policy of an IRSA role: exactly one ServiceAccount of this cluster may assume it. */
export function irsaTrustPolicy(oidcProviderArn: string, issuer: string, namespace: string, serviceAccount: string): string {
  const host = issuer.replace(/^https:\/\//, "");
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Federated: oidcProviderArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: { StringEquals: { [`${host}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`, [`${host}:aud`]: "sts.amazonaws.com" } },
    }],
  });
}

/**
 * EKS with secrets encrypted by a rotating KMS key, every control-plane log, a private endpoint where asked, a managed
 * node group in the private subnets, the OIDC provider and one IAM role per declared ServiceAccount.
 */
export class Cluster extends pulumi.ComponentResource {
  readonly cluster: aws.eks.Cluster;
  readonly oidcProvider: aws.iam.OpenIdConnectProvider;
  readonly irsaRoles: Record<string, aws.iam.Role>;
  readonly kubeconfig: pulumi.Output<string>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stratum:aws:Cluster", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const key = new aws.kms.Key(`${name}-secrets`, { description: `${name} Kubernetes secrets`, enableKeyRotation: true, deletionWindowInDays: 30, tags }, parent);
    const assume = (service: string) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
    const clusterRole = new aws.iam.Role(`${name}-cluster`, { assumeRolePolicy: assume("eks.amazonaws.com"), tags }, parent);
    new aws.iam.RolePolicyAttachment(`${name}-cluster-policy`, { role: clusterRole.name, policyArn: "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy" }, parent);
    this.cluster = new aws.eks.Cluster(`${name}-eks`, {
      version: args.version,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: args.privateSubnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: !args.privateEndpoint,
        publicAccessCidrs: args.privateEndpoint ? undefined : [...args.publicAccessCidrs],
      },
      encryptionConfig: { provider: { keyArn: key.arn }, resources: ["secrets"] },
      enabledClusterLogTypes: CONTROL_PLANE_LOGS,
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
      tags,
    }, parent);

    const nodeRole = new aws.iam.Role(`${name}-nodes`, { assumeRolePolicy: assume("ec2.amazonaws.com"), tags }, parent);
    const nodePolicies = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"].map((p) =>
      new aws.iam.RolePolicyAttachment(`${name}-nodes-${p}`, { role: nodeRole.name, policyArn: `arn:aws:iam::aws:policy/${p}` }, parent));
    const n = args.nodeGroup;
    new aws.eks.NodeGroup(`${name}-nodes`, {
      clusterName: this.cluster.name,
      nodeRoleArn: nodeRole.arn,
      subnetIds: args.privateSubnetIds,
      instanceTypes: [...n.instanceTypes],
      amiType: "AL2023_x86_64_STANDARD",
      scalingConfig: { minSize: n.minSize, desiredSize: n.desiredSize, maxSize: n.maxSize },
      updateConfig: { maxUnavailable: 1 },
      tags,
    }, { parent: this, dependsOn: nodePolicies, ignoreChanges: ["scalingConfig.desiredSize"] });

    const issuer = this.cluster.identities.apply((ids) => ids[0].oidcs?.[0]?.issuer ?? "");
    this.oidcProvider = new aws.iam.OpenIdConnectProvider(`${name}-oidc`, { url: issuer, clientIdLists: ["sts.amazonaws.com"], thumbprintLists: [EKS_OIDC_THUMBPRINT], tags }, parent);
    this.irsaRoles = {};
    for (const r of args.irsa) {
      const role = new aws.iam.Role(`${name}-irsa-${r.purpose}`, {
        name: r.roleName,
        description: r.description,
        assumeRolePolicy: pulumi.all([this.oidcProvider.arn, issuer]).apply(([arn, iss]) => irsaTrustPolicy(arn, iss, r.namespace, r.serviceAccount)),
        tags: { ...tags, "stratum.dev/service-account": `${r.namespace}/${r.serviceAccount}` },
      }, parent);
      new aws.iam.RolePolicy(`${name}-irsa-${r.purpose}`, { role: role.id, policy: JSON.stringify({ Version: "2012-10-17", Statement: r.statements }) }, parent);
      this.irsaRoles[r.purpose] = role;
    }
    this.kubeconfig = pulumi.all([this.cluster.name, this.cluster.endpoint, this.cluster.certificateAuthority]).apply(([clusterName, endpoint, ca]) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterName, cluster: { server: endpoint, "certificate-authority-data": ca?.data } }],
        contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
        "current-context": clusterName,
        users: [{ name: clusterName, user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: ["eks", "get-token", "--cluster-name", clusterName] } } }],
      }));
    this.registerOutputs({ clusterName: this.cluster.name, endpoint: this.cluster.endpoint, oidcProviderArn: this.oidcProvider.arn });
  }
}
