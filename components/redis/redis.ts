import { Construct } from "constructs";
import { HardenedWorkload, WorkloadVolume } from "../../constructs/hardened-workload";
import * as k8s from "../../constructs/imports/k8s";
import { recommendedLabels } from "../../constructs/labels";
import { quantityBytes } from "../../constructs/quantity";
import { SecretKeyRef } from "../../constructs/secret-ref";
import { EnvValue, GraphNodeProps, ServicePort } from "../../constructs/service-graph";
import type { Resources } from "../../stacks/environments/environment";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import {
  EVICTION_POLICIES, EvictionPolicy, redisConfigProblems, RedisPersistence, RedisServerConfig, renderRedisConf,
  renderSentinelConf, SentinelConfig, sentinelConfigProblems, SentinelSettings,
} from "./redis-config";
import { aclProblems, passwordEnv, probeScript, RedisAclUser, redisStartScript, RedisScriptSettings, sentinelStartScript } from "./redis-scripts";

/** Graph id of Redis (agreed across components). */
export const REDIS_NODE = "redis";
/** Graph id of the sentinels. */
export const REDIS_SENTINEL_NODE = "redis-sentinel";
/** Redis's image: the same 7.0 release Debian ships, so that the configuration test runs what the pods run. */
export const REDIS_IMAGE = "docker.io/library/redis:7.0.15-bookworm";
/** The Prometheus exporter sidecar. */
export const REDIS_EXPORTER_IMAGE = "docker.io/oliver006/redis_exporter:v1.62.0";
/** uid and gid of the `redis` user in the official image. */
export const REDIS_UID = 999;

const REDIS_PORT = 6379;
const SENTINEL_PORT = 26379;
const EXPORTER_PORT = 9121;
const CONF_DIR = "/etc/redis";
const RUN_DIR = "/run/redis";
const TLS_DIR = "/etc/redis/tls";

/** Users every deployment has: replicas, sentinels and the metrics exporter authenticate as these. */
const SYSTEM_USERS: ReadonlyArray<RedisAclUser> = [
  { name: "replication", rules: "-@all +psync +replconf +ping" },
  { name: "sentinel", rules: "&__sentinel__:hello -@all +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill" },
  { name: "monitor", rules: "-@all +@connection +info +client|list +config|get +latency +slowlog +memory|stats +cluster|info +select +dbsize" },
];

/** The client user consumers receive; all keys and channels, no administrative or dangerous commands. */
export const DEFAULT_CLIENT_USER: RedisAclUser = { name: "app", rules: "~* &* +@all -@dangerous +info +role" };

/** What a sentinel lets a client do: find the master and follow failovers, nothing else. */
const SENTINEL_CLIENT_RULES =
  "&* -@all +@connection +role +subscribe +sentinel|get-master-addr-by-name +sentinel|master +sentinel|replicas +sentinel|sentinels +sentinel|myid";

/** TLS on every Redis and sentinel port, with a certificate from the secret store. */
export interface RedisTlsProps {
  /** Store entry of the `kubernetes.io/tls` Secret (keys `tls.crt`, `tls.key`, `ca.crt`). @default `stratum/<env>/redis/tls` */
  readonly remoteKey?: string;
  /** Require client certificates too. @default false */
  readonly authClients?: boolean;
}

/** Props of the Redis component. */
export interface RedisProps {
  /** Namespace. @default "redis" */
  readonly namespace?: string;
  /** Name sentinels know the master by (what clients ask for). @default "stratum" */
  readonly masterName?: string;
  /** The user consumers connect as. @default {@link DEFAULT_CLIENT_USER} */
  readonly clientUser?: RedisAclUser;
  /** More ACL users, each with its own password Secret (`redis-user-<name>`). @default none */
  readonly users?: ReadonlyArray<RedisAclUser>;
  /** What happens when `maxmemory` is reached. @default "volatile-lru" (only keys with a TTL are evicted) */
  readonly maxmemoryPolicy?: EvictionPolicy;
  /** RDB save points and AOF fsync. @default everysec and Redis's save points */
  readonly persistence?: RedisPersistence;
  /** Replicas that must be connected for the master to accept writes. @default 1 when there are replicas, else 0 */
  readonly minReplicasToWrite?: number;
  /** Failover timing (the quorum comes from the environment). @default down-after 5000 ms, failover timeout 60000 ms */
  readonly sentinel?: Omit<SentinelSettings, "quorum">;
  /** TLS on Redis and the sentinels. @default off (the mesh or the network policy guards the plain port) */
  readonly tls?: RedisTlsProps;
  /** Redis image. @default {@link REDIS_IMAGE} */
  readonly image?: string;
  /** Exporter image. @default {@link REDIS_EXPORTER_IMAGE} */
  readonly exporterImage?: string;
  /** Requests and limits of the exporter sidecar. @default 10m/32Mi, 100m/64Mi */
  readonly exporterResources?: Resources;
}

