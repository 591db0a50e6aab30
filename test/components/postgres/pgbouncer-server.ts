import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { RenderedPgBouncer } from "../../../components/postgres";

/** A PgBouncer started from a rendered pool configuration, in front of a test PostgreSQL. */
export interface TestPgBouncer {
  readonly port: number;
  /** The pgbouncer.ini it was started with. */
  readonly ini: string;
  stop(): Promise<void>;
}

/** The pgbouncer.ini of a rendered configuration: pool mode and parameters exactly as the Pooler carries them. */
export function pgbouncerIni(r: RenderedPgBouncer, opts: { serverPort: number; listenPort: number; dir: string; adminUser: string }): string {
  const lines = [
    "[databases]",
    `* = host=127.0.0.1 port=${opts.serverPort}`,
    "",
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${opts.listenPort}`,
    `unix_socket_dir = ${opts.dir}`,
    `logfile = ${path.join(opts.dir, "pgbouncer.log")}`,
    `pidfile = ${path.join(opts.dir, "pgbouncer.pid")}`,
    "auth_type = scram-sha-256",
    `auth_file = ${path.join(opts.dir, "userlist.txt")}`,
    `admin_users = ${opts.adminUser}`,
    `pool_mode = ${r.poolMode}`,
    ...Object.entries(r.parameters).map(([k, v]) => `${k} = ${v}`),
  ];
  return lines.join("\n") + "\n";
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}: ${fs.existsSync(log) ? fs.readFileSync(log, "utf8") : ""}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, "127.0.0.1", () => { sock.end(); resolve(true); });
      sock.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`pgbouncer did not listen on ${port}: ${fs.existsSync(log) ? fs.readFileSync(log, "utf8") : ""}`);
}

/** Starts Debian's pgbouncer (as the postgres user under root, since it refuses root) with users and passwords. */
export async function startPgBouncer(r: RenderedPgBouncer, serverPort: number, users: Readonly<Record<string, string>>, adminUser: string): Promise<TestPgBouncer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-pgbouncer-"));
  const root = process.getuid?.() === 0;
  const ids = root ? { uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" })), gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" })) } : undefined;
  const listenPort = await freePort();
  const ini = pgbouncerIni(r, { serverPort, listenPort, dir, adminUser });
  fs.writeFileSync(path.join(dir, "pgbouncer.ini"), ini);
  fs.writeFileSync(path.join(dir, "userlist.txt"), Object.entries(users).map(([u, p]) => `"${u}" "${p}"`).join("\n") + "\n");
  if (ids) for (const f of ["", "pgbouncer.ini", "userlist.txt"]) fs.chownSync(path.join(dir, f), ids.uid, ids.gid);
  const child = spawn("pgbouncer", [path.join(dir, "pgbouncer.ini")], { uid: ids?.uid, gid: ids?.gid, stdio: "ignore" });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((res) => child.once("exit", res));
      child.kill("SIGINT");
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(listenPort, child, path.join(dir, "pgbouncer.log"));
  } catch (e) {
    await stop();
    throw e;
  }
  return { port: listenPort, ini, stop };
}
