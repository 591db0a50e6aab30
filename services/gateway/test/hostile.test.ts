// Hostile clients and misbehaving upstreams: each case once made the gateway crash, hang, leak, answer wrongly or
// charge its circuit breaker for something that was not the upstream's failure.
import * as http from "node:http";
import * as net from "node:net";
import { cleanTmp, GatewayProcess, listen, metricValue, raw, rawUpstream, request, rsaKey, Running, sign, sleep, startGateway, startJwks, startUpstream } from "./support";

const ISSUER = "https://auth.test.example/";
const AUDIENCE = "stratum-api";
const now = () => Math.floor(Date.now() / 1000);

describe("gateway under hostile input", () => {
  const key = rsaKey("key-1");
  let jwks: Awaited<ReturnType<typeof startJwks>>;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let oddUpstream: Running;
  let gw: GatewayProcess;
  const token = (extra: Record<string, unknown> = {}) => sign({ iss: ISSUER, aud: AUDIENCE, sub: "alice", exp: now() + 300, roles: ["customer"], ...extra }, { key });
  const metrics = async () => (await request(`http://127.0.0.1:${gw.metricsPort}/metrics`)).body;

  beforeAll(async () => {
    jwks = await startJwks([key]);
    upstream = await startUpstream((req, res) => {
      if (req.url?.includes("no-content")) {
        res.writeHead(204, { "content-length": "5" });
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    oddUpstream = await rawUpstream((path) => {
      if (path.endsWith("/early-hints")) return "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal";
      if (path.endsWith("/bad-status")) return "HTTP/1.1 099 Nope\r\nContent-Length: 2\r\n\r\nok";
      return "HTTP/1.1 200 OK\r\nX Bad: x\r\nContent-Length: 2\r\n\r\nok";
    });
    gw = await startGateway({
      authentication: { jwt: { issuer: ISSUER, audience: AUDIENCE, algorithms: ["RS256"], jwks_uri: jwks.jwksUri, jwks_cooldown: "2s" } },
      rate_limiting: { default: { requests_per_second: 1000, burst: 1000 } },
      circuit_breaker: { failure_threshold: 2, recovery_timeout: "30s", success_threshold: 1 },
      routes: [
        { path_prefix: "/api/orders/admin", service: "order", upstream: upstream.url, auth: { required: true, roles: ["admin"] } },
        { path_prefix: "/api/orders", service: "order", upstream: upstream.url, auth: { required: true, roles: ["customer"] }, claims_to_headers: { "x-user-name": "name" }, websocket: true },
        { path_prefix: "/public", service: "public", upstream: upstream.url, auth: { required: false }, timeout: "500ms" },
        { path_prefix: "/odd", service: "odd", upstream: oddUpstream.url, auth: { required: false }, timeout: "2s" },
      ],
    });
  });

  afterAll(async () => {
    await gw?.stop();
    await Promise.all([upstream, oddUpstream, jwks].map((s) => s?.close()));
    cleanTmp();
  });

  it("forwards a claim outside Latin-1 percent-encoded, over HTTP and WebSocket, and stays up", async () => {
    const t = token({ name: "李雷" });
    const r = await request(`${gw.url}/api/orders/1`, { headers: { authorization: `Bearer ${t}` } });
    expect(r.status).toBe(200);
    expect(r.json().headers["x-user-name"]).toBe(encodeURIComponent("李雷"));
    // an upgrade the plain upstream refuses: before, building its headers threw outside any handler
    const up = await raw(gw.port, (s) => s.write(`GET /api/orders/ws HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer ${t}\r\n\r\n`));
    expect(up.text).toMatch(/^HTTP\/1\.1 200/);
    expect(gw.child.exitCode).toBeNull();
    expect((await request(`${gw.url}/healthz`)).status).toBe(200);
  });

  it("routes and forwards one spelling of a path: encoded unreserved characters cannot dodge a stricter route", async () => {
    for (const p of ["/api/orders/%61dmin/refund", "/api/orders/admi%6E/refund"]) {
      const r = await request(`${gw.url}${p}`, { headers: { authorization: `Bearer ${token()}` } });
      expect([p, r.status]).toEqual([p, 403]);
    }
    const ok = await request(`${gw.url}/api/orders/%7Ealice%2Fx`, { headers: { authorization: `Bearer ${token()}` } });
    expect(ok.status).toBe(400); // an encoded slash stays refused
    const fragment = await raw(gw.port, (s) => s.write("GET /api/orders/admin#/x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"));
    expect(fragment.text).toMatch(/^HTTP\/1\.1 400/);
    const broken = await raw(gw.port, (s) => s.write("GET /public/%zz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"));
    expect(broken.text).toMatch(/^HTTP\/1\.1 400/);
    const normal = await request(`${gw.url}/public/%7euser`);
    expect(normal.json().url).toBe("/public/~user");
  });

  it("answers a slow upload 408 without charging the upstream's breaker", async () => {
    const slow = () =>
      raw(gw.port, (s) => {
        s.write("POST /public/upload HTTP/1.1\r\nHost: gw\r\nContent-Length: 10\r\n\r\n12");
        setTimeout(() => s.write("345"), 700);
      }, 2500);
    const answers = await Promise.all([slow(), slow(), slow()]);
    for (const a of answers) expect(a.text).toMatch(/^HTTP\/1\.1 408/);
    expect(metricValue(await metrics(), "gateway_circuit_breaker_state", { upstream: "public" })).toBe(0);
    expect((await request(`${gw.url}/public/after`)).status).toBe(200);
  });

  it("skips an upstream's 1xx answers and sends the final one", async () => {
    const r = await raw(gw.port, (s) => s.write("GET /odd/early-hints HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"));
    expect(r.text).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(r.text).not.toContain("103");
    expect(r.text.endsWith("final")).toBe(true);
  });

  it("answers 502 at once to a response head node cannot pass on, and counts it against the upstream", async () => {
    const started = Date.now();
    const [status, header] = await Promise.all([request(`${gw.url}/odd/bad-status`), request(`${gw.url}/odd/bad-header`)]);
    expect([status.status, header.status]).toEqual([502, 502]);
    expect(Date.now() - started).toBeLessThan(1500);
    const m = await metrics();
    expect(metricValue(m, "gateway_inflight_requests")).toBe(0);
    expect(metricValue(m, "gateway_circuit_breaker_state", { upstream: "odd" })).toBe(2);
  });

  it("sends nothing upstream for a client that left while its token was being verified", async () => {
    // keys that take 400 ms to arrive: every request waits in admission for them
    const slowKeys = http.createServer((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ keys: [{ ...key.publicKey.export({ format: "jwk" }), kid: key.kid, alg: "RS256", use: "sig" }] }));
      }, 400);
    });
    const keys = await listen(slowKeys);
    const seen = upstream.seen.length;
    const g2 = await startGateway({
      authentication: { jwt: { issuer: ISSUER, audience: AUDIENCE, algorithms: ["RS256"], jwks_uri: `${keys.url}/jwks` } },
      routes: [{ path_prefix: "/public", service: "public", upstream: upstream.url, auth: { required: false } }],
    });
    try {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          new Promise<void>((resolve) => {
            const s = net.connect(g2.port, "127.0.0.1", () => {
              s.write(`GET /public/${i} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token({ jti: `gone-${i}` })}\r\n\r\n`);
              setTimeout(() => s.resetAndDestroy(), 50);
            });
            s.on("error", () => undefined);
            s.on("close", () => resolve());
          }),
        ),
      );
      await sleep(800);
      expect(upstream.seen.length).toBe(seen);
      const m = (await request(`http://127.0.0.1:${g2.metricsPort}/metrics`)).body;
      expect(metricValue(m, "gateway_inflight_requests")).toBe(0);
    } finally {
      await g2.stop();
      await keys.close();
    }
  });

  it("closes the connection of a refused WebSocket upgrade itself, instead of leaving it half-open", async () => {
    // the client keeps its side open after the answer: a gateway that only ended its own side would keep the socket
    const outcome = await new Promise<string>((resolve) => {
      const s = net.connect({ port: gw.port, host: "127.0.0.1", allowHalfOpen: true }, () =>
        s.write("GET /api/orders/ws HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
      );
      let text = "";
      s.on("data", (d) => (text += d));
      s.on("end", () => {
        // writing into a socket the gateway destroyed is reset; into a half-open one it is silently accepted
        const poke = setInterval(() => s.write("x"), 50);
        setTimeout(() => {
          clearInterval(poke);
          s.destroy();
          resolve(`${text.slice(0, 12)} still open`);
        }, 1000);
        s.on("error", () => {
          clearInterval(poke);
          resolve(`${text.slice(0, 12)} closed`);
        });
      });
    });
    expect(outcome).toBe("HTTP/1.1 401 closed");
  });

  it("never splices an error answer into a response already on its way", async () => {
    const slowServer = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("part1-");
      setTimeout(() => res.end("part2"), 400);
    });
    const slow = await listen(slowServer);
    const g2 = await startGateway({ routes: [{ path_prefix: "/p", service: "p", upstream: slow.url, auth: { required: false } }] });
    try {
      const r = await raw(g2.port, (s) => {
        s.write("GET /p/x HTTP/1.1\r\nHost: gw\r\n\r\n");
        setTimeout(() => s.write("BROKEN\r\n\r\n"), 150);
      });
      expect(r.text).toMatch(/^HTTP\/1\.1 200/);
      expect(r.text).not.toContain("HTTP/1.1 400");
    } finally {
      await g2.stop();
      await slow.close();
    }
  });

  it("replaces a caller's X-Forwarded-Host and refuses TRACE", async () => {
    const r = await request(`${gw.url}/public/x`, { headers: { "x-forwarded-host": "attacker.example" } });
    expect(r.json().headers["x-forwarded-host"]).toBe(`127.0.0.1:${gw.port}`);
    const trace = await request(`${gw.url}/public/x`, { method: "TRACE", headers: { cookie: "session=secret" } });
    expect(trace.status).toBe(405);
    expect(trace.headers.allow).toContain("GET");
  });

  it("refuses a request with two Host headers (RFC 9112 3.2), on plain requests and upgrades alike", async () => {
    const twice = await raw(gw.port, (s) => s.write("GET /public/x HTTP/1.1\r\nHost: gw\r\nHost: attacker.example\r\nConnection: close\r\n\r\n"));
    expect(twice.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(twice.text).toContain("more than one Host header");
    const upgrade = await raw(gw.port, (s) => s.write("GET /public/ws HTTP/1.1\r\nHost: gw\r\nhost: other\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
    expect(upgrade.text).toMatch(/^HTTP\/1\.1 400 /);
    const once = await request(`${gw.url}/public/x`);
    expect(once.status).toBe(200);
  });

  it("answers Expect: 100-continue only after admission", async () => {
    const refused = await raw(gw.port, (s) => s.write("POST /api/orders/1 HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    expect(refused.text).toMatch(/^HTTP\/1\.1 401/);
    const admitted = await raw(gw.port, (s) => {
      s.write(`POST /api/orders/1 HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\nAuthorization: Bearer ${token()}\r\n\r\n`);
      s.once("data", () => s.write("hello"));
    });
    expect(admitted.text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
  });

  it("ends a 204 at once, without the Content-Length an upstream wrongly sent with it", async () => {
    const r = await raw(gw.port, (s) => s.write("GET /public/no-content HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"));
    expect(r.text).toMatch(/^HTTP\/1\.1 204/);
    expect(r.text.toLowerCase()).not.toContain("content-length");
  });

  it("asks a failing JWKS at most once per cooldown", async () => {
    const failing = http.createServer((_req, res) => {
      failing.emit("fetched");
      res.writeHead(500);
      res.end();
    });
    let fetches = 0;
    failing.on("fetched", () => fetches++);
    const down = await listen(failing);
    const g2 = await startGateway({
      authentication: { jwt: { issuer: ISSUER, audience: AUDIENCE, algorithms: ["RS256"], jwks_uri: `${down.url}/jwks`, jwks_cooldown: "5s" } },
      routes: [{ path_prefix: "/api", service: "api", upstream: upstream.url, auth: { required: true } }],
    });
    try {
      await sleep(200); // the start-up warm-up fetch
      const start = fetches;
      for (let i = 0; i < 8; i++) {
        const r = await request(`${g2.url}/api/x`, { headers: { authorization: `Bearer ${token({ jti: `k-${i}` })}` } });
        expect(r.status).toBe(503);
      }
      expect(fetches - start).toBeLessThanOrEqual(1);
    } finally {
      await g2.stop();
      await down.close();
    }
  });
});
