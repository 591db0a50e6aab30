import { JsonPatch } from "cdk8s";
import { Construct } from "constructs";
import * as k8s from "../../constructs/imports/k8s";
import {
  Prometheus,
  PrometheusSpecAlertingAlertmanagersPort,
  PrometheusSpecResourcesLimits,
  PrometheusSpecResourcesRequests,
  PrometheusSpecStorageVolumeClaimTemplateSpecResourcesRequests,
} from "../../constructs/imports/monitoring-prometheus-monitoring.coreos.com";
import { recommendedLabels, SUPPRESS_ANNOTATION } from "../../constructs/labels";
import type { SpreadMode, StatefulSizing } from "../../stacks/environments/environment";
import { clusterScoped } from "../../constructs/cluster-scoped";

/** Prometheus release the operator runs (the one kube-prometheus release-0.14 pairs with operator v0.76.2). */
export const PROMETHEUS_VERSION = "v2.54.1";

/** Props of Stratum's Prometheus. */
export interface StratumPrometheusProps {
  /** Object name; pods are `prometheus-<name>-N`. */
  readonly name: string;
  /** Namespace (also where monitors and rules are read from). */
  readonly namespace: string;
  /** Replicas, resources, volume size and retention. */
  readonly sizing: StatefulSizing;
  /** Spread of replicas across nodes and zones. */
  readonly spread: { readonly node: SpreadMode; readonly zone: SpreadMode };
  /** Labels a ServiceMonitor, PodMonitor or PrometheusRule needs to be picked up. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** External labels on every series and alert (e.g. `cluster`). */
  readonly externalLabels: Readonly<Record<string, string>>;
  /** The Alertmanager Service to send alerts to. */
  readonly alertmanager: { readonly service: string; readonly port: string };
  /** Scrape and rule evaluation interval. @default "30s" */
  readonly interval?: string;
}

/**
 * Stratum's own Prometheus: a `Prometheus` custom resource (replicas and retention by tier, persistent storage, label
 * selectors for monitors and rules), its ServiceAccount and read-only discovery RBAC, a ClusterIP Service for Grafana,
 * and a PodDisruptionBudget when it runs more than one replica.
 */
export class StratumPrometheus extends Construct {
  /** Labels of its pods. */
  readonly podSelector: Record<string, string>;
  /** ServiceAccount of its pods. */
  readonly serviceAccountName: string;
  /** Its Service (ClusterIP, port `http-web` 9090). */
  readonly serviceName: string;
  /** Web and API port. */
  readonly port = 9090;
  /** The custom resource. */
  readonly resource: Prometheus;

