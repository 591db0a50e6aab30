import { RuleGroup } from "./alert-rule";

/** Alerts of one platform component, included only when one of its graph nodes exists. */
export interface ComponentAlerts {
  /** Graph node ids; the group is included when any of them is in the graph. */
  readonly nodes: ReadonlyArray<string>;
  /** The rules. */
  readonly group: RuleGroup;
}

const platform = { team: "platform" };

/** PostgreSQL (CloudNativePG exporter): replication lag and failed backups. */
export const postgresAlerts: ComponentAlerts = {
  nodes: ["postgres"],
  group: {
    name: "component.postgres",
    rules: [
      {
        alert: "PostgresReplicationLag",
        expr: "max by (namespace, pod) (cnpg_pg_replication_lag) > 30",
        for: "5m",
        severity: "warning",
        summary: "PostgreSQL replica {{ $labels.pod }} lags behind the primary",
        description: "Replica {{ $labels.pod }} in {{ $labels.namespace }} is {{ $value | humanizeDuration }} behind the primary; reads from it are stale and a failover would lose that much.",
        runbook: "postgres/replication-lag",
        labels: platform,
      },
      {
        alert: "PostgresReplicationLag",
        expr: "max by (namespace, pod) (cnpg_pg_replication_lag) > 300",
        for: "5m",
        severity: "critical",
        summary: "PostgreSQL replica {{ $labels.pod }} is minutes behind the primary",
        description: "Replica {{ $labels.pod }} in {{ $labels.namespace }} is {{ $value | humanizeDuration }} behind the primary.",
        runbook: "postgres/replication-lag",
        labels: platform,
      },
      {
        alert: "PostgresBackupFailed",
        expr: "max by (namespace) (cnpg_collector_last_failed_backup_timestamp) > max by (namespace) (cnpg_collector_last_available_backup_timestamp)",
        severity: "critical",
        summary: "The last PostgreSQL backup in {{ $labels.namespace }} failed",
        description: "The most recent backup attempt failed after the last good backup; point-in-time recovery is at risk until a backup succeeds.",
        runbook: "postgres/backup-failed",
        labels: platform,
      },
      {
        alert: "PostgresBackupTooOld",
        expr: "time() - max by (namespace) (cnpg_collector_last_available_backup_timestamp) > 2 * 86400",
        for: "30m",
        severity: "warning",
        summary: "No PostgreSQL backup in {{ $labels.namespace }} for two days",
        description: "The last successful backup is {{ $value | humanizeDuration }} old.",
        runbook: "postgres/backup-failed",
        labels: platform,
      },
    ],
  },
};

/** Redis (redis_exporter): master down and memory. */
export const redisAlerts: ComponentAlerts = {
  nodes: ["redis"],
  group: {
    name: "component.redis",
    rules: [
      {
        alert: "RedisMasterDown",
        expr: `(count(redis_instance_info{role="master"} and on (instance) (redis_up == 1)) or vector(0)) < 1`,
        for: "1m",
        severity: "critical",
        summary: "No Redis master is up",
        description: "No reachable Redis instance reports the master role; writes fail until Sentinel promotes a replica.",
        runbook: "redis/master-down",
        labels: platform,
      },
      {
        alert: "RedisInstanceDown",
        expr: "redis_up == 0",
        for: "2m",
        severity: "warning",
        summary: "Redis instance {{ $labels.instance }} is down",
        description: "The exporter cannot reach Redis at {{ $labels.instance }}.",
        runbook: "redis/instance-down",
        labels: platform,
      },
      {
        alert: "RedisMemoryHigh",
        expr: "redis_memory_used_bytes / (redis_memory_max_bytes > 0) > 0.9",
        for: "10m",
        severity: "warning",
        summary: "Redis {{ $labels.instance }} uses over 90% of maxmemory",
        description: "Redis at {{ $labels.instance }} uses {{ $value | humanizePercentage }} of maxmemory; keys will be evicted or writes refused.",
        runbook: "redis/memory",
        labels: platform,
      },
    ],
  },
};

