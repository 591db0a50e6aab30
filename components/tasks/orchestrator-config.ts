import { ConfigFileError, parseConfig } from "../../services/task-orchestrator/src/config";

/** What the component decides about the orchestrator's runtime configuration. */
export interface OrchestratorSettings {
  /** API port. */
  readonly port: number;
  /** Metrics port. */
  readonly metricsPort: number;
  /** Tasks one replica runs at the same time. */
  readonly workerConcurrency: number;
  /** Largest upload, bytes. */
  readonly maxUploadBytes: number;
  /** Seconds a worker's lease lasts without a heartbeat; a killed worker's task is retried after this. */
  readonly leaseSeconds: number;
  /** Retries of a failed task and the first backoff delay. */
  readonly maxRetries: number;
  readonly retryBaseDelayMs: number;
  /** The Dapr pub/sub component the status events go through. */
  readonly pubsubName: string;
  /** Seconds a stopping pod keeps serving while answering /readyz 503, so that Services drop it first. */
  readonly shutdownDelaySeconds: number;
  /** Seconds a stopping pod lets running tasks finish. */
  readonly drainSeconds: number;
}

/**
 * The orchestrator's config file (`config.json`), from the component's settings. Connection details are not in it:
 * the pod receives POSTGRES_* and S3_* from the service graph, and DAPR_HTTP_PORT from the Dapr injector. The file is
 * checked with the very schema the service validates at start-up, so a bad value fails the synth, not the rollout.
 */
export function orchestratorConfig(s: OrchestratorSettings, owner: string): Record<string, unknown> {
  const config = {
    http: { host: "0.0.0.0", port: s.port, maxBodyBytes: 1024 * 1024, requestTimeoutMs: 15 * 60 * 1000 },
    metrics: { port: s.metricsPort },
    database: { poolSize: Math.min(200, s.workerConcurrency + 6) },
    storage: { maxUploadBytes: s.maxUploadBytes },
    worker: {
      concurrency: s.workerConcurrency,
      leaseSeconds: s.leaseSeconds,
      heartbeatSeconds: Math.max(1, Math.floor(s.leaseSeconds / 3)),
      reclaimSeconds: Math.max(1, Math.floor(s.leaseSeconds / 6)),
    },
    retry: { maxRetries: s.maxRetries, baseDelayMs: s.retryBaseDelayMs },
    events: { enabled: "auto", pubsub: s.pubsubName },
    shutdown: { delaySeconds: s.shutdownDelaySeconds, drainSeconds: s.drainSeconds },
  };
  try {
    // the database URL comes from the environment at run time; a placeholder stands in for the check
    parseConfig(config, { DATABASE_URL: "postgres://synth@localhost/synth" }, `${owner}: config.json`);
  } catch (e) {
    if (e instanceof ConfigFileError) throw new Error(e.message);
    throw e;
  }
  return config;
}
