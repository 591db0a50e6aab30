import { Testing } from "cdk8s";
import { HelmAddon, HelmAddonProps } from "../../constructs/helm-addon";

const props: HelmAddonProps = {
  release: "cert-manager",
  repoURL: "https://charts.jetstack.io",
  chart: "cert-manager",
  version: "v1.16.5",
  namespace: "cert-manager",
  values: { crds: { enabled: true }, replicaCount: 2 },
  syncWave: 0,
  project: "stratum-dev",
};

describe("HelmAddon", () => {
  it("renders an ArgoCD Application with the chart, exact version, typed values and sync wave", () => {
    const chart = Testing.chart();
    new HelmAddon(chart, "CertManager", props);
    const [app] = Testing.synth(chart);
    expect(app.kind).toBe("Application");
    expect(app.metadata.annotations["argocd.argoproj.io/sync-wave"]).toBe("0");
    expect(app.spec.project).toBe("stratum-dev");
    expect(app.spec.source).toEqual({
      repoURL: "https://charts.jetstack.io",
      chart: "cert-manager",
      targetRevision: "v1.16.5",
      helm: { releaseName: "cert-manager", valuesObject: { crds: { enabled: true }, replicaCount: 2 } },
    });
    expect(app.spec.destination).toEqual({ server: "https://kubernetes.default.svc", namespace: "cert-manager" });
    expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
  });

  it("drops the oci:// scheme, as ArgoCD expects for OCI Helm repositories", () => {
    const chart = Testing.chart();
    new HelmAddon(chart, "A", { ...props, repoURL: "oci://ghcr.io/acme/charts" });
    expect(Testing.synth(chart)[0].spec.source.repoURL).toBe("ghcr.io/acme/charts");
  });

  it.each(["1.x", "^1.2.0", "latest", "1.2"])("refuses the inexact version %s", (version) => {
    expect(() => new HelmAddon(Testing.chart(), "A", { ...props, version })).toThrow(`version must be an exact chart version such as 1.2.3 (got "${version}")`);
  });

  it("needs a sync wave after each dependency's", () => {
    const chart = Testing.chart();
    const crds = new HelmAddon(chart, "Base", { ...props, release: "base", syncWave: 0 });
    expect(() => new HelmAddon(chart, "Istiod", { ...props, release: "istiod", syncWave: 0, dependsOn: [crds] })).toThrow(
      "syncWave must be greater than that of its dependency base (0), got 0",
    );
    const ok = new HelmAddon(chart, "Istiod2", { ...props, release: "istiod", syncWave: 1, dependsOn: [crds] });
    expect(ok.definition.dependsOn).toEqual(["base"]);
  });

  it("keeps its definition as plain data for the Pulumi exit", () => {
    const a = new HelmAddon(Testing.chart(), "A", props);
    expect(a.definition).toEqual({ release: "cert-manager", repoURL: props.repoURL, chart: "cert-manager", version: "v1.16.5", namespace: "cert-manager", values: props.values, syncWave: 0, dependsOn: [] });
  });
});
