import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

const BUCKET = "aws:s3/bucket:Bucket";
const SSE_TYPES = ["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"];
const BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";

/** Ports that must never be open to the whole internet. */
export const ADMIN_PORTS = [22, 3389, 443, 2379, 5432, 6379, 6443, 9200, 10250];

/** Whether a child resource (encryption, access block) configures this bucket. */
function configures(child: PolicyResource, bucket: PolicyResource): boolean {
  return child.dependencies.some((d) => d.urn === bucket.urn) || (child.props.bucket !== undefined && (child.props.bucket === bucket.props.bucket || child.props.bucket === bucket.props.id));
}

/** Every bucket has default encryption (KMS) and a public access block with all four switches on. */
export const s3EncryptedPrivate: StackValidationPolicy = {
  name: "stratum-s3-encrypted-private",
  description: "Every S3 bucket has KMS default encryption and blocks all public access.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const b of args.resources.filter((r) => r.type === BUCKET)) {
      const sse = args.resources.find((r) => SSE_TYPES.includes(r.type) && configures(r, b));
      const algorithm = sse?.props.rules?.[0]?.applyServerSideEncryptionByDefault?.sseAlgorithm;
      if (!sse) reportViolation(`bucket ${b.name}: has no default encryption`, b.urn);
      else if (algorithm !== "aws:kms" && algorithm !== "aws:kms:dsse") reportViolation(`bucket ${b.name}: default encryption must be aws:kms (got ${algorithm})`, b.urn);
      const block = args.resources.find((r) => r.type === BLOCK && configures(r, b));
      const missing = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].filter((k) => block?.props[k] !== true);
      if (!block) reportViolation(`bucket ${b.name}: has no public access block`, b.urn);
      else if (missing.length) reportViolation(`bucket ${b.name}: public access block must set ${missing.join(", ")} to true`, b.urn);
    }
  },
};

/** KMS keys rotate. */
export const kmsRotation: ResourceValidationPolicy = {
  name: "stratum-kms-rotation",
  description: "Every customer-managed KMS key has automatic rotation enabled.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type === "aws:kms/key:Key" && args.props.enableKeyRotation !== true) reportViolation(`KMS key ${args.name}: enableKeyRotation must be true`);
  },
};

function openToWorld(rule: Record<string, any>): boolean {
  const cidrs: string[] = [...(rule.cidrBlocks ?? []), ...(rule.cidrIpv4 ? [rule.cidrIpv4] : []), ...(rule.ipv6CidrBlocks ?? []), ...(rule.cidrIpv6 ? [rule.cidrIpv6] : [])];
  return cidrs.some((c) => c === "0.0.0.0/0" || c === "::/0");
}

function adminPortsIn(rule: Record<string, any>): number[] {
  if (rule.protocol === "-1" || rule.ipProtocol === "-1") return ADMIN_PORTS;
  const from = Number(rule.fromPort ?? 0);
  const to = Number(rule.toPort ?? from);
  return ADMIN_PORTS.filter((p) => p >= from && p <= to);
}

/** No security group opens an admin port to the internet. */
export const noOpenAdminPorts: ResourceValidationPolicy = {
  name: "stratum-no-open-admin-ports",
  description: `No security group admits 0.0.0.0/0 or ::/0 on admin ports (${ADMIN_PORTS.join(", ")}).`,
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const rules: Record<string, any>[] =
      args.type === "aws:ec2/securityGroup:SecurityGroup" ? args.props.ingress ?? []
      : args.type === "aws:ec2/securityGroupRule:SecurityGroupRule" && args.props.type === "ingress" ? [args.props]
      : args.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" ? [args.props]
      : [];
    for (const rule of rules) {
      const ports = adminPortsIn(rule);
      if (openToWorld(rule) && ports.length) reportViolation(`${args.name}: ingress from the whole internet on admin port(s) ${ports.join(", ")}`);
    }
  },
};

/** EKS encrypts Kubernetes secrets with KMS. */
export const eksSecretsEncryption: ResourceValidationPolicy = {
  name: "stratum-eks-secrets-encryption",
  description: "Every EKS cluster encrypts Kubernetes secrets with a KMS key.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:eks/cluster:Cluster") return;
    const config = args.props.encryptionConfig;
    if (!config?.resources?.includes("secrets") || !config?.provider?.keyArn) reportViolation(`EKS cluster ${args.name}: encryptionConfig must encrypt "secrets" with a KMS key`);
  },
};

/** A role trusted by an OIDC provider (IRSA) is bound to exactly one ServiceAccount. */
export const irsaOneServiceAccount: ResourceValidationPolicy = {
  name: "stratum-irsa-one-service-account",
  description: "An IAM role assumable through the cluster's OIDC provider names exactly one ServiceAccount (StringEquals on :sub, no wildcard) and the sts audience.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:iam/role:Role" || typeof args.props.assumeRolePolicy !== "string") return;
    let doc: { Statement?: Array<Record<string, any>> };
    try {
      doc = JSON.parse(args.props.assumeRolePolicy);
    } catch {
      return;
    }
    for (const s of doc.Statement ?? []) {
      if (!s.Principal?.Federated || !String(s.Action).includes("AssumeRoleWithWebIdentity")) continue;
      const equals = s.Condition?.StringEquals ?? {};
      const sub = Object.entries(equals).filter(([k]) => k.endsWith(":sub"));
      const aud = Object.entries(equals).filter(([k]) => k.endsWith(":aud"));
      if (s.Condition?.StringLike) reportViolation(`role ${args.name}: IRSA trust must not use StringLike`);
      if (sub.length !== 1 || typeof sub[0][1] !== "string" || !/^system:serviceaccount:[a-z0-9-]+:[a-z0-9.-]+$/.test(sub[0][1] as string)) {
        reportViolation(`role ${args.name}: IRSA trust must name exactly one ServiceAccount in StringEquals ...:sub (got ${JSON.stringify(sub.map(([, v]) => v))})`);
      }
      if (aud.length !== 1 || aud[0][1] !== "sts.amazonaws.com") reportViolation(`role ${args.name}: IRSA trust must require the audience sts.amazonaws.com`);
    }
  },
};
