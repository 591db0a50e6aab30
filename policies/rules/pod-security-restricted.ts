import { containersOf, podSpecOf } from "../pod-spec";
import { PolicyRule, Violation } from "../types";

const SECCOMP_OK = new Set(["RuntimeDefault", "Localhost"]);

/** Pod Security Standards "restricted": non-root, no privilege escalation, all capabilities dropped, seccomp. */
export const podSecurityRestricted: PolicyRule = {
  id: "pod-security-restricted",
  severity: "error",
  description: "Pods meet the Pod Security 'restricted' profile: runAsNonRoot, no privilege escalation, capabilities dropped, seccomp RuntimeDefault.",
  check(obj) {
    const pod = podSpecOf(obj);
    if (!pod) return [];
    const out: Violation[] = [];
    const psc = pod.spec.securityContext ?? {};
    if (psc.runAsUser === 0) out.push({ field: `${pod.path}.securityContext.runAsUser`, message: "must not be 0 (root)" });
    for (const { path, container } of containersOf(pod)) {
      const sc = container.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false) out.push({ field: `${path}.securityContext.allowPrivilegeEscalation`, message: "must be false" });
      const runAsNonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
      if (runAsNonRoot !== true) out.push({ field: `${path}.securityContext.runAsNonRoot`, message: "must be true (on the container or the pod)" });
      if (sc.runAsUser === 0) out.push({ field: `${path}.securityContext.runAsUser`, message: "must not be 0 (root)" });
      const drop: string[] = sc.capabilities?.drop ?? [];
      if (!drop.includes("ALL")) out.push({ field: `${path}.securityContext.capabilities.drop`, message: "must include ALL" });
      const add: string[] = sc.capabilities?.add ?? [];
      const extra = add.filter((c) => c !== "NET_BIND_SERVICE");
      if (extra.length) out.push({ field: `${path}.securityContext.capabilities.add`, message: `may only add NET_BIND_SERVICE (got ${extra.join(", ")})` });
      const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
      if (!SECCOMP_OK.has(seccomp)) out.push({ field: `${path}.securityContext.seccompProfile.type`, message: `must be RuntimeDefault or Localhost on the container or the pod (got ${seccomp ?? "nothing"})` });
    }
    return out;
  },
};
