/** Structured JSON logs on stdout, one object per line. */
export type Level = "debug" | "info" | "warn" | "error";

/** Writes one log line. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + "\n");
}
