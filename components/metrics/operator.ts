import type { Resources } from "../../stacks/environments/environment";

/** The prometheus-operator release Stratum's custom resources are validated against. */
export const PROMETHEUS_OPERATOR_VERSION = "v0.76.2";

/**
 * kube-prometheus-stack chart, used for the operator (and its CRDs) only. The 62.x line carries operator 0.76.x; the
 * operator and config-reloader image tags are pinned to `PROMETHEUS_OPERATOR_VERSION` explicitly, so the running
 * operator is exactly the one whose CRDs the output is validated against.
 */
export const KUBE_PROMETHEUS_STACK_CHART = {
  repoURL: "https://prometheus-community.github.io/helm-charts",
  chart: "kube-prometheus-stack",
  version: "62.7.0",
} as const;

/** Name prefix of the chart's objects (`fullnameOverride`), so object names and labels are stable. */
export const OPERATOR_FULLNAME = "kube-prometheus";

/** Image reference as the chart takes it. */
export interface ChartImage {
  readonly registry: string;
  readonly repository: string;
  readonly tag: string;
}

/** The kube-prometheus-stack values Stratum sets (a typed subset: the operator only, nothing else of the stack). */
export interface OperatorChartValues {
  readonly fullnameOverride: string;
  readonly crds: { readonly enabled: boolean };
  readonly defaultRules: { readonly create: boolean };
  readonly alertmanager: { readonly enabled: false };
  readonly grafana: { readonly enabled: false };
  readonly prometheus: { readonly enabled: false };
  readonly kubeStateMetrics: { readonly enabled: false };
  readonly nodeExporter: { readonly enabled: false };
  readonly kubeApiServer: { readonly enabled: false };
  readonly kubelet: { readonly enabled: false };
  readonly kubeControllerManager: { readonly enabled: false };
  readonly coreDns: { readonly enabled: false };
  readonly kubeDns: { readonly enabled: false };
  readonly kubeEtcd: { readonly enabled: false };
  readonly kubeScheduler: { readonly enabled: false };
  readonly kubeProxy: { readonly enabled: false };
  readonly prometheusOperator: {
    readonly enabled: true;
    readonly image: ChartImage;
    readonly prometheusConfigReloader: { readonly image: ChartImage; readonly resources: ChartResources };
    readonly admissionWebhooks: { readonly enabled: boolean };
    readonly tls: { readonly enabled: boolean };
    readonly kubeletService: { readonly enabled: boolean; readonly namespace: string };
    readonly serviceMonitor: { readonly selfMonitor: boolean };
    readonly resources: ChartResources;
    readonly securityContext: Record<string, unknown>;
    readonly containerSecurityContext: Record<string, unknown>;
  };
}

/** Requests and limits as charts take them. */
export interface ChartResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** Resources as plain chart values. */
export function chartResources(r: Resources): ChartResources {
  return { requests: { ...r.requests }, limits: { ...r.limits } };
}

/** Pod security settings that satisfy Pod Security `restricted`, for charts. */
export const RESTRICTED_POD = { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } };
/** Container security settings that satisfy Pod Security `restricted`, for charts. */
export const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };

/**
 * Values of the operator add-on: the operator, its CRDs and the kubelet Service it maintains; no Prometheus,
 * Alertmanager, Grafana, exporters or default rules (Stratum brings its own, typed). Admission webhooks are off:
 * rules are checked before they reach the cluster (promtool in the tests).
 */
export function operatorValues(resources: Resources): OperatorChartValues {
  const off = { enabled: false } as const;
  return {
    fullnameOverride: OPERATOR_FULLNAME,
    crds: { enabled: true },
    defaultRules: { create: false },
    alertmanager: off,
    grafana: off,
    prometheus: off,
    kubeStateMetrics: off,
    nodeExporter: off,
    kubeApiServer: off,
    kubelet: off,
    kubeControllerManager: off,
    coreDns: off,
    kubeDns: off,
    kubeEtcd: off,
    kubeScheduler: off,
    kubeProxy: off,
    prometheusOperator: {
      enabled: true,
      image: { registry: "quay.io", repository: "prometheus-operator/prometheus-operator", tag: PROMETHEUS_OPERATOR_VERSION },
      prometheusConfigReloader: {
        image: { registry: "quay.io", repository: "prometheus-operator/prometheus-config-reloader", tag: PROMETHEUS_OPERATOR_VERSION },
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
      },
      admissionWebhooks: { enabled: false },
      tls: { enabled: false },
      kubeletService: { enabled: true, namespace: "kube-system" },
      serviceMonitor: { selfMonitor: false },
      resources: chartResources(resources),
      securityContext: RESTRICTED_POD,
      containerSecurityContext: RESTRICTED_CONTAINER,
    },
  };
}

/** Labels of the operator's pods (the chart's `app` and `release` labels). */
export function operatorPodSelector(release: string): Record<string, string> {
  return { app: "kube-prometheus-stack-operator", release };
}
