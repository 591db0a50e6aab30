import { Platform } from "./platform";

/** Version of the reference architecture's sample services. */
const SAMPLE_VERSION = "1.4.2";
const REGISTRY = "ghcr.io/stratum-platform/samples";

/**
 * Onboards the reference architecture's four business services with their real dependencies: the order service
 * calls payment, catalog and customer; each keeps its own data.
 */
export function addReferenceServices(platform: Platform): void {
  platform.addService({
    name: "order",
    image: `${REGISTRY}/order-service:${SAMPLE_VERSION}`,
    consumes: ["payment", "catalog", "customer", "postgres"],
    replicas: { prod: 4 },
    maxReplicas: { prod: 12 },
    routes: [{ pathPrefix: "/api/orders", roles: ["customer", "admin"] }],
    team: "checkout",
    delivery: { strategy: "canary", minSuccessRate: 0.995, maxP99LatencyMs: 400 },
  });
  platform.addService({
    name: "payment",
    image: `${REGISTRY}/payment-service:${SAMPLE_VERSION}`,
    consumes: ["postgres"],
    routes: [{ pathPrefix: "/api/payments", roles: ["admin"] }],
    team: "checkout",
    delivery: { strategy: "blueGreen", minSuccessRate: 0.999, maxP99LatencyMs: 300 },
  });
  platform.addService({
    name: "catalog",
    image: `${REGISTRY}/catalog-service:${SAMPLE_VERSION}`,
    routes: [{ pathPrefix: "/api/catalog", auth: false }],
    team: "storefront",
  });
  platform.addService({
    name: "customer",
    image: `${REGISTRY}/customer-service:${SAMPLE_VERSION}`,
    consumes: ["postgres"],
    routes: [{ pathPrefix: "/api/customers", roles: ["customer", "admin"] }],
    team: "storefront",
  });
}
