import { execSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Redis from "ioredis";
import { quantityBytes } from "../../../constructs/quantity";
import { renderRedisConf, renderSentinelConf, RedisServerConfig, SentinelConfig } from "../../../components/redis/redis-config";
import { freePort, start, Started, tempDir } from "./redis-server";

const server: RedisServerConfig = {
  port: 6379,
  dir: "/data",
  maxmemoryBytes: quantityBytes("96Mi"),
  maxmemoryPolicy: "allkeys-lfu",
  persistence: { appendfsync: "everysec", savePoints: [{ seconds: 900, changes: 1 }, { seconds: 120, changes: 500 }] },
  minReplicasToWrite: 1,
  minReplicasMaxLag: 15,
};

const started: Started[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs redis-server on the file generated for a temporary data folder, overriding only the port and bind address. */
async function redisWith(config: RedisServerConfig): Promise<{ client: Redis; dir: string; proc: Started }> {
  const dir = tempDir("redis");
  dirs.push(dir);
  const file = path.join(dir, "redis.conf");
  fs.writeFileSync(file, renderRedisConf({ ...config, dir }));
  const port = await freePort();
  const proc = await start("redis-server", [file, "--port", String(port), "--bind", "127.0.0.1"], port);
  started.push(proc);
  const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return { client, dir, proc };
}

async function configGet(client: Redis, name: string): Promise<string> {
  const [, value] = (await client.config("GET", name)) as string[];
  return value;
}

describe("redis.conf, as redis-server reads it", () => {
  let client: Redis;
  let dir: string;
  beforeAll(async () => {
    ({ client, dir } = await redisWith(server));
  });
  afterAll(() => client.disconnect());

  it.each([
    ["appendonly", "yes"],
    ["appendfsync", "everysec"],
    ["appendfilename", "appendonly.aof"],
    ["aof-use-rdb-preamble", "yes"],
    ["save", "900 1 120 500"],
    ["dbfilename", "dump.rdb"],
    ["maxmemory", String(96 * 1024 * 1024)],
    ["maxmemory-policy", "allkeys-lfu"],
    ["min-replicas-to-write", "1"],
    ["min-replicas-max-lag", "15"],
    ["replica-read-only", "yes"],
    ["protected-mode", "yes"],
  ])("sets %s to %s", async (name, value) => {
    expect(await configGet(client, name)).toBe(value);
  });

  it("keeps its data in the configured folder", async () => {
    expect(await configGet(client, "dir")).toBe(fs.realpathSync(dir));
  });

  it("writes the append-only file into the data folder", () => {
    expect(fs.readdirSync(path.join(dir, "appendonlydir")).some((f) => f.startsWith("appendonly.aof"))).toBe(true);
  });

  it("refuses writes while fewer replicas than min-replicas-to-write are connected", async () => {
    await expect(client.set("k", "v")).rejects.toThrow("NOREPLICAS");
  });

  it("carries no password", () => {
    expect(renderRedisConf(server)).not.toMatch(/requirepass|masterauth|user |>/);
  });

  it("takes the fsync policy and save points from its props", async () => {
    const other = await redisWith({ ...server, persistence: { appendfsync: "always", savePoints: [{ seconds: 30, changes: 7 }] }, maxmemoryPolicy: "noeviction" });
    try {
      expect(await configGet(other.client, "appendfsync")).toBe("always");
      expect(await configGet(other.client, "save")).toBe("30 7");
      expect(await configGet(other.client, "maxmemory-policy")).toBe("noeviction");
    } finally {
      other.client.disconnect();
    }
  });

  it("refuses bad values with the prop and the value", () => {
    expect(() => renderRedisConf({ ...server, maxmemoryPolicy: "lru" as never })).toThrow('maxmemoryPolicy must be one of noeviction, allkeys-lru');
    expect(() => renderRedisConf({ ...server, persistence: { savePoints: [] } })).toThrow("persistence.savePoints must name at least one save point");
    expect(() => renderRedisConf({ ...server, maxmemoryBytes: 10 })).toThrow("maxmemory must be at least 1Mi (got 10 bytes)");
  });
});

describe("sentinel.conf, as redis-sentinel reads it", () => {
  let sentinel: Redis;
  let master: Started;
  const conf = (masterPort: number): SentinelConfig => ({
    port: 26379,
    masterName: "stratum",
    masterHost: "127.0.0.1",
    masterPort,
    quorum: 2,
    downAfterMilliseconds: 4000,
    failoverTimeoutMilliseconds: 45000,
    parallelSyncs: 2,
    authUser: "sentinel",
  });
  beforeAll(async () => {
    const m = await redisWith({ ...server, minReplicasToWrite: 0 });
    master = m.proc;
    m.client.disconnect();
    const dir = tempDir("sentinel");
    dirs.push(dir);
    const file = path.join(dir, "sentinel.conf");
    fs.writeFileSync(file, renderSentinelConf(conf(master.port)));
    const port = await freePort();
    started.push(await start("redis-sentinel", [file, "--port", String(port), "--bind", "127.0.0.1"], port));
    sentinel = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 });
    await sentinel.connect();
  });
  afterAll(() => sentinel.disconnect());

  it("monitors the master with the typed quorum, down-after, failover timeout and parallel syncs", async () => {
    const flat = (await sentinel.call("SENTINEL", "MASTER", "stratum")) as string[];
    const fields = Object.fromEntries(flat.reduce<string[][]>((acc, v, i) => (i % 2 ? acc : [...acc, [v, flat[i + 1]]]), []));
    expect(fields).toMatchObject({
      ip: "127.0.0.1",
      port: String(master.port),
      quorum: "2",
      "down-after-milliseconds": "4000",
      "failover-timeout": "45000",
      "parallel-syncs": "2",
    });
  });

  it("resolves and announces hostnames (pods are found by DNS name, not IP)", async () => {
    expect(await sentinel.call("SENTINEL", "CONFIG", "GET", "resolve-hostnames")).toEqual(["resolve-hostnames", "yes"]);
    expect(await sentinel.call("SENTINEL", "CONFIG", "GET", "announce-hostnames")).toEqual(["announce-hostnames", "yes"]);
  });

  it("refuses a quorum of zero and a failover timeout shorter than down-after", () => {
    expect(() => renderSentinelConf({ ...conf(1), quorum: 0 })).toThrow("sentinel quorum must be an integer >= 1 (got 0)");
    expect(() => renderSentinelConf({ ...conf(1), failoverTimeoutMilliseconds: 3000 })).toThrow("failoverTimeoutMilliseconds (3000) must exceed downAfterMilliseconds (4000)");
  });
});

