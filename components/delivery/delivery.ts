import { Construct } from "constructs";
import { HelmAddon } from "../../constructs/helm-addon";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import type { BusinessService } from "../services";
import { chartPods } from "../../constructs/chart-pods";
import { ReleaseAnalysis } from "./analysis";

/**
 * The argo-rollouts chart; its image tag pins the controller to v1.8.4, the release whose CRDs the platform is
 * validated against (the chart line 2.39 carries Argo Rollouts 1.8).
 */
export const ROLLOUTS_CHART = { repoURL: "https://argoproj.github.io/argo-helm", chart: "argo-rollouts", version: "2.39.0" } as const;
/** Argo Rollouts version. */
export const ROLLOUTS_VERSION = "v1.8.4";
/** Namespace of the controller. */
export const ROLLOUTS_NAMESPACE = "argo-rollouts";

/** Props of the delivery component. */
export interface DeliveryComponentProps {
  /** The business services to release progressively (those with `delivery` set are picked). */
  readonly services: () => ReadonlyArray<BusinessService>;
}

/**
 * Progressive delivery: the Argo Rollouts controller and, for every business service that chose canary or blue-green,
 * the AnalysisTemplate its Rollout runs against Prometheus. The Rollouts themselves are the services' workloads.
 */
export class DeliveryComponent extends PlatformComponent {
  /** The Helm add-on. */
  readonly addon: HelmAddon;

  constructor(scope: Construct, id: string, context: PlatformContext, props: DeliveryComponentProps) {
    super(scope, id, context, { name: "delivery", syncWave: SyncWave.OPERATORS });
    const env = context.environment;
    const sizing = env.sizing.delivery;
    const ns = context.ensureNamespace({ name: ROLLOUTS_NAMESPACE, component: "delivery" });
    const c = sizing.controller;
    this.addon = new HelmAddon(this, "Addon", {
      release: "argo-rollouts",
      ...ROLLOUTS_CHART,
      namespace: ns,
      project: context.gitopsProject,
      syncWave: SyncWave.OPERATORS,
      values: {
        installCRDs: true,
        keepCRDs: true,
        controller: {
          replicas: c.replicas,
          image: { tag: ROLLOUTS_VERSION },
          resources: { requests: { ...c.resources.requests }, limits: { ...c.resources.limits } },
          pdb: { enabled: c.replicas > 1, minAvailable: 1 },
          metrics: { enabled: true },
        },
        dashboard: { enabled: false },
        notifications: { secret: { create: false } },
      },
    });
    const graph = context.graph;
    graph.addNode(chartPods({
      id: "argo-rollouts", namespace: ns, name: "argo-rollouts", instance: "argo-rollouts", serviceAccount: "argo-rollouts", scope: this,
      ports: [{ name: "http-metrics", port: 8090, protocol: "http", metrics: true }],
    }));
    graph.connect("argo-rollouts", "kube-apiserver");
    context.onFinalize(() => {
      const released = props.services().filter((s) => s.delivery);
      if (released.length === 0) return;
      if (!graph.has("prometheus")) throw new Error(`${this.node.path}: services ${released.map((s) => s.name).join(", ")} choose progressive delivery, which needs the metrics component (graph node 'prometheus') for its analysis`);
      const prometheus = graph.node("prometheus");
      const port = prometheus.ports.find((p) => !p.metrics) ?? prometheus.ports[0];
      graph.connect("argo-rollouts", "prometheus", [port.name]);
      const url = `http://${prometheus.host}:${port.port}`;
      for (const s of released) {
        new ReleaseAnalysis(this, `Analysis-${s.name}`, {
          service: s.name,
          namespace: s.workload.namespace,
          delivery: s.delivery!,
          prometheusUrl: url,
          interval: sizing.analysisInterval,
          failureLimit: sizing.failureLimit,
        });
      }
    });
  }
}
