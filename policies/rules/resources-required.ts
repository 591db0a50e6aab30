import { isByteQuantity, quantityBytes } from "../../constructs/quantity";
import { containersOf, podSpecOf } from "../pod-spec";
import { PolicyRule, Violation } from "../types";

const RESOURCES = ["cpu", "memory", "ephemeral-storage"];

/** Bytes of a quantity the API server would print back, or undefined for one this check cannot read. */
function bytes(value: unknown): number | undefined {
  const text = String(value);
  return isByteQuantity(text) ? quantityBytes(text) : undefined;
}

/**
 * Every container declares CPU, memory and ephemeral-storage requests and limits, and the pod's ephemeral-storage
 * limits cover its emptyDir volumes (the kubelet evicts a pod whose containers and emptyDirs together use more than
 * the sum of its containers' limits, so a smaller sum evicts it before the volumes are full).
 */
export const resourcesRequired: PolicyRule = {
  id: "resources-required",
  severity: "error",
  description: "Every container sets cpu, memory and ephemeral-storage requests and limits, so that scheduling and eviction are predictable.",
  check(obj) {
    const pod = podSpecOf(obj);
    if (!pod) return [];
    const out: Violation[] = [];
    let limits = 0;
    for (const { path, container, init } of containersOf(pod)) {
      for (const kind of ["requests", "limits"] as const) {
        for (const res of RESOURCES) {
          if (container.resources?.[kind]?.[res] === undefined) out.push({ field: `${path}.resources.${kind}.${res}`, message: "is required" });
        }
      }
      if (!init) limits += bytes(container.resources?.limits?.["ephemeral-storage"]) ?? 0;
    }
    const emptyDirs = ((pod.spec.volumes ?? []) as Array<Record<string, any>>).filter((v) => v.emptyDir && v.emptyDir.medium !== "Memory");
    const sized = emptyDirs.map((v) => bytes(v.emptyDir.sizeLimit ?? "0") ?? 0).reduce((a, b) => a + b, 0);
    if (!out.length && sized > limits) {
      out.push({
        field: `${pod.path}.volumes`,
        message: `emptyDir size limits total ${Math.ceil(sized / 2 ** 20)}Mi, more than the containers' ephemeral-storage limits (${Math.floor(limits / 2 ** 20)}Mi); the kubelet would evict the pod before its volumes fill`,
      });
    }
    return out;
  },
};
