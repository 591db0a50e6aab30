// Real servers on loopback for the gateway tests: a JWKS endpoint with generated RSA keys, upstream HTTP servers,
// and the gateway itself run from its bundle (the same file `npm run start:gateway` runs) in a child process.
import { ChildProcess, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const BUNDLE = path.resolve(__dirname, "..", "..", "..", "lib", "assets", "gateway", "index.js");

/** An RSA signing key with its kid. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: crypto.KeyObject;
  readonly publicKey: crypto.KeyObject;
}

/** Generates an RSA key pair. */
export function rsaKey(kid: string): SigningKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** Signs a JWT by hand, so that tests can also build the tokens a correct library refuses to make. */
export function sign(payload: Record<string, unknown>, opts: { key?: SigningKey; alg?: string; kid?: string; hmacSecret?: Buffer | string; header?: Record<string, unknown> } = {}): string {
  const alg = opts.alg ?? "RS256";
  const header: Record<string, unknown> = { alg, typ: "JWT", ...opts.header };
  const kid = opts.kid ?? opts.key?.kid;
  if (kid) header.kid = kid;
  const input = `${b64(header)}.${b64(payload)}`;
  if (alg === "none") return `${input}.`;
  if (alg === "HS256") return `${input}.${crypto.createHmac("sha256", opts.hmacSecret as Buffer).update(input).digest("base64url")}`;
  if (!opts.key) throw new Error("sign: key required");
  return `${input}.${crypto.sign("sha256", Buffer.from(input), opts.key.privateKey).toString("base64url")}`;
}

/** A running HTTP server. */
export interface Running {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a server on a free loopback port. */
export async function listen(server: http.Server): Promise<Running> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A JWKS endpoint whose key set can be changed and whose fetches are counted. */
export async function startJwks(keys: SigningKey[]): Promise<Running & { fetches: number; setKeys(keys: SigningKey[]): void; jwksUri: string }> {
  let current = keys;
  const state = { fetches: 0 };
  const server = http.createServer((_req, res) => {
    state.fetches++;
    const body = JSON.stringify({ keys: current.map((k) => ({ ...k.publicKey.export({ format: "jwk" }), kid: k.kid, alg: "RS256", use: "sig" })) });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  });
  const running = await listen(server);
  const result = Object.assign(running, {
    fetches: 0,
    setKeys(k: SigningKey[]) {
      current = k;
    },
    jwksUri: `${running.url}/.well-known/jwks.json`,
  });
  Object.defineProperty(result, "fetches", { get: () => state.fetches });
  return result;
}

/** What an upstream saw. */
export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** An upstream that records requests and answers with `respond` (default: 200 JSON echo of the path). */
export async function startUpstream(respond?: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void): Promise<Running & { seen: Seen[]; server: http.Server }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      if (respond) return respond(req, res, body);
      res.writeHead(200, { "content-type": "application/json", "x-powered-by": "upstream", "x-internal": "secret" });
      res.end(JSON.stringify({ path: req.url }));
    });
  });
  const running = await listen(server);
  return Object.assign(running, { seen, server });
}

/** A gateway child process. */
export interface GatewayProcess {
  readonly port: number;
  readonly metricsPort: number;
  readonly url: string;
  readonly child: ChildProcess;
  readonly stdout: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const tmpDirs: string[] = [];

/** Writes a config file into a fresh temp dir. */
export function writeConfig(config: unknown, name = "gateway.yaml"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gateway-test-"));
  tmpDirs.push(dir);
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config, null, 2));
  return file;
}

/** Removes the temp dirs written by `writeConfig`. */
export function cleanTmp(): void {
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Runs the bundle with arguments to completion (for configuration errors). */
export function runBundle(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BUNDLE, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts the gateway bundle with a config (ports 0 unless given) and waits until it listens. */
export async function startGateway(config: Record<string, any>): Promise<GatewayProcess> {
  const cfg = { ...config, gateway: { port: 0, metrics_port: 0, host: "127.0.0.1", timeout: "5s", ...config.gateway } };
  const file = writeConfig(cfg, "gateway.json");
  const child = spawn(process.execPath, [BUNDLE, "--config", file], { env: { ...process.env, GATEWAY_ACCESS_LOG: "false" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const ports = await new Promise<{ port: number; metricsPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${out}${err}`)), 15000);
    child.stdout!.on("data", (d) => {
      out += d;
      for (const line of out.split("\n")) {
        if (!line.includes("gateway listening")) continue;
        const j = JSON.parse(line);
        clearTimeout(timer);
        resolve({ port: j.port, metricsPort: j.metrics_port });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}: ${err}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    ...ports,
    url: `http://127.0.0.1:${ports.port}`,
    child,
    stdout: () => out,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Response of `request`. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: () => any;
}

/** One HTTP request with a fresh connection. */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of one metric sample (first matching line) from a Prometheus text page. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? "").matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

/** Writes raw bytes on a fresh connection and collects everything until the gateway closes it or `ms` pass. */
export function raw(port: number, onConnect: (s: net.Socket) => void, ms = 3000): Promise<{ text: string; closedByPeer: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => onConnect(s));
    let text = "";
    let done = false;
    const finish = (closedByPeer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closedByPeer });
    };
    const timer = setTimeout(() => finish(false), ms);
    s.on("data", (d) => (text += d.toString("latin1")));
    s.on("end", () => finish(true));
    s.on("close", () => finish(true));
    s.on("error", () => finish(true));
  });
}

/** An upstream that writes `answer(path)` as raw bytes once a request head has arrived. */
export async function rawUpstream(answer: (path: string) => string): Promise<Running> {
  const server = net.createServer((s) => {
    let buf = "";
    s.on("data", (d) => {
      buf += d.toString("latin1");
      if (!buf.includes("\r\n\r\n")) return;
      s.end(answer(buf.split(" ")[1]), "latin1");
    });
    s.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
