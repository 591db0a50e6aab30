import { podSpecOf } from "../pod-spec";
import { PolicyRule } from "../types";

/** ServiceAccount tokens are not mounted unless a workload says why it calls the API. */
export const saTokenAutomount: PolicyRule = {
  id: "sa-token-automount",
  severity: "error",
  description: "ServiceAccounts and pods set automountServiceAccountToken: false; a workload that calls the Kubernetes API suppresses this with its reason.",
  check(obj) {
    if (obj.kind === "ServiceAccount") {
      return obj.automountServiceAccountToken === false ? [] : [{ field: "automountServiceAccountToken", message: "must be false" }];
    }
    const pod = podSpecOf(obj);
    if (!pod) return [];
    return pod.spec.automountServiceAccountToken === false ? [] : [{ field: `${pod.path}.automountServiceAccountToken`, message: "must be false" }];
  },
};
