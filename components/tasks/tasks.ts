import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { HardenedWorkload } from "../../constructs/hardened-workload";
import * as k8s from "../../constructs/imports/k8s";
import { recommendedLabels } from "../../constructs/labels";
import { NODE_BASE_IMAGE, NODE_UID, RuntimeAsset } from "../../constructs/runtime-asset";
import { GraphNodeProps } from "../../constructs/service-graph";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { EventsComponent } from "../events";
import { GatewayComponent } from "../gateway";
import { durationMs } from "../../services/gateway/src/duration";
import { REQUEST_TIMEOUT_MS as GATEWAY_REQUEST_LIMIT_MS } from "../../services/gateway/src/limits";
import { MetricsComponent } from "../metrics";
import { taskAlerts } from "./alerts";
import { orchestratorConfig } from "./orchestrator-config";
import { taskStatusEvents } from "./status-events";

/** Graph id of the task orchestrator (agreed across components). */
export const TASK_ORCHESTRATOR_NODE = "task-orchestrator";
/** Namespace of the task orchestrator. */
export const TASKS_NAMESPACE = "tasks";
/** Name of the ConfigMap that holds `config.json`. */
export const TASKS_CONFIG_MAP = "task-orchestrator-config";
const CONFIG_DIR = "/etc/task-orchestrator";
const PORT = 8080;
const METRICS_PORT = 9090;

/** Props of the tasks component; sizes come from `sizing.tasks` of the environment. */
export interface TasksProps {
  /** Seconds a worker's lease lasts; a killed worker's task is retried by another after this. @default 30 */
  readonly leaseSeconds?: number;
  /** Retries of a failed task before it fails for good. @default 3 */
  readonly maxRetries?: number;
  /** First retry delay, doubled on each further retry. @default 1000 */
  readonly retryBaseDelayMs?: number;
  /** The Dapr pub/sub component that carries the status events. @default the events component's, else "events" */
  readonly pubsubName?: string;
  /** Seconds a stopping pod lets running tasks finish (after a 5 s not-ready delay) before leaving them to lease expiry. @default 25 */
  readonly drainSeconds?: number;
  /**
   * The API's route through the API gateway (and the mesh's edge, when there is one), or false to keep it inside the
   * cluster. Bodies up to `sizing.tasks.maxUploadBytes` pass; the timeout covers an upload.
   * @default { pathPrefix: "/v1/tasks", roles: ["admin"], timeout: "5m" }
   */
  readonly route?: TasksRoute | false;
}

/** The task API at the edge. */
export interface TasksRoute {
  /** Path prefix; the API serves `/v1/tasks`, so another prefix needs the gateway to rewrite. @default "/v1/tasks" */
  readonly pathPrefix?: "/v1/tasks";
  /** Roles (claim `roles`) of which the caller needs one; a valid token is always required. @default ["admin"] */
  readonly roles?: ReadonlyArray<string>;
  /** Timeout of one request, uploads included; at most 5m, the gateway's limit for receiving a request. @default "5m" */
  readonly timeout?: string;
}

/**
 * The task orchestrator (`dist/<env>/tasks.k8s.yaml`): the task-orchestrator runtime service as a content-hashed
 * asset on the pinned Node base image, in a hardened, autoscaled Deployment (Service, HPA, PDB) in the `tasks`
 * namespace, with its config file as a ConfigMap checked against the service's own schema. Each replica serves the
 * API and runs `sizing.tasks.workerConcurrency` workers on the PostgreSQL queue. In the graph it is
 * `task-orchestrator` (http 8080, http-metrics 9090), consuming `postgres` and `object-storage` when the platform
 * has them, which hands it POSTGRES_* and S3_* through the graph.
 */
export class TasksComponent extends PlatformComponent {
  /** The workload. */
  readonly workload: HardenedWorkload;
  /** The bundle asset. */
  readonly asset: RuntimeAsset;
  /** Its graph node. */
  readonly graphNode: GraphNodeProps;
  /** The rendered config file. */
  readonly configText: string;
  /** In-cluster URL of the API. */
  readonly url: string;

  constructor(scope: Construct, id: string, context: PlatformContext, props: TasksProps = {}) {
    super(scope, id, context, { name: "tasks", syncWave: SyncWave.WORKLOADS });
    const env = context.environment;
    const sizing = env.sizing.tasks;
    const problems: string[] = [];
    const leaseSeconds = props.leaseSeconds ?? 30;
    const drainSeconds = props.drainSeconds ?? 25;
    if (!Number.isInteger(leaseSeconds) || leaseSeconds < 3 || leaseSeconds > 3600) problems.push(`leaseSeconds must be an integer 3-3600 (got ${leaseSeconds})`);
    if (!Number.isInteger(drainSeconds) || drainSeconds < 0 || drainSeconds > 3600) problems.push(`drainSeconds must be an integer 0-3600 (got ${drainSeconds})`);
    if (props.maxRetries !== undefined && (!Number.isInteger(props.maxRetries) || props.maxRetries < 0 || props.maxRetries > 100)) problems.push(`maxRetries must be an integer 0-100 (got ${props.maxRetries})`);
    const route = props.route === false ? undefined : { pathPrefix: "/v1/tasks" as const, roles: ["admin"], timeout: "5m", ...props.route };
    if (route && (!route.roles.length || route.roles.some((r) => typeof r !== "string" || r.length === 0))) problems.push(`route.roles must name at least one role (got ${JSON.stringify(route.roles)})`);
    const timeoutMs = route ? durationOrUndefined(route.timeout) : undefined;
    if (route && timeoutMs === undefined) problems.push(`route.timeout must be a duration such as 90s or 5m (got ${JSON.stringify(route.timeout)})`);
    else if (route && timeoutMs !== undefined && (timeoutMs < 1000 || timeoutMs > GATEWAY_REQUEST_LIMIT_MS)) problems.push(`route.timeout must be between 1s and 5m, the gateway's limit for receiving a request (got ${route.timeout})`);
    if (sizing.maxReplicas < sizing.replicas) problems.push(`sizing.tasks.maxReplicas must be >= sizing.tasks.replicas (${sizing.maxReplicas} < ${sizing.replicas})`);
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);

