import { Construct } from "constructs";
import { HelmAddon } from "../../constructs/helm-addon";
import { SecretKeyRef } from "../../constructs/secret-ref";
import type { Resources } from "../../stacks/environments/environment";
import { FluentBitConfig, FluentBitSection, fluentBitConfigProblems, renderSections } from "./fluent-bit-config";

/** The fluent-bit chart, and the Fluent Bit release it ships (its appVersion). */
export const FLUENT_BIT_CHART_VERSION = "0.47.0";
export const FLUENT_BIT_VERSION = "3.1.0";
/** Port of Fluent Bit's HTTP server: health (its own metrics API is not at /metrics). */
export const FLUENT_BIT_HTTP_PORT = 2020;
/** Port of the `prometheus_exporter` output, which serves Fluent Bit's own metrics at /metrics. */
export const FLUENT_BIT_METRICS_PORT = 2021;
/** Where the node's state lives: tail positions and the filesystem buffer survive pod restarts. */
export const FLUENT_BIT_STATE_DIR = "/var/lib/fluent-bit";
/** Where the Elasticsearch CA is mounted. */
export const FLUENT_BIT_TLS_DIR = "/fluent-bit/tls";

/** What the log pipeline needs to know. */
export interface LogPipelineProps {
  /** Elasticsearch host and HTTPS port. */
  readonly host: string;
  readonly port: number;
  /** Index prefix; indices are `<prefix>-YYYY.MM.DD`, one per day. */
  readonly indexPrefix: string;
  /** Environment name, added to every record as `environment`. */
  readonly environment: string;
  /** Namespace Fluent Bit runs in (its own logs are not shipped, to avoid a feedback loop). */
  readonly namespace: string;
}

/**
 * The pipeline: tail every container log on the node with the CRI multiline parser (positions in a DB on the node,
 * filesystem buffering), add Kubernetes metadata and lift JSON logs into fields under `app`, tag the environment,
 * and ship to Elasticsearch over verified TLS into one index per day, credentials from the environment. Fluent Bit's
 * own metrics go to a Prometheus endpoint at /metrics.
 */
