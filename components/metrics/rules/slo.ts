import { AlertRule, RecordingRule, RuleGroup } from "./alert-rule";
import { MonitoredService } from "./golden-signals";

/** A latency objective: a share of requests must finish within a histogram bucket boundary. */
export interface LatencyObjective {
  /** Upper bound in seconds; must be a bucket boundary (`le`) of `http_request_duration_seconds`. */
  readonly thresholdSeconds: number;
  /** Share of requests that must be at least that fast (0-1), e.g. 0.99. */
  readonly target: number;
}

/** The service level objectives of one service, over a 30-day window. */
export interface SloTarget {
  /** Share of requests that must not fail with 5xx (0-1). @default 0.999 */
  readonly availability?: number;
  /** Latency objective. @default 99% of requests within 0.5 s */
  readonly latency?: LatencyObjective | false;
}

/** The defaults of `SloTarget`. */
export const DEFAULT_SLO: { availability: number; latency: LatencyObjective } = { availability: 0.999, latency: { thresholdSeconds: 0.5, target: 0.99 } };

/**
 * The burn-rate windows of the multi-window, multi-burn-rate alerts (Google SRE workbook, ch. 5): an alert fires when
 * both the long and the short window burn the error budget faster than the factor. Page on 2% of a 30-day budget
 * spent in 1 h or 5% in 6 h; open a ticket on 10% in 1 d (3x) or 3 d (1x).
 */
export const BURN_RATE_WINDOWS = [
  { long: "1h", short: "5m", factor: 14.4, severity: "critical" as const, alert: "SloErrorBudgetBurn", for: "2m" },
  { long: "6h", short: "30m", factor: 6, severity: "critical" as const, alert: "SloErrorBudgetBurn", for: "15m" },
  { long: "1d", short: "2h", factor: 3, severity: "warning" as const, alert: "SloErrorBudgetBurn", for: "1h" },
  { long: "3d", short: "6h", factor: 1, severity: "warning" as const, alert: "SloErrorBudgetBurn", for: "3h" },
];

const WINDOWS = [...new Set(BURN_RATE_WINDOWS.flatMap((w) => [w.short, w.long]))];

/** Prometheus' own number formatting for a bucket boundary (`0.5`, `1`, `2.5`). */
function le(seconds: number): string {
  return String(seconds);
}

function trimFloat(x: number): string {
  return String(Number(x.toPrecision(12)));
}

/** Checks a target and fills in its defaults; errors name the service and field. */
export function resolveSlo(service: string, target: SloTarget = {}): { availability: number; latency?: LatencyObjective } {
  const availability = target.availability ?? DEFAULT_SLO.availability;
  const latency = target.latency === false ? undefined : target.latency ?? DEFAULT_SLO.latency;
  const problems: string[] = [];
  if (!(availability > 0 && availability < 1)) problems.push(`availability must be between 0 and 1 exclusive (got ${availability})`);
  if (latency) {
    if (!(latency.target > 0 && latency.target < 1)) problems.push(`latency.target must be between 0 and 1 exclusive (got ${latency.target})`);
    if (!(latency.thresholdSeconds > 0)) problems.push(`latency.thresholdSeconds must be > 0 (got ${latency.thresholdSeconds})`);
  }
  if (problems.length) throw new Error(`SLO of ${service}: ${problems.join("; ")}`);
  return { availability, latency };
}

/**
 * Multi-window, multi-burn-rate SLO alerts of one service: error ratios recorded per window for the availability SLI
 * (5xx share) and the latency SLI (share slower than the objective's bucket), then one alert per severity.
 */
export function sloRules(svc: MonitoredService, target: SloTarget = {}): RuleGroup {
  const slo = resolveSlo(svc.name, target);
  const sel = `service="${svc.name}"`;
  const rules: Array<AlertRule | RecordingRule> = [];
  const objectives: Array<{ slo: string; objective: number; sli: (w: string) => string }> = [
    {
      slo: "availability",
      objective: slo.availability,
      sli: (w) => `sum by (service) (rate(http_requests_total{${sel}, code=~"5.."}[${w}])) / sum by (service) (rate(http_requests_total{${sel}}[${w}]))`,
    },
  ];
  if (slo.latency) {
    const bound = le(slo.latency.thresholdSeconds);
    objectives.push({
      slo: "latency",
      objective: slo.latency.target,
      sli: (w) =>
        `1 - (sum by (service) (rate(http_request_duration_seconds_bucket{${sel}, le="${bound}"}[${w}])) / ` +
        `sum by (service) (rate(http_request_duration_seconds_count{${sel}}[${w}])))`,
    });
  }
  for (const o of objectives) {
    for (const w of WINDOWS) {
      rules.push({ record: `slo:sli_error:ratio_rate${w}`, expr: o.sli(w), labels: { service: svc.name, slo: o.slo, team: svc.team } });
    }
  }
  for (const o of objectives) {
    const budget = 1 - o.objective;
    for (const severity of ["critical", "warning"] as const) {
      const windows = BURN_RATE_WINDOWS.filter((w) => w.severity === severity);
      const condition = windows
        .map((w) => {
          const threshold = trimFloat(w.factor * budget);
          const m = (win: string) => `slo:sli_error:ratio_rate${win}{${sel}, slo="${o.slo}"}`;
          return `(${m(w.long)} > ${threshold} and ${m(w.short)} > ${threshold})`;
        })
        .join(" or ");
      const target = `${trimFloat(o.objective * 100)}%`;
      rules.push({
        alert: windows[0].alert,
        expr: condition,
        for: windows[0].for,
        severity,
        summary: `${svc.name}: ${o.slo} SLO error budget burning ${severity === "critical" ? "fast" : "steadily"}`,
        description:
          `${svc.name} is spending its 30-day ${o.slo} error budget (objective ${target}) ` +
          `${severity === "critical" ? `at ${windows.map((w) => `${w.factor}x over ${w.long}`).join(" or ")}: the budget is gone within days` : `at ${windows.map((w) => `${w.factor}x over ${w.long}`).join(" or ")}: it will not last the window`}. Error ratio over the long window: {{ $value | humanizePercentage }}.`,
        runbook: `slo/${severity === "critical" ? "fast-burn" : "slow-burn"}`,
        labels: { service: svc.name, team: svc.team, slo: o.slo },
      });
    }
  }
  return { name: `slo.${svc.name}`, rules };
}
