import { ApiObject } from "cdk8s";
import { Construct } from "constructs";
import { IamStatement, IRSA_ANNOTATION } from "../../constructs/irsa";
import { SecretKeyRef } from "../../constructs/secret-ref";
import { EnvValue, GraphNodeProps } from "../../constructs/service-graph";
import type { Resources } from "../../stacks/environments/environment";
import { PRIVATE_RANGES } from "../../constructs/chart-pods";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { InClusterS3Store } from "./in-cluster-store";
import { Bucket, BUCKET_PURPOSES, BucketEncryption, BucketPurpose, lifecycleProblems, lifecycleRules } from "./bucket";

/** Graph id of object storage (agreed across components). */
export const OBJECT_STORAGE_NODE = "object-storage";
/** The private ranges of the cluster and its VPC, never counted as "the S3 endpoint". */
export const PRIVATE_CIDRS: ReadonlyArray<string> = PRIVATE_RANGES;

/** Props of the object-storage component. */
export interface ObjectStorageProps {
  /** CIDRs that stand for the S3 endpoint in NetworkPolicies. @default ["0.0.0.0/0"] */
  readonly cidrs?: ReadonlyArray<string>;
  /** CIDRs excluded from `cidrs`. @default the private ranges 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 */
  readonly exceptCidrs?: ReadonlyArray<string>;
  /** The bucket a graph consumer receives when it was granted none explicitly. @default "uploads" */
  readonly defaultPurpose?: BucketPurpose;
  /** Server-side encryption of every bucket. @default "aws:kms" */
  readonly encryption?: BucketEncryption;
  /**
   * Run MinIO in the cluster as the S3 endpoint (for clusters without a cloud account), or `false` for none.
   * @default on when `cloud.provider` is `local` and `sizing.objectStorage.endpoint` is empty; 20Gi, 100m/512Mi
   */
  readonly inClusterStore?: false | { readonly storage?: string; readonly resources?: Resources };
}

/** Who is granted buckets: a workload's ServiceAccount. */
export interface BucketPrincipal {
  /** Graph id or another short, unique name of the consumer (names its IAM role or credentials). */
  readonly id: string;
  /** Namespace of its ServiceAccount. */
  readonly namespace: string;
  /** Its ServiceAccount. */
  readonly serviceAccount: string;
}

/** What a consumer may do with a bucket. */
export type BucketAccessLevel = "read" | "read-write";

/** The buckets one consumer may use, by purpose. */
export type BucketPermissions = Partial<Record<BucketPurpose, BucketAccessLevel>>;

/** One consumer's grant, as data (the IAM role itself is in the platform's IRSA registry). */
export interface BucketGrant {
  /** The consumer. */
  readonly principal: BucketPrincipal;
  /** What it may do, by bucket purpose. */
  readonly permissions: BucketPermissions;
  /** IAM role ARN (IRSA); absent without IRSA. */
  readonly roleArn?: string;
}

/** Static credentials by reference (only where IRSA is not available). */
export interface S3Credentials {
  /** The access key id. */
  readonly accessKeyId: SecretKeyRef;
  /** The secret access key. */
  readonly secretAccessKey: SecretKeyRef;
}

/** Everything a consumer needs to use its buckets. */
export interface BucketAccess {
  /** Bucket names by purpose (only the granted ones). */
  readonly buckets: Partial<Record<BucketPurpose, string>>;
  /** Region. */
  readonly region: string;
  /** Endpoint URL. */
  readonly endpoint: string;
  /** Annotations for the consumer's ServiceAccount (IRSA role); empty without IRSA. */
  readonly serviceAccountAnnotations: Readonly<Record<string, string>>;
  /** Credentials by reference when there is no IRSA (`cloud.provider` is `local`). */
  readonly credentials?: S3Credentials;
}

const READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"];
const WRITE_ACTIONS = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:ListBucketMultipartUploads"];