export function logPipeline(props: LogPipelineProps): FluentBitConfig {
  const section = (kind: FluentBitSection["kind"], properties: FluentBitSection["properties"]): FluentBitSection => ({ kind, properties });
  return {
    service: section("SERVICE", [
      ["Daemon", false],
      ["Flush", 1],
      ["Log_Level", "info"],
      ["Parsers_File", "/fluent-bit/etc/parsers.conf"],
      ["Parsers_File", "/fluent-bit/etc/conf/custom_parsers.conf"],
      ["HTTP_Server", true],
      ["HTTP_Listen", "0.0.0.0"],
      ["HTTP_Port", FLUENT_BIT_HTTP_PORT],
      ["Health_Check", true],
      ["storage.path", `${FLUENT_BIT_STATE_DIR}/buffer/`],
      ["storage.sync", "normal"],
      ["storage.backlog.mem_limit", "16M"],
      ["storage.metrics", true],
    ]),
    inputs: [
      section("INPUT", [
        ["Name", "tail"],
        ["Alias", "containers"],
        ["Tag", "kube.*"],
        ["Path", "/var/log/containers/*.log"],
        ["Exclude_Path", `/var/log/containers/fluent-bit-*_${props.namespace}_*.log`],
        ["multiline.parser", "cri, docker"],
        ["DB", `${FLUENT_BIT_STATE_DIR}/tail-containers.db`],
        ["DB.locking", true],
        ["Mem_Buf_Limit", "50MB"],
        ["storage.type", "filesystem"],
        ["Skip_Long_Lines", true],
        ["Refresh_Interval", 10],
        ["Rotate_Wait", 30],
      ]),
      section("INPUT", [
        ["Name", "fluentbit_metrics"],
        ["Alias", "self-metrics"],
        ["Tag", "internal_metrics"],
        ["Scrape_Interval", 15],
      ]),
    ],
    filters: [
      section("FILTER", [
        ["Name", "kubernetes"],
        ["Match", "kube.*"],
        ["Kube_URL", "https://kubernetes.default.svc:443"],
        ["Kube_Tag_Prefix", "kube.var.log.containers."],
        ["Merge_Log", true],
        ["Merge_Log_Key", "app"],
        ["Keep_Log", false],
        ["K8S-Logging.Parser", true],
        ["K8S-Logging.Exclude", true],
        ["Labels", true],
        ["Annotations", false],
        ["Buffer_Size", "256k"],
      ]),
      section("FILTER", [
        ["Name", "modify"],
        ["Match", "kube.*"],
        ["Add", `environment ${props.environment}`],
      ]),
    ],
    outputs: [
      section("OUTPUT", [
        ["Name", "es"],
        ["Alias", "elasticsearch"],
        ["Match", "kube.*"],
        ["Host", props.host],
        ["Port", props.port],
        ["HTTP_User", "${ES_USER}"],
        ["HTTP_Passwd", "${ES_PASSWORD}"],
        ["tls", true],
        ["tls.verify", true],
        ["tls.ca_file", `${FLUENT_BIT_TLS_DIR}/ca.crt`],
        ["Logstash_Format", true],
        ["Logstash_Prefix", props.indexPrefix],
        ["Logstash_DateFormat", "%Y.%m.%d"],
        ["Suppress_Type_Name", true],
        ["Replace_Dots", true],
        ["Generate_ID", true],
        ["Trace_Error", true],
        ["Buffer_Size", "512KB"],
        ["Retry_Limit", false],
        ["storage.total_limit_size", "2G"],
      ]),
      section("OUTPUT", [
        ["Name", "prometheus_exporter"],
        ["Alias", "metrics"],
        ["Match", "internal_metrics"],
        ["Host", "0.0.0.0"],
        ["Port", FLUENT_BIT_METRICS_PORT],
      ]),
    ],
    parsers: [],
  };
}

/** The fluent-bit chart's values that Stratum sets, typed. */
export interface FluentBitValues {
  readonly kind: "DaemonSet";
  readonly image: { readonly repository: string; readonly tag: string; readonly pullPolicy: "IfNotPresent" };
  readonly testFramework: { readonly enabled: false };
  readonly serviceAccount: { readonly create: true };
  readonly rbac: { readonly create: true; readonly nodeAccess: false };
  readonly podSecurityContext: { readonly seccompProfile: { readonly type: "RuntimeDefault" } };
  readonly securityContext: Readonly<Record<string, unknown>>;
  readonly resources: Resources;
  readonly priorityClassName: string;
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly tolerations: ReadonlyArray<Readonly<Record<string, string>>>;
  readonly updateStrategy: { readonly type: "RollingUpdate"; readonly rollingUpdate: { readonly maxUnavailable: number } };
  readonly metricsPort: number;
  readonly env: ReadonlyArray<{ readonly name: string; readonly valueFrom: { readonly secretKeyRef: SecretKeyRef } }>;
  readonly daemonSetVolumes: ReadonlyArray<Readonly<Record<string, unknown>>>;
  readonly daemonSetVolumeMounts: ReadonlyArray<{ readonly name: string; readonly mountPath: string; readonly readOnly: boolean }>;
  readonly extraVolumes: ReadonlyArray<Readonly<Record<string, unknown>>>;
  readonly extraVolumeMounts: ReadonlyArray<{ readonly name: string; readonly mountPath: string; readonly readOnly: boolean }>;
  readonly networkPolicy: { readonly enabled: false };
  readonly serviceMonitor: { readonly enabled: false };
  readonly config: { readonly service: string; readonly inputs: string; readonly filters: string; readonly outputs: string; readonly customParsers: string };
}

