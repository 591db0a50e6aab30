/** One Kibana data view. */
export interface DataViewSpec {
  /** Stable id: creating it again replaces it (`override`), so the Job is idempotent. */
  readonly id: string;
  /** Index pattern, e.g. `logs-k8s-*`. */
  readonly title: string;
  /** Display name. */
  readonly name: string;
  /** The time field. */
  readonly timeFieldName: string;
}

/** The program's configuration file, all data. */
export interface DataViewsConfig {
  /** Data views to create or replace. */
  readonly dataViews: ReadonlyArray<DataViewSpec>;
  /** Id of the data view Discover opens by default. */
  readonly defaultId: string;
  /** Give up (exit 1, so that the Job retries) after this many seconds. */
  readonly deadlineSeconds: number;
  /** Longest pause between attempts, in milliseconds. */
  readonly maxBackoffMs: number;
}

/**
 * A small Node program (built-ins only) that creates Kibana data views through Kibana's API: it waits until Kibana
 * reports itself available, then creates or replaces each data view by its fixed id and sets the default one.
 * Transient answers (network errors, 429, 5xx) are retried with back-off until the deadline; any other 4xx stops it
 * with the status and body. Environment: KIBANA_URL, KIBANA_USERNAME, KIBANA_PASSWORD, KIBANA_CA_FILE (optional),
 * DATA_VIEWS_CONFIG (path of the JSON configuration).
 */
export function dataViewsProgram(): string {
  return `"use strict";
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");

const log = (level, msg, extra) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...extra }) + "\\n");
const env = (name) => { const v = process.env[name]; if (!v) { log("error", "missing environment variable", { name }); process.exit(2); } return v; };
const base = new URL(env("KIBANA_URL"));
const auth = "Basic " + Buffer.from(env("KIBANA_USERNAME") + ":" + env("KIBANA_PASSWORD")).toString("base64");
const ca = process.env.KIBANA_CA_FILE ? fs.readFileSync(process.env.KIBANA_CA_FILE) : undefined;
const config = JSON.parse(fs.readFileSync(env("DATA_VIEWS_CONFIG"), "utf8"));
const deadline = Date.now() + config.deadlineSeconds * 1000;

class Permanent extends Error {}

function request(method, path, body) {
  const url = new URL(path, base);
  const lib = url.protocol === "https:" ? https : http;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = lib.request(url, {
      method, ca, timeout: 10000,
      headers: { authorization: auth, "kbn-xsrf": "stratum", accept: "application/json", ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}) },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => { if (text.length < 65536) text += c; });
      res.on("end", () => resolve({ status: res.statusCode, text }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(payload);
  });
}

async function attempt(what, fn) {
  let pause = 500;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof Permanent) throw e;
      if (Date.now() + pause > deadline) throw new Error(what + ": gave up at the deadline: " + e.message);
      log("warn", what + ": retrying", { error: e.message, pauseMs: pause });
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, config.maxBackoffMs);
    }
  }
}

async function call(method, path, body) {
  const res = await request(method, path, body);
  if (res.status >= 200 && res.status < 300) return res;
  const detail = method + " " + path + " answered " + res.status + ": " + res.text.slice(0, 500);
  if (res.status === 429 || res.status >= 500 || res.status === 401 && path === "/api/status") throw new Error(detail);
  throw new Permanent(detail);
}

async function main() {
  await attempt("waiting for Kibana", async () => {
    const res = await call("GET", "/api/status");
    const level = JSON.parse(res.text || "{}")?.status?.overall?.level;
    if (level !== "available") throw new Error("Kibana is " + (level || "not reporting a status"));
  });
  for (const dv of config.dataViews) {
    await attempt("data view " + dv.id, () => call("POST", "/api/data_views/data_view", { data_view: { id: dv.id, title: dv.title, name: dv.name, timeFieldName: dv.timeFieldName }, override: true }));
    log("info", "data view applied", { id: dv.id, title: dv.title });
  }
  await attempt("default data view", () => call("POST", "/api/data_views/default", { data_view_id: config.defaultId, force: true }));
  log("info", "default data view set", { id: config.defaultId });
}

main().then(() => process.exit(0), (e) => { log("error", e.message); process.exit(1); });
`;
}
