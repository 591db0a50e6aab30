import { K8sObject } from "./types";

/** A pod spec found inside an object, with the dotted path that leads to it. */
export interface PodSpecAt {
  readonly path: string;
  readonly spec: Record<string, any>;
}

const TEMPLATE_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Rollout", "ReplicationController"]);
/** Kinds that run pods for a long time, so that probes matter. */
export const LONG_RUNNING_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout", "ReplicationController"]);

/** The pod spec of a workload object, or undefined for objects that hold none. */
export function podSpecOf(obj: K8sObject): PodSpecAt | undefined {
  const spec = obj.spec as Record<string, any> | undefined;
  if (!spec) return undefined;
  if (obj.kind === "Pod") return { path: "spec", spec };
  if (TEMPLATE_KINDS.has(obj.kind) && spec.template?.spec) return { path: "spec.template.spec", spec: spec.template.spec };
  if (obj.kind === "CronJob" && spec.jobTemplate?.spec?.template?.spec) return { path: "spec.jobTemplate.spec.template.spec", spec: spec.jobTemplate.spec.template.spec };
  return undefined;
}

/** A container with its dotted path. */
export interface ContainerAt {
  readonly path: string;
  readonly container: Record<string, any>;
  readonly init: boolean;
}

/** Every container and init container of a pod spec. */
export function containersOf(pod: PodSpecAt): ContainerAt[] {
  const out: ContainerAt[] = [];
  (pod.spec.initContainers ?? []).forEach((c: Record<string, any>, i: number) => out.push({ path: `${pod.path}.initContainers[${i}]`, container: c, init: true }));
  (pod.spec.containers ?? []).forEach((c: Record<string, any>, i: number) => out.push({ path: `${pod.path}.containers[${i}]`, container: c, init: false }));
  return out;
}
