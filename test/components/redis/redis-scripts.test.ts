import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { promisify } from "node:util";
import { App } from "cdk8s";
import IORedis from "ioredis";
import { RedisComponent } from "../../../components/redis";
import { dev } from "../../../stacks/environments";
import { Platform } from "../../../stacks/platform";
import { freePort, start, Started, tempDir } from "./redis-server";

/**
 * Runs the generated start scripts as the pods do (same files, passwords only in the environment) against Debian's
 * redis-server and redis-sentinel on loopback: a master, a replica on a second loopback address, and a sentinel.
 */
const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), "dev", { environment: dev });
const redis = platform.add((s, c) => new RedisComponent(s, "Redis", c, { sentinel: { downAfterMilliseconds: 1000, failoverTimeoutMilliseconds: 3000 } }));

const PASSWORDS = {
  REDIS_PASSWORD_APP: 'app "pass" \\ with spaces',
  REDIS_PASSWORD_REPLICATION: 'repl"ication\\pw',
  REDIS_PASSWORD_SENTINEL: "sentinel-pw",
  REDIS_PASSWORD_MONITOR: "monitor-pw",
};

const started: Started[] = [];
const clients: IORedis[] = [];
let root: string;
let conf: string;

function client(port: number, host: string, username?: string, password?: string): IORedis {
  const c = new IORedis({ port, host, username, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false, disconnectTimeout: 10 });
  c.on("error", () => undefined);
  clients.push(c);
  return c;
}

/** Sends inline commands on a plain socket and returns one reply line per command (no client library in between). */
async function rawCommands(port: number, host: string, commands: ReadonlyArray<string>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => socket.write(commands.map((c) => `${c}\r\n`).join("")));
    let buffer = "";
    socket.on("data", (d) => {
      buffer += d;
      const lines = buffer.split("\r\n").filter((l) => l.length > 0);
      if (lines.length >= commands.length) { socket.destroy(); resolve(lines.slice(0, commands.length)); }
    });
    socket.on("error", reject);
  });
}

