import { containersOf, LONG_RUNNING_KINDS, podSpecOf } from "../pod-spec";
import { PolicyRule, Violation } from "../types";

/** Long-running containers declare readiness and liveness probes. */
export const probesRequired: PolicyRule = {
  id: "probes-required",
  severity: "error",
  description: "Containers of long-running workloads have readiness and liveness probes, so traffic and restarts follow health.",
  check(obj) {
    if (!LONG_RUNNING_KINDS.has(obj.kind)) return [];
    const pod = podSpecOf(obj);
    if (!pod) return [];
    const out: Violation[] = [];
    for (const { path, container, init } of containersOf(pod)) {
      if (init) continue;
      if (!container.readinessProbe) out.push({ field: `${path}.readinessProbe`, message: "is required" });
      if (!container.livenessProbe) out.push({ field: `${path}.livenessProbe`, message: "is required" });
    }
    return out;
  },
};
