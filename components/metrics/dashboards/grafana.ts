import { Construct } from "constructs";
import { HelmAddon } from "../../../constructs/helm-addon";
import * as k8s from "../../../constructs/imports/k8s";
import { recommendedLabels } from "../../../constructs/labels";
import type { SecretKeyRef } from "../../../constructs/secret-ref";
import type { WorkloadSizing } from "../../../stacks/environments/environment";
import { chartResources, RESTRICTED_CONTAINER } from "../operator";
import { Dashboard, DATASOURCES } from "./dashboard";

/** grafana/grafana chart; the Grafana and sidecar images are pinned explicitly, whatever the chart's defaults. */
export const GRAFANA_CHART = { repoURL: "https://grafana.github.io/helm-charts", chart: "grafana", version: "8.5.1" } as const;
/** Grafana release. */
export const GRAFANA_VERSION = "11.2.0";
/** The sidecar that loads dashboards from labelled ConfigMaps. */
export const DASHBOARD_SIDECAR_IMAGE = { registry: "quay.io", repository: "kiwigrid/k8s-sidecar", tag: "1.27.4" } as const;
/** Label (and value) the sidecar loads dashboard ConfigMaps by. */
export const DASHBOARD_LABEL = { key: "grafana_dashboard", value: "1" } as const;

/** A provisioned datasource, as Grafana's provisioning file takes it. */
export interface GrafanaDatasource {
  readonly name: string;
  readonly uid: string;
  readonly type: string;
  readonly access: "proxy";
  readonly url: string;
  readonly isDefault?: boolean;
  readonly editable: false;
  readonly basicAuth?: boolean;
  readonly basicAuthUser?: string;
  readonly jsonData?: Record<string, unknown>;
  readonly secureJsonData?: Record<string, string>;
}

/** Elasticsearch as a datasource: where it answers and the credentials Grafana reads it with. */
export interface ElasticsearchSource {
  /** `https://host:port`. */
  readonly url: string;
  /** Index pattern of the logs. */
  readonly index: string;
  /** Read user and password, by reference (in Grafana's namespace). */
  readonly username: SecretKeyRef;
  readonly password: SecretKeyRef;
  /** The cluster's HTTP CA certificate (PEM), by reference (in Grafana's namespace). */
  readonly ca: SecretKeyRef;
}

/** Props of Grafana. */
export interface GrafanaProps {
  /** Namespace (where dashboard ConfigMaps live too). */
  readonly namespace: string;
  /** Replicas and resources. */
  readonly sizing: WorkloadSizing;
  /** ArgoCD project. */
  readonly project: string;
  /** ArgoCD sync wave. */
  readonly syncWave: number;
  /** Public URL. */
  readonly rootUrl: string;
  /** Admin user and password, by reference (`admin-user`, `admin-password`). */
  readonly admin: { readonly user: SecretKeyRef; readonly password: SecretKeyRef };
  /** Prometheus API URL. */
  readonly prometheusUrl: string;
  /** Jaeger query URL. @default no Jaeger datasource */
  readonly jaegerUrl?: string;
  /** Elasticsearch. @default no Elasticsearch datasource */
  readonly elasticsearch?: ElasticsearchSource;
  /** The dashboards, one ConfigMap each. */
  readonly dashboards: ReadonlyArray<Dashboard>;
}

const ES_MOUNT = "/etc/grafana/elasticsearch";

/** The datasources Grafana is provisioned with: Prometheus always, Jaeger and Elasticsearch when present. */
export function grafanaDatasources(props: Pick<GrafanaProps, "prometheusUrl" | "jaegerUrl" | "elasticsearch">): GrafanaDatasource[] {
  const out: GrafanaDatasource[] = [
    {
      name: "Prometheus",
      ...DATASOURCES.prometheus,
      access: "proxy",
      url: props.prometheusUrl,
      isDefault: true,
      editable: false,
      jsonData: { timeInterval: "30s", httpMethod: "POST" },
    },
  ];
  if (props.jaegerUrl) out.push({ name: "Jaeger", ...DATASOURCES.jaeger, access: "proxy", url: props.jaegerUrl, editable: false });
  if (props.elasticsearch) {
    out.push({
      name: "Elasticsearch",
      ...DATASOURCES.elasticsearch,
      access: "proxy",
      url: props.elasticsearch.url,
      editable: false,
      basicAuth: true,
      // Grafana expands $__env{} and $__file{} in provisioning files: the values never appear in the output
      basicAuthUser: "$__env{ES_USERNAME}",
      jsonData: { index: props.elasticsearch.index, timeField: "@timestamp", tlsAuthWithCACert: true, logMessageField: "message", logLevelField: "level" },
      secureJsonData: { basicAuthPassword: "$__env{ES_PASSWORD}", tlsCACert: `$__file{${ES_MOUNT}/${props.elasticsearch.ca.key}}` },
    });
  }
  return out;
}

