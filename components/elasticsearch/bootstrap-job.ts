import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { ephemeralStorage } from "../../constructs/ephemeral-storage";
import { restrictedContainerSecurityContext } from "../../constructs/hardened-workload";
import * as k8s from "../../constructs/imports/k8s";
import { recommendedLabels, selectorLabels } from "../../constructs/labels";
import { NODE_BASE_IMAGE, NODE_UID } from "../../constructs/runtime-asset";
import { SecretKeyRef } from "../../constructs/secret-ref";
import { BootstrapConfig, bootstrapProgram } from "./bootstrap-script";
import { NO_SIDECAR } from "./operator";

/** Size limit of the job's `/tmp`. */
const TMP_SIZE = "16Mi";

/** Props of the bootstrap Job. */
export interface BootstrapJobProps {
  /** Name of the Job's ServiceAccount and prefix of its Job and ConfigMap. */
  readonly name: string;
  /** Namespace (Elasticsearch's). */
  readonly namespace: string;
  /** `https://host:port` of Elasticsearch. */
  readonly url: string;
  /** The `elastic` user's password (created by ECK). */
  readonly admin: SecretKeyRef;
  /** The CA of the HTTP certificate. */
  readonly ca: SecretKeyRef;
  /** What to apply. */
  readonly config: BootstrapConfig;
  /** Passwords of the users it creates, by environment variable. */
  readonly passwords: Readonly<Record<string, SecretKeyRef>>;
}

/**
 * Applies the index lifecycle (roles, users, ILM policies, templates, snapshot repository and policy) with a thin
 * Node program from a ConfigMap in the pinned Node base image, hardened like every Stratum workload. Its name carries
 * the hash of program and configuration, so a change runs a new Job and an unchanged one is never re-run.
 */
export class BootstrapJob extends Construct {
  /** The Job. */
  readonly job: k8s.KubeJob;
  /** Content hash (first 10 hex digits). */
  readonly hash: string;
  /** The program's source. */
  readonly program: string;

  constructor(scope: Construct, id: string, props: BootstrapJobProps) {
    super(scope, id);
    this.program = bootstrapProgram();
    const config = JSON.stringify(props.config, null, 2);
    this.hash = createHash("sha256").update(this.program).update(config).update(JSON.stringify(props.passwords)).digest("hex").slice(0, 10);
    const labels = recommendedLabels({ name: props.name, component: "search-bootstrap" });
    const meta = { namespace: props.namespace, labels };
    const resourceName = `${props.name}-${this.hash}`;
    new k8s.KubeServiceAccount(this, "ServiceAccount", { metadata: { name: props.name, ...meta }, automountServiceAccountToken: false });
    new k8s.KubeConfigMap(this, "Config", {
      metadata: { name: resourceName, ...meta },
      immutable: true,
      data: { "main.js": this.program, "config.json": config },
    });
    const env: k8s.EnvVar[] = [
      { name: "ES_URL", value: props.url },
      { name: "ES_USERNAME", value: "elastic" },
      { name: "ES_PASSWORD", valueFrom: { secretKeyRef: { name: props.admin.name, key: props.admin.key } } },
      { name: "ES_CA_FILE", value: "/etc/elasticsearch-ca/ca.crt" },
      { name: "BOOTSTRAP_CONFIG", value: "/opt/bootstrap/config.json" },
      ...Object.keys(props.passwords).sort().map((name) => ({ name, valueFrom: { secretKeyRef: { name: props.passwords[name].name, key: props.passwords[name].key } } })),
    ];
    this.job = new k8s.KubeJob(this, "Job", {
      metadata: { name: resourceName, ...meta },
      spec: {
        backoffLimit: 10,
        template: {
          metadata: { labels: { ...labels, ...selectorLabels({ name: props.name }) }, annotations: { ...NO_SIDECAR } },
          spec: {
            restartPolicy: "Never",
            serviceAccountName: props.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, runAsUser: NODE_UID, runAsGroup: NODE_UID, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "bootstrap",
                image: NODE_BASE_IMAGE,
                imagePullPolicy: "IfNotPresent",
                command: ["node", "/opt/bootstrap/main.js"],
                env,
                resources: {
                  requests: { "cpu": k8s.Quantity.fromString("20m"), "memory": k8s.Quantity.fromString("64Mi"), "ephemeral-storage": ephemeralStorage([TMP_SIZE]) },
                  limits: { "cpu": k8s.Quantity.fromString("200m"), "memory": k8s.Quantity.fromString("128Mi"), "ephemeral-storage": ephemeralStorage([TMP_SIZE]) },
                },
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [
                  { name: "program", mountPath: "/opt/bootstrap", readOnly: true },
                  { name: "ca", mountPath: "/etc/elasticsearch-ca", readOnly: true },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "program", configMap: { name: resourceName } },
              { name: "ca", secret: { secretName: props.ca.name, items: [{ key: props.ca.key, path: "ca.crt" }] } },
              { name: "tmp", emptyDir: { sizeLimit: k8s.Quantity.fromString(TMP_SIZE) } },
            ],
          },
        },
      },
    });
  }
}