/**
 * The platform's object storage: one bucket per purpose (uploads, backups, logs) with versioning, lifecycle and
 * encryption as typed data. On AWS the Pulumi program creates the buckets and one IRSA role per grant; GitOps output
 * hands consumers bucket name, region, endpoint, and credentials only by reference. In the service graph it is the
 * external node `object-storage` (HTTPS to the S3 endpoint).
 */
export class ObjectStorage extends PlatformComponent {
  /** The buckets, in purpose order. */
  readonly buckets: ReadonlyArray<Bucket>;
  /** Region of the buckets. */
  readonly region: string;
  /** S3 endpoint URL. */
  readonly endpoint: string;
  /** The endpoint when it is not AWS's (a configured S3-compatible service or the in-cluster store). */
  readonly endpointOverride?: string;
  /** The in-cluster MinIO, where it runs. */
  readonly inClusterStore?: InClusterS3Store;
  /** True when consumers authenticate with IRSA (AWS), false when they get static credentials by reference. */
  readonly usesIrsa: boolean;
  /** The graph node. */
  readonly graphNode: GraphNodeProps;
  private readonly grantMap = new Map<string, BucketGrant>();
  private readonly defaultPurpose: BucketPurpose;

  constructor(scope: Construct, id: string, context: PlatformContext, props: ObjectStorageProps = {}) {
    super(scope, id, context, { name: "object-storage", syncWave: SyncWave.CUSTOM_RESOURCES });
    const env = context.environment;
    const sizing = env.sizing.objectStorage;
    const problems: string[] = [];
    for (const purpose of BUCKET_PURPOSES) problems.push(...lifecycleProblems(purpose, sizing.buckets[purpose]));
    const cidrs = props.cidrs ?? ["0.0.0.0/0"];
    const exceptCidrs = props.exceptCidrs ?? PRIVATE_CIDRS;
    for (const c of [...cidrs, ...exceptCidrs]) {
      if (!isCidr(c)) problems.push(`cidrs: '${c}' is not an IPv4 CIDR such as 10.0.0.0/8`);
    }
    if (cidrs.length === 0) problems.push("cidrs must not be empty");
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);

    this.region = env.cloud.region;
    this.usesIrsa = env.cloud.provider === "aws";
    const storeWanted = props.inClusterStore ?? (env.cloud.provider === "local" && sizing.endpoint === "" ? {} : false);
    this.defaultPurpose = props.defaultPurpose ?? "uploads";
    this.buckets = BUCKET_PURPOSES.map((purpose) => {
      const l = sizing.buckets[purpose];
      return {
        purpose,
        name: `${sizing.bucketPrefix}-${env.name}-${purpose}`,
        versioning: l.versioning,
        encryption: props.encryption ?? "aws:kms",
        blockPublicAccess: true as const,
        lifecycle: lifecycleRules(l),
      };
    });
    for (const b of this.buckets) {
      if (b.name.length > 63) throw new Error(`${this.node.path}: bucket name '${b.name}' is longer than S3's 63 characters; shorten sizing.objectStorage.bucketPrefix`);
    }

