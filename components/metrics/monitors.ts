import { ApiObject } from "cdk8s";
import { Construct, IConstruct } from "constructs";
import {
  PodMonitor,
  PodMonitorSpecPodMetricsEndpointsRelabelingsAction,
  PodMonitorSpecPodMetricsEndpointsScheme,
} from "../../constructs/imports/monitoring-podmonitor-monitoring.coreos.com";
import {
  ServiceMonitor,
  ServiceMonitorSpecEndpointsMetricRelabelingsAction,
  ServiceMonitorSpecEndpointsRelabelingsAction,
  ServiceMonitorSpecEndpointsScheme,
} from "../../constructs/imports/monitoring-servicemonitor-monitoring.coreos.com";
import { recommendedLabels } from "../../constructs/labels";
import { GraphNodeProps, ServicePort } from "../../constructs/service-graph";

/** A Kubernetes Service found in the construct tree, as monitor derivation needs it. */
export interface ServiceInfo {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  readonly portNames: ReadonlyArray<string>;
}

/** Every Service object under `root` (what the synthesized output will contain). */
export function servicesIn(root: IConstruct): ServiceInfo[] {
  return root.node
    .findAll()
    .filter((c): c is ApiObject => ApiObject.isApiObject(c) && c.kind === "Service")
    .map((svc) => {
      const json = svc.toJson();
      return {
        namespace: json.metadata?.namespace ?? "default",
        name: json.metadata?.name,
        labels: json.metadata?.labels ?? {},
        selector: json.spec?.selector ?? {},
        portNames: (json.spec?.ports ?? []).map((p: { name?: string }) => p.name).filter(Boolean),
      };
    });
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a).sort();
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function subsetOf(sub: Readonly<Record<string, string>>, of: Readonly<Record<string, string>>): boolean {
  return Object.entries(sub).every(([k, v]) => of[k] === v);
}

/** How one graph node is scraped. */
export type ScrapePlan =
  | { readonly kind: "ServiceMonitor"; readonly node: GraphNodeProps; readonly ports: ReadonlyArray<ServicePort>; readonly service: ServiceInfo; readonly match: Record<string, string> }
  | { readonly kind: "PodMonitor"; readonly node: GraphNodeProps; readonly ports: ReadonlyArray<ServicePort> };

/**
 * Decides how to scrape a node with metrics ports: a ServiceMonitor when exactly one Service in its namespace selects
 * its pods and names every metrics port (matched by that Service's own labels, without the version), otherwise a
 * PodMonitor on its pod selector and container port names. Nodes without metrics ports are not scraped.
 */
export function planScrape(node: GraphNodeProps, services: ReadonlyArray<ServiceInfo>): ScrapePlan | undefined {
  if (node.kind === "external" || !node.namespace || !node.selector) return undefined;
  const ports = node.ports.filter((p) => p.metrics);
  if (ports.length === 0) return undefined;
  const inNs = services.filter((s) => s.namespace === node.namespace);
  const candidates = inNs.filter((s) => sameLabels(s.selector, node.selector!) && ports.every((p) => s.portNames.includes(p.name)));
  for (const service of candidates) {
    const match = Object.fromEntries(Object.entries(service.labels).filter(([k]) => k !== "app.kubernetes.io/version"));
    if (Object.keys(match).length === 0) continue;
    const selected = inNs.filter((s) => subsetOf(match, s.labels));
    if (selected.length === 1) return { kind: "ServiceMonitor", node, ports, service, match };
  }
  return { kind: "PodMonitor", node, ports };
}

/** Props of the derived monitors. */
export interface GraphMonitorsProps {
  /** Namespace the monitors live in (Prometheus reads only it). */
  readonly namespace: string;
  /** Labels Prometheus' monitor selectors match. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** How each node is scraped. */
  readonly plans: ReadonlyArray<ScrapePlan>;
  /** Owning team of a node, written as the `team` label of its series. @default none */
  readonly teamOf?: (nodeId: string) => string | undefined;
  /** Scrape interval. @default Prometheus' */
  readonly interval?: string;
}

/** One ServiceMonitor or PodMonitor per scraped graph node; every series carries `service=<node id>`. */
export class GraphMonitors extends Construct {
  /** Monitor names by node id. */
  readonly monitors = new Map<string, ServiceMonitor | PodMonitor>();

