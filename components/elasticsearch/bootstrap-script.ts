/** Kinds of Elasticsearch objects the bootstrap applies, in the order it applies them. */
export type BootstrapKind = "role" | "user" | "ilm" | "index-template" | "repository" | "slm";

/** One object to apply: `PUT path body` when it is missing or differs, and only when Stratum owns it. */
export interface BootstrapResource {
  /** What it is. */
  readonly kind: BootstrapKind;
  /** Its name in Elasticsearch. */
  readonly name: string;
  /** API path, e.g. `/_ilm/policy/stratum-logs`. */
  readonly path: string;
  /** The body to PUT (a user's password is added from `passwordEnv` at run time, never stored here). */
  readonly body: Record<string, unknown>;
  /** Environment variable with a user's password. */
  readonly passwordEnv?: string;
}

/** The bootstrap's configuration file (ConfigMap), all data. */
export interface BootstrapConfig {
  /** `green`, or `yellow` on a single data node (replicas can never be assigned there). */
  readonly waitForStatus: "green" | "yellow";
  /** Give up (exit 1, so that the Job retries with back-off) after this many seconds. */
  readonly deadlineSeconds: number;
  /** Longest pause between health checks, in milliseconds. */
  readonly maxBackoffMs: number;
  /** What to apply, in order. */
  readonly resources: ReadonlyArray<BootstrapResource>;
}

/**
 * The bootstrap program. It runs as the Job's only code, from its own source text (`bootstrapProgram()`), so it uses
 * nothing outside its body but Node's built-ins. It waits until the cluster is healthy, then applies each resource
 * idempotently: missing -> created; present, owned (`_meta`/`metadata.managed_by: stratum`, or a `stratum-` named
 * repository or SLM policy) and different -> updated; present and not owned -> left alone. It never deletes anything.
 * Environment: ES_URL, ES_USERNAME, ES_PASSWORD, ES_CA_FILE (optional), BOOTSTRAP_CONFIG.
 */
export function bootstrapMain(): void {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const fs = require("node:fs");
  const http = require("node:http");
  const https = require("node:https");
  const env = process.env;
  const log = (level: string, msg: string, extra: Record<string, unknown> = {}) =>
    console.log(JSON.stringify({ time: new Date().toISOString(), level, msg, ...extra }));
  const config = JSON.parse(fs.readFileSync(env.BOOTSTRAP_CONFIG || "/etc/bootstrap/config.json", "utf8"));
  const base = new URL(env.ES_URL || "https://localhost:9200");
  const auth = "Basic " + Buffer.from(`${env.ES_USERNAME || ""}:${env.ES_PASSWORD || ""}`).toString("base64");
  const ca = env.ES_CA_FILE ? fs.readFileSync(env.ES_CA_FILE) : undefined;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  function request(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    return new Promise((resolve, reject) => {
      const lib = base.protocol === "https:" ? https : http;
      const req = lib.request(
        { method, hostname: base.hostname, port: base.port, path, ca, timeout: 60000, headers: { authorization: auth, accept: "application/json", "content-type": "application/json" } },
        (res: any) => {
          let data = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (data += c));
          res.on("end", () => {
            let json: any;
            try { json = data ? JSON.parse(data) : undefined; } catch { json = undefined; }
            resolve({ status: res.statusCode, json });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("request timed out")));
      req.on("error", reject);
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });
  }

  async function waitForHealth(): Promise<void> {
    const deadline = Date.now() + config.deadlineSeconds * 1000;
    let delay = 500;
    for (;;) {
      try {
        const r = await request("GET", `/_cluster/health?wait_for_status=${config.waitForStatus}&timeout=30s`);
        const status = r.json && r.json.status;
        if (r.status === 200 && (status === "green" || (config.waitForStatus === "yellow" && status === "yellow"))) {
          log("info", "cluster is healthy", { status });
          return;
        }
        log("info", "waiting for the cluster", { http: r.status, status });
      } catch (e: any) {
        log("info", "cluster not reachable yet", { error: String((e && e.message) || e) });
      }
      if (Date.now() > deadline) throw new Error(`cluster not ${config.waitForStatus} after ${config.deadlineSeconds}s`);
      await sleep(delay);
      delay = Math.min(delay * 2, config.maxBackoffMs);
    }
  }

  function current(kind: string, name: string, json: any): any {
    if (!json) return undefined;
    if (kind === "ilm" || kind === "slm") return json[name] && json[name].policy;
    if (kind === "index-template") return json.index_templates && json.index_templates[0] && json.index_templates[0].index_template;
    return json[name];
  }

  function owned(kind: string, name: string, existing: any): boolean {
    if (kind === "repository" || kind === "slm") return name.startsWith("stratum-");
    const meta = kind === "ilm" || kind === "index-template" ? existing._meta : existing.metadata;
    return !!meta && meta.managed_by === "stratum";
  }

  // Elasticsearch echoes numbers in settings as strings, and adds fields of its own: compare what we asked for only.
  function contains(want: any, have: any): boolean {
    if (want === null || typeof want !== "object") return have !== undefined && have !== null && String(want) === String(have);
    if (Array.isArray(want)) return Array.isArray(have) && want.length === have.length && want.every((w, i) => contains(w, have[i]));
    if (!have || typeof have !== "object") return false;
    return Object.keys(want).every((k) => contains(want[k], have[k] !== undefined ? have[k] : flat(have)[k]));
  }
  function flat(obj: any, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
    for (const [k, v] of Object.entries(obj)) {
      if (v && typeof v === "object" && !Array.isArray(v)) flat(v, `${prefix}${k}.`, out);
      else out[`${prefix}${k}`] = v;
    }
    return out;
  }

  async function apply(r: any): Promise<string> {
    const body = r.kind === "user" ? { ...r.body, password: env[r.passwordEnv] } : r.body;
    if (r.kind === "user" && !body.password) throw new Error(`user ${r.name}: ${r.passwordEnv} is empty`);
    const got = await request("GET", r.path);
    if (got.status === 200) {
      const existing = current(r.kind, r.name, got.json);
      if (existing && !owned(r.kind, r.name, existing)) return "foreign";
      // PUT _ilm/policy takes {policy}, GET answers the policy itself
      const want = r.kind === "ilm" ? r.body.policy : r.body;
      if (existing && r.kind !== "user" && contains(want, existing)) return "unchanged";
    } else if (got.status !== 404) {
      throw new Error(`GET ${r.path}: HTTP ${got.status} ${JSON.stringify(got.json)}`);
    }
    const put = await request("PUT", r.path, body);
    if (put.status < 200 || put.status > 299) throw new Error(`PUT ${r.path}: HTTP ${put.status} ${JSON.stringify(put.json)}`);
    return got.status === 404 ? "created" : "updated";
  }

  (async () => {
    await waitForHealth();
    const counts: Record<string, number> = {};
    for (const r of config.resources) {
      const outcome = await apply(r);
      counts[outcome] = (counts[outcome] || 0) + 1;
      log(outcome === "foreign" ? "warn" : "info", outcome === "foreign" ? "exists and is not managed by stratum: left alone" : outcome, { kind: r.kind, name: r.name });
    }
    log("info", "bootstrap complete", counts);
  })().catch((e) => {
    log("error", "bootstrap failed", { error: String((e && e.message) || e) });
    process.exit(1);
  });
}

/** The Job's program: `bootstrapMain`'s own (compiled) source, called once. */
export function bootstrapProgram(): string {
  return `"use strict";\n(${bootstrapMain.toString()})();\n`;
}
