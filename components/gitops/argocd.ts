import { Construct } from "constructs";
import { ARGOCD_NAMESPACE, HelmAddon } from "../../constructs/helm-addon";
import type { WorkloadSizing } from "../../stacks/environments/environment";
import { PlatformContext, SyncWave } from "../component";
import { chartPods, INTERNET_HTTPS } from "../../constructs/chart-pods";

/**
 * The argo-cd chart and the Argo CD version it runs. The last chart of the 2.14 line (7.9.1) ships v2.14.11; the image
 * tag pins the patch release whose CRDs the platform is validated against (v2.14.21, same minor, same CRDs).
 */
export const ARGOCD_CHART = { repoURL: "https://argoproj.github.io/argo-helm", chart: "argo-cd", version: "7.9.1" } as const;
/** Argo CD version. */
export const ARGOCD_VERSION = "v2.14.21";

/** Props of the Argo CD installation. */
export interface ArgoCdProps {
  /** Replicas and resources of each Argo CD component; more than one replica runs it highly available. */
  readonly sizing: WorkloadSizing;
}

/**
 * Argo CD, self-managed after the first install: HA with more than one replica (controller shards, server, repo
 * server, ApplicationSet controller), admin login off, read-only by default, no Dex, and its pods declared in the graph.
 */
export class ArgoCd extends Construct {
  /** The Helm add-on. */
  readonly addon: HelmAddon;

  constructor(scope: Construct, id: string, context: PlatformContext, props: ArgoCdProps) {
    super(scope, id);
    const env = context.environment;
    const ns = context.ensureNamespace({ name: ARGOCD_NAMESPACE, component: "gitops" });
    const replicas = props.sizing.replicas;
    const ha = replicas > 1;
    const resources = { requests: { ...props.sizing.resources.requests }, limits: { ...props.sizing.resources.limits } };
    const pdb = { enabled: ha, minAvailable: 1 };
    this.addon = new HelmAddon(this, "Addon", {
      release: "argocd",
      ...ARGOCD_CHART,
      namespace: ns,
      project: context.gitopsProject,
      syncWave: SyncWave.OPERATORS,
      // pruning Argo CD's own objects mid-sync would cut the branch it sits on
      prune: false,
      values: {
        global: { image: { tag: ARGOCD_VERSION }, domain: `argocd.${env.clusterDomain}` },
        crds: { install: true, keep: true },
        dex: { enabled: false },
        configs: {
          cm: {
            "admin.enabled": false,
            "exec.enabled": false,
            "application.resourceTrackingMethod": "annotation",
            "timeout.reconciliation": "180s",
          },
          rbac: { "policy.default": "role:readonly" },
          params: { "controller.sharding.algorithm": "round-robin" },
        },
        controller: { replicas, resources, pdb, env: [{ name: "ARGOCD_CONTROLLER_REPLICAS", value: String(replicas) }] },
        server: { replicas, resources, pdb },
        repoServer: { replicas, resources, pdb },
        applicationSet: { replicas, resources, pdb },
        notifications: { enabled: true, resources },
        redis: { resources },
      },
    });

    const g = context.graph;
    const node = (id: string, name: string, ports: Array<{ name: string; port: number }> = []) =>
      g.addNode(chartPods({ id, namespace: ns, name, instance: "argocd", serviceAccount: name, scope: this, ports: ports.map((p) => ({ ...p, protocol: "tcp" as const })) }));
    node("argocd-server", "argocd-server");
    node("argocd-repo-server", "argocd-repo-server", [{ name: "tcp-repo", port: 8081 }]);
    node("argocd-controller", "argocd-application-controller");
    node("argocd-appset", "argocd-applicationset-controller");
    node("argocd-notifications", "argocd-notifications-controller");
    node("argocd-redis", "argocd-redis", [{ name: "tcp-redis", port: 6379 }]);
    for (const from of ["argocd-server", "argocd-controller", "argocd-appset"]) g.connect(from, "argocd-repo-server");
    for (const from of ["argocd-server", "argocd-controller", "argocd-repo-server"]) g.connect(from, "argocd-redis");
    for (const from of ["argocd-server", "argocd-controller", "argocd-appset", "argocd-notifications"]) g.connect(from, "kube-apiserver");
    // Git and Helm repositories, and the notification services, are on the internet
    for (const from of ["argocd-repo-server", "argocd-notifications"]) g.connect(from, INTERNET_HTTPS);
  }
}
