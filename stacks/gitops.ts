import { App, Chart } from "cdk8s";
import { PlatformComponent } from "../components/component";
import { ARGOCD_NAMESPACE, SYNC_WAVE } from "../constructs/helm-addon";
import { Application } from "../constructs/imports/argocd-application-argoproj.io";
import { AppProject } from "../constructs/imports/argocd-appproject-argoproj.io";
import { ApplicationSet } from "../constructs/imports/argocd-applicationset-argoproj.io";
import { recommendedLabels } from "../constructs/labels";
import { K8sObject } from "../policies/types";
import { Platform } from "./platform";

/** A file of the GitOps output, relative to `dist/<env>/`. */
export interface GitOpsFile {
  readonly relativePath: string;
  readonly component: string;
  readonly objects: K8sObject[];
}

/** Cluster-scoped kinds the operators' charts install, besides those the platform's own files hold. */
const OPERATOR_CLUSTER_KINDS: ReadonlyArray<[string, string]> = [
  ["apiextensions.k8s.io", "CustomResourceDefinition"],
  ["rbac.authorization.k8s.io", "ClusterRole"],
  ["rbac.authorization.k8s.io", "ClusterRoleBinding"],
  ["admissionregistration.k8s.io", "MutatingWebhookConfiguration"],
  ["admissionregistration.k8s.io", "ValidatingWebhookConfiguration"],
];

const IN_CLUSTER = "https://kubernetes.default.svc";

function componentAppName(component: string): string {
  return `stratum-${component}`;
}

/** The path in the GitOps repository of an environment's folder. */
export function environmentPath(platform: Platform): string {
  return `${platform.environment.gitops.basePath.replace(/\/+$/, "")}/${platform.environment.name}`;
}

/**
 * The ArgoCD side of the output: `argocd/root.yaml` (the app-of-apps, applied once by hand or by the ApplicationSet)
 * and `argocd/apps/`: the environment's AppProject and one Application per component at its sync wave.
 */
