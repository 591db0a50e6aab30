import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { eksSecretsEncryption, irsaOneServiceAccount, kmsRotation, noOpenAdminPorts, s3EncryptedPrivate } from "../../../policies/pulumi/aws-policies";
import { kubernetesManifestRules, kubernetesNamespaceDefaultDeny } from "../../../policies/pulumi/kubernetes-policies";
import { STRATUM_POLICIES } from "../../../policies/pulumi/policies";

function validate(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>, name = "r"): string[] {
  const out: string[] = [];
  const fn = policy.validateResource as (args: any, report: (m: string) => void) => void;
  fn({ type, props, urn: `urn:pulumi:s::p::${type}::${name}`, name, opts: {}, stackTags: new Map() }, (m) => out.push(m));
  return out;
}

function validateStack(policy: StackValidationPolicy, resources: Array<Partial<PolicyResource>>): string[] {
  const out: string[] = [];
  const fn = policy.validateStack as (args: any, report: (m: string) => void) => void;
  fn({ resources: resources.map((r) => ({ dependencies: [], propertyDependencies: {}, opts: {}, ...r })), stackTags: new Map() }, (m) => out.push(m));
  return out;
}

const labels = { "app.kubernetes.io/name": "x", "app.kubernetes.io/part-of": "stratum", "app.kubernetes.io/managed-by": "stratum" };

describe("Kubernetes policies reuse the manifest rules", () => {
  it("refuse a Secret with data and a floating image, and pass a clean object", () => {
    const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "a", labels }, data: { password: "eA==" } };
    expect(validate(kubernetesManifestRules, "kubernetes:core/v1:Secret", secret)).toEqual(["error [secret-no-data] Secret a/s: data: must be empty; keys found: password"]);
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "a", labels }, spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "nginx:latest" }] } };
    expect(validate(kubernetesManifestRules, "kubernetes:core/v1:Pod", pod).join("\n")).toMatch(/\[image-pinned\][\s\S]*\[resources-required\]|\[resources-required\][\s\S]*\[image-pinned\]/);
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "a", labels }, data: {} };
    expect(validate(kubernetesManifestRules, "kubernetes:core/v1:ConfigMap", cm)).toEqual([]);
    expect(validate(kubernetesManifestRules, "kubernetes:helm.sh/v3:Release", { values: {} })).toEqual([]);
  });

  it("need a default-deny NetworkPolicy per namespace across the stack", () => {
    const ns = { type: "kubernetes:core/v1:Namespace", props: { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps", labels } } };
    expect(validateStack(kubernetesNamespaceDefaultDeny, [ns])[0]).toMatch(/namespace 'apps' has no default-deny NetworkPolicy/);
    const deny = { type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", props: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "d", namespace: "apps", labels }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } } };
    expect(validateStack(kubernetesNamespaceDefaultDeny, [ns, deny])).toEqual([]);
  });
});

describe("AWS policies", () => {
  const bucket = { type: "aws:s3/bucket:Bucket", name: "uploads", urn: "urn:b", props: { bucket: "stratum-dev-uploads" } };
  const sse = (alg: string) => ({ type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", props: { bucket: "stratum-dev-uploads", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: alg } }] } });
  const block = (on: boolean) => ({ type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", props: { bucket: "stratum-dev-uploads", blockPublicAcls: true, blockPublicPolicy: on, ignorePublicAcls: true, restrictPublicBuckets: true } });

  it("s3: a bucket needs KMS encryption and a full public access block", () => {
    expect(validateStack(s3EncryptedPrivate, [bucket, sse("aws:kms"), block(true)])).toEqual([]);
    expect(validateStack(s3EncryptedPrivate, [bucket])).toEqual(["bucket uploads: has no default encryption", "bucket uploads: has no public access block"]);
    expect(validateStack(s3EncryptedPrivate, [bucket, sse("AES256"), block(false)])).toEqual([
      "bucket uploads: default encryption must be aws:kms (got AES256)",
      "bucket uploads: public access block must set blockPublicPolicy to true",
    ]);
  });

  it("kms: keys rotate", () => {
    expect(validate(kmsRotation, "aws:kms/key:Key", { enableKeyRotation: true })).toEqual([]);
    expect(validate(kmsRotation, "aws:kms/key:Key", {}, "k")).toEqual(["KMS key k: enableKeyRotation must be true"]);
  });

  it("security groups: no admin port open to the internet", () => {
    const sg = (ingress: unknown[]) => validate(noOpenAdminPorts, "aws:ec2/securityGroup:SecurityGroup", { ingress }, "sg");
    expect(sg([{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }])).toEqual(["sg: ingress from the whole internet on admin port(s) 22"]);
    expect(sg([{ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }])[0]).toMatch(/admin port\(s\) 22, 3389/);
    expect(sg([{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.0.0.0/8"] }, { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"] }])).toEqual([]);
    expect(validate(noOpenAdminPorts, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", { ipProtocol: "tcp", fromPort: 6443, toPort: 6443, cidrIpv4: "0.0.0.0/0" }, "r")).toHaveLength(1);
  });

  it("eks: secrets are encrypted with a KMS key", () => {
    expect(validate(eksSecretsEncryption, "aws:eks/cluster:Cluster", { encryptionConfig: { provider: { keyArn: "arn:aws:kms:k" }, resources: ["secrets"] } })).toEqual([]);
    expect(validate(eksSecretsEncryption, "aws:eks/cluster:Cluster", {}, "c")).toEqual(['EKS cluster c: encryptionConfig must encrypt "secrets" with a KMS key']);
  });

  it("irsa: trust names exactly one ServiceAccount and the sts audience", () => {
    const trust = (condition: unknown) => JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::1:oidc-provider/x" }, Action: "sts:AssumeRoleWithWebIdentity", Condition: condition }] });
    const good = { StringEquals: { "oidc/x:sub": "system:serviceaccount:tasks:task-orchestrator", "oidc/x:aud": "sts.amazonaws.com" } };
    expect(validate(irsaOneServiceAccount, "aws:iam/role:Role", { assumeRolePolicy: trust(good) })).toEqual([]);
    const wildcard = { StringLike: { "oidc/x:sub": "system:serviceaccount:tasks:*" }, StringEquals: { "oidc/x:aud": "sts.amazonaws.com" } };
    expect(validate(irsaOneServiceAccount, "aws:iam/role:Role", { assumeRolePolicy: trust(wildcard) }, "r")).toEqual([
      "role r: IRSA trust must not use StringLike",
      "role r: IRSA trust must name exactly one ServiceAccount in StringEquals ...:sub (got [])",
    ]);
    const service = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "eks.amazonaws.com" }, Action: "sts:AssumeRole" }] });
    expect(validate(irsaOneServiceAccount, "aws:iam/role:Role", { assumeRolePolicy: service })).toEqual([]);
  });

  it("the pack holds every policy once", () => {
    expect(STRATUM_POLICIES.map((p) => p.name)).toEqual([
      "stratum-kubernetes-manifest-rules", "stratum-namespace-default-deny", "stratum-s3-encrypted-private", "stratum-kms-rotation",
      "stratum-no-open-admin-ports", "stratum-eks-secrets-encryption", "stratum-irsa-one-service-account",
    ]);
  });
});
