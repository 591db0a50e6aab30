import { Dashboard, eventAlerts, eventsDashboard, gatewayAlerts, gatewayDashboard, taskAlerts, tasksDashboard } from "../../../../components/metrics";
import { GatewayMetrics } from "../../../../services/gateway/src/metrics";
import { ProcessorMetrics } from "../../../../services/event-processor/src/metrics";
import { Metrics as TaskMetrics } from "../../../../services/task-orchestrator/src/metrics";

type Registry = { getSingleMetric(name: string): unknown };

/** Metric names (without histogram suffixes) and the labels a PromQL text selects or groups by, for one prefix. */
function used(expr: string, prefix: RegExp): Array<{ metric: string; labels: string[] }> {
  const by = [...expr.matchAll(/by \(([^)]*)\)/g)].flatMap((m) => m[1].split(",").map((l) => l.trim())).filter((l) => l !== "le");
  return [...expr.matchAll(new RegExp(`(${prefix.source}[a-z_]*)(\\{([^}]*)\\})?`, "g"))].map((m) => ({
    metric: m[1].replace(/_(bucket|sum|count)$/, ""),
    labels: [...by, ...[...(m[3] ?? "").matchAll(/([a-z_]+)=/g)].map((x) => x[1])],
  }));
}

function check(registry: Registry, exprs: ReadonlyArray<string>, prefix: RegExp): void {
  const seen = new Set<string>();
  for (const expr of exprs) {
    for (const { metric, labels } of used(expr, prefix)) {
      seen.add(metric);
      const m = registry.getSingleMetric(metric) as { labelNames: string[] } | undefined;
      expect({ metric, found: Boolean(m) }).toEqual({ metric, found: true });
      for (const l of labels) expect({ metric, label: l, found: m!.labelNames.includes(l) }).toEqual({ metric, label: l, found: true });
    }
  }
  expect(seen.size).toBeGreaterThan(0);
}

const exprsOf = (rules: ReadonlyArray<{ expr: string }>, d: Dashboard) => [...rules.map((r) => r.expr), ...d.promQueries.map((q) => q.expr)];

describe("runtime services expose every series the alerts and dashboards read", () => {
  it("event processor", () => {
    check(new ProcessorMetrics(["order.created"], false).registry, exprsOf(eventAlerts.group.rules, eventsDashboard(false)), /event_processor_/);
  });

  it("gateway", () => {
    check(new GatewayMetrics().registry, exprsOf(gatewayAlerts.group.rules, gatewayDashboard()), /gateway_/);
  });

  it("task orchestrator", () => {
    check(new TaskMetrics(undefined, { defaults: false }).registry, exprsOf(taskAlerts.group.rules, tasksDashboard()), /tasks?_/);
  });
});
