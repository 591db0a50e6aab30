export * from "./logging";
export * from "./fluent-bit";
export * from "./fluent-bit-config";
