/** The three tiers a platform is built for. */
export const TIERS = ["dev", "staging", "prod"] as const;
/** A tier: dev, staging or prod. */
export type Tier = (typeof TIERS)[number];

/** CPU and memory as Kubernetes quantities. */
export interface ResourceQuantities {
  /** CPU, e.g. `250m`. */
  readonly cpu: string;
  /** Memory, e.g. `256Mi`. */
  readonly memory: string;
}

/** Requests and limits of one container. */
export interface Resources {
  /** What the scheduler reserves. */
  readonly requests: ResourceQuantities;
  /** The ceiling; memory limits equal to requests avoid OOM surprises under pressure. */
  readonly limits: ResourceQuantities;
}

/** How pods of one workload spread: `hard` refuses to co-locate, `soft` prefers not to. */
export type SpreadMode = "hard" | "soft";

/** Size of a stateless workload. */
export interface WorkloadSizing {
  /** Replica count. */
  readonly replicas: number;
  /** Requests and limits per replica. */
  readonly resources: Resources;
}

/** Size of a stateful, storage-backed component. */
export interface StatefulSizing extends WorkloadSizing {
  /** Persistent volume size, e.g. `20Gi`. */
  readonly storage: string;
  /** How long data or backups are kept, e.g. `7d`, `30d`. */
  readonly retention: string;
}

/** GitOps source of truth for one environment. */
export interface GitOpsSettings {
  /** The repository ArgoCD syncs from. */
  readonly repoURL: string;
  /** Branch, tag or commit ArgoCD tracks. */
  readonly targetRevision: string;
  /** Folder in the repository that holds `dist/` (the synth output). */
  readonly basePath: string;
  /** Automated sync: `prune` deletes what Git no longer holds, `selfHeal` reverts changes made by hand. */
  readonly automated: { readonly prune: boolean; readonly selfHeal: boolean };
  /** When ArgoCD may (or may not) sync; empty means any time. */
  readonly syncWindows: ReadonlyArray<SyncWindow>;
}

/** An ArgoCD sync window: a cron schedule and a duration during which syncs are allowed or denied. */
export interface SyncWindow {
  /** `allow` opens the window, `deny` closes it. */
  readonly kind: "allow" | "deny";
  /** Cron schedule of the window's start, e.g. `0 8 * * 1-4`. */
  readonly schedule: string;
  /** How long it lasts, e.g. `9h`. */
  readonly duration: string;
  /** Time zone of the schedule, e.g. `Europe/Berlin`. */
  readonly timeZone: string;
  /** Whether a person may still sync by hand inside a deny window (or outside an allow window). */
  readonly manualSync: boolean;
}

/** Where the cluster runs. */
export interface CloudSettings {
  /** `aws` for EKS; `local` for a cluster without a cloud account (kind, k3d). */
  readonly provider: "aws" | "local";
  /** Cloud region, e.g. `eu-west-1`. */
  readonly region: string;
  /** AWS account id (12 digits) that holds the cluster's IAM roles and buckets; unused for `local`. */
  readonly accountId: string;
}

/** High-availability switches: the data that replaces `if (prod)` in components. */
export interface HighAvailability {
  /** Spread of replicas across nodes. */
  readonly nodeSpread: SpreadMode;
  /** Spread of replicas across zones. */
  readonly zoneSpread: SpreadMode;
}

/** Lifecycle of one object-storage bucket. */
export interface BucketLifecycle {
  /** Keep earlier versions of overwritten or deleted objects. */
  readonly versioning: boolean;
  /** Days after which current objects are deleted; 0 keeps them forever. */
  readonly retentionDays: number;
  /** Days after which objects move to an infrequent-access storage class; 0 never moves them. */
  readonly infrequentAccessAfterDays: number;
  /** Days after which earlier versions are deleted (only with versioning); 0 keeps them. */
  readonly noncurrentVersionRetentionDays: number;
}

/** Object storage of the platform: the buckets by purpose and where they live. */
export interface ObjectStorageSizing {
  /** Prefix of every bucket name (S3 names are global): `<prefix>-<env>-<purpose>`. */
  readonly bucketPrefix: string;
  /** S3 endpoint URL; empty for the AWS regional endpoint. */
  readonly endpoint: string;
  /** Lifecycle per bucket purpose. */
  readonly buckets: { readonly uploads: BucketLifecycle; readonly backups: BucketLifecycle; readonly logs: BucketLifecycle };
}

