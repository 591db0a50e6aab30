import { applyTransform, bearerToken, clientIp, nextTraceparent, requestId, stripHopByHop } from "../src/headers";
import { matchRoute, pathProblem, upstreamPath } from "../src/routing";
import { settingsFrom } from "../src/config";

describe("header handling", () => {
  it("takes the client IP exactly trusted_proxy_hops entries from the right of X-Forwarded-For", () => {
    const h = { "x-forwarded-for": "6.6.6.6, 203.0.113.7" };
    expect(clientIp(h, "10.0.0.5", 1)).toBe("203.0.113.7");
    expect(clientIp(h, "10.0.0.5", 2)).toBe("6.6.6.6");
    expect(clientIp(h, "10.0.0.5", 0)).toBe("10.0.0.5");
    expect(clientIp({}, "::ffff:10.0.0.5", 1)).toBe("10.0.0.5");
    expect(clientIp({ "x-forwarded-for": "not-an-ip, <script>" }, "10.0.0.5", 1)).toBe("10.0.0.5");
    expect(clientIp(h, "10.0.0.5", 5)).toBe("6.6.6.6");
  });

  it("continues a valid trace and starts a new one for missing or invalid traceparents", () => {
    const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const next = nextTraceparent({ traceparent: parent });
    expect(next.started).toBe(false);
    expect(next.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    for (const bad of [undefined, "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]) {
      const t = nextTraceparent(bad ? { traceparent: bad } : {});
      expect(t.started).toBe(true);
      expect(t.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
    const ids = new Set(Array.from({ length: 2000 }, () => nextTraceparent({}).traceparent));
    expect(ids.size).toBe(2000);
  });

  it("keeps a sane X-Request-Id and replaces anything else", () => {
    expect(requestId({ "x-request-id": "abc-123" })).toBe("abc-123");
    expect(requestId({ "x-request-id": "a".repeat(200) })).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestId({ "x-request-id": "evil\"value" })).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("drops hop-by-hop headers and those named by Connection, then applies remove, rename, add", () => {
    const out = stripHopByHop({ connection: "keep-alive, x-secret", "keep-alive": "5", "x-secret": "1", "transfer-encoding": "chunked", upgrade: "h2c", accept: "*/*" });
    expect(out).toEqual({ accept: "*/*" });
    applyTransform(out, { remove: ["accept"], rename: [["x-a", "x-b"]], add: [["x-c", "1"]] });
    expect(out).toEqual({ "x-c": "1" });
  });

  it("reads only bearer tokens", () => {
    expect(bearerToken({})).toBeUndefined();
    expect(bearerToken({ authorization: "Bearer abc.def.ghi" })).toBe("abc.def.ghi");
    expect(bearerToken({ authorization: "bearer abc" })).toBe("abc");
    expect(bearerToken({ authorization: "Basic abc" })).toBeNull();
    expect(bearerToken({ authorization: "Bearer a b" })).toBeNull();
  });
});

describe("routing", () => {
  const settings = settingsFrom({
    gateway: { port: 1, timeout: "1s" },
    routes: [
      { path_prefix: "/", service: "web", upstream: "http://web:80", auth: { required: false } },
      { path_prefix: "/api", service: "api", upstream: "http://api:80", auth: { required: false } },
      { path_prefix: "/api/orders/", service: "orders", upstream: "http://orders:80", auth: { required: false }, strip_prefix: true },
    ],
  });

  it("picks the longest prefix on a segment boundary", () => {
    expect(matchRoute(settings.routes, "/api/orders/1")?.service).toBe("orders");
    expect(matchRoute(settings.routes, "/api/orders")?.service).toBe("orders");
    expect(matchRoute(settings.routes, "/api/ordersx")?.service).toBe("api");
    expect(matchRoute(settings.routes, "/apix")?.service).toBe("web");
    const orders = matchRoute(settings.routes, "/api/orders/1")!;
    expect(upstreamPath(orders, "/api/orders/1", "?a=b")).toBe("/1?a=b");
  });

  it("refuses paths that could be read differently upstream", () => {
    for (const p of ["/a/../b", "/a/./b", "/a/%2E%2E/b", "/a%2fb", "/a%5cb", "/a\\b", "//evil.example/x", "/a\u0000b"]) expect(pathProblem(p)).toBeDefined();
    for (const p of ["/a/b", "/a/..b", "/a/b.json", "/%41"]) expect(pathProblem(p)).toBeUndefined();
  });
});
