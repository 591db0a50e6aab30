/** How PgBouncer shares server connections: per session, or per transaction (most connections saved). */
export type PoolMode = "session" | "transaction";

/** PgBouncer pool settings, typed; rendered into the Pooler's `pgbouncer` stanza (and, in tests, a pgbouncer.ini). */
export interface PgBouncerSettings {
  /** Pool mode. @default "transaction" */
  readonly poolMode?: PoolMode;
  /** Server connections per user/database pair. @default the environment's `pooler.defaultPoolSize` */
  readonly defaultPoolSize?: number;
  /** Server connections kept open even when idle. @default 0 */
  readonly minPoolSize?: number;
  /** Extra server connections a pool may open when clients wait. @default 5 */
  readonly reservePoolSize?: number;
  /** Seconds a client waits before the reserve pool is used. @default 3 */
  readonly reservePoolTimeoutSeconds?: number;
  /** Client connections accepted. @default the environment's `pooler.maxClientConnections` */
  readonly maxClientConnections?: number;
  /** Server connections per database across pools; 0 is unlimited. @default 0 */
  readonly maxDbConnections?: number;
  /** Seconds after which an idle server connection is closed. @default 600 */
  readonly serverIdleTimeoutSeconds?: number;
  /** Seconds a client may wait for a server connection before it is told so. @default 120 */
  readonly queryWaitTimeoutSeconds?: number;
}

/** The resolved settings: pool mode and PgBouncer parameters by their pgbouncer.ini names. */
export interface RenderedPgBouncer {
  readonly poolMode: PoolMode;
  readonly parameters: Readonly<Record<string, string>>;
}

/** Server connections one pool may hold at most (its size plus the reserve). */
export function serverConnectionsPerPool(r: RenderedPgBouncer): number {
  return Number(r.parameters.default_pool_size) + Number(r.parameters.reserve_pool_size);
}

/** Resolves defaults and checks ranges; problems name the field and the value. */
export function renderPgBouncer(s: PgBouncerSettings, defaults: { defaultPoolSize: number; maxClientConnections: number }): RenderedPgBouncer {
  const v = {
    default_pool_size: s.defaultPoolSize ?? defaults.defaultPoolSize,
    min_pool_size: s.minPoolSize ?? 0,
    reserve_pool_size: s.reservePoolSize ?? 5,
    reserve_pool_timeout: s.reservePoolTimeoutSeconds ?? 3,
    max_client_conn: s.maxClientConnections ?? defaults.maxClientConnections,
    max_db_connections: s.maxDbConnections ?? 0,
    server_idle_timeout: s.serverIdleTimeoutSeconds ?? 600,
    query_wait_timeout: s.queryWaitTimeoutSeconds ?? 120,
  };
  const problems: string[] = [];
  const fields: Record<keyof typeof v, string> = {
    default_pool_size: "defaultPoolSize", min_pool_size: "minPoolSize", reserve_pool_size: "reservePoolSize",
    reserve_pool_timeout: "reservePoolTimeoutSeconds", max_client_conn: "maxClientConnections", max_db_connections: "maxDbConnections",
    server_idle_timeout: "serverIdleTimeoutSeconds", query_wait_timeout: "queryWaitTimeoutSeconds",
  };
  for (const [key, value] of Object.entries(v) as Array<[keyof typeof v, number]>) {
    if (!Number.isInteger(value) || value < 0) problems.push(`${fields[key]} must be an integer >= 0 (got ${value})`);
  }
  if (v.default_pool_size < 1) problems.push(`defaultPoolSize must be >= 1 (got ${v.default_pool_size})`);
  if (v.min_pool_size > v.default_pool_size) problems.push(`minPoolSize (${v.min_pool_size}) must not exceed defaultPoolSize (${v.default_pool_size})`);
  if (v.max_client_conn < v.default_pool_size) problems.push(`maxClientConnections (${v.max_client_conn}) must be at least defaultPoolSize (${v.default_pool_size})`);
  const poolMode = s.poolMode ?? "transaction";
  if (poolMode !== "session" && poolMode !== "transaction") problems.push(`poolMode must be session or transaction (got ${JSON.stringify(poolMode)})`);
  if (problems.length) throw new Error(`pgbouncer: ${problems.join("; ")}`);
  return { poolMode, parameters: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) };
}
