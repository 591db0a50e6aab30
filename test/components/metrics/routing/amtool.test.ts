import { buildAlertRouting, receiversFor, SecretResolver, toAlertmanagerYaml } from "../../../../components/metrics";
import { prod } from "../../../../stacks/environments/prod";
import { findOne } from "../../../support/objects";
import { buildMetricsPlatform } from "../fixture";
import { run, scratch } from "../promtool";

const { metrics, objects } = buildMetricsPlatform(prod);
const tmp = scratch("alertmanager");
afterAll(() => tmp.cleanup());

/** Well-formed stand-ins for what the operator reads from the Secrets. */
const standIns: SecretResolver = (ref, kind) =>
  kind === "url" ? `https://hooks.slack.com/services/T0000/B0000/${ref.key}` : kind === "token" ? "0123456789abcdef0123456789abcdef" : "stand-in-password";
const file = tmp.write("alertmanager.yml", toAlertmanagerYaml(metrics.routing, standIns));

function route(labels: Record<string, string>): string[] {
  const args = ["config", "routes", "test", `--config.file=${file}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
  const r = run("amtool", args);
  if (r.code !== 0) throw new Error(r.output);
  return r.stdout.trim().split(/[,\s]+/).filter(Boolean);
}

describe("Alertmanager configuration, checked by the real amtool", () => {
  it("is a valid alertmanager.yml (`amtool check-config`)", () => {
    const r = run("amtool", ["check-config", file]);
    expect(r.output).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  it.each([
    [{ team: "checkout", severity: "critical", alertname: "ServiceHighErrorRatio" }, ["checkout-pager"]],
    [{ team: "checkout", severity: "warning", alertname: "ServiceHighLatencyP99" }, ["checkout-slack"]],
    [{ team: "storefront", severity: "info", alertname: "X" }, ["storefront-email"]],
    [{ team: "platform", severity: "critical", alertname: "RedisMasterDown" }, ["platform-pager"]],
    [{ severity: "critical", alertname: "NoTeam" }, ["platform-pager"]],
    [{ team: "unknown", severity: "warning", alertname: "X" }, ["platform-slack"]],
  ])("routes %j to %j by team and severity (amtool and the model agree)", (labels, receivers) => {
    expect(route(labels)).toEqual(receivers);
    expect(receiversFor(metrics.routing, labels)).toEqual(receivers);
  });

  it("lets critical silence warning, and warning silence info, of the same alert only", () => {
    expect(metrics.routing.inhibitRules.map((r) => [r.source[0].value, r.target[0].value])).toEqual([
      ["critical", "warning"],
      ["warning", "info"],
    ]);
    for (const r of metrics.routing.inhibitRules) expect(r.equal).toEqual(expect.arrayContaining(["alertname", "namespace", "service"]));
  });

  it("groups by alert, namespace and service", () => {
    expect(metrics.routing.route.groupBy).toEqual(["alertname", "namespace", "service"]);
  });

  it("writes the same configuration as an AlertmanagerConfig whose credentials are Secret references", () => {
    const cfg = findOne(objects, "AlertmanagerConfig", "stratum-routing", "monitoring");
    const pager = cfg.spec.receivers.find((r: { name: string }) => r.name === "checkout-pager");
    expect(pager.pagerdutyConfigs).toEqual([{ routingKey: { name: "alertmanager-pagerduty", key: "routing-key-checkout" }, sendResolved: true }]);
    expect(pager.slackConfigs[0].channel).toBe("#checkout-alerts");
    expect(cfg.spec.inhibitRules[0]).toMatchObject({ sourceMatch: [{ name: "severity", value: "critical", matchType: "=" }], targetMatch: [{ name: "severity", value: "warning", matchType: "=" }] });
    expect(cfg.spec.route.routes[0]).toMatchObject({ receiver: "checkout-slack", matchers: [{ name: "team", value: "checkout", matchType: "=" }] });
    expect(JSON.stringify(cfg)).not.toMatch(/hooks\.slack\.com|stand-in/);
  });

  it("refuses a team that pages without a routing key, and a malformed contact, naming each", () => {
    const smtp = { smarthost: "smtp.example.com:587", from: "am@example.com", username: "am", password: { name: "s", key: "p" } };
    expect(() =>
      buildAlertRouting({
        teams: { platform: { slackChannel: "#ops", email: "ops@example.com", pagerduty: true }, web: { slackChannel: "Web Team", email: "nope", pagerduty: false } },
        smtp,
        slackWebhook: { name: "s", key: "u" },
        pagerdutyKeys: {},
      }),
    ).toThrow(
      "alert routing: team 'platform': pages through PagerDuty but has no routing key; team 'web': slackChannel must be a channel name such as #alerts (got \"Web Team\"); team 'web': email must be an e-mail address (got \"nope\")",
    );
  });
});
