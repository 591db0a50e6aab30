export * from "./environments";
export { Platform, PlatformProps, KUBE_APISERVER } from "./platform";
export { buildPlatform, BuildOptions } from "./stratum";
export { synthEnvironment, writeOutputs, renderYaml, sortObjects, EnvironmentSynth, PolicyViolationError } from "./synth";
export { gitopsFiles, GitOpsFile } from "./gitops";
export { addReferenceServices } from "./reference-services";
