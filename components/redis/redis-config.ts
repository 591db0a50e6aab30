/** How Redis evicts keys when `maxmemory` is reached (the `maxmemory-policy` values Redis accepts). */
export type EvictionPolicy =
  | "noeviction"
  | "allkeys-lru"
  | "allkeys-lfu"
  | "allkeys-random"
  | "volatile-lru"
  | "volatile-lfu"
  | "volatile-random"
  | "volatile-ttl";

/** Every eviction policy, for validation and the environment schema. */
export const EVICTION_POLICIES: ReadonlyArray<EvictionPolicy> = [
  "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
];

/** When the append-only file is flushed to disk. */
export type AppendFsync = "always" | "everysec" | "no";

/** An RDB save point: snapshot when at least `changes` keys changed within `seconds`. */
export interface SavePoint {
  /** Window in seconds. */
  readonly seconds: number;
  /** Changed keys within the window. */
  readonly changes: number;
}

/** Persistence: RDB snapshots and the append-only file, both on. */
export interface RedisPersistence {
  /** AOF fsync policy. @default "everysec" (at most one second of writes lost on a crash) */
  readonly appendfsync?: AppendFsync;
  /** RDB save points. @default 1 change in 1 h, 100 in 5 min, 10000 in 1 min (Redis's own defaults) */
  readonly savePoints?: ReadonlyArray<SavePoint>;
}

/** TLS files inside the container (from a `kubernetes.io/tls` Secret with `ca.crt`). */
export interface RedisTlsFiles {
  /** Folder the Secret is mounted at. */
  readonly dir: string;
  /** Require client certificates. @default false (clients authenticate with ACL passwords over TLS) */
  readonly authClients?: boolean;
}

/** Everything `redis.conf` is rendered from. */
export interface RedisServerConfig {
  /** Port clients and replicas connect to (plain or TLS). */
  readonly port: number;
  /** Data folder (the persistent volume). */
  readonly dir: string;
  /** Memory ceiling in bytes. */
  readonly maxmemoryBytes: number;
  /** Eviction policy. */
  readonly maxmemoryPolicy: EvictionPolicy;
  /** Persistence settings. */
  readonly persistence?: RedisPersistence;
  /** Writes are refused unless this many replicas are connected (0 turns the check off). */
  readonly minReplicasToWrite: number;
  /** A replica counts as connected when it acknowledged within this many seconds. @default 10 */
  readonly minReplicasMaxLag?: number;
  /** TLS on the client and replication port. @default off */
  readonly tls?: RedisTlsFiles;
}

/** Sentinel settings that decide when and how a failover happens. */
export interface SentinelSettings {
  /** Sentinels that must agree a master is down before a failover starts. */
  readonly quorum: number;
  /** Milliseconds without a valid reply before a sentinel considers an instance down. @default 5000 */
  readonly downAfterMilliseconds?: number;
  /** Milliseconds a failover may take before another sentinel retries it. @default 60000 */
  readonly failoverTimeoutMilliseconds?: number;
  /** Replicas reconfigured to the new master at the same time. @default 1 */
  readonly parallelSyncs?: number;
}

/** Everything `sentinel.conf` is rendered from. */
export interface SentinelConfig extends SentinelSettings {
  /** Port sentinels listen on. */
  readonly port: number;
  /** Name of the monitored master (what clients ask sentinels for). */
  readonly masterName: string;
  /** Host of the master at first start (the start script replaces it with what peer sentinels know). */
  readonly masterHost: string;
  /** Redis port of the master. */
  readonly masterPort: number;
  /** ACL user the sentinels authenticate to Redis as (its password is added at start, never here). */
  readonly authUser: string;
  /** TLS towards Redis and on the sentinel port. @default off */
  readonly tls?: RedisTlsFiles;
}

/** Redis's defaults, kept explicit so that the file says what it does. */
export const DEFAULT_SAVE_POINTS: ReadonlyArray<SavePoint> = [
  { seconds: 3600, changes: 1 },
  { seconds: 300, changes: 100 },
  { seconds: 60, changes: 10000 },
];

function tlsLines(tls: RedisTlsFiles): string[] {
  return [
    `tls-cert-file ${tls.dir}/tls.crt`,
    `tls-key-file ${tls.dir}/tls.key`,
    `tls-ca-cert-file ${tls.dir}/ca.crt`,
    `tls-auth-clients ${tls.authClients ? "yes" : "no"}`,
    "tls-replication yes",
  ];
}

/** Problems with a server config (empty when it is valid). */
export function redisConfigProblems(c: RedisServerConfig): string[] {
  const problems: string[] = [];
  const save = c.persistence?.savePoints ?? DEFAULT_SAVE_POINTS;
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) problems.push(`port must be 1-65535 (got ${c.port})`);
  if (!Number.isInteger(c.maxmemoryBytes) || c.maxmemoryBytes < 1024 * 1024) problems.push(`maxmemory must be at least 1Mi (got ${c.maxmemoryBytes} bytes)`);
  if (!EVICTION_POLICIES.includes(c.maxmemoryPolicy)) problems.push(`maxmemoryPolicy must be one of ${EVICTION_POLICIES.join(", ")} (got ${JSON.stringify(c.maxmemoryPolicy)})`);
  if (save.length === 0) problems.push("persistence.savePoints must name at least one save point (RDB snapshots are part of the backup story)");
  for (const p of save) {
    if (!Number.isInteger(p.seconds) || p.seconds < 1 || !Number.isInteger(p.changes) || p.changes < 1) problems.push(`save point ${JSON.stringify(p)} needs integer seconds >= 1 and changes >= 1`);
  }
  if (!Number.isInteger(c.minReplicasToWrite) || c.minReplicasToWrite < 0) problems.push(`minReplicasToWrite must be an integer >= 0 (got ${c.minReplicasToWrite})`);
  return problems;
}

