import { isDeepStrictEqual } from "node:util";
import { containersOf, LONG_RUNNING_KINDS, podSpecOf } from "../pod-spec";
import { PolicyRule, Violation } from "../types";

/**
 * Long-running containers declare readiness and liveness probes, and not the same one twice: a liveness probe that
 * fails exactly when readiness does restarts a container that is only busy, at the moment it left the endpoints.
 */
export const probesRequired: PolicyRule = {
  id: "probes-required",
  severity: "error",
  description: "Containers of long-running workloads have readiness and liveness probes, not identical, so traffic and restarts follow health.",
  check(obj) {
    if (!LONG_RUNNING_KINDS.has(obj.kind)) return [];
    const pod = podSpecOf(obj);
    if (!pod) return [];
    const out: Violation[] = [];
    for (const { path, container, init } of containersOf(pod)) {
      if (init) continue;
      if (!container.readinessProbe) out.push({ field: `${path}.readinessProbe`, message: "is required" });
      if (!container.livenessProbe) out.push({ field: `${path}.livenessProbe`, message: "is required" });
      else if (container.readinessProbe && isDeepStrictEqual(container.readinessProbe, container.livenessProbe)) {
        out.push({ field: `${path}.livenessProbe`, message: "is the same as the readiness probe; make it more lenient (a longer period or more failures) or check another endpoint" });
      }
    }
    return out;
  },
};