export function gitopsFiles(platform: Platform, componentFiles: ReadonlyArray<GitOpsFile>): GitOpsFile[] {
  const env = platform.environment;
  const app = new App({ outdir: "unused" });
  const base = environmentPath(platform);
  const labels = (name: string) => recommendedLabels({ name, component: "gitops" });

  const root = new Chart(app, "root");
  new Application(root, "Root", {
    metadata: { name: `stratum-${env.name}-root`, namespace: ARGOCD_NAMESPACE, labels: labels("root"), finalizers: ["resources-finalizer.argocd.argoproj.io"] },
    spec: {
      project: platform.gitopsProject,
      source: { repoUrl: env.gitops.repoURL, targetRevision: env.gitops.targetRevision, path: `${base}/argocd/apps` },
      destination: { server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE },
      syncPolicy: { automated: { ...env.gitops.automated }, syncOptions: ["ServerSideApply=true"] },
    },
  });

  const apps = new Chart(app, "apps");
  const clusterKinds = new Map<string, [string, string]>();
  for (const f of componentFiles) {
    for (const o of f.objects) {
      if (o.metadata.namespace === undefined) {
        const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
        clusterKinds.set(`${group}/${o.kind}`, [group, o.kind]);
      }
    }
  }
  for (const [g, k] of OPERATOR_CLUSTER_KINDS) clusterKinds.set(`${g}/${k}`, [g, k]);
  const addonRepos = platform.components.flatMap((c) => c.addons.map((a) => a.definition.repoURL.replace(/^oci:\/\//, "")));
  new AppProject(apps, "Project", {
    metadata: { name: platform.gitopsProject, namespace: ARGOCD_NAMESPACE, labels: labels("project"), annotations: { [SYNC_WAVE]: "-20" } },
    spec: {
      description: `Stratum platform, environment ${env.name}`,
      sourceRepos: [...new Set([env.gitops.repoURL, ...addonRepos])].sort(),
      destinations: [...new Set([ARGOCD_NAMESPACE, ...platform.namespaceNames, ...platform.components.flatMap((c) => c.addons.map((a) => a.definition.namespace))])]
        .sort()
        .map((namespace) => ({ server: IN_CLUSTER, namespace })),
      clusterResourceWhitelist: [...clusterKinds.values()].sort(([g1, k1], [g2, k2]) => g1.localeCompare(g2) || k1.localeCompare(k2)).map(([group, kind]) => ({ group, kind })),
      orphanedResources: { warn: true },
      syncWindows: env.gitops.syncWindows.length
        ? env.gitops.syncWindows.map((w) => ({ kind: w.kind, schedule: w.schedule, duration: w.duration, timeZone: w.timeZone, manualSync: w.manualSync, applications: ["*"] }))
        : undefined,
    },
  });
  const out: GitOpsFile[] = [{ relativePath: "argocd/root.yaml", component: "gitops-root", objects: root.toJson() }];
  const projectFile: GitOpsFile = { relativePath: "argocd/apps/project.yaml", component: "gitops-project", objects: [] };
  out.push(projectFile);
  const written = new Set(componentFiles.map((f) => f.component));
  for (const c of platform.components.filter((x) => written.has(x.componentName))) {
    const chart = new Chart(app, `app-${c.componentName}`);
    new Application(chart, "App", componentApplication(platform, c, base));
    out.push({ relativePath: `argocd/apps/${c.componentName}.yaml`, component: `gitops-${c.componentName}`, objects: chart.toJson() });
  }
  (projectFile.objects as K8sObject[]).push(...apps.toJson());
  out.push({ relativePath: "argocd/fleet.yaml", component: "gitops-fleet", objects: fleet(platform, base) });
  return out;
}

/** Label of an ArgoCD cluster Secret that enrols the cluster in an environment. */
export const ENVIRONMENT_CLUSTER_LABEL = "stratum.dev/environment";

/**
 * One repository drives every cluster: applied on a management ArgoCD, this ApplicationSet gives each registered
 * cluster labelled `stratum.dev/environment=<env>` (and named `<env>-...`) the environment's `argocd/apps`, which the
 * cluster's own ArgoCD then syncs. Its AppProject may deliver only those objects, only to those clusters.
 */
function fleet(platform: Platform, base: string): K8sObject[] {
  const env = platform.environment;
  const app = new App({ outdir: "unused" });
  const chart = new Chart(app, "fleet");
  const project = `stratum-${env.name}-fleet`;
  const labels = recommendedLabels({ name: "fleet", component: "gitops", instance: env.name });
  new AppProject(chart, "Project", {
    metadata: { name: project, namespace: ARGOCD_NAMESPACE, labels },
    spec: {
      description: `Delivers the ${env.name} environment's ArgoCD Applications to the ${env.name} clusters`,
      sourceRepos: [env.gitops.repoURL],
      destinations: [{ name: `${env.name}-*`, namespace: ARGOCD_NAMESPACE }],
      clusterResourceWhitelist: [],
      namespaceResourceWhitelist: [{ group: "argoproj.io", kind: "Application" }, { group: "argoproj.io", kind: "AppProject" }],
    },
  });
  new ApplicationSet(chart, "Clusters", {
    metadata: { name: `stratum-${env.name}`, namespace: ARGOCD_NAMESPACE, labels },
    spec: {
      goTemplate: true,
      goTemplateOptions: ["missingkey=error"],
      generators: [{ clusters: { selector: { matchLabels: { [ENVIRONMENT_CLUSTER_LABEL]: env.name } } } }],
      template: {
        metadata: { name: `stratum-{{.name}}`, labels, finalizers: ["resources-finalizer.argocd.argoproj.io"] },
        spec: {
          project,
          source: { repoUrl: env.gitops.repoURL, targetRevision: env.gitops.targetRevision, path: `${base}/argocd/apps` },
          destination: { name: "{{.name}}", namespace: ARGOCD_NAMESPACE },
          syncPolicy: { automated: { ...env.gitops.automated }, syncOptions: ["ServerSideApply=true"] },
        },
      },
      syncPolicy: { preserveResourcesOnDeletion: true },
    },
  });
  return chart.toJson();
}

function componentApplication(platform: Platform, c: PlatformComponent, base: string) {
  const env = platform.environment;
  return {
    metadata: {
      name: componentAppName(c.componentName),
      namespace: ARGOCD_NAMESPACE,
      labels: recommendedLabels({ name: c.componentName, component: "gitops" }),
      annotations: { [SYNC_WAVE]: String(c.syncWave) },
      finalizers: ["resources-finalizer.argocd.argoproj.io"],
    },
    spec: {
      project: platform.gitopsProject,
      source: { repoUrl: env.gitops.repoURL, targetRevision: env.gitops.targetRevision, path: base, directory: { include: `${c.componentName}.k8s.yaml` } },
      destination: { server: IN_CLUSTER },
      // Argo Rollouts moves canary weights, subset labels and Service selectors at run time; self-heal must not undo it
      ignoreDifferences: [
        { group: "networking.istio.io", kind: "VirtualService", jqPathExpressions: [".spec.http[].route[].weight"] },
        { group: "networking.istio.io", kind: "DestinationRule", jqPathExpressions: [".spec.subsets[].labels"] },
        { group: "", kind: "Service", jqPathExpressions: ['.spec.selector["rollouts-pod-template-hash"]'] },
      ],
      syncPolicy: {
        automated: { ...env.gitops.automated },
        syncOptions: ["ServerSideApply=true", "CreateNamespace=false", "RespectIgnoreDifferences=true"],
        retry: { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } },
      },
    },
  };
}
