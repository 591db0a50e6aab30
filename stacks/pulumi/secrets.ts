import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SecretRequirement } from "../../constructs/secret-ref";

/** Args of the credential store. */
export interface CredentialsArgs {
  /** Every credential the platform declared. */
  readonly secrets: ReadonlyArray<SecretRequirement>;
  /** Prefix of the entries (`stratum/<env>/`), matching the ClusterSecretStore's. */
  readonly prefix: string;
  readonly tags: Record<string, string>;
}

/**
 * One Secrets Manager entry per declared credential, encrypted with a rotating key. Values are written by the
 * platform team (or a rotation function), never by this program, so no secret value lives in Pulumi state or Git.
 */
export class Credentials extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly entries: Record<string, aws.secretsmanager.Secret>;

  constructor(name: string, args: CredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stratum:aws:Credentials", name, {}, opts);
    this.key = new aws.kms.Key(`${name}-secrets`, { description: `${name} platform credentials`, enableKeyRotation: true, deletionWindowInDays: 30, tags: args.tags }, { parent: this });
    this.entries = {};
    const seen = new Set<string>();
    for (const s of args.secrets) {
      if (seen.has(s.remoteKey)) continue;
      seen.add(s.remoteKey);
      this.entries[s.remoteKey] = new aws.secretsmanager.Secret(`${name}-${s.remoteKey.replace(/[^A-Za-z0-9-]+/g, "-")}`, {
        name: `${args.prefix}${s.remoteKey}`,
        description: `${s.description} (keys: ${[...s.keys].sort().join(", ")})`,
        kmsKeyId: this.key.arn,
        recoveryWindowInDays: 30,
        tags: { ...args.tags, "stratum.dev/namespace": s.namespace, "stratum.dev/secret": s.name },
      }, { parent: this });
    }
    this.registerOutputs({ entries: Object.keys(this.entries) });
  }
}
