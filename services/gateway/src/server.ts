import * as http from "node:http";
import * as https from "node:https";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import type { JWTPayload } from "jose";
import { BreakerState, CircuitBreaker } from "./breaker";
import { Route, Settings } from "./config";
import { applyTransform, bearerToken, clientIp, nextTraceparent, requestId, stripHopByHop } from "./headers";
import { claimAt } from "./claims";
import { JwtVerifier, TokenError } from "./jwt";
import { REQUEST_TIMEOUT_MS } from "./limits";
import { log } from "./log";
import { GatewayMetrics } from "./metrics";
import { LimitDecision, LimitKey, MemoryRateLimiter, RateLimiter } from "./rate-limit";
import { RedisRateLimiter } from "./redis-rate-limit";
import { forbiddenReason, matchRoute, splitTarget, upstreamPath } from "./routing";
import { UpstreamPools } from "./upstream";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** How many Host field lines a request has (raw names alternate with values). */
function hostLines(raw: ReadonlyArray<string>): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === "host") n++;
  return n;
}

/** Methods never proxied: TRACE echoes the request (cookies and tokens included) back to whoever can read it. */
const REFUSED_METHODS = new Set(["TRACE", "TRACK", "CONNECT"]);
/** Claims forwarded as headers: visible ASCII as is, anything else percent-encoded UTF-8. */
const NOT_VISIBLE_ASCII = /[^\x20-\x7e]/;

/** A refusal the gateway answers itself. */
interface Refusal {
  readonly status: number;
  readonly error: string;
  readonly message: string;
  readonly headers?: Record<string, string>;
}

/** What admission decided for a request: a refusal, or the route and caller to proxy for. */
type Admission = { refusal: Refusal; route?: Route } | { refusal?: undefined; route: Route; breaker: CircuitBreaker; payload?: JWTPayload; limit?: LimitDecision };

/** Options that tests and embedders may set. */
export interface GatewayOptions {
  /** Write one access log line per request. @default true */
  readonly accessLog?: boolean;
}

/**
 * The gateway: one HTTP server for traffic (and WebSocket upgrades), one for metrics and probes. Admission runs in
 * the order path check, route, authentication, authorisation, rate limit, circuit breaker; then the request is
 * streamed to the upstream with per-route timeout and header transforms.
 */
export class Gateway {
  readonly metrics = new GatewayMetrics(() => this.inflight);
  private readonly server: http.Server;
  private readonly metricsServer: http.Server;
  private readonly verifier?: JwtVerifier;
  private readonly limiter?: RateLimiter;
  private readonly breakers = new Map<string, CircuitBreaker>();
  /** node:http agents, for WebSocket upgrades; plain HTTP goes through `upstreams`. */
  private readonly agents = new Map<string, http.Agent>();
  private readonly upstreams = new UpstreamPools({ keepAliveTimeoutMs: 30_000 });
  private readonly upgraded = new Set<Duplex>();
  /** Upgrades still in admission or waiting for the upstream's answer: shutdown must close these too. */
  private readonly handshakes = new Set<Duplex>();
  private readonly targets = new Map<Route, { protocol: string; hostname: string; port: string | number; agent: http.Agent }>();
  private inflight = 0;
  private draining = false;
  private listening = false;
  private drained?: () => void;

