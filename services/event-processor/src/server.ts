import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "pg";
import { Catalog } from "./catalog";
import type { ProcessorConfig } from "./config";
import { DaprPublisher } from "./dapr";
import type { Logger } from "./log";
import { ProcessorMetrics } from "./metrics";
import { EventProcessor } from "./processor";
import { EventStore } from "./store";

/** A running event processor: its ports, metrics and shutdown. */
export interface RunningProcessor {
  /** The app port Dapr delivers to. */
  readonly port: number;
  /** The metrics port. */
  readonly metricsPort: number;
  /** The processing core (metrics, catalog). */
  readonly processor: EventProcessor;
  /** Stops accepting, waits for in-flight deliveries (at most `drainSeconds`), closes the pool. */
  stop(): Promise<void>;
}

const TRACE_HEADERS = ["traceparent", "tracestate"];

type Body = Buffer | { oversized: number };

/** Reads a body up to `limit` bytes; beyond that it keeps discarding and reports the size only. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else chunks.length = 0;
    });
    req.on("end", () => resolve(size <= limit ? Buffer.concat(chunks) : { oversized: size }));
    req.on("error", reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function parseTime(value: string | null, name: string, errors: string[]): Date | undefined {
  if (value === null || value === "") return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) errors.push(`${name} must be an ISO 8601 timestamp (got ${JSON.stringify(value.slice(0, 64))})`);
  return d;
}

/** Starts the processor: migrates the store, compiles the catalog, and serves Dapr deliveries and metrics. */
export async function startProcessor(config: ProcessorConfig, log: Logger, catalog: Catalog = Catalog.fromFile(config.catalogFile)): Promise<RunningProcessor> {
  const pool = new Pool({ connectionString: config.databaseUrl, max: config.poolSize, connectionTimeoutMillis: 5000 });
  pool.on("error", (e) => log.log("warn", "idle database connection failed", { error: e.message }));
  const store = new EventStore(pool);
  try {
    const applied = await store.migrate();
    if (applied.length) log.log("info", "event store migrated", { versions: applied });
  } catch (e) {
    await pool.end();
    throw new Error(`event store migration failed: ${(e as Error).message}`);
  }
  const metrics = new ProcessorMetrics(catalog.events.map((e) => e.type));
  const dapr = new DaprPublisher(config.dapr.host, config.dapr.httpPort, config.pubsubName, config.dapr.timeoutMs);
  const processor = new EventProcessor(catalog, store, dapr, metrics, log, {
    maxDeadLetterEventBytes: config.limits.maxDeadLetterEventBytes,
    // half of the pool for grouped single deliveries leaves connections for bulk deliveries, replay and probes
    groupCommit: { maxEvents: 100, maxConcurrent: Math.max(1, Math.floor(config.poolSize / 2)) },
  });
  const limits = config.limits;
  let inFlight = 0;
  let bulkInFlight = 0;
  const maxBulkInFlight = Math.max(1, Math.floor(limits.maxInFlight / 8));
  let draining = false;

  const subscriptions = catalog.events.flatMap((e) => [
    { pubsubname: config.pubsubName, topic: e.topic, route: `/events/${e.type}`, deadLetterTopic: e.deadLetterTopic },
  ]);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (req.method === "GET" && path === "/healthz") return send(res, 200, { status: "ok" });
    if (req.method === "GET" && path === "/readyz") {
      const ok = !draining && (await store.ping());
      return send(res, ok ? 200 : 503, { status: ok ? "ready" : draining ? "draining" : "database unavailable" });
    }
    if (req.method === "GET" && path === "/dapr/subscribe") return send(res, 200, config.programmaticSubscriptions ? subscriptions : []);
    if (req.method === "GET" && path === "/replay") return replay(url, res);
    if (req.method === "POST" && path === "/replay") return republish(url, req, res);
    const m = /^\/(events|bulk)\/([^/]+)$/.exec(path);
    if (!m) return send(res, 404, { error: `no route ${req.method} ${path.slice(0, 200)}` });
    if (req.method !== "POST") return send(res, 405, { error: `${path} accepts POST only` }, { allow: "POST" });
    const route = catalog.get(decodeURIComponent(m[2]));
    // 404 tells Dapr the app has no such subscription; it logs and drops rather than retrying forever
    if (!route) return send(res, 404, { error: `no catalog event type '${decodeURIComponent(m[2]).slice(0, 200)}'` });
    const bulk = m[1] === "bulk";
    if (draining || inFlight >= limits.maxInFlight || (bulk && bulkInFlight >= maxBulkInFlight)) {
      req.resume();
      return send(res, 503, { error: draining ? "draining" : "too many deliveries in flight" }, { "retry-after": "1" });
    }
    inFlight++;
    if (bulk) bulkInFlight++;
    const started = process.hrtime.bigint();
    try {
      const headers: Record<string, string> = {};
      for (const h of TRACE_HEADERS) if (typeof req.headers[h] === "string") headers[h] = req.headers[h] as string;
      if (!bulk) {
        const body = await readBody(req, limits.maxBodyBytes);
        const status = await processor.single(route, body, headers);
        send(res, 200, { status });
      } else {
        const body = await readBody(req, limits.maxBulkBodyBytes);
        if (!Buffer.isBuffer(body)) return send(res, 413, { error: `bulk delivery is ${body.oversized} bytes, over the limit of ${limits.maxBulkBodyBytes}` });
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString("utf8"));
        } catch (e) {
          return send(res, 400, { error: "bulk delivery is not valid JSON", details: [{ field: "(body)", message: (e as Error).message.slice(0, 200) }] });
        }
        const result = await processor.bulk(route, parsed, limits.maxBulkEntries, headers);
        if ("error" in result) send(res, 400, { error: "not a bulk delivery", details: result.error });
        else send(res, 200, result);
      }
    } finally {
      inFlight--;
      if (bulk) bulkInFlight--;
      metrics.handleSeconds.observe({ mode: bulk ? "bulk" : "single" }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** Parses a replay query; returns the query or the list of problems. */
  function replayQuery(q: URLSearchParams): { type: string; from?: Date; to?: Date; after: number; limit: number } | { errors: string[] } {
    const errors: string[] = [];
    const type = q.get("type") ?? "";
    if (!catalog.get(type)) errors.push(`type must be a catalog event type (${catalog.events.map((e) => e.type).join(", ")}); got ${JSON.stringify(type.slice(0, 100))}`);
    const from = parseTime(q.get("from"), "from", errors);
    const to = parseTime(q.get("to"), "to", errors);
    if (from && to && from >= to) errors.push("from must be before to");
    const after = q.get("after") === null ? 0 : Number(q.get("after"));
    if (!Number.isSafeInteger(after) || after < 0) errors.push(`after must be a non-negative integer (got ${JSON.stringify(q.get("after"))})`);
    const limit = q.get("limit") === null ? Math.min(100, limits.maxReplayPage) : Number(q.get("limit"));
    if (!Number.isInteger(limit) || limit < 1 || limit > limits.maxReplayPage) errors.push(`limit must be an integer 1-${limits.maxReplayPage} (got ${JSON.stringify(q.get("limit"))})`);
    return errors.length ? { errors } : { type, from, to, after, limit };
  }

  async function replay(url: URL, res: http.ServerResponse): Promise<void> {
    const q = replayQuery(url.searchParams);
    if ("errors" in q) return send(res, 400, { error: "bad replay query", details: q.errors });
    const page = await store.replay(q);
    metrics.replayed.inc({ type: q.type }, page.events.length);
    send(res, 200, page);
  }

  /**
   * Publishes one page of stored events again to the type's validated topic (consumers deduplicate on source and
   * id); the answer carries the cursor of the next page, so an operator replays a range page by page.
   */
  async function republish(url: URL, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.resume();
    const q = replayQuery(url.searchParams);
    if ("errors" in q) return send(res, 400, { error: "bad replay query", details: q.errors });
    const page = await store.replay(q);
    const route = catalog.get(q.type)!;
    try {
      await dapr.publishBulk(route.validTopic, page.events.map((e) => ({ entryId: String(e.seq), event: e.event, contentType: "application/cloudevents+json" })));
    } catch (e) {
      return send(res, 502, { error: `publishing the replay failed: ${(e as Error).message}` });
    }
    metrics.replayed.inc({ type: q.type }, page.events.length);
    log.log("info", "events replayed", { type: q.type, count: page.events.length, topic: route.validTopic });
    send(res, 200, { republished: page.events.length, topic: route.validTopic, next: page.next });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      log.log("error", "request failed", { error: (e as Error).message, path: req.url?.slice(0, 200) });
      if (!res.headersSent) send(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 65_000;
  server.maxHeadersCount = 100;

  const metricsServer = http.createServer((req, res) => {
    if (req.url === "/metrics" && req.method === "GET") {
      metrics.registry.metrics().then(
        (text) => { res.writeHead(200, { "content-type": metrics.registry.contentType }); res.end(text); },
        (e) => send(res, 500, { error: (e as Error).message }),
      );
    } else send(res, 404, { error: "see /metrics" });
  });

  const listen = (s: http.Server, port: number) => new Promise<number>((resolve, reject) => {
    s.once("error", reject);
    s.listen(port, config.host, () => resolve((s.address() as AddressInfo).port));
  });
  let port: number;
  let metricsPort: number;
  try {
    port = await listen(server, config.port);
    metricsPort = await listen(metricsServer, config.metricsPort);
  } catch (e) {
    server.close(); metricsServer.close(); dapr.close(); await pool.end();
    throw e;
  }
  log.log("info", "event processor listening", { port, metricsPort, types: catalog.events.map((e) => e.type), dapr: `${config.dapr.host}:${config.dapr.httpPort}` });

  let stopping: Promise<void> | undefined;
  return {
    port,
    metricsPort,
    processor,
    stop() {
      stopping ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = Date.now() + config.drainSeconds * 1000;
        while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        server.closeAllConnections();
        await closed;
        await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
        metricsServer.closeAllConnections();
        dapr.close();
        await pool.end();
        log.log("info", "event processor stopped", { metrics: metrics.snapshot() });
      })();
      return stopping;
    },
  };
}
