import { containersOf, podSpecOf } from "../pod-spec";
import { PolicyRule, Violation } from "../types";

/** No host namespaces, hostPath volumes, host ports or privileged containers. */
export const hostAccessForbidden: PolicyRule = {
  id: "host-access-forbidden",
  severity: "error",
  description: "Pods use no host network, PID or IPC namespace, no hostPath volume or host port, and no privileged container.",
  check(obj) {
    const pod = podSpecOf(obj);
    if (!pod) return [];
    const out: Violation[] = [];
    for (const ns of ["hostNetwork", "hostPID", "hostIPC"]) {
      if (pod.spec[ns] === true) out.push({ field: `${pod.path}.${ns}`, message: "must not be true" });
    }
    (pod.spec.volumes ?? []).forEach((v: Record<string, any>, i: number) => {
      if (v.hostPath) out.push({ field: `${pod.path}.volumes[${i}].hostPath`, message: `volume '${v.name}' must not mount a host path (${v.hostPath.path})` });
    });
    for (const { path, container } of containersOf(pod)) {
      if (container.securityContext?.privileged === true) out.push({ field: `${path}.securityContext.privileged`, message: "must not be true" });
      (container.ports ?? []).forEach((p: Record<string, any>, i: number) => {
        if (p.hostPort) out.push({ field: `${path}.ports[${i}].hostPort`, message: `must not bind a host port (got ${p.hostPort})` });
      });
    }
    return out;
  },
};
