import { PolicyRule } from "../types";

/** No Secret in the output carries data: credentials come from a secret store by reference. */
export const secretNoData: PolicyRule = {
  id: "secret-no-data",
  severity: "error",
  description: "No Secret in the output carries data or stringData: credentials come by reference (External Secrets), never in Git.",
  check(obj) {
    if (obj.kind !== "Secret") return [];
    const out = [];
    for (const field of ["data", "stringData"]) {
      const v = obj[field] as Record<string, unknown> | undefined;
      if (v && Object.keys(v).length > 0) out.push({ field, message: `must be empty; keys found: ${Object.keys(v).sort().join(", ")}` });
    }
    return out;
  },
};
