import { Construct } from "constructs";
import { Application } from "./imports/argocd-application-argoproj.io";
import { recommendedLabels } from "./labels";

/** Namespace where ArgoCD runs and its Applications live. */
export const ARGOCD_NAMESPACE = "argocd";
/** The annotation ArgoCD orders syncs by. */
export const SYNC_WAVE = "argocd.argoproj.io/sync-wave";

/** Everything that defines one Helm add-on: data, rendered as an ArgoCD Application here and a Helm release by Pulumi. */
export interface HelmAddonProps<V extends object = Record<string, unknown>> {
  /** Release name, e.g. `istiod`. */
  readonly release: string;
  /** Chart repository URL (`https://...` or `oci://...`). */
  readonly repoURL: string;
  /** Chart name. */
  readonly chart: string;
  /** Exact chart version (`1.24.6`); ranges and `latest` are construction errors. */
  readonly version: string;
  /** Namespace the chart installs into. */
  readonly namespace: string;
  /** Typed values. */
  readonly values: V;
  /** ArgoCD sync wave; must be greater than every dependency's. */
  readonly syncWave: number;
  /** Add-ons that must be ready first (CRDs before the resources that use them). @default none */
  readonly dependsOn?: ReadonlyArray<HelmAddon>;
  /** The ArgoCD AppProject that may deploy it (the environment's project). */
  readonly project: string;
  /** Whether ArgoCD deletes what the chart no longer renders, and reverts drift. @default true, true */
  readonly prune?: boolean;
  /** Revert changes made by hand. @default true */
  readonly selfHeal?: boolean;
}

/** The plain-data form of an add-on that both exits read (ArgoCD Application, Pulumi Helm release). */
export interface HelmAddonDefinition {
  readonly release: string;
  readonly repoURL: string;
  readonly chart: string;
  readonly version: string;
  readonly namespace: string;
  readonly values: Record<string, unknown>;
  readonly syncWave: number;
  readonly dependsOn: ReadonlyArray<string>;
}

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** A Helm chart installed through GitOps: an ArgoCD Application with typed values and a sync wave. */
export class HelmAddon<V extends object = Record<string, unknown>> extends Construct {
  /** The add-on as data. */
  readonly definition: HelmAddonDefinition;
  /** The ArgoCD Application. */
  readonly application: Application;

  constructor(scope: Construct, id: string, props: HelmAddonProps<V>) {
    super(scope, id);
    const problems: string[] = [];
    if (!EXACT_VERSION.test(props.version)) problems.push(`version must be an exact chart version such as 1.2.3 (got ${JSON.stringify(props.version)})`);
    if (!/^(https|oci):\/\/\S+$/.test(props.repoURL)) problems.push(`repoURL must be an https:// or oci:// URL (got ${JSON.stringify(props.repoURL)})`);
    for (const dep of props.dependsOn ?? []) {
      if (dep.definition.syncWave >= props.syncWave) {
        problems.push(`syncWave must be greater than that of its dependency ${dep.definition.release} (${dep.definition.syncWave}), got ${props.syncWave}`);
      }
    }
    if (problems.length) throw new Error(`${this.node.path}: ${problems.join("; ")}`);

    this.definition = {
      release: props.release,
      repoURL: props.repoURL,
      chart: props.chart,
      version: props.version,
      namespace: props.namespace,
      values: JSON.parse(JSON.stringify(props.values)),
      syncWave: props.syncWave,
      dependsOn: (props.dependsOn ?? []).map((d) => d.definition.release),
    };
    const oci = props.repoURL.startsWith("oci://");
    this.application = new Application(this, "Application", {
      metadata: {
        name: props.release,
        namespace: ARGOCD_NAMESPACE,
        labels: recommendedLabels({ name: props.chart, instance: props.release, component: "addon", version: props.version }),
        annotations: { [SYNC_WAVE]: String(props.syncWave) },
        finalizers: ["resources-finalizer.argocd.argoproj.io"],
      },
      spec: {
        project: props.project,
        source: {
          repoUrl: oci ? props.repoURL.replace(/^oci:\/\//, "") : props.repoURL,
          chart: props.chart,
          targetRevision: props.version,
          helm: { releaseName: props.release, valuesObject: this.definition.values },
        },
        destination: { server: "https://kubernetes.default.svc", namespace: props.namespace },
        syncPolicy: {
          automated: { prune: props.prune ?? true, selfHeal: props.selfHeal ?? true },
          syncOptions: ["ServerSideApply=true", "CreateNamespace=false"],
          retry: { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } },
        },
      },
    });
  }
}
