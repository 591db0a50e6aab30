import { ConfigError, loadConfig } from "./config";
import { log } from "./log";
import { Gateway } from "./server";

const USAGE = "usage: gateway --config FILE [--check]";

/** Parses `--config FILE` (or `--config=FILE`) and `--check` (validate only). */
function parseArgs(argv: ReadonlyArray<string>): { config?: string; check: boolean; error?: string } {
  let config: string | undefined;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--config") config = argv[++i];
    else if (a.startsWith("--config=")) config = a.slice("--config=".length);
    else if (a === "--check") check = true;
    else return { check, error: `unknown argument ${JSON.stringify(a)}` };
  }
  config ??= process.env.GATEWAY_CONFIG;
  if (!config) return { check, error: "--config FILE is required (or GATEWAY_CONFIG)" };
  return { config, check };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.error) {
    process.stderr.write(`error: ${args.error}\n${USAGE}\n`);
    process.exit(2);
  }
  let settings;
  try {
    settings = loadConfig(args.config as string);
  } catch (err) {
    const msg = err instanceof ConfigError ? err.message : `${args.config}: ${(err as Error).message}`;
    process.stderr.write(`error: ${msg}\n`);
    process.exit(1);
  }
  if (args.check) {
    process.stdout.write(`${args.config}: ok (${settings.routes.length} routes)\n`);
    return;
  }
  const gateway = new Gateway(settings, { accessLog: process.env.GATEWAY_ACCESS_LOG !== "false" });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "shutdown requested", { signal });
    gateway.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log("error", "shutdown failed", { error: err.message });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("uncaughtException", (err) => {
    log("error", "uncaught exception", { error: err.message, stack: err.stack });
    process.exit(70);
  });
  try {
    await gateway.start();
  } catch (err) {
    log("error", "cannot start", { error: (err as Error).message });
    process.exit(1);
  }
}

void main();
