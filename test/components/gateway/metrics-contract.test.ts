import { gatewayAlerts } from "../../../components/metrics/rules/component-alerts";
import { GatewayMetrics } from "../../../services/gateway/src/metrics";

/** The metric names and `by (...)` labels a PromQL text uses for gateway series. */
function used(expr: string): Array<{ metric: string; labels: string[] }> {
  const labels = [...expr.matchAll(/by \(([^)]*)\)/g)].flatMap((m) => m[1].split(",").map((l) => l.trim())).filter((l) => l !== "le");
  const selectors = [...expr.matchAll(/(gateway_[a-z_]+)(\{([^}]*)\})?/g)].map((m) => ({
    metric: m[1].replace(/_(bucket|sum|count)$/, ""),
    labels: [...labels, ...[...(m[3] ?? "").matchAll(/([a-z_]+)=/g)].map((x) => x[1])],
  }));
  return selectors;
}

describe("gateway metrics contract", () => {
  it("exposes every series and label the platform's gateway alerts query", () => {
    const metrics = new GatewayMetrics();
    for (const r of gatewayAlerts.group.rules) {
      const rule = { alert: "alert" in r ? r.alert : r.record, expr: r.expr };
      for (const { metric, labels } of used(rule.expr)) {
        const m = metrics.registry.getSingleMetric(metric) as unknown as { labelNames: string[] } | undefined;
        expect({ rule: rule.alert, metric, found: Boolean(m) }).toEqual({ rule: rule.alert, metric, found: true });
        for (const l of labels) expect({ rule: rule.alert, metric, label: l, found: m!.labelNames.includes(l) }).toEqual({ rule: rule.alert, metric, label: l, found: true });
      }
    }
  });

  it("encodes breaker states by severity, so that 2 is open", async () => {
    const metrics = new GatewayMetrics();
    metrics.setBreaker("order", "open");
    metrics.setBreaker("payment", "half_open");
    metrics.setBreaker("catalog", "closed");
    const { values } = await metrics.breaker.get();
    expect(Object.fromEntries(values.map((v) => [v.labels.upstream, v.value]))).toEqual({ order: 2, payment: 1, catalog: 0 });
  });
});
