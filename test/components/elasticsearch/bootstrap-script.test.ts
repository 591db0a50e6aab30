import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { BootstrapConfig, bootstrapProgram } from "../../../components/elasticsearch/bootstrap-script";
import { ilmPolicy, indexTemplate, IndexFamily, LifecycleSettings, slmPolicy, snapshotRepository } from "../../../components/elasticsearch/lifecycle";

/**
 * The bootstrap program, run from its generated source with node against an Elasticsearch stand-in on loopback that
 * answers GETs the way Elasticsearch does (wrapped bodies, settings nested and numbers as strings).
 */
class FakeElasticsearch {
  readonly store = new Map<string, any>();
  readonly requests: string[] = [];
  health: string[] = ["red", "yellow", "green"];
  auth?: string;
  private server = http.createServer((req, res) => this.handle(req, res));
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as any).port;
  }
  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const url = new URL(req.url!, "http://x");
      this.requests.push(`${req.method} ${url.pathname}`);
      this.auth = req.headers.authorization;
      const send = (status: number, json: unknown) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(json)); };
      if (url.pathname === "/_cluster/health") return send(200, { status: this.health.length > 1 ? this.health.shift() : this.health[0] });
      if (req.method === "PUT") { this.store.set(url.pathname, JSON.parse(body)); return send(200, { acknowledged: true }); }
      if (req.method !== "GET") return send(405, { error: "unexpected method" });
      const stored = this.store.get(url.pathname);
      if (!stored) return send(404, { error: "not found" });
      const name = url.pathname.split("/").pop()!;
      if (url.pathname.startsWith("/_ilm/policy/")) return send(200, { [name]: { version: 3, modified_date: "2026-01-01", policy: stored.policy } });
      if (url.pathname.startsWith("/_slm/policy/")) return send(200, { [name]: { version: 1, policy: stored } });
      if (url.pathname.startsWith("/_index_template/")) return send(200, { index_templates: [{ name, index_template: echo(stored) }] });
      if (url.pathname.startsWith("/_security/user/")) { const { password: _pw, ...rest } = stored; return send(200, { [name]: { username: name, enabled: true, ...rest } }); }
      return send(200, { [name]: echo(stored) });
    });
  }
}

/** What Elasticsearch returns for what was PUT: dotted settings nested, numbers as strings. */
function echo(body: any): any {
  const out = JSON.parse(JSON.stringify(body));
  const settings = out.template?.settings ?? out.settings;
  if (settings) {
    const nested: any = {};
    for (const [k, v] of Object.entries(settings)) {
      const parts = k.split(".");
      let at = nested;
      for (const p of parts.slice(0, -1)) at = at[p] ??= {};
      at[parts[parts.length - 1]] = typeof v === "number" || typeof v === "boolean" ? String(v) : v;
    }
    if (out.template?.settings) out.template.settings = nested;
    else out.settings = nested;
  }
  return out;
}

const logs: IndexFamily = { name: "logs", indexPatterns: ["logs-k8s-*"], retentionDays: 14, indexTemplate: true };
const lifecycle: LifecycleSettings = { warmAfterDays: 2, warmTier: true, shards: 1, replicas: 1 };
const snapshots = { repository: "stratum-backups", bucket: "stratum-prod-backups", basePath: "elasticsearch/prod", schedule: "0 30 1 * * ?", retentionDays: 30 };
const config: BootstrapConfig = {
  waitForStatus: "green",
  deadlineSeconds: 20,
  maxBackoffMs: 50,
  resources: [
    { kind: "role", name: "stratum_client", path: "/_security/role/stratum_client", body: { cluster: ["monitor"], metadata: { managed_by: "stratum" } } },
    { kind: "user", name: "fluent-bit", path: "/_security/user/fluent-bit", body: { roles: ["stratum_client"], metadata: { managed_by: "stratum" } }, passwordEnv: "ES_PASSWORD_FLUENT_BIT" },
    { kind: "ilm", name: "stratum-logs", path: "/_ilm/policy/stratum-logs", body: ilmPolicy(logs, lifecycle) as never },
    { kind: "index-template", name: "stratum-logs", path: "/_index_template/stratum-logs", body: indexTemplate(logs, lifecycle) },
    { kind: "repository", name: "stratum-backups", path: "/_snapshot/stratum-backups", body: snapshotRepository(snapshots) },
    { kind: "slm", name: "stratum-nightly", path: "/_slm/policy/stratum-nightly", body: slmPolicy(snapshots) },
  ],
};

let dir: string;
let es: FakeElasticsearch;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-es-bootstrap-"));
  fs.writeFileSync(path.join(dir, "main.js"), bootstrapProgram());
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  es = new FakeElasticsearch();
  await es.start();
});
afterEach(() => es.stop());

