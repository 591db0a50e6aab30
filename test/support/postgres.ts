import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";

/** A throwaway PostgreSQL server for tests: a fresh cluster in a temporary folder, on a random loopback port. */
export interface TestPostgres {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The port it listens on. */
  readonly port: number;
  /** Superuser name (authentication is `trust` on loopback). */
  readonly user: string;
  /** Connection URL of the `postgres` database. */
  readonly url: string;
  /** The cluster's data directory (inside a temporary folder removed by `stop`). */
  readonly dataDir: string;
  /** Creates an empty database (a fresh name when none is given) and returns its connection URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (immediate shutdown) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of `startPostgres`. */
export interface StartPostgresOptions {
  /** Extra server settings (`-c name=value`). @default none; fsync and synchronous_commit are off for speed */
  readonly settings?: Readonly<Record<string, string | number>>;
  /** Seconds to wait for the server to accept connections. @default 30 */
  readonly startTimeoutSeconds?: number;
}

const SUPERUSER = "postgres";
let databaseCounter = 0;

function binary(name: string): string {
  // Debian keeps the server binaries out of PATH; CI links them into /usr/local/bin (scripts/install-system-tools.sh).
  const onPath = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (onPath.status === 0 && onPath.stdout.trim()) return onPath.stdout.trim();
  const debian = fs.existsSync("/usr/lib/postgresql") ? fs.readdirSync("/usr/lib/postgresql").sort().reverse() : [];
  for (const version of debian) {
    const candidate = path.join("/usr/lib/postgresql", version, "bin", name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`test postgres: '${name}' is neither on PATH nor under /usr/lib/postgresql/*/bin; run scripts/install-system-tools.sh`);
}

/** PostgreSQL refuses to run as root; as root the cluster runs as the `postgres` system user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", SUPERUSER], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", SUPERUSER], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    throw new Error("test postgres: running as root needs a 'postgres' system user to own the cluster (PostgreSQL refuses root)");
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function run(file: string, args: string[], user: { uid: number; gid: number } | undefined, what: string): void {
  const result = spawnSync(file, args, { encoding: "utf8", uid: user?.uid, gid: user?.gid, env: { ...process.env, LC_ALL: "C", LANG: "C" } });
  if (result.status !== 0) {
    throw new Error(`test postgres: ${what} failed (exit ${result.status}): ${(result.stderr || result.stdout || String(result.error)).trim()}`);
  }
}

const running = new Set<string>();
let exitHookInstalled = false;

function installExitHook(pgCtl: string, user: { uid: number; gid: number } | undefined): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // a test that forgets stop() (or a crash) must not leave servers behind
  process.once("exit", () => {
    for (const dir of running) {
      spawnSync(pgCtl, ["-D", path.join(dir, "data"), "-m", "immediate", "-w", "stop"], { uid: user?.uid, gid: user?.gid });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * Starts a throwaway PostgreSQL cluster (initdb + pg_ctl) in a temporary folder on a random loopback port. Works as
 * a normal user and as root (then the cluster belongs to the `postgres` system user). Call `stop()` in `afterAll`.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const initdb = binary("initdb");
  const pgCtl = binary("pg_ctl");
  const user = runAs();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-pg-"));
  if (user) fs.chownSync(root, user.uid, user.gid);
  const dataDir = path.join(root, "data");
  installExitHook(pgCtl, user);
  running.add(root);
  try {
    run(initdb, ["-D", dataDir, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"], user, "initdb");
  } catch (e) {
    running.delete(root);
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const settings: Record<string, string | number> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: root,
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    max_connections: 200,
    ...options.settings,
  };
  let port = 0;
  let lastError: unknown;
  // another process may take the port between the probe and the server's bind; try a few
  for (let attempt = 0; attempt < 5 && port === 0; attempt++) {
    const candidate = await freePort();
    const opts = Object.entries({ ...settings, port: candidate }).map(([k, v]) => `-c ${k}=${v}`).join(" ");
    try {
      run(pgCtl, ["-D", dataDir, "-l", path.join(root, "server.log"), "-w", "-t", String(options.startTimeoutSeconds ?? 30), "-o", opts, "start"], user, "pg_ctl start");
      port = candidate;
    } catch (e) {
      lastError = e;
    }
  }
  if (port === 0) {
    running.delete(root);
    const log = fs.existsSync(path.join(root, "server.log")) ? fs.readFileSync(path.join(root, "server.log"), "utf8").slice(-2000) : "";
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`${(lastError as Error).message}\n${log}`);
  }

  const host = "127.0.0.1";
  const url = `postgres://${SUPERUSER}@${host}:${port}/postgres`;
  let stopped = false;
  return {
    host,
    port,
    user: SUPERUSER,
    url,
    dataDir,
    async createDatabase(name?: string): Promise<string> {
      const db = name ?? `test_${process.pid}_${++databaseCounter}`;
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db)) throw new Error(`test postgres: database name '${db}' must match [a-z_][a-z0-9_]*`);
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${db}`);
      } finally {
        await client.end();
      }
      return `postgres://${SUPERUSER}@${host}:${port}/${db}`;
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      spawnSync(pgCtl, ["-D", dataDir, "-m", "immediate", "-w", "stop"], { uid: user?.uid, gid: user?.gid });
      running.delete(root);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
