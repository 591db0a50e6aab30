import type { BucketLifecycle } from "../../stacks/environments/environment";

/** What a bucket holds; one bucket per purpose and environment. */
export type BucketPurpose = "uploads" | "backups" | "logs";

/** Every purpose, in a stable order. */
export const BUCKET_PURPOSES: ReadonlyArray<BucketPurpose> = ["uploads", "backups", "logs"];

/** Server-side encryption of a bucket: S3-managed keys, or a KMS key (the Pulumi program creates one per env). */
export type BucketEncryption = "aws:kms" | "AES256";

/** One bucket of the platform, as data: GitOps output hands out its name; the Pulumi program creates it. */
export interface Bucket {
  /** What it holds. */
  readonly purpose: BucketPurpose;
  /** Globally unique S3 name, `<prefix>-<env>-<purpose>`. */
  readonly name: string;
  /** Keep earlier versions of objects. */
  readonly versioning: boolean;
  /** Server-side encryption. */
  readonly encryption: BucketEncryption;
  /** Public access is always blocked; kept as data so that the Pulumi program cannot forget it. */
  readonly blockPublicAccess: true;
  /** Lifecycle rules, in S3's terms. */
  readonly lifecycle: ReadonlyArray<LifecycleRule>;
}

/** One S3 lifecycle rule. */
export interface LifecycleRule {
  /** Rule id. */
  readonly id: string;
  /** Delete current objects this many days after creation. */
  readonly expirationDays?: number;
  /** Move objects to STANDARD_IA this many days after creation. */
  readonly transitionToInfrequentAccessDays?: number;
  /** Delete earlier versions this many days after they became noncurrent. */
  readonly noncurrentVersionExpirationDays?: number;
  /** Abort unfinished multipart uploads after this many days. */
  readonly abortIncompleteMultipartUploadDays: number;
}

/** S3's lower bound for a transition to STANDARD_IA. */
export const MIN_INFREQUENT_ACCESS_DAYS = 30;

/** Problems with one bucket's lifecycle, as messages that name the field; empty when valid. */
export function lifecycleProblems(purpose: BucketPurpose, l: BucketLifecycle): string[] {
  const problems: string[] = [];
  const at = `buckets.${purpose}`;
  for (const key of ["retentionDays", "infrequentAccessAfterDays", "noncurrentVersionRetentionDays"] as const) {
    if (!Number.isInteger(l[key]) || l[key] < 0) problems.push(`${at}.${key} must be an integer >= 0 (got ${l[key]})`);
  }
  if (l.infrequentAccessAfterDays > 0 && l.infrequentAccessAfterDays < MIN_INFREQUENT_ACCESS_DAYS) {
    problems.push(`${at}.infrequentAccessAfterDays must be 0 or >= ${MIN_INFREQUENT_ACCESS_DAYS}, S3's minimum (got ${l.infrequentAccessAfterDays})`);
  }
  if (l.retentionDays > 0 && l.infrequentAccessAfterDays > 0 && l.infrequentAccessAfterDays >= l.retentionDays) {
    problems.push(`${at}.infrequentAccessAfterDays (${l.infrequentAccessAfterDays}) must be less than retentionDays (${l.retentionDays})`);
  }
  if (!l.versioning && l.noncurrentVersionRetentionDays > 0) {
    problems.push(`${at}.noncurrentVersionRetentionDays needs versioning (got ${l.noncurrentVersionRetentionDays} without versioning)`);
  }
  return problems;
}

/** The S3 lifecycle rules that implement a bucket's lifecycle. */
export function lifecycleRules(l: BucketLifecycle): LifecycleRule[] {
  return [
    {
      id: "stratum-lifecycle",
      expirationDays: l.retentionDays > 0 ? l.retentionDays : undefined,
      transitionToInfrequentAccessDays: l.infrequentAccessAfterDays > 0 ? l.infrequentAccessAfterDays : undefined,
      noncurrentVersionExpirationDays: l.versioning && l.noncurrentVersionRetentionDays > 0 ? l.noncurrentVersionRetentionDays : undefined,
      abortIncompleteMultipartUploadDays: 7,
    },
  ];
}
