import { chartPods } from "../../constructs/chart-pods";
import { Construct } from "constructs";
import { HelmAddon } from "../../constructs/helm-addon";
import { GraphNodeProps } from "../../constructs/service-graph";
import type { Resources } from "../../stacks/environments/environment";
import { PlatformContext, SyncWave } from "../component";

/** The ECK release the platform's CRDs (../shared/schemas/crds/eck-3.0.0) and the operator chart are pinned to. */
export const ECK_VERSION = "3.0.0";
/** The operator chart (its version is ECK's). */
export const ECK_CHART = { repoURL: "https://helm.elastic.co", chart: "eck-operator", version: ECK_VERSION } as const;
/** Namespace of the operator. */
export const ECK_NAMESPACE = "elastic-system";
/** Graph id of the operator's pods. */
export const ECK_OPERATOR_NODE = "eck-operator";
/** The chart's fullname: its StatefulSet and ServiceAccount. */
export const ECK_OPERATOR_NAME = "elastic-operator";
/** Pods that must not get a mesh sidecar. */
export const NO_SIDECAR = { "sidecar.istio.io/inject": "false" } as const;

/** Props of the operator. */
export interface EckOperatorProps {
  /** Operator replicas (leader-elected). */
  readonly replicas: number;
  /** Requests and limits. */
  readonly resources: Resources;
  /** Namespaces it manages. */
  readonly managedNamespaces: ReadonlyArray<string>;
}

/** The ECK operator: a HelmAddon with restricted security settings, and its pods in the service graph. */
export class EckOperator extends Construct {
  /** The Helm add-on. */
  readonly addon: HelmAddon;
  /** The graph node. */
  readonly graphNode: GraphNodeProps;

  constructor(scope: Construct, id: string, context: PlatformContext, props: EckOperatorProps) {
    super(scope, id);
    const namespace = context.ensureNamespace({ name: ECK_NAMESPACE, component: "elasticsearch-operator" });
    this.addon = new HelmAddon(this, "Addon", {
      release: ECK_OPERATOR_NAME,
      ...ECK_CHART,
      namespace,
      project: context.gitopsProject,
      syncWave: SyncWave.OPERATORS,
      values: {
        fullnameOverride: ECK_OPERATOR_NAME,
        replicaCount: props.replicas,
        installCRDs: true,
        managedNamespaces: [...props.managedNamespaces],
        resources: { requests: { ...props.resources.requests }, limits: { ...props.resources.limits } },
        podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          seccompProfile: { type: "RuntimeDefault" },
        },
        // the API server calls the admission webhook without a mesh identity
        podAnnotations: { ...NO_SIDECAR },
        // Ignore (the chart's default): a webhook that is not up yet must not block the first sync of the cluster
        webhook: { enabled: true, manageCerts: true, failurePolicy: "Ignore" },
        telemetry: { disabled: true },
        config: { setDefaultSecurityContext: true, metricsPort: 0, validateStorageClass: true },
      },
    });
    this.graphNode = context.graph.addNode(chartPods({
      id: ECK_OPERATOR_NODE,
      namespace,
      name: ECK_OPERATOR_NAME,
      instance: ECK_OPERATOR_NAME,
      serviceAccount: ECK_OPERATOR_NAME,
      ports: [{ name: "https-webhook", port: 443, targetPort: 9443, protocol: "tls" }],
      scope: this,
    }));
    context.graph.connect(ECK_OPERATOR_NODE, "kube-apiserver");
    // validating webhook for Elasticsearch and Kibana resources
    context.graph.connect("kube-apiserver", ECK_OPERATOR_NODE, ["https-webhook"]);
  }
}
