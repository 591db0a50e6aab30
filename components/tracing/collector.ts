import { Construct } from "constructs";
import { imagePinProblem, imageVersion } from "../../constructs/image";
import * as otel from "../../constructs/imports/otel-collector-opentelemetry.io";
import { recommendedLabels } from "../../constructs/labels";
import { isByteQuantity, quantityBytes } from "../../constructs/quantity";
import { GraphNodeProps, ServicePort } from "../../constructs/service-graph";
import type { Resources, SpreadMode } from "../../stacks/environments/environment";
import { CollectorConfig, collectorConfigProblems } from "./collector-config";

/** The collector image: the contrib distribution, which carries tail sampling and the load-balancing exporter. */
export const COLLECTOR_IMAGE = "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib:0.158.0";
/** The user the collector image runs as. */
export const COLLECTOR_UID = 10001;
/** Port of the collector's own Prometheus metrics. */
export const COLLECTOR_METRICS_PORT = 8888;
/** Port of the `health_check` extension, which the operator turns into liveness and readiness probes. */
export const COLLECTOR_HEALTH_PORT = 13133;

/**
 * GOMEMLIMIT for a memory limit: 80% of it, in MiB, so that the Go runtime collects garbage before the kernel kills
 * the pod, in step with the memory limiter's 80% limit.
 */
export function goMemLimit(memoryLimit: string): string {
  if (!isByteQuantity(memoryLimit)) throw new Error(`memory limit ${JSON.stringify(memoryLimit)} is not a quantity such as 512Mi`);
  const bytes = quantityBytes(memoryLimit);
  return `${Math.floor((bytes * 0.8) / 2 ** 20)}MiB`;
}

/** Props of one managed collector. */
export interface OtelCollectorProps {
  /** Name of the custom resource; the operator names its Service `<name>-collector`. */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /** The collector configuration; its pipeline structure is checked before anything is created. */
  readonly config: CollectorConfig;
  /** Replica count. */
  readonly replicas: number;
  /** Requests and limits. */
  readonly resources: Resources;
  /** Spread across nodes and zones. @default soft on both */
  readonly spread?: { readonly node: SpreadMode; readonly zone: SpreadMode };
  /** Ports the collector serves, as graph ports (the operator derives its Service ports from the receivers). */
  readonly ports: ReadonlyArray<ServicePort>;
  /** Image with an exact version. @default COLLECTOR_IMAGE */
  readonly image?: string;
}

/**
 * An `OpenTelemetryCollector` (v1beta1) run by the operator as a Deployment, hardened like every Stratum workload:
 * Pod Security "restricted" settings, a read-only root filesystem, requests and limits, a PodDisruptionBudget,
 * topology spread, and no NetworkPolicy of the operator's own (the service graph derives them).
 */
export class OtelCollector extends Construct {
  /** Name of the custom resource. */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /** The Service the operator creates (`<name>-collector`). */
  readonly serviceName: string;
  /** The headless Service the operator creates, one address per pod (what trace-id routing resolves). */
  readonly headlessServiceName: string;
  /** In-cluster DNS name of its Service. */
  readonly host: string;
  /** The ServiceAccount the operator creates for its pods. */
  readonly serviceAccountName: string;
  /** Labels the operator puts on the pods that select exactly this collector. */
  readonly selector: Record<string, string>;
  /** Ports it serves. */
  readonly ports: ReadonlyArray<ServicePort>;
  /** The custom resource. */
  readonly resource: otel.OpenTelemetryCollectorV1Beta1;

  constructor(scope: Construct, id: string, props: OtelCollectorProps) {
    super(scope, id);
    const image = props.image ?? COLLECTOR_IMAGE;
    const problems = collectorConfigProblems(props.config);
    const pin = imagePinProblem(image);
    if (pin) problems.push(pin);
    if (!Number.isInteger(props.replicas) || props.replicas < 1) problems.push(`replicas must be an integer >= 1 (got ${props.replicas})`);
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);

    this.name = props.name;
    this.namespace = props.namespace;
    this.serviceName = `${props.name}-collector`;
    this.headlessServiceName = `${props.name}-collector-headless`;
    this.host = `${this.serviceName}.${props.namespace}.svc.cluster.local`;
    this.serviceAccountName = `${props.name}-collector`;
    this.ports = props.ports;
    // The operator's own selector labels (manifestutils.SelectorLabels): stable across upgrades of the CR.
    this.selector = {
      "app.kubernetes.io/managed-by": "opentelemetry-operator",
      "app.kubernetes.io/instance": `${props.namespace}.${props.name}`,
      "app.kubernetes.io/part-of": "opentelemetry",
      "app.kubernetes.io/component": "opentelemetry-collector",
    };
    const spread = props.spread ?? { node: "soft", zone: "soft" };
    const when = (m: SpreadMode) => (m === "hard" ? "DoNotSchedule" : "ScheduleAnyway");
    const R = otel.OpenTelemetryCollectorV1Beta1SpecResourcesLimits;
    const Q = otel.OpenTelemetryCollectorV1Beta1SpecResourcesRequests;

    this.resource = new otel.OpenTelemetryCollectorV1Beta1(this, "Resource", {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: recommendedLabels({ name: props.name, component: "tracing", version: imageVersion(image) }),
      },
      spec: {
        mode: otel.OpenTelemetryCollectorV1Beta1SpecMode.DEPLOYMENT,
        image,
        replicas: props.replicas,
        env: [{ name: "GOMEMLIMIT", value: goMemLimit(props.resources.limits.memory) }],
        resources: {
          requests: { cpu: Q.fromString(props.resources.requests.cpu), memory: Q.fromString(props.resources.requests.memory) },
          limits: { cpu: R.fromString(props.resources.limits.cpu), memory: R.fromString(props.resources.limits.memory) },
        },
        podSecurityContext: {
          runAsNonRoot: true,
          runAsUser: COLLECTOR_UID,
          runAsGroup: COLLECTOR_UID,
          fsGroup: COLLECTOR_UID,
          seccompProfile: { type: "RuntimeDefault" },
        },
        securityContext: {
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          runAsUser: COLLECTOR_UID,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        },
        podDisruptionBudget: { maxUnavailable: otel.OpenTelemetryCollectorV1Beta1SpecPodDisruptionBudgetMaxUnavailable.fromNumber(1) },
        topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: when(spread.zone), labelSelector: { matchLabels: this.selector } },
          { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: when(spread.node), labelSelector: { matchLabels: this.selector } },
        ],
        networkPolicy: { enabled: false },
        upgradeStrategy: otel.OpenTelemetryCollectorV1Beta1SpecUpgradeStrategy.AUTOMATIC,
        config: JSON.parse(JSON.stringify(props.config)),
      },
    });
  }

  /** The graph node of this collector (pods selected by the operator's labels, served ports). */
  graphNode(id: string, scope: Construct): GraphNodeProps {
    return {
      id,
      kind: "component",
      namespace: this.namespace,
      serviceAccount: this.serviceAccountName,
      selector: this.selector,
      ports: this.ports,
      host: this.host,
      scope,
    };
  }
}
