import { Construct } from "constructs";
import * as k8s from "./imports/k8s";
import { ephemeralStorage } from "./ephemeral-storage";
import { imagePinProblem, imageVersion } from "./image";
import { isByteQuantity } from "./quantity";
import { recommendedLabels, selectorLabels, SUPPRESS_ANNOTATION } from "./labels";
import { EnvValue, GraphNodeProps, ServicePort } from "./service-graph";
import { ApiObject, Lazy } from "cdk8s";
import type { Resources, SpreadMode } from "../stacks/environments/environment";

/** A relaxation of one hardened default: typed, with the reason written into the output. */
export interface Relaxation {
  /** Why the workload needs it. */
  readonly reason: string;
}

/** An HTTP or TCP probe. */
export interface ProbeSpec {
  /** HTTP path; a TCP check when absent. */
  readonly path?: string;
  /** Port name. @default the first non-metrics port */
  readonly port?: string;
  /** Seconds between checks. @default 10 */
  readonly periodSeconds?: number;
  /** Failures before the probe fails. @default 3 */
  readonly failureThreshold?: number;
  /** Seconds before the first check. @default 0 */
  readonly initialDelaySeconds?: number;
  /** Command to run instead of a network check. */
  readonly exec?: ReadonlyArray<string>;
}

/** A volume mounted into the main container. */
export interface WorkloadVolume {
  /** Volume name. */
  readonly name: string;
  /** Where it is mounted. */
  readonly mountPath: string;
  /** A ConfigMap to mount. */
  readonly configMap?: string;
  /** A Secret to mount. */
  readonly secret?: string;
  /** Size limit of an emptyDir (when neither configMap nor secret is given). @default "64Mi" */
  readonly sizeLimit?: string;
  /** Mount read-only. @default true for ConfigMaps and Secrets */
  readonly readOnly?: boolean;
}

/** A persistent volume claim template of a StatefulSet. */
export interface VolumeClaim {
  /** Claim and volume name. */
  readonly name: string;
  /** Where it is mounted. */
  readonly mountPath: string;
  /** Size, e.g. `10Gi`. */
  readonly storage: string;
  /** Storage class. @default the cluster default */
  readonly storageClassName?: string;
}


/** An extra container of the pod (for example a metrics exporter), hardened like the main one. */
export interface SidecarSpec {
  /** Container name. */
  readonly name: string;
  /** Exactly pinned image. */
  readonly image: string;
  /** Arguments. */
  readonly args?: ReadonlyArray<string>;
  /** Environment. */
  readonly env?: Readonly<Record<string, EnvValue>>;
  /** Ports it listens on (also exposed by the Service). */
  readonly ports?: ReadonlyArray<ServicePort>;
  /** Requests and limits. */
  readonly resources: Resources;
  /** Probes; a TCP check on its first port when absent. */
  readonly probe?: ProbeSpec;
  /** Volumes of the pod it mounts (by name, with mount path). */
  readonly mounts?: ReadonlyArray<{ readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }>;
}

