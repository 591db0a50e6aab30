import { Construct } from "constructs";
import { ScheduledBackup, ScheduledBackupSpecBackupOwnerReference, ScheduledBackupSpecMethod } from "../../constructs/imports/cnpg-scheduledbackup-postgresql.cnpg.io";
import { imagePinProblem } from "../../constructs/image";
import { isDnsLabel } from "../../constructs/names";
import { recommendedLabels, selectorLabels } from "../../constructs/labels";
import { EnvValue, GraphNodeProps } from "../../constructs/service-graph";
import { customResourceAnnotations } from "../../constructs/sync";
import type { Resources } from "../../stacks/environments/environment";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { ObjectStorage, OBJECT_STORAGE_NODE } from "../object-storage";
import { BackupStore, instanceSelector, ManagedRole, PostgresCluster } from "./cluster";
import { ConsumerDatabase, databaseBootstrapSql, sqlName } from "./databases";
import { CloudNativePgOperator } from "./operator";
import { PostgresParameters, renderParameters } from "./parameters";
import { DatabaseProvisioner, PROVISIONER_ROLE } from "./provisioner";
import { PgBouncerSettings, renderPgBouncer, RenderedPgBouncer, serverConnectionsPerPool } from "./pgbouncer";
import { POOLER_METRICS_PORT, POOLER_PORT, poolerSelector, PostgresPooler } from "./pooler";

/** Graph id of the read-write pooler: what business services consume. */
export const POSTGRES_NODE = "postgres";
/** Graph id of the read-only pooler (replicas), where the tier runs one. */
export const POSTGRES_RO_NODE = "postgres-ro";
/** Graph id of the PostgreSQL instance pods. */
export const POSTGRES_INSTANCES_NODE = "postgres-instances";
/** Graph id of the current primary (replicas stream from it). */
export const POSTGRES_PRIMARY_NODE = "postgres-primary";
/** Graph id (and ServiceAccount) of the database provisioning Job. */
export const PROVISIONER_NODE = "postgres-provisioner";
/** Namespace of the cluster and its poolers. */
export const POSTGRES_NAMESPACE = "postgres";
/** Operand image: PostgreSQL 16, exactly pinned. */
export const POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:16.6";
/** Connections the server keeps for superusers, replication, the operator and the exporter; pools never get them. */
export const RESERVED_CONNECTIONS = 13;

/** A point-in-time recovery: a second cluster bootstrapped from the main cluster's backups, up to a moment. */
export interface PointInTimeRecovery {
  /** The moment to recover to, RFC 3339 with an explicit offset, e.g. `2026-03-01T09:30:00Z`. */
  readonly targetTime: string;
  /** Name of the recovery cluster. @default `<cluster>-pitr` */
  readonly name?: string;
  /** Its instances. @default 1 */
  readonly instances?: number;
}

/** Props of the PostgreSQL component. */
export interface PostgresProps {
  /** Cluster name. @default "postgres" */
  readonly clusterName?: string;
  /** Operand image, exactly pinned. @default POSTGRES_IMAGE */
  readonly imageName?: string;
  /** Storage class of data and WAL volumes. @default the cluster default */
  readonly storageClass?: string;
  /** Typed PostgreSQL settings. @default derived from the memory limit and WAL volume */
  readonly parameters?: PostgresParameters;
  /** PgBouncer pool settings of both poolers. @default transaction pooling, sizes from the environment */
  readonly pgbouncer?: PgBouncerSettings;
  /** Base backup schedule (six fields, seconds first, as CloudNativePG reads it). @default "0 0 3 * * *" (03:00 daily) */
  readonly backupSchedule?: string;
  /** Synthesize a recovery cluster from the backups. @default none */
  readonly pointInTimeRecovery?: PointInTimeRecovery;
  /** Requests and limits of the operator. @default 100m/256Mi requested, 1 CPU/256Mi limit */
  readonly operatorResources?: Resources;
}

/** What a consumer receives to reach its database through a pooler. */
export interface PostgresConnection {
  /** Pooler Service DNS name. */
  readonly host: string;
  /** Port. */
  readonly port: number;
  /** Database. */
  readonly database: string;
  /** Login role. */
  readonly user: string;
  /** The password, by reference (a Secret in the consumer's namespace). */
  readonly password: { readonly secret: string; readonly key: string };
}