/** Elasticsearch (elasticsearch_exporter): cluster health. */
export const elasticsearchAlerts: ComponentAlerts = {
  nodes: ["elasticsearch"],
  group: {
    name: "component.elasticsearch",
    rules: [
      {
        alert: "ElasticsearchClusterRed",
        expr: `max by (cluster) (elasticsearch_cluster_health_status{color="red"}) == 1`,
        for: "2m",
        severity: "critical",
        summary: "Elasticsearch cluster {{ $labels.cluster }} is red",
        description: "At least one primary shard is unassigned: some data cannot be searched or written (logs, traces).",
        runbook: "elasticsearch/cluster-red",
        labels: platform,
      },
      {
        alert: "ElasticsearchClusterYellow",
        expr: `max by (cluster) (elasticsearch_cluster_health_status{color="yellow"}) == 1`,
        for: "15m",
        severity: "warning",
        summary: "Elasticsearch cluster {{ $labels.cluster }} is yellow",
        description: "Replica shards are unassigned: one more node loss can lose data.",
        runbook: "elasticsearch/cluster-yellow",
        labels: platform,
      },
    ],
  },
};

/** The event processor: dead-lettered events. */
export const eventAlerts: ComponentAlerts = {
  nodes: ["event-processor"],
  group: {
    name: "component.events",
    rules: [
      {
        alert: "EventsDeadLettered",
        expr: "sum by (type) (increase(event_processor_events_dead_lettered_total[10m])) > 0",
        severity: "warning",
        summary: "Events of type {{ $labels.type }} go to the dead-letter topic",
        description: "{{ $value | humanize }} events of type {{ $labels.type }} failed schema validation in the last 10 minutes; a producer sends events its schema does not allow.",
        runbook: "events/dead-letters",
        labels: platform,
      },
      {
        alert: "EventsDeadLetterRatioHigh",
        expr: "sum by (type) (rate(event_processor_events_dead_lettered_total[10m])) / sum by (type) (rate(event_processor_events_received_total[10m])) > 0.1",
        for: "10m",
        severity: "critical",
        summary: "Over 10% of {{ $labels.type }} events are dead-lettered",
        description: "{{ $value | humanizePercentage }} of {{ $labels.type }} events are rejected; consumers miss them.",
        runbook: "events/dead-letters",
        labels: platform,
      },
    ],
  },
};

/** The API gateway: open circuit breakers and rate-limit surges. */
export const gatewayAlerts: ComponentAlerts = {
  nodes: ["gateway"],
  group: {
    name: "component.gateway",
    rules: [
      {
        alert: "GatewayCircuitBreakerOpen",
        expr: "max by (upstream) (gateway_circuit_breaker_state) == 2",
        for: "1m",
        severity: "critical",
        summary: "The gateway's circuit breaker to {{ $labels.upstream }} is open",
        description: "The gateway stopped sending requests to {{ $labels.upstream }} after repeated failures; its routes answer 503.",
        runbook: "gateway/circuit-breaker-open",
        labels: platform,
      },
      {
        alert: "GatewayRateLimitSurge",
        expr: "sum by (kind) (rate(gateway_rate_limited_total[5m])) > 10 and sum by (kind) (rate(gateway_rate_limited_total[5m])) > 3 * sum by (kind) (rate(gateway_rate_limited_total[1h] offset 1h))",
        for: "10m",
        severity: "warning",
        summary: "Rate limiting by {{ $labels.kind }} surged",
        description: "The gateway rejects {{ $value | humanize }} requests per second by {{ $labels.kind }} limit, over three times the rate of an hour ago: abuse, or a limit too low for real traffic.",
        runbook: "gateway/rate-limit-surge",
        labels: platform,
      },
      {
        alert: "GatewayHighErrorRatio",
        expr: `sum(rate(gateway_requests_total{status=~"5.."}[5m])) / sum(rate(gateway_requests_total[5m])) > 0.05`,
        for: "5m",
        severity: "critical",
        summary: "The gateway answers over 5% of requests with 5xx",
        description: "{{ $value | humanizePercentage }} of requests at the edge fail.",
        runbook: "gateway/high-error-ratio",
        labels: platform,
      },
    ],
  },
};

