import { PolicyRule } from "../types";

/**
 * Kinds that exist once per cluster (Kubernetes 1.28 and the operator CRDs the platform configures). Any other kind
 * is namespaced. A kind added to the platform that is cluster-scoped belongs here, or the rule refuses it for lacking
 * a namespace.
 */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  "APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding", "CSIDriver", "CSINode",
  "CustomResourceDefinition", "FlowSchema", "IngressClass", "MutatingWebhookConfiguration", "Namespace", "Node",
  "PersistentVolume", "PriorityClass", "PriorityLevelConfiguration", "RuntimeClass", "StorageClass",
  "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration", "VolumeAttachment",
  // operators: cert-manager, External Secrets, Argo Rollouts, Gateway API, CloudNativePG
  "ClusterIssuer", "ClusterSecretStore", "ClusterExternalSecret", "ClusterGenerator", "ClusterAnalysisTemplate",
  "GatewayClass", "ClusterImageCatalog",
]);

/** Cluster-scoped objects carry no namespace; namespaced ones name theirs. */
export const namespaceScope: PolicyRule = {
  id: "namespace-scope",
  severity: "error",
  description:
    "A cluster-scoped object carries no metadata.namespace (GitOps tools then report it out of sync or refuse it), and a namespaced object names its namespace instead of landing wherever it is applied.",
  check(obj) {
    const cluster = CLUSTER_SCOPED_KINDS.has(obj.kind);
    if (cluster && obj.metadata.namespace !== undefined) {
      return [{ field: "metadata.namespace", message: `${obj.kind} is cluster-scoped: remove the namespace ("${obj.metadata.namespace}")` }];
    }
    if (!cluster && !obj.metadata.namespace) return [{ field: "metadata.namespace", message: `${obj.kind} is namespaced: set its namespace` }];
    return [];
  },
};
