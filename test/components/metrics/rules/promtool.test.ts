import { AlertRule, alertsOf, ruleFile, runbookUrl, Severity } from "../../../../components/metrics";
import { prod } from "../../../../stacks/environments/prod";
import { buildMetricsPlatform } from "../fixture";
import { expand, run, scratch } from "../promtool";

const { metrics } = buildMetricsPlatform(prod);
const tmp = scratch("rules");
afterAll(() => tmp.cleanup());
const files = metrics.ruleSets.map((set) => tmp.write(`${set.resource.name}.yaml`, ruleFile(set.rendered)));
const alerts = alertsOf(metrics.ruleSets.flatMap((s) => s.groups));

function rule(name: string, severity: Severity): AlertRule {
  const hit = alerts.find((a) => a.alert === name && a.severity === severity);
  if (!hit) throw new Error(`no ${severity} alert ${name}`);
  return hit;
}

/** The alert promtool must see: the rule's static labels plus the series' labels, and its rendered annotations. */
function expected(name: string, severity: Severity, seriesLabels: Record<string, string>, value?: string) {
  const r = rule(name, severity);
  const labels = { ...seriesLabels, ...r.labels, severity };
  return {
    exp_labels: labels,
    exp_annotations: {
      summary: expand(r.summary, labels, value),
      description: expand(r.description, labels, value),
      runbook_url: runbookUrl(metrics.runbookBaseUrl, r.runbook),
    },
  };
}

