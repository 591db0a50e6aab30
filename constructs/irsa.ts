/** The annotation EKS reads to give a ServiceAccount's pods an IAM role (IRSA). */
export const IRSA_ANNOTATION = "eks.amazonaws.com/role-arn";

/** One IAM policy statement, as AWS writes it. */
export interface IamStatement {
  readonly Effect: "Allow" | "Deny";
  readonly Action: ReadonlyArray<string>;
  readonly Resource: ReadonlyArray<string>;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | ReadonlyArray<string>>>>>;
}

/** An IAM role for exactly one ServiceAccount: the Pulumi program creates it with a trust bound to that account. */
export interface IrsaBinding {
  /** Short purpose, unique in the platform (`external-secrets`, `postgres-backup`); part of the role name. */
  readonly purpose: string;
  /** Namespace of the ServiceAccount. */
  readonly namespace: string;
  /** The ServiceAccount the role is bound to, and only it. */
  readonly serviceAccount: string;
  /** What the role may do. */
  readonly statements: ReadonlyArray<IamStatement>;
  /** Why the workload needs cloud access, one sentence. */
  readonly description: string;
}

/** A binding with the role's name and ARN. */
export interface IrsaRole extends IrsaBinding {
  readonly roleName: string;
  readonly roleArn: string;
}

/**
 * The platform's IAM roles for service accounts. Components declare what a ServiceAccount may do; they get the
 * role ARN for the ServiceAccount annotation, and the Pulumi program creates exactly these roles.
 */
export class IrsaRegistry {
  private readonly byPurpose = new Map<string, IrsaRole>();

  constructor(private readonly environmentName: string, private readonly accountId: string) {}

  /** Declares a role for one ServiceAccount and returns it (ARN included). */
  bind(binding: IrsaBinding): IrsaRole {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(binding.purpose)) throw new Error(`irsa: purpose '${binding.purpose}' must be a DNS label`);
    if (binding.statements.length === 0) throw new Error(`irsa ${binding.purpose}: statements must not be empty`);
    for (const s of binding.statements) {
      if (s.Action.some((a) => a === "*" || a.endsWith(":*"))) throw new Error(`irsa ${binding.purpose}: wildcard action in ${JSON.stringify(s.Action)}; list the actions`);
    }
    const existing = this.byPurpose.get(binding.purpose);
    if (existing) {
      if (existing.namespace !== binding.namespace || existing.serviceAccount !== binding.serviceAccount) {
        throw new Error(`irsa: purpose '${binding.purpose}' is bound to ${existing.namespace}/${existing.serviceAccount} and ${binding.namespace}/${binding.serviceAccount}`);
      }
      return existing;
    }
    const roleName = `stratum-${this.environmentName}-${binding.purpose}`.slice(0, 64);
    const role: IrsaRole = { ...binding, roleName, roleArn: `arn:aws:iam::${this.accountId}:role/${roleName}` };
    this.byPurpose.set(binding.purpose, role);
    return role;
  }

  /** Every declared role, sorted by purpose. */
  get all(): IrsaRole[] {
    return [...this.byPurpose.values()].sort((a, b) => a.purpose.localeCompare(b.purpose));
  }
}