const DEFAULT_OPERATOR_RESOURCES: Resources = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "256Mi" } };
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
const CRON6 = /^(\S+\s+){5}\S+$/;

/**
 * PostgreSQL on CloudNativePG: the operator, a Cluster sized by the tier (instances, synchronous replicas, data and
 * WAL volumes, typed parameters, anti-affinity), a database and owner role per consumer with passwords only by
 * reference, PgBouncer poolers (read-write, and read-only where the tier asks), continuous backup to the object-storage
 * `backups` bucket with a ScheduledBackup and retention, and an optional point-in-time recovery cluster. Consumers
 * declare `consumes: ["postgres"]` and receive POSTGRES_* variables.
 */
export class Postgres extends PlatformComponent {
  /** Cluster name. */
  readonly clusterName: string;
  /** Namespace. */
  readonly namespace: string;
  /** The operator. */
  readonly operator: CloudNativePgOperator;
  /** PostgreSQL settings rendered into the Cluster. */
  readonly parameters: Readonly<Record<string, string>>;
  /** PgBouncer settings rendered into the poolers. */
  readonly pgbouncer: RenderedPgBouncer;
  /** The read-write pooler. */
  readonly pooler: PostgresPooler;
  /** The read-only pooler, where the tier runs one. */
  readonly readOnlyPooler?: PostgresPooler;
  /** Where backups go: the object-storage `backups` bucket, with IRSA or credentials by reference. */
  readonly backupStore: BackupStore;
  /** The Cluster, available once the platform is finalized (consumers are known only then). */
  cluster?: PostgresCluster;
  /** The Job that creates consumers' databases (after finalize, when there are consumers). */
  provisioner?: DatabaseProvisioner;
  /** The recovery Cluster, when `pointInTimeRecovery` is set (after finalize). */
  recoveryCluster?: PostgresCluster;
  private readonly databases = new Map<string, ConsumerDatabase>();

