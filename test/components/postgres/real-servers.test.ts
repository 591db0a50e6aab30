import { execFileSync, spawnSync } from "node:child_process";
import { Client } from "pg";
import { databaseBootstrapSql, provisionScript, PROVISIONER_ROLE, quoteIdent } from "../../../components/postgres";
import { dev, prod, staging } from "../../../stacks/environments";
import { startPostgres, TestPostgres } from "../../support/postgres";
import { startPgBouncer, TestPgBouncer } from "./pgbouncer-server";
import { postgresPlatform } from "./support";

// The settings Stratum renders are proven by the real programs: PostgreSQL 15 starts with them and shows them back,
// and Debian's PgBouncer runs with the pool configuration the Pooler carries and pools connections to the databases
// and roles the bootstrap SQL creates.

const PASSWORD = "s3cret-for-tests";

describe("rendered settings in real PostgreSQL and PgBouncer", () => {
  const { postgres: component } = postgresPlatform(prod);
  const parameters = component.parameters;
  const pooling = component.pgbouncer;
  let server: TestPostgres;
  let bouncer: TestPgBouncer;

  beforeAll(async () => {
    // the production tier's settings, as the Cluster carries them
    server = await startPostgres({ settings: { ...parameters } });
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    try {
      // what the operator does: bootstrap SQL once, then the managed role gets LOGIN and its password
      for (const sql of databaseBootstrapSql(component.consumerDatabases)) await admin.query(sql);
      for (const d of component.consumerDatabases) await admin.query(`ALTER ROLE ${quoteIdent(d.role)} LOGIN PASSWORD '${PASSWORD}'`);
    } finally {
      await admin.end();
    }
    bouncer = await startPgBouncer(pooling, server.port, { postgres: PASSWORD, ...Object.fromEntries(component.consumerDatabases.map((d) => [d.role, PASSWORD])) }, "postgres");
  }, 30_000);

  afterAll(async () => {
    await bouncer?.stop();
    await server?.stop();
  });

  it("starts PostgreSQL with every rendered parameter and shows each back unchanged", async () => {
    const client = new Client({ connectionString: server.url });
    await client.connect();
    try {
      const shown: Record<string, string> = {};
      for (const name of Object.keys(parameters)) shown[name] = (await client.query(`SHOW ${name}`)).rows[0][name];
      expect(shown).toEqual(parameters);
      expect(Object.keys(shown)).toEqual(expect.arrayContaining(["shared_buffers", "max_connections", "max_wal_size", "work_mem"]));
    } finally {
      await client.end();
    }
  });

  it("has every other tier's parameters accepted by the same postgres binary", () => {
    // `postgres -C` loads the configuration with the overrides and exits; an unknown name or bad value fails it
    const ids = process.getuid?.() === 0 ? { uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" })), gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" })) } : {};
    for (const env of [dev, staging]) {
      const p = postgresPlatform(env).postgres.parameters;
      const args = ["-D", server.dataDir, "-C", "shared_buffers", ...Object.entries(p).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
      const run = spawnSync("postgres", args, { encoding: "utf8", ...ids });
      expect({ env: env.name, status: run.status, stderr: run.stderr.trim() }).toEqual({ env: env.name, status: 0, stderr: "" });
      // shared_buffers comes back in 8 kB pages: a quarter of the memory limit
      expect(Number(run.stdout.trim()) * 8 / 1024).toBe(Number(/^(\d+)MB$/.exec(p.shared_buffers)?.[1]));
    }
    const bad = spawnSync("postgres", ["-D", server.dataDir, "-C", "work_mem", "-c", "work_mem=lots"], { encoding: "utf8", ...ids });
    expect(bad.status).not.toBe(0);
  });

  it("runs PgBouncer with the Pooler's pool mode and sizes (SHOW CONFIG)", async () => {
    const console = new Client({ host: "127.0.0.1", port: bouncer.port, user: "postgres", password: PASSWORD, database: "pgbouncer" });
    await console.connect();
    try {
      const rows = (await console.query("SHOW CONFIG")).rows as Array<{ key: string; value: string }>;
      const config = Object.fromEntries(rows.map((r) => [r.key, r.value]));
      expect(config.pool_mode).toBe(pooling.poolMode);
      for (const [key, value] of Object.entries(pooling.parameters)) expect({ key, value: config[key] }).toEqual({ key, value });
    } finally {
      await console.end();
    }
  });

  it("lets a consumer reach its own database through PgBouncer with its role and password", async () => {
    const d = component.consumerDatabases.find((x) => x.consumer === "order")!;
    const client = new Client({ host: "127.0.0.1", port: bouncer.port, user: d.role, password: PASSWORD, database: d.database });
    await client.connect();
    try {
      const row = (await client.query("SELECT current_user AS u, current_database() AS db")).rows[0];
      expect(row).toEqual({ u: "order", db: "order" });
    } finally {
      await client.end();
    }
    const console = new Client({ host: "127.0.0.1", port: bouncer.port, user: "postgres", password: PASSWORD, database: "pgbouncer" });
    await console.connect();
    try {
      const pools = (await console.query("SHOW POOLS")).rows as Array<{ database: string; user: string; pool_mode: string }>;
      expect(pools.find((p) => p.database === "order" && p.user === "order")?.pool_mode).toBe(pooling.poolMode);
    } finally {
      await console.end();
    }
  });

  it("creates a late consumer's database with the provisioning program, as the least-privileged provisioner, idempotently", async () => {
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    try {
      // what the operator's managed roles do for a consumer added after bootstrap, and for the provisioner
      await admin.query("CREATE ROLE late_service LOGIN");
      await admin.query(`CREATE ROLE ${PROVISIONER_ROLE} LOGIN CREATEDB`);
      for (const role of ["order", "payment", "late_service"]) await admin.query(`GRANT ${quoteIdent(role)} TO ${PROVISIONER_ROLE}`);
      const env = { ...process.env, DATABASES: "order payment late_service", PGHOST: "127.0.0.1", PGPORT: String(server.port), PGUSER: PROVISIONER_ROLE, PGDATABASE: "postgres", PGSSLMODE: "disable" };
      for (let run = 0; run < 2; run++) {
        const result = spawnSync("sh", ["-c", provisionScript()], { env, encoding: "utf8", timeout: 20_000 });
        expect({ run, status: result.status, stderr: result.stderr }).toEqual({ run, status: 0, stderr: "" });
        expect(result.stdout).toContain("database late_service ready");
      }
      const owner = await admin.query("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'late_service'");
      expect(owner.rows).toEqual([{ owner: "late_service" }]);
      const open = await admin.query("SELECT has_database_privilege('payment', 'late_service', 'CONNECT') AS c");
      expect(open.rows).toEqual([{ c: false }]);
      const dbs = await admin.query("SELECT count(*)::int AS n FROM pg_database WHERE datname IN ('order', 'payment', 'late_service')");
      expect(dbs.rows).toEqual([{ n: 3 }]);
    } finally {
      await admin.end();
    }
  });

  it("keeps other roles out of a consumer's database", async () => {
    const client = new Client({ host: "127.0.0.1", port: bouncer.port, user: "payment", password: PASSWORD, database: "order" });
    await expect(client.connect().then(() => client.query("SELECT 1"))).rejects.toThrow(/permission denied for database "order"/);
    await client.end().catch(() => undefined);
  });
});