  constructor(scope: Construct, id: string, props: GraphMonitorsProps) {
    super(scope, id);
    for (const plan of props.plans) {
      const node = plan.node;
      const labels = { ...recommendedLabels({ name: node.id, component: "monitoring" }), ...props.selectorLabels };
      const metadata = { name: node.id, namespace: props.namespace, labels };
      const team = props.teamOf?.(node.id);
      const extra = [
        { targetLabel: "service", replacement: node.id },
        ...(team ? [{ targetLabel: "team", replacement: team }] : []),
      ];
      if (plan.kind === "ServiceMonitor") {
        this.monitors.set(
          node.id,
          new ServiceMonitor(this, node.id, {
            metadata,
            spec: {
              namespaceSelector: { matchNames: [node.namespace!] },
              selector: { matchLabels: plan.match },
              endpoints: plan.ports.map((p) => ({
                port: p.name,
                path: "/metrics",
                scheme: ServiceMonitorSpecEndpointsScheme.HTTP,
                interval: props.interval,
                relabelings: extra.map((r) => ({ ...r, action: ServiceMonitorSpecEndpointsRelabelingsAction.REPLACE })),
              })),
            },
          }),
        );
      } else {
        this.monitors.set(
          node.id,
          new PodMonitor(this, node.id, {
            metadata,
            spec: {
              namespaceSelector: { matchNames: [node.namespace!] },
              selector: { matchLabels: { ...node.selector } },
              podMetricsEndpoints: plan.ports.map((p) => ({
                port: p.name,
                path: "/metrics",
                scheme: PodMonitorSpecPodMetricsEndpointsScheme.HTTP,
                interval: props.interval,
                relabelings: extra.map((r) => ({ ...r, action: PodMonitorSpecPodMetricsEndpointsRelabelingsAction.REPLACE })),
              })),
            },
          }),
        );
      }
    }
  }
}

/** cAdvisor series the saturation alerts and dashboards read; everything else the kubelet exposes is dropped. */
export const CADVISOR_METRICS = [
  "container_cpu_usage_seconds_total",
  "container_memory_working_set_bytes",
  "container_spec_cpu_quota",
  "container_spec_cpu_period",
  "container_spec_memory_limit_bytes",
];

/** Props of the kubelet (cAdvisor) monitor. */
export interface KubeletMonitorProps {
  readonly namespace: string;
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Namespace of the kubelet Service the operator maintains. */
  readonly kubeletServiceNamespace: string;
}

/**
 * Scrapes container CPU and memory from every kubelet's cAdvisor endpoint (the Service the operator keeps in sync
 * with the nodes), keeping only the series in `CADVISOR_METRICS`.
 */
export class KubeletMonitor extends Construct {
  constructor(scope: Construct, id: string, props: KubeletMonitorProps) {
    super(scope, id);
    new ServiceMonitor(this, "Resource", {
      metadata: { name: "kubelet-cadvisor", namespace: props.namespace, labels: { ...recommendedLabels({ name: "kubelet-cadvisor", component: "monitoring" }), ...props.selectorLabels } },
      spec: {
        namespaceSelector: { matchNames: [props.kubeletServiceNamespace] },
        selector: { matchLabels: { "app.kubernetes.io/name": "kubelet", "app.kubernetes.io/managed-by": "prometheus-operator" } },
        endpoints: [
          {
            port: "https-metrics",
            path: "/metrics/cadvisor",
            scheme: ServiceMonitorSpecEndpointsScheme.HTTPS,
            bearerTokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
            // kubelet serving certificates are self-signed on EKS and kubeadm unless serverTLSBootstrap is on
            tlsConfig: { insecureSkipVerify: true },
            honorLabels: true,
            metricRelabelings: [
              { sourceLabels: ["__name__"], regex: CADVISOR_METRICS.join("|"), action: ServiceMonitorSpecEndpointsMetricRelabelingsAction.KEEP },
              // pause containers and cgroup aggregates carry no container label
              { sourceLabels: ["container"], regex: "|POD", action: ServiceMonitorSpecEndpointsMetricRelabelingsAction.DROP },
            ],
          },
        ],
      },
    });
  }
}
