import { App, Testing } from "cdk8s";
import { EventsComponent } from "../../../components/events";
import { MetricsComponent } from "../../../components/metrics";
import { ObjectStorage } from "../../../components/object-storage";
import { TasksComponent, TasksProps } from "../../../components/tasks";
import { runPolicies } from "../../../policies/engine";
import { DEFAULT_RULES } from "../../../policies/rules";
import { K8sObject } from "../../../policies/types";
import { dev, prod } from "../../../stacks/environments";
import { Environment } from "../../../stacks/environments/environment";
import { Platform } from "../../../stacks/platform";
import { parseConfig } from "../../../services/task-orchestrator/src/config";
import { findAll, findOne } from "../../support/objects";

function build(env: Environment = dev, props: TasksProps = {}, withData = true) {
  const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), env.name, { environment: env });
  if (withData) {
    platform.add((s, c) => new ObjectStorage(s, "ObjectStorage", c));
    // a stand-in for the postgres component's pooler node: what the orchestrator receives through the graph
    platform.graph.addNode({
      id: "postgres", kind: "component", namespace: "postgres", serviceAccount: "pooler", selector: { app: "pooler" },
      ports: [{ name: "tcp-postgres", port: 5432, protocol: "tcp" }],
      connection: () => ({ POSTGRES_HOST: "postgres-rw.postgres.svc", POSTGRES_PORT: "5432", POSTGRES_PASSWORD: { secret: "task-orchestrator-db", key: "password" } }),
    });
  }
  const tasks = platform.add((s, c) => new TasksComponent(s, "Tasks", c, props));
  platform.finalize();
  const objects = Testing.synth(tasks) as Array<K8sObject & Record<string, any>>;
  return { platform, tasks, objects };
}

describe("TasksComponent", () => {
  it("deploys the orchestrator bundle as an asset in a hardened Deployment in the tasks namespace", () => {
    const { objects, tasks } = build();
    const deploy = findOne(objects, "Deployment", "task-orchestrator", "tasks");
    const pod = deploy.spec.template.spec;
    const main = pod.containers[0];
    expect(main.image).toBe("docker.io/library/node:20.18.1-bookworm-slim");
    expect(main.command).toEqual(["node", "--enable-source-maps", "/opt/stratum/boot.js", "--config", "/etc/task-orchestrator/config.json"]);
    expect(main.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort])).toEqual([["http", 8080], ["http-metrics", 9090]]);
    expect(main.readinessProbe.httpGet.path).toBe("/readyz");
    expect(main.livenessProbe.httpGet.path).toBe("/healthz");
    expect(pod.securityContext.runAsUser).toBe(65532);
    expect(pod.terminationGracePeriodSeconds).toBe(40);
    const bundle = findOne(objects, "ConfigMap", tasks.asset.configMapName, "tasks");
    expect(bundle.immutable).toBe(true);
    expect(deploy.spec.template.metadata.annotations["stratum.dev/asset-sha256"]).toBe(tasks.asset.hash);
    expect(pod.volumes.map((v: { name: string }) => v.name).sort()).toEqual(["bundle", "config", "tmp"]);
    findOne(objects, "PodDisruptionBudget", "task-orchestrator", "tasks");
    expect(findOne(objects, "HorizontalPodAutoscaler", "task-orchestrator", "tasks").spec).toMatchObject({ minReplicas: 1, maxReplicas: 2 });
  });

  it("sizes replicas, resources, worker concurrency and upload limit from the environment", () => {
    const { objects } = build(prod);
    const hpa = findOne(objects, "HorizontalPodAutoscaler", "task-orchestrator", "tasks");
    expect(hpa.spec).toMatchObject({ minReplicas: prod.sizing.tasks.replicas, maxReplicas: prod.sizing.tasks.maxReplicas });
    const main = findOne(objects, "Deployment", "task-orchestrator", "tasks").spec.template.spec.containers[0];
    expect(main.resources.limits.memory).toBe(prod.sizing.tasks.resources.limits.memory);
    const config = JSON.parse(findOne(objects, "ConfigMap", "task-orchestrator-config", "tasks").data["config.json"]);
    expect(config.worker.concurrency).toBe(prod.sizing.tasks.workerConcurrency);
    expect(config.storage.maxUploadBytes).toBe(prod.sizing.tasks.maxUploadBytes);
  });

  it("writes a config file the service accepts, with connection details left to the environment", () => {
    const { tasks, objects } = build(dev, { leaseSeconds: 60, maxRetries: 5, pubsubName: "bus" });
    const text = findOne(objects, "ConfigMap", "task-orchestrator-config", "tasks").data["config.json"];
    expect(text).toBe(tasks.configText);
    const parsed = parseConfig(JSON.parse(text), { POSTGRES_HOST: "h", DAPR_HTTP_PORT: "3500", S3_BUCKET: "stratum-dev-uploads" });
    expect(parsed.worker).toMatchObject({ leaseSeconds: 60, heartbeatSeconds: 20 });
    expect(parsed.retry.maxRetries).toBe(5);
    expect(parsed.events).toMatchObject({ enabled: true, pubsub: "bus" });
    expect(parsed.storage.bucket).toBe("stratum-dev-uploads");
    expect(text).not.toMatch(/password|postgres:\/\//i);
    const deploy = findOne(objects, "Deployment", "task-orchestrator", "tasks");
    expect(deploy.spec.template.metadata.annotations["stratum.dev/config-sha256"]).toHaveLength(10);
  });

  it("consumes postgres and object storage through the graph and receives their connection variables", () => {
    const { platform, objects } = build();
    expect(platform.graph.outgoing("task-orchestrator").map((e) => e.to).sort()).toEqual(["object-storage", "postgres"]);
    const env = findOne(objects, "Deployment", "task-orchestrator", "tasks").spec.template.spec.containers[0].env as Array<Record<string, any>>;
    const byName = Object.fromEntries(env.map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(byName.POSTGRES_HOST).toBe("postgres-rw.postgres.svc");
    expect(byName.POSTGRES_PASSWORD).toEqual({ secretKeyRef: { name: "task-orchestrator-db", key: "password" } });
    expect(byName.S3_BUCKET).toBe("stratum-dev-uploads");
    const node = platform.graph.node("task-orchestrator");
    expect(node.ports.map((p) => [p.name, p.port, Boolean(p.metrics)])).toEqual([["http", 8080, false], ["http-metrics", 9090, true]]);
    // NetworkPolicy egress derived from the graph
    const policies = findAll(objects, "NetworkPolicy").filter((p) => p.metadata.namespace === "tasks");
    expect(JSON.stringify(policies)).toContain("5432");
  });

  it("connects to nothing that the platform lacks", () => {
    const { platform } = build(dev, {}, false);
    expect(platform.graph.outgoing("task-orchestrator")).toEqual([]);
  });

  it("passes every policy", () => {
    const { objects } = build(prod);
    const report = runPolicies(objects, DEFAULT_RULES);
    expect(report.errors).toEqual([]);
  });

  it("refuses bad props naming the construct, the prop and the value", () => {
    expect(() => build(dev, { leaseSeconds: 1 })).toThrow("dev/Tasks: leaseSeconds must be an integer 3-3600 (got 1)");
    expect(() => build(dev, { maxRetries: -1, drainSeconds: 1.5 })).toThrow("drainSeconds must be an integer 0-3600 (got 1.5); maxRetries must be an integer 0-100 (got -1)");
    const tight = { ...dev, sizing: { ...dev.sizing, tasks: { ...dev.sizing.tasks, replicas: 3, maxReplicas: 2 } } };
    expect(() => build(tight)).toThrow("sizing.tasks.maxReplicas must be >= sizing.tasks.replicas (2 < 3)");
  });
});

