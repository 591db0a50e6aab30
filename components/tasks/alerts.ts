import type { RuleGroup } from "../metrics/rules/alert-rule";

/**
 * Alerts on the orchestrator's own metrics. The queue depth is read from the database by every replica, so it is
 * deduplicated with `max` rather than summed across pods.
 */
export function taskAlerts(backlogThreshold: number): RuleGroup {
  const labels = { team: "platform", service: "task-orchestrator" };
  return {
    name: "tasks.orchestrator",
    rules: [
      {
        alert: "TaskQueueBacklog",
        expr: `sum(max by (state) (task_queue_depth{state=~"pending|retrying"})) > ${backlogThreshold}`,
        for: "15m",
        severity: "warning",
        summary: "Task queue backlog above {{ $value }}",
        description: `More than ${backlogThreshold} tasks have waited for 15 minutes: workers are too few, stuck, or failing; tasks finish late.`,
        runbook: "tasks/queue-backlog",
        labels,
      },
      {
        alert: "TaskFailureRatioHigh",
        expr: 'sum by (type) (rate(tasks_failed_total[10m])) / clamp_min(sum by (type) (rate(tasks_total{state="running"}[10m])), 1e-9) > 0.2',
        for: "10m",
        severity: "warning",
        summary: "{{ $labels.type }} tasks fail in more than 20% of runs",
        description: "{{ $value | humanizePercentage }} of {{ $labels.type }} task runs failed over 10 minutes; retries add load and failed tasks need attention.",
        runbook: "tasks/failure-ratio",
        labels,
      },
      {
        alert: "TaskEventsUndelivered",
        expr: 'sum(rate(task_events_total{outcome="error"}[10m])) > 0 and sum(rate(task_events_total{outcome="published"}[10m])) == 0',
        for: "15m",
        severity: "warning",
        summary: "Task status events are not reaching Dapr",
        description: "The orchestrator's outbox relay has failed to publish for 15 minutes; events are kept in PostgreSQL and sent once Dapr accepts them.",
        runbook: "tasks/events-undelivered",
        labels,
      },
    ],
  };
}
