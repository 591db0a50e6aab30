import { App, Testing } from "cdk8s";
import { MC_IMAGE, MINIO_IMAGE, ObjectStorage, OBJECT_STORAGE_NODE } from "../../../components/object-storage";
import { formatFinding, runPolicies } from "../../../policies/engine";
import { DEFAULT_RULES as RULES } from "../../../policies/rules";
import { IRSA_ANNOTATION } from "../../../constructs/irsa";
import { dev, Environment, prod, staging } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";

function platformOf(environment: Environment): Platform {
  return new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), environment.name, { environment });
}

const local: Environment = { ...dev, name: "local", cloud: { ...dev.cloud, provider: "local" }, sizing: { ...dev.sizing, objectStorage: { ...dev.sizing.objectStorage, endpoint: "https://minio.example.internal" } } };

describe("ObjectStorage", () => {
  it("describes one bucket per purpose with the tier's lifecycle", () => {
    const platform = platformOf(prod);
    const storage = platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    expect(storage.buckets.map((b) => b.name)).toEqual(["stratum-prod-uploads", "stratum-prod-backups", "stratum-prod-logs"]);
    const backups = storage.bucket("backups");
    expect(backups.versioning).toBe(true);
    expect(backups.encryption).toBe("aws:kms");
    expect(backups.blockPublicAccess).toBe(true);
    expect(backups.lifecycle).toEqual([
      { id: "stratum-lifecycle", expirationDays: 60, transitionToInfrequentAccessDays: 30, noncurrentVersionExpirationDays: 30, abortIncompleteMultipartUploadDays: 7 },
    ]);
    expect(storage.bucket("uploads").lifecycle[0].expirationDays).toBeUndefined();
    expect(storage.region).toBe("eu-west-1");
    expect(storage.endpoint).toBe("https://s3.eu-west-1.amazonaws.com");
  });

  it("is the external graph node object-storage: HTTPS anywhere but the private ranges", () => {
    const platform = platformOf(dev);
    platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    const node = platform.graph.node(OBJECT_STORAGE_NODE);
    expect(node.kind).toBe("external");
    expect(node.cidrs).toEqual(["0.0.0.0/0"]);
    expect(node.exceptCidrs).toEqual(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]);
    expect(node.ports).toEqual([{ name: "https", port: 443, protocol: "tls" }]);
  });

  it("lets a consumer's NetworkPolicy reach S3 on 443 only outside the private ranges", () => {
    const platform = platformOf(dev);
    platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    platform.addService({ name: "order", image: "ghcr.io/acme/order:1.0.0", consumes: [OBJECT_STORAGE_NODE] });
    platform.finalize();
    const objects = platform.components.flatMap((c) => Testing.synth(c));
    const np = objects.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "allow-order");
    expect(np.spec.egress).toContainEqual({
      to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] } }],
      ports: [{ protocol: "TCP", port: 443 }],
    });
  });

  it("hands a graph consumer bucket, region and endpoint, and on AWS an IRSA role instead of keys", () => {
    const platform = platformOf(staging);
    const storage = platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    const order = platform.addService({ name: "order", image: "ghcr.io/acme/order:1.0.0", consumes: [OBJECT_STORAGE_NODE] });
    platform.finalize();
    const container = Testing.synth(platform.components.find((c) => c.componentName === "services")!)
      .find((o) => o.kind === "Deployment" && o.metadata.name === "order").spec.template.spec.containers[0];
    expect(container.env).toEqual(expect.arrayContaining([
      { name: "S3_BUCKET", value: "stratum-staging-uploads" },
      { name: "S3_REGION", value: "eu-west-1" },
      { name: "S3_ENDPOINT", value: "https://s3.eu-west-1.amazonaws.com" },
    ]));
    expect(container.env.map((e: { name: string }) => e.name)).not.toContain("AWS_SECRET_ACCESS_KEY");
    expect(storage.grants).toEqual([
      {
        principal: { id: "order", namespace: "apps", serviceAccount: order.workload.serviceAccountName },
        permissions: { uploads: "read-write" },
        roleArn: `arn:aws:iam::${staging.cloud.accountId}:role/stratum-staging-order-s3`,
      },
    ]);
    const sa = Testing.synth(platform.components.find((c) => c.componentName === "services")!).find((o) => o.kind === "ServiceAccount" && o.metadata.name === "order");
    expect(sa.metadata.annotations).toEqual({ [IRSA_ANNOTATION]: `arn:aws:iam::${staging.cloud.accountId}:role/stratum-staging-order-s3` });
    const role = platform.irsa.all.find((r) => r.purpose === "order-s3")!;
    expect(role).toMatchObject({ namespace: "apps", serviceAccount: order.workload.serviceAccountName });
    expect(role.statements[0].Resource).toEqual(["arn:aws:s3:::stratum-staging-uploads", "arn:aws:s3:::stratum-staging-uploads/*"]);
    expect(role.statements[0].Action).toContain("s3:PutObject");
    expect(platform.secrets.all).toEqual([]);
  });

  it("gives an explicit grant an IRSA role for exactly its buckets and actions", () => {
    const platform = platformOf(prod);
    const storage = platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    const who = { id: "postgres", namespace: "postgres", serviceAccount: "postgres" };
    const access = storage.grant(who, { backups: "read-write", logs: "read" });
    expect(access.buckets).toEqual({ backups: "stratum-prod-backups", logs: "stratum-prod-logs" });
    expect(access.serviceAccountAnnotations).toEqual({ [IRSA_ANNOTATION]: `arn:aws:iam::${prod.cloud.accountId}:role/stratum-prod-postgres-s3` });
    expect(access.credentials).toBeUndefined();
    const role = platform.irsa.all.find((r) => r.purpose === "postgres-s3")!;
    expect(role.statements.map((s) => [s.Resource, s.Action.includes("s3:PutObject")])).toEqual([
      [["arn:aws:s3:::stratum-prod-logs", "arn:aws:s3:::stratum-prod-logs/*"], false],
      [["arn:aws:s3:::stratum-prod-backups", "arn:aws:s3:::stratum-prod-backups/*"], true],
      [["*"], false],
    ]);
    expect(role.statements[2].Condition).toEqual({ StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } });
    expect(storage.grant(who, { backups: "read-write", logs: "read" })).toEqual(access);
    expect(() => storage.grant(who, { backups: "read" })).toThrow("'postgres' is granted buckets twice with different settings");
    expect(() => storage.grant({ ...who, id: "x" }, {})).toThrow("grant for 'x' names no bucket");
  });

  it("refuses two IAM roles on one ServiceAccount", () => {
    const platform = platformOf(prod);
    const storage = platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    const order = platform.addService({ name: "order", image: "ghcr.io/acme/order:1.0.0", consumes: [OBJECT_STORAGE_NODE] });
    storage.grant({ id: "order-logs", namespace: "apps", serviceAccount: order.workload.serviceAccountName }, { logs: "read" });
    expect(() => platform.finalize()).toThrow(
      `ServiceAccount apps/order already has the IAM role arn:aws:iam::${prod.cloud.accountId}:role/stratum-prod-order-s3; it cannot also take arn:aws:iam::${prod.cloud.accountId}:role/stratum-prod-order-logs-s3`,
    );
  });

  it("without IRSA (provider local) hands out static credentials, only by reference", () => {
    const platform = platformOf(local);
    const storage = platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    platform.addService({ name: "order", image: "ghcr.io/acme/order:1.0.0", consumes: [OBJECT_STORAGE_NODE] });
    platform.finalize();
    expect(storage.endpoint).toBe("https://minio.example.internal");
    expect(storage.grants[0].roleArn).toBeUndefined();
    expect(platform.irsa.all).toEqual([]);
    expect(platform.secrets.all).toEqual([
      expect.objectContaining({ namespace: "apps", name: "s3-order", keys: ["accessKeyId", "secretAccessKey"], remoteKey: "stratum/local/object-storage/order" }),
    ]);
    const container = Testing.synth(platform.components.find((c) => c.componentName === "services")!)
      .find((o) => o.kind === "Deployment" && o.metadata.name === "order").spec.template.spec.containers[0];
    expect(container.env).toEqual(expect.arrayContaining([
      { name: "S3_ENDPOINT", value: "https://minio.example.internal" },
      { name: "AWS_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: "s3-order", key: "accessKeyId" } } },
      { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "s3-order", key: "secretAccessKey" } } },
    ]));
  });

  it("rejects lifecycles S3 would refuse, naming the field", () => {
    const bad: Environment = {
      ...dev,
      sizing: {
        ...dev.sizing,
        objectStorage: {
          ...dev.sizing.objectStorage,
          buckets: {
            ...dev.sizing.objectStorage.buckets,
            logs: { versioning: false, retentionDays: 60, infrequentAccessAfterDays: 10, noncurrentVersionRetentionDays: 5 },
          },
        },
      },
    };
    const platform = platformOf(bad);
    expect(() => platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c))).toThrow(
      "dev/ObjectStorage: buckets.logs.infrequentAccessAfterDays must be 0 or >= 30, S3's minimum (got 10); buckets.logs.noncurrentVersionRetentionDays needs versioning (got 5 without versioning)",
    );
  });

  it("rejects a CIDR that is not one", () => {
    const platform = platformOf(dev);
    expect(() => platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c, { cidrs: ["10.0.0.0/33"] }))).toThrow("cidrs: '10.0.0.0/33' is not an IPv4 CIDR");
  });
});

