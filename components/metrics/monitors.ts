import { ApiObject } from "cdk8s";
import { Construct, IConstruct } from "constructs";
import * as k8s from "../../constructs/imports/k8s";
import {
  ServiceMonitor,
  ServiceMonitorSpecEndpointsMetricRelabelingsAction,
  ServiceMonitorSpecEndpointsRelabelingsAction,
  ServiceMonitorSpecEndpointsScheme,
} from "../../constructs/imports/monitoring-servicemonitor-monitoring.coreos.com";
import { recommendedLabels } from "../../constructs/labels";
import { kubeName } from "../../constructs/names";
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

/** How one graph node is scraped: through a Service that already selects it, or through a dedicated metrics Service. */
export type ScrapePlan =
  | { readonly kind: "existing"; readonly node: GraphNodeProps; readonly ports: ReadonlyArray<ServicePort>; readonly service: ServiceInfo; readonly match: Record<string, string> }
  | { readonly kind: "dedicated"; readonly node: GraphNodeProps; readonly ports: ReadonlyArray<ServicePort> };

/**
 * Decides how to scrape a node with metrics ports: through its own Service when exactly one Service in its namespace
 * selects its pods and names every metrics port (matched by that Service's labels, without the version); otherwise
 * through a headless metrics Service Stratum adds on its pod selector and container port numbers. Either way a
 * ServiceMonitor scrapes it, so the scrape can use the mesh's mTLS certificates (PodMonitors cannot read files).
 * Nodes without metrics ports are not scraped.
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
    if (selected.length === 1) return { kind: "existing", node, ports, service, match };
  }
  return { kind: "dedicated", node, ports };
}

/** Label that marks (and selects) the metrics Service Stratum adds for a node. */
export const METRICS_SERVICE_LABEL = "stratum.dev/metrics-of";

/** Where the Prometheus pod finds the mesh's workload certificate (written by its Istio sidecar). */
export const MESH_CERT_DIR = "/etc/prom-certs";

/** Istio's own proxy ports (15000-15099, e.g. 15090 envoy-prom, 15014 istiod): plaintext, never behind mTLS. */
export function isProxyPort(port: number): boolean {
  return port >= 15000 && port <= 15099;
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
  /** Whether a node's pods only accept mesh mTLS (scraped with the mesh certificate in `MESH_CERT_DIR`). @default none */
  readonly meshTls?: (node: GraphNodeProps) => boolean;
  /** Scrape interval. @default Prometheus' */
  readonly interval?: string;
}

/**
 * One ServiceMonitor per scraped graph node (and a headless metrics Service where the node has no suitable one);
 * every series carries `service=<node id>` and, when known, `team`.
 */
export class GraphMonitors extends Construct {
  /** The ServiceMonitors by node id. */
  readonly monitors = new Map<string, ServiceMonitor>();
  /** The metrics Services Stratum added, by node id. */
  readonly metricsServices = new Map<string, k8s.KubeService>();

  constructor(scope: Construct, id: string, props: GraphMonitorsProps) {
    super(scope, id);
    for (const plan of props.plans) {
      const node = plan.node;
      let match: Record<string, string>;
      if (plan.kind === "existing") {
        match = plan.match;
      } else {
        match = { [METRICS_SERVICE_LABEL]: node.id };
        const svc = new k8s.KubeService(this, `Service-${node.id}`, {
          metadata: {
            name: kubeName(["metrics", node.id]),
            namespace: node.namespace,
            labels: { ...recommendedLabels({ name: node.id, instance: `${node.id}-metrics`, component: "monitoring" }), ...match },
          },
          spec: {
            clusterIp: "None",
            selector: { ...node.selector },
            ports: plan.ports.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromNumber(p.targetPort ?? p.port), protocol: p.transport ?? "TCP", appProtocol: p.protocol })),
          },
        });
        this.metricsServices.set(node.id, svc);
      }
      const team = props.teamOf?.(node.id);
      const relabelings = [
        { targetLabel: "service", replacement: node.id, action: ServiceMonitorSpecEndpointsRelabelingsAction.REPLACE },
        ...(team ? [{ targetLabel: "team", replacement: team, action: ServiceMonitorSpecEndpointsRelabelingsAction.REPLACE }] : []),
      ];
      const meshed = props.meshTls?.(node) ?? false;
      this.monitors.set(
        node.id,
        new ServiceMonitor(this, node.id, {
          metadata: { name: node.id, namespace: props.namespace, labels: { ...recommendedLabels({ name: node.id, component: "monitoring" }), ...props.selectorLabels } },
          spec: {
            namespaceSelector: { matchNames: [node.namespace!] },
            selector: { matchLabels: match },
            endpoints: plan.ports.map((p) => ({
              port: p.name,
              path: "/metrics",
              interval: props.interval,
              relabelings,
              ...(meshed && !isProxyPort(p.targetPort ?? p.port)
                ? {
                    scheme: ServiceMonitorSpecEndpointsScheme.HTTPS,
                    // Istio's documented scrape setup: the workload certificate proves Prometheus' identity to the
                    // target's sidecar; server names are SPIFFE ids, which Prometheus cannot verify by host name
                    tlsConfig: { caFile: `${MESH_CERT_DIR}/root-cert.pem`, certFile: `${MESH_CERT_DIR}/cert-chain.pem`, keyFile: `${MESH_CERT_DIR}/key.pem`, insecureSkipVerify: true },
                  }
                : { scheme: ServiceMonitorSpecEndpointsScheme.HTTP }),
            })),
          },
        }),
      );
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
