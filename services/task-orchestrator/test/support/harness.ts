import * as http from "node:http";
import { AddressInfo } from "node:net";
import { App, AppOptions } from "../../src/app";
import { Config, parseConfig } from "../../src/config";
import { migrate } from "../../src/db";

/** A config for tests: loopback ports chosen by the OS, fast timings, silent logs. */
export function testConfig(databaseUrl: string, overrides: Record<string, any> = {}): Config {
  const base: Record<string, any> = {
    http: { host: "127.0.0.1", port: 0 },
    metrics: { port: 0 },
    database: { url: databaseUrl, poolSize: 10 },
    worker: { concurrency: 2, leaseSeconds: 2, heartbeatSeconds: 0.2, pollMs: 20, reclaimSeconds: 0.2, progressIntervalMs: 0 },
    retry: { maxRetries: 2, baseDelayMs: 50, maxDelayMs: 1000, jitter: 0 },
    shutdown: { delaySeconds: 0, drainSeconds: 2 },
    logging: { silent: true },
  };
  for (const [k, v] of Object.entries(overrides)) base[k] = { ...(base[k] ?? {}), ...v };
  return parseConfig(base, {}, "test");
}

/** Starts an App (migrated, listening) and returns it with a small JSON client. */
export async function startApp(config: Config, options: AppOptions = {}) {
  const app = new App(config, { defaultMetrics: false, ...options });
  await app.start();
  const base = `http://127.0.0.1:${app.port}`;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = text; }
    return { status: res.status, body: json, headers: res.headers };
  };
  return { app, base, call };
}

/** Polls `fn` until it returns a truthy value (or fails after `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 15000, what = "condition"): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** A fake Dapr sidecar: records every publish call. */
export async function startFakeDapr(fail = 0) {
  const published: Array<{ pubsub: string; topic: string; contentType: string; event: any }> = [];
  let failures = fail;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const m = /^\/v1\.0\/publish\/([^/]+)\/([^/]+)$/.exec(req.url ?? "");
      if (!m || req.method !== "POST") { res.writeHead(404).end(); return; }
      if (failures > 0) { failures--; res.writeHead(500).end("boom"); return; }
      published.push({ pubsub: decodeURIComponent(m[1]), topic: decodeURIComponent(m[2]), contentType: String(req.headers["content-type"]), event: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    published,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export { migrate };
