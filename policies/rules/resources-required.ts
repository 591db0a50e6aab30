import { containersOf, podSpecOf } from "../pod-spec";
import { PolicyRule, Violation } from "../types";

/** Every container declares CPU and memory requests and limits. */
export const resourcesRequired: PolicyRule = {
  id: "resources-required",
  severity: "error",
  description: "Every container sets cpu and memory requests and limits, so that scheduling and eviction are predictable.",
  check(obj) {
    const pod = podSpecOf(obj);
    if (!pod) return [];
    const out: Violation[] = [];
    for (const { path, container } of containersOf(pod)) {
      for (const kind of ["requests", "limits"] as const) {
        for (const res of ["cpu", "memory"]) {
          if (container.resources?.[kind]?.[res] === undefined) out.push({ field: `${path}.resources.${kind}.${res}`, message: "is required" });
        }
      }
    }
    return out;
  },
};
