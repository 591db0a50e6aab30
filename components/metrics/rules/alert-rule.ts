/** How urgent an alert is: `critical` pages the owning team, `warning` goes to its chat, `info` to e-mail. */
export type Severity = "critical" | "warning" | "info";

/** The severities, most urgent first. */
export const SEVERITIES: ReadonlyArray<Severity> = ["critical", "warning", "info"];

/** An alerting rule: a PromQL condition plus everything a responder needs to act on it. */
export interface AlertRule {
  /** Alert name, UpperCamelCase (`ServiceHighErrorRatio`). */
  readonly alert: string;
  /** PromQL condition; the alert fires for each series it returns. */
  readonly expr: string;
  /** How long the condition must hold before the alert fires, e.g. `5m`. @default fires at once */
  readonly for?: string;
  /** Urgency; decides the receiver. */
  readonly severity: Severity;
  /** One line for the notification title; may use `{{ $labels.x }}`. */
  readonly summary: string;
  /** What is wrong and what it affects; may use `{{ $labels.x }}` and `{{ $value }}`. */
  readonly description: string;
  /** Runbook page, relative to the runbook base URL (`postgres/replication-lag`) or an absolute https URL. */
  readonly runbook: string;
  /** Extra labels (`team`, `service`); `severity` is set from `severity`. @default none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Never set: lets code read `rule.record` on either kind of rule. */
  readonly record?: undefined;
}

/** A recording rule: precomputes an expression under a new metric name. */
export interface RecordingRule {
  /** Metric name, `level:metric:operations` style (`service:http_requests:rate5m`). */
  readonly record: string;
  /** PromQL expression. */
  readonly expr: string;
  /** Labels added to the result. @default none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Never set: lets code read `rule.alert` on either kind of rule. */
  readonly alert?: undefined;
}

/** A group of rules evaluated together, in order. */
export interface RuleGroup {
  /** Group name, unique in the platform. */
  readonly name: string;
  /** Evaluation interval. @default Prometheus' evaluationInterval */
  readonly interval?: string;
  /** Recording rules first, then the alerts that read them. */
  readonly rules: ReadonlyArray<AlertRule | RecordingRule>;
}

/** A rule as Prometheus reads it (rule file / PrometheusRule `spec.groups[].rules[]`). */
export interface RenderedRule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** A group as Prometheus reads it. */
export interface RenderedGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: RenderedRule[];
}

const ALERT_NAME = /^[A-Z][A-Za-z0-9]*$/;
const RECORD_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PROM_DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;

/** True for an alerting rule. */
export function isAlert(rule: AlertRule | RecordingRule): rule is AlertRule {
  return (rule as AlertRule).alert !== undefined;
}

/** Every problem of a group, each naming the rule and field; empty when valid. */
export function ruleGroupProblems(group: RuleGroup): string[] {
  const problems: string[] = [];
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(group.name)) problems.push(`group name must be lower-case words joined by - or . (got ${JSON.stringify(group.name)})`);
  if (group.interval !== undefined && !PROM_DURATION.test(group.interval)) problems.push(`group ${group.name}: interval must be a duration such as 30s (got ${JSON.stringify(group.interval)})`);
  if (group.rules.length === 0) problems.push(`group ${group.name}: has no rules`);
  for (const rule of group.rules) {
    const where = `group ${group.name}: ${isAlert(rule) ? `alert ${rule.alert}` : `record ${rule.record}`}`;
    if (!rule.expr.trim()) problems.push(`${where}: expr must not be empty`);
    for (const key of Object.keys(rule.labels ?? {})) {
      if (!LABEL_NAME.test(key)) problems.push(`${where}: label name ${JSON.stringify(key)} is not a Prometheus label name`);
    }
    if (isAlert(rule)) {
      if (!ALERT_NAME.test(rule.alert)) problems.push(`${where}: alert name must be UpperCamelCase`);
      if (rule.for !== undefined && !PROM_DURATION.test(rule.for)) problems.push(`${where}: for must be a duration such as 5m (got ${JSON.stringify(rule.for)})`);
      if (!rule.summary.trim()) problems.push(`${where}: summary must not be empty`);
      if (!rule.description.trim()) problems.push(`${where}: description must not be empty`);
      if (!rule.runbook.trim()) problems.push(`${where}: runbook must not be empty`);
      if (rule.labels && "severity" in rule.labels) problems.push(`${where}: set severity through the severity field, not labels`);
    } else if (!RECORD_NAME.test(rule.record)) {
      problems.push(`${where}: record must be a metric name`);
    }
  }
  return problems;
}

/** The runbook URL of an alert: absolute URLs stay, relative pages hang off the base. */
export function runbookUrl(base: string, runbook: string): string {
  if (/^https:\/\//.test(runbook)) return runbook;
  return `${base.replace(/\/+$/, "")}/${runbook.replace(/^\/+/, "")}`;
}

/** A group in Prometheus' own shape, with severity as a label and summary, description and runbook_url as annotations. */
export function renderGroup(group: RuleGroup, runbookBase: string): RenderedGroup {
  const rules: RenderedRule[] = group.rules.map((rule) => {
    if (!isAlert(rule)) return { record: rule.record, expr: rule.expr, labels: rule.labels ? { ...rule.labels } : undefined };
    return {
      alert: rule.alert,
      expr: rule.expr,
      for: rule.for,
      labels: { ...rule.labels, severity: rule.severity },
      annotations: { summary: rule.summary, description: rule.description, runbook_url: runbookUrl(runbookBase, rule.runbook) },
    };
  });
  return { name: group.name, interval: group.interval, rules };
}

/** The alerting rules of some groups, flattened. */
export function alertsOf(groups: ReadonlyArray<RuleGroup>): AlertRule[] {
  return groups.flatMap((g) => g.rules.filter(isAlert));
}
