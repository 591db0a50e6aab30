import { K8sObject, PolicyRule } from "../types";

function isDefaultDeny(o: K8sObject, namespace: string): boolean {
  if (o.kind !== "NetworkPolicy" || o.metadata.namespace !== namespace) return false;
  const spec = (o.spec ?? {}) as Record<string, any>;
  const selectsAll = spec.podSelector && Object.keys(spec.podSelector.matchLabels ?? {}).length === 0 && (spec.podSelector.matchExpressions ?? []).length === 0;
  const types: string[] = spec.policyTypes ?? [];
  return Boolean(selectsAll) && types.includes("Ingress") && types.includes("Egress") && (spec.ingress ?? []).length === 0 && (spec.egress ?? []).length === 0;
}

/** Every namespace carries a NetworkPolicy that denies all ingress and egress by default. */
export const namespaceDefaultDeny: PolicyRule = {
  id: "namespace-default-deny",
  severity: "error",
  description: "Every Namespace has a default-deny NetworkPolicy (all pods, Ingress and Egress, no rules): zero trust starts from nothing allowed.",
  check(obj, ctx) {
    if (obj.kind !== "Namespace") return [];
    const ns = obj.metadata.name ?? "";
    return ctx.objects.some((o) => isDefaultDeny(o, ns)) ? [] : [{ field: "metadata.name", message: `namespace '${ns}' has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)` }];
  },
};