describe("generated alert rules, checked by the real promtool", () => {
  it("writes one rule file per PrometheusRule, all accepted by `promtool check rules`", () => {
    expect(files.length).toBe(3);
    const r = run("promtool", ["check", "rules", ...files]);
    expect(r.output).not.toMatch(/FAILED|error/i);
    expect(r.code).toBe(0);
  });

  it("gives every alert a severity, summary, description and runbook URL", () => {
    for (const set of metrics.ruleSets) {
      for (const g of set.rendered) {
        for (const r of g.rules.filter((x) => x.alert)) {
          expect(["critical", "warning", "info"]).toContain(r.labels?.severity);
          expect(r.annotations?.summary).toBeTruthy();
          expect(r.annotations?.description).toBeTruthy();
          expect(r.annotations?.runbook_url).toMatch(/^https:\/\/runbooks\.stratum\.dev\/[a-z-]+\/[a-z-]+$/);
        }
      }
    }
  });

  it("fires the key alerts for the series that should trigger them (`promtool test rules`)", () => {
    const order = { service: "order", team: "checkout" };
    const tests = {
      rule_files: files,
      evaluation_interval: "1m",
      tests: [
        {
          name: "order answers 10% of requests with 5xx",
          interval: "1m",
          input_series: [
            { series: `http_requests_total{service="order", code="200"}`, values: "0+90x90" },
            { series: `http_requests_total{service="order", code="500"}`, values: "0+10x90" },
          ],
          alert_rule_test: [
            { eval_time: "3m", alertname: "ServiceHighErrorRatio", exp_alerts: [] },
            { eval_time: "12m", alertname: "ServiceHighErrorRatio", exp_alerts: [expected("ServiceHighErrorRatio", "critical", order, "10%")] },
            {
              eval_time: "70m",
              alertname: "SloErrorBudgetBurn",
              exp_alerts: [
                expected("SloErrorBudgetBurn", "critical", { ...order, slo: "availability" }, "10%"),
                expected("SloErrorBudgetBurn", "warning", { ...order, slo: "availability" }, "10%"),
              ],
            },
          ],
        },
        {
          name: "a healthy service raises nothing",
          interval: "1m",
          input_series: [{ series: `http_requests_total{service="payment", code="200"}`, values: "0+100x90" }],
          alert_rule_test: [
            { eval_time: "70m", alertname: "ServiceHighErrorRatio", exp_alerts: [] },
            { eval_time: "70m", alertname: "SloErrorBudgetBurn", exp_alerts: [] },
          ],
        },
        {
          name: "replication lag of a minute warns; five minutes pages",
          interval: "1m",
          input_series: [
            { series: `cnpg_pg_replication_lag{namespace="data", pod="pg-2"}`, values: "60x15" },
            { series: `cnpg_pg_replication_lag{namespace="data", pod="pg-3"}`, values: "400x15" },
          ],
          alert_rule_test: [
            {
              eval_time: "10m",
              alertname: "PostgresReplicationLag",
              exp_alerts: [
                expected("PostgresReplicationLag", "warning", { namespace: "data", pod: "pg-2" }, "1m 0s"),
                expected("PostgresReplicationLag", "warning", { namespace: "data", pod: "pg-3" }, "6m 40s"),
                expected("PostgresReplicationLag", "critical", { namespace: "data", pod: "pg-3" }, "6m 40s"),
              ],
            },
          ],
        },
        {
          name: "a failed backup after the last good one",
          interval: "1m",
          input_series: [
            { series: `cnpg_collector_last_available_backup_timestamp{namespace="data", pod="pg-1"}`, values: "1000x5" },
            { series: `cnpg_collector_last_failed_backup_timestamp{namespace="data", pod="pg-1"}`, values: "2000x5" },
          ],
          alert_rule_test: [{ eval_time: "2m", alertname: "PostgresBackupFailed", exp_alerts: [expected("PostgresBackupFailed", "critical", { namespace: "data" })] }],
        },
        {
          name: "no Redis instance is master",
          interval: "1m",
          input_series: [
            { series: `redis_instance_info{instance="redis-0", role="slave"}`, values: "1x5" },
            { series: `redis_up{instance="redis-0"}`, values: "1x5" },
          ],
          alert_rule_test: [{ eval_time: "3m", alertname: "RedisMasterDown", exp_alerts: [expected("RedisMasterDown", "critical", {})] }],
        },
        {
          name: "a reachable master keeps RedisMasterDown quiet",
          interval: "1m",
          input_series: [
            { series: `redis_instance_info{instance="redis-0", role="master"}`, values: "1x5" },
            { series: `redis_up{instance="redis-0"}`, values: "1x5" },
          ],
          alert_rule_test: [{ eval_time: "3m", alertname: "RedisMasterDown", exp_alerts: [] }],
        },
        {
          name: "events arrive in the dead-letter topic",
          interval: "1m",
          input_series: [{ series: `event_processor_events_dead_lettered_total{type="order.created", reason="schema"}`, values: "0+1x20" }],
          alert_rule_test: [{ eval_time: "15m", alertname: "EventsDeadLettered", exp_alerts: [expected("EventsDeadLettered", "warning", { type: "order.created" }, "10")] }],
        },
        {
          name: "the gateway's breaker to payment opens",
          interval: "1m",
          input_series: [
            { series: `gateway_circuit_breaker_state{upstream="payment"}`, values: "0 0 2 2 2 2 2" },
            { series: `gateway_circuit_breaker_state{upstream="catalog"}`, values: "1x6" },
          ],
          alert_rule_test: [{ eval_time: "5m", alertname: "GatewayCircuitBreakerOpen", exp_alerts: [expected("GatewayCircuitBreakerOpen", "critical", { upstream: "payment" })] }],
        },
        {
          name: "Elasticsearch turns red",
          interval: "1m",
          input_series: [
            { series: `elasticsearch_cluster_health_status{cluster="logs", color="red"}`, values: "1x5" },
            { series: `elasticsearch_cluster_health_status{cluster="logs", color="green"}`, values: "0x5" },
          ],
          alert_rule_test: [{ eval_time: "4m", alertname: "ElasticsearchClusterRed", exp_alerts: [expected("ElasticsearchClusterRed", "critical", { cluster: "logs" })] }],
        },
        {
          name: "Argo CD application degraded",
          interval: "1m",
          input_series: [{ series: `argocd_app_info{name="order", project="stratum-prod", health_status="Degraded", sync_status="Synced"}`, values: "1x15" }],
          alert_rule_test: [{ eval_time: "12m", alertname: "ArgoCdAppDegraded", exp_alerts: [expected("ArgoCdAppDegraded", "critical", { name: "order", project: "stratum-prod" })] }],
        },
      ],
    };
    const file = tmp.write("tests.yaml", tests);
    const r = run("promtool", ["test", "rules", file]);
    if (r.code !== 0) throw new Error(r.output);
    expect(r.output).toMatch(/SUCCESS/);
  });
});
