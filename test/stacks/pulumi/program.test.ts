import { ENVIRONMENTS } from "../../../stacks/environments";
import { pulumiObjects } from "../../../stacks/pulumi/kubernetes";
import { synthEnvironment } from "../../../stacks/synth";
import { Registered, runProgram, stackConfig } from "../../support/pulumi";
import { STRATUM_POLICIES } from "../../../policies/pulumi/policies";

const byType = (rs: Registered[], type: string) => rs.filter((r) => r.type === type);

describe.each(["dev", "staging", "prod"])("pulumi up %s", (stack) => {
  let resources: Registered[] = [];
  beforeAll(async () => {
    const run = await runProgram(stack);
    if (run.error) throw run.error;
    resources = run.resources;
  }, 120000);

  it("registers the Kubernetes objects cdk8s synth writes, apart from the Helm charts' Applications", () => {
    const expected = pulumiObjects(synthEnvironment(ENVIRONMENTS[stack])).map((o) => o.object);
    const k8s = resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release");
    const key = (o: any) => `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
    const sort = (xs: any[]) => [...xs].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sort(k8s.map((r) => r.inputs))).toEqual(sort(JSON.parse(JSON.stringify(expected))));
    expect(k8s.length).toBeGreaterThan(100);
  });

  it("installs every Helm add-on as a release with the same chart, version and values as the Argo CD Application", () => {
    const { platform, objects } = synthEnvironment(ENVIRONMENTS[stack]);
    const releases = byType(resources, "kubernetes:helm.sh/v3:Release");
    const addons = platform.components.flatMap((c) => c.addons);
    expect(releases.map((r) => r.inputs.name).sort()).toEqual(addons.map((a) => a.definition.release).sort());
    for (const a of addons) {
      const r = releases.find((x) => x.inputs.name === a.definition.release)!;
      const app = objects.find((o) => o.kind === "Application" && o.metadata.name === a.definition.release) as any;
      expect(r.inputs.version).toBe(app.spec.source.targetRevision);
      expect(r.inputs.values).toEqual(app.spec.source.helm.valuesObject);
      expect(r.inputs.namespace).toBe(app.spec.destination.namespace);
    }
  });

  it("encrypts and closes every bucket", () => {
    const buckets = byType(resources, "aws:s3/bucket:Bucket");
    expect(buckets.length).toBe(3);
    const sse = byType(resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
    const blocks = byType(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    const policies = byType(resources, "aws:s3/bucketPolicy:BucketPolicy");
    expect(sse).toHaveLength(buckets.length);
    for (const s of sse) expect(s.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("aws:kms");
    for (const b of blocks) expect(b.inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(blocks).toHaveLength(buckets.length);
    for (const p of policies) expect(JSON.parse(p.inputs.policy).Statement[0]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    for (const k of byType(resources, "aws:kms/key:Key")) expect(k.inputs.enableKeyRotation).toBe(true);
  });

  it("builds EKS with encrypted secrets, all control-plane logs and node groups sized by the stack", () => {
    const [cluster] = byType(resources, "aws:eks/cluster:Cluster");
    expect(cluster.inputs.encryptionConfig.resources).toEqual(["secrets"]);
    expect(cluster.inputs.enabledClusterLogTypes).toHaveLength(5);
    const config = stackConfig(stack);
    expect(cluster.inputs.vpcConfig.endpointPublicAccess).toBe(config["stratum:privateEndpoint"] !== "true");
    const [nodes] = byType(resources, "aws:eks/nodeGroup:NodeGroup");
    expect(nodes.inputs.scalingConfig.minSize).toBe(Number(config["stratum:nodeMinSize"]));
    expect(nodes.inputs.instanceTypes).toEqual(JSON.parse(config["stratum:nodeInstanceTypes"]));
  });

  it("spreads the VPC over three zones, with NAT per zone only where asked, and flow logs", () => {
    expect(byType(resources, "aws:ec2/subnet:Subnet")).toHaveLength(6);
    expect(byType(resources, "aws:ec2/natGateway:NatGateway")).toHaveLength(stackConfig(stack)["stratum:natPerZone"] === "true" ? 3 : 1);
    expect(byType(resources, "aws:ec2/flowLog:FlowLog")[0].inputs.trafficType).toBe("ALL");
  });

  it("creates one IRSA role per declared ServiceAccount, trusted by that ServiceAccount only", () => {
    const { platform } = synthEnvironment(ENVIRONMENTS[stack]);
    const roles = byType(resources, "aws:iam/role:Role").filter((r) => r.inputs.name?.startsWith(`stratum-${stack}-`));
    expect(roles.map((r) => r.inputs.name).sort()).toEqual(platform.irsa.all.map((r) => r.roleName).sort());
    for (const r of roles) {
      const decl = platform.irsa.all.find((x) => x.roleName === r.inputs.name)!;
      const cond = JSON.parse(r.inputs.assumeRolePolicy).Statement[0].Condition.StringEquals;
      expect(cond["oidc.eks.eu-west-1.amazonaws.com/id/MOCK:sub"]).toBe(`system:serviceaccount:${decl.namespace}:${decl.serviceAccount}`);
    }
  });

  it("puts a WAF with managed rules and a rate limit, and a CDN, in front of the ingress; Shield where the stack asks", () => {
    const [acl] = byType(resources, "aws:wafv2/webAcl:WebAcl");
    expect(acl.inputs.scope).toBe("CLOUDFRONT");
    expect(acl.inputs.rules.map((r: any) => r.name)).toContain("rate-limit-per-ip");
    expect(byType(resources, "aws:cloudfront/distribution:Distribution")[0].inputs.defaultCacheBehavior.viewerProtocolPolicy).toBe("redirect-to-https");
    expect(byType(resources, "aws:shield/protection:Protection")).toHaveLength(stackConfig(stack)["stratum:ddosProtection"] === "true" ? 1 : 0);
  });

  it("keeps a Secrets Manager entry per credential and an ECR repository per runtime service", () => {
    const { platform } = synthEnvironment(ENVIRONMENTS[stack]);
    const entries = byType(resources, "aws:secretsmanager/secret:Secret").map((s) => s.inputs.name).sort();
    expect(entries).toEqual([...new Set(platform.secrets.all.map((s) => `stratum/${stack}/${s.remoteKey}`))].sort());
    expect(byType(resources, "aws:ecr/repository:Repository").map((r) => r.inputs.name).sort()).toEqual(["stratum/event-processor", "stratum/gateway", "stratum/task-orchestrator"]);
  });

  it("passes the Stratum CrossGuard pack", () => {
    const asPolicy = resources.map((r) => ({ type: r.type, name: r.name, urn: `urn:${r.type}::${r.name}`, props: { ...r.inputs, id: `${r.name}-id` }, opts: {}, dependencies: [], propertyDependencies: {} }));
    const violations: string[] = [];
    for (const policy of STRATUM_POLICIES) {
      const p = policy as any;
      if (p.validateStack) p.validateStack({ resources: asPolicy, stackTags: new Map() }, (m: string) => violations.push(`${policy.name}: ${m}`));
      if (p.validateResource) for (const r of asPolicy) p.validateResource({ ...r, stackTags: new Map() }, (m: string) => violations.push(`${policy.name}: ${m}`));
    }
    expect(violations).toEqual([]);
  });

  it("wraps everything in Stratum component resources", () => {
    const types = new Set(resources.map((r) => r.type));
    for (const t of ["stratum:aws:Network", "stratum:aws:Cluster", "stratum:aws:Storage", "stratum:aws:Edge", "stratum:k8s:Platform"]) expect(types).toContain(t);
  });
});

describe("pulumi configuration errors", () => {
  it("names the allowed stacks for an unknown one", async () => {
    const run = await runProgram("qa", {});
    expect(run.error?.message).toContain('unknown environment "qa"; allowed: dev, staging, prod');
  });

  it("names the bad key, value and what is allowed", async () => {
    const run = await runProgram("dev", { ...stackConfig("dev"), "stratum:kubernetesVersion": "1.99", "stratum:nodeMinSize": "0" });
    expect(run.error?.message).toMatch(/kubernetesVersion: must be one of "1.28", "1.29", "1.30" \(got "1.99"\)/);
    expect(run.error?.message).toMatch(/nodeGroup\.minSize: must be >= 1 \(got 0\)/);
  });
});