describe("redis.conf with TLS, as redis-server reads it", () => {
  let client: Redis;
  let ca: string;
  beforeAll(async () => {
    const dir = tempDir("redis-tls");
    dirs.push(dir);
    const sh = (cmd: string) => execSync(cmd, { cwd: dir, stdio: "pipe" });
    sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout ca.key -out ca.crt");
    sh("openssl req -newkey rsa:2048 -nodes -subj /CN=redis -keyout tls.key -out tls.csr");
    fs.writeFileSync(path.join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
    sh("openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile san.ext -out tls.crt");
    ca = fs.readFileSync(path.join(dir, "ca.crt"), "utf8");
    const port = await freePort();
    const file = path.join(dir, "redis.conf");
    // the generated file with the test's data and certificate folders; the port is the TLS port it declares
    fs.writeFileSync(file, renderRedisConf({ ...server, dir, minReplicasToWrite: 0, tls: { dir } }).replace(`tls-port ${server.port}`, `tls-port ${port}`));
    started.push(await start("redis-server", [file, "--bind", "127.0.0.1"], port));
    client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1, tls: { ca, servername: "127.0.0.1" } });
    await client.connect();
  });
  afterAll(() => client.disconnect());

  it("serves only TLS, verified by the CA, and replicates over TLS", async () => {
    expect(await configGet(client, "port")).toBe("0");
    expect(await configGet(client, "tls-replication")).toBe("yes");
    expect(await configGet(client, "tls-auth-clients")).toBe("no");
    await client.set("over", "tls");
    expect(await client.get("over")).toBe("tls");
  });
});
