import { ConfigError, loadConfig, resolveConfig } from "./config";
import { jsonLogger } from "./log";
import { startProcessor } from "./server";

/** Entry point: `node index.js --config FILE` (without --config: defaults plus environment). */
async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf("--config");
  if (i >= 0 && !argv[i + 1]) throw new ConfigError("--config needs a file name");
  const config = i >= 0 ? loadConfig(argv[i + 1]) : resolveConfig({}, process.env, "defaults");
  const log = jsonLogger(config.logLevel);
  const running = await startProcessor(config, log);
  let signalled = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      log.log("info", "shutting down", { signal });
      running.stop().then(
        () => process.exit(0),
        (e) => { log.log("error", "shutdown failed", { error: (e as Error).message }); process.exit(1); },
      );
    });
  }
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "error", service: "event-processor", msg: (e as Error).message })}\n`);
  process.exit(e instanceof ConfigError ? 2 : 1);
});
