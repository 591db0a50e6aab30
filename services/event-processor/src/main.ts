import { ConfigError, loadConfig, resolveConfig } from "./config";
import { jsonLogger } from "./log";
import { RunningProcessor, startProcessor } from "./server";

/** Entry point: `node index.js --config FILE` (without --config: defaults plus environment). */
async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf("--config");
  if (i >= 0 && !argv[i + 1]) throw new ConfigError("--config needs a file name");
  const config = i >= 0 ? loadConfig(argv[i + 1]) : resolveConfig({}, process.env, "defaults");
  const log = jsonLogger(config.logLevel);
  let running: RunningProcessor | undefined;
  let signal: string | undefined;
  const shutdown = () => {
    if (!running) return;
    log.log("info", "shutting down", { signal });
    running.stop().then(
      () => process.exit(0),
      (e) => { log.log("error", "shutdown failed", { error: (e as Error).message }); process.exit(1); },
    );
  };
  // handlers first: a SIGTERM that arrives while starting is honoured as soon as the server is up
  for (const s of ["SIGTERM", "SIGINT"] as const) {
    process.on(s, () => {
      if (signal) return;
      signal = s;
      shutdown();
    });
  }
  running = await startProcessor(config, log);
  if (signal) shutdown();
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "error", service: "event-processor", msg: (e as Error).message })}\n`);
  process.exit(e instanceof ConfigError ? 2 : 1);
});
