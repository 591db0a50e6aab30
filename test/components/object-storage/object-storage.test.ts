import { App, Testing } from "cdk8s";
import { IRSA_ANNOTATION, ObjectStorage, OBJECT_STORAGE_NODE } from "../../../components/object-storage";
import { dev, Environment, prod, staging } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";

function platformOf(environment: Environment): Platform {
  return new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), environment.name, { environment });
}

const local: Environment = { ...dev, name: "local", cloud: { provider: "local", region: "eu-west-1" }, sizing: { ...dev.sizing, objectStorage: { ...dev.sizing.objectStorage, endpoint: "https://minio.example.internal" } } };

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
        purpose: "uploads",
        bucket: "stratum-staging-uploads",
        access: "read-write",
        roleName: "stratum-staging-order-s3",
        roleArn: "arn:aws:iam::123456789012:role/stratum-staging-order-s3",
      },
    ]);
    expect(platform.secrets.all).toEqual([]);
  });

  it("gives an explicit grant its IRSA annotation and keeps it over the default bucket", () => {
    const platform = platformOf(prod);
    const storage = platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    const access = storage.grant("backups", { id: "postgres", namespace: "postgres", serviceAccount: "postgres" }, "read-write");
    expect(access.serviceAccountAnnotations).toEqual({ [IRSA_ANNOTATION]: "arn:aws:iam::123456789012:role/stratum-prod-postgres-s3" });
    expect(access.credentials).toBeUndefined();
    expect(storage.grant("backups", { id: "postgres", namespace: "postgres", serviceAccount: "postgres" }, "read-write")).toEqual(access);
    expect(() => storage.grant("backups", { id: "postgres", namespace: "postgres", serviceAccount: "postgres" }, "read")).toThrow(
      "'postgres' is granted the backups bucket twice with different settings",
    );
  });

  it("without IRSA (provider local) hands out static credentials, only by reference", () => {
    const platform = platformOf(local);
    const storage = platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    platform.addService({ name: "order", image: "ghcr.io/acme/order:1.0.0", consumes: [OBJECT_STORAGE_NODE] });
    platform.finalize();
    expect(storage.endpoint).toBe("https://minio.example.internal");
    expect(storage.grants[0].roleArn).toBeUndefined();
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