/**
 * Grafana through a HelmAddon: provisioned datasources (Prometheus, and Jaeger and Elasticsearch when the platform has
 * them), admin credentials from a Secret, no local state, restricted security context; and one ConfigMap per
 * dashboard, labelled for the dashboard sidecar.
 */
export class Grafana extends Construct {
  /** The add-on. */
  readonly addon: HelmAddon;
  /** The dashboard ConfigMaps by dashboard uid. */
  readonly configMaps = new Map<string, k8s.KubeConfigMap>();
  /** The provisioned datasources. */
  readonly datasources: GrafanaDatasource[];
  /** Labels of its pods. */
  readonly podSelector = { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana" };
  /** ServiceAccount of its pods. */
  readonly serviceAccountName = "grafana";

  constructor(scope: Construct, id: string, props: GrafanaProps) {
    super(scope, id);
    const uids = new Set<string>();
    for (const d of props.dashboards) {
      if (uids.has(d.uid)) throw new Error(`${this.node.path}: dashboard uid '${d.uid}' is used twice`);
      uids.add(d.uid);
    }
    this.datasources = grafanaDatasources(props);
    const es = props.elasticsearch;
    const values = {
      fullnameOverride: "grafana",
      replicas: props.sizing.replicas,
      image: { registry: "docker.io", repository: "grafana/grafana", tag: GRAFANA_VERSION },
      resources: chartResources(props.sizing.resources),
      admin: { existingSecret: props.admin.user.name, userKey: props.admin.user.key, passwordKey: props.admin.password.key },
      persistence: { enabled: false },
      initChownData: { enabled: false },
      testFramework: { enabled: false },
      rbac: { create: true, namespaced: true },
      serviceAccount: { create: true, name: this.serviceAccountName, automountServiceAccountToken: true },
      securityContext: { runAsNonRoot: true, runAsUser: 472, runAsGroup: 472, fsGroup: 472, seccompProfile: { type: "RuntimeDefault" } },
      containerSecurityContext: { ...RESTRICTED_CONTAINER, seccompProfile: { type: "RuntimeDefault" } },
      podDisruptionBudget: props.sizing.replicas > 1 ? { maxUnavailable: 1 } : undefined,
      service: { type: "ClusterIP", port: 80, targetPort: 3000, portName: "http-web" },
      "grafana.ini": {
        server: { root_url: props.rootUrl },
        analytics: { check_for_updates: false, reporting_enabled: false },
        users: { allow_sign_up: false },
        "auth.anonymous": { enabled: false },
        log: { mode: "console" },
      },
      datasources: { "datasources.yaml": { apiVersion: 1, datasources: this.datasources } },
      envValueFrom: es
        ? { ES_USERNAME: { secretKeyRef: { name: es.username.name, key: es.username.key } }, ES_PASSWORD: { secretKeyRef: { name: es.password.name, key: es.password.key } } }
        : undefined,
      extraSecretMounts: es ? [{ name: "elasticsearch-ca", secretName: es.ca.name, mountPath: ES_MOUNT, readOnly: true }] : undefined,
      sidecar: {
        image: DASHBOARD_SIDECAR_IMAGE,
        resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "100m", memory: "128Mi" } },
        securityContext: { ...RESTRICTED_CONTAINER, seccompProfile: { type: "RuntimeDefault" } },
        dashboards: {
          enabled: true,
          label: DASHBOARD_LABEL.key,
          labelValue: DASHBOARD_LABEL.value,
          searchNamespace: props.namespace,
          folderAnnotation: "grafana_folder",
          provider: { foldersFromFilesStructure: true, allowUiUpdates: false },
        },
      },
    };
    this.addon = new HelmAddon(this, "Addon", {
      release: "grafana",
      ...GRAFANA_CHART,
      namespace: props.namespace,
      values: JSON.parse(JSON.stringify(values)),
      syncWave: props.syncWave,
      project: props.project,
    });
    for (const d of props.dashboards) {
      const name = `grafana-dashboard-${d.uid}`.slice(0, 63).replace(/-+$/, "");
      this.configMaps.set(
        d.uid,
        new k8s.KubeConfigMap(this, `Dashboard-${d.uid}`, {
          metadata: {
            name,
            namespace: props.namespace,
            labels: { ...recommendedLabels({ name: "grafana", instance: name, component: "dashboard" }), [DASHBOARD_LABEL.key]: DASHBOARD_LABEL.value },
            annotations: { grafana_folder: "Stratum" },
          },
          data: { [`${d.uid}.json`]: JSON.stringify(d.toJson(), null, 2) },
        }),
      );
    }
  }
}
