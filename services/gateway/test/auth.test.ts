import * as net from "node:net";
import { cleanTmp, GatewayProcess, metricValue, request, rsaKey, sign, sleep, startGateway, startJwks, startUpstream } from "./support";

const ISSUER = "https://auth.test.example/";
const AUDIENCE = "stratum-api";
const now = () => Math.floor(Date.now() / 1000);

describe("gateway authentication and authorisation", () => {
  const key1 = rsaKey("key-1");
  const key2 = rsaKey("key-2");
  let jwks: Awaited<ReturnType<typeof startJwks>>;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let gw: GatewayProcess;
  const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISSUER, aud: AUDIENCE, sub: "alice", exp: now() + 300, iat: now(), roles: ["customer"], tenant: "acme", ...extra });
  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    request(`${gw.url}${path}`, { headers: { ...headers, ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) } });

  beforeAll(async () => {
    jwks = await startJwks([key1]);
    upstream = await startUpstream();
    gw = await startGateway({
      authentication: { jwt: { issuer: ISSUER, audience: AUDIENCE, algorithms: ["RS256"], jwks_uri: jwks.jwksUri, clock_skew: "5s", jwks_cooldown: "300ms" } },
      rate_limiting: { default: { requests_per_second: 1000, burst: 1000 } },
      routes: [
        { path_prefix: "/api/orders", service: "order", upstream: upstream.url, auth: { required: true, roles: ["customer", "admin"] }, claims_to_headers: { "x-user-id": "sub" } },
        { path_prefix: "/api/payments", service: "payment", upstream: upstream.url, auth: { required: true, roles: ["admin"] } },
        { path_prefix: "/api/tenant", service: "tenant", upstream: upstream.url, auth: { required: true, claims: { tenant: ["acme", "globex"] } } },
        { path_prefix: "/api/catalog", service: "catalog", upstream: upstream.url, auth: { required: false } },
      ],
    });
  });

  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
    await jwks?.close();
    cleanTmp();
  });

  it("proxies a valid RS256 token and hands the upstream the caller's id, request id and trace context", async () => {
    const res = await get("/api/orders/42?x=1", sign(claims(), { key: key1 }), { "x-user-id": "mallory", "x-request-id": "req-123" });
    expect(res.status).toBe(200);
    expect(res.headers["x-request-id"]).toBe("req-123");
    const seen = upstream.seen[upstream.seen.length - 1];
    expect(seen.url).toBe("/api/orders/42?x=1");
    expect(seen.headers["x-user-id"]).toBe("alice");
    expect(seen.headers["x-request-id"]).toBe("req-123");
    expect(seen.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("continues the caller's trace with a new span id", async () => {
    const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await get("/api/catalog/x", undefined, { traceparent: parent });
    const tp = String(upstream.seen[upstream.seen.length - 1].headers.traceparent);
    expect(tp.split("-")[1]).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(tp.split("-")[2]).not.toBe("b7ad6b7169203331");
  });

  it("asks for a token with 401 and WWW-Authenticate when none is sent", async () => {
    const res = await get("/api/orders");
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="stratum"');
  });

  it.each([
    ["expired", () => sign(claims({ exp: now() - 60 }), { key: key1 }), "token expired"],
    ["not yet valid", () => sign(claims({ nbf: now() + 120 }), { key: key1 }), "token not yet valid"],
    ["wrong issuer", () => sign(claims({ iss: "https://evil.example/" }), { key: key1 }), "unexpected issuer"],
    ["wrong audience", () => sign(claims({ aud: "other-api" }), { key: key1 }), "unexpected audience"],
    ["alg none", () => sign(claims(), { alg: "none", kid: "key-1" }), "algorithm not allowed"],
    ["HS256 signed with the public key", () => sign(claims(), { alg: "HS256", kid: "key-1", hmacSecret: key1.publicKey.export({ type: "spki", format: "pem" }) as string }), "algorithm not allowed"],
    ["bad signature", () => sign(claims(), { key: { ...key2, kid: "key-1" } }), "signature verification failed"],
    ["without exp", () => sign(claims({ exp: undefined }), { key: key1 }), "invalid claim exp"],
    ["garbage", () => "not.a.token!!", "not a compact JWS"],
    ["oversized", () => "a".repeat(9000), "token too long"],
    ["with a sub that is no string", () => sign(claims({ sub: 42 }), { key: key1 }), "invalid claim sub: must be a string"],
    ["with an unknown critical header", () => sign(claims(), { key: key1, header: { crit: ["x-bank"], "x-bank": 1 } }), "unsupported critical header parameter"],
  ])("refuses a token that is %s with 401 invalid_token", async (_name, token, description) => {
    const res = await get("/api/orders", token());
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe(`Bearer realm="stratum", error="invalid_token", error_description="${description}"`);
    expect(res.json().error).toBe("invalid_token");
  });

  it("accepts a token within the clock skew", async () => {
    const res = await get("/api/orders", sign(claims({ nbf: now() + 2, exp: now() - 2 }), { key: key1 }));
    expect(res.status).toBe(200);
  });

  it("refuses an Authorization header that is not a bearer token", async () => {
    for (const value of ["Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer a b c", "\u00ff\u00fe"]) {
      const res = await request(`${gw.url}/api/orders`, { headers: { authorization: value } });
      expect(res.status).toBe(401);
    }
  });

  it("answers 403 when the roles do not match, and checks claims per route", async () => {
    expect((await get("/api/payments", sign(claims(), { key: key1 }))).status).toBe(403);
    expect((await get("/api/payments", sign(claims({ roles: ["admin"] }), { key: key1 }))).status).toBe(200);
    expect((await get("/api/tenant", sign(claims({ tenant: "globex" }), { key: key1 }))).status).toBe(200);
    const denied = await get("/api/tenant", sign(claims({ tenant: "initech" }), { key: key1 }));
    expect(denied.status).toBe(403);
    expect(denied.json().message).toBe("claim 'tenant' does not match");
  });

  it("lets public routes through without a token", async () => {
    expect((await get("/api/catalog/items")).status).toBe(200);
    expect((await get("/api/catalog/items", "garbage")).status).toBe(200);
  });

  it("refetches the key set for an unknown kid (rotation), at most once per cooldown", async () => {
    jwks.setKeys([key1, key2]);
    await sleep(400);
    const before = jwks.fetches;
    expect((await get("/api/orders", sign(claims(), { key: key2 }))).status).toBe(200);
    expect(jwks.fetches).toBe(before + 1);
    const unknown = await get("/api/orders", sign(claims(), { key: { ...key2, kid: "key-9" } }));
    expect(unknown.status).toBe(401);
    expect(unknown.headers["www-authenticate"]).toContain("no key matches");
    await get("/api/orders", sign(claims(), { key: { ...key2, kid: "key-10" } }));
    expect(jwks.fetches).toBeLessThanOrEqual(before + 2);
  });

  it("authenticates WebSocket upgrades like any request", async () => {
    const raw = (headers: string) =>
      new Promise<string>((resolve) => {
        const s = net.connect(gw.port, "127.0.0.1");
        let out = "";
        s.on("data", (d) => (out += d));
        s.on("close", () => resolve(out));
        s.write(`GET /api/payments/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${headers}\r\n`);
      });
    expect(await raw("")).toMatch(/^HTTP\/1.1 401[\s\S]*www-authenticate: Bearer realm="stratum"/);
    expect(await raw(`Authorization: Bearer ${sign(claims(), { key: key1 })}\r\n`)).toMatch(/^HTTP\/1.1 403/);
  });

  it("counts refused tokens by reason", async () => {
    const text = (await request(`http://127.0.0.1:${gw.metricsPort}/metrics`)).body;
    expect(metricValue(text, "gateway_jwt_failures_total", { reason: "expired" })).toBe(1);
    expect(metricValue(text, "gateway_jwt_failures_total", { reason: "algorithm" })).toBe(2);
    expect(metricValue(text, "gateway_jwt_failures_total", { reason: "missing" })).toBe(2); // one HTTP request, one WebSocket upgrade
    expect(metricValue(text, "gateway_requests_total", { route: "/api/payments", method: "GET", status: "403" })).toBe(1);
  });
});
