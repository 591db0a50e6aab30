import { PolicyRule, Violation } from "../types";

const ENFORCE = "pod-security.kubernetes.io/enforce";
/** Annotation that explains a namespace enforcing less than `restricted`. */
export const POD_SECURITY_EXCEPTION = "stratum.dev/pod-security-exception";

/** Every namespace enforces Pod Security `restricted`, or says in an annotation why it cannot. */
export const podSecurityLabels: PolicyRule = {
  id: "pod-security-labels",
  severity: "error",
  description: "Every Namespace carries pod-security.kubernetes.io/enforce (and its version); anything but 'restricted' needs a written exception.",
  check(obj) {
    if (obj.kind !== "Namespace") return [];
    const out: Violation[] = [];
    const labels = obj.metadata.labels ?? {};
    const level = labels[ENFORCE];
    if (!level) out.push({ field: `metadata.labels["${ENFORCE}"]`, message: "is required (restricted, or an exception with a reason)" });
    else if (!["restricted", "baseline", "privileged"].includes(level)) out.push({ field: `metadata.labels["${ENFORCE}"]`, message: `must be restricted, baseline or privileged (got ${level})` });
    if (level && !labels[`${ENFORCE}-version`]) out.push({ field: `metadata.labels["${ENFORCE}-version"]`, message: "is required, so that a cluster upgrade never changes the rules silently" });
    if (level && level !== "restricted" && (obj.metadata.annotations?.[POD_SECURITY_EXCEPTION] ?? "").trim().length < 10) {
      out.push({ field: `metadata.annotations["${POD_SECURITY_EXCEPTION}"]`, message: `namespace enforces '${level}': explain why in this annotation` });
    }
    return out;
  },
};
