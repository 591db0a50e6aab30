import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { ephemeralStorage } from "../../constructs/ephemeral-storage";
import { HardenedWorkload, restrictedContainerSecurityContext } from "../../constructs/hardened-workload";
import { SYNC_WAVE } from "../../constructs/helm-addon";
import * as k8s from "../../constructs/imports/k8s";
import { recommendedLabels, selectorLabels } from "../../constructs/labels";
import { SecretKeyRef } from "../../constructs/secret-ref";
import type { Resources, SpreadMode } from "../../stacks/environments/environment";
import { SyncWave } from "../component";

/** Size limit of the setup job's `/tmp`. */
const SETUP_TMP_SIZE = "16Mi";

/**
 * MinIO, the S3-compatible server, pinned by digest: its releases are tagged `RELEASE.<date>`, which is not an exact
 * version Stratum's image rule accepts, so the digest is the pin.
 */
export const MINIO_IMAGE = "quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z@sha256:a1ea29fa28355559ef137d71fc570e508a214ec84ff8083e39bc5428980b015e";
/** The MinIO client that creates the buckets, pinned by digest. */
export const MC_IMAGE = "quay.io/minio/mc:RELEASE.2025-04-16T18-13-26Z@sha256:aead63c77f9db9107f1696fb08ecb0faeda23729cde94b0f663edf4fe09728e3";
/** Pod annotation that keeps the Istio proxy out of a pod. */
const NO_SIDECAR = { "sidecar.istio.io/inject": "false" } as const;

/** Props of the in-cluster store. */
export interface InClusterS3StoreProps {
  /** Namespace. */
  readonly namespace: string;
  /** Buckets to create, and which of them keep versions. */
  readonly buckets: ReadonlyArray<{ readonly name: string; readonly versioning: boolean }>;
  /** The root user and password (URL-safe characters: the client reads them from a URL). */
  readonly root: { readonly user: SecretKeyRef; readonly password: SecretKeyRef };
  /** Volume size. */
  readonly storage: string;
  /** Requests and limits. */
  readonly resources: Resources;
  /** Region MinIO answers as (clients sign requests for it). */
  readonly region: string;
  /** Spread (one replica; kept for the PodDisruptionBudget and topology defaults). */
  readonly spread: { readonly node: SpreadMode; readonly zone: SpreadMode };
}

/**
 * A single-node MinIO for clusters without a cloud account (`cloud.provider: local`): a hardened StatefulSet with a
 * persistent volume, and a Job that creates the platform's buckets (and turns on versioning) with the MinIO client;
 * its name carries the hash of the bucket list, so it runs again only when the list changes.
 */
export class InClusterS3Store extends Construct {
  /** The MinIO workload. */
  readonly workload: HardenedWorkload;
  /** In-cluster endpoint URL. */
  readonly endpoint: string;
  /** Labels of the bucket Job's pod. */
  readonly setupSelector: Record<string, string>;

  constructor(scope: Construct, id: string, props: InClusterS3StoreProps) {
    super(scope, id);
    const env = {
      MINIO_ROOT_USER: { secret: props.root.user.name, key: props.root.user.key },
      MINIO_ROOT_PASSWORD: { secret: props.root.password.name, key: props.root.password.key },
      MINIO_BROWSER: "off",
      MINIO_SITE_REGION: props.region,
    };
    this.workload = new HardenedWorkload(this, "MinIO", {
      name: "minio",
      namespace: props.namespace,
      component: "object-storage",
      image: MINIO_IMAGE,
      kind: "StatefulSet",
      replicas: 1,
      resources: props.resources,
      spread: props.spread,
      ports: [{ name: "http-s3", port: 9000, protocol: "http" }],
      args: ["server", "/data", "--address", ":9000", "--certs-dir", "/tmp/certs"],
      env,
      readiness: { path: "/minio/health/ready" },
      liveness: { path: "/minio/health/live" },
      volumeClaims: [{ name: "data", mountPath: "/data", storage: props.storage }],
      // consumers reach it in plaintext from their proxies; the bucket Job (no proxy) must too
      podAnnotations: { ...NO_SIDECAR },
    });
    this.endpoint = `http://${this.workload.host}:9000`;

    const names = props.buckets.map((b) => b.name);
    const versioned = props.buckets.filter((b) => b.versioning).map((b) => b.name);
    const hash = createHash("sha256").update(JSON.stringify(props.buckets)).update(MC_IMAGE).digest("hex").slice(0, 10);
    const jobName = "minio-buckets";
    const labels = recommendedLabels({ name: jobName, component: "object-storage" });
    this.setupSelector = selectorLabels({ name: jobName });
    new k8s.KubeServiceAccount(this, "SetupServiceAccount", { metadata: { name: jobName, namespace: props.namespace, labels }, automountServiceAccountToken: false });
    const q = (s: string) => k8s.Quantity.fromString(s);
    const mc = (name: string, args: string[]): k8s.Container => ({
      name,
      image: MC_IMAGE,
      imagePullPolicy: "IfNotPresent",
      args,
      env: [
        { name: "ROOT_USER", valueFrom: { secretKeyRef: { name: props.root.user.name, key: props.root.user.key } } },
        { name: "ROOT_PASSWORD", valueFrom: { secretKeyRef: { name: props.root.password.name, key: props.root.password.key } } },
        // the client reads the alias `store` from this variable; $(VAR) is expanded by the kubelet
        { name: "MC_HOST_store", value: `http://$(ROOT_USER):$(ROOT_PASSWORD)@${this.workload.host}:9000` },
        { name: "MC_CONFIG_DIR", value: "/tmp/mc" },
      ],
      // each step runs alone (init containers one after another), so each carries the job's /tmp in its limit
      resources: {
        requests: { "cpu": q("10m"), "memory": q("32Mi"), "ephemeral-storage": ephemeralStorage([SETUP_TMP_SIZE]) },
        limits: { "cpu": q("200m"), "memory": q("64Mi"), "ephemeral-storage": ephemeralStorage([SETUP_TMP_SIZE]) },
      },
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
    });
    const steps = [mc("buckets", ["mb", "--ignore-existing", ...names.map((n) => `store/${n}`)])];
    versioned.forEach((n, i) => steps.push(mc(`versioning-${i}`, ["version", "enable", `store/${n}`])));
    new k8s.KubeJob(this, "Setup", {
      metadata: { name: `${jobName}-${hash}`, namespace: props.namespace, labels, annotations: { [SYNC_WAVE]: String(SyncWave.WORKLOADS) } },
      spec: {
        backoffLimit: 10,
        activeDeadlineSeconds: 1800,
        template: {
          metadata: { labels: { ...labels, ...this.setupSelector }, annotations: { ...NO_SIDECAR } },
          spec: {
            restartPolicy: "OnFailure",
            serviceAccountName: jobName,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
            initContainers: steps.slice(0, -1),
            containers: steps.slice(-1),
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: q(SETUP_TMP_SIZE) } }],
          },
        },
      },
    });
  }
}
