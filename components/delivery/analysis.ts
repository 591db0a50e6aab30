import { Construct } from "constructs";
import { AnalysisTemplate, AnalysisTemplateSpecMetricsFailureLimit } from "../../constructs/imports/rollouts-analysistemplate-argoproj.io";
import { recommendedLabels } from "../../constructs/labels";
import { customResourceAnnotations } from "../../constructs/sync";
import { analysisTemplateName, DeliveryProps } from "../services/delivery";

/** Props of one service's release analysis. */
export interface ReleaseAnalysisProps {
  /** Service name (the `service` label of its metrics). */
  readonly service: string;
  /** Namespace of the service and its Rollout. */
  readonly namespace: string;
  /** The service's delivery settings (thresholds). */
  readonly delivery: DeliveryProps;
  /** Prometheus base URL. */
  readonly prometheusUrl: string;
  /** How often to measure. */
  readonly interval: string;
  /** Failed measurements that abort the rollout. */
  readonly failureLimit: number;
}

/** Default share of non-5xx responses a new version must keep. */
export const DEFAULT_MIN_SUCCESS_RATE = 0.99;
/** Default p99 latency ceiling of a new version, in milliseconds. */
export const DEFAULT_MAX_P99_MS = 500;

/** The PromQL of a service's success rate over the last two minutes. */
export function successRateQuery(service: string, namespace: string): string {
  const sel = `namespace="${namespace}", service="${service}"`;
  return `sum(rate(http_requests_total{${sel}, code!~"5.."}[2m])) / sum(rate(http_requests_total{${sel}}[2m]))`;
}

/** The PromQL of a service's p99 latency in seconds over the last two minutes. */
export function p99LatencyQuery(service: string, namespace: string): string {
  return `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="${namespace}", service="${service}"}[2m])))`;
}

/**
 * The AnalysisTemplate a service's Rollout runs: success rate and p99 latency from Prometheus against the service's
 * typed thresholds. A failed measurement beyond the limit aborts the rollout, which sends all traffic back to stable.
 * No traffic yet (an empty result) counts as passing, so that a quiet canary is not rolled back for silence.
 */
export class ReleaseAnalysis extends Construct {
  constructor(scope: Construct, id: string, props: ReleaseAnalysisProps) {
    super(scope, id);
    const minSuccess = props.delivery.minSuccessRate ?? DEFAULT_MIN_SUCCESS_RATE;
    const maxP99 = (props.delivery.maxP99LatencyMs ?? DEFAULT_MAX_P99_MS) / 1000;
    const failureLimit = AnalysisTemplateSpecMetricsFailureLimit.fromNumber(props.failureLimit);
    new AnalysisTemplate(this, "Template", {
      metadata: {
        name: analysisTemplateName(props.service),
        namespace: props.namespace,
        labels: recommendedLabels({ name: props.service, component: "delivery" }),
        annotations: customResourceAnnotations(),
      },
      spec: {
        metrics: [
          {
            name: "success-rate",
            interval: props.interval,
            failureLimit,
            successCondition: `len(result) == 0 || result[0] >= ${minSuccess}`,
            provider: { prometheus: { address: props.prometheusUrl, query: successRateQuery(props.service, props.namespace) } },
          },
          {
            name: "latency-p99",
            interval: props.interval,
            failureLimit,
            successCondition: `len(result) == 0 || result[0] <= ${maxP99}`,
            provider: { prometheus: { address: props.prometheusUrl, query: p99LatencyQuery(props.service, props.namespace) } },
          },
        ],
      },
    });
  }
}
