import { ApiObject, JsonPatch } from "cdk8s";

/**
 * Marks an object as cluster-scoped: a Chart with a namespace stamps it on every object it holds, cluster-scoped
 * ones (ClusterRole, ClusterRoleBinding) included, where it does not belong.
 */
export function clusterScoped<T extends ApiObject>(obj: T): T {
  if (obj.metadata.namespace !== undefined) obj.addJsonPatch(JsonPatch.remove("/metadata/namespace"));
  return obj;
}