  constructor(private readonly settings: Settings, private readonly options: GatewayOptions = {}) {
    if (settings.jwt) this.verifier = new JwtVerifier(settings.jwt);
    const rl = settings.rateLimit;
    if (rl.enabled) {
      this.limiter = rl.redis
        ? new RedisRateLimiter({ ...rl.redis, onFailure: throttledWarning("rate limit backend failed", 10_000) })
        : new MemoryRateLimiter(rl.maxKeys);
    }
    for (const r of settings.routes) {
      if (!this.breakers.has(r.service)) {
        const b = new CircuitBreaker(settings.breaker, (state) => this.onBreaker(r.service, state));
        this.breakers.set(r.service, b);
        this.metrics.setBreaker(r.service, "closed");
      }
      const origin = r.upstream.origin;
      if (!this.agents.has(origin)) {
        const opts = { keepAlive: true, maxFreeSockets: settings.upstreamMaxIdleSockets, scheduling: "lifo" as const };
        this.agents.set(origin, r.upstream.protocol === "https:" ? new https.Agent(opts) : new http.Agent(opts));
      }
    }
    const serverOpts: http.ServerOptions = { maxHeaderSize: settings.maxHeaderBytes, keepAliveTimeout: 65_000, headersTimeout: 20_000, requestTimeout: REQUEST_TIMEOUT_MS };
    this.server = http.createServer(serverOpts, (req, res) => this.handle(req, res));
    // Expect: 100-continue is answered only once the request is admitted, so a refused client never sends its body
    this.server.on("checkContinue", (req, res) => this.handle(req, res));
    this.server.on("upgrade", (req, socket, head) => this.handleUpgrade(req, socket, head));
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => this.clientError(err, socket));
    this.metricsServer = http.createServer({ maxHeaderSize: 8192 }, (req, res) => this.handleMetrics(req, res));
    this.metricsServer.on("clientError", (_err, socket: Duplex) => socket.destroy());
  }

  /** Starts both servers; resolves with the bound ports (0 in the settings binds a free port). */
  async start(): Promise<{ port: number; metricsPort: number }> {
    if (this.limiter instanceof RedisRateLimiter) {
      await this.limiter.ready().catch((err: Error) => log("warn", "rate limit backend not ready; continuing", { error: err.message }));
    }
    const listen = (s: http.Server, port: number) =>
      new Promise<number>((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, this.settings.host, () => resolve((s.address() as AddressInfo).port));
      });
    const port = await listen(this.server, this.settings.port);
    const metricsPort = await listen(this.metricsServer, this.settings.metricsPort);
    this.listening = true;
    if (this.verifier) {
      void this.verifier.warmUp().then((ok) => ok || log("warn", "JWKS not reachable at start-up; will retry on demand", { jwks_uri: this.settings.jwt?.jwksUri }));
    }
    log("info", "gateway listening", { port, metrics_port: metricsPort, routes: this.settings.routes.length });
    return { port, metricsPort };
  }

  /** Graceful shutdown: refuse new connections, report not ready, drain in-flight requests (bounded), then close. */
  async stop(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    if (this.settings.shutdownDelayMs > 0) {
      log("info", "not ready; still accepting while load balancers catch up", { delay_ms: this.settings.shutdownDelayMs });
      await new Promise((resolve) => setTimeout(resolve, this.settings.shutdownDelayMs));
    }
    log("info", "draining", { inflight: this.inflight });
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.settings.shutdownTimeoutMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.server.closeAllConnections();
    for (const s of [...this.upgraded, ...this.handshakes]) s.destroy();
    await closed;
    await new Promise<void>((resolve) => this.metricsServer.close(() => resolve()));
    this.metricsServer.closeAllConnections();
    for (const a of this.agents.values()) a.destroy();
    await this.upstreams.close();
    await this.limiter?.close();
    log("info", "stopped");
  }

  /** The breaker of a service (for tests and diagnostics). */
  breaker(service: string): CircuitBreaker | undefined {
    return this.breakers.get(service);
  }

  private onBreaker(service: string, state: BreakerState): void {
    this.metrics.setBreaker(service, state);
    this.metrics.breakerTransitions.inc({ upstream: service, state });
    log(state === "open" ? "warn" : "info", "circuit breaker", { upstream: service, state });
  }

  private handleMetrics(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/metrics") {
      this.metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": this.metrics.registry.contentType });
          res.end(text);
        },
        () => this.sendJson(res, 500, { error: "metrics_failed" }),
      );
    } else if (path === "/healthz" || path === "/readyz") {
      this.probe(path, res);
    } else {
      this.sendJson(res, 404, { error: "not_found" });
    }
  }

  private probe(path: string, res: http.ServerResponse): void {
    if (path === "/healthz") return this.sendJson(res, 200, { status: "ok" });
    const ready = this.listening && !this.draining;
    this.sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "draining" });
  }

  private sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
    res.end(text);
  }

  private clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    // a response already in flight on this connection must not get a second status line spliced into it
    if (!socket.writable || (err as { code?: string }).code === "ECONNRESET" || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const code = (err as { code?: string }).code;
    const status = code === "HPE_HEADER_OVERFLOW" ? 431 : code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const error = status === 431 ? "headers_too_large" : status === 408 ? "request_timeout" : "bad_request";
    this.metrics.requests.inc({ route: "none", method: "OTHER", status: String(status) });
    endSocket(socket, rawResponse(status, { error, message: status === 431 ? `request headers exceed ${this.settings.maxHeaderBytes} bytes` : "malformed HTTP request" }));
  }

  /**
   * Path, route, authentication, authorisation, rate limit and breaker, for HTTP requests and upgrades alike.
   * Synchronous when the token is cached and the limiter is in memory (the common case), so that the hot path
   * allocates no promises.
   */
  private admit(req: http.IncomingMessage, path: string | undefined): Admission | Promise<Admission> {
    if (path === undefined) return { refusal: { status: 400, error: "bad_request", message: "request target refused (absolute form, dot segments, encoded slashes or control characters)" } };
    // RFC 9112 3.2: Node keeps the first of several Host lines, while a proxy in front may have used another
    if (hostLines(req.rawHeaders) > 1) return { refusal: { status: 400, error: "bad_request", message: "more than one Host header" } };
    const route = matchRoute(this.settings.routes, path);
    if (!route) return { refusal: { status: 404, error: "not_found", message: "no route" } };
    const token = bearerToken(req.headers);
    if (!route.authRequired && !token) return this.afterAuth(req, route, undefined);
    const cached = token ? this.verifier?.cached(token) : undefined;
    if (cached) return this.afterAuth(req, route, cached);
    return this.authenticate(req, route, token);
  }

  private async authenticate(req: http.IncomingMessage, route: Route, token: string | null | undefined): Promise<Admission> {
    let payload: JWTPayload | undefined;
    try {
      if (token === undefined) throw new TokenError("missing", "bearer token required");
      if (token === null) throw new TokenError("malformed", "Authorization is not a bearer token");
      if (!this.verifier) throw new TokenError("jwks_unavailable", "authentication is not configured");
      payload = await this.verifier.verify(token);
    } catch (err) {
      const e = err instanceof TokenError ? err : new TokenError("malformed", "malformed token");
      if (!route.authRequired) return this.afterAuth(req, route, undefined);
      this.metrics.jwtFailures.inc({ reason: e.reason });
      if (e.reason === "jwks_unavailable") return { route, refusal: { status: 503, error: "auth_unavailable", message: e.message, headers: { "retry-after": "5" } } };
      const challenge = e.reason === "missing" ? 'Bearer realm="stratum"' : `Bearer realm="stratum", error="invalid_token", error_description="${e.message}"`;
      return { route, refusal: { status: 401, error: e.reason === "missing" ? "unauthenticated" : "invalid_token", message: e.message, headers: { "www-authenticate": challenge } } };
    }
    return this.afterAuth(req, route, payload);
  }

  private afterAuth(req: http.IncomingMessage, route: Route, payload: JWTPayload | undefined): Admission | Promise<Admission> {
    if (payload && route.authRequired && this.settings.jwt) {
      const why = forbiddenReason(route, payload, this.settings.jwt.rolesClaim);
      if (why) return { route, refusal: { status: 403, error: "forbidden", message: why } };
    }
    if (!this.limiter) return this.afterLimit(route, payload, undefined);
    const decision = this.limiter.take(this.limitKeys(req, route, payload));
    return decision instanceof Promise ? decision.then((d) => this.afterLimit(route, payload, d)) : this.afterLimit(route, payload, decision);
  }

  private afterLimit(route: Route, payload: JWTPayload | undefined, limit: LimitDecision | undefined): Admission {
    if (limit && !limit.allowed) {
      this.metrics.rateLimited.inc({ kind: limit.scope ?? "unknown" });
      return { route, refusal: { status: 429, error: "rate_limited", message: `rate limit exceeded (${limit.scope})`, headers: { ...limitHeaders(limit), "retry-after": String(limit.retryAfterSec) } } };
    }
    const breaker = this.breakers.get(route.service) as CircuitBreaker;
    if (!breaker.tryAcquire()) {
      const retry = Math.max(1, Math.ceil(breaker.retryAfterMs / 1000));
      return { route, refusal: { status: 503, error: "circuit_open", message: `upstream ${route.service} is failing; circuit open`, headers: { "retry-after": String(retry), ...(limit ? limitHeaders(limit) : {}) } } };
    }
    return { route, breaker, payload, limit };
  }

  private limitKeys(req: http.IncomingMessage, route: Route, payload: JWTPayload | undefined): LimitKey[] {
    const rl = this.settings.rateLimit;
    const ip = clientIp(req.headers, req.socket.remoteAddress, this.settings.trustedProxyHops);
    const keys: LimitKey[] = [{ key: `ip:${ip}`, scope: "ip", bucket: rl.ips.get(ip) ?? rl.perIp }];
    const sub = typeof payload?.sub === "string" ? payload.sub.slice(0, 256) : undefined;
    if (sub !== undefined) keys.push({ key: `user:${sub}`, scope: "user", bucket: rl.users.get(sub) ?? rl.perUser });
    const svc = rl.services.get(route.service) ?? rl.perService;
    if (svc) keys.push({ key: `service:${route.service}`, scope: "service", bucket: svc });
    return keys;
  }

  private upstreamHeaders(req: http.IncomingMessage, route: Route, payload: JWTPayload | undefined, id: string): http.OutgoingHttpHeaders {
    const headers = stripHopByHop(req.headers);
    for (const [h] of route.claimsToHeaders) delete headers[h];
    const peer = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    const xff = req.headers["x-forwarded-for"];
    headers["x-forwarded-for"] = xff ? `${Array.isArray(xff) ? xff.join(", ") : xff}, ${peer}` : peer;
    if (!headers["x-forwarded-proto"] || this.settings.trustedProxyHops === 0) headers["x-forwarded-proto"] = "http";
    // a caller's own X-Forwarded-Host is never passed on (Envoy neither sets nor strips it); the Host it sent is
    if (req.headers.host) headers["x-forwarded-host"] = req.headers.host;
    else delete headers["x-forwarded-host"];
    headers["x-request-id"] = id;
    headers.traceparent = nextTraceparent(req.headers).traceparent;
    headers.host = route.upstream.host;
    applyTransform(headers, route.requestHeaders);
    if (payload) {
      for (const [h, claim] of route.claimsToHeaders) {
        const v = claimAt(payload, claim);
        if (v === undefined || v === null) continue;
        const text = typeof v === "string" ? v : JSON.stringify(v);
        const s = NOT_VISIBLE_ASCII.test(text) ? encodeURIComponent(text) : text;
        if (s.length <= 4096) headers[h] = s;
      }
    }
    return headers;
  }

  private request(route: Route, method: string, path: string, headers: http.OutgoingHttpHeaders): http.ClientRequest {
    let target = this.targets.get(route);
    if (!target) {
      // URL getters are not free; the parts of each upstream are read once.
      const u = route.upstream;
      target = { protocol: u.protocol, hostname: u.hostname.replace(/^\[|\]$/g, ""), port: u.port || (u.protocol === "https:" ? 443 : 80), agent: this.agents.get(u.origin) as http.Agent };
      this.targets.set(route, target);
    }
    const opts: http.RequestOptions = { protocol: target.protocol, hostname: target.hostname, port: target.port, method, path, headers, agent: target.agent };
    return target.protocol === "https:" ? https.request(opts) : http.request(opts);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = process.hrtime.bigint();
    const id = requestId(req.headers);
    res.setHeader("x-request-id", id);
    if (this.draining) res.setHeader("connection", "close");
    const target = splitTarget(req.url);
    if (target && (target.path === "/healthz" || target.path === "/readyz")) {
      this.probe(target.path, res);
      return;
    }
    const method = METHODS.has(req.method ?? "") ? (req.method as string) : "OTHER";
    let routeLabel = "none";
    this.inflight++;
    res.once("close", () => {
      this.metrics.requests.inc({ route: routeLabel, method, status: String(res.statusCode) });
      this.metrics.duration.observe({ route: routeLabel }, Number(process.hrtime.bigint() - started) / 1e9);
      if (this.options.accessLog ?? true) {
        log("info", "request", { request_id: id, method: req.method, path: target?.path, route: routeLabel, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 });
      }
      if (--this.inflight === 0 && this.draining) this.drained?.();
    });
    const proceed = (a: Admission) => {
      if (a.route) routeLabel = a.route.pathPrefix;
      if (res.destroyed) {
        // the client went away while admission waited (keys, Redis): nothing to send, and no upstream request
        if (!a.refusal) a.breaker.release();
        return;
      }
      if (a.refusal) {
        req.resume();
        this.sendJson(res, a.refusal.status, { error: a.refusal.error, message: a.refusal.message, request_id: id }, a.refusal.headers);
        return;
      }
      if (a.limit) {
        res.setHeader("ratelimit-limit", String(a.limit.limit));
        res.setHeader("ratelimit-remaining", String(a.limit.remaining));
        res.setHeader("ratelimit-reset", String(a.limit.resetSec));
      }
      this.proxy(req, res, a.route, a.breaker, a.payload, id, target as { path: string; query: string });
    };
    const failed = (err: Error) => {
      log("error", "admission failed", { request_id: id, error: err.message });
      this.sendJson(res, 500, { error: "internal", request_id: id });
    };
    if (REFUSED_METHODS.has(req.method ?? "")) {
      req.resume();
      this.sendJson(res, 405, { error: "method_not_allowed", message: `${req.method} is not proxied`, request_id: id }, { allow: [...METHODS].join(", ") });
      return;
    }
    try {
      const a = this.admit(req, target?.path);
      if (a instanceof Promise) a.then(proceed, failed);
      else proceed(a);
    } catch (err) {
      failed(err as Error);
    }
  }

  private proxy(req: http.IncomingMessage, res: http.ServerResponse, route: Route, breaker: CircuitBreaker, payload: JWTPayload | undefined, id: string, target: { path: string; query: string }): void {
    let settled = false;
    const settle = (outcome: "success" | "failure" | "release") => {
      if (settled) return;
      settled = true;
      breaker[outcome]();
    };
    const declared = req.headers["content-length"] !== undefined ? Number(req.headers["content-length"]) : undefined;
    if (declared !== undefined && declared > route.maxBodyBytes) {
      settle("release");
      req.resume();
      res.setHeader("connection", "close");
      this.sendJson(res, 413, { error: "payload_too_large", message: `request body exceeds ${route.maxBodyBytes} bytes`, request_id: id });
      return;
    }
    const tooLarge = () => {
      clearTimeout(timer);
      settle("release");
      abort(new Error("request body over the limit"));
      req.pause();
      res.setHeader("connection", "close");
      this.sendJson(res, 413, { error: "payload_too_large", message: `request body exceeds ${route.maxBodyBytes} bytes`, request_id: id });
    };
    // A request without Content-Length or Transfer-Encoding has no body (RFC 9112 6.3).
    const hasBody = declared !== undefined || req.headers["transfer-encoding"] !== undefined;
    if (!hasBody) req.resume();
    else if (String(req.headers.expect ?? "").toLowerCase() === "100-continue") res.writeContinue();
    let uploaded = !hasBody;
    // whether the body is held up by the client (nothing to read) rather than by the upstream (not taking it)
    let waitingForClient = false;
    // an answer sent before the whole body was read leaves the rest on the client's connection, where it would be
    // taken for the next request or wedge the connection: that connection is closed after the answer
    const closeIfUnread = () => uploaded || res.setHeader("connection", "close");
    const timer = setTimeout(() => {
      if (!uploaded && waitingForClient) {
        // the client is still sending its body: its own slowness, not the upstream's, so the breaker is not charged
        settle("release");
        abort(new Error("request body too slow"));
        res.setHeader("connection", "close");
        this.sendJson(res, 408, { error: "request_timeout", message: `request body not received within ${route.timeoutMs}ms`, request_id: id });
        return;
      }
      this.metrics.upstreamErrors.inc({ upstream: route.service, kind: "timeout" });
      settle("failure");
      abort(new Error("upstream timeout"));
      closeIfUnread();
      this.sendJson(res, 504, { error: "upstream_timeout", message: `upstream ${route.service} did not answer within ${route.timeoutMs}ms`, request_id: id });
    }, route.timeoutMs);
    let headers: http.OutgoingHttpHeaders;
    try {
      // every value here is one node's parser accepted, a configured one (the schema holds them to RFC 9110 field
      // values) or a claim, which upstreamHeaders percent-encodes: nothing undici would refuse
      headers = this.upstreamHeaders(req, route, payload, id);
    } catch (err) {
      clearTimeout(timer);
      settle("release");
      req.resume();
      log("error", "request headers failed", { request_id: id, error: (err as Error).message });
      this.sendJson(res, 500, { error: "internal", request_id: id });
      return;
    }
    const body = hasBody ? limitedBody(req, route.maxBodyBytes, tooLarge, () => (uploaded = true), (w) => (waitingForClient = w)) : undefined;
    const request = { method: req.method as string, path: upstreamPath(route, target.path, target.query), headers, body };
    const abort = this.upstreams.send(route.upstream, request, {
      onResponse: (status, upHeaders, resume) => {
        clearTimeout(timer);
        const out = stripHopByHop(upHeaders);
        applyTransform(out, route.responseHeaders);
        out["x-request-id"] = id;
        if (this.draining || !uploaded) out.connection = "close";
        // a 204 has no body, so no length (RFC 9110 8.6)
        if (status === 204) delete out["content-length"];
        try {
          if (status < 200 || status > 999) throw new Error(`status ${status}`);
          for (const k in out) {
            const v = out[k];
            if (v !== undefined) res.setHeader(k, v);
          }
          res.writeHead(status);
        } catch (err) {
          // a head that node cannot send on (a bad status or header name): the upstream broke the protocol
          for (const k in out) if (k !== "x-request-id" && res.hasHeader(k)) res.removeHeader(k);
          this.metrics.upstreamErrors.inc({ upstream: route.service, kind: "protocol" });
          settle("failure");
          abort(err as Error);
          log("warn", "upstream sent an invalid response head", { request_id: id, upstream: route.service, error: (err as Error).message });
          closeIfUnread();
          this.sendJson(res, 502, { error: "bad_gateway", message: `upstream ${route.service} sent an invalid response`, request_id: id });
          return;
        }
        if (status >= 500) {
          this.metrics.upstreamErrors.inc({ upstream: route.service, kind: "status" });
          settle("failure");
        } else {
          settle("success");
        }
        if (status === 204 || status === 304) {
          // never a body (RFC 9110 15.3.5, 15.4.5); an upstream that also declares a length would keep undici
          // waiting for bytes that must not come, so the client is answered now and that connection dropped
          res.end();
          const length = upHeaders["content-length"];
          if (length !== undefined && length !== "0") abort(new Error(`${status} with a content-length`));
          return;
        }
        res.on("drain", resume);
      },
      onData: (chunk) => (res.writableEnded ? true : res.write(chunk)),
      onEnd: () => {
        if (!res.writableEnded) res.end();
      },
      onError: (err) => {
        clearTimeout(timer);
        if (res.headersSent) {
          // the upstream failed in the middle of the body: the client must not take a cut-off body for a whole one
          res.destroy();
          return;
        }
        if (res.writableEnded || res.destroyed) return;
        if (!settled) {
          this.metrics.upstreamErrors.inc({ upstream: route.service, kind: "connect" });
          settle("failure");
        }
        log("warn", "upstream error", { request_id: id, upstream: route.service, error: err.code ?? err.message });
        closeIfUnread();
        this.sendJson(res, 502, { error: "bad_gateway", message: `upstream ${route.service} unreachable`, request_id: id });
      },
    });
    res.on("close", () => {
      if (!res.writableFinished) {
        clearTimeout(timer);
        abort(new Error("client went away"));
        settle("release");
      }
    });
  }

  private handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const id = requestId(req.headers);
    socket.on("error", () => socket.destroy());
    this.handshakes.add(socket);
    socket.once("close", () => this.handshakes.delete(socket));
    const refuse = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
      this.metrics.requests.inc({ route: "websocket", method: "GET", status: String(status) });
      endSocket(socket, rawResponse(status, { ...body, request_id: id }, { ...headers, "x-request-id": id }));
    };
    if (this.draining) return refuse(503, { error: "draining" });
    if (String(req.headers.upgrade ?? "").toLowerCase() !== "websocket") return refuse(400, { error: "bad_request", message: "only WebSocket upgrades are proxied" });
    const target = splitTarget(req.url);
    Promise.resolve()
      .then(() => this.admit(req, target?.path))
      .then(
      (a) => {
        if (a.refusal) return refuse(a.refusal.status, { error: a.refusal.error, message: a.refusal.message }, a.refusal.headers);
        if (!a.route.websocket) {
          a.breaker.release();
          return refuse(404, { error: "not_found", message: "WebSocket is not enabled on this route" });
        }
        try {
          this.proxyUpgrade(req, socket, head, a.route, a.breaker, a.payload, id, target as { path: string; query: string });
        } catch (err) {
          a.breaker.release();
          log("error", "upgrade failed", { request_id: id, error: (err as Error).message });
          refuse(502, { error: "bad_gateway" });
        }
      },
      () => refuse(500, { error: "internal" }),
    );
  }

  private proxyUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, route: Route, breaker: CircuitBreaker, payload: JWTPayload | undefined, id: string, target: { path: string; query: string }): void {
    const headers = this.upstreamHeaders(req, route, payload, id);
    headers.connection = "Upgrade";
    headers.upgrade = "websocket";
    const upstream = this.request(route, "GET", upstreamPath(route, target.path, target.query), headers);
    let done = false;
    const finish = (outcome: "success" | "failure" | "release") => {
      if (done) return false;
      done = true;
      clearTimeout(timer);
      breaker[outcome]();
      return true;
    };
    const timer = setTimeout(() => {
      if (!finish("failure")) return;
      this.metrics.upstreamErrors.inc({ upstream: route.service, kind: "timeout" });
      upstream.destroy();
      endSocket(socket, rawResponse(504, { error: "upstream_timeout", request_id: id }));
    }, route.timeoutMs);
    socket.once("close", () => {
      if (finish("release")) upstream.destroy();
    });
    upstream.on("error", () => {
      if (!finish("failure")) return;
      this.metrics.upstreamErrors.inc({ upstream: route.service, kind: "connect" });
      endSocket(socket, rawResponse(502, { error: "bad_gateway", request_id: id }));
    });
    upstream.on("response", (up) => {
      // The upstream refused the upgrade: pass its answer on and close.
      finish(up.statusCode && up.statusCode >= 500 ? "failure" : "success");
      const lines = [`HTTP/1.1 ${up.statusCode} ${http.STATUS_CODES[up.statusCode ?? 502] ?? ""}`];
      const h = stripHopByHop(up.headers);
      h["x-request-id"] = id;
      h.connection = "close";
      for (const [k, v] of Object.entries(h)) for (const one of Array.isArray(v) ? v : [v]) if (one !== undefined) lines.push(`${k}: ${one}`);
      socket.write(lines.join("\r\n") + "\r\n\r\n");
      up.pipe(socket);
    });
    upstream.on("upgrade", (up, upSocket, upHead) => {
      this.handshakes.delete(socket);
      if (!finish("success")) {
        upSocket.destroy();
        return;
      }
      const lines = ["HTTP/1.1 101 Switching Protocols"];
      for (let i = 0; i < up.rawHeaders.length; i += 2) {
        const name = up.rawHeaders[i].toLowerCase();
        if (name === "x-request-id") continue;
        lines.push(`${up.rawHeaders[i]}: ${up.rawHeaders[i + 1]}`);
      }
      lines.push(`x-request-id: ${id}`);
      socket.write(lines.join("\r\n") + "\r\n\r\n");
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      this.upgraded.add(socket);
      this.metrics.websockets.inc();
      const close = () => {
        if (!this.upgraded.delete(socket)) return;
        this.metrics.websockets.dec();
        socket.destroy();
        upSocket.destroy();
      };
      upSocket.on("error", close);
      upSocket.on("close", close);
      socket.on("close", close);
      upSocket.pipe(socket);
      socket.pipe(upSocket);
    });
    upstream.end();
  }
}

