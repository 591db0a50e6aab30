export { GatewayComponent, GATEWAY_NODE, GATEWAY_NAMESPACE, GATEWAY_CONFIG_MAP, JWKS_ISSUER_NODE } from "./gateway";
export type { GatewayProps } from "./gateway";
export { gatewayConfig, renderGatewayConfig } from "./gateway-config";
export type { GatewayRoute, GatewayRateLimits, GatewayCircuitBreaker, RateLimit, GatewayConfigInput } from "./gateway-config";
export { defaultGatewayJwt, gatewayJwtProblems } from "./jwt-settings";
export type { GatewayJwt, JwtAlgorithm } from "./jwt-settings";