/**
 * `redis.conf`: persistence (RDB + AOF), memory, replication safety and TLS. It carries no password and no
 * `replicaof`: the start script adds the ACL users (password hashes from the Secret) and the replication source.
 */
export function renderRedisConf(c: RedisServerConfig): string {
  const problems = redisConfigProblems(c);
  if (problems.length) throw new Error(`redis.conf: ${problems.join("; ")}`);
  const save = c.persistence?.savePoints ?? DEFAULT_SAVE_POINTS;
  const lines = [
    "# Generated by Stratum (components/redis). No passwords here: the start script appends the ACL users.",
    "bind * -::*",
    "protected-mode yes",
    ...(c.tls ? ["port 0", `tls-port ${c.port}`, ...tlsLines(c.tls)] : [`port ${c.port}`]),
    "tcp-keepalive 60",
    "timeout 0",
    "loglevel notice",
    'logfile ""',
    "databases 16",
    `dir ${c.dir}`,
    "",
    "# RDB snapshots",
    `save ${save.map((p) => `${p.seconds} ${p.changes}`).join(" ")}`,
    "dbfilename dump.rdb",
    "rdbcompression yes",
    "rdbchecksum yes",
    "stop-writes-on-bgsave-error yes",
    "",
    "# Append-only file",
    "appendonly yes",
    'appendfilename "appendonly.aof"',
    'appenddirname "appendonlydir"',
    `appendfsync ${c.persistence?.appendfsync ?? "everysec"}`,
    "no-appendfsync-on-rewrite no",
    "auto-aof-rewrite-percentage 100",
    "auto-aof-rewrite-min-size 64mb",
    "aof-load-truncated yes",
    "aof-use-rdb-preamble yes",
    "",
    "# Memory",
    `maxmemory ${c.maxmemoryBytes}`,
    `maxmemory-policy ${c.maxmemoryPolicy}`,
    "",
    "# Replication",
    "replica-read-only yes",
    "replica-serve-stale-data yes",
    "repl-diskless-sync yes",
    "repl-backlog-size 16mb",
    `min-replicas-to-write ${c.minReplicasToWrite}`,
    `min-replicas-max-lag ${c.minReplicasMaxLag ?? 10}`,
    "",
  ];
  return lines.join("\n");
}

/** Problems with a sentinel config (empty when it is valid). */
export function sentinelConfigProblems(c: SentinelSettings & { readonly masterName?: string }, sentinels?: number): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(c.quorum) || c.quorum < 1) problems.push(`sentinel quorum must be an integer >= 1 (got ${c.quorum})`);
  if (sentinels !== undefined && c.quorum > sentinels) problems.push(`sentinel quorum ${c.quorum} exceeds the ${sentinels} sentinel(s); a failover could never be agreed`);
  const down = c.downAfterMilliseconds ?? 5000;
  const failover = c.failoverTimeoutMilliseconds ?? 60000;
  if (!Number.isInteger(down) || down < 100) problems.push(`downAfterMilliseconds must be an integer >= 100 (got ${down})`);
  if (!Number.isInteger(failover) || failover < 1000) problems.push(`failoverTimeoutMilliseconds must be an integer >= 1000 (got ${failover})`);
  if (Number.isInteger(down) && Number.isInteger(failover) && failover <= down) problems.push(`failoverTimeoutMilliseconds (${failover}) must exceed downAfterMilliseconds (${down})`);
  const ps = c.parallelSyncs ?? 1;
  if (!Number.isInteger(ps) || ps < 1) problems.push(`parallelSyncs must be an integer >= 1 (got ${ps})`);
  if (c.masterName !== undefined && !/^[A-Za-z0-9._-]+$/.test(c.masterName)) problems.push(`masterName must use [A-Za-z0-9._-] (got ${JSON.stringify(c.masterName)})`);
  return problems;
}

/**
 * `sentinel.conf`: the monitored master and the failover timing. Sentinel rewrites its file at run time, so the
 * start script copies this one to a writable volume and appends the passwords there.
 */
export function renderSentinelConf(c: SentinelConfig): string {
  const problems = sentinelConfigProblems(c);
  if (problems.length) throw new Error(`sentinel.conf: ${problems.join("; ")}`);
  const m = c.masterName;
  const lines = [
    "# Generated by Stratum (components/redis). No passwords here: the start script appends them.",
    "bind * -::*",
    "protected-mode no",
    ...(c.tls ? ["port 0", `tls-port ${c.port}`, ...tlsLines(c.tls)] : [`port ${c.port}`]),
    'logfile ""',
    "dir /tmp",
    "sentinel resolve-hostnames yes",
    "sentinel announce-hostnames yes",
    `sentinel monitor ${m} ${c.masterHost} ${c.masterPort} ${c.quorum}`,
    `sentinel down-after-milliseconds ${m} ${c.downAfterMilliseconds ?? 5000}`,
    `sentinel failover-timeout ${m} ${c.failoverTimeoutMilliseconds ?? 60000}`,
    `sentinel parallel-syncs ${m} ${c.parallelSyncs ?? 1}`,
    `sentinel auth-user ${m} ${c.authUser}`,
    "",
  ];
  return lines.join("\n");
}