async function startRedis(name: string, host: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const run = path.join(root, name);
  const data = path.join(root, `${name}-data`);
  fs.mkdirSync(run);
  fs.mkdirSync(data);
  const port = await freePort();
  // the data folder is the only line that differs from the pod (there it is the volume at /data)
  const confDir = path.join(root, `${name}-conf`);
  fs.mkdirSync(confDir);
  for (const f of fs.readdirSync(conf)) fs.copyFileSync(path.join(conf, f), path.join(confDir, f));
  fs.writeFileSync(path.join(confDir, "redis.conf"), fs.readFileSync(path.join(conf, "redis.conf"), "utf8").replace("dir /data", `dir ${data}`));
  const p = await start("sh", [path.join(confDir, "start-redis.sh"), "--port", String(port), "--bind", host], port, {
    CONF_DIR: confDir, RUN_DIR: run, HOSTNAME: name, REDIS_SELF_DOMAIN: "test", ANNOUNCE_HOST: host, SENTINEL_HOST: "127.0.0.1", SENTINEL_PORT: "1", SENTINEL_ATTEMPTS: "1", ...PASSWORDS, ...env,
  }, host);
  started.push(p);
  return p;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let master: Started;
let replica: Started;
let sentinel: Started;

beforeAll(async () => {
  root = tempDir("redis-scripts");
  conf = path.join(root, "conf");
  fs.mkdirSync(conf);
  for (const [name, text] of Object.entries(redis.files)) fs.writeFileSync(path.join(conf, name), text);
  master = await startRedis("redis-0", "127.0.0.1", { INITIAL_MASTER: "127.0.0.1" });
  replica = await startRedis("redis-1", "127.0.0.2", { INITIAL_MASTER: "127.0.0.1", MASTER_PORT: String(master.port) });
  const sport = await freePort();
  const srun = path.join(root, "sentinel");
  fs.mkdirSync(srun);
  sentinel = await start("sh", [path.join(conf, "start-sentinel.sh"), "--port", String(sport), "--bind", "127.0.0.1"], sport, {
    CONF_DIR: conf, RUN_DIR: srun, HOSTNAME: "redis-sentinel-0", ANNOUNCE_HOST: "127.0.0.1", SENTINEL_HOST: "127.0.0.1", SENTINEL_PORT: "1", SENTINEL_ATTEMPTS: "1",
    INITIAL_MASTER: "127.0.0.1", MASTER_PORT: String(master.port), ...PASSWORDS,
  });
  started.push(sentinel);
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all(started.map((s) => s.stop()));
  fs.rmSync(root, { recursive: true, force: true });
});

describe("the Redis start script", () => {
  it("lets the client user in with the password from the environment", async () => {
    const c = client(master.port, "127.0.0.1", "app", PASSWORDS.REDIS_PASSWORD_APP);
    await c.connect();
    await c.set("greeting", "hello");
    expect(await c.get("greeting")).toBe("hello");
  });

  it("refuses a wrong password and the passwordless default user", async () => {
    const replies = await rawCommands(master.port, "127.0.0.1", ["GET greeting", "AUTH app wrong", "AUTH default nothing"]);
    expect(replies[0]).toMatch(/^-NOAUTH/);
    expect(replies[1]).toMatch(/^-WRONGPASS/);
    expect(replies[2]).toMatch(/^-WRONGPASS/);
  });

  it("keeps the client user away from dangerous commands and the monitor user away from data", async () => {
    const app = client(master.port, "127.0.0.1", "app", PASSWORDS.REDIS_PASSWORD_APP);
    await app.connect();
    await expect(app.flushall()).rejects.toThrow(/NOPERM/);
    await expect(app.config("GET", "maxmemory")).rejects.toThrow(/NOPERM/);
    const monitor = client(master.port, "127.0.0.1", "monitor", PASSWORDS.REDIS_PASSWORD_MONITOR);
    await monitor.connect();
    expect(await monitor.info("replication")).toContain("role:master");
    await expect(monitor.get("greeting")).rejects.toThrow(/NOPERM/);
  });

  it("writes only password hashes for users into the runtime file", () => {
    const text = fs.readFileSync(path.join(root, "redis-0", "redis.conf"), "utf8");
    expect(text).toContain(`user app on #`);
    expect(text).not.toContain(PASSWORDS.REDIS_PASSWORD_APP);
    expect(text).not.toContain(PASSWORDS.REDIS_PASSWORD_MONITOR);
    expect(text).toContain("user default off");
    expect(text).not.toContain("replicaof");
  });

  it("starts a later pod as a replica that authenticates as the replication user", async () => {
    const monitor = client(replica.port, "127.0.0.2", "monitor", PASSWORDS.REDIS_PASSWORD_MONITOR);
    await monitor.connect();
    await waitFor("the replica's link to the master", async () => ((await monitor.info("replication")).includes("master_link_status:up") ? true : undefined));
    const app = client(replica.port, "127.0.0.2", "app", PASSWORDS.REDIS_PASSWORD_APP);
    await app.connect();
    await waitFor("the replicated key", async () => ((await app.get("greeting")) === "hello" ? true : undefined));
  });

  it("passes the readiness probe on master and replica", async () => {
    const run = promisify(execFile);
    for (const [port, host] of [[master.port, "master"], [replica.port, "replica"]] as const) {
      const probe = fs.readFileSync(path.join(conf, "probe.sh"), "utf8").replace("-h 127.0.0.1", host === "replica" ? "-h 127.0.0.2" : "-h 127.0.0.1");
      const file = path.join(root, `probe-${host}.sh`);
      fs.writeFileSync(file, probe);
      await expect(run("sh", [file, String(port), "ready"], { env: { ...process.env, ...PASSWORDS } })).resolves.toBeDefined();
    }
  });
});

describe("the sentinel start script", () => {
  it("answers the client user where the master is", async () => {
    const s = client(sentinel.port, "127.0.0.1", "app", PASSWORDS.REDIS_PASSWORD_APP);
    await s.connect();
    expect(await s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "stratum")).toEqual(["127.0.0.1", String(master.port)]);
    await expect(s.call("SENTINEL", "FAILOVER", "stratum")).rejects.toThrow(/NOPERM/);
  });

  it("fails over to the replica when the master dies", async () => {
    const s = client(sentinel.port, "127.0.0.1", "sentinel", PASSWORDS.REDIS_PASSWORD_SENTINEL);
    await s.connect();
    let seen: Record<string, string> = {};
    await waitFor("the sentinel to see a healthy replica", async () => {
      const replicas = (await s.call("SENTINEL", "REPLICAS", "stratum")) as string[][];
      seen = replicas.length === 1 ? Object.fromEntries(replicas[0].flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]]]))) : {};
      return seen.flags === "slave" && seen["master-link-status"] === "ok" ? true : undefined;
    }).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(seen)}`); });
    await master.stop();
    const promoted = await waitFor("a new master", async () => {
      const [host, port] = (await s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "stratum")) as string[];
      return host === "127.0.0.2" ? port : undefined;
    }).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(seen)}\n${sentinel.output()}`); });
    expect(promoted).toBe(String(replica.port));
    const app = client(replica.port, "127.0.0.2", "app", PASSWORDS.REDIS_PASSWORD_APP);
    await app.connect();
    await waitFor("writes on the promoted replica", async () => ((await app.set("after", "failover")) === "OK" ? true : undefined));
  });

  it("restarts the old master as a replica of the master the sentinels name", async () => {
    const back = await startRedis("redis-0-again", "127.0.0.1", { INITIAL_MASTER: "127.0.0.1", SENTINEL_PORT: String(sentinel.port), SENTINEL_ATTEMPTS: "3" });
    const text = fs.readFileSync(path.join(root, "redis-0-again", "redis.conf"), "utf8");
    expect(text).toContain(`replicaof 127.0.0.2 ${replica.port}\n`);
    const monitor = client(back.port, "127.0.0.1", "monitor", PASSWORDS.REDIS_PASSWORD_MONITOR);
    await monitor.connect();
    await waitFor("the old master to follow the new one", async () => ((await monitor.info("replication")).includes("master_link_status:up") ? true : undefined));
  });
});
