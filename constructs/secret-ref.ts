/** A reference to one key of a Kubernetes Secret: what workloads and custom resources receive instead of a value. */
export interface SecretKeyRef {
  /** Secret name. */
  readonly name: string;
  /** Key in the Secret. */
  readonly key: string;
}

/**
 * A credential the platform needs in the cluster. Components declare it; the security component materialises each
 * as an ExternalSecret from the environment's secret store, so the output never carries a secret value.
 */
export interface SecretRequirement {
  /** Namespace of the Secret. */
  readonly namespace: string;
  /** Secret name. */
  readonly name: string;
  /** Keys the Secret must carry, e.g. `["username", "password"]`. */
  readonly keys: ReadonlyArray<string>;
  /** Path of the entry in the external store (AWS Secrets Manager name); one JSON object with the keys. */
  readonly remoteKey: string;
  /** What it is for, one sentence (written as an annotation). */
  readonly description: string;
  /** Kubernetes Secret type. @default "Opaque" */
  readonly type?: string;
  /** Extra labels the consumer needs on the Secret (some operators select Secrets by label). @default none */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Collects the secrets of a platform; asking twice for the same Secret with different keys is an error. */
export class SecretRegistry {
  private readonly byKey = new Map<string, SecretRequirement>();
  private frozen = false;

  /** Ends declarations: the security component reads the complete list after this. */
  freeze(): void {
    this.frozen = true;
  }

  /** Declares a Secret and returns references to its keys. */
  require(req: SecretRequirement): Record<string, SecretKeyRef> {
    if (this.frozen) throw new Error(`secret ${req.namespace}/${req.name}: declared after the secret list was complete; declare secrets when building the component or in a 'connect' finalizer`);
    if (!/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(req.name)) throw new Error(`secret '${req.name}': name must be a DNS subdomain`);
    if (req.keys.length === 0) throw new Error(`secret ${req.namespace}/${req.name}: keys must not be empty`);
    const id = `${req.namespace}/${req.name}`;
    const existing = this.byKey.get(id);
    if (existing) {
      if (JSON.stringify([...existing.keys].sort()) !== JSON.stringify([...req.keys].sort()) || existing.remoteKey !== req.remoteKey) {
        throw new Error(`secret ${id} is declared twice with different keys or remote key`);
      }
    } else {
      this.byKey.set(id, req);
    }
    return Object.fromEntries(req.keys.map((key) => [key, { name: req.name, key }]));
  }

  /** Every declared Secret, sorted by namespace and name. */
  get all(): SecretRequirement[] {
    return [...this.byKey.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  }
}
