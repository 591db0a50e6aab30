import type { DeliverySizing } from "../../stacks/environments/environment";

/** How a new version of a business service is released. */
export interface DeliveryProps {
  /**
   * `canary`: a growing share of traffic (the environment's steps) through the mesh, measured at each step;
   * `blueGreen`: the new version runs beside the old behind a preview Service and takes all traffic once measured.
   */
  readonly strategy: "canary" | "blueGreen";
  /** Share of non-5xx responses the new version must keep (0-1). @default 0.99 */
  readonly minSuccessRate?: number;
  /** p99 latency the new version must stay under, in milliseconds. @default 500 */
  readonly maxP99LatencyMs?: number;
}

/** Subset names of the mesh DestinationRule that a canary Rollout shifts traffic between. */
export const STABLE_SUBSET = "stable";
export const CANARY_SUBSET = "canary";
/** Name of the HTTP route of a service's VirtualService that a canary reweights. */
export const DEFAULT_ROUTE = "default";

/** Name of the AnalysisTemplate that judges a service's new version. */
export function analysisTemplateName(service: string): string {
  return `${service}-slo`;
}

/** Name of the preview Service of a blue-green release. */
export function previewServiceName(service: string): string {
  return `${service}-preview`;
}

/** Checks a service's delivery props; returns the problems. */
export function deliveryProblems(d: DeliveryProps): string[] {
  const out: string[] = [];
  if (!["canary", "blueGreen"].includes(d.strategy)) out.push(`delivery.strategy must be canary or blueGreen (got ${JSON.stringify(d.strategy)})`);
  if (d.minSuccessRate !== undefined && !(d.minSuccessRate > 0 && d.minSuccessRate <= 1)) out.push(`delivery.minSuccessRate must be in (0, 1] (got ${d.minSuccessRate})`);
  if (d.maxP99LatencyMs !== undefined && !(Number.isInteger(d.maxP99LatencyMs) && d.maxP99LatencyMs > 0)) out.push(`delivery.maxP99LatencyMs must be a positive integer (got ${d.maxP99LatencyMs})`);
  return out;
}

/** The Rollout `spec.strategy` of a service: steps by tier, traffic through the mesh, analysis that rolls back. */
export function rolloutStrategy(service: string, d: DeliveryProps, sizing: DeliverySizing): Record<string, unknown> {
  const analysis = { templates: [{ templateName: analysisTemplateName(service) }] };
  if (d.strategy === "blueGreen") {
    return {
      blueGreen: {
        activeService: service,
        previewService: previewServiceName(service),
        autoPromotionEnabled: true,
        prePromotionAnalysis: analysis,
        scaleDownDelaySeconds: 30,
        abortScaleDownDelaySeconds: 30,
      },
    };
  }
  return {
    canary: {
      trafficRouting: {
        istio: {
          virtualService: { name: service, routes: [DEFAULT_ROUTE] },
          destinationRule: { name: service, stableSubsetName: STABLE_SUBSET, canarySubsetName: CANARY_SUBSET },
        },
      },
      // measured from the first step on; a failed analysis aborts and sends every request back to stable
      analysis: { ...analysis, startingStep: 1 },
      steps: sizing.canarySteps.flatMap((s) => [{ setWeight: s.weight }, { pause: { duration: s.pause } }]),
      abortScaleDownDelaySeconds: 30,
    },
  };
}