    // the status events join the catalog; the events component then gives the pods a Dapr sidecar (annotations,
    // graph edges to the control plane and broker) and scopes the pub/sub to declared producers
    const events = context.find(EventsComponent);
    for (const def of taskStatusEvents(TASK_ORCHESTRATOR_NODE)) events?.addEvent(def);

    // a backlog of a few minutes of full capacity (50 tasks per worker slot at the ceiling) is worth a look
    context.find(MetricsComponent)?.addAlerts(taskAlerts(sizing.maxReplicas * sizing.workerConcurrency * 50));

    const config = orchestratorConfig(
      {
        port: PORT,
        metricsPort: METRICS_PORT,
        workerConcurrency: sizing.workerConcurrency,
        maxUploadBytes: sizing.maxUploadBytes,
        leaseSeconds,
        maxRetries: props.maxRetries ?? 3,
        retryBaseDelayMs: props.retryBaseDelayMs ?? 1000,
        pubsubName: props.pubsubName ?? events?.pubsubName ?? "events",
        shutdownDelaySeconds: 5,
        drainSeconds,
      },
      this.node.path,
    );
    this.configText = JSON.stringify(config, null, 2) + "\n";
    const configHash = createHash("sha256").update(this.configText).digest("hex").slice(0, 10);

    const namespace = context.ensureNamespace({ name: TASKS_NAMESPACE, component: "task-orchestration" });
    this.asset = new RuntimeAsset(this, "Asset", { service: "task-orchestrator", namespace });
    new k8s.KubeConfigMap(this, "Config", {
      metadata: {
        name: TASKS_CONFIG_MAP,
        namespace,
        labels: recommendedLabels({ name: "task-orchestrator", component: "task-orchestration", instance: TASKS_CONFIG_MAP }),
        annotations: { "stratum.dev/config-sha256": configHash },
      },
      data: { "config.json": this.configText },
    });
    this.workload = new HardenedWorkload(this, "Workload", {
      name: "task-orchestrator",
      namespace,
      component: "task-orchestration",
      image: NODE_BASE_IMAGE,
      runAsUser: NODE_UID,
      command: [...this.asset.command, "--config", `${CONFIG_DIR}/config.json`],
      ports: [
        { name: "http", port: PORT, protocol: "http" },
        { name: "http-metrics", port: METRICS_PORT, protocol: "http", metrics: true },
      ],
      replicas: sizing.replicas,
      autoscaling: sizing.maxReplicas > sizing.replicas ? { maxReplicas: sizing.maxReplicas } : undefined,
      resources: sizing.resources,
      spread: { node: env.ha.nodeSpread, zone: env.ha.zoneSpread },
      volumes: [this.asset.volume, { name: "config", configMap: TASKS_CONFIG_MAP, mountPath: CONFIG_DIR }],
      env: { NODE_ENV: "production" },
      podAnnotations: { "stratum.dev/asset-sha256": this.asset.hash, "stratum.dev/config-sha256": configHash },
      // 5 s not-ready delay, the drain time for running tasks, and room for the server and the outbox to close
      terminationGracePeriodSeconds: 5 + drainSeconds + 10,
    });
    this.url = `http://${this.workload.host}:${PORT}`;
    this.graphNode = context.graph.addNode(
      this.workload.graphNode(TASK_ORCHESTRATOR_NODE, "component", this, { connection: () => ({ TASK_ORCHESTRATOR_URL: this.url }) }),
    );
    // The API at the edge: the gateway checks the token and the roles, and derives its graph edge from the route.
    if (route) {
      context.find(GatewayComponent)?.addRoute({
        pathPrefix: route.pathPrefix,
        service: TASK_ORCHESTRATOR_NODE,
        upstream: this.url,
        roles: route.roles,
        timeout: route.timeout,
        maxBodyBytes: sizing.maxUploadBytes,
      });
    }
    // PostgreSQL and object storage may be absent from a trimmed platform; the orchestrator needs the database to
    // start, so only connect to what exists.
    context.onFinalize(() => {
      for (const target of ["postgres", "object-storage"]) {
        if (context.graph.has(target)) context.graph.connect(TASK_ORCHESTRATOR_NODE, target);
      }
    });
  }
}

/** Milliseconds of a duration in the gateway's format, or undefined when it is not one. */
function durationOrUndefined(value: string): number | undefined {
  try {
    return durationMs(value);
  } catch {
    return undefined;
  }
}
