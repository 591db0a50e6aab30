import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { taskAlerts } from "../../../components/tasks";
import { renderGroup, ruleFile, ruleGroupProblems } from "../../../components/metrics";

function promtool(args: string[]) {
  const r = spawnSync("promtool", args, { encoding: "utf8", timeout: 30000 });
  if (r.error) throw new Error(`promtool could not run (${r.error.message}); install it with scripts/install-system-tools.sh`);
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("task alerts", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stratum-task-alerts-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const group = taskAlerts(100);
  const rules = path.join(dir, "rules.yaml");
  fs.writeFileSync(rules, YAML.stringify(ruleFile([renderGroup(group, "https://runbooks.example.com")])));

  it("are well-formed for the platform and for promtool", () => {
    expect(ruleGroupProblems(group)).toEqual([]);
    const r = promtool(["check", "rules", rules]);
    expect(r.output).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  it("count the backlog once however many replicas report it", () => {
    const test = {
      rule_files: [rules],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          // two replicas read the same queue: 60 pending + 30 retrying = 90, under the threshold of 100, then 120
          input_series: [
            { series: 'task_queue_depth{state="pending",pod="a"}', values: "60x20 90x30" },
            { series: 'task_queue_depth{state="pending",pod="b"}', values: "60x20 90x30" },
            { series: 'task_queue_depth{state="retrying",pod="a"}', values: "30x50" },
            { series: 'task_queue_depth{state="retrying",pod="b"}', values: "30x50" },
          ],
          alert_rule_test: [
            { eval_time: "19m", alertname: "TaskQueueBacklog", exp_alerts: [] },
            {
              eval_time: "40m",
              alertname: "TaskQueueBacklog",
              exp_alerts: [{
                exp_labels: { severity: "warning", team: "platform", service: "task-orchestrator" },
                exp_annotations: {
                  summary: "Task queue backlog above 120",
                  description: "More than 100 tasks have waited for 15 minutes: workers are too few, stuck, or failing; tasks finish late.",
                  runbook_url: "https://runbooks.example.com/tasks/queue-backlog",
                },
              }],
            },
          ],
        },
      ],
    };
    const file = path.join(dir, "test.yaml");
    fs.writeFileSync(file, YAML.stringify(test));
    const r = promtool(["test", "rules", file]);
    expect(r.output).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });
});