/**
 * The request body as it arrives, stopped (and `onTooLarge` called once) when it passes `max` bytes; `onEnd` is
 * called once the whole body has been read; `onWait` tells whether it waits for the client (true) or for the upstream to
 * take the last chunk (false).
 */
async function* limitedBody(req: http.IncomingMessage, max: number, onTooLarge: () => void, onEnd: () => void, onWait: (client: boolean) => void): AsyncGenerator<Buffer> {
  let received = 0;
  onWait(true);
  // destroyOnReturn false: stopping early must not destroy the socket that the 413 goes out on
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > max) {
      onTooLarge();
      return;
    }
    onWait(false);
    yield chunk;
    onWait(true);
  }
  onEnd();
}

/**
 * A warning logged at most once per `everyMs`, with how many were held back since: a backend that is down fails
 * every request, and one line per request would bury everything else in the log.
 */
function throttledWarning(message: string, everyMs: number): (err: Error) => void {
  let last = -Infinity;
  let held = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < everyMs) {
      held++;
      return;
    }
    log("warn", message, { error: err.message, suppressed: held });
    last = now;
    held = 0;
  };
}

/**
 * Sends a last answer on a raw socket and closes it: once flushed, or after 5 s if the client does not read. A
 * socket that only ended its side would otherwise stay half-open for as long as the client likes.
 */
function endSocket(socket: Duplex, text: string): void {
  const timer = setTimeout(() => socket.destroy(), 5000);
  timer.unref();
  socket.end(text, () => {
    clearTimeout(timer);
    socket.destroy();
  });
}

function limitHeaders(d: LimitDecision): Record<string, string> {
  return { "ratelimit-limit": String(d.limit), "ratelimit-remaining": String(d.remaining), "ratelimit-reset": String(d.resetSec) };
}

function rawResponse(status: number, body: unknown, headers: Record<string, string> = {}): string {
  const text = JSON.stringify(body);
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}`, "content-type: application/json", `content-length: ${Buffer.byteLength(text)}`, "connection: close"];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join("\r\n")}\r\n\r\n${text}`;
}
