import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { EventCatalog, EventsComponent, renderCatalogPage, SAMPLE_EVENTS, TASK_EVENTS } from "../../../components/events";
import { DEFAULT_RULES, runPolicies } from "../../../policies";
import { Catalog } from "../../../services/event-processor/src/catalog";
import { resolveConfig } from "../../../services/event-processor/src/config";
import { dev, prod, staging } from "../../../stacks/environments";
import { findAll, findOne } from "../../support/objects";
import { build } from "./support";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const meta = (c: Record<string, any>): Record<string, any> =>
  Object.fromEntries((c.spec.metadata as Array<{ name: string; value?: string; secretKeyRef?: unknown }>).map((m) => [m.name, m.value ?? m.secretKeyRef]));

describe("Dapr control plane", () => {
  it("installs the dapr chart 1.14.5 from the Dapr repository, highly available in prod only", () => {
    for (const [env, ha] of [[dev, false], [staging, false], [prod, true]] as const) {
      const { own } = build(env);
      const app = findOne(own, "Application", "dapr", "argocd");
      expect(app.spec.source).toMatchObject({ repoURL: "https://dapr.github.io/helm-charts/", chart: "dapr", targetRevision: "1.14.5" });
      const values = app.spec.source.helm.valuesObject;
      expect(values.global.ha.enabled).toBe(ha);
      expect(values.global.mtls.enabled).toBe(true);
      expect(values.global.actors.enabled).toBe(false);
      expect(app.spec.destination.namespace).toBe("dapr-system");
    }
  });

  it("turns on mTLS in the control plane Configuration", () => {
    const { own } = build(dev);
    const sys = findOne(own, "Configuration", "daprsystem", "dapr-system");
    expect(sys.spec.mtls).toMatchObject({ enabled: true, workloadCertTTL: "24h", allowedClockSkew: "15m" });
  });
});

describe("pub/sub per tier", () => {
  it("uses Redis Streams through the sentinels in dev, with the password by secret reference", () => {
    const { own } = build(dev);
    const c = findOne(own, "Component", "events", "apps");
    expect(c.spec.type).toBe("pubsub.redis");
    const m = meta(c);
    expect(m.redisHost).toBe("redis-sentinel.redis.svc.cluster.local:26379");
    expect(m.failover).toBe("true");
    expect(m.sentinelMasterName).toBe("stratum");
    expect(m.redisPassword).toEqual({ name: "redis-user-app-apps", key: "password" });
    expect(m.sentinelUsername).toBe("app");
    expect(m.sentinelPassword).toEqual({ name: "redis-user-app-apps", key: "password" });
    expect(m.maxLenApprox).toBe("10000");
    expect(JSON.stringify(own.filter((o) => o.kind === "Component"))).not.toMatch(/"password":"[^"]/);
  });

  it("uses Kafka with SASL credentials from the secret store in prod", () => {
    const { own, platform } = build(prod);
    const c = findOne(own, "Component", "events", "events");
    expect(c.spec.type).toBe("pubsub.kafka");
    const m = meta(c);
    expect(m.brokers).toBe(prod.sizing.events.pubsub.kind === "kafka" ? prod.sizing.events.pubsub.brokers.join(",") : "");
    expect(m.saslPassword).toEqual({ name: "events-kafka", key: "password" });
    expect(platform.secrets.all.filter((s) => s.name === "events-kafka").map((s) => s.namespace).sort()).toEqual(["apps", "events"]);
    expect(platform.graph.node("kafka").cidrs).toEqual(["10.30.0.0/16"]);
  });

  it("scopes the component to the namespace's apps and each app to its declared topics", () => {
    const { own } = build(dev);
    const apps = findOne(own, "Component", "events", "apps");
    expect(apps.scopes).toEqual(["customer", "order", "payment"]);
    const m = meta(apps);
    expect(m.publishingScopes.split(";")).toEqual([
      "customer=customer.registered",
      "order=customer.registered.validated.order.dead-letter,order.created,payment.completed.validated.order.dead-letter",
      "payment=order.created.validated.payment.dead-letter,payment.completed",
    ]);
    expect(m.subscriptionScopes).toBe("customer=;order=customer.registered.validated,payment.completed.validated;payment=order.created.validated");
    const proc = meta(findOne(own, "Component", "events", "events"));
    expect(proc.subscriptionScopes).toBe("event-processor=customer.registered,order.created,payment.completed");
    expect(proc.publishingScopes).toContain("event-processor=customer.registered.dead-letter,customer.registered.validated,");
  });

  it("renders no pub/sub Component (and says why) when the platform has no Redis", () => {
    const { own, events } = build(dev, {}, { dataLayer: false });
    expect(findAll(own, "Component")).toHaveLength(0);
    expect(events.warnings).toEqual(["no 'redis' node in the service graph: no pub/sub Component rendered"]);
  });
});