  constructor(scope: Construct, id: string, context: PlatformContext, props: PostgresProps = {}) {
    super(scope, id, context, { name: "postgres", syncWave: SyncWave.CUSTOM_RESOURCES });
    const env = context.environment;
    const sizing = env.sizing.postgres;
    const graph = context.graph;
    this.clusterName = props.clusterName ?? "postgres";
    const imageName = props.imageName ?? POSTGRES_IMAGE;
    const pitr = props.pointInTimeRecovery;
    const schedule = props.backupSchedule ?? "0 0 3 * * *";

    const problems: string[] = [];
    if (!isDnsLabel(this.clusterName) || this.clusterName.length > 40) problems.push(`clusterName must be a DNS label of at most 40 characters (its Services and Jobs add suffixes) (got ${JSON.stringify(this.clusterName)})`);
    const imageProblem = imagePinProblem(imageName);
    if (imageProblem) problems.push(`imageName: ${imageProblem}`);
    if (!Number.isInteger(sizing.synchronousReplicas) || sizing.synchronousReplicas < 0 || sizing.synchronousReplicas > sizing.instances - 1) {
      problems.push(`sizing.postgres.synchronousReplicas must be between 0 and instances - 1 = ${sizing.instances - 1} (got ${sizing.synchronousReplicas})`);
    }
    if (!CRON6.test(schedule)) problems.push(`backupSchedule must have six fields, seconds first, e.g. "0 0 3 * * *" (got ${JSON.stringify(schedule)})`);
    if (pitr) {
      if (!RFC3339.test(pitr.targetTime) || Number.isNaN(Date.parse(pitr.targetTime))) {
        problems.push(`pointInTimeRecovery.targetTime must be an RFC 3339 time with an offset, e.g. 2026-03-01T09:30:00Z (got ${JSON.stringify(pitr.targetTime)})`);
      }
      if (pitr.name === this.clusterName) problems.push(`pointInTimeRecovery.name must differ from the cluster name '${this.clusterName}'`);
      if (pitr.name !== undefined && !isDnsLabel(pitr.name)) problems.push(`pointInTimeRecovery.name must be a DNS label (got ${JSON.stringify(pitr.name)})`);
    }
    const storage = context.find(ObjectStorage);
    if (!storage) problems.push("needs the object-storage component, added before it, for continuous backup");
    else {
      const bucketDays = env.sizing.objectStorage.buckets.backups.retentionDays;
      const keepDays = retentionDays(sizing.backupRetention);
      // barman keeps the newest base backup older than the window; the bucket must not expire it first
      if (bucketDays > 0 && keepDays !== undefined && bucketDays < keepDays + 7) {
        problems.push(`the backups bucket expires objects after ${bucketDays} days, before backups kept for ${sizing.backupRetention} (+7 days for the last base backup) are due; raise sizing.objectStorage.buckets.backups.retentionDays to at least ${keepDays + 7}`);
      }
    }
    let parameters: Record<string, string> = {};
    let pgbouncer: RenderedPgBouncer | undefined;
    try {
      parameters = renderParameters(sizing.resources, sizing.walStorage, props.parameters);
      pgbouncer = renderPgBouncer(props.pgbouncer ?? {}, sizing.pooler);
    } catch (e) {
      problems.push((e as Error).message);
    }
    if (problems.length || !storage || !pgbouncer) throw new Error(`${this.node.path}: ${problems.join("; ")}`);
    this.parameters = parameters;
    this.pgbouncer = pgbouncer;

    this.namespace = context.ensureNamespace({ name: POSTGRES_NAMESPACE, component: "database" });
    this.operator = new CloudNativePgOperator(this, "Operator", context, {
      replicas: Math.min(2, sizing.instances),
      resources: props.operatorResources ?? DEFAULT_OPERATOR_RESOURCES,
    });
    const spread = { node: env.ha.nodeSpread, zone: env.ha.zoneSpread };

    // backups: the instances' ServiceAccount (named after the cluster) gets the backups bucket
    const access = storage.grant({ id: this.clusterName, namespace: this.namespace, serviceAccount: this.clusterName }, { backups: "read-write" });
    this.backupStore = {
      bucket: access.buckets.backups as string,
      path: "postgres",
      endpointURL: storage.endpointOverride,
      credentials: access.credentials,
    };
    const recoveryName = pitr ? pitr.name ?? `${this.clusterName}-pitr` : undefined;
    const recoveryAccess = recoveryName
      ? storage.grant({ id: recoveryName, namespace: this.namespace, serviceAccount: recoveryName }, { backups: "read-write" })
      : undefined;

    // poolers: consumers connect here, never to the instances
    this.pooler = new PostgresPooler(this, "PoolerRw", {
      name: `${this.clusterName}-pooler-rw`, namespace: this.namespace, clusterName: this.clusterName, type: "rw",
      instances: sizing.pooler.instances, pgbouncer, resources: sizing.pooler.resources, spread,
    });
    if (sizing.pooler.readOnly) {
      this.readOnlyPooler = new PostgresPooler(this, "PoolerRo", {
        name: `${this.clusterName}-pooler-ro`, namespace: this.namespace, clusterName: this.clusterName, type: "ro",
        instances: sizing.pooler.instances, pgbouncer, resources: sizing.pooler.resources, spread,
      });
    }

    // the service graph: who talks to whom, from which NetworkPolicies follow
    const instances = this.instancesNode(POSTGRES_INSTANCES_NODE, this.clusterName);
    graph.addNode(instances);
    if (sizing.instances > 1) {
      graph.addNode({
        ...instances,
        id: POSTGRES_PRIMARY_NODE,
        selector: { ...instances.selector, "cnpg.io/instanceRole": "primary" },
        ports: instances.ports.filter((p) => p.name === "tcp-postgres"),
      });
      // replicas stream WAL from (and pg_rewind against) the primary, which the operator may move to any instance
      graph.connect(POSTGRES_INSTANCES_NODE, POSTGRES_PRIMARY_NODE);
    }
    graph.connect("cnpg-operator", POSTGRES_INSTANCES_NODE, ["status"]);
    graph.connect(POSTGRES_INSTANCES_NODE, "kube-apiserver");
    // the operator's Jobs carry cnpg.io/jobRole and no podRole: without their own edges a default-deny namespace
    // would keep initdb from the API server and a new replica from cloning the primary
    graph.addNode(this.jobNode(`${POSTGRES_NODE}-initdb`, this.clusterName, "initdb"));
    graph.connect(`${POSTGRES_NODE}-initdb`, "kube-apiserver");
    if (sizing.instances > 1) {
      graph.addNode(this.jobNode(`${POSTGRES_NODE}-join`, this.clusterName, "join"));
      graph.connect(`${POSTGRES_NODE}-join`, "kube-apiserver");
      graph.connect(`${POSTGRES_NODE}-join`, POSTGRES_PRIMARY_NODE);
    }
    graph.connect(POSTGRES_INSTANCES_NODE, OBJECT_STORAGE_NODE);
    // the Job that creates the databases of consumers added after bootstrap talks to the primary only
    graph.addNode({
      id: PROVISIONER_NODE, kind: "component", namespace: this.namespace, serviceAccount: PROVISIONER_NODE,
      selector: selectorLabels({ name: PROVISIONER_NODE }), ports: [], scope: this,
    });
    graph.connect(PROVISIONER_NODE, POSTGRES_INSTANCES_NODE, ["tcp-postgres"]);
    graph.addNode(this.poolerNode(POSTGRES_NODE, this.pooler, "POSTGRES"));
    graph.connect(POSTGRES_NODE, POSTGRES_INSTANCES_NODE, ["tcp-postgres"]);
    graph.connect(POSTGRES_NODE, "kube-apiserver");
    if (this.readOnlyPooler) {
      graph.addNode(this.poolerNode(POSTGRES_RO_NODE, this.readOnlyPooler, "POSTGRES_RO"));
      graph.connect(POSTGRES_RO_NODE, POSTGRES_INSTANCES_NODE, ["tcp-postgres"]);
      graph.connect(POSTGRES_RO_NODE, "kube-apiserver");
    }
    if (recoveryName) {
      graph.addNode(this.instancesNode(`${POSTGRES_NODE}-pitr`, recoveryName));
      graph.connect("cnpg-operator", `${POSTGRES_NODE}-pitr`, ["status"]);
      graph.connect(`${POSTGRES_NODE}-pitr`, "kube-apiserver");
      graph.connect(`${POSTGRES_NODE}-pitr`, OBJECT_STORAGE_NODE);
      // the full-recovery Job restores the base backup and WAL from the bucket before the first instance starts
      graph.addNode(this.jobNode(`${POSTGRES_NODE}-pitr-restore`, recoveryName, "full-recovery"));
      graph.connect(`${POSTGRES_NODE}-pitr-restore`, "kube-apiserver");
      graph.connect(`${POSTGRES_NODE}-pitr-restore`, OBJECT_STORAGE_NODE);
    }

    new ScheduledBackup(this, "ScheduledBackup", {
      metadata: {
        name: `${this.clusterName}-daily`,
        namespace: this.namespace,
        labels: recommendedLabels({ name: "postgres", instance: this.clusterName, component: "database" }),
        annotations: customResourceAnnotations(),
      },
      spec: {
        cluster: { name: this.clusterName },
        schedule,
        method: ScheduledBackupSpecMethod.BARMAN_OBJECT_STORE,
        backupOwnerReference: ScheduledBackupSpecBackupOwnerReference.SELF,
        immediate: true,
      },
    });

    // consumers are the graph's incoming edges; they are complete only when every service and component is added
    context.onFinalize(() => {
      const consumers = [...graph.incoming(POSTGRES_NODE), ...graph.incoming(POSTGRES_RO_NODE)].map((e) => graph.node(e.from));
      for (const c of consumers) this.databaseFor(c);
      const databases = [...this.databases.values()].sort((a, b) => a.consumer.localeCompare(b.consumer));
      this.checkPoolCapacity(databases.length, sizing.pooler.instances);
      const roles: ManagedRole[] = databases.map((d) => ({ name: d.role, passwordSecret: this.roleSecret(d).name, comment: `owner of ${d.database}, used by ${d.consumer}` }));
      if (databases.length) {
        const password = this.context.secrets.require({
          namespace: this.namespace,
          name: `${this.clusterName}-role-provisioner`,
          keys: ["username", "password"],
          remoteKey: `stratum/${env.name}/postgres/${PROVISIONER_ROLE}`,
          description: `Login of PostgreSQL role ${PROVISIONER_ROLE}, which creates the consumers' databases`,
          type: "kubernetes.io/basic-auth",
          labels: { "cnpg.io/reload": "true" },
        }).password;
        roles.push({
          name: PROVISIONER_ROLE, passwordSecret: password.name, createdb: true, inRoles: databases.map((d) => d.role),
          comment: "creates the consumers' databases (CREATEDB, member of each owner role)",
        });
        this.provisioner = new DatabaseProvisioner(this, "Provisioner", {
          name: PROVISIONER_NODE, namespace: this.namespace, host: `${this.clusterName}-rw.${this.namespace}.svc.cluster.local`,
          image: imageName, databases: databases.map((d) => d.database), password,
        });
      }
      this.cluster = new PostgresCluster(this, "Cluster", {
        name: this.clusterName, namespace: this.namespace, instances: sizing.instances, synchronousReplicas: sizing.synchronousReplicas,
        imageName, resources: sizing.resources, storage: sizing.storage, walStorage: sizing.walStorage, storageClass: props.storageClass,
        parameters, spread, roles, postInitSql: databaseBootstrapSql(databases),
        backup: { store: this.backupStore, retention: sizing.backupRetention },
        serviceAccountAnnotations: access.serviceAccountAnnotations,
      });
      if (recoveryName && pitr && recoveryAccess) {
        this.recoveryCluster = new PostgresCluster(this, "RecoveryCluster", {
          name: recoveryName, namespace: this.namespace, instances: pitr.instances ?? 1, synchronousReplicas: 0,
          imageName, resources: sizing.resources, storage: sizing.storage, walStorage: sizing.walStorage, storageClass: props.storageClass,
          parameters, spread, roles,
          recovery: { store: { ...this.backupStore, credentials: recoveryAccess.credentials }, sourceServerName: this.clusterName, targetTime: pitr.targetTime },
          // the recovered cluster archives under its own name, never over the origin's WAL
          backup: { store: { ...this.backupStore, credentials: recoveryAccess.credentials }, retention: sizing.backupRetention },
          serviceAccountAnnotations: recoveryAccess.serviceAccountAnnotations,
        });
      }
    });
  }

