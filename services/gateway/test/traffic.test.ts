import * as http from "node:http";
import * as net from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { cleanTmp, GatewayProcess, listen, metricValue, raw, request, Running, sleep, startGateway, startUpstream } from "./support";

describe("gateway traffic handling", () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let flaky: Awaited<ReturnType<typeof startUpstream>>;
  let slow: Awaited<ReturnType<typeof startUpstream>>;
  let wsUpstream: Running;
  let cut: Awaited<ReturnType<typeof startUpstream>>;
  let gw: GatewayProcess;
  let failing = true;
  const deadPort = 1; // nothing listens on port 1 of loopback

  beforeAll(async () => {
    upstream = await startUpstream();
    flaky = await startUpstream((_req, res) => {
      res.writeHead(failing ? 500 : 200, { "content-type": "text/plain" });
      res.end(failing ? "boom" : "fine");
    });
    slow = await startUpstream((req, res) => {
      const t = setTimeout(() => res.end("late"), req.url?.includes("wait") ? 2000 : 0);
      res.on("close", () => clearTimeout(t));
    });
    cut = await startUpstream((req, res) => {
      if (req.url?.includes("cookies")) {
        res.writeHead(200, [["set-cookie", "a=1; Path=/"], ["set-cookie", "b=2; Path=/"], ["x-twice", "one"], ["x-twice", "two"], ["content-length", "2"]] as unknown as http.OutgoingHttpHeaders);
        res.end("ok");
        return;
      }
      // promises 100 bytes, sends 10, then the connection dies
      res.writeHead(200, { "content-length": "100" });
      res.write("0123456789", () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const wsServer = http.createServer();
    const wss = new WebSocketServer({ server: wsServer });
    wss.on("connection", (socket, req) => {
      socket.send(`hello ${req.headers["x-request-id"] ? "with-id" : "no-id"}`);
      socket.on("message", (data) => socket.send(`echo:${data}`));
    });
    wsUpstream = await listen(wsServer);
    gw = await startGateway({
      gateway: { max_body_bytes: 1024, max_header_bytes: 4096, trusted_proxy_hops: 1 },
      rate_limiting: {
        default: { requests_per_second: 1000, burst: 1000 },
        overrides: { services: { limited: { requests_per_second: 0.5, burst: 3 } } },
      },
      circuit_breaker: { failure_threshold: 3, recovery_timeout: "400ms", success_threshold: 2 },
      routes: [
        {
          path_prefix: "/echo",
          service: "echo",
          upstream: upstream.url,
          auth: { required: false },
          headers: {
            request: { add: { "x-added": "yes" }, remove: ["x-remove-me"], rename: { "x-old": "x-new" } },
            response: { add: { "x-frame-options": "DENY" }, remove: ["x-powered-by"], rename: { "x-internal": "x-public" } },
          },
        },
        { path_prefix: "/strip", service: "strip", upstream: upstream.url, auth: { required: false }, strip_prefix: true },
        { path_prefix: "/limited", service: "limited", upstream: upstream.url, auth: { required: false } },
        { path_prefix: "/flaky", service: "flaky", upstream: flaky.url, auth: { required: false } },
        { path_prefix: "/slow", service: "slow", upstream: slow.url, auth: { required: false }, timeout: "300ms" },
        { path_prefix: "/dead", service: "dead", upstream: `http://127.0.0.1:${deadPort}`, auth: { required: false } },
        { path_prefix: "/ws", service: "ws", upstream: wsUpstream.url, auth: { required: false } },
        { path_prefix: "/cut", service: "cut", upstream: cut.url, auth: { required: false } },
      ],
    });
  });

  afterAll(async () => {
    await gw?.stop();
    await Promise.all([upstream, flaky, slow, wsUpstream, cut].map((s) => s?.close()));
    cleanTmp();
  });

  const last = () => upstream.seen[upstream.seen.length - 1];

  it("adds, removes and renames request and response headers, and strips hop-by-hop headers", async () => {
    const res = await request(`${gw.url}/echo/a`, { headers: { "x-remove-me": "1", "x-old": "v", "x-drop": "1", connection: "x-drop", te: "trailers" } });
    expect(res.status).toBe(200);
    const seen = last();
    expect(seen.headers["x-added"]).toBe("yes");
    expect(seen.headers["x-remove-me"]).toBeUndefined();
    expect(seen.headers["x-new"]).toBe("v");
    expect(seen.headers["x-old"]).toBeUndefined();
    expect(seen.headers["x-drop"]).toBeUndefined();
    expect(seen.headers.te).toBeUndefined();
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(res.headers["x-frame-options"]).toBe("DENY");
    expect(res.headers["x-powered-by"]).toBeUndefined();
    expect(res.headers["x-public"]).toBe("secret");
    expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("strips the route prefix when asked and keeps the query", async () => {
    await request(`${gw.url}/strip/items?q=1`);
    expect(last().url).toBe("/items?q=1");
    await request(`${gw.url}/strip`);
    expect(last().url).toBe("/");
  });

  it("matches prefixes on segment boundaries only", async () => {
    expect((await request(`${gw.url}/echoes`)).status).toBe(404);
    expect((await request(`${gw.url}/nothing`)).json().error).toBe("not_found");
  });

  it("refuses dot segments and encoded slashes that could route around auth", async () => {
    for (const p of ["/echo/../limited", "/echo/%2e%2e/limited", "/echo%2flimited", "/echo/a\\b"]) {
      const res = await rawRequest(gw.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(res).toMatch(/^HTTP\/1.1 400/);
    }
  });

  it("streams request bodies to the upstream byte for byte, including malformed JSON", async () => {
    const body = '{"broken": [1, 2,';
    const res = await request(`${gw.url}/echo/post`, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
    expect(last().body.toString()).toBe(body);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${gw.url}/echo/chunked`, { method: "POST", agent: false }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on("error", reject);
      req.write("part1-");
      setTimeout(() => req.end("part2"), 20);
    });
    expect(chunked).toBe(200);
    expect(last().body.toString()).toBe("part1-part2");
  });

  it("refuses bodies over the limit with 413, declared or streamed", async () => {
    const declared = await request(`${gw.url}/echo/big`, { method: "POST", body: "x".repeat(2000) });
    expect(declared.status).toBe(413);
    const before = upstream.seen.length;
    const streamed = await new Promise<string>((resolve) => {
      const s = net.connect(gw.port, "127.0.0.1");
      let out = "";
      s.on("data", (d) => (out += d));
      s.on("close", () => resolve(out));
      s.on("error", () => resolve(out));
      s.write("POST /echo/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (let i = 0; i < 4; i++) s.write(`200\r\n${"y".repeat(512)}\r\n`);
      s.write("0\r\n\r\n");
    });
    expect(streamed).toMatch(/^HTTP\/1.1 413/);
    expect(upstream.seen.length).toBe(before);
  });

  it("refuses oversized headers with 431 and survives garbage on the wire", async () => {
    const res = await rawRequest(gw.port, `GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(8000)}\r\n\r\n`);
    expect(res).toMatch(/^HTTP\/1.1 431/);
    const garbage = await rawRequest(gw.port, "\u0000\u0001NOT HTTP AT ALL\r\n\r\n");
    expect(garbage).toMatch(/^HTTP\/1.1 400/);
    expect((await request(`${gw.url}/healthz`)).status).toBe(200);
  });

  it("allows exactly the burst, then answers 429 with Retry-After and RateLimit headers", async () => {
    const statuses: number[] = [];
    let lastRes;
    for (let i = 0; i < 4; i++) {
      lastRes = await request(`${gw.url}/limited`);
      statuses.push(lastRes.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(lastRes!.headers["retry-after"]).toBe("2");
    expect(lastRes!.headers["ratelimit-limit"]).toBe("3");
    expect(lastRes!.headers["ratelimit-remaining"]).toBe("0");
    const metrics = (await request(`http://127.0.0.1:${gw.metricsPort}/metrics`)).body;
    expect(metricValue(metrics, "gateway_rate_limited_total", { kind: "service" })).toBe(1);
  });

  it("answers 504 when the upstream is slower than the route timeout", async () => {
    const res = await request(`${gw.url}/slow/wait`);
    expect(res.status).toBe(504);
    expect(res.json().error).toBe("upstream_timeout");
    expect((await request(`${gw.url}/slow/fast`)).status).toBe(200);
  });

  it("cuts the client's response when the upstream dies in the middle of the body, instead of ending it short", async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get(`${gw.url}/cut/body`, { agent: false }, (res) => {
        let got = "";
        res.on("data", (c) => (got += c));
        res.on("end", () => resolve(`ended with ${got.length} bytes`));
        res.on("aborted", () => resolve(`aborted after ${got.length} bytes`));
        res.on("error", () => resolve(`aborted after ${got.length} bytes`));
      });
      req.on("error", (e) => resolve(`request error ${e.message}`));
    });
    expect(outcome).toBe("aborted after 10 bytes");
  });

  it("passes repeated response headers on: each Set-Cookie on its own, others joined", async () => {
    const res = await request(`${gw.url}/cut/cookies`);
    expect(res.status).toBe(200);
    expect(res.headers["set-cookie"]).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(res.headers["x-twice"]).toBe("one, two");
  });

  it("answers 502 when the upstream refuses connections", async () => {
    const res = await request(`${gw.url}/dead`);
    expect(res.status).toBe(502);
  });

  it("opens the breaker after consecutive failures, fails fast, half-opens after the timeout and closes on successes", async () => {
    const metrics = async () => (await request(`http://127.0.0.1:${gw.metricsPort}/metrics`)).body;
    const hits = () => flaky.seen.length;
    for (let i = 0; i < 3; i++) expect((await request(`${gw.url}/flaky`)).status).toBe(500);
    expect(metricValue(await metrics(), "gateway_circuit_breaker_state", { upstream: "flaky" })).toBe(2);
    const before = hits();
    const open = await request(`${gw.url}/flaky`);
    expect(open.status).toBe(503);
    expect(open.json().error).toBe("circuit_open");
    expect(open.headers["retry-after"]).toBe("1");
    expect(hits()).toBe(before);

    await sleep(500); // past recovery_timeout: half-open, and a failing trial opens it again
    expect((await request(`${gw.url}/flaky`)).status).toBe(500);
    expect((await request(`${gw.url}/flaky`)).status).toBe(503);

    failing = false;
    await sleep(500);
    expect((await request(`${gw.url}/flaky`)).status).toBe(200);
    expect(metricValue(await metrics(), "gateway_circuit_breaker_state", { upstream: "flaky" })).toBe(1);
    expect((await request(`${gw.url}/flaky`)).status).toBe(200);
    expect(metricValue(await metrics(), "gateway_circuit_breaker_state", { upstream: "flaky" })).toBe(0);
    expect((await request(`${gw.url}/flaky`)).status).toBe(200);
  });

  it("proxies a WebSocket round trip", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws/chat`);
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("message", (d) => {
        messages.push(String(d));
        if (messages.length === 1) ws.send("ping");
        if (messages.length === 2) resolve();
      });
      ws.on("error", reject);
    });
    ws.close();
    expect(messages).toEqual(["hello with-id", "echo:ping"]);
  });

  it("refuses a WebSocket upgrade on an unknown route", async () => {
    const res = await rawRequest(gw.port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    expect(res).toMatch(/^HTTP\/1.1 404/);
  });

  it("serves probes on both ports and metrics on the metrics port only", async () => {
    expect((await request(`${gw.url}/readyz`)).status).toBe(200);
    expect((await request(`http://127.0.0.1:${gw.metricsPort}/healthz`)).status).toBe(200);
    expect((await request(`${gw.url}/metrics`)).status).toBe(404);
    const text = (await request(`http://127.0.0.1:${gw.metricsPort}/metrics`)).body;
    expect(metricValue(text, "gateway_requests_total", { route: "/echo", method: "POST", status: "413" })).toBe(2);
    expect(text).toContain("gateway_request_duration_seconds_bucket");
  });
});

/** Sends raw bytes, ends once an answer's head has arrived, and returns everything the server answered. */
function rawRequest(port: number, text: string): Promise<string> {
  return raw(port, (s) => {
    let seen = "";
    s.on("data", (d) => {
      seen += d;
      if (/\r\n\r\n/.test(seen)) s.end();
    });
    s.write(text);
  }).then((r) => r.text);
}
