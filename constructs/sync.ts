import { SYNC_WAVE } from "./helm-addon";

/** ArgoCD sync wave of custom resources: after the operators that define their kinds. */
export const CUSTOM_RESOURCE_WAVE = 10;

/**
 * Annotations of a custom resource that ships in the same Application as the operator that defines its kind: a later
 * sync wave, and no dry run while the CRD does not exist yet (the first sync would fail otherwise).
 */
export function customResourceAnnotations(wave: number = CUSTOM_RESOURCE_WAVE): Record<string, string> {
  return { [SYNC_WAVE]: String(wave), "argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true" };
}
