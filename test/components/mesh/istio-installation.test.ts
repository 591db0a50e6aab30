import { Chart, Testing } from "cdk8s";
import { IstioInstallation } from "../../../components/mesh/istio-installation";
import { dev } from "../../../stacks/environments";

function chart(): Chart {
  return new Chart(Testing.app(), "test");
}

describe("IstioInstallation", () => {
  it("names HPA bounds that contradict each other", () => {
    const sizing = { ...dev.sizing.mesh, istiod: { ...dev.sizing.mesh.istiod, minReplicas: 3, maxReplicas: 2 } };
    expect(() => new IstioInstallation(chart(), "Istio", { sizing, ha: dev.ha, project: "p", tracing: { service: "c", port: 4317 } }))
      .toThrow("test/Istio: istiod.maxReplicas must be >= minReplicas 3 (got 2)");
  });

  it("turns the HPA off when the bounds are equal", () => {
    const c = chart();
    const sizing = { ...dev.sizing.mesh, istiod: { ...dev.sizing.mesh.istiod, minReplicas: 2, maxReplicas: 2 } };
    const istio = new IstioInstallation(c, "Istio", { sizing, ha: dev.ha, project: "p", tracing: { service: "c", port: 4317 } });
    expect(istio.istiod.definition.values).toMatchObject({ autoscaleEnabled: false, replicaCount: 2 });
    expect(istio.istiod.definition.dependsOn).toEqual(["istio-base", "istio-cni"]);
  });
});
