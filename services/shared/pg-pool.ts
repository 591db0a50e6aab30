/** Timeouts of a service's PostgreSQL connections, as both the event processor and the task orchestrator configure them. */
export interface DatabaseTimeouts {
  /** Longest wait for a connection (a free one from the pool, or a new one), ms. */
  readonly connectTimeoutMs: number;
  /** PostgreSQL cancels a statement that runs longer, ms. */
  readonly statementTimeoutMs: number;
  /** The client gives up on a query whose answer does not come, even from a server that stopped answering, ms. */
  readonly queryTimeoutMs: number;
  /** Idle time before TCP keep-alive probes notice a peer that is gone, ms. */
  readonly keepAliveDelayMs: number;
}

/**
 * node-postgres Pool options for the timeouts: statement_timeout lets the server cancel a slow statement; query_timeout
 * (longer) also fails a query when the server stops answering altogether; keep-alive notices a peer that is gone while
 * a connection idles.
 */
export function poolTimeoutOptions(t: DatabaseTimeouts) {
  return {
    connectionTimeoutMillis: t.connectTimeoutMs,
    statement_timeout: t.statementTimeoutMs,
    query_timeout: t.queryTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: t.keepAliveDelayMs,
  };
}