  /** The consumers' databases (after finalize), sorted by consumer. */
  get consumerDatabases(): ConsumerDatabase[] {
    return [...this.databases.values()].sort((a, b) => a.consumer.localeCompare(b.consumer));
  }

  /** How a consumer (a graph node) reaches its database through the read-write pooler. */
  connectionFor(consumer: GraphNodeProps, pooler: PostgresPooler = this.pooler): PostgresConnection {
    const d = this.databaseFor(consumer);
    const secret = this.consumerSecret(d);
    return { host: pooler.host, port: POOLER_PORT, database: d.database, user: d.role, password: { secret: secret.name, key: secret.key } };
  }

  /** A consumer's database and role, declared once with both copies of its credentials. */
  private databaseFor(consumer: GraphNodeProps): ConsumerDatabase {
    const existing = this.databases.get(consumer.id);
    if (existing) return existing;
    if (!consumer.namespace) throw new Error(`${this.node.path}: consumer '${consumer.id}' has no namespace`);
    const name = sqlName(consumer.id);
    const d: ConsumerDatabase = { consumer: consumer.id, consumerNamespace: consumer.namespace, database: name, role: name };
    this.databases.set(consumer.id, d);
    this.roleSecret(d);
    this.consumerSecret(d);
    return d;
  }

