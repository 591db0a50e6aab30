import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { ephemeralStorage } from "../../constructs/ephemeral-storage";
import { restrictedContainerSecurityContext } from "../../constructs/hardened-workload";
import * as k8s from "../../constructs/imports/k8s";
import { recommendedLabels, selectorLabels } from "../../constructs/labels";
import { NODE_BASE_IMAGE, NODE_UID } from "../../constructs/runtime-asset";
import { SecretKeyRef } from "../../constructs/secret-ref";
import { dataViewsProgram, DataViewsConfig } from "./data-views-script";

/** Size limit of the job's `/tmp`. */
const TMP_SIZE = "16Mi";

/** Where Kibana answers and how the Job gets in. */
export interface KibanaTarget {
  /** Graph node id of Kibana. */
  readonly graphNode: string;
  /** Namespace of Kibana (the Job runs there, next to the secrets it needs). */
  readonly namespace: string;
  /** `https://host:port` of Kibana. */
  readonly url: string;
  /** The CA of Kibana's HTTP certificate. */
  readonly caCertificate: SecretKeyRef;
  /** User name and password reference of a user allowed to manage data views. */
  readonly username: string;
  readonly password: SecretKeyRef;
}

/** Props of the data views Job. */
export interface KibanaDataViewsJobProps {
  /** Name of the Job's ServiceAccount and prefix of its Job and ConfigMap. @default "kibana-data-views" */
  readonly name?: string;
  /** Kibana. */
  readonly kibana: KibanaTarget;
  /** What to create. */
  readonly config: DataViewsConfig;
}

/**
 * Creates Kibana's data views with a thin Node program from a ConfigMap in the pinned Node base image, hardened like
 * every Stratum workload (restricted, no ServiceAccount token, no mesh sidecar so that the Job can finish). Its name
 * carries the hash of program and configuration: a change runs a new Job; an unchanged one never re-runs, and a rerun
 * replaces the same data views (fixed ids), so it is idempotent.
 */
export class KibanaDataViewsJob extends Construct {
  /** Name of the Job's ServiceAccount (its graph node's too). */
  readonly name: string;
  /** Labels that select the Job's pods. */
  readonly selector: Record<string, string>;
  /** Content hash (first 10 hex digits). */
  readonly hash: string;
  /** The Job. */
  readonly job: k8s.KubeJob;

  constructor(scope: Construct, id: string, props: KibanaDataViewsJobProps) {
    super(scope, id);
    const problems: string[] = [];
    if (!/^https:\/\/[^\s/]+:\d+$/.test(props.kibana.url)) problems.push(`kibana.url must be https://host:port (got ${JSON.stringify(props.kibana.url)})`);
    if (props.config.dataViews.length === 0) problems.push("config.dataViews must not be empty");
    if (!props.config.dataViews.some((d) => d.id === props.config.defaultId)) problems.push(`config.defaultId '${props.config.defaultId}' is not one of the data views (${props.config.dataViews.map((d) => d.id).join(", ")})`);
    if (new Set(props.config.dataViews.map((d) => d.id)).size !== props.config.dataViews.length) problems.push("data view ids must be unique");
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);

    const name = props.name ?? "kibana-data-views";
    this.name = name;
    const program = dataViewsProgram();
    const config = JSON.stringify(props.config, null, 2);
    this.hash = createHash("sha256").update(program).update(config).update(JSON.stringify(props.kibana)).digest("hex").slice(0, 10);
    const labels = recommendedLabels({ name, component: "logging" });
    this.selector = selectorLabels({ name });
    const ns = props.kibana.namespace;
    const resourceName = `${name}-${this.hash}`;
    new k8s.KubeServiceAccount(this, "ServiceAccount", { metadata: { name, namespace: ns, labels }, automountServiceAccountToken: false });
    new k8s.KubeConfigMap(this, "Program", {
      metadata: { name: resourceName, namespace: ns, labels },
      immutable: true,
      data: { "main.js": program, "config.json": config },
    });
    this.job = new k8s.KubeJob(this, "Job", {
      metadata: { name: resourceName, namespace: ns, labels },
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: props.config.deadlineSeconds * 3,
        template: {
          metadata: { labels: { ...labels, ...this.selector }, annotations: { "sidecar.istio.io/inject": "false" } },
          spec: {
            restartPolicy: "Never",
            serviceAccountName: name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, runAsUser: NODE_UID, runAsGroup: NODE_UID, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "data-views",
                image: NODE_BASE_IMAGE,
                imagePullPolicy: "IfNotPresent",
                command: ["node", "/opt/data-views/main.js"],
                env: [
                  { name: "KIBANA_URL", value: props.kibana.url },
                  { name: "KIBANA_USERNAME", value: props.kibana.username },
                  { name: "KIBANA_PASSWORD", valueFrom: { secretKeyRef: { name: props.kibana.password.name, key: props.kibana.password.key } } },
                  { name: "KIBANA_CA_FILE", value: "/etc/kibana-ca/ca.crt" },
                  { name: "DATA_VIEWS_CONFIG", value: "/opt/data-views/config.json" },
                ],
                resources: {
                  requests: { "cpu": k8s.Quantity.fromString("20m"), "memory": k8s.Quantity.fromString("64Mi"), "ephemeral-storage": ephemeralStorage([TMP_SIZE]) },
                  limits: { "cpu": k8s.Quantity.fromString("200m"), "memory": k8s.Quantity.fromString("128Mi"), "ephemeral-storage": ephemeralStorage([TMP_SIZE]) },
                },
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [
                  { name: "program", mountPath: "/opt/data-views", readOnly: true },
                  { name: "ca", mountPath: "/etc/kibana-ca", readOnly: true },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "program", configMap: { name: resourceName } },
              { name: "ca", secret: { secretName: props.kibana.caCertificate.name, items: [{ key: props.kibana.caCertificate.key, path: "ca.crt" }] } },
              { name: "tmp", emptyDir: { sizeLimit: k8s.Quantity.fromString(TMP_SIZE) } },
            ],
          },
        },
      },
    });
  }
}
