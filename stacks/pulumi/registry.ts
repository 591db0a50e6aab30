import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Args of the registry. */
export interface RegistryArgs {
  /** Runtime services that get a repository (`gateway`, ...). */
  readonly services: ReadonlyArray<string>;
  readonly tags: Record<string, string>;
}

/** ECR repositories for the runtime services' images: immutable tags, scanned on push, KMS-encrypted, aged out. */
export class Registry extends pulumi.ComponentResource {
  readonly repositories: Record<string, aws.ecr.Repository>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stratum:aws:Registry", name, {}, opts);
    this.repositories = {};
    for (const service of args.services) {
      const repo = new aws.ecr.Repository(`${name}-${service}`, {
        name: `stratum/${service}`,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS" }],
        tags: args.tags,
      }, { parent: this });
      new aws.ecr.LifecyclePolicy(`${name}-${service}`, {
        repository: repo.name,
        policy: JSON.stringify({ rules: [{ rulePriority: 1, description: "keep the last 50 images", selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 50 }, action: { type: "expire" } }] }),
      }, { parent: this });
      this.repositories[service] = repo;
    }
    this.registerOutputs({ repositories: Object.fromEntries(Object.entries(this.repositories).map(([k, v]) => [k, v.repositoryUrl])) });
  }
}