describe("Configuration and Resiliency", () => {
  it("traces every sidecar to the OTel collector and denies service invocation", () => {
    const { own } = build(dev);
    const cfg = findOne(own, "Configuration", "stratum", "apps");
    expect(cfg.spec.tracing.otel).toEqual({ endpointAddress: "otel-collector.observability.svc.cluster.local:4317", isSecure: false, protocol: "grpc" });
    expect(cfg.spec.accessControl.defaultAction).toBe("deny");
  });

  it("retries deliveries and publishes with exponential backoff, with timeouts and circuit breakers", () => {
    const { own } = build(dev);
    const r = findOne(own, "Resiliency", "stratum-events", "events");
    expect(r.spec.policies.retries.delivery).toEqual({ policy: "exponential", maxInterval: "60s", maxRetries: 10 });
    expect(r.spec.policies.timeouts).toEqual({ delivery: "30s", publish: "10s" });
    expect(Object.keys(r.spec.policies.circuitBreakers).sort()).toEqual(["app", "broker"]);
    expect(r.spec.targets.components.events).toEqual({
      inbound: { timeout: "delivery", retry: "delivery", circuitBreaker: "app" },
      outbound: { timeout: "publish", retry: "publish", circuitBreaker: "broker" },
    });
  });
});

describe("subscriptions", () => {
  it("subscribes the processor to every raw topic in bulk, each with its dead-letter topic", () => {
    const { own } = build(dev);
    const subs = findAll(own, "Subscription", undefined, "events") as Array<Record<string, any>>;
    expect(subs.map((s) => [s.spec.topic, s.spec.routes.default, s.spec.deadLetterTopic, s.scopes])).toEqual([
      ["customer.registered", "/bulk/customer.registered", "customer.registered.dead-letter", ["event-processor"]],
      ["order.created", "/bulk/order.created", "order.created.dead-letter", ["event-processor"]],
      ["payment.completed", "/bulk/payment.completed", "payment.completed.dead-letter", ["event-processor"]],
    ]);
    expect(subs.every((s) => s.spec.bulkSubscribe.enabled)).toBe(true);
  });

  it("subscribes each consumer to the validated topic with its own dead-letter topic", () => {
    const { own } = build(dev);
    const sub = findOne(own, "Subscription", "payment-order-created", "apps");
    expect(sub.apiVersion).toBe("dapr.io/v2alpha1");
    expect(sub.spec).toMatchObject({ pubsubname: "events", topic: "order.created.validated", routes: { default: "/events/order.created" }, deadLetterTopic: "order.created.validated.payment.dead-letter" });
    expect(sub.scopes).toEqual(["payment"]);
    expect(findOne(own, "Subscription", "order-customer-registered", "apps").spec.bulkSubscribe.enabled).toBe(true);
  });

  it("includes events added by later components", () => {
    const { own, events } = build(dev, {}, {
      after: (_p, e: EventsComponent) => e.addEvent({
        type: "task.completed", version: 1, description: "A task finished and its result is stored.", producers: ["catalog"],
        schema: { type: "object", required: ["taskId"], properties: { taskId: { type: "string" } }, additionalProperties: false },
        example: { taskId: "t-1" },
      }),
    });
    expect(findOne(own, "Subscription", "event-processor-task-completed", "events").spec.topic).toBe("task.completed");
    const bundle = JSON.parse(findOne(own, "ConfigMap", "event-catalog", "events").data["catalog.json"]);
    expect(bundle.events.map((e: { type: string }) => e.type)).toContain("task.completed");
    expect(events.catalog.apps).toContain("catalog");
  });
});

