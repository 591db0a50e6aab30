import { goldenSignalRules, renderGroup, resolveSlo, ruleGroupProblems, runbookUrl, sloRules, toGoDuration } from "../../../../components/metrics";

const svc = { name: "order", namespace: "apps", container: "order", team: "checkout" };

describe("typed alert rules", () => {
  it("lists every problem of a group, naming the rule and field", () => {
    const problems = ruleGroupProblems({
      name: "Bad Group",
      rules: [
        { alert: "lower", expr: "up", for: "5 minutes", severity: "warning", summary: "", description: "d", runbook: "x/y", labels: { severity: "x", "bad-label": "v" } },
        { record: "1bad", expr: " " },
      ],
    });
    expect(problems).toEqual([
      'group name must be lower-case words joined by - or . (got "Bad Group")',
      'group Bad Group: alert lower: label name "bad-label" is not a Prometheus label name',
      "group Bad Group: alert lower: alert name must be UpperCamelCase",
      'group Bad Group: alert lower: for must be a duration such as 5m (got "5 minutes")',
      "group Bad Group: alert lower: summary must not be empty",
      "group Bad Group: alert lower: set severity through the severity field, not labels",
      "group Bad Group: record 1bad: expr must not be empty",
      "group Bad Group: record 1bad: record must be a metric name",
    ]);
  });

  it("renders severity as a label and summary, description and runbook URL as annotations", () => {
    const g = renderGroup({ name: "g", rules: [{ alert: "A", expr: "up == 0", severity: "critical", summary: "s", description: "d", runbook: "area/page", labels: { team: "t" } }] }, "https://runbooks.example.com/");
    expect(g.rules[0]).toEqual({ alert: "A", expr: "up == 0", for: undefined, labels: { team: "t", severity: "critical" }, annotations: { summary: "s", description: "d", runbook_url: "https://runbooks.example.com/area/page" } });
    expect(runbookUrl("https://a", "https://elsewhere/x")).toBe("https://elsewhere/x");
  });

  it("derives the burn-rate thresholds from the SLO's error budget", () => {
    const group = sloRules(svc, { availability: 0.999, latency: false });
    const alerts = group.rules.filter((r) => "alert" in r) as Array<{ severity: string; expr: string }>;
    expect(alerts.map((a) => a.severity)).toEqual(["critical", "warning"]);
    expect(alerts[0].expr).toContain('slo:sli_error:ratio_rate1h{service="order", slo="availability"} > 0.0144');
    expect(alerts[0].expr).toContain('slo:sli_error:ratio_rate30m{service="order", slo="availability"} > 0.006');
    expect(alerts[1].expr).toContain('slo:sli_error:ratio_rate3d{service="order", slo="availability"} > 0.001');
  });

  it("measures the latency SLO at the objective's histogram bucket", () => {
    const group = sloRules(svc, { latency: { thresholdSeconds: 0.25, target: 0.99 } });
    const sli = group.rules.find((r) => "record" in r && r.record === "slo:sli_error:ratio_rate5m" && r.labels?.slo === "latency");
    expect(sli?.expr).toContain('le="0.25"');
  });

  it("refuses SLO targets and thresholds outside (0, 1), naming the service", () => {
    expect(() => resolveSlo("order", { availability: 1, latency: { thresholdSeconds: 0, target: 1.5 } })).toThrow(
      "SLO of order: availability must be between 0 and 1 exclusive (got 1); latency.target must be between 0 and 1 exclusive (got 1.5); latency.thresholdSeconds must be > 0 (got 0)",
    );
    expect(() => goldenSignalRules(svc, { errorRatio: 5 })).toThrow("golden signals of order: errorRatio must be between 0 and 1 exclusive (got 5)");
  });

  it("converts day and week retention to the hours Alertmanager reads", () => {
    expect(toGoDuration("5d")).toBe("120h");
    expect(toGoDuration("2w")).toBe("336h");
    expect(toGoDuration("90m")).toBe("90m");
    expect(() => toGoDuration("five days")).toThrow('not a duration: "five days"');
  });
});
