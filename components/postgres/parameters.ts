import { isByteQuantity, quantityBytes } from "../../constructs/quantity";
import type { Resources } from "../../stacks/environments/environment";

/**
 * PostgreSQL settings Stratum sizes and types. Every field is optional: the default is derived from the instance's
 * memory limit and WAL volume, so one Environment entry sizes both the pod and the server.
 */
export interface PostgresParameters {
  /** Connections the server accepts. @default memory limit in MiB / 16, between 100 and 1000 (PgBouncer multiplexes clients) */
  readonly maxConnections?: number;
  /** Shared buffer cache, in MiB. @default a quarter of the memory limit */
  readonly sharedBuffersMb?: number;
  /** The planner's estimate of cache available, in MiB. @default three quarters of the memory limit */
  readonly effectiveCacheSizeMb?: number;
  /** Memory of one sort or hash, in MiB. @default memory limit / 256, at least 4 */
  readonly workMemMb?: number;
  /** Memory of maintenance (VACUUM, CREATE INDEX), in MiB. @default memory limit / 16, between 16 and 2048 */
  readonly maintenanceWorkMemMb?: number;
  /** WAL that triggers a checkpoint, in MiB. @default a quarter of the WAL volume */
  readonly maxWalSizeMb?: number;
  /** WAL kept for reuse, in MiB. @default a quarter of `maxWalSizeMb`, at least 80 */
  readonly minWalSizeMb?: number;
  /** Spread of checkpoint writes over the interval. @default 0.9 */
  readonly checkpointCompletionTarget?: number;
  /** Relative cost of a random page read (SSD volumes). @default 1.1 */
  readonly randomPageCost?: number;
  /** Concurrent I/O the volumes sustain. @default 200 */
  readonly effectiveIoConcurrency?: number;
  /** Log statements slower than this, in milliseconds; -1 disables. @default 1000 */
  readonly logMinDurationStatementMs?: number;
  /** End sessions idle inside a transaction after this many minutes; 0 disables. @default 10 */
  readonly idleInTransactionSessionTimeoutMin?: number;
  /** Abort statements running longer than this many seconds; 0 disables. @default 0 */
  readonly statementTimeoutSec?: number;
  /** Compression of full-page writes in WAL (PostgreSQL 15+ names the method). @default "lz4" (fast, built into the operand images) */
  readonly walCompression?: "off" | "pglz" | "lz4" | "zstd";
  /** Other settings by their PostgreSQL name; the operator's own and Stratum's typed ones are refused here. @default none */
  readonly extra?: Readonly<Record<string, string>>;
}

/** Settings the operator manages itself (CloudNativePG rejects them) or that Stratum types above. */
const RESERVED = new Set([
  "listen_addresses", "port", "unix_socket_directories", "data_directory", "hba_file", "ident_file", "config_file",
  "archive_mode", "archive_command", "restore_command", "primary_conninfo", "primary_slot_name", "hot_standby",
  "synchronous_standby_names", "wal_level", "wal_log_hints", "full_page_writes", "ssl", "ssl_cert_file", "ssl_key_file",
  "ssl_ca_file", "log_destination", "logging_collector", "recovery_target", "recovery_target_time", "promote_trigger_file",
  "max_connections", "shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem", "max_wal_size",
  "min_wal_size", "checkpoint_completion_target", "random_page_cost", "effective_io_concurrency",
  "log_min_duration_statement", "idle_in_transaction_session_timeout", "statement_timeout", "wal_compression",
]);

/** A Kubernetes memory or storage quantity in whole MiB (`512Mi` -> 512, `8Gi` -> 8192, `2G` -> 1907). */
export function quantityToMiB(quantity: string): number {
  if (!isByteQuantity(quantity)) throw new Error(`'${quantity}' is not a memory quantity such as 512Mi or 8Gi`);
  return Math.floor(quantityBytes(quantity) / 2 ** 20);
}