    if (storeWanted) {
      const namespace = context.ensureNamespace({ name: "object-storage", component: "object-storage" });
      const root = context.secrets.require({
        namespace,
        name: "minio-root",
        keys: ["user", "password"],
        remoteKey: `stratum/${env.name}/object-storage/minio-root`,
        description: "Root user of the in-cluster MinIO (URL-safe characters)",
      });
      this.inClusterStore = new InClusterS3Store(this, "InClusterStore", {
        namespace,
        buckets: this.buckets.map((b) => ({ name: b.name, versioning: b.versioning })),
        root: { user: root.user, password: root.password },
        storage: storeWanted.storage ?? "20Gi",
        resources: storeWanted.resources ?? { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "512Mi" } },
        region: env.cloud.region,
        spread: { node: env.ha.nodeSpread, zone: env.ha.zoneSpread },
      });
      this.endpoint = this.inClusterStore.endpoint;
      this.endpointOverride = this.endpoint;
      this.graphNode = context.graph.addNode({
        ...this.inClusterStore.workload.graphNode(OBJECT_STORAGE_NODE, "component", this),
        receive: undefined,
        connection: (consumer) => this.connectionFor(consumer),
      });
      context.graph.addNode({
        id: "minio-buckets", kind: "component", namespace, serviceAccount: "minio-buckets",
        selector: this.inClusterStore.setupSelector, ports: [], scope: this,
      });
      context.graph.connect("minio-buckets", OBJECT_STORAGE_NODE);
    } else {
      this.endpoint = sizing.endpoint || `https://s3.${env.cloud.region}.amazonaws.com`;
      this.endpointOverride = sizing.endpoint || undefined;
      this.graphNode = context.graph.addNode({
        id: OBJECT_STORAGE_NODE,
        kind: "external",
        cidrs: [...cidrs],
        exceptCidrs: [...exceptCidrs],
        host: new URL(this.endpoint).host,
        ports: [{ name: "https", port: 443, protocol: "tls" }],
        connection: (consumer) => this.connectionFor(consumer),
      });
    }
    // Consumers through the graph get the default bucket, unless a component granted them one explicitly; the
    // grant (and with it any credential) is declared here, before secrets are materialised.
    context.onFinalize(() => {
      for (const edge of context.graph.incoming(OBJECT_STORAGE_NODE)) {
        const consumer = context.graph.node(edge.from);
        if (!this.grantMap.has(consumer.id) && consumer.namespace && consumer.serviceAccount) {
          this.grant({ id: consumer.id, namespace: consumer.namespace, serviceAccount: consumer.serviceAccount }, { [this.defaultPurpose]: "read-write" });
        }
      }
    });
    context.onFinalize(() => this.annotateServiceAccounts(), "derive");
  }

  /**
   * Writes each grant's IRSA role onto its ServiceAccount when the platform created that ServiceAccount itself
   * (business services, Stratum workloads); ServiceAccounts made by operators or charts take `serviceAccountAnnotations`
   * from `grant()` instead.
   */
  private annotateServiceAccounts(): void {
    const root = this.node.scope ?? this;
    const accounts = root.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c) && c.kind === "ServiceAccount");
    for (const g of this.grants) {
      if (!g.roleArn) continue;
      const sa = accounts.find((a) => a.metadata.name === g.principal.serviceAccount && a.metadata.namespace === g.principal.namespace);
      if (!sa) continue;
      const current: string | undefined = sa.metadata.toJson().annotations?.[IRSA_ANNOTATION];
      if (current && current !== g.roleArn) {
        throw new Error(`${this.node.path}: ServiceAccount ${g.principal.namespace}/${g.principal.serviceAccount} already has the IAM role ${current}; it cannot also take ${g.roleArn}`);
      }
      sa.metadata.addAnnotation(IRSA_ANNOTATION, g.roleArn);
    }
  }

  /** The bucket of a purpose. */
  bucket(purpose: BucketPurpose): Bucket {
    const b = this.buckets.find((x) => x.purpose === purpose);
    if (!b) throw new Error(`${this.node.path}: no bucket for purpose '${purpose}'`);
    return b;
  }

  /**
   * Grants a consumer its buckets and returns what it needs to use them: with IRSA (AWS) the role annotation for its
   * ServiceAccount (the role is declared in the platform's IRSA registry, exactly these buckets and actions), without
   * it static credentials by reference, declared in its namespace. One call per consumer; asking again with other
   * permissions is an error.
   */
  grant(principal: BucketPrincipal, permissions: BucketPermissions): BucketAccess {
    const purposes = BUCKET_PURPOSES.filter((p) => permissions[p]);
    if (purposes.length === 0) throw new Error(`${this.node.path}: grant for '${principal.id}' names no bucket`);
    const existing = this.grantMap.get(principal.id);
    if (existing && JSON.stringify([existing.principal, existing.permissions]) !== JSON.stringify([principal, permissions])) {
      throw new Error(`${this.node.path}: '${principal.id}' is granted buckets twice with different settings; grant every bucket of a consumer in one call`);
    }
    const env = this.context.environment;
    let grant = existing;
    if (!grant) {
      const role = this.usesIrsa
        ? this.context.irsa.bind({
            purpose: `${principal.id}-s3`,
            namespace: principal.namespace,
            serviceAccount: principal.serviceAccount,
            description: `${principal.id} reads${purposes.some((p) => permissions[p] === "read-write") ? " and writes" : ""} the ${purposes.join(", ")} bucket(s)`,
            statements: this.statements(permissions),
          })
        : undefined;
      grant = { principal: { ...principal }, permissions: { ...permissions }, roleArn: role?.roleArn };
      this.grantMap.set(principal.id, grant);
    }
    let credentials: S3Credentials | undefined;
    if (!this.usesIrsa) {
      const refs = this.context.secrets.require({
        namespace: principal.namespace,
        name: `s3-${principal.id}`,
        keys: ["accessKeyId", "secretAccessKey"],
        remoteKey: `stratum/${env.name}/object-storage/${principal.id}`,
        description: `S3 credentials of ${principal.id} for the object storage buckets`,
      });
      credentials = { accessKeyId: refs.accessKeyId, secretAccessKey: refs.secretAccessKey };
    }
    return {
      buckets: Object.fromEntries(purposes.map((p) => [p, this.bucket(p).name])),
      region: this.region,
      endpoint: this.endpoint,
      serviceAccountAnnotations: grant.roleArn ? { [IRSA_ANNOTATION]: grant.roleArn } : {},
      credentials,
    };
  }

  /** Every grant, sorted by consumer. */
  get grants(): BucketGrant[] {
    return [...this.grantMap.values()].sort((a, b) => a.principal.id.localeCompare(b.principal.id));
  }

  /** IAM statements for exactly these buckets and actions (plus the KMS use S3 makes on the caller's behalf). */
  private statements(permissions: BucketPermissions): IamStatement[] {
    const statements: IamStatement[] = [];
    for (const level of ["read", "read-write"] as const) {
      const names = BUCKET_PURPOSES.filter((p) => permissions[p] === level).map((p) => this.bucket(p).name);
      if (names.length === 0) continue;
      statements.push({
        Effect: "Allow",
        Action: level === "read" ? READ_ACTIONS : [...READ_ACTIONS, ...WRITE_ACTIONS],
        Resource: names.flatMap((n) => [`arn:aws:s3:::${n}`, `arn:aws:s3:::${n}/*`]),
      });
    }
    if (this.buckets.some((b) => b.encryption === "aws:kms")) {
      statements.push({
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: ["*"],
        Condition: { StringEquals: { "kms:ViaService": `s3.${this.region}.amazonaws.com` } },
      });
    }
    return statements;
  }

  /** The environment a graph consumer receives: bucket, region, endpoint, and credentials by reference without IRSA. */
  private connectionFor(consumer: GraphNodeProps): Record<string, EnvValue> {
    if (!consumer.namespace || !consumer.serviceAccount) throw new Error(`${this.node.path}: consumer '${consumer.id}' has no namespace or ServiceAccount`);
    const granted = this.grantMap.get(consumer.id);
    const access = this.grant({ id: consumer.id, namespace: consumer.namespace, serviceAccount: consumer.serviceAccount }, granted?.permissions ?? { [this.defaultPurpose]: "read-write" });
    const purpose = BUCKET_PURPOSES.find((p) => access.buckets[p]) as BucketPurpose;
    const vars: Record<string, EnvValue> = { S3_BUCKET: access.buckets[purpose] as string, S3_REGION: access.region, S3_ENDPOINT: access.endpoint };
    if (access.credentials) {
      vars.AWS_ACCESS_KEY_ID = { secret: access.credentials.accessKeyId.name, key: access.credentials.accessKeyId.key };
      vars.AWS_SECRET_ACCESS_KEY = { secret: access.credentials.secretAccessKey.name, key: access.credentials.secretAccessKey.key };
    }
    return vars;
  }
}

function isCidr(value: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}