/** The task orchestrator: failure rate. */
export const taskAlerts: ComponentAlerts = {
  nodes: ["task-orchestrator"],
  group: {
    name: "component.tasks",
    rules: [
      {
        alert: "TaskFailureRateHigh",
        expr: `sum by (type) (rate(tasks_failed_total[15m])) / sum by (type) (rate(tasks_total{state=~"completed|failed"}[15m])) > 0.1`,
        for: "15m",
        severity: "warning",
        summary: "Over 10% of {{ $labels.type }} tasks fail",
        description: "{{ $value | humanizePercentage }} of finished {{ $labels.type }} tasks failed over the last 15 minutes (after retries).",
        runbook: "tasks/failure-rate",
        labels: platform,
      },
    ],
  },
};

/** cert-manager certificates: expiry and readiness. */
export const certificateAlerts: ComponentAlerts = {
  nodes: ["cert-manager", "istio-ingressgateway"],
  group: {
    name: "component.certificates",
    rules: [
      {
        alert: "CertificateExpiring",
        expr: "min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds) - time() < 14 * 86400",
        for: "1h",
        severity: "warning",
        summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires within 14 days",
        description: "It expires in {{ $value | humanizeDuration }}; cert-manager should have renewed it by now.",
        runbook: "certificates/expiring",
        labels: platform,
      },
      {
        alert: "CertificateExpiring",
        expr: "min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds) - time() < 3 * 86400",
        for: "10m",
        severity: "critical",
        summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires within 3 days",
        description: "It expires in {{ $value | humanizeDuration }}; TLS to its hosts breaks then.",
        runbook: "certificates/expiring",
        labels: platform,
      },
      {
        alert: "CertificateNotReady",
        expr: `max by (namespace, name) (certmanager_certificate_ready_status{condition="False"}) == 1`,
        for: "15m",
        severity: "warning",
        summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} is not ready",
        description: "cert-manager cannot issue or renew it.",
        runbook: "certificates/not-ready",
        labels: platform,
      },
    ],
  },
};

/** Argo CD: applications degraded or out of sync. */
export const argocdAlerts: ComponentAlerts = {
  nodes: ["argocd", "argocd-controller"],
  group: {
    name: "component.argocd",
    rules: [
      {
        alert: "ArgoCdAppDegraded",
        expr: `max by (name, project) (argocd_app_info{health_status="Degraded"}) == 1`,
        for: "10m",
        severity: "critical",
        summary: "Argo CD application {{ $labels.name }} is degraded",
        description: "Resources of {{ $labels.name }} (project {{ $labels.project }}) are unhealthy.",
        runbook: "argocd/app-degraded",
        labels: platform,
      },
      {
        alert: "ArgoCdAppOutOfSync",
        expr: `max by (name, project) (argocd_app_info{sync_status="OutOfSync"}) == 1`,
        for: "30m",
        severity: "warning",
        summary: "Argo CD application {{ $labels.name }} is out of sync",
        description: "The cluster differs from Git for {{ $labels.name }} for 30 minutes; a sync fails or is blocked.",
        runbook: "argocd/app-out-of-sync",
        labels: platform,
      },
    ],
  },
};

/** Every component's alerts, in a stable order. */
export const COMPONENT_ALERTS: ReadonlyArray<ComponentAlerts> = [
  postgresAlerts,
  redisAlerts,
  elasticsearchAlerts,
  eventAlerts,
  gatewayAlerts,
  taskAlerts,
  certificateAlerts,
  argocdAlerts,
];

/** The component alert groups of the components present in a graph. */
export function componentAlertGroups(has: (id: string) => boolean, catalog: ReadonlyArray<ComponentAlerts> = COMPONENT_ALERTS): RuleGroup[] {
  return catalog.filter((c) => c.nodes.some(has)).map((c) => c.group);
}