/** Props of a hardened workload. */
export interface HardenedWorkloadProps {
  /** Workload name; also the Service and ServiceAccount name. */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /** Role label (`app.kubernetes.io/component`), e.g. `business-service`. */
  readonly component: string;
  /** Image with an exact version tag or a digest; anything else is a construction error. */
  readonly image: string;
  /** Ports of the main container, exposed by the Service. */
  readonly ports: ReadonlyArray<ServicePort>;
  /** Replica count. */
  readonly replicas: number;
  /** Requests and limits of the main container. */
  readonly resources: Resources;
  /** Pod spread across nodes and zones. @default soft on both */
  readonly spread?: { readonly node: SpreadMode; readonly zone: SpreadMode };
  /** `Deployment`, `StatefulSet`, or an Argo `Rollout` (progressive delivery; needs `rolloutStrategy`). @default "Deployment" */
  readonly kind?: "Deployment" | "StatefulSet" | "Rollout";
  /** The Rollout's `spec.strategy` (canary or blueGreen), for kind `Rollout`. */
  readonly rolloutStrategy?: Readonly<Record<string, unknown>>;
  /** Persistent claims (StatefulSet only). @default none */
  readonly volumeClaims?: ReadonlyArray<VolumeClaim>;
  /** Command. @default the image's entrypoint */
  readonly command?: ReadonlyArray<string>;
  /** Arguments. @default none */
  readonly args?: ReadonlyArray<string>;
  /** Environment. @default none */
  readonly env?: Readonly<Record<string, EnvValue>>;
  /** Readiness probe. @default HTTP GET /readyz on the first HTTP port, else TCP */
  readonly readiness?: ProbeSpec;
  /** Liveness probe. @default HTTP GET /healthz on the first HTTP port, else TCP */
  readonly liveness?: ProbeSpec;
  /** Volumes. A writable `/tmp` emptyDir is always added, since the root filesystem is read-only. @default none */
  readonly volumes?: ReadonlyArray<WorkloadVolume>;
  /** Extra containers. @default none */
  readonly sidecars?: ReadonlyArray<SidecarSpec>;
  /** User and group the containers run as. @default 65532 (the distroless `nonroot` user) */
  readonly runAsUser?: number;
  /** Extra pod annotations (for example the asset hash that rolls pods). @default none */
  readonly podAnnotations?: Readonly<Record<string, string>>;
  /** Extra pod labels. @default none */
  readonly podLabels?: Readonly<Record<string, string>>;
  /** Mount the ServiceAccount token: only for workloads that call the Kubernetes API. @default not mounted */
  readonly automountServiceAccountToken?: Relaxation;
  /** Seconds to drain before the pod is killed. @default 30 */
  readonly terminationGracePeriodSeconds?: number;
  /** Horizontal autoscaling on CPU; `replicas` becomes the minimum. @default a fixed replica count */
  readonly autoscaling?: AutoscalingSpec;
}

/** Horizontal autoscaling of a Deployment on CPU utilisation. */
export interface AutoscalingSpec {
  /** Upper bound of replicas; at least `replicas`. */
  readonly maxReplicas: number;
  /** Target average CPU utilisation, percent of requests. @default 70 */
  readonly targetCpuUtilization?: number;
}

const DEFAULT_UID = 65532;
/** Size limit of the `/tmp` emptyDir, and the default of other emptyDirs. */
const TMP_SIZE = "64Mi";

function quantities(r: Resources, disk: k8s.Quantity): k8s.ResourceRequirements {
  return {
    requests: { "cpu": k8s.Quantity.fromString(r.requests.cpu), "memory": k8s.Quantity.fromString(r.requests.memory), "ephemeral-storage": disk },
    limits: { "cpu": k8s.Quantity.fromString(r.limits.cpu), "memory": k8s.Quantity.fromString(r.limits.memory), "ephemeral-storage": disk },
  };
}

function envVars(env: Readonly<Record<string, EnvValue>> | undefined): k8s.EnvVar[] | undefined {
  if (!env) return undefined;
  return Object.keys(env)
    .sort()
    .map((name) => {
      const v = env[name];
      if (typeof v === "string") return { name, value: v };
      if ("secret" in v) return { name, valueFrom: { secretKeyRef: { name: v.secret, key: v.key } } };
      return { name, valueFrom: { configMapKeyRef: { name: v.configMap, key: v.key } } };
    });
}

