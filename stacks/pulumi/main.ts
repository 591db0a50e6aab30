// The entry Pulumi runs (Pulumi.yaml `main`); the stack name selects the environment.
import { stratumProgram } from "./program";

const outputs = stratumProgram();
export const clusterName = outputs.clusterName;
export const kubeconfig = outputs.kubeconfig;
export const buckets = outputs.buckets;
export const repositories = outputs.repositories;
export const cdnDomain = outputs.cdnDomain;
