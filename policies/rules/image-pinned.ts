import { imagePinProblem } from "../../constructs/image";
import { containersOf, podSpecOf } from "../pod-spec";
import { PolicyRule, Violation } from "../types";

/** Every image is pinned to an exact version or digest. */
export const imagePinned: PolicyRule = {
  id: "image-pinned",
  severity: "error",
  description: "Every container image has an exact version tag or a digest, so that a deployment is reproducible.",
  check(obj) {
    const pod = podSpecOf(obj);
    if (!pod) return [];
    const out: Violation[] = [];
    for (const { path, container } of containersOf(pod)) {
      const problem = imagePinProblem(String(container.image ?? ""));
      if (problem) out.push({ field: `${path}.image`, message: problem });
    }
    return out;
  },
};
