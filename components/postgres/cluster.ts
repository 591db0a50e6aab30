import { Construct } from "constructs";
import {
  Cluster,
  ClusterSpec,
  ClusterSpecBackupBarmanObjectStore,
  ClusterSpecBackupBarmanObjectStoreDataCompression,
  ClusterSpecBackupBarmanObjectStoreWalCompression,
  ClusterSpecBootstrap,
  ClusterSpecExternalClusters,
  ClusterSpecExternalClustersBarmanObjectStore,
  ClusterSpecExternalClustersBarmanObjectStoreWalCompression,
  ClusterSpecManagedRoles,
  ClusterSpecManagedRolesEnsure,
  ClusterSpecPostgresqlSynchronousMethod,
  ClusterSpecResourcesLimits,
  ClusterSpecResourcesRequests,
} from "../../constructs/imports/cnpg-cluster-postgresql.cnpg.io";
import { recommendedLabels } from "../../constructs/labels";
import { SecretKeyRef } from "../../constructs/secret-ref";
import { customResourceAnnotations } from "../../constructs/sync";
import type { Resources, SpreadMode } from "../../stacks/environments/environment";

/** Where a cluster's base backups and WAL go: a bucket, and credentials by IRSA role or by reference. */
export interface BackupStore {
  /** Bucket name. */
  readonly bucket: string;
  /** Folder in the bucket; each cluster writes under `<path>/<serverName>/`. */
  readonly path: string;
  /** S3 endpoint URL, only when it is not AWS's (S3-compatible stores). @default AWS */
  readonly endpointURL?: string;
  /** Static credentials by reference; absent when the pods assume an IAM role (IRSA). */
  readonly credentials?: { readonly accessKeyId: SecretKeyRef; readonly secretAccessKey: SecretKeyRef };
}

/** The barmanObjectStore stanza of a backup store (used for a cluster's own backups and to recover from another's). */
export function barmanObjectStore(store: BackupStore, serverName: string): ClusterSpecBackupBarmanObjectStore {
  return {
    destinationPath: `s3://${store.bucket}/${store.path}`,
    endpointUrl: store.endpointURL,
    serverName,
    s3Credentials: store.credentials
      ? { accessKeyId: { name: store.credentials.accessKeyId.name, key: store.credentials.accessKeyId.key }, secretAccessKey: { name: store.credentials.secretAccessKey.name, key: store.credentials.secretAccessKey.key } }
      : { inheritFromIamRole: true },
    wal: { compression: ClusterSpecBackupBarmanObjectStoreWalCompression.GZIP, maxParallel: 4 },
    data: { compression: ClusterSpecBackupBarmanObjectStoreDataCompression.GZIP, jobs: 2, immediateCheckpoint: false },
  };
}

/** The same store as the source of a recovery (the external cluster's stanza has its own generated types). */
export function recoverySource(store: BackupStore, serverName: string): ClusterSpecExternalClustersBarmanObjectStore {
  const own = barmanObjectStore(store, serverName);
  return {
    destinationPath: own.destinationPath,
    endpointUrl: own.endpointUrl,
    serverName,
    s3Credentials: own.s3Credentials,
    wal: { compression: ClusterSpecExternalClustersBarmanObjectStoreWalCompression.GZIP, maxParallel: 8 },
  };
}

/** A login role managed by the operator; its password comes from a basic-auth Secret, never from the output. */
export interface ManagedRole {
  /** Role name. */
  readonly name: string;
  /** Secret (type kubernetes.io/basic-auth, keys username and password) in the cluster's namespace. */
  readonly passwordSecret: string;
  /** What the role is for. */
  readonly comment: string;
  /** May create databases. @default false */
  readonly createdb?: boolean;
  /** Roles it is a member of. @default none */
  readonly inRoles?: ReadonlyArray<string>;
}

/** Props of a CloudNativePG Cluster (L2): everything resolved; the component computes it from the environment. */
export interface PostgresClusterProps {
  /** Cluster name (also its ServiceAccount and the prefix of its Services). */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /** PostgreSQL instances. */
  readonly instances: number;
  /** Replicas that must confirm each commit; 0 is asynchronous. */
  readonly synchronousReplicas: number;
  /** Operand image, exactly pinned. */
  readonly imageName: string;
  /** Requests and limits of each instance. */
  readonly resources: Resources;
  /** Data volume size. */
  readonly storage: string;
  /** WAL volume size. */
  readonly walStorage: string;
  /** Storage class. @default the cluster default */
  readonly storageClass?: string;
  /** PostgreSQL settings by name. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Spread of instances across nodes and zones. */
  readonly spread: { readonly node: SpreadMode; readonly zone: SpreadMode };
  /** Managed login roles. @default none */
  readonly roles?: ReadonlyArray<ManagedRole>;
  /** SQL run once as superuser right after initdb (creates the consumers' databases). @default none */
  readonly postInitSql?: ReadonlyArray<string>;
  /** Continuous backup (WAL archiving and base backups) and its retention. @default none */
  readonly backup?: { readonly store: BackupStore; readonly retention: string };
  /** Bootstrap from another cluster's backup instead of initdb (point-in-time recovery). @default initdb */
  readonly recovery?: { readonly store: BackupStore; readonly sourceServerName: string; readonly targetTime: string };
  /** Annotations of the instances' ServiceAccount (the IRSA role). @default none */
  readonly serviceAccountAnnotations?: Readonly<Record<string, string>>;
  /** Let the operator create its own PodMonitor (Stratum scrapes through the graph instead). @default false */
  readonly podMonitor?: boolean;
}

