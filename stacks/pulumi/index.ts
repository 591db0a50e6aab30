export { Network, NetworkArgs, subnetCidr } from "./network";
export { Cluster, ClusterArgs, irsaTrustPolicy } from "./cluster";
export { Storage, StorageArgs, bucketPolicy, storageKeyPolicy } from "./storage";
export { Registry, RegistryArgs } from "./registry";
export { Credentials, CredentialsArgs } from "./secrets";
export { Edge, EdgeArgs, MANAGED_RULE_GROUPS } from "./edge";
export { KubernetesPlatform, KubernetesPlatformArgs, pulumiObjects, pulumiAddons, resourceName } from "./kubernetes";
export { stratumProgram, readSettings, StratumOutputs, RUNTIME_SERVICES } from "./program";
export { StackSettings, validateSettings, DEFAULT_SETTINGS, STACK_SETTINGS_SCHEMA } from "./settings";
