import { MeshComponent } from "../../../components/mesh";
import { prod } from "../../../stacks/environments";
import { synthEnvironment } from "../../../stacks/synth";
import { findAll } from "../../support/objects";
import { addGatewayStandIn, allowedCalls, expectedCalls } from "./support";

describe("the mesh in the whole prod platform", () => {
  const result = synthEnvironment(prod, { customize: (p) => { if (!p.graph.has("gateway")) addGatewayStandIn(p); } });
  const mesh = result.platform.find(MeshComponent)!;

  it("allows exactly the service graph's calls into meshed workloads, read from the AuthorizationPolicies alone", () => {
    const expected = expectedCalls(result.platform, mesh.meshedNamespaces);
    expect(expected.length).toBeGreaterThan(20);
    expect(allowedCalls(result.objects)).toEqual(expected);
  });

  it("gives every namespace with sidecars a default deny, and its mesh objects no policy errors", () => {
    const denies = findAll(result.objects, "AuthorizationPolicy", "allow-nothing").map((p) => p.metadata.namespace).sort();
    expect(denies).toEqual(mesh.meshedNamespaces);
    const meshErrors = result.report.errors.filter((f) => /istio|mesh/.test(`${f.kind} ${f.namespace ?? ""} ${f.name}`));
    expect(meshErrors).toEqual([]);
  });
});
