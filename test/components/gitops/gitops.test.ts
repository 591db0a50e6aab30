import { dev, prod } from "../../../stacks/environments";
import { synthEnvironment } from "../../../stacks/synth";
import { findAll, findOne } from "../../support/objects";

describe("gitops", () => {
  const devOut = synthEnvironment(dev);
  const prodOut = synthEnvironment(prod);

  it("installs Argo CD at the version of the CRDs it is validated against, highly available in prod", () => {
    const app = findOne(prodOut.objects, "Application", "argocd", "argocd");
    expect(app.spec.source).toMatchObject({ repoURL: "https://argoproj.github.io/argo-helm", chart: "argo-cd", targetRevision: "7.9.1" });
    const values = app.spec.source.helm.valuesObject;
    expect(values.global.image.tag).toBe("v2.14.21");
    expect(values.controller.replicas).toBe(2);
    expect(values.server.pdb.enabled).toBe(true);
    expect(values.dex.enabled).toBe(false);
    expect(values.configs.cm["admin.enabled"]).toBe(false);
    expect(findOne(devOut.objects, "Application", "argocd", "argocd").spec.source.helm.valuesObject.server.replicas).toBe(1);
  });

  it("syncs prod only inside its window, without automatic pruning; dev prunes and self-heals at any time", () => {
    const prodProject = findOne(prodOut.objects, "AppProject", "stratum-prod", "argocd");
    expect(prodProject.spec.syncWindows).toEqual([{ kind: "allow", schedule: "0 8 * * 1-4", duration: "9h", timeZone: "Europe/Berlin", manualSync: true, applications: ["*"] }]);
    expect(findOne(prodOut.objects, "Application", "stratum-services", "argocd").spec.syncPolicy.automated).toEqual({ prune: false, selfHeal: true });
    expect(findOne(devOut.objects, "AppProject", "stratum-dev", "argocd").spec.syncWindows).toBeUndefined();
    expect(findOne(devOut.objects, "Application", "stratum-services", "argocd").spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
  });

  it("restricts the project to the environment's repositories, namespaces and the cluster kinds the platform uses", () => {
    const project = findOne(devOut.objects, "AppProject", "stratum-dev", "argocd");
    expect(project.spec.sourceRepos).toContain(dev.gitops.repoURL);
    expect(project.spec.sourceRepos).toContain("https://argoproj.github.io/argo-helm");
    expect(project.spec.sourceRepos).not.toContain("*");
    const namespaces = findAll(devOut.objects, "Namespace").map((n) => n.metadata.name);
    for (const d of project.spec.destinations) expect([...namespaces, "argocd"]).toContain(d.namespace);
    expect(project.spec.clusterResourceWhitelist).toContainEqual({ group: "", kind: "Namespace" });
    expect(project.spec.clusterResourceWhitelist.some((k: { kind: string }) => k.kind === "*")).toBe(false);
  });

  it("points every Application at a path synth writes, at its component's sync wave", () => {
    const files = new Set(devOut.files.map((f) => f.relativePath));
    const apps = findAll(devOut.objects, "Application").filter((a) => a.metadata.name?.startsWith("stratum-") && a.metadata.name !== "stratum-dev-root");
    expect(apps.length).toBeGreaterThan(3);
    for (const a of apps as any[]) {
      expect(a.spec.source.path).toBe("dist/dev");
      expect(files).toContain(a.spec.source.directory.include);
    }
    const root = findOne(devOut.objects, "Application", "stratum-dev-root", "argocd");
    expect(devOut.files.some((f) => `dist/dev/${f.relativePath}`.startsWith(`${root.spec.source.path}/`))).toBe(true);
  });

  it("orders the sync: namespaces, then operators, then custom resources, then workloads", () => {
    const wave = (name: string) => Number(findOne(devOut.objects, "Application", `stratum-${name}`, "argocd").metadata.annotations?.["argocd.argoproj.io/sync-wave"]);
    expect(wave("namespaces")).toBeLessThan(wave("security"));
    expect(wave("security")).toBeLessThan(wave("services"));
  });

  it("lets one management Argo CD deliver each environment to the clusters labelled for it", () => {
    const set = findOne(prodOut.objects, "ApplicationSet", "stratum-prod", "argocd");
    expect(set.spec.generators).toEqual([{ clusters: { selector: { matchLabels: { "stratum.dev/environment": "prod" } } } }]);
    expect(set.spec.template.spec).toMatchObject({ project: "stratum-prod-fleet", source: { path: "dist/prod/argocd/apps", targetRevision: "release" }, destination: { name: "{{.name}}", namespace: "argocd" } });
    const fleet = findOne(prodOut.objects, "AppProject", "stratum-prod-fleet", "argocd");
    expect(fleet.spec.destinations).toEqual([{ name: "prod-*", namespace: "argocd" }]);
    expect(fleet.spec.clusterResourceWhitelist).toEqual([]);
  });

  it("declares Argo CD's traffic: repo server to the internet, controllers to the API server", () => {
    const g = prodOut.platform.graph;
    const out = (id: string) => g.outgoing(id).map((e) => e.to);
    expect(out("argocd-repo-server")).toEqual(expect.arrayContaining(["argocd-redis", "internet-https"]));
    expect(out("argocd-repo-server")).not.toContain("kube-apiserver");
    expect(out("argocd-controller")).toEqual(expect.arrayContaining(["argocd-redis", "argocd-repo-server", "kube-apiserver"]));
    expect(out("argocd-controller")).not.toContain("internet-https");
    expect(g.incoming("argocd-redis").map((e) => e.from)).toEqual(["argocd-controller", "argocd-repo-server", "argocd-server"]);
  });
});
