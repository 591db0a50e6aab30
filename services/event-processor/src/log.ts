/** Severity of a log line. */
export type Level = "debug" | "info" | "warn" | "error";

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A structured JSON logger: one object per line on stdout (errors and warnings included, for log shippers). */
export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
}

/** A logger that writes lines at or above `min`; `sink` defaults to stdout. */
export function jsonLogger(min: Level = "info", sink: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  return {
    log(level, msg, fields) {
      if (ORDER[level] < ORDER[min]) return;
      sink(JSON.stringify({ time: new Date().toISOString(), level, service: "event-processor", msg, ...fields }) + "\n");
    },
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { log() {} };
