import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { formatFinding, runPolicies } from "../engine";
import { DEFAULT_RULES, namespaceDefaultDeny } from "../rules";
import { K8sObject } from "../types";

/** True for a Kubernetes object registered through @pulumi/kubernetes (not a Helm release or provider). */
export function isKubernetesObject(type: string, props: Record<string, unknown>): boolean {
  return type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm.sh/") && type !== "pulumi:providers:kubernetes" && typeof props.kind === "string";
}

const PER_OBJECT_RULES = DEFAULT_RULES.filter((r) => r.id !== namespaceDefaultDeny.id);

/** The manifest rules of the synth, applied to every Kubernetes object Pulumi is about to create (suppressions honoured). */
export const kubernetesManifestRules: ResourceValidationPolicy = {
  name: "stratum-kubernetes-manifest-rules",
  description: `The Stratum manifest rules (${PER_OBJECT_RULES.map((r) => r.id).join(", ")}) on every Kubernetes object.`,
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (!isKubernetesObject(args.type, args.props)) return;
    const report = runPolicies([args.props as K8sObject], PER_OBJECT_RULES);
    for (const f of report.errors) reportViolation(formatFinding(f));
  },
};

/** Every namespace of the stack has its default-deny NetworkPolicy (a rule over the whole stack). */
export const kubernetesNamespaceDefaultDeny: StackValidationPolicy = {
  name: "stratum-namespace-default-deny",
  description: namespaceDefaultDeny.description,
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const objects = args.resources.filter((r) => isKubernetesObject(r.type, r.props)).map((r) => r.props as K8sObject);
    const report = runPolicies(objects.filter((o) => o.kind === "Namespace" || o.kind === "NetworkPolicy"), [namespaceDefaultDeny]);
    for (const f of report.errors) reportViolation(formatFinding(f));
  },
};