describe("TasksComponent with the events component", () => {
  it("adds the status events to the catalog and gets a Dapr sidecar for publishing them", () => {
    const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), dev.name, { environment: dev });
    const events = platform.add((s, c) => new EventsComponent(s, "Events", c, { pubsubName: "bus" }));
    const tasks = platform.add((s, c) => new TasksComponent(s, "Tasks", c));
    platform.finalize();
    expect(events.catalog.apps).toContain("task-orchestrator");
    for (const t of ["task.created", "task.progress", "task.completed", "task.failed", "task.cancelled"]) expect(events.catalog.has(t)).toBe(true);
    expect(JSON.parse(tasks.configText).events).toEqual({ enabled: "auto", pubsub: "bus" });
    const deploy = findOne(Testing.synth(tasks) as K8sObject[], "Deployment", "task-orchestrator", "tasks");
    expect(deploy.spec.template.metadata.annotations).toMatchObject({ "dapr.io/enabled": "true", "dapr.io/app-id": "task-orchestrator" });
  });
});

describe("TasksComponent with the metrics component", () => {
  it("adds its alerts to the platform's rules", () => {
    const platform = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), prod.name, { environment: prod });
    const metrics = platform.add((s, c) => new MetricsComponent(s, "Metrics", c));
    platform.add((s, c) => new TasksComponent(s, "Tasks", c));
    platform.finalize();
    const text = JSON.stringify(findAll(Testing.synth(metrics) as K8sObject[], "PrometheusRule"));
    for (const alert of ["TaskQueueBacklog", "TaskFailureRatioHigh", "TaskEventsUndelivered"]) expect(text).toContain(alert);
    expect(text).toContain(`> ${prod.sizing.tasks.maxReplicas * prod.sizing.tasks.workerConcurrency * 50}`);
  });
});

describe("task status events", () => {
  it("are valid catalog entries whose schemas accept what the orchestrator writes", async () => {
    const { EventCatalog } = await import("../../../components/events/catalog");
    const { taskStatusEvents } = await import("../../../components/tasks/status-events");
    const { TASK_EVENT_TYPES } = await import("../../../services/task-orchestrator/src/events");
    const defs = taskStatusEvents("task-orchestrator");
    expect(defs.map((d) => d.type)).toEqual([...TASK_EVENT_TYPES]);
    const catalog = new EventCatalog(defs);
    expect(catalog.apps).toEqual(["task-orchestrator"]);
  });
});