/** How consumers reach Redis. */
export interface RedisEndpoint {
  /** Headless Service of the Redis pods (reads may hit replicas: write through the master sentinels name). */
  readonly host: string;
  /** Redis port. */
  readonly port: number;
  /** Headless Service of the sentinels. */
  readonly sentinelHost: string;
  /** Sentinel port. */
  readonly sentinelPort: number;
  /** Master name to ask the sentinels for. */
  readonly masterName: string;
  /** The client user. */
  readonly username: string;
  /** True when every port speaks TLS. */
  readonly tls: boolean;
}

/**
 * Redis with Sentinel, built from Stratum's own constructs: a StatefulSet of Redis pods (pod 0 starts as master, the
 * rest replicate; after that the sentinels decide), a StatefulSet of sentinels, persistence with RDB and AOF, ACL
 * users whose passwords come only from Secrets, optional TLS and a redis_exporter sidecar. Consumers in the service
 * graph receive host, port, sentinel, master name, user and the password by reference.
 */
export class RedisComponent extends PlatformComponent {
  /** Where consumers connect. */
  readonly endpoint: RedisEndpoint;
  /** The Redis StatefulSet. */
  readonly server: HardenedWorkload;
  /** The sentinel StatefulSet. */
  readonly sentinels: HardenedWorkload;
  /** The graph node of Redis. */
  readonly graphNode: GraphNodeProps;
  /** The generated configuration files (ConfigMap `redis-config`). */
  readonly files: Readonly<Record<string, string>>;
  private readonly clientUser: RedisAclUser;
  private readonly userRemoteKey: (user: string) => string;
  private readonly tlsRemoteKey?: string;

  constructor(scope: Construct, id: string, context: PlatformContext, props: RedisProps = {}) {
    super(scope, id, context, { name: "redis", syncWave: SyncWave.WORKLOADS });
    const env = context.environment;
    const sizing = env.sizing.redis;
    const namespace = props.namespace ?? "redis";
    const masterName = props.masterName ?? "stratum";
    this.clientUser = props.clientUser ?? DEFAULT_CLIENT_USER;
    const users = [...SYSTEM_USERS, this.clientUser, ...(props.users ?? [])];
    const minReplicasToWrite = props.minReplicasToWrite ?? (sizing.replicas > 1 ? 1 : 0);
    const maxmemoryPolicy = props.maxmemoryPolicy ?? "volatile-lru";
    const tls = props.tls ? { dir: TLS_DIR, authClients: props.tls.authClients } : undefined;

    const problems: string[] = [];
    let maxmemoryBytes = 0;
    try {
      maxmemoryBytes = quantityBytes(sizing.maxmemory);
      const limit = quantityBytes(sizing.resources.limits.memory);
      if (maxmemoryBytes >= limit) problems.push(`sizing.redis.maxmemory (${sizing.maxmemory}) must stay below the memory limit (${sizing.resources.limits.memory}): forks for RDB and AOF rewrites need headroom`);
    } catch (e) {
      problems.push(`sizing.redis: ${(e as Error).message}`);
    }
    const server: RedisServerConfig = { port: REDIS_PORT, dir: "/data", maxmemoryBytes, maxmemoryPolicy, persistence: props.persistence, minReplicasToWrite, tls };
    if (!EVICTION_POLICIES.includes(maxmemoryPolicy)) problems.push(`maxmemoryPolicy must be one of ${EVICTION_POLICIES.join(", ")} (got ${JSON.stringify(maxmemoryPolicy)})`);
    else if (maxmemoryBytes) problems.push(...redisConfigProblems(server).filter((p) => !p.startsWith("maxmemoryPolicy")));
    if (minReplicasToWrite > sizing.replicas - 1) problems.push(`minReplicasToWrite (${minReplicasToWrite}) exceeds the ${sizing.replicas - 1} replica(s); the master would refuse every write`);
    const sentinelSettings: SentinelSettings = { ...props.sentinel, quorum: sizing.sentinel.quorum };
    problems.push(...sentinelConfigProblems({ ...sentinelSettings, masterName }, sizing.sentinel.replicas));
    problems.push(...aclProblems(users));
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);

    context.ensureNamespace({ name: namespace, component: "redis" });
    const redisHost = `redis.${namespace}.svc.cluster.local`;
    const sentinelHost = `redis-sentinel.${namespace}.svc.cluster.local`;
    this.endpoint = { host: redisHost, port: REDIS_PORT, sentinelHost, sentinelPort: SENTINEL_PORT, masterName, username: this.clientUser.name, tls: !!tls };
    this.userRemoteKey = (user) => `stratum/${env.name}/redis/users/${user}`;

