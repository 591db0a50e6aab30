import { MonitoredService } from "../rules/golden-signals";
import { Dashboard } from "./dashboard";

const rate = (selector: string, w = "5m") => `rate(${selector}[${w}])`;
const RED_STEPS = [
  { value: null, color: "green" },
  { value: 0.01, color: "orange" },
  { value: 0.05, color: "red" },
];

/** The platform at a glance: traffic and errors of every service, SLO burn, scrape health and firing alerts. */
export function platformOverview(hasGateway: boolean): Dashboard {
  const d = new Dashboard({ uid: "stratum-overview", title: "Stratum / Platform overview", description: "Every service's traffic, errors and latency, SLO burn and firing alerts." });
  if (hasGateway) {
    d.stat({ title: "Edge requests/s", query: { expr: `sum(${rate("gateway_requests_total")})` }, unit: "reqps" });
    d.stat({ title: "Edge 5xx ratio", query: { expr: `sum(${rate('gateway_requests_total{status=~"5.."}')}) / sum(${rate("gateway_requests_total")})` }, unit: "percentunit", thresholds: RED_STEPS });
  }
  d.stat({ title: "Critical alerts firing", query: { expr: `count(ALERTS{alertstate="firing", severity="critical"}) or vector(0)` }, thresholds: [{ value: null, color: "green" }, { value: 1, color: "red" }] });
  d.stat({ title: "Scrape targets down", query: { expr: "count(up == 0) or vector(0)" }, thresholds: [{ value: null, color: "green" }, { value: 1, color: "orange" }] });
  d.row("Services");
  d.timeseries({ title: "Requests/s by service", queries: [{ expr: `sum by (service) (${rate("http_requests_total")})`, legend: "{{service}}" }], unit: "reqps" });
  d.timeseries({
    title: "5xx ratio by service",
    queries: [{ expr: `sum by (service) (${rate('http_requests_total{code=~"5.."}')}) / sum by (service) (${rate("http_requests_total")})`, legend: "{{service}}" }],
    unit: "percentunit",
  });
  d.timeseries({ title: "p99 latency by service", queries: [{ expr: "service:http_request_duration_seconds:p99_rate5m", legend: "{{service}}" }], unit: "s" });
  d.timeseries({ title: "SLO error ratio (1h) by service", queries: [{ expr: "slo:sli_error:ratio_rate1h", legend: "{{service}} {{slo}}" }], unit: "percentunit" });
  d.row("Alerts");
  d.timeseries({ title: "Firing alerts by severity", queries: [{ expr: `sum by (severity) (ALERTS{alertstate="firing"})`, legend: "{{severity}}" }], stack: true, width: 24 });
  return d;
}

/** Rate, errors and duration of one business service, plus saturation, SLO burn and its slow traces. */
export function serviceRed(svc: MonitoredService, hasJaeger: boolean): Dashboard {
  const s = `service="${svc.name}"`;
  const c = `namespace="${svc.namespace}", container="${svc.container}"`;
  const d = new Dashboard({ uid: `stratum-red-${svc.name}`.slice(0, 40).replace(/-+$/, ""), title: `Stratum / Service / ${svc.name}`, tags: ["stratum", "red", svc.team] });
  d.stat({ title: "Requests/s", query: { expr: `sum(${rate(`http_requests_total{${s}}`)})` }, unit: "reqps" });
  d.stat({ title: "5xx ratio", query: { expr: `sum(${rate(`http_requests_total{${s}, code=~"5.."}`)}) / sum(${rate(`http_requests_total{${s}}`)})` }, unit: "percentunit", thresholds: RED_STEPS });
  d.stat({ title: "p99 latency", query: { expr: `histogram_quantile(0.99, sum by (le) (${rate(`http_request_duration_seconds_bucket{${s}}`)}))` }, unit: "s" });
  d.stat({ title: "Availability (30d)", query: { expr: `1 - (sum(increase(http_requests_total{${s}, code=~"5.."}[30d])) / sum(increase(http_requests_total{${s}}[30d])))` }, unit: "percentunit" });
  d.row("Rate, errors, duration");
  d.timeseries({ title: "Requests/s by code", queries: [{ expr: `sum by (code) (${rate(`http_requests_total{${s}}`)})`, legend: "{{code}}" }], unit: "reqps", stack: true });
  d.timeseries({ title: "Errors/s (5xx)", queries: [{ expr: `sum(${rate(`http_requests_total{${s}, code=~"5.."}`)})`, legend: "5xx" }], unit: "reqps" });
  d.timeseries({
    title: "Latency percentiles",
    queries: ["0.5", "0.9", "0.99"].map((q) => ({ expr: `histogram_quantile(${q}, sum by (le) (${rate(`http_request_duration_seconds_bucket{${s}}`)}))`, legend: `p${Number(q) * 100}` })),
    unit: "s",
    width: 24,
  });
  d.row("Saturation and SLO");
  d.timeseries({
    title: "CPU use / limit",
    queries: [{ expr: `sum by (pod) (${rate(`container_cpu_usage_seconds_total{${c}}`)}) / sum by (pod) (container_spec_cpu_quota{${c}} / container_spec_cpu_period{${c}})`, legend: "{{pod}}" }],
    unit: "percentunit",
  });
  d.timeseries({ title: "Memory use / limit", queries: [{ expr: `max by (pod) (container_memory_working_set_bytes{${c}} / container_spec_memory_limit_bytes{${c}})`, legend: "{{pod}}" }], unit: "percentunit" });
  d.timeseries({
    title: "SLO error ratio by window",
    queries: ["5m", "1h", "6h", "1d"].map((w) => ({ expr: `slo:sli_error:ratio_rate${w}{${s}}`, legend: `{{slo}} ${w}` })),
    unit: "percentunit",
    width: 24,
  });
  if (hasJaeger) d.traces({ title: "Slow traces (over 500 ms)", service: svc.name, minDuration: "500ms" });
  return d;
}

