import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BreakerState } from "./breaker";

// Ordered by severity, so that `== 2` is "open" and `max` over replicas shows the worst.
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** The gateway's Prometheus metrics, in their own registry. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: "gateway_requests_total", help: "Requests by route, method and status.", labelNames: ["route", "method", "status"], registers: [this.registry] });
  readonly duration = new Histogram({
    name: "gateway_request_duration_seconds",
    help: "Time from request to response head, by route.",
    labelNames: ["route"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly breaker = new Gauge({ name: "gateway_circuit_breaker_state", help: "Breaker state per upstream: 0 closed, 1 half-open, 2 open.", labelNames: ["upstream"], registers: [this.registry] });
  readonly breakerTransitions = new Counter({ name: "gateway_circuit_breaker_transitions_total", help: "Breaker transitions by upstream and new state.", labelNames: ["upstream", "state"], registers: [this.registry] });
  readonly rateLimited = new Counter({ name: "gateway_rate_limited_total", help: "Requests rejected by a rate limit, by kind of limit (ip, user, service, backend).", labelNames: ["kind"], registers: [this.registry] });
  readonly jwtFailures = new Counter({ name: "gateway_jwt_failures_total", help: "Refused tokens by reason.", labelNames: ["reason"], registers: [this.registry] });
  readonly upstreamErrors = new Counter({ name: "gateway_upstream_errors_total", help: "Upstream failures by service and kind (timeout, connect, status).", labelNames: ["upstream", "kind"], registers: [this.registry] });
  readonly inflight: Gauge;
  readonly websockets = new Gauge({ name: "gateway_websocket_connections", help: "Open proxied WebSocket connections.", registers: [this.registry] });

  /** `inflight` reports the requests being proxied when scraped, so the hot path does not touch the gauge. */
  constructor(inflight: () => number = () => 0) {
    this.inflight = new Gauge({ name: "gateway_inflight_requests", help: "Requests being proxied.", registers: [this.registry], collect() { this.set(inflight()); } });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Records a breaker state. */
  setBreaker(upstream: string, state: BreakerState): void {
    this.breaker.set({ upstream }, BREAKER_VALUE[state]);
  }
}
