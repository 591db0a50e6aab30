import { SUPPRESS_ANNOTATION } from "../constructs/labels";
import { Finding, K8sObject, PolicyReport, PolicyRule } from "./types";

/** Id of the finding a malformed suppression produces. */
export const SUPPRESSION_RULE_ID = "suppression-invalid";

interface Suppressions {
  readonly reasons: Map<string, string>;
  readonly problems: string[];
}

/** Parses `"<rule-id>: <reason>; <rule-id>: <reason>"`; an entry without a reason is a problem, not a suppression. */
export function parseSuppressions(value: string | undefined, knownIds: ReadonlySet<string>): Suppressions {
  const reasons = new Map<string, string>();
  const problems: string[] = [];
  if (value === undefined) return { reasons, problems };
  for (const raw of value.split(";")) {
    const entry = raw.trim();
    if (!entry) continue;
    const m = /^([a-z0-9-]+)\s*:\s*(.*)$/.exec(entry);
    if (!m) { problems.push(`'${entry}' is not '<rule-id>: <reason>'`); continue; }
    const [, id, reason] = m;
    if (!knownIds.has(id)) { problems.push(`'${id}' is not a rule; known: ${[...knownIds].sort().join(", ")}`); continue; }
    if (reason.trim().length === 0) { problems.push(`suppression of '${id}' has no reason`); continue; }
    reasons.set(id, reason.trim());
  }
  return { reasons, problems };
}

/** Runs every rule over every object; suppressions with a reason silence a rule on one object. */
export function runPolicies(objects: ReadonlyArray<K8sObject>, rules: ReadonlyArray<PolicyRule>): PolicyReport {
  const ids = new Set(rules.map((r) => r.id));
  const findings: Finding[] = [];
  const suppressed: Array<Finding & { reason: string }> = [];
  const ctx = { objects };
  for (const obj of objects) {
    const where = { kind: obj.kind, namespace: obj.metadata?.namespace, name: obj.metadata?.name };
    const sup = parseSuppressions(obj.metadata?.annotations?.[SUPPRESS_ANNOTATION], ids);
    for (const message of sup.problems) {
      findings.push({ ruleId: SUPPRESSION_RULE_ID, severity: "error", ...where, field: `metadata.annotations["${SUPPRESS_ANNOTATION}"]`, message });
    }
    for (const rule of rules) {
      for (const v of rule.check(obj, ctx)) {
        const finding: Finding = { ruleId: rule.id, severity: rule.severity, ...where, ...v };
        const reason = sup.reasons.get(rule.id);
        if (reason) suppressed.push({ ...finding, reason });
        else findings.push(finding);
      }
    }
  }
  return { findings, suppressed, errors: findings.filter((f) => f.severity === "error") };
}

/** One line per finding: `error [rule] Kind namespace/name: field: message`. */
export function formatFinding(f: Finding): string {
  const ref = f.namespace ? `${f.namespace}/${f.name}` : `${f.name}`;
  return `${f.severity} [${f.ruleId}] ${f.kind} ${ref}: ${f.field}: ${f.message}`;
}
