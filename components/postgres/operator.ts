import { chartPods } from "../../constructs/chart-pods";
import { Construct } from "constructs";
import { HelmAddon } from "../../constructs/helm-addon";
import { GraphNodeProps } from "../../constructs/service-graph";
import type { Resources } from "../../stacks/environments/environment";
import { PlatformContext, SyncWave } from "../component";
import { NO_SIDECAR } from "./cluster";

/** The CloudNativePG release the platform's CRDs (../shared/schemas) and the operator image are pinned to. */
export const CNPG_VERSION = "1.24.4";

/**
 * The operator chart. No chart release carries appVersion 1.24.4 (charts moved to 1.25 after 0.22.1, see
 * cloudnative-pg/charts#517), so the newest 1.24 chart (0.22.1, appVersion 1.24.1) installs the 1.24.4 image.
 */
export const CNPG_CHART = { repoURL: "https://cloudnative-pg.github.io/charts", chart: "cloudnative-pg", version: "0.22.1" } as const;

/** Namespace of the operator. */
export const CNPG_NAMESPACE = "cnpg-system";
/** Graph id of the operator's pods. */
export const CNPG_OPERATOR_NODE = "cnpg-operator";
/** Name of the operator's Deployment and ServiceAccount (the chart's fullname). */
export const CNPG_OPERATOR_NAME = "cnpg-controller-manager";

/** Props of the operator. */
export interface CloudNativePgOperatorProps {
  /** Operator replicas (leader-elected). */
  readonly replicas: number;
  /** Requests and limits of the operator. */
  readonly resources: Resources;
}

/** The CloudNativePG operator: a HelmAddon, and its pods in the service graph (API server, webhook). */
export class CloudNativePgOperator extends Construct {
  /** The Helm add-on. */
  readonly addon: HelmAddon;
  /** The operator's graph node. */
  readonly graphNode: GraphNodeProps;

  constructor(scope: Construct, id: string, context: PlatformContext, props: CloudNativePgOperatorProps) {
    super(scope, id);
    const namespace = context.ensureNamespace({ name: CNPG_NAMESPACE, component: "postgres-operator" });
    this.addon = new HelmAddon(this, "Addon", {
      release: "cloudnative-pg",
      ...CNPG_CHART,
      namespace,
      project: context.gitopsProject,
      syncWave: SyncWave.OPERATORS,
      values: {
        fullnameOverride: CNPG_OPERATOR_NAME,
        replicaCount: props.replicas,
        image: { repository: "ghcr.io/cloudnative-pg/cloudnative-pg", tag: CNPG_VERSION },
        crds: { create: true },
        resources: { requests: { ...props.resources.requests }, limits: { ...props.resources.limits } },
        monitoring: { podMonitorEnabled: false },
        config: { data: { INHERITED_LABELS: "app.kubernetes.io/*, stratum.dev/*" } },
        // the API server calls the admission webhook without mesh identity; a STRICT-mTLS proxy would refuse it
        podAnnotations: { ...NO_SIDECAR },
      },
    });
    this.graphNode = context.graph.addNode(chartPods({
      id: CNPG_OPERATOR_NODE,
      namespace,
      name: "cloudnative-pg",
      instance: "cloudnative-pg",
      serviceAccount: CNPG_OPERATOR_NAME,
      ports: [
        { name: "https-webhook", port: 443, targetPort: 9443, protocol: "tls" },
        { name: "http-metrics", port: 8080, protocol: "http", metrics: true },
      ],
      scope: this,
    }));
    context.graph.connect(CNPG_OPERATOR_NODE, "kube-apiserver");
    // admission webhooks: the API server calls the operator to default and validate clusters and poolers
    context.graph.connect("kube-apiserver", CNPG_OPERATOR_NODE, ["https-webhook"]);
  }
}
