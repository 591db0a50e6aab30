import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startPostgres, TestPostgres } from "../../../test/support/postgres";
import { FakeDapr } from "./fake-dapr";
import { bundle, post, validEvent } from "./support";

const BUNDLE = path.join(__dirname, "..", "..", "..", "lib", "assets", "event-processor", "index.js");
let pg: TestPostgres;
let dapr: FakeDapr;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  dapr = await new FakeDapr().start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "event-processor-"));
  fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(bundle));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await dapr?.stop();
  await pg?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the shipped bundle with a config file; resolves once it logs that it listens. */
function run(config: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number; lines: string[]; exit: Promise<number | null> }> {
  const file = path.join(dir, `config-${children.length}.yaml`);
  fs.writeFileSync(file, config);
  const child = spawn(process.execPath, [BUNDLE, "--config", file], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const lines: string[] = [];
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        try {
          const j = JSON.parse(line);
          if (j.msg === "event processor listening") resolve({ child, port: j.port, lines, exit });
        } catch { /* not JSON */ }
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    exit.then((code) => reject(Object.assign(new Error(`exited ${code}: ${lines.join("\n")}`), { code, lines })));
  });
}

describe("event-processor bundle (npm run start:event-processor)", () => {
  it("starts from a config file, migrates, processes an event, and drains on SIGTERM", async () => {
    const db = await pg.createDatabase();
    const { child, port, lines, exit } = await run(`port: 0\nmetricsPort: 0\nhost: 127.0.0.1\ncatalogFile: ${path.join(dir, "catalog.json")}\n`, { DATABASE_URL: db, DAPR_HTTP_PORT: String(dapr.port) });
    expect(lines.some((l) => l.includes("event store migrated"))).toBe(true);
    const ev = validEvent("order.created");
    expect((await post(port, "/events/order.created", JSON.stringify(ev))).json).toEqual({ status: "SUCCESS" });
    expect(dapr.on("order.created.validated").map((p) => p.body.id)).toContain(ev.id);
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    const stopped = lines.map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((j) => j.msg === "event processor stopped");
    expect(stopped.metrics).toEqual({ received: 1, valid: 1, deadLettered: 0, duplicates: 0 });
  });

  it("connects with the POSTGRES_* variables the platform hands out", async () => {
    const db = await pg.createDatabase("from_parts");
    expect(db.endsWith("/from_parts")).toBe(true);
    const { child, exit } = await run(`port: 0\nmetricsPort: 0\nhost: 127.0.0.1\ncatalogFile: ${path.join(dir, "catalog.json")}\n`, {
      POSTGRES_HOST: pg.host, POSTGRES_PORT: String(pg.port), POSTGRES_DATABASE: "from_parts", POSTGRES_USER: pg.user, DAPR_HTTP_PORT: String(dapr.port),
    });
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });

  it("refuses a bad config with exit code 2, naming every bad field", async () => {
    const err = await run("port: -1\nlimits: { maxBulkEntries: 0 }\ncolour: blue\n", { DATABASE_URL: "postgres://x@127.0.0.1:1/x" }).catch((e) => e);
    expect(err.code).toBe(2);
    const text = err.lines.join("\n");
    expect(text).toMatch(/port: must be >= 0/);
    expect(text).toMatch(/limits\.maxBulkEntries: must be >= 1/);
    expect(text).toMatch(/unknown field 'colour'/);
  });

  it("exits 1 with the reason when the schema bundle is missing", async () => {
    const err = await run(`port: 0\nmetricsPort: 0\ncatalogFile: ${path.join(dir, "nope.json")}\n`, { DATABASE_URL: await pg.createDatabase() }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.lines.join("\n")).toMatch(/nope\.json: cannot read the schema bundle/);
  });
});