    const scriptSettings: RedisScriptSettings = {
      confDir: CONF_DIR,
      runDir: RUN_DIR,
      redisPort: REDIS_PORT,
      sentinelPort: SENTINEL_PORT,
      masterName,
      redisHeadlessHost: redisHost,
      sentinelHeadlessHost: sentinelHost,
      users,
      sentinelUsers: [
        { name: "sentinel", rules: "&* +@all" },
        { name: "monitor", rules: "-@all +@connection +info" },
        { name: this.clientUser.name, rules: SENTINEL_CLIENT_RULES },
      ],
      replicationUser: "replication",
      sentinelUser: "sentinel",
      monitorUser: "monitor",
      tlsDir: tls?.dir,
    };
    const sentinel: SentinelConfig = {
      ...sentinelSettings,
      port: SENTINEL_PORT,
      masterName,
      masterHost: `redis-0.${redisHost}`,
      masterPort: REDIS_PORT,
      authUser: "sentinel",
      tls,
    };
    this.files = {
      "redis.conf": renderRedisConf(server),
      "sentinel.conf": renderSentinelConf(sentinel),
      "start-redis.sh": redisStartScript(scriptSettings),
      "start-sentinel.sh": sentinelStartScript(scriptSettings),
      "probe.sh": probeScript(scriptSettings),
    };
    const configHash = require("node:crypto").createHash("sha256").update(JSON.stringify(this.files)).digest("hex").slice(0, 16);
    new k8s.KubeConfigMap(this, "Config", {
      metadata: { name: "redis-config", namespace, labels: recommendedLabels({ name: "redis", component: "cache" }) },
      data: { ...this.files },
    });

