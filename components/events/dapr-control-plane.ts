import { Construct } from "constructs";
import { HelmAddon } from "../../constructs/helm-addon";
import { GraphNodeProps, ServiceGraph } from "../../constructs/service-graph";
import type { Resources } from "../../stacks/environments/environment";
import { SyncWave } from "../component";

/** Dapr release the platform runs (chart and app version; the CRD bindings in constructs/imports match it). */
export const DAPR_VERSION = "1.14.5";
/** The Dapr Helm repository. */
export const DAPR_REPO = "https://dapr.github.io/helm-charts/";
/** Graph ids of the control plane services every sidecar reaches. */
export const DAPR_OPERATOR_NODE = "dapr-operator";
export const DAPR_SENTRY_NODE = "dapr-sentry";
export const DAPR_INJECTOR_NODE = "dapr-sidecar-injector";

/** Typed values of the `dapr` chart that Stratum sets. */
export interface DaprChartValues {
  readonly global: {
    readonly ha: { readonly enabled: boolean; readonly replicaCount: number };
    readonly mtls: { readonly enabled: boolean; readonly workloadCertTTL: string; readonly allowedClockSkew: string };
    readonly logAsJson: boolean;
    readonly prometheus: { readonly enabled: boolean; readonly port: number };
    readonly actors: { readonly enabled: boolean };
    readonly scheduler: { readonly enabled: boolean };
    readonly seccompProfile: "RuntimeDefault";
  };
  readonly dapr_config: { readonly dapr_config_chart_included: boolean };
  readonly dapr_operator: { readonly resources: Resources };
  readonly dapr_sentry: { readonly resources: Resources };
  readonly dapr_sidecar_injector: {
    readonly resources: Resources;
    readonly sidecarRunAsNonRoot: boolean;
    readonly sidecarReadOnlyRootFilesystem: boolean;
    readonly sidecarDropALLCapabilities: boolean;
  };
}

/** Props of the Dapr control plane. */
export interface DaprControlPlaneProps {
  /** Namespace of the control plane. */
  readonly namespace: string;
  /** Three replicas of each control plane service, spread, with PodDisruptionBudgets. */
  readonly ha: boolean;
  /** Requests and limits of each control plane pod. */
  readonly resources: Resources;
  /** ArgoCD project. */
  readonly project: string;
  /** Lifetime of workload certificates issued by Sentry. @default "24h" */
  readonly workloadCertTTL?: string;
}

/**
 * The Dapr control plane (operator, sentry, sidecar injector) as a HelmAddon, pinned to {@link DAPR_VERSION}, with
 * mTLS on, actors and the scheduler off (pub/sub needs neither), hardened sidecars, and its graph nodes: sidecars
 * reach the operator (components, subscriptions) and sentry (certificates); the API server reaches the injector and
 * the operator's conversion webhook.
 */
export class DaprControlPlane extends Construct {
  /** The add-on. */
  readonly addon: HelmAddon<DaprChartValues>;
  /** Namespace of the control plane. */
  readonly namespace: string;
  /** Address sidecars and the control plane use for Sentry. */
  readonly sentryAddress: string;

  constructor(scope: Construct, id: string, props: DaprControlPlaneProps) {
    super(scope, id);
    this.namespace = props.namespace;
    this.sentryAddress = `dapr-sentry.${props.namespace}.svc.cluster.local:443`;
    const values: DaprChartValues = {
      global: {
        ha: { enabled: props.ha, replicaCount: 3 },
        mtls: { enabled: true, workloadCertTTL: props.workloadCertTTL ?? "24h", allowedClockSkew: "15m" },
        logAsJson: true,
        prometheus: { enabled: true, port: 9090 },
        actors: { enabled: false },
        scheduler: { enabled: false },
        seccompProfile: "RuntimeDefault",
      },
      // the control plane Configuration (mTLS) is Stratum's own typed object, so the chart must not render one
      dapr_config: { dapr_config_chart_included: false },
      dapr_operator: { resources: props.resources },
      dapr_sentry: { resources: props.resources },
      dapr_sidecar_injector: { resources: props.resources, sidecarRunAsNonRoot: true, sidecarReadOnlyRootFilesystem: true, sidecarDropALLCapabilities: true },
    };
    this.addon = new HelmAddon<DaprChartValues>(this, "Dapr", {
      release: "dapr",
      repoURL: DAPR_REPO,
      chart: "dapr",
      version: DAPR_VERSION,
      namespace: props.namespace,
      values,
      syncWave: SyncWave.OPERATORS,
      project: props.project,
    });
  }

  /** Declares the control plane's nodes and its own edges (API server, sentry). */
  addToGraph(graph: ServiceGraph, scope: Construct, apiServer: string | undefined): void {
    const node = (id: string, app: string, serviceAccount: string, ports: GraphNodeProps["ports"]): GraphNodeProps => ({
      id, kind: "component", namespace: this.namespace, serviceAccount, selector: { app }, scope,
      ports: [...ports, { name: "http-metrics", port: 9090, protocol: "http", metrics: true }],
    });
    graph.addNode(node(DAPR_OPERATOR_NODE, "dapr-operator", "dapr-operator", [
      { name: "grpc-api", port: 443, targetPort: 6500, protocol: "grpc" },
      { name: "https-webhook", port: 19443, protocol: "tls" },
    ]));
    graph.addNode(node(DAPR_SENTRY_NODE, "dapr-sentry", "dapr-sentry", [{ name: "grpc-sentry", port: 443, targetPort: 50001, protocol: "grpc" }]));
    graph.addNode(node(DAPR_INJECTOR_NODE, "dapr-sidecar-injector", "dapr-injector", [{ name: "https-inject", port: 443, targetPort: 4000, protocol: "tls" }]));
    graph.connect(DAPR_OPERATOR_NODE, DAPR_SENTRY_NODE);
    graph.connect(DAPR_INJECTOR_NODE, DAPR_SENTRY_NODE);
    if (apiServer) {
      for (const id of [DAPR_OPERATOR_NODE, DAPR_SENTRY_NODE, DAPR_INJECTOR_NODE]) graph.connect(id, apiServer);
      graph.connect(apiServer, DAPR_INJECTOR_NODE);
      graph.connect(apiServer, DAPR_OPERATOR_NODE, ["https-webhook"]);
    }
  }
}
