export * from "./tracing";
export * from "./collector";
export * from "./collector-config";
export * from "./sampling";
export * from "./jaeger";
export * from "./instrumentation";
export * from "./operators";
export * from "./elasticsearch-target";
