import { Construct } from "constructs";
import * as k8s from "../../constructs/imports/k8s";
import {
  Alertmanager,
  AlertmanagerSpecResourcesLimits,
  AlertmanagerSpecResourcesRequests,
  AlertmanagerSpecStorageVolumeClaimTemplateSpecResourcesRequests,
} from "../../constructs/imports/monitoring-alertmanager-monitoring.coreos.com";
import { AlertmanagerConfig } from "../../constructs/imports/monitoring-alertmanagerconfig-monitoring.coreos.com";
import { recommendedLabels } from "../../constructs/labels";
import type { SecretKeyRef } from "../../constructs/secret-ref";
import type { SpreadMode, StatefulSizing } from "../../stacks/environments/environment";
import { AlertRoutingModel, SmtpSettings } from "./routing/alert-routing";
import { toAlertmanagerConfigSpec } from "./routing/render";

/** Alertmanager release the operator runs (paired with operator v0.76.2 in kube-prometheus release-0.14). */
export const ALERTMANAGER_VERSION = "v0.27.0";

/** Alertmanager's cluster (gossip) port, TCP and UDP. */
export const ALERTMANAGER_MESH_PORT = 9094;

/** Converts a day/week duration to hours, since Alertmanager only reads Go durations (`5d` -> `120h`). */
export function toGoDuration(value: string): string {
  const m = /^([0-9]+)(ms|s|m|h|d|w|y)$/.exec(value);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(value)}`);
  const n = Number(m[1]);
  const hours: Record<string, number> = { d: 24, w: 168, y: 8760 };
  return hours[m[2]] ? `${n * hours[m[2]]}h` : value;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

/** Props of Stratum's Alertmanager. */
export interface StratumAlertmanagerProps {
  /** Object name. */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /** Replicas (3 for a highly available cluster), resources, volume size and retention of silences and notifications. */
  readonly sizing: StatefulSizing;
  /** Spread of replicas across nodes and zones. */
  readonly spread: { readonly node: SpreadMode; readonly zone: SpreadMode };
  /** External URL (links in notifications). */
  readonly externalUrl: string;
  /** Settings every receiver shares: the SMTP relay and the Slack webhook, by Secret reference. */
  readonly global: { readonly smtp: SmtpSettings; readonly slackApiUrl: SecretKeyRef; readonly resolveTimeout: string };
}

/**
 * Stratum's Alertmanager: an `Alertmanager` custom resource (a gossiping cluster when it has more than one replica),
 * its ServiceAccount (no API token), a ClusterIP Service for Prometheus, a PodDisruptionBudget when highly available,
 * and its whole configuration as one `AlertmanagerConfig` that credentials reach only by Secret reference.
 */
export class StratumAlertmanager extends Construct {
  /** Labels of its pods. */
  readonly podSelector: Record<string, string>;
  /** ServiceAccount of its pods. */
  readonly serviceAccountName: string;
  /** Its Service. */
  readonly serviceName: string;
  /** Name of its web port on the Service. */
  readonly portName = "http-web";
  /** Web and API port. */
  readonly port = 9093;
  /** The custom resource. */
  readonly resource: Alertmanager;
  /** Name of the AlertmanagerConfig that is its global configuration. */
  readonly configName: string;
  /** Settings every receiver shares. */
  readonly global: StratumAlertmanagerProps["global"];
  private readonly props: StratumAlertmanagerProps;

  constructor(scope: Construct, id: string, props: StratumAlertmanagerProps) {
    super(scope, id);
    const s = props.sizing;
    if (!Number.isInteger(s.replicas) || s.replicas < 1) throw new Error(`${this.node.path}: sizing.replicas must be an integer >= 1 (got ${s.replicas})`);
    let retention: string;
    try {
      retention = toGoDuration(s.retention);
    } catch {
      throw new Error(`${this.node.path}: sizing.retention must be a duration such as 120h or 5d (got ${JSON.stringify(s.retention)})`);
    }
    const smtp = /^([^:\s]+):(\d+)$/.exec(props.global.smtp.smarthost);
    if (!smtp) throw new Error(`${this.node.path}: global.smtp.smarthost must be host:port (got ${JSON.stringify(props.global.smtp.smarthost)})`);
    const [, smtpHost, smtpPort] = smtp;
    const g = props.global;
    this.props = props;
    this.configName = `${props.name}-routing`;
    this.global = props.global;
    const name = props.name;
    const ns = props.namespace;
    const labels = recommendedLabels({ name: "alertmanager", instance: name, component: "alerting", version: ALERTMANAGER_VERSION });
    this.podSelector = { "app.kubernetes.io/name": "alertmanager", alertmanager: name };
    this.serviceAccountName = `alertmanager-${name}`;
    this.serviceName = `alertmanager-${name}`;

    new k8s.KubeServiceAccount(this, "ServiceAccount", {
      metadata: { name: this.serviceAccountName, namespace: ns, labels },
      automountServiceAccountToken: false,
    });
    const spread = (key: string, mode: SpreadMode) => ({
      maxSkew: 1,
      topologyKey: key,
      whenUnsatisfiable: mode === "hard" ? "DoNotSchedule" : "ScheduleAnyway",
      labelSelector: { matchLabels: { ...this.podSelector } },
    });
    this.resource = new Alertmanager(this, "Resource", {
      metadata: { name, namespace: ns, labels },
      spec: {
        replicas: s.replicas,
        version: ALERTMANAGER_VERSION,
        image: `quay.io/prometheus/alertmanager:${ALERTMANAGER_VERSION}`,
        retention,
        serviceAccountName: this.serviceAccountName,
        automountServiceAccountToken: false,
        externalUrl: props.externalUrl,
        podMetadata: { labels: recommendedLabels({ name: "alertmanager", instance: name, component: "alerting", version: ALERTMANAGER_VERSION }) },
        alertmanagerConfiguration: {
          name: this.configName,
          global: {
            resolveTimeout: g.resolveTimeout,
            slackApiUrl: { name: g.slackApiUrl.name, key: g.slackApiUrl.key },
            smtp: {
              from: g.smtp.from,
              smartHost: { host: smtpHost, port: smtpPort },
              authUsername: g.smtp.username,
              authPassword: { name: g.smtp.password.name, key: g.smtp.password.key },
              requireTls: true,
            },
          },
        },
        // only the platform's own configuration: other namespaces cannot add receivers
        alertmanagerConfigSelector: { matchLabels: { "stratum.dev/alertmanager": name } },
        alertmanagerConfigNamespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
        resources: {
          requests: { cpu: AlertmanagerSpecResourcesRequests.fromString(s.resources.requests.cpu), memory: AlertmanagerSpecResourcesRequests.fromString(s.resources.requests.memory) },
          limits: { cpu: AlertmanagerSpecResourcesLimits.fromString(s.resources.limits.cpu), memory: AlertmanagerSpecResourcesLimits.fromString(s.resources.limits.memory) },
        },
        storage: {
          volumeClaimTemplate: {
            metadata: { name: "data" },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: AlertmanagerSpecStorageVolumeClaimTemplateSpecResourcesRequests.fromString(s.storage) } } },
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
        ports: [{ name: this.portName, port: this.port, targetPort: k8s.IntOrString.fromString("web"), appProtocol: "http" }],
      },
    });
    if (s.replicas > 1) {
      new k8s.KubePodDisruptionBudget(this, "Pdb", {
        metadata: { name: `alertmanager-${name}`, namespace: ns, labels },
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: { ...this.podSelector } } },
      });
    }
  }

  /** True when it runs as a gossiping cluster. */
  get highlyAvailable(): boolean {
    return this.props.sizing.replicas > 1;
  }

  /**
   * Sets the whole configuration: an AlertmanagerConfig with the routing tree, receivers and inhibit rules, made the
   * global configuration of this Alertmanager (its `global` settings must be the ones given at construction).
   */
  configure(model: AlertRoutingModel): AlertmanagerConfig {
    if (canonical(model.global) !== canonical(this.props.global)) {
      throw new Error(`${this.node.path}: the routing's global settings differ from the Alertmanager's`);
    }
    return new AlertmanagerConfig(this, "Config", {
      metadata: {
        name: this.configName,
        namespace: this.props.namespace,
        labels: { ...recommendedLabels({ name: "alertmanager", instance: this.configName, component: "alerting" }), "stratum.dev/alertmanager": this.props.name },
      },
      spec: toAlertmanagerConfigSpec(model) as any,
    });
  }
}
