export { DeliveryComponent, DeliveryComponentProps, ROLLOUTS_CHART, ROLLOUTS_NAMESPACE, ROLLOUTS_VERSION } from "./delivery";
export { ReleaseAnalysis, ReleaseAnalysisProps, successRateQuery, p99LatencyQuery, DEFAULT_MAX_P99_MS, DEFAULT_MIN_SUCCESS_RATE } from "./analysis";