  constructor(scope: Construct, id: string, props: StratumPrometheusProps) {
    super(scope, id);
    const s = props.sizing;
    if (!Number.isInteger(s.replicas) || s.replicas < 1) throw new Error(`${this.node.path}: sizing.replicas must be an integer >= 1 (got ${s.replicas})`);
    if (!/^[0-9]+(ms|s|m|h|d|w|y)$/.test(s.retention)) throw new Error(`${this.node.path}: sizing.retention must be a duration such as 15d (got ${JSON.stringify(s.retention)})`);
    const name = props.name;
    const ns = props.namespace;
    const labels = recommendedLabels({ name: "prometheus", instance: name, component: "metrics", version: PROMETHEUS_VERSION });
    this.podSelector = { "app.kubernetes.io/name": "prometheus", prometheus: name };
    this.serviceAccountName = `prometheus-${name}`;
    this.serviceName = `prometheus-${name}`;
    const reason = "Prometheus discovers its scrape targets (services, endpoints, pods) through the Kubernetes API";

    new k8s.KubeServiceAccount(this, "ServiceAccount", {
      metadata: {
        name: this.serviceAccountName,
        namespace: ns,
        labels,
        annotations: { [SUPPRESS_ANNOTATION]: `sa-token-automount: ${reason}`, "stratum.dev/relaxed": `automountServiceAccountToken: ${reason}` },
      },
      automountServiceAccountToken: true,
    });
    const role = clusterScoped(new k8s.KubeClusterRole(this, "ClusterRole", {
      metadata: { name: `stratum-prometheus-${name}`, labels },
      rules: [
        { apiGroups: [""], resources: ["services", "endpoints", "pods", "nodes", "nodes/metrics"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
        { nonResourceUrLs: ["/metrics", "/metrics/cadvisor"], verbs: ["get"] },
      ],
    }));
    clusterScoped(new k8s.KubeClusterRoleBinding(this, "ClusterRoleBinding", {
      metadata: { name: `stratum-prometheus-${name}`, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.name },
      subjects: [{ kind: "ServiceAccount", name: this.serviceAccountName, namespace: ns }],
    }));

    const spread = (key: string, mode: SpreadMode) => ({
      maxSkew: 1,
      topologyKey: key,
      whenUnsatisfiable: mode === "hard" ? "DoNotSchedule" : "ScheduleAnyway",
      labelSelector: { matchLabels: { ...this.podSelector } },
    });
    const nsSelector = { matchLabels: { "kubernetes.io/metadata.name": ns } };
    const selector = { matchLabels: { ...props.selectorLabels } };
    const interval = props.interval ?? "30s";
    this.resource = new Prometheus(this, "Resource", {
      metadata: { name, namespace: ns, labels },
      spec: {
        replicas: s.replicas,
        version: PROMETHEUS_VERSION,
        image: `quay.io/prometheus/prometheus:${PROMETHEUS_VERSION}`,
        retention: s.retention,
        serviceAccountName: this.serviceAccountName,
        automountServiceAccountToken: true,
        podMetadata: { labels: recommendedLabels({ name: "prometheus", instance: name, component: "metrics", version: PROMETHEUS_VERSION }) },
        externalLabels: { ...props.externalLabels },
        scrapeInterval: interval,
        evaluationInterval: interval,
        serviceMonitorSelector: selector,
        serviceMonitorNamespaceSelector: nsSelector,
        podMonitorSelector: selector,
        podMonitorNamespaceSelector: nsSelector,
        ruleSelector: selector,
        ruleNamespaceSelector: nsSelector,
        probeSelector: selector,
        probeNamespaceSelector: nsSelector,
        scrapeConfigSelector: selector,
        scrapeConfigNamespaceSelector: nsSelector,
        enableAdminApi: false,
        walCompression: true,
        alerting: {
          alertmanagers: [{ namespace: ns, name: props.alertmanager.service, port: PrometheusSpecAlertingAlertmanagersPort.fromString(props.alertmanager.port), apiVersion: "v2" }],
        },
        resources: {
          requests: { cpu: PrometheusSpecResourcesRequests.fromString(s.resources.requests.cpu), memory: PrometheusSpecResourcesRequests.fromString(s.resources.requests.memory) },
          limits: { cpu: PrometheusSpecResourcesLimits.fromString(s.resources.limits.cpu), memory: PrometheusSpecResourcesLimits.fromString(s.resources.limits.memory) },
        },
        storage: {
          volumeClaimTemplate: {
            metadata: { name: "data" },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: PrometheusSpecStorageVolumeClaimTemplateSpecResourcesRequests.fromString(s.storage) } } },
          },
        },
        securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
        topologySpreadConstraints: [spread("kubernetes.io/hostname", props.spread.node), spread("topology.kubernetes.io/zone", props.spread.zone)],
      },
    });

    new k8s.KubeService(this, "Service", {
      metadata: { name: this.serviceName, namespace: ns, labels },
      spec: {
        type: "ClusterIP",
        selector: { ...this.podSelector },
        ports: [{ name: "http-web", port: this.port, targetPort: k8s.IntOrString.fromString("web"), appProtocol: "http" }],
      },
    });
    if (s.replicas > 1) {
      new k8s.KubePodDisruptionBudget(this, "Pdb", {
        metadata: { name: `prometheus-${name}`, namespace: ns, labels },
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: { ...this.podSelector } } },
      });
    }
  }

  /**
   * Joins the mesh the way Istio documents for Prometheus: the sidecar intercepts inbound traffic only (Grafana's calls
   * arrive over mTLS) and writes the workload certificate to a shared in-memory volume, mounted at `certDir`, which
   * Prometheus presents when it scrapes meshed targets and sends alerts to a meshed Alertmanager.
   */
  joinMesh(certDir: string): void {
    const r = this.resource;
    r.addJsonPatch(
      JsonPatch.add("/spec/podMetadata/annotations", {
        "traffic.sidecar.istio.io/includeOutboundIPRanges": "",
        "proxy.istio.io/config": "proxyMetadata:\n  OUTPUT_CERTS: /etc/istio-output-certs\n",
        "sidecar.istio.io/userVolumeMount": JSON.stringify([{ name: "istio-certs", mountPath: "/etc/istio-output-certs" }]),
      }),
      JsonPatch.add("/spec/volumes", [{ name: "istio-certs", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } }]),
      JsonPatch.add("/spec/volumeMounts", [{ name: "istio-certs", mountPath: certDir, readOnly: true }]),
      JsonPatch.add("/spec/alerting/alertmanagers/0/scheme", "https"),
      JsonPatch.add("/spec/alerting/alertmanagers/0/tlsConfig", {
        caFile: `${certDir}/root-cert.pem`,
        certFile: `${certDir}/cert-chain.pem`,
        keyFile: `${certDir}/key.pem`,
        insecureSkipVerify: true,
      }),
    );
  }

  /** In-cluster URL of its API (Grafana's datasource). */
  get url(): string {
    const ns = this.resource.metadata.namespace;
    return `http://${this.serviceName}.${ns}.svc.cluster.local:${this.port}`;
  }
}
