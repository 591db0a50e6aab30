import { Construct } from "constructs";
import * as k8s from "../../constructs/imports/k8s";
import {
  Pooler,
  PoolerSpecPgbouncerPoolMode,
  PoolerSpecTemplateSpecContainersResourcesLimits,
  PoolerSpecTemplateSpecContainersResourcesRequests,
  PoolerSpecType,
} from "../../constructs/imports/cnpg-pooler-postgresql.cnpg.io";
import { recommendedLabels } from "../../constructs/labels";
import { customResourceAnnotations } from "../../constructs/sync";
import type { Resources, SpreadMode } from "../../stacks/environments/environment";
import { NO_SIDECAR } from "./cluster";
import { RenderedPgBouncer } from "./pgbouncer";

/** Port PgBouncer listens on (the pooler Service's port). */
export const POOLER_PORT = 5432;
/** Port of PgBouncer's Prometheus exporter in CloudNativePG's pooler pods. */
export const POOLER_METRICS_PORT = 9127;

/** Props of a PgBouncer pooler in front of a cluster. */
export interface PostgresPoolerProps {
  /** Pooler name (also its Service, Deployment and ServiceAccount); must differ from the cluster's. */
  readonly name: string;
  /** Namespace (the cluster's). */
  readonly namespace: string;
  /** The cluster it pools for. */
  readonly clusterName: string;
  /** `rw` sends to the primary, `ro` to the replicas. */
  readonly type: "rw" | "ro";
  /** PgBouncer pods. */
  readonly instances: number;
  /** Pool mode and parameters. */
  readonly pgbouncer: RenderedPgBouncer;
  /** Requests and limits of one PgBouncer container. */
  readonly resources: Resources;
  /** Spread of PgBouncer pods across nodes and zones. */
  readonly spread: { readonly node: SpreadMode; readonly zone: SpreadMode };
  /** Let the operator create its own PodMonitor (Stratum scrapes through the graph instead). @default false */
  readonly podMonitor?: boolean;
}

/** Labels CloudNativePG sets on a pooler's pods. */
export function poolerSelector(poolerName: string): Record<string, string> {
  return { "cnpg.io/poolerName": poolerName };
}

/** A CloudNativePG `Pooler` (PgBouncer) with typed pool settings, sized and spread, and a PodDisruptionBudget. */
export class PostgresPooler extends Construct {
  /** The Pooler resource. */
  readonly pooler: Pooler;
  /** In-cluster DNS name consumers connect to. */
  readonly host: string;

  constructor(scope: Construct, id: string, props: PostgresPoolerProps) {
    super(scope, id);
    if (props.name === props.clusterName) throw new Error(`${this.node.path}: pooler name must differ from the cluster name '${props.clusterName}'`);
    if (!Number.isInteger(props.instances) || props.instances < 1) throw new Error(`${this.node.path}: instances must be >= 1 (got ${props.instances})`);
    this.host = `${props.name}.${props.namespace}.svc.cluster.local`;
    const labels = recommendedLabels({ name: "pgbouncer", instance: props.name, component: "connection-pooler" });
    const selector = poolerSelector(props.name);
    const when = (m: SpreadMode) => (m === "hard" ? "DoNotSchedule" : "ScheduleAnyway");
    this.pooler = new Pooler(this, "Pooler", {
      metadata: { name: props.name, namespace: props.namespace, labels, annotations: customResourceAnnotations() },
      spec: {
        cluster: { name: props.clusterName },
        type: props.type === "rw" ? PoolerSpecType.RW : PoolerSpecType.RO,
        instances: props.instances,
        pgbouncer: {
          poolMode: props.pgbouncer.poolMode === "session" ? PoolerSpecPgbouncerPoolMode.SESSION : PoolerSpecPgbouncerPoolMode.TRANSACTION,
          parameters: { ...props.pgbouncer.parameters },
        },
        monitoring: { enablePodMonitor: props.podMonitor ?? false },
        template: {
          metadata: { labels, annotations: { ...NO_SIDECAR } },
          spec: {
            containers: [
              {
                name: "pgbouncer",
                resources: {
                  requests: { cpu: PoolerSpecTemplateSpecContainersResourcesRequests.fromString(props.resources.requests.cpu), memory: PoolerSpecTemplateSpecContainersResourcesRequests.fromString(props.resources.requests.memory) },
                  limits: { cpu: PoolerSpecTemplateSpecContainersResourcesLimits.fromString(props.resources.limits.cpu), memory: PoolerSpecTemplateSpecContainersResourcesLimits.fromString(props.resources.limits.memory) },
                },
              },
            ],
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: when(props.spread.zone), labelSelector: { matchLabels: selector } },
              { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: when(props.spread.node), labelSelector: { matchLabels: selector } },
            ],
          },
        },
      },
    });
    // the operator writes no PodDisruptionBudget for poolers; a drain must never take every PgBouncer at once
    if (props.instances > 1) {
      new k8s.KubePodDisruptionBudget(this, "Pdb", {
        metadata: { name: props.name, namespace: props.namespace, labels },
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
      });
    }
  }
}