describe("event processor", () => {
  it("ships a schema bundle and a config file that the processor itself accepts", () => {
    const { own } = build(dev);
    const bundle = JSON.parse(findOne(own, "ConfigMap", "event-catalog", "events").data["catalog.json"]);
    const catalog = new Catalog(bundle);
    expect(catalog.events.map((e) => e.type)).toEqual(["customer.registered", "order.created", "payment.completed"]);
    const cfg = parse(findOne(own, "ConfigMap", "event-processor-config", "events").data["config.yaml"]);
    const resolved = resolveConfig(cfg, { POSTGRES_HOST: "pg", POSTGRES_PASSWORD: "x", DAPR_HTTP_PORT: "3500" });
    expect(resolved.catalogFile).toBe("/etc/event-processor/catalog/catalog.json");
    expect(resolved.databaseUrl).toBe("postgres://postgres:x@pg:5432/postgres");
  });

  it("runs the bundle as a hardened, autoscaled Deployment with a Dapr sidecar and its database connection", () => {
    const { own } = build(prod);
    const d = findOne(own, "Deployment", "event-processor", "events");
    const pod = d.spec.template;
    expect(pod.metadata.annotations).toMatchObject({
      "dapr.io/enabled": "true", "dapr.io/app-id": "event-processor", "dapr.io/app-port": "8080", "dapr.io/config": "stratum",
      "dapr.io/http-max-request-size": "8", "dapr.io/sidecar-cpu-limit": prod.sizing.events.sidecar.limits.cpu,
    });
    expect(pod.metadata.annotations["stratum.dev/catalog-sha256"]).toMatch(/^[0-9a-f]{16}$/);
    const c = pod.spec.containers[0];
    expect(c.command).toEqual(["node", "--enable-source-maps", "/opt/stratum/boot.js", "--config", "/etc/event-processor/config.yaml"]);
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
    expect(env.POSTGRES_HOST).toBe("postgres-rw.postgres.svc.cluster.local");
    expect(env.POSTGRES_PASSWORD).toEqual({ secretKeyRef: { name: "postgres-app", key: "password" } });
    expect(findOne(own, "HorizontalPodAutoscaler", "event-processor", "events").spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    expect(findOne(own, "PodDisruptionBudget", "event-processor", "events")).toBeDefined();
  });

  it("gives producers and consumers a sidecar and declares every edge the sidecars need", () => {
    const { all, platform } = build(dev);
    for (const name of ["order", "payment", "customer"]) {
      const w = all.find((o) => ["Deployment", "Rollout"].includes(o.kind) && o.metadata.name === name)!;
      expect(w.spec.template.metadata.annotations["dapr.io/app-id"]).toBe(name);
    }
    const catalogSvc = all.find((o) => o.kind === "Deployment" && o.metadata.name === "catalog")!;
    expect(catalogSvc.spec.template.metadata.annotations?.["dapr.io/enabled"]).toBeUndefined();
    const out = (id: string) => platform.graph.outgoing(id).map((e) => e.to).sort();
    expect(out("event-processor")).toEqual(["dapr-operator", "dapr-sentry", "otel-collector", "postgres", "redis", "redis-sentinel"]);
    expect(out("order")).toEqual(["dapr-operator", "dapr-sentry", "otel-collector", "redis", "redis-sentinel"]);
    expect(platform.graph.incoming("dapr-sidecar-injector").map((e) => e.from)).toEqual(["kube-apiserver"]);
  });

  it("passes every policy", () => {
    for (const env of [dev, staging, prod]) {
      const { own } = build(env);
      const report = runPolicies(own, DEFAULT_RULES);
      expect(report.errors.map((f) => `${f.ruleId} ${f.message}`)).toEqual([]);
    }
  });
});

describe("event catalog", () => {
  const base = SAMPLE_EVENTS[0];

  it.each([
    [{ ...base, type: "Order Created" }, "type must be lower-case and dotted like 'order.created' (got \"Order Created\")"],
    [{ ...base, version: 0 }, "version must be an integer >= 1 (got 0)"],
    [{ ...base, producers: [] }, "needs at least one producer"],
    [{ ...base, consumers: ["payment", "payment"] }, "consumer 'payment' is listed twice"],
    [{ ...base, schema: { type: "object", properties: { a: { type: "strin" } } } }, "schema does not compile"],
    [{ ...base, example: { orderId: "nope" } }, "example does not match the schema: data must have required property 'customerId'"],
  ])("refuses a bad definition with a message naming the problem (%#)", (def, message) => {
    expect(() => new EventCatalog([def as never])).toThrow(message);
  });

  it("refuses a type declared twice", () => {
    expect(() => new EventCatalog([base, base])).toThrow("event catalog: 'order.created': is declared twice");
  });

  it("holds the reference architecture's order.created, produced by order and validated by the processor", () => {
    const c = new EventCatalog(SAMPLE_EVENTS);
    expect(c.get("order.created").producers).toEqual(["order"]);
    expect(c.scopes("event-processor").subscription.get("event-processor")).toContain("order.created");
  });

  it("is documented in docs/events.md, generated from the catalog", () => {
    const file = path.join(__dirname, "..", "..", "..", "docs", "events.md");
    const expected = renderCatalogPage(new EventCatalog([...SAMPLE_EVENTS, ...TASK_EVENTS]));
    if (process.env.UPDATE_DOCS === "1") fs.writeFileSync(file, expected);
    expect(fs.readFileSync(file, "utf8")).toBe(expected);
  });
});
