import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ObjectStorage } from "../../components/object-storage";
import { getEnvironment, loadEnvironments } from "../environments";
import { PolicyViolationError, synthEnvironment } from "../synth";
import { Cluster } from "./cluster";
import { Edge } from "./edge";
import { KubernetesPlatform } from "./kubernetes";
import { Network } from "./network";
import { Registry } from "./registry";
import { Credentials } from "./secrets";
import { DEFAULT_SETTINGS, StackSettings, validateSettings } from "./settings";
import { Storage } from "./storage";

/** The runtime services that ship images. */
export const RUNTIME_SERVICES = ["event-processor", "gateway", "task-orchestrator"];

/** Node group keys of the stack configuration (flat, as Pulumi's config schema types them). */
const NODE_KEYS = { nodeInstanceTypes: "instanceTypes", nodeMinSize: "minSize", nodeDesiredSize: "desiredSize", nodeMaxSize: "maxSize" } as const;

/** Settings typed `string` in Pulumi.yaml. */
const STRING_KEYS = new Set(["kubernetesVersion", "originDomain"]);

/** Reads the stack's `stratum:*` settings over the defaults and checks them. */
export function readSettings(config: pulumi.Config, stack: string): StackSettings {
  const raw: Record<string, unknown> = { ...DEFAULT_SETTINGS, nodeGroup: { ...DEFAULT_SETTINGS.nodeGroup } };
  // Pulumi hands every value over as a string: numbers, booleans and lists as JSON; string keys stay as they are
  // (a version such as "1.30" is not the number 1.3)
  const read = (key: string): unknown => {
    const text = config.get(key);
    if (text === undefined || STRING_KEYS.has(key)) return text;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  for (const key of Object.keys(DEFAULT_SETTINGS).filter((k) => k !== "nodeGroup")) {
    const value = read(key);
    if (value !== undefined) raw[key] = value;
  }
  for (const [key, field] of Object.entries(NODE_KEYS)) {
    const value = read(key);
    if (value !== undefined) (raw.nodeGroup as Record<string, unknown>)[field] = value;
  }
  return validateSettings(raw, `Pulumi.${stack}.yaml (stratum:*)`);
}

/** What the program exports. */
export interface StratumOutputs {
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly buckets: Record<string, pulumi.Output<string>>;
  readonly repositories: Record<string, pulumi.Output<string>>;
  readonly cdnDomain: pulumi.Output<string>;
}

/**
 * The whole Pulumi exit for one stack: the stack name picks the environment; AWS (storage, network, EKS with IRSA,
 * registry, credentials, edge) and then the same Kubernetes platform that `cdk8s synth` writes.
 */
export function stratumProgram(stack: string = pulumi.getStack(), configFile = "stratum.config.yaml"): StratumOutputs {
  getEnvironment(stack);
  const env = loadEnvironments(configFile)[stack];
  const settings = readSettings(new pulumi.Config("stratum"), stack);
  const synth = synthEnvironment(env);
  if (synth.report.errors.length) throw new PolicyViolationError(env.name, synth.report);
  const tags = { "stratum.dev/environment": env.name, "app.kubernetes.io/managed-by": "stratum" };
  const name = `stratum-${env.name}`;

  const buckets = synth.platform.find(ObjectStorage)?.buckets ?? [];
  const storage = new Storage(`${name}-storage`, { buckets, accountId: env.cloud.accountId, tags });
  const logs = storage.buckets.logs;
  if (!logs) throw new Error(`${name}: the object-storage component declares no logs bucket, which VPC flow logs need`);
  const network = new Network(`${name}-network`, { cidr: env.network.vpcCidr, region: env.cloud.region, natPerZone: settings.natPerZone, flowLogBucketArn: logs.arn, tags });
  const cluster = new Cluster(`${name}-cluster`, {
    version: settings.kubernetesVersion,
    privateSubnetIds: network.privateSubnetIds,
    nodeGroup: settings.nodeGroup,
    privateEndpoint: settings.privateEndpoint,
    publicAccessCidrs: settings.publicAccessCidrs,
    irsa: synth.platform.irsa.all,
    tags,
  });
  const registry = new Registry(`${name}-registry`, { services: RUNTIME_SERVICES, tags });
  new Credentials(`${name}-credentials`, { secrets: synth.platform.secrets.all, prefix: `stratum/${env.name}/`, tags });
  const edge = new Edge(`${name}-edge`, { originDomain: settings.originDomain, rateLimit: settings.wafRateLimit, ddosProtection: settings.ddosProtection, tags });
  const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: cluster.kubeconfig, enableServerSideApply: true });
  new KubernetesPlatform(`${name}-platform`, { synth, provider });
  return {
    clusterName: cluster.cluster.name,
    kubeconfig: pulumi.secret(cluster.kubeconfig),
    buckets: Object.fromEntries(Object.entries(storage.buckets).map(([k, b]) => [k, b.bucket])),
    repositories: Object.fromEntries(Object.entries(registry.repositories).map(([k, r]) => [k, r.repositoryUrl])),
    cdnDomain: edge.distribution.domainName,
  };
}