/** PgBouncer pools in front of PostgreSQL. */
export interface PostgresPoolerSizing {
  /** PgBouncer pods per pooler. */
  readonly instances: number;
  /** A read-only pooler over the replicas as well as the read-write one. */
  readonly readOnly: boolean;
  /** Server connections per user/database pair. */
  readonly defaultPoolSize: number;
  /** Client connections PgBouncer accepts. */
  readonly maxClientConnections: number;
  /** Requests and limits of one PgBouncer pod. */
  readonly resources: Resources;
}

/** Size and durability of the PostgreSQL cluster. */
export interface PostgresSizing {
  /** PostgreSQL instances: one primary, the rest streaming replicas. */
  readonly instances: number;
  /** Replicas that must confirm a commit (synchronous replication); 0 is asynchronous. */
  readonly synchronousReplicas: number;
  /** Requests and limits of one instance. */
  readonly resources: Resources;
  /** Data volume size per instance. */
  readonly storage: string;
  /** WAL volume size per instance. */
  readonly walStorage: string;
  /** How long base backups and WAL are kept, e.g. `7d`, `4w`. */
  readonly backupRetention: string;
  /** The PgBouncer pools. */
  readonly pooler: PostgresPoolerSizing;
}

/** Sizing of tracing: the OpenTelemetry collectors, tail sampling and Jaeger. */
export interface TracingSizing {
  /** The OTLP gateway collectors that receive spans and route every trace to one sampler. */
  readonly collector: WorkloadSizing;
  /** The tail-sampling collectors (each trace is decided by exactly one replica). */
  readonly sampler: WorkloadSizing;
  /** Percentage (0-100) of ordinary traces kept; traces with errors or slower than the threshold are always kept. */
  readonly samplingPercentage: number;
  /** Traces slower than this many milliseconds are always kept. */
  readonly slowTraceThresholdMs: number;
  /** Where Jaeger keeps spans: `memory` (one all-in-one pod, lost on restart) or `elasticsearch`. */
  readonly jaegerStorage: "memory" | "elasticsearch";
  /** Jaeger collector and query size (an in-memory Jaeger always runs one replica). */
  readonly jaeger: WorkloadSizing;
  /** How long spans are kept in Elasticsearch, in whole days or weeks, e.g. `7d`. */
  readonly retention: string;
}

/** Sizing of logging: the Fluent Bit DaemonSet and how long logs are kept. */
export interface LoggingSizing {
  /** Requests and limits of one Fluent Bit pod (one per node). */
  readonly fluentBit: Resources;
  /** How long log indices are kept, in whole days or weeks, e.g. `14d`. */
  readonly retention: string;
}

/** Size of Redis with Sentinel. */
export interface RedisSizing {
  /** Redis pods: one master, the rest replicas. */
  readonly replicas: number;
  /** Requests and limits of one Redis pod. */
  readonly resources: Resources;
  /** Data volume (RDB and AOF) per Redis pod, e.g. `8Gi`. */
  readonly storage: string;
  /** Redis's `maxmemory`, a memory quantity below the memory limit (forks need headroom), e.g. `768Mi`. */
  readonly maxmemory: string;
  /** The sentinels that detect a failed master and promote a replica. */
  readonly sentinel: {
    /** Sentinel pods; three or more for a quorum that survives losing one. */
    readonly replicas: number;
    /** Sentinels that must agree a master is down. */
    readonly quorum: number;
    /** Requests and limits of one sentinel. */
    readonly resources: Resources;
  };
}

/** One set of Elasticsearch nodes with the same roles. */
export interface ElasticsearchNodeSetSizing {
  /** Nodes in the set; 0 leaves the set out. */
  readonly count: number;
  /** Requests and limits per node; the JVM heap is a share of the memory limit. */
  readonly resources: Resources;
  /** Data volume per node, e.g. `100Gi`. */
  readonly storage: string;
}

