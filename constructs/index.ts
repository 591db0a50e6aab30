export * from "./names";
export * from "./image";
export * from "./labels";
export * from "./service-graph";
export * from "./network-policy";
export * from "./namespace";
export * from "./hardened-workload";
export * from "./helm-addon";