/** The restricted-profile container security context. */
export function restrictedContainerSecurityContext(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

function probe(spec: ProbeSpec | undefined, ports: ReadonlyArray<ServicePort>, fallbackPath: string, what: string, owner: string): k8s.Probe {
  const serving = ports.filter((p) => !p.metrics);
  const portName = spec?.port ?? (serving[0] ?? ports[0])?.name;
  const timing = {
    periodSeconds: spec?.periodSeconds ?? 10,
    failureThreshold: spec?.failureThreshold ?? 3,
    initialDelaySeconds: spec?.initialDelaySeconds,
    timeoutSeconds: 2,
  };
  if (spec?.exec) return { exec: { command: [...spec.exec] }, ...timing };
  if (!portName) throw new Error(`${owner}: ${what} probe needs a port or a command`);
  const port = ports.find((p) => p.name === portName);
  if (!port) throw new Error(`${owner}: ${what} probe port '${portName}' is not one of ${ports.map((p) => p.name).join(", ")}`);
  const isHttp = port.protocol === "http" || port.protocol === "http2";
  const path = spec?.path ?? (spec ? undefined : isHttp ? fallbackPath : undefined);
  if (path) return { httpGet: { path, port: k8s.IntOrString.fromString(portName) }, ...timing };
  return { tcpSocket: { port: k8s.IntOrString.fromString(portName) }, ...timing };
}

function containerPorts(ports: ReadonlyArray<ServicePort>): k8s.ContainerPort[] {
  return ports.map((p) => ({ name: p.name, containerPort: p.targetPort ?? p.port, protocol: p.transport ?? "TCP" }));
}

/**
 * A workload hardened by default (ARCHITECTURE idea 4): Pod Security "restricted", requests and limits, probes, a
 * PodDisruptionBudget, topology spread, its own ServiceAccount without an automounted token, and an exactly pinned
 * image. Every relaxation is a typed prop with a reason that shows in the output.
 */
export class HardenedWorkload extends Construct {
  /** Name of the workload, Service and ServiceAccount. */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /** Labels that select its pods. */
  readonly selector: Record<string, string>;
  /** ServiceAccount the pods run as. */
  readonly serviceAccountName: string;
  /** In-cluster DNS name of its Service. */
  readonly host: string;
  /** Ports it exposes (main container and sidecars). */
  readonly ports: ReadonlyArray<ServicePort>;
  /** The Deployment, StatefulSet or Rollout. */
  readonly workload: k8s.KubeDeployment | k8s.KubeStatefulSet | ApiObject;
  private readonly serviceSpec: k8s.ServiceSpec;
  private readonly meta: { namespace: string; labels: Record<string, string> };
  /** Environment of the main container (sorted by name in the output); grows through `addEnv`. */
  private readonly env: Record<string, EnvValue> = {};

  constructor(scope: Construct, id: string, props: HardenedWorkloadProps) {
    super(scope, id);
    const path = this.node.path;
    const problems: string[] = [];
    for (const img of [props.image, ...(props.sidecars ?? []).map((s) => s.image)]) {
      const problem = imagePinProblem(img);
      if (problem) problems.push(problem);
    }
    if (!Number.isInteger(props.replicas) || props.replicas < 1) problems.push(`replicas must be an integer >= 1 (got ${props.replicas})`);
    if (props.volumeClaims?.length && props.kind !== "StatefulSet") problems.push("volumeClaims need kind StatefulSet");
    for (const [i, v] of (props.volumes ?? []).entries()) {
      if (v.sizeLimit !== undefined && !isByteQuantity(v.sizeLimit)) problems.push(`volumes[${i}].sizeLimit must be a quantity such as 64Mi or 1Gi (got ${JSON.stringify(v.sizeLimit)})`);
    }
    if ((props.kind === "Rollout") !== Boolean(props.rolloutStrategy)) problems.push("rolloutStrategy goes with kind Rollout, and only with it");
    if (props.automountServiceAccountToken && props.automountServiceAccountToken.reason.trim().length < 10) {
      problems.push(`automountServiceAccountToken.reason must explain why the token is needed (got ${JSON.stringify(props.automountServiceAccountToken.reason)})`);
    }
    if (props.autoscaling) {
      const a = props.autoscaling;
      if (props.kind === "StatefulSet") problems.push("autoscaling is for Deployments only");
      if (!Number.isInteger(a.maxReplicas) || a.maxReplicas < props.replicas) problems.push(`autoscaling.maxReplicas must be an integer >= replicas (${props.replicas}), got ${a.maxReplicas}`);
      const t = a.targetCpuUtilization ?? 70;
      if (!Number.isInteger(t) || t < 10 || t > 95) problems.push(`autoscaling.targetCpuUtilization must be an integer percentage 10-95 (got ${t})`);
    }
    if (problems.length) throw new Error(`${path}: ${problems.join("; ")}`);

    this.name = props.name;
    this.namespace = props.namespace;
    this.serviceAccountName = props.name;
    this.selector = selectorLabels({ name: props.name });
    this.host = `${props.name}.${props.namespace}.svc.cluster.local`;
    const sidecarPorts = (props.sidecars ?? []).flatMap((s) => s.ports ?? []);
    this.ports = [...props.ports, ...sidecarPorts];
    const labels = recommendedLabels({ name: props.name, component: props.component, version: imageVersion(props.image) });
    const meta = { namespace: props.namespace, labels };
    const uid = props.runAsUser ?? DEFAULT_UID;
    Object.assign(this.env, props.env ?? {});

    const annotations: Record<string, string> = {};
    if (props.automountServiceAccountToken) {
      annotations["stratum.dev/relaxed"] = `automountServiceAccountToken: ${props.automountServiceAccountToken.reason}`;
      annotations[SUPPRESS_ANNOTATION] = `sa-token-automount: ${props.automountServiceAccountToken.reason}`;
    }

    new k8s.KubeServiceAccount(this, "ServiceAccount", {
      metadata: { name: props.name, ...meta },
      automountServiceAccountToken: props.automountServiceAccountToken ? true : false,
    });

    this.serviceSpec = {
      type: "ClusterIP",
      clusterIp: props.kind === "StatefulSet" ? "None" : undefined,
      publishNotReadyAddresses: props.kind === "StatefulSet" ? true : undefined,
      selector: this.selector,
      ports: this.ports.map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: k8s.IntOrString.fromString(p.name),
        protocol: p.transport ?? "TCP",
        appProtocol: p.protocol,
      })),
    };
    this.meta = meta;
    new k8s.KubeService(this, "Service", { metadata: { name: props.name, ...meta }, spec: this.serviceSpec });

    const volumes: k8s.Volume[] = [{ name: "tmp", emptyDir: { sizeLimit: k8s.Quantity.fromString(TMP_SIZE) } }];
    const mounts: k8s.VolumeMount[] = [{ name: "tmp", mountPath: "/tmp" }];
    const emptyDirSizes = [TMP_SIZE];
    for (const v of props.volumes ?? []) {
      if (v.configMap) volumes.push({ name: v.name, configMap: { name: v.configMap } });
      else if (v.secret) volumes.push({ name: v.name, secret: { secretName: v.secret } });
      else {
        emptyDirSizes.push(v.sizeLimit ?? TMP_SIZE);
        volumes.push({ name: v.name, emptyDir: { sizeLimit: k8s.Quantity.fromString(v.sizeLimit ?? TMP_SIZE) } });
      }
      mounts.push({ name: v.name, mountPath: v.mountPath, readOnly: v.readOnly ?? Boolean(v.configMap || v.secret) });
    }
    for (const c of props.volumeClaims ?? []) mounts.push({ name: c.name, mountPath: c.mountPath });

    const main: k8s.Container = {
      name: props.name,
      image: props.image,
      imagePullPolicy: "IfNotPresent",
      command: props.command ? [...props.command] : undefined,
      args: props.args ? [...props.args] : undefined,
      env: Lazy.any({ produce: () => envVars(Object.keys(this.env).length ? this.env : undefined) }),
      ports: containerPorts(props.ports),
      // the main container's limit also covers the pod's emptyDirs (see ephemeralStorage)
      resources: quantities(props.resources, ephemeralStorage(emptyDirSizes)),
      readinessProbe: probe(props.readiness, props.ports, "/readyz", "readiness", path),
      livenessProbe: probe(props.liveness, props.ports, "/healthz", "liveness", path),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: mounts,
    };
    const sidecars: k8s.Container[] = (props.sidecars ?? []).map((s) => {
      const sp = s.ports ?? [];
      const check = sp.length || s.probe?.exec ? probe(s.probe, sp, "/healthz", "sidecar", `${path}/${s.name}`) : undefined;
      return {
        name: s.name,
        image: s.image,
        imagePullPolicy: "IfNotPresent",
        args: s.args ? [...s.args] : undefined,
        env: envVars(s.env),
        ports: sp.length ? containerPorts(sp) : undefined,
        resources: quantities(s.resources, ephemeralStorage()),
        readinessProbe: check,
        // the same check at half the rate: a stalled sidecar leaves the endpoints first, and is restarted only if it
        // stays stalled twice as long
        livenessProbe: check && { ...check, periodSeconds: (check.periodSeconds ?? 10) * 2 },
        securityContext: restrictedContainerSecurityContext(),
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, ...(s.mounts ?? []).map((m) => ({ name: m.name, mountPath: m.mountPath, readOnly: m.readOnly }))],
      };
    });

    const spread = props.spread ?? { node: "soft", zone: "soft" };
    const whenUnsatisfiable = (m: SpreadMode) => (m === "hard" ? "DoNotSchedule" : "ScheduleAnyway");
    const podSpec: k8s.PodSpec = {
      serviceAccountName: props.name,
      automountServiceAccountToken: props.automountServiceAccountToken ? true : false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: props.terminationGracePeriodSeconds ?? 30,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: uid,
        fsGroup: uid,
        seccompProfile: { type: "RuntimeDefault" },
      },
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: whenUnsatisfiable(spread.zone), labelSelector: { matchLabels: this.selector } },
        { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: whenUnsatisfiable(spread.node), labelSelector: { matchLabels: this.selector } },
      ],
      containers: [main, ...sidecars],
      volumes,
    };
    const template: k8s.PodTemplateSpec = {
      metadata: { labels: { ...labels, ...props.podLabels }, annotations: props.podAnnotations ? { ...props.podAnnotations } : undefined },
      spec: podSpec,
    };
    const objMeta = { name: props.name, ...meta, annotations: Object.keys(annotations).length ? annotations : undefined };
    if (props.kind === "StatefulSet") {
      this.workload = new k8s.KubeStatefulSet(this, "StatefulSet", {
        metadata: objMeta,
        spec: {
          replicas: props.replicas,
          serviceName: props.name,
          podManagementPolicy: "Parallel",
          selector: { matchLabels: this.selector },
          template,
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          volumeClaimTemplates: (props.volumeClaims ?? []).map((c) => ({
            metadata: { name: c.name, labels },
            spec: {
              accessModes: ["ReadWriteOnce"],
              storageClassName: c.storageClassName,
              resources: { requests: { storage: k8s.Quantity.fromString(c.storage) } },
            },
          })),
        },
      });
    } else if (props.kind === "Rollout") {
      // an Argo Rollout is a Deployment with a progressive strategy: same selector, same hardened pod template
      this.workload = new ApiObject(this, "Rollout", {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Rollout",
        metadata: objMeta,
        spec: {
          replicas: props.autoscaling ? undefined : props.replicas,
          revisionHistoryLimit: 5,
          selector: { matchLabels: this.selector },
          // the main container's env grows until synthesis (addEnv), so the template is rendered then
          template: Lazy.any({
            produce: () => {
              const env = envVars(Object.keys(this.env).length ? this.env : undefined);
              const containers = [{ ...main, env }, ...sidecars];
              return k8s.toJson_PodTemplateSpec({ ...template, spec: { ...podSpec, containers } });
            },
          }),
          strategy: props.rolloutStrategy,
        },
      });
    } else {
      this.workload = new k8s.KubeDeployment(this, "Deployment", {
        metadata: objMeta,
        spec: {
          replicas: props.autoscaling ? undefined : props.replicas,
          revisionHistoryLimit: 5,
          selector: { matchLabels: this.selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: k8s.IntOrString.fromString("25%"), maxUnavailable: k8s.IntOrString.fromNumber(0) } },
          template,
        },
      });
    }

    if (props.autoscaling) {
      new k8s.KubeHorizontalPodAutoscalerV2(this, "Hpa", {
        metadata: { name: props.name, ...meta },
        spec: {
          scaleTargetRef: props.kind === "Rollout" ? { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: props.name } : { apiVersion: "apps/v1", kind: "Deployment", name: props.name },
          minReplicas: props.replicas,
          maxReplicas: props.autoscaling.maxReplicas,
          metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: props.autoscaling.targetCpuUtilization ?? 70 } } }],
          behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Percent", value: 50, periodSeconds: 60 }] } },
        },
      });
    }

    new k8s.KubePodDisruptionBudget(this, "Pdb", {
      metadata: { name: props.name, ...meta },
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.selector } },
    });
  }

  /** Adds another Service over the same pods and ports (for example a blue-green preview Service). */
  addService(name: string): k8s.KubeService {
    return new k8s.KubeService(this, `Service-${name}`, { metadata: { name, ...this.meta }, spec: { ...this.serviceSpec } });
  }

  /** Adds environment variables to the main container; setting a name twice to different values is an error. */
  addEnv(vars: Readonly<Record<string, EnvValue>>): void {
    for (const [name, value] of Object.entries(vars)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`${this.node.path}: environment variable name ${JSON.stringify(name)} is not valid`);
      const old = this.env[name];
      if (old !== undefined && JSON.stringify(old) !== JSON.stringify(value)) {
        throw new Error(`${this.node.path}: environment variable ${name} is set twice (${JSON.stringify(old)} and ${JSON.stringify(value)})`);
      }
      this.env[name] = value;
    }
  }

  /** The graph node of this workload, for components to register with extra settings. */
  graphNode(id: string, kind: GraphNodeProps["kind"], scope: Construct, extra: Pick<GraphNodeProps, "connection"> = {}): GraphNodeProps {
    return {
      id, kind, namespace: this.namespace, serviceAccount: this.serviceAccountName, selector: this.selector, ports: this.ports, host: this.host, scope,
      receive: (vars) => this.addEnv(vars),
      ...extra,
    };
  }
}
