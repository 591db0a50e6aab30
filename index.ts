export * from "./constructs";
export * from "./components/component";
export * from "./components/services";
export * from "./stacks";
export * as policies from "./policies";
