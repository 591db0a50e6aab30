import { ApiObject, JsonPatch } from "cdk8s";
import { IConstruct } from "constructs";
import type { Resources } from "../../stacks/environments/environment";

/** Name of the Dapr Configuration every Dapr app uses (one per namespace). */
export const DAPR_CONFIG_NAME = "stratum";
/** Port of the daprd sidecar's own metrics: off the 9090 that Stratum's services use for theirs. */
export const SIDECAR_METRICS_PORT = 9095;

/** What a pod needs to get a daprd sidecar. */
export interface DaprAppProps {
  /** Dapr app id (the graph node id). */
  readonly appId: string;
  /** Port the app serves Dapr deliveries on; absent for publish-only apps. */
  readonly appPort?: number;
  /** Requests and limits of the sidecar. */
  readonly sidecar: Resources;
  /** Largest request the sidecar accepts or delivers, MB (bulk deliveries need more). @default 4 */
  readonly maxRequestSizeMb?: number;
}

/**
 * The pod annotations that make the injector add a daprd sidecar: app id and port, the Stratum Configuration
 * (tracing, access control), JSON logs, sidecar resources, the restricted seccomp profile, and metrics on
 * {@link SIDECAR_METRICS_PORT}. The sidecar's APIs stay on loopback (Dapr's default).
 */
export function daprAnnotations(props: DaprAppProps): Record<string, string> {
  const a: Record<string, string> = {
    "dapr.io/enabled": "true",
    "dapr.io/app-id": props.appId,
    "dapr.io/config": DAPR_CONFIG_NAME,
    "dapr.io/log-as-json": "true",
    "dapr.io/enable-metrics": "true",
    "dapr.io/metrics-port": String(SIDECAR_METRICS_PORT),
    "dapr.io/sidecar-seccomp-profile-type": "RuntimeDefault",
    "dapr.io/sidecar-cpu-request": props.sidecar.requests.cpu,
    "dapr.io/sidecar-memory-request": props.sidecar.requests.memory,
    "dapr.io/sidecar-cpu-limit": props.sidecar.limits.cpu,
    "dapr.io/sidecar-memory-limit": props.sidecar.limits.memory,
    "dapr.io/http-max-request-size": String(props.maxRequestSizeMb ?? 4),
    "dapr.io/graceful-shutdown-seconds": "20",
  };
  if (props.appPort !== undefined) {
    a["dapr.io/app-port"] = String(props.appPort);
    a["dapr.io/app-protocol"] = "http";
  }
  return a;
}

/**
 * Adds Dapr annotations to the pod template of every Deployment, StatefulSet or Argo Rollout under `scope` whose pods carry
 * `selector` (a graph node's workload), without touching the component that made it. Returns how many it patched.
 */
export function annotateDaprWorkloads(scope: IConstruct, selector: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>>): number {
  let patched = 0;
  for (const c of scope.node.findAll()) {
    if (!ApiObject.isApiObject(c) || !["Deployment", "StatefulSet", "Rollout"].includes(c.kind)) continue;
    const json = c.toJson();
    const labels: Record<string, string> = json.spec?.template?.metadata?.labels ?? {};
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
    const existing: Record<string, string> | undefined = json.spec?.template?.metadata?.annotations;
    if (!existing) c.addJsonPatch(JsonPatch.add("/spec/template/metadata/annotations", { ...annotations }));
    else for (const [k, v] of Object.entries(annotations)) c.addJsonPatch(JsonPatch.add(`/spec/template/metadata/annotations/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`, v));
    patched++;
  }
  return patched;
}
