import { RuleGroup } from "./alert-rule";

/** A business service as the rules see it: where its metrics come from and who owns it. */
export interface MonitoredService {
  /** Service name; the `service` label of its series. */
  readonly name: string;
  /** Namespace of its pods. */
  readonly namespace: string;
  /** Name of its main container (cAdvisor's `container` label). */
  readonly container: string;
  /** Owning team; the `team` label of its alerts. */
  readonly team: string;
}

/** Thresholds of the golden-signal alerts of one service. */
export interface GoldenSignalThresholds {
  /** Share of requests answered with 5xx above which the service alerts (0-1). @default 0.05 */
  readonly errorRatio?: number;
  /** p99 request latency in seconds above which the service alerts. @default 1 */
  readonly p99LatencySeconds?: number;
  /** CPU or memory use, as a share of the container limit, above which the service alerts (0-1). @default 0.9 */
  readonly saturation?: number;
}

/** The defaults of `GoldenSignalThresholds`, in one place. */
export const DEFAULT_GOLDEN_SIGNALS: Required<GoldenSignalThresholds> = { errorRatio: 0.05, p99LatencySeconds: 1, saturation: 0.9 };

function checkRatio(name: string, value: number, where: string): void {
  if (!(value > 0 && value < 1)) throw new Error(`${where}: ${name} must be between 0 and 1 exclusive (got ${value})`);
}

/**
 * Golden signals of one business service: traffic (recorded), errors (5xx ratio), latency (p99 from the
 * `http_request_duration_seconds` histogram) and saturation (CPU and memory against the container limits, from cAdvisor).
 */
export function goldenSignalRules(svc: MonitoredService, thresholds: GoldenSignalThresholds = {}): RuleGroup {
  const t = { ...DEFAULT_GOLDEN_SIGNALS, ...thresholds };
  const where = `golden signals of ${svc.name}`;
  checkRatio("errorRatio", t.errorRatio, where);
  checkRatio("saturation", t.saturation, where);
  if (!(t.p99LatencySeconds > 0)) throw new Error(`${where}: p99LatencySeconds must be > 0 (got ${t.p99LatencySeconds})`);
  const sel = `service="${svc.name}"`;
  const container = `namespace="${svc.namespace}", container="${svc.container}"`;
  const labels = { service: svc.name, team: svc.team };
  return {
    name: `golden-signals.${svc.name}`,
    rules: [
      { record: "service:http_requests:rate5m", expr: `sum by (service) (rate(http_requests_total{${sel}}[5m]))`, labels: { service: svc.name, team: svc.team } },
      {
        record: "service:http_errors:ratio_rate5m",
        expr: `sum by (service) (rate(http_requests_total{${sel}, code=~"5.."}[5m])) / sum by (service) (rate(http_requests_total{${sel}}[5m]))`,
        labels: { service: svc.name, team: svc.team },
      },
      {
        record: "service:http_request_duration_seconds:p99_rate5m",
        expr: `histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket{${sel}}[5m])))`,
        labels: { service: svc.name, team: svc.team },
      },
      {
        alert: "ServiceHighErrorRatio",
        expr: `service:http_errors:ratio_rate5m{${sel}} > ${t.errorRatio}`,
        for: "5m",
        severity: "critical",
        summary: `${svc.name}: more than ${t.errorRatio * 100}% of requests fail`,
        description: `{{ $value | humanizePercentage }} of ${svc.name}'s requests were answered with 5xx over the last 5 minutes (threshold ${t.errorRatio * 100}%).`,
        runbook: "services/high-error-ratio",
        labels,
      },
      {
        alert: "ServiceHighLatencyP99",
        expr: `service:http_request_duration_seconds:p99_rate5m{${sel}} > ${t.p99LatencySeconds}`,
        for: "10m",
        severity: "warning",
        summary: `${svc.name}: p99 latency above ${t.p99LatencySeconds}s`,
        description: `The 99th percentile of ${svc.name}'s request latency is {{ $value | humanizeDuration }} (threshold ${t.p99LatencySeconds}s).`,
        runbook: "services/high-latency",
        labels,
      },
      {
        alert: "ServiceCpuSaturated",
        expr:
          `sum(rate(container_cpu_usage_seconds_total{${container}}[5m])) / ` +
          `sum(container_spec_cpu_quota{${container}} / container_spec_cpu_period{${container}}) > ${t.saturation}`,
        for: "15m",
        severity: "warning",
        summary: `${svc.name}: CPU near its limit`,
        description: `${svc.name}'s containers use {{ $value | humanizePercentage }} of their CPU limit; requests will be throttled. Scale out or raise the limit.`,
        runbook: "services/saturation",
        labels,
      },
      {
        alert: "ServiceMemorySaturated",
        expr: `max(container_memory_working_set_bytes{${container}} / container_spec_memory_limit_bytes{${container}}) > ${t.saturation}`,
        for: "15m",
        severity: "warning",
        summary: `${svc.name}: memory near its limit`,
        description: `A container of ${svc.name} uses {{ $value | humanizePercentage }} of its memory limit and will be OOM-killed if it grows.`,
        runbook: "services/saturation",
        labels,
      },
    ],
  };
}
