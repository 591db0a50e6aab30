import { Construct } from "constructs";
import { stringify } from "yaml";
import { HardenedWorkload } from "../../constructs/hardened-workload";
import * as k8s from "../../constructs/imports/k8s";
import { recommendedLabels } from "../../constructs/labels";
import { NODE_BASE_IMAGE, NODE_UID, RuntimeAsset } from "../../constructs/runtime-asset";
import type { EventsSizing, SpreadMode } from "../../stacks/environments/environment";
import { daprAnnotations } from "./dapr-app";

/** Graph id and Dapr app id of the event processor. */
export const EVENT_PROCESSOR = "event-processor";
/** Port Dapr delivers events to. */
export const PROCESSOR_PORT = 8080;
/** Port of the processor's Prometheus metrics. */
export const PROCESSOR_METRICS_PORT = 9090;
const CONFIG_DIR = "/etc/event-processor";
const CATALOG_DIR = "/etc/event-processor/catalog";
/** Name of the ConfigMap that holds the schema bundle. */
export const CATALOG_CONFIGMAP = "event-catalog";

/** Props of the event processor's deployment. */
export interface EventProcessorWorkloadProps {
  readonly namespace: string;
  /** Name of the Dapr pub/sub component. */
  readonly pubsubName: string;
  /** Processor and sidecar sizing. */
  readonly sizing: EventsSizing;
  /** Pod spread. */
  readonly spread: { readonly node: SpreadMode; readonly zone: SpreadMode };
}

/**
 * The event processor (services/event-processor) as a runtime asset: the bundle in a content-hashed ConfigMap, its
 * config file and the catalog's schema bundle mounted read-only, a hardened Deployment with a daprd sidecar
 * (bulk-sized requests), CPU autoscaling, a PodDisruptionBudget and a metrics port.
 */
export class EventProcessorWorkload extends Construct {
  readonly workload: HardenedWorkload;
  readonly asset: RuntimeAsset;
  /** The config file the processor reads. */
  readonly config: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: EventProcessorWorkloadProps) {
    super(scope, id);
    this.asset = new RuntimeAsset(this, "Asset", { service: EVENT_PROCESSOR, namespace: props.namespace });
    const bulkBytes = 8 * 1024 * 1024;
    this.config = {
      port: PROCESSOR_PORT,
      metricsPort: PROCESSOR_METRICS_PORT,
      host: "0.0.0.0",
      pubsubName: props.pubsubName,
      catalogFile: `${CATALOG_DIR}/catalog.json`,
      dapr: { host: "127.0.0.1", httpPort: 3500, timeoutMs: 5000 },
      programmaticSubscriptions: false,
      poolSize: 10,
      limits: { maxBodyBytes: 1024 * 1024, maxBulkBodyBytes: bulkBytes, maxBulkEntries: 500, maxInFlight: 64, maxDeadLetterEventBytes: 64 * 1024, maxReplayPage: 1000 },
      drainSeconds: 20,
      logLevel: "info",
    };
    const labels = recommendedLabels({ name: EVENT_PROCESSOR, component: "event-processor" });
    new k8s.KubeConfigMap(this, "Config", {
      metadata: { name: `${EVENT_PROCESSOR}-config`, namespace: props.namespace, labels },
      data: { "config.yaml": stringify(this.config) },
    });
    const p = props.sizing.processor;
    this.workload = new HardenedWorkload(this, "Workload", {
      name: EVENT_PROCESSOR,
      namespace: props.namespace,
      component: "event-processor",
      image: NODE_BASE_IMAGE,
      runAsUser: NODE_UID,
      command: [...this.asset.command, "--config", `${CONFIG_DIR}/config.yaml`],
      replicas: p.replicas,
      autoscaling: { maxReplicas: Math.max(p.maxReplicas, p.replicas), targetCpuUtilization: 70 },
      resources: p.resources,
      spread: props.spread,
      ports: [
        { name: "http", port: PROCESSOR_PORT, protocol: "http" },
        { name: "http-metrics", port: PROCESSOR_METRICS_PORT, protocol: "http", metrics: true },
      ],
      env: { NODE_OPTIONS: "--max-old-space-size=192", DAPR_HTTP_PORT: "3500" },
      volumes: [
        this.asset.volume,
        { name: "config", configMap: `${EVENT_PROCESSOR}-config`, mountPath: CONFIG_DIR },
        { name: "catalog", configMap: CATALOG_CONFIGMAP, mountPath: CATALOG_DIR },
      ],
      podAnnotations: {
        "stratum.dev/asset-sha256": this.asset.hash,
        ...daprAnnotations({ appId: EVENT_PROCESSOR, appPort: PROCESSOR_PORT, sidecar: props.sizing.sidecar, maxRequestSizeMb: 8 }),
      },
      terminationGracePeriodSeconds: 30,
    });
  }
}
