import { parseArgs } from "node:util";
import { App } from "./app";
import { ConfigFileError, loadConfig } from "./config";

/** Time past delaySeconds + drainSeconds that a stopping process gets to flush events and close connections. */
const SHUTDOWN_MARGIN_MS = 5000;

/**
 * Entry point: `node index.js --config FILE [--role api|worker|all]`. PostgreSQL comes from the config,
 * DATABASE_URL, or the POSTGRES_* variables; object storage from the config or S3_BUCKET/S3_REGION/S3_ENDPOINT.
 */
async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({ options: { config: { type: "string" }, role: { type: "string", default: "all" } }, strict: true }).values;
  } catch (e) {
    process.stderr.write(`task-orchestrator: ${(e as Error).message}\nusage: task-orchestrator --config FILE [--role api|worker|all]\n`);
    process.exit(2);
  }
  if (!["api", "worker", "all"].includes(args.role ?? "all")) {
    process.stderr.write(`task-orchestrator: --role must be api, worker or all (got ${args.role})\n`);
    process.exit(2);
  }
  let config;
  try {
    config = loadConfig(args.config);
  } catch (e) {
    process.stderr.write(`task-orchestrator: ${e instanceof ConfigFileError ? e.message : String(e)}\n`);
    process.exit(2);
  }
  const role = args.role ?? "all";
  config = {
    ...config,
    api: { ...config.api, enabled: config.api.enabled && role !== "worker" },
    worker: { ...config.worker, enabled: config.worker.enabled && role !== "api" },
  };
  const app = new App(config);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info("signal received", { signal });
    // running tasks are left to lease expiry after drainSeconds; whatever else still waits then (a handler or a
    // query stuck on an unresponsive backend) must not keep the pod past its grace period
    const limitMs = (config.shutdown.delaySeconds + config.shutdown.drainSeconds) * 1000 + SHUTDOWN_MARGIN_MS;
    setTimeout(() => {
      app.log.error("shutdown timed out; exiting", { afterMs: limitMs });
      process.exit(1);
    }, limitMs).unref();
    app.stop().then(() => process.exit(0), (e) => { app.log.error("shutdown failed", { error: String(e) }); process.exit(1); });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("unhandledRejection", (e) => app.log.error("unhandled rejection", { error: String((e as Error)?.stack ?? e) }));
  try {
    await app.start();
  } catch (e) {
    // start() closed what it had opened
    const err = e as NodeJS.ErrnoException;
    app.log.error("start failed", { reason: err?.message ?? String(e), code: err?.code, error: String(err?.stack ?? e) });
    process.exit(1);
  }
}

void main();
