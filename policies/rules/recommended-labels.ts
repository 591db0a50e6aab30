import { podSpecOf } from "../pod-spec";
import { PolicyRule, Violation } from "../types";

/** The labels every object must carry. */
export const REQUIRED_LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"];

/** Objects, and the pod templates of workloads, carry the recommended app.kubernetes.io labels. */
export const recommendedLabelsRule: PolicyRule = {
  id: "recommended-labels",
  severity: "error",
  description: "Every object (and every pod template) has the recommended app.kubernetes.io/name, part-of and managed-by labels.",
  check(obj) {
    const out: Violation[] = [];
    for (const key of REQUIRED_LABELS) {
      if (!obj.metadata.labels?.[key]) out.push({ field: `metadata.labels["${key}"]`, message: "is required" });
    }
    const pod = podSpecOf(obj);
    if (pod && pod.path !== "spec") {
      const templatePath = pod.path.replace(/\.spec$/, "");
      const template = templatePath.split(".").reduce<any>((acc, k) => acc?.[k], obj);
      for (const key of ["app.kubernetes.io/name"]) {
        if (!template?.metadata?.labels?.[key]) out.push({ field: `${templatePath}.metadata.labels["${key}"]`, message: "is required" });
      }
    }
    return out;
  },
};