/** The API gateway: traffic by route and status, latency, circuit breakers and rate limiting. */
export function gatewayDashboard(): Dashboard {
  const d = new Dashboard({ uid: "stratum-gateway", title: "Stratum / Gateway" });
  d.timeseries({ title: "Requests/s by route", queries: [{ expr: `sum by (route) (${rate("gateway_requests_total")})`, legend: "{{route}}" }], unit: "reqps" });
  d.timeseries({ title: "Requests/s by status", queries: [{ expr: `sum by (status) (${rate("gateway_requests_total")})`, legend: "{{status}}" }], unit: "reqps", stack: true });
  d.timeseries({ title: "p99 latency by route", queries: [{ expr: `histogram_quantile(0.99, sum by (route, le) (${rate("gateway_request_duration_seconds_bucket")}))`, legend: "{{route}}" }], unit: "s" });
  d.timeseries({ title: "5xx ratio by route", queries: [{ expr: `sum by (route) (${rate('gateway_requests_total{status=~"5.."}')}) / sum by (route) (${rate("gateway_requests_total")})`, legend: "{{route}}" }], unit: "percentunit" });
  d.row("Resilience");
  d.stat({ title: "Open breakers", query: { expr: "count(gateway_circuit_breaker_state == 2) or vector(0)" }, thresholds: [{ value: null, color: "green" }, { value: 1, color: "red" }] });
  d.timeseries({ title: "Breaker state by upstream", queries: [{ expr: "max by (upstream) (gateway_circuit_breaker_state)", legend: "{{upstream}}" }], width: 18, height: 4 });
  d.timeseries({ title: "Rate-limited requests/s by kind", queries: [{ expr: `sum by (kind) (${rate("gateway_rate_limited_total")})`, legend: "{{kind}}" }], unit: "reqps", width: 24 });
  return d;
}

/** PostgreSQL (CloudNativePG): replication, backups, connections and transactions. */
export function postgresDashboard(): Dashboard {
  const d = new Dashboard({ uid: "stratum-postgres", title: "Stratum / PostgreSQL" });
  d.stat({ title: "Max replication lag", query: { expr: "max(cnpg_pg_replication_lag)" }, unit: "s", thresholds: [{ value: null, color: "green" }, { value: 30, color: "orange" }, { value: 300, color: "red" }] });
  d.stat({ title: "Last good backup age", query: { expr: "time() - max(cnpg_collector_last_available_backup_timestamp)" }, unit: "s", thresholds: [{ value: null, color: "green" }, { value: 172800, color: "red" }] });
  d.stat({ title: "Backends", query: { expr: "sum(cnpg_backends_total)" } });
  d.stat({ title: "Instances up", query: { expr: "sum(cnpg_collector_up)" } });
  d.timeseries({ title: "Replication lag by pod", queries: [{ expr: "max by (pod) (cnpg_pg_replication_lag)", legend: "{{pod}}" }], unit: "s" });
  d.timeseries({
    title: "Transactions/s",
    queries: [
      { expr: `sum(${rate("cnpg_pg_stat_database_xact_commit")})`, legend: "commit" },
      { expr: `sum(${rate("cnpg_pg_stat_database_xact_rollback")})`, legend: "rollback" },
    ],
    unit: "ops",
  });
  d.timeseries({ title: "Backends by database", queries: [{ expr: "sum by (datname) (cnpg_backends_total)", legend: "{{datname}}" }] });
  d.timeseries({ title: "Database size", queries: [{ expr: "max by (datname) (cnpg_pg_database_size_bytes)", legend: "{{datname}}" }], unit: "bytes" });
  return d;
}

