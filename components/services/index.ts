export { BusinessService, APPS_NAMESPACE } from "./business-service";
export type { BusinessServiceProps, ServiceRoute } from "./business-service";
export { ServicesComponent } from "./services";
export * from "./delivery";
