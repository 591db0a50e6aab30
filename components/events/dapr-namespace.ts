import { Construct } from "constructs";
import { SYNC_WAVE } from "../../constructs/helm-addon";
import { Component } from "../../constructs/imports/dapr-component-dapr.io";
import { Configuration } from "../../constructs/imports/dapr-configuration-dapr.io";
import { Resiliency } from "../../constructs/imports/dapr-resiliency-dapr.io";
import { SubscriptionV2Alpha1 } from "../../constructs/imports/dapr-subscription-dapr.io";
import { recommendedLabels } from "../../constructs/labels";
import { kubeName } from "../../constructs/names";
import { SyncWave } from "../component";
import { consumerDeadLetterTopic, EventCatalog, topicsOf } from "./catalog";
import { DAPR_CONFIG_NAME } from "./dapr-app";
import type { PubSubSpec } from "./pubsub";

/** Props of one namespace's Dapr objects. */
export interface DaprNamespaceProps {
  readonly namespace: string;
  /** Dapr apps (graph ids) running in this namespace. */
  readonly apps: ReadonlyArray<string>;
  readonly catalog: EventCatalog;
  /** App id of the event processor. */
  readonly processorApp: string;
  readonly pubsubName: string;
  /** The broker; absent when the platform has none yet (then no pub/sub Component is rendered). */
  readonly pubsub?: PubSubSpec;
  /** OTLP gRPC endpoint (`host:port`) sidecars send spans to. */
  readonly otlpEndpoint: string;
  /** Share of requests traced, 0-1. */
  readonly samplingRate: number;
}

const wave = { [SYNC_WAVE]: String(SyncWave.CUSTOM_RESOURCES) };

/**
 * Everything Dapr reads in one namespace: the pub/sub Component (scoped to the namespace's apps, topics scoped per
 * app from the catalog), the `stratum` Configuration (tracing to the collector, service invocation denied), the
 * Resiliency policy, and a Subscription with a dead-letter topic for each subscription of an app in it.
 */
export class DaprNamespace extends Construct {
  constructor(scope: Construct, id: string, props: DaprNamespaceProps) {
    super(scope, id);
    const ns = props.namespace;
    const apps = [...props.apps].sort();
    const labels = recommendedLabels({ name: "dapr", component: "events", instance: ns });
    const scopes = props.catalog.scopes(props.processorApp);
    const scopeList = (m: Map<string, string[]>) => apps.map((a) => `${a}=${(m.get(a) ?? []).join(",")}`).join(";");

    if (props.pubsub) new Component(this, "PubSub", {
      metadata: { name: props.pubsubName, namespace: ns, labels, annotations: wave },
      scopes: apps,
      spec: {
        type: props.pubsub.type,
        version: "v1",
        initTimeout: "30s",
        metadata: [
          ...props.pubsub.metadata,
          { name: "publishingScopes", value: scopeList(scopes.publishing) },
          { name: "subscriptionScopes", value: scopeList(scopes.subscription) },
          { name: "allowedTopics", value: scopes.topics.join(",") },
        ],
      },
    });

    new Configuration(this, "Configuration", {
      metadata: { name: DAPR_CONFIG_NAME, namespace: ns, labels, annotations: wave },
      spec: {
        tracing: { samplingRate: String(props.samplingRate), otel: { endpointAddress: props.otlpEndpoint, isSecure: false, protocol: "grpc" } },
        metric: { enabled: true },
        // events only: no app may invoke another through its sidecar
        accessControl: { defaultAction: "deny", trustDomain: "public" },
      },
    });

    new Resiliency(this, "Resiliency", {
      metadata: { name: "stratum-events", namespace: ns, labels, annotations: wave },
      scopes: apps,
      spec: {
        policies: {
          timeouts: { delivery: "30s", publish: "10s" },
          retries: {
            // after the last retry Dapr moves the message to the subscription's dead-letter topic
            delivery: { policy: "exponential", maxInterval: "60s", maxRetries: 10 },
            publish: { policy: "exponential", maxInterval: "10s", maxRetries: 5 },
          },
          circuitBreakers: {
            app: { maxRequests: 1, interval: "30s", timeout: "30s", trip: "consecutiveFailures >= 10" },
            broker: { maxRequests: 1, interval: "60s", timeout: "30s", trip: "consecutiveFailures >= 5" },
          },
        },
        targets: {
          components: {
            [props.pubsubName]: {
              inbound: { timeout: "delivery", retry: "delivery", circuitBreaker: "app" },
              outbound: { timeout: "publish", retry: "publish", circuitBreaker: "broker" },
            },
          },
        },
      },
    });

    const subscription = (name: string, app: string, topic: string, route: string, deadLetterTopic: string, bulk: boolean) =>
      new SubscriptionV2Alpha1(this, `Subscription-${name}`, {
        metadata: { name, namespace: ns, labels, annotations: wave },
        scopes: [app],
        spec: {
          pubsubname: props.pubsubName,
          topic,
          routes: { default: route },
          deadLetterTopic,
          bulkSubscribe: bulk ? { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 200 } : undefined,
        },
      });
    for (const def of props.catalog.definitions) {
      const t = topicsOf(def.type);
      if (apps.includes(props.processorApp)) {
        subscription(kubeName([props.processorApp, def.type]), props.processorApp, t.topic, `/bulk/${def.type}`, t.deadLetterTopic, true);
      }
      for (const c of props.catalog.consumersOf(def)) {
        if (!apps.includes(c.app)) continue;
        subscription(kubeName([c.app, def.type]), c.app, t.validTopic, c.route, consumerDeadLetterTopic(def.type, c.app), c.bulk);
      }
    }
  }
}
