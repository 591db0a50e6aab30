import * as path from "node:path";
import { ConfigError, loadConfig, parseConfigText, settingsFrom } from "../src/config";
import { cleanTmp, runBundle, writeConfig } from "./support";

const EXAMPLE = path.resolve(__dirname, "..", "config.example.yaml");
const minimal = (extra: Record<string, unknown> = {}) => ({
  gateway: { port: 8080, timeout: "30s" },
  routes: [{ path_prefix: "/api/catalog", service: "catalog", upstream: "http://catalog:8080", auth: { required: false } }],
  ...extra,
});

function problems(data: unknown): string[] {
  try {
    settingsFrom(data);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

afterAll(cleanTmp);

describe("gateway configuration", () => {
  it("loads the sample configuration with its defaults", () => {
    const s = loadConfig(EXAMPLE);
    expect(s.port).toBe(8080);
    expect(s.metricsPort).toBe(9090);
    expect(s.timeoutMs).toBe(30_000);
    expect(s.jwt).toMatchObject({ algorithms: ["RS256"], audience: ["stratum-api"], clockSkewSec: 30 });
    expect(s.breaker).toEqual({ failureThreshold: 5, recoveryTimeoutMs: 30_000, successThreshold: 2 });
    expect(s.rateLimit.services.get("payment")).toEqual({ rate: 500, burst: 1000 });
    expect(s.routes.find((r) => r.service === "payment")?.timeoutMs).toBe(10_000);
  });

  it("names every problem of a hostile file by path", () => {
    const found = problems({
      gateway: { port: 70000, timeout: "soon", extra: true },
      authentication: { jwt: { issuer: "", audience: [], algorithms: ["HS256", "none"], jwks_uri: "file:///etc/passwd" } },
      rate_limiting: { default: { requests_per_second: -1, burst: 1.5 } },
      circuit_breaker: { failure_threshold: 0, recovery_timeout: "30s" },
      routes: [{ path_prefix: "../etc", service: "Bad_Name", upstream: "http://x/y", headers: { request: { add: { "bad header": "v\r\ninjected" } } } }],
    });
    expect(found).toEqual(
      expect.arrayContaining([
        "gateway: unknown key 'extra'",
        "gateway.port: must be <= 65535 (got 70000)",
        "gateway.timeout: must be a duration such as 500ms, 30s, 5m (got \"soon\")",
        "authentication.jwt.issuer: must NOT have fewer than 1 characters (got \"\")",
        'authentication.jwt.algorithms[0]: must be one of "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA" (got "HS256")',
        "authentication.jwt.jwks_uri: must be an http(s) URL (got \"file:///etc/passwd\")",
        "rate_limiting.default.requests_per_second: must be > 0 (got -1)",
        "rate_limiting.default.burst: must be integer (got 1.5)",
        "circuit_breaker.success_threshold: is required",
        "circuit_breaker.failure_threshold: must be >= 1 (got 0)",
        "routes[0].path_prefix: must be a path starting with / (letters, digits, . _ ~ / -) (got \"../etc\")",
        "routes[0].service: must be a DNS label such as order (got \"Bad_Name\")",
      ]),
    );
    expect(found.some((p) => p.startsWith("routes[0].upstream: must be an http(s) base URL"))).toBe(true);
    expect(found.some((p) => p.startsWith("routes[0].headers.request.add"))).toBe(true);
  });

  it("refuses header values that HTTP cannot carry, naming the header", () => {
    const route = (value: string) => ({ path_prefix: "/api/catalog", service: "catalog", upstream: "http://catalog:8080", auth: { required: false }, headers: { request: { add: { "x-team": value } } } });
    expect(problems(minimal({ routes: [route("shop\tfront ü")] }))).toEqual([]);
    for (const bad of ["李雷", "a\u0001b", "line\nbreak"]) {
      expect(problems(minimal({ routes: [route(bad)] }))).toEqual([expect.stringContaining("routes[0].headers.request.add.x-team")]);
    }
  });

  it("checks consistency between sections", () => {
    expect(problems(minimal({ routes: [{ path_prefix: "/a", service: "a", upstream: "http://a:1" }] }))).toEqual(["routes[0].auth.required: needs the authentication.jwt section"]);
    expect(
      problems(minimal({ routes: [
        { path_prefix: "/a", service: "a", upstream: "http://a:1", auth: { required: false } },
        { path_prefix: "/a/", service: "b", upstream: "http://b:1", auth: { required: false } },
      ] })),
    ).toEqual(['routes[1].path_prefix: "/a/" is already routed by routes[0]']);
    expect(problems(minimal({ gateway: { port: 8080, metrics_port: 8080, timeout: "1s" } }))).toEqual(["gateway.metrics_port: must differ from gateway.port (both 8080)"]);
    const jwt = { issuer: "i", audience: "a", algorithms: ["RS256"], jwks_uri: "http://idp/jwks", clock_skew: "10m" };
    expect(problems(minimal({ authentication: { jwt } }))).toEqual(['authentication.jwt.clock_skew: must be at most 5m (got "10m")']);
  });

  it("refuses prototype keys and anchors used to blow up the document", () => {
    expect(problems(parseConfigText('{"gateway": {"port": 1, "timeout": "1s"}, "routes": [], "__proto__": {"polluted": true}}', "x"))).toEqual(["(root): unknown key '__proto__'"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]", ...Array.from({ length: 60 }, (_, i) => `${String.fromCharCode(98 + (i % 20))}${i}: &n${i} [*a, *a, *a, *a, *a, *a, *a, *a, *a]`)].join("\n");
    expect(() => parseConfigText(bomb, "bomb")).toThrow(/alias/i);
  });

  it("reports syntax errors with their position", () => {
    expect(() => parseConfigText('{"gateway": {"port": 1,}', "bad.json")).toThrow(/bad\.json: 1 problem:\n  - syntax: .* at line 1, column \d+/);
  });

  it("stops the process with exit code 1 and every problem on stderr", async () => {
    const file = writeConfig("gateway: { port: -1, timeout: 30 }\nroutes: {}\n");
    const res = await runBundle(["--config", file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`error: ${file}: 3 problems:`);
    expect(res.stderr).toContain("  - gateway.port: must be >= 0 (got -1)");
    expect(res.stderr).toContain("  - gateway.timeout: must be string (got 30)");
    expect(res.stderr).toContain("  - routes: must be array (got {})");
  });

  it("exits non-zero for a missing file, bad JSON and a missing --config", async () => {
    expect((await runBundle(["--config", "/nonexistent/gateway.yaml"])).stderr).toContain("cannot read");
    const bad = await runBundle(["--config", writeConfig("{ not json", "bad.json")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("syntax:");
    const none = await runBundle([], { GATEWAY_CONFIG: "" });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--config FILE is required");
  });

  it("validates without starting when asked (--check)", async () => {
    const res = await runBundle(["--config", EXAMPLE, "--check"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("ok (3 routes)");
  });
});
