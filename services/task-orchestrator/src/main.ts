import { parseArgs } from "node:util";
import { App } from "./app";
import { ConfigFileError, loadConfig } from "./config";

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
    app.stop().then(() => process.exit(0), (e) => { app.log.error("shutdown failed", { error: String(e) }); process.exit(1); });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("unhandledRejection", (e) => app.log.error("unhandled rejection", { error: String((e as Error)?.stack ?? e) }));
  try {
    await app.start();
  } catch (e) {
    app.log.error("start failed", { error: String((e as Error)?.stack ?? e) });
    await app.stop().catch(() => undefined);
    process.exit(1);
  }
}

void main();