  /** The role's password for the operator: a basic-auth Secret in the cluster's namespace, reloaded on change. */
  private roleSecret(d: ConsumerDatabase): { name: string; key: string } {
    const refs = this.context.secrets.require({
      namespace: this.namespace,
      name: `${this.clusterName}-role-${d.consumer}`,
      keys: ["username", "password"],
      remoteKey: this.remoteKey(d),
      description: `Login of PostgreSQL role ${d.role} (owner of database ${d.database}), managed by CloudNativePG`,
      type: "kubernetes.io/basic-auth",
      labels: { "cnpg.io/reload": "true" },
    });
    return refs.password;
  }

  /** The same credentials in the consumer's namespace, for its POSTGRES_PASSWORD. */
  private consumerSecret(d: ConsumerDatabase): { name: string; key: string } {
    return this.context.secrets.require({
      namespace: d.consumerNamespace,
      name: `${this.clusterName}-${d.consumer}`,
      keys: ["username", "password"],
      remoteKey: this.remoteKey(d),
      description: `PostgreSQL login of ${d.consumer} (role ${d.role}, database ${d.database})`,
    }).password;
  }

  private remoteKey(d: ConsumerDatabase): string {
    return `stratum/${this.context.environment.name}/postgres/${d.role}`;
  }

  /** Every pool's server connections, on every PgBouncer pod, must fit the server's connection limit. */
  private checkPoolCapacity(consumers: number, poolerPods: number): void {
    const limit = Number(this.parameters.max_connections) - RESERVED_CONNECTIONS;
    const needed = consumers * poolerPods * serverConnectionsPerPool(this.pgbouncer);
    if (needed > limit) {
      throw new Error(
        `${this.node.path}: ${consumers} consumer database(s) x ${poolerPods} PgBouncer pod(s) x ${serverConnectionsPerPool(this.pgbouncer)} server connections per pool = ${needed}, ` +
          `more than max_connections ${this.parameters.max_connections} minus ${RESERVED_CONNECTIONS} reserved = ${limit}; raise parameters.maxConnections or lower the pool size`,
      );
    }
  }

