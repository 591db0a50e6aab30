const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration such as `500ms`, `30s`, `5m`, `1h` (already checked by the schema). */
export function durationMs(value: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(value);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(value)} (use e.g. 500ms, 30s, 5m)`);
  return Number(m[1]) * UNIT_MS[m[2]];
}
