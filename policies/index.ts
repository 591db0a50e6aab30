export * from "./types";
export { runPolicies, formatFinding, parseSuppressions, SUPPRESSION_RULE_ID } from "./engine";
export { podSpecOf, containersOf } from "./pod-spec";
export * from "./rules";
