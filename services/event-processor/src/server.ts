import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "pg";
import { acceptedBulkContentType, acceptedContentType, decodeBody } from "./body";
import { Catalog } from "./catalog";
import type { ProcessorConfig } from "./config";
import { DaprPublisher } from "./dapr";
import type { Logger } from "./log";
import { ProcessorMetrics } from "./metrics";
import { EventProcessor } from "./processor";
import { EventStore, parseCursor, ReplayQuery } from "./store";
import { poolTimeoutOptions } from "../../shared/pg-pool";
import { timestampProblem } from "../../shared/timestamp";

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
    // a client that goes away mid-body ends neither way otherwise (after 'end' this rejection is ignored)
    req.on("close", () => reject(new Error("the client closed the request before sending its body")));
  });
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function parseTime(value: string | null, name: string, errors: string[]): Date | undefined {
  if (value === null || value === "") return undefined;
  const problem = timestampProblem(value);
  if (problem) {
    errors.push(`${name} must be an RFC 3339 timestamp such as 2024-05-01T12:00:00Z; ${JSON.stringify(value.slice(0, 64))} ${problem}`);
    return undefined;
  }
  return new Date(value);
}

/** A whole number written in decimal digits only (no sign, exponent, hex or blanks), or undefined. */
function parseCount(value: string): number | undefined {
  return /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/** Resolves after `ms` (unref'd, so it never keeps the process alive), to bound a wait. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Starts the processor: migrates the store, compiles the catalog, and serves Dapr deliveries and metrics. */
export async function startProcessor(config: ProcessorConfig, log: Logger, catalog: Catalog = Catalog.fromFile(config.catalogFile)): Promise<RunningProcessor> {
  const db = config.database;
  const pool = new Pool({ connectionString: config.databaseUrl, max: config.poolSize, ...poolTimeoutOptions(db) });
  const closePool = () => Promise.race([pool.end().catch(() => undefined), delay(db.closeTimeoutMs)]);
  pool.on("error", (e) => log.log("warn", "idle database connection failed", { error: e.message }));
  const store = new EventStore(pool);
  try {
    const applied = await store.migrate();
    if (applied.length) log.log("info", "event store migrated", { versions: applied });
  } catch (e) {
    await closePool();
    throw new Error(`event store migration failed: ${(e as Error).message}`);
  }
  const metrics = new ProcessorMetrics(catalog.events.map((e) => e.type));
  const dapr = new DaprPublisher(config.dapr.host, config.dapr.httpPort, config.pubsubName, config.dapr.timeoutMs);
  const groupConcurrent = Math.max(1, Math.floor(config.poolSize / 2));
  const processor = new EventProcessor(catalog, store, dapr, metrics, log, {
    maxDeadLetterEventBytes: config.limits.maxDeadLetterEventBytes,
    maxEventBytes: config.limits.maxBodyBytes,
    // half of the pool for grouped single deliveries leaves connections for bulk deliveries, replay and probes
    groupCommit: { maxEvents: 100, maxConcurrent: groupConcurrent },
  });
  const limits = config.limits;
  let inFlight = 0;
  let bulkInFlight = 0;
  let replaysInFlight = 0;
  // each bulk delivery holds a connection while its publish runs: bulks may take the rest of the pool but one, kept
  // for replay and the readiness probe, else a slow sidecar makes them starve grouped deliveries and /readyz
  const maxBulkInFlight = Math.max(1, Math.min(Math.floor(limits.maxInFlight / 8), config.poolSize - groupConcurrent - 1));
  let draining = false;

  const subscriptions = catalog.events.flatMap((e) => [
    { pubsubname: config.pubsubName, topic: e.topic, route: `/events/${e.type}`, deadLetterTopic: e.deadLetterTopic },
  ]);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (req.method === "GET" && path === "/healthz") return send(res, 200, { status: "ok" });
    if (req.method === "GET" && path === "/readyz") {
      const ok = !draining && (await store.ping(db.readyTimeoutMs));
      return send(res, ok ? 200 : 503, { status: ok ? "ready" : draining ? "draining" : "database unavailable" });
    }
    if (req.method === "GET" && path === "/dapr/subscribe") return send(res, 200, config.programmaticSubscriptions ? subscriptions : []);
    if ((req.method === "GET" || req.method === "POST") && path === "/replay") {
      // each replay may hold a page of up to maxReplayPageBytes until a slow reader has taken it, and a connection
      // while it queries: a few at a time, the rest asked to come back
      if (replaysInFlight >= limits.maxReplaysInFlight) {
        req.resume();
        return send(res, 503, { error: `too many replays in flight (at most ${limits.maxReplaysInFlight})` }, { "retry-after": "1" });
      }
      replaysInFlight++;
      // a reader that stalls would hold the slot (and the page) for good: it is cut off
      const cutOff = setTimeout(() => res.destroy(), limits.replayAnswerTimeoutMs);
      res.once("close", () => {
        replaysInFlight--;
        clearTimeout(cutOff);
      });
      return req.method === "GET" ? replay(url, res) : republish(url, req, res);
    }
    const m = /^\/(events|bulk)\/([^/]+)$/.exec(path);
    if (!m) return send(res, 404, { error: `no route ${req.method} ${path.slice(0, 200)}` });
    if (req.method !== "POST") return send(res, 405, { error: `${path} accepts POST only` }, { allow: "POST" });
    let type: string;
    try {
      type = decodeURIComponent(m[2]);
    } catch {
      req.resume();
      return send(res, 400, { error: `the event type in ${path.slice(0, 200)} is not valid percent-encoding` });
    }
    const route = catalog.get(type);
    // 404 tells Dapr the app has no such subscription; it logs and drops rather than retrying forever
    if (!route) return send(res, 404, { error: `no catalog event type '${type.slice(0, 200)}'` });
    const bulk = m[1] === "bulk";
    // the sidecar always sends application/cloudevents+json for a single delivery; anything else is not an event
    const got = () => JSON.stringify(String(req.headers["content-type"]).slice(0, 100));
    if (!bulk && !acceptedContentType(req.headers["content-type"])) {
      req.resume();
      return send(res, 415, { error: `content-type must be application/cloudevents+json or application/json (charset utf-8); got ${got()}` });
    }
    // the sidecar sends a bulk delivery as application/json
    if (bulk && !acceptedBulkContentType(req.headers["content-type"])) {
      req.resume();
      return send(res, 415, { error: `content-type of a bulk delivery must be application/json (charset utf-8); got ${got()}` });
    }
    const busy = () => draining || inFlight >= limits.maxInFlight || (bulk && bulkInFlight >= maxBulkInFlight);
    const refuse = () => send(res, 503, { error: draining ? "draining" : "too many deliveries in flight" }, { "retry-after": "1" });
    if (busy()) {
      req.resume();
      return refuse();
    }
    // the slot is taken once the body is in: a client that trickles its body holds a socket (until requestTimeout),
    // never a slot that deliveries need
    let body: Body;
    try {
      body = await readBody(req, bulk ? limits.maxBulkBodyBytes : limits.maxBodyBytes);
    } catch {
      return void res.destroy();
    }
    if (busy()) return refuse();
    inFlight++;
    if (bulk) bulkInFlight++;
    const started = process.hrtime.bigint();
    try {
      const headers: Record<string, string> = {};
      for (const h of TRACE_HEADERS) if (typeof req.headers[h] === "string") headers[h] = req.headers[h] as string;
      if (!bulk) {
        const status = await processor.single(route, body, headers);
        send(res, 200, { status });
      } else {
        if (!Buffer.isBuffer(body)) return send(res, 413, { error: `bulk delivery is ${body.oversized} bytes, over the limit of ${limits.maxBulkBodyBytes}` });
        const decoded = decodeBody(body);
        if ("error" in decoded) return send(res, 400, { error: "bulk delivery is not valid UTF-8", details: [{ field: "(body)", message: decoded.error }] });
        let parsed: unknown;
        try {
          parsed = JSON.parse(decoded.text);
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

  /** Parses a replay query; returns the query or the list of problems, each naming its parameter. */
  function replayQuery(q: URLSearchParams): ReplayQuery | { errors: string[] } {
    const errors: string[] = [];
    for (const name of ["type", "from", "to", "after", "limit"]) if (q.getAll(name).length > 1) errors.push(`${name} must be given once`);
    const type = q.get("type") ?? "";
    if (!catalog.get(type)) errors.push(`type must be a catalog event type (${catalog.events.map((e) => e.type).join(", ")}); got ${JSON.stringify(type.slice(0, 100))}`);
    const from = parseTime(q.get("from"), "from", errors);
    const to = parseTime(q.get("to"), "to", errors);
    if (from && to && from >= to) errors.push("from must be before to");
    const afterText = q.get("after");
    const after = afterText === null ? undefined : parseCursor(afterText);
    if (afterText !== null && after === undefined) errors.push(`after must be the next cursor of a previous page (got ${JSON.stringify(afterText.slice(0, 64))})`);
    const limitText = q.get("limit");
    const limit = limitText === null ? Math.min(100, limits.maxReplayPage) : parseCount(limitText);
    if (limit === undefined || limit < 1 || limit > limits.maxReplayPage) errors.push(`limit must be an integer 1-${limits.maxReplayPage} (got ${JSON.stringify(limitText?.slice(0, 64))})`);
    return errors.length ? { errors } : { type, from, to, after, limit: limit as number, maxBytes: limits.maxReplayPageBytes };
  }

  /** A replay page, or an answer of 503 when the database fails (the caller asks again; nothing was skipped). */
  async function replayPage(q: ReplayQuery, res: http.ServerResponse): Promise<Awaited<ReturnType<EventStore["replay"]>> | undefined> {
    try {
      return await store.replay(q);
    } catch (e) {
      log.log("warn", "replay query failed", { type: q.type, error: (e as Error).message });
      send(res, 503, { error: `the event store did not answer: ${(e as Error).message.slice(0, 200)}` }, { "retry-after": "1" });
      return undefined;
    }
  }

  async function replay(url: URL, res: http.ServerResponse): Promise<void> {
    const q = replayQuery(url.searchParams);
    if ("errors" in q) return send(res, 400, { error: "bad replay query", details: q.errors });
    const page = await replayPage(q, res);
    if (!page) return;
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
    const page = await replayPage(q, res);
    if (!page) return;
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
    server.close(); metricsServer.close(); dapr.close(); await closePool();
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
        // a client still checked out (its query waiting on a frozen database) would keep pool.end waiting
        await closePool();
        log.log("info", "event processor stopped", { metrics: metrics.snapshot() });
      })();
      return stopping;
    },
  };
}