describe("in-cluster store (provider local without an endpoint)", () => {
  const bare: Environment = { ...dev, name: "bare", cloud: { ...dev.cloud, provider: "local" }, sizing: { ...dev.sizing, objectStorage: { ...dev.sizing.objectStorage, endpoint: "" } } };

  function build() {
    const platform = platformOf(bare);
    const storage = platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    platform.addService({ name: "order", image: "ghcr.io/acme/order:1.0.0", consumes: [OBJECT_STORAGE_NODE] });
    platform.finalize();
    const objects = platform.components.flatMap((c) => Testing.synth(c));
    return { platform, storage, objects };
  }

  it("runs MinIO pinned by digest on a persistent volume, with the root user only by reference", () => {
    const { objects, platform } = build();
    const sts = objects.find((o) => o.kind === "StatefulSet" && o.metadata.name === "minio");
    const c = sts.spec.template.spec.containers[0];
    expect(c.image).toBe(MINIO_IMAGE);
    expect(c.image).toMatch(/@sha256:[a-f0-9]{64}$/);
    expect(c.args).toEqual(["server", "/data", "--address", ":9000", "--certs-dir", "/tmp/certs"]);
    expect(c.readinessProbe.httpGet.path).toBe("/minio/health/ready");
    expect(c.env).toEqual(expect.arrayContaining([
      { name: "MINIO_ROOT_PASSWORD", valueFrom: { secretKeyRef: { name: "minio-root", key: "password" } } },
      { name: "MINIO_SITE_REGION", value: "eu-west-1" },
    ]));
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("20Gi");
    expect(platform.secrets.all.some((s) => s.namespace === "object-storage" && s.name === "minio-root")).toBe(true);
  });

  it("creates the platform's buckets and turns on versioning with a Job whose name follows the bucket list", () => {
    const { objects } = build();
    const job = objects.find((o) => o.kind === "Job" && o.metadata.name.startsWith("minio-buckets-"));
    const spec = job.spec.template.spec;
    expect([...(spec.initContainers ?? []), ...spec.containers].map((x: any) => x.args)).toEqual([
      ["mb", "--ignore-existing", "store/stratum-bare-uploads", "store/stratum-bare-backups", "store/stratum-bare-logs"],
    ]);
    expect(spec.containers[0].image).toBe(MC_IMAGE);
    expect(job.spec.template.metadata.annotations).toEqual({ "sidecar.istio.io/inject": "false" });
  });

  it("becomes the object-storage node: consumers get its endpoint and reach it on 9000 only", () => {
    const { objects, platform, storage } = build();
    expect(platform.graph.node(OBJECT_STORAGE_NODE)).toMatchObject({ kind: "component", namespace: "object-storage" });
    expect(storage.endpoint).toBe("http://minio.object-storage.svc.cluster.local:9000");
    const env = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "order").spec.template.spec.containers[0].env;
    expect(env).toEqual(expect.arrayContaining([{ name: "S3_ENDPOINT", value: "http://minio.object-storage.svc.cluster.local:9000" }]));
    const np = objects.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "allow-object-storage");
    expect(np.spec.ingress.map((r: any) => [r.from[0].podSelector.matchLabels["app.kubernetes.io/name"], r.ports[0].port])).toEqual([["minio-buckets", 9000], ["order", 9000]]);
  });

  it("passes every policy", () => {
    const { objects } = build();
    expect(runPolicies(objects as any, RULES).errors.map(formatFinding)).toEqual([]);
  });
});
