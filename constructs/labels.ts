/** The label key prefix Kubernetes recommends (app.kubernetes.io/*). */
export const APP_LABEL = "app.kubernetes.io";
/** Value of app.kubernetes.io/part-of and managed-by for everything Stratum emits. */
export const PART_OF = "stratum";
/** Annotation that suppresses a policy rule on one object: `"<rule-id>: <reason>"`, several separated by `;`. */
export const SUPPRESS_ANNOTATION = "stratum.dev/suppress";

/** What a workload's recommended labels are made from. */
export interface RecommendedLabelProps {
  /** The application's name, e.g. `order` or `postgres`. */
  readonly name: string;
  /** The role within the platform, e.g. `business-service`, `database`, `gateway`. */
  readonly component: string;
  /** The version, usually the image tag. */
  readonly version?: string;
  /** The unique instance name. @default the name */
  readonly instance?: string;
}

/** The recommended `app.kubernetes.io/*` labels. */
export function recommendedLabels(props: RecommendedLabelProps): Record<string, string> {
  const labels: Record<string, string> = {
    [`${APP_LABEL}/name`]: props.name,
    [`${APP_LABEL}/instance`]: props.instance ?? props.name,
    [`${APP_LABEL}/component`]: props.component,
    [`${APP_LABEL}/part-of`]: PART_OF,
    [`${APP_LABEL}/managed-by`]: PART_OF,
  };
  if (props.version) labels[`${APP_LABEL}/version`] = props.version;
  return labels;
}

/** The stable subset of the recommended labels that selects a workload's pods (never the version). */
export function selectorLabels(props: Pick<RecommendedLabelProps, "name" | "instance">): Record<string, string> {
  return { [`${APP_LABEL}/name`]: props.name, [`${APP_LABEL}/instance`]: props.instance ?? props.name };
}