/** Size of Elasticsearch and Kibana, by node tier. */
export interface ElasticsearchSizing {
  /** Dedicated master-eligible nodes (0: the hot nodes are master-eligible themselves). */
  readonly masters: ElasticsearchNodeSetSizing;
  /** Hot data nodes: ingest and recent indices. */
  readonly hot: ElasticsearchNodeSetSizing;
  /** Warm data nodes: older, read-mostly indices (0: no warm tier; indices stay hot until deleted). */
  readonly warm: ElasticsearchNodeSetSizing;
  /** JVM heap as a percentage of the memory limit (Elastic recommends at most 50). */
  readonly heapPercent: number;
  /** Age after rollover at which an index moves to the warm tier, e.g. `2d`. */
  readonly warmAfter: string;
  /** How long snapshots are kept, e.g. `7d`. */
  readonly snapshotRetention: string;
  /** Kibana. */
  readonly kibana: WorkloadSizing;
}

/** How the platform's TLS certificates are issued. */
export interface CertificateSettings {
  /** `acme-dns01`: a public ACME CA, solved by DNS-01 in Route 53; `self-signed-ca`: a private CA made in the cluster. */
  readonly issuer: "acme-dns01" | "self-signed-ca";
  /** ACME directory URL (Let's Encrypt production or staging); unused for `self-signed-ca`. */
  readonly acmeServer: string;
  /** Contact e-mail registered with the ACME CA. */
  readonly email: string;
  /** Route 53 hosted zone of `clusterDomain`, for DNS-01; empty for `self-signed-ca`. */
  readonly hostedZoneId: string;
}

/** The cluster's network, as NetworkPolicies need it. */
export interface NetworkSettings {
  /** CIDR of the cluster's VPC (or node network): excluded from "the internet" in egress rules. */
  readonly vpcCidr: string;
  /** Where the Kubernetes API server answers pods: its endpoint CIDRs and port (EKS: ENIs in the VPC, 443). */
  readonly apiServer: { readonly cidrs: ReadonlyArray<string>; readonly port: number };
}

/** A horizontally autoscaled deployment: the HPA's bounds and target, and each replica's resources. */
export interface AutoscaledSizing {
  /** Replicas at least (the HPA's floor). */
  readonly minReplicas: number;
  /** Replicas at most (the HPA's ceiling). */
  readonly maxReplicas: number;
  /** Average CPU use, in percent of the request, that the HPA scales towards. */
  readonly targetCpuUtilization: number;
  /** Requests and limits per replica. */
  readonly resources: Resources;
}

/** Size of the Istio mesh: control plane, ingress gateway, every sidecar, and how much is traced. */
export interface MeshSizing {
  /** istiod, the control plane. */
  readonly istiod: AutoscaledSizing;
  /** The ingress gateway at the edge. */
  readonly ingressGateway: AutoscaledSizing;
  /** Requests and limits of every injected sidecar proxy. */
  readonly proxy: Resources;
  /** Percentage of requests the proxies trace (0-100). */
  readonly tracingSamplingPercent: number;
}

/** Size of the metrics stack: Prometheus, Alertmanager and Grafana. */
export interface MetricsSizing {
  /** Prometheus: replicas (each scrapes everything), resources, volume per replica and how long series are kept. */
  readonly prometheus: StatefulSizing;
  /** Alertmanager: replicas (3 form a highly available cluster), resources, volume and how long silences are kept. */
  readonly alertmanager: StatefulSizing;
  /** Grafana: replicas and resources (dashboards and datasources are provisioned, so it keeps no state). */
  readonly grafana: WorkloadSizing;
}

/** Size of the task orchestrator: each replica serves the API and runs `workerConcurrency` queue workers. */
export interface TasksSizing {
  /** Minimum replicas. */
  readonly replicas: number;
  /** Autoscaling ceiling (CPU); equal to `replicas` for a fixed count. */
  readonly maxReplicas: number;
  /** Requests and limits per replica (an upload holds about three 5 MiB parts in memory). */
  readonly resources: Resources;
  /** Tasks one replica runs at the same time. */
  readonly workerConcurrency: number;
  /** Largest file upload, bytes (refused with 413 beyond). */
  readonly maxUploadBytes: number;
}

/** One canary step: the share of traffic the new version gets, and how long it is watched before the next step. */
export interface CanaryStep {
  /** Percentage of requests (1-100). */
  readonly weight: number;
  /** How long to hold this step, e.g. `5m`. */
  readonly pause: string;
}

