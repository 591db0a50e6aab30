import { PolicyRule, Violation } from "../types";

const ROLE_KINDS = new Set(["Role", "ClusterRole"]);
const BINDING_KINDS = new Set(["RoleBinding", "ClusterRoleBinding"]);
/** Built-in ClusterRoles that grant everything or nearly everything. */
const OVERPOWERED = new Set(["cluster-admin", "admin", "edit"]);

/** Roles list their verbs, resources and API groups; no binding hands out cluster-admin, admin or edit. */
export const rbacLeastPrivilege: PolicyRule = {
  id: "rbac-least-privilege",
  severity: "error",
  description: "Roles name their API groups, resources and verbs (no '*'), and nothing is bound to cluster-admin, admin or edit.",
  check(obj) {
    const out: Violation[] = [];
    if (ROLE_KINDS.has(obj.kind)) {
      const rules = (obj.rules ?? []) as Array<Record<string, string[] | undefined>>;
      rules.forEach((rule, i) => {
        for (const field of ["apiGroups", "resources", "verbs", "nonResourceURLs"]) {
          if ((rule[field] ?? []).some((v) => v === "*" || v.endsWith("/*"))) out.push({ field: `rules[${i}].${field}`, message: `must list exactly what is needed, not '*' (got ${JSON.stringify(rule[field])})` });
        }
      });
      if (obj.aggregationRule) out.push({ field: "aggregationRule", message: "aggregated roles grow silently; list the rules instead" });
    }
    if (BINDING_KINDS.has(obj.kind)) {
      const ref = obj.roleRef as { kind?: string; name?: string } | undefined;
      if (ref?.kind === "ClusterRole" && ref.name && OVERPOWERED.has(ref.name)) out.push({ field: "roleRef.name", message: `must not bind the built-in '${ref.name}' role; write a Role with the verbs needed` });
    }
    return out;
  },
};
