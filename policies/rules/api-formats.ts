import { isDnsLabel, isPortName } from "../../constructs/names";
import { containersOf, podSpecOf } from "../pod-spec";
import { PolicyRule, Violation } from "../types";

// What the API server's own validation refuses and the OpenAPI schemas cannot say: name and label formats, port
// names, data keys, sizes. Formats as Kubernetes 1.28 checks them (apimachinery validation).
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
/** Names of RBAC objects are path segments, not DNS names (`system:metrics-reader`). */
const PATH_SEGMENT_KINDS = new Set(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]);
const MAX_CONFIGMAP_BYTES = 1024 * 1024;
const MAX_ANNOTATION_BYTES = 256 * 1024;

const isSubdomain = (s: string) => s.length <= 253 && DNS_SUBDOMAIN.test(s);

function isQualifiedKey(k: string): boolean {
  const slash = k.lastIndexOf("/");
  const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  return (prefix === undefined || isSubdomain(prefix)) && name.length <= 63 && QUALIFIED_NAME.test(name);
}

function isLabelValue(v: unknown): boolean {
  return typeof v === "string" && (v === "" || (v.length <= 63 && QUALIFIED_NAME.test(v)));
}

/** Where a name must be shorter than a subdomain: controllers derive labels and pod names from it. */
const NAME_LIMITS: Readonly<Record<string, { max: number; why: string }>> = {
  StatefulSet: { max: 52, why: "its pods' controller-revision-hash label adds 11 characters to a 63-character label" },
  CronJob: { max: 52, why: "its Jobs add an 11-character suffix to the name" },
  Job: { max: 63, why: "its pods carry the name as the job-name label" },
};

