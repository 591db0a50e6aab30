/** What the tail sampler keeps of a complete trace. */
export interface TailSamplingSettings {
  /** Percentage (0-100) of ordinary traces kept. */
  readonly percentage: number;
  /** Traces whose duration exceeds this many milliseconds are always kept. */
  readonly slowerThanMs: number;
  /** Seconds to wait for a trace's last span before deciding. @default 10 */
  readonly decisionWaitSeconds?: number;
  /** Traces held in memory while waiting, per sampler replica. @default 50000 */
  readonly maxTracesInMemory?: number;
}

/**
 * The `tail_sampling` processor's settings: a trace is kept when any policy says so, so errors and slow traces are
 * always kept and the rest by a percentage. The probabilistic policy hashes the trace id, so every replica that sees
 * parts of one trace would decide alike; the gateway still routes a trace to one sampler so that the error and
 * latency policies see the whole trace.
 */
export function tailSamplingProcessor(settings: TailSamplingSettings): Record<string, unknown> {
  const problems: string[] = [];
  if (!(settings.percentage >= 0 && settings.percentage <= 100)) problems.push(`percentage must be 0-100 (got ${settings.percentage})`);
  if (!Number.isInteger(settings.slowerThanMs) || settings.slowerThanMs < 1) problems.push(`slowerThanMs must be a positive integer (got ${settings.slowerThanMs})`);
  const wait = settings.decisionWaitSeconds ?? 10;
  if (!Number.isInteger(wait) || wait < 1 || wait > 300) problems.push(`decisionWaitSeconds must be an integer 1-300 (got ${wait})`);
  const traces = settings.maxTracesInMemory ?? 50000;
  if (!Number.isInteger(traces) || traces < 1000) problems.push(`maxTracesInMemory must be an integer >= 1000 (got ${traces})`);
  if (problems.length) throw new Error(`tail sampling: ${problems.join("; ")}`);
  return {
    decision_wait: `${wait}s`,
    num_traces: traces,
    expected_new_traces_per_sec: Math.max(10, Math.round(traces / (wait * 10))),
    policies: [
      { name: "keep-errors", type: "status_code", status_code: { status_codes: ["ERROR"] } },
      { name: "keep-slow", type: "latency", latency: { threshold_ms: settings.slowerThanMs } },
      { name: "keep-percentage", type: "probabilistic", probabilistic: { sampling_percentage: settings.percentage } },
    ],
  };
}
