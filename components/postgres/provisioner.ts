import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { ephemeralStorage } from "../../constructs/ephemeral-storage";
import { restrictedContainerSecurityContext } from "../../constructs/hardened-workload";
import { SYNC_WAVE } from "../../constructs/helm-addon";
import * as k8s from "../../constructs/imports/k8s";
import { recommendedLabels, selectorLabels } from "../../constructs/labels";
import { SecretKeyRef } from "../../constructs/secret-ref";
import { SyncWave } from "../component";
import { NO_SIDECAR } from "./cluster";

/** Size limit of the job's `/tmp`. */
const TMP_SIZE = "16Mi";

/** The login role that creates the consumers' databases: CREATEDB and a member of each owner role, nothing more. */
export const PROVISIONER_ROLE = "stratum_provisioner";
/** User id of `postgres` in the CloudNativePG operand images. */
export const POSTGRES_IMAGE_UID = 26;

/**
 * The shell program of the provisioning Job: waits for the server and for each owner role (the operator creates
 * managed roles asynchronously), then creates each missing database owned by its role and closes it to PUBLIC.
 * Idempotent: an existing database is left alone, data is never touched.
 */
export function provisionScript(): string {
  return [
    "set -eu",
    'until pg_isready -q; do echo "waiting for PostgreSQL at $PGHOST"; sleep 5; done',
    "for db in $DATABASES; do",
    `  until [ "$(psql -v ON_ERROR_STOP=1 -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$db'")" = 1 ]; do echo "waiting for role $db"; sleep 5; done`,
    '  psql -v ON_ERROR_STOP=1 -v db="$db" <<\'SQL\'',
    "SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'db') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \\gexec",
    'REVOKE ALL ON DATABASE :"db" FROM PUBLIC;',
    "SQL",
    '  echo "database $db ready"',
    "done",
    "",
  ].join("\n");
}

/** Props of the provisioning Job. */
export interface DatabaseProvisionerProps {
  /** ServiceAccount name and prefix of the Job's name. */
  readonly name: string;
  /** Namespace (the cluster's). */
  readonly namespace: string;
  /** The read-write Service of the cluster. */
  readonly host: string;
  /** Operand image (it carries psql). */
  readonly image: string;
  /** Databases to ensure, each owned by the role of the same name. */
  readonly databases: ReadonlyArray<string>;
  /** The provisioner role's password. */
  readonly password: SecretKeyRef;
}

/**
 * Creates the databases of consumers added after the cluster was bootstrapped (CloudNativePG 1.24 has no Database
 * resource). Its name carries the hash of program and database list, so a new consumer runs a new Job and an
 * unchanged list never runs again.
 */
export class DatabaseProvisioner extends Construct {
  /** The Job. */
  readonly job: k8s.KubeJob;
  /** Labels that select its pod. */
  readonly selector: Record<string, string>;

  constructor(scope: Construct, id: string, props: DatabaseProvisionerProps) {
    super(scope, id);
    for (const db of props.databases) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db)) throw new Error(`${this.node.path}: database '${db}' is not a plain PostgreSQL identifier`);
    }
    const script = provisionScript();
    const hash = createHash("sha256").update(script).update(props.databases.join(" ")).digest("hex").slice(0, 10);
    const labels = recommendedLabels({ name: props.name, component: "database-provisioner" });
    this.selector = selectorLabels({ name: props.name });
    const meta = { namespace: props.namespace, labels };
    new k8s.KubeServiceAccount(this, "ServiceAccount", { metadata: { name: props.name, ...meta }, automountServiceAccountToken: false });
    const q = (s: string) => k8s.Quantity.fromString(s);
    this.job = new k8s.KubeJob(this, "Job", {
      // after the Cluster's wave: ArgoCD waits for a running Job before it applies the next wave, so an earlier wave
      // would wait for a server that the Cluster's wave has not created yet
      metadata: { name: `${props.name}-${hash}`, ...meta, annotations: { [SYNC_WAVE]: String(SyncWave.WORKLOADS) } },
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: 3600,
        template: {
          metadata: { labels: { ...labels, ...this.selector }, annotations: { ...NO_SIDECAR } },
          spec: {
            restartPolicy: "OnFailure",
            serviceAccountName: props.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, runAsUser: POSTGRES_IMAGE_UID, runAsGroup: POSTGRES_IMAGE_UID, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "provision",
                image: props.image,
                imagePullPolicy: "IfNotPresent",
                command: ["sh", "-c", script],
                env: [
                  { name: "DATABASES", value: props.databases.join(" ") },
                  { name: "PGHOST", value: props.host },
                  { name: "PGPORT", value: "5432" },
                  { name: "PGDATABASE", value: "postgres" },
                  { name: "PGUSER", value: PROVISIONER_ROLE },
                  { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: props.password.name, key: props.password.key } } },
                  { name: "PGSSLMODE", value: "require" },
                  { name: "PGCONNECT_TIMEOUT", value: "10" },
                  { name: "HOME", value: "/tmp" },
                ],
                resources: { requests: { "cpu": q("10m"), "memory": q("32Mi"), "ephemeral-storage": ephemeralStorage([TMP_SIZE]) }, limits: { "cpu": q("200m"), "memory": q("64Mi"), "ephemeral-storage": ephemeralStorage([TMP_SIZE]) } },
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: q(TMP_SIZE) } }],
          },
        },
      },
    });
  }
}