function run(cfg: BootstrapConfig, env: Record<string, string> = {}): Promise<{ code: number; lines: any[] }> {
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(cfg));
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(dir, "main.js")], {
      env: { PATH: process.env.PATH, ES_URL: `http://127.0.0.1:${es.port}`, ES_USERNAME: "elastic", ES_PASSWORD: "admin-pw", BOOTSTRAP_CONFIG: path.join(dir, "config.json"), ES_PASSWORD_FLUENT_BIT: "fb-pw", ...env },
    });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("exit", (code) => resolve({ code: code ?? -1, lines: out.trim().split("\n").filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return { raw: l }; } }) }));
  });
}

describe("the Elasticsearch bootstrap program", () => {
  it("waits for a green cluster, then creates every resource with the admin's credentials", async () => {
    const r = await run(config);
    expect(r.code).toBe(0);
    expect(es.requests.filter((x) => x === "GET /_cluster/health")).toHaveLength(3);
    expect(es.auth).toBe(`Basic ${Buffer.from("elastic:admin-pw").toString("base64")}`);
    expect([...es.store.keys()]).toEqual(config.resources.map((x) => x.path));
    expect(r.lines.filter((l) => l.msg === "created").map((l) => l.name)).toEqual(["stratum_client", "fluent-bit", "stratum-logs", "stratum-logs", "stratum-backups", "stratum-nightly"]);
  });

  it("creates users with the password from its environment only", async () => {
    await run(config);
    expect(es.store.get("/_security/user/fluent-bit")).toEqual({ roles: ["stratum_client"], metadata: { managed_by: "stratum" }, password: "fb-pw" });
    expect(fs.readFileSync(path.join(dir, "config.json"), "utf8")).not.toContain("fb-pw");
  });

  it("is idempotent: a second run changes nothing but re-sets user passwords", async () => {
    await run(config);
    es.requests.length = 0;
    const r = await run(config);
    expect(r.code).toBe(0);
    expect(es.requests.filter((x) => x.startsWith("PUT"))).toEqual(["PUT /_security/user/fluent-bit"]);
    expect(r.lines.find((l) => l.msg === "bootstrap complete")).toMatchObject({ unchanged: 5, updated: 1 });
  });

  it("updates what it owns when the desired state changes", async () => {
    await run(config);
    es.requests.length = 0;
    const longer = { ...config, resources: config.resources.map((x) => (x.kind === "ilm" ? { ...x, body: ilmPolicy({ ...logs, retentionDays: 30 }, lifecycle) as never } : x)) };
    await run(longer);
    expect(es.requests).toContain("PUT /_ilm/policy/stratum-logs");
    expect(es.store.get("/_ilm/policy/stratum-logs").policy.phases.delete.min_age).toBe("30d");
  });

  it("leaves alone what someone else created, and never deletes", async () => {
    es.store.set("/_ilm/policy/stratum-logs", { policy: { phases: { delete: { min_age: "1d", actions: { delete: {} } } } } });
    const r = await run(config);
    expect(r.code).toBe(0);
    expect(es.requests).not.toContain("PUT /_ilm/policy/stratum-logs");
    expect(es.store.get("/_ilm/policy/stratum-logs").policy.phases.delete.min_age).toBe("1d");
    expect(r.lines.find((l) => l.level === "warn")).toMatchObject({ kind: "ilm", name: "stratum-logs", msg: "exists and is not managed by stratum: left alone" });
    expect(es.requests.some((x) => x.startsWith("DELETE"))).toBe(false);
  });

  it("accepts yellow on a single data node", async () => {
    es.health = ["red", "yellow"];
    const r = await run({ ...config, waitForStatus: "yellow" });
    expect(r.code).toBe(0);
    expect(r.lines.find((l) => l.msg === "cluster is healthy")).toMatchObject({ status: "yellow" });
  });

  it("exits non-zero (the Job retries) when the cluster never gets healthy in time", async () => {
    es.health = ["red"];
    const r = await run({ ...config, deadlineSeconds: 1 });
    expect(r.code).toBe(1);
    expect(r.lines[r.lines.length - 1]).toMatchObject({ level: "error", error: "cluster not green after 1s" });
    expect(es.requests.some((x) => x.startsWith("PUT"))).toBe(false);
  });

  it("fails when a user's password is missing rather than creating a user without one", async () => {
    const r = await run(config, { ES_PASSWORD_FLUENT_BIT: "" });
    expect(r.code).toBe(1);
    expect(r.lines[r.lines.length - 1].error).toBe("user fluent-bit: ES_PASSWORD_FLUENT_BIT is empty");
  });
});
