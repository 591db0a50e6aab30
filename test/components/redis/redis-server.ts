import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A temporary folder, removed by `cleanup`. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `stratum-${prefix}-`));
}

/** A process started by a test, with its output kept for failure messages. */
export interface Started {
  readonly proc: ChildProcess;
  readonly port: number;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a command and waits until something listens on `port` (or the process exits, which fails). */
export async function start(cmd: string, args: ReadonlyArray<string>, port: number, env: NodeJS.ProcessEnv = {}, host = "127.0.0.1"): Promise<Started> {
  const proc = spawn(cmd, [...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<never>((_, reject) => proc.once("exit", (code) => reject(new Error(`${cmd} exited with ${code}:\n${out}`))));
  const deadline = Date.now() + 10000;
  const listening = (async () => {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`${cmd} did not listen on ${port}:\n${out}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, host, () => { s.destroy(); resolve(true); });
        s.on("error", () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  exited.catch(() => undefined);
  try {
    await Promise.race([listening, exited]);
  } catch (e) {
    // a process that never listened must not outlive the test (redis refuses SIGTERM once its folder is gone)
    proc.kill("SIGKILL");
    throw e;
  }
  return {
    proc,
    port,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGKILL");
      }),
  };
}