/** Props of the Fluent Bit add-on. */
export interface FluentBitProps {
  /** Namespace (its own, with the justified Pod Security exception). */
  readonly namespace: string;
  /** The environment's ArgoCD project. */
  readonly project: string;
  /** Sync wave. */
  readonly syncWave: number;
  /** The pipeline; checked before anything is created. */
  readonly pipeline: FluentBitConfig;
  /** Elasticsearch user and password, as Secret references. */
  readonly credentials: { readonly username: SecretKeyRef; readonly password: SecretKeyRef };
  /** The Elasticsearch CA certificate (PEM), as a Secret reference. */
  readonly caCertificate: SecretKeyRef;
  /** Requests and limits per pod. */
  readonly resources: Resources;
}

/**
 * Fluent Bit as a DaemonSet on every node (the fluent-bit chart, typed values). It reads `/var/log` through a
 * read-only hostPath and keeps its state in a hostPath of its own; it runs as root, because container log files are
 * root-owned and not group-readable, but with every capability dropped, no privilege escalation and a read-only root
 * filesystem. Credentials reach it only as Secret references.
 */
export class FluentBit extends Construct {
  /** The add-on. */
  readonly addon: HelmAddon<FluentBitValues>;
  /** The rendered configuration, section by section. */
  readonly config: FluentBitValues["config"];

  constructor(scope: Construct, id: string, props: FluentBitProps) {
    super(scope, id);
    const problems = fluentBitConfigProblems(props.pipeline);
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);
    this.config = {
      service: renderSections([props.pipeline.service]),
      inputs: renderSections(props.pipeline.inputs),
      filters: renderSections(props.pipeline.filters),
      outputs: renderSections(props.pipeline.outputs),
      customParsers: props.pipeline.parsers.length ? renderSections(props.pipeline.parsers) : "",
    };
    this.addon = new HelmAddon<FluentBitValues>(this, "Chart", {
      release: "fluent-bit",
      repoURL: "https://fluent.github.io/helm-charts",
      chart: "fluent-bit",
      version: FLUENT_BIT_CHART_VERSION,
      namespace: props.namespace,
      project: props.project,
      syncWave: props.syncWave,
      values: {
        kind: "DaemonSet",
        image: { repository: "cr.fluentbit.io/fluent/fluent-bit", tag: FLUENT_BIT_VERSION, pullPolicy: "IfNotPresent" },
        testFramework: { enabled: false },
        serviceAccount: { create: true },
        rbac: { create: true, nodeAccess: false },
        podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } },
        securityContext: {
          runAsUser: 0,
          runAsNonRoot: false,
          privileged: false,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        },
        resources: props.resources,
        priorityClassName: "system-node-critical",
        // No mesh sidecar: Fluent Bit only calls out (Elasticsearch over its own TLS, the API server), and a proxy in a
        // root, hostPath DaemonSet would add a second failure point on every node.
        podAnnotations: { "sidecar.istio.io/inject": "false" },
        tolerations: [{ operator: "Exists" }],
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        metricsPort: FLUENT_BIT_HTTP_PORT,
        env: [
          { name: "ES_USER", valueFrom: { secretKeyRef: { name: props.credentials.username.name, key: props.credentials.username.key } } },
          { name: "ES_PASSWORD", valueFrom: { secretKeyRef: { name: props.credentials.password.name, key: props.credentials.password.key } } },
        ],
        daemonSetVolumes: [
          { name: "varlog", hostPath: { path: "/var/log", type: "Directory" } },
          { name: "state", hostPath: { path: FLUENT_BIT_STATE_DIR, type: "DirectoryOrCreate" } },
        ],
        daemonSetVolumeMounts: [
          { name: "varlog", mountPath: "/var/log", readOnly: true },
          { name: "state", mountPath: FLUENT_BIT_STATE_DIR, readOnly: false },
        ],
        extraVolumes: [{ name: "es-ca", secret: { secretName: props.caCertificate.name, items: [{ key: props.caCertificate.key, path: "ca.crt" }] } }],
        extraVolumeMounts: [{ name: "es-ca", mountPath: FLUENT_BIT_TLS_DIR, readOnly: true }],
        networkPolicy: { enabled: false },
        serviceMonitor: { enabled: false },
        config: this.config,
      },
    });
  }
}
