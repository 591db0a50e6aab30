import { ENVIRONMENTS } from "../../stacks/environments";
import { synthEnvironment } from "../../stacks/synth";
import { K8sObject } from "../../policies/types";
import { findAll, findOne } from "../support/objects";
import { formatFinding } from "../../policies/engine";

/** The kubernetes-models class for a built-in kind (`kubernetes-models/<group>/<version>`), or undefined. */
function modelOf(o: K8sObject): (new (data: unknown) => { validate(): void }) | undefined {
  try {
    return require(`kubernetes-models/${o.apiVersion}`)[o.kind];
  } catch {
    return undefined;
  }
}

const CORE_GROUPS = /^(v1|apps\/v1|batch\/v1|policy\/v1|networking\.k8s\.io\/v1|rbac\.authorization\.k8s\.io\/v1|autoscaling\/v2|storage\.k8s\.io\/v1|scheduling\.k8s\.io\/v1|admissionregistration\.k8s\.io\/v1)$/;

describe.each(Object.keys(ENVIRONMENTS))("the %s platform", (name) => {
  const result = synthEnvironment(ENVIRONMENTS[name]);
  const objects = result.objects;

  it("has zero policy errors", () => {
    expect(result.report.errors.map(formatFinding)).toEqual([]);
  });

  it("validates every Kubernetes core object against the Kubernetes schemas", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const o of objects.filter((x) => CORE_GROUPS.test(x.apiVersion))) {
      const Model = modelOf(o);
      if (!Model) { problems.push(`${o.apiVersion} ${o.kind}: no schema`); continue; }
      try {
        new Model(o).validate();
        checked++;
      } catch (e) {
        problems.push(`${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}: ${(e as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it("holds no two objects with the same kind, namespace and name", () => {
    const keys = objects.map((o) => `${o.apiVersion.split("/")[0]}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it("gives every namespace a default-deny and a DNS policy", () => {
    for (const ns of findAll(objects, "Namespace")) {
      const n = ns.metadata.name as string;
      expect(findOne(objects, "NetworkPolicy", "default-deny", n).spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
      findOne(objects, "NetworkPolicy", "allow-dns", n);
      expect(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBeDefined();
    }
  });

  it("allows exactly the declared edges of the reference services", () => {
    const order = findOne(objects, "NetworkPolicy", "allow-order", "apps");
    const targets = order.spec.egress.map((r: any) => r.to[0].podSelector?.matchLabels?.["app.kubernetes.io/name"] ?? r.to[0].podSelector?.matchLabels).sort();
    const declared = result.platform.graph.outgoing("order").map((e) => result.platform.graph.node(e.to).selector?.["app.kubernetes.io/name"] ?? result.platform.graph.node(e.to).selector).sort();
    expect(targets).toEqual(declared);
    expect(declared).toEqual(expect.arrayContaining(["catalog", "customer", "payment"]));
  });

  it("injects the consumed services' URLs into the order service", () => {
    const env = findOne(objects, "Rollout", "order", "apps").spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: "PAYMENT_URL", value: "http://payment.apps.svc.cluster.local:8080" });
  });

  it("points one ArgoCD Application per component at its file, in the environment's project", () => {
    for (const c of result.platform.components.filter((x) => result.files.some((f) => f.component === x.componentName))) {
      const app = findOne(objects, "Application", `stratum-${c.componentName}`, "argocd");
      expect(app.spec.project).toBe(`stratum-${name}`);
      expect(app.spec.source.directory.include).toBe(`${c.componentName}.k8s.yaml`);
      expect(app.spec.source.path).toBe(`dist/${name}`);
      expect(app.metadata.annotations?.["argocd.argoproj.io/sync-wave"]).toBe(String(c.syncWave));
    }
    expect(findOne(objects, "Application", `stratum-${name}-root`, "argocd").spec.source.path).toBe(`dist/${name}/argocd/apps`);
  });
});

describe("tiers", () => {
  it("runs more replicas of the business services in prod than in dev", () => {
    const replicas = (env: string) => {
      const d = findOne(synthEnvironment(ENVIRONMENTS[env]).objects, "Deployment", "catalog", "apps");
      return d.spec.replicas;
    };
    expect(replicas("prod")).toBeGreaterThan(replicas("dev"));
  });
});