/** Redis: availability, memory against maxmemory, clients, commands and hit ratio. */
export function redisDashboard(): Dashboard {
  const d = new Dashboard({ uid: "stratum-redis", title: "Stratum / Redis" });
  d.stat({ title: "Masters up", query: { expr: `count(redis_instance_info{role="master"} and on (instance) (redis_up == 1)) or vector(0)` }, thresholds: [{ value: null, color: "red" }, { value: 1, color: "green" }] });
  d.stat({ title: "Instances up", query: { expr: "sum(redis_up)" } });
  d.stat({ title: "Connected clients", query: { expr: "sum(redis_connected_clients)" } });
  d.stat({ title: "Hit ratio", query: { expr: `sum(${rate("redis_keyspace_hits_total")}) / (sum(${rate("redis_keyspace_hits_total")}) + sum(${rate("redis_keyspace_misses_total")}))` }, unit: "percentunit" });
  d.timeseries({ title: "Memory used / maxmemory", queries: [{ expr: "redis_memory_used_bytes / (redis_memory_max_bytes > 0)", legend: "{{instance}}" }], unit: "percentunit" });
  d.timeseries({ title: "Commands/s", queries: [{ expr: `sum by (instance) (${rate("redis_commands_processed_total")})`, legend: "{{instance}}" }], unit: "ops" });
  return d;
}

/** Elasticsearch: health, nodes, heap, disk and documents. */
export function elasticsearchDashboard(): Dashboard {
  const d = new Dashboard({ uid: "stratum-elasticsearch", title: "Stratum / Elasticsearch" });
  d.stat({
    title: "Cluster health",
    query: { expr: `max(elasticsearch_cluster_health_status{color="red"}) * 2 + max(elasticsearch_cluster_health_status{color="yellow"})` },
    mappings: { 0: "green", 1: "yellow", 2: "red" },
    thresholds: [{ value: null, color: "green" }, { value: 1, color: "yellow" }, { value: 2, color: "red" }],
  });
  d.stat({ title: "Nodes", query: { expr: "max(elasticsearch_cluster_health_number_of_nodes)" } });
  d.stat({ title: "Unassigned shards", query: { expr: "max(elasticsearch_cluster_health_unassigned_shards)" }, thresholds: [{ value: null, color: "green" }, { value: 1, color: "orange" }] });
  d.stat({ title: "Documents", query: { expr: "sum(elasticsearch_indices_docs)" } });
  d.timeseries({ title: "JVM heap used / max", queries: [{ expr: `max by (name) (elasticsearch_jvm_memory_used_bytes{area="heap"} / elasticsearch_jvm_memory_max_bytes{area="heap"})`, legend: "{{name}}" }], unit: "percentunit" });
  d.timeseries({ title: "Disk free / total", queries: [{ expr: "min by (name) (elasticsearch_filesystem_data_available_bytes / elasticsearch_filesystem_data_size_bytes)", legend: "{{name}}" }], unit: "percentunit" });
  d.timeseries({ title: "Indexing/s", queries: [{ expr: `sum(${rate("elasticsearch_indices_indexing_index_total")})`, legend: "docs" }], unit: "ops", width: 24 });
  return d;
}

