import * as fs from "node:fs";
import * as path from "node:path";
import { formatFinding, runPolicies } from "../policies/engine";
import { DEFAULT_RULES } from "../policies/rules";
import { K8sObject, PolicyReport, PolicyRule } from "../policies/types";
import { Environment } from "./environments/environment";
import { toYaml } from "./yaml-writer";
import { GitOpsFile, gitopsFiles } from "./gitops";
import { Platform } from "./platform";
import { buildPlatform, BuildOptions } from "./stratum";

/** One environment, synthesized in memory and judged by the policies. */
export interface EnvironmentSynth {
  readonly environment: Environment;
  readonly platform: Platform;
  /** Files relative to `<out>/<env>/`, in a stable order. */
  readonly files: ReadonlyArray<GitOpsFile>;
  /** Every object of every file. */
  readonly objects: ReadonlyArray<K8sObject>;
  /** The policy engine's report. */
  readonly report: PolicyReport;
}

/** Why a synth produced nothing: policy errors, listed one per line. */
export class PolicyViolationError extends Error {
  constructor(readonly environment: string, readonly report: PolicyReport) {
    super(`environment ${environment}: ${report.errors.length} policy error(s):\n${report.errors.map((f) => `  ${formatFinding(f)}`).join("\n")}`);
    this.name = "PolicyViolationError";
  }
}

const KIND_ORDER = [
  "Namespace", "CustomResourceDefinition", "PriorityClass", "ServiceAccount", "Secret", "ConfigMap",
  "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "NetworkPolicy", "PersistentVolumeClaim", "Service",
  "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "PodDisruptionBudget", "HorizontalPodAutoscaler",
];

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i === -1 ? KIND_ORDER.length : i;
}

/** Orders objects the way they apply cleanly: namespaces and definitions first, then by kind, namespace, name. */
export function sortObjects(objects: ReadonlyArray<K8sObject>): K8sObject[] {
  return [...objects].sort(
    (a, b) =>
      kindRank(a.kind) - kindRank(b.kind) ||
      a.kind.localeCompare(b.kind) ||
      (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
      (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
  );
}

/**
 * YAML as kubectl and Argo CD read it: strings that YAML 1.1 would take for something else (`yes`, `on`, `1.10`,
 * `=`) are quoted, multi-line text is a literal block, no line folding (see `yaml-writer.ts`).
 */
export function renderYaml(objects: ReadonlyArray<K8sObject>): string {
  return objects.map((o) => toYaml(o as Record<string, unknown>)).join("---\n");
}

function objectKey(o: K8sObject): string {
  return `${o.apiVersion.split("/").length > 1 ? o.apiVersion.split("/")[0] : "core"}/${o.kind}/${o.metadata.namespace ?? "-"}/${o.metadata.name}`;
}

/** Synthesizes one environment in memory: platform, GitOps files, duplicate check and policies. */
export function synthEnvironment(environment: Environment, options: BuildOptions & { rules?: ReadonlyArray<PolicyRule> } = {}): EnvironmentSynth {
  const platform = buildPlatform(environment, options);
  // a component with nothing to deploy (for example one whose resources live in the cloud) gets no file and no Application
  const componentFiles: GitOpsFile[] = platform.components
    .map((c) => ({ relativePath: `${c.componentName}.k8s.yaml`, component: c.componentName, objects: sortObjects(c.toJson() as K8sObject[]) }))
    .filter((f) => f.objects.length > 0);
  const files = [...componentFiles, ...gitopsFiles(platform, componentFiles)];
  const objects = files.flatMap((f) => f.objects);
  const seen = new Map<string, string>();
  const duplicates: string[] = [];
  for (const f of files) {
    for (const o of f.objects) {
      const key = objectKey(o);
      if (seen.has(key)) duplicates.push(`${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name} in ${seen.get(key)} and ${f.relativePath}`);
      else seen.set(key, f.relativePath);
    }
  }
  if (duplicates.length) throw new Error(`environment ${environment.name}: objects defined twice:\n${duplicates.map((d) => `  ${d}`).join("\n")}`);
  const report = runPolicies(objects, options.rules ?? DEFAULT_RULES);
  return { environment, platform, files, objects, report };
}

/**
 * Writes environments into `<outDir>/<env>/` atomically: everything is written to a sibling temporary folder first,
 * and each environment folder is swapped in only when every environment passed the policies. A failure leaves the
 * previous output untouched.
 */
export function writeOutputs(outDir: string, results: ReadonlyArray<EnvironmentSynth>): void {
  const failed = results.find((r) => r.report.errors.length > 0);
  if (failed) throw new PolicyViolationError(failed.environment.name, failed.report);
  const target = path.resolve(outDir);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `.${path.basename(target)}-staging-`));
  const retired = path.join(staging, ".retired");
  try {
    for (const r of results) {
      for (const f of r.files) {
        const file = path.join(staging, r.environment.name, f.relativePath);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, renderYaml(f.objects));
      }
    }
    fs.mkdirSync(target, { recursive: true });
    fs.mkdirSync(retired);
    for (const r of results) {
      const dest = path.join(target, r.environment.name);
      if (fs.existsSync(dest)) fs.renameSync(dest, path.join(retired, r.environment.name));
      fs.renameSync(path.join(staging, r.environment.name), dest);
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