  private instancesNode(id: string, clusterName: string): GraphNodeProps {
    return {
      id,
      kind: "component",
      namespace: this.namespace,
      serviceAccount: clusterName,
      selector: instanceSelector(clusterName),
      ports: [
        { name: "tcp-postgres", port: 5432, protocol: "tcp" },
        { name: "status", port: 8000, protocol: "tcp" },
        { name: "metrics", port: 9187, protocol: "http", metrics: true },
      ],
      host: `${clusterName}-rw.${this.namespace}.svc.cluster.local`,
      scope: this,
    };
  }

  /** The pods of one kind of the operator's Jobs for a cluster (they run as the cluster's ServiceAccount). */
  private jobNode(id: string, clusterName: string, jobRole: "initdb" | "join" | "full-recovery"): GraphNodeProps {
    return {
      id,
      kind: "component",
      namespace: this.namespace,
      serviceAccount: clusterName,
      selector: { "cnpg.io/cluster": clusterName, "cnpg.io/jobRole": jobRole },
      ports: [],
      scope: this,
    };
  }

  private poolerNode(id: string, pooler: PostgresPooler, prefix: string): GraphNodeProps {
    const name = pooler.pooler.metadata.name as string;
    return {
      id,
      kind: "component",
      namespace: this.namespace,
      serviceAccount: name,
      selector: poolerSelector(name),
      ports: [
        { name: "tcp-postgres", port: POOLER_PORT, protocol: "tcp" },
        { name: "metrics", port: POOLER_METRICS_PORT, protocol: "http", metrics: true },
      ],
      host: pooler.host,
      scope: this,
      connection: (consumer) => {
        const c = this.connectionFor(consumer, pooler);
        const vars: Record<string, EnvValue> = {
          [`${prefix}_HOST`]: c.host,
          [`${prefix}_PORT`]: String(c.port),
          [`${prefix}_DATABASE`]: c.database,
          [`${prefix}_USER`]: c.user,
          [`${prefix}_PASSWORD`]: c.password,
          [`${prefix}_SSLMODE`]: "require",
        };
        return vars;
      },
    };
  }
}

/** Days of a CloudNativePG retention (`7d`, `4w`, `3m`). */
export function retentionDays(retention: string): number | undefined {
  const m = /^([1-9][0-9]*)([dwm])$/.exec(retention);
  if (!m) return undefined;
  return Number(m[1]) * { d: 1, w: 7, m: 31 }[m[2] as "d" | "w" | "m"];
}