/** A size in MiB the way PostgreSQL prints it back (`1024` -> `1GB`, `96` -> `96MB`), so `SHOW` matches exactly. */
export function pgMemory(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024}GB` : `${mib}MB`;
}

/** A duration in milliseconds the way PostgreSQL prints it back (`1000` -> `1s`, `1500` -> `1500ms`). */
function pgMillis(ms: number): string {
  if (ms <= 0) return String(ms);
  if (ms % 60000 === 0) return `${ms / 60000}min`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Postgres settings derived from the sizing and the typed overrides, by their PostgreSQL names. */
export function renderParameters(resources: Resources, walStorage: string, p: PostgresParameters = {}): Record<string, string> {
  const memory = quantityToMiB(resources.limits.memory);
  const wal = quantityToMiB(walStorage);
  const problems: string[] = [];
  const sharedBuffers = p.sharedBuffersMb ?? Math.floor(memory / 4);
  const maxWal = p.maxWalSizeMb ?? Math.floor(wal / 4);
  const minWal = p.minWalSizeMb ?? Math.max(80, Math.floor(maxWal / 4));
  const values = {
    maxConnections: p.maxConnections ?? Math.min(1000, Math.max(100, Math.floor(memory / 16))),
    sharedBuffers,
    effectiveCacheSize: p.effectiveCacheSizeMb ?? Math.floor((memory * 3) / 4),
    workMem: p.workMemMb ?? Math.max(4, Math.floor(memory / 256)),
    maintenanceWorkMem: p.maintenanceWorkMemMb ?? Math.min(2048, Math.max(16, Math.floor(memory / 16))),
    maxWal,
    minWal,
    checkpointCompletionTarget: p.checkpointCompletionTarget ?? 0.9,
    randomPageCost: p.randomPageCost ?? 1.1,
    effectiveIoConcurrency: p.effectiveIoConcurrency ?? 200,
    logMinDurationStatement: p.logMinDurationStatementMs ?? 1000,
    idleInTransaction: p.idleInTransactionSessionTimeoutMin ?? 10,
    statementTimeout: p.statementTimeoutSec ?? 0,
  };
  const intIn = (name: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${name} must be an integer in ${min}..${max} (got ${v})`);
  };
  intIn("maxConnections", values.maxConnections, 10, 10000);
  intIn("sharedBuffersMb", values.sharedBuffers, 16, memory);
  intIn("workMemMb", values.workMem, 1, memory);
  intIn("maintenanceWorkMemMb", values.maintenanceWorkMem, 1, memory);
  intIn("effectiveCacheSizeMb", values.effectiveCacheSize, 1, 1 << 30);
  intIn("maxWalSizeMb", values.maxWal, 64, wal);
  intIn("minWalSizeMb", values.minWal, 32, values.maxWal);
  intIn("effectiveIoConcurrency", values.effectiveIoConcurrency, 0, 1000);
  intIn("logMinDurationStatementMs", values.logMinDurationStatement, -1, 86_400_000);
  intIn("idleInTransactionSessionTimeoutMin", values.idleInTransaction, 0, 10_000);
  intIn("statementTimeoutSec", values.statementTimeout, 0, 86_400);
  if (!(values.checkpointCompletionTarget > 0 && values.checkpointCompletionTarget <= 1)) problems.push(`checkpointCompletionTarget must be in (0, 1] (got ${values.checkpointCompletionTarget})`);
  if (!(values.randomPageCost > 0 && values.randomPageCost <= 100)) problems.push(`randomPageCost must be in (0, 100] (got ${values.randomPageCost})`);
  if (values.sharedBuffers + values.maintenanceWorkMem > memory) {
    problems.push(`sharedBuffersMb + maintenanceWorkMemMb (${values.sharedBuffers + values.maintenanceWorkMem}) must fit the memory limit ${resources.limits.memory} (${memory} MiB)`);
  }
  for (const name of Object.keys(p.extra ?? {})) {
    if (RESERVED.has(name)) problems.push(`extra.${name} is managed by the operator or typed by Stratum; use the typed field or leave it to the operator`);
    else if (!/^[a-z_][a-z0-9_.]*$/.test(name)) problems.push(`extra.${name} is not a PostgreSQL setting name`);
  }
  if (problems.length) throw new Error(`postgresql parameters: ${problems.join("; ")}`);
  return {
    max_connections: String(values.maxConnections),
    shared_buffers: pgMemory(values.sharedBuffers),
    effective_cache_size: pgMemory(values.effectiveCacheSize),
    work_mem: pgMemory(values.workMem),
    maintenance_work_mem: pgMemory(values.maintenanceWorkMem),
    max_wal_size: pgMemory(values.maxWal),
    min_wal_size: pgMemory(values.minWal),
    checkpoint_completion_target: String(values.checkpointCompletionTarget),
    random_page_cost: String(values.randomPageCost),
    effective_io_concurrency: String(values.effectiveIoConcurrency),
    log_min_duration_statement: pgMillis(values.logMinDurationStatement),
    idle_in_transaction_session_timeout: pgMillis(values.idleInTransaction * 60000),
    statement_timeout: pgMillis(values.statementTimeout * 1000),
    wal_compression: p.walCompression ?? "lz4",
    ...p.extra,
  };
}
