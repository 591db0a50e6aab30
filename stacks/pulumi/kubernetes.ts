import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { HelmAddonDefinition, SYNC_WAVE } from "../../constructs/helm-addon";
import { K8sObject } from "../../policies/types";
import { EnvironmentSynth } from "../synth";

/** One object of the platform with the wave it is applied in. */
export interface OrderedObject {
  readonly object: K8sObject;
  readonly wave: number;
}

/** The objects the Pulumi exit applies: every component file's objects except the ArgoCD Applications of Helm add-ons. */
export function pulumiObjects(synth: EnvironmentSynth): OrderedObject[] {
  const out: OrderedObject[] = [];
  for (const component of synth.platform.components) {
    const file = synth.files.find((f) => f.component === component.componentName);
    if (!file) continue;
    const addonApps = new Set(component.addons.map((a) => a.definition.release));
    for (const o of file.objects) {
      if (o.kind === "Application" && o.apiVersion.startsWith("argoproj.io/") && addonApps.has(o.metadata.name ?? "")) continue;
      const annotated = o.metadata.annotations?.[SYNC_WAVE];
      out.push({ object: o, wave: annotated !== undefined ? Number(annotated) : component.syncWave });
    }
  }
  return out;
}

/** The Helm add-ons of every component, as Pulumi installs them. */
export function pulumiAddons(synth: EnvironmentSynth): HelmAddonDefinition[] {
  return synth.platform.components.flatMap((c) => c.addons.map((a) => a.definition));
}

/** A stable, unique Pulumi name for an object. */
export function resourceName(o: K8sObject): string {
  const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "core";
  return `${group}-${o.kind}-${o.metadata.namespace ?? "cluster"}-${o.metadata.name}`.toLowerCase();
}

/** Args of the Kubernetes side. */
export interface KubernetesPlatformArgs {
  /** The environment, synthesized (the same objects `cdk8s synth` writes). */
  readonly synth: EnvironmentSynth;
  /** Provider of the target cluster. */
  readonly provider: k8s.Provider;
}

/**
 * The same platform as the GitOps output, applied by Pulumi: Helm add-ons as Helm releases with the same typed values,
 * and every object in sync-wave order (namespaces, operators, custom resources, workloads), each wave depending on the
 * releases and objects of the waves before it.
 */
export class KubernetesPlatform extends pulumi.ComponentResource {
  readonly releases: Record<string, k8s.helm.v3.Release>;

  constructor(name: string, args: KubernetesPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stratum:k8s:Platform", name, {}, opts);
    const objects = pulumiObjects(args.synth);
    const addons = pulumiAddons(args.synth);
    const waves = [...new Set([...objects.map((o) => o.wave), ...addons.map((a) => a.syncWave)])].sort((a, b) => a - b);
    const done: pulumi.Resource[] = [];
    this.releases = {};
    for (const wave of waves) {
      const before = [...done];
      const created: pulumi.Resource[] = [];
      for (const a of addons.filter((x) => x.syncWave === wave)) {
        const oci = a.repoURL.startsWith("oci://");
        const release = new k8s.helm.v3.Release(`${name}-${a.release}`, {
          name: a.release,
          chart: oci ? `${a.repoURL.replace(/\/+$/, "")}/${a.chart}` : a.chart,
          version: a.version,
          repositoryOpts: oci ? undefined : { repo: a.repoURL },
          namespace: a.namespace,
          createNamespace: false,
          values: a.values,
          atomic: true,
          timeout: 900,
        }, { parent: this, provider: args.provider, dependsOn: [...before, ...a.dependsOn.map((d) => this.releases[d]).filter(Boolean)] });
        this.releases[a.release] = release;
        created.push(release);
      }
      for (const { object } of objects.filter((x) => x.wave === wave)) {
        created.push(new k8s.apiextensions.CustomResource(resourceName(object), object as unknown as k8s.apiextensions.CustomResourceArgs, { parent: this, provider: args.provider, dependsOn: before }));
      }
      done.push(...created);
    }
    this.registerOutputs({ releases: Object.keys(this.releases) });
  }
}