/** Objects whose fields the API server would refuse, though they match the schemas. */
export const apiFormats: PolicyRule = {
  id: "api-formats",
  severity: "error",
  description:
    "Names, labels, annotations, port names, environment variable names, data keys and sizes are what the API server accepts; the schemas alone do not check them.",
  check(obj) {
    const out: Violation[] = [];
    const add = (field: string, message: string) => out.push({ field, message });
    const labels = (field: string, l: Record<string, unknown> | undefined) => {
      for (const [k, v] of Object.entries(l ?? {})) {
        if (!isQualifiedKey(k)) add(`${field}.${k}`, "key must be [prefix/]name: name at most 63 of [A-Za-z0-9-_.], prefix a DNS subdomain");
        if (!isLabelValue(v)) add(`${field}.${k}`, `value ${JSON.stringify(v)} must be empty or at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric`);
      }
    };
    const annotations = (field: string, a: Record<string, string> | undefined) => {
      for (const k of Object.keys(a ?? {})) if (!isQualifiedKey(k)) add(`${field}.${k}`, "key must be [prefix/]name like a label key");
      if (a && Buffer.byteLength(JSON.stringify(a)) > MAX_ANNOTATION_BYTES) add(field, "annotations exceed 256 KiB");
    };

    const name = obj.metadata.name ?? "";
    if (!PATH_SEGMENT_KINDS.has(obj.kind) && !isSubdomain(name)) add("metadata.name", `"${name}" must be a DNS subdomain: lower case [a-z0-9-.], at most 253`);
    if (obj.kind === "Namespace" && !isDnsLabel(name)) add("metadata.name", `"${name}" must be a DNS label: lower case [a-z0-9-], at most 63`);
    if (obj.kind === "Service" && !(name.length <= 63 && DNS_1035_LABEL.test(name))) add("metadata.name", `"${name}" must be a DNS-1035 label: starts with a letter, [a-z0-9-], at most 63`);
    const limit = NAME_LIMITS[obj.kind];
    if (limit && name.length > limit.max) add("metadata.name", `"${name}" is ${name.length} characters; at most ${limit.max}: ${limit.why}`);
    labels("metadata.labels", obj.metadata.labels);
    annotations("metadata.annotations", obj.metadata.annotations);

    const spec = obj.spec as Record<string, any> | undefined;
    if (spec?.selector?.matchLabels) labels("spec.selector.matchLabels", spec.selector.matchLabels);
    if (obj.kind === "Service") checkService(spec ?? {}, add, labels);
    if (obj.kind === "ConfigMap" || obj.kind === "Secret") checkData(obj as Record<string, any>, add);
    if (obj.kind === "PodDisruptionBudget" && (spec?.minAvailable !== undefined) === (spec?.maxUnavailable !== undefined)) add("spec", "set exactly one of minAvailable and maxUnavailable");
    if (obj.kind === "HorizontalPodAutoscaler" && (spec?.minReplicas ?? 1) > spec?.maxReplicas) add("spec.minReplicas", `${spec?.minReplicas} is above maxReplicas ${spec?.maxReplicas}`);
    if (obj.kind === "NetworkPolicy") {
      for (const dir of ["ingress", "egress"]) {
        (spec?.[dir] ?? []).forEach((r: Record<string, any>, i: number) =>
          (r.ports ?? []).forEach((p: Record<string, any>, j: number) => {
            if (typeof p.port === "string" && !isPortName(p.port)) add(`spec.${dir}[${i}].ports[${j}].port`, `"${p.port}" is not a valid port name (at most 15 of [a-z0-9-], with a letter)`);
          }),
        );
      }
    }

    const pod = podSpecOf(obj);
    if (!pod) return out;
    const template = pod.path.replace(/\.spec$/, "");
    const meta = pod.path === "spec" ? obj.metadata : (obj.spec as Record<string, any>)?.template?.metadata ?? (obj.spec as Record<string, any>)?.jobTemplate?.spec?.template?.metadata;
    if (pod.path !== "spec") {
      labels(`${template}.metadata.labels`, meta?.labels);
      annotations(`${template}.metadata.annotations`, meta?.annotations);
    }
    const volumes = new Set<string>();
    (pod.spec.volumes ?? []).forEach((v: Record<string, any>, i: number) => {
      if (!isDnsLabel(v.name)) add(`${pod.path}.volumes[${i}].name`, `"${v.name}" must be a DNS label`);
      if (volumes.has(v.name)) add(`${pod.path}.volumes[${i}].name`, `"${v.name}" is declared twice`);
      volumes.add(v.name);
    });
    for (const c of spec?.volumeClaimTemplates ?? []) volumes.add(c.metadata?.name);
    const containerNames = new Set<string>();
    const portNames = new Set<string>();
    for (const { path, container: c } of containersOf(pod)) {
      if (!isDnsLabel(c.name ?? "")) add(`${path}.name`, `"${c.name}" must be a DNS label`);
      if (containerNames.has(c.name)) add(`${path}.name`, `"${c.name}" is used twice`);
      containerNames.add(c.name);
      (c.ports ?? []).forEach((p: Record<string, any>, i: number) => {
        if (p.name === undefined) return;
        if (!isPortName(p.name)) add(`${path}.ports[${i}].name`, `"${p.name}" is not a valid port name (at most 15 of [a-z0-9-], with a letter)`);
        if (portNames.has(p.name)) add(`${path}.ports[${i}].name`, `"${p.name}" is used twice in the pod`);
        portNames.add(p.name);
      });
      const envs = new Set<string>();
      (c.env ?? []).forEach((e: Record<string, any>, i: number) => {
        if (!ENV_NAME.test(e.name ?? "")) add(`${path}.env[${i}].name`, `"${e.name}" is not a valid environment variable name`);
        if (envs.has(e.name)) add(`${path}.env[${i}].name`, `"${e.name}" is set twice; the last one wins silently`);
        envs.add(e.name);
      });
      const mounts = new Set<string>();
      (c.volumeMounts ?? []).forEach((m: Record<string, any>, i: number) => {
        if (!volumes.has(m.name)) add(`${path}.volumeMounts[${i}].name`, `"${m.name}" is no volume of the pod`);
        if (mounts.has(m.mountPath)) add(`${path}.volumeMounts[${i}].mountPath`, `"${m.mountPath}" is mounted twice`);
        mounts.add(m.mountPath);
      });
      for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        const p = c[probe];
        const port = p?.httpGet?.port ?? p?.tcpSocket?.port;
        if (typeof port === "string" && !isPortName(port)) add(`${path}.${probe}`, `port "${port}" is not a valid port name`);
        if (p && probe !== "readinessProbe" && p.successThreshold !== undefined && p.successThreshold !== 1) add(`${path}.${probe}.successThreshold`, "must be 1");
      }
    }
    return out;
  },
};

function checkService(spec: Record<string, any>, add: (f: string, m: string) => void, labels: (f: string, l: Record<string, unknown> | undefined) => void): void {
  labels("spec.selector", spec.selector);
  const ports: Array<Record<string, any>> = spec.ports ?? [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    if (ports.length > 1 && !p.name) add(`spec.ports[${i}].name`, "required when a Service has more than one port");
    if (p.name && !isDnsLabel(p.name)) add(`spec.ports[${i}].name`, `"${p.name}" must be a DNS label`);
    if (p.name && names.has(p.name)) add(`spec.ports[${i}].name`, `"${p.name}" is used twice`);
    names.add(p.name);
    if (typeof p.targetPort === "string" && !isPortName(p.targetPort)) add(`spec.ports[${i}].targetPort`, `"${p.targetPort}" is not a valid port name`);
  });
}

function checkData(obj: Record<string, any>, add: (f: string, m: string) => void): void {
  let bytes = 0;
  for (const field of ["data", "binaryData", "stringData"]) {
    for (const [k, v] of Object.entries((obj[field] ?? {}) as Record<string, string>)) {
      if (!DATA_KEY.test(k) || k.length > 253) add(`${field}.${k}`, "key must be at most 253 of [-._a-zA-Z0-9]");
      bytes += field === "binaryData" || (field === "data" && obj.kind === "Secret") ? Buffer.from(v, "base64").length : Buffer.byteLength(v);
    }
  }
  if (bytes > MAX_CONFIGMAP_BYTES) add("data", `${bytes} bytes; a ${obj.kind} holds at most 1 MiB`);
}