/** How a new version of a business service reaches users. */
export interface DeliverySizing {
  /** Canary steps, in order; full traffic follows the last one. */
  readonly canarySteps: ReadonlyArray<CanaryStep>;
  /** How often the analysis measures the new version. */
  readonly analysisInterval: string;
  /** Failed measurements that abort the rollout and send all traffic back to the stable version. */
  readonly failureLimit: number;
  /** The Rollouts controller's replicas and resources. */
  readonly controller: WorkloadSizing;
}

/** The pub/sub broker of the events component: Redis Streams on the platform's Redis, or Kafka. */
export type PubSubBroker =
  | {
      /** Redis Streams on the platform's Redis (through its sentinels when it has them). */
      readonly kind: "redis-streams";
      /** Approximate cap of each topic's stream (XADD MAXLEN ~), so a topic nobody drains cannot fill Redis. */
      readonly maxLenApprox: number;
    }
  | {
      /** An external Kafka cluster (e.g. Amazon MSK) with SASL/SCRAM over TLS; credentials come from the secret store. */
      readonly kind: "kafka";
      /** Bootstrap brokers, `host:port`. */
      readonly brokers: ReadonlyArray<string>;
      /** CIDRs the brokers live in (egress is allowed to exactly these, on the brokers' ports). */
      readonly cidrs: ReadonlyArray<string>;
      /** Entry of the secret store holding `username` and `password`. */
      readonly credentialsRemoteKey: string;
    };

/** Size of the events component: the Dapr control plane, the sidecars it injects, the event processor, the broker. */
export interface EventsSizing {
  /** Dapr control plane: highly available (3 replicas of each service) or single, and resources per pod. */
  readonly controlPlane: { readonly ha: boolean; readonly resources: Resources };
  /** The daprd sidecar injected next to every event producer and consumer. */
  readonly sidecar: Resources;
  /** The event processor: minimum replicas, autoscaling ceiling, resources. */
  readonly processor: WorkloadSizing & { readonly maxReplicas: number };
  /** The pub/sub broker. */
  readonly pubsub: PubSubBroker;
}

/** Per-component sizing; every component reads its own entry. */
export interface ComponentSizing {
  /** Default size of a business service (a service may override its replicas per tier). */
  readonly services: WorkloadSizing;
  /** The task orchestrator (API and workers). */
  readonly tasks: TasksSizing;
  /** The API gateway: its HPA's bounds and target, and each replica's resources. */
  readonly gateway: AutoscaledSizing;
  /** Controllers of the platform's operators (cert-manager, External Secrets): replicas and resources of each. */
  readonly operators: WorkloadSizing;
  /** Progressive delivery of business services. */
  readonly delivery: DeliverySizing;
  /** The Istio mesh. */
  readonly mesh: MeshSizing;
  /** Object storage buckets. */
  readonly objectStorage: ObjectStorageSizing;
  /** PostgreSQL. */
  readonly postgres: PostgresSizing;
  /** Tracing (OpenTelemetry collectors, Jaeger). */
  readonly tracing: TracingSizing;
  /** Logging (Fluent Bit). */
  readonly logging: LoggingSizing;
  /** Redis with Sentinel. */
  readonly redis: RedisSizing;
  /** Elasticsearch and Kibana (log and trace retention come from `logging` and `tracing`). */
  readonly elasticsearch: ElasticsearchSizing;
  /** Metrics and alerting (Prometheus, Alertmanager, Grafana). */
  readonly metrics: MetricsSizing;
  /** Events: Dapr, the event processor and the pub/sub broker. */
  readonly events: EventsSizing;
}

/**
 * Everything that differs between dev, staging and prod. Components read this data; none of them branches on the
 * environment's name.
 */
export interface Environment {
  /** Environment name, used in paths and object names, e.g. `prod`. */
  readonly name: string;
  /** The tier it belongs to. */
  readonly tier: Tier;
  /** Public DNS domain of the cluster's ingress, e.g. `prod.stratum.example.com`. */
  readonly clusterDomain: string;
  /** GitOps repository settings. */
  readonly gitops: GitOpsSettings;
  /** Cloud settings. */
  readonly cloud: CloudSettings;
  /** High-availability switches. */
  readonly ha: HighAvailability;
  /** Per-component sizing. */
  readonly sizing: ComponentSizing;
  /** TLS certificate issuance. */
  readonly certificates: CertificateSettings;
  /** The cluster's network. */
  readonly network: NetworkSettings;
}