/** Pod annotation that keeps the Istio proxy out of a pod. */
export const NO_SIDECAR = { "sidecar.istio.io/inject": "false" } as const;

/** Labels CloudNativePG sets on instance pods (and only on them). */
export function instanceSelector(clusterName: string): Record<string, string> {
  return { "cnpg.io/cluster": clusterName, "cnpg.io/podRole": "instance" };
}

/** A CloudNativePG `Cluster` with Stratum's defaults: anti-affinity, zone spread, WAL volume, monitoring, backups. */
export class PostgresCluster extends Construct {
  /** The Cluster resource. */
  readonly cluster: Cluster;
  /** Cluster name. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: PostgresClusterProps) {
    super(scope, id);
    const problems: string[] = [];
    if (!Number.isInteger(props.instances) || props.instances < 1) problems.push(`instances must be >= 1 (got ${props.instances})`);
    if (!Number.isInteger(props.synchronousReplicas) || props.synchronousReplicas < 0 || props.synchronousReplicas > props.instances - 1) {
      problems.push(`synchronousReplicas must be between 0 and instances - 1 = ${props.instances - 1} (got ${props.synchronousReplicas})`);
    }
    if (props.backup && !/^[1-9][0-9]*[dwm]$/.test(props.backup.retention)) problems.push(`backup retention must look like 7d, 4w or 3m (got ${JSON.stringify(props.backup.retention)})`);
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);
    this.name = props.name;

    const labels = recommendedLabels({ name: "postgres", instance: props.name, component: "database" });
    const quantities = <T>(q: { cpu: string; memory: string }, make: (s: string) => T) => ({ cpu: make(q.cpu), memory: make(q.memory) });
    const selector = { "cnpg.io/cluster": props.name };
    let bootstrap: ClusterSpecBootstrap;
    let externalClusters: ClusterSpecExternalClusters[] | undefined;
    if (props.recovery) {
      bootstrap = { recovery: { source: "origin", recoveryTarget: { targetTime: props.recovery.targetTime } } };
      externalClusters = [{ name: "origin", barmanObjectStore: recoverySource(props.recovery.store, props.recovery.sourceServerName) }];
    } else {
      bootstrap = { initdb: { database: "app", owner: "app", dataChecksums: true, postInitSql: props.postInitSql?.length ? [...props.postInitSql] : undefined } };
    }
    const roles: ClusterSpecManagedRoles[] = (props.roles ?? []).map((r) => ({
      name: r.name,
      ensure: ClusterSpecManagedRolesEnsure.PRESENT,
      login: true,
      inherit: true,
      connectionLimit: -1,
      comment: r.comment,
      passwordSecret: { name: r.passwordSecret },
      createdb: r.createdb || undefined,
      inRoles: r.inRoles?.length ? [...r.inRoles] : undefined,
    }));
    const spec: ClusterSpec = {
      instances: props.instances,
      imageName: props.imageName,
      enableSuperuserAccess: false,
      // no sidecar: the operator's bootstrap and join Jobs would never complete next to a classic Istio proxy, and
      // PostgreSQL encrypts its own connections (TLS, sslmode=require); NetworkPolicies still hold every edge
      inheritedMetadata: { labels, annotations: { ...NO_SIDECAR } },
      postgresql: {
        parameters: { ...props.parameters },
        synchronous: props.synchronousReplicas > 0 ? { method: ClusterSpecPostgresqlSynchronousMethod.ANY, number: props.synchronousReplicas } : undefined,
      },
      bootstrap,
      externalClusters,
      managed: roles.length ? { roles } : undefined,
      storage: { size: props.storage, storageClass: props.storageClass, resizeInUseVolumes: true },
      walStorage: { size: props.walStorage, storageClass: props.storageClass, resizeInUseVolumes: true },
      resources: {
        requests: quantities(props.resources.requests, ClusterSpecResourcesRequests.fromString),
        limits: quantities(props.resources.limits, ClusterSpecResourcesLimits.fromString),
      },
      affinity: {
        enablePodAntiAffinity: true,
        topologyKey: "kubernetes.io/hostname",
        podAntiAffinityType: props.spread.node === "hard" ? "required" : "preferred",
      },
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: props.spread.zone === "hard" ? "DoNotSchedule" : "ScheduleAnyway", labelSelector: { matchLabels: selector } },
      ],
      monitoring: { enablePodMonitor: props.podMonitor ?? false },
      serviceAccountTemplate: props.serviceAccountAnnotations && Object.keys(props.serviceAccountAnnotations).length
        ? { metadata: { annotations: { ...props.serviceAccountAnnotations } } }
        : undefined,
      backup: props.backup ? { barmanObjectStore: barmanObjectStore(props.backup.store, props.name), retentionPolicy: props.backup.retention } : undefined,
    };
    this.cluster = new Cluster(this, "Cluster", {
      metadata: { name: props.name, namespace: props.namespace, labels, annotations: customResourceAnnotations() },
      spec,
    });
  }
}
