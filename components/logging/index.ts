export * from "./logging";
export * from "./fluent-bit";
export * from "./fluent-bit-config";
export * from "./data-views-job";
export * from "./data-views-script";
export * from "./kibana-target";
