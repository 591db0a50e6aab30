import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Bucket } from "../../components/object-storage/bucket";

/** Args of the storage. */
export interface StorageArgs {
  /** The platform's buckets (from the object-storage component). */
  readonly buckets: ReadonlyArray<Bucket>;
  /** AWS account that owns the key. */
  readonly accountId: string;
  readonly tags: Record<string, string>;
}

/** Key policy: the account administers the key; VPC flow-log delivery may encrypt with it. */
export function storageKeyPolicy(accountId: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "Account", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" },
      {
        Sid: "FlowLogDelivery", Effect: "Allow", Principal: { Service: "delivery.logs.amazonaws.com" },
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  });
}

/** Bucket policy: TLS only; the logs bucket also accepts VPC flow-log delivery from this account. */
export function bucketPolicy(arn: string, purpose: string, accountId: string): string {
  const statements: Record<string, unknown>[] = [
    { Sid: "TlsOnly", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [arn, `${arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } },
  ];
  if (purpose === "logs") {
    const from = { StringEquals: { "aws:SourceAccount": accountId } };
    statements.push(
      { Sid: "FlowLogAclCheck", Effect: "Allow", Principal: { Service: "delivery.logs.amazonaws.com" }, Action: "s3:GetBucketAcl", Resource: arn, Condition: from },
      { Sid: "FlowLogWrite", Effect: "Allow", Principal: { Service: "delivery.logs.amazonaws.com" }, Action: "s3:PutObject", Resource: `${arn}/AWSLogs/${accountId}/*`, Condition: from },
    );
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * The buckets the platform declared: KMS-encrypted with a rotating key, public access blocked, owner-enforced,
 * TLS-only by policy, versioned and aged by their lifecycle rules.
 */
export class Storage extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly buckets: Record<string, aws.s3.Bucket>;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stratum:aws:Storage", name, {}, opts);
    const parent = { parent: this };
    this.key = new aws.kms.Key(`${name}-s3`, { description: `${name} object storage`, enableKeyRotation: true, deletionWindowInDays: 30, policy: storageKeyPolicy(args.accountId), tags: args.tags }, parent);
    this.buckets = {};
    for (const b of args.buckets) {
      const id = `${name}-${b.purpose}`;
      const bucket = new aws.s3.Bucket(id, { bucket: b.name, forceDestroy: false, tags: { ...args.tags, "stratum.dev/purpose": b.purpose } }, parent);
      const on = { parent: this, dependsOn: [bucket] };
      new aws.s3.BucketOwnershipControls(id, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, on);
      new aws.s3.BucketPublicAccessBlock(id, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, on);
      new aws.s3.BucketServerSideEncryptionConfiguration(id, {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: b.encryption === "aws:kms" ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.key.arn } : { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
      }, on);
      new aws.s3.BucketVersioning(id, { bucket: bucket.id, versioningConfiguration: { status: b.versioning ? "Enabled" : "Suspended" } }, on);
      new aws.s3.BucketLifecycleConfiguration(id, {
        bucket: bucket.id,
        rules: b.lifecycle.map((r) => ({
          id: r.id,
          status: "Enabled",
          filter: {},
          expiration: r.expirationDays ? { days: r.expirationDays } : undefined,
          transitions: r.transitionToInfrequentAccessDays ? [{ days: r.transitionToInfrequentAccessDays, storageClass: "STANDARD_IA" }] : undefined,
          noncurrentVersionExpiration: r.noncurrentVersionExpirationDays ? { noncurrentDays: r.noncurrentVersionExpirationDays } : undefined,
          abortIncompleteMultipartUpload: { daysAfterInitiation: r.abortIncompleteMultipartUploadDays },
        })),
      }, on);
      new aws.s3.BucketPolicy(id, {
        bucket: bucket.id,
        policy: bucket.arn.apply((arn) => bucketPolicy(arn, b.purpose, args.accountId)),
      }, on);
      this.buckets[b.purpose] = bucket;
    }
    this.registerOutputs({ buckets: Object.fromEntries(Object.entries(this.buckets).map(([k, v]) => [k, v.bucket])) });
  }
}