    const passwords = (names: ReadonlyArray<string>): Record<string, EnvValue> =>
      Object.fromEntries(names.map((u) => {
        const ref = this.userSecret(namespace, u);
        return [passwordEnv(u), { secret: ref.name, key: ref.key }];
      }));
    const volumes: WorkloadVolume[] = [
      { name: "config", configMap: "redis-config", mountPath: CONF_DIR },
      { name: "run", mountPath: RUN_DIR, sizeLimit: "1Mi" },
    ];
    if (tls) {
      this.tlsRemoteKey = props.tls?.remoteKey ?? `stratum/${env.name}/redis/tls`;
      const ref = context.secrets.require({
        namespace, name: "redis-tls", keys: ["tls.crt", "tls.key", "ca.crt"], type: "kubernetes.io/tls",
        remoteKey: this.tlsRemoteKey,
        description: "TLS certificate of the Redis and sentinel ports, with the CA clients verify it by",
      });
      volumes.push({ name: "tls", secret: ref["tls.crt"].name, mountPath: TLS_DIR });
    }
    const spread = { node: env.ha.nodeSpread, zone: env.ha.zoneSpread };
    const podAnnotations = { "stratum.dev/config-sha256": configHash };
    const exporterResources = props.exporterResources ?? { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } };
    const probe = (port: number, mode: "live" | "ready") => ({ exec: ["sh", `${CONF_DIR}/probe.sh`, String(port), mode], periodSeconds: 10, failureThreshold: mode === "live" ? 5 : 3 });
    const redisPorts: ServicePort[] = [{ name: "tcp-redis", port: REDIS_PORT, protocol: tls ? "tls" : "tcp" }];

    this.server = new HardenedWorkload(this, "Server", {
      name: "redis",
      namespace,
      component: "cache",
      kind: "StatefulSet",
      image: props.image ?? REDIS_IMAGE,
      runAsUser: REDIS_UID,
      replicas: sizing.replicas,
      resources: sizing.resources,
      spread,
      ports: redisPorts,
      command: ["sh", `${CONF_DIR}/start-redis.sh`],
      env: { REDIS_SELF_DOMAIN: redisHost, ...passwords(users.map((u) => u.name)) },
      volumes,
      volumeClaims: [{ name: "data", mountPath: "/data", storage: sizing.storage }],
      readiness: probe(REDIS_PORT, "ready"),
      liveness: { ...probe(REDIS_PORT, "live"), initialDelaySeconds: 30 },
      terminationGracePeriodSeconds: 60,
      podAnnotations,
      sidecars: [
        {
          name: "exporter",
          image: props.exporterImage ?? REDIS_EXPORTER_IMAGE,
          ports: [{ name: "http-metrics", port: EXPORTER_PORT, protocol: "http", metrics: true }],
          resources: exporterResources,
          probe: { path: "/health", port: "http-metrics" },
          env: {
            REDIS_ADDR: `${tls ? "rediss" : "redis"}://127.0.0.1:${REDIS_PORT}`,
            REDIS_USER: "monitor",
            REDIS_PASSWORD: passwords(["monitor"])[passwordEnv("monitor")],
            REDIS_EXPORTER_WEB_LISTEN_ADDRESS: `:${EXPORTER_PORT}`,
            ...(tls ? { REDIS_EXPORTER_TLS_CA_CERT_FILE: `${TLS_DIR}/ca.crt` } : {}),
          },
          mounts: tls ? [{ name: "tls", mountPath: TLS_DIR, readOnly: true }] : undefined,
        },
      ],
    });

    this.sentinels = new HardenedWorkload(this, "Sentinel", {
      name: "redis-sentinel",
      namespace,
      component: "cache-sentinel",
      kind: "StatefulSet",
      image: props.image ?? REDIS_IMAGE,
      runAsUser: REDIS_UID,
      replicas: sizing.sentinel.replicas,
      resources: sizing.sentinel.resources,
      spread,
      ports: [{ name: "tcp-sentinel", port: SENTINEL_PORT, protocol: tls ? "tls" : "tcp" }],
      command: ["sh", `${CONF_DIR}/start-sentinel.sh`],
      env: { REDIS_SELF_DOMAIN: sentinelHost, ...passwords(["sentinel", "monitor", this.clientUser.name]) },
      volumes,
      readiness: probe(SENTINEL_PORT, "ready"),
      liveness: { ...probe(SENTINEL_PORT, "live"), initialDelaySeconds: 15 },
      podAnnotations,
    });

    const graph = context.graph;
    this.graphNode = graph.addNode(this.server.graphNode(REDIS_NODE, "component", this, { connection: (consumer) => this.connectionFor(consumer) }));
    graph.addNode(this.sentinels.graphNode(REDIS_SENTINEL_NODE, "component", this));
    // A node cannot consume itself, so pod-to-pod traffic of one StatefulSet is declared through a peer node: the
    // same pods, only the port their peers use.
    graph.addNode({ ...this.server.graphNode("redis-peer", "component", this), ports: redisPorts });
    graph.addNode({ ...this.sentinels.graphNode("redis-sentinel-peer", "component", this), ports: this.sentinels.ports });
    graph.connect(REDIS_NODE, "redis-peer");
    graph.connect(REDIS_NODE, REDIS_SENTINEL_NODE);
    graph.connect(REDIS_SENTINEL_NODE, REDIS_NODE, ["tcp-redis"]);
    graph.connect(REDIS_SENTINEL_NODE, "redis-sentinel-peer");
    // Whoever consumes Redis also asks the sentinels where the master is.
    context.onFinalize(() => {
      for (const edge of graph.incoming(REDIS_NODE)) {
        if (edge.from !== REDIS_SENTINEL_NODE && !graph.outgoing(edge.from).some((e) => e.to === REDIS_SENTINEL_NODE)) graph.connect(edge.from, REDIS_SENTINEL_NODE);
      }
    });
  }

  /**
   * The password of an ACL user as a Secret key in a namespace (the consumer's own: pods cannot read Secrets of
   * other namespaces). Every copy comes from the same store entry.
   */
  userSecret(namespace: string, user: string): SecretKeyRef {
    return this.context.secrets.require({
      namespace,
      name: `redis-user-${user.toLowerCase().replace(/_/g, "-")}`,
      keys: ["password"],
      remoteKey: this.userRemoteKey(user),
      description: `Password of the Redis ACL user '${user}'`,
    }).password;
  }

  /** What a consumer receives: where Redis and the sentinels are, the master name, user, and the password by reference. */
  private connectionFor(consumer: GraphNodeProps): Record<string, EnvValue> {
    if (!consumer.namespace) throw new Error(`${this.node.path}: consumer '${consumer.id}' has no namespace`);
    const e = this.endpoint;
    const password = this.userSecret(consumer.namespace, e.username);
    const vars: Record<string, EnvValue> = {
      REDIS_HOST: e.host,
      REDIS_PORT: String(e.port),
      REDIS_SENTINEL_HOST: e.sentinelHost,
      REDIS_SENTINEL_PORT: String(e.sentinelPort),
      REDIS_MASTER_NAME: e.masterName,
      REDIS_USERNAME: e.username,
      REDIS_PASSWORD: { secret: password.name, key: password.key },
    };
    if (e.tls) {
      const ca = this.context.secrets.require({
        namespace: consumer.namespace, name: "redis-ca", keys: ["ca.crt"],
        remoteKey: this.tlsRemoteKey as string,
        description: "CA that signed the Redis certificate",
      });
      vars.REDIS_TLS = "true";
      vars.REDIS_TLS_CA = { secret: ca["ca.crt"].name, key: "ca.crt" };
    }
    return vars;
  }
}
