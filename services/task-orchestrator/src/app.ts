import * as http from "node:http";
import { AddressInfo } from "node:net";
import { S3Client } from "@aws-sdk/client-s3";
import { Pool } from "pg";
import { createApiHandler } from "./api";
import { Config } from "./config";
import { migrate } from "./db";
import { EventRelay } from "./events";
import { builtinHandlers } from "./handlers";
import { jsonLogger, Logger } from "./logger";
import { Metrics } from "./metrics";
import { ObjectStorage } from "./storage";
import { TaskStore } from "./store";
import { TaskType } from "./task-types";
import { TaskHandler, Worker } from "./worker";
import { poolTimeoutOptions } from "../../shared/pg-pool";

/** Extra wiring, mostly for tests and embedders. */
export interface AppOptions {
  /** Handlers that replace the built-in ones, by type. */
  readonly handlers?: Partial<Record<TaskType, TaskHandler>>;
  readonly log?: Logger;
  readonly s3Client?: S3Client;
  /** Worker id (lease owner). @default hostname + random */
  readonly workerId?: string;
  /** Register Node's default process metrics. @default true */
  readonly defaultMetrics?: boolean;
}

/** The orchestrator: API server, metrics server, workers and the event relay over one pool. */
export class App {
  readonly pool: Pool;
  readonly store: TaskStore;
  readonly metrics: Metrics;
  readonly storage?: ObjectStorage;
  readonly worker?: Worker;
  readonly relay: EventRelay;
  readonly server: http.Server;
  readonly metricsServer: http.Server;
  readonly log: Logger;
  private ready = false;
  private stopping?: Promise<void>;

  constructor(readonly config: Config, options: AppOptions = {}) {
    this.log = options.log ?? jsonLogger("task-orchestrator", config.logging.silent);
    const db = config.database;
    this.pool = new Pool({ connectionString: db.url, max: db.poolSize, idleTimeoutMillis: 30000, ...poolTimeoutOptions(db) });
    this.pool.on("error", (e) => this.log.error("idle database connection failed", { error: String(e) }));
    let metrics: Metrics | undefined;
    this.store = new TaskStore(this.pool, {
      retry: config.retry,
      defaultMaxRetries: config.retry.maxRetries,
      events: config.events.enabled,
      onTransition: (t, from, to) => metrics?.observe(t, from, to),
    });
    this.metrics = metrics = new Metrics(this.store, { defaults: options.defaultMetrics });
    if (config.storage.bucket) {
      this.storage = new ObjectStorage(
        {
          bucket: config.storage.bucket, region: config.storage.region, endpoint: config.storage.endpoint, partSizeBytes: config.storage.partSizeBytes,
          queueSize: config.storage.queueSize, connectTimeoutMs: config.storage.connectTimeoutMs, requestTimeoutMs: config.storage.requestTimeoutMs,
          socketTimeoutMs: config.storage.socketTimeoutMs,
        },
        options.s3Client,
      );
    }
    if (config.worker.enabled) {
      const w = config.worker;
      this.worker = new Worker(
        this.store,
        { ...builtinHandlers({ store: this.store, storage: this.storage }), ...options.handlers },
        {
          id: options.workerId, concurrency: w.concurrency, leaseMs: w.leaseSeconds * 1000, heartbeatMs: w.heartbeatSeconds * 1000,
          pollMs: w.pollMs, reclaimMs: w.reclaimSeconds * 1000, progressIntervalMs: w.progressIntervalMs,
        },
        this.log,
      );
    }
    this.relay = new EventRelay(this.pool, config.events, this.log, this.metrics);
    const api = config.api.enabled
      ? createApiHandler({ config, store: this.store, storage: this.storage, metrics: this.metrics, log: this.log, isReady: () => this.ready })
      : (req: http.IncomingMessage, res: http.ServerResponse) => {
          const ok = req.url === "/healthz" || (req.url === "/readyz" && this.ready);
          res.writeHead(ok ? 200 : req.url === "/readyz" ? 503 : 404, { "content-type": "application/json" }).end(JSON.stringify({ status: ok ? "ok" : "unavailable" }));
        };
    this.server = http.createServer({ requestTimeout: config.http.requestTimeoutMs, headersTimeout: 30000, keepAliveTimeout: 5000 }, api);
    this.metricsServer = http.createServer((req, res) => {
      if (req.url !== "/metrics") { res.writeHead(404).end(); return; }
      this.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.metrics.registry.contentType }).end(text),
        (e) => res.writeHead(500).end(String(e)),
      );
    });
  }

  /**
   * Migrates the schema, then listens and starts the worker and the relay. A failure (database unreachable, port in
   * use) rejects after closing what was opened, so the caller can report it and exit.
   */
  async start(): Promise<void> {
    try {
      await migrate(this.pool);
      await listen(this.server, this.config.http.port, this.config.http.host);
      await listen(this.metricsServer, this.config.metrics.port, this.config.http.host);
    } catch (e) {
      await this.close();
      throw e;
    }
    for (const server of [this.server, this.metricsServer]) server.on("error", (e) => this.log.error("server error", { error: String(e) }));
    this.worker?.start();
    this.relay.start();
    this.ready = true;
    this.log.info("started", { port: this.port, metricsPort: this.metricsPort, worker: this.worker?.id ?? null, api: this.config.api.enabled });
  }

  /** The API port (after start). */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The metrics port (after start). */
  get metricsPort(): number {
    return (this.metricsServer.address() as AddressInfo).port;
  }

  /** Drains: not ready, stop taking requests and tasks, let running tasks finish (bounded), flush events, close. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false;
      // keep serving while the endpoints controller takes the pod out of its Services
      const delay = this.config.shutdown.delaySeconds * 1000;
      if (delay > 0) {
        this.log.info("not ready; waiting before draining", { delaySeconds: this.config.shutdown.delaySeconds });
        await new Promise((r) => setTimeout(r, delay));
      }
      this.log.info("draining", { drainSeconds: this.config.shutdown.drainSeconds });
      const closed = new Promise<void>((r) => this.server.close(() => r()));
      this.server.closeIdleConnections();
      await this.worker?.stop(this.config.shutdown.drainSeconds * 1000);
      await this.relay.stop();
      if (this.config.events.enabled) await this.relay.deliverBatch(1000).catch(() => undefined);
      const timer = setTimeout(() => this.server.closeAllConnections(), Math.max(1000, this.config.shutdown.drainSeconds * 1000)).unref();
      await closed;
      clearTimeout(timer);
      await this.close();
      this.log.info("stopped");
    })();
    return this.stopping;
  }

  private async close(): Promise<void> {
    this.server.closeAllConnections();
    await Promise.all([this.server, this.metricsServer].map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()))));
    this.storage?.client.destroy();
    await this.pool.end();
  }
}

/** Listens, rejecting on the server's 'error' (EADDRINUSE, EACCES) instead of leaving it unhandled. */
function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