/** The event processor: events in, valid, dead-lettered and duplicate, by type; dead-letter logs. */
export function eventsDashboard(hasElasticsearch: boolean): Dashboard {
  const d = new Dashboard({ uid: "stratum-events", title: "Stratum / Events and dead letters" });
  d.stat({ title: "Events/s in", query: { expr: `sum(${rate("event_processor_events_received_total")})` }, unit: "ops" });
  d.stat({ title: "Dead-lettered (1h)", query: { expr: "sum(increase(event_processor_events_dead_lettered_total[1h]))" }, thresholds: [{ value: null, color: "green" }, { value: 1, color: "orange" }] });
  d.stat({ title: "Dead-letter ratio", query: { expr: `sum(${rate("event_processor_events_dead_lettered_total")}) / sum(${rate("event_processor_events_received_total")})` }, unit: "percentunit", thresholds: RED_STEPS });
  d.stat({ title: "Duplicates/s", query: { expr: `sum(${rate("event_processor_events_duplicate_total")})` }, unit: "ops" });
  d.timeseries({
    title: "Events/s: received, valid, dead-lettered",
    queries: [
      { expr: `sum(${rate("event_processor_events_received_total")})`, legend: "received" },
      { expr: `sum(${rate("event_processor_events_valid_total")})`, legend: "valid" },
      { expr: `sum(${rate("event_processor_events_dead_lettered_total")})`, legend: "dead-lettered" },
    ],
    unit: "ops",
    width: 24,
  });
  d.timeseries({ title: "Dead-lettered/s by type", queries: [{ expr: `sum by (type) (${rate("event_processor_events_dead_lettered_total")})`, legend: "{{type}}" }], unit: "ops" });
  d.timeseries({ title: "Duplicates/s by type", queries: [{ expr: `sum by (type) (${rate("event_processor_events_duplicate_total")})`, legend: "{{type}}" }], unit: "ops" });
  if (hasElasticsearch) d.logs({ title: "Dead-letter log lines", query: `kubernetes.labels.app_kubernetes_io/name:"event-processor" AND "dead-letter"` });
  return d;
}

/** The task orchestrator: throughput by state, failures, durations. */
export function tasksDashboard(): Dashboard {
  const d = new Dashboard({ uid: "stratum-tasks", title: "Stratum / Tasks" });
  d.stat({ title: "Tasks finished/s", query: { expr: `sum(${rate('tasks_total{state=~"completed|failed"}')})` }, unit: "ops" });
  d.stat({ title: "Failure ratio", query: { expr: `sum(${rate("tasks_failed_total", "15m")}) / sum(${rate('tasks_total{state=~"completed|failed"}', "15m")})` }, unit: "percentunit", thresholds: RED_STEPS });
  d.stat({ title: "p99 duration", query: { expr: `histogram_quantile(0.99, sum by (le) (${rate("task_duration_seconds_bucket")}))` }, unit: "s" });
  d.stat({ title: "Failed (1h)", query: { expr: "sum(increase(tasks_failed_total[1h]))" } });
  d.timeseries({ title: "Transitions/s by state", queries: [{ expr: `sum by (state) (${rate("tasks_total")})`, legend: "{{state}}" }], unit: "ops", stack: true });
  d.timeseries({ title: "Failures/s by type", queries: [{ expr: `sum by (type) (${rate("tasks_failed_total")})`, legend: "{{type}}" }], unit: "ops" });
  d.timeseries({
    title: "Duration by type (p50, p99)",
    queries: [
      { expr: `histogram_quantile(0.5, sum by (type, le) (${rate("task_duration_seconds_bucket")}))`, legend: "p50 {{type}}" },
      { expr: `histogram_quantile(0.99, sum by (type, le) (${rate("task_duration_seconds_bucket")}))`, legend: "p99 {{type}}" },
    ],
    unit: "s",
    width: 24,
  });
  return d;
}

/** What the catalog needs to know about the platform. */
export interface DashboardInputs {
  readonly services: ReadonlyArray<MonitoredService>;
  readonly has: (nodeId: string) => boolean;
}

/** The dashboards of a platform: overview and RED per service always; a component's dashboard when its node exists. */
export function platformDashboards(inputs: DashboardInputs): Dashboard[] {
  const has = inputs.has;
  const out = [platformOverview(has("gateway")), ...inputs.services.map((s) => serviceRed(s, has("jaeger")))];
  if (has("gateway")) out.push(gatewayDashboard());
  if (has("postgres")) out.push(postgresDashboard());
  if (has("redis")) out.push(redisDashboard());
  if (has("elasticsearch")) out.push(elasticsearchDashboard());
  if (has("event-processor")) out.push(eventsDashboard(has("elasticsearch")));
  if (has("task-orchestrator")) out.push(tasksDashboard());
  return out;
}
